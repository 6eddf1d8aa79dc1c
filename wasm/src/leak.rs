//! What the helper party sees of a drawn digit (the SCSDF sign leak, `mpcdiff leak attack` for
//! one image): a thin converter over `mpcdiff_kernel::leak::attack`, which does all the work.
//!
//! ```js
//! const v = wasm.helper_view("lenet-relu", pixels, "leaky", new Float64Array([0]), 42n, 200);
//! v.levels;          // Uint8Array, channels × height × width: what the helper learned (0..=m)
//! v.reconstruction;  // Float64Array, 28 × 28: the image rebuilt from it, W₁ known
//! ```
//!
//! The reconstruction's prior is the constant image of MNIST's mean intensity (0.1307, the
//! model's public preprocessing mean): the page has no dataset to average, so the CLI's mean
//! training image is not available here, and the numbers differ from `mpcdiff leak attack`'s
//! for that reason alone.

use mpcdiff_kernel::leak::attack::{self, Activation, FirstLayer, ReconSettings};
use mpcdiff_kernel::nn::spec::{Activation as Act, Kind};
use mpcdiff_kernel::protocols::drelu::Comparison;
use mpcdiff_kernel::{digits, FixedPoint, Share};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::{into_error, models, seed_arg, ser, Failure};

/// What the page shows.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HelperView {
    /// The comparison's name.
    pub comparison: &'static str,
    /// First-layer channels.
    pub channels: usize,
    /// Map height.
    pub height: usize,
    /// Map width.
    pub width: usize,
    /// DReLUs per pre-activation.
    pub m: usize,
    /// Words the helper received.
    pub view_words: usize,
    /// What the helper learned per pre-activation (0..=m); all zero when it received nothing.
    #[serde(serialize_with = "ser::u8s")]
    pub levels: Vec<u8>,
    /// The sign picture (no weights known).
    #[serde(serialize_with = "ser::f64s")]
    pub sign_image: Vec<f64>,
    /// The reconstruction with the first layer known.
    #[serde(serialize_with = "ser::f64s")]
    pub reconstruction: Vec<f64>,
    /// Rounds of the activation.
    pub rounds: u64,
    /// Bytes each computing party sent in the activation.
    pub bytes_per_party: u64,
    /// Bytes the helper sent in the activation.
    pub helper_bytes: u64,
}

/// [`helper_view`] in plain Rust: the first block of `model` on `pixels` (28 × 28 intensities
/// in [0, 1]) with comparison `comparison` (`a2b`, `leaky`, `hidden`, `pc`), session seed `seed`,
/// the piecewise sigmoid's `breakpoints` for the sigmoid model (ignored for ReLU), `steps`
/// optimiser steps.
///
/// # Errors
/// [`Failure::Argument`] for an unknown model or comparison, or `steps` outside 1..=2000; the
/// kernel's.
pub fn helper_view_native(
    model: &str,
    pixels: &[f32],
    comparison: &str,
    breakpoints: &[f64],
    seed: u64,
    steps: u32,
) -> Result<HelperView, Failure> {
    let model = models::load(model)?;
    let c = Comparison::by_name(comparison).ok_or(Failure::Argument {
        name: "comparison",
        expected: "\"a2b\", \"leaky\", \"hidden\" or \"pc\"",
    })?;
    if !(1..=2000).contains(&steps) {
        return Err(Failure::Argument {
            name: "steps",
            expected: "1..=2000",
        });
    }
    let layer = FirstLayer::from_model(&model, f64::from(digits::MEAN), f64::from(digits::STD))?;
    let relu = model
        .spec
        .layers
        .iter()
        .any(|l| matches!(l.kind, Kind::Act(Act::Relu)));
    let act = if relu {
        Activation::Relu
    } else {
        Activation::Piecewise(breakpoints)
    };
    let bps = act.breakpoints();
    let m = bps.len();
    let x: Vec<f64> = pixels.iter().map(|&p| f64::from(p)).collect();
    let sizes = attack::block_sizes(&layer, m)?;
    let mut arena = vec![0i64; sizes.arena_words];
    let mut elems: Vec<Share> = vec![[0, 0]; sizes.elems];
    let mut view = vec![0i64; sizes.view_words];
    let fp = FixedPoint::new(16)?;
    let run = attack::run_first_block(
        &layer, act, c, fp, seed, &x, &mut arena, &mut elems, &mut view,
    )?;
    let n = layer.outputs();
    let mut levels = vec![0u8; n];
    let mut bits = vec![0u8; m * n];
    let seen = attack::helper_levels(c, &view[..run.view_words], m, n, &mut levels, &mut bits)?;
    let prior = vec![f64::from(digits::MEAN); layer.pixels()];
    let (oh, ow) = layer.out_hw();
    let mut sign_image = vec![0.0; oh * ow];
    if seen {
        attack::sign_image(&levels, layer.channels, m, &mut sign_image)?;
    }
    let mut reconstruction = vec![0.0; layer.pixels()];
    let mut work = vec![0.0; attack::recon_work_len(&layer)];
    let settings = ReconSettings {
        steps,
        ..ReconSettings::default()
    };
    attack::reconstruct(
        &layer,
        seen.then_some(&levels[..]),
        bps,
        &prior,
        settings,
        &mut reconstruction,
        &mut work,
    )?;
    Ok(HelperView {
        comparison: c.name(),
        channels: layer.channels,
        height: oh,
        width: ow,
        m,
        view_words: run.view_words,
        levels,
        sign_image,
        reconstruction,
        rounds: run.activation_cost.rounds,
        bytes_per_party: run.activation_cost.bytes_sent[0],
        helper_bytes: run.activation_cost.helper_bytes,
    })
}

/// What the helper party sees of the drawn digit, and what it rebuilds (see the module doc).
#[wasm_bindgen]
pub fn helper_view(
    model: &str,
    pixels: &[f32],
    comparison: &str,
    breakpoints: &[f64],
    #[wasm_bindgen(unchecked_param_type = "bigint | number")] seed: JsValue,
    steps: u32,
) -> Result<JsValue, JsError> {
    let r = seed_arg(&seed)
        .and_then(|s| helper_view_native(model, pixels, comparison, breakpoints, s, steps));
    let v = r.map_err(|e| into_error("helper_view", e))?;
    let s = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    v.serialize(&s)
        .map_err(|e| JsError::new(&format!("mpcdiff helper_view: {e}")))
}

#[cfg(test)]
mod tests {
    //! The adapter is the kernel's attack: the leaky helper sees every sign of a synthetic
    //! digit and its reconstruction is closer to the digit than the prior; A2B shows nothing.

    use super::*;

    #[test]
    fn helper_view_of_a_synthetic_digit() {
        let mut img = [0.0f32; digits::PIXELS];
        digits::synthetic::sample(2024, 3, &mut img).unwrap();
        let x: Vec<f64> = img.iter().map(|&p| f64::from(p)).collect();
        let mse = |r: &[f64]| mpcdiff_kernel::leak::metrics::mse(&x, r).unwrap();
        let prior = vec![f64::from(digits::MEAN); x.len()];
        let leaky = helper_view_native("lenet-relu", &img, "leaky", &[], 1, 200).unwrap();
        assert_eq!(leaky.view_words, 2 * 6 * 28 * 28);
        assert!(mse(&leaky.reconstruction) < 0.5 * mse(&prior));
        let a2b = helper_view_native("lenet-relu", &img, "a2b", &[], 1, 200).unwrap();
        assert_eq!(a2b.view_words, 0);
        assert_eq!(a2b.reconstruction, prior);
        let sig = helper_view_native("lenet", &img, "leaky", &[-2.0, 0.0, 2.0], 1, 50).unwrap();
        assert_eq!((sig.m, sig.view_words), (3, 2 * 3 * 6 * 28 * 28));
        assert!(helper_view_native("lenet", &img, "nope", &[0.0], 1, 5).is_err());
        assert!(helper_view_native("lenet", &img, "leaky", &[1.0, 0.0], 1, 5).is_err());
    }
}
