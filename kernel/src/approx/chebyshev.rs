//! Odd Chebyshev series: coefficients, evaluation, and the clamp that keeps them stable.
//!
//! # Method
//! Coefficients of an odd function `g` on [−1, 1] with `terms` nodes (CrypTen's
//! `chebyshev_series`): `c_j = (2/n) Σ_k g(cos θ_k)·cos(j θ_k)`, `θ_k = (k + ½)π/n`, keeping the
//! odd `j`. Evaluation builds `T1 = x`, `y = 4x² − 2`, `T3 = (y − 1)·x`,
//! `T_{k+2} = y·T_k − T_{k−2}` and combines them with the public coefficients in **one**
//! truncation (a matmul with a public vector in CrypTen).
//!
//! # Cost
//! 1 square + (`terms`/2 − 1) sequential products: `terms`/2 rounds.
//!
//! # Error
//! On [−1, 1] every `T_k` is bounded by 1, so rounding errors stay a few LSB per term and the
//! series error is the truncated tail of the coefficients. Outside [−1, 1] the `T_k` grow like
//! `(2|x|)^k`: CrypTen's tanh series, fitted on [−1, 1] and evaluated unclamped, is wrong from
//! |x| ≈ 3 and overflows the ring from |x| ≈ 6. Callers here clamp the argument first
//! ([`hardtanh`]) unless they reproduce CrypTen.
//!
//! # Reference
//! CrypTen `common/util.py: chebyshev_series`, `approximations.py: _chebyshev_polynomials`,
//! `mpc.py: hardtanh`.

use super::levels::take;
use crate::arith::Arith;
use crate::error::{check_len, Error, Result};

/// The most terms a series may have.
pub const TERMS_MAX: usize = 64;

/// The odd coefficients `c_1, c_3, …` of `g` on [−1, 1] with `terms` nodes (even, ≥ 6); writes
/// `terms/2` values. `f64` and `libm` only, in a fixed order.
///
/// # Errors
/// [`crate::Error::OutOfRange`] unless `terms` is even and in 6..=64;
/// [`crate::Error::ShapeMismatch`] unless `out` holds `terms/2` values.
pub fn odd_coeffs(g: impl Fn(f64) -> f64, terms: u8, out: &mut [f64]) -> Result<()> {
    if !terms.is_multiple_of(2) || terms < 6 || terms as usize > TERMS_MAX {
        return Err(Error::OutOfRange {
            what: "Chebyshev terms must be even, 6..=64",
        });
    }
    let n = terms as usize;
    check_len(n / 2, out.len())?;
    let pi = core::f64::consts::PI;
    for (q, o) in out.iter_mut().enumerate() {
        let j = (2 * q + 1) as f64;
        let mut acc = 0.0;
        for k in 0..n {
            let t = (k as f64 + 0.5) * pi / n as f64;
            acc += g(libm::cos(t)) * libm::cos(j * t);
        }
        *o = 2.0 / n as f64 * acc;
    }
    Ok(())
}

/// Scratch elements [`odd_series`] needs for `n` inputs and `m` coefficients.
pub const fn scratch_elems(n: usize, m: usize) -> usize {
    m.saturating_add(1).saturating_mul(n)
}

/// `x ← Σ_q coeffs[q]·T_{2q+1}(x)` (at least 2 coefficients).
///
/// # Errors
/// [`crate::Error::OutOfRange`] for fewer than 2 coefficients; [`crate::Error::BufferTooSmall`]
/// if `scratch` is shorter than [`scratch_elems`]; then the arithmetic's (a [`crate::Shared`]
/// arena too small, an encoding overflow) (a non-finite coefficient among them).
pub fn odd_series<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    coeffs: &[f64],
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    let m = coeffs.len();
    if m < 2 {
        return Err(Error::OutOfRange {
            what: "a Chebyshev series needs at least 2 odd terms",
        });
    }
    super::need(scratch.len(), scratch_elems(n, m))?;
    let mut s = scratch;
    let polys = take(&mut s, m * n)?;
    let y = take(&mut s, n)?;
    polys[..n].copy_from_slice(x);
    y.copy_from_slice(x);
    a.square(y)?;
    a.mul_int(y, 4);
    a.add_const(y, -2.0)?;
    polys[n..2 * n].copy_from_slice(y);
    a.add_const(&mut polys[n..2 * n], -1.0)?;
    a.mul(&mut polys[n..2 * n], x)?;
    for k in 2..m {
        let (done, next) = polys.split_at_mut(k * n);
        let next = &mut next[..n];
        next.copy_from_slice(y);
        a.mul(next, &done[(k - 1) * n..k * n])?;
        a.sub(next, &done[(k - 2) * n..(k - 1) * n])?;
    }
    a.lincomb_const(polys, coeffs, x)
}

/// Scratch elements [`hardtanh`] needs for `n` inputs.
pub const fn scratch_elems_hardtanh(n: usize) -> usize {
    n.saturating_mul(4)
}

/// `x ← clamp(x, −1, 1) = relu(x + 1) − relu(x − 1) − 1` (one batched relu: 9 rounds).
///
/// # Errors
/// [`crate::Error::BufferTooSmall`] if `scratch` is shorter than [`scratch_elems_hardtanh`];
/// then the arithmetic's (a [`crate::Shared`] arena too small, an encoding overflow).
pub fn hardtanh<A: Arith>(a: &mut A, x: &mut [A::Elem], scratch: &mut [A::Elem]) -> Result<()> {
    let n = x.len();
    super::need(scratch.len(), scratch_elems_hardtanh(n))?;
    let mut s = scratch;
    let both = take(&mut s, 2 * n)?;
    let bits = take(&mut s, 2 * n)?;
    both[..n].copy_from_slice(x);
    a.add_const(&mut both[..n], 1.0)?;
    both[n..].copy_from_slice(x);
    a.add_const(&mut both[n..], -1.0)?;
    crate::protocols::select::relu(a, both, bits)?;
    x.copy_from_slice(&both[..n]);
    a.sub(x, &both[n..])?;
    a.add_const(x, -1.0)
}
