//! Seeded synthetic handwritten digits, and MNIST's size-and-centre normalisation.
//!
//! # Why
//! mpcdiff's main job must run on a fresh machine with no dataset: these digits are the embedded
//! default seed corpus, and the web demo's "random digit". A LeNet trained on real MNIST is meant
//! to classify them, so they are drawn and normalised the way MNIST's digits were.
//!
//! # MNIST's normalisation ([`mnist_center`])
//! LeCun, Cortes and Burges describe MNIST's preprocessing as: "The original black and white
//! (bilevel) images from NIST were size normalized to fit in a 20x20 pixel box while preserving
//! their aspect ratio. The resulting images contain grey levels as a result of the anti-aliasing
//! technique used by the normalization algorithm. The images were centered in a 28x28 image by
//! computing the center of mass of the pixels, and translating the image so as to position this
//! point at the center of the 28x28 field." [`mnist_center`] does the same for any drawing:
//! 1. crop to the ink's bounding box (pixels > 0);
//! 2. scale by `20 / max(width, height)` (aspect ratio preserved) into the top-left corner of a
//!    20×20 box, each output pixel the *area average* of the source area it covers (a box
//!    filter: the anti-aliasing), so the larger side spans exactly 20 pixels;
//! 3. translate that box by a whole number of pixels so that the ink's centre of mass lands
//!    within half a pixel of MNIST's centre (see below) in the 28×28 field.
//!
//! ## Where "the centre" is
//! Pixel `(row, col)` covers the square `[col, col + 1) × [row, row + 1)`, so the geometric
//! centre of the field is at `(14, 14)` in those edge coordinates, which is `(13.5, 13.5)` in
//! *pixel-index* coordinates (a pixel's centre at its integer index, as `Σ v·col / Σ v`
//! computes). MNIST itself did not use that point: in every one of the 10 000 test images (and
//! all but 2 of the 60 000 training images) the centre of mass in pixel-index coordinates lies
//! in `[13.5, 14.5]` on both axes, uniformly spread, i.e. within half a pixel of `(14, 14)`:
//! the centre of *pixel* (14, 14), half a pixel right of and below the geometric centre (an
//! integer target of 28 / 2 = 14). A network trained on MNIST has learnt that position, so
//! [`mnist_center`] follows the data, not the prose: it translates by
//! `ceil(13.5 − com)` per axis, which puts the centre of mass in `[13.5, 14.5)` in pixel-index
//! coordinates. The integration test `tests/tests/digits.rs` re-derives this from the MNIST
//! files when they are present. The shift is clamped so that no ink leaves the field (only a
//! drawing with almost all its mass at one end can need it; the generator redraws such digits).
//!
//! # Synthetic digits ([`digit`], [`sample`])
//! Each digit 0–9 has two or three stroke templates (the stylistic variants MNIST has: 1 with or
//! without a flag, 4 open or closed, 7 with or without a bar or hook, 2 with or without a loop,
//! 8 in one stroke or as two loops…), each a few pen strokes made of line segments and quadratic
//! or cubic Bézier curves in a unit box (x to the right, y downwards, height 1). Per sample, from
//! the sample's own random stream, after the label draw (see [`digit`]), in this order:
//! 1. a template, by fixed weights (common styles more often);
//! 2. an affine map: anisotropic scale (width × `aspect` × 0.75–1.25), shear (`slant` ± 0.55,
//!    triangular; the top leans right for a positive slant), rotation (±15°, triangular), where
//!    `aspect` and `slant` are per-digit constants fitted so that each class's mean bounding-box
//!    width and mean moment slant `−μ11/μ02` match MNIST's test set;
//! 3. the pen: a width that is 1.5–3.5 px after the 20-px fit (uniform), and an edge softness
//!    (the blur) of 0.1–0.5 px;
//! 4. every control point moved by a Gaussian jitter (σ = 0.045 of the digit's height) before
//!    the affine map, and per stroke a pressure profile: the pen width along the stroke is
//!    multiplied by `1 + a·sin(2π(f·t + φ))`, `a` ≤ 0.25, `f` 0.5–1.5 cycles, `t` ∈ [0, 1];
//! 5. the strokes flattened into polylines (12 pieces per curve, 4 per line) and rasterised on a
//!    64×64 canvas (about 3× the final resolution: the ink's larger side spans 60 canvas pixels)
//!    as anti-aliased thick lines: a pixel's ink is `clamp((r − d)/soft + ½, 0, 1)` for its
//!    distance `d` to the nearest segment, of radius `r` interpolated along it;
//! 6. normalised by [`mnist_center`] (whose area averaging is the final anti-aliasing), with
//!    intensities in [0, 1]; the caller applies MNIST's mean/std normalisation. A draw that
//!    cannot be centred without clamping is redrawn, steps 1–6, from the continuing stream.
//!
//! Against the real MNIST files, `tests/tests/digits.rs` checks that the per-class mean ink
//! mass lies inside MNIST's 5th–95th percentiles, and that a nearest-class-mean classifier
//! built from MNIST's training images labels the generated digits (≈ 86 %) about as well as
//! MNIST's own test images (82 %). The per-class mean width and slant were fitted to MNIST's
//! test set when the templates were made.
//!
//! Stack use: about 24 KB (the 64×64 `f32` canvas, the flattened strokes, the 20×20 box).
//!
//! # Determinism contract
//! Digit `index` of `seed` draws only from `seed::substream(seed, StreamId::Synthetic, index)`, so
//! it does not depend on how many other digits were generated, or in which order. All float math
//! is IEEE basic operations and `libm`, in a fixed order, so x86-64, wasm32 and thumbv7em produce
//! the same bits. The templates, their weights, the ranges above, the canvas size and the order
//! of the draws are all part of the output: changing any of them changes every generated digit,
//! a value-breaking change to record under "Reproducibility-breaking changes" in the changelog.
//!
//! ```
//! use mpcdiff_kernel::digits;
//!
//! let mut img = [0.0f32; 784];
//! let label = digits::sample(42, 7, &mut img)?;
//! let mut again = [0.0f32; 784];
//! digits::digit(42, 7, label, &mut again)?; // the same draws, so the same image
//! assert_eq!(img, again);
//! assert!(img.iter().all(|&v| (0.0..=1.0).contains(&v)));
//! # Ok::<(), mpcdiff_kernel::Error>(())
//! ```

use crate::error::{Error, Result};
use crate::seed::{self, StreamId};
use rand_core::RngCore;

/// Side of an MNIST image, in pixels.
pub const SIDE: usize = 28;
/// Pixels in an MNIST image (28 × 28).
pub const PIXELS: usize = SIDE * SIDE;
/// Side of the box the larger side of the ink is scaled to, in pixels.
pub const BOX: usize = 20;

/// Standard deviation of the per-control-point jitter, as a fraction of the digit's height.
const JITTER: f64 = 0.045;

/// Side of the square canvas the strokes are rasterised on before [`mnist_center`].
const CANVAS: usize = 64;
/// Canvas pixels the ink's larger side spans (a 2-pixel margin on each side).
const INK_SPAN: f64 = CANVAS as f64 - 4.0;
/// Pieces a Bézier curve is flattened into.
const CURVE_PIECES: usize = 12;
/// Pieces a line segment is split into (so the pen width can vary along it).
const LINE_PIECES: usize = 4;
/// Capacity of the flattened polyline, checked against every template at compile time.
const MAX_POINTS: usize = 160;

// ---------------------------------------------------------------------------------------------
// MNIST normalisation
// ---------------------------------------------------------------------------------------------

/// Size-normalises and centres a drawing the way MNIST's digits were (see the module doc): crop
/// to the ink, scale with area averaging so the larger side is 20 px, then translate by whole
/// pixels so the centre of mass is within half a pixel of MNIST's centre, `(14, 14)` in
/// pixel-index coordinates (`Σ v·col / Σ v`, `Σ v·row / Σ v`).
///
/// `src` is `h` rows of `w` intensities, row-major, 0 = background, 1 = full ink; values are
/// clamped to [0, 1] first. `out` receives intensities in [0, 1]. Contrast is not stretched: a
/// drawing whose strokes are thinner than about one twentieth of its larger side comes out
/// faint, as it would have in MNIST.
///
/// # Errors
/// * [`Error::InvalidShape`] if `w` or `h` is zero, or `w · h` overflows;
/// * [`Error::ShapeMismatch`] if `src.len() != w · h`;
/// * [`Error::NonFinite`] at the first NaN or infinite value;
/// * [`Error::Malformed`] if no pixel has ink (an empty drawing).
pub fn mnist_center(src: &[f32], w: usize, h: usize, out: &mut [f32; PIXELS]) -> Result<()> {
    center(src, w, h, out).map(|_clamped| ())
}

/// [`mnist_center`], also telling whether the centring shift had to be clamped to keep the ink
/// inside the field (the centre of mass is then more than half a pixel from MNIST's centre).
fn center(src: &[f32], w: usize, h: usize, out: &mut [f32; PIXELS]) -> Result<bool> {
    if w == 0 || h == 0 {
        return Err(Error::InvalidShape {
            what: "drawing width and height must be positive",
        });
    }
    let n = w.checked_mul(h).ok_or(Error::InvalidShape {
        what: "drawing size overflows",
    })?;
    if src.len() != n {
        return Err(Error::ShapeMismatch {
            expected: n,
            got: src.len(),
        });
    }
    if let Some(index) = src.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite { index });
    }

    // 1. The ink's bounding box.
    let (mut x0, mut x1, mut y0, mut y1) = (usize::MAX, 0usize, usize::MAX, 0usize);
    for (i, &v) in src.iter().enumerate() {
        if v > 0.0 {
            let (x, y) = (i % w, i / w);
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
    }
    if x0 == usize::MAX {
        return Err(Error::Malformed {
            what: "empty drawing: no pixel has ink",
        });
    }
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);

    // 2. Area-averaged resampling into the top-left of a 20×20 box. Output pixel u covers the
    //    source interval [u·k, (u+1)·k) (relative to the box's corner), k = side / 20 source
    //    pixels per output pixel; its value is the overlap-weighted mean of the source pixels.
    let side = bw.max(bh) as f64;
    let k = side / BOX as f64;
    let mut boxed = [0.0f32; BOX * BOX];
    let mut mass = 0.0f64;
    let (mut mx, mut my) = (0.0f64, 0.0f64);
    for v in 0..BOX {
        let (sy0, sy1) = (v as f64 * k, (v + 1) as f64 * k);
        let (jy0, jy1) = (floor_index(sy0), ceil_index(sy1, bh));
        for u in 0..BOX {
            let (sx0, sx1) = (u as f64 * k, (u + 1) as f64 * k);
            let (ix0, ix1) = (floor_index(sx0), ceil_index(sx1, bw));
            let mut acc = 0.0f64;
            for j in jy0..jy1 {
                let oy = overlap(sy0, sy1, j);
                let row = (y0 + j) * w + x0;
                for i in ix0..ix1 {
                    let s = clamp01(src[row + i] as f64);
                    if s > 0.0 {
                        acc += overlap(sx0, sx1, i) * oy * s;
                    }
                }
            }
            let val = clamp01(acc / (k * k)) as f32;
            boxed[v * BOX + u] = val;
            let val = val as f64;
            mass += val;
            mx += val * u as f64;
            my += val * v as f64;
        }
    }

    // 3. Whole-pixel translation of the centre of mass into [13.5, 14.5) in pixel-index
    //    coordinates, i.e. to within half a pixel of (14, 14) where MNIST put it (module doc),
    //    clamped so that no ink leaves the field.
    let (cols, rows) = ink_extent(&boxed);
    let centre = (SIDE / 2) as f64;
    let mut clamped = false;
    let mut shift = |com: f64, (first, last): (usize, usize)| -> usize {
        let lo = -(first as f64);
        let hi = (SIDE - 1 - last) as f64;
        // com + s ∈ [centre − ½, centre + ½).
        let s = libm::ceil(centre - 0.5 - com);
        let s = if s < lo {
            clamped = true;
            lo
        } else if s > hi {
            clamped = true;
            hi
        } else {
            s
        };
        // Offsets are applied as "box index + s", with s ≥ −first ≥ −19; keep them unsigned by
        // adding BOX now and subtracting it at placement.
        (s + BOX as f64) as usize
    };
    // mass > 0: the box holds the resampled ink of a non-empty bounding box.
    let (dx, dy) = if mass > 0.0 {
        (shift(mx / mass, cols), shift(my / mass, rows))
    } else {
        return Err(Error::Malformed {
            what: "empty drawing: no pixel has ink",
        });
    };
    out.fill(0.0);
    for v in rows.0..=rows.1 {
        for u in cols.0..=cols.1 {
            let (x, y) = (u + dx - BOX, v + dy - BOX);
            out[y * SIDE + x] = boxed[v * BOX + u];
        }
    }
    Ok(clamped)
}

/// Length of the overlap of `[a, b)` with the unit interval `[i, i + 1)`.
fn overlap(a: f64, b: f64, i: usize) -> f64 {
    let lo = if a > i as f64 { a } else { i as f64 };
    let hi = if b < (i + 1) as f64 {
        b
    } else {
        (i + 1) as f64
    };
    if hi > lo {
        hi - lo
    } else {
        0.0
    }
}

/// `floor(a)` as an index (`a ≥ 0`).
fn floor_index(a: f64) -> usize {
    libm::floor(a) as usize
}

/// `ceil(b)` as an exclusive index bound, at most `n`.
fn ceil_index(b: f64, n: usize) -> usize {
    (libm::ceil(b) as usize).min(n)
}

fn clamp01(v: f64) -> f64 {
    if v > 1.0 {
        1.0
    } else if v > 0.0 {
        v
    } else {
        0.0
    }
}

/// First and last columns, then first and last rows, of the non-zero pixels of the 20×20 box
/// (the box is non-empty).
fn ink_extent(boxed: &[f32; BOX * BOX]) -> ((usize, usize), (usize, usize)) {
    let (mut c0, mut c1, mut r0, mut r1) = (BOX - 1, 0, BOX - 1, 0);
    for (i, &v) in boxed.iter().enumerate() {
        if v > 0.0 {
            let (u, v) = (i % BOX, i / BOX);
            c0 = c0.min(u);
            c1 = c1.max(u);
            r0 = r0.min(v);
            r1 = r1.max(v);
        }
    }
    if c0 > c1 {
        // No non-zero pixel (cannot happen with positive mass); an empty range.
        return ((0, 0), (0, 0));
    }
    ((c0, c1), (r0, r1))
}

// ---------------------------------------------------------------------------------------------
// Stroke templates
// ---------------------------------------------------------------------------------------------

/// A point of a template, in the unit box (x right, y down).
type P = (f64, f64);

/// One step of a pen path. `Move` lifts the pen and starts a new stroke; the others continue the
/// current stroke from its last point.
#[derive(Clone, Copy)]
enum Op {
    Move(P),
    Line(P),
    Quad(P, P),
    Cubic(P, P, P),
}

use Op::{Cubic, Line, Move, Quad};

/// A stylistic variant: its relative weight and its pen path.
type Variant = (u32, &'static [Op]);

const ZERO: &[Variant] = &[
    // Oval drawn counter-clockwise from the top, closing with a small overlap.
    (
        3,
        &[
            Move((0.50, 0.02)),
            Cubic((0.24, 0.0), (0.08, 0.26), (0.08, 0.52)),
            Cubic((0.08, 0.80), (0.26, 1.0), (0.45, 1.0)),
            Cubic((0.68, 1.0), (0.82, 0.76), (0.82, 0.48)),
            Cubic((0.82, 0.20), (0.66, 0.0), (0.44, 0.03)),
        ],
    ),
    // Narrower egg, pointed top, ends before closing.
    (
        2,
        &[
            Move((0.48, 0.0)),
            Cubic((0.22, 0.08), (0.12, 0.34), (0.12, 0.58)),
            Cubic((0.12, 0.84), (0.28, 1.0), (0.46, 1.0)),
            Cubic((0.66, 1.0), (0.76, 0.78), (0.74, 0.52)),
            Cubic((0.72, 0.24), (0.62, 0.02), (0.46, 0.0)),
        ],
    ),
];

const ONE: &[Variant] = &[
    // A plain stroke, slightly bowed.
    (8, &[Move((0.5, 0.0)), Quad((0.5, 0.5), (0.5, 1.0))]),
    // With a flag at the top.
    (
        2,
        &[
            Move((0.3, 0.18)),
            Line((0.52, 0.0)),
            Quad((0.51, 0.5), (0.5, 1.0)),
        ],
    ),
    // Flag and base.
    (
        1,
        &[
            Move((0.3, 0.18)),
            Line((0.52, 0.0)),
            Quad((0.51, 0.5), (0.5, 1.0)),
            Move((0.25, 1.0)),
            Line((0.75, 1.0)),
        ],
    ),
];

const TWO: &[Variant] = &[
    // Arc, diagonal, base.
    (
        3,
        &[
            Move((0.10, 0.25)),
            Cubic((0.15, -0.02), (0.75, -0.08), (0.78, 0.25)),
            Cubic((0.80, 0.50), (0.35, 0.75), (0.08, 0.98)),
            Line((0.86, 0.95)),
        ],
    ),
    // With a loop at the bottom left.
    (
        3,
        &[
            Move((0.10, 0.25)),
            Cubic((0.15, -0.02), (0.75, -0.08), (0.78, 0.25)),
            Cubic((0.80, 0.48), (0.40, 0.70), (0.22, 0.88)),
            Cubic((0.10, 1.0), (0.22, 1.04), (0.34, 0.92)),
            Cubic((0.42, 0.84), (0.30, 0.78), (0.24, 0.86)),
            Cubic((0.20, 0.94), (0.40, 0.98), (0.86, 0.94)),
        ],
    ),
];

const THREE: &[Variant] = &[
    // Two bumps.
    (
        4,
        &[
            Move((0.12, 0.15)),
            Cubic((0.30, -0.05), (0.78, -0.03), (0.75, 0.22)),
            Cubic((0.72, 0.42), (0.45, 0.47), (0.35, 0.47)),
            Cubic((0.75, 0.45), (0.88, 0.68), (0.75, 0.88)),
            Cubic((0.60, 1.03), (0.25, 1.02), (0.08, 0.85)),
        ],
    ),
    // Flat top.
    (
        1,
        &[
            Move((0.12, 0.02)),
            Line((0.78, 0.02)),
            Line((0.40, 0.42)),
            Cubic((0.80, 0.40), (0.88, 0.70), (0.75, 0.88)),
            Cubic((0.60, 1.03), (0.25, 1.02), (0.08, 0.85)),
        ],
    ),
];

const FOUR: &[Variant] = &[
    // Open top.
    (
        3,
        &[
            Move((0.20, 0.0)),
            Line((0.08, 0.60)),
            Line((0.85, 0.58)),
            Move((0.66, 0.02)),
            Line((0.63, 1.0)),
        ],
    ),
    // Closed (a triangle).
    (
        1,
        &[
            Move((0.62, 0.0)),
            Line((0.05, 0.68)),
            Line((0.90, 0.66)),
            Move((0.62, 0.0)),
            Line((0.62, 1.0)),
        ],
    ),
];

const FIVE: &[Variant] = &[
    // Stem and belly, then the bar as a second stroke.
    (
        3,
        &[
            Move((0.22, 0.02)),
            Line((0.15, 0.50)),
            Cubic((0.35, 0.40), (0.85, 0.44), (0.82, 0.72)),
            Cubic((0.80, 1.0), (0.35, 1.04), (0.12, 0.90)),
            Move((0.22, 0.02)),
            Line((0.75, 0.0)),
        ],
    ),
    // In one stroke, bar first.
    (
        2,
        &[
            Move((0.75, 0.0)),
            Line((0.22, 0.02)),
            Line((0.15, 0.50)),
            Cubic((0.35, 0.40), (0.85, 0.44), (0.82, 0.72)),
            Cubic((0.80, 1.0), (0.35, 1.04), (0.12, 0.90)),
        ],
    ),
];

const SIX: &[Variant] = &[
    // Curved stem into a bottom loop.
    (
        3,
        &[
            Move((0.62, 0.0)),
            Cubic((0.32, 0.14), (0.12, 0.45), (0.12, 0.72)),
            Cubic((0.14, 0.98), (0.70, 1.05), (0.75, 0.75)),
            Cubic((0.78, 0.50), (0.30, 0.45), (0.14, 0.68)),
        ],
    ),
    // Straighter stem.
    (
        1,
        &[
            Move((0.55, 0.0)),
            Quad((0.15, 0.35), (0.13, 0.72)),
            Cubic((0.14, 0.98), (0.70, 1.05), (0.72, 0.75)),
            Cubic((0.74, 0.50), (0.30, 0.48), (0.14, 0.70)),
        ],
    ),
];

const SEVEN: &[Variant] = &[
    // Bar and diagonal.
    (
        4,
        &[
            Move((0.08, 0.05)),
            Line((0.85, 0.03)),
            Quad((0.55, 0.45), (0.40, 1.0)),
        ],
    ),
    // With a crossbar.
    (
        1,
        &[
            Move((0.08, 0.05)),
            Line((0.85, 0.03)),
            Quad((0.55, 0.45), (0.40, 1.0)),
            Move((0.30, 0.50)),
            Line((0.75, 0.48)),
        ],
    ),
    // With a hook at the top left.
    (
        1,
        &[
            Move((0.08, 0.20)),
            Line((0.10, 0.05)),
            Line((0.85, 0.03)),
            Quad((0.55, 0.45), (0.40, 1.0)),
        ],
    ),
];

const EIGHT: &[Variant] = &[
    // One stroke from the top right, crossing in the middle.
    (
        3,
        &[
            Move((0.68, 0.12)),
            Cubic((0.58, -0.04), (0.24, -0.02), (0.26, 0.22)),
            Cubic((0.28, 0.40), (0.72, 0.50), (0.72, 0.75)),
            Cubic((0.72, 1.02), (0.22, 1.02), (0.24, 0.75)),
            Cubic((0.26, 0.50), (0.66, 0.42), (0.68, 0.22)),
            Quad((0.69, 0.12), (0.62, 0.05)),
        ],
    ),
    // Small top loop on a larger bottom loop, drawn from the crossing.
    (
        2,
        &[
            Move((0.50, 0.45)),
            Cubic((0.20, 0.32), (0.30, 0.0), (0.50, 0.0)),
            Cubic((0.72, 0.0), (0.72, 0.30), (0.50, 0.45)),
            Cubic((0.22, 0.62), (0.20, 1.0), (0.46, 1.0)),
            Cubic((0.72, 1.0), (0.76, 0.62), (0.50, 0.45)),
        ],
    ),
    // Two stacked loops.
    (
        1,
        &[
            Move((0.47, 0.0)),
            Cubic((0.35, 0.0), (0.27, 0.11), (0.27, 0.25)),
            Cubic((0.27, 0.39), (0.35, 0.50), (0.47, 0.50)),
            Cubic((0.59, 0.50), (0.67, 0.39), (0.67, 0.25)),
            Cubic((0.67, 0.11), (0.59, 0.0), (0.47, 0.0)),
            Move((0.47, 0.48)),
            Cubic((0.33, 0.48), (0.22, 0.60), (0.22, 0.74)),
            Cubic((0.22, 0.88), (0.33, 1.0), (0.47, 1.0)),
            Cubic((0.61, 1.0), (0.72, 0.88), (0.72, 0.74)),
            Cubic((0.72, 0.60), (0.61, 0.48), (0.47, 0.48)),
        ],
    ),
];

const NINE: &[Variant] = &[
    // Loop, then a straight stem.
    (
        3,
        &[
            Move((0.75, 0.18)),
            Cubic((0.60, -0.03), (0.15, 0.0), (0.17, 0.25)),
            Cubic((0.19, 0.48), (0.65, 0.48), (0.75, 0.22)),
            Quad((0.72, 0.60), (0.65, 1.0)),
        ],
    ),
    // Stem curling left at the bottom.
    (
        1,
        &[
            Move((0.75, 0.18)),
            Cubic((0.60, -0.03), (0.15, 0.0), (0.17, 0.25)),
            Cubic((0.19, 0.48), (0.65, 0.48), (0.75, 0.22)),
            Quad((0.76, 0.85), (0.45, 1.0)),
        ],
    ),
];

/// A digit: its stylistic variants, and the mean width factor and mean slant (shear) applied
/// to them, fitted so that the class's mean bounding-box width and mean moment slant
/// (`−μ11 / μ02`) match MNIST's test set.
struct Glyph {
    aspect: f64,
    slant: f64,
    variants: &'static [Variant],
}

impl Glyph {
    const fn new(variants: &'static [Variant], aspect: f64, slant: f64) -> Self {
        Glyph {
            aspect,
            slant,
            variants,
        }
    }
}

/// The digits, indexed by label: `(variants, aspect, slant)`.
const GLYPHS: [Glyph; 10] = [
    Glyph::new(ZERO, 1.17, 0.22),
    Glyph::new(ONE, 0.99, 0.23),
    Glyph::new(TWO, 1.04, 0.06),
    Glyph::new(THREE, 0.89, 0.03),
    Glyph::new(FOUR, 0.94, 0.20),
    Glyph::new(FIVE, 1.03, 0.30),
    Glyph::new(SIX, 1.01, -0.02),
    Glyph::new(SEVEN, 0.93, -0.04),
    Glyph::new(EIGHT, 1.20, 0.13),
    Glyph::new(NINE, 0.94, 0.23),
];

/// Polyline points a pen path flattens into.
const fn points_of(path: &[Op]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < path.len() {
        n += match path[i] {
            Move(_) => 1,
            Line(_) => LINE_PIECES,
            Quad(..) | Cubic(..) => CURVE_PIECES,
        };
        i += 1;
    }
    n
}

const fn max_points() -> usize {
    let mut m = 0;
    let mut d = 0;
    while d < GLYPHS.len() {
        let mut v = 0;
        while v < GLYPHS[d].variants.len() {
            let n = points_of(GLYPHS[d].variants[v].1);
            if n > m {
                m = n;
            }
            v += 1;
        }
        d += 1;
    }
    m
}

const _: () = assert!(max_points() <= MAX_POINTS, "a template exceeds MAX_POINTS");

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

/// Draws digit `index` of `seed` with the given `label` (0–9) into `out` (see the module doc for
/// the recipe and the determinism contract). `out` holds intensities in [0, 1].
///
/// The first draw of the sub-stream is the label [`sample`] would pick; `digit` draws it too and
/// ignores it, so `sample(seed, i)` and `digit(seed, i, label)` give the same image. The other
/// draws (variant, slant, pen width…) come in the same order for every label, so `digit` at one
/// index with different labels gives digits of one style, like one writer's; use distinct
/// indices for independent digits.
///
/// # Errors
/// [`Error::OutOfRange`] if `label > 9`.
pub fn digit(seed: u64, index: u64, label: u8, out: &mut [f32; PIXELS]) -> Result<()> {
    if label > 9 {
        return Err(Error::OutOfRange {
            what: "digit label must be 0..=9",
        });
    }
    let mut rng = seed::substream(seed, StreamId::Synthetic, index);
    let _ = seed::below(&mut rng, 10);
    draw(&mut rng, label, out)
}

/// Draws digit `index` of `seed` with a label drawn uniformly from 0–9 (the first draw of the
/// digit's sub-stream) and returns the label. Same image as [`digit`] with that label.
///
/// # Errors
/// None in practice; the `Result` is [`digit`]'s.
pub fn sample(seed: u64, index: u64, out: &mut [f32; PIXELS]) -> Result<u8> {
    let mut rng = seed::substream(seed, StreamId::Synthetic, index);
    let label = seed::below(&mut rng, 10) as u8;
    draw(&mut rng, label, out)?;
    Ok(label)
}

/// A uniform draw in `[lo, hi)`.
fn uniform(rng: &mut impl RngCore, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * seed::unit_f64(rng)
}

/// A triangular draw on `[-half, half]` with its mode at 0 (the mean of two uniforms).
fn triangular(rng: &mut impl RngCore, half: f64) -> f64 {
    let a = seed::unit_f64(rng);
    let b = seed::unit_f64(rng);
    (a + b - 1.0) * half
}

/// A flattened pen point: position (template units, then canvas pixels), the pen radius
/// (a pressure factor, then canvas pixels), and whether it starts a stroke.
#[derive(Clone, Copy, Default)]
struct Pt {
    x: f64,
    y: f64,
    radius: f64,
    starts: bool,
}

/// The per-sample linear map, applied about the centre of the template box.
struct Affine {
    a: f64,
    b: f64,
    c: f64,
    d: f64,
}

impl Affine {
    /// Draws the map: anisotropic scale, then shear (slant), then rotation.
    fn draw(rng: &mut impl RngCore, glyph: &Glyph) -> Self {
        let sx = glyph.aspect * uniform(rng, 0.75, 1.25);
        let shear = glyph.slant + triangular(rng, 0.55);
        let theta = triangular(rng, 15.0) * (core::f64::consts::PI / 180.0);
        let (sin, cos) = (libm::sin(theta), libm::cos(theta));
        // [[sx, −shear], [0, 1]]: x' = sx·x − shear·y, so the top (small y; y points down)
        // leans right for shear > 0. Then the rotation [[cos, −sin], [sin, cos]].
        let (m00, m01, m10, m11) = (sx, -shear, 0.0, 1.0);
        Affine {
            a: cos * m00 - sin * m10,
            b: cos * m01 - sin * m11,
            c: sin * m00 + cos * m10,
            d: sin * m01 + cos * m11,
        }
    }

    fn apply(&self, (x, y): P) -> P {
        let (x, y) = (x - 0.45, y - 0.5);
        (self.a * x + self.b * y, self.c * x + self.d * y)
    }
}

/// Stroke pressure: the pen width along a stroke is multiplied by
/// `1 + amp · sin(2π (freq · t + phase))`, `t` ∈ [0, 1] the fraction of the stroke's points.
#[derive(Clone, Copy)]
struct Pressure {
    amp: f64,
    freq: f64,
    phase: f64,
}

/// Largest pressure factor, `1 + max amp`: the fit to the canvas leaves room for it.
const PRESSURE_MAX: f64 = 1.25;

impl Pressure {
    fn draw(rng: &mut impl RngCore) -> Self {
        Pressure {
            amp: uniform(rng, 0.0, PRESSURE_MAX - 1.0),
            freq: uniform(rng, 0.5, 1.5),
            phase: seed::unit_f64(rng),
        }
    }

    /// Sets the pressure factor of each point of one stroke.
    fn apply(&self, stroke: &mut [Pt]) {
        let span = stroke.len().saturating_sub(1).max(1) as f64;
        for (k, pt) in stroke.iter_mut().enumerate() {
            let t = k as f64 / span;
            let angle = core::f64::consts::TAU * (self.freq * t + self.phase);
            pt.radius = 1.0 + self.amp * libm::sin(angle);
        }
    }
}

/// Attempts at a digit that MNIST's centring can place (see [`draw`]).
const ATTEMPTS: usize = 8;

/// Renders and normalises digit `label`. A draw whose centre of mass cannot be placed MNIST's
/// way without pushing ink off the field (a tall digit with most of its mass at one end: in
/// 10 000 samples, 14 of about 1 000 7s and no other digit) is redrawn from the continuing
/// stream. MNIST has no such digits (its top-heavy 7s are wide ones), so every generated digit
/// keeps MNIST's geometry.
fn draw(rng: &mut impl RngCore, label: u8, out: &mut [f32; PIXELS]) -> Result<()> {
    let mut canvas = [0.0f32; CANVAS * CANVAS];
    for _ in 0..ATTEMPTS {
        render(rng, label, &mut canvas);
        // 6. MNIST normalisation.
        if !center(&canvas, CANVAS, CANVAS, out)? {
            return Ok(());
        }
    }
    // Eight clamped draws in a row (probability below 1e-14): keep the last.
    Ok(())
}

/// Steps 1–5 of the recipe: the digit `label` (0–9) as strokes on the canvas.
fn render(rng: &mut impl RngCore, label: u8, canvas: &mut [f32; CANVAS * CANVAS]) {
    let glyph = &GLYPHS[usize::from(label) % GLYPHS.len()];
    // 1. Template.
    let path = pick_variant(rng, glyph.variants);
    // 2. Affine map.
    let affine = Affine::draw(rng, glyph);
    // 3. Pen width after the 20-px fit, and edge softness (the blur), in final pixels.
    let width_px = uniform(rng, 1.5, 3.5);
    let soft_px = uniform(rng, 0.1, 0.5);
    // 4. Jittered, mapped, flattened strokes with their pressure.
    let mut pts = [Pt::default(); MAX_POINTS];
    let n = flatten(rng, path, &affine, &mut pts);
    let pts = &mut pts[..n];
    // 5. Fit to the canvas and rasterise.
    let soft = fit_to_canvas(pts, width_px, soft_px);
    canvas.fill(0.0);
    for k in 1..pts.len() {
        if !pts[k].starts {
            segment(canvas, pts[k - 1], pts[k], soft);
        }
    }
}

/// Picks a variant with probability proportional to its weight.
fn pick_variant(rng: &mut impl RngCore, variants: &'static [Variant]) -> &'static [Op] {
    let total: u32 = variants.iter().map(|v| v.0).sum();
    let mut pick = seed::below(rng, u64::from(total)) as u32;
    for &(weight, path) in variants {
        if pick < weight {
            return path;
        }
        pick -= weight;
    }
    variants[0].1
}

/// Jitters each control point of `path` (in path order), maps it by `affine`, flattens the
/// curves into `pts` and gives each stroke its pressure (drawn at the stroke's `Move`). Returns
/// the number of points.
fn flatten(
    rng: &mut impl RngCore,
    path: &[Op],
    affine: &Affine,
    pts: &mut [Pt; MAX_POINTS],
) -> usize {
    let mut n = 0usize;
    let mut cur: P = (0.0, 0.0);
    let mut stroke: Option<(usize, Pressure)> = None;
    let jitter = |rng: &mut _, (x, y): P| -> P {
        let jx = seed::normal(rng) * JITTER;
        let jy = seed::normal(rng) * JITTER;
        affine.apply((x + jx, y + jy))
    };
    for op in path {
        match *op {
            Move(p) => {
                if let Some((start, pressure)) = stroke {
                    pressure.apply(&mut pts[start..n]);
                }
                cur = jitter(rng, p);
                stroke = Some((n, Pressure::draw(rng)));
                push(pts, &mut n, cur, true);
            }
            Line(p) => {
                let q = jitter(rng, p);
                for s in 1..=LINE_PIECES {
                    let t = s as f64 / LINE_PIECES as f64;
                    let pt = (cur.0 + (q.0 - cur.0) * t, cur.1 + (q.1 - cur.1) * t);
                    push(pts, &mut n, pt, false);
                }
                cur = q;
            }
            Quad(c, p) => {
                let c = jitter(rng, c);
                let q = jitter(rng, p);
                for s in 1..=CURVE_PIECES {
                    let t = s as f64 / CURVE_PIECES as f64;
                    let u = 1.0 - t;
                    let (w0, w1, w2) = (u * u, 2.0 * u * t, t * t);
                    let pt = (
                        w0 * cur.0 + w1 * c.0 + w2 * q.0,
                        w0 * cur.1 + w1 * c.1 + w2 * q.1,
                    );
                    push(pts, &mut n, pt, false);
                }
                cur = q;
            }
            Cubic(c1, c2, p) => {
                let c1 = jitter(rng, c1);
                let c2 = jitter(rng, c2);
                let q = jitter(rng, p);
                for s in 1..=CURVE_PIECES {
                    let t = s as f64 / CURVE_PIECES as f64;
                    let u = 1.0 - t;
                    let (w0, w1) = (u * u * u, 3.0 * u * u * t);
                    let (w2, w3) = (3.0 * u * t * t, t * t * t);
                    let pt = (
                        w0 * cur.0 + w1 * c1.0 + w2 * c2.0 + w3 * q.0,
                        w0 * cur.1 + w1 * c1.1 + w2 * c2.1 + w3 * q.1,
                    );
                    push(pts, &mut n, pt, false);
                }
                cur = q;
            }
        }
    }
    if let Some((start, pressure)) = stroke {
        pressure.apply(&mut pts[start..n]);
    }
    n
}

fn push(pts: &mut [Pt; MAX_POINTS], n: &mut usize, (x, y): P, starts: bool) {
    // The compile-time check on the templates guarantees room.
    if *n < MAX_POINTS {
        pts[*n] = Pt {
            x,
            y,
            radius: 1.0,
            starts,
        };
        *n += 1;
    }
}

/// Maps the points onto the canvas so that the ink's larger side (centre line plus pen) spans
/// at most `INK_SPAN` canvas pixels, centred, and turns pressure factors into radii. Since
/// [`mnist_center`] maps that side to 20 px, one final pixel is `INK_SPAN / 20` canvas pixels,
/// which converts the pen width and softness. Returns the softness in canvas pixels.
fn fit_to_canvas(pts: &mut [Pt], width_px: f64, soft_px: f64) -> f64 {
    let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in pts.iter() {
        x0 = if p.x < x0 { p.x } else { x0 };
        x1 = if p.x > x1 { p.x } else { x1 };
        y0 = if p.y < y0 { p.y } else { y0 };
        y1 = if p.y > y1 { p.y } else { y1 };
    }
    let per_px = INK_SPAN / BOX as f64;
    let radius = 0.5 * width_px * per_px;
    let soft = soft_px * per_px;
    // How far ink reaches beyond the centre line, at most.
    let reach = radius * PRESSURE_MAX + 0.5 * soft;
    let span = if x1 - x0 > y1 - y0 { x1 - x0 } else { y1 - y0 };
    let span = if span > 1e-6 { span } else { 1e-6 };
    let scale = (INK_SPAN - 2.0 * reach) / span;
    let half = CANVAS as f64 / 2.0;
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    for p in pts.iter_mut() {
        p.x = half + (p.x - cx) * scale;
        p.y = half + (p.y - cy) * scale;
        p.radius *= radius;
    }
    soft
}

/// Paints the thick segment from `a` to `b` (radii `a.radius`, `b.radius`, interpolated) with
/// an anti-aliased edge of width `soft`, keeping the maximum with what is already on the canvas.
fn segment(canvas: &mut [f32; CANVAS * CANVAS], a: Pt, b: Pt, soft: f64) {
    let r = if a.radius > b.radius {
        a.radius
    } else {
        b.radius
    };
    let reach = r + 0.5 * soft;
    let lo = |v: f64| -> usize { clamp_index(libm::floor(v - reach)) };
    let hi = |v: f64| -> usize { clamp_index(libm::ceil(v + reach)) };
    let (xa, xb) = if a.x < b.x { (a.x, b.x) } else { (b.x, a.x) };
    let (ya, yb) = if a.y < b.y { (a.y, b.y) } else { (b.y, a.y) };
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let len2 = dx * dx + dy * dy;
    for py in lo(ya)..hi(yb) {
        for px in lo(xa)..hi(xb) {
            let (qx, qy) = (px as f64 + 0.5 - a.x, py as f64 + 0.5 - a.y);
            let t = if len2 > 0.0 {
                ((qx * dx + qy * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let (ex, ey) = (qx - t * dx, qy - t * dy);
            let d = libm::sqrt(ex * ex + ey * ey);
            let radius = a.radius + (b.radius - a.radius) * t;
            let cov = clamp01((radius - d) / soft + 0.5) as f32;
            let cell = &mut canvas[py * CANVAS + px];
            if cov > *cell {
                *cell = cov;
            }
        }
    }
}

/// A canvas coordinate (already floored or ceiled) as an index bound in `0..=CANVAS`.
fn clamp_index(v: f64) -> usize {
    if v < 0.0 {
        0
    } else if v > CANVAS as f64 {
        CANVAS
    } else {
        v as usize
    }
}

#[cfg(test)]
mod tests {
    //! Internal invariants; the behavioural tests (determinism, MNIST statistics, the
    //! nearest-class-mean check) are in `tests/tests/digits.rs`.

    use super::*;

    /// Every variant of every digit fits the canvas with its margin: the ink never touches the
    /// border, so nothing is clipped before `mnist_center`.
    #[test]
    fn ink_stays_inside_the_canvas() {
        let mut canvas = [0.0f32; CANVAS * CANVAS];
        for label in 0..10u8 {
            for index in 0..60u64 {
                let mut rng = seed::substream(3, StreamId::Synthetic, index);
                render(&mut rng, label, &mut canvas);
                for k in 0..CANVAS {
                    for (x, y) in [(k, 0), (k, CANVAS - 1), (0, k), (CANVAS - 1, k)] {
                        assert_eq!(canvas[y * CANVAS + x], 0.0, "label {label} index {index}");
                    }
                }
                assert!(canvas.contains(&1.0), "label {label} index {index}");
            }
        }
    }

    /// Every variant is reachable: with weights w, index draws land on each of them.
    #[test]
    fn every_variant_is_picked() {
        for glyph in &GLYPHS {
            let mut seen = [false; 4];
            for index in 0..400u64 {
                let mut rng = seed::substream(9, StreamId::Synthetic, index);
                let path = pick_variant(&mut rng, glyph.variants);
                let k = glyph
                    .variants
                    .iter()
                    .position(|v| core::ptr::eq(v.1, path))
                    .unwrap();
                seen[k] = true;
            }
            assert!(seen[..glyph.variants.len()].iter().all(|&s| s));
        }
    }

    #[test]
    fn labels_above_nine_are_rejected() {
        let mut out = [0.0f32; PIXELS];
        assert!(matches!(
            digit(1, 0, 10, &mut out),
            Err(Error::OutOfRange { .. })
        ));
        assert!(digit(1, 0, 9, &mut out).is_ok());
    }
}
