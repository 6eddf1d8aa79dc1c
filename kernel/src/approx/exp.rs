//! The exponential by the limit method.
//!
//! # Method
//! `exp(x) ≈ (1 + x/2^n)^(2^n)`: one public division by 2^n (a truncation), plus one, then `n`
//! squarings, with `n` = the element's `iters_exp`.
//!
//! # Cost
//! `n` rounds and `n` square pairs per element (mixed levels: rounds = the largest `n`).
//!
//! # Error
//! Algorithm: relative ≈ x²/2^(n+1) for moderate x (0.8 % at |x| = 2, 17 % at 10 for n = 8).
//! Fixed point: each squaring doubles the relative error already there, so the initial
//! truncation of x/2^n is amplified 2^n times. Breakdowns (f = 16, n = 8): x ≳ 13–15 makes
//! share-local truncation wraps likely in the last squaring (≈ e^x/2^32 per element); x >
//! ln 2^31 ≈ 21.5 wraps the ring (garbage); x < −2^(n+1) = −512 makes `1 + x/2^n < −1` and the
//! result explodes.
//!
//! # Reference
//! CrypTen `approximations.py: exp` (`functions.exp_iterations` = 8).

use super::levels::{masked_step, Count, Level, Levels};
use super::profile::ExpDivide;
use crate::arith::Arith;
use crate::error::Result;

/// Scratch elements [`exp`] needs for `n` inputs.
///
/// (Like every `scratch_elems*` of [`crate::approx`], exact for the sizes a buffer can have and
/// saturating at `usize::MAX` beyond them.)
pub const fn scratch_elems(n: usize) -> usize {
    n
}

/// `x ← exp(x)`, each element with its level's `iters_exp`.
///
/// # Errors
/// [`Levels::check`]'s; [`crate::Error::BufferTooSmall`] if `scratch` is shorter than
/// [`scratch_elems`]; then the arithmetic's (a [`crate::Shared`] arena too small, an encoding
/// overflow).
pub fn exp<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    exp_dividing(a, x, levels, ExpDivide::Truncate, scratch)
}

/// [`exp`], dividing by 2^n as `divide` says: by a truncation (CrypTen, PySyft, SPU) or by
/// multiplying with the encoded `1/2^n` (TF-Encrypted; per-element levels then multiply by a
/// vector of public constants, one product).
///
/// # Errors
/// As [`exp`].
pub fn exp_dividing<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    levels: &Levels<'_>,
    divide: ExpDivide,
    scratch: &mut [A::Elem],
) -> Result<()> {
    levels.check(x.len())?;
    super::need(scratch.len(), scratch_elems(x.len()))?;
    let inv = |e: u8| 1.0 / (1u64 << e) as f64;
    match (divide, levels) {
        // One divisor for all: the same values, errors and ledger as `div_int_each` (one
        // batch of identical truncations), without a call per element.
        (ExpDivide::Truncate, Levels::Uniform(l)) => a.div_int(x, 1u64 << l.iters_exp)?,
        (ExpDivide::Truncate, _) => a.div_int_each(x, &|i| 1u64 << levels.at(i).iters_exp)?,
        (ExpDivide::Constant, Levels::Uniform(l)) => a.mul_const(x, inv(l.iters_exp))?,
        (ExpDivide::Constant, _) => {
            let c = &mut scratch[..x.len()];
            for (i, ci) in c.iter_mut().enumerate() {
                *ci = a.elem_const(inv(levels.at(i).iters_exp))?;
            }
            a.mul(x, c)?;
        }
    }
    a.add_const(x, 1.0)?;
    for j in 0..levels.max().iters_exp {
        masked_step(a, levels, Count::Exp, j, x, &[], scratch, |a, v, _, _| {
            a.square(v)
        })?;
    }
    Ok(())
}

/// `x ← exp(x)` with `iters` squarings for every element.
///
/// # Errors
/// As [`exp`] ([`crate::Error::OutOfRange`] for more than 40 squarings).
pub fn exp_uniform<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    iters: u8,
    scratch: &mut [A::Elem],
) -> Result<()> {
    exp(a, x, &Levels::Uniform(Level::new(iters, 0)), scratch)
}
