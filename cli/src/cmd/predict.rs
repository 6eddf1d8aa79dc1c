//! `mpcdiff predict`: one input through the plaintext and the MPC model.
//!
//! `mpcdiff predict --model lenet|lenet-relu|credit-mlp|bank-mlp|FILE --input FILE
//! [--profile P] [--frac-bits F] [--mpc-seed S] [--trunc local|dealer] [--deploy crypten|crypten-modules|folded]
//! [--engine protocol|ideal]
//! [--level E/R|high|medium|low] [--json]`
//!
//! The input file holds one sample *before* the model's normalisation, as numbers separated
//! by white space or commas (`#` starts a comment line): for MNIST models, the 784 pixel
//! intensities `u` in [0, 1] of a 28×28 image, row by row (the page's rasterised drawing, or
//! `p / 255` of an MNIST byte); for the tabular models, the raw feature values. The model's
//! recorded `preprocessing` then applies: `(u − mean) / std` in `f32`, or min-max scaling.
//!
//! The two models are `mpcdiff eval`'s: the **plaintext** model in `f64` with exact
//! activations and folded batch norm, the **MPC** model on two-party shares with the
//! profile's approximations (at `--level` on every activation layer if given), its session
//! seeded with `--mpc-seed` itself. Weights are loaded, then the input, then the forward pass
//! runs and the logits are revealed: the order of the web demo's `Session.predict`, whose MPC
//! logits are these, bit for bit (`web/test/` checks that in a real browser).
//!
//! # JSON (`--json`), schema `mpcdiff.predict/2`
//! `{schema, command: "predict", version, model, architecture, input, features, profile,
//! frac_bits, mpc_seed, trunc, deploy, engine, level: null | {iters_exp, iters_nr}, plaintext: {logits,
//! probabilities, label}, mpc: {logits, probabilities, label}, agree, deviation: {max_abs,
//! l2}, cost: {rounds, multiplications, and_triples, bytes_per_party, crypten_bytes,
//! truncations, wrap_events}, replay}`. Logits are printed in the shortest form that reads
//! back to the same `f64`; probabilities are `softmax` in `f64` with `libm::exp`; the cost is
//! the MPC forward pass's (the weights and the input brought in excluded, the reveal included).

use std::path::{Path, PathBuf};

use clap::Args;
use mpcdiff_host::session::Side;
use mpcdiff_kernel::difftest::mutation::distance;
use serde::Serialize;

use super::approx::parse_level;
use crate::data::MinMax;
use crate::engine::target::{Setup, TargetArgs};
use crate::engine::worker::Worker;
use crate::error::usage;
use crate::flags::{DeployArg, EngineArg, TruncArg};
use crate::output;
use crate::train::format::{metadata_text, Preprocessing};

/// Options of `predict`.
#[derive(Clone, Debug, Args)]
pub struct PredictArgs {
    /// A built-in model (lenet, lenet-relu, credit-mlp, bank-mlp) or a model file.
    #[arg(long)]
    pub model: String,
    /// The sample before normalisation: numbers separated by white space or commas.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Approximation profile of the MPC model.
    #[arg(long, default_value = "crypten")]
    pub profile: String,
    /// Fixed-point fractional bits (0..=40).
    #[arg(long, default_value_t = 16)]
    pub frac_bits: u32,
    /// MPC seed.
    #[arg(long, default_value_t = 42)]
    pub mpc_seed: u64,
    /// Truncation protocol.
    #[arg(long, value_enum, default_value = "local")]
    pub trunc: TruncArg,
    /// What the framework runs: crypten (what crypten.nn.from_pytorch deploys),
    /// crypten-modules (a crypten.nn-module network), folded (idealised).
    #[arg(long, value_enum, default_value = "crypten")]
    pub deploy: DeployArg,
    /// How the shared arithmetic is simulated: protocol (every message) or ideal (ideal
    /// functionalities: the same law and ledger, other draws).
    #[arg(long, value_enum, default_value = "protocol")]
    pub engine: EngineArg,
    /// One level for every activation layer: E/R (exp squarings / Newton steps) or the
    /// profile's high, medium, low. Default: the profile's level.
    #[arg(long, value_name = "E/R|high|medium|low")]
    pub level: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct LevelJson {
    iters_exp: u8,
    iters_nr: u8,
}

#[derive(Serialize)]
struct Deviation {
    max_abs: f64,
    l2: f64,
}

#[derive(Serialize)]
struct CostJson {
    rounds: u64,
    multiplications: u64,
    and_triples: u64,
    bytes_per_party: u64,
    crypten_bytes: u64,
    truncations: u64,
    wrap_events: u64,
}

#[derive(Serialize)]
struct Report {
    schema: &'static str,
    command: &'static str,
    version: &'static str,
    model: String,
    architecture: String,
    input: String,
    features: usize,
    profile: &'static str,
    frac_bits: u32,
    mpc_seed: u64,
    trunc: &'static str,
    deploy: &'static str,
    /// How the shared arithmetic was simulated (`protocol` or `ideal`).
    engine: &'static str,
    level: Option<LevelJson>,
    /// `{logits, probabilities, label}`, as the page's prediction has them.
    plaintext: Side,
    mpc: Side,
    agree: bool,
    deviation: Deviation,
    cost: CostJson,
    replay: String,
}

/// The model's recorded preprocessing (`--model` names it in errors).
pub fn preprocessing_of(setup: &Setup, model_flag: &str) -> anyhow::Result<Preprocessing> {
    let features = setup.model.input.len();
    Ok(metadata_text(&setup.model, "preprocessing")
        .and_then(|t| Preprocessing::parse(&t, features))
        .map_err(|e| usage!("--model {model_flag}: its preprocessing metadata: {e}"))?)
}

/// A raw sample as the model's input: `(u − mean) / std` in `f32`, or min-max scaling.
pub fn model_input(p: &Preprocessing, raw: &[f64]) -> Vec<f64> {
    match p {
        Preprocessing::Mnist { mean, std } => raw
            .iter()
            .map(|&u| f64::from((u as f32 - mean) / std))
            .collect(),
        Preprocessing::MinMax { min, max } => {
            let mm = MinMax {
                min: min.clone(),
                max: max.clone(),
            };
            raw.iter()
                .enumerate()
                .map(|(j, &v)| f64::from(mm.apply(j, v)))
                .collect()
        }
    }
}

/// Reads the sample: `features` finite numbers.
pub fn read_input(path: &Path, features: usize) -> anyhow::Result<Vec<f64>> {
    let text = crate::files::read_to_string(path)
        .map_err(|e| usage!("--input {}: cannot read it ({e})", path.display()))?;
    let mut values = Vec::with_capacity(features);
    for (no, line) in text.lines().enumerate() {
        if line.trim_start().starts_with('#') {
            continue;
        }
        for field in line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|s| !s.is_empty())
        {
            let v: f64 = field
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| {
                    usage!(
                        "--input {} line {}: {field:?} is not a finite number",
                        path.display(),
                        no + 1
                    )
                })?;
            values.push(v);
        }
    }
    if values.len() != features {
        return Err(usage!(
            "--input {}: the model takes {features} values, the file holds {}",
            path.display(),
            values.len()
        )
        .into());
    }
    Ok(values)
}

/// Runs `predict`.
pub fn run(a: &PredictArgs) -> anyhow::Result<()> {
    let setup = Setup::new(&TargetArgs {
        model: a.model.clone(),
        profile: a.profile.clone(),
        frac_bits: a.frac_bits,
        trunc: a.trunc,
        deploy: a.deploy,
        arch: None,
        input_shape: None,
        engine: a.engine,
    })?;
    let (p, deploy, trunc) = (setup.profile, setup.deploy, setup.trunc);
    let level = a.level.as_deref().map(|s| parse_level(s, p)).transpose()?;
    let model = &setup.model;
    let features = model.input.len();
    let preprocessing = preprocessing_of(&setup, &a.model)?;
    let raw = read_input(&a.input, features)?;
    let x = model_input(&preprocessing, &raw);
    setup.check_input(&x, &format!("--input {}", a.input.display()))?;
    let engine = a.engine.engine();
    // Spelled only when not the default, as every replay line does.
    let engine_flag = if a.engine.is_default() {
        String::new()
    } else {
        format!(" --engine {}", engine.name())
    };
    let replay = format!(
        "mpcdiff predict --model {} --input {} --profile {} --frac-bits {} --mpc-seed {} --trunc {} --deploy {}{}{}",
        a.model,
        a.input.display(),
        p.name,
        a.frac_bits,
        a.mpc_seed,
        trunc.name(),
        deploy.name(),
        engine_flag,
        level
            .map(|l| format!(" --level {}/{}", l.iters_exp, l.iters_nr))
            .unwrap_or_default()
    );
    crate::output::say!(
        "mpcdiff {}  predict  mpc seed {}  replay: {replay}",
        mpcdiff_kernel::VERSION,
        a.mpc_seed
    );

    // Plaintext: f64, exact activations, folded batch norm; MPC: a session seeded with the
    // MPC seed itself (weights, then the input, the forward pass and the reveal).
    let mut ws = Worker::new(&setup)?;
    let plain_logits = ws.plaintext(&x, None)?;
    // One level on every activation layer, as the web demo's level menu sets it.
    let plan = mpcdiff_host::plan::uniform(model, level);
    let (mpc_logits, cost) = ws.mpc(&x, a.mpc_seed, &plan, None)?;

    // The kernel's distance, as the page's prediction computes it.
    let (l2, max_abs) = distance(&mpc_logits, &plain_logits);
    let deviation = Deviation { max_abs, l2 };
    let plaintext = Side::new(plain_logits);
    let mpc = Side::new(mpc_logits);
    let report = Report {
        schema: "mpcdiff.predict/2",
        command: "predict",
        version: mpcdiff_kernel::VERSION,
        model: a.model.clone(),
        architecture: model.architecture.to_string(),
        input: a.input.display().to_string(),
        features,
        profile: p.name,
        frac_bits: a.frac_bits,
        mpc_seed: a.mpc_seed,
        trunc: trunc.name(),
        deploy: deploy.name(),
        engine: engine.name(),
        level: level.map(|l| LevelJson {
            iters_exp: l.iters_exp,
            iters_nr: l.iters_nr,
        }),
        agree: plaintext.label == mpc.label,
        plaintext,
        mpc,
        deviation,
        cost: CostJson {
            rounds: cost.rounds,
            multiplications: cost.multiplications(),
            and_triples: cost.and_triples,
            bytes_per_party: cost.bytes_sent[0],
            crypten_bytes: cost.crypten_bytes(),
            truncations: cost.truncations,
            wrap_events: cost.wrap_events,
        },
        replay,
    };
    if a.json {
        let mut t = serde_json::to_string(&report)?;
        t.push('\n');
        return output::emit(&t);
    }
    use std::fmt::Write;
    let mut t = String::new();
    writeln!(
        t,
        "{} ({}) on {}; MPC: profile {}, {} fractional bits, truncation {}, batch norm {}{}{}",
        report.model,
        report.architecture,
        report.input,
        p.name,
        a.frac_bits,
        report.trunc,
        report.deploy,
        engine_flag.replace(" --engine ", ", engine "),
        level
            .map(|l| format!(", activations at level {}/{}", l.iters_exp, l.iters_nr))
            .unwrap_or_default()
    )?;
    writeln!(
        t,
        "{:>5}  {:>14} {:>9}  {:>14} {:>9}",
        "class", "plaintext", "p", "MPC", "p"
    )?;
    for c in 0..model.classes {
        writeln!(
            t,
            "{:>5}  {:>14.6} {:>9.5}  {:>14.6} {:>9.5}",
            c,
            report.plaintext.logits[c],
            report.plaintext.probabilities[c],
            report.mpc.logits[c],
            report.mpc.probabilities[c]
        )?;
    }
    writeln!(
        t,
        "label: plaintext {}, MPC {} ({}); logit deviation max {:.3e}, L2 {:.3e}",
        report.plaintext.label,
        report.mpc.label,
        if report.agree { "agree" } else { "DISAGREE" },
        report.deviation.max_abs,
        report.deviation.l2
    )?;
    writeln!(
        t,
        "MPC cost: {} rounds, {} multiplications, {} AND words, {:.1} KiB sent per party, {} wrap events",
        cost.rounds,
        cost.multiplications(),
        cost.and_triples,
        cost.bytes_sent[0] as f64 / 1024.0,
        cost.wrap_events
    )?;
    output::emit(&t)
}
