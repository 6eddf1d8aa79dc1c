//! `mpcdiff report --campaign DIR [--plan FILE]`: the model before and after a repair plan.
//!
//! * MPC (and plaintext) accuracy on the test inputs of the campaign's source (the full test
//!   split for `--data` campaigns, `--limit` to shorten; synthetic campaigns use 1000 digits);
//! * the fraction of the campaign's known deviations the plan fixes;
//! * deviations found by a new campaign with the same settings and budget against the
//!   repaired model (`DIR/repaired/`);
//! * cost per inference (multiplications, rounds, bytes) and the error sources of the
//!   deviations on each side.

use crate::engine::plan::PlanFile;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use crate::engine::fuzzing::{self, Loaded, RunOptions, Summary};
use crate::engine::localization::{sources, Sources};
use crate::engine::plan::{OwnedPlan, PlanJson};
use crate::engine::pool::Pool;
use crate::engine::repair::{assess, Assessment};
use crate::error::usage;
use crate::output;

/// Options of `report`.
#[derive(Clone, Debug, Args)]
pub struct ReportArgs {
    /// A campaign folder written by `mpcdiff fuzz --out`.
    #[arg(long, value_name = "DIR")]
    pub campaign: PathBuf,
    /// The repair plan (default: DIR/plan.json from `mpcdiff repair`).
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    /// Test inputs to assess accuracy on (default: the whole test split, or 1000 synthetic
    /// digits).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Skip the new campaign against the repaired model.
    #[arg(long)]
    pub no_campaign: bool,
    /// Worker threads (results do not depend on it).
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// One side of the report.
#[derive(Clone, Debug, Serialize)]
pub struct Side {
    /// Accuracy, known deviations fixed, cost.
    pub assessment: Assessment,
    /// The campaign's summary (before: the original; after: the new one).
    pub campaign: Option<Summary>,
    /// Where that campaign's deviations come from.
    pub sources: Option<Sources>,
}

/// `mpcdiff.report/1`.
#[derive(Clone, Debug, Serialize)]
pub struct ReportJson {
    /// Schema.
    pub schema: &'static str,
    /// The plan assessed.
    pub plan: PlanJson,
    /// Without the plan.
    pub before: Side,
    /// With it.
    pub after: Side,
}

/// Builds the report (writes the new campaign to `dir/repaired/` unless `no_campaign`).
pub fn build(
    dir: &Path,
    loaded: &Loaded,
    plan: &OwnedPlan,
    limit: usize,
    no_campaign: bool,
    pool: &Pool<'_>,
    progress: bool,
) -> anyhow::Result<ReportJson> {
    let corpus = super::repair::check_corpus(loaded, limit)?;
    let mpc_seed = loaded.campaign.spec.settings.mpc_seed;
    let setup = &loaded.setup;
    let before = assess(&loaded.plan, &loaded.deviations, &corpus, mpc_seed, pool)?;
    let after = assess(plan, &loaded.deviations, &corpus, mpc_seed, pool)?;
    let before_sources = sources(&loaded.plan, &loaded.deviations, pool)?;
    let (campaign, after_sources) = if no_campaign {
        (None, None)
    } else {
        let mut spec = loaded.campaign.spec.clone();
        spec.plan = Some(plan.to_json(setup));
        let corpus = fuzzing::corpus_of(&spec.corpus, spec.seeds, setup)
            .map_err(|e| fuzzing::recorded(dir, e))?;
        let out = dir.join("repaired");
        let o = fuzzing::run(
            &spec,
            &corpus,
            plan,
            pool,
            &RunOptions {
                out: Some(&out),
                resume: false,
                time: None,
                progress,
            },
        )?;
        let s = sources(plan, &o.deviations, pool)?;
        (Some(o.campaign.summary), Some(s))
    };
    Ok(ReportJson {
        schema: "mpcdiff.report/1",
        plan: plan.to_json(setup),
        before: Side {
            assessment: before,
            campaign: Some(loaded.campaign.summary.clone()),
            sources: Some(before_sources),
        },
        after: Side {
            assessment: after,
            campaign,
            sources: after_sources,
        },
    })
}

/// The report as a table.
pub fn text(r: &ReportJson) -> String {
    let (b, a) = (&r.before, &r.after);
    let pct = |s: &Side| format!("{:.2} %", 100.0 * s.assessment.mpc_accuracy());
    let plain = |s: &Side| {
        format!(
            "{:.2} %",
            100.0 * s.assessment.plaintext_correct as f64 / s.assessment.check.max(1) as f64
        )
    };
    let fixed = |s: &Side| format!("{}/{}", s.assessment.known_fixed, s.assessment.known);
    let found = |s: &Side| {
        s.campaign.as_ref().map_or("–".into(), |c| {
            format!("{} in {} mutants", c.deviations, c.mutants)
        })
    };
    let src = |s: &Side| {
        s.sources.map_or("–".into(), |x| {
            format!(
                "approx {} / fixed {} / shares {}",
                x.approximation, x.fixed_point, x.share_randomness
            )
        })
    };
    let cost = |s: &Side| {
        let c = &s.assessment.cost;
        format!(
            "{} mult, {} rounds, {:.1} KiB",
            c.multiplications,
            c.rounds,
            c.bytes as f64 / 1024.0
        )
    };
    let mut t = crate::table::Table::new(&[
        crate::table::Align::Left,
        crate::table::Align::Right,
        crate::table::Align::Right,
    ]);
    t.row(["", "before", "after repair"]);
    t.row(["plaintext accuracy".to_string(), plain(b), plain(a)]);
    t.row([
        format!("MPC accuracy ({} inputs)", b.assessment.check),
        pct(b),
        pct(a),
    ]);
    t.row([
        "deviations on those inputs".to_string(),
        b.assessment.check_deviations.to_string(),
        a.assessment.check_deviations.to_string(),
    ]);
    t.row(["known deviations fixed".to_string(), fixed(b), fixed(a)]);
    t.row([
        "deviations found by a campaign".to_string(),
        found(b),
        found(a),
    ]);
    t.row(["cost per inference".to_string(), cost(b), cost(a)]);
    t.row([
        "error sources of those deviations".to_string(),
        src(b),
        src(a),
    ]);
    t.render(2)
}

/// Runs `report`.
pub fn run(a: &ReportArgs) -> anyhow::Result<()> {
    let threads = super::fuzz::threads(a.threads)?;
    let loaded = fuzzing::load(&a.campaign, threads)?;
    let plan_path = a
        .plan
        .clone()
        .unwrap_or_else(|| a.campaign.join("plan.json"));
    if !plan_path.exists() {
        return Err(usage!(
            "--plan {}: no such file (run `mpcdiff repair --campaign {}` first, or give --plan)",
            plan_path.display(),
            a.campaign.display()
        )
        .into());
    }
    let plan = OwnedPlan::load(&plan_path, &loaded.setup)?;
    // A plan mpcdiff repair wrote belongs to one campaign: not to another in this folder.
    let plan_text = crate::files::read_to_string(&plan_path)?;
    let derived = serde_json::from_str::<crate::engine::plan::PlanJson>(&plan_text)
        .ok()
        .and_then(|p| p.derived_from);
    if let Some(from) = derived {
        if from != crate::engine::folder::source_digest(&a.campaign)? {
            return Err(usage!(
                "--plan {}: it was derived from another campaign (or other deviations) than {}'s: run mpcdiff repair --campaign {} again",
                plan_path.display(),
                a.campaign.display(),
                a.campaign.display()
            )
            .into());
        }
    }
    let limit = a.limit.unwrap_or(match loaded.campaign.spec.corpus {
        fuzzing::CorpusSource::Synthetic { .. } => 1000,
        _ => usize::MAX,
    });
    if limit == 0 {
        return Err(usage!("--limit must be at least 1").into());
    }
    crate::output::say!(
        "mpcdiff {}  report  {} with {}",
        mpcdiff_kernel::VERSION,
        a.campaign.display(),
        plan_path.display()
    );
    let pool = Pool::new(&loaded.setup, threads)?;
    let r = build(
        &a.campaign,
        &loaded,
        &plan,
        limit,
        a.no_campaign,
        &pool,
        !a.json,
    )?;
    if a.json {
        return output::emit(&(serde_json::to_string(&r)? + "\n"));
    }
    output::emit(&text(&r))
}
