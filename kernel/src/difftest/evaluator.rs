//! One input, both ways: the plaintext model and its MPC deployment (and the stages between
//! them), over memory the caller provides once and the evaluator reuses for every input.
//!
//! This is the one place where the deviation search, the localization, the repair and the
//! decision-boundary slice evaluate a model: the CLI gives each worker thread an
//! [`Evaluator`], the browser one per session. Every MPC evaluation of one input runs in a
//! fresh two-party session with its own seed ([`oracle::mpc`]), so each result replays alone
//! and the order or thread of evaluation changes nothing.
//!
//! # Memory
//! [`Footprint::of`] says how many floats, ring words and shares the caller must provide;
//! [`Evaluator::new`] carves them into the oracles' buffers. The plaintext model's folded
//! parameters are loaded once and kept (they depend on no MPC setting); the MPC model's are
//! encoded once per fixed-point format and deployment ([`oracle::encode_params`]) and shared
//! into every fresh session ([`oracle::mpc_encoded`]: the same draws as loading them).
//! [`Loaded`] says what the memory holds; pass it from one evaluator to the next over the
//! same memory and model.

use super::campaign::repeat_seed;
use super::fitness::{argmax, is_deviation};
use super::oracle::{self, Buffers, Sizes, Stage, Target};
use crate::cost::Cost;
use crate::encoding::RingWidth;
use crate::error::{Error, Result};
use crate::fixed::FixedPoint;
use crate::nn::deploy::Deployment;
use crate::nn::forward::{Config, Plan, Tap};
use crate::ring::Word;
use crate::share::Share;

/// The memory an [`Evaluator`] needs, in elements of each kind. The ring words and shares are
/// of the target's ring ([`FixedPoint::ring`]): `ints` and `shares` for Z_2^64, `ints128` and
/// `shares128` for Z_2^128 (the other pair is 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// `f64`s: the plaintext model (`batch` samples) and the float stage (one sample).
    pub floats: usize,
    /// `i64`s: the fixed-point stage (one sample) and the MPC session's words (`batch`).
    pub ints: usize,
    /// [`Share`]s: the MPC model (`batch` samples).
    pub shares: usize,
    /// `i128`s: `ints` for a target in Z_2^128.
    pub ints128: usize,
    /// `Share<i128>`s: `shares` for a target in Z_2^128.
    pub shares128: usize,
    /// The most samples one plaintext pass or one MPC chunk takes.
    pub batch: usize,
}

fn total(s: &Sizes) -> usize {
    s.params
        .saturating_add(s.input)
        .saturating_add(s.out)
        .saturating_add(s.arena)
}

impl Footprint {
    /// What evaluating `model` deployed as `t.deploy` needs, `batch` samples at a time
    /// (1 for single inputs; [`Evaluator::mpc_chunked`] takes more).
    ///
    /// # Errors
    /// The model's slot errors; [`Error::OutOfRange`] for a zero batch.
    pub fn of(t: &Target<'_, '_>, batch: usize) -> Result<Footprint> {
        if batch == 0 {
            return Err(Error::OutOfRange {
                what: "an evaluator's batch must be at least 1",
            });
        }
        let plain = Sizes::of(t.model, Deployment::Folded, batch)?;
        let one = Sizes::of(t.model, t.deploy, 1)?;
        let many = Sizes::of(t.model, t.deploy, batch)?;
        let ints = total(&one)
            .saturating_add(many.words)
            .saturating_add(one.params);
        let shares = total(&many);
        let wide = t.fp.ring() == RingWidth::Z128;
        Ok(Footprint {
            floats: total(&plain).saturating_add(total(&one)),
            ints: if wide { 0 } else { ints },
            shares: if wide { 0 } else { shares },
            ints128: if wide { ints } else { 0 },
            shares128: if wide { shares } else { 0 },
            batch,
        })
    }
}

/// Splits `mem` into [`Buffers`] of `sizes`, the parameters first (so loaded parameters stay
/// where they are whatever the batch of a later view).
fn carve<'b, E>(mem: &'b mut [E], sizes: &Sizes) -> Result<Buffers<'b, E>> {
    if mem.len() < total(sizes) {
        return Err(Error::BufferTooSmall {
            needed: total(sizes),
            got: mem.len(),
        });
    }
    let (params, rest) = mem.split_at_mut(sizes.params);
    let (input, rest) = rest.split_at_mut(sizes.input);
    let (out, rest) = rest.split_at_mut(sizes.out);
    Ok(Buffers {
        params,
        input,
        out,
        arena: &mut rest[..sizes.arena],
    })
}

/// How one input fares in several MPC sessions (its deviation probability over MPC seeds).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Runs {
    /// Sessions whose label differs from the expected one.
    pub flips: u32,
    /// Sessions run.
    pub runs: u32,
}

impl Runs {
    /// `flips / runs`.
    pub fn probability(&self) -> f64 {
        f64::from(self.flips) / f64::from(self.runs.max(1))
    }
}

/// The word arena (the front of `ints`) and the MPC model's encoded parameters (the
/// [`Sizes::params`] words after the footprint's others), encoded now unless `loaded` says they
/// are there for this format, deployment and place.
fn encoded<'i, W: Word>(
    t: &Target<'_, '_>,
    batch: usize,
    ints: &'i mut [W],
    loaded: &mut Loaded,
) -> Result<(&'i mut [W], &'i [W])> {
    let one = Sizes::of(t.model, t.deploy, 1)?;
    let many = Sizes::of(t.model, t.deploy, batch)?;
    let at = total(&one).saturating_add(many.words);
    let end = at.saturating_add(one.params);
    if ints.len() < end {
        return Err(Error::BufferTooSmall {
            needed: end,
            got: ints.len(),
        });
    }
    let (words, rest) = ints.split_at_mut(at);
    let cache = &mut rest[..one.params];
    let key = Some((t.fp, t.deploy, at));
    if loaded.encoded != key {
        loaded.encoded = None;
        oracle::encode_params(t, cache)?;
        loaded.encoded = key;
    }
    Ok((words, cache))
}

/// What an evaluator's memory already holds, handed from one [`Evaluator`] to the next over
/// the same memory and model ([`Evaluator::loaded`]); [`Loaded::default`] for fresh memory.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    /// The plaintext model's parameters (they depend on no MPC setting).
    plain: bool,
    /// The MPC model's parameters, encoded for this format and deployment, at this offset of
    /// the ring words (it depends on the evaluator's batch).
    encoded: Option<(FixedPoint, Deployment, usize)>,
}

/// Evaluates single inputs of one [`Target`] over caller-provided memory (module doc).
pub struct Evaluator<'t, 'b> {
    target: Target<'t, 't>,
    batch: usize,
    floats: &'b mut [f64],
    z64: Ring<'b, i64>,
    z128: Ring<'b, i128>,
    loaded: Loaded,
}

/// One ring's memory of an [`Evaluator`]: ring words and shares.
struct Ring<'b, W: Word> {
    ints: &'b mut [W],
    shares: &'b mut [Share<W>],
}

/// One sample's MPC evaluation, written once for either ring.
struct One<'a, 't> {
    t: &'a Target<'t, 't>,
    batch: usize,
    sizes: Sizes,
    plan: &'a dyn Plan,
    seed: u64,
    x: &'a [f64],
}

impl One<'_, '_> {
    fn mpc<W: Word>(
        &self,
        ring: &mut Ring<'_, W>,
        loaded: &mut Loaded,
        tap: Option<&mut dyn Tap>,
        logits: &mut [f64],
    ) -> Result<Cost> {
        let (words, encoded) = encoded(self.t, self.batch, ring.ints, loaded)?;
        let mut buf = carve(ring.shares, &self.sizes)?;
        let words = &mut words[..self.sizes.words];
        let (t, plan, seed, x) = (self.t, self.plan, self.seed, self.x);
        oracle::mpc_encoded(t, plan, tap, seed, x, 1, logits, &mut buf, words, encoded)
    }

    /// The fixed-point or shared stage ([`oracle::stage`]) in this ring, its float buffers
    /// `f`.
    fn stage<W: Word>(
        &self,
        stage: Stage,
        ring: &mut Ring<'_, W>,
        f: &mut Buffers<'_, f64>,
        tap: Option<&mut dyn Tap>,
        logits: &mut [f64],
    ) -> Result<()> {
        let mut r = carve(ring.ints, &self.sizes)?;
        let mut s = carve(ring.shares, &self.sizes)?;
        let (t, plan, seed, x) = (self.t, self.plan, self.seed, self.x);
        oracle::stage(
            t,
            plan,
            stage,
            tap,
            seed,
            x,
            logits,
            f,
            &mut r,
            &mut s,
            &mut [],
        )
    }
}

impl<'t, 'b> Evaluator<'t, 'b> {
    /// An evaluator of `target` over memory of at least [`Footprint::of`]`(target, batch)`.
    /// `loaded` says what the memory already holds (from an evaluator of the same model over
    /// the same memory: see [`Evaluator::loaded`]; a wrong claim gives wrong numbers, never a
    /// panic). A target in Z_2^128 takes its ring memory from [`Evaluator::with_z128`].
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if a slice is shorter than the footprint.
    pub fn new(
        target: Target<'t, 't>,
        batch: usize,
        floats: &'b mut [f64],
        ints: &'b mut [i64],
        shares: &'b mut [Share],
        loaded: Loaded,
    ) -> Result<Self> {
        let need = Footprint::of(&target, batch)?;
        for (needed, got) in [
            (need.floats, floats.len()),
            (need.ints, ints.len()),
            (need.shares, shares.len()),
        ] {
            if got < needed {
                return Err(Error::BufferTooSmall { needed, got });
            }
        }
        Ok(Evaluator {
            target,
            batch,
            floats,
            z64: Ring { ints, shares },
            z128: Ring {
                ints: &mut [],
                shares: &mut [],
            },
            loaded,
        })
    }

    /// The same evaluator with `ints` and `shares` as its memory in Z_2^128 (what a target in
    /// that ring evaluates in: [`Footprint::ints128`] and [`Footprint::shares128`]).
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`] if a slice is shorter than the footprint.
    pub fn with_z128(
        mut self,
        ints: &'b mut [i128],
        shares: &'b mut [Share<i128>],
    ) -> Result<Self> {
        let need = Footprint::of(&self.target, self.batch)?;
        for (needed, got) in [(need.ints128, ints.len()), (need.shares128, shares.len())] {
            if got < needed {
                return Err(Error::BufferTooSmall { needed, got });
            }
        }
        self.z128 = Ring { ints, shares };
        Ok(self)
    }

    /// The model and its deployment.
    pub fn target(&self) -> &Target<'t, 't> {
        &self.target
    }

    /// What the memory holds now (pass it to the next [`Evaluator::new`] over the same memory
    /// and model).
    pub fn loaded(&self) -> Loaded {
        self.loaded
    }

    /// The most samples of one plaintext pass or one MPC chunk.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Logits per sample.
    pub fn classes(&self) -> usize {
        self.target.model.classes
    }

    fn sizes(&self, deploy: Deployment, batch: usize) -> Result<Sizes> {
        if batch == 0 || batch > self.batch {
            return Err(Error::OutOfRange {
                what: "batch larger than the evaluator's",
            });
        }
        Sizes::of(self.target.model, deploy, batch)
    }

    /// The plaintext model's `logits` on `batch` samples `x` (the activations through `tap`).
    ///
    /// # Errors
    /// As [`oracle::plaintext`]; [`Error::OutOfRange`] for a batch above the evaluator's.
    pub fn plaintext(
        &mut self,
        x: &[f64],
        batch: usize,
        tap: Option<&mut dyn Tap>,
        logits: &mut [f64],
    ) -> Result<()> {
        let sizes = self.sizes(Deployment::Folded, batch)?;
        let mut buf = carve(self.floats, &sizes)?;
        let load = !self.loaded.plain;
        oracle::plaintext(&self.target, tap, x, batch, logits, &mut buf, load)?;
        self.loaded.plain = true;
        Ok(())
    }

    /// The MPC model's `logits` on one sample `x` in a fresh session seeded `seed`, with
    /// `plan` (the activations through `tap`); returns the forward pass's cost.
    ///
    /// # Errors
    /// As [`oracle::mpc`].
    pub fn mpc(
        &mut self,
        x: &[f64],
        seed: u64,
        plan: &dyn Plan,
        tap: Option<&mut dyn Tap>,
        logits: &mut [f64],
    ) -> Result<Cost> {
        let sizes = self.sizes(self.target.deploy, 1)?;
        let (t, batch, loaded) = (&self.target, self.batch, &mut self.loaded);
        let one = One {
            t,
            batch,
            sizes,
            plan,
            seed,
            x,
        };
        match t.fp.ring() {
            RingWidth::Z64 => one.mpc(&mut self.z64, loaded, tap, logits),
            RingWidth::Z128 => one.mpc(&mut self.z128, loaded, tap, logits),
        }
    }

    /// The logits of one sample at `stage` ([`Stage::Shared`] in a session seeded `seed`);
    /// returns what the MPC forward pass cost (nothing for the other stages).
    ///
    /// # Errors
    /// As [`oracle::stage`].
    pub fn stage(
        &mut self,
        stage: Stage,
        x: &[f64],
        seed: u64,
        plan: &dyn Plan,
        tap: Option<&mut dyn Tap>,
        logits: &mut [f64],
    ) -> Result<Cost> {
        match stage {
            Stage::Plaintext => self.plaintext(x, 1, tap, logits).map(|()| Cost::default()),
            Stage::Shared => self.mpc(x, seed, plan, tap, logits),
            Stage::Approximation | Stage::FixedPoint => {
                let sizes = self.sizes(self.target.deploy, 1)?;
                let plain = Sizes::of(self.target.model, Deployment::Folded, self.batch)?;
                let mut f = carve(&mut self.floats[total(&plain)..], &sizes)?;
                let one = One {
                    t: &self.target,
                    batch: self.batch,
                    sizes,
                    plan,
                    seed,
                    x,
                };
                match self.target.fp.ring() {
                    RingWidth::Z64 => one.stage(stage, &mut self.z64, &mut f, tap, logits),
                    RingWidth::Z128 => one.stage(stage, &mut self.z128, &mut f, tap, logits),
                }
                .map(|()| Cost::default())
            }
        }
    }

    /// `x` in `runs` MPC sessions with `plan`, seeded `seed` and its [`repeat_seed`]s: how
    /// many give a label other than `label`; the first session's logits go to `logits` and
    /// its activations through `tap`, and its cost is returned.
    ///
    /// # Errors
    /// As [`Evaluator::mpc`].
    #[allow(clippy::too_many_arguments)]
    pub fn runs(
        &mut self,
        x: &[f64],
        seed: u64,
        label: usize,
        runs: u32,
        plan: &dyn Plan,
        mut tap: Option<&mut dyn Tap>,
        logits: &mut [f64],
    ) -> Result<(Runs, Cost)> {
        let mut r = Runs {
            flips: 0,
            runs: runs.max(1),
        };
        let mut cost = Cost::default();
        let classes = self.classes();
        let mut other = [0.0f64; CLASSES_MAX];
        let other = other.get_mut(..classes).ok_or(Error::OutOfRange {
            what: "more classes than an evaluator's repeat buffer",
        })?;
        for k in 0..u64::from(r.runs) {
            let first = k == 0;
            let out: &mut [f64] = if first { &mut *logits } else { &mut *other };
            let t = if first { tap.take() } else { None };
            let c = self.mpc(x, repeat_seed(seed, k), plan, t, out)?;
            r.flips += u32::from(argmax(out) != label);
            if first {
                cost = c;
            }
        }
        Ok((r, cost))
    }

    /// The MPC model on `samples` inputs `x` in ONE session seeded `seed`, in chunks of the
    /// evaluator's batch in order (the parameters shared and prepared once): logits into
    /// `logits` (`samples × classes`). Returns the cost of the forward passes.
    ///
    /// # Errors
    /// As [`oracle::run`].
    pub fn mpc_chunked(
        &mut self,
        x: &[f64],
        samples: usize,
        seed: u64,
        plan: &dyn Plan,
        logits: &mut [f64],
    ) -> Result<Cost> {
        let t = self.target;
        let (n, classes) = (t.model.input.len(), t.model.classes);
        let (sn, sc) = (samples.saturating_mul(n), samples.saturating_mul(classes));
        if x.len() != sn || logits.len() != sc {
            return Err(Error::ShapeMismatch {
                expected: sn,
                got: x.len(),
            });
        }
        let full = self.sizes(t.deploy, self.batch)?;
        let (batch, loaded) = (self.batch, &mut self.loaded);
        match t.fp.ring() {
            RingWidth::Z64 => chunked(
                &t,
                batch,
                full,
                &mut self.z64,
                loaded,
                x,
                samples,
                seed,
                plan,
                logits,
            ),
            RingWidth::Z128 => chunked(
                &t,
                batch,
                full,
                &mut self.z128,
                loaded,
                x,
                samples,
                seed,
                plan,
                logits,
            ),
        }
    }
}

/// [`Evaluator::mpc_chunked`] in one ring.
#[allow(clippy::too_many_arguments)]
fn chunked<W: Word>(
    t: &Target<'_, '_>,
    chunk: usize,
    full: Sizes,
    ring: &mut Ring<'_, W>,
    loaded: &mut Loaded,
    x: &[f64],
    samples: usize,
    seed: u64,
    plan: &dyn Plan,
    logits: &mut [f64],
) -> Result<Cost> {
    let (n, classes) = (t.model.input.len(), t.model.classes);
    let (words, encoded) = encoded(t, chunk, ring.ints, loaded)?;
    let words = &mut words[..full.words];
    let cfg = Config {
        profile: t.profile,
        deploy: t.deploy,
    };
    let shares = &mut *ring.shares;
    let mut sh = oracle::session(t, seed, words);
    {
        let buf = carve(shares, &full)?;
        sh.input_ring_from(0, encoded, buf.params)?;
        crate::nn::forward::prepare(&mut sh, t.model, buf.params, &cfg, plan, buf.arena)?;
    }
    let before = sh.cost();
    let mut done = 0;
    while done < samples {
        let batch = (samples - done).min(chunk);
        // The last chunk may be short: its view is shorter, the loaded weights stay.
        let sizes = Sizes::of(t.model, t.deploy, batch)?;
        let mut buf = carve(shares, &sizes)?;
        oracle::run(
            &mut sh,
            t.model,
            &cfg,
            plan,
            None,
            &x[done * n..(done + batch) * n],
            batch,
            &mut logits[done * classes..(done + batch) * classes],
            &mut buf,
            false,
        )?;
        done += batch;
    }
    Ok(sh.cost().since(&before))
}

/// The most classes [`Evaluator::runs`] handles (its repeat logits live on the stack).
pub const CLASSES_MAX: usize = 1024;

impl Evaluator<'_, '_> {
    /// One input of a deviation search ([`Judge`](super::fuzzer::Judge)): plaintext and MPC
    /// logits, and its runs if it deviates.
    ///
    /// # Errors
    /// As [`Evaluator::mpc`].
    #[allow(clippy::too_many_arguments)]
    pub fn judge_one(
        &mut self,
        x: &[f64],
        seed: u64,
        label: u16,
        repeats: u32,
        plan: &dyn Plan,
        plain: &mut [f64],
        mpc: &mut [f64],
    ) -> Result<Runs> {
        self.plaintext(x, 1, None, plain)?;
        self.mpc(x, seed, plan, None, mpc)?;
        let label = usize::from(label);
        if !is_deviation(plain, mpc, label) {
            return Ok(Runs::default());
        }
        let mut r = Runs {
            flips: 1,
            runs: repeats.max(1),
        };
        let mut other = [0.0f64; CLASSES_MAX];
        let other = other.get_mut(..self.classes()).ok_or(Error::OutOfRange {
            what: "more classes than an evaluator's repeat buffer",
        })?;
        for k in 1..u64::from(r.runs) {
            self.mpc(x, repeat_seed(seed, k), plan, None, other)?;
            r.flips += u32::from(argmax(other) != label);
        }
        Ok(r)
    }
}
