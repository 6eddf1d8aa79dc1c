//! Localization: which neurons and layers a campaign's deviations come from.
//!
//! Three views, all computed from the re-verified deviations of a campaign:
//! * **votes** (the artifact's, all activation layers in one pass): per deviation, the
//!   τ⁺ share of a layer's neurons with the largest |plaintext − MPC| output error get a high
//!   vote, the τ⁻ share with the smallest a low vote; plus the signed score high − low and the
//!   mean error per neuron;
//! * **per-layer attribution**: each nonlinear layer in turn made exact (an oracle) in the MPC
//!   model: how many deviations disappear;
//! * **error sources**: the earliest arithmetic in which each deviation's label already flips:
//!   float with the approximations (approximation error), plaintext fixed point (plus
//!   encoding and truncation), or only shared (share randomness).

use mpcdiff_kernel::difftest::localization::{
    examine, examine_floats, source, tally_sizes, Suspect, Tally,
};
use mpcdiff_kernel::difftest::oracle::Stage;
use mpcdiff_kernel::difftest::plan::nonlinear_layers;
use mpcdiff_kernel::difftest::recorder::Recorder;
use mpcdiff_kernel::difftest::voting::Thresholds;
use mpcdiff_kernel::nn::spec::Shape;
use serde::{Deserialize, Serialize};

use super::folder::{fnv_hex, source_digest};
use super::fuzzing::Deviation;
use super::plan::OwnedPlan;
use super::pool::Pool;
use super::target::Setup;

/// One neuron's tallies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NeuronScore {
    /// Index in the layer (per sample, CHW order).
    pub neuron: u32,
    /// High votes.
    pub high: u32,
    /// Low votes.
    pub low: u32,
    /// `high − low`.
    pub score: i64,
    /// Mean |plaintext − MPC| of its output over the deviations.
    pub mean_error: f64,
}

/// One layer's localization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerReport {
    /// Its name.
    pub name: String,
    /// Neurons per sample.
    pub neurons: usize,
    /// Its output shape (`[c, h, w]` or `[n]`).
    pub shape: Vec<usize>,
    /// Whether it is an activation (batch norms are attributed, not voted on).
    pub activation: bool,
    /// High votes per neuron.
    pub high_votes: Vec<u32>,
    /// Low votes per neuron.
    pub low_votes: Vec<u32>,
    /// Mean error per neuron.
    pub mean_error: Vec<f64>,
    /// The ⌊n·τ⁺⌋ neurons with most high votes (the artifact's high set).
    pub high_set: Vec<u32>,
    /// The ⌊n·τ⁻⌋ neurons with most low votes, minus the high set.
    pub low_set: Vec<u32>,
    /// The first neurons by signed score.
    pub top: Vec<NeuronScore>,
    /// Deviations that disappear when this layer alone is exact.
    pub fixed_when_exact: usize,
}

/// Error sources over the deviations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sources {
    /// Already flipped in float with the approximations.
    pub approximation: usize,
    /// Flipped first in plaintext fixed point.
    pub fixed_point: usize,
    /// Flipped only with shares.
    pub share_randomness: usize,
}

/// The whole localization.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Localization {
    /// `mpcdiff.localize/1`.
    pub schema: String,
    /// Deviations voted on.
    pub deviations: usize,
    /// τ⁺.
    pub tau_high: f64,
    /// τ⁻.
    pub tau_low: f64,
    /// Per nonlinear layer, in model order.
    pub layers: Vec<LayerReport>,
    /// Where the deviations come from.
    pub sources: Sources,
}

/// `localize.json`: a localization with the digests that tie it to its campaign, so a stale
/// or edited file is never trusted.
#[derive(Serialize, Deserialize)]
struct LocalizeFile {
    #[serde(flatten)]
    localization: Localization,
    /// [`source_digest`](super::folder::source_digest) of the campaign folder it was computed from.
    derived_from: String,
    /// FNV-1a of the localization's own JSON.
    digest: String,
}

/// Writes `loc` as `dir/localize.json`, tied to the campaign in `dir`.
pub fn write_file(dir: &std::path::Path, loc: &Localization) -> anyhow::Result<()> {
    let body = serde_json::to_string(loc)?;
    let file = LocalizeFile {
        localization: loc.clone(),
        derived_from: source_digest(dir)?,
        digest: fnv_hex(&[body.as_bytes()]),
    };
    crate::output::write_atomic(
        &dir.join("localize.json"),
        serde_json::to_string(&file)? + "\n",
    )
}

/// `dir/localize.json` if it holds the localization of the campaign in `dir`, unedited;
/// `None` (with a note saying why, when the file exists) otherwise.
pub fn read_file(dir: &std::path::Path) -> anyhow::Result<Option<Localization>> {
    let path = dir.join("localize.json");
    let Ok(text) = crate::files::read_to_string(&path) else {
        return Ok(None);
    };
    let why = match serde_json::from_str::<LocalizeFile>(&text) {
        Err(_) => "it is not an mpcdiff.localize/1 file with its digests",
        Ok(f) => {
            let body = serde_json::to_string(&f.localization)?;
            if f.digest != fnv_hex(&[body.as_bytes()]) {
                "it was edited"
            } else if f.derived_from != source_digest(dir)? {
                "it belongs to another campaign or other deviations"
            } else {
                return Ok(Some(f.localization));
            }
        }
    };
    crate::output::note(&format!(
        "{}: not used ({why}); localizing the campaign again",
        path.display()
    ));
    Ok(None)
}

/// Neurons listed in `top`.
const TOP: usize = 10;

fn shape_vec(s: Shape) -> Vec<usize> {
    match s {
        Shape::Image { c, h, w } => vec![c, h, w],
        Shape::Vector(n) => vec![n],
    }
}

/// One deviation's facts (the kernel's [`examine`]): activation errors, per-layer
/// attribution, error source.
type Facts = (Vec<f64>, Vec<bool>, Stage);

/// Localizes `deviations` of `setup` (MPC model with `plan`): each deviation examined on the
/// pool, the facts added up in deviation order by the kernel's [`Tally`].
pub fn localize(
    setup: &Setup,
    plan: &OwnedPlan,
    deviations: &[Deviation],
    th: Thresholds,
    pool: &Pool<'_>,
) -> anyhow::Result<Localization> {
    let model = &setup.model;
    let len = Recorder::len(model, 1);
    let layers: Vec<_> = nonlinear_layers(model, setup.deploy).collect();
    let facts: Vec<Facts> = pool.map(deviations, |ws, d| {
        let mut floats = vec![0.0; examine_floats(model)];
        let mut fixed = vec![false; layers.len()];
        let suspect = Suspect {
            input: &d.input,
            mpc_seed: d.mpc_seed,
            label: usize::from(d.label),
            plaintext: &d.plaintext_logits,
        };
        let source = ws.with(|ev| examine(ev, plan, &suspect, &mut floats, &mut fixed))?;
        floats.truncate(len);
        Ok((floats, fixed, source))
    })?;
    let (counts, errors) = tally_sizes(model, setup.deploy);
    let (mut counts, mut errors) = (vec![0u32; counts], vec![0.0; errors]);
    let mut tally = Tally::new(model, setup.deploy, th, &mut counts, &mut errors)?;
    for (errors, fixed, source) in &facts {
        tally.add(errors, fixed, *source)?;
    }

    let mut reports = Vec::new();
    for (k, l) in layers.iter().enumerate() {
        let n = l.neurons;
        let (high, low, fixed_when_exact) = tally.votes(k)?;
        let (high, low) = (high.to_vec(), low.to_vec());
        let mut mean = vec![0.0; n];
        tally.mean_errors(k, &mut mean)?;
        let (high_set, low_set) = tally.sets(k)?;
        let (high_set, low_set) = (high_set.to_vec(), low_set.to_vec());
        let top = tally
            .ranked(k)?
            .iter()
            .take(if l.activation { TOP } else { 0 })
            .map(|&j| NeuronScore {
                neuron: j,
                high: high[j as usize],
                low: low[j as usize],
                score: i64::from(high[j as usize]) - i64::from(low[j as usize]),
                mean_error: mean[j as usize],
            })
            .collect();
        reports.push(LayerReport {
            name: l.name.to_string(),
            neurons: n,
            shape: if l.activation {
                shape_vec(model.shapes[l.index])
            } else {
                vec![n]
            },
            activation: l.activation,
            high_votes: high,
            low_votes: low,
            mean_error: mean,
            high_set,
            low_set,
            top,
            fixed_when_exact,
        });
    }
    let s = tally.sources();
    Ok(Localization {
        schema: "mpcdiff.localize/1".into(),
        deviations: deviations.len(),
        tau_high: th.high,
        tau_low: th.low,
        layers: reports,
        sources: Sources {
            approximation: s.approximation,
            fixed_point: s.fixed_point,
            share_randomness: s.share_randomness,
        },
    })
}

/// Classifies each deviation by the earliest arithmetic whose label already flips (the
/// kernel's [`source`]).
pub fn sources(
    plan: &OwnedPlan,
    deviations: &[Deviation],
    pool: &Pool<'_>,
) -> anyhow::Result<Sources> {
    let stages = pool.map(deviations, |ws, d| {
        let suspect = Suspect {
            input: &d.input,
            mpc_seed: d.mpc_seed,
            label: usize::from(d.label),
            plaintext: &d.plaintext_logits,
        };
        ws.with(|ev| source(ev, plan, &suspect))
    })?;
    let mut s = Sources::default();
    for k in stages {
        match k {
            Stage::FixedPoint => s.fixed_point += 1,
            Stage::Shared => s.share_randomness += 1,
            _ => s.approximation += 1,
        }
    }
    Ok(s)
}

/// A heat map of a layer's signed scores as SVG: images as one grid per channel, vectors as
/// a grid of `⌈√n⌉` columns (120 neurons: 11 × 11). Red: more high votes, blue: more low.
pub fn heatmap_svg(l: &LayerReport) -> String {
    let (planes, rows, cols) = match l.shape.as_slice() {
        [c, h, w] => (*c, *h, *w),
        _ => {
            let cols = (1..).find(|c| c * c >= l.neurons).unwrap_or(1);
            (1, l.neurons.div_ceil(cols), cols)
        }
    };
    let cell = if rows * cols > 400 { 6 } else { 14 };
    let gap = 8;
    let per_row = planes.min(8);
    let grid_w = cols * cell;
    let grid_h = rows * cell;
    let width = per_row * (grid_w + gap) + gap;
    let height = planes.div_ceil(per_row) * (grid_h + gap) + gap + 40;
    let max = l
        .high_votes
        .iter()
        .zip(&l.low_votes)
        .map(|(&h, &lo)| (i64::from(h) - i64::from(lo)).unsigned_abs())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n<title>{}: signed vote score per neuron</title>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{gap}\" y=\"16\">{} ({} neurons): high − low votes, red = blamed, blue = exonerated (max |score| {})</text>\n",
        l.name, l.name, l.neurons, max
    );
    for j in 0..l.neurons {
        let score = f64::from(l.high_votes[j]) - f64::from(l.low_votes[j]);
        let t = score / max;
        let (r, g, b) = if t >= 0.0 {
            (255.0, 255.0 * (1.0 - t), 255.0 * (1.0 - t))
        } else {
            (255.0 * (1.0 + t), 255.0 * (1.0 + t), 255.0)
        };
        let plane = j / (rows * cols);
        let within = j % (rows * cols);
        let (row, col) = (within / cols, within % cols);
        let x = gap + (plane % per_row) * (grid_w + gap) + col * cell;
        let y = 28 + gap + (plane / per_row) * (grid_h + gap) + row * cell;
        s += &format!(
            "<rect x=\"{x}\" y=\"{y}\" width=\"{cell}\" height=\"{cell}\" fill=\"rgb({},{},{})\"><title>neuron {j}: score {score}</title></rect>\n",
            r as u8, g as u8, b as u8
        );
    }
    s += "</svg>\n";
    s
}
