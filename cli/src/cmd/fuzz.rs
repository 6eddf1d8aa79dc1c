//! `mpcdiff fuzz`: search for inputs on which the MPC model's label flips away from the
//! plaintext model's correct label (MPCDiff's differential testing).
//!
//! `mpcdiff fuzz [--model lenet] [--data DIR | --corpus FILE] [--seeds 1000]
//! [--mutations 15000] [--time S] [--out DIR [--resume]] [--threads T] [--json] …`
//!
//! The corpus is the first `--seeds` test inputs of the model's dataset (`--data`), a JSON
//! Lines file (`--corpus`), or, for MNIST models without either, synthetic digits. The
//! campaign's rules and files are described in `crate::engine::fuzzing`; every run is a pure
//! function of its flags (same flags ⇒ same JSON bytes, whatever `--threads`), except that
//! `--time` stops it between rounds when the time is up.
//!
//! # JSON (`--json`)
//! The `mpcdiff.campaign/1` object of `campaign.json` (spec and summary) on one line.

use crate::engine::plan::PlanFile;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use mpcdiff_kernel::difftest::campaign::{Guide, Schedule, Settings};
use mpcdiff_kernel::difftest::fitness::Fitness;
use mpcdiff_kernel::difftest::mutation::{Budget, Mutator};

use crate::engine::corpus::Corpus;
use crate::engine::fuzzing::{self, CorpusSource, Outcome, RunOptions, SettingsJson, Spec};
use crate::engine::plan::RepairPlan;
use crate::engine::pool::Pool;
use crate::engine::target::{Setup, TargetArgs};
use crate::error::{usage, UsageError};
use crate::output;

/// The mutator family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MutatorArg {
    /// Gaussian noise only, MNIST re-stretched (the artifact's).
    Artifact,
    /// Gaussian, sparse pixels, contrast, affine (images) or feature steps (tables), clipped.
    Mpcdiff,
}

/// The most seeds a campaign takes (a synthetic corpus allocates its inputs up front).
pub const SEEDS_MAX: usize = 1_000_000;

/// Options of a campaign (shared by `fuzz` and `demo`).
#[derive(Clone, Debug, Args)]
pub struct CampaignArgs {
    /// The folder holding mnist/, credit/ and bank/ (e.g. ../shared/data): seeds are the first
    /// --seeds test inputs.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// A JSON Lines corpus file: one {"input": [...], "label": k} per line.
    #[arg(long, value_name = "FILE", conflicts_with = "synthetic_seed")]
    pub corpus: Option<PathBuf>,
    /// Seed of the synthetic digits (MNIST models without --data or --corpus).
    #[arg(long, value_name = "S", default_value_t = 2024)]
    pub synthetic_seed: u64,
    /// Seeds in the corpus.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub seeds: usize,
    /// Mutation budget.
    #[arg(long, value_name = "N")]
    pub mutations: Option<u64>,
    /// Stop between rounds after this many seconds.
    #[arg(long, value_name = "S")]
    pub time: Option<f64>,
    /// Seed of seed scheduling and mutations.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub seed: u64,
    /// Seed of the MPC sessions.
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub mpc_seed: u64,
    /// Mutants per round (results depend on it, not on --threads).
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub round: usize,
    /// Mutations after which a seed that stops improving is dropped (default: 50 for images,
    /// 30 for tables; the artifact's 10 for images drops LeNet's seeds before they reach the
    /// boundary of the deployment CrypTen really runs).
    #[arg(long, value_name = "N")]
    pub threshold: Option<u32>,
    /// Seed scheduling: by fitness (energy) or uniform (the artifact's).
    #[arg(long, value_enum, default_value = "energy")]
    pub schedule: ScheduleArg,
    /// Keep a mutant only if fitter (err, the artifact's default) or always (random).
    #[arg(long, value_enum, default_value = "err")]
    pub guide: GuideArg,
    /// Fitness: the MPC margin against the plaintext label (aims at the flip; default), or
    /// ‖logit difference‖₂ (the artifact's).
    #[arg(long, value_enum, default_value = "margin")]
    pub fitness: FitnessArg,
    /// Mutation operators.
    #[arg(long, value_enum, default_value = "mpcdiff")]
    pub mutator: MutatorArg,
    /// Gaussian σ in model-input units (default 0.05 for MNIST, 0.1 for tables).
    #[arg(long, value_name = "X")]
    pub sigma: Option<f64>,
    /// L∞ budget around each original input (model-input units).
    #[arg(long, value_name = "E")]
    pub linf: Option<f64>,
    /// L2 budget around each original input (model-input units).
    #[arg(long, value_name = "E")]
    pub l2: Option<f64>,
    /// MPC sessions per deviation for its probability over MPC randomness.
    #[arg(long, value_name = "K", default_value_t = 8)]
    pub repeats: u32,
    /// A repair plan (mpcdiff.plan/1) the MPC model runs with.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
}

/// Seed scheduling, as a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScheduleArg {
    /// Proportional to fitness.
    Energy,
    /// Uniform.
    Uniform,
}

/// Replacement rule, as a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GuideArg {
    /// Keep fitter mutants.
    Err,
    /// Keep every mutant.
    Random,
}

/// Fitness, as a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FitnessArg {
    /// ‖plaintext − MPC logits‖₂.
    LogitL2,
    /// MPC margin of the best other class over the plaintext label.
    Margin,
}

/// Options of `fuzz`.
#[derive(Clone, Debug, Args)]
pub struct FuzzArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub campaign: CampaignArgs,
    /// Folder for campaign.json, deviations.jsonl and state.json.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Continue the campaign in --out from its checkpoint (its settings are reused; only
    /// --mutations and --time may change).
    #[arg(long, requires = "out")]
    pub resume: bool,
    /// Worker threads (results do not depend on it).
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Print the campaign as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// The default worker count: the machine's cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Checks `--threads`.
pub fn threads(t: Option<usize>) -> Result<usize, UsageError> {
    let t = t.unwrap_or_else(default_threads);
    if (1..=256).contains(&t) {
        Ok(t)
    } else {
        Err(usage!("--threads {t} must be between 1 and 256"))
    }
}

/// Checks the campaign flags into a spec and builds its corpus.
pub fn spec_of(a: &CampaignArgs, setup: &Setup) -> Result<(Spec, Corpus, RepairPlan), UsageError> {
    if a.seeds == 0 {
        return Err(usage!("--seeds must be at least 1"));
    }
    if a.seeds > SEEDS_MAX {
        return Err(usage!(
            "--seeds {}: a campaign takes at most {SEEDS_MAX} seeds",
            a.seeds
        ));
    }
    if !(1..=4096).contains(&a.round) {
        return Err(usage!("--round {} must be between 1 and 4096", a.round));
    }
    if !(1..=1000).contains(&a.repeats) {
        return Err(usage!("--repeats {} must be between 1 and 1000", a.repeats));
    }
    for (flag, v) in [
        ("--sigma", a.sigma),
        ("--linf", a.linf),
        ("--l2", a.l2),
        ("--time", a.time),
    ] {
        if v.is_some_and(|v| !(v.is_finite() && v >= 0.0)) {
            return Err(usage!("{flag} must be a finite number >= 0"));
        }
    }
    let source = match (&a.corpus, &a.data) {
        (Some(path), dir) => CorpusSource::File {
            path: path.clone(),
            dir: dir.clone(),
        },
        (None, Some(dir)) => CorpusSource::Data { dir: dir.clone() },
        (None, None) => CorpusSource::Synthetic {
            seed: a.synthetic_seed,
        },
    };
    let plan = match &a.plan {
        Some(p) => RepairPlan::load(p, setup)?,
        None => RepairPlan::default(),
    };
    let corpus = fuzzing::corpus_of(&source, a.seeds, setup)?;
    let image = corpus.domain.is_image();
    let mut mutator = corpus.domain.with(|d| match a.mutator {
        MutatorArg::Artifact => Mutator::artifact(d),
        MutatorArg::Mpcdiff => Mutator::mpcdiff(d),
    });
    if let Some(s) = a.sigma {
        mutator.sigma = s;
    }
    mutator.budget = Budget {
        linf: a.linf,
        l2: a.l2,
    };
    let settings = Settings {
        seed: a.seed,
        mpc_seed: a.mpc_seed,
        round_size: a.round,
        threshold: a.threshold.unwrap_or(if image { 50 } else { 30 }),
        schedule: match a.schedule {
            ScheduleArg::Energy => Schedule::Energy,
            ScheduleArg::Uniform => Schedule::Uniform,
        },
        guide: match a.guide {
            GuideArg::Err => Guide::Err,
            GuideArg::Random => Guide::Random,
        },
        fitness: match a.fitness {
            FitnessArg::LogitL2 => Fitness::LogitL2,
            FitnessArg::Margin => Fitness::Margin,
        },
        mutator,
    };
    // Paths as they resolve from anywhere: `repair`, `report` and `--resume` may run
    // elsewhere.
    let spec = Spec {
        target: setup.args.recorded(),
        plan: a.plan.as_ref().map(|_| plan.to_json(setup)),
        corpus: source.recorded(),
        seeds: a.seeds,
        settings: SettingsJson::of(&settings, a.repeats),
        mutations: a.mutations.unwrap_or(15_000),
    };
    Ok((spec, corpus, plan))
}

/// The `mpcdiff fuzz` command that runs campaign `spec` again from scratch: every setting
/// that changes its results, spelled out (a replay must not depend on today's defaults).
pub fn replay_command(spec: &Spec, setup: &Setup, plan: Option<&std::path::Path>) -> String {
    let mut cmd = format!("mpcdiff fuzz {} ", setup.flags_naming(&spec.target));
    match spec.settings.settings() {
        Ok(k) => {
            let _ = k.write_flags(spec.seeds, spec.mutations, spec.settings.repeats, &mut cmd);
        }
        // Settings that do not parse were refused before any campaign ran.
        Err(e) => cmd.push_str(&format!("(settings: {e})")),
    }
    match (&spec.plan, plan) {
        (_, Some(p)) => cmd.push_str(&format!(" --plan {}", p.display())),
        (Some(_), None) => cmd.push_str(" --plan PLAN"),
        (None, None) => {}
    }
    cmd.push_str(&match &spec.corpus {
        CorpusSource::Synthetic { seed } => format!(" --synthetic-seed {seed}"),
        CorpusSource::Data { dir } => format!(" --data {}", dir.display()),
        CorpusSource::File { path, .. } => format!(" --corpus {}", path.display()),
    });
    cmd
}

/// The text summary of a campaign.
pub fn summary_text(o: &Outcome, setup: &Setup) -> String {
    let s = &o.campaign.summary;
    let spec = &o.campaign.spec;
    let opt =
        |v: Option<f64>, digits: usize| v.map_or("–".to_string(), |v| format!("{v:.digits$}"));
    let mut t = format!(
        "{} ({}), profile {}, {} fractional bits; corpus: {} seeds ({})\n",
        spec.target.model,
        setup.model.architecture,
        setup.profile.name,
        spec.target.frac_bits,
        s.seeds,
        corpus_name(&spec.corpus)
    );
    t += &format!(
        "  seeds skipped (plaintext wrong) {:>6}\n  deviations at admission        {:>6}\n  deviations found by mutation   {:>6}   in {} mutants ({} rounds), stopped by {}\n",
        s.skipped, s.found_at_admission, s.found_by_mutation, s.mutants, s.rounds, s.stopped_by
    );
    t += &format!(
        "  mean distance to the original  L2 {}  L∞ {}\n  mean deviation probability     {} over {} MPC seeds\n  seeds dropped / still active   {} / {}\n  campaign digest                {}\n",
        opt(s.mean_l2, 3),
        opt(s.mean_linf, 3),
        opt(s.mean_probability, 2),
        spec.settings.repeats,
        s.dropped,
        s.active,
        s.digest
    );
    if !s.by_operator.is_empty() {
        let ops: Vec<String> = s
            .by_operator
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        t += &format!("  by last operator               {}\n", ops.join(", "));
    }
    t
}

/// A short name of a corpus source.
pub fn corpus_name(c: &CorpusSource) -> String {
    match c {
        CorpusSource::Synthetic { seed } => format!("synthetic digits, seed {seed}"),
        CorpusSource::Data { dir } => format!("test split from {}", dir.display()),
        CorpusSource::File { path, .. } => path.display().to_string(),
    }
}

/// Runs `fuzz`.
pub fn run(a: &FuzzArgs) -> anyhow::Result<()> {
    let threads = threads(a.threads)?;
    let (spec, setup, corpus, plan) = if a.resume {
        let dir = a
            .out
            .as_deref()
            .ok_or_else(|| usage!("--resume needs --out"))?;
        let mut campaign = fuzzing::read_campaign(dir)?;
        if let Some(m) = a.campaign.mutations {
            campaign.spec.mutations = m;
        }
        let setup = Setup::new(&campaign.spec.target).map_err(|e| fuzzing::recorded(dir, e))?;
        let plan = match &campaign.spec.plan {
            Some(p) => RepairPlan::from_json(
                p,
                &setup,
                &dir.join(fuzzing::CAMPAIGN).display().to_string(),
            )?,
            None => RepairPlan::default(),
        };
        campaign
            .spec
            .settings
            .settings()
            .map_err(|e| fuzzing::recorded(dir, usage!("{e}")))?;
        let corpus = fuzzing::corpus_of(&campaign.spec.corpus, campaign.spec.seeds, &setup)
            .map_err(|e| fuzzing::recorded(dir, e))?;
        (campaign.spec, setup, corpus, plan)
    } else {
        let setup = Setup::new(&a.target)?;
        let (spec, corpus, plan) = spec_of(&a.campaign, &setup)?;
        (spec, setup, corpus, plan)
    };
    let replay = replay_command(&spec, &setup, a.campaign.plan.as_deref());
    crate::output::say!(
        "mpcdiff {}  fuzz  seed {}  mpc seed {}  replay: {replay}",
        mpcdiff_kernel::VERSION,
        spec.settings.seed,
        spec.settings.mpc_seed
    );
    let pool = Pool::new(&setup, threads)?;
    let _stoppable = crate::interrupt::campaign();
    let outcome = fuzzing::run(
        &spec,
        &corpus,
        &plan,
        &pool,
        &RunOptions {
            out: a.out.as_deref(),
            resume: a.resume,
            time: a.campaign.time,
            progress: !a.json,
        },
    )?;
    let interrupted = outcome.campaign.summary.stopped_by == "interrupted";
    if a.json {
        output::emit(&(serde_json::to_string(&outcome.campaign)? + "\n"))?;
    } else {
        let mut t = summary_text(&outcome, &setup);
        if let Some(out) = &a.out {
            t += &format!(
                "  files                          {}/{{campaign.json, deviations.jsonl, state.json}}\n",
                out.display()
            );
        }
        output::emit(&t)?;
    }
    if interrupted {
        return Err(crate::interrupt::Interrupted.into());
    }
    Ok(())
}
