//! The canvas a synthetic digit is drawn on, and the anti-aliased thick strokes painted on it
//! (step 5 of the recipe in [`synthetic`](super::synthetic)).
//!
//! The canvas is 64×64, about 3× the final resolution, so that
//! [`mnist_center`](super::framing::mnist_center)'s area averaging is the final anti-aliasing. A
//! pixel's ink is `clamp((r − d)/soft + ½, 0, 1)` for its distance `d` to the nearest segment of
//! the flattened strokes, of pen radius `r` interpolated along it.

use super::clamp01;
use super::framing::BOX;

/// Largest pressure factor of a stroke, `1 + max amp` of the synthetic pen's pressure: the
/// fit to the canvas leaves room for it.
pub(super) const PRESSURE_MAX: f64 = 1.25;

/// Side of the square canvas the strokes are rasterised on before
/// [`mnist_center`](super::framing::mnist_center).
pub(super) const CANVAS: usize = 64;
/// Canvas pixels the ink's larger side spans (a 2-pixel margin on each side).
const INK_SPAN: f64 = CANVAS as f64 - 4.0;

/// A flattened pen point: position (template units, then canvas pixels), the pen radius
/// (a pressure factor, then canvas pixels), and whether it starts a stroke.
#[derive(Clone, Copy, Default)]
pub(super) struct Pt {
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) radius: f64,
    pub(super) starts: bool,
}

/// Maps the points onto the canvas so that the ink's larger side (centre line plus pen) spans
/// at most `INK_SPAN` canvas pixels, centred, and turns pressure factors into radii. Since
/// [`mnist_center`](super::framing::mnist_center) maps that side to 20 px, one final pixel is `INK_SPAN / 20` canvas pixels,
/// which converts the pen width and softness. Returns the softness in canvas pixels.
pub(super) fn fit_to_canvas(pts: &mut [Pt], width_px: f64, soft_px: f64) -> f64 {
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
pub(super) fn segment(canvas: &mut [f32; CANVAS * CANVAS], a: Pt, b: Pt, soft: f64) {
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
