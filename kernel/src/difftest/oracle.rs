//! The oracles of differential testing: one model, three arithmetics.
//!
//! * **Plaintext** ([`Arith`] = [`Float`], every nonlinear layer exact, batch norm folded):
//!   what the trained model computes.
//! * **MPC** ([`Shared`]: two parties, a dealer, the profile's approximations, batch norm as
//!   the target deploys it): what the deployed model computes. Every evaluation runs in a fresh
//!   session with its own seed, so one input's MPC result replays alone. The target's
//!   [`Engine`] says whether the protocols run message by message or as their ideal
//!   functionalities ([`crate::protocols::ideal`]: the same law, faster).
//! * In between, for attributing a deviation to its source, the same forward pass in [`Float`]
//!   *with* the approximations (approximation error only) and in [`Fixed`] (plus encoding and
//!   truncation, but no share randomness).
//!
//! All of them are [`run`]: load the parameters, input, forward, reveal.

use crate::approx::profile::Profile;
use crate::arith::{Arith, Engine};
use crate::cost::Cost;
use crate::error::{Error, Result};
use crate::fixed::FixedPoint;
use crate::nn::deploy::Deployment;
use crate::nn::forward::{self, Config, ExactPlan, Plan, Tap};
use crate::nn::model::Model;
use crate::protocols::drelu::Comparison;
use crate::protocols::truncation::TruncMode;
use crate::ring::Word;
use crate::share::Share;
use crate::{Fixed, Float, Shared};

/// A fresh two-party session of target `t` (its format, truncation and engine), seeded
/// `seed`, over the word arena `words`.
pub(crate) fn session<'w, W: Word>(
    t: &Target<'_, '_>,
    seed: u64,
    words: &'w mut [W],
) -> Shared<'w, W> {
    Shared::in_ring(t.fp, seed, words)
        .with_truncation(t.trunc)
        .with_engine(t.engine)
        .with_sign_test(t.profile.numerics.sign)
        .with_comparison(t.comparison)
}

/// The MPC model under test.
#[derive(Clone, Copy)]
pub struct Target<'m, 'a> {
    /// The model.
    pub model: &'m Model<'a>,
    /// Approximation parameters.
    pub profile: &'m Profile,
    /// Fixed-point encoding.
    pub fp: FixedPoint,
    /// Truncation protocol.
    pub trunc: TruncMode,
    /// What the framework turns the model into ([`Deployment`]).
    pub deploy: Deployment,
    /// How the two-party arithmetic is simulated.
    pub engine: Engine,
    /// How comparisons (ReLU, max pooling) are computed: the two-party A2B comparison (the
    /// default, CrypTen's) or a helper-assisted DReLU ([`Comparison`]), whose helper's bytes
    /// the ledger counts in [`Cost::helper_bytes`](crate::cost::Cost::helper_bytes). The
    /// ideal engine has no helper: only [`Comparison::A2b`] goes with it.
    pub comparison: Comparison,
}

impl Target<'_, '_> {
    /// The command-line flags of this target, `model` being how the command line names the
    /// model: `--model M --profile P --frac-bits F --trunc T --deploy D`, then
    /// `--engine E` unless the engine is the default ([`Engine::Protocol`]), then
    /// `--comparison C` unless it is the default ([`Comparison::A2b`]).
    ///
    /// # Errors
    /// The writer's.
    pub fn write_flags(&self, model: &str, w: &mut dyn core::fmt::Write) -> core::fmt::Result {
        write!(
            w,
            "--model {model} --profile {} --frac-bits {} --trunc {} --deploy {}",
            self.profile.name,
            self.fp.frac_bits(),
            self.trunc.name(),
            self.deploy.name()
        )?;
        if self.engine != Engine::default() {
            write!(w, " --engine {}", self.engine.name())?;
        }
        if self.comparison != Comparison::default() {
            write!(w, " --comparison {}", self.comparison.name())?;
        }
        Ok(())
    }
}

/// The buffers of one [`run`] in an arithmetic with elements `E`.
pub struct Buffers<'b, E> {
    /// The loaded parameters ([`Model::slots`]'s total).
    pub params: &'b mut [E],
    /// The encoded input (`batch × input`).
    pub input: &'b mut [E],
    /// The encoded logits (`batch × classes`).
    pub out: &'b mut [E],
    /// The forward pass's arena ([`forward::arena_elems`]).
    pub arena: &'b mut [E],
}

/// Element counts of [`Buffers`] for `batch` samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sizes {
    /// Parameters.
    pub params: usize,
    /// Input elements.
    pub input: usize,
    /// Logit elements.
    pub out: usize,
    /// Arena elements.
    pub arena: usize,
    /// Words of the [`Shared`] session arena.
    pub words: usize,
}

impl Sizes {
    /// The sizes for `batch` samples of `model` deployed as `deploy`.
    ///
    /// # Errors
    /// The model's slot errors; [`Error::InvalidShape`] if a size overflows `usize`.
    pub fn of(model: &Model<'_>, deploy: Deployment, batch: usize) -> Result<Sizes> {
        let (_, params) = model.slots(deploy)?;
        let overflow = Error::InvalidShape {
            what: "batch × sample size overflows",
        };
        Ok(Sizes {
            params,
            input: batch.checked_mul(model.input.len()).ok_or(overflow)?,
            out: batch.checked_mul(model.classes).ok_or(overflow)?,
            arena: forward::arena_elems(model, batch),
            words: forward::shared_arena_words(model, batch),
        })
    }
}

/// `logits` = the model on `x` (`batch` samples) in arithmetic `a`, with `plan` and `tap`.
/// Loads and prepares ([`forward::prepare`]) the parameters into `buf.params` first when
/// `load` (a [`Shared`] session must load its own; [`Float`] and [`Fixed`] may reuse loaded
/// ones, prepared under the same plan).
///
/// # Errors
/// Shape errors, non-finite inputs, encoding overflow.
#[allow(clippy::too_many_arguments)]
pub fn run<A: Arith>(
    a: &mut A,
    model: &Model<'_>,
    cfg: &Config<'_>,
    plan: &dyn Plan,
    tap: Option<&mut dyn Tap>,
    x: &[f64],
    batch: usize,
    logits: &mut [f64],
    buf: &mut Buffers<'_, A::Elem>,
    load: bool,
) -> Result<()> {
    if load {
        model.load(a, cfg.deploy, buf.params)?;
        forward::prepare(a, model, buf.params, cfg, plan, buf.arena)?;
    }
    a.input(x, buf.input)?;
    forward::forward(
        a, model, buf.params, cfg, plan, tap, buf.input, batch, buf.out, buf.arena,
    )?;
    a.reveal(buf.out, logits)
}

/// The plaintext model on `x`: [`Float`], exact activations, batch norm folded
/// ([`Deployment::Folded`]).
/// `buf.params` must hold the folded parameters when `load` is false.
///
/// # Errors
/// As [`run`].
#[allow(clippy::too_many_arguments)]
pub fn plaintext(
    t: &Target<'_, '_>,
    tap: Option<&mut dyn Tap>,
    x: &[f64],
    batch: usize,
    logits: &mut [f64],
    buf: &mut Buffers<'_, f64>,
    load: bool,
) -> Result<()> {
    let cfg = Config {
        profile: t.profile,
        deploy: Deployment::Folded,
    };
    let mut a = Float::new(t.fp);
    run(
        &mut a, t.model, &cfg, &ExactPlan, tap, x, batch, logits, buf, load,
    )
}

/// The MPC model on `x` in a fresh two-party session seeded `seed`; returns the session's
/// cost (parameter sharing and [`forward::prepare`] excluded: a deployment shares and prepares
/// the model once).
///
/// # Errors
/// As [`run`]; [`Error::BufferTooSmall`] if `words` is shorter than [`Sizes::words`].
#[allow(clippy::too_many_arguments)]
pub fn mpc<W: Word>(
    t: &Target<'_, '_>,
    plan: &dyn Plan,
    tap: Option<&mut dyn Tap>,
    seed: u64,
    x: &[f64],
    batch: usize,
    logits: &mut [f64],
    buf: &mut Buffers<'_, Share<W>>,
    words: &mut [W],
) -> Result<Cost> {
    mpc_from(t, plan, tap, seed, x, batch, logits, buf, words, None)
}

/// The target's parameters encoded once, as [`mpc_encoded`] takes them: the ring integers
/// [`Model::load`] would share (`params` long: [`Sizes::params`]).
///
/// # Errors
/// [`Model::load`]'s.
pub fn encode_params<W: Word>(t: &Target<'_, '_>, params: &mut [W]) -> Result<()> {
    t.model
        .load(&mut Fixed::<W>::in_ring(t.fp), t.deploy, params)
}

/// [`mpc`] with the parameters already encoded by [`encode_params`]: the same session, draw
/// for draw and bit for bit, without converting and encoding every weight again.
///
/// # Errors
/// As [`mpc`]; [`Error::ShapeMismatch`] unless `encoded` is [`Sizes::params`] long.
#[allow(clippy::too_many_arguments)]
pub fn mpc_encoded<W: Word>(
    t: &Target<'_, '_>,
    plan: &dyn Plan,
    tap: Option<&mut dyn Tap>,
    seed: u64,
    x: &[f64],
    batch: usize,
    logits: &mut [f64],
    buf: &mut Buffers<'_, Share<W>>,
    words: &mut [W],
    encoded: &[W],
) -> Result<Cost> {
    mpc_from(
        t,
        plan,
        tap,
        seed,
        x,
        batch,
        logits,
        buf,
        words,
        Some(encoded),
    )
}

#[allow(clippy::too_many_arguments)]
fn mpc_from<W: Word>(
    t: &Target<'_, '_>,
    plan: &dyn Plan,
    tap: Option<&mut dyn Tap>,
    seed: u64,
    x: &[f64],
    batch: usize,
    logits: &mut [f64],
    buf: &mut Buffers<'_, Share<W>>,
    words: &mut [W],
    encoded: Option<&[W]>,
) -> Result<Cost> {
    let need = forward::shared_arena_words(t.model, batch);
    if words.len() < need {
        return Err(Error::BufferTooSmall {
            needed: need,
            got: words.len(),
        });
    }
    let cfg = Config {
        profile: t.profile,
        deploy: t.deploy,
    };
    let mut a = session(t, seed, words);
    match encoded {
        // The model's party brings its parameters in (party 0, as `Model::load` does).
        Some(raw) => a.input_ring_from(0, raw, buf.params)?,
        None => t.model.load(&mut a, t.deploy, buf.params)?,
    }
    forward::prepare(&mut a, t.model, buf.params, &cfg, plan, buf.arena)?;
    let before = a.cost();
    run(
        &mut a, t.model, &cfg, plan, tap, x, batch, logits, buf, false,
    )?;
    Ok(a.cost().since(&before))
}

/// Where an MPC model's logits part from the plaintext model's: the same input through
/// every arithmetic between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// [`Float`] with exact activations: the plaintext model.
    Plaintext,
    /// [`Float`] with the profile's approximations (approximation error only).
    Approximation,
    /// [`Fixed`] with the approximations (plus fixed-point encoding and truncation).
    FixedPoint,
    /// [`Shared`] (plus the share randomness of truncation and comparisons).
    Shared,
}

/// The logits of `x` (one sample) at stage `stage` (`Shared` uses session seed `seed`), with
/// the activations through `tap`. The [`Float`] and [`Fixed`] stages load their parameters
/// themselves into `f` / `r` buffers.
///
/// # Errors
/// As [`run`].
#[allow(clippy::too_many_arguments)]
pub fn stage<W: Word>(
    t: &Target<'_, '_>,
    plan: &dyn Plan,
    stage: Stage,
    tap: Option<&mut dyn Tap>,
    seed: u64,
    x: &[f64],
    logits: &mut [f64],
    f: &mut Buffers<'_, f64>,
    r: &mut Buffers<'_, W>,
    s: &mut Buffers<'_, Share<W>>,
    words: &mut [W],
) -> Result<()> {
    let cfg = Config {
        profile: t.profile,
        deploy: t.deploy,
    };
    match stage {
        Stage::Plaintext => plaintext(t, tap, x, 1, logits, f, true),
        Stage::Approximation => {
            let mut a = Float::new(t.fp);
            run(&mut a, t.model, &cfg, plan, tap, x, 1, logits, f, true)
        }
        Stage::FixedPoint => {
            let mut a = Fixed::<W>::in_ring(t.fp).with_sign_test(t.profile.numerics.sign);
            run(&mut a, t.model, &cfg, plan, tap, x, 1, logits, r, true)
        }
        Stage::Shared => mpc(t, plan, tap, seed, x, 1, logits, s, words).map(|_| ()),
    }
}
