//! The reciprocal by Newton–Raphson iteration.
//!
//! # Method
//! Signed inputs: `s = sign(x)` (one comparison), `1/x = s · recip(s·x)`. For positive `p`:
//! start from `y0` (CrypTen's `3·exp(1 − 2p) + 0.003`, or a public constant) and iterate
//! `y ← y + (y − y²·p)`, `iters_nr` times (the element's level). With a constant `y0` the
//! first step is public but for one product: `2·y0 − (y0²)·p`.
//!
//! # Cost
//! Crypten start: `iters_exp` rounds (the exp), then 2 rounds per step (square, multiply);
//! signed: + 8 (sign) + 2 bit products. CrypTen defaults: 28 rounds (positive), 38 (signed).
//!
//! # Error
//! Newton converges when `0 < y0 < 2/p`; each step squares the relative error. Fixed point: the
//! last step's ±1 LSB rounding of `y²` is multiplied by `p`, so the absolute error is ≈ p LSB
//! and the **relative error grows as p²·2^−f** (0.12 at p = 100, f = 16). Breakdowns (CrypTen
//! start): p ≳ 185–253 sporadic, p > 253 always garbage (the start's exp sees 1 − 2p < −505);
//! p < 10^−3 does not converge in 10 steps.
//!
//! # Reference
//! CrypTen `approximations.py: reciprocal` (method NR, `reciprocal_nr_iters` = 10,
//! `reciprocal_initial` = None, `reciprocal_all_pos` = False).

use super::levels::{masked_step, take, Count, Level, Levels};
use super::profile::{RecipInit, RecipParams};
use crate::arith::Arith;
use crate::error::Result;

/// Scratch elements [`reciprocal`] needs for `n` inputs.
pub const fn scratch_elems(n: usize) -> usize {
    n.saturating_mul(7)
}

/// Scratch elements [`reciprocal_pos`] needs for `n` inputs.
pub const fn scratch_elems_pos(n: usize) -> usize {
    n.saturating_mul(4)
}

/// The level a [`RecipParams`] asks for (Newton steps; the start's exp is in its init).
pub const fn default_level(p: &RecipParams) -> Level {
    Level::new(0, p.iters_nr)
}

/// `x ← 1/x`, with Newton steps from each element's level (`iters_nr`).
///
/// # Errors
/// [`Levels::check`]'s; [`crate::Error::BufferTooSmall`] if `scratch` is shorter than
/// [`scratch_elems`] ([`scratch_elems_pos`] + n with `all_pos`); then the arithmetic's (a
/// [`crate::Shared`] arena too small, an encoding overflow).
pub fn reciprocal<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    p: &RecipParams,
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    levels.check(n)?;
    super::need(
        scratch.len(),
        if p.all_pos {
            n.saturating_mul(5)
        } else {
            scratch_elems(n)
        },
    )?;
    let mut s = scratch;
    if p.all_pos {
        let y = take(&mut s, n)?;
        reciprocal_pos(a, x, y, p.init, levels, s)?;
        x.copy_from_slice(y);
        return Ok(());
    }
    let sgn = take(&mut s, n)?;
    let pos = take(&mut s, n)?;
    let y = take(&mut s, n)?;
    crate::protocols::select::sign(a, x, sgn)?;
    pos.copy_from_slice(x);
    a.mul_unscaled(pos, sgn)?;
    reciprocal_pos(a, pos, y, p.init, levels, s)?;
    a.mul_unscaled(y, sgn)?;
    x.copy_from_slice(y);
    Ok(())
}

/// `y = 1/d` for positive `d`, from `init`, with each element's `iters_nr` Newton steps.
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] unless `y` is as long as `d`; [`Levels::check`]'s;
/// [`crate::Error::BufferTooSmall`] if `scratch` is shorter than [`scratch_elems_pos`]; then
/// the arithmetic's.
pub fn reciprocal_pos<A: Arith>(
    a: &mut A,
    d: &[A::Elem],
    y: &mut [A::Elem],
    init: RecipInit,
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = d.len();
    crate::error::check_len(n, y.len())?;
    levels.check(n)?;
    super::need(scratch.len(), scratch_elems_pos(n))?;
    let first = match init {
        RecipInit::Crypten { iters_exp } => {
            y.copy_from_slice(d);
            a.mul_int(y, -2);
            a.add_const(y, 1.0)?;
            super::exp::exp_uniform(a, y, iters_exp, scratch)?;
            a.mul_int(y, 3);
            a.add_const(y, 0.003)?;
            0
        }
        RecipInit::PySyft { iters_exp } => {
            y.copy_from_slice(d);
            a.neg(y);
            a.add_const(y, 0.5)?;
            super::exp::exp_uniform(a, y, iters_exp, scratch)?;
            a.mul_int(y, 3);
            a.add_const(y, 0.003)?;
            0
        }
        RecipInit::Const(c) => {
            a.fill_const(y, c)?;
            masked_step(a, levels, Count::Nr, 0, y, d, scratch, |a, yv, dv, _| {
                yv.copy_from_slice(dv);
                a.mul_const(yv, c * c)?;
                a.rsub_const(yv, 2.0 * c)
            })?;
            1
        }
    };
    for j in first..levels.max().iters_nr {
        masked_step(a, levels, Count::Nr, j, y, d, scratch, |a, yv, dv, s| {
            let t = &mut s[..yv.len()];
            t.copy_from_slice(yv);
            a.square(t)?;
            a.mul(t, dv)?;
            // y + (y − y²d), in this order (CrypTen: `result += result - result.square().mul_(self)`):
            // `neg(t)`, `add(t, y)`, `add(y, t)` in one pass.
            for (y, &tv) in yv.iter_mut().zip(t.iter()) {
                *y = a.elem_add(*y, a.elem_add(a.elem_mul_int(tv, -1), *y));
            }
            Ok(())
        })?;
    }
    Ok(())
}
