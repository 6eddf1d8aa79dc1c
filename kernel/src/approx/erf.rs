//! The error function: CrypTen's Taylor series, SPU's Abramowitz–Stegun form, and a bounded
//! Chebyshev form.
//!
//! # Method (Taylor)
//! `erf(x) ≈ (2/√π)·(x + Σ_{n=1..terms} (−1)^n x^(2n+1) / (n!(2n+1)))`, each power computed
//! afresh by `pow` and multiplied by its public multiplier. Under [`PowMode::CryptenBug`]
//! `pow` follows CrypTen 0.4.1 exactly, which for odd `p ≥ 5` computes `x^(3(p−1)/2)`
//! (x⁵ → x⁶, x⁷ → x⁹, …); [`PowMode::Exact`] computes true odd powers.
//!
//! # Method (bounded)
//! `t = clamp(x/4, −1, 1)`, then the odd Chebyshev series of `erf(4t)` with 28 nodes (14 odd
//! terms, [`super::chebyshev`]). Every Chebyshev polynomial stays in [−1, 1], so fixed point
//! stays stable, and the clamp makes it valid on the whole line, unlike any Taylor series (and
//! unlike a limit-exp form, whose 2^n-fold amplification of the encoding error of `1 + x/2^n`
//! costs ~1 % at f = 16).
//!
//! # Method (SPU)
//! SPU 0.9.5's `f_erf`, [`ErfMethod::Spu`] (Abramowitz–Stegun 7.1.27, absolute error ≤ 5e−4):
//! `s = [x < 0]`, `|x|` (SPU's `f_abs`: a second sign test and a product by ±1),
//! `b = [|x| < 3]`; `z = 1 + 0.278393|x| + 0.230389x² + 0.000972|x|³ + 0.078108x⁴` as SPU's
//! [`super::polynomial`] (`f32` coefficients, one truncation), squared twice, inverted by the
//! positive Goldschmidt reciprocal ([`super::reciprocal`]), `e = 1 − 1/z⁴`; then
//! `e ← b ? e : 1` and `s ? −e : e` by muxes. For `|x| ≥ 3` the mux discards the polynomial's
//! branch, as SPU's does: beyond it `z⁴` leaves the reciprocal's range (`z⁴ ≥ 2^f` from
//! |x| ≈ 3.9 at f = 18) and the second squaring overflows the ring (from |x| ≈ 6; both
//! derived from the polynomial, not measured).
//!
//! # Cost
//! Taylor (8 terms, CrypTen): 34 rounds. Bounded: 9 (clamp) + 14 (series) = 23 rounds. SPU:
//! 3 comparisons and the reciprocal's normalisation (one bit decomposition each), 3 products
//! for the powers, 2 squarings, the reciprocal's 2 + 2·iters products (less the last square),
//! 3 bit products for `|x|` and the muxes.
//!
//! # Error
//! Taylor with the bug (CrypTen): ≤ 5.7e−3 on [0, 1), up to 0.23 on (−1, 0) (even powers lose
//! the sign), 145–176 on 1 ≤ |x| < 2, garbage beyond 3. Taylor exact: 1.5e−7 on |x| < 1, 0.06
//! at 2, 3.7 at 2.5 (and ring overflow of x^17 beyond ≈ 3.5 at f = 16). Also: encoding erases
//! the multipliers of n = 7, 8 at f = 16. Bounded: see the error-budget table in
//! [`crate::approx`]. SPU (f = 18): the formula's own 4.66e−4 at most (at |x| ≈ 0.75 and 0.07;
//! A&S: 5e−4; the switch to 1 at |x| = 3 costs 1 − erf(3) = 2.2e−5), 4.70e−4 with the
//! Goldschmidt reciprocal's error (on [−5, 5], in exact arithmetic); fixed point adds ≤ 9e−6;
//! SPU's plaintext ring, which this arithmetic equals bit for bit, is 4.72e−4 from erf on the
//! recorded grid.
//!
//! # Reference
//! CrypTen `approximations.py: erf` (`erf_iterations` 8), `power.py: pow, pos_pow`;
//! the bounded form is this project's; SPU 0.9.5 `libspu/kernel/hal/fxp_approx.cc: f_erf,
//! ErfImpl` (what `jax.scipy.special.erf` and `jax.lax.erf` run: the compiled program calls the
//! `mhlo.erf` intrinsic, measured).

use super::levels::{take, Level, Levels};
use super::profile::{ErfMethod, ErfParams, PowMode};
use crate::arith::Arith;
use crate::error::{Error, Result};

/// Scratch elements [`erf`] needs for `n` inputs (either method).
pub const fn scratch_elems(n: usize) -> usize {
    n.saturating_mul(10)
}

/// SPU's A&S 7.1.27 coefficients, as SPU holds them: C++ `double` literals in a `float`
/// array, so rounded to `f64`, then to `f32`.
const SPU_ERF: [f32; 5] = [
    1.0,
    0.278393_f64 as f32,
    0.230389_f64 as f32,
    0.000972_f64 as f32,
    0.078108_f64 as f32,
];

/// Scratch elements [`erf_bounded`] needs for `n` inputs.
pub const fn scratch_elems_bounded(n: usize) -> usize {
    super::chebyshev::scratch_elems(n, BOUNDED_TERMS as usize / 2)
}

/// `x ← erf(x)` by the method of `p` (the Taylor series of `p`, or SPU's form).
///
/// # Errors
/// [`crate::Error::OutOfRange`] for more than 16 Taylor terms;
/// [`crate::Error::BufferTooSmall`] if `scratch` is shorter than [`scratch_elems`]; then the
/// arithmetic's (a [`crate::Shared`] arena too small, an encoding overflow).
pub fn erf<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    p: &ErfParams,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    if let ErfMethod::Spu { goldschmidt_iters } = p.method {
        super::need(scratch.len(), scratch_elems(n))?;
        return erf_spu(a, x, goldschmidt_iters, scratch);
    }
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

/// SPU's `f_erf` (module docs, "Method (SPU)"), in 10n elements of scratch.
fn erf_spu<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    iters: u8,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    let mut s = scratch;
    let sign = take(&mut s, n)?;
    let below = take(&mut s, n)?;
    let z = take(&mut s, n)?;
    // s = [x < 0]; |x| by f_abs's own sign test: x + [x < 0]·(−2x), held in x
    a.ltz(x, sign)?;
    a.ltz(x, below)?;
    z.copy_from_slice(x);
    a.mul_int(z, -2);
    a.mul_unscaled(z, below)?;
    a.add(x, z)?;
    // b = [|x| < 3] = [|x| − 3 < 0]
    z.copy_from_slice(x);
    a.add_const(z, -3.0)?;
    a.ltz(z, below)?;
    // z = p(|x|)⁴, then 1/z into x
    super::polynomial::polynomial(a, x, &SPU_ERF, z, s)?;
    a.square(z)?;
    a.square(z)?;
    let levels = Levels::Uniform(Level::new(0, iters));
    super::reciprocal::reciprocal_pos(a, z, x, super::profile::RecipInit::Goldschmidt, &levels, s)?;
    // e = 1 − 1/z, then b ? e : 1 = 1 + b·(e − 1) = 1 − b/z
    a.neg(x);
    a.mul_unscaled(x, below)?;
    a.add_const(x, 1.0)?;
    // s ? −e : e = e + s·(−2e)
    z.copy_from_slice(x);
    a.mul_int(z, -2);
    a.mul_unscaled(z, sign)?;
    a.add(x, z)
}

/// `out = x^p` for `p ≥ 0`, following CrypTen's `pow` recursion (or its corrected form).
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] unless `out` is as long as `x`;
/// [`crate::Error::BufferTooSmall`] if `scratch` cannot hold the intermediate powers (`x.len()`
/// per halving); then the arithmetic's (a [`crate::Shared`] arena too small, an encoding
/// overflow).
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
            if p.is_multiple_of(2) {
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

/// The clamp width of [`erf_bounded`]: erf(4) = 1 − 1.5e−8.
pub const BOUNDED_WIDTH: f64 = 4.0;
/// Chebyshev nodes of [`erf_bounded`] (14 odd terms, series error ≈ 1e−6).
pub const BOUNDED_TERMS: u8 = 28;

/// `x ← erf(x)` on the whole line: `t = clamp(x/4, −1, 1)`, then the odd Chebyshev series of
/// `erf(4t)`.
///
/// # Errors
/// [`crate::Error::BufferTooSmall`] if `scratch` is shorter than [`scratch_elems_bounded`];
/// then the arithmetic's (a [`crate::Shared`] arena too small, an encoding overflow).
pub fn erf_bounded<A: Arith>(a: &mut A, x: &mut [A::Elem], scratch: &mut [A::Elem]) -> Result<()> {
    let n = x.len();
    super::need(scratch.len(), scratch_elems_bounded(n))?;
    let m = BOUNDED_TERMS as usize / 2;
    let mut coeffs = [0.0f64; BOUNDED_TERMS as usize / 2];
    super::chebyshev::odd_coeffs(|t| libm::erf(BOUNDED_WIDTH * t), BOUNDED_TERMS, &mut coeffs)?;
    a.mul_const(x, 1.0 / BOUNDED_WIDTH)?;
    super::chebyshev::hardtanh(a, x, scratch)?;
    super::chebyshev::odd_series(a, x, &coeffs[..m], scratch)
}
