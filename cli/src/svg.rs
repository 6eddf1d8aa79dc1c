//! Small, dependency-free SVG charts: line plots with linear or log axes, ticks, labels and a
//! legend; and grey images ([`image`]) for figures that show pictures.
//!
//! Why not a plotting crate: the output must be byte-identical for the same run on every
//! machine (plots are results, and results are reproducible), and text in SVG needs no font
//! files if the viewer draws it. A hand-written renderer guarantees both in ~250 lines.
//! Numbers are formatted with Rust's own float formatting, and all math goes through `libm`.

use std::fmt::Write;

/// One line of a chart.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text.
    pub label: String,
    /// `(x, y)` points in data units, in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Stroke colour (CSS).
    pub color: &'static str,
    /// Draw dashed.
    pub dashed: bool,
}

/// Axis scaling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Linear.
    Linear,
    /// Base-10 logarithmic (points with a value ≤ 0 are left out, breaking the line).
    Log,
}

/// A line chart.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// x-axis label.
    pub x_label: String,
    /// y-axis label.
    pub y_label: String,
    /// x scaling.
    pub x_scale: Scale,
    /// y scaling.
    pub y_scale: Scale,
    /// The lines.
    pub series: Vec<Series>,
}

/// A colour-blind-safe palette (Okabe–Ito).
pub const PALETTE: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
];

const W: f64 = 860.0;
const H: f64 = 520.0;
const LEFT: f64 = 86.0;
const RIGHT: f64 = 210.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 62.0;

fn tr(v: f64, scale: Scale) -> Option<f64> {
    match scale {
        Scale::Linear => v.is_finite().then_some(v),
        Scale::Log => (v.is_finite() && v > 0.0).then(|| libm::log10(v)),
    }
}

/// "Nice" tick positions covering `[lo, hi]` in transformed units.
fn ticks(lo: f64, hi: f64, scale: Scale) -> Vec<f64> {
    match scale {
        Scale::Log => {
            let (a, b) = (libm::floor(lo) as i64, libm::ceil(hi) as i64);
            let step = ((b - a) / 8).max(1);
            (a..=b).step_by(step as usize).map(|e| e as f64).collect()
        }
        Scale::Linear => {
            let span = (hi - lo).max(1e-300);
            let raw = span / 6.0;
            let mag = libm::pow(10.0, libm::floor(libm::log10(raw)));
            let step = [1.0, 2.0, 5.0, 10.0]
                .iter()
                .map(|m| m * mag)
                .find(|s| *s >= raw)
                .unwrap_or(10.0 * mag);
            let first = libm::ceil(lo / step) as i64;
            let last = libm::floor(hi / step) as i64;
            (first..=last).map(|k| k as f64 * step).collect()
        }
    }
}

fn label(t: f64, scale: Scale) -> String {
    match scale {
        Scale::Log => format!("1e{}", t as i64),
        Scale::Linear => {
            let v = if t.abs() < 1e-12 { 0.0 } else { t };
            let s = format!("{v}");
            if s.len() > 8 {
                format!("{v:.3e}")
            } else {
                s
            }
        }
    }
}

/// A grey image as an SVG `<g>` of one `<rect>` per run of equal pixels in a row (values in
/// [0, 1], 0 black), at `(x, y)` with `s` units per pixel.
pub fn image(out: &mut String, img: &[f64], (h, w): (usize, usize), x: f64, y: f64, s: f64) {
    let _ = write!(out, r#"<g transform="translate({x},{y})">"#);
    let _ = write!(
        out,
        r##"<rect width="{}" height="{}" fill="#000"/>"##,
        w as f64 * s,
        h as f64 * s
    );
    for i in 0..h {
        let mut j = 0;
        while j < w {
            let g = (img[i * w + j].clamp(0.0, 1.0) * 15.0).round() as u8;
            let mut k = j + 1;
            while k < w && (img[i * w + k].clamp(0.0, 1.0) * 15.0).round() as u8 == g {
                k += 1;
            }
            if g > 0 {
                let _ = write!(
                    out,
                    r##"<rect x="{}" y="{}" width="{}" height="{s}" fill="#{g:x}{g:x}{g:x}"/>"##,
                    j as f64 * s,
                    i as f64 * s,
                    (k - j) as f64 * s
                );
            }
            j = k;
        }
    }
    out.push_str("</g>");
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Chart {
    /// The chart as an SVG document.
    pub fn render(&self) -> String {
        let pts = |s: &Series| -> Vec<Option<(f64, f64)>> {
            s.points
                .iter()
                .map(|&(x, y)| Some((tr(x, self.x_scale)?, tr(y, self.y_scale)?)))
                .collect()
        };
        let all: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|s| pts(s).into_iter().flatten())
            .collect();
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y) in &all {
            x0 = x0.min(x);
            x1 = x1.max(x);
            y0 = y0.min(y);
            y1 = y1.max(y);
        }
        if all.is_empty() {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        if x1 - x0 < 1e-12 {
            x1 = x0 + 1.0;
        }
        if y1 - y0 < 1e-12 {
            y0 -= 0.5;
            y1 += 0.5;
        }
        if self.y_scale == Scale::Log {
            y0 = libm::floor(y0);
            y1 = libm::ceil(y1);
        } else {
            let pad = (y1 - y0) * 0.05;
            y0 -= pad;
            y1 += pad;
        }
        let pw = W - LEFT - RIGHT;
        let ph = H - TOP - BOTTOM;
        let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * pw;
        let py = |y: f64| TOP + ph - (y - y0) / (y1 - y0) * ph;

        let mut o = String::new();
        let _ = writeln!(
            o,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="Helvetica, Arial, sans-serif" font-size="13">"#
        );
        let _ = writeln!(o, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
        let _ = writeln!(
            o,
            r#"<text x="{}" y="28" text-anchor="middle" font-size="16" font-weight="bold">{}</text>"#,
            LEFT + pw / 2.0,
            esc(&self.title)
        );
        // Grid and ticks.
        for t in ticks(x0, x1, self.x_scale) {
            let x = px(t);
            let _ = writeln!(
                o,
                r##"<line x1="{x:.2}" y1="{TOP}" x2="{x:.2}" y2="{:.2}" stroke="#e5e5e5"/>"##,
                TOP + ph
            );
            let _ = writeln!(
                o,
                r#"<text x="{x:.2}" y="{:.2}" text-anchor="middle">{}</text>"#,
                TOP + ph + 18.0,
                label(t, self.x_scale)
            );
        }
        for t in ticks(y0, y1, self.y_scale) {
            let y = py(t);
            let _ = writeln!(
                o,
                r##"<line x1="{LEFT}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="#e5e5e5"/>"##,
                LEFT + pw
            );
            let _ = writeln!(
                o,
                r#"<text x="{:.2}" y="{:.2}" text-anchor="end">{}</text>"#,
                LEFT - 6.0,
                y + 4.0,
                label(t, self.y_scale)
            );
        }
        let _ = writeln!(
            o,
            r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>"##
        );
        let _ = writeln!(
            o,
            r#"<text x="{:.2}" y="{:.2}" text-anchor="middle">{}</text>"#,
            LEFT + pw / 2.0,
            H - 16.0,
            esc(&self.x_label)
        );
        let _ = writeln!(
            o,
            r#"<text transform="translate(20 {:.2}) rotate(-90)" text-anchor="middle">{}</text>"#,
            TOP + ph / 2.0,
            esc(&self.y_label)
        );
        // Lines, clipped to the plot area, broken where a point is missing.
        let _ = writeln!(
            o,
            r#"<clipPath id="plot"><rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}"/></clipPath>"#
        );
        for s in &self.series {
            let dash = if s.dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let mut d = String::new();
            let mut pen_down = false;
            for p in pts(s) {
                match p {
                    Some((x, y)) => {
                        let _ = write!(
                            d,
                            "{}{:.2},{:.2} ",
                            if pen_down { "L" } else { "M" },
                            px(x),
                            py(y)
                        );
                        pen_down = true;
                    }
                    None => pen_down = false,
                }
            }
            let _ = writeln!(
                o,
                r#"<path clip-path="url(#plot)" d="{}" fill="none" stroke="{}" stroke-width="1.6"{dash}/>"#,
                d.trim_end(),
                s.color
            );
        }
        // Legend.
        for (i, s) in self.series.iter().enumerate() {
            let y = TOP + 14.0 + 22.0 * i as f64;
            let x = LEFT + pw + 16.0;
            let dash = if s.dashed {
                r#" stroke-dasharray="6 4""#
            } else {
                ""
            };
            let _ = writeln!(
                o,
                r#"<line x1="{x:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="{}" stroke-width="2.5"{dash}/>"#,
                x + 26.0,
                s.color
            );
            let _ = writeln!(
                o,
                r#"<text x="{:.2}" y="{:.2}">{}</text>"#,
                x + 32.0,
                y + 4.0,
                esc(&s.label)
            );
        }
        o.push_str("</svg>\n");
        o
    }
}
