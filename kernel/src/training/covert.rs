//! Covert gradient attacks on [`super::logistic`] training, as edits of single message words
//! at the message seam ([`crate::wire::additive`]).
//!
//! # Method
//! * **Gradient shifting** ([`gradient_shift`]): in dealer truncation mode the gradient
//!   `g = Xᵀ r` (at scale 2^2f before truncation) is truncated by one opening
//!   `x + 2^62 − r`. Adding `E = round(s · 2^2f)` to the word of feature `j` shifts `g_j` by
//!   `s` (primitive P3 of the research note's §1.4), so the update writes
//!   `w_j ← w_j − (lr / batch) · (g_j + s)`: a chosen shift of one chosen weight, blind (the
//!   adversary knows nothing of `g`), every other weight of that step untouched.
//! * **Gradient scaling** ([`gradient_scale`]): adding `E = round(e · 2^f)` to the δ word of
//!   sample `i` in the gradient product's Beaver opening computes `Xᵀ (r + e·1_i)` (P1), so
//!   the step's gradient gains `e · x_i` and the weights move by `−(lr / batch) · e · x_i`:
//!   the victim's features written into the model (the reconstruction attack of §1.5), in
//!   either truncation mode.
//!
//! * **Gradient zeroing** ([`gradient_zero`]): when the corrupt party owns the data (it brought
//!   `X` in, so it knows every encoded feature), adding `−enc(x_ij)` to the ε word of feature
//!   `j` of each sample `i` in the gradient opening computes the product with row `j` of `Xᵀ`
//!   set to zero (P1 with a known operand): `g_j = 0` exactly before truncation, so weight `j`
//!   freezes while the forward pass still uses feature `j` and every other weight trains.
//!   *Blind* zeroing (without knowing the operand) is not an additive edit, and §1.4's
//!   comparison toggles ([`super::backprop::relu_mask_toggle`]) invert a ReLU mask rather
//!   than clear it, so they do not zero a gradient either (their effect on a trained MLP is
//!   measured in `backprop_tests.rs`).
//!
//! # Cost
//! None: shifting and scaling change one word of one message, zeroing one word per sample of
//! each attacked step; rounds, triples and bytes are the honest run's.
//!
//! # Error
//! Shifting: `w_j` moves by `−(lr / batch) · s` within 2 ring units (two truncations), and
//! misses with probability about `|E| / 2^62` (the edit flips the opened word's top bit).
//! Scaling: the weights move by `−(lr / batch) · e · x_i` within 2 ring units per weight, as
//! long as `e · |x_i|` stays far below the ring's range 2^(63 − 2f).
//! Zeroing: the frozen weight still moves by the truncations of a zero gradient, at most
//! 2 ring units per attacked step; measured 0 over 24 steps in both truncation modes
//! (`training/tests.rs`).
//!
//! # Errors
//! [`Error::OutOfRange`] for a non-finite size of edit or one whose ring word would pass
//! 2^60; for zeroing, the encoding's errors on the features and
//! [`Error::BufferTooSmall`] if the edit buffer is shorter than the batch.
//!
//! # Reference
//! Jagielski, Escudero, Rachuri, Scholl, *Covert Attacks on Machine Learning Training in
//! Passively Secure MPC*, arXiv 2505.17092 (gradient zeroing, shifting and scaling); the
//! research note's §1.4 (P1, P3 and the strategy table) and §1.5 (scaling → reconstruction).
//! The realisation on these messages is the note's derivation, not the paper's text.

use super::logistic::{gradient_opening, gradient_truncation};
use crate::error::{Error, Result};
use crate::fixed::FixedPoint;
use crate::wire::additive::Edit;

/// The largest ring word an edit may add (far from the dealer truncation's 2^62 offset).
const DELTA_MAX: f64 = (1u64 << 60) as f64;

fn ring_delta(v: f64) -> Result<i64> {
    let r = libm::round(v);
    if !r.is_finite() || libm::fabs(r) >= DELTA_MAX {
        return Err(Error::OutOfRange {
            what: "the edit's ring word (|e·2^f| below 2^60)",
        });
    }
    Ok(r as i64)
}

/// Shifts step `step`'s gradient of feature `feature` by the real `shift` (dealer truncation
/// mode; see the module doc).
///
/// # Errors
/// See the module doc.
pub fn gradient_shift(fp: FixedPoint, step: u64, feature: usize, shift: f64) -> Result<Edit> {
    let scale = fp.scale() as f64;
    Ok(Edit::new(
        gradient_truncation(step, feature),
        ring_delta(shift * scale * scale)?,
    ))
}

/// Adds the real `e` to the residual of sample `sample` (of `batch`) in step `step`'s gradient
/// product over `features` features (see the module doc).
///
/// # Errors
/// See the module doc; [`Error::InvalidShape`] if the word index overflows.
pub fn gradient_scale(
    fp: FixedPoint,
    step: u64,
    features: usize,
    batch: usize,
    sample: usize,
    e: f64,
) -> Result<Edit> {
    let word = features
        .checked_mul(batch)
        .and_then(|w| w.checked_add(sample))
        .ok_or(Error::InvalidShape {
            what: "the residual's word index overflows",
        })?;
    Ok(Edit::new(
        gradient_opening(step, word),
        ring_delta(e * fp.scale() as f64)?,
    ))
}

/// Zeroes step `step`'s gradient of feature `feature` (see the module doc): fills
/// `out[..column.len()]` with one edit per sample of the batch, `column[i]` being sample `i`'s
/// value of that feature (the corrupt data owner's own data), over `features` features.
/// Returns the number of edits written (the batch).
///
/// # Errors
/// See the module doc.
pub fn gradient_zero(
    fp: FixedPoint,
    step: u64,
    features: usize,
    feature: usize,
    column: &[f64],
    out: &mut [Edit],
) -> Result<usize> {
    let batch = column.len();
    crate::approx::need(out.len(), batch)?;
    if feature >= features {
        return Err(Error::OutOfRange {
            what: "the zeroed feature is past the last feature",
        });
    }
    for (i, (o, &v)) in out.iter_mut().zip(column).enumerate() {
        let word = feature
            .checked_mul(batch)
            .and_then(|w| w.checked_add(i))
            .ok_or(Error::InvalidShape {
                what: "the feature's word index overflows",
            })?;
        let raw = fp.encode_data_at(v, i)?;
        *o = Edit::new(gradient_opening(step, word), raw.wrapping_neg());
    }
    Ok(batch)
}
