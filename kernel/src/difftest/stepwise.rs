//! A campaign over a corpus of one input, advanced a bounded number of mutants per call.
//!
//! This is the browser's "search for a deviation": `mpcdiff fuzz` on a one-line corpus, with
//! the same [`Campaign`], [`Fuzzer`] and seeds, but driven in slices so that a worker can
//! report progress and stop between calls. Slicing changes nothing: a campaign's counters and
//! digest are carried from call to call ([`Campaign::resume`]), so one call or many give the
//! same bits, and the same bits as the CLI's campaign written by [`Stepwise::write_command`].
//!
//! What differs from a CLI campaign, and why:
//! * The label is the plaintext model's label of the input (a drawing has no true label): a
//!   deviation is an input the plaintext model still gives that label and the MPC model does
//!   not.
//! * One seed cannot be dropped early: the drop threshold is the whole mutation budget, so
//!   the search climbs its fitness until it finds a deviation or spends the budget.
//!
//! The state between calls is a small `Copy` value ([`Stepwise`]); the inputs and the round
//! memory are the caller's ([`Memory`], sized by [`Footprint::of`]), and what is found goes to
//! the caller's [`Sink`] (which keeps the path of accepted steps if it wants it).

use core::fmt::{self, Write};

use super::campaign::{Campaign, Entry, Guide, Proposal, Schedule, Settings, Status};
use super::evaluator::Evaluator;
use super::fitness::{argmax, Fitness};
use super::fuzzer::{Fuzzer, Judged, Sink, Trial};
use super::mutation::{Descent, Domain, Mutator};
use super::oracle::Target;
use crate::error::{Error, Result};
use crate::nn::forward::Plan;
use crate::nn::gradient;
use crate::nn::model::Model;

/// Mutants per round: `mpcdiff fuzz`'s default (with one seed every round has one mutant, so
/// it does not change the result; it is recorded for the CLI's command line).
pub const ROUND_SIZE: usize = 20;
/// The most mutants one campaign may spend (the drop threshold is a `u32`).
pub const MUTATIONS_MAX: u64 = 1_000_000;
/// The most MPC runs per found deviation.
pub const REPEATS_MAX: u32 = 64;

/// The domain of an MNIST model's inputs: normalised pixels of intensities in [0, 1] (the
/// CLI's for a corpus file on an MNIST model).
pub fn mnist_domain() -> Domain<'static> {
    Domain::Image {
        channels: 1,
        height: crate::digits::SIDE,
        width: crate::digits::SIDE,
        lo: f64::from(crate::digits::normalize(0.0)),
        hi: f64::from(crate::digits::normalize(1.0)),
    }
}

/// How a campaign runs (`mpcdiff fuzz`'s flags of the same names).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// Seeds the mutation and scheduling streams (`--seed`).
    pub seed: u64,
    /// Mutants at most (also the drop threshold: see the module doc).
    pub mutations: u64,
    /// What the search climbs.
    pub fitness: Fitness,
    /// How mutants are made.
    pub mutator: Mutator,
    /// MPC runs per found deviation for its probability (`--repeats`).
    pub repeats: u32,
    /// Seeds the MPC sessions (`--mpc-seed`).
    pub mpc_seed: u64,
}

/// Where a campaign stands after a call.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Mutants evaluated.
    pub mutants: u64,
    /// The budget.
    pub budget: u64,
    /// Rounds.
    pub rounds: u64,
    /// The seed's status: active (still searching), found, dropped (budget spent: never
    /// before it), skipped (the plaintext model's label could not be established).
    pub status: Status,
    /// The fitness of the current input.
    pub fitness: f64,
    /// Mutants accepted so far.
    pub accepted: u32,
    /// The campaign digest (equal digests, equal campaigns).
    pub digest: u64,
    /// Whether the campaign is over (found, or the budget spent).
    pub done: bool,
}

/// Sizes of [`Memory`] for a model and a mutator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    /// [`Memory::inputs`]: the original and the current input.
    pub inputs: usize,
    /// [`Memory::proposals`] and [`Memory::trials`]: one round.
    pub round: usize,
    /// [`Memory::floats`]: the fuzzer's round memory, and the plaintext gradient's parameters
    /// and tape for the gradient mutator.
    pub floats: usize,
}

impl Footprint {
    /// What a campaign of `mutator` over `model` needs.
    ///
    /// # Errors
    /// [`gradient::params_len`]'s for the gradient mutator.
    pub fn of(model: &Model<'_>, mutator: &Mutator) -> Result<Footprint> {
        let n = model.input.len();
        let mut floats = Fuzzer::floats(ROUND_SIZE, n, model.classes);
        if uses_gradient(mutator) {
            floats = floats
                .saturating_add(gradient::params_len(model)?)
                .saturating_add(gradient::tape_elems(model));
        }
        Ok(Footprint {
            inputs: n.saturating_mul(2),
            round: ROUND_SIZE,
            floats,
        })
    }
}

/// The caller's memory of a campaign ([`Footprint::of`] sizes it). `inputs` carries the
/// campaign's state between calls; the rest is scratch.
pub struct Memory<'b> {
    /// The original input, then the current one.
    pub inputs: &'b mut [f64],
    /// One round's proposals.
    pub proposals: &'b mut [Proposal],
    /// One round's trials.
    pub trials: &'b mut [Trial],
    /// Round memory (and the gradient's).
    pub floats: &'b mut [f64],
}

fn uses_gradient(m: &Mutator) -> bool {
    m.name() == "gradient"
}

/// A campaign over one input between calls (module doc).
#[derive(Clone, Copy, Debug)]
pub struct Stepwise<'d> {
    settings: Settings,
    domain: Domain<'d>,
    entries: [Entry; 1],
    rounds: u64,
    mutants: u64,
    digest: u64,
    budget: u64,
    repeats: u32,
}

impl<'d> Stepwise<'d> {
    /// Starts a campaign from the model input `x` (in `memory.inputs`' front half afterwards)
    /// and admits it: its label is the plaintext model's; if the MPC model already disagrees,
    /// the campaign is over at once (found at admission, reported to `sink`). `ev` and `plan`
    /// are the models it runs against, here and in every [`Stepwise::step`].
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for a budget outside `1..=`[`MUTATIONS_MAX`] or repeats outside
    /// `1..=`[`REPEATS_MAX`]; [`Error::ShapeMismatch`] for an input of the wrong length;
    /// [`Error::BufferTooSmall`] for short memory; the campaign's, the judge's and the sink's.
    #[allow(clippy::too_many_arguments)]
    pub fn start<S: Sink>(
        ev: &mut Evaluator<'_, '_>,
        plan: &dyn Plan,
        domain: Domain<'d>,
        o: Options,
        x: &[f64],
        memory: Memory<'_>,
        sink: &mut S,
    ) -> core::result::Result<Stepwise<'d>, S::Error> {
        if !(1..=MUTATIONS_MAX).contains(&o.mutations) {
            return Err(Error::OutOfRange {
                what: "mutations must be in 1..=1000000",
            }
            .into());
        }
        if !(1..=REPEATS_MAX).contains(&o.repeats) {
            return Err(Error::OutOfRange {
                what: "repeats must be in 1..=64",
            }
            .into());
        }
        let n = domain.len();
        if x.len() != n {
            return Err(Error::ShapeMismatch {
                expected: n,
                got: x.len(),
            }
            .into());
        }
        let classes = ev.classes();
        check(n.saturating_mul(2), memory.inputs.len())?;
        check(classes, memory.floats.len())?;
        memory.inputs[..n].copy_from_slice(x);
        memory.inputs[n..2 * n].copy_from_slice(x);
        let logits = &mut memory.floats[..classes];
        ev.plaintext(x, 1, None, logits)?;
        let label = u16::try_from(argmax(logits)).map_err(|_| Error::OutOfRange {
            what: "a label must fit 16 bits",
        })?;
        let mut s = Stepwise {
            settings: Settings {
                seed: o.seed,
                mpc_seed: o.mpc_seed,
                round_size: ROUND_SIZE,
                threshold: o.mutations as u32,
                schedule: Schedule::Energy,
                guide: Guide::Err,
                fitness: o.fitness,
                mutator: o.mutator,
            },
            domain,
            entries: [Entry::new(0, label)],
            rounds: 0,
            mutants: 0,
            digest: 0,
            budget: o.mutations,
            repeats: o.repeats,
        };
        s.drive(ev, plan, None, memory, sink)?;
        Ok(s)
    }

    /// Runs the campaign for at most `max` more mutants (one per round: the corpus has one
    /// seed) and says where it stands.
    ///
    /// # Errors
    /// As [`Stepwise::start`].
    pub fn step<S: Sink>(
        &mut self,
        ev: &mut Evaluator<'_, '_>,
        plan: &dyn Plan,
        max: u64,
        memory: Memory<'_>,
        sink: &mut S,
    ) -> core::result::Result<Progress, S::Error> {
        let stop = self.mutants.saturating_add(max).min(self.budget);
        if self.mutants < stop && self.entries[0].status == Status::Active {
            self.drive(ev, plan, Some(stop), memory, sink)?;
        }
        Ok(self.progress())
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

    /// The plaintext label the campaign keeps.
    pub fn label(&self) -> usize {
        usize::from(self.entries[0].label)
    }

    /// The campaign settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The start `original` as one line of an `mpcdiff fuzz --corpus` file:
    /// `{"input":[…],"label":k}`, numbers printed round-trip exact.
    ///
    /// # Errors
    /// The writer's.
    pub fn write_corpus_line(&self, original: &[f64], w: &mut dyn Write) -> fmt::Result {
        w.write_str("{\"input\":[")?;
        for (i, v) in original.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            write!(w, "{sep}{v:?}")?;
        }
        write!(w, "],\"label\":{}}}", self.label())
    }

    /// The `mpcdiff fuzz` command that runs this campaign natively against `target` (named
    /// `model` on the command line) on a file holding [`Stepwise::write_corpus_line`], left
    /// as `CORPUS`; `with_plan` adds `--plan PLAN` (the caller's level plan saved as a file).
    /// The flags are written by the same code as the CLI's own `replay:` line.
    ///
    /// # Errors
    /// The writer's.
    pub fn write_command(
        &self,
        target: &Target<'_, '_>,
        model: &str,
        with_plan: bool,
        w: &mut dyn Write,
    ) -> fmt::Result {
        w.write_str("mpcdiff fuzz ")?;
        target.write_flags(model, w)?;
        w.write_char(' ')?;
        self.settings.write_flags(1, self.budget, self.repeats, w)?;
        if with_plan {
            w.write_str(" --plan PLAN")?;
        }
        w.write_str(" --corpus CORPUS")
    }

    /// The kernel's [`Fuzzer`] over the one entry: admission (`until` is `None`), or rounds
    /// until `until` mutants in all.
    fn drive<S: Sink>(
        &mut self,
        ev: &mut Evaluator<'_, '_>,
        plan: &dyn Plan,
        until: Option<u64>,
        memory: Memory<'_>,
        sink: &mut S,
    ) -> core::result::Result<(), S::Error> {
        let t = *ev.target();
        let (n, classes) = (self.domain.len(), t.model.classes);
        check(n.saturating_mul(2), memory.inputs.len())?;
        let (original, current) = memory.inputs.split_at_mut(n);
        let fuzz = Fuzzer::floats(self.settings.round_size, n, classes);
        check(fuzz, memory.floats.len())?;
        let (floats, rest) = memory.floats.split_at_mut(fuzz);
        // The plaintext margin's gradient, for the gradient mutator (as the CLI's judge has).
        let gradient = uses_gradient(&self.settings.mutator);
        let (mut params, mut tape): (&mut [f64], &mut [f64]) = (&mut [], &mut []);
        if gradient {
            let p = gradient::params_len(t.model)?;
            let need = p.saturating_add(gradient::tape_elems(t.model));
            check(need, rest.len())?;
            let (a, b) = rest.split_at_mut(p);
            gradient::Plain::load(t.model, a)?;
            (params, tape) = (a, b);
        }
        let mut plain = gradient::Plain::new(t.model, &*params, tape);
        let mut camp = Campaign::new(
            self.settings,
            self.domain,
            &mut self.entries,
            &mut current[..n],
            original,
        )?;
        if until.is_some() {
            camp.resume(self.rounds, self.mutants, self.digest);
        }
        let mut judge = Judged {
            evaluator: ev,
            plan,
            descent: gradient.then_some(&mut plain as &mut dyn Descent),
        };
        let mut fuzzer = Fuzzer::new(
            &mut camp,
            classes,
            self.repeats,
            memory.proposals,
            memory.trials,
            floats,
        )?;
        match until {
            None => fuzzer.admit(&mut judge, sink)?,
            Some(stop) => {
                fuzzer.run(stop, &mut judge, sink)?;
            }
        }
        (self.rounds, self.mutants, self.digest) = (camp.rounds(), camp.mutants(), camp.digest());
        Ok(())
    }
}

fn check(needed: usize, got: usize) -> Result<()> {
    if got < needed {
        return Err(Error::BufferTooSmall { needed, got });
    }
    Ok(())
}
