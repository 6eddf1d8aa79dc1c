//! Error-source attribution: one input, four values, three gaps.
//!
//! For each input the same approximation runs in the three arithmetics, next to the true
//! function:
//! * `float − exact` is the **approximation error** (the algorithm itself);
//! * `fixed − float` is the **encoding and rounding error** (inputs and constants encoded toward
//!   zero, every product truncated toward zero);
//! * `shared − fixed` is the **share randomness** (stochastic rounding of share-local truncation
//!   and its rare wraps, or the dealer truncation's rounding).
//!
//! The stages add up: `shared − exact` is their sum, so a deviation can be traced to the stage
//! that made it.

use super::{eval, scratch_elems, Function, Levels, Profile};
use crate::arith::{Arith, Fixed, Float, Shared};
use crate::cost::Cost;
use crate::error::{check_len, Error, Result};
use crate::fixed::FixedPoint;
use crate::protocols::truncation::TruncMode;
use crate::ring::{Ring, Word};
use crate::share::Share;

/// The four values of one input.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stages {
    /// The true function (`libm`).
    pub exact: f64,
    /// The approximation in ideal math.
    pub float: f64,
    /// The approximation in plaintext fixed point.
    pub fixed: f64,
    /// The approximation on shares.
    pub shared: f64,
}

impl Stages {
    /// `float − exact`.
    pub fn approximation_error(&self) -> f64 {
        self.float - self.exact
    }
    /// `fixed − float`.
    pub fn encoding_error(&self) -> f64 {
        self.fixed - self.float
    }
    /// `shared − fixed`.
    pub fn share_error(&self) -> f64 {
        self.shared - self.fixed
    }
    /// `shared − exact`.
    pub fn total_error(&self) -> f64 {
        self.shared - self.exact
    }
}

/// The buffers [`attribute`] works in, for `n` inputs: see [`Memory::sizes`].
///
/// The ring words and shares are of the format's ring (`W`: `i64` for Z_2^64, `i128` for
/// Z_2^128; [`FixedPoint::ring`]).
#[derive(Debug)]
pub struct Memory<'w, W: Word = Ring> {
    /// `n + scratch_elems(n)` floats.
    pub floats: &'w mut [f64],
    /// `n + scratch_elems(n)` ring words for the fixed-point run, then
    /// `Shared::scratch_words_elementwise(8·n)` words of the shared run's arena.
    pub ints: &'w mut [W],
    /// `n + scratch_elems(n)` shares.
    pub shares: &'w mut [Share<W>],
}

impl Memory<'_> {
    /// `(floats, ints, shares)` lengths needed for `n` inputs.
    pub const fn sizes(n: usize) -> (usize, usize, usize) {
        let e = n.saturating_add(scratch_elems(n));
        let words = Shared::scratch_words_elementwise(n.saturating_mul(8));
        (e, e.saturating_add(words), e)
    }
}

/// [`attribute`] on `x.len()` inputs evenly spaced over `[lo, hi]` (written into `x`): an
/// error curve, as `mpcdiff approx` and the page draw it.
///
/// # Errors
/// [`Error::OutOfRange`] unless `lo < hi` are finite and there are at least 2 points; then
/// [`attribute`]'s.
pub fn curve<W: Word>(
    s: &Probe<'_>,
    (lo, hi): (f64, f64),
    levels: &Levels<'_>,
    mem: Memory<'_, W>,
    x: &mut [f64],
    out: &mut [Stages],
) -> Result<Cost> {
    let n = x.len();
    if !(lo.is_finite() && hi.is_finite() && lo < hi) || n < 2 {
        return Err(Error::OutOfRange {
            what: "an error curve needs finite lo < hi and at least 2 points",
        });
    }
    for (i, v) in x.iter_mut().enumerate() {
        *v = lo + (hi - lo) * i as f64 / (n - 1) as f64;
    }
    attribute(s, x, levels, mem, out)
}

/// The settings of an attribution run.
#[derive(Clone, Copy, Debug)]
pub struct Probe<'p> {
    /// The function.
    pub function: Function,
    /// Its profile.
    pub profile: &'p Profile,
    /// The fixed-point format.
    pub fp: FixedPoint,
    /// The shared arithmetic's truncation.
    pub trunc: TruncMode,
    /// The MPC seed of the shared run.
    pub seed: u64,
}

/// Runs `x` through the true function and the three arithmetics; `out[i]` gets the stages of
/// `x[i]`. Integer-valued functions (`ltz`, `sign`) report their integers. Returns what the
/// shared run of the function cost (bringing the inputs in excluded).
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] unless `out` is as long as `x`; [`Levels::check`]'s;
/// [`crate::Error::BufferTooSmall`] if a buffer of `ws` is shorter than [`Memory::sizes`] says;
/// [`crate::Error::NonFinite`] or [`crate::Error::EncodeOverflow`] for an input; then the
/// function's in each arithmetic.
pub fn attribute<W: Word>(
    s: &Probe<'_>,
    x: &[f64],
    levels: &Levels<'_>,
    ws: Memory<'_, W>,
    out: &mut [Stages],
) -> Result<Cost> {
    let n = x.len();
    check_len(n, out.len())?;
    levels.check(n)?;
    let (ef, ei, es) = Memory::sizes(n);
    for (needed, got) in [
        (ef, ws.floats.len()),
        (ei, ws.ints.len()),
        (es, ws.shares.len()),
    ] {
        if got < needed {
            return Err(Error::BufferTooSmall { needed, got });
        }
    }
    let f = s.function;
    let int_out = f.integer_output();

    // Float.
    let (v, scratch) = ws.floats.split_at_mut(n);
    let mut fl = Float::new(s.fp);
    fl.input(x, v)?;
    eval(&mut fl, f, s.profile, v, levels, scratch)?;
    for (o, (&xi, &vi)) in out.iter_mut().zip(x.iter().zip(v.iter())) {
        o.exact = f.exact(xi);
        o.float = vi;
    }

    // Fixed.
    let (ring, arena) = ws.ints.split_at_mut(n + scratch_elems(n));
    let (v, scratch) = ring.split_at_mut(n);
    let mut fx = Fixed::<W>::in_ring(s.fp).with_sign_test(s.profile.numerics.sign);
    fx.input(x, v)?;
    eval(&mut fx, f, s.profile, v, levels, scratch)?;
    for (o, &vi) in out.iter_mut().zip(v.iter()) {
        o.fixed = if int_out {
            vi.to_f64()
        } else {
            s.fp.decode_word(vi)
        };
    }

    // Shared.
    let (v, scratch) = ws.shares.split_at_mut(n);
    let mut sh = Shared::in_ring(s.fp, s.seed, arena)
        .with_truncation(s.trunc)
        .with_sign_test(s.profile.numerics.sign);
    sh.input(x, v)?;
    let before = sh.cost();
    eval(&mut sh, f, s.profile, v, levels, scratch)?;
    let cost = sh.cost().since(&before);
    for (o, &vi) in out.iter_mut().zip(v.iter()) {
        let raw = crate::share::reconstruct(vi);
        o.shared = if int_out {
            raw.to_f64()
        } else {
            s.fp.decode_word(raw)
        };
    }
    Ok(cost)
}
