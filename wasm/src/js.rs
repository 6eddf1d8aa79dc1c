//! The `#[wasm_bindgen]` face of the crate: it converts arguments in and results out, and
//! does nothing else (every number is the kernel's, through [`crate::session`]).
//!
//! Results cross as plain JS objects through `serde-wasm-bindgen`: the view structs below
//! (`camelCase` fields) are what the page reads, declared for TypeScript in [`TS`]. Bulk
//! numbers cross as typed arrays (`Float64Array`, `Float32Array`, `Uint8Array`,
//! `Uint32Array`), everything else as `Number`s, strings, booleans and arrays; seeds and
//! digests cross as decimal or hexadecimal strings (they are `u64`). Nothing needs `free()`
//! but the `Session` itself.

use mpcdiff_kernel::approx::{Function, Level};
use mpcdiff_kernel::FixedPoint;
use serde::{Serialize, Serializer};
use wasm_bindgen::prelude::*;

use crate::repair::{self, Investigation};
use crate::search::{self, Found, Search, SearchOptions};
use crate::session::{self, Settings};
use crate::{into_error, models, seed_arg, ser, Failure};
use mpcdiff_kernel::difftest::stepwise::Progress;

/// The TypeScript declarations of what crosses (the generated `.d.ts` includes them; the
/// methods name these types as their return types).
#[wasm_bindgen(typescript_custom_section)]
const TS: &'static str = r#"
export interface Cost { rounds: number; multiplications: number; andTriples: number;
  bytesPerParty: number; cryptenBytes: number; truncations: number; wrapEvents: number }
export interface SessionSettings { model: string; profile: string; profileAbout: string;
  deploy: string; deployAbout: string; engine: string; engineAbout: string; fracBits: number; trunc: string; mpcSeed: string;
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
    #[serde(serialize_with = "opt_level")]
    level: Option<Level>,
    activation: &'static str,
    /// Whether the approximation level changes the activation layers (not for ReLU).
    level_applies: bool,
    /// Whether the MPC model runs with a level plan of its own (an applied repair, or a
    /// level for every activation layer).
    plan_active: bool,
    layers: Vec<String>,
    classes: usize,
    presets: Presets,
}

fn opt_level<S: Serializer>(l: &Option<Level>, s: S) -> Result<S::Ok, S::Error> {
    l.map(|l| [l.iters_exp, l.iters_nr]).serialize(s)
}

#[derive(Serialize)]
struct Presets {
    #[serde(serialize_with = "ser::level")]
    default: Level,
    #[serde(serialize_with = "ser::level")]
    high: Level,
    #[serde(serialize_with = "ser::level")]
    medium: Level,
    #[serde(serialize_with = "ser::level")]
    low: Level,
}

/// The kernel's [`Progress`] as the page reads it.
#[derive(Serialize)]
#[serde(remote = "Progress")]
struct ProgressDef {
    mutants: u64,
    budget: u64,
    rounds: u64,
    #[serde(serialize_with = "ser::status")]
    status: mpcdiff_kernel::difftest::campaign::Status,
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

// ---- the session ----------------------------------------------------------------------------

/// A model, its MPC settings and reusable buffers: see the `session` module of the crate.
#[wasm_bindgen(js_name = Session)]
pub struct JsSession {
    inner: session::Session,
    /// The page's running or last search.
    search: Option<Search>,
    /// The localization and repair search of that search's deviation.
    investigation: Option<Investigation>,
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

fn no_search() -> Failure {
    Failure::Argument {
        name: "search",
        expected: "a search started with fuzz_start",
    }
}

fn not_localized() -> Failure {
    Failure::Argument {
        name: "localization",
        expected: "a localized deviation (call localize first)",
    }
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
                engine: mpcdiff_kernel::Engine::Protocol,
            })
        })();
        let inner = check(
            "Session",
            settings.and_then(|s| session::Session::new(model, s)),
        )?;
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

    /// Everything the page shows of the settings, as one object.
    #[wasm_bindgen(unchecked_return_type = "SessionSettings")]
    pub fn settings(&self) -> Result<JsValue, JsError> {
        let s = &self.inner;
        let set = s.settings();
        let preset = |name| check("settings", s.level_preset(name));
        let v = SettingsJs {
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
            level: set.level,
            activation: s.activation_function().name(),
            level_applies: s.activation_function().takes_level(),
            plan_active: !s.plan().layers.is_empty(),
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
        self.inner.settings_mut().profile = p;
        Ok(())
    }

    /// Sets the fractional bits (0..=40).
    pub fn set_frac_bits(&mut self, frac_bits: u32) -> Result<(), JsError> {
        let fp = check(
            "set_frac_bits",
            FixedPoint::new(frac_bits).map_err(Failure::from),
        )?;
        self.inner.settings_mut().fp = fp;
        Ok(())
    }

    /// Sets the truncation protocol (`local` or `dealer`).
    pub fn set_trunc(&mut self, name: &str) -> Result<(), JsError> {
        let t = check("set_trunc", session::trunc_arg(name))?;
        self.inner.settings_mut().trunc = t;
        Ok(())
    }

    /// Sets the engine (`protocol`: every message; `ideal`: ideal functionalities, the same law
    /// and ledger, faster; the CLI's `--engine`).
    pub fn set_engine(&mut self, name: &str) -> Result<(), JsError> {
        let e = check("set_engine", session::engine_arg(name))?;
        self.inner.settings_mut().engine = e;
        Ok(())
    }

    /// Sets the MPC seed.
    pub fn set_mpc_seed(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "bigint | number")] seed: JsValue,
    ) -> Result<(), JsError> {
        let s = check("set_mpc_seed", seed_arg(&seed))?;
        self.inner.settings_mut().mpc_seed = s;
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
        check("level_preset", self.inner.level_preset(name)).map(|l| vec![l.iters_exp, l.iters_nr])
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
        to_js("predict", &p)
    }

    /// Plaintext and MPC predictions for one sample of a tabular model (`credit-mlp`,
    /// `bank-mlp`): a `Float64Array` of its features in raw units (a category as its
    /// position in the vocabulary), min-max scaled as the model file records.
    #[wasm_bindgen(unchecked_return_type = "Prediction")]
    pub fn predict_raw(&mut self, raw: &[f64]) -> Result<JsValue, JsError> {
        let p = check("predict_raw", self.inner.predict_raw(raw))?;
        to_js("predict_raw", &p)
    }

    /// Where the deviation of an image comes from: plaintext, float, fixed and MPC models.
    #[wasm_bindgen(unchecked_return_type = "Breakdown")]
    pub fn breakdown(&mut self, pixels: &[f32]) -> Result<JsValue, JsError> {
        let b = check("breakdown", self.inner.breakdown(pixels))?;
        to_js("breakdown", &b)
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
        to_js("error_curve", &c)
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
        to_js("slice", &s)
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
                mutator: search::mutator_arg(mutator)?,
                repeats,
            })
        })();
        let s = &mut self.inner;
        let search = check("fuzz_start", o.and_then(|o| Search::start(s, pixels, o)))?;
        let p = search.progress();
        (self.search, self.investigation) = (Some(search), None);
        to_js("fuzz_start", &ProgressJs(p))
    }

    /// Runs the search for at most `max` more mutants.
    #[wasm_bindgen(unchecked_return_type = "SearchProgress")]
    pub fn fuzz_step(&mut self, max: u32) -> Result<JsValue, JsError> {
        let search = check("fuzz_step", self.search.as_mut().ok_or_else(no_search))?;
        let p = check("fuzz_step", search.step(&mut self.inner, u64::from(max)))?;
        to_js("fuzz_step", &ProgressJs(p))
    }

    /// The deviation the search found, or `null`.
    #[wasm_bindgen(unchecked_return_type = "FoundDeviation | null")]
    pub fn fuzz_found(&self) -> Result<JsValue, JsError> {
        match found(&self.search) {
            Ok(f) => to_js("fuzz_found", f),
            Err(_) => Ok(JsValue::NULL),
        }
    }

    /// The search's start as one line of an `mpcdiff fuzz --corpus` file.
    pub fn fuzz_corpus_line(&self) -> Result<String, JsError> {
        let search = check(
            "fuzz_corpus_line",
            self.search.as_ref().ok_or_else(no_search),
        )?;
        Ok(search.corpus_line())
    }

    /// The `mpcdiff fuzz` command that runs the same campaign natively on a file holding
    /// [`JsSession::fuzz_corpus_line`] (its path left as `CORPUS`; with a level plan, `PLAN`).
    pub fn fuzz_command(&self) -> Result<String, JsError> {
        let search = check("fuzz_command", self.search.as_ref().ok_or_else(no_search))?;
        Ok(search.command(&self.inner).join(" "))
    }

    /// The session's level plan as an `mpcdiff.plan/1` file (what `mpcdiff fuzz --plan` and
    /// `mpcdiff slice --plan` read), or `undefined` without a plan.
    pub fn plan_json(&self) -> Option<String> {
        self.inner.plan_json()
    }

    /// Localizes the found deviation: per-layer errors, votes and attribution, error source.
    #[wasm_bindgen(unchecked_return_type = "Localization")]
    pub fn localize(&mut self) -> Result<JsValue, JsError> {
        let f = check("localize", found(&self.search))?;
        let inv = check("localize", Investigation::localize(&mut self.inner, f))?;
        let v = to_js("localize", inv.localization());
        self.investigation = Some(inv);
        v
    }

    /// Starts the repair search on `check_digits` synthetic digits with a multiplication
    /// `budget` (× the current plan's); returns the number of candidates.
    pub fn repair_start(&mut self, check_digits: u32, budget: f64) -> Result<u32, JsError> {
        let r = found(&self.search).and_then(|f| {
            let inv = self.investigation.as_mut().ok_or_else(not_localized)?;
            inv.start(&mut self.inner, f, check_digits as usize, budget)
        });
        Ok(check("repair_start", r)? as u32)
    }

    /// Assesses the next candidate (and, after the last, chooses).
    #[wasm_bindgen(unchecked_return_type = "RepairSearch")]
    pub fn repair_step(&mut self) -> Result<JsValue, JsError> {
        let r = found(&self.search).and_then(|f| {
            let inv = self.investigation.as_mut().ok_or_else(not_localized)?;
            inv.step(&mut self.inner, f)
        });
        to_js("repair_step", &check("repair_step", r)?)
    }

    /// Makes the chosen plan the session's.
    pub fn apply_repair(&mut self) -> Result<(), JsError> {
        let inv = self.investigation.as_ref().ok_or_else(not_localized);
        let plan = check("apply_repair", inv.and_then(|i| i.chosen().cloned()))?;
        self.inner.set_plan(plan);
        Ok(())
    }

    /// The found deviation replayed under the current settings and plan.
    #[wasm_bindgen(unchecked_return_type = "Replay")]
    pub fn fuzz_replay(&mut self) -> Result<JsValue, JsError> {
        let r = found(&self.search).and_then(|f| repair::replay(&mut self.inner, f));
        to_js("fuzz_replay", &check("fuzz_replay", r)?)
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

/// The embedded tabular models and their features: name, the training split's raw range
/// (`min`, `max`, from the model file), and a categorical feature's vocabulary.
#[wasm_bindgen(unchecked_return_type = "TabularModel[]")]
pub fn tabular_models() -> Result<JsValue, JsError> {
    let list = models::TABULAR
        .iter()
        .map(|t| {
            let m = models::load_tabular(t.name)?;
            let meta = m.metadata_raw("preprocessing").unwrap_or("");
            let features = t
                .features
                .iter()
                .enumerate()
                .map(|(j, &name)| {
                    let (min, max) = mpcdiff_kernel::nn::scaling::bounds(meta, j)?;
                    Ok(FeatureJs {
                        name,
                        min,
                        max,
                        categories: (t.vocabulary)(j).unwrap_or(&[]),
                    })
                })
                .collect::<Result<Vec<_>, Failure>>()?;
            Ok(TabularJs {
                name: t.name,
                task: t.task,
                classes: t.classes,
                features,
            })
        })
        .collect::<Result<Vec<_>, Failure>>();
    to_js("tabular_models", &check("tabular_models", list)?)
}

/// The width and height (in drawing pixels) of the ink in a `w × h` drawing: the part the
/// rasterisation scales to 20 pixels (the kernel's `digits::framing::ink_size`).
#[wasm_bindgen]
pub fn ink_extent(drawing: &[f32], w: u32, h: u32) -> Result<Vec<u32>, JsError> {
    let (iw, ih) = check(
        "ink_extent",
        mpcdiff_kernel::digits::framing::ink_size(drawing, w as usize, h as usize)
            .map_err(Failure::from),
    )?;
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
