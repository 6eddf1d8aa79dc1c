//! The error function: CrypTen's Taylor series, and a bounded rational form.
//!
//! # Method (Taylor)
//! `erf(x) ≈ (2/√π)·(x + Σ_{n=1..terms} (−1)^n x^(2n+1) / (n!(2n+1)))`, each power computed
//! afresh by `pow` and multiplied by its public multiplier. Under [`PowMode::CryptenBug`]
//! `pow` follows CrypTen 0.4.1 exactly, which for odd `p ≥ 5` computes `x^(3(p−1)/2)`
//! (x⁵ → x⁶, x⁷ → x⁹, …); [`PowMode::Exact`] computes true odd powers.
//!
//! # Method (bounded)
//! Abramowitz–Stegun 7.1.26 on `|x|` clamped to 4: `erf(|x|) ≈ 1 − t·P(t)·exp(−x²)`,
//! `t = 1/(1 + 0.3275911·|x|)` by Newton from 0.75 (6 steps: `1 + p|x| ∈ [1, 2.32]`), and the
//! sign restored. Valid on the whole line, unlike any Taylor series.
//!
//! # Cost
//! Taylor (8 terms, CrypTen): 34 rounds. Bounded: 2 comparisons (sign, clamp), 11 Newton
//! rounds, a 10-squaring exp and the polynomial: ≈ 45 rounds.
//!
//! # Error
//! Taylor with the bug (CrypTen): ≤ 5.7e−3 on [0, 1), up to 0.23 on (−1, 0) (even powers lose
//! the sign), 145–176 on 1 ≤ |x| < 2, garbage beyond 3. Taylor exact: 1.5e−7 on |x| < 1, 0.06
//! at 2, 3.7 at 2.5 (and ring overflow of x^17 beyond ≈ 3.5 at f = 16). Also: encoding erases
//! the multipliers of n = 7, 8 at f = 16. Bounded: algorithm ≤ 1.5e−7 plus the exp's
//! ≈ x²/2^11 relative error; ≤ 3e−4 in fixed point at f = 16 (the error table in
//! `tests/tests/approx_budget.rs`).
//!
//! # Reference
//! CrypTen `approximations.py: erf` (`erf_iterations` 8), `power.py: pow, pos_pow`;
//! Abramowitz & Stegun, *Handbook of Mathematical Functions*, 7.1.26.

use super::levels::{take, Level, Levels};
use super::profile::{ErfParams, PowMode, RecipInit};
use crate::arith::Arith;
use crate::error::{Error, Result};

/// Scratch elements [`erf`] needs for `n` inputs.
pub const fn scratch_elems(n: usize) -> usize {
    2 * n + 8 * n
}

/// Scratch elements [`erf_bounded`] needs for `n` inputs.
pub const fn scratch_elems_bounded(n: usize) -> usize {
    8 * n + super::reciprocal::scratch_elems_pos(n)
}

/// `x ← erf(x)` by the Taylor series of `p`.
pub fn erf<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    p: &ErfParams,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    if p.terms > 16 {
        return Err(Error::OutOfRange {
            what: "erf terms above 16",
        });
    }
    super::need(scratch.len(), scratch_elems(n))?;
    let mut s = scratch;
    let out = take(&mut s, n)?;
    let pw = take(&mut s, n)?;
    out.copy_from_slice(x);
    let mut factorial = 1.0f64;
    for k in 1..=u32::from(p.terms) {
        factorial *= f64::from(k);
        let sign = if k % 2 == 1 { -1.0 } else { 1.0 };
        let multiplier = sign / (factorial * f64::from(2 * k + 1));
        pow(a, x, 2 * k + 1, p.pow, pw, s)?;
        a.mul_const(pw, multiplier)?;
        a.add(out, pw)?;
    }
    x.copy_from_slice(out);
    a.mul_const(x, 2.0 / libm::sqrt(core::f64::consts::PI))
}

/// `out = x^p` for `p ≥ 0`, following CrypTen's `pow` recursion (or its corrected form).
pub fn pow<A: Arith>(
    a: &mut A,
    x: &[A::Elem],
    p: u32,
    mode: PowMode,
    out: &mut [A::Elem],
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    crate::error::check_len(n, out.len())?;
    match p {
        0 => a.fill_const(out, 1.0),
        1 => {
            out.copy_from_slice(x);
            Ok(())
        }
        2 => {
            out.copy_from_slice(x);
            a.square(out)
        }
        _ => {
            super::need(scratch.len(), n)?;
            let (t, rest) = scratch.split_at_mut(n);
            t.copy_from_slice(x);
            a.square(t)?;
            if p % 2 == 0 {
                pow(a, t, p / 2, mode, out, rest)
            } else {
                match mode {
                    // `x.square().mul_(x).pow((p − 1) // 2)` = x^(3(p−1)/2) for p ≥ 5.
                    PowMode::CryptenBug => {
                        a.mul(t, x)?;
                        pow(a, t, (p - 1) / 2, mode, out, rest)
                    }
                    PowMode::Exact => {
                        pow(a, t, (p - 1) / 2, mode, out, rest)?;
                        a.mul(out, x)
                    }
                }
            }
        }
    }
}

/// Abramowitz–Stegun 7.1.26 coefficients (p, a1..a5).
const AS_P: f64 = 0.327_591_1;
const AS_A: [f64; 5] = [
    0.254_829_592,
    -0.284_496_736,
    1.421_413_741,
    -1.453_152_027,
    1.061_405_429,
];

/// `x ← erf(x)` by the bounded rational form (valid on the whole line).
pub fn erf_bounded<A: Arith>(a: &mut A, x: &mut [A::Elem], scratch: &mut [A::Elem]) -> Result<()> {
    let n = x.len();
    super::need(scratch.len(), scratch_elems_bounded(n))?;
    let mut s = scratch;
    let sgn = take(&mut s, n)?;
    let ax = take(&mut s, n)?;
    let over = take(&mut s, 2 * n)?;
    let t = take(&mut s, n)?;
    let poly = take(&mut s, n)?;
    let e = take(&mut s, n)?;
    let d = take(&mut s, n)?;
    crate::select::sign(a, x, sgn)?;
    ax.copy_from_slice(x);
    a.mul_unscaled(ax, sgn)?;
    // |x| ← |x| − relu(|x| − 4)
    let (o, bits) = over.split_at_mut(n);
    o.copy_from_slice(ax);
    a.add_const(o, -4.0)?;
    crate::select::relu(a, o, bits)?;
    a.sub(ax, o)?;
    // t = 1/(1 + p|x|)
    d.copy_from_slice(ax);
    a.mul_const(d, AS_P)?;
    a.add_const(d, 1.0)?;
    super::reciprocal::reciprocal_pos(
        a,
        d,
        t,
        RecipInit::Const(0.75),
        &Levels::Uniform(Level::new(0, 6)),
        s,
    )?;
    // poly = t·(a1 + t·(a2 + t·(a3 + t·(a4 + t·a5))))
    poly.copy_from_slice(t);
    a.mul_const(poly, AS_A[4])?;
    for &c in AS_A[..4].iter().rev() {
        a.add_const(poly, c)?;
        a.mul(poly, t)?;
    }
    // e = exp(−|x|²)
    e.copy_from_slice(ax);
    a.square(e)?;
    a.neg(e);
    super::exp::exp_uniform(a, e, 10, s)?;
    a.mul(poly, e)?;
    a.rsub_const(poly, 1.0)?;
    a.mul_unscaled(poly, sgn)?;
    x.copy_from_slice(poly);
    Ok(())
}
