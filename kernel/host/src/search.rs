//! "Search for a deviation": the kernel's [`Stepwise`] campaign over a session's model, its
//! memory between calls, and the [`Sink`] that keeps what the page shows of a deviation.
//!
//! The campaign is `mpcdiff fuzz` on a one-line corpus (the kernel's module doc says what
//! differs and why); [`Search::command`] is the command line that reproduces it, and the
//! browser test compares the two. Every evaluation uses the session's settings and level plan
//! *at the time of the call*; the page restarts the search when they change.

use mpcdiff_kernel::difftest::campaign::Proposal;
use mpcdiff_kernel::difftest::fitness::{argmax, Fitness};
pub use mpcdiff_kernel::difftest::fuzzer::Step;
use mpcdiff_kernel::difftest::fuzzer::{Deviation, Sink, Trial};
use mpcdiff_kernel::difftest::mutation::Mutator;
use mpcdiff_kernel::difftest::stepwise::{self, Footprint, Memory, Stepwise};
pub use mpcdiff_kernel::difftest::stepwise::{Options, Progress};
use mpcdiff_kernel::digits::denormalize;
use serde::Serialize;

use crate::session::Session;
use crate::{ser, Failure};

/// The mutator called `name` (as `mpcdiff fuzz --mutator` names it), on the MNIST domain.
pub fn mutator_arg(name: &str) -> Result<Mutator, Failure> {
    Mutator::by_name(name, &stepwise::mnist_domain()).ok_or(Failure::Argument {
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

/// A deviation the search found: the kernel's [`Deviation`], owned, with its path and its
/// inputs as pixel intensities for the page.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Found {
    #[serde(serialize_with = "ser::f32s")]
    pub pixels: Vec<f32>,
    #[serde(serialize_with = "ser::f32s")]
    pub original_pixels: Vec<f32>,
    /// The model input that deviates (normalised).
    #[serde(serialize_with = "ser::f64s")]
    pub input: Vec<f64>,
    /// The mutant's number, `None` if the original already deviates.
    pub mutant: Option<u64>,
    pub mutations: u32,
    /// The accepted mutants that led to it (their operators' names in JS).
    #[serde(serialize_with = "ser::path")]
    pub path: Vec<Step>,
    #[serde(serialize_with = "ser::decimal")]
    pub mpc_seed: u64,
    #[serde(rename = "plaintextLabel")]
    pub label: usize,
    pub mpc_label: usize,
    #[serde(rename = "plaintextLogits", serialize_with = "ser::f64s")]
    pub plaintext: Vec<f64>,
    #[serde(rename = "mpcLogits", serialize_with = "ser::f64s")]
    pub mpc: Vec<f64>,
    pub l2: f64,
    pub linf: f64,
    pub flips: u32,
    pub runs: u32,
}

/// The page's [`Sink`]: the path of accepted steps and the deviation.
#[derive(Clone, Debug, Default)]
struct Kept {
    path: Vec<Step>,
    found: Option<Found>,
}

impl Sink for Kept {
    type Error = Failure;

    fn accepted(&mut self, _entry: usize, step: Step) -> Result<(), Failure> {
        self.path.push(step);
        Ok(())
    }

    fn deviation(&mut self, d: &Deviation<'_>) -> Result<(), Failure> {
        self.path.extend(d.mutant);
        let pixels = |v: &[f64]| v.iter().map(|&x| denormalize(x)).collect();
        self.found = Some(Found {
            pixels: pixels(d.input),
            original_pixels: pixels(d.original),
            input: d.input.to_vec(),
            mutant: d.mutant.map(|m| m.mutant),
            mutations: d.mutations,
            path: self.path.clone(),
            mpc_seed: d.mpc_seed,
            label: usize::from(d.label),
            mpc_label: argmax(d.mpc),
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

/// A running search: the kernel campaign's state, its inputs and what the sink kept.
#[derive(Clone, Debug)]
pub struct Search {
    run: Stepwise<'static>,
    footprint: Footprint,
    /// The original input, then the current one (normalised).
    inputs: Vec<f64>,
    kept: Kept,
}

/// `f` with fresh scratch of `fp` and the search's inputs as the kernel's [`Memory`].
fn with_memory<R>(fp: &Footprint, inputs: &mut [f64], f: impl FnOnce(Memory<'_>) -> R) -> R {
    let (mut proposals, mut trials) = (
        vec![Proposal::default(); fp.round],
        vec![Trial::default(); fp.round],
    );
    let mut floats = vec![0.0; fp.floats];
    f(Memory {
        inputs,
        proposals: &mut proposals,
        trials: &mut trials,
        floats: &mut floats,
    })
}

impl Search {
    /// Starts a search in session `s` from the 28 × 28 image `pixels` (intensities in
    /// [0, 1]) and admits it ([`Stepwise::start`]). Like every evaluation of the session, it
    /// runs in the session's MPC seed: `o.mpc_seed` is replaced by it.
    pub fn start(s: &mut Session, pixels: &[f32], o: Options) -> Result<Search, Failure> {
        let x = s.normalized(pixels)?;
        let options = Options {
            mpc_seed: s.settings().mpc_seed,
            ..o
        };
        let footprint = Footprint::of(s.model(), &options.mutator)?;
        let mut inputs = vec![0.0; footprint.inputs];
        let mut kept = Kept::default();
        let run = s.evaluate(|ev, plan| {
            with_memory(&footprint, &mut inputs, |m| {
                let domain = stepwise::mnist_domain();
                Stepwise::start(ev, plan, domain, options, &x, m, &mut kept)
            })
        })?;
        Ok(Search {
            run,
            footprint,
            inputs,
            kept,
        })
    }

    /// Runs the search for at most `max` more mutants and says where it stands.
    pub fn step(&mut self, s: &mut Session, max: u64) -> Result<Progress, Failure> {
        let (run, kept) = (&mut self.run, &mut self.kept);
        s.evaluate(|ev, plan| {
            with_memory(&self.footprint, &mut self.inputs, |m| {
                run.step(ev, plan, max, m, kept)
            })
        })
    }

    /// Where it stands.
    pub fn progress(&self) -> Progress {
        self.run.progress()
    }

    /// The found deviation, if any.
    pub fn found(&self) -> Option<&Found> {
        self.kept.found.as_ref()
    }

    /// The input the search started from (normalised).
    pub fn original(&self) -> &[f64] {
        &self.inputs[..self.inputs.len() / 2]
    }

    /// The search's start as one line of an `mpcdiff fuzz --corpus` file.
    pub fn corpus_line(&self) -> String {
        let mut line = String::new();
        // Writing into a String cannot fail.
        let _ = self.run.write_corpus_line(self.original(), &mut line);
        line
    }

    /// The `mpcdiff fuzz` command line (program name first) that runs the search's campaign
    /// natively on a file holding [`Search::corpus_line`] (`CORPUS`), with `--plan PLAN` if
    /// `s` has a level plan: the kernel's [`Stepwise::write_command`].
    pub fn command(&self, s: &Session) -> Vec<String> {
        let mut line = String::new();
        let with_plan = !s.plan().layers.is_empty();
        let _ = self
            .run
            .write_command(&s.target(), s.model_name(), with_plan, &mut line);
        line.split(' ').map(String::from).collect()
    }
}
