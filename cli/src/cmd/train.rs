//! `mpcdiff train`: train one of the four MPCDiff models in plaintext and save it.
//!
//! `mpcdiff train --model lenet|lenet-relu|credit-mlp|bank-mlp --data DIR --seed S
//! [--epochs N] [--out FILE] [--json]` loads the model's dataset from `DIR` (the folder
//! holding `mnist/`, `credit/` and `bank/`; see `crate::data`), trains with the model's
//! recipe (`crate::train::Arch::recipe`; `--epochs` overrides the number of epochs, the
//! learning-rate schedule stays the same), and writes an `mpcdiff-model/1` file
//! (`crate::train::format`) to `--out`, by default `models/<model>.safetensors` under the
//! current folder (created if needed), through a temporary file and a rename.
//!
//! The same seed, data and mpcdiff version give the same file, byte for byte, whatever the
//! machine. The seed chooses the weight initialisation, the order of every epoch and, for
//! Credit and Bank, the train/test split.
//!
//! # Output
//! stderr: the header line (version, seed, replay command), what was loaded, the recipe,
//! then one line per epoch (loss, training accuracy during the epoch, test accuracy, time).
//! stdout: one summary line, or with `--json` one JSON object, schema `mpcdiff.train/1`:
//! `{schema, command: "train", version, seed, model, dataset, epochs, batch, out, bytes,
//! digest (FNV-1a of the file, 16 hex digits), train_len, test_len, train_correct,
//! test_correct, train_accuracy, test_accuracy, seconds, seconds_per_epoch: [..], replay}`.
//! Times are wall-clock and vary between runs; nothing else does.
//!
//! # Errors (exit 2)
//! An unknown model, a `--data` folder that does not exist, a missing or malformed data file
//! (the message names the file), `--epochs` outside 1..=1000, an `--out` that is a folder or
//! whose folder cannot be created.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::{Args, ValueEnum};
use mpcdiff_kernel::Digest;
use serde::Serialize;

use crate::data;
use crate::error::{usage, UsageError};
use crate::output;
use crate::train::{self, format, Arch, EpochReport, Recipe};

/// The largest `--epochs`.
pub const EPOCHS_MAX: u32 = 1000;

/// The model to train.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ModelArg {
    /// Sigmoid LeNet-5 with batch norm and average pooling, on MNIST.
    Lenet,
    /// LeNet-5 with ReLU and max pooling, on MNIST.
    LenetRelu,
    /// Linear(23→120), sigmoid, Linear(120→2), on Credit.
    CreditMlp,
    /// Linear(20→250), GELU (erf), Linear(250→2), on Bank.
    BankMlp,
}

impl ModelArg {
    fn arch(self) -> Arch {
        match self {
            ModelArg::Lenet => Arch::Lenet,
            ModelArg::LenetRelu => Arch::LenetRelu,
            ModelArg::CreditMlp => Arch::CreditMlp,
            ModelArg::BankMlp => Arch::BankMlp,
        }
    }
}

/// Options of `train`. Syntax only: [`Plan::from_args`] checks values.
#[derive(Clone, Debug, Args)]
pub struct TrainArgs {
    /// The model.
    #[arg(long, value_enum)]
    pub model: ModelArg,
    /// The data folder, holding mnist/, credit/ and bank/ (e.g. ../shared/data).
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// The seed: weight initialisation, epoch order, and the Credit/Bank split.
    #[arg(long)]
    pub seed: u64,
    /// Number of epochs (default: the model's recipe).
    #[arg(long, value_name = "N")]
    pub epochs: Option<u32>,
    /// Where to write the model (default: models/<model>.safetensors).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print one JSON object on stdout instead of the summary line.
    #[arg(long)]
    pub json: bool,
}

/// A checked `train` run.
struct Plan {
    arch: Arch,
    data: PathBuf,
    seed: u64,
    recipe: Recipe,
    out: PathBuf,
    json: bool,
}

impl Plan {
    fn from_args(a: &TrainArgs) -> Result<Plan, UsageError> {
        let arch = a.model.arch();
        if !a.data.is_dir() {
            return Err(usage!(
                "--data {}: the folder does not exist (it must hold mnist/, credit/ and bank/, \
                 e.g. ../shared/data).",
                a.data.display()
            ));
        }
        let mut recipe = arch.recipe();
        if let Some(e) = a.epochs {
            if !(1..=EPOCHS_MAX).contains(&e) {
                return Err(usage!(
                    "--epochs must be between 1 and {EPOCHS_MAX}, got {e}."
                ));
            }
            recipe.epochs = e;
        }
        let out = a
            .out
            .clone()
            .unwrap_or_else(|| Path::new("models").join(format!("{}.safetensors", arch.name())));
        if out.is_dir() {
            return Err(usage!("--out {}: is a folder, not a file.", out.display()));
        }
        if out.file_name().is_none() {
            return Err(usage!("--out {}: has no file name.", out.display()));
        }
        Ok(Plan {
            arch,
            data: a.data.clone(),
            seed: a.seed,
            recipe,
            out,
            json: a.json,
        })
    }

    fn replay(&self) -> String {
        format!(
            "mpcdiff train --model {} --data {} --seed {} --epochs {} --out {}{}",
            self.arch.name(),
            self.data.display(),
            self.seed,
            self.recipe.epochs,
            self.out.display(),
            if self.json { " --json" } else { "" }
        )
    }
}

/// The `--json` report (module doc).
#[derive(Serialize)]
struct Report {
    schema: &'static str,
    command: &'static str,
    version: &'static str,
    seed: u64,
    model: &'static str,
    dataset: &'static str,
    epochs: u32,
    batch: usize,
    out: String,
    bytes: usize,
    digest: String,
    train_len: usize,
    test_len: usize,
    train_correct: usize,
    test_correct: usize,
    train_accuracy: f64,
    test_accuracy: f64,
    seconds: f64,
    seconds_per_epoch: Vec<f64>,
    replay: String,
}

/// A line on stderr (progress, never results).
fn progress(line: &str) {
    let _stdout = std::io::stdout().lock();
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Runs `train`.
pub fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let plan = Plan::from_args(args)?;
    let arch = plan.arch;
    let r = plan.recipe;
    progress(&format!(
        "mpcdiff {}  train  seed {}  replay: {}",
        env!("CARGO_PKG_VERSION"),
        plan.seed,
        plan.replay()
    ));
    let t0 = Instant::now();
    let data = data::load(arch.dataset(), &plan.data, plan.seed).map_err(UsageError::from)?;
    progress(&format!(
        "data: {} from {}, {} train / {} test{} ({:.1} s)",
        data.name,
        plan.data.display(),
        data.train.len(),
        data.test.len(),
        match data.provenance.seed {
            Some(s) => format!(", split seed {s}"),
            None => ", official split".to_string(),
        },
        t0.elapsed().as_secs_f64()
    ));
    if data.train.len() < 2 || data.test.is_empty() {
        return Err(usage!(
            "--data {}: the {} split is too small to train on.",
            plan.data.display(),
            data.name
        )
        .into());
    }
    // The output folder exists before the long work starts.
    if let Some(dir) = plan.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            usage!(
                "--out {}: cannot create the folder {}: {e}.",
                plan.out.display(),
                dir.display()
            )
        })?;
    }
    progress(&format!("recipe: {}", r.describe()));
    let t_train = Instant::now();
    let mut per_epoch = Vec::new();
    let trained = train::train(arch, &data, &r, plan.seed, &mut |e: &EpochReport| {
        per_epoch.push(e.elapsed.as_secs_f64());
        progress(&format!(
            "epoch {:>3}/{}  lr {:.0e}  loss {:.4}  train {:.2}%  test {:.2}%  {:.1} s (total {:.0} s)",
            e.epoch,
            e.epochs,
            e.lr,
            e.loss,
            100.0 * e.train_accuracy,
            100.0 * e.test_accuracy,
            e.elapsed.as_secs_f64(),
            t_train.elapsed().as_secs_f64()
        ));
    });
    let seconds = t_train.elapsed().as_secs_f64();
    let model = train::to_model(arch, &data, &r, plan.seed, &trained);
    let bytes = format::write_model(&model);
    debug_assert!(train::read_model(&bytes).is_ok());
    crate::output::write_atomic(&plan.out, &bytes)?;
    let digest = format!("{:016x}", Digest::new().bytes(&bytes).finish());
    let (n_train, n_test) = (data.train.len(), data.test.len());
    let train_acc = trained.train_correct as f64 / n_train as f64;
    let test_acc = trained.test_correct as f64 / n_test as f64;
    let text = if plan.json {
        let report = Report {
            schema: "mpcdiff.train/1",
            command: "train",
            version: env!("CARGO_PKG_VERSION"),
            seed: plan.seed,
            model: arch.name(),
            dataset: data.name,
            epochs: r.epochs,
            batch: r.batch,
            out: plan.out.display().to_string(),
            bytes: bytes.len(),
            digest,
            train_len: n_train,
            test_len: n_test,
            train_correct: trained.train_correct,
            test_correct: trained.test_correct,
            train_accuracy: train_acc,
            test_accuracy: test_acc,
            seconds,
            seconds_per_epoch: per_epoch,
            replay: plan.replay(),
        };
        let mut s = serde_json::to_string_pretty(&report).context("serialize the report")?;
        s.push('\n');
        s
    } else {
        format!(
            "{}: test accuracy {:.2}% ({}/{}), train {:.2}%, {} epochs in {:.1} s; wrote {} ({} bytes, digest {})\n",
            arch.name(),
            100.0 * test_acc,
            trained.test_correct,
            n_test,
            100.0 * train_acc,
            r.epochs,
            seconds,
            plan.out.display(),
            bytes.len(),
            digest
        )
    };
    output::emit(&text)
}
