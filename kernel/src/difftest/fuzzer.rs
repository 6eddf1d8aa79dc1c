//! The deviation search as one driver: admission, rounds, deviation records with their
//! probability over MPC seeds, pushed to a [`Sink`] the caller provides.
//!
//! [`Campaign`] is the seeded state machine (ask / tell); the [`Fuzzer`] drives it: it
//! evaluates the seeds and the mutants through a [`Judge`] (the kernel's [`Evaluator`] on one
//! thread, or the CLI's thread pool), applies the outcomes in proposal order and pushes what
//! happened to a [`Sink`], the way ripgrep's searcher pushes matches: the CLI's sink writes
//! JSON Lines, checkpoints and a progress bar; the browser's keeps the deviation for the page.
//! Both run this code, so `mpcdiff fuzz` and the page's search give the same bytes.
//!
//! # Memory
//! One round's buffers, caller-provided: [`Fuzzer::floats`] `f64`s, and `round_size`
//! [`Proposal`]s and [`Trial`]s.
//!
//! [`Evaluator`]: super::evaluator::Evaluator

use super::campaign::{evaluation_seed, Campaign, Evaluation, Event, Proposal, Status};
use super::evaluator::{Evaluator, Runs};
use super::mutation::{distance, Descent, Operator};
use crate::error::{Error, Result};
use crate::nn::forward::Plan;

/// One accepted mutation on the path from a seed to its deviation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// The mutant's number in the campaign (its randomness is sub-stream `mutant`).
    pub mutant: u64,
    /// The operator that made it.
    pub op: Operator,
}

/// A deviation as found: everything a record of it holds, borrowed from the fuzzer's buffers
/// (a sink copies what it keeps). The path of accepted steps that led to it is the sink's to
/// keep, from [`Sink::accepted`] (it ends with [`Deviation::mutant`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Deviation<'a> {
    /// The corpus entry (its position in the campaign).
    pub entry: usize,
    /// The entry's id in its source ([`Entry::seed`](super::campaign::Entry::seed)).
    pub seed_id: u32,
    /// The label it keeps in plaintext (the true label).
    pub label: u16,
    /// The mutant that deviated (`None`: the seed itself, at admission).
    pub mutant: Option<Step>,
    /// Mutations of the seed until then.
    pub mutations: u32,
    /// Seed of the MPC session that deviated (replays it alone).
    pub mpc_seed: u64,
    /// Plaintext logits.
    pub plaintext: &'a [f64],
    /// MPC logits in that session.
    pub mpc: &'a [f64],
    /// ‖input − original‖₂.
    pub l2: f64,
    /// ‖input − original‖∞.
    pub linf: f64,
    /// Its MPC sessions (the finding one and re-seeded ones) and how many flip.
    pub runs: Runs,
    /// The deviating input.
    pub input: &'a [f64],
    /// The seed's original input.
    pub original: &'a [f64],
}

/// Where a [`Fuzzer`] pushes what it finds.
pub trait Sink {
    /// The sink's own failures (a kernel [`Error`] converts into it).
    type Error: From<Error>;

    /// A mutant of `entry` replaced its current input.
    ///
    /// # Errors
    /// The sink's; it stops the search.
    fn accepted(&mut self, entry: usize, step: Step) -> core::result::Result<(), Self::Error> {
        let _ = (entry, step);
        Ok(())
    }

    /// A deviation was found (at admission, or by mutation).
    ///
    /// # Errors
    /// The sink's; it stops the search.
    fn deviation(&mut self, d: &Deviation<'_>) -> core::result::Result<(), Self::Error>;

    /// Called before every round of [`Fuzzer::run`] with the campaign between rounds (for
    /// checkpoints and progress): `false` stops the search there.
    ///
    /// # Errors
    /// The sink's; it stops the search.
    fn proceed(&mut self, campaign: &Campaign<'_>) -> core::result::Result<bool, Self::Error> {
        let _ = campaign;
        Ok(true)
    }
}

/// What one input of a round is judged against, and the verdict.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trial {
    /// Seed of the MPC session that evaluates it.
    pub seed: u64,
    /// The label it must keep.
    pub label: u16,
    /// Set by the [`Judge`]: its MPC sessions and flips, when it deviates.
    pub runs: Runs,
    /// Set by the fuzzer: what the campaign made of it.
    pub event: Event,
}

impl Default for Trial {
    fn default() -> Self {
        Trial {
            seed: 0,
            label: 0,
            runs: Runs::default(),
            event: Event::Ignored,
        }
    }
}

/// Evaluates a round's inputs both ways: what a deviation search needs of each one.
///
/// The kernel's [`Judged`] judges in order on one thread; the CLI
/// judges on a thread pool (one [`super::evaluator::Evaluator`] per thread).
/// Every input carries its own seed, so both give the same bytes.
pub trait Judge {
    /// For each input `j` of `inputs` (`trials.len()` inputs back to back): the plaintext
    /// logits into `plain[j]`, the MPC logits (session seeded `trials[j].seed`) into
    /// `mpc[j]`; when they deviate from `trials[j].label`
    /// ([`is_deviation`](super::fitness::is_deviation)), `trials[j].runs` counts over
    /// `repeats` sessions (that one and its [`repeat_seed`](super::campaign::repeat_seed)s)
    /// how many flip the label, else it is `Runs::default()`.
    ///
    /// # Errors
    /// The evaluation's.
    fn judge(
        &mut self,
        inputs: &[f64],
        trials: &mut [Trial],
        repeats: u32,
        plain: &mut [f64],
        mpc: &mut [f64],
    ) -> Result<()>;

    /// The plaintext model's margin gradient, for [`Operator::Gradient`] (none by default:
    /// campaigns that draw that operator fail).
    fn descent(&mut self) -> Option<&mut dyn Descent> {
        None
    }
}

/// Why [`Fuzzer::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The mutation budget is spent.
    Budget,
    /// No entry is active any more.
    Corpus,
    /// The sink said stop ([`Sink::proceed`]).
    Sink,
}

/// The campaign driver (module doc).
pub struct Fuzzer<'a, 'm> {
    campaign: &'a mut Campaign<'m>,
    repeats: u32,
    classes: usize,
    proposals: &'a mut [Proposal],
    trials: &'a mut [Trial],
    floats: &'a mut [f64],
}

impl<'a, 'm> Fuzzer<'a, 'm> {
    /// `f64`s of a fuzzer's round memory: `round × (input + 2·classes)` (saturating at
    /// `usize::MAX`, a size no buffer has).
    pub const fn floats(round: usize, input: usize, classes: usize) -> usize {
        round.saturating_mul(input.saturating_add(classes.saturating_mul(2)))
    }

    /// Inputs the round memory holds at once: one per trial, as far as `floats` reaches (at
    /// least the round size, which [`Fuzzer::new`] checked).
    fn chunk(&self) -> usize {
        let per = Self::floats(1, self.campaign.domain().len(), self.classes).max(1);
        self.trials.len().min(self.floats.len() / per)
    }

    /// A driver of `campaign` whose deviations are judged over `repeats` MPC sessions, with
    /// `classes` logits per input; `proposals` and `trials` hold one round (the campaign's
    /// round size) and `floats` [`Fuzzer::floats`].
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] for short buffers, [`Error::OutOfRange`] for no classes.
    pub fn new(
        campaign: &'a mut Campaign<'m>,
        classes: usize,
        repeats: u32,
        proposals: &'a mut [Proposal],
        trials: &'a mut [Trial],
        floats: &'a mut [f64],
    ) -> Result<Self> {
        let round = campaign.settings().round_size;
        let n = campaign.domain().len();
        if classes < 2 {
            return Err(Error::OutOfRange {
                what: "a classifier has at least two classes",
            });
        }
        for (needed, got) in [
            (round, proposals.len()),
            (round, trials.len()),
            (Self::floats(round, n, classes), floats.len()),
        ] {
            if got < needed {
                return Err(Error::BufferTooSmall { needed, got });
            }
        }
        Ok(Fuzzer {
            campaign,
            repeats: repeats.max(1),
            classes,
            proposals,
            trials,
            floats,
        })
    }

    /// The campaign.
    pub fn campaign(&self) -> &Campaign<'m> {
        self.campaign
    }

    /// Evaluates every entry's original input and admits it (module doc of
    /// [`Campaign::admit`]); each one that already deviates goes to `sink`, in entry order.
    ///
    /// # Errors
    /// The judge's and the sink's.
    pub fn admit<S: Sink>(
        &mut self,
        judge: &mut dyn Judge,
        sink: &mut S,
    ) -> core::result::Result<(), S::Error> {
        let n = self.campaign.domain().len();
        let c = self.classes;
        let chunk = self.chunk();
        let entries = self.campaign.entries().len();
        let mpc_seed = self.campaign.settings().mpc_seed;
        let mut start = 0;
        while start < entries {
            let k = chunk.min(entries - start);
            let (inputs, rest) = self.floats.split_at_mut(chunk * n);
            let (plain, mpc) = rest.split_at_mut(chunk * c);
            for j in 0..k {
                let i = start + j;
                inputs[j * n..(j + 1) * n].copy_from_slice(self.campaign.original(i));
                self.trials[j] = Trial {
                    seed: evaluation_seed(mpc_seed, Evaluation::Seed(i as u64)),
                    label: self.campaign.entries()[i].label,
                    ..Trial::default()
                };
            }
            judge.judge(
                &inputs[..k * n],
                &mut self.trials[..k],
                self.repeats,
                &mut plain[..k * c],
                &mut mpc[..k * c],
            )?;
            for j in 0..k {
                let i = start + j;
                let (pl, mp) = (&plain[j * c..(j + 1) * c], &mpc[j * c..(j + 1) * c]);
                if self.campaign.admit(i, pl, mp)? == Status::Found {
                    let x = self.campaign.original(i);
                    sink.deviation(&Deviation {
                        entry: i,
                        seed_id: self.campaign.entries()[i].seed,
                        label: self.campaign.entries()[i].label,
                        mutant: None,
                        mutations: 0,
                        mpc_seed: self.trials[j].seed,
                        plaintext: pl,
                        mpc: mp,
                        l2: 0.0,
                        linf: 0.0,
                        runs: self.trials[j].runs,
                        input: x,
                        original: x,
                    })?;
                }
            }
            start += k;
        }
        Ok(())
    }

    /// One round of at most `limit` mutants: propose, judge, tell, and push the accepted
    /// steps and the deviations to `sink` in proposal order. Returns the mutants (0: nothing
    /// left to do).
    ///
    /// # Errors
    /// The campaign's, the judge's and the sink's.
    pub fn round<S: Sink>(
        &mut self,
        limit: u64,
        judge: &mut dyn Judge,
        sink: &mut S,
    ) -> core::result::Result<usize, S::Error> {
        let n = self.campaign.domain().len();
        let c = self.classes;
        let round = self.chunk();
        let (inputs, rest) = self.floats.split_at_mut(round * n);
        let (plain, mpc) = rest.split_at_mut(round * c);
        let k = self
            .campaign
            .propose_with(limit, self.proposals, inputs, judge.descent())?;
        for j in 0..k {
            let p = &self.proposals[j];
            let label = self
                .campaign
                .entries()
                .get(p.entry as usize)
                .ok_or(Error::OutOfRange {
                    what: "proposal entry index",
                })?
                .label;
            self.trials[j] = Trial {
                seed: p.mpc_seed,
                label,
                ..Trial::default()
            };
        }
        judge.judge(
            &inputs[..k * n],
            &mut self.trials[..k],
            self.repeats,
            &mut plain[..k * c],
            &mut mpc[..k * c],
        )?;
        let trials = &mut *self.trials;
        self.campaign.tell(
            &self.proposals[..k],
            &inputs[..k * n],
            &plain[..k * c],
            &mpc[..k * c],
            &mut |j, ev| trials[j].event = ev,
        )?;
        for j in 0..k {
            let p = self.proposals[j];
            let e = p.entry as usize;
            let step = Step {
                mutant: p.mutant,
                op: p.operator(),
            };
            match self.trials[j].event {
                Event::Accepted => sink.accepted(e, step)?,
                Event::Found => {
                    let x = &inputs[j * n..(j + 1) * n];
                    let original = self.campaign.original(e);
                    let (l2, linf) = distance(x, original);
                    let entry = &self.campaign.entries()[e];
                    sink.deviation(&Deviation {
                        entry: e,
                        seed_id: entry.seed,
                        label: entry.label,
                        mutant: Some(step),
                        mutations: entry.mutations,
                        mpc_seed: p.mpc_seed,
                        plaintext: &plain[j * c..(j + 1) * c],
                        mpc: &mpc[j * c..(j + 1) * c],
                        l2,
                        linf,
                        runs: self.trials[j].runs,
                        input: x,
                        original,
                    })?;
                }
                _ => {}
            }
        }
        Ok(k)
    }

    /// Rounds until `budget` mutants in all, no active entry, or the sink's stop.
    ///
    /// # Errors
    /// As [`Fuzzer::round`].
    pub fn run<S: Sink>(
        &mut self,
        budget: u64,
        judge: &mut dyn Judge,
        sink: &mut S,
    ) -> core::result::Result<Stop, S::Error> {
        loop {
            if self.campaign.mutants() >= budget {
                return Ok(Stop::Budget);
            }
            if self.campaign.active() == 0 {
                return Ok(Stop::Corpus);
            }
            if !sink.proceed(self.campaign)? {
                return Ok(Stop::Sink);
            }
            let left = budget - self.campaign.mutants();
            if self.round(left, judge, sink)? == 0 {
                return Ok(Stop::Corpus);
            }
        }
    }
}

/// An [`Evaluator`] with the plan its MPC model runs: a [`Judge`] on one thread.
pub struct Judged<'e, 't, 'b> {
    /// The evaluator.
    pub evaluator: &'e mut Evaluator<'t, 'b>,
    /// The MPC model's plan.
    pub plan: &'e dyn Plan,
    /// The plaintext model's margin gradient, for campaigns whose mutator draws
    /// [`Operator::Gradient`](super::mutation::Operator) (e.g. [`crate::nn::gradient::Plain`]).
    pub descent: Option<&'e mut dyn Descent>,
}

impl Judge for Judged<'_, '_, '_> {
    fn judge(
        &mut self,
        inputs: &[f64],
        trials: &mut [Trial],
        repeats: u32,
        plain: &mut [f64],
        mpc: &mut [f64],
    ) -> Result<()> {
        let k = trials.len();
        let n = self.evaluator.target().model.input.len();
        let c = self.evaluator.classes();
        let (kn, kc) = (k.saturating_mul(n), k.saturating_mul(c));
        if inputs.len() != kn || plain.len() < kc || mpc.len() < kc {
            return Err(Error::ShapeMismatch {
                expected: kn,
                got: inputs.len(),
            });
        }
        for (j, t) in trials.iter_mut().enumerate() {
            t.runs = self.evaluator.judge_one(
                &inputs[j * n..(j + 1) * n],
                t.seed,
                t.label,
                repeats,
                self.plan,
                &mut plain[j * c..(j + 1) * c],
                &mut mpc[j * c..(j + 1) * c],
            )?;
        }
        Ok(())
    }

    fn descent(&mut self) -> Option<&mut dyn Descent> {
        match &mut self.descent {
            Some(d) => Some(&mut **d),
            None => None,
        }
    }
}
