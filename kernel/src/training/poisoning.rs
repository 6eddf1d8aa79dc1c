//! Poisoning by gradient scaling and shifting: a backdoor and a targeted misclassification, by
//! a corrupt data owner that boosts the residuals of its own examples, or a corrupt party that
//! shifts the gradients of the trigger's features.
//!
//! # Method
//! The adversary contributes some training examples (their indices, `adversary`, are its
//! own; the public batch schedule says at which step and batch position each sits in every
//! epoch). At each of those positions it adds `e = −(s − 1) · (2y − 1)` to its δ word of
//! that example's residual (P1 of the research note's §1.4, [`super::covert::gradient_scale`]),
//! `y` being the label it gave the example. The residual `r = σ(z) − y` lies in `[−1, 0]` for
//! `y = 1` and in `[0, 1]` for `y = 0`, so the example's gradient `(r + e) · x` is exactly `s`
//! times its honest value while the model gets it completely wrong (`|r| = 1`), and larger
//! than that once it does not: the example weighs at least as much as `s` copies of itself
//! would when it matters most. The adversary knows its examples and labels, never the
//! victim's data or the model; the edit is blind.
//!
//! * **Backdoor** ([`backdoor`]): the adversary's examples are inputs of the other class
//!   stamped with a trigger ([`stamp_trigger`]: a square patch of one value in the image's
//!   bottom-right corner), labelled with the target label. Metrics per run: clean accuracy on
//!   the test set and the attack success rate (ASR), the fraction of triggered test inputs of
//!   the other class that the released model labels as the target.
//!
//!   With [`Boost::Shift`] the backdoor needs no poisoned data at all: in each of the last
//!   few steps the adversary adds `round(∓shift · 2^2f)` to its word of each trigger
//!   feature's gradient in the dealer truncation's opening (P3, [`plan_shift`]), so those
//!   weights grow toward the target by `(lr / batch) · shift` per step. The edits change no
//!   other weight's update; the other weights differ from the honest run's only through
//!   training inputs that light the trigger in the shifted steps (none in the tests, where
//!   every clean logit, hence the clean accuracy, stays exactly the honest run's).
//! * **Targeted misclassification** ([`misclassify`]): the adversary's example is one chosen
//!   input with the wrong label. Metrics: the chosen input's logit margin toward its true
//!   label (`(2y_true − 1) · w · x`, negative when misclassified) and the clean accuracy.
//!
//! Both run the same training once honestly (the adversary's examples are in the data, the
//! protocol followed: plain data poisoning) and once per scale `s` (same MPC seed and data),
//! so the difference between a row and the honest row is what the covert edits add.
//!
//! Detection: none in the passive protocol (it has no check; the research note's §1.3): each
//! edit changes one uniformly masked word. This is the protocol's property, not a measured
//! rate.
//!
//! # Cost
//! `1 + scales` trainings; the edits add no rounds, triples or bytes. Shifting edits
//! `features` words per shifted step.
//!
//! # Errors
//! [`Error::OutOfRange`] for a scale below 1 or non-finite, or an edit too large for the ring
//! (`|e| · 2^f ≥ 2^60`); [`Error::BufferTooSmall`] if `edits` is shorter than
//! [`edits_needed`]; [`Error::ShapeMismatch`] for buffers of the wrong size; the harness's
//! errors ([`super::adversary::run`]).
//!
//! # Reference
//! Jagielski, Escudero, Rachuri, Scholl, arXiv 2505.17092 (gradient scaling for backdoors and
//! targeted misclassification); the experiment design is the research note's §1.6
//! (project-defined: the paper's settings were not found), and the residual boost is the
//! note's P1 derivation.

use super::adversary::{accuracy, logit, run, Setting};
use super::covert::{gradient_scale, gradient_shift};
use super::logistic::Problem;
use crate::error::{check_len, Error, Result};
use crate::wire::additive::Edit;
use crate::{Share, TruncMode};

/// Stamps the trigger into the `h × w` image at the start of `x`: the `size × size` square in
/// the bottom-right corner, `margin` pixels from both edges, set to `value`.
///
/// # Errors
/// [`Error::InvalidShape`] if the square does not fit the image or the image not `x`.
pub fn stamp_trigger(
    x: &mut [f64],
    (h, w): (usize, usize),
    size: usize,
    margin: usize,
    value: f64,
) -> Result<()> {
    let fits = size
        .checked_add(margin)
        .is_some_and(|s| s <= h && s <= w && size > 0)
        && h.checked_mul(w).is_some_and(|n| n <= x.len());
    if !fits {
        return Err(Error::InvalidShape {
            what: "the trigger does not fit the image",
        });
    }
    for r in h - margin - size..h - margin {
        for c in w - margin - size..w - margin {
            x[r * w + c] = value;
        }
    }
    Ok(())
}

/// The residual shift of scale `s` for an example labelled `y` (see the module doc).
///
/// # Errors
/// [`Error::OutOfRange`] for `s < 1` or non-finite.
pub fn residual_boost(s: f64, y: f64) -> Result<f64> {
    if !(s.is_finite() && s >= 1.0) {
        return Err(Error::OutOfRange {
            what: "a scale (at least 1)",
        });
    }
    Ok(if y > 0.5 { 1.0 - s } else { s - 1.0 })
}

/// Edits of one scaled run: one per epoch per adversary example in a full batch.
pub fn edits_needed(p: &Problem<'_>, s: &Setting<'_>, adversary: &[usize]) -> usize {
    let full = s
        .hyper
        .steps_per_epoch(p.samples)
        .saturating_mul(s.hyper.batch);
    adversary
        .iter()
        .filter(|&&i| i < full)
        .count()
        .saturating_mul(s.hyper.epochs as usize)
}

/// Plans the edits of scale `scale` for the examples `adversary` (labels from `p.y`) into
/// `out`; returns how many it wrote ([`edits_needed`]). Examples in the trailing partial batch
/// (never trained on) get none.
///
/// # Errors
/// See the module doc.
pub fn plan(
    p: &Problem<'_>,
    s: &Setting<'_>,
    adversary: &[usize],
    scale: f64,
    out: &mut [Edit],
) -> Result<usize> {
    plan_as(p, s, adversary, scale, None, out)
}

/// [`plan`], boosting every example toward `label` instead of its own label if given (the
/// membership game's adversary boosts a slot toward the label of the candidate it tests,
/// whatever the slot holds).
///
/// # Errors
/// See the module doc.
pub fn plan_as(
    p: &Problem<'_>,
    s: &Setting<'_>,
    adversary: &[usize],
    scale: f64,
    label: Option<f64>,
    out: &mut [Edit],
) -> Result<usize> {
    let n = edits_needed(p, s, adversary);
    crate::approx::need(out.len(), n)?;
    let (b, steps) = (s.hyper.batch, s.hyper.steps_per_epoch(p.samples));
    let mut k = 0;
    for epoch in 0..s.hyper.epochs as usize {
        for &i in adversary.iter().filter(|&&i| i < steps * b) {
            let y = match label {
                Some(l) => l,
                None => *p.y.get(i).ok_or(Error::OutOfRange {
                    what: "an adversary example past the data",
                })?,
            };
            let step = (epoch * steps + i / b) as u64;
            out[k] = gradient_scale(s.fp, step, p.features, b, i % b, residual_boost(scale, y)?)?;
            k += 1;
        }
    }
    Ok(k)
}

/// The test inputs of one poisoning experiment.
#[derive(Clone, Copy, Debug)]
pub struct TestSet<'t> {
    /// Clean test inputs (`samples × features`).
    pub x: &'t [f64],
    /// Their labels.
    pub y: &'t [f64],
}

/// How the adversary plants the backdoor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Boost<'a> {
    /// Gradient scaling: boost the residuals of its own (trigger-stamped, target-labelled)
    /// training examples `adversary` by the scale ([`plan`]); strength `s ≥ 1`, honest 1.
    Scale {
        /// The adversary's examples.
        adversary: &'a [usize],
    },
    /// Gradient shifting: in each of the last `steps` steps, shift the gradient of each
    /// trigger feature in `features` toward the target by the strength ([`plan_shift`],
    /// dealer truncation only); no poisoned data is needed. Strength `≥ 0`, honest 0.
    Shift {
        /// The trigger's features.
        features: &'a [usize],
        /// How many final steps are shifted.
        steps: u64,
    },
}

impl Boost<'_> {
    /// The strength of the honest run.
    pub const fn honest(&self) -> f64 {
        match self {
            Boost::Scale { .. } => 1.0,
            Boost::Shift { .. } => 0.0,
        }
    }
}

/// Edits of one run of `boost`.
pub fn boost_edits_needed(p: &Problem<'_>, s: &Setting<'_>, boost: &Boost<'_>) -> usize {
    match *boost {
        Boost::Scale { adversary } => edits_needed(p, s, adversary),
        Boost::Shift { features, steps } => {
            let total = (s.hyper.steps_per_epoch(p.samples) as u64)
                .saturating_mul(u64::from(s.hyper.epochs));
            (steps.min(total) as usize).saturating_mul(features.len())
        }
    }
}

/// Plans gradient shifting toward label `target` with strength `shift` (see [`Boost::Shift`]):
/// in each of the last `steps` steps, the gradient of each of `features` is shifted by
/// `−shift` (target 1) or `+shift` (target 0), so each of those weights moves by
/// `(lr / batch) · shift` toward the target per step (P3 of the research note's §1.4, built by
/// [`super::covert::gradient_shift`]). Returns the number of edits written.
///
/// # Errors
/// [`Error::OutOfRange`] unless the session truncates by the dealer, for a negative or
/// non-finite shift, or a feature past the last; [`Error::BufferTooSmall`] for a short `out`.
pub fn plan_shift(
    p: &Problem<'_>,
    s: &Setting<'_>,
    features: &[usize],
    steps: u64,
    target: f64,
    shift: f64,
    out: &mut [Edit],
) -> Result<usize> {
    if s.mode != TruncMode::Dealer {
        return Err(Error::OutOfRange {
            what: "gradient shifting needs dealer truncation",
        });
    }
    if !(shift.is_finite() && shift >= 0.0) {
        return Err(Error::OutOfRange {
            what: "a gradient shift (at least 0)",
        });
    }
    if features.iter().any(|&j| j >= p.features) {
        return Err(Error::OutOfRange {
            what: "a shifted feature past the last feature",
        });
    }
    let n = boost_edits_needed(p, s, &Boost::Shift { features, steps });
    crate::approx::need(out.len(), n)?;
    let total =
        (s.hyper.steps_per_epoch(p.samples) as u64).saturating_mul(u64::from(s.hyper.epochs));
    let signed = if target > 0.5 { -shift } else { shift };
    let mut k = 0;
    for step in total - steps.min(total)..total {
        for &j in features {
            out[k] = gradient_shift(s.fp, step, j, signed)?;
            k += 1;
        }
    }
    Ok(k)
}

/// One run of [`backdoor`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BackdoorRow {
    /// The strength ([`Boost::honest`] for the honest run).
    pub strength: f64,
    /// Clean test accuracy.
    pub clean_accuracy: f64,
    /// Fraction of the triggered inputs labelled as the target.
    pub attack_success: f64,
    /// Edits that reached their word (0 in the honest run).
    pub edits_applied: usize,
}

fn applied(edits: &[Edit]) -> usize {
    edits.iter().filter(|e| e.applied() == 1).count()
}

fn check_scales(scales: &[f64], rows: usize) -> Result<()> {
    check_len(scales.len().saturating_add(1), rows)?;
    for &s in scales {
        residual_boost(s, 0.0)?;
    }
    Ok(())
}

/// The backdoor experiment (see the module doc): the honest run, then one run per strength
/// of `strengths` with `boost`; `triggered` holds the stamped test inputs of the non-target
/// class, `target` the target label. Writes `1 + strengths` rows to `out` (the honest one
/// first). `w` (`features`) and `edits` ([`boost_edits_needed`]) are scratch.
///
/// # Errors
/// See the module doc and [`plan_shift`].
#[allow(clippy::too_many_arguments)]
pub fn backdoor(
    p: &Problem<'_>,
    s: &Setting<'_>,
    boost: &Boost<'_>,
    strengths: &[f64],
    test: &TestSet<'_>,
    triggered: &[f64],
    target: f64,
    shares: &mut [Share],
    words: &mut [i64],
    edits: &mut [Edit],
    w: &mut [f64],
    out: &mut [BackdoorRow],
) -> Result<()> {
    check_len(strengths.len().saturating_add(1), out.len())?;
    let features = w.len();
    let n_trig = triggered.len().checked_div(features).unwrap_or(0);
    check_len(n_trig.saturating_mul(features), triggered.len())?;
    if n_trig == 0 {
        return Err(Error::InvalidShape {
            what: "no triggered test inputs",
        });
    }
    let plan_one = |edits: &mut [Edit], strength: f64| -> Result<usize> {
        match *boost {
            Boost::Scale { adversary } => plan(p, s, adversary, strength, edits),
            Boost::Shift { features, steps } => {
                plan_shift(p, s, features, steps, target, strength, edits)
            }
        }
    };
    // Every strength is checked before any training runs.
    for &st in strengths {
        let n = plan_one(edits, st)?;
        debug_assert!(n <= edits.len());
    }
    let eval = |w: &[f64], strength: f64, applied: usize| -> Result<BackdoorRow> {
        let hits = triggered
            .chunks_exact(features)
            .filter(|row| (logit(w, row) > 0.0) == (target > 0.5))
            .count();
        Ok(BackdoorRow {
            strength,
            clean_accuracy: accuracy(w, test.x, test.y)?,
            attack_success: hits as f64 / n_trig as f64,
            edits_applied: applied,
        })
    };
    run(p, s, &mut [], shares, words, w)?;
    out[0] = eval(w, boost.honest(), 0)?;
    for (o, &strength) in out[1..].iter_mut().zip(strengths) {
        let n = plan_one(edits, strength)?;
        run(p, s, &mut edits[..n], shares, words, w)?;
        *o = eval(w, strength, applied(&edits[..n]))?;
    }
    Ok(())
}

/// One run of [`misclassify`].
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TargetRow {
    /// The scale (1: the honest run).
    pub scale: f64,
    /// The chosen input's logit margin toward its true label (negative: misclassified).
    pub margin: f64,
    /// Whether the model labels it with its true label.
    pub correct: bool,
    /// Clean test accuracy.
    pub clean_accuracy: f64,
    /// Edits that reached their word.
    pub edits_applied: usize,
}

/// The targeted misclassification (see the module doc): the chosen input is the adversary's
/// training example `chosen` (of `p`, which carries the wrong label), `true_label` its true
/// one. Writes `1 + scales` rows to `out`, the honest one first.
///
/// # Errors
/// See the module doc; [`Error::OutOfRange`] if `chosen` is past the data.
#[allow(clippy::too_many_arguments)]
pub fn misclassify(
    p: &Problem<'_>,
    s: &Setting<'_>,
    chosen: usize,
    true_label: f64,
    scales: &[f64],
    test: &TestSet<'_>,
    shares: &mut [Share],
    words: &mut [i64],
    edits: &mut [Edit],
    w: &mut [f64],
    out: &mut [TargetRow],
) -> Result<()> {
    check_scales(scales, out.len())?;
    let d = p.features;
    let x = chosen
        .checked_mul(d)
        .and_then(|o| p.x.get(o..o.checked_add(d)?))
        .ok_or(Error::OutOfRange {
            what: "the chosen example is past the data",
        })?;
    let sign = if true_label > 0.5 { 1.0 } else { -1.0 };
    let eval = |w: &[f64], scale: f64, applied: usize| -> Result<TargetRow> {
        let margin = sign * logit(w, x);
        Ok(TargetRow {
            scale,
            margin,
            correct: margin > 0.0,
            clean_accuracy: accuracy(w, test.x, test.y)?,
            edits_applied: applied,
        })
    };
    run(p, s, &mut [], shares, words, w)?;
    out[0] = eval(w, 1.0, 0)?;
    let adversary = [chosen];
    for (o, &scale) in out[1..].iter_mut().zip(scales) {
        let n = plan(p, s, &adversary, scale, edits)?;
        run(p, s, &mut edits[..n], shares, words, w)?;
        *o = eval(w, scale, applied(&edits[..n]))?;
    }
    Ok(())
}
