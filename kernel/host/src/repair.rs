//! "Localize and repair" for the deviation the search found: `mpcdiff localize` and
//! `mpcdiff repair --quick` on one deviation, all of it the kernel's.
//!
//! * **Localize**: the kernel's [`Localized`]: per nonlinear layer the neuron errors, the
//!   artifact's votes and whether making it exact removes the deviation; the error source.
//! * **Repair**: the kernel's candidates ([`repair::applicable`], quick steps) over the
//!   session's current plan, each assessed by [`repair::assess_on_digits`] (the deviation's
//!   MPC runs and the first synthetic check digits), one per call so the worker can report
//!   progress; the kernel's rule picks the cheapest that meets the target within the budget.
//! * **Apply**: the chosen levels replace those of their layers in the session's plan;
//!   [`replay`] then shows the deviation gone, and the cost change.

use mpcdiff_kernel::difftest::localization::{localized_sizes, Localized, Suspect};
use mpcdiff_kernel::difftest::oracle::Stage;
use mpcdiff_kernel::difftest::plan::nonlinear_layers;
use mpcdiff_kernel::difftest::repair::{self, Assessment, Score, QUICK_STEPS};
use mpcdiff_kernel::nn::spec::Shape;
use mpcdiff_kernel::Cost;
use serde::Serialize;

use crate::search::Found;
use crate::session::{OwnedPlan, Prediction, Session};
use crate::{plan, ser, Failure};

/// The most check digits a repair takes.
pub const CHECK_MAX: usize = 500;

/// One nonlinear layer's localization (the kernel's `Finding`, owned).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LayerVotes {
    pub name: String,
    #[serde(serialize_with = "ser::dims")]
    pub shape: Shape,
    /// Whether it is an activation (voted on); otherwise a batch norm (attributed only).
    pub activation: bool,
    #[serde(serialize_with = "ser::f64s")]
    pub error: Vec<f64>,
    #[serde(serialize_with = "ser::u32s")]
    pub high: Vec<u32>,
    #[serde(serialize_with = "ser::u32s")]
    pub low: Vec<u32>,
    pub fixed_when_exact: bool,
}

/// Where the deviation comes from and which neurons carry it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Localization {
    /// Per nonlinear layer, in model order.
    pub layers: Vec<LayerVotes>,
    /// The earliest stage whose label already flips.
    #[serde(serialize_with = "ser::source")]
    pub source: Stage,
}

/// One assessed plan.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tried {
    /// What it is, in words.
    pub name: String,
    /// MPC runs of the deviation that still flip under it, of `runs`.
    pub flips: u32,
    pub runs: u32,
    /// Check digits the MPC model classifies correctly under it.
    pub mpc_correct: usize,
    /// What one MPC inference costs under it.
    #[serde(serialize_with = "ser::cost")]
    pub cost: Cost,
    /// Whether it meets the target within the budget ([`repair::meets`]).
    pub meets: bool,
    /// Whether it does better on the deviation than the current plan ([`repair::improves`]).
    pub improves: bool,
    #[serde(skip)]
    score: Score,
}

/// The repair search after its last step.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Repair {
    /// The session's plan as it is.
    pub baseline: Tried,
    /// Candidates assessed so far, in order.
    pub tried: Vec<Tried>,
    pub candidates: usize,
    /// The index in `tried` of the chosen one (when every candidate is assessed).
    pub chosen: Option<usize>,
    /// Check digits, and how many the plaintext model classifies correctly.
    pub check: usize,
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
    /// MPC runs (recorded seed and re-seeded ones) that still flip the label, of `runs`.
    pub flips: u32,
    pub runs: u32,
}

/// The localization of a found deviation and the repair search over it.
#[derive(Clone, Debug)]
pub struct Investigation {
    localization: Localization,
    plans: Vec<(String, OwnedPlan)>,
    repair: Option<Repair>,
}

fn suspect(f: &Found) -> Suspect<'_> {
    Suspect {
        input: &f.input,
        mpc_seed: f.mpc_seed,
        label: f.label,
        plaintext: &f.plaintext,
    }
}

fn not_started() -> Failure {
    Failure::Argument {
        name: "repair",
        expected: "a repair search (call repair_start first)",
    }
}

impl Investigation {
    /// Localizes the deviation `f` under the session's plan.
    pub fn localize(s: &mut Session, f: &Found) -> Result<Investigation, Failure> {
        let (floats, counts) = localized_sizes(s.model(), s.deployment());
        let (mut floats, mut counts) = (vec![0.0; floats], vec![0u32; counts]);
        let localization = s.evaluate(|ev, plan| {
            let mut l = Localized::new(ev, plan, &suspect(f), &mut floats, &mut counts)?;
            let count = nonlinear_layers(ev.target().model, ev.target().deploy).count();
            let layers = (0..count).map(|k| {
                let v = l.layer(k)?;
                Ok(LayerVotes {
                    name: v.layer.name.into(),
                    shape: v.shape,
                    activation: v.layer.activation,
                    error: v.error.to_vec(),
                    high: v.high.to_vec(),
                    low: v.low.to_vec(),
                    fixed_when_exact: v.fixed_when_exact,
                })
            });
            let layers = layers.collect::<Result<_, Failure>>()?;
            Ok::<_, Failure>(Localization {
                layers,
                source: l.source(),
            })
        })?;
        Ok(Investigation {
            localization,
            plans: Vec::new(),
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
        let current = s.plan().clone();
        let loc = &self.localization;
        let per_layer = |k: usize| match loc.layers.get(k) {
            Some(l) => (&l.high[..], &l.low[..], usize::from(l.fixed_when_exact)),
            None => (&[][..], &[][..], 0),
        };
        let (profile, deploy) = (s.settings().profile, s.deployment());
        self.plans = plan::candidates(
            s.model(),
            deploy,
            profile,
            &current,
            &per_layer,
            &QUICK_STEPS,
        )?;
        let a = assess(s, f, &current, check)?;
        self.repair = Some(Repair {
            baseline: tried("current plan", &a),
            tried: Vec::new(),
            candidates: self.plans.len(),
            chosen: None,
            check,
            plaintext_correct: a.plaintext_correct,
            budget,
        });
        Ok(self.plans.len())
    }

    /// Assesses the next candidate; after the last one, picks the plan to keep. Returns the
    /// search so far.
    pub fn step(&mut self, s: &mut Session, f: &Found) -> Result<Repair, Failure> {
        let r = self.repair.as_mut().ok_or_else(not_started)?;
        if let Some((name, plan)) = self.plans.get(r.tried.len()) {
            let mut t = tried(name, &assess(s, f, plan, r.check)?);
            t.meets = repair::meets(&t.score, &r.baseline.score, r.budget);
            t.improves = repair::improves(&t.score, &r.baseline.score);
            r.tried.push(t);
        }
        if r.tried.len() == self.plans.len() && r.chosen.is_none() && !r.tried.is_empty() {
            let scores: Vec<Score> = r.tried.iter().map(|t| t.score).collect();
            r.chosen = Some(repair::choose(&scores, &r.baseline.score, r.budget));
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

/// `plan` assessed on `f` and `check` digits ([`repair::assess_on_digits`]).
fn assess(
    s: &mut Session,
    f: &Found,
    plan: &OwnedPlan,
    check: usize,
) -> Result<Assessment, Failure> {
    let mpc_seed = s.settings().mpc_seed;
    s.evaluate(|ev, _| repair::assess_on_digits(ev, plan, &suspect(f), f.runs, check, mpc_seed))
}

fn tried(name: &str, a: &Assessment) -> Tried {
    Tried {
        name: name.to_string(),
        flips: a.flips,
        runs: a.runs,
        mpc_correct: a.mpc_correct,
        cost: a.cost,
        meets: false,
        improves: false,
        score: a.score(),
    }
}

/// The deviation `f` under the session's current settings and plan: both models (the MPC one
/// in the recorded session, with taps) and how many of its MPC runs still flip.
pub fn replay(s: &mut Session, f: &Found) -> Result<Replay, Failure> {
    let (prediction, r) = s.predict_runs(&f.input, f.mpc_seed, f.label, f.runs)?;
    Ok(Replay {
        prediction,
        flips: r.flips,
        runs: r.runs,
    })
}
