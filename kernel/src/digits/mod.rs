//! MNIST-like handwritten digits: MNIST's framing of any drawing, and seeded synthetic digits.
//!
//! # Why
//! mpcdiff's main job must run on a fresh machine with no dataset: the synthetic digits are the
//! embedded default seed corpus, and the web demo's "random digit". A LeNet trained on real MNIST
//! is meant to classify them, and the digits a user draws in the demo, so both are drawn and
//! normalised the way MNIST's digits were.
//!
//! # Parts
//! * [`framing`]: MNIST's size normalisation and centring, [`framing::mnist_center`]: any
//!   drawing into the 28×28 field, its ink in a 20×20 box, its centre of mass where MNIST put it.
//! * [`synthetic`]: the seeded generator, [`synthetic::sample`] and [`synthetic::digit`]: the
//!   recipe, how it was checked against MNIST, and its determinism contract.
//! * `templates` (private): each digit's stylistic variants as pen strokes, with the per-digit
//!   width and slant fitted to MNIST.
//! * `raster` (private): the canvas a synthetic digit is drawn on, and the anti-aliased thick
//!   strokes painted on it.
//!
//! Every image here, framed or generated, is [`SIDE`] × [`SIDE`] intensities in [0, 1],
//! row-major.

pub mod framing;
mod raster;
pub mod synthetic;
mod templates;

use crate::error::{Error, Result};

/// Side of an MNIST image, in pixels.
pub const SIDE: usize = 28;
/// Pixels in an MNIST image (28 × 28).
pub const PIXELS: usize = SIDE * SIDE;
/// MPCDiff's normalisation mean (`transforms.Normalize((0.1307,), (0.3081,))`).
pub const MEAN: f32 = 0.1307;
/// MPCDiff's normalisation standard deviation.
pub const STD: f32 = 0.3081;

/// The model input of an intensity `u` (0 = background, 1 = ink): `(u − MEAN) / STD` in
/// `f32`, each operation rounded once. The CLI's MNIST loader and the browser both call this,
/// so a drawing and the same pixels read from a file give a model the same bits.
pub fn normalize(u: f32) -> f32 {
    (u - MEAN) / STD
}

/// The model inputs of the intensities `pixels` into `out` ([`normalize`] each).
///
/// # Errors
/// [`Error::ShapeMismatch`] unless both have one length; [`Error::NonFinite`] for a NaN or
/// infinite intensity.
pub fn normalize_into(pixels: &[f32], out: &mut [f64]) -> Result<()> {
    if pixels.len() != out.len() {
        return Err(Error::ShapeMismatch {
            expected: out.len(),
            got: pixels.len(),
        });
    }
    if let Some(index) = pixels.iter().position(|p| !p.is_finite()) {
        return Err(Error::NonFinite { index });
    }
    for (o, &u) in out.iter_mut().zip(pixels) {
        *o = f64::from(normalize(u));
    }
    Ok(())
}

/// The intensity of a model input `x`: `x · STD + MEAN` in `f32` (the inverse of
/// [`normalize`] up to one rounding), for drawing a mutated input.
pub fn denormalize(x: f64) -> f32 {
    (x as f32) * STD + MEAN
}

/// `v` clamped to [0, 1]: an intensity (framing's area averages, the rasteriser's coverage).
fn clamp01(v: f64) -> f64 {
    if v > 1.0 {
        1.0
    } else if v > 0.0 {
        v
    } else {
        0.0
    }
}

/// Measurements of an image for the tests of both halves, in pixel-index coordinates: pixel
/// (row, col) has its centre at (col, row).
#[cfg(test)]
mod measure {
    use super::SIDE;

    /// Centre of mass `(x, y)` = `(Σ v·col / Σ v, Σ v·row / Σ v)`.
    pub(super) fn centre_of_mass(img: &[f32]) -> (f64, f64) {
        let (mut m, mut mx, mut my) = (0.0f64, 0.0f64, 0.0f64);
        for (i, &v) in img.iter().enumerate() {
            let v = f64::from(v);
            m += v;
            mx += v * (i % SIDE) as f64;
            my += v * (i / SIDE) as f64;
        }
        (mx / m, my / m)
    }

    /// Bounding box of the pixels > 0: (first col, last col, first row, last row).
    pub(super) fn bbox(img: &[f32]) -> (usize, usize, usize, usize) {
        let (mut c0, mut c1, mut r0, mut r1) = (usize::MAX, 0, usize::MAX, 0);
        for (i, &v) in img.iter().enumerate() {
            if v > 0.0 {
                let (c, r) = (i % SIDE, i / SIDE);
                c0 = c0.min(c);
                c1 = c1.max(c);
                r0 = r0.min(r);
                r1 = r1.max(r);
            }
        }
        assert!(c0 != usize::MAX, "empty image");
        (c0, c1, r0, r1)
    }

    pub(super) fn ink(img: &[f32]) -> f64 {
        img.iter().map(|&v| f64::from(v)).sum()
    }
}
