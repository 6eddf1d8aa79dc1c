//! `mpcdiff sweep --campaign DIR`: the naive repair, more fractional bits, as a baseline.
//!
//! For each precision (12, 14, …, 32 by default, the artifact's `--test_only` sweep) the MPC
//! model is assessed on the campaign's known deviations (replayed with their recorded seeds)
//! and on `--check` inputs of its corpus source: fixed deviations, MPC accuracy, cost, and the
//! ring's wrap events, which show where overflow takes over (products of values with `2f`
//! fractional bits leave the 64-bit ring when `f` grows).

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::engine::fuzzing;
use crate::engine::pool::Pool;
use crate::engine::repair::{assess, Assessment};
use crate::error::usage;
use crate::output;
use crate::table::{Align, Table};

/// Options of `sweep`.
#[derive(Clone, Debug, Args)]
pub struct SweepArgs {
    /// A campaign folder written by `mpcdiff fuzz --out`.
    #[arg(long, value_name = "DIR")]
    pub campaign: PathBuf,
    /// Smallest precision.
    #[arg(long, value_name = "F", default_value_t = 12)]
    pub from: u32,
    /// Largest precision.
    #[arg(long, value_name = "F", default_value_t = 32)]
    pub to: u32,
    /// Step.
    #[arg(long, value_name = "F", default_value_t = 2)]
    pub step: u32,
    /// Check inputs of the campaign's corpus source.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub check: usize,
    /// Worker threads (results do not depend on it).
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Row {
    frac_bits: u32,
    assessment: Assessment,
}

/// Runs `sweep`.
pub fn run(a: &SweepArgs) -> anyhow::Result<()> {
    let threads = super::fuzz::threads(a.threads)?;
    if a.step == 0 || a.from > a.to || a.to > 40 {
        return Err(usage!(
            "--from {} --to {} --step {}: need 0 < step, from <= to <= 40",
            a.from,
            a.to,
            a.step
        )
        .into());
    }
    if a.check == 0 {
        return Err(usage!("--check must be at least 1").into());
    }
    let loaded = fuzzing::load(&a.campaign, threads)?;
    let corpus = super::repair::check_corpus(&loaded, a.check)?;
    crate::output::say!(
        "mpcdiff {}  sweep  {} known deviations, {} check inputs, {}..={} bits",
        mpcdiff_kernel::VERSION,
        loaded.deviations.len(),
        corpus.len(),
        a.from,
        a.to
    );
    let mut rows = Vec::new();
    for bits in (a.from..=a.to).step_by(a.step as usize) {
        let setup = loaded.setup.with_frac_bits(bits)?;
        let pool = Pool::new(&setup, threads)?;
        let r = assess(
            &loaded.plan,
            &loaded.deviations,
            &corpus,
            loaded.campaign.spec.settings.mpc_seed,
            &pool,
        )?;
        rows.push(Row {
            frac_bits: bits,
            assessment: r,
        });
    }
    if a.json {
        #[derive(Serialize)]
        struct Out<'r> {
            schema: &'static str,
            rows: &'r [Row],
        }
        return output::emit(
            &(serde_json::to_string(&Out {
                schema: "mpcdiff.sweep/1",
                rows: &rows,
            })? + "\n"),
        );
    }
    let mut t = Table::new(&[
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
        Align::Right,
    ]);
    t.row([
        "frac bits",
        "known fixed",
        "MPC accuracy",
        "deviations",
        "wrap events",
        "mult/inference",
    ]);
    for r in &rows {
        let s = &r.assessment;
        t.row([
            r.frac_bits.to_string(),
            format!("{}/{}", s.known_fixed, s.known),
            format!("{:.2} %", 100.0 * s.mpc_accuracy()),
            s.check_deviations.to_string(),
            s.wrap_events.to_string(),
            s.cost.multiplications.to_string(),
        ]);
    }
    output::emit(&format!(
        "precision sweep on {} check inputs (plaintext accuracy {:.2} %)\n{}",
        corpus.len(),
        100.0
            * rows
                .first()
                .map_or(0.0, |r| r.assessment.plaintext_correct as f64
                    / r.assessment.check.max(1) as f64),
        t.render(2)
    ))
}
