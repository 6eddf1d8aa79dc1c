//! Repair: which level plans to try after localization, and which one to keep.
//!
//! The CLI (`mpcdiff repair`, many deviations, a check corpus, threads) and the browser (one
//! deviation, a few synthetic digits, a worker) run the same search from this module: the
//! same candidates in the same order, built the same way, judged by the same rule. Only the
//! assessment (which inputs, how many MPC runs) is the adapter's.
//!
//! # Candidates ([`candidates`])
//! * [`Scope::Artifact`]: in every activation layer the high-vote set at 9/9, the low-vote set
//!   at 3/3, the rest at the profile's level (MPCDiff's repair);
//! * for each step up from the profile's level (more squarings of the exponential, more
//!   Newton iterations): the high-vote sets only ([`Scope::HighVotes`]); each blamed layer
//!   whole ([`Scope::Layer`]: layers whose exact version removes deviations, most first);
//!   the blamed layers together when there are several ([`Scope::Blamed`]); every nonlinear
//!   layer ([`Scope::All`]).
//!
//! # Choice ([`choose`])
//! The target: every known deviation fixed and no loss of MPC accuracy on the check set, at
//! most `budget` × the default plan's multiplications. Among candidates that meet it the
//! cheapest wins (multiplications, then rounds, then candidate order); if none does, the one
//! fixing most, then leaving the fewest MPC runs of the known deviations flipping, then most
//! accurate, then cheapest, within the budget ([`improves`] says whether that best effort does
//! better than the baseline at all). More iterations are not
//! always better (at 16 fractional bits CrypTen's 9/9 sigmoid has *more* fixed-point error
//! than 6/6), which is why candidates are measured, not assumed.

use core::fmt;

use super::evaluator::{Evaluator, Runs, CLASSES_MAX};
use super::fitness::argmax;
use super::plan::{assign, nonlinear_layers, Nonlinear};
use crate::approx::profile::Profile;
use crate::approx::Level;
use crate::cost::Cost;
use crate::nn::deploy::Deployment;
use crate::nn::forward::{default_level, LayerMode, Plan};
use crate::nn::model::Model;
use crate::nn::spec::LAYERS_MAX;

/// The artifact's level for high-vote neurons.
pub const ARTIFACT_HIGH: Level = Level::new(9, 9);
/// The artifact's level for low-vote neurons.
pub const ARTIFACT_LOW: Level = Level::new(3, 3);

/// Steps up from a default level `(e, r)` that the full search tries: `(de, dr)` added.
pub const STEPS: [(u8, u8); 7] = [(1, 0), (2, 0), (0, 3), (1, 2), (2, 3), (3, 3), (0, 6)];
/// The steps of a quick search (the demo's and the browser's).
pub const QUICK_STEPS: [(u8, u8); 3] = [(0, 3), (1, 2), (0, 6)];

/// `l` raised by `step` (saturating).
pub const fn raise(l: Level, step: (u8, u8)) -> Level {
    Level::new(
        l.iters_exp.saturating_add(step.0),
        l.iters_nr.saturating_add(step.1),
    )
}

/// Which neurons a candidate raises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The artifact's plan (high set 9/9, low set 3/3; the step is unused).
    Artifact,
    /// The high-vote set of every activation layer.
    HighVotes,
    /// The `k`-th blamed layer, whole.
    Layer(usize),
    /// Every blamed layer, whole.
    Blamed,
    /// Every nonlinear layer, whole.
    All,
}

/// One plan to try.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// Which neurons it raises.
    pub scope: Scope,
    /// By how much.
    pub step: (u8, u8),
}

/// What a candidate needs to know of one nonlinear layer.
#[derive(Clone, Copy, Debug)]
pub struct LayerFacts<'s> {
    /// The layer.
    pub layer: Nonlinear<'s>,
    /// Its level under the profile.
    pub default: Level,
    /// Its high-vote set (activations voted on), else empty.
    pub high: &'s [u32],
    /// Its low-vote set minus the high set, else empty.
    pub low: &'s [u32],
    /// Whether localization voted on it (activation layers with a report).
    pub voted: bool,
    /// Its rank among the blamed layers (most deviations removed when exact first).
    pub blamed: Option<usize>,
}

/// The candidates, in the order they are tried (module doc), for `blamed` blamed layers.
pub fn candidates(blamed: usize, steps: &[(u8, u8)]) -> impl Iterator<Item = Candidate> + '_ {
    let artifact = Candidate {
        scope: Scope::Artifact,
        step: (0, 0),
    };
    let per_step = move |&step: &(u8, u8)| {
        let scopes = core::iter::once(Scope::HighVotes)
            .chain((0..blamed).map(Scope::Layer))
            .chain((blamed > 1).then_some(Scope::Blamed))
            .chain(core::iter::once(Scope::All));
        scopes.map(move |scope| Candidate { scope, step })
    };
    core::iter::once(artifact).chain(steps.iter().flat_map(per_step))
}

impl Candidate {
    /// Writes this candidate's levels for layer `f` into `out` (its neurons) and returns
    /// `true`, or returns `false` if the plan leaves the layer at its default (no entry).
    pub fn levels(&self, f: &LayerFacts<'_>, out: &mut [Level]) -> bool {
        let d = f.default;
        let up = raise(d, self.step);
        match self.scope {
            Scope::Artifact if f.voted => {
                assign(out, d, (f.high, ARTIFACT_HIGH), (f.low, ARTIFACT_LOW));
                true
            }
            Scope::HighVotes if f.voted => {
                assign(out, d, (f.high, up), (&[], d));
                true
            }
            Scope::Layer(k) if f.blamed == Some(k) => {
                out.fill(up);
                true
            }
            Scope::Blamed if f.blamed.is_some() => {
                out.fill(up);
                true
            }
            Scope::All => {
                out.fill(up);
                true
            }
            _ => false,
        }
    }

    /// Whether the candidate changes anything given the layers' facts (a high-vote
    /// candidate with no voted layer is skipped, as is a plan of no layer).
    pub fn applies(&self, layers: &[LayerFacts<'_>]) -> bool {
        match self.scope {
            Scope::Artifact => true,
            Scope::HighVotes => layers.iter().any(|f| f.voted),
            _ => !layers.is_empty(),
        }
    }

    /// Its name, as result files and the page print it: e.g. `layer bn2 +0/+3 (e.g. 8/6)`,
    /// the example being the step applied to the first layer the candidate raises.
    pub fn describe(&self, layers: &[LayerFacts<'_>], w: &mut dyn fmt::Write) -> fmt::Result {
        let first = |p: &dyn Fn(&LayerFacts<'_>) -> bool| layers.iter().find(|f| p(f));
        let example = match self.scope {
            Scope::Artifact => {
                return w.write_str("artifact: high-vote neurons 9/9, low-vote 3/3");
            }
            Scope::HighVotes => {
                w.write_str("high-vote neurons")?;
                first(&|f| f.voted)
            }
            Scope::Layer(k) => {
                let f = first(&|f| f.blamed == Some(k));
                write!(w, "layer {}", f.map_or("?", |f| f.layer.name))?;
                f
            }
            Scope::Blamed => {
                w.write_str("blamed layers together")?;
                first(&|f| f.blamed == Some(0))
            }
            Scope::All => {
                w.write_str("every nonlinear layer")?;
                layers.first()
            }
        };
        let (e, r) = self.step;
        write!(w, " +{e}/+{r}")?;
        if let Some(f) = example {
            let l = raise(f.default, self.step);
            write!(w, " (e.g. {}/{})", l.iters_exp, l.iters_nr)?;
        }
        Ok(())
    }
}

/// How a plan did, as far as the choice is concerned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Score {
    /// Known deviations it fixes.
    pub fixed: usize,
    /// Known deviations.
    pub known: usize,
    /// MPC runs of the known deviations that still flip under it (fewer is better when no
    /// plan fixes every deviation).
    pub flips: u32,
    /// Check inputs the MPC model classifies correctly under it.
    pub mpc_correct: usize,
    /// Multiplications per inference.
    pub multiplications: u64,
    /// Rounds per inference.
    pub rounds: u64,
}

/// The multiplication limit of a search: `budget` × the default plan's.
pub fn limit(baseline: &Score, budget: f64) -> f64 {
    budget * baseline.multiplications as f64
}

/// Whether `s` meets the target (module doc) against the default plan's `baseline`.
pub fn meets(s: &Score, baseline: &Score, budget: f64) -> bool {
    s.fixed == s.known
        && s.mpc_correct >= baseline.mpc_correct
        && s.multiplications as f64 <= limit(baseline, budget)
}

/// Whether `s` does better on the known deviations than the plan it would replace: it fixes
/// more of them, or fewer of their MPC runs still flip.
pub fn improves(s: &Score, baseline: &Score) -> bool {
    s.fixed > baseline.fixed || (s.fixed == baseline.fixed && s.flips < baseline.flips)
}

/// The index of the candidate to keep among `tried` (module doc); 0 when nothing is within
/// the budget or `tried` is empty. Without a candidate that meets the target, the best effort
/// within the budget is the one that fixes the most known deviations, then leaves the fewest
/// flipping MPC runs, then keeps the most check inputs correct, then costs the least; it may
/// still not [`improve`](improves) on the baseline (the caller says so).
pub fn choose(tried: &[Score], baseline: &Score, budget: f64) -> usize {
    let lim = limit(baseline, budget);
    let cost = |s: &Score| (s.multiplications, s.rounds);
    let meeting = (0..tried.len())
        .filter(|&k| meets(&tried[k], baseline, budget))
        .min_by_key(|&k| (cost(&tried[k]), k));
    meeting
        .or_else(|| {
            (0..tried.len())
                .filter(|&k| tried[k].multiplications as f64 <= lim)
                .max_by_key(|&k| {
                    let s = &tried[k];
                    (
                        s.fixed,
                        core::cmp::Reverse(s.flips),
                        s.mpc_correct,
                        core::cmp::Reverse(cost(s)),
                        core::cmp::Reverse(k),
                    )
                })
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(fixed: usize, correct: usize, mults: u64, rounds: u64) -> Score {
        Score {
            fixed,
            known: 3,
            flips: 8 * (3 - fixed as u32),
            mpc_correct: correct,
            multiplications: mults,
            rounds,
        }
    }

    // Goal: the cheapest plan that fixes everything without losing accuracy wins; ties go to
    // fewer rounds, then to the earlier candidate.
    #[test]
    fn the_cheapest_plan_meeting_the_target_wins() {
        let base = score(0, 90, 100, 10);
        let tried = [
            score(3, 90, 140, 12),
            score(3, 89, 110, 11), // loses accuracy
            score(3, 91, 120, 12),
            score(2, 95, 101, 10), // fixes too little
            score(3, 90, 120, 11),
            score(3, 90, 160, 9), // over budget
        ];
        assert_eq!(choose(&tried, &base, 1.5), 4);
        assert!(!meets(&tried[5], &base, 1.5));
        assert!(meets(&tried[5], &base, 1.6));
    }

    // Goal: without a plan meeting the target, the one fixing most (then most accurate)
    // within the budget is kept, never one over it.
    #[test]
    fn without_a_winner_the_best_effort_within_budget_is_kept() {
        let base = score(0, 90, 100, 10);
        let tried = [
            score(1, 90, 120, 12),
            score(2, 80, 130, 12),
            score(3, 95, 200, 12), // over budget
            score(2, 85, 140, 12),
        ];
        assert_eq!(choose(&tried, &base, 1.5), 3);
        assert_eq!(choose(&[], &base, 1.5), 0);
    }

    // Goal: among plans that fix no known deviation outright, the one leaving the fewest
    // flipping MPC runs wins, even when it is dearer or keeps fewer check inputs (the browser
    // demo's best effort used to keep a plan flipping 4 of 8 runs, as many as the baseline,
    // over one flipping 1 of 8); a plan no better than the baseline does not improve it.
    #[test]
    fn best_effort_prefers_fewer_flipping_runs() {
        let s = |flips: u32, correct: usize, mults: u64| Score {
            fixed: 0,
            known: 1,
            flips,
            mpc_correct: correct,
            multiplications: mults,
            rounds: 10,
        };
        let base = s(4, 20, 100);
        let tried = [s(4, 20, 105), s(1, 19, 140), s(2, 20, 110), s(0, 20, 200)];
        assert_eq!(choose(&tried, &base, 1.5), 1);
        assert!(improves(&tried[1], &base));
        assert!(!improves(&tried[0], &base));
        assert!(improves(
            &Score {
                fixed: 1,
                flips: 0,
                ..base
            },
            &base
        ));
    }

    // Goal: the candidate list has the documented order and length.
    /// `Assessment`'s counters are public fields: adding to counters at their limit used to
    /// overflow (with overflow checks).
    #[test]
    fn assessment_counters_saturate() {
        let mut a = Assessment {
            known: usize::MAX,
            known_fixed: usize::MAX,
            flips: u32::MAX,
            runs: u32::MAX,
            check: usize::MAX,
            mpc_correct: usize::MAX,
            plaintext_correct: usize::MAX,
            check_deviations: usize::MAX,
            wrap_events: u64::MAX,
            ..Assessment::default()
        };
        let cost = Cost {
            wrap_events: u64::MAX,
            ..Cost::default()
        };
        a.add_known(
            Runs {
                flips: u32::MAX,
                runs: u32::MAX,
            },
            &cost,
        );
        a.add_check(1, 1, 2, &cost);
        assert_eq!(
            (a.flips, a.runs, a.wrap_events),
            (u32::MAX, u32::MAX, u64::MAX)
        );
        assert_eq!(
            (a.known, a.check, a.mpc_correct),
            (usize::MAX, usize::MAX, usize::MAX)
        );
    }

    #[test]
    fn candidates_come_in_the_documented_order() {
        let c: heapless::Vec<Candidate, 32> = candidates(2, &QUICK_STEPS).collect();
        assert_eq!(c.len(), 1 + 3 * 5);
        assert_eq!(c[0].scope, Scope::Artifact);
        let scopes: heapless::Vec<Scope, 8> = c[1..6].iter().map(|c| c.scope).collect();
        assert_eq!(
            scopes.as_slice(),
            [
                Scope::HighVotes,
                Scope::Layer(0),
                Scope::Layer(1),
                Scope::Blamed,
                Scope::All
            ]
        );
        assert!(c[1..6].iter().all(|c| c.step == QUICK_STEPS[0]));
        // One blamed layer: no "together" candidate.
        assert_eq!(candidates(1, &STEPS).count(), 1 + STEPS.len() * 3);
    }

    // Goal: levels land where the scope says, high wins over low, untouched layers say so.
    #[test]
    fn levels_follow_the_scope() {
        let d = Level::new(8, 3);
        let f = LayerFacts {
            layer: Nonlinear {
                index: 3,
                name: "act1",
                neurons: 4,
                activation: true,
            },
            default: d,
            high: &[1, 2],
            low: &[2, 3],
            voted: true,
            blamed: None,
        };
        let mut out = [Level::new(0, 0); 4];
        let art = Candidate {
            scope: Scope::Artifact,
            step: (0, 0),
        };
        assert!(art.levels(&f, &mut out));
        assert_eq!(out, [d, ARTIFACT_HIGH, ARTIFACT_HIGH, ARTIFACT_LOW]);
        let hv = Candidate {
            scope: Scope::HighVotes,
            step: (0, 3),
        };
        assert!(hv.levels(&f, &mut out));
        assert_eq!(out, [d, Level::new(8, 6), Level::new(8, 6), d]);
        let layer = Candidate {
            scope: Scope::Layer(0),
            step: (1, 2),
        };
        assert!(!layer.levels(&f, &mut out));
        let blamed = LayerFacts {
            blamed: Some(0),
            ..f
        };
        assert!(layer.levels(&blamed, &mut out));
        assert_eq!(out, [Level::new(9, 5); 4]);
    }

    // Goal: names are the ones result files have always had.
    #[test]
    fn names_read_as_before() {
        struct S(heapless::String<64>);
        impl fmt::Write for S {
            fn write_str(&mut self, s: &str) -> fmt::Result {
                self.0.push_str(s).map_err(|_| fmt::Error)
            }
        }
        let bn = LayerFacts {
            layer: Nonlinear {
                index: 5,
                name: "bn2",
                neurons: 16,
                activation: false,
            },
            default: Level::new(8, 3),
            high: &[],
            low: &[],
            voted: false,
            blamed: Some(0),
        };
        let name = |c: Candidate| {
            let mut s = S(heapless::String::new());
            c.describe(&[bn], &mut s).unwrap();
            s.0
        };
        let c = Candidate {
            scope: Scope::Layer(0),
            step: (0, 3),
        };
        assert_eq!(name(c).as_str(), "layer bn2 +0/+3 (e.g. 8/6)");
        let c = Candidate {
            scope: Scope::Artifact,
            ..c
        };
        assert_eq!(
            name(c).as_str(),
            "artifact: high-vote neurons 9/9, low-vote 3/3"
        );
        let c = Candidate {
            scope: Scope::All,
            step: (1, 2),
        };
        assert_eq!(name(c).as_str(), "every nonlinear layer +1/+2 (e.g. 9/5)");
    }
}

/// The facts of every nonlinear layer of `model` deployed as `deploy`, for the candidates of
/// a repair over `base` (the plan the MPC model runs with today): its default level (the
/// base's when the base runs the layer at one level, else the profile's), its vote sets and
/// its blame rank. `layer(k)` gives nonlinear layer `k`'s high set, low set (both empty for
/// a layer not voted on) and how many deviations disappear when it alone is exact. Blamed
/// layers are those that remove any; the most removed ranks first, ties in model order.
///
/// # Errors
/// [`crate::Error::OutOfRange`] for a model with more than [`LAYERS_MAX`] nonlinear layers.
pub fn layer_facts<'s>(
    model: &'s Model<'_>,
    deploy: Deployment,
    profile: &Profile,
    base: &dyn Plan,
    layer: &dyn Fn(usize) -> (&'s [u32], &'s [u32], usize),
) -> crate::Result<heapless::Vec<LayerFacts<'s>, LAYERS_MAX>> {
    let full = crate::Error::OutOfRange {
        what: "more nonlinear layers than a repair handles",
    };
    let mut facts: heapless::Vec<LayerFacts<'s>, LAYERS_MAX> = heapless::Vec::new();
    let mut fixed: heapless::Vec<usize, LAYERS_MAX> = heapless::Vec::new();
    for (k, l) in nonlinear_layers(model, deploy).enumerate() {
        let (high, low, removed) = layer(k);
        let default = match base.mode(l.name) {
            LayerMode::Levels(&[one]) => one,
            _ => default_level(&model.spec, l.index, profile, deploy).unwrap_or(Level::new(0, 0)),
        };
        let voted = l.activation;
        let f = LayerFacts {
            layer: l,
            default,
            high: if voted { high } else { &[] },
            low: if voted { low } else { &[] },
            voted,
            blamed: None,
        };
        facts.push(f).map_err(|_| full)?;
        fixed.push(removed).map_err(|_| full)?;
    }
    // Rank: most deviations removed first, ties in model order (a stable selection).
    let mut rank = 0;
    let mut taken: heapless::Vec<bool, LAYERS_MAX> = heapless::Vec::new();
    for _ in 0..facts.len() {
        taken.push(false).map_err(|_| full)?;
    }
    loop {
        let next = (0..facts.len())
            .filter(|&k| fixed[k] > 0 && !taken[k])
            .max_by_key(|&k| (fixed[k], core::cmp::Reverse(k)));
        let Some(k) = next else { break };
        taken[k] = true;
        facts[k].blamed = Some(rank);
        rank += 1;
    }
    Ok(facts)
}

/// Blamed layers among `facts`.
pub fn blamed(facts: &[LayerFacts<'_>]) -> usize {
    facts.iter().filter(|f| f.blamed.is_some()).count()
}

impl Candidate {
    /// The candidate's plan, layer by layer: `emit(name, levels)` for each layer it sets
    /// (in model order), with the levels written into `scratch` (as long as the widest layer).
    ///
    /// # Errors
    /// [`crate::Error::BufferTooSmall`] for a short `scratch`.
    pub fn expand(
        &self,
        facts: &[LayerFacts<'_>],
        scratch: &mut [Level],
        emit: &mut dyn FnMut(&str, &[Level]),
    ) -> crate::Result<()> {
        for f in facts {
            let n = f.layer.neurons;
            let got = scratch.len();
            let out = scratch
                .get_mut(..n)
                .ok_or(crate::Error::BufferTooSmall { needed: n, got })?;
            out.fill(f.default);
            if self.levels(f, out) {
                emit(f.layer.name, out);
            }
        }
        Ok(())
    }
}

/// How a plan does on the known deviations and a check set (what the choice needs, and more).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Assessment {
    /// Known deviations none of whose MPC runs flips any more.
    pub known_fixed: usize,
    /// Known deviations.
    pub known: usize,
    /// MPC runs of the known deviations that still flip.
    pub flips: u32,
    /// MPC runs of the known deviations.
    pub runs: u32,
    /// Check inputs the MPC model classifies correctly.
    pub mpc_correct: usize,
    /// Check inputs the plaintext model classifies correctly.
    pub plaintext_correct: usize,
    /// Check inputs.
    pub check: usize,
    /// Check inputs that deviate (MPC label ≠ correct plaintext label).
    pub check_deviations: usize,
    /// One MPC inference's cost under the plan (that of the first input assessed: the cost
    /// of an inference does not depend on its input).
    pub cost: Cost,
    /// Local-truncation wrap events over the check set (the ring overflowed).
    pub wrap_events: u64,
}

impl Assessment {
    /// Adds a known deviation's runs under the plan ([`Evaluator::runs`]).
    pub fn add_known(&mut self, r: Runs, cost: &Cost) {
        if self.known == 0 && self.check == 0 {
            self.cost = *cost;
        }
        self.known = self.known.saturating_add(1);
        self.known_fixed = self.known_fixed.saturating_add(usize::from(r.flips == 0));
        self.flips = self.flips.saturating_add(r.flips);
        self.runs = self.runs.saturating_add(r.runs);
    }

    /// Adds a check input of true label `y` that the plaintext model labels `plain`, the MPC
    /// model `mpc` at `cost`.
    pub fn add_check(&mut self, y: usize, plain: usize, mpc: usize, cost: &Cost) {
        if self.known == 0 && self.check == 0 {
            self.cost = *cost;
        }
        // Counters saturate (the fields are public, so they may start anywhere).
        self.check = self.check.saturating_add(1);
        self.plaintext_correct = self
            .plaintext_correct
            .saturating_add(usize::from(plain == y));
        self.mpc_correct = self.mpc_correct.saturating_add(usize::from(mpc == y));
        self.check_deviations = self
            .check_deviations
            .saturating_add(usize::from(plain == y && mpc != plain));
        self.wrap_events = self.wrap_events.saturating_add(cost.wrap_events);
    }

    /// MPC accuracy on the check set.
    pub fn mpc_accuracy(&self) -> f64 {
        self.mpc_correct as f64 / self.check.max(1) as f64
    }

    /// What [`choose`] looks at.
    pub fn score(&self) -> Score {
        Score {
            fixed: self.known_fixed,
            known: self.known,
            flips: self.flips,
            mpc_correct: self.mpc_correct,
            multiplications: self.cost.multiplications(),
            rounds: self.cost.rounds,
        }
    }
}

/// A known deviation under `plan`: its MPC runs (seeded `mpc_seed` and re-seeded) that still
/// flip away from `label`, and the first run's cost.
///
/// # Errors
/// The evaluation's.
pub fn assess_known(
    ev: &mut Evaluator<'_, '_>,
    plan: &dyn Plan,
    input: &[f64],
    mpc_seed: u64,
    label: usize,
    runs: u32,
) -> crate::Result<(Runs, Cost)> {
    let mut logits = [0.0f64; CLASSES_MAX];
    let logits = logits
        .get_mut(..ev.classes())
        .ok_or(crate::Error::OutOfRange {
            what: "more classes than a repair's logit buffer",
        })?;
    ev.runs(input, mpc_seed, label, runs, plan, None, logits)
}

/// A check input under `plan`: the plaintext label, the MPC label (session seeded `seed`) and
/// the cost.
///
/// # Errors
/// The evaluation's.
pub fn assess_check(
    ev: &mut Evaluator<'_, '_>,
    plan: &dyn Plan,
    input: &[f64],
    seed: u64,
) -> crate::Result<(usize, usize, Cost)> {
    let mut logits = [0.0f64; CLASSES_MAX];
    let logits = logits
        .get_mut(..ev.classes())
        .ok_or(crate::Error::OutOfRange {
            what: "more classes than a repair's logit buffer",
        })?;
    ev.plaintext(input, 1, None, logits)?;
    let plain = argmax(logits);
    let cost = ev.mpc(input, seed, plan, None, logits)?;
    Ok((plain, argmax(logits), cost))
}

/// The candidates over `facts` that change something ([`Candidate::applies`]), in the order
/// they are tried: what `mpcdiff repair` and the page assess.
pub fn applicable<'a>(
    facts: &'a [LayerFacts<'_>],
    steps: &'a [(u8, u8)],
) -> impl Iterator<Item = Candidate> + 'a {
    candidates(blamed(facts), steps).filter(move |c| c.applies(facts))
}

/// The synthetic digits a repair in the browser must not cost accuracy on: seed 2024
/// (`mpcdiff fuzz`'s default synthetic corpus), digits `0..check`.
pub const CHECK_SEED: u64 = 2024;

/// `plan` assessed as the page's repair assesses it: on the known deviation `d` (all `runs`
/// of its MPC runs must give its label) and on the first `check` synthetic digits of
/// [`CHECK_SEED`], MNIST-normalised, digit `i` in the MPC session a campaign seeded
/// `mpc_seed` gives seed `i` ([`evaluation_seed`](super::campaign::evaluation_seed)).
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] for a model that does not take 28 × 28 images; the
/// evaluation's.
pub fn assess_on_digits(
    ev: &mut Evaluator<'_, '_>,
    plan: &dyn Plan,
    d: &super::localization::Suspect<'_>,
    runs: u32,
    check: usize,
    mpc_seed: u64,
) -> crate::Result<Assessment> {
    use super::campaign::{evaluation_seed, Evaluation};
    use crate::digits::{self, PIXELS};
    let n = ev.target().model.input.len();
    if n != PIXELS {
        return Err(crate::Error::ShapeMismatch {
            expected: PIXELS,
            got: n,
        });
    }
    let mut a = Assessment::default();
    let (r, cost) = assess_known(ev, plan, d.input, d.mpc_seed, d.label, runs)?;
    a.add_known(r, &cost);
    let (mut px, mut x) = ([0.0f32; PIXELS], [0.0f64; PIXELS]);
    for i in 0..check {
        let label = digits::synthetic::sample(CHECK_SEED, i as u64, &mut px)?;
        for (v, &u) in x.iter_mut().zip(&px) {
            *v = f64::from(digits::normalize(u));
        }
        let seed = evaluation_seed(mpc_seed, Evaluation::Seed(i as u64));
        let (pl, mp, cost) = assess_check(ev, plan, &x, seed)?;
        a.add_check(usize::from(label), pl, mp, &cost);
    }
    Ok(a)
}
