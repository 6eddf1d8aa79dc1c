//! Inverse square root (Newton–Raphson) and square root.
//!
//! # Method
//! `y0 = 2.2·exp(−(x/2 + 0.2)) + 0.2 − x/1024`, then `iters_nr` steps `y ← y·(3 − x·y²)/2`
//! (the element's level). `sqrt(x) = inv_sqrt(x)·x`. PySyft's method
//! ([`InvSqrtMethod::PySyftNewton`], `reciprocal(method="newton")`): `C = 20`,
//! `y0 = (C + 1 − x)/C`, `y ← (C + 1 − x·y²)·y/C`; linear convergence (factor ≈ 0.9), 3 rounds
//! per step; relative error −2.7 % at x = 0.1 after 50 steps, −100 % for x ≥ 21
//! (`frameworks.md` §2.6, PySyft `precision.py`).
//!
//! # Cost
//! `iters_exp` rounds for the start, 3 rounds per step; CrypTen defaults: 17 (inv_sqrt),
//! 18 (sqrt).
//!
//! # Error
//! The algorithm dominates: relative ≤ 0.5 % on [0.1, 100]; 40 % on [0.01, 0.1), ~95 % below
//! 10^−3 (3 steps cannot climb from the start); ≈ 200 % near 250, garbage above ≈ 332 (the start
//! turns negative). Batch norm in CrypTen computes `1/√(var + eps)` this way on every forward
//! pass, so a channel with variance < 0.1 is scaled tens of percent wrong.
//!
//! # Reference
//! CrypTen `approximations.py: inv_sqrt`, `sqrt` (`sqrt_nr_iters` = 3).

use super::levels::{masked_step, take, Count, Level, Levels};
use super::profile::{InvSqrtMethod, InvSqrtParams};
use crate::arith::Arith;
use crate::error::Result;

/// PySyft's `newton` constant C.
const PYSYFT_C: f64 = 20.0;

/// Scratch elements [`inv_sqrt`] needs for `n` inputs.
pub const fn scratch_elems(n: usize) -> usize {
    // SPU's method: u, the compensation and its polynomial's 7n
    n.saturating_mul(9)
}

/// Scratch elements [`sqrt`] needs for `n` inputs.
pub const fn scratch_elems_sqrt(n: usize) -> usize {
    n.saturating_mul(10)
}

/// The level an [`InvSqrtParams`] asks for.
pub const fn default_level(p: &InvSqrtParams) -> Level {
    Level::new(p.iters_exp, p.iters_nr)
}

/// `x ← 1/√x`, with each element's `iters_nr` Newton steps (the start's exp uses
/// `p.iters_exp` for every element).
///
/// # Errors
/// [`Levels::check`]'s; [`crate::Error::BufferTooSmall`] if `scratch` is shorter than
/// [`scratch_elems`]; then the arithmetic's (a [`crate::Shared`] arena too small, an encoding
/// overflow).
pub fn inv_sqrt<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    p: &InvSqrtParams,
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    levels.check(n)?;
    super::need(scratch.len(), scratch_elems(n))?;
    if p.method == InvSqrtMethod::Spu {
        return rsqrt_spu(a, x, scratch);
    }
    let mut s = scratch;
    let y = take(&mut s, n)?;
    let t = take(&mut s, n)?;
    if p.method == InvSqrtMethod::PySyftNewton {
        // y0 = (C + 1 − x)/C; y ← (C + 1 − x·y²)·y / C, the divisions by C = 20 truncations.
        // PySyft's loop counts the start as its first iteration: `iters_nr` iterations are
        // the start and `iters_nr − 1` steps.
        y.copy_from_slice(x);
        a.rsub_const(y, PYSYFT_C + 1.0)?;
        a.div_int(y, PYSYFT_C as u64)?;
        for j in 1..levels.max().iters_nr {
            masked_step(a, levels, Count::Nr, j, y, x, s, |a, yv, xv, s| {
                let u = &mut s[..yv.len()];
                u.copy_from_slice(yv);
                a.square(u)?;
                a.mul(u, xv)?;
                a.rsub_const(u, PYSYFT_C + 1.0)?;
                a.mul(yv, u)?;
                a.div_int(yv, PYSYFT_C as u64)
            })?;
        }
        x.copy_from_slice(y);
        return Ok(());
    }
    y.copy_from_slice(x);
    a.div_int(y, 2)?;
    a.add_const(y, 0.2)?;
    a.neg(y);
    super::exp::exp_uniform(a, y, p.iters_exp, s)?;
    a.mul_const(y, 2.2)?;
    a.add_const(y, 0.2)?;
    t.copy_from_slice(x);
    a.div_int(t, 1024)?;
    a.sub(y, t)?;
    for j in 0..levels.max().iters_nr {
        masked_step(a, levels, Count::Nr, j, y, x, s, |a, yv, xv, s| {
            let t = &mut s[..yv.len()];
            t.copy_from_slice(yv);
            a.square(t)?;
            let u = t;
            // u = 3 − x·y² (CrypTen: `self * y.square()`, then `3 - …`).
            a.mul(u, xv)?;
            a.rsub_const(u, 3.0)?;
            a.mul(yv, u)?;
            a.div_int(yv, 2)
        })?;
    }
    x.copy_from_slice(y);
    Ok(())
}

/// SPU's `f_rsqrt` ([`InvSqrtMethod::Spu`]): `x ← 1/√x` for positive `x`.
fn rsqrt_spu<A: Arith>(a: &mut A, x: &mut [A::Elem], scratch: &mut [A::Elem]) -> Result<()> {
    // SPU's `float` literals verbatim (rounded once, to f32); the constant term is added
    // after the polynomial's truncation, as SPU does
    #[allow(clippy::excessive_precision)]
    const POLY: [f32; 5] = [0.0, -15.47994394, 38.4714796, -49.86605845, 26.02942339];
    #[allow(clippy::excessive_precision)]
    const C0: f32 = 4.14285016;
    let n = x.len();
    let f = a.fixed_point().frac_bits() as i32;
    let mut s = scratch;
    let u = take(&mut s, n)?;
    let comp = take(&mut s, n)?;
    // u = x·2^(f−m−2) ∈ [1/4, 1/2); the compensation 2^((f−m−2)/2)
    // (m saturates in `Float` for an infinite x: saturating exponents)
    let exponent = move |m: i32| f.saturating_sub(m).saturating_sub(2);
    a.msb_map(x, comp, &|m| libm::exp2(f64::from(exponent(m))))?;
    u.copy_from_slice(x);
    a.mul(u, comp)?;
    // SPU holds √2 as the integer c0 = ⌊√2·2^(f/2)⌋ over 2^(f/2) (724/512 at f = 18, 1.1e−4
    // low), which the odd exponents carry.
    let half = f64::from(f / 2);
    let sqrt2 = libm::floor(core::f64::consts::SQRT_2 * libm::exp2(half)) / libm::exp2(half);
    a.msb_map(x, comp, &|m| {
        let e = exponent(m);
        let even = libm::exp2(f64::from(e.div_euclid(2)));
        if e.rem_euclid(2) == 0 {
            even
        } else {
            even * sqrt2
        }
    })?;
    // u², then u³ and u⁴ in one batch; one truncation for the sum
    super::polynomial::polynomial(a, u, &POLY, x, s)?;
    a.add_const(x, f64::from(C0))?;
    a.mul(x, comp)
}

/// `x ← √x = inv_sqrt(x)·x`.
///
/// # Errors
/// [`crate::Error::BufferTooSmall`] if `scratch` is shorter than [`scratch_elems_sqrt`]; then
/// [`inv_sqrt`]'s.
pub fn sqrt<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    p: &InvSqrtParams,
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    super::need(scratch.len(), scratch_elems_sqrt(n))?;
    let (orig, rest) = scratch.split_at_mut(n);
    orig.copy_from_slice(x);
    inv_sqrt(a, x, p, levels, rest)?;
    a.mul(x, orig)
}
