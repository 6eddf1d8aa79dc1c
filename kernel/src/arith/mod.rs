//! One algorithm text, three arithmetics.
//!
//! Approximations and layers are written once against [`Arith`] and run in:
//! * [`Float`]: `f64`, ideal math. Public constants are exact, products are exact up to f64
//!   rounding, nothing is truncated. The gap to the true function is the **approximation
//!   error**.
//! * [`Fixed`]: plaintext fixed point with CrypTen's one-party semantics: encoding truncates
//!   toward zero, products are exact in Z_2^64 and then truncated toward zero. The gap to
//!   [`Float`] is the **encoding and rounding error**. Bit-exact with CrypTen one-party runs.
//! * [`Shared`]: two-party additive shares with a trusted dealer, as CrypTen runs two parties.
//!   The gap to [`Fixed`] is the **share randomness** (stochastic rounding of share-local
//!   truncation, and its rare wraps).
//!
//! [`Shared`] runs in one of two engines ([`Engine`]): every protocol message by message, or
//! with each interactive protocol replaced by its ideal functionality (a fresh sharing of the
//! exact result; [`crate::protocols::ideal`]): the same law of outputs, the same ledger,
//! without the protocols' algebra.
//!
//! # Scales
//! The trait does not track scales; the algorithm does. A *value* lives at scale 2^f (a real
//! `v` is `v` in `Float`, `trunc(v·2^f)` in `Fixed`). A *bit* or small *integer* (the output
//! of [`Arith::ltz`]) lives at scale 1 (the integer `k` is `k` in all three). Products of two
//! values use [`Arith::mul`] (which truncates); a value times a bit uses
//! [`Arith::mul_unscaled`] (which does not, so `relu` and `select` are exact).
//!
//! # Laws
//! For every implementation: `reveal(input(x))` returns `x` up to encoding; `add`, `sub`,
//! `neg`, `mul_int` and `add_int` are exact (local, free); `ltz` is exact; `mul_unscaled` by a
//! 0/1 bit is exact. The tests beside this module (`arith/tests.rs`) check these laws over
//! seeded inputs.

pub mod authenticated;
mod fixed;
mod float;
mod shared;

pub use authenticated::Authenticated;
pub use fixed::Fixed;
pub use float::Float;
pub use shared::Shared;

use crate::error::{check_len, Result};
use crate::fixed::FixedPoint;
use crate::linalg::{Conv2dShape, MatShape};

/// Which arithmetic an implementation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ArithKind {
    /// Ideal math in `f64`.
    Float,
    /// Plaintext fixed point (CrypTen one-party).
    Fixed,
    /// Two-party shares.
    Shared,
}

impl ArithKind {
    /// The lower-case name used in CLI flags and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            ArithKind::Float => "float",
            ArithKind::Fixed => "fixed",
            ArithKind::Shared => "shared",
        }
    }
}

/// How the two-party arithmetic is simulated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Engine {
    /// Every protocol run message by message (triples, openings, the comparison's adder). The
    /// reference, and the only engine with messages to observe or tamper with.
    #[default]
    Protocol,
    /// Each interactive protocol replaced by its ideal functionality
    /// ([`crate::protocols::ideal`]); the same law of outputs and the same ledger, other draws.
    Ideal,
}

impl Engine {
    /// Both, default first.
    pub const ALL: [Engine; 2] = [Engine::Protocol, Engine::Ideal];

    /// The name used in CLI flags and JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Engine::Protocol => "protocol",
            Engine::Ideal => "ideal",
        }
    }

    /// The engine called `name`.
    pub fn by_name(name: &str) -> Option<Engine> {
        Engine::ALL.into_iter().find(|e| e.name() == name)
    }

    /// One line on what it runs.
    pub const fn about(self) -> &'static str {
        match self {
            Engine::Protocol => "every protocol message by message (the reference)",
            Engine::Ideal => {
                "ideal functionalities: fresh shares of exact results, the same law and ledger"
            }
        }
    }
}

/// The role trait every approximation and layer is written against.
///
/// Slice operations take the destination first and work in place; lengths must match or the
/// call returns [`crate::Error::ShapeMismatch`]. Interactive operations (those that cost rounds
/// in [`Shared`]) may also return [`crate::Error::BufferTooSmall`] if the session's arena is
/// too small.
pub trait Arith {
    /// One element: `f64`, a ring integer, or a pair of shares.
    type Elem: Copy + Default + PartialEq + core::fmt::Debug;

    /// Which arithmetic this is.
    fn kind(&self) -> ArithKind;

    /// The fixed-point format (informative for [`Float`]).
    fn fixed_point(&self) -> FixedPoint;

    // ---- local element operations (free in every arithmetic) ----

    /// `a + b`.
    fn elem_add(&self, a: Self::Elem, b: Self::Elem) -> Self::Elem;
    /// `a − b`.
    fn elem_sub(&self, a: Self::Elem, b: Self::Elem) -> Self::Elem;
    /// `a · k` for a public integer `k` (no truncation).
    fn elem_mul_int(&self, a: Self::Elem, k: i64) -> Self::Elem;
    /// The public integer `k` at scale 1.
    fn elem_int(&self, k: i64) -> Self::Elem;
    /// The public real `c` at scale 2^f (encoded toward zero in `Fixed` and `Shared`).
    fn elem_const(&self, c: f64) -> Result<Self::Elem>;

    // ---- interactive operations ----

    /// Brings private real inputs in (encode, and share in [`Shared`]).
    fn input(&mut self, x: &[f64], out: &mut [Self::Elem]) -> Result<()>;
    /// Brings a model's weights in: like [`Arith::input`], but owned by the model's party
    /// (party 0 in [`Shared`], as MPCDiff encrypts the model with `src = 0`).
    fn input_model(&mut self, x: &[f64], out: &mut [Self::Elem]) -> Result<()> {
        self.input(x, out)
    }
    /// Reveals values at scale 2^f as reals (one round in [`Shared`]).
    fn reveal(&mut self, x: &[Self::Elem], out: &mut [f64]) -> Result<()>;
    /// The values at scale 2^f as reals, **without** revealing: the simulator's view, for taps
    /// and error attribution. Free, and never part of a protocol.
    fn peek(&self, x: &[Self::Elem], out: &mut [f64]) -> Result<()>;
    /// `x ← x · c` for a public real `c`: encode `c`, multiply, truncate.
    fn mul_const(&mut self, x: &mut [Self::Elem], c: f64) -> Result<()>;
    /// `x ← x / d` for a public integer `d ≥ 1` (a truncation).
    fn div_int(&mut self, x: &mut [Self::Elem], d: u64) -> Result<()>;
    /// `x[i] ← x[i] / d(i)` for public integers `d(i) ≥ 1`, all in one batch (one round in
    /// [`Shared`] with dealer truncation, however many distinct divisors).
    fn div_int_each(&mut self, x: &mut [Self::Elem], d: &dyn Fn(usize) -> u64) -> Result<()> {
        if (0..x.len()).any(|i| d(i) == 0) {
            return Err(crate::Error::DivisionByZero);
        }
        for (i, xi) in x.chunks_mut(1).enumerate() {
            self.div_int(xi, d(i))?;
        }
        Ok(())
    }
    /// `x ← x · y` for two values (truncates once).
    fn mul(&mut self, x: &mut [Self::Elem], y: &[Self::Elem]) -> Result<()>;
    /// `x[i] ← x[i] · y[(i / inner) mod |y|]` for two values (truncates once): a per-channel
    /// vector `y` broadcast over a batch-major `[batch, |y|, inner]` tensor. In [`Shared`] one
    /// Beaver round opening `|x| + |y|` words (CrypTen's broadcasting product); elsewhere the
    /// same values as [`Arith::mul`] on the expanded vector.
    ///
    /// # Errors
    /// [`crate::Error::ShapeMismatch`] unless `inner ≥ 1`, `y` is not empty and `|x|` is a
    /// multiple of `inner·|y|`.
    fn mul_bcast(&mut self, x: &mut [Self::Elem], y: &[Self::Elem], inner: usize) -> Result<()> {
        check_bcast(x.len(), y.len(), inner)?;
        let c = y.len();
        for (i, xi) in x.chunks_mut(1).enumerate() {
            self.mul(xi, &y[(i / inner) % c..][..1])?;
        }
        Ok(())
    }
    /// `x ← x · y` where `y` holds scale-1 integers (bits): no truncation.
    fn mul_unscaled(&mut self, x: &mut [Self::Elem], y: &[Self::Elem]) -> Result<()>;
    /// `x ← x²` (truncates once).
    fn square(&mut self, x: &mut [Self::Elem]) -> Result<()>;
    /// `out = a · b` (truncates each output once).
    fn matmul(
        &mut self,
        a: &[Self::Elem],
        b: &[Self::Elem],
        out: &mut [Self::Elem],
        s: MatShape,
    ) -> Result<()>;
    /// `out = conv2d(x, w)` (truncates each output once).
    fn conv2d(
        &mut self,
        x: &[Self::Elem],
        w: &[Self::Elem],
        out: &mut [Self::Elem],
        s: &Conv2dShape,
    ) -> Result<()>;
    /// `out = Σ_j c_j·terms_j` for public reals `c_j`, where `terms` holds `coeffs.len()` blocks
    /// of `out.len()` values: each `c_j` encoded, the products summed exactly, **one**
    /// truncation per output (CrypTen's matmul with a public coefficient vector).
    fn lincomb_const(
        &mut self,
        terms: &[Self::Elem],
        coeffs: &[f64],
        out: &mut [Self::Elem],
    ) -> Result<()>;
    /// `out = [x < 0]` as scale-1 integers.
    fn ltz(&mut self, x: &[Self::Elem], out: &mut [Self::Elem]) -> Result<()>;

    /// `out[i] = g(m_i)` as a value at scale S (encoded as a public constant is), where `m_i`
    /// is the position of the highest set bit of `x[i]`'s ring integer (`−1` for values ≤ 0):
    /// SPU's exact bit-level normalisation (`highestOneBit`, bit reversal, prefix-or), which its
    /// Goldschmidt reciprocal and `rsqrt` run. In [`Float`] `m_i = ⌊log2(x_i·S)⌋` of the real
    /// value; in [`Shared`] an ideal functionality (the fresh sharing of an exact result),
    /// charged as one [`Arith::ltz`] (an A2B and its prefix circuit: **derived**, not SPU's
    /// exact count).
    ///
    /// # Errors
    /// [`crate::Error::ShapeMismatch`] unless `out` is as long as `x`; `g`'s value not encoding.
    fn msb_map(
        &mut self,
        x: &[Self::Elem],
        out: &mut [Self::Elem],
        g: &dyn Fn(i32) -> f64,
    ) -> Result<()>;

    /// Runs `body(self, lo, hi)` on consecutive ranges `lo..hi` covering `0..n` in order, with
    /// exactly the results, randomness and ledger of the single call `body(self, 0, n)`: a
    /// cache-friendly way to run a long elementwise pipeline. Default: that single call.
    ///
    /// The caller promises that `body` is *elementwise* (element `i` of every output depends on
    /// element `i` of the inputs only, and the operations it runs do not depend on the range's
    /// length), that each of its interactive operations is `mul`, `mul_unscaled`, `square` or
    /// `ltz` on a slice of the range's length, and that it runs at most `max_ops` of them;
    /// an arithmetic may then split the range (see [`Shared`]'s). Errors are the body's.
    fn elementwise_chunks(
        &mut self,
        n: usize,
        max_ops: usize,
        body: &mut dyn FnMut(&mut Self, usize, usize) -> Result<()>,
    ) -> Result<()>
    where
        Self: Sized,
    {
        let _ = max_ops;
        body(self, 0, n)
    }

    // ---- slice versions of the local operations ----

    /// `acc ← acc + b`.
    fn add(&mut self, acc: &mut [Self::Elem], b: &[Self::Elem]) -> Result<()> {
        check_len(acc.len(), b.len())?;
        for (a, &v) in acc.iter_mut().zip(b) {
            *a = self.elem_add(*a, v);
        }
        Ok(())
    }
    /// `acc ← acc − b`.
    fn sub(&mut self, acc: &mut [Self::Elem], b: &[Self::Elem]) -> Result<()> {
        check_len(acc.len(), b.len())?;
        for (a, &v) in acc.iter_mut().zip(b) {
            *a = self.elem_sub(*a, v);
        }
        Ok(())
    }
    /// `x ← −x`.
    fn neg(&mut self, x: &mut [Self::Elem]) {
        for a in x.iter_mut() {
            *a = self.elem_mul_int(*a, -1);
        }
    }
    /// `x ← x · k` for a public integer (exact).
    fn mul_int(&mut self, x: &mut [Self::Elem], k: i64) {
        for a in x.iter_mut() {
            *a = self.elem_mul_int(*a, k);
        }
    }
    /// `x ← x + k` for scale-1 integers.
    fn add_int(&mut self, x: &mut [Self::Elem], k: i64) {
        let c = self.elem_int(k);
        for a in x.iter_mut() {
            *a = self.elem_add(*a, c);
        }
    }
    /// `x ← x + c` for a public real at scale 2^f.
    fn add_const(&mut self, x: &mut [Self::Elem], c: f64) -> Result<()> {
        let c = self.elem_const(c)?;
        for a in x.iter_mut() {
            *a = self.elem_add(*a, c);
        }
        Ok(())
    }
    /// `x ← c − x` for a public real at scale 2^f.
    fn rsub_const(&mut self, x: &mut [Self::Elem], c: f64) -> Result<()> {
        let c = self.elem_const(c)?;
        for a in x.iter_mut() {
            *a = self.elem_sub(c, *a);
        }
        Ok(())
    }
    /// Fills `out` with the public real `c`.
    fn fill_const(&mut self, out: &mut [Self::Elem], c: f64) -> Result<()> {
        let c = self.elem_const(c)?;
        out.fill(c);
        Ok(())
    }
}

/// Arithmetics whose elements are ring integers underneath ([`Fixed`] and [`Shared`]): raw
/// access for bit-exact comparisons with CrypTen.
pub trait RingArith: Arith {
    /// The ring's word ([`crate::ring::Word`]): `i64` for Z_2^64, `i128` for Z_2^128.
    type Word: crate::ring::Word;
    /// Brings ring integers in as private values (already encoded).
    fn input_ring(&mut self, raw: &[Self::Word], out: &mut [Self::Elem]) -> Result<()>;
    /// Reveals the ring integers (one round in [`Shared`]).
    fn reveal_ring(&mut self, x: &[Self::Elem], out: &mut [Self::Word]) -> Result<()>;
    /// The ring integers without revealing (free; the simulator's view).
    fn peek_ring(&self, x: &[Self::Elem], out: &mut [Self::Word]) -> Result<()>;
}

/// The shape rule of [`Arith::mul_bcast`].
pub(crate) fn check_bcast(n: usize, c: usize, inner: usize) -> Result<()> {
    let period = c.checked_mul(inner).unwrap_or(0);
    if period == 0 || !n.is_multiple_of(period) {
        return Err(crate::Error::ShapeMismatch {
            expected: period,
            got: n,
        });
    }
    Ok(())
}

/// Checks that every input is finite, naming the first one that is not.
pub(crate) fn check_finite(x: &[f64]) -> Result<()> {
    match x.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(crate::Error::NonFinite { index }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod z128_tests;
