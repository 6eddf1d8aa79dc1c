//! `mpcdiff repair --campaign DIR`: choose per-neuron approximation levels that remove the
//! campaign's deviations without losing accuracy, under a cost budget.
//!
//! Localizes (or reads `DIR/localize.json`), builds the candidates of
//! `crate::engine::repair` (the artifact's 9/9–3/3 plan among them), assesses each on the
//! known deviations and `--check` inputs of the campaign's corpus source, and writes the
//! chosen plan to `DIR/plan.json` (`mpcdiff.plan/1`, apply it with `--plan`) and the search to
//! `DIR/repair.json`.

use crate::engine::plan::PlanFile;
use std::path::{Path, PathBuf};

use clap::Args;
use mpcdiff_kernel::difftest::voting::Thresholds;
use serde::Serialize;

use crate::engine::corpus::Corpus;
use crate::engine::fuzzing::{self, Loaded};
use crate::engine::localization::{self, Localization};
use crate::engine::plan::PlanJson;
use crate::engine::pool::Pool;
use crate::engine::repair::{self, Assessment, Tried, QUICK_STEPS, STEPS};
use crate::error::{usage, UsageError};
use crate::output;
use crate::output::write_atomic;

/// Options of `repair`.
#[derive(Clone, Debug, Args)]
pub struct RepairArgs {
    /// A campaign folder written by `mpcdiff fuzz --out`.
    #[arg(long, value_name = "DIR")]
    pub campaign: PathBuf,
    /// Inputs of the campaign's corpus source on which accuracy must not drop.
    #[arg(long, value_name = "N", default_value_t = 500)]
    pub check: usize,
    /// Largest multiplications per inference, relative to the default plan.
    #[arg(long, value_name = "X", default_value_t = 1.5)]
    pub budget: f64,
    /// Try three level steps instead of six.
    #[arg(long)]
    pub quick: bool,
    /// Worker threads (results do not depend on it).
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Print the search as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `repair.json`.
#[derive(Serialize)]
pub struct RepairJson {
    /// `mpcdiff.repair/1`.
    pub schema: &'static str,
    /// The default plan's assessment.
    pub baseline: Assessment,
    /// Every candidate.
    pub tried: Vec<Tried>,
    /// Index of the chosen one.
    pub chosen: usize,
    /// The chosen plan.
    pub plan: PlanJson,
    /// Cost budget (× default multiplications).
    pub budget: f64,
}

/// The check corpus of a campaign: its source, `n` inputs.
pub fn check_corpus(loaded: &Loaded, n: usize) -> Result<Corpus, UsageError> {
    fuzzing::corpus_of(&loaded.campaign.spec.corpus, n, &loaded.setup)
        .map_err(|e| fuzzing::recorded(&loaded.dir, e))
}

/// The localization of a campaign folder: `localize.json` if there, else computed (and saved).
pub fn localization_of(
    dir: &Path,
    loaded: &Loaded,
    pool: &Pool<'_>,
) -> anyhow::Result<Localization> {
    if let Some(loc) = localization::read_file(dir)? {
        return Ok(loc);
    }
    let loc = localization::localize(
        &loaded.setup,
        &loaded.plan,
        &loaded.deviations,
        Thresholds::ARTIFACT,
        pool,
    )?;
    localization::write_file(dir, &loc)?;
    Ok(loc)
}

/// One line of an assessment.
pub fn assessment_line(a: &Assessment) -> String {
    format!(
        "fixed {:>4}/{:<4} MPC accuracy {:>6.2} % ({} deviations on {} check inputs)  {} mult, {} rounds, {:.1} KiB/party",
        a.known_fixed,
        a.known,
        100.0 * a.mpc_accuracy(),
        a.check_deviations,
        a.check,
        a.cost.multiplications,
        a.cost.rounds,
        a.cost.bytes as f64 / 1024.0
    )
}

/// Runs the search on a loaded campaign; returns the JSON and writes nothing.
pub fn search(
    dir: &Path,
    loaded: &Loaded,
    check: usize,
    budget: f64,
    quick: bool,
    pool: &Pool<'_>,
    progress: bool,
) -> anyhow::Result<RepairJson> {
    if loaded.deviations.is_empty() {
        return Err(usage!(
            "--campaign {}: the campaign found no deviations to repair",
            dir.display()
        )
        .into());
    }
    if !(budget.is_finite() && budget >= 1.0) {
        return Err(usage!("--budget {budget} must be a finite number >= 1").into());
    }
    if check == 0 {
        return Err(usage!("--check must be at least 1").into());
    }
    let loc = localization_of(dir, loaded, pool)?;
    let corpus = check_corpus(loaded, check)?;
    let cands = repair::candidates(
        &loaded.setup,
        &loc,
        if quick { &QUICK_STEPS } else { &STEPS },
    )?;
    let bar = if progress {
        indicatif::ProgressBar::new(cands.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let s = repair::search(
        cands,
        &loaded.deviations,
        &corpus,
        loaded.campaign.spec.settings.mpc_seed,
        budget,
        pool,
        |k, _| bar.set_position(k as u64),
    )?;
    bar.finish_and_clear();
    Ok(RepairJson {
        schema: "mpcdiff.repair/1",
        baseline: s.baseline,
        tried: s.tried,
        chosen: s.chosen,
        plan: s.plan.to_json(&loaded.setup),
        budget,
    })
}

/// The text of a search.
pub fn text(r: &RepairJson) -> String {
    let mut t = format!("repair search: {} candidates, target: every known deviation fixed, no accuracy loss, ≤ {:.2}× multiplications\n", r.tried.len(), r.budget);
    t += &format!(
        "  {:<52} {}\n",
        "default plan",
        assessment_line(&r.baseline)
    );
    for (k, c) in r.tried.iter().enumerate() {
        t += &format!(
            "{} {:<52} {}{}\n",
            if k == r.chosen { "*" } else { " " },
            c.name,
            assessment_line(&c.assessment),
            if c.meets_target { "  meets target" } else { "" }
        );
    }
    let c = &r.tried[r.chosen];
    t += &format!(
        "chosen: {}{}\n",
        c.name,
        if c.meets_target {
            ""
        } else {
            " (no candidate met the target: the best one)"
        }
    );
    t
}

/// Runs `repair`.
pub fn run(a: &RepairArgs) -> anyhow::Result<()> {
    let threads = super::fuzz::threads(a.threads)?;
    let loaded = fuzzing::load(&a.campaign, threads)?;
    crate::output::say!(
        "mpcdiff {}  repair  {} deviations of {} (all replayed)",
        mpcdiff_kernel::VERSION,
        loaded.deviations.len(),
        a.campaign.display()
    );
    let pool = Pool::new(&loaded.setup, threads)?;
    let r = search(
        &a.campaign,
        &loaded,
        a.check,
        a.budget,
        a.quick,
        &pool,
        !a.json,
    )?;
    write_atomic(
        &a.campaign.join("plan.json"),
        &(serde_json::to_string_pretty(&r.plan.sealed(&a.campaign)?)? + "\n"),
    )?;
    write_atomic(
        &a.campaign.join("repair.json"),
        &(serde_json::to_string(&r)? + "\n"),
    )?;
    if a.json {
        return output::emit(&(serde_json::to_string(&r)? + "\n"));
    }
    output::emit(
        &(text(&r)
            + &format!(
                "  files: {0}/plan.json (use with --plan), {0}/repair.json\n",
                a.campaign.display()
            )),
    )
}
