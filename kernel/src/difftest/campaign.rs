//! The differential-testing loop: a corpus of seed inputs, mutated in rounds, kept or dropped by
//! their fitness.
//!
//! # The artifact's loop, and ours
//! MPCDiff (`fuzz.py`) admits the first 1000 test inputs, then repeats until 15 000 mutations:
//! pick a seed uniformly, mutate it, evaluate plaintext and MPC; a label flip away from a
//! correct plaintext label is a deviation (recorded, seed removed); otherwise the mutant
//! replaces the seed if its fitness (‖logit difference‖₂) grew, and a seed mutated more than
//! `mutation_th` times (10 MNIST, 30 tables) is dropped at its first non-improving mutation.
//! This module keeps those rules ([`Guide::Err`], the threshold, the deviation test) and fixes
//! what the research notes list:
//! * seeds the plaintext model gets wrong are skipped at admission (they can never count);
//! * [`Schedule::Energy`] picks seeds in proportion to their fitness (the artifact stores the
//!   error and then picks uniformly, [`Schedule::Uniform`]);
//! * everything is seeded (below), so a campaign is a pure function of its settings.
//!
//! # Rounds (ask / tell)
//! Work proceeds in rounds of at most `round_size` mutants: [`Campaign::propose`] picks
//! distinct active seeds and writes their mutants; the caller evaluates them in any order, on
//! any number of threads; [`Campaign::tell`] applies the outcomes **in proposal order**. The
//! result is therefore independent of the thread count, and a campaign stopped between rounds
//! resumes exactly from its [`Entry`] list, current inputs and two counters.
//!
//! # Seeds
//! * Round `r`'s picks: sub-stream `r` of [`StreamId::Schedule`] of the campaign seed.
//! * Mutant `m` (numbered from 0 across the campaign): its operator and noise come from
//!   sub-stream `m` of [`StreamId::Mutation`].
//! * Every MPC evaluation runs in a fresh session whose seed [`evaluation_seed`] derives from
//!   the MPC seed and what is evaluated, so each recorded deviation replays alone.

use rand_core::RngCore;

use super::fitness::{argmax, is_deviation, Fitness};
use super::mutation::{Descent, Domain, Mutator, Operator};
use crate::digest::Digest;
use crate::error::{check_len, Error, Result};
use crate::seed::{self, splitmix64, unit_f64, StreamId};

/// Where a corpus entry stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    /// Still being mutated.
    Active = 0,
    /// Its current input is a deviation (found at admission if `accepted == 0` and
    /// `mutations == 0`).
    Found = 1,
    /// Dropped after `threshold` mutations without progress.
    Dropped = 2,
    /// Not admitted: the plaintext model misclassifies it.
    Skipped = 3,
}

impl Status {
    /// The name used in result files.
    pub const fn name(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Found => "found",
            Status::Dropped => "dropped",
            Status::Skipped => "skipped",
        }
    }

    /// The status called `name`.
    pub fn by_name(name: &str) -> Option<Status> {
        [
            Status::Active,
            Status::Found,
            Status::Dropped,
            Status::Skipped,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// One seed of the corpus and its progress.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry {
    /// The seed's index in the corpus (e.g. its test-split index).
    pub seed: u32,
    /// Its true label.
    pub label: u16,
    /// Where it stands.
    pub status: Status,
    /// The fitness of its current input.
    pub fitness: f64,
    /// Mutants made from it.
    pub mutations: u32,
    /// Mutants that replaced its current input.
    pub accepted: u32,
    /// `1 +` the last round it was proposed in (0: never); makes a round's picks distinct.
    pub picked: u64,
}

impl Entry {
    /// A seed not yet admitted.
    pub const fn new(seed: u32, label: u16) -> Entry {
        Entry {
            seed,
            label,
            status: Status::Active,
            fitness: 0.0,
            mutations: 0,
            accepted: 0,
            picked: 0,
        }
    }
}

/// How seeds are picked for mutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Uniformly among active seeds (the artifact's `np.random.choice`).
    Uniform,
    /// In proportion to energy `fitness − min + 0.1·(max − min)` over active seeds: the
    /// fittest are mutated most, every seed keeps a chance.
    Energy,
}

impl Schedule {
    /// The name used on command lines and in result files.
    pub const fn name(self) -> &'static str {
        match self {
            Schedule::Uniform => "uniform",
            Schedule::Energy => "energy",
        }
    }

    /// The schedule called `name`.
    pub fn by_name(name: &str) -> Option<Schedule> {
        [Schedule::Uniform, Schedule::Energy]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

/// What a non-deviating mutant does to its seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guide {
    /// Replace the seed if the mutant is fitter (the artifact's default, `--guide err`).
    Err,
    /// Always replace it (the artifact's ablation, `--guide random`).
    Random,
}

impl Guide {
    /// The name used on command lines and in result files.
    pub const fn name(self) -> &'static str {
        match self {
            Guide::Err => "err",
            Guide::Random => "random",
        }
    }

    /// The guide called `name`.
    pub fn by_name(name: &str) -> Option<Guide> {
        [Guide::Err, Guide::Random]
            .into_iter()
            .find(|g| g.name() == name)
    }
}

/// A campaign's settings: with the corpus, the model and the oracle, they determine the result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Seeds the scheduling and mutation streams.
    pub seed: u64,
    /// Seeds the MPC sessions ([`evaluation_seed`]).
    pub mpc_seed: u64,
    /// Mutants per round (fixed, so results do not depend on threads).
    pub round_size: usize,
    /// Mutations after which a non-improving seed is dropped (10 MNIST, 30 tables).
    pub threshold: u32,
    /// Seed choice.
    pub schedule: Schedule,
    /// Replacement rule.
    pub guide: Guide,
    /// What is maximised.
    pub fitness: Fitness,
    /// How mutants are made.
    pub mutator: Mutator,
}

impl Settings {
    /// The `mpcdiff fuzz` flags that reproduce a campaign of these settings over `seeds`
    /// seeds with a budget of `mutations` and `repeats` MPC runs per deviation, in the CLI's
    /// order: `--seeds --mutations --seed --mpc-seed --round --threshold --schedule --guide
    /// --fitness --mutator --sigma --repeats [--linf] [--l2]`. The CLI's replay line and the
    /// page's command are both written here, so they cannot drift apart.
    ///
    /// # Errors
    /// The writer's.
    pub fn write_flags(
        &self,
        seeds: usize,
        mutations: u64,
        repeats: u32,
        w: &mut dyn core::fmt::Write,
    ) -> core::fmt::Result {
        let m = &self.mutator;
        write!(
            w,
            "--seeds {seeds} --mutations {mutations} --seed {} --mpc-seed {} --round {} \
             --threshold {} --schedule {} --guide {} --fitness {} --mutator {} --sigma {} \
             --repeats {repeats}",
            self.seed,
            self.mpc_seed,
            self.round_size,
            self.threshold,
            self.schedule.name(),
            self.guide.name(),
            self.fitness.name(),
            m.name(),
            m.sigma,
        )?;
        if let Some(v) = m.budget.linf {
            write!(w, " --linf {v}")?;
        }
        if let Some(v) = m.budget.l2 {
            write!(w, " --l2 {v}")?;
        }
        Ok(())
    }
}

/// What an MPC evaluation is of, for [`evaluation_seed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evaluation {
    /// Admission of corpus entry `i` (its index in the entry list).
    Seed(u64),
    /// Mutant `m`.
    Mutant(u64),
}

/// The seed of the MPC session that evaluates `what`, from the campaign's MPC seed:
/// `splitmix64(mpc_seed ^ splitmix64(2i))` for seed `i`, `splitmix64(mpc_seed ^
/// splitmix64(2m + 1))` for mutant `m`. Part of the reproducibility contract.
pub const fn evaluation_seed(mpc_seed: u64, what: Evaluation) -> u64 {
    let tag = match what {
        Evaluation::Seed(i) => i.wrapping_shl(1),
        Evaluation::Mutant(m) => m.wrapping_shl(1) | 1,
    };
    splitmix64(mpc_seed ^ splitmix64(tag))
}

/// Repetition `k` (k ≥ 1) of an evaluation with session seed `seed`, for the deviation
/// probability over MPC randomness: `splitmix64(seed ^ splitmix64(k))` (k = 0 is `seed`).
pub const fn repeat_seed(seed: u64, k: u64) -> u64 {
    if k == 0 {
        seed
    } else {
        splitmix64(seed ^ splitmix64(k))
    }
}

/// One mutant of a round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Proposal {
    /// The entry it was made from.
    pub entry: u32,
    /// Its number in the campaign.
    pub mutant: u64,
    /// The operator that made it ([`Operator::Gaussian`] in a default value).
    pub op: u8,
    /// The seed of the MPC session that must evaluate it.
    pub mpc_seed: u64,
}

impl Proposal {
    /// The operator that made it.
    pub fn operator(&self) -> Operator {
        Operator::ALL
            .get(usize::from(self.op))
            .copied()
            .unwrap_or(Operator::Gaussian)
    }
}

/// What [`Campaign::tell`] did with one mutant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Event {
    /// A deviation: the entry is done, its current input is the mutant.
    Found,
    /// The mutant was fitter (or the guide is random): it replaced the entry's input.
    Accepted,
    /// The mutant was discarded.
    Rejected,
    /// The mutant was discarded and the entry dropped.
    Dropped,
    /// The entry was already done (found earlier in the same round): the mutant is ignored.
    Ignored,
}

/// The state of a campaign over caller-provided storage.
pub struct Campaign<'a> {
    settings: Settings,
    domain: Domain<'a>,
    entries: &'a mut [Entry],
    current: &'a mut [f64],
    original: &'a [f64],
    rounds: u64,
    mutants: u64,
    digest: Digest,
}

impl<'a> Campaign<'a> {
    /// A campaign over `entries` (one per seed), their `original` inputs and their `current`
    /// inputs (both `entries.len() × domain.len()`). To start, `current` is a copy of
    /// `original` and every entry is admitted with [`Campaign::admit`]; to resume, pass the
    /// stored entries, inputs and counters.
    ///
    /// # Errors
    /// [`Domain::check`]'s, [`Error::ShapeMismatch`] for inconsistent lengths,
    /// [`Error::OutOfRange`] for a zero round size or an unusable mutator.
    pub fn new(
        settings: Settings,
        domain: Domain<'a>,
        entries: &'a mut [Entry],
        current: &'a mut [f64],
        original: &'a [f64],
    ) -> Result<Self> {
        domain.check()?;
        let n = domain.len();
        let total = entries.len().checked_mul(n).ok_or(Error::InvalidShape {
            what: "entries × input size overflows",
        })?;
        check_len(total, original.len())?;
        check_len(total, current.len())?;
        if settings.round_size == 0 {
            return Err(Error::OutOfRange {
                what: "round size must be at least 1",
            });
        }
        // Checks the mutator against the domain once, up front.
        let mut probe = seed::stream(0, StreamId::Mutation);
        settings.mutator.choose(&domain, &mut probe)?;
        Ok(Campaign {
            settings,
            domain,
            entries,
            current,
            original,
            rounds: 0,
            mutants: 0,
            digest: Digest::new(),
        })
    }

    /// Sets the counters of a resumed campaign. (Counters at their type's limit make the next
    /// [`Campaign::propose`] or [`Campaign::tell`] fail with [`Error::OutOfRange`].)
    pub fn resume(&mut self, rounds: u64, mutants: u64, digest: u64) {
        self.rounds = rounds;
        self.mutants = mutants;
        self.digest = Digest::from_state(digest);
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The input domain.
    pub fn domain(&self) -> &Domain<'a> {
        &self.domain
    }

    /// Rounds completed.
    pub fn rounds(&self) -> u64 {
        self.rounds
    }

    /// Mutants evaluated.
    pub fn mutants(&self) -> u64 {
        self.mutants
    }

    /// A digest of every outcome so far, in order (entry, mutant, event, logits' bits): equal
    /// digests mean equal campaigns, whatever platform or thread count ran them.
    pub fn digest(&self) -> u64 {
        self.digest.finish()
    }

    /// The entries.
    pub fn entries(&self) -> &[Entry] {
        self.entries
    }

    /// Entry `i`'s current input (its deviation once found); empty if `i` is not an entry.
    pub fn current(&self, i: usize) -> &[f64] {
        row(self.current, i, self.domain.len())
    }

    /// Entry `i`'s original input; empty if `i` is not an entry.
    pub fn original(&self, i: usize) -> &[f64] {
        row(self.original, i, self.domain.len())
    }

    /// Active entries.
    pub fn active(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.status == Status::Active)
            .count()
    }

    /// Admits entry `i` from the evaluation of its original input (MPC session seed
    /// `evaluation_seed(mpc_seed, Evaluation::Seed(i))`): skipped if the plaintext label is
    /// wrong, found if it already deviates, active otherwise.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the logits differ in length, [`Error::OutOfRange`] if `i`
    /// is not an entry.
    pub fn admit(&mut self, i: usize, plain: &[f64], mpc: &[f64]) -> Result<Status> {
        check_len(plain.len(), mpc.len())?;
        let fitness = self.settings.fitness;
        let e = self.entries.get_mut(i).ok_or(Error::OutOfRange {
            what: "entry index",
        })?;
        let label = usize::from(e.label);
        e.fitness = fitness.score(plain, mpc);
        e.status = if argmax(plain) != label {
            Status::Skipped
        } else if is_deviation(plain, mpc, label) {
            Status::Found
        } else {
            Status::Active
        };
        Ok(e.status)
    }

    /// Picks the next round's seeds and writes their mutants: proposal `j` into
    /// `proposals[j]` and `inputs[j·n..(j+1)·n]`. At most `min(round_size, limit,
    /// proposals.len())` mutants; 0 when no entry is active or `limit` is 0.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if `inputs` cannot hold the proposals;
    /// [`Error::OutOfRange`] if the round or mutant counter would pass `u64::MAX` (nothing is
    /// proposed then).
    pub fn propose(
        &mut self,
        limit: u64,
        proposals: &mut [Proposal],
        inputs: &mut [f64],
    ) -> Result<usize> {
        self.propose_with(limit, proposals, inputs, None)
    }

    /// [`Campaign::propose`] with the plaintext model's gradient for [`Operator::Gradient`]
    /// (computed here, in proposal order, so the result does not depend on who evaluates the
    /// mutants).
    ///
    /// # Errors
    /// As [`Campaign::propose`]; [`Error::OutOfRange`] if the gradient operator is drawn
    /// without a `descent`; the descent's.
    pub fn propose_with(
        &mut self,
        limit: u64,
        proposals: &mut [Proposal],
        inputs: &mut [f64],
        mut descent: Option<&mut dyn Descent>,
    ) -> Result<usize> {
        let n = self.domain.len();
        let want = (self.settings.round_size as u64)
            .min(limit)
            .min(proposals.len() as u64)
            .min(self.active() as u64) as usize;
        let needed = want.saturating_mul(n);
        if inputs.len() < needed {
            return Err(Error::BufferTooSmall {
                needed,
                got: inputs.len(),
            });
        }
        if want == 0 {
            return Ok(0);
        }
        let mark = self.rounds.checked_add(1).ok_or(COUNTERS_EXHAUSTED)?;
        self.mutants
            .checked_add(want as u64)
            .ok_or(COUNTERS_EXHAUSTED)?;
        let mut sched = seed::substream(self.settings.seed, StreamId::Schedule, self.rounds);
        for j in 0..want {
            let i = self.pick(mark, &mut sched);
            self.entries[i].picked = mark;
            let m = self.mutants + j as u64;
            let mut rng = seed::substream(self.settings.seed, StreamId::Mutation, m);
            let op = self.settings.mutator.choose(&self.domain, &mut rng)?;
            let (original, current) = (
                &self.original[i * n..(i + 1) * n],
                &self.current[i * n..(i + 1) * n],
            );
            let out = &mut inputs[j * n..(j + 1) * n];
            if op == Operator::Gradient {
                let d = descent.as_deref_mut().ok_or(Error::OutOfRange {
                    what:
                        "the gradient operator needs the plaintext model (a judge with a descent)",
                })?;
                let margin = d.margin_gradient(current, usize::from(self.entries[i].label), out)?;
                self.settings.mutator.step_to_boundary(
                    &self.domain,
                    original,
                    current,
                    margin,
                    out,
                    &mut rng,
                )?;
            } else {
                self.settings
                    .mutator
                    .apply(op, &self.domain, original, current, out, &mut rng)?;
            }
            proposals[j] = Proposal {
                entry: i as u32,
                mutant: m,
                op: op as u8,
                mpc_seed: evaluation_seed(self.settings.mpc_seed, Evaluation::Mutant(m)),
            };
        }
        Ok(want)
    }

    /// One active entry not yet picked in this round, by the schedule.
    fn pick(&self, mark: u64, rng: &mut impl RngCore) -> usize {
        let open = |e: &Entry| e.status == Status::Active && e.picked != mark;
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for e in self.entries.iter().filter(|e| open(e)) {
            lo = lo.min(e.fitness);
            hi = hi.max(e.fitness);
        }
        let energy = |e: &Entry| match self.settings.schedule {
            Schedule::Uniform => 1.0,
            Schedule::Energy if hi > lo => (e.fitness - lo) + 0.1 * (hi - lo),
            Schedule::Energy => 1.0,
        };
        let total: f64 = self.entries.iter().filter(|e| open(e)).map(energy).sum();
        let mut target = unit_f64(rng) * total;
        let mut last = 0;
        for (i, e) in self.entries.iter().enumerate().filter(|(_, e)| open(e)) {
            last = i;
            let w = energy(e);
            if target < w {
                return i;
            }
            target -= w;
        }
        // Rounding can leave `target` a hair above the sum: the last open entry.
        last
    }

    /// Applies a round's outcomes in proposal order: `plain` and `mpc` hold each mutant's
    /// logits (`classes` each), `inputs` the mutants as proposed. `on(j, event)` is told what
    /// happened to mutant `j`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the slices do not hold `proposals.len()` mutants;
    /// [`Error::OutOfRange`] if a proposal names no entry (the outcomes before it are applied)
    /// or the round or mutant counter would pass `u64::MAX` (nothing is applied then). An
    /// entry's `mutations` and `accepted` counters saturate at `u32::MAX`.
    pub fn tell(
        &mut self,
        proposals: &[Proposal],
        inputs: &[f64],
        plain: &[f64],
        mpc: &[f64],
        on: &mut dyn FnMut(usize, Event),
    ) -> Result<()> {
        let n = self.domain.len();
        let k = proposals.len();
        check_len(k.saturating_mul(n), inputs.len())?;
        check_len(plain.len(), mpc.len())?;
        if k == 0 {
            return Ok(());
        }
        let mutants = self
            .mutants
            .checked_add(k as u64)
            .ok_or(COUNTERS_EXHAUSTED)?;
        let rounds = self.rounds.checked_add(1).ok_or(COUNTERS_EXHAUSTED)?;
        if !plain.len().is_multiple_of(k) || plain.len() / k < 2 {
            return Err(Error::ShapeMismatch {
                expected: k * 2,
                got: plain.len(),
            });
        }
        let classes = plain.len() / k;
        let Settings {
            threshold,
            guide,
            fitness,
            ..
        } = self.settings;
        for (j, p) in proposals.iter().enumerate() {
            let i = p.entry as usize;
            let e = self.entries.get_mut(i).ok_or(Error::OutOfRange {
                what: "proposal entry index",
            })?;
            let (pl, mp) = (
                &plain[j * classes..(j + 1) * classes],
                &mpc[j * classes..(j + 1) * classes],
            );
            let mutant = &inputs[j * n..(j + 1) * n];
            let event = if e.status != Status::Active {
                Event::Ignored
            } else {
                e.mutations = e.mutations.saturating_add(1);
                let score = fitness.score(pl, mp);
                if is_deviation(pl, mp, usize::from(e.label)) {
                    e.status = Status::Found;
                    e.fitness = score;
                    self.current[i * n..(i + 1) * n].copy_from_slice(mutant);
                    Event::Found
                } else if guide == Guide::Random || score > e.fitness {
                    e.fitness = score;
                    e.accepted = e.accepted.saturating_add(1);
                    self.current[i * n..(i + 1) * n].copy_from_slice(mutant);
                    if guide == Guide::Random && e.mutations >= threshold {
                        e.status = Status::Dropped;
                    }
                    Event::Accepted
                } else if e.mutations >= threshold {
                    e.status = Status::Dropped;
                    Event::Dropped
                } else {
                    Event::Rejected
                }
            };
            self.digest
                .u64(u64::from(p.entry))
                .u64(p.mutant)
                .u64(event as u64)
                .f64s(pl)
                .f64s(mp);
            on(j, event);
        }
        self.mutants = mutants;
        self.rounds = rounds;
        Ok(())
    }
}

/// The error of a campaign whose round or mutant counter would pass `u64::MAX`.
const COUNTERS_EXHAUSTED: Error = Error::OutOfRange {
    what: "campaign counters (rounds, mutants) at u64::MAX",
};

/// Row `i` of `n` values of `buf`, or an empty slice if there is no such row.
fn row(buf: &[f64], i: usize, n: usize) -> &[f64] {
    i.checked_mul(n)
        .and_then(|start| buf.get(start..start.checked_add(n)?))
        .unwrap_or(&[])
}

/// The buffers of one round (see [`Campaign::step`]).
pub struct Round<'r> {
    /// At least `round_size` proposals.
    pub proposals: &'r mut [Proposal],
    /// `round_size × input` mutant values.
    pub inputs: &'r mut [f64],
    /// `round_size × classes` plaintext logits.
    pub plain: &'r mut [f64],
    /// `round_size × classes` MPC logits.
    pub mpc: &'r mut [f64],
}

/// Evaluates one mutant: `(proposal, input, plaintext logits out, MPC logits out)`.
pub type Evaluate<'e> = dyn FnMut(&Proposal, &[f64], &mut [f64], &mut [f64]) -> Result<()> + 'e;

impl Campaign<'_> {
    /// One whole round on one thread: propose, evaluate each mutant with `eval`, tell.
    /// Returns the number of mutants (0: nothing left to do). Gives the same result as a
    /// caller that evaluates the proposals in parallel.
    ///
    /// # Errors
    /// Those of [`Campaign::propose`], `eval` and [`Campaign::tell`];
    /// [`Error::BufferTooSmall`] if the logit buffers cannot hold the round.
    pub fn step(
        &mut self,
        limit: u64,
        classes: usize,
        round: &mut Round<'_>,
        eval: &mut Evaluate<'_>,
        on: &mut dyn FnMut(usize, Event),
    ) -> Result<usize> {
        let n = self.domain.len();
        let k = self.propose(limit, round.proposals, round.inputs)?;
        let needed = k.saturating_mul(classes);
        if round.plain.len() < needed || round.mpc.len() < needed {
            return Err(Error::BufferTooSmall {
                needed,
                got: round.plain.len().min(round.mpc.len()),
            });
        }
        for j in 0..k {
            eval(
                &round.proposals[j],
                &round.inputs[j * n..(j + 1) * n],
                &mut round.plain[j * classes..(j + 1) * classes],
                &mut round.mpc[j * classes..(j + 1) * classes],
            )?;
        }
        self.tell(
            &round.proposals[..k],
            &round.inputs[..k * n],
            &round.plain[..k * classes],
            &round.mpc[..k * classes],
            on,
        )?;
        Ok(k)
    }
}

impl Event {
    /// The name used in result files.
    pub const fn name(self) -> &'static str {
        match self {
            Event::Found => "found",
            Event::Accepted => "accepted",
            Event::Rejected => "rejected",
            Event::Dropped => "dropped",
            Event::Ignored => "ignored",
        }
    }
}
