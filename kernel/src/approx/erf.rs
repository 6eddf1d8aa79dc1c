//! The error function: CrypTen's Taylor series, and a bounded rational form.
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
//! # Cost
//! Taylor (8 terms, CrypTen): 34 rounds. Bounded: 9 (clamp) + 14 (series) = 23 rounds.
//!
//! # Error
//! Taylor with the bug (CrypTen): ≤ 5.7e−3 on [0, 1), up to 0.23 on (−1, 0) (even powers lose
//! the sign), 145–176 on 1 ≤ |x| < 2, garbage beyond 3. Taylor exact: 1.5e−7 on |x| < 1, 0.06
//! at 2, 3.7 at 2.5 (and ring overflow of x^17 beyond ≈ 3.5 at f = 16). Also: encoding erases
//! the multipliers of n = 7, 8 at f = 16. Bounded: see the error-budget table in
//! [`crate::approx`].
//!
//! # Reference
//! CrypTen `approximations.py: erf` (`erf_iterations` 8), `power.py: pow, pos_pow`;
//! the bounded form is this project's.

use super::levels::take;
use super::profile::{ErfParams, PowMode};
use crate::arith::Arith;
use crate::error::{Error, Result};

/// Scratch elements [`erf`] needs for `n` inputs.
pub const fn scratch_elems(n: usize) -> usize {
    n.saturating_mul(10)
}

/// Scratch elements [`erf_bounded`] needs for `n` inputs.
pub const fn scratch_elems_bounded(n: usize) -> usize {
    super::chebyshev::scratch_elems(n, BOUNDED_TERMS as usize / 2)
}

/// `x ← erf(x)` by the Taylor series of `p`.
///
/// # Errors
/// [`crate::Error::OutOfRange`] for more than 16 terms; [`crate::Error::BufferTooSmall`] if
/// `scratch` is shorter than [`scratch_elems`]; then the arithmetic's (a [`crate::Shared`]
/// arena too small, an encoding overflow).
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
