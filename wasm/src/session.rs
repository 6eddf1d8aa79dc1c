//! The browser's state: one model, the MPC settings, and the buffers every call reuses.
//!
//! A [`Session`] is plain Rust (tested natively); `crate::js` wraps it for JavaScript. Every
//! computation is a composition of kernel calls, in this order for each arithmetic: load the
//! parameters as the model owner's inputs, bring the sample in, run [`forward`](mpcdiff_kernel::nn::forward::forward), reveal the
//! logits. The order matters for the MPC model: it fixes which dealer and PRZS draws each
//! value takes, so the same settings and seed give the same logits, bit for bit, here, in
//! `mpcdiff predict` and on every target.
//!
//! # The four models of one input
//! * **plaintext**: [`Float`](mpcdiff_kernel::Float), exact activations ([`ExactPlan`](mpcdiff_kernel::nn::forward::ExactPlan)), batch norm folded into the
//!   weights (what PyTorch computes, in `f64`); the reference.
//! * **float**: [`Float`](mpcdiff_kernel::Float) with the profile's approximations and batch norm as CrypTen runs it:
//!   the algorithms alone.
//! * **fixed**: the same in [`Fixed`](mpcdiff_kernel::Fixed) (CrypTen one-party fixed point): adds encoding and
//!   truncation error.
//! * **MPC**: the same in [`Shared`] (two parties, a seeded dealer): adds share randomness.
//!   Its session is seeded with the MPC seed itself.
//!
//! # Levels
//! An optional level override applies to every activation layer, uniformly over its neurons
//! (a [`LayerLevels`] plan). Batch norm's inverse square root stays at the profile's level.
//! The same plan type takes per-neuron levels, which is what a repair plan is.
//!
//! # Search, localization, repair
//! The deviation search ([`crate::search`]) and its localization and repair
//! ([`crate::repair`]) are methods over this same state (model, settings, buffers, level
//! plan): `impl Session` blocks in those modules.

use mpcdiff_kernel::approx::attribution::{attribute, Setup, Stages, Workspace};
use mpcdiff_kernel::approx::profile::{self, Profile};
use mpcdiff_kernel::approx::{Function, Level, Levels};
use mpcdiff_kernel::difftest::oracle::{self, Buffers, Sizes, Stage, Target};
use mpcdiff_kernel::nn::deploy::Deployment;
use mpcdiff_kernel::nn::forward::{self, Config, LayerMode, Plan, Tap};
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::nn::spec::{Activation, Kind, Shape};
use mpcdiff_kernel::{digits, Cost, FixedPoint, Shared, TruncMode};

use crate::repair::RepairState;
use crate::search::Search;
use crate::{models, Failure};

/// The MPC settings a session runs with.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Approximation parameters.
    pub profile: &'static Profile,
    /// Fixed-point format.
    pub fp: FixedPoint,
    /// Truncation protocol of the shared arithmetic.
    pub trunc: TruncMode,
    /// A level for every activation layer instead of the profile's default.
    pub level: Option<Level>,
    /// Seed of the MPC session of each call.
    pub mpc_seed: u64,
}

impl Default for Settings {
    /// What `mpcdiff eval` and `mpcdiff predict` default to: `crypten`, 16 fractional bits,
    /// local truncation, seed 42.
    fn default() -> Self {
        Settings {
            profile: &profile::CRYPTEN,
            fp: FixedPoint::CRYPTEN_DEFAULT,
            trunc: TruncMode::Local,
            level: None,
            mpc_seed: 42,
        }
    }
}

/// What a profile name must be.
pub const PROFILE_EXPECTED: &str = "one of \"crypten\", \"mpcdiff\", \"crypten-chebyshev\"";

/// The profile called `name`.
pub fn profile_arg(name: &str) -> Result<&'static Profile, Failure> {
    profile::by_name(name).ok_or(Failure::Argument {
        name: "profile",
        expected: PROFILE_EXPECTED,
    })
}

/// The truncation mode called `name` (`local` or `dealer`, the CLI's `--trunc` values).
pub fn trunc_arg(name: &str) -> Result<TruncMode, Failure> {
    match name {
        "local" => Ok(TruncMode::Local),
        "dealer" => Ok(TruncMode::Dealer),
        _ => Err(Failure::Argument {
            name: "trunc",
            expected: "\"local\" or \"dealer\"",
        }),
    }
}

/// The name of a truncation mode.
pub fn trunc_name(mode: TruncMode) -> &'static str {
    match mode {
        TruncMode::Local => "local",
        TruncMode::Dealer => "dealer",
    }
}

/// Per-layer levels by layer name: one level (uniform over the layer's neurons) or one per
/// neuron; layers not listed run at the profile's default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LayerLevels {
    /// `(layer name, levels)`; `levels` is repeated over the layer's neurons and the batch.
    pub layers: Vec<(String, Vec<Level>)>,
}

impl LayerLevels {
    /// `level` on every activation layer of `m`.
    pub fn uniform(m: &Model<'_>, level: Level) -> Self {
        let layers = m
            .spec
            .layers
            .iter()
            .filter(|l| matches!(l.kind, Kind::Act(_)))
            .map(|l| (l.name.as_str().to_string(), vec![level]))
            .collect();
        LayerLevels { layers }
    }
}

impl Plan for LayerLevels {
    fn mode(&self, name: &str) -> LayerMode<'_> {
        match self.layers.iter().find(|(n, _)| n == name) {
            Some((_, levels)) => LayerMode::Levels(levels),
            None => LayerMode::Default,
        }
    }
}

/// One activation layer's outputs, as the simulator sees them (free: no protocol).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerTap {
    /// The layer's index in the model.
    pub index: usize,
    /// Its name (`act1`…).
    pub name: String,
    /// One sample's output shape.
    pub shape: Shape,
    /// Its outputs, batch-major.
    pub values: Vec<f64>,
}

/// A [`Tap`] that keeps every activation layer's outputs.
#[derive(Debug, Default)]
pub struct Taps {
    /// The layers in forward order.
    pub layers: Vec<LayerTap>,
    shapes: Vec<Shape>,
}

impl Taps {
    pub(crate) fn for_model(m: &Model<'_>) -> Self {
        Taps {
            layers: Vec::new(),
            shapes: m.shapes.to_vec(),
        }
    }
}

impl Tap for Taps {
    fn activation(&mut self, index: usize, layer: &str, offset: usize, values: &[f64]) {
        if self.layers.last().map(|t| t.index) != Some(index) {
            self.layers.push(LayerTap {
                index,
                name: layer.to_string(),
                shape: self.shapes.get(index).copied().unwrap_or(Shape::Vector(0)),
                values: Vec::new(),
            });
        }
        let t = self.layers.last_mut().expect("pushed above");
        debug_assert_eq!(t.values.len(), offset, "the kernel taps a layer in order");
        t.values.extend_from_slice(values);
    }
}

/// One model's answer for one input.
#[derive(Clone, Debug, PartialEq)]
pub struct Side {
    /// The logits.
    pub logits: Vec<f64>,
    /// `softmax(logits)`.
    pub probabilities: Vec<f64>,
    /// The arg max of the logits (the first on ties).
    pub label: usize,
    /// Every activation layer's outputs.
    pub taps: Vec<LayerTap>,
}

impl Side {
    pub(crate) fn new(logits: Vec<f64>, taps: Vec<LayerTap>) -> Self {
        Side {
            probabilities: softmax(&logits),
            label: argmax(&logits),
            logits,
            taps,
        }
    }
}

/// The plaintext and the MPC model on one input.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// The plaintext model.
    pub plaintext: Side,
    /// The MPC model.
    pub mpc: Side,
    /// What the MPC forward pass cost (loading the weights and the input excluded, the
    /// reveal of the logits included).
    pub cost: Cost,
}

impl Prediction {
    /// `max |mpc − plaintext|` over the logits.
    pub fn deviation_max(&self) -> f64 {
        max_abs_gap(&self.mpc.logits, &self.plaintext.logits)
    }
    /// `‖mpc − plaintext‖₂` over the logits.
    pub fn deviation_l2(&self) -> f64 {
        let s: f64 = self
            .mpc
            .logits
            .iter()
            .zip(&self.plaintext.logits)
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        libm::sqrt(s)
    }
}

/// The error sources of one input: the four models of the module doc, and the largest gap
/// each stage adds, per activation layer and on the logits.
#[derive(Clone, Debug, PartialEq)]
pub struct Breakdown {
    /// plaintext, float, fixed, MPC (in that order; see [`STAGE_NAMES`]).
    pub stages: [Side; 4],
    /// Per activation layer, then the logits: `(name, [approximation, encoding, shares])`,
    /// each `max |later − earlier|` over the layer's outputs.
    pub gaps: Vec<(String, [f64; 3])>,
}

/// The names of [`Breakdown::stages`].
pub const STAGE_NAMES: [&str; 4] = ["plaintext", "float", "fixed", "mpc"];
/// The names of the gaps of [`Breakdown::gaps`].
pub const GAP_NAMES: [&str; 3] = ["approximation", "encoding", "shares"];

/// One function's error by stage over a range of inputs (`mpcdiff approx`'s numbers).
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// The function.
    pub function: Function,
    /// The level it ran at.
    pub level: Level,
    /// The inputs, evenly spaced.
    pub x: Vec<f64>,
    /// Per input: exact, float, fixed and shared values.
    pub stages: Vec<Stages>,
    /// What the shared run cost for all inputs.
    pub cost: Cost,
}

/// A decision-boundary slice: labels on a grid in the plane through an input spanned by two
/// seeded random orthonormal directions of pixel space.
#[derive(Clone, Debug, PartialEq)]
pub struct Slice {
    /// The grid's coordinates along each direction (pixel-space L2 units), `steps` of them,
    /// evenly spaced over `[−radius, radius]`.
    pub offsets: Vec<f64>,
    /// Plaintext labels, row-major: row `r` is `offsets[r]` along the second direction,
    /// column `c` is `offsets[c]` along the first.
    pub plaintext: Vec<u8>,
    /// MPC labels, same layout.
    pub mpc: Vec<u8>,
    /// What the whole batched MPC run cost.
    pub cost: Cost,
}

impl Slice {
    /// Grid points where the labels differ.
    pub fn disagreements(&self) -> usize {
        self.plaintext
            .iter()
            .zip(&self.mpc)
            .filter(|(a, b)| a != b)
            .count()
    }
}

/// The largest grid side of [`Session::slice`] (41² = 1681 MPC inferences).
pub const SLICE_STEPS_MAX: usize = 41;
/// The largest [`Session::error_curve`] sample count.
pub const CURVE_POINTS_MAX: usize = 10_001;
/// Samples per forward pass of a slice: all run in one MPC session, this many at a time, so
/// the arena stays a few megabytes whatever the grid.
const SLICE_CHUNK: usize = 8;
/// The slice directions are sub-streams `DIRECTION_INDEX + k` of the `Synthetic` stream of
/// the direction seed: far above the indices of synthetic digits, which take the same stream.
pub const DIRECTION_INDEX: u64 = 1 << 63;

/// Buffers of one arithmetic, grown on demand and reused.
#[derive(Debug, Default)]
struct Scratch<E> {
    params: Vec<E>,
    x: Vec<E>,
    out: Vec<E>,
    arena: Vec<E>,
}

fn sized<E: Copy + Default>(v: &mut Vec<E>, n: usize) -> &mut [E] {
    if v.len() < n {
        v.resize(n, E::default());
    }
    &mut v[..n]
}

impl<E: Copy + Default> Scratch<E> {
    /// The kernel oracle's buffers for `sizes`, grown as needed (loaded parameters survive).
    fn view(&mut self, sizes: &Sizes) -> Buffers<'_, E> {
        Buffers {
            params: sized(&mut self.params, sizes.params),
            input: sized(&mut self.x, sizes.input),
            out: sized(&mut self.out, sizes.out),
            arena: sized(&mut self.arena, sizes.arena),
        }
    }
}

/// The MPC model of `settings` over `model`, as the kernel oracle takes it.
fn target<'m>(model: &'m Model<'static>, settings: &Settings) -> Target<'m, 'static> {
    Target {
        model,
        profile: settings.profile,
        fp: settings.fp,
        trunc: settings.trunc,
        deploy: DEPLOY,
    }
}

/// The browser's state (module doc).
#[derive(Debug)]
pub struct Session {
    name: String,
    model: Model<'static>,
    settings: Settings,
    plan: LayerLevels,
    /// The plaintext model's buffers; its weights (batch norm folded) are loaded once, as
    /// they depend on no setting and folding is the slow part of loading.
    plain: Scratch<f64>,
    plain_loaded: bool,
    float: Scratch<f64>,
    ring: Scratch<i64>,
    shares: Scratch<mpcdiff_kernel::Share>,
    words: Vec<i64>,
    /// The running or last deviation search.
    pub(crate) search: Option<Search>,
    /// The last localization and repair of the search's deviation.
    pub(crate) repair: Option<RepairState>,
}

/// What every model but the plaintext one runs: what `crypten.nn.from_pytorch` makes of it
/// (the default of `mpcdiff eval` and `predict`).
const DEPLOY: Deployment = Deployment::Crypten;

impl Session {
    /// What the MPC model is deployed as (`crypten`: what `crypten.nn.from_pytorch` runs).
    pub fn deployment(&self) -> Deployment {
        DEPLOY
    }

    /// A session over the embedded model `model` (see [`models::load`]).
    pub fn new(model: &str, settings: Settings) -> Result<Session, Failure> {
        let parsed = models::load(model)?;
        let mut s = Session {
            name: model.to_string(),
            model: parsed,
            settings,
            plan: LayerLevels::default(),
            plain: Scratch::default(),
            plain_loaded: false,
            float: Scratch::default(),
            ring: Scratch::default(),
            shares: Scratch::default(),
            words: Vec::new(),
            search: None,
            repair: None,
        };
        s.set_level(settings.level)?;
        Ok(s)
    }

    /// The model's name.
    pub fn model_name(&self) -> &str {
        &self.name
    }
    /// The model.
    pub fn model(&self) -> &Model<'static> {
        &self.model
    }
    /// The current settings.
    pub fn settings(&self) -> Settings {
        self.settings
    }
    /// Sets the profile.
    pub fn set_profile(&mut self, p: &'static Profile) {
        self.settings.profile = p;
    }
    /// Sets the fixed-point format.
    pub fn set_fp(&mut self, fp: FixedPoint) {
        self.settings.fp = fp;
    }
    /// Sets the truncation protocol.
    pub fn set_trunc(&mut self, t: TruncMode) {
        self.settings.trunc = t;
    }
    /// Sets the MPC seed.
    pub fn set_mpc_seed(&mut self, seed: u64) {
        self.settings.mpc_seed = seed;
    }
    /// Sets (or, with `None`, clears) the level of every activation layer.
    pub fn set_level(&mut self, level: Option<Level>) -> Result<(), Failure> {
        if let Some(l) = level {
            Levels::Uniform(l).check(1)?;
        }
        self.settings.level = level;
        self.plan = match level {
            Some(l) => LayerLevels::uniform(&self.model, l),
            None => LayerLevels::default(),
        };
        Ok(())
    }

    /// Sets (or, with `None`, clears) the level of one layer, uniformly over its neurons:
    /// an activation layer, or a batch norm (whose inverse square root then runs at it).
    /// Other layers keep their levels; [`Session::set_level`] replaces them all.
    pub fn set_layer_level(&mut self, layer: &str, level: Option<Level>) -> Result<(), Failure> {
        let known = self.model.spec.layers.iter().any(|l| {
            l.name.as_str() == layer && matches!(l.kind, Kind::Act(_) | Kind::BatchNorm { .. })
        });
        if !known {
            return Err(Failure::Argument {
                name: "layer",
                expected:
                    "the name of an activation or batch-norm layer of the model (see `layers`)",
            });
        }
        if let Some(l) = level {
            Levels::Uniform(l).check(1)?;
        }
        self.plan.layers.retain(|(n, _)| n != layer);
        if let Some(l) = level {
            self.plan.layers.push((layer.to_string(), vec![l]));
        }
        Ok(())
    }

    /// The per-layer levels the MPC model runs with (layers not listed: the profile's).
    pub fn plan(&self) -> &LayerLevels {
        &self.plan
    }

    /// Replaces the per-layer levels (a repair plan); the uniform override is then gone.
    pub fn set_plan(&mut self, plan: LayerLevels) {
        self.settings.level = None;
        self.plan = plan;
    }

    /// The names of the layers that take a level, in order: activations, and the batch norms
    /// the deployment evaluates under MPC (`crypten.nn.from_pytorch` fuses the others away).
    pub fn leveled_layers(&self) -> Vec<&str> {
        mpcdiff_kernel::difftest::plan::nonlinear_layers(&self.model, DEPLOY)
            .map(|l| l.name)
            .collect()
    }

    /// The function the model's activation layers compute (that of the first one).
    pub fn activation_function(&self) -> Function {
        let act = self.model.spec.layers.iter().find_map(|l| match l.kind {
            Kind::Act(a) => Some(a),
            _ => None,
        });
        match act {
            Some(Activation::Relu) => Function::Relu,
            Some(Activation::Tanh) => Function::Tanh,
            Some(Activation::GeluErf) => Function::GeluErf,
            Some(Activation::GeluTanh) => Function::GeluTanh,
            _ => Function::Sigmoid,
        }
    }

    fn check_pixels(&self, pixels: &[f32], batch: usize) -> Result<Vec<f64>, Failure> {
        let want = batch * self.model.input.len();
        if pixels.len() != want {
            return Err(mpcdiff_kernel::Error::ShapeMismatch {
                expected: want,
                got: pixels.len(),
            }
            .into());
        }
        if let Some(index) = pixels.iter().position(|p| !p.is_finite()) {
            return Err(mpcdiff_kernel::Error::NonFinite { index }.into());
        }
        Ok(pixels.iter().map(|&u| models::normalize(u)).collect())
    }

    /// The plaintext model's logits on `batch` normalised samples (the kernel oracle's).
    pub(crate) fn plaintext(
        &mut self,
        x: &[f64],
        batch: usize,
        tap: Option<&mut dyn Tap>,
    ) -> Result<Vec<f64>, Failure> {
        let sizes = Sizes::of(&self.model, Deployment::Folded, batch)?;
        let mut logits = vec![0.0; sizes.out];
        oracle::plaintext(
            &target(&self.model, &self.settings),
            tap,
            x,
            batch,
            &mut logits,
            &mut self.plain.view(&sizes),
            !self.plain_loaded,
        )?;
        self.plain_loaded = true;
        Ok(logits)
    }

    /// The MPC model's logits on one normalised sample in a fresh session seeded `seed`,
    /// with `plan` (the kernel oracle's, as `mpcdiff` runs it), and what the forward pass
    /// cost: bringing the weights in is the same for every input, and sharing the input costs
    /// no round (PRZS).
    pub(crate) fn mpc_with(
        &mut self,
        x: &[f64],
        seed: u64,
        plan: &dyn Plan,
        tap: Option<&mut dyn Tap>,
    ) -> Result<(Vec<f64>, Cost), Failure> {
        let sizes = Sizes::of(&self.model, DEPLOY, 1)?;
        let mut logits = vec![0.0; sizes.out];
        let cost = oracle::mpc(
            &target(&self.model, &self.settings),
            plan,
            tap,
            seed,
            x,
            1,
            &mut logits,
            &mut self.shares.view(&sizes),
            sized(&mut self.words, sizes.words),
        )?;
        Ok((logits, cost))
    }

    /// The MPC model on one normalised sample with the session's plan, in a session seeded
    /// `seed`.
    pub(crate) fn mpc_planned(
        &mut self,
        x: &[f64],
        seed: u64,
        tap: Option<&mut dyn Tap>,
    ) -> Result<(Vec<f64>, Cost), Failure> {
        let plan = core::mem::take(&mut self.plan);
        let r = self.mpc_with(x, seed, &plan, tap);
        self.plan = plan;
        r
    }

    /// The logits of one normalised sample at `stage` of the module doc's models, with the
    /// session's plan (`Shared` in a session seeded `seed`), with the activations through `tap`.
    pub(crate) fn stage(
        &mut self,
        stage: Stage,
        x: &[f64],
        seed: u64,
        tap: Option<&mut dyn Tap>,
    ) -> Result<Vec<f64>, Failure> {
        if stage == Stage::Plaintext {
            return self.plaintext(x, 1, tap);
        }
        let sizes = Sizes::of(&self.model, DEPLOY, 1)?;
        let mut logits = vec![0.0; sizes.out];
        oracle::stage(
            &target(&self.model, &self.settings),
            &self.plan,
            stage,
            tap,
            seed,
            x,
            &mut logits,
            &mut self.float.view(&sizes),
            &mut self.ring.view(&sizes),
            &mut self.shares.view(&sizes),
            sized(&mut self.words, sizes.words),
        )?;
        Ok(logits)
    }

    /// One 28 × 28 image of intensities as the model's normalised input.
    pub(crate) fn normalized(&self, pixels: &[f32]) -> Result<Vec<f64>, Failure> {
        self.check_pixels(pixels, 1)
    }

    /// The plaintext and the MPC model on one 28×28 image of intensities in [0, 1] (row-major;
    /// values outside [0, 1] are allowed, as a perturbed input may have them), with every
    /// activation layer's outputs.
    pub fn predict(&mut self, pixels: &[f32]) -> Result<Prediction, Failure> {
        let x = self.check_pixels(pixels, 1)?;
        let mut taps = Taps::for_model(&self.model);
        let plain = self.plaintext(&x, 1, Some(&mut taps))?;
        let plaintext = Side::new(plain, core::mem::take(&mut taps.layers));
        let (logits, cost) = self.mpc_planned(&x, self.settings.mpc_seed, Some(&mut taps))?;
        Ok(Prediction {
            plaintext,
            mpc: Side::new(logits, taps.layers),
            cost,
        })
    }

    /// The four models of the module doc on one image, and the gap each stage adds.
    /// The plaintext and MPC stages are [`Session::predict`]'s, bit for bit.
    pub fn breakdown(&mut self, pixels: &[f32]) -> Result<Breakdown, Failure> {
        let x = self.check_pixels(pixels, 1)?;
        let p = self.predict(pixels)?;
        let s = self.settings;
        let mut taps = Taps::for_model(&self.model);
        let logits = self.stage(Stage::Approximation, &x, s.mpc_seed, Some(&mut taps))?;
        let float = Side::new(logits, core::mem::take(&mut taps.layers));
        let logits = self.stage(Stage::FixedPoint, &x, s.mpc_seed, Some(&mut taps))?;
        let fixed = Side::new(logits, taps.layers);

        let stages = [p.plaintext, float, fixed, p.mpc];
        let mut gaps: Vec<(String, [f64; 3])> = stages[0]
            .taps
            .iter()
            .enumerate()
            .map(|(k, t)| {
                let g = |i: usize| {
                    max_abs_gap(&stages[i + 1].taps[k].values, &stages[i].taps[k].values)
                };
                (t.name.clone(), [g(0), g(1), g(2)])
            })
            .collect();
        let g = |i: usize| max_abs_gap(&stages[i + 1].logits, &stages[i].logits);
        gaps.push(("logits".into(), [g(0), g(1), g(2)]));
        Ok(Breakdown { stages, gaps })
    }

    /// `function`'s error by stage on `points` evenly spaced inputs over `[lo, hi]`, under the
    /// session's profile, format, truncation and MPC seed (kernel `approx::attribution`, as
    /// `mpcdiff approx` computes it). The level is the one the model's activation layers run
    /// at if `function` is their function, else the profile's default for `function`.
    pub fn error_curve(
        &self,
        function: Function,
        lo: f64,
        hi: f64,
        points: usize,
    ) -> Result<Curve, Failure> {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(Failure::Argument {
                name: "range",
                expected: "finite numbers lo < hi",
            });
        }
        if !(2..=CURVE_POINTS_MAX).contains(&points) {
            return Err(Failure::Argument {
                name: "points",
                expected: "an integer in 2..=10001",
            });
        }
        let s = self.settings;
        let level = match s.level {
            Some(l) if function == self.activation_function() => l,
            _ => function.default_level(s.profile),
        };
        let x: Vec<f64> = (0..points)
            .map(|i| lo + (hi - lo) * i as f64 / (points - 1) as f64)
            .collect();
        let (a, b, c, d) = Workspace::sizes(points);
        let (mut fa, mut fb, mut fc, mut fd) = (
            vec![0.0; a],
            vec![0i64; b],
            vec![[0i64; 2]; c],
            vec![0i64; d],
        );
        let mut stages = vec![Stages::default(); points];
        let setup = Setup {
            function,
            profile: s.profile,
            fp: s.fp,
            trunc: s.trunc,
            seed: s.mpc_seed,
        };
        let cost = attribute(
            &setup,
            &x,
            &Levels::Uniform(level),
            Workspace {
                floats: &mut fa,
                ring: &mut fb,
                shares: &mut fc,
                arena: &mut fd,
            },
            &mut stages,
        )?;
        Ok(Curve {
            function,
            level,
            x,
            stages,
            cost,
        })
    }

    /// Plaintext and MPC labels on a `steps × steps` grid over `[−radius, radius]²` in the
    /// plane through `pixels` spanned by two random orthonormal directions of pixel space
    /// ([`slice_directions`] of `direction_seed`). The plane is not clipped to [0, 1]: clipping
    /// would fold it. All MPC inferences run in one session seeded with the MPC seed, in
    /// chunks of 8 in row-major order, so a grid point's MPC label may differ from what
    /// [`Session::predict`] gives the same image alone (other share randomness).
    pub fn slice(
        &mut self,
        pixels: &[f32],
        direction_seed: u64,
        radius: f64,
        steps: usize,
    ) -> Result<Slice, Failure> {
        self.check_pixels(pixels, 1)?;
        if !(radius.is_finite() && radius > 0.0 && radius <= 1000.0) {
            return Err(Failure::Argument {
                name: "radius",
                expected: "a number in (0, 1000]",
            });
        }
        if !(2..=SLICE_STEPS_MAX).contains(&steps) {
            return Err(Failure::Argument {
                name: "steps",
                expected: "an integer in 2..=41",
            });
        }
        let [d1, d2] = slice_directions(direction_seed, pixels.len());
        let offsets: Vec<f64> = (0..steps)
            .map(|i| -radius + 2.0 * radius * i as f64 / (steps - 1) as f64)
            .collect();
        let n = steps * steps;
        let features = pixels.len();
        let mut x = Vec::with_capacity(n * features);
        for &b in &offsets {
            for &a in &offsets {
                for (j, &u) in pixels.iter().enumerate() {
                    let p = f64::from(u) + a * d1[j] + b * d2[j];
                    x.push(models::normalize(p as f32));
                }
            }
        }
        let classes = self.model.classes;
        let labels = |logits: &[f64]| -> Vec<u8> {
            logits.chunks(classes).map(|l| argmax(l) as u8).collect()
        };
        let mut plaintext = Vec::with_capacity(n);
        for chunk in x.chunks(SLICE_CHUNK * features) {
            let logits = self.plaintext(chunk, chunk.len() / features, None)?;
            plaintext.extend(labels(&logits));
        }

        let s = self.settings;
        let sizes = Sizes::of(&self.model, DEPLOY, SLICE_CHUNK)?;
        let words = sized(&mut self.words, sizes.words);
        let mut sh = Shared::new(s.fp, s.mpc_seed, words).with_truncation(s.trunc);
        let cfg = Config {
            profile: s.profile,
            deploy: DEPLOY,
        };
        {
            let buf = self.shares.view(&sizes);
            self.model.load(&mut sh, DEPLOY, buf.params)?;
            forward::prepare(
                &mut sh,
                &self.model,
                buf.params,
                &cfg,
                &self.plan,
                buf.arena,
            )?;
        }
        let before = sh.cost();
        let mut mpc = Vec::with_capacity(n);
        let mut logits = vec![0.0; SLICE_CHUNK * classes];
        for chunk in x.chunks(SLICE_CHUNK * features) {
            let batch = chunk.len() / features;
            let out = &mut logits[..batch * classes];
            // The last chunk may be short: its view is shorter, the loaded weights stay.
            let mut buf = self.shares.view(&Sizes::of(&self.model, DEPLOY, batch)?);
            oracle::run(
                &mut sh,
                &self.model,
                &cfg,
                &self.plan,
                None,
                chunk,
                batch,
                out,
                &mut buf,
                false,
            )?;
            mpc.extend(labels(out));
        }
        Ok(Slice {
            offsets,
            plaintext,
            mpc,
            cost: sh.cost().since(&before),
        })
    }
}

/// Two orthonormal directions of `n`-pixel space from `seed`: standard normal vectors from
/// sub-streams [`DIRECTION_INDEX`] and `DIRECTION_INDEX + 1` of the `Synthetic` stream,
/// the second made orthogonal to the first (Gram–Schmidt), both scaled to unit length.
pub fn slice_directions(seed: u64, n: usize) -> [Vec<f64>; 2] {
    use mpcdiff_kernel::seed::{normal, substream, StreamId};
    let draw = |k: u64| -> Vec<f64> {
        let mut rng = substream(seed, StreamId::Synthetic, DIRECTION_INDEX + k);
        (0..n).map(|_| normal(&mut rng)).collect()
    };
    let unit = |v: &mut Vec<f64>| {
        let norm = libm::sqrt(v.iter().map(|x| x * x).sum());
        for x in v.iter_mut() {
            *x /= norm;
        }
    };
    let mut d1 = draw(0);
    unit(&mut d1);
    let mut d2 = draw(1);
    let dot: f64 = d1.iter().zip(&d2).map(|(a, b)| a * b).sum();
    for (x, &e) in d2.iter_mut().zip(&d1) {
        *x -= dot * e;
    }
    unit(&mut d2);
    [d1, d2]
}

/// MNIST-style rasterisation of a drawing: `w × h` intensities (row-major, 0 = background,
/// 1 = ink) through the kernel's [`digits::framing::mnist_center`] into 28 × 28.
pub fn rasterize(drawing: &[f32], w: usize, h: usize) -> Result<Vec<f32>, Failure> {
    let mut out = [0.0f32; digits::PIXELS];
    digits::framing::mnist_center(drawing, w, h, &mut out)?;
    Ok(out.to_vec())
}

/// Synthetic digit `index` of `seed` (kernel [`digits::synthetic::sample`]): its label and its
/// 28 × 28 intensities.
pub fn synthetic_digit(seed: u64, index: u64) -> Result<(u8, Vec<f32>), Failure> {
    let mut out = [0.0f32; digits::PIXELS];
    let label = digits::synthetic::sample(seed, index, &mut out)?;
    Ok((label, out.to_vec()))
}

/// The relative error of encoding `x` with `frac_bits` fractional bits, at `points`
/// log-spaced `x` from 1e−6 to 1e6 (`mpcdiff approx --encoding`'s curve); `NaN` where `x`
/// does not fit the ring.
pub fn encoding_curve(frac_bits: u32, points: usize) -> Result<(Vec<f64>, Vec<f64>), Failure> {
    let fp = FixedPoint::new(frac_bits)?;
    if !(2..=CURVE_POINTS_MAX).contains(&points) {
        return Err(Failure::Argument {
            name: "points",
            expected: "an integer in 2..=10001",
        });
    }
    let x: Vec<f64> = (0..points)
        .map(|i| libm::pow(10.0, -6.0 + 12.0 * i as f64 / (points - 1) as f64))
        .collect();
    let rel = x
        .iter()
        .map(|&v| fp.encoding_error(v).map_or(f64::NAN, |e| libm::fabs(e) / v))
        .collect();
    Ok((x, rel))
}

/// `softmax(v)`, the kernel's (the CLI and the browser print the same bits).
fn softmax(v: &[f64]) -> Vec<f64> {
    let mut p = vec![0.0; v.len()];
    mpcdiff_kernel::difftest::fitness::softmax(v, &mut p);
    p
}

/// The index of the largest value (the first on ties), as PyTorch's `argmax`: the kernel's.
pub use mpcdiff_kernel::difftest::fitness::argmax;

fn max_abs_gap(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| libm::fabs(x - y))
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Goal: every number the page shows comes from the kernel unchanged, is reproducible from
    // the settings and the seed, and means what its name says. References are independent
    // recomputations (the last linear layer applied to the tapped activations, the
    // truncation bound of the encoding) or the synthetic digits' own labels.

    fn digit(index: u64) -> (u8, Vec<f32>) {
        synthetic_digit(7, index).expect("digit draws")
    }

    fn session(model: &str) -> Session {
        Session::new(model, Settings::default()).expect("embedded model")
    }

    #[test]
    fn both_models_classify_synthetic_digits() {
        for model in ["lenet", "lenet-relu"] {
            let mut s = session(model);
            let (mut plain_ok, mut agree) = (0, 0);
            for i in 0..20 {
                let (label, px) = digit(i);
                let p = s.predict(&px).expect("predict");
                plain_ok += usize::from(p.plaintext.label == usize::from(label));
                agree += usize::from(p.plaintext.label == p.mpc.label);
                assert!(
                    p.deviation_max() < 0.5,
                    "{model} digit {i}: MPC logits {:?} far from plaintext {:?}",
                    p.mpc.logits,
                    p.plaintext.logits
                );
            }
            assert!(
                plain_ok >= 17,
                "{model}: only {plain_ok}/20 synthetic digits right"
            );
            assert!(agree >= 19, "{model}: MPC agrees on only {agree}/20");
        }
    }

    #[test]
    fn predictions_replay_from_the_seed_and_depend_on_it() {
        let (_, px) = digit(3);
        let mut s = session("lenet");
        let a = s.predict(&px).unwrap();
        let b = s.predict(&px).unwrap();
        assert_eq!(a, b, "same settings and seed, same bits");
        s.set_mpc_seed(43);
        let c = s.predict(&px).unwrap();
        assert_eq!(a.plaintext, c.plaintext, "the plaintext model has no seed");
        assert_ne!(
            a.mpc.logits, c.mpc.logits,
            "share randomness follows the seed"
        );
        // A fresh session computes the same as a reused one (the buffers carry nothing over).
        let mut fresh = Session::new(
            "lenet",
            Settings {
                mpc_seed: 43,
                ..Settings::default()
            },
        )
        .unwrap();
        assert_eq!(fresh.predict(&px).unwrap(), c);
    }

    #[test]
    fn probabilities_are_the_softmax_of_the_logits() {
        let (_, px) = digit(5);
        let p = session("lenet").predict(&px).unwrap();
        for side in [&p.plaintext, &p.mpc] {
            let sum: f64 = side.probabilities.iter().sum();
            assert!((sum - 1.0).abs() < 1e-12, "{sum}");
            let best = argmax(&side.probabilities);
            assert_eq!(best, side.label, "softmax keeps the order");
            for (i, (&pi, &li)) in side.probabilities.iter().zip(&side.logits).enumerate() {
                let ratio = pi / side.probabilities[best];
                let want = libm::exp(li - side.logits[best]);
                assert!((ratio - want).abs() < 1e-12, "class {i}");
            }
        }
        assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1, "ties go to the first");
    }

    #[test]
    fn taps_are_the_activations_that_make_the_logits() {
        let (_, px) = digit(1);
        let s = &mut session("lenet");
        let p = s.predict(&px).unwrap();
        let names: Vec<&str> = p.plaintext.taps.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["act1", "act2", "act3", "act4"]);
        for (t, m) in p.plaintext.taps.iter().zip(&p.mpc.taps) {
            assert_eq!(t.values.len(), t.shape.len(), "{}", t.name);
            assert_eq!((t.index, &t.name, t.shape), (m.index, &m.name, m.shape));
            assert!(
                t.values.iter().all(|v| (0.0..=1.0).contains(v)),
                "sigmoid outputs"
            );
        }
        // fc3 applied by hand to the last tap gives the plaintext logits.
        let m = s.model();
        let w = m.tensor("fc3", ".weight").unwrap();
        let b = m.tensor("fc3", ".bias").unwrap();
        let act4 = &p.plaintext.taps[3].values;
        for o in 0..10 {
            let mut y = f64::from(b.get(o));
            for (j, &a) in act4.iter().enumerate() {
                y += f64::from(w.get(o * act4.len() + j)) * a;
            }
            assert!((y - p.plaintext.logits[o]).abs() < 1e-9, "logit {o}");
        }
    }

    #[test]
    fn breakdown_runs_the_same_models_as_predict_and_names_the_gaps() {
        let (_, px) = digit(2);
        let mut s = session("lenet");
        let p = s.predict(&px).unwrap();
        let b = s.breakdown(&px).unwrap();
        assert_eq!(b.stages[0], p.plaintext);
        assert_eq!(b.stages[3], p.mpc);
        let rows: Vec<&str> = b.gaps.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(rows, ["act1", "act2", "act3", "act4", "logits"]);
        let logits = b.gaps.last().unwrap().1;
        for (k, gap) in logits.iter().enumerate() {
            assert_eq!(
                *gap,
                max_abs_gap(&b.stages[k + 1].logits, &b.stages[k].logits)
            );
            // Sigmoid by exp and Newton steps, 16-bit truncations, share-local truncation:
            // each stage changes the logits, and none by much on a clean digit.
            assert!(*gap > 0.0 && *gap < 0.5, "{} gap {gap}", GAP_NAMES[k]);
        }
    }

    #[test]
    fn a_level_override_reaches_the_activations_only() {
        let (_, px) = digit(4);
        let mut s = session("lenet");
        let base = s.predict(&px).unwrap();
        let default = Function::Sigmoid.default_level(&profile::CRYPTEN);
        s.set_level(Some(default)).unwrap();
        assert_eq!(
            s.predict(&px).unwrap(),
            base,
            "the default level, given explicitly, changes nothing"
        );
        s.set_level(Some(Level::new(3, 3))).unwrap();
        let low = s.predict(&px).unwrap();
        assert_eq!(low.plaintext, base.plaintext);
        assert_ne!(low.mpc.logits, base.mpc.logits);
        assert_eq!(
            s.error_curve(Function::Sigmoid, -1.0, 1.0, 3)
                .unwrap()
                .level,
            Level::new(3, 3)
        );
        assert_eq!(
            s.error_curve(Function::InvSqrt, 0.5, 1.0, 3).unwrap().level,
            Function::InvSqrt.default_level(&profile::CRYPTEN)
        );
        assert!(
            s.set_level(Some(Level::new(41, 3))).is_err(),
            "iters_exp above 40"
        );
        s.set_level(None).unwrap();
        assert_eq!(s.predict(&px).unwrap(), base);
    }

    #[test]
    fn one_layer_can_take_its_own_level() {
        let (_, px) = digit(4);
        let mut s = session("lenet");
        assert_eq!(
            s.leveled_layers(),
            ["act1", "act2", "bn3", "act3", "bn4", "act4"],
            "bn1 and bn2 are fused into their convolutions by the deployment"
        );
        let base = s.predict(&px).unwrap();
        for layer in ["act4", "bn3"] {
            s.set_layer_level(layer, Some(Level::new(3, 1))).unwrap();
            let p = s.predict(&px).unwrap();
            assert_eq!(p.plaintext, base.plaintext);
            assert_ne!(p.mpc.logits, base.mpc.logits, "{layer} at 3/1");
            // Only the layer's own outputs and what follows change: act1 comes before act4.
            if layer == "act4" {
                assert_eq!(p.mpc.taps[0], base.mpc.taps[0]);
            }
            s.set_layer_level(layer, None).unwrap();
            assert_eq!(s.predict(&px).unwrap(), base, "{layer} cleared");
        }
        for bad in ["fc1", "pool1", "nope"] {
            assert!(
                matches!(
                    s.set_layer_level(bad, Some(Level::new(3, 3))),
                    Err(Failure::Argument { name: "layer", .. })
                ),
                "{bad}"
            );
        }
        assert!(s.plan().layers.is_empty());
    }

    #[test]
    fn error_curves_attribute_by_stage() {
        let s = session("lenet");
        let c = s.error_curve(Function::Sigmoid, -20.0, 20.0, 401).unwrap();
        assert_eq!(c.x.len(), 401);
        assert_eq!((c.x[0], c.x[400]), (-20.0, 20.0));
        let max =
            |f: &dyn Fn(&Stages) -> f64| c.stages.iter().map(|s| f(s).abs()).fold(0.0, f64::max);
        // The budget table (kernel approx/mod.rs): sigmoid 8/3, f = 16.
        let approx = max(&|s| s.approximation_error());
        let enc = max(&|s| s.encoding_error());
        assert!((1e-4..1e-2).contains(&approx), "approximation {approx}");
        assert!((1e-5..1e-2).contains(&enc), "encoding {enc}");
        assert!(c.cost.rounds > 0 && c.cost.multiplications() > 0);
        for bad in [(1.0, 1.0, 3), (0.0, 1.0, 1), (f64::NAN, 1.0, 3)] {
            assert!(
                s.error_curve(Function::Sigmoid, bad.0, bad.1, bad.2)
                    .is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn encoding_error_stays_below_one_unit_in_the_last_place() {
        let (x, rel) = encoding_curve(16, 121).unwrap();
        let ulp = 1.0 / 65536.0;
        for (&x, &r) in x.iter().zip(&rel) {
            assert!(r * x < ulp * (1.0 + 1e-12), "x {x}: rel {r}");
        }
        assert_eq!(rel[0], 1.0, "1e-6 is below 2^-16 and encodes to 0");
        assert!(encoding_curve(41, 10).is_err());
    }

    #[test]
    fn slices_label_a_grid_around_the_input() {
        let (_, px) = digit(6);
        let mut s = session("lenet");
        let p = s.predict(&px).unwrap();
        let sl = s.slice(&px, 11, 4.0, 5).unwrap();
        assert_eq!(sl.offsets, [-4.0, -2.0, 0.0, 2.0, 4.0]);
        assert_eq!((sl.plaintext.len(), sl.mpc.len()), (25, 25));
        assert_eq!(
            usize::from(sl.plaintext[12]),
            p.plaintext.label,
            "the centre is the input"
        );
        assert!(sl.disagreements() <= 25);
        assert!(sl.cost.rounds > 0);
        assert_eq!(s.slice(&px, 11, 4.0, 5).unwrap(), sl, "replays");
        assert_eq!(
            s.predict(&px).unwrap(),
            p,
            "the slice's larger buffers change nothing"
        );
        assert_ne!(s.slice(&px, 12, 40.0, 5).unwrap().plaintext, sl.plaintext);
        assert!(s.slice(&px, 11, 0.0, 5).is_err());
        assert!(s.slice(&px, 11, 1.0, 42).is_err());
    }

    #[test]
    fn slice_directions_are_orthonormal() {
        let [a, b] = slice_directions(5, 784);
        let dot = |u: &[f64], v: &[f64]| -> f64 { u.iter().zip(v).map(|(x, y)| x * y).sum() };
        assert!((dot(&a, &a) - 1.0).abs() < 1e-12);
        assert!((dot(&b, &b) - 1.0).abs() < 1e-12);
        assert!(dot(&a, &b).abs() < 1e-12);
        assert_ne!(slice_directions(6, 784)[0], a);
    }

    #[test]
    fn rasterize_centres_the_ink_and_refuses_empty_drawings() {
        // A bar in the top-left corner of a 100×60 canvas ends up centred.
        let (w, h) = (100, 60);
        let mut d = vec![0.0f32; w * h];
        for y in 5..30 {
            for x in 5..12 {
                d[y * w + x] = 1.0;
            }
        }
        let img = rasterize(&d, w, h).unwrap();
        let mass: f64 = img.iter().map(|&v| f64::from(v)).sum();
        let com = |f: &dyn Fn(usize) -> usize| -> f64 {
            img.iter()
                .enumerate()
                .map(|(i, &v)| f(i) as f64 * f64::from(v))
                .sum::<f64>()
                / mass
        };
        let (cx, cy) = (com(&|i| i % 28), com(&|i| i / 28));
        assert!(
            (13.5..14.5).contains(&cx) && (13.5..14.5).contains(&cy),
            "{cx}, {cy}"
        );
        let tall = (0..28)
            .filter(|&r| (0..28).any(|c| img[r * 28 + c] > 0.0))
            .count();
        assert_eq!(tall, 20, "the larger side spans the 20-pixel box");
        assert!(rasterize(&vec![0.0; w * h], w, h).is_err(), "no ink");
        assert!(rasterize(&d, w, h + 1).is_err(), "size mismatch");
    }

    #[test]
    fn bad_inputs_are_refused_with_the_kernels_words() {
        let mut s = session("lenet");
        let e = s.predict(&[0.0; 783]).unwrap_err();
        assert_eq!(
            e,
            Failure::Kernel(mpcdiff_kernel::Error::ShapeMismatch {
                expected: 784,
                got: 783
            })
        );
        let mut px = vec![0.0f32; 784];
        px[9] = f32::NAN;
        assert_eq!(
            s.predict(&px).unwrap_err(),
            Failure::Kernel(mpcdiff_kernel::Error::NonFinite { index: 9 })
        );
        assert!(profile_arg("pytorch").is_err());
        assert!(trunc_arg("floor").is_err());
    }
}
