//! Localization: which neurons and layers deviations come from, and the arithmetic that
//! starts them. One driver for `mpcdiff localize` (a campaign's deviations, in parallel) and
//! the page's "Localize" (one deviation).
//!
//! Three views, all computed from re-verified deviations:
//! * **votes** (the artifact's, all activation layers in one pass): per deviation, the τ⁺
//!   share of a layer's neurons with the largest |plaintext − MPC| output error get a high
//!   vote, the τ⁻ share with the smallest a low vote ([`voting`]); plus the signed score
//!   high − low and the mean error per neuron;
//! * **per-layer attribution**: each nonlinear layer in turn made exact ([`Exact`]) in the MPC
//!   model: how many deviations disappear;
//! * **error sources**: the earliest arithmetic in which each deviation's label already flips:
//!   float with the approximations (approximation error), plaintext fixed point (plus encoding
//!   and truncation), or only shared (share randomness).
//!
//! [`examine`] computes one deviation's facts with an [`Evaluator`] (independent of every
//! other deviation, so a caller may examine them on any thread); a [`Tally`] adds them up in
//! deviation order, over caller-provided counters.

use super::evaluator::Evaluator;
use super::fitness::{argmax, is_deviation};
use super::oracle::Stage;
use super::plan::{nonlinear_layers, Exact, Nonlinear};
use super::recorder::{LayerRecorder, Recorder};
use super::voting::{self, Thresholds};
use crate::error::{check_len, Error, Result};
use crate::nn::deploy::Deployment;
use crate::nn::forward::Plan;
use crate::nn::model::Model;
use crate::nn::spec::Shape;

/// A deviation to localize.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Suspect<'a> {
    /// The deviating input.
    pub input: &'a [f64],
    /// The MPC session that deviated.
    pub mpc_seed: u64,
    /// The label the plaintext model gives (and the MPC model does not).
    pub label: usize,
    /// The plaintext logits.
    pub plaintext: &'a [f64],
}

/// Error sources over deviations: the earliest stage whose label already flips.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sources {
    /// Already flipped in float with the approximations.
    pub approximation: usize,
    /// Flipped first in plaintext fixed point.
    pub fixed_point: usize,
    /// Flipped only with shares.
    pub share_randomness: usize,
}

/// Scratch `f64`s of [`examine`]: two activation records.
pub fn examine_floats(model: &Model<'_>) -> usize {
    Recorder::len(model, 1).saturating_mul(2)
}

/// One deviation's facts: into `floats[..Recorder::len]` the |plaintext − MPC| error of every
/// activation neuron (layer after layer, spec order); into `fixed[k]` whether making nonlinear
/// layer `k` exact removes the deviation; returns its error source
/// ([`Stage::Approximation`], [`Stage::FixedPoint`] or [`Stage::Shared`]). The MPC model runs
/// with `plan`.
///
/// # Errors
/// The evaluation's; [`Error::BufferTooSmall`] for short buffers.
pub fn examine(
    ev: &mut Evaluator<'_, '_>,
    plan: &dyn Plan,
    d: &Suspect<'_>,
    floats: &mut [f64],
    fixed: &mut [bool],
) -> Result<Stage> {
    let t = *ev.target();
    let model = t.model;
    let len = Recorder::len(model, 1);
    let layers = nonlinear_layers(model, t.deploy).count();
    if floats.len() < len.saturating_mul(2) || fixed.len() < layers {
        return Err(Error::BufferTooSmall {
            needed: len.saturating_mul(2),
            got: floats.len(),
        });
    }
    let (p, rest) = floats.split_at_mut(len);
    let m = &mut rest[..len];
    let classes = model.classes;
    let mut logits = [0.0f64; super::evaluator::CLASSES_MAX];
    let logits = logits.get_mut(..classes).ok_or(Error::OutOfRange {
        what: "more classes than localization's logit buffer",
    })?;
    ev.plaintext(d.input, 1, Some(&mut Recorder::new(model, 1, p)?), logits)?;
    ev.mpc(
        d.input,
        d.mpc_seed,
        plan,
        Some(&mut Recorder::new(model, 1, m)?),
        logits,
    )?;
    for (a, b) in p.iter_mut().zip(m.iter()) {
        *a = libm::fabs(*a - *b);
    }
    for (k, l) in nonlinear_layers(model, t.deploy).enumerate() {
        let exact = Exact {
            plan,
            layer: l.name,
        };
        ev.mpc(d.input, d.mpc_seed, &exact, None, logits)?;
        fixed[k] = !is_deviation(d.plaintext, logits, d.label);
    }
    source(ev, plan, d)
}

/// Scratch `f64`s of [`layer_errors`] under `deploy`: two [`LayerRecorder`] records.
pub fn layer_errors_floats(model: &Model<'_>, deploy: Deployment) -> usize {
    LayerRecorder::len(model, deploy, 1).saturating_mul(2)
}

/// One deviation's |plaintext − MPC| error at every output of every layer the target's
/// deployment runs under MPC as a nonlinear one (activations, and the batch norms it does not
/// fuse away), layer after layer in spec order, into `floats[..LayerRecorder::len]` (the rest
/// of [`layer_errors_floats`] is scratch). The MPC model runs in the deviation's session with
/// `plan`. Where [`examine`] records activations only (what the votes are taken on), this
/// shows a batch norm's error too.
///
/// # Errors
/// The evaluation's; [`Error::BufferTooSmall`] for a short buffer.
pub fn layer_errors(
    ev: &mut Evaluator<'_, '_>,
    plan: &dyn Plan,
    d: &Suspect<'_>,
    floats: &mut [f64],
) -> Result<()> {
    let t = *ev.target();
    let model = t.model;
    let len = LayerRecorder::len(model, t.deploy, 1);
    if floats.len() < len.saturating_mul(2) {
        return Err(Error::BufferTooSmall {
            needed: len.saturating_mul(2),
            got: floats.len(),
        });
    }
    let (p, rest) = floats.split_at_mut(len);
    let m = &mut rest[..len];
    let mut logits = [0.0f64; super::evaluator::CLASSES_MAX];
    let logits = logits.get_mut(..model.classes).ok_or(Error::OutOfRange {
        what: "more classes than localization's logit buffer",
    })?;
    let deploy = t.deploy;
    ev.plaintext(
        d.input,
        1,
        Some(&mut LayerRecorder::new(model, deploy, 1, p)?),
        logits,
    )?;
    ev.mpc(
        d.input,
        d.mpc_seed,
        plan,
        Some(&mut LayerRecorder::new(model, deploy, 1, m)?),
        logits,
    )?;
    for (a, b) in p.iter_mut().zip(m.iter()) {
        *a = libm::fabs(*a - *b);
    }
    Ok(())
}

/// One deviation's error source: the earliest arithmetic whose label already flips
/// ([`Stage::Approximation`], [`Stage::FixedPoint`], else [`Stage::Shared`]), the MPC model
/// with `plan`.
///
/// # Errors
/// The evaluation's.
pub fn source(ev: &mut Evaluator<'_, '_>, plan: &dyn Plan, d: &Suspect<'_>) -> Result<Stage> {
    let mut logits = [0.0f64; super::evaluator::CLASSES_MAX];
    let logits = logits.get_mut(..ev.classes()).ok_or(Error::OutOfRange {
        what: "more classes than localization's logit buffer",
    })?;
    ev.stage(
        Stage::Approximation,
        d.input,
        d.mpc_seed,
        plan,
        None,
        logits,
    )?;
    if argmax(logits) != d.label {
        return Ok(Stage::Approximation);
    }
    ev.stage(Stage::FixedPoint, d.input, d.mpc_seed, plan, None, logits)?;
    Ok(if argmax(logits) != d.label {
        Stage::FixedPoint
    } else {
        Stage::Shared
    })
}

/// The sizes of a [`Tally`]'s memory for `model` deployed as `deploy`: `(u32s, f64s)`.
pub fn tally_sizes(model: &Model<'_>, deploy: Deployment) -> (usize, usize) {
    let (mut total, mut widest) = (0, 0);
    for l in nonlinear_layers(model, deploy) {
        total = l.neurons.saturating_add(total);
        widest = widest.max(l.neurons);
    }
    (total.saturating_add(widest).saturating_mul(2), total)
}

/// Votes, errors, attribution and sources added up over deviations (module doc).
pub struct Tally<'m, 'b> {
    model: &'m Model<'m>,
    deploy: Deployment,
    th: Thresholds,
    high: &'b mut [u32],
    low: &'b mut [u32],
    order: &'b mut [u32],
    low_order: &'b mut [u32],
    errors: &'b mut [f64],
    fixed: [usize; crate::nn::spec::LAYERS_MAX],
    sources: Sources,
    deviations: usize,
}

impl<'m, 'b> Tally<'m, 'b> {
    /// An empty tally over `counts` and `errors` of [`tally_sizes`] (zeroed here).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`]; [`Error::OutOfRange`] for thresholds outside [0, 1].
    pub fn new(
        model: &'m Model<'m>,
        deploy: Deployment,
        th: Thresholds,
        counts: &'b mut [u32],
        errors: &'b mut [f64],
    ) -> Result<Self> {
        let (c, f) = tally_sizes(model, deploy);
        if counts.len() < c || errors.len() < f {
            return Err(Error::BufferTooSmall {
                needed: c,
                got: counts.len(),
            });
        }
        // Rejects bad thresholds now rather than at the first vote.
        voting::vote(&[], th, &mut [], &mut [], &mut [])?;
        let total = f;
        let widest = (c - 2 * total) / 2;
        let (high, rest) = counts.split_at_mut(total);
        let (low, rest) = rest.split_at_mut(total);
        let (order, rest) = rest.split_at_mut(widest);
        let low_order = &mut rest[..widest];
        high.fill(0);
        low.fill(0);
        let errors = &mut errors[..total];
        errors.fill(0.0);
        Ok(Tally {
            model,
            deploy,
            th,
            high,
            low,
            order,
            low_order,
            errors,
            fixed: [0; crate::nn::spec::LAYERS_MAX],
            sources: Sources::default(),
            deviations: 0,
        })
    }

    /// The nonlinear layers, in model order.
    pub fn layers(&self) -> impl Iterator<Item = Nonlinear<'m>> + 'm {
        nonlinear_layers(self.model, self.deploy)
    }

    /// Adds one deviation's facts from [`examine`]: its activation `errors`, `fixed` per
    /// nonlinear layer, its `source`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for facts of another model.
    pub fn add(&mut self, errors: &[f64], fixed: &[bool], source: Stage) -> Result<()> {
        check_len(Recorder::len(self.model, 1), errors.len())?;
        check_len(self.layers().count(), fixed.len())?;
        let (mut at, mut tapped) = (0, 0);
        for (k, l) in nonlinear_layers(self.model, self.deploy).enumerate() {
            let n = l.neurons;
            if l.activation {
                let e = &errors[tapped..tapped + n];
                voting::vote(
                    e,
                    self.th,
                    &mut self.order[..n],
                    &mut self.high[at..at + n],
                    &mut self.low[at..at + n],
                )?;
                for (s, &v) in self.errors[at..at + n].iter_mut().zip(e) {
                    *s += v;
                }
                tapped += n;
            }
            self.fixed[k] += usize::from(fixed[k]);
            at += n;
        }
        match source {
            Stage::Approximation | Stage::Plaintext => self.sources.approximation += 1,
            Stage::FixedPoint => self.sources.fixed_point += 1,
            Stage::Shared => self.sources.share_randomness += 1,
        }
        self.deviations += 1;
        Ok(())
    }

    /// Deviations added.
    pub fn deviations(&self) -> usize {
        self.deviations
    }

    /// The thresholds.
    pub fn thresholds(&self) -> Thresholds {
        self.th
    }

    /// Error sources.
    pub fn sources(&self) -> Sources {
        self.sources
    }

    fn span(&self, k: usize) -> Result<(Nonlinear<'m>, usize)> {
        let mut at = 0;
        for (i, l) in self.layers().enumerate() {
            if i == k {
                return Ok((l, at));
            }
            at += l.neurons;
        }
        Err(Error::OutOfRange {
            what: "nonlinear layer index",
        })
    }

    /// Layer `k`'s high and low votes per neuron, and how many deviations disappear when it
    /// alone is exact.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for a layer index past the last.
    pub fn votes(&self, k: usize) -> Result<(&[u32], &[u32], usize)> {
        let (l, at) = self.span(k)?;
        let n = l.neurons;
        Ok((&self.high[at..at + n], &self.low[at..at + n], self.fixed[k]))
    }

    /// Layer `k`'s mean error of neuron `j` over the deviations (0 for a batch norm, or
    /// before any deviation).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for a layer index past the last.
    pub fn mean_errors(&self, k: usize, out: &mut [f64]) -> Result<()> {
        let (l, at) = self.span(k)?;
        check_len(l.neurons, out.len())?;
        out.copy_from_slice(&self.errors[at..at + l.neurons]);
        if self.deviations > 0 {
            for m in out {
                *m /= self.deviations as f64;
            }
        }
        Ok(())
    }

    /// Layer `k`'s high set (the ⌊n·τ⁺⌋ neurons with most high votes) and low set (the
    /// ⌊n·τ⁻⌋ with most low votes, minus the high set): [`voting::sets`].
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for a layer index past the last.
    pub fn sets(&mut self, k: usize) -> Result<(&[u32], &[u32])> {
        let (l, at) = self.span(k)?;
        let n = l.neurons;
        voting::sets(
            &self.high[at..at + n],
            &self.low[at..at + n],
            self.th,
            &mut self.order[..n],
            &mut self.low_order[..n],
        )
    }

    /// Layer `k`'s neurons by signed score, highest first: [`voting::rank_signed`].
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for a layer index past the last.
    pub fn ranked(&mut self, k: usize) -> Result<&[u32]> {
        let (l, at) = self.span(k)?;
        let n = l.neurons;
        voting::rank_signed(
            &self.high[at..at + n],
            &self.low[at..at + n],
            &mut self.order[..n],
        )?;
        Ok(&self.order[..n])
    }
}

/// Sizes of a [`Localized`]'s memory for `model` deployed as `deploy`: `(f64s, u32s)`.
pub fn localized_sizes(model: &Model<'_>, deploy: Deployment) -> (usize, usize) {
    let (counts, sums) = tally_sizes(model, deploy);
    let floats = examine_floats(model)
        .saturating_add(layer_errors_floats(model, deploy))
        .saturating_add(sums);
    (floats, counts)
}

/// One deviation localized, over caller memory: its facts ([`examine`]), every nonlinear
/// layer's output errors ([`layer_errors`]) and the artifact's votes
/// ([`Thresholds::ARTIFACT`]) of a one-deviation [`Tally`]. The page's "Localize", read layer
/// by layer with [`Localized::layer`].
pub struct Localized<'m, 'b> {
    source: Stage,
    fixed: [bool; crate::nn::spec::LAYERS_MAX],
    /// Activation errors ([`Recorder::len`]).
    errors: &'b [f64],
    /// Every nonlinear layer's output errors ([`LayerRecorder::len`]).
    outputs: &'b [f64],
    tally: Tally<'m, 'b>,
}

/// One nonlinear layer of a [`Localized`] deviation.
#[derive(Clone, Copy, Debug)]
pub struct Finding<'a> {
    /// The layer.
    pub layer: Nonlinear<'a>,
    /// Its output shape (a batch norm: its channels, as a vector).
    pub shape: Shape,
    /// `|plaintext − MPC|` per neuron: an activation's outputs, a `BatchNorm1d`'s channels;
    /// empty for a `BatchNorm2d` (its outputs are not one per channel).
    pub error: &'a [f64],
    /// The high-vote set (activations only).
    pub high: &'a [u32],
    /// The low-vote set minus the high set (activations only).
    pub low: &'a [u32],
    /// Whether making this layer exact in the MPC model removes the deviation.
    pub fixed_when_exact: bool,
}

impl<'m, 'b> Localized<'m, 'b> {
    /// Localizes `d` with `ev`'s models, the MPC one with `plan`, over `floats` and `counts`
    /// of [`localized_sizes`].
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`]; the evaluation's.
    pub fn new(
        ev: &mut Evaluator<'m, '_>,
        plan: &dyn Plan,
        d: &Suspect<'_>,
        floats: &'b mut [f64],
        counts: &'b mut [u32],
    ) -> Result<Self> {
        let t = *ev.target();
        let (model, deploy) = (t.model, t.deploy);
        let (need, _) = localized_sizes(model, deploy);
        if floats.len() < need {
            return Err(Error::BufferTooSmall {
                needed: need,
                got: floats.len(),
            });
        }
        let (examined, rest) = floats.split_at_mut(examine_floats(model));
        let (outputs, sums) = rest.split_at_mut(layer_errors_floats(model, deploy));
        let layers = nonlinear_layers(model, deploy).count();
        let mut fixed = [false; crate::nn::spec::LAYERS_MAX];
        let fixed_k = fixed.get_mut(..layers).ok_or(Error::OutOfRange {
            what: "more nonlinear layers than a localization handles",
        })?;
        let source = examine(ev, plan, d, examined, fixed_k)?;
        layer_errors(ev, plan, d, outputs)?;
        let errors: &'b [f64] = &examined[..Recorder::len(model, 1)];
        let mut tally = Tally::new(model, deploy, Thresholds::ARTIFACT, counts, sums)?;
        tally.add(errors, &fixed[..layers], source)?;
        Ok(Localized {
            source,
            fixed,
            errors,
            outputs,
            tally,
        })
    }

    /// The earliest stage whose label already flips ([`examine`]).
    pub fn source(&self) -> Stage {
        self.source
    }

    /// Nonlinear layer `k` (model order).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for a layer index past the last.
    pub fn layer(&mut self, k: usize) -> Result<Finding<'_>> {
        let model = self.tally.model;
        let (mut act, mut out) = (0usize, 0usize);
        for (i, l) in self.tally.layers().enumerate() {
            let n = l.neurons;
            let outputs = model.shapes.get(l.index).map_or(0, |s| s.len());
            if i < k {
                act = act.saturating_add(if l.activation { n } else { 0 });
                out = out.saturating_add(outputs);
                continue;
            }
            let none: (&[u32], &[u32]) = (&[], &[]);
            let (error, shape, (high, low)) = if l.activation {
                let shape = model.shapes.get(l.index).copied();
                let error = self.errors.get(act..act.saturating_add(n)).unwrap_or(&[]);
                (
                    error,
                    shape.unwrap_or(Shape::Vector(n)),
                    self.tally.sets(k)?,
                )
            } else if outputs == n {
                // A BatchNorm1d: one output per channel.
                let error = self.outputs.get(out..out.saturating_add(n)).unwrap_or(&[]);
                (error, Shape::Vector(n), none)
            } else {
                (&[][..], Shape::Vector(n), none)
            };
            let fixed_when_exact = self.fixed.get(k).copied().unwrap_or(false);
            return Ok(Finding {
                layer: l,
                shape,
                error,
                high,
                low,
                fixed_when_exact,
            });
        }
        Err(Error::OutOfRange {
            what: "nonlinear layer index",
        })
    }
}
