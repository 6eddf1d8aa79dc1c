//! Repair: per-neuron approximation levels that remove the known deviations without costing
//! accuracy, found by search under a cost budget.
//!
//! The candidates and the rule that picks one are the kernel's
//! ([`mpcdiff_kernel::difftest::repair`], shared with the browser); here they are assessed on
//! a campaign's known deviations (replayed with their recorded MPC seeds) and the first
//! inputs of its corpus source, in parallel.

use mpcdiff_kernel::approx::Level;
use mpcdiff_kernel::difftest::campaign::{evaluation_seed, Evaluation as Eval};
use mpcdiff_kernel::difftest::fitness::argmax;
use mpcdiff_kernel::difftest::plan::nonlinear_layers;
use mpcdiff_kernel::difftest::repair::{self, LayerFacts, Score};
use mpcdiff_kernel::nn::forward::default_level;
use serde::{Deserialize, Serialize};

use super::corpus::Corpus;
use super::fuzzing::Deviation;
use super::localization::Localization;
use super::plan::RepairPlan;
use super::pool::Pool;
use super::target::Setup;

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
    /// MPC accuracy on the check set.
    pub fn mpc_accuracy(&self) -> f64 {
        self.mpc_correct as f64 / self.check.max(1) as f64
    }

    /// What the kernel's choice looks at.
    pub fn score(&self) -> Score {
        Score {
            fixed: self.known_fixed,
            known: self.known,
            mpc_correct: self.mpc_correct,
            multiplications: self.cost.multiplications,
            rounds: self.cost.rounds,
        }
    }
}

/// Assesses `plan` on `known` deviations and the first `check` inputs of `corpus`.
pub fn assess(
    plan: &RepairPlan,
    known: &[Deviation],
    corpus: &Corpus,
    mpc_seed: u64,
    pool: &Pool<'_>,
) -> anyhow::Result<Assessment> {
    let fixed = pool.map(known, |ws, d| {
        let (mp, _) = plan.with(None, |p| ws.mpc(&d.input, d.mpc_seed, p, None))?;
        Ok(argmax(&mp) == d.plaintext_label)
    })?;
    let idx: Vec<usize> = (0..corpus.len()).collect();
    let checks = pool.map(&idx, |ws, &i| {
        let x = corpus.input(i);
        let pl = ws.plaintext(x, None)?;
        let seed = evaluation_seed(mpc_seed, Eval::Seed(i as u64));
        let (mp, cost) = plan.with(None, |p| ws.mpc(x, seed, p, None))?;
        Ok((argmax(&pl), argmax(&mp), cost))
    })?;
    let mut a = Assessment {
        known_fixed: fixed.iter().filter(|&&f| f).count(),
        known: known.len(),
        mpc_correct: 0,
        plaintext_correct: 0,
        check: corpus.len(),
        check_deviations: 0,
        cost: CostPer::default(),
        wrap_events: checks.iter().map(|c| c.2.wrap_events).sum(),
    };
    for (i, (pl, mp, _)) in checks.iter().enumerate() {
        let y = usize::from(corpus.labels[i]);
        a.plaintext_correct += usize::from(*pl == y);
        a.mpc_correct += usize::from(*mp == y);
        a.check_deviations += usize::from(*pl == y && mp != pl);
    }
    if let Some((_, _, c)) = checks.first() {
        a.cost = CostPer {
            multiplications: c.multiplications(),
            rounds: c.rounds,
            bytes: c.bytes_sent[0],
        };
    }
    Ok(a)
}

pub use mpcdiff_kernel::difftest::repair::{QUICK_STEPS, STEPS};

/// A candidate plan.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// What it is, in words.
    pub name: String,
    /// The plan.
    pub plan: RepairPlan,
}

/// The candidates for `setup` from a localization: the kernel's list
/// ([`mpcdiff_kernel::difftest::repair::candidates`]), expanded into named plans.
pub fn candidates(setup: &Setup, loc: &Localization, steps: &[(u8, u8)]) -> Vec<Candidate> {
    let model = &setup.model;
    let layers: Vec<_> = nonlinear_layers(model, setup.deploy).collect();
    let report = |name: &str| loc.layers.iter().find(|l| l.name == name);
    // Blamed layers, most deviations removed when exact first (ties in model order).
    let mut blamed: Vec<_> = layers
        .iter()
        .filter(|l| report(l.name).is_some_and(|r| r.fixed_when_exact > 0))
        .map(|l| l.name)
        .collect();
    blamed.sort_by_key(|&n| std::cmp::Reverse(report(n).map_or(0, |r| r.fixed_when_exact)));
    let facts: Vec<LayerFacts<'_>> = layers
        .iter()
        .map(|&l| {
            let r = report(l.name).filter(|_| l.activation);
            LayerFacts {
                layer: l,
                default: default_level(&model.spec, l.index, setup.profile, setup.deploy)
                    .unwrap_or(Level::new(0, 0)),
                high: r.map_or(&[], |r| &r.high_set),
                low: r.map_or(&[], |r| &r.low_set),
                voted: r.is_some(),
                blamed: blamed.iter().position(|&n| n == l.name),
            }
        })
        .collect();
    repair::candidates(blamed.len(), steps)
        .filter(|c| c.applies(&facts))
        .map(|c| {
            let mut name = String::new();
            c.describe(&facts, &mut name)
                .expect("writing to a String cannot fail");
            let mut plan = RepairPlan::default();
            for f in &facts {
                let mut levels = vec![f.default; f.layer.neurons];
                if c.levels(f, &mut levels) {
                    plan.layers.push((f.layer.name.to_string(), levels));
                }
            }
            Candidate { name, plan }
        })
        .collect()
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
pub struct Search {
    /// The default plan's assessment.
    pub baseline: Assessment,
    /// Every candidate, in the order tried.
    pub tried: Vec<Tried>,
    /// The index of the chosen candidate in `tried`.
    pub chosen: usize,
    /// The chosen plan.
    pub plan: RepairPlan,
}

/// Assesses every candidate and picks one (module doc).
#[allow(clippy::too_many_arguments)]
pub fn search(
    candidates: Vec<Candidate>,
    known: &[Deviation],
    corpus: &Corpus,
    mpc_seed: u64,
    budget: f64,
    pool: &Pool<'_>,
    mut progress: impl FnMut(usize, usize),
) -> anyhow::Result<Search> {
    let baseline = assess(&RepairPlan::default(), known, corpus, mpc_seed, pool)?;
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
    Ok(Search {
        baseline,
        tried,
        chosen,
        plan,
    })
}
