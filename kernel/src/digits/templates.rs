//! The stroke templates of the synthetic digits: per digit, its stylistic variants as pen paths,
//! and the mean width and slant that [`synthetic`](super::synthetic) applies to them.
//!
//! Each digit 0–9 has two or three variants (the styles MNIST has: 1 with or without a flag, 4
//! open or closed, 7 with or without a bar or hook, 2 with or without a loop, 8 in one stroke or
//! as two loops…), each a few pen strokes made of line segments and quadratic or cubic Bézier
//! curves in a unit box (x to the right, y downwards, height 1), with a relative weight (common
//! styles are drawn more often). The templates, their weights and the per-digit constants are
//! part of every generated digit's value (see the determinism contract in
//! [`synthetic`](super::synthetic)).

/// A point of a template, in the unit box (x right, y down).
pub(super) type P = (f64, f64);

/// One step of a pen path. `Move` lifts the pen and starts a new stroke; the others continue the
/// current stroke from its last point.
#[derive(Clone, Copy)]
pub(super) enum Op {
    Move(P),
    Line(P),
    Quad(P, P),
    Cubic(P, P, P),
}

use Op::{Cubic, Line, Move, Quad};

/// A stylistic variant: its relative weight and its pen path.
pub(super) type Variant = (u32, &'static [Op]);

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
pub(super) struct Glyph {
    pub(super) aspect: f64,
    pub(super) slant: f64,
    pub(super) variants: &'static [Variant],
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
pub(super) const GLYPHS: [Glyph; 10] = [
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
