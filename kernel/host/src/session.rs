//! The browser's state: one model, the MPC settings, a level plan and the memory of the
//! kernel's [`Evaluator`], which every call reuses.
//!
//! A [`Session`] is plain Rust (tested natively in `kernel/host/tests/` and by the CLI's
//! browser tests); the wasm adapter's `js` module wraps it for JavaScript. Every number is the
//! kernel's: the evaluator runs the models in the order that fixes which dealer and PRZS draws
//! each value takes, so the same settings and seed give the same logits, bit for bit, here, in
//! `mpcdiff predict` and on every target.
//!
//! # The four models of one input
//! * **plaintext**: exact activations, batch norm folded into the weights (what PyTorch
//!   computes, in `f64`); the reference.
//! * **float**: the profile's approximations, batch norm as CrypTen runs it: the algorithms.
//! * **fixed**: the same in CrypTen's one-party fixed point: adds encoding and truncation.
//! * **MPC**: the same in two-party shares with a seeded dealer: adds share randomness.
//!
//! # Levels
//! An optional level applies to every activation layer, uniformly over its neurons (a
//! [`LevelPlan`]); per-layer levels and a repair's per-neuron levels are the same plan type.

use mpcdiff_kernel::approx::attribution::{Probe, Stages};
use mpcdiff_kernel::approx::profile::{self, Profile};
use mpcdiff_kernel::approx::{Function, Level, Levels};
use mpcdiff_kernel::difftest::evaluator::{Evaluator, Runs};
pub use mpcdiff_kernel::difftest::fitness::argmax;
use mpcdiff_kernel::difftest::localization::{self, BREAKDOWN, GAPS};
use mpcdiff_kernel::difftest::mutation::distance;
use mpcdiff_kernel::difftest::oracle::{Stage, Target};
use mpcdiff_kernel::difftest::plan::nonlinear_layers;
use mpcdiff_kernel::difftest::recorder::Recorder;
use mpcdiff_kernel::difftest::slice;
use mpcdiff_kernel::nn::deploy::Deployment;
use mpcdiff_kernel::nn::forward::{activation_function, Tap};
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::nn::spec::{Kind, Shape};
use mpcdiff_kernel::{digits, Cost, Engine, FixedPoint, TruncMode};
use serde::Serialize;

use crate::memory::Memory;
pub use crate::plan::OwnedPlan;
use crate::{by_name, models, plan, ser, Failure};

/// The MPC settings a session runs with. `fp`, `trunc` and `deploy` are what runs: the
/// profile's own for another framework's profile when the asked ones are CrypTen's defaults
/// ([`Settings::resolve`], as the command line resolves its flags).
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub profile: &'static Profile,
    pub fp: FixedPoint,
    pub trunc: TruncMode,
    pub deploy: Deployment,
    /// The fractional digits asked for (the page's menu).
    pub asked_frac_bits: u32,
    /// The truncation asked for.
    pub asked_trunc: TruncMode,
    /// A level for every activation layer instead of the profile's default.
    pub level: Option<Level>,
    /// Seed of the MPC session of each call.
    pub mpc_seed: u64,
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
            deploy: Deployment::Crypten,
            asked_frac_bits: FixedPoint::CRYPTEN_DEFAULT.frac_bits(),
            asked_trunc: TruncMode::Local,
            level: None,
            mpc_seed: 42,
            engine: Engine::Protocol,
        }
    }
}

impl Settings {
    /// `profile` with the asked precision and truncation, resolved.
    ///
    /// # Errors
    /// A precision out of the profile's range.
    pub fn new(
        profile: &'static Profile,
        frac_bits: u32,
        trunc: TruncMode,
        mpc_seed: u64,
    ) -> Result<Settings, Failure> {
        let mut s = Settings {
            profile,
            asked_frac_bits: frac_bits,
            asked_trunc: trunc,
            mpc_seed,
            ..Settings::default()
        };
        s.resolve()?;
        Ok(s)
    }

    /// Recomputes what runs from the profile and what was asked ([`Profile::resolve_digits`],
    /// [`Profile::resolve_trunc`], [`Deployment::resolve`]).
    ///
    /// # Errors
    /// A precision out of the profile's range (the settings are unchanged then).
    pub fn resolve(&mut self) -> Result<(), Failure> {
        let p = self.profile;
        self.fp = p.format(p.resolve_digits(self.asked_frac_bits))?;
        self.trunc = p.resolve_trunc(self.asked_trunc);
        self.deploy = Deployment::Crypten.resolve(p);
        Ok(())
    }
}

/// The profile called `name`.
pub fn profile_arg(name: &str) -> Result<&'static Profile, Failure> {
    let expected = "one of \"crypten\", \"mpcdiff\", \"crypten-chebyshev\"";
    by_name(profile::by_name, "profile", expected, name)
}

/// The engine called `name` (`protocol` or `ideal`, the CLI's `--engine` values).
pub fn engine_arg(name: &str) -> Result<Engine, Failure> {
    by_name(Engine::by_name, "engine", "\"protocol\" or \"ideal\"", name)
}

/// The truncation mode called `name` (`local` or `dealer`, the CLI's `--trunc` values).
pub fn trunc_arg(name: &str) -> Result<TruncMode, Failure> {
    by_name(
        TruncMode::by_name,
        "trunc",
        "\"local\", \"dealer\", \"sr\", \"sr1\", \"fl\" or \"ch\"",
        name,
    )
}

/// One model's answer for one input.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Side {
    #[serde(serialize_with = "ser::f64s")]
    pub logits: Vec<f64>,
    /// `softmax(logits)`, the kernel's.
    #[serde(serialize_with = "ser::f64s")]
    pub probabilities: Vec<f64>,
    /// The arg max of the logits (the first on ties).
    pub label: usize,
}

impl Side {
    /// The answer of `logits` (`mpcdiff predict` prints the same).
    pub fn new(logits: Vec<f64>) -> Self {
        let mut probabilities = vec![0.0; logits.len()];
        mpcdiff_kernel::difftest::fitness::softmax(&logits, &mut probabilities);
        Side {
            probabilities,
            label: argmax(&logits),
            logits,
        }
    }
}

/// One activation layer's outputs in the plaintext and the MPC model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerTaps {
    pub name: String,
    #[serde(serialize_with = "ser::dims")]
    pub shape: Shape,
    #[serde(serialize_with = "ser::f64s")]
    pub plaintext: Vec<f64>,
    #[serde(serialize_with = "ser::f64s")]
    pub mpc: Vec<f64>,
}

/// The plaintext and the MPC model on one input.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prediction {
    pub plaintext: Side,
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

/// The activation layers of `m`, each with its range in a [`Recorder`]'s buffer.
fn recorded<'m>(
    m: &'m Model<'_>,
) -> impl Iterator<Item = (&'m str, Shape, core::ops::Range<usize>)> + 'm {
    let mut at = 0;
    nonlinear_layers(m, Deployment::Folded).map(move |l| {
        at += l.neurons;
        let shape = m.shapes.get(l.index).copied().unwrap_or(Shape::Vector(0));
        (l.name, shape, at - l.neurons..at)
    })
}

impl Prediction {
    /// Both models' logits, their [`Recorder`] buffers and the MPC cost.
    pub(crate) fn new(
        m: &Model<'_>,
        plain: Vec<f64>,
        taps: [&[f64]; 2],
        mpc: Vec<f64>,
        cost: Cost,
    ) -> Self {
        let (deviation_l2, deviation_max) = distance(&mpc, &plain);
        Prediction {
            deviation_max,
            deviation_l2,
            plaintext: Side::new(plain),
            mpc: Side::new(mpc),
            cost,
            taps: recorded(m)
                .map(|(name, shape, r)| LayerTaps {
                    name: name.into(),
                    shape,
                    plaintext: taps[0][r.clone()].to_vec(),
                    mpc: taps[1][r].to_vec(),
                })
                .collect(),
        }
    }
}

/// One model of a [`Breakdown`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StageLogits {
    /// `plaintext`, `float`, `fixed` or `mpc`.
    pub name: &'static str,
    #[serde(serialize_with = "ser::f64s")]
    pub logits: Vec<f64>,
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

/// The four models of the module doc on one input, and the largest gap each stage adds.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Breakdown {
    /// plaintext, float, fixed, MPC, in that order.
    pub stages: [StageLogits; 4],
    /// The names of [`Gap::values`].
    pub gap_names: [&'static str; 3],
    /// Per activation layer, then the logits.
    pub gaps: Vec<Gap>,
}

/// One function's error by stage over a range of inputs (`mpcdiff approx`'s numbers): per
/// input the exact, float, fixed and shared values (the kernel's [`mpcdiff_kernel::approx::attribution::curve`]).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Curve {
    /// The function, run at `level`: the activation layers' level if it is their function,
    /// else the profile's default for it.
    #[serde(serialize_with = "ser::function")]
    pub function: Function,
    #[serde(serialize_with = "ser::level")]
    pub level: Level,
    #[serde(serialize_with = "ser::f64s")]
    pub x: Vec<f64>,
    #[serde(serialize_with = "ser::f64s")]
    pub exact: Vec<f64>,
    #[serde(serialize_with = "ser::f64s")]
    pub float: Vec<f64>,
    #[serde(serialize_with = "ser::f64s")]
    pub fixed: Vec<f64>,
    #[serde(serialize_with = "ser::f64s")]
    pub shared: Vec<f64>,
    /// What the shared run cost for all inputs.
    #[serde(serialize_with = "ser::cost")]
    pub cost: Cost,
}

/// A decision-boundary slice (the kernel's [`slice`]): labels on a `steps × steps` grid,
/// row `r` at `offsets[r]` along the second direction, column `c` at `offsets[c]` along the
/// first.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Slice {
    pub steps: usize,
    #[serde(serialize_with = "ser::f64s")]
    pub offsets: Vec<f64>,
    #[serde(serialize_with = "ser::u8s")]
    pub plaintext: Vec<u8>,
    #[serde(serialize_with = "ser::u8s")]
    pub mpc: Vec<u8>,
    /// Grid points where the labels differ.
    pub disagreements: usize,
    /// What the whole batched MPC run cost.
    #[serde(serialize_with = "ser::cost")]
    pub cost: Cost,
}

/// The largest [`Session::error_curve`] and [`encoding_curve`] sample count.
pub const CURVE_POINTS_MAX: usize = 10_001;
/// Samples per forward pass of a slice (all in one MPC session), so the arena stays a few
/// megabytes whatever the grid; single inputs take the front of the memory.
const SLICE_CHUNK: usize = 8;

/// The browser's state (module doc).
#[derive(Debug)]
pub struct Session {
    name: String,
    model: Model<'static>,
    settings: Settings,
    plan: OwnedPlan,
    /// The evaluator's, sized for [`SLICE_CHUNK`] samples.
    memory: Memory,
}

/// The MPC model of `s` over `model`.
fn target<'m>(model: &'m Model<'static>, s: &Settings) -> Target<'m, 'm> {
    Target {
        model,
        profile: s.profile,
        fp: s.fp,
        trunc: s.trunc,
        deploy: s.deploy,
        engine: s.engine,
        comparison: Default::default(),
    }
}

fn points_arg(points: usize) -> Result<(), Failure> {
    if !(2..=CURVE_POINTS_MAX).contains(&points) {
        return Err(Failure::Argument {
            name: "points",
            expected: "an integer in 2..=10001",
        });
    }
    Ok(())
}

impl Session {
    /// A session over the embedded model `model`: an image model ([`models::load`]) or a
    /// tabular one ([`models::load_tabular`], whose inputs only [`Session::predict_raw`]
    /// takes).
    pub fn new(model: &str, settings: Settings) -> Result<Session, Failure> {
        let tabular = models::TABULAR.iter().any(|t| t.model == model);
        let mut s = Session {
            name: model.to_string(),
            model: if tabular {
                models::load_tabular(model)?
            } else {
                models::load(model)?
            },
            settings,
            plan: OwnedPlan::default(),
            memory: Memory::default(),
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
    /// The current settings, to change (a level: [`Session::set_level`]).
    pub fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }
    /// What the MPC model is deployed as (`crypten`: what `crypten.nn.from_pytorch` runs).
    pub fn deployment(&self) -> Deployment {
        self.settings.deploy
    }
    /// The MPC model, as the kernel's oracle takes it.
    pub fn target(&self) -> Target<'_, '_> {
        target(&self.model, &self.settings)
    }

    /// Sets (or, with `None`, clears) the level of every activation layer.
    pub fn set_level(&mut self, level: Option<Level>) -> Result<(), Failure> {
        if let Some(l) = level {
            Levels::Uniform(l).check(1)?;
        }
        self.settings.level = level;
        self.plan = plan::uniform(&self.model, level);
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
        plan::set_layer(
            &mut self.plan,
            layer,
            level.as_ref().map(core::slice::from_ref),
        );
        Ok(())
    }

    /// The per-layer levels the MPC model runs with (layers not listed: the profile's).
    pub fn plan(&self) -> &OwnedPlan {
        &self.plan
    }

    /// Replaces the per-layer levels (a repair plan); the uniform override is then gone.
    pub fn set_plan(&mut self, plan: OwnedPlan) {
        self.settings.level = None;
        self.plan = plan;
    }

    /// The plan as an `mpcdiff.plan/1` file (the kernel's [`LevelPlan::write_json`]), `None`
    /// without a plan.
    pub fn plan_json(&self) -> Option<String> {
        let mut out = String::new();
        let profile = self.settings.profile.name;
        // Writing into a String cannot fail.
        let _ = self
            .plan
            .write_json(&self.model, self.settings.deploy, profile, &mut out);
        (!self.plan.layers.is_empty()).then_some(out)
    }

    /// The names of the layers that take a level, in order: activations, and the batch norms
    /// the deployment evaluates under MPC.
    pub fn leveled_layers(&self) -> Vec<&str> {
        nonlinear_layers(&self.model, self.settings.deploy)
            .map(|l| l.name)
            .collect()
    }

    /// A named level of the profile for the model's activation function: `default`, or the
    /// repair levels `high`, `medium`, `low` (the kernel's [`Function::preset`]).
    pub fn level_preset(&self, name: &str) -> Result<Level, Failure> {
        let f = self.activation_function();
        f.preset(self.settings.profile, name)
            .ok_or(Failure::Argument {
                name: "name",
                expected: "\"default\", \"high\", \"medium\" or \"low\"",
            })
    }

    /// The function the model's activation layers compute (sigmoid without one).
    pub fn activation_function(&self) -> Function {
        activation_function(&self.model).unwrap_or(Function::Sigmoid)
    }

    /// One 28 × 28 image of intensities as the model's normalised input.
    pub fn normalized(&self, pixels: &[f32]) -> Result<Vec<f64>, Failure> {
        let mut x = vec![0.0; self.model.input.len()];
        digits::normalize_into(pixels, &mut x)?;
        Ok(x)
    }

    /// `f` with the kernel's [`Evaluator`] of the session's model and settings over the
    /// session's memory, and the session's plan.
    pub fn evaluate<R, E: Into<Failure>>(
        &mut self,
        f: impl FnOnce(&mut Evaluator<'_, '_>, &OwnedPlan) -> Result<R, E>,
    ) -> Result<R, Failure> {
        let t = target(&self.model, &self.settings);
        let plan = &self.plan;
        self.memory
            .with(t, SLICE_CHUNK, |ev| f(ev, plan))?
            .map_err(Into::into)
    }

    /// The logits of one normalised sample at `stage` of the module doc's models, with the
    /// session's plan (MPC in a session seeded `seed`), the activations through `tap`; the
    /// cost of an MPC run.
    pub fn stage(
        &mut self,
        stage: Stage,
        x: &[f64],
        seed: u64,
        tap: Option<&mut dyn Tap>,
    ) -> Result<(Vec<f64>, Cost), Failure> {
        let mut logits = vec![0.0; self.model.classes];
        let cost = self.evaluate(|ev, plan| ev.stage(stage, x, seed, plan, tap, &mut logits))?;
        Ok((logits, cost))
    }

    /// Both models on one normalised input, with every activation layer's outputs: the MPC
    /// model in `runs` sessions seeded `seed` and its repeat seeds (the kernel's
    /// [`Evaluator::runs`]: the first session's logits, outputs and cost), and how many of
    /// them do not give `label`.
    pub fn predict_runs(
        &mut self,
        x: &[f64],
        seed: u64,
        label: usize,
        runs: u32,
    ) -> Result<(Prediction, Runs), Failure> {
        let mut taps = vec![0.0; 2 * Recorder::len(&self.model, 1)];
        let half = taps.len() / 2;
        let (pt, mt) = taps.split_at_mut(half);
        let tap = &mut Recorder::new(&self.model, 1, pt)?;
        let (plain, _) = self.stage(Stage::Plaintext, x, 0, Some(tap))?;
        let mut mpc = vec![0.0; self.model.classes];
        let mut tap = Recorder::new(&self.model, 1, mt)?;
        let (r, cost) = self
            .evaluate(|ev, plan| ev.runs(x, seed, label, runs, plan, Some(&mut tap), &mut mpc))?;
        let p = Prediction::new(&self.model, plain, [pt, mt], mpc, cost);
        Ok((p, r))
    }

    /// Both models on one normalised input, the MPC model in the session's seed.
    fn predict_normalized(&mut self, x: &[f64]) -> Result<Prediction, Failure> {
        let seed = self.settings.mpc_seed;
        Ok(self.predict_runs(x, seed, 0, 1)?.0)
    }

    /// The plaintext and the MPC model on one 28×28 image of intensities in [0, 1] (row-major;
    /// values outside [0, 1] are allowed, as a perturbed input may have them), with every
    /// activation layer's outputs.
    pub fn predict(&mut self, pixels: &[f32]) -> Result<Prediction, Failure> {
        let x = self.normalized(pixels)?;
        self.predict_normalized(&x)
    }

    /// [`Session::predict`] for one tabular sample in raw units (one value per feature),
    /// scaled as the model file records (the kernel's `nn::scaling`, as `mpcdiff predict`).
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
        self.predict_normalized(&x)
    }

    /// The four models of the module doc on one image, and the gap each stage adds (the
    /// kernel's [`localization::breakdown`]). The plaintext and MPC stages are
    /// [`Session::predict`]'s, bit for bit.
    pub fn breakdown(&mut self, pixels: &[f32]) -> Result<Breakdown, Failure> {
        let x = self.normalized(pixels)?;
        let (seed, classes) = (self.settings.mpc_seed, self.model.classes);
        let (len, rows) = localization::breakdown_sizes(&self.model);
        let (mut taps, mut gaps) = (vec![0.0; len], vec![[0.0; 3]; rows]);
        let mut logits = vec![0.0; BREAKDOWN.len() * classes];
        let (t, l, g) = (&mut taps, &mut logits, &mut gaps);
        self.evaluate(|ev, plan| localization::breakdown(ev, plan, &x, seed, t, l, g))?;
        let stage = |k: usize| &logits[k * classes..][..classes];
        let names = ["plaintext", "float", "fixed", "mpc"];
        let layers = recorded(&self.model)
            .map(|(name, ..)| name)
            .chain(["logits"]);
        Ok(Breakdown {
            stages: core::array::from_fn(|k| StageLogits {
                name: names[k],
                label: argmax(stage(k)),
                logits: stage(k).to_vec(),
            }),
            gap_names: GAPS,
            gaps: layers
                .zip(gaps)
                .map(|(layer, values)| Gap {
                    layer: layer.into(),
                    values,
                })
                .collect(),
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
        points_arg(points)?;
        let s = self.settings;
        let level = match s.level {
            Some(l) if function == self.activation_function() => l,
            _ => function.default_level(s.profile),
        };
        let probe = Probe {
            function,
            profile: s.profile,
            fp: s.fp,
            trunc: s.trunc,
            seed: s.mpc_seed,
        };
        let levels = Levels::Uniform(level);
        let (x, stages, cost) =
            crate::memory::attribution_curve(&probe, (lo, hi), &levels, points)?;
        let col = |f: fn(&Stages) -> f64| stages.iter().map(f).collect();
        Ok(Curve {
            function,
            level,
            x,
            exact: col(|s| s.exact),
            float: col(|s| s.float),
            fixed: col(|s| s.fixed),
            shared: col(|s| s.shared),
            cost,
        })
    }

    /// Plaintext and MPC labels on a `steps × steps` grid over `[−radius, radius]²` in the
    /// plane through `pixels` spanned by two random orthonormal directions of pixel space
    /// drawn from `direction_seed` (not clipped to [0, 1]: clipping would fold it). All MPC
    /// inferences run in one session seeded with the MPC seed, in chunks of 8 in row-major
    /// order, so a grid point's MPC label may differ from what [`Session::predict`] gives the
    /// same image alone (other share randomness).
    pub fn slice(
        &mut self,
        pixels: &[f32],
        direction_seed: u64,
        radius: f64,
        steps: usize,
    ) -> Result<Slice, Failure> {
        self.normalized(pixels)?;
        let mut offsets = vec![0.0; steps];
        slice::offsets(radius, &mut offsets)?;
        let features = pixels.len();
        let (mut d1, mut d2) = (vec![0.0; features], vec![0.0; features]);
        slice::directions(direction_seed, &mut d1, &mut d2)?;
        let center: Vec<f64> = pixels.iter().map(|&u| f64::from(u)).collect();
        let n = steps * steps;
        let mut x = vec![0.0; n * features];
        slice::grid(&center, &d1, &d2, &offsets, &mut x)?;
        for v in x.iter_mut() {
            *v = f64::from(digits::normalize(*v as f32));
        }
        let (mut plaintext, mut mpc) = (vec![0u8; n], vec![0u8; n]);
        let mut logits = vec![0.0; n * self.model.classes];
        let seed = self.settings.mpc_seed;
        let (p, m, l) = (&mut plaintext, &mut mpc, &mut logits);
        let cost = self.evaluate(|ev, plan| slice::label(ev, plan, &x, n, seed, p, m, l))?;
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

/// The relative error of encoding `x` with `frac_bits` fractional bits at `points` log-spaced
/// `x` from 1e−6 to 1e6 (the kernel's [`FixedPoint::encoding_curve`]).
pub fn encoding_curve(frac_bits: u32, points: usize) -> Result<(Vec<f64>, Vec<f64>), Failure> {
    let fp = FixedPoint::new(frac_bits)?;
    points_arg(points)?;
    let (mut x, mut rel) = (vec![0.0; points], vec![0.0; points]);
    fp.encoding_curve(&mut x, &mut rel)?;
    Ok((x, rel))
}
