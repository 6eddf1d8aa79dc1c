//! Repair: per-neuron approximation levels that remove the known deviations without costing
//! accuracy, found by search under a cost budget.
//!
//! The candidates and the rule that picks one are the kernel's
//! ([`mpcdiff_kernel::difftest::repair`], shared with the browser); here they are assessed on
//! a campaign's known deviations (replayed with their recorded MPC seeds) and the first
//! inputs of its corpus source, in parallel.

use mpcdiff_kernel::difftest::campaign::{evaluation_seed, Evaluation as Eval};
use mpcdiff_kernel::difftest::plan::nonlinear_layers;
use mpcdiff_kernel::difftest::repair::{self, Score};
use serde::{Deserialize, Serialize};

use super::corpus::Corpus;
use super::fuzzing::Deviation;
use super::localization::Localization;
use super::pool::Pool;
use super::target::Setup;
use mpcdiff_host::plan::{self, OwnedPlan};

/// The cost of one MPC inference.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CostPer {
    /// Multiplications (element triples, square pairs, matrix triple elements, AND words).
    pub multiplications: u64,
    /// Communication rounds.
    pub rounds: u64,
    /// Bytes sent per party.
    pub bytes: u64,
}

/// How a plan does.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// Known deviations whose MPC label now equals the plaintext label.
    pub known_fixed: usize,
    /// Known deviations.
    pub known: usize,
    /// MPC runs of the known deviations that still flip (absent in older result files).
    #[serde(default)]
    pub flips: u32,
    /// MPC runs of the known deviations.
    #[serde(default)]
    pub runs: u32,
    /// Check inputs the MPC model classifies correctly.
    pub mpc_correct: usize,
    /// Check inputs the plaintext model classifies correctly.
    pub plaintext_correct: usize,
    /// Check inputs.
    pub check: usize,
    /// Check inputs that deviate (MPC label ≠ correct plaintext label).
    pub check_deviations: usize,
    /// Cost per inference.
    pub cost: CostPer,
    /// Local-truncation wrap events over the check set (overflow of the ring).
    pub wrap_events: u64,
}

impl Assessment {
    /// The kernel's assessment as written to result files.
    pub fn of(a: &repair::Assessment) -> Self {
        Assessment {
            known_fixed: a.known_fixed,
            known: a.known,
            flips: a.flips,
            runs: a.runs,
            mpc_correct: a.mpc_correct,
            plaintext_correct: a.plaintext_correct,
            check: a.check,
            check_deviations: a.check_deviations,
            cost: CostPer {
                multiplications: a.cost.multiplications(),
                rounds: a.cost.rounds,
                bytes: a.cost.bytes_sent[0],
            },
            wrap_events: a.wrap_events,
        }
    }

    /// MPC accuracy on the check set.
    pub fn mpc_accuracy(&self) -> f64 {
        self.mpc_correct as f64 / self.check.max(1) as f64
    }

    /// What the kernel's choice looks at.
    pub fn score(&self) -> Score {
        Score {
            fixed: self.known_fixed,
            known: self.known,
            flips: self.flips,
            mpc_correct: self.mpc_correct,
            multiplications: self.cost.multiplications,
            rounds: self.cost.rounds,
        }
    }
}

/// Assesses `plan` on `known` deviations (their recorded MPC session) and the first `check`
/// inputs of `corpus`, with the kernel's [`repair::assess_known`] and
/// [`repair::assess_check`] on the pool, added up in order.
pub fn assess(
    plan: &OwnedPlan,
    known: &[Deviation],
    corpus: &Corpus,
    mpc_seed: u64,
    pool: &Pool<'_>,
) -> anyhow::Result<Assessment> {
    let fixed = pool.map(known, |ws, d| {
        ws.with(|ev| repair::assess_known(ev, plan, &d.input, d.mpc_seed, usize::from(d.label), 1))
    })?;
    let idx: Vec<usize> = (0..corpus.len()).collect();
    let checks = pool.map(&idx, |ws, &i| {
        let seed = evaluation_seed(mpc_seed, Eval::Seed(i as u64));
        ws.with(|ev| repair::assess_check(ev, plan, corpus.input(i), seed))
    })?;
    let mut a = repair::Assessment::default();
    for (r, cost) in &fixed {
        a.add_known(*r, cost);
    }
    for (i, (pl, mp, cost)) in checks.iter().enumerate() {
        a.add_check(usize::from(corpus.labels[i]), *pl, *mp, cost);
    }
    Ok(Assessment::of(&a))
}

pub use mpcdiff_kernel::difftest::repair::{QUICK_STEPS, STEPS};

/// A candidate plan.
#[derive(Clone, Debug)]
pub struct NamedPlan {
    /// What it is, in words.
    pub name: String,
    /// The plan.
    pub plan: OwnedPlan,
}

/// The candidates for `setup` from a localization: the kernel's list
/// ([`mpcdiff_kernel::difftest::repair::candidates`]) over the default plan, expanded into
/// named plans.
pub fn candidates(
    setup: &Setup,
    loc: &Localization,
    steps: &[(u8, u8)],
) -> anyhow::Result<Vec<NamedPlan>> {
    let model = &setup.model;
    let report = |name: &str| loc.layers.iter().find(|l| l.name == name);
    let layers: Vec<_> = nonlinear_layers(model, setup.deploy).collect();
    let per_layer = |k: usize| match layers.get(k).and_then(|l| report(l.name)) {
        Some(r) => (&r.high_set[..], &r.low_set[..], r.fixed_when_exact),
        None => (&[][..], &[][..], 0),
    };
    let base = OwnedPlan::default();
    let plans = plan::candidates(model, setup.deploy, setup.profile, &base, &per_layer, steps)?;
    Ok(plans
        .into_iter()
        .map(|(name, plan)| NamedPlan { name, plan })
        .collect())
}

/// One evaluated candidate.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Tried {
    /// The candidate's name.
    pub name: String,
    /// How it did.
    pub assessment: Assessment,
    /// Whether it met the target within the budget.
    pub meets_target: bool,
}

/// The search's result.
pub struct Choice {
    /// The default plan's assessment.
    pub baseline: Assessment,
    /// Every candidate, in the order tried.
    pub tried: Vec<Tried>,
    /// The index of the chosen candidate in `tried`.
    pub chosen: usize,
    /// The chosen plan.
    pub plan: OwnedPlan,
}

/// Assesses every candidate and picks one (module doc).
#[allow(clippy::too_many_arguments)]
pub fn search(
    candidates: Vec<NamedPlan>,
    known: &[Deviation],
    corpus: &Corpus,
    mpc_seed: u64,
    budget: f64,
    pool: &Pool<'_>,
    mut progress: impl FnMut(usize, usize),
) -> anyhow::Result<Choice> {
    let baseline = assess(&OwnedPlan::default(), known, corpus, mpc_seed, pool)?;
    let mut tried = Vec::new();
    let total = candidates.len();
    for (k, c) in candidates.iter().enumerate() {
        progress(k, total);
        let a = assess(&c.plan, known, corpus, mpc_seed, pool)?;
        tried.push(Tried {
            name: c.name.clone(),
            meets_target: repair::meets(&a.score(), &baseline.score(), budget),
            assessment: a,
        });
    }
    progress(total, total);
    let scores: Vec<Score> = tried.iter().map(|t| t.assessment.score()).collect();
    let chosen = repair::choose(&scores, &baseline.score(), budget);
    let plan = candidates
        .into_iter()
        .nth(chosen)
        .map(|c| c.plan)
        .unwrap_or_default();
    Ok(Choice {
        baseline,
        tried,
        chosen,
        plan,
    })
}
