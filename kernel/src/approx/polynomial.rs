//! Polynomial evaluation as SecretFlow-SPU runs it.
//!
//! # Method
//! `c0 + c1·x + … + cn·x^n`: the powers by a doubling tree (`x`; `x²`; `x³, x⁴`; `x⁵ … x⁸`; …:
//! each level multiplies the first powers by the highest one so far, one truncated product
//! each), then every `c_i·x^i` and `c0·1` summed exactly at scale 2^2f and truncated **once**.
//! The coefficients are `f32` (SPU holds them as C++ `float`) and are encoded toward zero, as
//! SPU encodes a public constant. Evaluating in another order (a truncation per term, Horner,
//! `f64` coefficients) moves the result by a few units: SPU's `f_rsqrt`, `f_erf` and
//! `log_minmax` call this routine, and the one-party checks against SPU's plaintext ring are
//! bit for bit only in this order.
//!
//! # Cost
//! `⌈log2 n⌉` rounds of products (`n − 1` products, each level one batch), then one
//! [`Arith::lincomb_const`] (one truncation per output).
//!
//! # Error
//! The powers' truncations (each ±1 unit of the power, amplified by the later products and by
//! `|c_i|`) plus one unit of the sum; the polynomial's own approximation error is its caller's.
//!
//! # Reference
//! SPU 0.9.5 `libspu/kernel/hal/fxp_base.cc: detail::polynomial`.

use super::levels::take;
use crate::arith::Arith;
use crate::error::{Error, Result};

/// Scratch elements [`polynomial`] needs for `n` inputs and `coeffs` coefficients (degree
/// `coeffs − 1`): the ones block, the powers, and the highest power repeated for a batch.
pub const fn scratch_elems(n: usize, coeffs: usize) -> usize {
    let degree = coeffs.saturating_sub(1);
    n.saturating_mul(1 + degree + degree / 2)
}

/// `out = Σ_i c_i·x^i` with `c_i = coeffs[i]`, in SPU's order (see the module docs).
///
/// # Errors
/// [`Error::OutOfRange`] for no coefficients; [`crate::Error::ShapeMismatch`] unless `out` is
/// as long as `x`; [`Error::BufferTooSmall`] below [`scratch_elems`]; then the arithmetic's (an
/// arena too small in [`crate::Shared`], an encoding overflow).
pub fn polynomial<A: Arith>(
    a: &mut A,
    x: &[A::Elem],
    coeffs: &[f32],
    out: &mut [A::Elem],
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    crate::error::check_len(n, out.len())?;
    let Some((&c0, rest)) = coeffs.split_first() else {
        return Err(Error::OutOfRange {
            what: "a polynomial without coefficients",
        });
    };
    if rest.is_empty() {
        return a.fill_const(out, f64::from(c0));
    }
    let degree = rest.len();
    super::need(scratch.len(), scratch_elems(n, coeffs.len()))?;
    let mut s = scratch;
    // block 0: the public 1 (SPU's `_mul(1.0, c0)`), blocks 1..=degree: x, x², …
    let terms = take(&mut s, (degree + 1) * n)?;
    let rep = take(&mut s, (degree / 2) * n)?;
    a.fill_const(&mut terms[..n], 1.0)?;
    terms[n..2 * n].copy_from_slice(x);
    let mut len = 1;
    while len < degree {
        let batch = len.min(degree - len);
        let (done, fresh) = terms.split_at_mut((len + 1) * n);
        let highest = &done[len * n..];
        for b in 0..batch {
            rep[b * n..(b + 1) * n].copy_from_slice(highest);
        }
        let fresh = &mut fresh[..batch * n];
        fresh.copy_from_slice(&done[n..(batch + 1) * n]);
        a.mul(fresh, &rep[..batch * n])?;
        len += batch;
    }
    let mut c = [0.0f64; 33];
    if coeffs.len() > c.len() {
        return Err(Error::OutOfRange {
            what: "a polynomial of degree above 32",
        });
    }
    for (ci, &k) in c.iter_mut().zip(coeffs) {
        *ci = f64::from(k);
    }
    if c0 == 0.0 {
        // the term is 0 in every arithmetic: left out
        a.lincomb_const(&terms[n..], &c[1..coeffs.len()], out)
    } else {
        a.lincomb_const(terms, &c[..coeffs.len()], out)
    }
}

#[cfg(test)]
mod tests {
    use super::{polynomial, scratch_elems};
    use crate::testing::FP;
    use crate::{Fixed, Float};

    /// In exact arithmetic the tree computes the polynomial; in fixed point it truncates once
    /// after the sum (the odd powers here are exact, so only the sum's rounding remains).
    #[test]
    fn the_tree_computes_the_polynomial() {
        let coeffs = [0.5f32, -1.0, 0.25, 2.0, -0.125, 1.0, 0.0, 3.0, -0.5];
        let xs = [0.0, 0.5, -0.75, 1.25, 2.0];
        let mut out = [0.0; 5];
        let mut s = vec![0.0; scratch_elems(5, coeffs.len())];
        polynomial(&mut Float::new(FP), &xs, &coeffs, &mut out, &mut s).unwrap();
        for (&x, &y) in xs.iter().zip(&out) {
            let want: f64 = coeffs
                .iter()
                .enumerate()
                .map(|(i, &c)| f64::from(c) * libm::pow(x, i as f64))
                .sum();
            assert!(
                (y - want).abs() < 1e-9 * want.abs().max(1.0),
                "{x}: {y} vs {want}"
            );
        }
        let mut fx = Fixed::new(FP);
        let raw: Vec<i64> = xs.iter().map(|&x| FP.encode(x).unwrap()).collect();
        let mut got = [0i64; 5];
        let mut s = vec![0i64; scratch_elems(5, coeffs.len())];
        polynomial(&mut fx, &raw, &coeffs, &mut got, &mut s).unwrap();
        for (&g, &y) in got.iter().zip(&out) {
            assert!(
                (FP.decode(g) - y).abs() <= 2.0 / FP.scale_f64(),
                "{g} vs {y}"
            );
        }
        // no coefficients is a typed error; one is the constant
        assert!(polynomial(&mut fx, &raw, &[], &mut got, &mut s).is_err());
        polynomial(&mut fx, &raw, &[1.5], &mut got, &mut s).unwrap();
        assert!(got.iter().all(|&g| FP.decode(g) == 1.5));
    }
}
