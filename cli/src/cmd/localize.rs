//! `mpcdiff localize --campaign DIR`: which neurons and layers the campaign's deviations come
//! from (votes with a signed score, per-layer attribution, error sources), with a heat map
//! per layer.
//!
//! Writes `DIR/localize.json` (`mpcdiff.localize/1`, see `crate::engine::localization`) and
//! `DIR/heatmap-<layer>.svg`; prints a ranked table (or the JSON with `--json`).

use std::path::PathBuf;

use clap::Args;
use mpcdiff_kernel::difftest::voting::Thresholds;

use crate::engine::fuzzing;
use crate::engine::localization::{self, Localization};
use crate::engine::pool::Pool;
use crate::error::usage;
use crate::output;
use crate::output::write_atomic;

/// Options of `localize`.
#[derive(Clone, Debug, Args)]
pub struct LocalizeArgs {
    /// A campaign folder written by `mpcdiff fuzz --out`.
    #[arg(long, value_name = "DIR")]
    pub campaign: PathBuf,
    /// τ⁺: fraction of each layer's neurons that get a high vote per deviation.
    #[arg(long, value_name = "F", default_value_t = 1.0 / 3.0)]
    pub tau_high: f64,
    /// τ⁻: fraction that get a low vote.
    #[arg(long, value_name = "F", default_value_t = 1.0 / 3.0)]
    pub tau_low: f64,
    /// Worker threads (results do not depend on it).
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Print the localization as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// The text table of a localization.
pub fn text(loc: &Localization) -> String {
    let mut t = format!(
        "localization over {} deviations (τ⁺ {:.3}, τ⁻ {:.3})\n",
        loc.deviations, loc.tau_high, loc.tau_low
    );
    let s = &loc.sources;
    t += &format!(
        "  error sources: approximation {}, fixed-point encoding/truncation {}, share randomness {}\n",
        s.approximation, s.fixed_point, s.share_randomness
    );
    t += "  layer      neurons  fixed if exact  top neurons by signed score (neuron: high−low, mean |error|)\n";
    for l in &loc.layers {
        let top: Vec<String> = l
            .top
            .iter()
            .take(5)
            .map(|n| format!("{}: {:+} {:.3}", n.neuron, n.score, n.mean_error))
            .collect();
        t += &format!(
            "  {:<9} {:>8}  {:>6} / {:<6}  {}\n",
            l.name,
            l.neurons,
            l.fixed_when_exact,
            loc.deviations,
            if l.activation {
                top.join(", ")
            } else {
                "(batch norm: attributed, not voted)".into()
            }
        );
    }
    t
}

/// Runs `localize`.
pub fn run(a: &LocalizeArgs) -> anyhow::Result<()> {
    let threads = super::fuzz::threads(a.threads)?;
    let th = Thresholds {
        high: a.tau_high,
        low: a.tau_low,
    };
    if !(0.0..=1.0).contains(&th.high) || !(0.0..=1.0).contains(&th.low) || th.high + th.low > 1.0 {
        return Err(
            usage!("--tau-high and --tau-low must lie in [0, 1] and add up to at most 1").into(),
        );
    }
    let loaded = fuzzing::load(&a.campaign, threads)?;
    if loaded.deviations.is_empty() {
        return Err(usage!(
            "--campaign {}: the campaign found no deviations to localize",
            a.campaign.display()
        )
        .into());
    }
    crate::output::say!(
        "mpcdiff {}  localize  {} deviations of {} (all replayed)",
        mpcdiff_kernel::VERSION,
        loaded.deviations.len(),
        a.campaign.display()
    );
    let pool = Pool::new(&loaded.setup, threads)?;
    let loc = localization::localize(&loaded.setup, &loaded.plan, &loaded.deviations, th, &pool)?;
    localization::write_file(&a.campaign, &loc)?;
    for l in loc.layers.iter().filter(|l| l.activation) {
        write_atomic(
            &a.campaign.join(format!("heatmap-{}.svg", l.name)),
            localization::heatmap_svg(l),
        )?;
    }
    if a.json {
        return output::emit(&(serde_json::to_string(&loc)? + "\n"));
    }
    output::emit(
        &(text(&loc)
            + &format!(
                "  files: {}/localize.json, heatmap-<layer>.svg\n",
                a.campaign.display()
            )),
    )
}
