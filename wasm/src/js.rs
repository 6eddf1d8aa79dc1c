//! The `#[wasm_bindgen]` face of the crate: it converts arguments in and results out, and
//! does nothing else (every number is the kernel's, through [`crate::session`]).
//!
//! Results cross as plain JS objects through `serde-wasm-bindgen`: the view structs below
//! (`camelCase` fields) are what the page reads, declared for TypeScript in [`TS`]. Bulk
//! numbers cross as typed arrays (`Float64Array`, `Float32Array`, `Uint8Array`,
//! `Uint32Array`), everything else as `Number`s, strings, booleans and arrays; seeds and
//! digests cross as decimal or hexadecimal strings (they are `u64`). Nothing needs `free()`
//! but the `Session` itself.

use js_sys::{Float32Array, Float64Array, Uint32Array, Uint8Array};
use mpcdiff_kernel::approx::{Function, Level};
use mpcdiff_kernel::difftest::oracle::Stage;
use mpcdiff_kernel::nn::spec::Shape;
use mpcdiff_kernel::{Cost, FixedPoint};
use serde::{Serialize, Serializer};
use wasm_bindgen::prelude::*;

use crate::repair::{Localization, Repair, Replay, Tried};
use crate::search::{self, Found, Progress, SearchOptions};
use crate::session::{self, Breakdown, Curve, Prediction, Settings, Slice};
use crate::{into_error, seed_arg, Failure};

/// The TypeScript declarations of what crosses (the generated `.d.ts` includes them; the
/// methods name these types as their return types).
#[wasm_bindgen(typescript_custom_section)]
const TS: &'static str = r#"
export interface Cost { rounds: number; multiplications: number; andTriples: number;
  bytesPerParty: number; cryptenBytes: number; truncations: number; wrapEvents: number }
export interface SessionSettings { model: string; profile: string; profileAbout: string;
  deploy: string; deployAbout: string; fracBits: number; trunc: string; mpcSeed: string;
  level: [number, number] | null; activation: string; layers: string[]; classes: number;
  presets: { default: [number, number]; high: [number, number]; medium: [number, number];
             low: [number, number] } }
export interface Side { logits: Float64Array; probabilities: Float64Array; label: number }
export interface LayerTaps { name: string; shape: number[]; plaintext: Float64Array;
  mpc: Float64Array }
export interface Prediction { plaintext: Side; mpc: Side; deviationMax: number;
  deviationL2: number; cost: Cost; taps: LayerTaps[] }
export interface Breakdown { stages: { name: string; logits: Float64Array; label: number }[];
  gapNames: string[]; gaps: { layer: string; values: number[] }[] }
export interface ErrorCurve { function: string; level: [number, number]; x: Float64Array;
  exact: Float64Array; float: Float64Array; fixed: Float64Array; shared: Float64Array;
  cost: Cost }
export interface EncodingCurve { fracBits: number; x: Float64Array; rel: Float64Array }
export interface Slice { steps: number; offsets: Float64Array; plaintext: Uint8Array;
  mpc: Uint8Array; disagreements: number; cost: Cost }
export interface Digit { label: number; pixels: Float32Array }
export interface SearchProgress { mutants: number; budget: number; rounds: number;
  status: "active" | "found" | "dropped" | "skipped"; fitness: number; accepted: number;
  digest: string; done: boolean }
export interface FoundDeviation { pixels: Float32Array; originalPixels: Float32Array;
  input: Float64Array; l2: number; linf: number; mpcSeed: string; mutant: number | null;
  mutations: number; path: string[]; plaintextLabel: number; mpcLabel: number;
  plaintextLogits: Float64Array; mpcLogits: Float64Array; flips: number; runs: number }
export interface Localization { source: "approximation" | "fixed-point" | "share-randomness";
  layers: { name: string; shape: number[]; activation: boolean; error: Float64Array;
            high: Uint32Array; low: Uint32Array; fixedWhenExact: boolean }[] }
export interface TriedPlan { name: string; flips: number; runs: number; mpcCorrect: number;
  cost: Cost; meets: boolean }
export interface RepairSearch { baseline: TriedPlan; tried: TriedPlan[]; candidates: number;
  chosen: number | null; check: number; plaintextCorrect: number }
export interface Replay { prediction: Prediction; flips: number; runs: number }
"#;

// ---- conversion helpers --------------------------------------------------------------------

fn check<T>(function: &str, r: Result<T, Failure>) -> Result<T, JsError> {
    r.map_err(|e| into_error(function, e))
}

/// `value` as a plain JS object (maps as objects, `None` as `null`).
fn to_js<T: Serialize>(function: &str, value: &T) -> Result<JsValue, JsError> {
    let s = serde_wasm_bindgen::Serializer::new()
        .serialize_maps_as_objects(true)
        .serialize_missing_as_null(true);
    value
        .serialize(&s)
        .map_err(|e| JsError::new(&format!("mpcdiff {function}: {e}")))
}

/// Serializes as a typed array (through `serde_wasm_bindgen::preserve`; only ever called
/// inside wasm, where `js_sys` works).
macro_rules! typed {
    ($name:ident, $elem:ty, $array:ty) => {
        #[allow(clippy::ptr_arg)]
        fn $name<S: Serializer>(v: &Vec<$elem>, s: S) -> Result<S::Ok, S::Error> {
            serde_wasm_bindgen::preserve::serialize(&<$array>::from(&v[..]), s)
        }
    };
}
typed!(f64s, f64, Float64Array);
typed!(f32s, f32, Float32Array);
typed!(u8s, u8, Uint8Array);
typed!(u32s, u32, Uint32Array);

fn dims(s: Shape) -> Vec<u32> {
    let d = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    match s {
        Shape::Image { c, h, w } => vec![d(c), d(h), d(w)],
        Shape::Vector(n) => vec![d(n)],
    }
}

fn level(l: Level) -> [u8; 2] {
    [l.iters_exp, l.iters_nr]
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CostJs {
    rounds: f64,
    multiplications: f64,
    and_triples: f64,
    bytes_per_party: f64,
    crypten_bytes: f64,
    truncations: f64,
    wrap_events: f64,
}

impl From<&Cost> for CostJs {
    fn from(c: &Cost) -> Self {
        CostJs {
            rounds: c.rounds as f64,
            multiplications: c.multiplications() as f64,
            and_triples: c.and_triples as f64,
            bytes_per_party: c.bytes_sent[0] as f64,
            crypten_bytes: c.crypten_bytes() as f64,
            truncations: c.truncations as f64,
            wrap_events: c.wrap_events as f64,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SettingsJs {
    model: String,
    profile: &'static str,
    profile_about: &'static str,
    deploy: &'static str,
    deploy_about: &'static str,
    frac_bits: u32,
    trunc: &'static str,
    mpc_seed: String,
    level: Option<[u8; 2]>,
    activation: &'static str,
    layers: Vec<String>,
    classes: usize,
    presets: Presets,
}

#[derive(Serialize)]
struct Presets {
    default: [u8; 2],
    high: [u8; 2],
    medium: [u8; 2],
    low: [u8; 2],
}

#[derive(Serialize)]
struct SideJs {
    #[serde(serialize_with = "f64s")]
    logits: Vec<f64>,
    #[serde(serialize_with = "f64s")]
    probabilities: Vec<f64>,
    label: usize,
}

#[derive(Serialize)]
struct TapsJs {
    name: String,
    shape: Vec<u32>,
    #[serde(serialize_with = "f64s")]
    plaintext: Vec<f64>,
    #[serde(serialize_with = "f64s")]
    mpc: Vec<f64>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PredictionJs {
    plaintext: SideJs,
    mpc: SideJs,
    deviation_max: f64,
    deviation_l2: f64,
    cost: CostJs,
    taps: Vec<TapsJs>,
}

impl From<&Prediction> for PredictionJs {
    fn from(p: &Prediction) -> Self {
        let side = |s: &session::Side| SideJs {
            logits: s.logits.clone(),
            probabilities: s.probabilities.clone(),
            label: s.label,
        };
        PredictionJs {
            plaintext: side(&p.plaintext),
            mpc: side(&p.mpc),
            deviation_max: p.deviation_max(),
            deviation_l2: p.deviation_l2(),
            cost: (&p.cost).into(),
            taps: p
                .plaintext
                .taps
                .iter()
                .zip(&p.mpc.taps)
                .map(|(a, b)| TapsJs {
                    name: a.name.clone(),
                    shape: dims(a.shape),
                    plaintext: a.values.clone(),
                    mpc: b.values.clone(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct StageJs {
    name: &'static str,
    #[serde(serialize_with = "f64s")]
    logits: Vec<f64>,
    label: usize,
}

#[derive(Serialize)]
struct GapJs {
    layer: String,
    values: [f64; 3],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BreakdownJs {
    stages: Vec<StageJs>,
    gap_names: [&'static str; 3],
    gaps: Vec<GapJs>,
}

impl From<&Breakdown> for BreakdownJs {
    fn from(b: &Breakdown) -> Self {
        BreakdownJs {
            stages: b
                .stages
                .iter()
                .zip(session::STAGE_NAMES)
                .map(|(s, name)| StageJs {
                    name,
                    logits: s.logits.clone(),
                    label: s.label,
                })
                .collect(),
            gap_names: session::GAP_NAMES,
            gaps: b
                .gaps
                .iter()
                .map(|(layer, values)| GapJs {
                    layer: layer.clone(),
                    values: *values,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct CurveJs {
    function: &'static str,
    level: [u8; 2],
    #[serde(serialize_with = "f64s")]
    x: Vec<f64>,
    #[serde(serialize_with = "f64s")]
    exact: Vec<f64>,
    #[serde(serialize_with = "f64s")]
    float: Vec<f64>,
    #[serde(serialize_with = "f64s")]
    fixed: Vec<f64>,
    #[serde(serialize_with = "f64s")]
    shared: Vec<f64>,
    cost: CostJs,
}

impl From<&Curve> for CurveJs {
    fn from(c: &Curve) -> Self {
        let col = |f: fn(&mpcdiff_kernel::approx::attribution::Stages) -> f64| {
            c.stages.iter().map(f).collect::<Vec<f64>>()
        };
        CurveJs {
            function: c.function.name(),
            level: level(c.level),
            x: c.x.clone(),
            exact: col(|s| s.exact),
            float: col(|s| s.float),
            fixed: col(|s| s.fixed),
            shared: col(|s| s.shared),
            cost: (&c.cost).into(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EncodingJs {
    frac_bits: u32,
    #[serde(serialize_with = "f64s")]
    x: Vec<f64>,
    #[serde(serialize_with = "f64s")]
    rel: Vec<f64>,
}

#[derive(Serialize)]
struct SliceJs {
    steps: usize,
    #[serde(serialize_with = "f64s")]
    offsets: Vec<f64>,
    #[serde(serialize_with = "u8s")]
    plaintext: Vec<u8>,
    #[serde(serialize_with = "u8s")]
    mpc: Vec<u8>,
    disagreements: usize,
    cost: CostJs,
}

impl From<&Slice> for SliceJs {
    fn from(s: &Slice) -> Self {
        SliceJs {
            steps: s.offsets.len(),
            offsets: s.offsets.clone(),
            plaintext: s.plaintext.clone(),
            mpc: s.mpc.clone(),
            disagreements: s.disagreements(),
            cost: (&s.cost).into(),
        }
    }
}

#[derive(Serialize)]
struct DigitJs {
    label: u8,
    #[serde(serialize_with = "f32s")]
    pixels: Vec<f32>,
}

#[derive(Serialize)]
struct ProgressJs {
    mutants: f64,
    budget: f64,
    rounds: f64,
    status: &'static str,
    fitness: f64,
    accepted: u32,
    digest: String,
    done: bool,
}

impl From<&Progress> for ProgressJs {
    fn from(p: &Progress) -> Self {
        ProgressJs {
            mutants: p.mutants as f64,
            budget: p.budget as f64,
            rounds: p.rounds as f64,
            status: p.status.name(),
            fitness: p.fitness,
            accepted: p.accepted,
            digest: format!("{:016x}", p.digest),
            done: p.done(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FoundJs {
    #[serde(serialize_with = "f32s")]
    pixels: Vec<f32>,
    #[serde(serialize_with = "f32s")]
    original_pixels: Vec<f32>,
    #[serde(serialize_with = "f64s")]
    input: Vec<f64>,
    l2: f64,
    linf: f64,
    mpc_seed: String,
    mutant: Option<f64>,
    mutations: u32,
    path: Vec<&'static str>,
    plaintext_label: usize,
    mpc_label: usize,
    #[serde(serialize_with = "f64s")]
    plaintext_logits: Vec<f64>,
    #[serde(serialize_with = "f64s")]
    mpc_logits: Vec<f64>,
    flips: u32,
    runs: u32,
}

impl From<&Found> for FoundJs {
    fn from(f: &Found) -> Self {
        FoundJs {
            pixels: f.pixels(),
            original_pixels: f.original_pixels(),
            input: f.input.clone(),
            l2: f.l2,
            linf: f.linf,
            mpc_seed: f.mpc_seed.to_string(),
            mutant: f.mutant.map(|m| m as f64),
            mutations: f.mutations,
            path: f.path.iter().map(|s| s.op.name()).collect(),
            plaintext_label: f.label,
            mpc_label: session::argmax(&f.mpc),
            plaintext_logits: f.plaintext.clone(),
            mpc_logits: f.mpc.clone(),
            flips: f.flips,
            runs: f.runs,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LayerVotesJs {
    name: String,
    shape: Vec<u32>,
    activation: bool,
    #[serde(serialize_with = "f64s")]
    error: Vec<f64>,
    #[serde(serialize_with = "u32s")]
    high: Vec<u32>,
    #[serde(serialize_with = "u32s")]
    low: Vec<u32>,
    fixed_when_exact: bool,
}

#[derive(Serialize)]
struct LocalizationJs {
    source: &'static str,
    layers: Vec<LayerVotesJs>,
}

impl From<&Localization> for LocalizationJs {
    fn from(l: &Localization) -> Self {
        LocalizationJs {
            source: match l.source {
                Stage::Approximation | Stage::Plaintext => "approximation",
                Stage::FixedPoint => "fixed-point",
                Stage::Shared => "share-randomness",
            },
            layers: l
                .layers
                .iter()
                .map(|v| LayerVotesJs {
                    name: v.name.clone(),
                    shape: dims(v.shape),
                    activation: v.activation,
                    error: v.error.clone(),
                    high: v.high.clone(),
                    low: v.low.clone(),
                    fixed_when_exact: v.fixed_when_exact,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TriedJs {
    name: String,
    flips: u32,
    runs: u32,
    mpc_correct: usize,
    cost: CostJs,
    meets: bool,
}

impl From<&Tried> for TriedJs {
    fn from(t: &Tried) -> Self {
        TriedJs {
            name: t.name.clone(),
            flips: t.flips,
            runs: t.runs,
            mpc_correct: t.mpc_correct,
            cost: (&t.cost).into(),
            meets: t.meets,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RepairJs {
    baseline: TriedJs,
    tried: Vec<TriedJs>,
    candidates: usize,
    chosen: Option<usize>,
    check: usize,
    plaintext_correct: usize,
}

impl From<&Repair> for RepairJs {
    fn from(r: &Repair) -> Self {
        RepairJs {
            baseline: (&r.baseline).into(),
            tried: r.tried.iter().map(TriedJs::from).collect(),
            candidates: r.candidates,
            chosen: r.chosen,
            check: r.check,
            plaintext_correct: r.plaintext_correct,
        }
    }
}

#[derive(Serialize)]
struct ReplayJs {
    prediction: PredictionJs,
    flips: u32,
    runs: u32,
}

impl From<&Replay> for ReplayJs {
    fn from(r: &Replay) -> Self {
        ReplayJs {
            prediction: (&r.prediction).into(),
            flips: r.flips,
            runs: r.runs,
        }
    }
}

// ---- the session ----------------------------------------------------------------------------

/// A model, its MPC settings and reusable buffers: see the `session` module of the crate.
#[wasm_bindgen(js_name = Session)]
pub struct JsSession {
    inner: session::Session,
}

#[wasm_bindgen(js_class = Session)]
impl JsSession {
    /// `new Session("lenet", "crypten", 16, "local", 42n)`: an embedded model (`lenet` or
    /// `lenet-relu`), a profile (`crypten`, `mpcdiff`, `crypten-chebyshev`), fractional bits
    /// (0..=40), truncation (`local` or `dealer`) and the MPC seed.
    #[wasm_bindgen(constructor)]
    pub fn new(
        model: &str,
        profile: &str,
        frac_bits: u32,
        trunc: &str,
        #[wasm_bindgen(unchecked_param_type = "bigint | number")] mpc_seed: JsValue,
    ) -> Result<JsSession, JsError> {
        let settings = (|| {
            Ok(Settings {
                profile: session::profile_arg(profile)?,
                fp: FixedPoint::new(frac_bits)?,
                trunc: session::trunc_arg(trunc)?,
                level: None,
                mpc_seed: seed_arg(&mpc_seed)?,
            })
        })();
        let inner = check(
            "Session",
            settings.and_then(|s| session::Session::new(model, s)),
        )?;
        Ok(JsSession { inner })
    }

    /// The model's name.
    #[wasm_bindgen(getter)]
    pub fn model(&self) -> String {
        self.inner.model_name().into()
    }

    /// Everything the page shows of the settings, as one object.
    #[wasm_bindgen(unchecked_return_type = "SessionSettings")]
    pub fn settings(&self) -> Result<JsValue, JsError> {
        let s = &self.inner;
        let set = s.settings();
        let preset = |name| check("settings", s.level_preset(name)).map(level);
        let v = SettingsJs {
            model: s.model_name().into(),
            profile: set.profile.name,
            profile_about: set.profile.about,
            deploy: s.deployment().name(),
            deploy_about: s.deployment().about(),
            frac_bits: set.fp.frac_bits(),
            trunc: set.trunc.name(),
            mpc_seed: set.mpc_seed.to_string(),
            level: set.level.map(level),
            activation: s.activation_function().name(),
            layers: s.leveled_layers().into_iter().map(String::from).collect(),
            classes: s.model().classes,
            presets: Presets {
                default: preset("default")?,
                high: preset("high")?,
                medium: preset("medium")?,
                low: preset("low")?,
            },
        };
        to_js("settings", &v)
    }

    /// Sets the profile by name.
    pub fn set_profile(&mut self, name: &str) -> Result<(), JsError> {
        let p = check("set_profile", session::profile_arg(name))?;
        self.inner.set_profile(p);
        Ok(())
    }

    /// Sets the fractional bits (0..=40).
    pub fn set_frac_bits(&mut self, frac_bits: u32) -> Result<(), JsError> {
        let fp = check(
            "set_frac_bits",
            FixedPoint::new(frac_bits).map_err(Failure::from),
        )?;
        self.inner.set_fp(fp);
        Ok(())
    }

    /// Sets the truncation protocol (`local` or `dealer`).
    pub fn set_trunc(&mut self, name: &str) -> Result<(), JsError> {
        let t = check("set_trunc", session::trunc_arg(name))?;
        self.inner.set_trunc(t);
        Ok(())
    }

    /// Sets the MPC seed.
    pub fn set_mpc_seed(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "bigint | number")] seed: JsValue,
    ) -> Result<(), JsError> {
        let s = check("set_mpc_seed", seed_arg(&seed))?;
        self.inner.set_mpc_seed(s);
        Ok(())
    }

    /// Runs every activation layer at `iters_exp`/`iters_nr`.
    pub fn set_level(&mut self, iters_exp: u8, iters_nr: u8) -> Result<(), JsError> {
        let l = Some(Level::new(iters_exp, iters_nr));
        check("set_level", self.inner.set_level(l))
    }

    /// Back to the profile's default levels.
    pub fn clear_level(&mut self) -> Result<(), JsError> {
        check("clear_level", self.inner.set_level(None))
    }

    /// A named level preset (`default`, `high`, `medium`, `low`) as `[iters_exp, iters_nr]`.
    pub fn level_preset(&self, name: &str) -> Result<Vec<u8>, JsError> {
        check("level_preset", self.inner.level_preset(name)).map(|l| level(l).to_vec())
    }

    /// Runs one layer (an activation or a batch norm under MPC) at `iters_exp`/`iters_nr`.
    pub fn set_layer_level(
        &mut self,
        layer: &str,
        iters_exp: u8,
        iters_nr: u8,
    ) -> Result<(), JsError> {
        let l = Some(Level::new(iters_exp, iters_nr));
        check("set_layer_level", self.inner.set_layer_level(layer, l))
    }

    /// One layer back to its default level.
    pub fn clear_layer_level(&mut self, layer: &str) -> Result<(), JsError> {
        check("clear_layer_level", self.inner.set_layer_level(layer, None))
    }

    /// Plaintext and MPC predictions for a 28×28 image of intensities (a `Float32Array` of
    /// 784 values in [0, 1], row-major), with every activation layer's outputs.
    #[wasm_bindgen(unchecked_return_type = "Prediction")]
    pub fn predict(&mut self, pixels: &[f32]) -> Result<JsValue, JsError> {
        let p = check("predict", self.inner.predict(pixels))?;
        to_js("predict", &PredictionJs::from(&p))
    }

    /// Where the deviation of an image comes from: plaintext, float, fixed and MPC models.
    #[wasm_bindgen(unchecked_return_type = "Breakdown")]
    pub fn breakdown(&mut self, pixels: &[f32]) -> Result<JsValue, JsError> {
        let b = check("breakdown", self.inner.breakdown(pixels))?;
        to_js("breakdown", &BreakdownJs::from(&b))
    }

    /// One function's error by stage on `points` inputs over `[lo, hi]` (function names as
    /// `mpcdiff approx --fn`: `sigmoid`, `inv-sqrt`, `exp`, `reciprocal`…).
    #[wasm_bindgen(unchecked_return_type = "ErrorCurve")]
    pub fn error_curve(
        &self,
        function: &str,
        lo: f64,
        hi: f64,
        points: u32,
    ) -> Result<JsValue, JsError> {
        let f = Function::by_name(function).ok_or(Failure::Argument {
            name: "function",
            expected: "a function name of `mpcdiff approx --fn` (sigmoid, tanh, relu, inv-sqrt, exp, reciprocal, …)",
        });
        let c = check(
            "error_curve",
            f.and_then(|f| self.inner.error_curve(f, lo, hi, points as usize)),
        )?;
        to_js("error_curve", &CurveJs::from(&c))
    }

    /// A decision-boundary slice around an image: `steps × steps` labels over
    /// `[−radius, radius]²` along two random directions drawn from `direction_seed`.
    #[wasm_bindgen(unchecked_return_type = "Slice")]
    pub fn slice(
        &mut self,
        pixels: &[f32],
        #[wasm_bindgen(unchecked_param_type = "bigint | number")] direction_seed: JsValue,
        radius: f64,
        steps: u32,
    ) -> Result<JsValue, JsError> {
        let s = check(
            "slice",
            seed_arg(&direction_seed)
                .and_then(|seed| self.inner.slice(pixels, seed, radius, steps as usize)),
        )?;
        to_js("slice", &SliceJs::from(&s))
    }

    /// Starts a deviation search from a 28×28 image: `seed` seeds the mutations, at most
    /// `mutations` mutants, fitness `margin` or `logit-l2`, mutator `mpcdiff` or `artifact`,
    /// `repeats` MPC runs per deviation for its probability. Admits the image itself.
    #[wasm_bindgen(unchecked_return_type = "SearchProgress")]
    pub fn fuzz_start(
        &mut self,
        pixels: &[f32],
        #[wasm_bindgen(unchecked_param_type = "bigint | number")] seed: JsValue,
        mutations: u32,
        fitness: &str,
        mutator: &str,
        repeats: u32,
    ) -> Result<JsValue, JsError> {
        let o = (|| {
            Ok(SearchOptions {
                seed: seed_arg(&seed)?,
                mutations: u64::from(mutations),
                fitness: search::fitness_arg(fitness)?,
                mpcdiff_mutator: search::mutator_arg(mutator)?,
                repeats,
            })
        })();
        let p = check(
            "fuzz_start",
            o.and_then(|o| self.inner.fuzz_start(pixels, o)),
        )?;
        to_js("fuzz_start", &ProgressJs::from(&p))
    }

    /// Runs the search for at most `max` more mutants.
    #[wasm_bindgen(unchecked_return_type = "SearchProgress")]
    pub fn fuzz_step(&mut self, max: u32) -> Result<JsValue, JsError> {
        let p = check("fuzz_step", self.inner.fuzz_step(u64::from(max)))?;
        to_js("fuzz_step", &ProgressJs::from(&p))
    }

    /// The deviation the search found, or `null`.
    #[wasm_bindgen(unchecked_return_type = "FoundDeviation | null")]
    pub fn fuzz_found(&self) -> Result<JsValue, JsError> {
        match self.inner.search().and_then(|s| s.found()) {
            Some(f) => to_js("fuzz_found", &FoundJs::from(f)),
            None => Ok(JsValue::NULL),
        }
    }

    /// The search's start as one line of an `mpcdiff fuzz --corpus` file.
    pub fn fuzz_corpus_line(&self) -> Result<String, JsError> {
        check("fuzz_corpus_line", self.inner.fuzz_corpus_line())
    }

    /// The `mpcdiff fuzz` command that runs the same campaign natively on a file holding
    /// [`JsSession::fuzz_corpus_line`] (its path left as `CORPUS`; with a level plan, `PLAN`).
    pub fn fuzz_command(&self) -> Result<String, JsError> {
        check("fuzz_command", self.inner.fuzz_command()).map(|a| a.join(" "))
    }

    /// Localizes the found deviation: per-layer errors, votes and attribution, error source.
    #[wasm_bindgen(unchecked_return_type = "Localization")]
    pub fn localize(&mut self) -> Result<JsValue, JsError> {
        let l = check("localize", self.inner.localize())?;
        to_js("localize", &LocalizationJs::from(&l))
    }

    /// Starts the repair search on `check_digits` synthetic digits with a multiplication
    /// `budget` (× the current plan's); returns the number of candidates.
    pub fn repair_start(&mut self, check_digits: u32, budget: f64) -> Result<u32, JsError> {
        let n = check(
            "repair_start",
            self.inner.repair_start(check_digits as usize, budget),
        )?;
        Ok(n as u32)
    }

    /// Assesses the next candidate (and, after the last, chooses).
    #[wasm_bindgen(unchecked_return_type = "RepairSearch")]
    pub fn repair_step(&mut self) -> Result<JsValue, JsError> {
        let r = check("repair_step", self.inner.repair_step())?;
        to_js("repair_step", &RepairJs::from(&r))
    }

    /// Makes the chosen plan the session's.
    pub fn apply_repair(&mut self) -> Result<(), JsError> {
        check("apply_repair", self.inner.apply_repair())
    }

    /// The found deviation replayed under the current settings and plan.
    #[wasm_bindgen(unchecked_return_type = "Replay")]
    pub fn fuzz_replay(&mut self) -> Result<JsValue, JsError> {
        let r = check("fuzz_replay", self.inner.fuzz_replay())?;
        to_js("fuzz_replay", &ReplayJs::from(&r))
    }
}

// ---- free functions ---------------------------------------------------------------------------

/// A drawing of `w × h` intensities (0 = background, 1 = ink; row-major `Float32Array`)
/// rasterised as MNIST's digits were: the 784 intensities of the 28×28 image.
#[wasm_bindgen]
pub fn rasterize(drawing: &[f32], w: u32, h: u32) -> Result<Vec<f32>, JsError> {
    check(
        "rasterize",
        session::rasterize(drawing, w as usize, h as usize),
    )
}

/// Synthetic digit `index` of `seed` (the kernel's seeded generator).
#[wasm_bindgen(unchecked_return_type = "Digit")]
pub fn synthetic_digit(
    #[wasm_bindgen(unchecked_param_type = "bigint | number")] seed: JsValue,
    #[wasm_bindgen(unchecked_param_type = "bigint | number")] index: JsValue,
) -> Result<JsValue, JsError> {
    let index = seed_arg(&index).map_err(|_| Failure::Argument {
        name: "index",
        expected: crate::SEED_EXPECTED,
    });
    let (label, pixels) = check(
        "synthetic_digit",
        seed_arg(&seed).and_then(|s| session::synthetic_digit(s, index?)),
    )?;
    to_js("synthetic_digit", &DigitJs { label, pixels })
}

/// The relative encoding error with `frac_bits` at `points` log-spaced inputs from 1e−6 to
/// 1e6.
#[wasm_bindgen(unchecked_return_type = "EncodingCurve")]
pub fn encoding_curve(frac_bits: u32, points: u32) -> Result<JsValue, JsError> {
    let (x, rel) = check(
        "encoding_curve",
        session::encoding_curve(frac_bits, points as usize),
    )?;
    to_js("encoding_curve", &EncodingJs { frac_bits, x, rel })
}

/// The built-in profiles' names.
#[wasm_bindgen]
pub fn profiles() -> Vec<String> {
    mpcdiff_kernel::approx::profile::PROFILES
        .iter()
        .map(|p| p.name.to_string())
        .collect()
}
