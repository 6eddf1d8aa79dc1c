//! Logistic regression trained by mini-batch SGD, written once against [`Arith`].
//!
//! # Method
//! Samples are taken in order, `batch` at a time (a trailing partial batch is skipped), for
//! `epochs` passes; step `t` (0-based, counted over all epochs) on the rows `X` (`batch ×
//! features`) and labels `y` runs
//!
//! ```text
//! z = X · w                      matmul (batch × features)·(features × 1)
//! s = σ(z)                       the profile's sigmoid (approx::eval, Function::Sigmoid)
//! r = s − y                      local
//! g = Xᵀ · r                     matmul (features × batch)·(batch × 1)
//! w ← w − (lr / batch) · g       mul_const, local subtraction
//! ```
//!
//! `Xᵀ` is the same elements as `X`, reordered (free). The data and labels are brought in once
//! ([`Arith::input`]: the data owner's in [`crate::Shared`]), the initial weights by
//! [`Arith::input_model`].
//!
//! ## Messages of one step (the [`crate::Shared`] protocol engine)
//! In order: the forward `"matmul"` opening (ε = `X − A`: `batch·features` words, then
//! δ = `w − b`: `features` words), its `"trunc"` opening in dealer truncation mode, the
//! sigmoid's openings, the gradient `"matmul"` opening (ε = `Xᵀ − A'`: `features·batch` words,
//! row `j` of `Xᵀ` at words `j·batch..`, then δ = `r − b'`: `batch` words), its `"trunc"`
//! (dealer mode), then the update's `"trunc"` (dealer mode). So step `t`'s gradient opening is
//! the party's `"matmul"` message number `2t + 1`: [`gradient_opening`].
//!
//! # Cost
//! Per step: 2 matrix triples (`batch·features + features + batch` and
//! `features·batch + batch + features` words), 2 rounds and `8·(2·batch·features + features +
//! batch)` bytes per party for the products, plus the sigmoid's (the profile's exp and
//! reciprocal: [`crate::approx`]), plus one round per truncation batch in dealer truncation
//! mode (3 per step besides the sigmoid's). Share-local truncation costs nothing.
//!
//! # Error
//! [`crate::Float`] runs the same algorithm with ideal products, so shared − float is the
//! encoding, truncation and share randomness of every step, fed back through later steps. On
//! the 64 × 5 data set of the tests (f = 16, `crypten` profile, lr 0.5, batch 8, 4 epochs,
//! 32 steps, MPC seeds 1, 0x5EED, 2024) the largest weight difference after any epoch is
//! 2.4e−4 to 3.8e−4 (about 16 to 25 ring units) in either truncation mode; the tests enforce
//! 1e−3 and equal training accuracies (98.4 %) (`training/tests.rs`).
//!
//! # Errors
//! [`Error::InvalidShape`] for a zero batch or feature count, or more batches than the data
//! has samples; [`Error::ShapeMismatch`] for a buffer of the wrong length
//! ([`Sizes::of`] gives them); then the sigmoid's and the arithmetic's errors.
//!
//! # Reference
//! The SGD of the "MPC logistic regression gradient" of Jagielski, Escudero, Rachuri and
//! Scholl (arXiv 2505.17092), as written out in the research note's §1.5; CrypTen's sigmoid.

use crate::approx::{self, Function, Levels, Profile};
use crate::arith::Arith;
use crate::error::{check_len, Error, Result};
use crate::linalg::MatShape;
use crate::wire::additive::Target;
use crate::Shared;

/// The training problem: data, labels and their shape.
#[derive(Clone, Copy, Debug)]
pub struct Problem<'d> {
    /// Samples, row-major (`samples × features`).
    pub x: &'d [f64],
    /// Labels, 0 or 1 (`samples`).
    pub y: &'d [f64],
    /// Number of samples.
    pub samples: usize,
    /// Features per sample (including a bias column, if any).
    pub features: usize,
}

/// SGD's settings.
#[derive(Clone, Copy, Debug)]
pub struct Hyper<'p> {
    /// Learning rate.
    pub lr: f64,
    /// Samples per step.
    pub batch: usize,
    /// Passes over the data.
    pub epochs: u32,
    /// Where the sigmoid's parameters come from (its default level is used).
    pub profile: &'p Profile,
}

impl Hyper<'_> {
    /// Steps per epoch: `samples / batch`, rounded down (0 for a zero batch).
    pub const fn steps_per_epoch(&self, samples: usize) -> usize {
        match samples.checked_div(self.batch) {
            Some(s) => s,
            None => 0,
        }
    }
}

/// Element counts of [`Buffers`], and words of a [`Shared`] session's arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// `samples · features`.
    pub data: usize,
    /// `samples`.
    pub labels: usize,
    /// `batch · features`.
    pub rows: usize,
    /// `batch`.
    pub batch: usize,
    /// `features`.
    pub features: usize,
    /// The sigmoid's scratch.
    pub scratch: usize,
    /// Words of a [`Shared`] arena enough for every operation of a step.
    pub words: usize,
}

impl Sizes {
    /// The sizes for `p` trained with `h`.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] for a zero batch or feature count, a batch larger than the data
    /// or a size that overflows.
    pub fn of(p: &Problem<'_>, h: &Hyper<'_>) -> Result<Sizes> {
        let overflow = Error::InvalidShape {
            what: "training sizes overflow",
        };
        if h.batch == 0 || p.features == 0 {
            return Err(Error::InvalidShape {
                what: "batch and features must be at least 1",
            });
        }
        if h.batch > p.samples {
            return Err(Error::InvalidShape {
                what: "the batch is larger than the data set",
            });
        }
        let data = p.samples.checked_mul(p.features).ok_or(overflow)?;
        let rows = h.batch.checked_mul(p.features).ok_or(overflow)?;
        let fwd = MatShape {
            m: h.batch,
            k: p.features,
            n: 1,
        };
        let grad = MatShape {
            m: p.features,
            k: h.batch,
            n: 1,
        };
        let words = Shared::scratch_words_matmul(fwd)
            .max(Shared::scratch_words_matmul(grad))
            .max(Shared::scratch_words_elementwise(h.batch.saturating_mul(4)))
            .max(Shared::scratch_words_elementwise(p.features));
        if words == usize::MAX {
            return Err(overflow);
        }
        Ok(Sizes {
            data,
            labels: p.samples,
            rows,
            batch: h.batch,
            features: p.features,
            scratch: approx::scratch_elems(h.batch),
            words,
        })
    }
}

/// The caller's buffers for [`train`], each of the [`Sizes`] length named beside it.
#[derive(Debug)]
pub struct Buffers<'b, E> {
    /// The data, brought in once (`data`).
    pub data: &'b mut [E],
    /// The labels (`labels`).
    pub labels: &'b mut [E],
    /// One batch transposed (`rows`).
    pub rows_t: &'b mut [E],
    /// Logits, then residuals (`batch`).
    pub z: &'b mut [E],
    /// The gradient (`features`).
    pub grad: &'b mut [E],
    /// The sigmoid's scratch (`scratch`).
    pub scratch: &'b mut [E],
}

/// Trains `w` (already brought in, `features` elements) on `p` with `h` in arithmetic `a`
/// (see the module doc).
///
/// # Errors
/// See the module doc.
pub fn train<A: Arith>(
    a: &mut A,
    p: &Problem<'_>,
    h: &Hyper<'_>,
    w: &mut [A::Elem],
    buf: &mut Buffers<'_, A::Elem>,
) -> Result<()> {
    let sz = Sizes::of(p, h)?;
    check_len(sz.data, p.x.len())?;
    check_len(sz.labels, p.y.len())?;
    check_len(sz.features, w.len())?;
    check_len(sz.data, buf.data.len())?;
    check_len(sz.labels, buf.labels.len())?;
    check_len(sz.rows, buf.rows_t.len())?;
    check_len(sz.batch, buf.z.len())?;
    check_len(sz.features, buf.grad.len())?;
    approx::need(buf.scratch.len(), sz.scratch)?;
    let (b, d) = (h.batch, p.features);
    a.input(p.x, buf.data)?;
    a.input(p.y, buf.labels)?;
    let level = Function::Sigmoid.default_level(h.profile);
    let fwd = MatShape { m: b, k: d, n: 1 };
    let grad = MatShape { m: d, k: b, n: 1 };
    let step_lr = h.lr / b as f64;
    for _ in 0..h.epochs {
        for s in 0..h.steps_per_epoch(p.samples) {
            let rows = &buf.data[s * b * d..][..b * d];
            for (i, row) in rows.chunks_exact(d).enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    buf.rows_t[j * b + i] = v;
                }
            }
            a.matmul(rows, w, buf.z, fwd)?;
            approx::eval(
                a,
                Function::Sigmoid,
                h.profile,
                buf.z,
                &Levels::Uniform(level),
                buf.scratch,
            )?;
            a.sub(buf.z, &buf.labels[s * b..][..b])?;
            a.matmul(buf.rows_t, buf.z, buf.grad, grad)?;
            a.mul_const(buf.grad, step_lr)?;
            a.sub(w, buf.grad)?;
        }
    }
    Ok(())
}

/// The corrupt party's message that opens step `step`'s gradient product (`"matmul"` number
/// `2·step + 1`), at word `word`: ε = `Xᵀ − A'` at words `j·batch + i` (feature `j` of the
/// batch's sample `i`), then δ = `r − b'` at words `features·batch + i` (sample `i`'s
/// residual). See the module doc.
pub const fn gradient_opening(step: u64, word: usize) -> Target {
    Target {
        protocol: "matmul",
        occurrence: step.wrapping_mul(2).wrapping_add(1),
        rounds_after: 0,
        word,
    }
}

/// The dealer truncation of step `step`'s gradient (the round after [`gradient_opening`];
/// dealer truncation mode only), at the word of feature `feature`.
pub const fn gradient_truncation(step: u64, feature: usize) -> Target {
    Target {
        protocol: "matmul",
        occurrence: step.wrapping_mul(2).wrapping_add(1),
        rounds_after: 1,
        word: feature,
    }
}
