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
//! ([`crate::repair`]) run on a session (model, settings, buffers, level
//! plan), taking it as an argument; `crate::js` keeps the three together for the page.

use mpcdiff_kernel::approx::attribution::{self, Probe, Stages};
use mpcdiff_kernel::approx::profile::{self, Profile};
use mpcdiff_kernel::approx::{Function, Level, Levels};
use mpcdiff_kernel::difftest::evaluator::{Evaluator, Footprint};
use mpcdiff_kernel::difftest::oracle::{Stage, Target};
use mpcdiff_kernel::difftest::plan::LevelPlan;
use mpcdiff_kernel::difftest::slice;
use mpcdiff_kernel::nn::deploy::Deployment;
use mpcdiff_kernel::nn::forward::Tap;
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::nn::spec::{Activation, Kind, Shape};
use mpcdiff_kernel::{digits, Cost, Engine, FixedPoint, TruncMode};

use serde::Serialize;

use crate::{models, ser, Failure};

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
    /// How the shared arithmetic is simulated (`mpcdiff --engine`).
    pub engine: Engine,
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
            engine: Engine::Protocol,
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

/// The engine called `name` (`protocol` or `ideal`, the CLI's `--engine` values).
pub fn engine_arg(name: &str) -> Result<Engine, Failure> {
    Engine::by_name(name).ok_or(Failure::Argument {
        name: "engine",
        expected: "\"protocol\" or \"ideal\"",
    })
}

/// The truncation mode called `name` (`local` or `dealer`, the CLI's `--trunc` values).
pub fn trunc_arg(name: &str) -> Result<TruncMode, Failure> {
    TruncMode::by_name(name).ok_or(Failure::Argument {
        name: "trunc",
        expected: "\"local\" or \"dealer\"",
    })
}

/// Per-layer levels by layer name (the kernel's plan type, owned): one level (uniform over
/// the layer's neurons) or one per neuron; layers not listed run at the profile's default.
pub type OwnedPlan = LevelPlan<Vec<(String, Vec<Level>)>>;

/// `level` on every activation layer of `m`.
pub fn uniform_plan(m: &Model<'_>, level: Level) -> OwnedPlan {
    let layers = m
        .spec
        .layers
        .iter()
        .filter(|l| matches!(l.kind, Kind::Act(_)))
        .map(|l| (l.name.as_str().to_string(), vec![level]))
        .collect();
    LevelPlan { layers }
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
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Side {
    /// The logits.
    #[serde(serialize_with = "ser::f64s")]
    pub logits: Vec<f64>,
    /// `softmax(logits)`.
    #[serde(serialize_with = "ser::f64s")]
    pub probabilities: Vec<f64>,
    /// The arg max of the logits (the first on ties).
    pub label: usize,
}

impl Side {
    pub(crate) fn new(logits: Vec<f64>) -> Self {
        Side {
            probabilities: softmax(&logits),
            label: argmax(&logits),
            logits,
        }
    }
}

/// One activation layer's outputs in the plaintext and the MPC model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerTaps {
    /// Its name (`act1`…).
    pub name: String,
    /// One sample's output shape.
    #[serde(serialize_with = "ser::dims")]
    pub shape: Shape,
    /// The plaintext model's outputs.
    #[serde(serialize_with = "ser::f64s")]
    pub plaintext: Vec<f64>,
    /// The MPC model's outputs.
    #[serde(serialize_with = "ser::f64s")]
    pub mpc: Vec<f64>,
}

/// The plaintext and the MPC model on one input.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prediction {
    /// The plaintext model.
    pub plaintext: Side,
    /// The MPC model.
    pub mpc: Side,
    /// `max |mpc − plaintext|` over the logits.
    pub deviation_max: f64,
    /// `‖mpc − plaintext‖₂` over the logits.
    pub deviation_l2: f64,
    /// What the MPC forward pass cost (loading the weights and the input excluded, the
    /// reveal of the logits included).
    #[serde(serialize_with = "ser::cost")]
    pub cost: Cost,
    /// Every activation layer's outputs, in both models.
    pub taps: Vec<LayerTaps>,
}

impl Prediction {
    /// Both models' logits and activation taps, and the MPC cost.
    pub(crate) fn new(
        plaintext: Vec<f64>,
        plain_taps: Vec<LayerTap>,
        mpc: Vec<f64>,
        mpc_taps: Vec<LayerTap>,
        cost: Cost,
    ) -> Self {
        let l2: f64 = mpc
            .iter()
            .zip(&plaintext)
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        Prediction {
            deviation_max: max_abs_gap(&mpc, &plaintext),
            deviation_l2: libm::sqrt(l2),
            plaintext: Side::new(plaintext),
            mpc: Side::new(mpc),
            cost,
            taps: plain_taps
                .into_iter()
                .zip(mpc_taps)
                .map(|(p, m)| LayerTaps {
                    name: p.name,
                    shape: p.shape,
                    plaintext: p.values,
                    mpc: m.values,
                })
                .collect(),
        }
    }
}

/// One model of [`Breakdown`]: its name and answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StageLogits {
    /// `plaintext`, `float`, `fixed` or `mpc`.
    pub name: &'static str,
    /// The logits.
    #[serde(serialize_with = "ser::f64s")]
    pub logits: Vec<f64>,
    /// Their arg max.
    pub label: usize,
}

/// The largest gap each stage adds in one layer (or the logits).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gap {
    /// The activation layer, or `logits`.
    pub layer: String,
    /// `max |later − earlier|` over its outputs: approximation, encoding, shares.
    pub values: [f64; 3],
}

/// The error sources of one input: the four models of the module doc, and the largest gap
/// each stage adds, per activation layer and on the logits.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Breakdown {
    /// plaintext, float, fixed, MPC, in that order.
    pub stages: [StageLogits; 4],
    /// The names of [`Gap::values`]: approximation, encoding, shares.
    pub gap_names: [&'static str; 3],
    /// Per activation layer, then the logits.
    pub gaps: Vec<Gap>,
}

/// One function's error by stage over a range of inputs (`mpcdiff approx`'s numbers;
/// serialized in `crate::js`, its stages as four columns).
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    /// The function, run at `level` (the activation layers' level if it is their function,
    /// else the profile's default for it).
    pub function: Function,
    #[allow(missing_docs)]
    pub level: Level,
    /// The inputs, evenly spaced, and per input the exact, float, fixed and shared values
    /// (the kernel's [`attribution::curve`]).
    pub x: Vec<f64>,
    #[allow(missing_docs)]
    pub stages: Vec<Stages>,
    /// What the shared run cost for all inputs.
    pub cost: Cost,
}

/// An error curve: its stages as four typed arrays (`exact`, `float`, `fixed`, `shared`).
impl Serialize for Curve {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let col = |f: fn(&Stages) -> f64| ser::column(self.stages.iter().map(f));
        let mut m = s.serialize_struct("ErrorCurve", 8)?;
        m.serialize_field("function", self.function.name())?;
        m.serialize_field("level", &[self.level.iters_exp, self.level.iters_nr])?;
        m.serialize_field("x", &ser::column(self.x.iter().copied()))?;
        m.serialize_field("exact", &col(|s| s.exact))?;
        m.serialize_field("float", &col(|s| s.float))?;
        m.serialize_field("fixed", &col(|s| s.fixed))?;
        m.serialize_field("shared", &col(|s| s.shared))?;
        m.serialize_field("cost", &ser::CostOf(&self.cost))?;
        m.end()
    }
}

/// A decision-boundary slice: labels on a grid in the plane through an input spanned by two
/// seeded random orthonormal directions of pixel space (the kernel's
/// [`slice`](mpcdiff_kernel::difftest::slice)).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Slice {
    /// Grid points per side.
    pub steps: usize,
    /// The grid's coordinates along each direction (pixel-space L2 units), `steps` of them,
    /// evenly spaced over `[−radius, radius]`.
    #[serde(serialize_with = "ser::f64s")]
    pub offsets: Vec<f64>,
    /// Plaintext labels, row-major: row `r` is `offsets[r]` along the second direction,
    /// column `c` is `offsets[c]` along the first.
    #[serde(serialize_with = "ser::u8s")]
    pub plaintext: Vec<u8>,
    /// MPC labels, same layout.
    #[serde(serialize_with = "ser::u8s")]
    pub mpc: Vec<u8>,
    /// Grid points where the labels differ.
    pub disagreements: usize,
    /// What the whole batched MPC run cost.
    #[serde(serialize_with = "ser::cost")]
    pub cost: Cost,
}

/// The largest [`Session::error_curve`] sample count.
pub const CURVE_POINTS_MAX: usize = 10_001;
/// Samples per forward pass of a slice: all run in one MPC session, this many at a time, so
/// the arena stays a few megabytes whatever the grid.
const SLICE_CHUNK: usize = 8;
/// The memory of the session's [`Evaluator`], sized once per model for [`SLICE_CHUNK`]
/// samples (a slice's chunks; single inputs take the front of it).
#[derive(Debug, Default)]
struct Memory {
    floats: Vec<f64>,
    ints: Vec<i64>,
    shares: Vec<mpcdiff_kernel::Share>,
    /// What the memory holds: the plaintext model's parameters (batch norm folded: they
    /// depend on no setting) and the MPC model's encoded ones (per format and deployment).
    loaded: mpcdiff_kernel::difftest::evaluator::Loaded,
}

/// The MPC model of `settings` over `model`, as the kernel oracle takes it.
pub(crate) fn target<'m>(model: &'m Model<'static>, settings: &Settings) -> Target<'m, 'm> {
    Target {
        model,
        profile: settings.profile,
        fp: settings.fp,
        trunc: settings.trunc,
        deploy: DEPLOY,
        engine: settings.engine,
    }
}

/// The browser's state (module doc).
#[derive(Debug)]
pub struct Session {
    name: String,
    model: Model<'static>,
    settings: Settings,
    plan: OwnedPlan,
    memory: Memory,
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
            plan: OwnedPlan::default(),
            memory: Memory::default(),
        };
        s.set_level(settings.level)?;
        Ok(s)
    }

    /// A session over the embedded tabular model `model` (`credit-mlp`, `bank-mlp`: see
    /// [`models::load_tabular`]); only [`Session::predict_raw`] takes its inputs.
    pub fn new_tabular(model: &str, settings: Settings) -> Result<Session, Failure> {
        let parsed = models::load_tabular(model)?;
        let mut s = Session {
            name: model.to_string(),
            model: parsed,
            settings,
            plan: OwnedPlan::default(),
            memory: Memory::default(),
        };
        s.set_level(settings.level)?;
        Ok(s)
    }

    /// The plaintext and the MPC model on one tabular sample in raw units (one value per
    /// feature), scaled as the model file records (the kernel's `nn::scaling`, the CLI's
    /// `mpcdiff predict --input` scaling).
    pub fn predict_raw(&mut self, raw: &[f64]) -> Result<Prediction, Failure> {
        let meta = self
            .model
            .metadata_raw("preprocessing")
            .ok_or(Failure::Argument {
                name: "model",
                expected: "a model that records its preprocessing",
            })?;
        let mut x = vec![0.0; self.model.input.len()];
        mpcdiff_kernel::nn::scaling::apply(meta, raw, &mut x)?;
        let (mut pt, mut mt) = (Taps::for_model(&self.model), Taps::for_model(&self.model));
        let plain = self.plaintext(&x, 1, Some(&mut pt))?;
        let (logits, cost) = self.mpc(&x, self.settings.mpc_seed, Some(&mut mt))?;
        Ok(Prediction::new(plain, pt.layers, logits, mt.layers, cost))
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
    /// Sets the engine.
    pub fn set_engine(&mut self, e: Engine) {
        self.settings.engine = e;
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
            Some(l) => uniform_plan(&self.model, l),
            None => OwnedPlan::default(),
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
    pub fn plan(&self) -> &OwnedPlan {
        &self.plan
    }

    /// The plan as an `mpcdiff.plan/1` file (the CLI's `--plan` format): per layer its
    /// neuron count and one group per level (a uniform layer: its level as the default);
    /// `None` without a plan.
    pub fn plan_json(&self) -> Option<String> {
        use core::fmt::Write as _;
        if self.plan.layers.is_empty() {
            return None;
        }
        let lv = |l: &Level| format!("{{\"exp\":{},\"nr\":{}}}", l.iters_exp, l.iters_nr);
        let mut out = format!(
            "{{\"schema\":\"mpcdiff.plan/1\",\"architecture\":\"{}\",\"profile\":\"{}\",\"layers\":[",
            self.model.architecture, self.settings.profile.name
        );
        let layers = mpcdiff_kernel::difftest::plan::nonlinear_layers(&self.model, DEPLOY);
        let mut first = true;
        for l in layers {
            let Some((_, levels)) = self.plan.layers.iter().find(|(n, _)| n == l.name) else {
                continue;
            };
            if !first {
                out.push(',');
            }
            first = false;
            // Writing into a String cannot fail.
            let _ = write!(out, "{{\"name\":\"{}\",\"neurons\":{}", l.name, l.neurons);
            if let [only] = levels.as_slice() {
                let _ = write!(out, ",\"default\":{},\"groups\":[]}}", lv(only));
                continue;
            }
            let mut distinct: Vec<Level> = Vec::new();
            for v in levels {
                if !distinct.contains(v) {
                    distinct.push(*v);
                }
            }
            distinct.sort_by_key(|v| (v.iters_exp, v.iters_nr));
            out.push_str(",\"groups\":[");
            for (k, d) in distinct.iter().enumerate() {
                let neurons: Vec<String> = (0..levels.len())
                    .filter(|&j| levels[j] == *d)
                    .map(|j| j.to_string())
                    .collect();
                let sep = if k == 0 { "" } else { "," };
                let _ = write!(
                    out,
                    "{sep}{{\"level\":{},\"neurons\":[{}]}}",
                    lv(d),
                    neurons.join(",")
                );
            }
            out.push_str("]}");
        }
        out.push_str("]}");
        Some(out)
    }

    /// Replaces the per-layer levels (a repair plan); the uniform override is then gone.
    pub fn set_plan(&mut self, plan: OwnedPlan) {
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

    /// A named level of the profile for the model's activation function: `default`, or the
    /// repair levels `high`, `medium`, `low`.
    pub fn level_preset(&self, name: &str) -> Result<Level, Failure> {
        let p = self.settings.profile;
        match name {
            "default" => Ok(self.activation_function().default_level(p)),
            "high" => Ok(p.repair.high),
            "medium" => Ok(p.repair.medium),
            "low" => Ok(p.repair.low),
            _ => Err(Failure::Argument {
                name: "name",
                expected: "\"default\", \"high\", \"medium\" or \"low\"",
            }),
        }
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

    /// `f` with the kernel's [`Evaluator`] of the session's model and settings, and the
    /// session's plan.
    pub(crate) fn evaluate<R>(
        &mut self,
        f: impl FnOnce(&mut Evaluator<'_, '_>, &OwnedPlan) -> Result<R, Failure>,
    ) -> Result<R, Failure> {
        let t = target(&self.model, &self.settings);
        let need = Footprint::of(&t, SLICE_CHUNK)?;
        let m = &mut self.memory;
        if m.floats.len() < need.floats || m.ints.len() < need.ints || m.shares.len() < need.shares
        {
            m.floats.resize(need.floats, 0.0);
            m.ints.resize(need.ints, 0);
            m.shares
                .resize(need.shares, mpcdiff_kernel::Share::default());
        }
        let mut ev = Evaluator::new(
            t,
            SLICE_CHUNK,
            &mut m.floats,
            &mut m.ints,
            &mut m.shares,
            m.loaded,
        )?;
        let r = f(&mut ev, &self.plan);
        m.loaded = ev.loaded();
        r
    }

    /// The plaintext model's logits on `batch` normalised samples.
    pub(crate) fn plaintext(
        &mut self,
        x: &[f64],
        batch: usize,
        tap: Option<&mut dyn Tap>,
    ) -> Result<Vec<f64>, Failure> {
        let mut logits = vec![0.0; batch * self.model.classes];
        self.evaluate(|ev, _| Ok(ev.plaintext(x, batch, tap, &mut logits)?))?;
        Ok(logits)
    }

    /// The MPC model's logits on one normalised sample in a fresh session seeded `seed`,
    /// with the session's plan, and what the forward pass cost: bringing the weights in is the
    /// same for every input, and sharing the input costs no round (PRZS).
    pub(crate) fn mpc(
        &mut self,
        x: &[f64],
        seed: u64,
        tap: Option<&mut dyn Tap>,
    ) -> Result<(Vec<f64>, Cost), Failure> {
        let mut logits = vec![0.0; self.model.classes];
        let cost = self.evaluate(|ev, plan| Ok(ev.mpc(x, seed, plan, tap, &mut logits)?))?;
        Ok((logits, cost))
    }

    /// The logits of one normalised sample at `stage` of the module doc's models, with the
    /// session's plan (`Shared` in a session seeded `seed`), the activations through `tap`.
    pub(crate) fn stage(
        &mut self,
        stage: Stage,
        x: &[f64],
        seed: u64,
        tap: Option<&mut dyn Tap>,
    ) -> Result<Vec<f64>, Failure> {
        let mut logits = vec![0.0; self.model.classes];
        self.evaluate(|ev, plan| Ok(ev.stage(stage, x, seed, plan, tap, &mut logits)?))?;
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
        let (mut pt, mut mt) = (Taps::for_model(&self.model), Taps::for_model(&self.model));
        let plain = self.plaintext(&x, 1, Some(&mut pt))?;
        let (logits, cost) = self.mpc(&x, self.settings.mpc_seed, Some(&mut mt))?;
        Ok(Prediction::new(plain, pt.layers, logits, mt.layers, cost))
    }

    /// The four models of the module doc on one image, and the gap each stage adds.
    /// The plaintext and MPC stages are [`Session::predict`]'s, bit for bit.
    pub fn breakdown(&mut self, pixels: &[f32]) -> Result<Breakdown, Failure> {
        let x = self.check_pixels(pixels, 1)?;
        let seed = self.settings.mpc_seed;
        let mut taps: [Taps; 4] = core::array::from_fn(|_| Taps::for_model(&self.model));
        let [t0, t1, t2, t3] = &mut taps;
        let logits = [
            self.plaintext(&x, 1, Some(t0))?,
            self.stage(Stage::Approximation, &x, seed, Some(t1))?,
            self.stage(Stage::FixedPoint, &x, seed, Some(t2))?,
            self.mpc(&x, seed, Some(t3))?.0,
        ];
        let gap = |a: &[f64], b: &[f64]| max_abs_gap(b, a);
        let mut gaps: Vec<Gap> = (0..taps[0].layers.len())
            .map(|k| Gap {
                layer: taps[0].layers[k].name.clone(),
                values: core::array::from_fn(|i| {
                    gap(&taps[i].layers[k].values, &taps[i + 1].layers[k].values)
                }),
            })
            .collect();
        gaps.push(Gap {
            layer: "logits".into(),
            values: core::array::from_fn(|i| gap(&logits[i], &logits[i + 1])),
        });
        let names = ["plaintext", "float", "fixed", "mpc"];
        let [l0, l1, l2, l3] = logits;
        let stages = [l0, l1, l2, l3]
            .into_iter()
            .zip(names)
            .map(|(logits, name)| StageLogits {
                name,
                label: argmax(&logits),
                logits,
            });
        let mut it = stages;
        let stages = core::array::from_fn(|_| it.next().expect("four stages"));
        Ok(Breakdown {
            stages,
            gap_names: ["approximation", "encoding", "shares"],
            gaps,
        })
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
        let (f, i, sh) = attribution::Memory::sizes(points);
        let mut memory = (vec![0.0; f], vec![0i64; i], vec![[0i64; 2]; sh]);
        let mut x = vec![0.0; points];
        let mut stages = vec![Stages::default(); points];
        let probe = Probe {
            function,
            profile: s.profile,
            fp: s.fp,
            trunc: s.trunc,
            seed: s.mpc_seed,
        };
        let mem = attribution::Memory {
            floats: &mut memory.0,
            ints: &mut memory.1,
            shares: &mut memory.2,
        };
        let levels = Levels::Uniform(level);
        let cost = attribution::curve(&probe, (lo, hi), &levels, mem, &mut x, &mut stages)?;
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
        let mut offsets = vec![0.0; steps];
        slice::offsets(radius, &mut offsets)?;
        let features = pixels.len();
        let (mut d1, mut d2) = (vec![0.0; features], vec![0.0; features]);
        slice::directions(direction_seed, &mut d1, &mut d2)?;
        let center: Vec<f64> = pixels.iter().map(|&u| f64::from(u)).collect();
        let n = steps * steps;
        let mut x = vec![0.0; n * features];
        for (k, point) in x.chunks_mut(features).enumerate() {
            let (a, b) = (offsets[k % steps], offsets[k / steps]);
            slice::point(&center, &d1, &d2, a, b, point);
            for v in point.iter_mut() {
                *v = models::normalize(*v as f32);
            }
        }
        let (mut plaintext, mut mpc) = (vec![0u8; n], vec![0u8; n]);
        let mut logits = vec![0.0; n * self.model.classes];
        let seed = self.settings.mpc_seed;
        let cost = self.evaluate(|ev, plan| {
            let (p, m, l) = (&mut plaintext, &mut mpc, &mut logits);
            Ok(slice::label(ev, plan, &x, n, seed, p, m, l)?)
        })?;
        Ok(Slice {
            steps,
            disagreements: plaintext.iter().zip(&mpc).filter(|(a, b)| a != b).count(),
            offsets,
            plaintext,
            mpc,
            cost,
        })
    }
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
                    p.deviation_max < 0.5,
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
        let names: Vec<&str> = p.taps.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["act1", "act2", "act3", "act4"]);
        for t in &p.taps {
            assert_eq!(t.plaintext.len(), t.shape.len(), "{}", t.name);
            assert_eq!(t.mpc.len(), t.shape.len(), "{}", t.name);
            assert!(
                t.plaintext.iter().all(|v| (0.0..=1.0).contains(v)),
                "sigmoid outputs"
            );
        }
        // fc3 applied by hand to the last tap gives the plaintext logits.
        let m = s.model();
        let w = m.tensor("fc3", ".weight").unwrap();
        let b = m.tensor("fc3", ".bias").unwrap();
        let act4 = &p.taps[3].plaintext;
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
        for (stage, side) in [(&b.stages[0], &p.plaintext), (&b.stages[3], &p.mpc)] {
            assert_eq!((&stage.logits, stage.label), (&side.logits, side.label));
        }
        let names: Vec<&str> = b.stages.iter().map(|s| s.name).collect();
        assert_eq!(names, ["plaintext", "float", "fixed", "mpc"]);
        let rows: Vec<&str> = b.gaps.iter().map(|g| g.layer.as_str()).collect();
        assert_eq!(rows, ["act1", "act2", "act3", "act4", "logits"]);
        let logits = b.gaps.last().unwrap().values;
        for (k, gap) in logits.iter().enumerate() {
            assert_eq!(
                *gap,
                max_abs_gap(&b.stages[k + 1].logits, &b.stages[k].logits)
            );
            // Sigmoid by exp and Newton steps, 16-bit truncations, share-local truncation:
            // each stage changes the logits, and none by much on a clean digit.
            assert!(*gap > 0.0 && *gap < 0.5, "{} gap {gap}", b.gap_names[k]);
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
                assert_eq!(p.taps[0].mpc, base.taps[0].mpc);
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
        assert!(sl.disagreements <= 25);
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
