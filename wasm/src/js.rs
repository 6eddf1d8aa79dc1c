//! The `#[wasm_bindgen]` face of [`crate::session`]: thin wrappers that convert arguments,
//! call the plain-Rust function and convert the result or the error (through
//! `crate::into_error`).
//!
//! Results are small exported classes with getters rather than serialised objects: bulk
//! numbers leave as typed arrays (`Vec<f64>` becomes a `Float64Array`, `Vec<u8>` a
//! `Uint8Array`), with no JSON in between and no extra dependency. Counts and costs are
//! `Number`s; seeds are `BigInt`s (they are `u64`). A caller that keeps a result past its
//! use should `free()` it (the worker in `web/` copies each result into a plain object and
//! frees it at once).

use mpcdiff_kernel::approx::{Function, Level};
use mpcdiff_kernel::nn::spec::Shape;
use mpcdiff_kernel::{Cost, FixedPoint};
use wasm_bindgen::prelude::*;

use crate::session::{self, Settings};
use crate::{into_error, seed_arg, Failure};

/// A model, its MPC settings and reusable buffers: see the `session` module of the crate.
#[wasm_bindgen(js_name = Session)]
pub struct JsSession {
    pub(crate) inner: session::Session,
}

fn check<T>(function: &str, r: Result<T, Failure>) -> Result<T, JsError> {
    r.map_err(|e| into_error(function, e))
}

pub(crate) fn shape_dims(s: Shape) -> Vec<u32> {
    let d = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    match s {
        Shape::Image { c, h, w } => vec![d(c), d(h), d(w)],
        Shape::Vector(n) => vec![d(n)],
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
        check(
            "Session",
            (|| {
                let settings = Settings {
                    profile: session::profile_arg(profile)?,
                    fp: FixedPoint::new(frac_bits)?,
                    trunc: session::trunc_arg(trunc)?,
                    level: None,
                    mpc_seed: seed_arg(&mpc_seed)?,
                };
                Ok(JsSession {
                    inner: session::Session::new(model, settings)?,
                })
            })(),
        )
    }

    /// The model's name.
    #[wasm_bindgen(getter)]
    pub fn model(&self) -> String {
        self.inner.model_name().into()
    }
    /// The profile's name.
    #[wasm_bindgen(getter)]
    pub fn profile(&self) -> String {
        self.inner.settings().profile.name.into()
    }
    /// One line on where the profile's numbers come from.
    #[wasm_bindgen(getter)]
    pub fn profile_about(&self) -> String {
        self.inner.settings().profile.about.into()
    }
    /// The deployment's name, as `mpcdiff --deploy` takes it (`crypten`).
    #[wasm_bindgen(getter)]
    pub fn deploy(&self) -> String {
        self.inner.deployment().name().into()
    }
    /// One line on what the deployment runs (the kernel's).
    #[wasm_bindgen(getter)]
    pub fn deploy_about(&self) -> String {
        self.inner.deployment().about().into()
    }
    /// Fractional bits.
    #[wasm_bindgen(getter)]
    pub fn frac_bits(&self) -> u32 {
        self.inner.settings().fp.frac_bits()
    }
    /// `"local"` or `"dealer"`.
    #[wasm_bindgen(getter)]
    pub fn trunc(&self) -> String {
        session::trunc_name(self.inner.settings().trunc).into()
    }
    /// The MPC seed (a `BigInt`).
    #[wasm_bindgen(getter)]
    pub fn mpc_seed(&self) -> u64 {
        self.inner.settings().mpc_seed
    }
    /// The activation layers' level override as `[iters_exp, iters_nr]`, or `undefined`.
    #[wasm_bindgen(getter)]
    pub fn level(&self) -> Option<Vec<u8>> {
        self.inner
            .settings()
            .level
            .map(|l| vec![l.iters_exp, l.iters_nr])
    }
    /// The function of the model's activation layers (`sigmoid`, `relu`…).
    #[wasm_bindgen(getter)]
    pub fn activation(&self) -> String {
        self.inner.activation_function().name().into()
    }
    /// Number of classes.
    #[wasm_bindgen(getter)]
    pub fn classes(&self) -> u32 {
        self.inner.model().classes as u32
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
            FixedPoint::new(frac_bits).map_err(Into::into),
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
    /// Runs every activation layer at `iters_exp` exp squarings (≤ 40) and `iters_nr`
    /// Newton steps.
    pub fn set_level(&mut self, iters_exp: u8, iters_nr: u8) -> Result<(), JsError> {
        check(
            "set_level",
            self.inner.set_level(Some(Level::new(iters_exp, iters_nr))),
        )
    }
    /// Runs one layer (an activation or a batch norm, by name: see `layers`) at
    /// `iters_exp`/`iters_nr`; the other layers keep their levels.
    pub fn set_layer_level(
        &mut self,
        layer: &str,
        iters_exp: u8,
        iters_nr: u8,
    ) -> Result<(), JsError> {
        check(
            "set_layer_level",
            self.inner
                .set_layer_level(layer, Some(Level::new(iters_exp, iters_nr))),
        )
    }
    /// Back to the profile's level for one layer.
    pub fn clear_layer_level(&mut self, layer: &str) -> Result<(), JsError> {
        check("clear_layer_level", self.inner.set_layer_level(layer, None))
    }
    /// The layers that take a level (activations and batch norms), in order.
    #[wasm_bindgen(getter)]
    pub fn layers(&self) -> Vec<String> {
        self.inner
            .leveled_layers()
            .into_iter()
            .map(String::from)
            .collect()
    }
    /// Back to the profile's default levels.
    pub fn clear_level(&mut self) -> Result<(), JsError> {
        check("clear_level", self.inner.set_level(None))
    }
    /// A named level of the profile for the model's activation function, as
    /// `[iters_exp, iters_nr]`: `default`, or the repair levels `high`, `medium`, `low`.
    pub fn level_preset(&self, name: &str) -> Result<Vec<u8>, JsError> {
        let p = self.inner.settings().profile;
        let l = match name {
            "default" => self.inner.activation_function().default_level(p),
            "high" => p.repair.high,
            "medium" => p.repair.medium,
            "low" => p.repair.low,
            _ => {
                return Err(into_error(
                    "level_preset",
                    Failure::Argument {
                        name: "name",
                        expected: "\"default\", \"high\", \"medium\" or \"low\"",
                    },
                ))
            }
        };
        Ok(vec![l.iters_exp, l.iters_nr])
    }

    /// Plaintext and MPC predictions for a 28×28 image of intensities (a `Float32Array` of
    /// 784 values in [0, 1], row-major), with neuron taps.
    pub fn predict(&mut self, pixels: &[f32]) -> Result<Prediction, JsError> {
        let p = check("predict", self.inner.predict(pixels))?;
        Ok(Prediction { inner: p })
    }

    /// Where the deviation of an image comes from: plaintext, float, fixed and MPC models.
    pub fn breakdown(&mut self, pixels: &[f32]) -> Result<Breakdown, JsError> {
        let b = check("breakdown", self.inner.breakdown(pixels))?;
        Ok(Breakdown { inner: b })
    }

    /// One function's error by stage on `points` inputs over `[lo, hi]` (function names as
    /// `mpcdiff approx --fn`: `sigmoid`, `inv-sqrt`, `exp`, `reciprocal`…).
    pub fn error_curve(
        &self,
        function: &str,
        lo: f64,
        hi: f64,
        points: u32,
    ) -> Result<Curve, JsError> {
        let f = check(
            "error_curve",
            Function::by_name(function).ok_or(Failure::Argument {
                name: "function",
                expected: "a function name of `mpcdiff approx --fn` (sigmoid, tanh, relu, inv-sqrt, exp, reciprocal, …)",
            }),
        )?;
        let c = check(
            "error_curve",
            self.inner.error_curve(f, lo, hi, points as usize),
        )?;
        Ok(Curve { inner: c })
    }

    /// A decision-boundary slice around an image: `steps × steps` labels over
    /// `[−radius, radius]²` along two random directions drawn from `direction_seed`.
    pub fn slice(
        &mut self,
        pixels: &[f32],
        #[wasm_bindgen(unchecked_param_type = "bigint | number")] direction_seed: JsValue,
        radius: f64,
        steps: u32,
    ) -> Result<Slice, JsError> {
        let seed = check("slice", seed_arg(&direction_seed))?;
        let s = check(
            "slice",
            self.inner.slice(pixels, seed, radius, steps as usize),
        )?;
        Ok(Slice { inner: s })
    }
}

/// A cost ledger, every count as a `Number`.
#[wasm_bindgen]
pub struct CostLedger {
    inner: Cost,
}

#[wasm_bindgen]
impl CostLedger {
    /// Communication rounds.
    #[wasm_bindgen(getter)]
    pub fn rounds(&self) -> f64 {
        self.inner.rounds as f64
    }
    /// Bytes party 0 sent.
    #[wasm_bindgen(getter)]
    pub fn bytes_per_party(&self) -> f64 {
        self.inner.bytes_sent[0] as f64
    }
    /// Bytes as CrypTen's communicator logs them (sent + received).
    #[wasm_bindgen(getter)]
    pub fn crypten_bytes(&self) -> f64 {
        self.inner.crypten_bytes() as f64
    }
    /// Multiplications of any kind (elementwise triples, square pairs, matrix triples).
    #[wasm_bindgen(getter)]
    pub fn multiplications(&self) -> f64 {
        self.inner.multiplications() as f64
    }
    /// Binary AND triples (comparisons).
    #[wasm_bindgen(getter)]
    pub fn and_triples(&self) -> f64 {
        self.inner.and_triples as f64
    }
    /// Truncations.
    #[wasm_bindgen(getter)]
    pub fn truncations(&self) -> f64 {
        self.inner.truncations as f64
    }
    /// Share-local truncations that wrapped.
    #[wasm_bindgen(getter)]
    pub fn wrap_events(&self) -> f64 {
        self.inner.wrap_events as f64
    }
}

impl From<Cost> for CostLedger {
    fn from(inner: Cost) -> Self {
        CostLedger { inner }
    }
}

impl From<session::Prediction> for Prediction {
    fn from(inner: session::Prediction) -> Self {
        Prediction { inner }
    }
}

/// [`JsSession::predict`]'s result.
#[wasm_bindgen]
pub struct Prediction {
    inner: session::Prediction,
}

#[wasm_bindgen]
impl Prediction {
    /// Plaintext logits.
    #[wasm_bindgen(getter)]
    pub fn plaintext_logits(&self) -> Vec<f64> {
        self.inner.plaintext.logits.clone()
    }
    /// Plaintext softmax probabilities.
    #[wasm_bindgen(getter)]
    pub fn plaintext_probabilities(&self) -> Vec<f64> {
        self.inner.plaintext.probabilities.clone()
    }
    /// Plaintext label.
    #[wasm_bindgen(getter)]
    pub fn plaintext_label(&self) -> u32 {
        self.inner.plaintext.label as u32
    }
    /// MPC logits.
    #[wasm_bindgen(getter)]
    pub fn mpc_logits(&self) -> Vec<f64> {
        self.inner.mpc.logits.clone()
    }
    /// MPC softmax probabilities.
    #[wasm_bindgen(getter)]
    pub fn mpc_probabilities(&self) -> Vec<f64> {
        self.inner.mpc.probabilities.clone()
    }
    /// MPC label.
    #[wasm_bindgen(getter)]
    pub fn mpc_label(&self) -> u32 {
        self.inner.mpc.label as u32
    }
    /// `max |mpc − plaintext|` over the logits.
    #[wasm_bindgen(getter)]
    pub fn deviation_max(&self) -> f64 {
        self.inner.deviation_max()
    }
    /// `‖mpc − plaintext‖₂` over the logits.
    #[wasm_bindgen(getter)]
    pub fn deviation_l2(&self) -> f64 {
        self.inner.deviation_l2()
    }
    /// What the MPC forward pass cost.
    #[wasm_bindgen(getter)]
    pub fn cost(&self) -> CostLedger {
        CostLedger {
            inner: self.inner.cost,
        }
    }
    /// Number of tapped (activation) layers.
    #[wasm_bindgen(getter)]
    pub fn tap_count(&self) -> u32 {
        self.inner.plaintext.taps.len() as u32
    }
    /// Tapped layer `i`'s name.
    pub fn tap_name(&self, i: u32) -> Option<String> {
        self.tap(i).map(|t| t.name.clone())
    }
    /// Tapped layer `i`'s shape: `[c, h, w]` or `[n]`.
    pub fn tap_shape(&self, i: u32) -> Option<Vec<u32>> {
        self.tap(i).map(|t| shape_dims(t.shape))
    }
    /// Tapped layer `i`'s outputs in the plaintext model.
    pub fn tap_plaintext(&self, i: u32) -> Option<Vec<f64>> {
        self.tap(i).map(|t| t.values.clone())
    }
    /// Tapped layer `i`'s outputs in the MPC model.
    pub fn tap_mpc(&self, i: u32) -> Option<Vec<f64>> {
        self.inner
            .mpc
            .taps
            .get(i as usize)
            .map(|t| t.values.clone())
    }
}

impl Prediction {
    fn tap(&self, i: u32) -> Option<&session::LayerTap> {
        self.inner.plaintext.taps.get(i as usize)
    }
}

/// [`JsSession::breakdown`]'s result.
#[wasm_bindgen]
pub struct Breakdown {
    inner: session::Breakdown,
}

#[wasm_bindgen]
impl Breakdown {
    /// `["plaintext", "float", "fixed", "mpc"]`: the order of the stage getters.
    #[wasm_bindgen(getter)]
    pub fn stage_names(&self) -> Vec<String> {
        session::STAGE_NAMES.iter().map(|s| s.to_string()).collect()
    }
    /// `["approximation", "encoding", "shares"]`: the order of [`Breakdown::gap`]'s values.
    #[wasm_bindgen(getter)]
    pub fn gap_names(&self) -> Vec<String> {
        session::GAP_NAMES.iter().map(|s| s.to_string()).collect()
    }
    /// Stage `i`'s logits.
    pub fn logits(&self, i: u32) -> Option<Vec<f64>> {
        self.inner.stages.get(i as usize).map(|s| s.logits.clone())
    }
    /// Stage `i`'s label.
    pub fn label(&self, i: u32) -> Option<u32> {
        self.inner.stages.get(i as usize).map(|s| s.label as u32)
    }
    /// Rows of the gap table: the activation layers, then `logits`.
    #[wasm_bindgen(getter)]
    pub fn gap_rows(&self) -> Vec<String> {
        self.inner.gaps.iter().map(|(n, _)| n.clone()).collect()
    }
    /// Row `i` of the gap table: the largest gap each stage adds.
    pub fn gap(&self, i: u32) -> Option<Vec<f64>> {
        self.inner.gaps.get(i as usize).map(|(_, g)| g.to_vec())
    }
}

/// [`JsSession::error_curve`]'s result.
#[wasm_bindgen]
pub struct Curve {
    inner: session::Curve,
}

#[wasm_bindgen]
impl Curve {
    /// The function's name.
    #[wasm_bindgen(getter)]
    pub fn function(&self) -> String {
        self.inner.function.name().into()
    }
    /// The level it ran at, `[iters_exp, iters_nr]`.
    #[wasm_bindgen(getter)]
    pub fn level(&self) -> Vec<u8> {
        vec![self.inner.level.iters_exp, self.inner.level.iters_nr]
    }
    /// The inputs.
    #[wasm_bindgen(getter)]
    pub fn x(&self) -> Vec<f64> {
        self.inner.x.clone()
    }
    /// The true function.
    #[wasm_bindgen(getter)]
    pub fn exact(&self) -> Vec<f64> {
        self.inner.stages.iter().map(|s| s.exact).collect()
    }
    /// The approximation in ideal math.
    #[wasm_bindgen(getter)]
    pub fn float(&self) -> Vec<f64> {
        self.inner.stages.iter().map(|s| s.float).collect()
    }
    /// The approximation in fixed point.
    #[wasm_bindgen(getter)]
    pub fn fixed(&self) -> Vec<f64> {
        self.inner.stages.iter().map(|s| s.fixed).collect()
    }
    /// The approximation on shares.
    #[wasm_bindgen(getter)]
    pub fn shared(&self) -> Vec<f64> {
        self.inner.stages.iter().map(|s| s.shared).collect()
    }
    /// What the shared run cost for all inputs.
    #[wasm_bindgen(getter)]
    pub fn cost(&self) -> CostLedger {
        CostLedger {
            inner: self.inner.cost,
        }
    }
}

/// [`JsSession::slice`]'s result.
#[wasm_bindgen]
pub struct Slice {
    inner: session::Slice,
}

#[wasm_bindgen]
impl Slice {
    /// Grid points per side.
    #[wasm_bindgen(getter)]
    pub fn steps(&self) -> u32 {
        self.inner.offsets.len() as u32
    }
    /// The coordinates along each direction.
    #[wasm_bindgen(getter)]
    pub fn offsets(&self) -> Vec<f64> {
        self.inner.offsets.clone()
    }
    /// Plaintext labels, row-major (rows along the second direction).
    #[wasm_bindgen(getter)]
    pub fn plaintext(&self) -> Vec<u8> {
        self.inner.plaintext.clone()
    }
    /// MPC labels, same layout.
    #[wasm_bindgen(getter)]
    pub fn mpc(&self) -> Vec<u8> {
        self.inner.mpc.clone()
    }
    /// Grid points where the labels differ.
    #[wasm_bindgen(getter)]
    pub fn disagreements(&self) -> u32 {
        self.inner.disagreements() as u32
    }
    /// What the batched MPC run cost.
    #[wasm_bindgen(getter)]
    pub fn cost(&self) -> CostLedger {
        CostLedger {
            inner: self.inner.cost,
        }
    }
}

/// A synthetic digit: its label and 28×28 intensities.
#[wasm_bindgen]
pub struct Digit {
    label: u8,
    pixels: Vec<f32>,
}

#[wasm_bindgen]
impl Digit {
    /// The digit drawn (0–9).
    #[wasm_bindgen(getter)]
    pub fn label(&self) -> u8 {
        self.label
    }
    /// Its 784 intensities in [0, 1] (`Float32Array`).
    #[wasm_bindgen(getter)]
    pub fn pixels(&self) -> Vec<f32> {
        self.pixels.clone()
    }
}

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
#[wasm_bindgen]
pub fn synthetic_digit(
    #[wasm_bindgen(unchecked_param_type = "bigint | number")] seed: JsValue,
    #[wasm_bindgen(unchecked_param_type = "bigint | number")] index: JsValue,
) -> Result<Digit, JsError> {
    let (label, pixels) = check(
        "synthetic_digit",
        seed_arg(&seed).and_then(|s| {
            let i = seed_arg(&index).map_err(|_| Failure::Argument {
                name: "index",
                expected: crate::SEED_EXPECTED,
            })?;
            session::synthetic_digit(s, i)
        }),
    )?;
    Ok(Digit { label, pixels })
}

/// The relative encoding error with `frac_bits` at `points` log-spaced inputs from 1e−6 to
/// 1e6, as `[x…, rel…]` (a `Float64Array` of `2·points`).
#[wasm_bindgen]
pub fn encoding_curve(frac_bits: u32, points: u32) -> Result<Vec<f64>, JsError> {
    let (mut x, rel) = check(
        "encoding_curve",
        session::encoding_curve(frac_bits, points as usize),
    )?;
    x.extend(rel);
    Ok(x)
}

/// The built-in profiles' names.
#[wasm_bindgen]
pub fn profiles() -> Vec<String> {
    mpcdiff_kernel::approx::profile::PROFILES
        .iter()
        .map(|p| p.name.to_string())
        .collect()
}
