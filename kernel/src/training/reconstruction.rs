//! Training-data reconstruction by gradient scaling: the corrupt party writes a victim's
//! example into the released model with one edited word, and reads it back.
//!
//! # Method
//! The research note's §1.5. In the *last* step `T` of the training, the adversary adds
//! `E = round(e · 2^f)` to its δ word of the residual of the sample at batch position `i`
//! (the public schedule says whose example sits there) — P1 of §1.4, built by
//! [`super::covert::gradient_scale`]. The gradient gains `e · x_i`, so the released model is
//!
//! ```text
//! w_T = w_honest − (η e / B) · x_i     ⇒     x̂_i = −B · w_T / (η e)
//! ```
//!
//! The attacker knows `η`, `B` and `e` and receives `w_T` as the training's output; `x̂_i`
//! is its estimate, wrong by `B · w_honest / (η e)` (the honest model it cannot subtract)
//! plus the fixed-point error below. [`reconstruct`] runs the honest training once and one
//! attacked training per victim (same MPC seed, same data), and reports for each victim the
//! attacker's `x̂` (from `w_T` alone) and, to separate the two error sources, the *oracle*
//! estimate `−B · (w_T − w_honest) / (η e)` that only the experimenter can form.
//!
//! Metrics against the original `x_i`: the largest absolute error and the cosine over all
//! features (bias included: its feature is the constant 1), and, when the first `h · w`
//! features are an image with values in `[0, 1]`, its PSNR and SSIM
//! ([`crate::leak::metrics`]: SSIM of Wang et al. 2004, `K₁ = 0.01`, `K₂ = 0.03`, data
//! range 1, a 7 × 7 uniform window, every window inside the image, sample variances).
//!
//! # Cost
//! `1 + victims` trainings; each edit is one word of one message (no extra rounds, triples
//! or bytes).
//!
//! # Error
//! The oracle estimate recovers the *encoded* features (`x` truncated toward zero at `2^−f`:
//! up to one ring unit) plus two truncations of the update in each run, magnified by
//! `B / (η e)`: `|x̂ − x| ≤ 2^−f · (1 + 4B / (η e))` (enforced by the tests). The attacker's
//! estimate adds `B · |w_honest| / (η e)`, which larger `e` shrinks until the product
//! `e · x_j` at scale `2^2f` meets the ring: with share-local truncation each nonzero feature
//! risks the truncation's wrap with probability about `|e · x_j| · 2^2f / 2^63`, which puts
//! that feature off by about `2^2f / e` (MNIST, f = 16: never seen at `e ≤ 10^6` over 64
//! victims, seen at `e = 10^7`); dealer truncation has no wrap. [`super::covert::gradient_scale`]
//! refuses edits past `2^60`.
//!
//! # Errors
//! [`Error::OutOfRange`] for a victim position past the batch or a bad `e`;
//! [`Error::InvalidShape`] for an image larger than the features or a training with no full
//! batch; [`Error::ShapeMismatch`] / [`Error::BufferTooSmall`] for buffers of the wrong size
//! (`x_hat` and `x_oracle`: `victims · features`; `out`: `victims`); then the harness's
//! ([`super::adversary::run`]).
//!
//! # Reference
//! Jagielski, Escudero, Rachuri, Scholl, arXiv 2505.17092 ("Gradient scaling leads to
//! successful reconstruction attacks on logistic regression"); the realisation and the
//! formula for `x̂` are the research note's derivation (§1.5), not the paper's text.

use super::adversary::{run, Setting};
use super::covert::gradient_scale;
use super::logistic::Problem;
use crate::error::{check_len, Error, Result};
use crate::leak::metrics::{self, Quality};
use crate::Share;

/// What one victim's reconstruction recovered.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Recovered {
    /// The victim's sample index in the data set.
    pub sample: usize,
    /// Whether the edit reached its word (1 applied, 0 missed).
    pub applied: bool,
    /// The attacker's estimate `−B · w_T / (η e)`: largest absolute error over all features.
    pub max_abs: f64,
    /// Its cosine with the original (all features).
    pub cosine: f64,
    /// Its image quality (first `h · w` features), if an image shape was given.
    pub quality: Option<Quality>,
    /// The oracle estimate `−B · (w_T − w_honest) / (η e)`: largest absolute error.
    pub oracle_max_abs: f64,
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f64 = a.iter().map(|x| x * x).sum();
    let nb: f64 = b.iter().map(|x| x * x).sum();
    let d = libm::sqrt(na) * libm::sqrt(nb);
    if d == 0.0 {
        0.0
    } else {
        dot / d
    }
}

/// Runs the honest training on `p` and one attacked training per batch position of `victims`
/// (positions in the last full batch), with residual shift `e` (see the module doc).
/// Writes the released honest weights to `w_honest` (`features`), each victim's attacker
/// estimate to `x_hat` and oracle estimate to `x_oracle` (`victims · features`, row `k` for
/// `victims[k]`), and the metrics to `out` (`victims`); `image` = `(h, w)` of the first
/// `h · w` features, if they are an image in `[0, 1]`. `w_attacked` (`features`) is scratch.
///
/// # Errors
/// See the module doc.
#[allow(clippy::too_many_arguments)]
pub fn reconstruct(
    p: &Problem<'_>,
    s: &Setting<'_>,
    victims: &[usize],
    e: f64,
    image: Option<(usize, usize)>,
    shares: &mut [Share],
    words: &mut [i64],
    w_honest: &mut [f64],
    w_attacked: &mut [f64],
    x_hat: &mut [f64],
    x_oracle: &mut [f64],
    out: &mut [Recovered],
) -> Result<()> {
    let (b, d) = (s.hyper.batch, p.features);
    let steps = s.hyper.steps_per_epoch(p.samples);
    if steps == 0 || s.hyper.epochs == 0 {
        return Err(Error::InvalidShape {
            what: "a reconstruction needs at least one full batch and one epoch",
        });
    }
    if let Some((h, w)) = image {
        if h.checked_mul(w).is_none_or(|n| n > d) {
            return Err(Error::InvalidShape {
                what: "the image has more pixels than the sample has features",
            });
        }
    }
    let rows = victims.len().checked_mul(d).ok_or(Error::InvalidShape {
        what: "victims × features overflows",
    })?;
    check_len(rows, x_hat.len())?;
    check_len(rows, x_oracle.len())?;
    check_len(victims.len(), out.len())?;
    check_len(d, w_attacked.len())?;
    if victims.iter().any(|&v| v >= b) {
        return Err(Error::OutOfRange {
            what: "a victim's batch position is past the batch",
        });
    }
    let last = (u64::from(s.hyper.epochs))
        .saturating_mul(steps as u64)
        .saturating_sub(1);
    // Check e (and the word index) before any training runs.
    gradient_scale(s.fp, last, d, b, 0, e)?;
    run(p, s, &mut [], shares, words, w_honest)?;
    let k = -(b as f64) / (s.hyper.lr * e);
    for (((&pos, o), hat), oracle) in victims
        .iter()
        .zip(out.iter_mut())
        .zip(x_hat.chunks_exact_mut(d))
        .zip(x_oracle.chunks_exact_mut(d))
    {
        let mut edit = [gradient_scale(s.fp, last, d, b, pos, e)?];
        run(p, s, &mut edit, shares, words, w_attacked)?;
        let sample = (steps - 1) * b + pos;
        let x = &p.x[sample * d..][..d];
        let (mut worst, mut worst_oracle) = (0.0f64, 0.0f64);
        for j in 0..d {
            hat[j] = k * w_attacked[j];
            oracle[j] = k * (w_attacked[j] - w_honest[j]);
            worst = worst.max(libm::fabs(hat[j] - x[j]));
            worst_oracle = worst_oracle.max(libm::fabs(oracle[j] - x[j]));
        }
        let quality = match image {
            Some((h, w)) => Some(metrics::quality(&x[..h * w], &hat[..h * w], h, w)?),
            None => None,
        };
        *o = Recovered {
            sample,
            applied: edit[0].applied() == 1,
            max_abs: worst,
            cosine: cosine(hat, x),
            quality,
            oracle_max_abs: worst_oracle,
        };
    }
    Ok(())
}
