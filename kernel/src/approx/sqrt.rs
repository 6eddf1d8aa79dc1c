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
    n.saturating_mul(6)
}

/// Scratch elements [`sqrt`] needs for `n` inputs.
pub const fn scratch_elems_sqrt(n: usize) -> usize {
    n.saturating_mul(7)
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
