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
use crate::engine::plan::OwnedPlan;
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
    /// Steps towards the plaintext decision boundary along the plaintext margin's gradient.
    Gradient,
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
    /// Mutation operators (`gradient`: steps along the gradient of the plaintext model's
    /// margin towards its decision boundary; σ bounds each step's length by σ·√n).
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
    /// Continue the campaign in --out from its checkpoint with the settings its
    /// campaign.json records: other campaign flags may be given only with the recorded
    /// values; --mutations (a new budget), --time, --threads and --json may change.
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
pub fn spec_of(a: &CampaignArgs, setup: &Setup) -> Result<(Spec, Corpus, OwnedPlan), UsageError> {
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
        Some(p) => OwnedPlan::load(p, setup)?,
        None => OwnedPlan::default(),
    };
    let corpus = fuzzing::corpus_of(&source, a.seeds, setup)?;
    let image = corpus.domain.is_image();
    let mut mutator = corpus.domain.with(|d| match a.mutator {
        MutatorArg::Artifact => Mutator::artifact(d),
        MutatorArg::Mpcdiff => Mutator::mpcdiff(d),
        MutatorArg::Gradient => Mutator::gradient(d),
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

/// The flags of `fuzz` that may differ from a campaign's recorded settings on `--resume`:
/// they change how long and how it runs, not what it computes (`--mutations` sets a new
/// budget, which the campaign's identity leaves out).
pub const RESUME_MAY_CHANGE: [&str; 6] = ["mutations", "time", "threads", "json", "out", "resume"];

/// Checks on `--resume` that every campaign flag given on the command line (`typed`: clap
/// ids) has the value `campaign.json` in `dir` records for it: a resumed campaign keeps its
/// recorded settings, so a differing flag is refused rather than silently ignored.
fn check_resume_flags(
    a: &FuzzArgs,
    typed: &[String],
    dir: &std::path::Path,
    spec: &Spec,
    setup: &Setup,
    corpus: &Corpus,
) -> Result<(), UsageError> {
    let c = &a.campaign;
    let t = &a.target;
    let r = &spec.target;
    let k = &spec.settings;
    let show = |p: &std::path::Path| p.display().to_string();
    let opt = |v: Option<f64>| v.map_or("none".to_string(), |v| v.to_string());
    // The same path, typed now or recorded (as typed by an older mpcdiff, or absolute).
    let same_path = |given: &std::path::Path, rec: &std::path::Path| {
        given == rec || crate::engine::target::recorded_path(given) == rec
    };
    let corpus_dir = match &spec.corpus {
        CorpusSource::Data { dir } => Some(dir.clone()),
        CorpusSource::File { dir, .. } => dir.clone(),
        CorpusSource::Synthetic { .. } => None,
    };
    let family = |m: MutatorArg| {
        let kernel = corpus.domain.with(|d| match m {
            MutatorArg::Artifact => Mutator::artifact(d),
            MutatorArg::Mpcdiff => Mutator::mpcdiff(d),
            MutatorArg::Gradient => Mutator::gradient(d),
        });
        let j = fuzzing::MutatorJson::of(&kernel);
        (j.weights, j.projection)
    };
    let recorded_family = [
        MutatorArg::Artifact,
        MutatorArg::Mpcdiff,
        MutatorArg::Gradient,
    ]
    .into_iter()
    .find(|&m| family(m) == (k.mutator.weights.clone(), k.mutator.projection.clone()));
    let mut differ: Vec<(String, String)> = Vec::new();
    for id in typed {
        if RESUME_MAY_CHANGE.contains(&id.as_str()) {
            continue;
        }
        // (the flag as typed, the flag as recorded), when they differ.
        let d: Option<(String, String)> = match id.as_str() {
            "model" => (t.model != r.model && t.recorded().model != r.model)
                .then(|| (t.model.clone(), r.model.clone())),
            "arch" => (t.arch != r.arch && t.recorded().arch != r.arch).then(|| {
                (
                    t.arch.clone().unwrap_or_default(),
                    r.arch.clone().unwrap_or_else(|| "none".into()),
                )
            }),
            "input_shape" => (t.input_shape != r.input_shape).then(|| {
                (
                    t.input_shape.clone().unwrap_or_default(),
                    r.input_shape.clone().unwrap_or_else(|| "none".into()),
                )
            }),
            "profile" => {
                let name = |p: &str| crate::flags::parse_profile(p).map(|p| p.name).ok();
                (t.profile != r.profile && name(&t.profile) != name(&r.profile))
                    .then(|| (t.profile.clone(), r.profile.clone()))
            }
            "frac_bits" => (t.frac_bits != r.frac_bits)
                .then(|| (t.frac_bits.to_string(), r.frac_bits.to_string())),
            "trunc" => (t.trunc != r.trunc).then(|| {
                (
                    t.trunc.mode().name().to_string(),
                    r.trunc.mode().name().to_string(),
                )
            }),
            "deploy" => (t.deploy != r.deploy).then(|| {
                (
                    t.deploy.deployment().name().to_string(),
                    r.deploy.deployment().name().to_string(),
                )
            }),
            "engine" => (t.engine != r.engine).then(|| {
                (
                    t.engine.engine().name().to_string(),
                    r.engine.engine().name().to_string(),
                )
            }),
            "data" => {
                let given = c.data.as_deref().unwrap_or(std::path::Path::new(""));
                match &corpus_dir {
                    Some(rec) if same_path(given, rec) => None,
                    Some(rec) => Some((show(given), show(rec))),
                    None => Some((show(given), "none".into())),
                }
            }
            "corpus" => {
                let given = c.corpus.as_deref().unwrap_or(std::path::Path::new(""));
                match &spec.corpus {
                    CorpusSource::File { path, .. } if same_path(given, path) => None,
                    CorpusSource::File { path, .. } => Some((show(given), show(path))),
                    _ => Some((show(given), "none".into())),
                }
            }
            "synthetic_seed" => match &spec.corpus {
                CorpusSource::Synthetic { seed } if *seed == c.synthetic_seed => None,
                CorpusSource::Synthetic { seed } => {
                    Some((c.synthetic_seed.to_string(), seed.to_string()))
                }
                _ => Some((c.synthetic_seed.to_string(), "none".into())),
            },
            "seeds" => {
                (c.seeds != spec.seeds).then(|| (c.seeds.to_string(), spec.seeds.to_string()))
            }
            "seed" => (c.seed != k.seed).then(|| (c.seed.to_string(), k.seed.to_string())),
            "mpc_seed" => {
                (c.mpc_seed != k.mpc_seed).then(|| (c.mpc_seed.to_string(), k.mpc_seed.to_string()))
            }
            "round" => {
                (c.round != k.round_size).then(|| (c.round.to_string(), k.round_size.to_string()))
            }
            "threshold" => c
                .threshold
                .filter(|&v| v != k.threshold)
                .map(|v| (v.to_string(), k.threshold.to_string())),
            "schedule" => {
                let v = match c.schedule {
                    ScheduleArg::Energy => Schedule::Energy,
                    ScheduleArg::Uniform => Schedule::Uniform,
                }
                .name();
                (v != k.schedule).then(|| (v.to_string(), k.schedule.clone()))
            }
            "guide" => {
                let v = match c.guide {
                    GuideArg::Err => Guide::Err,
                    GuideArg::Random => Guide::Random,
                }
                .name();
                (v != k.guide).then(|| (v.to_string(), k.guide.clone()))
            }
            "fitness" => {
                let v = match c.fitness {
                    FitnessArg::LogitL2 => Fitness::LogitL2,
                    FitnessArg::Margin => Fitness::Margin,
                }
                .name();
                (v != k.fitness).then(|| (v.to_string(), k.fitness.clone()))
            }
            "mutator" => {
                let name = |m: MutatorArg| match m {
                    MutatorArg::Artifact => "artifact",
                    MutatorArg::Mpcdiff => "mpcdiff",
                    MutatorArg::Gradient => "gradient",
                };
                (recorded_family != Some(c.mutator)).then(|| {
                    (
                        name(c.mutator).to_string(),
                        recorded_family.map_or("other operator weights".into(), |m| name(m).into()),
                    )
                })
            }
            "sigma" => c
                .sigma
                .filter(|&v| v != k.mutator.sigma)
                .map(|v| (v.to_string(), k.mutator.sigma.to_string())),
            "linf" => (c.linf != k.mutator.linf).then(|| (opt(c.linf), opt(k.mutator.linf))),
            "l2" => (c.l2 != k.mutator.l2).then(|| (opt(c.l2), opt(k.mutator.l2))),
            "repeats" => {
                (c.repeats != k.repeats).then(|| (c.repeats.to_string(), k.repeats.to_string()))
            }
            "plan" => {
                let given = c.plan.as_deref().unwrap_or(std::path::Path::new(""));
                let json = OwnedPlan::load(given, setup)?.to_json(setup);
                match &spec.plan {
                    Some(rec) if *rec == json => None,
                    Some(_) => Some((show(given), "another plan".into())),
                    None => Some((show(given), "none".into())),
                }
            }
            // A flag this check does not know: refuse rather than ignore it.
            other => Some(("(given)".into(), format!("not comparable ({other})"))),
        };
        if let Some((given, rec)) = d {
            let flag = format!("--{}", id.replace('_', "-"));
            differ.push((format!("{flag} {given}"), format!("{flag} {rec}")));
        }
    }
    if differ.is_empty() {
        return Ok(());
    }
    let given: Vec<&str> = differ.iter().map(|(g, _)| g.as_str()).collect();
    let recorded: Vec<&str> = differ.iter().map(|(_, r)| r.as_str()).collect();
    Err(usage!(
        "--resume: {} records {}, not {}: a resumed campaign keeps its recorded settings, so drop {} to continue it, or start a new campaign with them in another folder (--out)",
        dir.join(fuzzing::CAMPAIGN).display(),
        recorded.join(", "),
        given.join(", "),
        if differ.len() == 1 { "that flag" } else { "those flags" }
    ))
}

/// Runs `fuzz`; `typed`: the ids of the flags given on the command line (clap's).
pub fn run(a: &FuzzArgs, typed: &[String]) -> anyhow::Result<()> {
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
            Some(p) => OwnedPlan::from_json(
                p,
                &setup,
                &dir.join(fuzzing::CAMPAIGN).display().to_string(),
            )?,
            None => OwnedPlan::default(),
        };
        campaign
            .spec
            .settings
            .settings()
            .map_err(|e| fuzzing::recorded(dir, usage!("{e}")))?;
        let corpus = fuzzing::corpus_of(&campaign.spec.corpus, campaign.spec.seeds, &setup)
            .map_err(|e| fuzzing::recorded(dir, e))?;
        check_resume_flags(a, typed, dir, &campaign.spec, &setup, &corpus)?;
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
