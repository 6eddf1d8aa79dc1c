//! The `#[wasm_bindgen]` face of the crate: it converts arguments in and results out, and
//! does nothing else (every number is the kernel's, through [`crate::session`]).
//!
//! Results cross as plain JS objects through `serde-wasm-bindgen` (`camelCase` fields),
//! declared for TypeScript in [`TS`]: bulk numbers as typed arrays, counts as `Number`s,
//! seeds and digests as decimal or hexadecimal strings (they are `u64`). Every method of
//! `Session` but its constructor is written through [`methods!`], which converts its result
//! and its failure the same way for all. Nothing needs `free()` but the `Session` itself.

use mpcdiff_kernel::approx::{Function, Level};
use mpcdiff_kernel::difftest::campaign::Status;
use mpcdiff_kernel::difftest::stepwise::Progress;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use mpcdiff_host::repair::{self, Investigation};
use mpcdiff_host::search::{self, Found, Options, Search};
use mpcdiff_host::session::{self, Session, Settings};
use mpcdiff_host::{models, ser, Failure};

use crate::{into_error, seed_arg};

/// The TypeScript declarations of what crosses (the generated `.d.ts` includes them; the
/// methods name these types as their return types).
#[wasm_bindgen(typescript_custom_section)]
const TS: &'static str = r#"
export interface Cost { rounds: number; multiplications: number; andTriples: number;
  bytesPerParty: number; cryptenBytes: number; truncations: number; wrapEvents: number }
export interface SessionSettings { model: string; profile: string; profileAbout: string;
  deploy: string; deployAbout: string; engine: string; engineAbout: string; fracBits: number;
  trunc: string; mpcSeed: string; level: [number, number] | null; activation: string;
  levelApplies: boolean; planActive: boolean; layers: string[]; classes: number;
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
export interface TabularModel { name: string; task: string; classes: [string, string];
  features: { name: string; min: number; max: number; categories: string[] }[] }
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
  cost: Cost; meets: boolean; improves: boolean }
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

/// A level as `[iters_exp, iters_nr]`.
fn pair(l: Level) -> [u8; 2] {
    [l.iters_exp, l.iters_nr]
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SettingsJs {
    model: String,
    profile: &'static str,
    profile_about: &'static str,
    deploy: &'static str,
    deploy_about: &'static str,
    engine: &'static str,
    engine_about: &'static str,
    frac_bits: u32,
    trunc: &'static str,
    mpc_seed: String,
    level: Option<[u8; 2]>,
    activation: &'static str,
    /// Whether the approximation level changes the activation layers (not for ReLU).
    level_applies: bool,
    /// Whether the MPC model runs with a level plan of its own.
    plan_active: bool,
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

/// The kernel's [`Progress`] as the page reads it.
#[derive(Serialize)]
#[serde(remote = "Progress")]
struct ProgressDef {
    mutants: u64,
    budget: u64,
    rounds: u64,
    #[serde(serialize_with = "ser::status")]
    status: Status,
    fitness: f64,
    accepted: u32,
    #[serde(serialize_with = "ser::hex")]
    digest: u64,
    done: bool,
}

#[derive(Serialize)]
struct ProgressJs(#[serde(with = "ProgressDef")] Progress);

#[derive(Serialize)]
struct DigitJs {
    label: u8,
    #[serde(serialize_with = "ser::f32s")]
    pixels: Vec<f32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EncodingJs {
    frac_bits: u32,
    #[serde(serialize_with = "ser::f64s")]
    x: Vec<f64>,
    #[serde(serialize_with = "ser::f64s")]
    rel: Vec<f64>,
}

#[derive(Serialize)]
struct FeatureJs {
    name: &'static str,
    min: f64,
    max: f64,
    categories: &'static [&'static str],
}

#[derive(Serialize)]
struct TabularJs {
    name: &'static str,
    task: &'static str,
    classes: [&'static str; 2],
    features: Vec<FeatureJs>,
}

// ---- the session ----------------------------------------------------------------------------

/// A model, its MPC settings and reusable buffers (the crate's `session` module), the page's
/// running or last search and the localization and repair of its deviation.
#[wasm_bindgen(js_name = Session)]
pub struct JsSession {
    inner: Session,
    search: Option<Search>,
    investigation: Option<Investigation>,
}

fn no_search() -> Failure {
    Failure::Argument {
        name: "search",
        expected: "a search started with fuzz_start",
    }
}

/// The search's deviation (the steps after a search need one).
fn found(search: &Option<Search>) -> Result<&Found, Failure> {
    search
        .as_ref()
        .and_then(Search::found)
        .ok_or(Failure::Argument {
            name: "search",
            expected: "a search that found a deviation (fuzz_start, fuzz_step)",
        })
}

fn investigation(i: &mut Option<Investigation>) -> Result<&mut Investigation, Failure> {
    i.as_mut().ok_or(Failure::Argument {
        name: "localization",
        expected: "a localized deviation (call localize first)",
    })
}

#[wasm_bindgen(js_class = Session)]
impl JsSession {
    /// `new Session("lenet", "crypten", 16, "local", 42n)`: an embedded model (`lenet`,
    /// `lenet-relu`, or the tabular `credit-mlp`, `bank-mlp`), a profile (`crypten`,
    /// `mpcdiff`, `crypten-chebyshev`), fractional bits (0..=40), truncation (`local` or
    /// `dealer`) and the MPC seed.
    #[wasm_bindgen(constructor)]
    pub fn new(
        model: &str,
        profile: &str,
        frac_bits: u32,
        trunc: &str,
        #[wasm_bindgen(unchecked_param_type = "bigint | number")] mpc_seed: JsValue,
    ) -> Result<JsSession, JsError> {
        let settings = (|| {
            Settings::new(
                session::profile_arg(profile)?,
                frac_bits,
                session::trunc_arg(trunc)?,
                seed_arg(&mpc_seed)?,
            )
        })();
        let inner = check("Session", settings.and_then(|s| Session::new(model, s)))?;
        Ok(JsSession {
            inner,
            search: None,
            investigation: None,
        })
    }

    /// The model's name.
    #[wasm_bindgen(getter)]
    pub fn model(&self) -> String {
        self.inner.model_name().into()
    }
}

/// Exports `Session` methods: each runs its body (plain Rust over `self`, failing with a
/// [`Failure`]) and returns the value as a plain JS object of the TypeScript type given after
/// `->`, or throws an `Error` that names the method.
macro_rules! methods {
    ($($(#[doc = $doc:literal])*
       fn $name:ident(&$this:ident $(, $(#[$pm:meta])* $arg:ident: $ty:ty)*) -> $ts:literal $body:block
    )*) => {
        #[wasm_bindgen(js_class = Session)]
        impl JsSession {$(
            $(#[doc = $doc])*
            #[wasm_bindgen(unchecked_return_type = $ts)]
            pub fn $name(&mut $this $(, $(#[$pm])* $arg: $ty)*) -> Result<JsValue, JsError> {
                #[allow(clippy::redundant_closure_call)]
                let r = (|| -> Result<_, Failure> { $body })();
                to_js(stringify!($name), &check(stringify!($name), r)?)
            }
        )*}
    };
}

methods! {
    /// Everything the page shows of the settings, as one object.
    fn settings(&self) -> "SessionSettings" {
        let s = &self.inner;
        let set = s.settings();
        let act = s.activation_function();
        Ok(SettingsJs {
            model: s.model_name().into(),
            profile: set.profile.name,
            profile_about: set.profile.about,
            deploy: s.deployment().name(),
            deploy_about: s.deployment().about(),
            engine: set.engine.name(),
            engine_about: set.engine.about(),
            frac_bits: set.fp.frac_bits(),
            trunc: set.trunc.name(),
            mpc_seed: set.mpc_seed.to_string(),
            level: set.level.map(pair),
            activation: act.name(),
            level_applies: act.takes_level(),
            plan_active: !s.plan().layers.is_empty(),
            layers: s.leveled_layers().into_iter().map(String::from).collect(),
            classes: s.model().classes,
            presets: Presets {
                default: pair(s.level_preset("default")?),
                high: pair(s.level_preset("high")?),
                medium: pair(s.level_preset("medium")?),
                low: pair(s.level_preset("low")?),
            },
        })
    }

    /// Sets the profile by name (another framework's brings its format, truncation and
    /// deployment while the asked ones are CrypTen's defaults).
    fn set_profile(&self, name: &str) -> "undefined" {
        let mut s = self.inner.settings();
        s.profile = session::profile_arg(name)?;
        s.resolve()?;
        *self.inner.settings_mut() = s;
        Ok(())
    }

    /// Sets the fractional digits (bits for binary scales; 16 means the profile's own).
    fn set_frac_bits(&self, frac_bits: u32) -> "undefined" {
        let mut s = self.inner.settings();
        s.asked_frac_bits = frac_bits;
        s.resolve()?;
        *self.inner.settings_mut() = s;
        Ok(())
    }

    /// Sets the truncation protocol (`local`, `dealer`, `sr`, `sr1`, `fl`, `ch`; `local`
    /// means the profile's own).
    fn set_trunc(&self, name: &str) -> "undefined" {
        let mut s = self.inner.settings();
        s.asked_trunc = session::trunc_arg(name)?;
        s.resolve()?;
        *self.inner.settings_mut() = s;
        Ok(())
    }

    /// Sets the engine (`protocol`: every message; `ideal`: ideal functionalities, the same
    /// law and ledger, faster; the CLI's `--engine`).
    fn set_engine(&self, name: &str) -> "undefined" {
        self.inner.settings_mut().engine = session::engine_arg(name)?;
        Ok(())
    }

    /// Sets the MPC seed.
    fn set_mpc_seed(
        &self,
        #[wasm_bindgen(unchecked_param_type = "bigint | number")] seed: JsValue
    ) -> "undefined" {
        self.inner.settings_mut().mpc_seed = seed_arg(&seed)?;
        Ok(())
    }

    /// Runs every activation layer at `iters_exp`/`iters_nr`.
    fn set_level(&self, iters_exp: u8, iters_nr: u8) -> "undefined" {
        self.inner.set_level(Some(Level::new(iters_exp, iters_nr)))
    }

    /// Back to the profile's default levels.
    fn clear_level(&self) -> "undefined" {
        self.inner.set_level(None)
    }

    /// A named level preset (`default`, `high`, `medium`, `low`) as `[iters_exp, iters_nr]`.
    fn level_preset(&self, name: &str) -> "[number, number]" {
        self.inner.level_preset(name).map(pair)
    }

    /// Runs one layer (an activation or a batch norm under MPC) at `iters_exp`/`iters_nr`.
    fn set_layer_level(&self, layer: &str, iters_exp: u8, iters_nr: u8) -> "undefined" {
        let l = Level::new(iters_exp, iters_nr);
        self.inner.set_layer_level(layer, Some(l))
    }

    /// One layer back to its default level.
    fn clear_layer_level(&self, layer: &str) -> "undefined" {
        self.inner.set_layer_level(layer, None)
    }

    /// Plaintext and MPC predictions for a 28×28 image of intensities (a `Float32Array` of
    /// 784 values in [0, 1], row-major), with every activation layer's outputs.
    fn predict(&self, pixels: &[f32]) -> "Prediction" {
        self.inner.predict(pixels)
    }

    /// The same for one sample of a tabular model: a `Float64Array` of its features in raw
    /// units (a category as its position in the vocabulary).
    fn predict_raw(&self, raw: &[f64]) -> "Prediction" {
        self.inner.predict_raw(raw)
    }

    /// Where the deviation of an image comes from: plaintext, float, fixed and MPC models.
    fn breakdown(&self, pixels: &[f32]) -> "Breakdown" {
        self.inner.breakdown(pixels)
    }

    /// One function's error by stage on `points` inputs over `[lo, hi]` (function names as
    /// `mpcdiff approx --fn`: `sigmoid`, `inv-sqrt`, `exp`, `reciprocal`…).
    fn error_curve(&self, function: &str, lo: f64, hi: f64, points: u32) -> "ErrorCurve" {
        let f = Function::by_name(function).ok_or(Failure::Argument {
            name: "function",
            expected: "a function name of `mpcdiff approx --fn` (sigmoid, tanh, relu, inv-sqrt, exp, reciprocal, …)",
        })?;
        self.inner.error_curve(f, lo, hi, points as usize)
    }

    /// A decision-boundary slice around an image: `steps × steps` labels over
    /// `[−radius, radius]²` along two random directions drawn from `direction_seed`.
    fn slice(
        &self,
        pixels: &[f32],
        #[wasm_bindgen(unchecked_param_type = "bigint | number")] direction_seed: JsValue,
        radius: f64,
        steps: u32
    ) -> "Slice" {
        let seed = seed_arg(&direction_seed)?;
        self.inner.slice(pixels, seed, radius, steps as usize)
    }

    /// Starts a deviation search from a 28×28 image: `seed` seeds the mutations, at most
    /// `mutations` mutants, fitness `margin` or `logit-l2`, mutator `mpcdiff`, `artifact` or
    /// `gradient`, `repeats` MPC runs per deviation. Admits the image itself.
    fn fuzz_start(
        &self,
        pixels: &[f32],
        #[wasm_bindgen(unchecked_param_type = "bigint | number")] seed: JsValue,
        mutations: u32,
        fitness: &str,
        mutator: &str,
        repeats: u32
    ) -> "SearchProgress" {
        let o = Options {
            seed: seed_arg(&seed)?,
            mutations: u64::from(mutations),
            fitness: search::fitness_arg(fitness)?,
            mutator: search::mutator_arg(mutator)?,
            repeats,
            mpc_seed: self.inner.settings().mpc_seed,
        };
        let search = Search::start(&mut self.inner, pixels, o)?;
        let p = search.progress();
        (self.search, self.investigation) = (Some(search), None);
        Ok(ProgressJs(p))
    }

    /// Runs the search for at most `max` more mutants.
    fn fuzz_step(&self, max: u32) -> "SearchProgress" {
        let search = self.search.as_mut().ok_or_else(no_search)?;
        Ok(ProgressJs(search.step(&mut self.inner, u64::from(max))?))
    }

    /// The deviation the search found, or `null`.
    fn fuzz_found(&self) -> "FoundDeviation | null" {
        Ok(self.search.as_ref().and_then(Search::found).cloned())
    }

    /// The search's start as one line of an `mpcdiff fuzz --corpus` file.
    fn fuzz_corpus_line(&self) -> "string" {
        Ok(self.search.as_ref().ok_or_else(no_search)?.corpus_line())
    }

    /// The `mpcdiff fuzz` command that runs the same campaign natively on a file holding
    /// `fuzz_corpus_line()` (its path left as `CORPUS`; with a level plan, `PLAN`).
    fn fuzz_command(&self) -> "string" {
        let search = self.search.as_ref().ok_or_else(no_search)?;
        Ok(search.command(&self.inner).join(" "))
    }

    /// The session's level plan as an `mpcdiff.plan/1` file (what `mpcdiff fuzz --plan` and
    /// `mpcdiff slice --plan` read), or `null` without a plan.
    fn plan_json(&self) -> "string | null" {
        Ok(self.inner.plan_json())
    }

    /// Localizes the found deviation: per-layer errors, votes and attribution, error source.
    fn localize(&self) -> "Localization" {
        let inv = Investigation::localize(&mut self.inner, found(&self.search)?)?;
        Ok(self.investigation.insert(inv).localization().clone())
    }

    /// Starts the repair search on `check_digits` synthetic digits with a multiplication
    /// `budget` (× the current plan's); returns the number of candidates.
    fn repair_start(&self, check_digits: u32, budget: f64) -> "number" {
        let (f, inv) = (found(&self.search)?, investigation(&mut self.investigation)?);
        inv.start(&mut self.inner, f, check_digits as usize, budget)
    }

    /// Assesses the next candidate (and, after the last, chooses).
    fn repair_step(&self) -> "RepairSearch" {
        let (f, inv) = (found(&self.search)?, investigation(&mut self.investigation)?);
        inv.step(&mut self.inner, f)
    }

    /// Makes the chosen plan the session's.
    fn apply_repair(&self) -> "undefined" {
        let plan = investigation(&mut self.investigation)?.chosen()?.clone();
        self.inner.set_plan(plan);
        Ok(())
    }

    /// The found deviation replayed under the current settings and plan.
    fn fuzz_replay(&self) -> "Replay" {
        repair::replay(&mut self.inner, found(&self.search)?)
    }
}

// ---- free functions ---------------------------------------------------------------------------

/// A drawing of `w × h` intensities (0 = background, 1 = ink; row-major `Float32Array`)
/// rasterised as MNIST's digits were: the 784 intensities of the 28×28 image.
#[wasm_bindgen]
pub fn rasterize(drawing: &[f32], w: u32, h: u32) -> Result<Vec<f32>, JsError> {
    let r = session::rasterize(drawing, w as usize, h as usize);
    check("rasterize", r)
}

/// The embedded tabular models and their features: name, the training split's raw range
/// (`min`, `max`, from the model file), and a categorical feature's vocabulary.
#[wasm_bindgen(unchecked_return_type = "TabularModel[]")]
pub fn tabular_models() -> Result<JsValue, JsError> {
    let model = |t: &models::Tabular| {
        let m = models::load_tabular(t.model)?;
        let meta = m.metadata_raw("preprocessing").unwrap_or("");
        let feature = |(j, &name): (usize, &&'static str)| {
            let (min, max) = mpcdiff_kernel::nn::scaling::bounds(meta, j)?;
            let categories = (t.vocabulary)(j).unwrap_or(&[]);
            Ok(FeatureJs {
                name,
                min,
                max,
                categories,
            })
        };
        Ok(TabularJs {
            name: t.model,
            task: t.task,
            classes: t.classes,
            features: t
                .features
                .iter()
                .enumerate()
                .map(feature)
                .collect::<Result<_, Failure>>()?,
        })
    };
    let list = models::TABULAR
        .iter()
        .map(model)
        .collect::<Result<Vec<_>, Failure>>();
    to_js("tabular_models", &check("tabular_models", list)?)
}

/// The width and height (in drawing pixels) of the ink in a `w × h` drawing: the part the
/// rasterisation scales to 20 pixels (the kernel's `digits::framing::ink_size`).
#[wasm_bindgen]
pub fn ink_extent(drawing: &[f32], w: u32, h: u32) -> Result<Vec<u32>, JsError> {
    let r = mpcdiff_kernel::digits::framing::ink_size(drawing, w as usize, h as usize);
    let (iw, ih) = check("ink_extent", r.map_err(Failure::from))?;
    Ok(vec![iw as u32, ih as u32])
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
    let r = seed_arg(&seed).and_then(|s| session::synthetic_digit(s, index?));
    let (label, pixels) = check("synthetic_digit", r)?;
    to_js("synthetic_digit", &DigitJs { label, pixels })
}

/// The relative encoding error with `frac_bits` at `points` log-spaced inputs from 1e−6 to
/// 1e6.
#[wasm_bindgen(unchecked_return_type = "EncodingCurve")]
pub fn encoding_curve(frac_bits: u32, points: u32) -> Result<JsValue, JsError> {
    let r = session::encoding_curve(frac_bits, points as usize);
    let (x, rel) = check("encoding_curve", r)?;
    to_js("encoding_curve", &EncodingJs { frac_bits, x, rel })
}

/// The built-in profiles' names.
#[wasm_bindgen]
pub fn profiles() -> Vec<String> {
    let all = mpcdiff_kernel::approx::profile::PROFILES.iter();
    all.map(|p| p.name.to_string()).collect()
}
