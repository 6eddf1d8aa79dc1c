//! "Search for a deviation": the kernel's fuzzing campaign over a corpus of one input.
//!
//! The page's search is `mpcdiff fuzz` on a one-line corpus, with the same kernel
//! [`Campaign`], the same oracle and the same seeds, advanced a few mutants per call so that a
//! worker can report progress and stop between calls. Equal settings give equal results, bit
//! for bit: the test in `web/test/` runs a search in Chromium and the same campaign with
//!
//! ```text
//! mpcdiff fuzz --model lenet --profile P --frac-bits F --trunc T --deploy crypten --seeds 1 \
//!              --mutations M --seed S --mpc-seed <session's> --round 20 --threshold M \
//!              --schedule energy --guide err --fitness F --mutator U --sigma 0.05 --repeats 8 \
//!              --corpus one.jsonl
//! ```
//!
//! and compares the campaign digests and the found input.
//!
//! # What differs from a CLI campaign, and why
//! * The label is the plaintext model's label of the input (a drawing has no true label): a
//!   deviation is an input the plaintext model still gives that label and the MPC model does
//!   not.
//! * One seed cannot be dropped early: the drop threshold is the whole mutation budget, so
//!   the search climbs its fitness until it finds a deviation or spends the budget.
//! * The default fitness is [`Fitness::Margin`], which climbs straight towards the MPC label
//!   flip (the artifact's logit L2 is available).
//!
//! Every evaluation uses the session's settings and level plan *at the time of the call*;
//! the page restarts the search when they change.

use mpcdiff_kernel::difftest::campaign::{
    Campaign, Entry, Guide, Proposal, Schedule, Settings as CampaignSettings, Status,
};
use mpcdiff_kernel::difftest::fitness::Fitness;
use mpcdiff_kernel::difftest::fuzzer::Judged;
pub use mpcdiff_kernel::difftest::fuzzer::Step;
use mpcdiff_kernel::difftest::fuzzer::{Deviation, Fuzzer, Sink, Trial};
use mpcdiff_kernel::difftest::mutation::{Descent, Domain, Mutator};
use mpcdiff_kernel::nn::gradient;

use core::fmt::Write as _;

use crate::session::Session;
use serde::Serialize;

use crate::{models, ser, Failure};

/// How a search runs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SearchOptions {
    /// Seeds the mutation and scheduling streams (`mpcdiff fuzz --seed`).
    pub seed: u64,
    /// Mutants at most (also the drop threshold, see the module doc).
    pub mutations: u64,
    /// What the search climbs.
    pub fitness: Fitness,
    /// The operators (`mpcdiff fuzz --mutator`): `mpcdiff` (MPCDiff's mix), `artifact` (the
    /// artifact's Gaussian noise alone) or `gradient` (steps along the plaintext margin's
    /// gradient towards the decision boundary).
    pub mutator: &'static str,
    /// MPC runs per found deviation for its probability (`mpcdiff fuzz --repeats`).
    pub repeats: u32,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            seed: 1,
            mutations: 2000,
            fitness: Fitness::Margin,
            mutator: "mpcdiff",
            repeats: 8,
        }
    }
}

/// The most mutants one search may spend (the threshold is a `u32`).
pub const MUTATIONS_MAX: u64 = 1_000_000;
/// Mutants per round: `mpcdiff fuzz`'s default (with one seed every round has one mutant,
/// so it does not change the result; it is recorded for the CLI's command line).
pub const ROUND_SIZE: usize = 20;

/// The mutator called `name` (as `mpcdiff fuzz --mutator` names it).
pub fn mutator_arg(name: &str) -> Result<&'static str, Failure> {
    Mutator::by_name(name, &mnist_domain())
        .map(|m| m.name())
        .ok_or(Failure::Argument {
            name: "mutator",
            expected: "\"mpcdiff\", \"artifact\" or \"gradient\"",
        })
}

/// The fitness called `name`.
pub fn fitness_arg(name: &str) -> Result<Fitness, Failure> {
    Fitness::by_name(name).ok_or(Failure::Argument {
        name: "fitness",
        expected: "\"margin\" or \"logit-l2\"",
    })
}

/// A deviation the search found (the kernel's record, kept for the page).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Found {
    /// The found input as pixel intensities (what the page draws).
    #[serde(serialize_with = "ser::f32s")]
    pub pixels: Vec<f32>,
    /// The original as pixel intensities.
    #[serde(serialize_with = "ser::f32s")]
    pub original_pixels: Vec<f32>,
    /// The model input that deviates (normalised).
    #[serde(serialize_with = "ser::f64s")]
    pub input: Vec<f64>,
    /// The input the search started from (normalised).
    #[serde(skip)]
    pub original: Vec<f64>,
    /// The mutant's number, `None` if the original already deviates.
    pub mutant: Option<u64>,
    /// Mutants made before it was found.
    pub mutations: u32,
    /// The accepted mutants that led to it, in order (their operators' names in JS).
    #[serde(serialize_with = "ser::path")]
    pub path: Vec<Step>,
    /// The seed of the MPC session that shows the deviation (a decimal string in JS).
    #[serde(serialize_with = "ser::decimal")]
    pub mpc_seed: u64,
    /// The plaintext label (the search's label).
    #[serde(rename = "plaintextLabel")]
    pub label: usize,
    /// The MPC label in that session.
    pub mpc_label: usize,
    /// Plaintext logits.
    #[serde(rename = "plaintextLogits", serialize_with = "ser::f64s")]
    pub plaintext: Vec<f64>,
    /// MPC logits in the session seeded [`Found::mpc_seed`].
    #[serde(rename = "mpcLogits", serialize_with = "ser::f64s")]
    pub mpc: Vec<f64>,
    /// `‖input − original‖₂` (normalised units, as `mpcdiff fuzz` records it).
    pub l2: f64,
    /// `‖input − original‖∞`.
    pub linf: f64,
    /// MPC runs (the recorded one and `repeats − 1` re-seeded ones) that flip the label.
    pub flips: u32,
    /// MPC runs.
    pub runs: u32,
}

/// Where a search stands after a call.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Progress {
    /// Mutants evaluated.
    pub mutants: u64,
    /// The budget.
    pub budget: u64,
    /// Rounds.
    pub rounds: u64,
    /// The seed's status: active (still searching), found, dropped (budget spent: never
    /// before it), skipped (the plaintext model's label could not be established).
    #[serde(serialize_with = "ser::status")]
    pub status: Status,
    /// The fitness of the current input.
    pub fitness: f64,
    /// Mutants accepted so far.
    pub accepted: u32,
    /// The campaign digest (equal digests, equal campaigns; 16 hex digits in JS).
    #[serde(serialize_with = "ser::hex")]
    pub digest: u64,
    /// Whether the search is over (found, or the budget spent).
    pub done: bool,
}

impl Progress {
    /// Whether the search is over (found, or the budget spent).
    pub fn done(&self) -> bool {
        self.done
    }
}

/// A running search: the kernel campaign's state over one entry, kept between calls.
#[derive(Clone, Debug)]
pub struct Search {
    settings: CampaignSettings,
    domain: Domain<'static>,
    entries: [Entry; 1],
    current: Vec<f64>,
    original: Vec<f64>,
    rounds: u64,
    mutants: u64,
    digest: u64,
    budget: u64,
    repeats: u32,
    path: Vec<Step>,
    found: Option<Found>,
}

impl Search {
    /// The campaign settings (for the CLI's command line).
    pub fn settings(&self) -> &CampaignSettings {
        &self.settings
    }
    /// MPC runs per found deviation.
    pub fn repeats(&self) -> u32 {
        self.repeats
    }
    /// The found deviation, if any.
    pub fn found(&self) -> Option<&Found> {
        self.found.as_ref()
    }
    /// The plaintext label the search keeps.
    pub fn label(&self) -> usize {
        usize::from(self.entries[0].label)
    }
    /// The input the search started from (normalised).
    pub fn original(&self) -> &[f64] {
        &self.original
    }
    /// Where it stands.
    pub fn progress(&self) -> Progress {
        let e = &self.entries[0];
        Progress {
            mutants: self.mutants,
            budget: self.budget,
            rounds: self.rounds,
            status: e.status,
            fitness: e.fitness,
            accepted: e.accepted,
            digest: self.digest,
            done: e.status != Status::Active || self.mutants >= self.budget,
        }
    }
}

/// The domain of an MNIST model's inputs: normalised pixels of intensities in [0, 1] (the
/// CLI's for a corpus file on an MNIST model).
fn mnist_domain() -> Domain<'static> {
    Domain::Image {
        channels: 1,
        height: models::SIDE,
        width: models::SIDE,
        lo: models::normalize(0.0),
        hi: models::normalize(1.0),
    }
}

impl Search {
    /// Starts a search in session `s` from the 28 × 28 image `pixels` (intensities in
    /// [0, 1]) and admits it: its label is the plaintext model's; if the MPC model already
    /// disagrees, the search is over at once (found at admission). Every evaluation uses the
    /// session's settings and plan at the time of the call.
    pub fn start(s: &mut Session, pixels: &[f32], o: SearchOptions) -> Result<Search, Failure> {
        if !(1..=MUTATIONS_MAX).contains(&o.mutations) {
            return Err(Failure::Argument {
                name: "mutations",
                expected: "an integer in 1..=1000000",
            });
        }
        if !(1..=64).contains(&o.repeats) {
            return Err(Failure::Argument {
                name: "repeats",
                expected: "an integer in 1..=64",
            });
        }
        let x = s.normalized(pixels)?;
        let domain = mnist_domain();
        let settings = CampaignSettings {
            seed: o.seed,
            mpc_seed: s.settings().mpc_seed,
            round_size: ROUND_SIZE,
            threshold: o.mutations as u32,
            schedule: Schedule::Energy,
            guide: Guide::Err,
            fitness: o.fitness,
            mutator: Mutator::by_name(o.mutator, &domain).ok_or(Failure::Argument {
                name: "mutator",
                expected: "\"mpcdiff\", \"artifact\" or \"gradient\"",
            })?,
        };
        let plain = s.plaintext(&x, 1, None)?;
        let label = mpcdiff_kernel::difftest::fitness::argmax(&plain);
        let mut search = Search {
            settings,
            domain,
            entries: [Entry::new(0, label as u16)],
            current: x.clone(),
            original: x,
            rounds: 0,
            mutants: 0,
            digest: 0,
            budget: o.mutations,
            repeats: o.repeats,
            path: Vec::new(),
            found: None,
        };
        search.drive(s, None)?;
        Ok(search)
    }

    /// Runs the search for at most `max` more mutants (one per round: the corpus has one
    /// seed) and says where it stands.
    pub fn step(&mut self, s: &mut Session, max: u64) -> Result<Progress, Failure> {
        let stop = self.mutants.saturating_add(max).min(self.budget);
        if self.mutants < stop && self.entries[0].status == Status::Active {
            self.drive(s, Some(stop))?;
        }
        Ok(self.progress())
    }

    /// The search's start as one line of an `mpcdiff fuzz --corpus` file:
    /// `{"input":[…normalised…],"label":k}`, numbers printed round-trip exact.
    pub fn corpus_line(&self) -> String {
        let values: Vec<String> = self.original.iter().map(|v| format!("{v:?}")).collect();
        format!(
            "{{\"input\":[{}],\"label\":{}}}",
            values.join(","),
            self.label()
        )
    }

    /// The `mpcdiff fuzz` command line (program name first) that runs the search's campaign
    /// natively on a file holding [`Search::corpus_line`], left as `CORPUS`; with a level
    /// plan in `s`, `--plan PLAN` (the page's levels saved as a plan file) is added. It is the
    /// CLI's own `replay:` line for that campaign (the kernel writes both), flag for flag.
    pub fn command(&self, s: &Session) -> Vec<String> {
        let mut line = String::from("mpcdiff fuzz ");
        let t = crate::session::target(s.model(), &s.settings());
        // Writing into a String cannot fail.
        let _ = t
            .write_flags(s.model_name(), &mut line)
            .and_then(|()| line.write_char(' '))
            .and_then(|()| {
                self.settings
                    .write_flags(1, self.budget, self.repeats, &mut line)
            });
        let mut args: Vec<String> = line.split(' ').map(String::from).collect();
        if !s.plan().layers.is_empty() {
            args.extend(["--plan".to_string(), "PLAN".to_string()]);
        }
        args.extend(["--corpus".to_string(), "CORPUS".to_string()]);
        args
    }

    /// The kernel's [`Fuzzer`] over the search's one entry: admission (`until` is `None`),
    /// or rounds until `until` mutants in all.
    fn drive(&mut self, s: &mut Session, until: Option<u64>) -> Result<(), Failure> {
        let classes = s.model().classes;
        let n = self.original.len();
        let round = self.settings.round_size;
        let mut proposals = vec![Proposal::default(); round];
        let mut trials = vec![Trial::default(); round];
        let mut floats = vec![0.0; Fuzzer::floats(round, n, classes)];
        let mut camp = Campaign::new(
            self.settings,
            self.domain,
            &mut self.entries,
            &mut self.current,
            &self.original,
        )?;
        if until.is_some() {
            camp.resume(self.rounds, self.mutants, self.digest);
        }
        let mut sink = Keep {
            path: &mut self.path,
            found: &mut self.found,
        };
        let repeats = self.repeats;
        // The plaintext margin's gradient, for the gradient mutator (as the CLI's judge has).
        let model = s.model().clone();
        let uses_gradient = self.settings.mutator.name() == "gradient";
        let (mut params, mut tape) = (Vec::new(), Vec::new());
        if uses_gradient {
            params = vec![0.0; gradient::params_len(&model)?];
            gradient::Plain::load(&model, &mut params)?;
            tape = vec![0.0; gradient::tape_elems(&model)];
        }
        let mut plain = gradient::Plain::new(&model, &params, &mut tape);
        s.evaluate(|ev, plan| {
            let mut judge = Judged {
                evaluator: ev,
                plan,
                descent: uses_gradient.then_some(&mut plain as &mut dyn Descent),
            };
            let mut fuzzer = Fuzzer::new(
                &mut camp,
                classes,
                repeats,
                &mut proposals,
                &mut trials,
                &mut floats,
            )?;
            match until {
                None => fuzzer.admit(&mut judge, &mut sink),
                Some(stop) => fuzzer.run(stop, &mut judge, &mut sink).map(|_| ()),
            }
        })?;
        (self.rounds, self.mutants, self.digest) = (camp.rounds(), camp.mutants(), camp.digest());
        Ok(())
    }
}

/// The page's [`Sink`]: the path of accepted steps and the deviation, kept for the page.
struct Keep<'s> {
    path: &'s mut Vec<Step>,
    found: &'s mut Option<Found>,
}

impl Sink for Keep<'_> {
    type Error = Failure;

    fn accepted(&mut self, _entry: usize, step: Step) -> Result<(), Failure> {
        self.path.push(step);
        Ok(())
    }

    fn deviation(&mut self, d: &Deviation<'_>) -> Result<(), Failure> {
        if let Some(step) = d.mutant {
            self.path.push(step);
        }
        let pixels = |v: &[f64]| v.iter().map(|&x| models::denormalize(x)).collect();
        *self.found = Some(Found {
            pixels: pixels(d.input),
            original_pixels: pixels(d.original),
            mpc_label: mpcdiff_kernel::difftest::fitness::argmax(d.mpc),
            input: d.input.to_vec(),
            original: d.original.to_vec(),
            mutant: d.mutant.map(|m| m.mutant),
            mutations: d.mutations,
            path: self.path.clone(),
            mpc_seed: d.mpc_seed,
            label: usize::from(d.label),
            plaintext: d.plaintext.to_vec(),
            mpc: d.mpc.to_vec(),
            l2: d.l2,
            linf: d.linf,
            flips: d.runs.flips,
            runs: d.runs.runs,
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{synthetic_digit, Settings};

    fn search(seed: u64, index: u64, o: SearchOptions) -> (Session, Search, Progress) {
        let mut s = Session::new("lenet", Settings::default()).unwrap();
        let (_, px) = synthetic_digit(seed, index).unwrap();
        let mut search = Search::start(&mut s, &px, o).unwrap();
        let mut p = search.step(&mut s, 0).unwrap();
        while !p.done() {
            p = search.step(&mut s, 7).unwrap();
        }
        (s, search, p)
    }

    // Goal: a search is a pure function of its settings, whatever the step sizes, and a
    // found input really deviates when replayed with its recorded seed.
    #[test]
    fn searches_replay_and_what_they_find_deviates() {
        let o = SearchOptions {
            mutations: 300,
            ..SearchOptions::default()
        };
        // Digit 0 of seed 4 is one the CLI's campaign found a deviation from (README).
        let (mut a, sa, pa) = search(4, 0, o);
        let mut b = Session::new("lenet", Settings::default()).unwrap();
        let (_, px) = synthetic_digit(4, 0).unwrap();
        let mut sb = Search::start(&mut b, &px, o).unwrap();
        let pb = sb.step(&mut b, u64::MAX).unwrap();
        assert_eq!(pa, pb, "one call or many, the same campaign");
        assert_eq!(pa.status, Status::Found);
        let f = sa.found().unwrap().clone();
        assert_eq!(&f, sb.found().unwrap());
        let plain = a.plaintext(&f.input, 1, None).unwrap();
        assert_eq!(plain, f.plaintext);
        let (mpc, _) = a.mpc(&f.input, f.mpc_seed, None).unwrap();
        assert_eq!(mpc, f.mpc);
        assert!(mpcdiff_kernel::difftest::fitness::is_deviation(
            &plain, &mpc, f.label
        ));
        assert!(f.flips >= 1 && f.flips <= f.runs && f.runs == 8);
        assert_eq!(f.path.last().map(|s| s.mutant), f.mutant);
        assert!(f.l2 > 0.0 && f.linf > 0.0 && f.linf <= f.l2);
        assert!(f.pixels.iter().all(|p| (-1e-6..=1.0 + 1e-6).contains(p)));
    }

    // Goal: without a deviation in reach the search spends exactly its budget; other seeds
    // give other campaigns.
    #[test]
    fn a_search_stops_at_its_budget_and_follows_its_seed() {
        let o = SearchOptions {
            mutations: 40,
            seed: 9,
            ..SearchOptions::default()
        };
        let (_, _, p) = search(1, 0, o);
        assert_eq!(p.status, Status::Active);
        assert_eq!((p.mutants, p.rounds), (40, 40));
        let (_, _, q) = search(1, 0, SearchOptions { seed: 10, ..o });
        assert_ne!(p.digest, q.digest);
    }

    #[test]
    fn bad_search_arguments_are_refused() {
        let mut s = Session::new("lenet", Settings::default()).unwrap();
        let px = vec![0.0f32; 784];
        let zero = SearchOptions {
            mutations: 0,
            ..SearchOptions::default()
        };
        assert!(Search::start(&mut s, &px, zero).is_err());
        assert!(Search::start(&mut s, &px[..10], SearchOptions::default()).is_err());
        assert!(mutator_arg("gaussian").is_err());
        assert!(fitness_arg("l1").is_err());
    }
}
