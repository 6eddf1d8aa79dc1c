//! "Localize and repair" for the deviation the search found: `mpcdiff localize` and
//! `mpcdiff repair --quick` on one deviation, with the kernel's voting, candidates and choice.
//!
//! * **Localize**: the deviation's activations in the plaintext and the MPC model (its
//!   recorded MPC seed); per activation layer the neuron errors `|plaintext − MPC|` and the
//!   artifact's votes (τ⁺ = τ⁻ = 1/3: the high set is the third of the neurons with the
//!   largest error); per nonlinear layer (batch norms included, CrypTen runs them under MPC)
//!   whether making it exact removes the deviation; and the earliest arithmetic in which the
//!   label already flips (error source).
//! * **Repair**: the kernel's candidates ([`mpcdiff_kernel::difftest::repair`], quick steps)
//!   over the session's current plan, each assessed on the deviation (all its MPC runs must
//!   give the plaintext label) and on [`CHECK_SEED`]'s first synthetic digits (MPC accuracy
//!   must not drop), one candidate per call so the worker can report progress; the kernel's
//!   rule picks the cheapest that meets the target within the budget.
//! * **Apply**: the chosen levels replace those of their layers in the session's plan; the
//!   page then replays the deviation to show it is gone, and the cost change.

use mpcdiff_kernel::approx::Level;
use mpcdiff_kernel::difftest::campaign::{evaluation_seed, Evaluation};
use mpcdiff_kernel::difftest::fitness::argmax;
use mpcdiff_kernel::difftest::localization::{
    examine, examine_floats, layer_errors, layer_errors_floats, tally_sizes, Suspect, Tally,
};
use mpcdiff_kernel::difftest::oracle::Stage;
use mpcdiff_kernel::difftest::plan::nonlinear_layers;
use mpcdiff_kernel::difftest::recorder::Recorder;
use mpcdiff_kernel::difftest::repair::{self, Assessment, Score, QUICK_STEPS};
use mpcdiff_kernel::difftest::voting::Thresholds;
use mpcdiff_kernel::nn::deploy::Deployment;
use mpcdiff_kernel::nn::spec::Shape;
use mpcdiff_kernel::{digits, Cost};

use crate::search::Found;
use crate::session::{OwnedPlan, Prediction, Session};
use serde::Serialize;

use crate::{ser, Failure};

/// The synthetic digits a repair must not cost accuracy on: seed 2024 (`mpcdiff fuzz`'s
/// default synthetic corpus), digits `0..check`.
pub const CHECK_SEED: u64 = 2024;
/// The most check digits a repair takes.
pub const CHECK_MAX: usize = 500;

/// One nonlinear layer's localization.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerVotes {
    /// Its name.
    pub name: String,
    /// Its output shape (a batch norm: its channels, as a vector).
    #[serde(serialize_with = "ser::dims")]
    pub shape: Shape,
    /// Whether it is an activation (voted on); otherwise a batch norm (attributed only).
    pub activation: bool,
    /// `|plaintext − MPC|` per neuron (for a batch norm, per channel of a `BatchNorm1d`, from
    /// the kernel's `localization::layer_errors`; empty for a `BatchNorm2d`).
    #[serde(serialize_with = "ser::f64s")]
    pub error: Vec<f64>,
    /// The high-vote set: the neurons with the largest errors.
    #[serde(serialize_with = "ser::u32s")]
    pub high: Vec<u32>,
    /// The low-vote set minus the high set: the neurons with the smallest errors.
    #[serde(serialize_with = "ser::u32s")]
    pub low: Vec<u32>,
    /// Whether making this layer exact (in the MPC model) removes the deviation.
    pub fixed_when_exact: bool,
}

/// Where the deviation comes from and which neurons carry it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Localization {
    /// Per nonlinear layer, in model order.
    pub layers: Vec<LayerVotes>,
    /// The earliest stage whose label already flips: [`Stage::Approximation`] (the
    /// algorithms alone), [`Stage::FixedPoint`] (plus encoding and truncation) or
    /// [`Stage::Shared`] (only with share randomness).
    #[serde(serialize_with = "ser::source")]
    pub source: Stage,
}

/// One assessed plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tried {
    /// What it is, in words.
    pub name: String,
    /// MPC runs of the deviation that still flip under it.
    pub flips: u32,
    /// MPC runs of the deviation.
    pub runs: u32,
    /// Check digits the MPC model classifies correctly under it.
    pub mpc_correct: usize,
    /// What one MPC inference costs under it.
    #[serde(serialize_with = "ser::cost")]
    pub cost: Cost,
    /// Whether it meets the target within the budget.
    pub meets: bool,
    /// Whether it does better on the deviation than the current plan (fewer flipping runs;
    /// the kernel's [`repair::improves`]).
    pub improves: bool,
}

impl Tried {
    fn of(name: &str, a: &Assessment) -> Self {
        Tried {
            name: name.to_string(),
            flips: a.flips,
            runs: a.runs,
            mpc_correct: a.mpc_correct,
            cost: a.cost,
            meets: false,
            improves: false,
        }
    }

    fn score(&self) -> Score {
        Score {
            fixed: usize::from(self.flips == 0),
            known: 1,
            flips: self.flips,
            mpc_correct: self.mpc_correct,
            multiplications: self.cost.multiplications(),
            rounds: self.cost.rounds,
        }
    }
}

/// The repair search after its last step.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Repair {
    /// The session's plan as it is.
    pub baseline: Tried,
    /// Candidates assessed so far, in order.
    pub tried: Vec<Tried>,
    /// Candidates in all.
    pub candidates: usize,
    /// The index in `tried` of the chosen one (when every candidate is assessed).
    pub chosen: Option<usize>,
    /// Check digits.
    pub check: usize,
    /// Check digits the plaintext model classifies correctly.
    pub plaintext_correct: usize,
    /// The multiplication budget relative to the baseline.
    #[serde(skip)]
    pub budget: f64,
}

/// The deviation replayed under the session's current plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Replay {
    /// Both models on the found input (the MPC model in the recorded session).
    pub prediction: Prediction,
    /// MPC runs (recorded seed and re-seeded ones) that still flip the label.
    pub flips: u32,
    /// MPC runs.
    pub runs: u32,
}

/// The localization of a found deviation and the repair search over it.
#[derive(Clone, Debug)]
pub struct Investigation {
    localization: Localization,
    plans: Vec<(String, OwnedPlan)>,
    check: Vec<(usize, Vec<f64>)>,
    repair: Option<Repair>,
}

fn not_started() -> Failure {
    Failure::Argument {
        name: "repair",
        expected: "a repair search (call repair_start first)",
    }
}

/// `base` with `layer`'s levels replacing (or joining) its own.
fn overlay(base: &mut OwnedPlan, layer: &str, levels: &[Level]) {
    base.layers.retain(|(n, _)| n != layer);
    base.layers.push((layer.to_string(), levels.to_vec()));
}

impl Investigation {
    /// Localizes the deviation `f` (module doc) under the session's plan.
    pub fn localize(s: &mut Session, f: &Found) -> Result<Investigation, Failure> {
        let model = s.model().clone();
        let layers: Vec<_> = nonlinear_layers(&model, Deployment::Crypten).collect();
        let mut floats = vec![0.0; examine_floats(&model)];
        let mut fixed = vec![false; layers.len()];
        let suspect = Suspect {
            input: &f.input,
            mpc_seed: f.mpc_seed,
            label: f.label,
            plaintext: &f.plaintext,
        };
        let source = s.evaluate(|ev, plan| examine(ev, plan, &suspect, &mut floats, &mut fixed))?;
        let errors = &floats[..Recorder::len(&model, 1)];
        // Every nonlinear layer's outputs (the batch norms' too), for showing their errors.
        let mut all = vec![0.0; layer_errors_floats(&model, Deployment::Crypten)];
        s.evaluate(|ev, plan| layer_errors(ev, plan, &suspect, &mut all))?;
        let mut all_offset = 0;
        let (c, e) = tally_sizes(&model, Deployment::Crypten);
        let (mut counts, mut sums) = (vec![0u32; c], vec![0.0; e]);
        let th = Thresholds::ARTIFACT;
        let mut tally = Tally::new(&model, Deployment::Crypten, th, &mut counts, &mut sums)?;
        tally.add(errors, &fixed, source)?;
        let mut out = Vec::new();
        let mut offset = 0;
        for (k, l) in layers.iter().enumerate() {
            let n = l.neurons;
            let outputs = model.shapes.get(l.index).map_or(0, |s| s.len());
            let (mut error, mut high, mut low) = (Vec::new(), Vec::new(), Vec::new());
            if l.activation {
                error = errors[offset..offset + n].to_vec();
                offset += n;
                let (h, lo) = tally.sets(k)?;
                (high, low) = (h.to_vec(), lo.to_vec());
            } else if outputs == n {
                // A BatchNorm1d: one output per channel.
                error = all[all_offset..all_offset + n].to_vec();
            }
            all_offset += outputs;
            out.push(LayerVotes {
                name: l.name.to_string(),
                shape: if l.activation {
                    model.shapes[l.index]
                } else {
                    Shape::Vector(n)
                },
                activation: l.activation,
                error,
                high,
                low,
                fixed_when_exact: fixed[k],
            });
        }
        Ok(Investigation {
            localization: Localization {
                layers: out,
                source,
            },
            plans: Vec::new(),
            check: Vec::new(),
            repair: None,
        })
    }

    /// The localization.
    pub fn localization(&self) -> &Localization {
        &self.localization
    }

    /// Starts the repair search on `check` digits with a multiplication `budget` (× the
    /// session's current plan's); returns the number of candidates. The baseline (the
    /// current plan) is assessed here; [`Investigation::step`] assesses the candidates one by
    /// one.
    pub fn start(
        &mut self,
        s: &mut Session,
        f: &Found,
        check: usize,
        budget: f64,
    ) -> Result<usize, Failure> {
        if check > CHECK_MAX {
            return Err(Failure::Argument {
                name: "check",
                expected: "at most 500 check digits",
            });
        }
        if !(budget.is_finite() && budget >= 1.0) {
            return Err(Failure::Argument {
                name: "budget",
                expected: "a finite number ≥ 1 (× the current multiplications)",
            });
        }
        let model = s.model().clone();
        let current = s.plan().clone();
        let loc = &self.localization;
        let per_layer = |k: usize| match loc.layers.get(k) {
            Some(l) => (&l.high[..], &l.low[..], usize::from(l.fixed_when_exact)),
            None => (&[][..], &[][..], 0),
        };
        let profile = s.settings().profile;
        let facts =
            repair::layer_facts(&model, Deployment::Crypten, profile, &current, &per_layer)?;
        let widest = facts.iter().map(|f| f.layer.neurons).max().unwrap_or(0);
        let mut scratch = vec![Level::new(0, 0); widest];
        let mut plans = Vec::new();
        for c in
            repair::candidates(repair::blamed(&facts), &QUICK_STEPS).filter(|c| c.applies(&facts))
        {
            let mut name = String::new();
            let _ = c.describe(&facts, &mut name);
            let mut plan = current.clone();
            c.expand(&facts, &mut scratch, &mut |layer, levels| {
                overlay(&mut plan, layer, levels)
            })?;
            plans.push((name, plan));
        }
        self.plans = plans;
        self.check = (0..check as u64)
            .map(|i| {
                let mut px = [0.0f32; digits::PIXELS];
                let label = digits::synthetic::sample(CHECK_SEED, i, &mut px)?;
                Ok((
                    usize::from(label),
                    px.iter()
                        .map(|&u| f64::from(digits::normalize(u)))
                        .collect(),
                ))
            })
            .collect::<Result<_, Failure>>()?;
        let mut plaintext_correct = 0;
        for (y, x) in &self.check {
            plaintext_correct +=
                usize::from(argmax(&s.stage(Stage::Plaintext, x, 0, None)?.0) == *y);
        }
        let baseline = self.assess(s, f, "current plan", &current)?;
        self.repair = Some(Repair {
            baseline,
            tried: Vec::new(),
            candidates: self.plans.len(),
            chosen: None,
            check,
            plaintext_correct,
            budget,
        });
        Ok(self.plans.len())
    }

    fn assess(
        &self,
        s: &mut Session,
        f: &Found,
        name: &str,
        plan: &OwnedPlan,
    ) -> Result<Tried, Failure> {
        let mpc_seed = s.settings().mpc_seed;
        let a = s.evaluate(|ev, _| {
            let mut a = Assessment::default();
            let (r, cost) = repair::assess_known(ev, plan, &f.input, f.mpc_seed, f.label, f.runs)?;
            a.add_known(r, &cost);
            for (i, (y, x)) in self.check.iter().enumerate() {
                let seed = evaluation_seed(mpc_seed, Evaluation::Seed(i as u64));
                let (pl, mp, cost) = repair::assess_check(ev, plan, x, seed)?;
                a.add_check(*y, pl, mp, &cost);
            }
            Ok::<_, Failure>(a)
        })?;
        Ok(Tried::of(name, &a))
    }

    /// Assesses the next candidate; after the last one, picks the plan to keep. Returns the
    /// search so far.
    pub fn step(&mut self, s: &mut Session, f: &Found) -> Result<Repair, Failure> {
        let k = self.repair.as_ref().ok_or_else(not_started)?.tried.len();
        if let Some((name, plan)) = self.plans.get(k).cloned() {
            let mut t = self.assess(s, f, &name, &plan)?;
            let r = self.repair.as_mut().ok_or_else(not_started)?;
            t.meets = repair::meets(&t.score(), &r.baseline.score(), r.budget);
            t.improves = repair::improves(&t.score(), &r.baseline.score());
            r.tried.push(t);
        }
        let r = self.repair.as_mut().ok_or_else(not_started)?;
        if r.tried.len() == self.plans.len() && r.chosen.is_none() {
            let scores: Vec<Score> = r.tried.iter().map(Tried::score).collect();
            r.chosen = (!scores.is_empty())
                .then(|| repair::choose(&scores, &r.baseline.score(), r.budget));
        }
        Ok(r.clone())
    }

    /// The chosen plan, once the repair search has chosen.
    pub fn chosen(&self) -> Result<&OwnedPlan, Failure> {
        self.repair
            .as_ref()
            .and_then(|r| self.plans.get(r.chosen?))
            .map(|p| &p.1)
            .ok_or(Failure::Argument {
                name: "repair",
                expected:
                    "a finished repair search (repair_start, then repair_step until it chooses)",
            })
    }
}

/// The deviation `f` under the session's current settings and plan: both models (the MPC one
/// in the recorded session, with taps) and how many of its MPC runs still flip.
pub fn replay(s: &mut Session, f: &Found) -> Result<Replay, Failure> {
    let model = s.model().clone();
    let mut taps = vec![0.0; 2 * Recorder::len(&model, 1)];
    let half = taps.len() / 2;
    let (pt, mt) = taps.split_at_mut(half);
    let tap = &mut Recorder::new(&model, 1, pt)?;
    let (plain, _) = s.stage(Stage::Plaintext, &f.input, 0, Some(tap))?;
    let mut logits = vec![0.0; model.classes];
    let mut tap = Recorder::new(&model, 1, mt)?;
    let (r, cost) = s.evaluate(|ev, plan| {
        let (x, seed) = (&f.input, f.mpc_seed);
        ev.runs(x, seed, f.label, f.runs, plan, Some(&mut tap), &mut logits)
    })?;
    Ok(Replay {
        prediction: Prediction::new(&model, plain, [pt, mt], logits, cost),
        flips: r.flips,
        runs: r.runs,
    })
}
