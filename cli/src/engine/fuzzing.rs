//! Running a campaign: admission, rounds on the thread pool, deviation records, checkpoints.
//!
//! # Files (in the output folder)
//! * `campaign.json` (`mpcdiff.campaign/1`): what was run (model, deployment, plan, corpus,
//!   settings, budget), how far it got and the summary. Everything in it is a function of the
//!   settings: no timings, no paths of temporary files.
//! * `deviations.jsonl`: one [`Deviation`] per line, in the order found, written as they are
//!   found; inputs are exact (`f64` in shortest round-trip form).
//! * `state.json` (`mpcdiff.state/1`): the checkpoint `--resume` continues from (entries,
//!   the current input of every active entry, the mutation paths, counters). Written every
//!   few seconds and at the end, always between rounds, atomically.
//!
//! A resumed campaign truncates `deviations.jsonl` to the lines its checkpoint knew, then
//! replays the same rounds: the files end identical to an uninterrupted run's.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use mpcdiff_kernel::difftest::campaign::{
    Campaign, Entry, Guide, Proposal, Schedule, Settings, Status,
};
use mpcdiff_kernel::difftest::fitness::{argmax, Fitness};
use mpcdiff_kernel::difftest::fuzzer::{
    Deviation as KDeviation, Fuzzer, Judge, Sink, Step as KStep, Stop, Trial,
};
use mpcdiff_kernel::difftest::mutation::{Budget, Descent, Mutator, Operator, Projection};
use serde::{Deserialize, Serialize};

use super::corpus::Corpus;
use super::plan::{OwnedPlan, PlanFile, PlanJson};
use super::pool::Pool;
use super::target::{Setup, TargetArgs};
use crate::error::{usage, UsageError};
use crate::output::{self, write_atomic};

/// One mutation on the path from a seed to its deviation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The mutant's number in the campaign (its randomness is sub-stream `mutant`).
    pub mutant: u64,
    /// The operator.
    pub op: String,
}

/// How often a deviation reproduces over MPC seeds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Probability {
    /// MPC sessions run (the finding one and `runs − 1` more).
    pub runs: u32,
    /// Sessions whose label differed from the plaintext label.
    pub flips: u32,
    /// `flips / runs`.
    pub p: f64,
}

/// A deviation-triggering input, as written to `deviations.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Deviation {
    /// The corpus entry (its position in the campaign).
    pub entry: usize,
    /// The seed's id in its source (e.g. test-split index).
    pub seed_id: u32,
    /// The true label.
    pub label: u16,
    /// The mutant that deviated (`None`: the seed itself, at admission).
    pub mutant: Option<u64>,
    /// The operator of that mutant.
    pub op: Option<String>,
    /// Mutations of the seed until then.
    pub mutations: u32,
    /// Accepted mutations from the seed to the deviating input (the last one included).
    pub path: Vec<Step>,
    /// Seed of the MPC session that deviated (replays it alone).
    pub mpc_seed: u64,
    /// Plaintext label.
    pub plaintext_label: usize,
    /// MPC label.
    pub mpc_label: usize,
    /// Plaintext logits.
    pub plaintext_logits: Vec<f64>,
    /// MPC logits.
    pub mpc_logits: Vec<f64>,
    /// ‖input − original‖₂.
    pub l2: f64,
    /// ‖input − original‖∞.
    pub linf: f64,
    /// Deviation probability over MPC seeds.
    pub probability: Probability,
    /// The deviating input.
    pub input: Vec<f64>,
    /// The seed's original input.
    pub original: Vec<f64>,
}

/// Where the corpus came from (enough to rebuild it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum CorpusSource {
    /// Synthetic digits.
    Synthetic {
        /// Their seed.
        seed: u64,
    },
    /// The model's dataset test split.
    Data {
        /// The data folder.
        dir: PathBuf,
    },
    /// A JSON Lines file.
    File {
        /// Its path.
        path: PathBuf,
        /// The data folder for the domain, if any.
        dir: Option<PathBuf>,
    },
}

impl CorpusSource {
    /// This source as a campaign records it: its files and folders by
    /// [`super::target::recorded_path`], so it resolves from any working directory.
    pub fn recorded(&self) -> CorpusSource {
        use super::target::recorded_path;
        match self {
            CorpusSource::Synthetic { seed } => CorpusSource::Synthetic { seed: *seed },
            CorpusSource::Data { dir } => CorpusSource::Data {
                dir: recorded_path(dir),
            },
            CorpusSource::File { path, dir } => CorpusSource::File {
                path: recorded_path(path),
                dir: dir.as_deref().map(recorded_path),
            },
        }
    }
}

/// The mutator as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MutatorJson {
    /// σ in model-input units.
    pub sigma: f64,
    /// `clip` or `rescale`.
    pub projection: String,
    /// Operator weights by name.
    pub weights: BTreeMap<String, u32>,
    /// L∞ budget.
    pub linf: Option<f64>,
    /// L2 budget.
    pub l2: Option<f64>,
}

impl MutatorJson {
    /// From the kernel's mutator.
    pub fn of(m: &Mutator) -> Self {
        MutatorJson {
            sigma: m.sigma,
            projection: match m.projection {
                Projection::Clip => "clip".into(),
                Projection::Rescale => "rescale".into(),
            },
            // The gradient operator is listed only when used, so the files of campaigns
            // without it keep their bytes.
            weights: Operator::ALL
                .iter()
                .filter(|o| **o != Operator::Gradient || m.weights[**o as usize] > 0)
                .map(|o| (o.name().to_string(), m.weights[*o as usize]))
                .collect(),
            linf: m.budget.linf,
            l2: m.budget.l2,
        }
    }

    /// To the kernel's mutator.
    pub fn mutator(&self) -> Result<Mutator, String> {
        let mut weights = [0u32; Operator::ALL.len()];
        for (name, &w) in &self.weights {
            let op = Operator::by_name(name).ok_or_else(|| format!("unknown operator {name:?}"))?;
            weights[op as usize] = w;
        }
        Ok(Mutator {
            sigma: self.sigma,
            projection: match self.projection.as_str() {
                "clip" => Projection::Clip,
                "rescale" => Projection::Rescale,
                p => return Err(format!("unknown projection {p:?}")),
            },
            weights,
            budget: Budget {
                linf: self.linf,
                l2: self.l2,
            },
        })
    }
}

/// The campaign settings as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingsJson {
    /// Scheduling and mutation seed.
    pub seed: u64,
    /// MPC seed.
    pub mpc_seed: u64,
    /// Mutants per round.
    pub round_size: usize,
    /// Per-seed mutation threshold.
    pub threshold: u32,
    /// `energy` or `uniform`.
    pub schedule: String,
    /// `err` or `random`.
    pub guide: String,
    /// `logit-l2` or `margin`.
    pub fitness: String,
    /// The mutator.
    pub mutator: MutatorJson,
    /// MPC sessions per deviation for its probability.
    pub repeats: u32,
}

impl SettingsJson {
    /// From the kernel's settings.
    pub fn of(s: &Settings, repeats: u32) -> Self {
        SettingsJson {
            seed: s.seed,
            mpc_seed: s.mpc_seed,
            round_size: s.round_size,
            threshold: s.threshold,
            schedule: s.schedule.name().into(),
            guide: s.guide.name().into(),
            fitness: s.fitness.name().into(),
            mutator: MutatorJson::of(&s.mutator),
            repeats,
        }
    }

    /// To the kernel's settings.
    pub fn settings(&self) -> Result<Settings, String> {
        Ok(Settings {
            seed: self.seed,
            mpc_seed: self.mpc_seed,
            round_size: self.round_size,
            threshold: self.threshold,
            schedule: Schedule::by_name(&self.schedule)
                .ok_or_else(|| format!("unknown schedule {:?}", self.schedule))?,
            guide: Guide::by_name(&self.guide)
                .ok_or_else(|| format!("unknown guide {:?}", self.guide))?,
            fitness: Fitness::by_name(&self.fitness)
                .ok_or_else(|| format!("unknown fitness {:?}", self.fitness))?,
            mutator: self.mutator.mutator()?,
        })
    }
}

/// What a campaign is: everything that determines its result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    /// Model and deployment.
    pub target: TargetArgs,
    /// The repair plan the MPC model runs with, if any.
    pub plan: Option<PlanJson>,
    /// The seeds' source.
    pub corpus: CorpusSource,
    /// Seeds taken from it.
    pub seeds: usize,
    /// Campaign settings.
    pub settings: SettingsJson,
    /// Mutation budget.
    pub mutations: u64,
}

/// Counts over a campaign.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Seeds in the corpus.
    pub seeds: usize,
    /// Seeds the plaintext model gets wrong (not admitted).
    pub skipped: usize,
    /// Seeds that already deviate unmutated.
    pub found_at_admission: usize,
    /// Deviations found by mutation.
    pub found_by_mutation: usize,
    /// All deviations.
    pub deviations: usize,
    /// Seeds dropped by the mutation threshold.
    pub dropped: usize,
    /// Seeds still active.
    pub active: usize,
    /// Mutants evaluated.
    pub mutants: u64,
    /// Rounds run.
    pub rounds: u64,
    /// Mean L2 distance of the mutated deviations to their originals.
    pub mean_l2: Option<f64>,
    /// Mean L∞ distance of the mutated deviations to their originals.
    pub mean_linf: Option<f64>,
    /// Mean deviation probability over MPC seeds.
    pub mean_probability: Option<f64>,
    /// Deviations by the operator of their last mutation.
    pub by_operator: BTreeMap<String, usize>,
    /// Digest of every outcome in order (equal digests: equal campaigns).
    pub digest: String,
    /// Why it stopped: `mutations`, `corpus` (no active seed left) or `time`.
    pub stopped_by: String,
}

/// `campaign.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignJson {
    /// `mpcdiff.campaign/1`.
    pub schema: String,
    /// mpcdiff's version.
    pub version: String,
    /// What was run.
    pub spec: Spec,
    /// The outcome so far.
    pub summary: Summary,
}

/// `state.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StateJson {
    schema: String,
    /// [`identity`] of the campaign the checkpoint belongs to (`--resume` refuses another's).
    #[serde(default)]
    identity: String,
    rounds: u64,
    mutants: u64,
    digest: u64,
    deviation_lines: usize,
    entries: Vec<EntryJson>,
    /// Current inputs of active entries that moved from their original.
    current: BTreeMap<usize, Vec<f64>>,
    paths: BTreeMap<usize, Vec<Step>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct EntryJson {
    seed: u32,
    label: u16,
    status: String,
    fitness: f64,
    mutations: u32,
    accepted: u32,
    picked: u64,
}

/// The file names in a campaign folder.
pub use super::folder::{CAMPAIGN, DEVIATIONS};
/// See the module doc.
pub const STATE: &str = "state.json";

/// Files derived from a campaign (by `localize`, `repair`, `report`): a new campaign in the
/// same folder removes them with the old checkpoint, so nothing of the old one is reused.
pub const DERIVED: [&str; 3] = ["localize.json", "plan.json", "repair.json"];

/// A campaign's identity: FNV-1a of its spec (model, deployment, plan, corpus, settings, as
/// `campaign.json` records them; not the mutation budget, which `--resume --mutations N`
/// may extend) and of the model file's bytes, in 16 hex digits. A checkpoint records it, and
/// `--resume` refuses a checkpoint of another campaign.
pub fn identity(spec: &Spec, setup: &Setup) -> anyhow::Result<String> {
    let text = serde_json::to_string(&Spec {
        mutations: 0,
        ..spec.clone()
    })?;
    let d = mpcdiff_kernel::digest::Digest::new()
        .bytes(text.as_bytes())
        .u64(setup.model_digest)
        .finish();
    Ok(format!("{d:016x}"))
}

/// `e`, an error in what the `campaign.json` of folder `dir` records (its model, deployment,
/// corpus or settings), told as such: the sentence names the file, not a flag nobody typed.
pub fn recorded(dir: &Path, e: UsageError) -> UsageError {
    usage!(
        "{} (the campaign's recorded settings): {e}",
        dir.join(CAMPAIGN).display()
    )
}

/// Starts a new campaign in `dir`: the old campaign's checkpoint, derived files and
/// repaired campaign go (and the temporary files of a killed run).
fn clear_folder(dir: &Path) -> anyhow::Result<()> {
    for name in [STATE].iter().chain(DERIVED.iter()) {
        remove_if_present(&dir.join(name))?;
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with("heatmap-") && name.ends_with(".svg") {
                remove_if_present(&e.path())?;
            }
        }
    }
    let repaired = dir.join("repaired");
    if repaired.join(CAMPAIGN).is_file() {
        std::fs::remove_dir_all(&repaired)
            .map_err(|e| output::unwritable("remove the old", &repaired, &e))?;
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(output::unwritable("remove the old", path, &e).into())
        }
        _ => Ok(()),
    }
}

/// The byte length of the first `k` records (non-empty lines, each ending in a newline) of
/// `text`, if it holds that many.
fn records_len(text: &[u8], k: usize) -> Option<usize> {
    let mut at = 0;
    let mut seen = 0;
    while seen < k {
        let end = at + text[at..].iter().position(|&b| b == b'\n')?;
        if text[at..end].iter().any(|b| !b.is_ascii_whitespace()) {
            seen += 1;
        }
        at = end + 1;
    }
    Some(at)
}

/// The first `seeds` inputs of a corpus source.
pub fn corpus_of(source: &CorpusSource, seeds: usize, setup: &Setup) -> Result<Corpus, UsageError> {
    match source {
        CorpusSource::Synthetic { seed } => {
            if setup.dataset != Some("mnist") {
                return Err(usage!(
                    "synthetic digits are a corpus for MNIST models only; give --data or --corpus for {}",
                    setup.args.model
                ));
            }
            Corpus::synthetic(*seed, seeds).map_err(|e| usage!("synthetic digits: {e}"))
        }
        CorpusSource::Data { dir } => {
            let data = setup.load_data(dir)?;
            Ok(Corpus::test_split(&data, seeds))
        }
        CorpusSource::File { path, dir } => {
            let data = dir.as_deref().map(|d| setup.load_data(d)).transpose()?;
            Corpus::file(path, setup, data.as_ref(), seeds)
        }
    }
}

/// The outcome of [`run`].
pub struct Outcome {
    /// The campaign file's contents.
    pub campaign: CampaignJson,
    /// The deviations, in the order found.
    pub deviations: Vec<Deviation>,
}

/// Options of a run that do not change its result.
pub struct RunOptions<'p> {
    /// Where to write the files (`None`: memory only).
    pub out: Option<&'p Path>,
    /// Continue from `out/state.json`.
    pub resume: bool,
    /// Stop between rounds after this many seconds.
    pub time: Option<f64>,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

fn entry_json(e: &Entry) -> EntryJson {
    EntryJson {
        seed: e.seed,
        label: e.label,
        status: e.status.name().into(),
        fitness: e.fitness,
        mutations: e.mutations,
        accepted: e.accepted,
        picked: e.picked,
    }
}

fn entry_of(e: &EntryJson) -> Result<Entry, String> {
    Ok(Entry {
        seed: e.seed,
        label: e.label,
        status: Status::by_name(&e.status)
            .ok_or_else(|| format!("unknown status {:?}", e.status))?,
        fitness: e.fitness,
        mutations: e.mutations,
        accepted: e.accepted,
        picked: e.picked,
    })
}

impl Step {
    /// The kernel's step as recorded.
    pub fn of(s: KStep) -> Self {
        Step {
            mutant: s.mutant,
            op: s.op.name().to_string(),
        }
    }
}

impl Deviation {
    /// The record of a deviation the kernel's fuzzer found, with the `path` that led to it.
    pub fn of(d: &KDeviation<'_>, path: Vec<Step>) -> Self {
        Deviation {
            entry: d.entry,
            seed_id: d.seed_id,
            label: d.label,
            mutant: d.mutant.map(|m| m.mutant),
            op: d.mutant.map(|m| m.op.name().to_string()),
            mutations: d.mutations,
            path,
            mpc_seed: d.mpc_seed,
            plaintext_label: argmax(d.plaintext),
            mpc_label: argmax(d.mpc),
            plaintext_logits: d.plaintext.to_vec(),
            mpc_logits: d.mpc.to_vec(),
            l2: d.l2,
            linf: d.linf,
            probability: Probability {
                runs: d.runs.runs,
                flips: d.runs.flips,
                p: d.runs.probability(),
            },
            input: d.input.to_vec(),
            original: d.original.to_vec(),
        }
    }
}

/// The kernel's [`Judge`] on the thread pool: one evaluator per thread, results in input
/// order (every input carries its seed, so the thread count changes nothing).
pub struct PoolJudge<'p, 's> {
    /// The threads.
    pub pool: &'p Pool<'s>,
    /// The MPC model's plan.
    pub plan: &'p OwnedPlan,
    /// The plaintext model's margin gradient (for the gradient operator), on the calling
    /// thread.
    pub descent: Option<PlainGradient<'s>>,
}

/// The plaintext model's margin gradient ([`mpcdiff_kernel::nn::gradient::Plain`]) with its
/// own parameters and tape.
pub struct PlainGradient<'s> {
    model: &'s mpcdiff_kernel::nn::model::Model<'static>,
    params: Vec<f64>,
    tape: Vec<f64>,
}

impl<'s> PlainGradient<'s> {
    /// The gradient of `setup`'s plaintext model.
    ///
    /// # Errors
    /// The model's loading errors.
    pub fn new(setup: &'s Setup) -> mpcdiff_kernel::Result<Self> {
        use mpcdiff_kernel::nn::gradient;
        let model = &setup.model;
        let mut params = vec![0.0; gradient::params_len(model)?];
        gradient::Plain::load(model, &mut params)?;
        Ok(PlainGradient {
            model,
            params,
            tape: vec![0.0; gradient::tape_elems(model)],
        })
    }
}

impl Descent for PlainGradient<'_> {
    fn margin_gradient(
        &mut self,
        x: &[f64],
        label: usize,
        grad: &mut [f64],
    ) -> mpcdiff_kernel::Result<f64> {
        mpcdiff_kernel::nn::gradient::Plain::new(self.model, &self.params, &mut self.tape)
            .margin_gradient(x, label, grad)
    }
}

/// A worker's failure as a kernel error (the judge's error type).
fn kernel_error(e: anyhow::Error) -> mpcdiff_kernel::Error {
    e.downcast::<mpcdiff_kernel::Error>()
        .unwrap_or(mpcdiff_kernel::Error::OutOfRange {
            what: "a worker thread failed",
        })
}

impl Judge for PoolJudge<'_, '_> {
    fn judge(
        &mut self,
        inputs: &[f64],
        trials: &mut [Trial],
        repeats: u32,
        plain: &mut [f64],
        mpc: &mut [f64],
    ) -> mpcdiff_kernel::Result<()> {
        let k = trials.len();
        if k == 0 {
            return Ok(());
        }
        let n = inputs.len() / k;
        let jobs: Vec<(usize, u64, u16)> = trials
            .iter()
            .enumerate()
            .map(|(j, t)| (j, t.seed, t.label))
            .collect();
        let plan = self.plan;
        let out = self
            .pool
            .map(&jobs, |ws, &(j, seed, label)| {
                let c = ws.classes();
                let (mut pl, mut mp) = (vec![0.0; c], vec![0.0; c]);
                let x = &inputs[j * n..(j + 1) * n];
                let r =
                    ws.with(|ev| ev.judge_one(x, seed, label, repeats, plan, &mut pl, &mut mp))?;
                Ok((pl, mp, r))
            })
            .map_err(kernel_error)?;
        for (j, (pl, mp, r)) in out.into_iter().enumerate() {
            let c = pl.len();
            plain[j * c..(j + 1) * c].copy_from_slice(&pl);
            mpc[j * c..(j + 1) * c].copy_from_slice(&mp);
            trials[j].runs = r;
        }
        Ok(())
    }

    fn descent(&mut self) -> Option<&mut dyn Descent> {
        self.descent.as_mut().map(|d| d as &mut dyn Descent)
    }
}

/// The CLI's [`Sink`]: the deviations (appended to `deviations.jsonl` as found), the mutation
/// paths, the progress bar, the time limit and the checkpoints.
struct FileSink<'o> {
    paths: Vec<Vec<Step>>,
    deviations: Vec<Deviation>,
    file: Option<std::fs::File>,
    /// The path of `file`, for errors.
    dev_path: Option<PathBuf>,
    bar: indicatif::ProgressBar,
    opts: &'o RunOptions<'o>,
    start: Instant,
    last_checkpoint: Instant,
    state_path: Option<PathBuf>,
    identity: String,
    /// Stopped by Ctrl-C or SIGTERM (`crate::interrupt`).
    interrupted: bool,
}

impl Sink for FileSink<'_> {
    type Error = anyhow::Error;

    fn accepted(&mut self, entry: usize, step: KStep) -> anyhow::Result<()> {
        self.paths[entry].push(Step::of(step));
        Ok(())
    }

    fn deviation(&mut self, d: &KDeviation<'_>) -> anyhow::Result<()> {
        let path = match d.mutant {
            Some(step) => {
                let mut path = std::mem::take(&mut self.paths[d.entry]);
                path.push(Step::of(step));
                path
            }
            None => Vec::new(),
        };
        let record = Deviation::of(d, path);
        if let (Some(f), Some(p)) = (&mut self.file, &self.dev_path) {
            // On disk before any checkpoint can count it; a record that cannot be written
            // whole (a full disk) is cut off again, so the file ends with a whole record.
            let line = serde_json::to_string(&record)? + "\n";
            let appended = f.metadata().map(|m| m.len()).and_then(|len| {
                let r = f
                    .write_all(line.as_bytes())
                    .and_then(|()| f.flush())
                    .and_then(|()| f.sync_data());
                if r.is_err() {
                    let _ = f.set_len(len);
                }
                r
            });
            appended.map_err(|e| output::unwritable("write", p, &e))?;
        }
        self.deviations.push(record);
        Ok(())
    }

    fn proceed(&mut self, camp: &Campaign<'_>) -> anyhow::Result<bool> {
        if crate::interrupt::requested() {
            self.interrupted = true;
            return Ok(false);
        }
        self.bar.set_position(camp.mutants());
        self.bar
            .set_message(format!("{} deviations", self.deviations.len()));
        if self
            .opts
            .time
            .is_some_and(|t| self.start.elapsed().as_secs_f64() >= t)
        {
            return Ok(false);
        }
        if self.last_checkpoint.elapsed().as_secs_f64() >= 10.0 {
            checkpoint(
                camp,
                &self.paths,
                self.deviations.len(),
                &self.identity,
                self.state_path.as_deref(),
            )?;
            self.last_checkpoint = Instant::now();
        }
        Ok(true)
    }
}

/// Runs (or resumes) the campaign `spec` on `corpus`.
pub fn run(
    spec: &Spec,
    corpus: &Corpus,
    plan: &OwnedPlan,
    pool: &Pool<'_>,
    opts: &RunOptions<'_>,
) -> anyhow::Result<Outcome> {
    // Settings from a resumed campaign's file are its own; from flags they were checked.
    let refused = |e: String| {
        let e = usage!("campaign settings: {e}");
        match opts.out {
            Some(dir) if opts.resume => recorded(dir, e),
            _ => e,
        }
    };
    let settings = spec.settings.settings().map_err(refused)?;
    let n = corpus.features;
    let repeats = spec.settings.repeats;
    let mut entries: Vec<Entry> = (0..corpus.len())
        .map(|i| Entry::new(corpus.ids[i], corpus.labels[i]))
        .collect();
    let mut current = corpus.inputs.clone();
    let mut paths: Vec<Vec<Step>> = vec![Vec::new(); corpus.len()];
    let mut deviations: Vec<Deviation> = Vec::new();
    let mut counters = (0u64, 0u64, None::<u64>);

    let dev_path = opts.out.map(|d| d.join(DEVIATIONS));
    let state_path = opts.out.map(|d| d.join(STATE));
    let identity = identity(spec, pool.setup())?;
    if let Some(dir) = opts.out {
        std::fs::create_dir_all(dir)
            .map_err(|e| output::unwritable("create the output folder", dir, &e))?;
        output::clean_temp_files(dir);
        if !opts.resume {
            clear_folder(dir)?;
            // The spec first, so an interrupted campaign can be resumed.
            let started = CampaignJson {
                schema: "mpcdiff.campaign/1".into(),
                version: mpcdiff_kernel::VERSION.into(),
                spec: spec.clone(),
                summary: Summary {
                    stopped_by: "running".into(),
                    ..Summary::default()
                },
            };
            write_atomic(
                &dir.join(CAMPAIGN),
                &(serde_json::to_string_pretty(&started)? + "\n"),
            )?;
        }
    }

    let resumed = if opts.resume {
        let (Some(state_path), Some(dev_path)) = (&state_path, &dev_path) else {
            return Err(usage!("--resume needs --out").into());
        };
        let text = crate::files::read_to_string(state_path).map_err(|e| {
            usage!(
                "--resume: cannot read {} ({e}); run without --resume to start",
                state_path.display()
            )
        })?;
        let st: StateJson = serde_json::from_str(&text).map_err(|e| {
            usage!(
                "--resume: {} is not a campaign state ({e})",
                state_path.display()
            )
        })?;
        if st.identity != identity {
            return Err(usage!(
                "--resume: {} is the checkpoint of another campaign than {}'s (or of another model file): run without --resume to start again",
                state_path.display(),
                CAMPAIGN
            )
            .into());
        }
        let state = state_path.display();
        if st.entries.len() != corpus.len() {
            return Err(usage!(
                "--resume: {state}: the checkpoint has {} entries, the corpus {}",
                st.entries.len(),
                corpus.len()
            )
            .into());
        }
        for (i, e) in st.entries.iter().enumerate() {
            entries[i] = entry_of(e).map_err(|e| usage!("--resume: {state}: entry {i}: {e}"))?;
        }
        for (&i, x) in &st.current {
            if i >= corpus.len() || x.len() != n {
                return Err(usage!(
                    "--resume: {state}: the current input of entry {i} does not fit the corpus"
                )
                .into());
            }
            current[i * n..(i + 1) * n].copy_from_slice(x);
        }
        for (&i, p) in &st.paths {
            if i < corpus.len() {
                paths[i] = p.clone();
            }
        }
        deviations = read_lines(dev_path, Some(st.deviation_lines))?;
        counters = (st.rounds, st.mutants, Some(st.digest));
        true
    } else {
        false
    };

    let file = match &dev_path {
        // Resumed: the records the checkpoint knew stay where they are; anything after them
        // (found after the checkpoint, or a half-written line) is cut off in one step, then
        // new records are appended. Nothing the checkpoint counts is ever rewritten.
        Some(p) if resumed => {
            let text =
                crate::files::read(p).with_context(|| format!("could not read {}", p.display()))?;
            let keep = records_len(&text, deviations.len()).with_context(|| {
                format!("{}: fewer records than the checkpoint knows", p.display())
            })?;
            let f = std::fs::OpenOptions::new()
                .append(true)
                .open(p)
                .and_then(|f| {
                    f.set_len(keep as u64)?;
                    f.sync_all()?;
                    Ok(f)
                })
                .map_err(|e| output::unwritable("write", p, &e))?;
            Some(f)
        }
        Some(p) => Some(std::fs::File::create(p).map_err(|e| output::unwritable("write", p, &e))?),
        None => None,
    };
    let mut sink = FileSink {
        paths,
        deviations,
        file,
        dev_path: dev_path.clone(),
        bar: progress_bar(opts.progress, spec.mutations),
        opts,
        start: Instant::now(),
        last_checkpoint: Instant::now(),
        state_path: state_path.clone(),
        identity: identity.clone(),
        interrupted: false,
    };
    let descent = if settings.mutator.weights[Operator::Gradient as usize] > 0 {
        Some(PlainGradient::new(pool.setup())?)
    } else {
        None
    };
    let mut judge = PoolJudge {
        pool,
        plan,
        descent,
    };
    let classes = pool.classes();

    let stopped_by = corpus.domain.with(|domain| -> anyhow::Result<String> {
        let mut camp = Campaign::new(
            settings,
            *domain,
            &mut entries,
            &mut current,
            &corpus.inputs,
        )
        .map_err(|e| refused(e.to_string()))?;
        if resumed {
            camp.resume(counters.0, counters.1, counters.2.unwrap_or_default());
        }
        let round = settings.round_size;
        let mut proposals = vec![Proposal::default(); round];
        let mut trials = vec![Trial::default(); round];
        let mut floats = vec![0.0; Fuzzer::floats(round, n, classes)];
        let mut fuzzer = Fuzzer::new(
            &mut camp,
            classes,
            repeats,
            &mut proposals,
            &mut trials,
            &mut floats,
        )?;
        if !resumed {
            fuzzer.admit(&mut judge, &mut sink)?;
            // Resumable from the first mutant on.
            checkpoint(
                fuzzer.campaign(),
                &sink.paths,
                sink.deviations.len(),
                &identity,
                state_path.as_deref(),
            )?;
        }
        let stop = fuzzer.run(spec.mutations, &mut judge, &mut sink)?;
        sink.bar.finish_and_clear();
        let camp = fuzzer.campaign();
        checkpoint(
            camp,
            &sink.paths,
            sink.deviations.len(),
            &identity,
            state_path.as_deref(),
        )?;
        counters = (camp.rounds(), camp.mutants(), Some(camp.digest()));
        Ok(match stop {
            Stop::Budget => "mutations",
            Stop::Corpus => "corpus",
            Stop::Sink if sink.interrupted => "interrupted",
            Stop::Sink => "time",
        }
        .to_string())
    })?;
    let deviations = sink.deviations;

    let summary = summarize(corpus.len(), &entries, &deviations, counters, stopped_by);
    let campaign = CampaignJson {
        schema: "mpcdiff.campaign/1".into(),
        version: mpcdiff_kernel::VERSION.into(),
        spec: spec.clone(),
        summary,
    };
    if let Some(dir) = opts.out {
        write_atomic(
            &dir.join(CAMPAIGN),
            &(serde_json::to_string_pretty(&campaign)? + "\n"),
        )?;
    }
    Ok(Outcome {
        campaign,
        deviations,
    })
}

fn progress_bar(show: bool, len: u64) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} fuzz [{elapsed_precise}] {wide_bar} {pos}/{len} mutants, {msg} (eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar
}

fn checkpoint(
    camp: &Campaign<'_>,
    paths: &[Vec<Step>],
    deviation_lines: usize,
    identity: &str,
    path: Option<&Path>,
) -> anyhow::Result<()> {
    let Some(path) = path else { return Ok(()) };
    let active = |i: &usize| camp.entries()[*i].status == Status::Active;
    let st = StateJson {
        schema: "mpcdiff.state/1".into(),
        identity: identity.to_string(),
        rounds: camp.rounds(),
        mutants: camp.mutants(),
        digest: camp.digest(),
        deviation_lines,
        entries: camp.entries().iter().map(entry_json).collect(),
        current: (0..camp.entries().len())
            .filter(active)
            .filter(|&i| camp.current(i) != camp.original(i))
            .map(|i| (i, camp.current(i).to_vec()))
            .collect(),
        paths: (0..paths.len())
            .filter(|i| active(i) && !paths[*i].is_empty())
            .map(|i| (i, paths[i].clone()))
            .collect(),
    };
    write_atomic(path, &serde_json::to_string(&st)?)
}

fn summarize(
    seeds: usize,
    entries: &[Entry],
    deviations: &[Deviation],
    counters: (u64, u64, Option<u64>),
    stopped_by: String,
) -> Summary {
    let count = |s: Status| entries.iter().filter(|e| e.status == s).count();
    let mutated: Vec<&Deviation> = deviations.iter().filter(|d| d.mutant.is_some()).collect();
    let mean =
        |xs: &mut dyn Iterator<Item = f64>, n: usize| (n > 0).then(|| xs.sum::<f64>() / n as f64);
    let mut by_operator = BTreeMap::new();
    for d in &mutated {
        if let Some(op) = &d.op {
            *by_operator.entry(op.clone()).or_insert(0) += 1;
        }
    }
    Summary {
        seeds,
        skipped: count(Status::Skipped),
        found_at_admission: deviations.len() - mutated.len(),
        found_by_mutation: mutated.len(),
        deviations: deviations.len(),
        dropped: count(Status::Dropped),
        active: count(Status::Active),
        mutants: counters.1,
        rounds: counters.0,
        mean_l2: mean(&mut mutated.iter().map(|d| d.l2), mutated.len()),
        mean_linf: mean(&mut mutated.iter().map(|d| d.linf), mutated.len()),
        mean_probability: mean(
            &mut deviations.iter().map(|d| d.probability.p),
            deviations.len(),
        ),
        by_operator,
        digest: format!("{:016x}", counters.2.unwrap_or_default()),
        stopped_by,
    }
}

/// The first `k` (all if `None`) deviation records of a `deviations.jsonl` file.
fn read_lines(path: &Path, k: Option<usize>) -> Result<Vec<Deviation>, UsageError> {
    let text = crate::files::read_to_string(path)
        .map_err(|e| usage!("cannot read {} ({e})", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if k.is_some_and(|k| out.len() == k) {
            break;
        }
        if line.trim().is_empty() {
            continue;
        }
        let d: Deviation = serde_json::from_str(line).map_err(|e| {
            usage!(
                "{} line {}: not a deviation record ({e})",
                path.display(),
                i + 1
            )
        })?;
        out.push(d);
    }
    if let Some(k) = k {
        if out.len() < k {
            return Err(usage!(
                "{}: the checkpoint knows {k} deviations, the file has {}",
                path.display(),
                out.len()
            ));
        }
    }
    Ok(out)
}

/// Reads `campaign.json` of a campaign folder.
pub fn read_campaign(dir: &Path) -> Result<CampaignJson, UsageError> {
    let cpath = dir.join(CAMPAIGN);
    let text = crate::files::read_to_string(&cpath).map_err(|e| {
        usage!(
            "{}: cannot read it ({e}); run `mpcdiff fuzz --out {}` first",
            cpath.display(),
            dir.display()
        )
    })?;
    let campaign: CampaignJson = serde_json::from_str(&text).map_err(|e| {
        // Campaigns from before deployments recorded `--bn` and simulated a computation
        // CrypTen does not run: say so rather than name a missing field.
        let old = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.pointer("/spec/target/bn").cloned())
            .is_some();
        if old {
            usage!(
                "{}: written by an mpcdiff that simulated batch norm with --bn, before deployments; its results do not hold for what CrypTen runs: run the campaign again (mpcdiff fuzz … --deploy crypten)",
                cpath.display()
            )
        } else {
            usage!("{}: not an mpcdiff.campaign/1 file ({e})", cpath.display())
        }
    })?;
    if campaign.schema != "mpcdiff.campaign/1" {
        return Err(usage!(
            "{}: schema {:?} is not mpcdiff.campaign/1",
            cpath.display(),
            campaign.schema
        ));
    }
    Ok(campaign)
}

/// A finished or interrupted campaign read back from its folder, every deviation re-verified.
pub struct Loaded {
    /// The campaign folder.
    pub dir: PathBuf,
    /// `campaign.json`.
    pub campaign: CampaignJson,
    /// The model and deployment it ran on.
    pub setup: Setup,
    /// The plan it ran with.
    pub plan: OwnedPlan,
    /// Its deviations, each replayed.
    pub deviations: Vec<Deviation>,
}

/// Reads a campaign folder and replays every deviation (plaintext and MPC with its recorded
/// seed): a record whose logits differ in any bit, or that no longer deviates, is an error.
pub fn load(dir: &Path, threads: usize) -> anyhow::Result<Loaded> {
    let cpath = dir.join(CAMPAIGN);
    let campaign = read_campaign(dir)?;
    let setup = Setup::new(&campaign.spec.target).map_err(|e| recorded(dir, e))?;
    let plan = match &campaign.spec.plan {
        Some(p) => OwnedPlan::from_json(p, &setup, &cpath.display().to_string())?,
        None => OwnedPlan::default(),
    };
    let deviations = read_lines(&dir.join(DEVIATIONS), None)?;
    let counted = campaign.summary.deviations;
    if campaign.summary.stopped_by != "running" && deviations.len() != counted {
        return Err(usage!(
            "{}: {} records, but {} counts {counted} deviations: the folder is damaged or was edited; run the campaign again",
            dir.join(DEVIATIONS).display(),
            deviations.len(),
            cpath.display()
        )
        .into());
    }
    // The corpus entries a record may come from: those a campaign that ran counted, else
    // the seeds it asked for.
    let entries = if campaign.summary.stopped_by == "running" {
        campaign.spec.seeds
    } else {
        campaign.summary.seeds
    };
    for (k, d) in deviations.iter().enumerate() {
        let n = setup.model.input.len();
        let at = format!("{} line {}", dir.join(DEVIATIONS).display(), k + 1);
        if d.entry >= entries {
            return Err(usage!(
                "{at}: entry {} is not one of the campaign's {entries} seeds: the file was edited, or belongs to another campaign",
                d.entry
            )
            .into());
        }
        if d.input.len() != n {
            return Err(usage!(
                "{at}: the input has {} values, {} takes {n}",
                d.input.len(),
                campaign.spec.target.model
            )
            .into());
        }
        setup.check_input(&d.input, &at)?;
    }
    let pool = Pool::new(&setup, threads)?;
    let checks = pool.map(&deviations, |ws, d| {
        let pl = ws.plaintext(&d.input, None)?;
        let (mp, _) = ws.mpc(&d.input, d.mpc_seed, &plan, None)?;
        let same = |a: &[f64], b: &[f64]| {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
        };
        Ok(same(&pl, &d.plaintext_logits)
            && same(&mp, &d.mpc_logits)
            && mpcdiff_kernel::difftest::fitness::is_deviation(&pl, &mp, usize::from(d.label)))
    })?;
    if let Some(k) = checks.iter().position(|ok| !ok) {
        return Err(usage!(
            "{} line {}: the recorded deviation does not replay (different logits or no label flip): the file was edited, or written by another version",
            dir.join(DEVIATIONS).display(),
            k + 1
        )
        .into());
    }
    drop(pool);
    Ok(Loaded {
        dir: dir.to_path_buf(),
        campaign,
        setup,
        plan,
        deviations,
    })
}
