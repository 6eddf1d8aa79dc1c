//! MNIST's size normalisation and centring ([`mnist_center`]): the framing of a drawing (a
//! user's, or a synthetic digit's canvas) in MNIST's 28×28 field.
//!
//! # MNIST's normalisation
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

use super::{clamp01, PIXELS, SIDE};
use crate::error::{Error, Result};

/// Side of the box the larger side of the ink is scaled to, in pixels.
pub const BOX: usize = 20;

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

/// The width and height, in source pixels, of the ink's bounding box in a drawing of `w × h`
/// intensities (pixels > 0): what [`mnist_center`] scales to 20 pixels. A drawing whose ink
/// spans a small part of its canvas (a dot) is magnified into a blob no digit resembles.
///
/// # Errors
/// As [`mnist_center`]: [`Error::InvalidShape`], [`Error::ShapeMismatch`],
/// [`Error::Malformed`] for an empty drawing (NaN counts as no ink here).
pub fn ink_size(src: &[f32], w: usize, h: usize) -> Result<(usize, usize)> {
    check_canvas(src, w, h)?;
    let (x0, y0, x1, y1) = ink_box(src, w)?;
    Ok((x1 - x0 + 1, y1 - y0 + 1))
}

/// Checks that `src` is a `w × h` canvas (both positive).
fn check_canvas(src: &[f32], w: usize, h: usize) -> Result<()> {
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
    Ok(())
}

/// The inclusive bounding box `(x0, y0, x1, y1)` of the pixels of a `w`-wide canvas with ink
/// (value above 0; NaN is no ink).
fn ink_box(src: &[f32], w: usize) -> Result<(usize, usize, usize, usize)> {
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
    Ok((x0, y0, x1, y1))
}

/// [`mnist_center`], also telling whether the centring shift had to be clamped to keep the ink
/// inside the field (the centre of mass is then more than half a pixel from MNIST's centre).
pub(super) fn center(src: &[f32], w: usize, h: usize, out: &mut [f32; PIXELS]) -> Result<bool> {
    check_canvas(src, w, h)?;
    if let Some(index) = src.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite { index });
    }

    // 1. The ink's bounding box.
    let (x0, y0, x1, y1) = ink_box(src, w)?;
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

#[cfg(test)]
mod tests {
    //! `mnist_center` on hand-made drawings: exact results where the arithmetic is exact, ink
    //! conserved by the area averaging, and every error case.

    // The expected ink, (20 / side)², is computed on the host and compared with a tolerance, so
    // std's f64 math is fine here.
    #![allow(clippy::disallowed_methods)]

    use crate::digits::framing;
    use crate::digits::measure::{bbox, centre_of_mass, ink};
    use crate::digits::{PIXELS, SIDE};
    use crate::Error;

    /// The seed of every test here (a failing test names the index too).
    const SEED: u64 = 0x5EED_D161;

    /// A 40×20 filled rectangle off-centre in a 100×60 canvas becomes an exact 20×10 block of ones
    /// (scale 1/2, every output pixel averages four full source pixels), with its centre of mass,
    /// (9.5, 4.5) in the box, moved by whole pixels to (13.5, 13.5): columns 4–23, rows 9–18.
    #[test]
    fn mnist_center_of_an_off_centre_rectangle() {
        let (w, h) = (100, 60);
        let mut src = vec![0.0f32; w * h];
        for y in 5..25 {
            for x in 10..50 {
                src[y * w + x] = 1.0;
            }
        }
        let mut out = [0.5f32; PIXELS];
        framing::mnist_center(&src, w, h, &mut out).unwrap();
        for row in 0..SIDE {
            for col in 0..SIDE {
                let inside = (4..24).contains(&col) && (9..19).contains(&row);
                let expected = if inside { 1.0 } else { 0.0 };
                assert_eq!(out[row * SIDE + col], expected, "row {row} col {col}");
            }
        }
        assert_eq!(bbox(&out), (4, 23, 9, 18));
        let (x, y) = centre_of_mass(&out);
        assert!(
            (x - 13.5).abs() < 1e-9 && (y - 13.5).abs() < 1e-9,
            "({x}, {y})"
        );
    }

    /// The larger side always becomes 20 px, whatever the drawing's size, and a stroke thinner than
    /// an output pixel comes out proportionally faint: a 1-px line 50 px tall (scale 0.4) is one
    /// column of 0.4.
    #[test]
    fn mnist_center_scales_the_larger_side_to_20() {
        let (w, h) = (30, 80);
        let mut src = vec![0.0f32; w * h];
        for y in 20..70 {
            src[y * w + 7] = 1.0;
        }
        let mut out = [0.0f32; PIXELS];
        framing::mnist_center(&src, w, h, &mut out).unwrap();
        let (c0, c1, r0, r1) = bbox(&out);
        assert_eq!((c1 - c0 + 1, r1 - r0 + 1), (1, 20));
        for row in r0..=r1 {
            assert!((out[row * SIDE + c0] - 0.4).abs() < 1e-6);
        }
        // A 3×2 blob is scaled up (× 20/3): area averaging of an upscale is a nearest-neighbour
        // block picture, 20 × 13.3 px.
        let mut small = vec![0.0f32; 4 * 4];
        for y in 1..3 {
            for x in 0..3 {
                small[y * 4 + x] = 1.0;
            }
        }
        framing::mnist_center(&small, 4, 4, &mut out).unwrap();
        let (c0, c1, r0, r1) = bbox(&out);
        assert_eq!((c1 - c0 + 1, r1 - r0 + 1), (20, 14));
    }

    /// Area averaging conserves ink: the output's sum is the source's sum times (20 / side)², for
    /// random grey drawings (seeded) of random sizes. Also: values clamp to [0, 1] first, and the
    /// result never leaves [0, 1].
    #[test]
    fn mnist_center_conserves_ink() {
        let mut rng = crate::testing::rng(SEED);
        for case in 0..50 {
            let w = crate::testing::usize_in(&mut rng, 5, 120);
            let h = crate::testing::usize_in(&mut rng, 5, 120);
            let mut src = vec![0.0f32; w * h];
            // Random grey values (half of them zero) in a random lower-right part of the canvas.
            let x0 = crate::testing::usize_in(&mut rng, 0, w / 2);
            let y0 = crate::testing::usize_in(&mut rng, 0, h / 2);
            for y in y0..h {
                for x in x0..w {
                    let u = crate::seed::unit_f64(&mut rng) as f32;
                    src[y * w + x] = if u < 0.5 { 0.0 } else { 2.0 * u - 1.0 };
                }
            }
            src[y0 * w + x0] = 1.0;
            let (mut bx0, mut bx1, mut by0, mut by1) = (usize::MAX, 0, usize::MAX, 0);
            for (i, &v) in src.iter().enumerate() {
                if v > 0.0 {
                    bx0 = bx0.min(i % w);
                    bx1 = bx1.max(i % w);
                    by0 = by0.min(i / w);
                    by1 = by1.max(i / w);
                }
            }
            let side = (bx1 - bx0 + 1).max(by1 - by0 + 1) as f64;
            let mut out = [0.0f32; PIXELS];
            framing::mnist_center(&src, w, h, &mut out).unwrap();
            let expected = src.iter().map(|&v| f64::from(v)).sum::<f64>() * (20.0 / side).powi(2);
            let got = ink(&out);
            assert!(
                (got - expected).abs() <= 1e-5 * expected,
                "case {case} ({w}×{h}): ink {got} vs {expected}"
            );
            assert!(out.iter().all(|v| (0.0..=1.0).contains(v)), "case {case}");
        }
    }

    /// Goal: `ink_size` is the ink's bounding box (what a dot's warning is based on), with
    /// `mnist_center`'s errors.
    #[test]
    fn ink_size_is_the_bounding_box() {
        let mut src = [0.0f32; 100 * 60];
        src[10 * 100 + 30] = 0.5;
        assert_eq!(framing::ink_size(&src, 100, 60), Ok((1, 1)));
        src[25 * 100 + 69] = 1.0;
        assert_eq!(framing::ink_size(&src, 100, 60), Ok((40, 16)));
        assert!(matches!(
            framing::ink_size(&[0.0; 4], 2, 2),
            Err(Error::Malformed { .. })
        ));
        assert!(matches!(
            framing::ink_size(&[0.0; 3], 2, 2),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            framing::ink_size(&[], 0, 2),
            Err(Error::InvalidShape { .. })
        ));
    }

    #[test]
    fn mnist_center_errors() {
        let mut out = [0.0f32; PIXELS];
        // Empty (all zero, or only negative values): no ink.
        let empty = vec![0.0f32; 100 * 60];
        assert!(matches!(
            framing::mnist_center(&empty, 100, 60, &mut out),
            Err(Error::Malformed { .. })
        ));
        let negative = vec![-1.0f32; 12];
        assert!(matches!(
            framing::mnist_center(&negative, 4, 3, &mut out),
            Err(Error::Malformed { .. })
        ));
        // Buffer sizes that disagree with the shape.
        assert_eq!(
            framing::mnist_center(&empty, 100, 61, &mut out),
            Err(Error::ShapeMismatch {
                expected: 6100,
                got: 6000
            })
        );
        assert_eq!(
            framing::mnist_center(&empty[..10], 100, 60, &mut out),
            Err(Error::ShapeMismatch {
                expected: 6000,
                got: 10
            })
        );
        assert!(matches!(
            framing::mnist_center(&[], 0, 5, &mut out),
            Err(Error::InvalidShape { .. })
        ));
        assert!(matches!(
            framing::mnist_center(&[1.0], usize::MAX, 2, &mut out),
            Err(Error::InvalidShape { .. })
        ));
        // Non-finite values, by position.
        let mut nan = vec![0.5f32; 20];
        nan[13] = f32::NAN;
        assert_eq!(
            framing::mnist_center(&nan, 5, 4, &mut out),
            Err(Error::NonFinite { index: 13 })
        );
        nan[13] = f32::INFINITY;
        assert_eq!(
            framing::mnist_center(&nan, 5, 4, &mut out),
            Err(Error::NonFinite { index: 13 })
        );
    }
}
