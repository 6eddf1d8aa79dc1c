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

/// Side of an MNIST image, in pixels.
pub const SIDE: usize = 28;
/// Pixels in an MNIST image (28 × 28).
pub const PIXELS: usize = SIDE * SIDE;

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
