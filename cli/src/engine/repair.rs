//! Repair: per-neuron approximation levels that remove the known deviations without costing
//! accuracy, found by search under a cost budget.
//!
//! # Candidates
//! * `artifact`: in every activation layer the high-vote set at 9/9, the low-vote set at 3/3,
//!   the rest at the profile's level (MPCDiff's repair);
//! * for each step up from the profile's level (more squarings of the exponential, more
//!   Newton iterations): the high-vote sets only; each blamed layer whole (layers whose exact
//!   version removes deviations, most first); every nonlinear layer.
//!
//! # Choice
//! Every candidate is evaluated (known deviations replayed with their recorded MPC seeds, a
//! check set, the cost of one inference). The target is: every known deviation fixed and no
//! loss of MPC accuracy on the check set, at most `budget` × the default plan's
//! multiplications. Among candidates that meet it the cheapest wins (multiplications, then
//! rounds, then candidate order); if none does, the one fixing most, then most accurate.
//! Note that more iterations are not always better: at 16 fractional bits CrypTen's 9/9
//! sigmoid has *more* fixed-point error than 6/6 (README, approximations), which is why
//! candidates are measured, not assumed.

use mpcdiff_kernel::approx::Level;
use mpcdiff_kernel::difftest::campaign::{evaluation_seed, Evaluation as Eval};
use mpcdiff_kernel::difftest::fitness::argmax;
use mpcdiff_kernel::difftest::plan::{assign, nonlinear_layers};
use mpcdiff_kernel::nn::forward::default_level;
use mpcdiff_kernel::nn::model::BnMode;
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

/// A candidate plan.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// What it is, in words.
    pub name: String,
    /// The plan.
    pub plan: RepairPlan,
}

/// The artifact's high and low levels.
pub const ARTIFACT_HIGH: Level = Level::new(9, 9);
/// See [`ARTIFACT_HIGH`].
pub const ARTIFACT_LOW: Level = Level::new(3, 3);

/// Steps up from a default level `(e, r)` that the search tries: `(de, dr)` added.
pub const STEPS: [(u8, u8); 7] = [(1, 0), (2, 0), (0, 3), (1, 2), (2, 3), (3, 3), (0, 6)];
/// The steps of a quick search (the demo's).
pub const QUICK_STEPS: [(u8, u8); 3] = [(0, 3), (1, 2), (0, 6)];

fn step(l: Level, s: (u8, u8)) -> Level {
    Level::new(
        l.iters_exp.saturating_add(s.0),
        l.iters_nr.saturating_add(s.1),
    )
}

/// The candidates for `setup` from a localization (see the module doc).
pub fn candidates(setup: &Setup, loc: &Localization, steps: &[(u8, u8)]) -> Vec<Candidate> {
    let model = &setup.model;
    let bn_mpc = setup.bn == BnMode::Crypten;
    let layers: Vec<_> = nonlinear_layers(model, bn_mpc).collect();
    let default_of = |index: usize| {
        default_level(model.spec.layers[index].kind, setup.profile).unwrap_or(Level::new(0, 0))
    };
    let report = |name: &str| loc.layers.iter().find(|l| l.name == name);
    let mut out = Vec::new();
    // The artifact's plan.
    let mut plan = RepairPlan::default();
    for l in layers.iter().filter(|l| l.activation) {
        let Some(r) = report(l.name) else { continue };
        let mut levels = vec![Level::new(0, 0); l.neurons];
        assign(
            &mut levels,
            default_of(l.index),
            (&r.high_set, ARTIFACT_HIGH),
            (&r.low_set, ARTIFACT_LOW),
        );
        plan.layers.push((l.name.to_string(), levels));
    }
    out.push(Candidate {
        name: "artifact: high-vote neurons 9/9, low-vote 3/3".into(),
        plan,
    });
    // Blamed layers, most deviations removed when exact first.
    let mut blamed: Vec<_> = layers
        .iter()
        .filter(|l| report(l.name).is_some_and(|r| r.fixed_when_exact > 0))
        .collect();
    blamed.sort_by_key(|l| std::cmp::Reverse(report(l.name).map_or(0, |r| r.fixed_when_exact)));
    for &s in steps {
        let label = |d: Level| {
            format!(
                "+{}/+{} (e.g. {}/{})",
                s.0,
                s.1,
                step(d, s).iters_exp,
                step(d, s).iters_nr
            )
        };
        // High-vote sets only.
        let mut plan = RepairPlan::default();
        let mut example = None;
        for l in layers.iter().filter(|l| l.activation) {
            let Some(r) = report(l.name) else { continue };
            let d = default_of(l.index);
            example.get_or_insert(d);
            let mut levels = vec![d; l.neurons];
            assign(&mut levels, d, (&r.high_set, step(d, s)), (&[], d));
            plan.layers.push((l.name.to_string(), levels));
        }
        if let Some(d) = example {
            out.push(Candidate {
                name: format!("high-vote neurons {}", label(d)),
                plan,
            });
        }
        for l in &blamed {
            let d = default_of(l.index);
            out.push(Candidate {
                name: format!("layer {} {}", l.name, label(d)),
                plan: RepairPlan {
                    layers: vec![(l.name.to_string(), vec![step(d, s); l.neurons])],
                },
            });
        }
        if blamed.len() > 1 {
            out.push(Candidate {
                name: format!(
                    "blamed layers together {}",
                    label(default_of(blamed[0].index))
                ),
                plan: RepairPlan {
                    layers: blamed
                        .iter()
                        .map(|l| {
                            (
                                l.name.to_string(),
                                vec![step(default_of(l.index), s); l.neurons],
                            )
                        })
                        .collect(),
                },
            });
        }
        let all = RepairPlan {
            layers: layers
                .iter()
                .map(|l| {
                    (
                        l.name.to_string(),
                        vec![step(default_of(l.index), s); l.neurons],
                    )
                })
                .collect(),
        };
        if let Some(l) = layers.first() {
            out.push(Candidate {
                name: format!("every nonlinear layer {}", label(default_of(l.index))),
                plan: all,
            });
        }
    }
    out
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
    let limit = budget * baseline.cost.multiplications as f64;
    let mut tried = Vec::new();
    let total = candidates.len();
    for (k, c) in candidates.iter().enumerate() {
        progress(k, total);
        let a = assess(&c.plan, known, corpus, mpc_seed, pool)?;
        let meets = a.known_fixed == a.known
            && a.mpc_correct >= baseline.mpc_correct
            && a.cost.multiplications as f64 <= limit;
        tried.push(Tried {
            name: c.name.clone(),
            assessment: a,
            meets_target: meets,
        });
    }
    progress(total, total);
    let key_meet = |t: &Tried| (t.assessment.cost.multiplications, t.assessment.cost.rounds);
    let chosen = match (0..tried.len())
        .filter(|&k| tried[k].meets_target)
        .min_by_key(|&k| (key_meet(&tried[k]), k))
    {
        Some(k) => k,
        None => (0..tried.len())
            .filter(|&k| tried[k].assessment.cost.multiplications as f64 <= limit)
            .max_by_key(|&k| {
                let a = &tried[k].assessment;
                (
                    a.known_fixed,
                    a.mpc_correct,
                    std::cmp::Reverse(key_meet(&tried[k])),
                    std::cmp::Reverse(k),
                )
            })
            .unwrap_or(0),
    };
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
