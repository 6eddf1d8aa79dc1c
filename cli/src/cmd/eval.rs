//! `mpcdiff eval`: plaintext vs MPC accuracy of a model on its full test split.
//!
//! `mpcdiff eval --model lenet|lenet-relu|credit-mlp|bank-mlp|FILE --profile crypten|mpcdiff|…
//! --data DIR [--frac-bits F] [--mpc-seed S] [--trunc local|dealer] [--deploy crypten|crypten-modules|folded]
//! [--comparison a2b|leaky|hidden|pc] [--limit N] [--batch B] [--threads T] [--json]`
//!
//! Runs every test example through
//! * the **plaintext model**: the kernel's forward pass in `f64` with exact activations and
//!   exact batch norm (what PyTorch computes, up to f32 vs f64), and
//! * the **MPC model**: the same forward pass on two-party shares with the profile's
//!   approximations, deployed as `--deploy` says (default `crypten`: what
//!   `crypten.nn.from_pytorch` makes of the model; see `mpcdiff_kernel::nn::deploy`),
//!
//! and reports both accuracies, the agreement rate, the **deviations** (MPC label ≠
//! plaintext label while the plaintext label is correct: MPCDiff's definition) and the MPC
//! cost per inference. With `--comparison` other than `a2b`, every comparison of the MPC model
//! (ReLU, max pooling) runs through that helper-assisted DReLU (`mpcdiff_kernel::protocols::
//! drelu`) and the cost adds the bytes the helper sends (`helper_bytes`, JSON and text); the
//! sigmoid of a sigmoid model keeps the profile's approximation. The test split is the one the model was trained with (its `training`
//! metadata records the split seed).
//!
//! # Determinism
//! Examples are evaluated in batches of `--batch`; batch `k` runs in its own MPC session
//! seeded with `splitmix64(mpc_seed ^ k)`, so the result does not depend on `--threads`.
//!
//! # JSON (`--json`), schema `mpcdiff.eval/2`
//! `{schema, command: "eval", version, model, architecture, dataset, profile, frac_bits,
//! mpc_seed, trunc, deploy, engine, comparison (only when not `a2b`), examples, plaintext_correct, mpc_correct, plaintext_accuracy,
//! mpc_accuracy, agreement, deviations, deviation_indices (test-split indices),
//! cost_per_inference: {rounds_per_batch, batch, mul_triples, square_pairs,
//! matrix_triples, and_triples, b2a_bits, bytes_per_party, crypten_bytes, truncations,
//! wrap_events, helper_bytes (only with a helper comparison)}, replay}`.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use mpcdiff_kernel::difftest::fitness::argmax;
use mpcdiff_kernel::difftest::oracle::{self, Buffers, Sizes, Target};
use mpcdiff_kernel::encoding::RingWidth;
use mpcdiff_kernel::nn::deploy::Deployment;
use mpcdiff_kernel::nn::forward::DefaultPlan;
use mpcdiff_kernel::protocols::drelu::Comparison;
use mpcdiff_kernel::ring::Word;
use mpcdiff_kernel::{Cost, Share};
use serde::Serialize;

use crate::engine::target::{Setup, TargetArgs};
use crate::error::usage;
use crate::output;

/// Options of `eval`.
#[derive(Clone, Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// How comparisons (ReLU, max pooling) run: a2b (two parties, CrypTen's), or with a
    /// helper party: leaky (it sees every sign), hidden (signs hidden, magnitudes not), pc
    /// (private compare: it learns nothing).
    #[arg(long, default_value = "a2b", value_name = "a2b|leaky|hidden|pc")]
    pub comparison: String,
    /// The folder holding mnist/, credit/ and bank/ (e.g. ../shared/data).
    #[arg(long)]
    pub data: PathBuf,
    /// MPC seed.
    #[arg(long, default_value_t = 42)]
    pub mpc_seed: u64,
    /// Evaluate only the first N test examples.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Examples per MPC batch (1..=256).
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Worker threads (results do not depend on it).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize, Default, Clone)]
struct CostJson {
    rounds_per_batch: u64,
    batch: usize,
    mul_triples: f64,
    square_pairs: f64,
    matrix_triples: f64,
    and_triples: f64,
    b2a_bits: f64,
    bytes_per_party: f64,
    crypten_bytes: f64,
    truncations: f64,
    wrap_events: u64,
    /// Bytes the helper party sends per inference (only with a helper comparison).
    #[serde(skip_serializing_if = "Option::is_none")]
    helper_bytes: Option<f64>,
}

#[derive(Serialize)]
struct Report {
    schema: &'static str,
    command: &'static str,
    version: &'static str,
    model: String,
    architecture: String,
    dataset: &'static str,
    profile: &'static str,
    frac_bits: u32,
    mpc_seed: u64,
    trunc: &'static str,
    deploy: &'static str,
    /// How the shared arithmetic was simulated (`protocol` or `ideal`).
    engine: &'static str,
    /// The comparison protocol (only when not the default `a2b`).
    #[serde(skip_serializing_if = "Option::is_none")]
    comparison: Option<&'static str>,
    examples: usize,
    plaintext_correct: usize,
    mpc_correct: usize,
    plaintext_accuracy: f64,
    mpc_accuracy: f64,
    agreement: f64,
    deviations: usize,
    deviation_indices: Vec<usize>,
    cost_per_inference: CostJson,
    replay: String,
}

/// One batch's plaintext labels, MPC labels and MPC cost.
type BatchResult = anyhow::Result<(Vec<usize>, Vec<usize>, Cost)>;

/// Buffers of one arithmetic for `n` samples.
fn buffers<E: Copy + Default>(s: &Sizes) -> [Vec<E>; 4] {
    [
        vec![E::default(); s.params],
        vec![E::default(); s.input],
        vec![E::default(); s.out],
        vec![E::default(); s.arena],
    ]
}

/// One batch of `n` samples: the plaintext model (f64, exact activations, folded batch norm)
/// and the MPC model in one session seeded `seed`.
fn run_batch(setup: &Setup, comparison: Comparison, seed: u64, x: &[f64], n: usize) -> BatchResult {
    let (mut t, m) = (setup.target(), &setup.model);
    t.comparison = comparison;
    let mut logits = vec![0.0; n * m.classes];
    let [mut params, mut input, mut out, mut arena] =
        buffers(&Sizes::of(m, Deployment::Folded, n)?);
    let mut bufs = Buffers {
        params: &mut params,
        input: &mut input,
        out: &mut out,
        arena: &mut arena,
    };
    oracle::plaintext(&t, None, x, n, &mut logits, &mut bufs, true)?;
    let plain: Vec<usize> = logits.chunks(m.classes).map(argmax).collect();

    let cost = match t.fp.ring() {
        RingWidth::Z64 => mpc_batch::<i64>(&t, setup.deploy, seed, x, n, &mut logits)?,
        RingWidth::Z128 => mpc_batch::<i128>(&t, setup.deploy, seed, x, n, &mut logits)?,
    };
    let mpc: Vec<usize> = logits.chunks(m.classes).map(argmax).collect();
    Ok((plain, mpc, cost))
}

/// The MPC model on `n` samples in one session seeded `seed`, in the target's ring.
fn mpc_batch<W: Word>(
    t: &Target<'_, '_>,
    deploy: Deployment,
    seed: u64,
    x: &[f64],
    n: usize,
    logits: &mut [f64],
) -> mpcdiff_kernel::Result<Cost> {
    let sizes = Sizes::of(t.model, deploy, n)?;
    let [mut params, mut input, mut out, mut arena] = buffers::<Share<W>>(&sizes);
    let mut words = vec![W::ZERO; sizes.words];
    let mut bufs = Buffers {
        params: &mut params,
        input: &mut input,
        out: &mut out,
        arena: &mut arena,
    };
    oracle::mpc(
        t,
        &DefaultPlan,
        None,
        seed,
        x,
        n,
        logits,
        &mut bufs,
        &mut words,
    )
}

/// Runs `eval`.
pub fn run(a: &EvalArgs) -> anyhow::Result<()> {
    let setup = Setup::new(&a.target)?;
    let (p, trunc, deploy) = (setup.profile, setup.trunc, setup.deploy);
    if !(1..=256).contains(&a.batch) {
        return Err(usage!("--batch {} must be between 1 and 256", a.batch).into());
    }
    if !(1..=64).contains(&a.threads) {
        return Err(usage!("--threads {} must be between 1 and 64", a.threads).into());
    }
    if a.limit == Some(0) {
        return Err(usage!("--limit must be at least 1").into());
    }
    let comparison = Comparison::by_name(&a.comparison).ok_or_else(|| {
        usage!(
            "--comparison {}: give a2b, leaky, hidden or pc",
            a.comparison
        )
    })?;
    if comparison.uses_helper() && !a.target.engine.is_default() {
        return Err(usage!(
            "--comparison {} needs the protocol engine (the ideal engine has no helper party)",
            a.comparison
        )
        .into());
    }
    let data = setup.load_data(&a.data)?;
    let dataset = data.name;
    let model = &setup.model;
    let test = &data.test;
    let n_total = a.limit.unwrap_or(test.len()).min(test.len());
    let features = test.features;
    let engine = a.target.engine.engine();
    // Spelled only when not the default, as every replay line does.
    let engine_flag = if a.target.engine.is_default() {
        String::new()
    } else {
        format!(" --engine {}", engine.name())
    };
    let comparison_flag = if comparison.uses_helper() {
        format!(" --comparison {}", comparison.name())
    } else {
        String::new()
    };
    let replay = format!(
        "mpcdiff eval --model {} --profile {} --data {} --frac-bits {} --mpc-seed {} --trunc {} --deploy {}{}{}{} --batch {}",
        a.target.model,
        p.name,
        a.data.display(),
        setup.fp.frac_bits(),
        a.mpc_seed,
        trunc.name(),
        deploy.name(),
        engine_flag,
        comparison_flag,
        a.limit.map(|l| format!(" --limit {l}")).unwrap_or_default(),
        a.batch
    );
    crate::output::say!(
        "mpcdiff {}  eval  mpc seed {}  replay: {replay}",
        mpcdiff_kernel::VERSION,
        a.mpc_seed
    );

    let batches: Vec<(usize, usize)> = (0..n_total)
        .step_by(a.batch)
        .map(|s| (s, (s + a.batch).min(n_total)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<BatchResult>>> = batches
        .iter()
        .map(|_| std::sync::Mutex::new(None))
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..a.threads.min(batches.len().max(1)) {
            scope.spawn(|| loop {
                let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(&(s, e)) = batches.get(k) else { break };
                let x: Vec<f64> = test.x[s * features..e * features]
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect();
                let seed = mpcdiff_kernel::seed::splitmix64(a.mpc_seed ^ k as u64);
                let r = run_batch(&setup, comparison, seed, &x, e - s);
                *results[k].lock().expect("no panics while holding the lock") = Some(r);
            });
        }
    });
    let (mut plain_ok, mut mpc_ok, mut agree) = (0, 0, 0);
    let mut deviation_indices = Vec::new();
    let mut cost = Cost::default();
    let mut rounds_per_batch = 0;
    for (k, cell) in results.into_iter().enumerate() {
        let (plain, mpc, c) = cell
            .into_inner()
            .expect("no poisoned lock")
            .context("a batch did not run")??;
        rounds_per_batch = rounds_per_batch.max(c.rounds);
        cost = cost + c;
        let (s, _) = batches[k];
        for (j, (&pl, &mp)) in plain.iter().zip(&mpc).enumerate() {
            let y = usize::from(test.y[s + j]);
            plain_ok += usize::from(pl == y);
            mpc_ok += usize::from(mp == y);
            agree += usize::from(pl == mp);
            if pl == y && mp != pl {
                deviation_indices.push(s + j);
            }
        }
    }
    let n = n_total.max(1) as f64;
    let per = |v: u64| v as f64 / n;
    let report = Report {
        schema: "mpcdiff.eval/2",
        command: "eval",
        version: mpcdiff_kernel::VERSION,
        model: a.target.model.clone(),
        architecture: model.architecture.to_string(),
        dataset,
        profile: p.name,
        frac_bits: setup.fp.frac_bits(),
        mpc_seed: a.mpc_seed,
        trunc: trunc.name(),
        deploy: deploy.name(),
        engine: engine.name(),
        comparison: comparison.uses_helper().then(|| comparison.name()),
        examples: n_total,
        plaintext_correct: plain_ok,
        mpc_correct: mpc_ok,
        plaintext_accuracy: plain_ok as f64 / n,
        mpc_accuracy: mpc_ok as f64 / n,
        agreement: agree as f64 / n,
        deviations: deviation_indices.len(),
        deviation_indices,
        cost_per_inference: CostJson {
            rounds_per_batch,
            batch: a.batch,
            mul_triples: per(cost.mul_triples),
            square_pairs: per(cost.square_pairs),
            matrix_triples: per(cost.matrix_triples),
            and_triples: per(cost.and_triples),
            b2a_bits: per(cost.b2a_bits),
            bytes_per_party: per(cost.bytes_sent[0]),
            crypten_bytes: per(cost.crypten_bytes()),
            truncations: per(cost.truncations),
            wrap_events: cost.wrap_events,
            helper_bytes: comparison.uses_helper().then(|| per(cost.helper_bytes)),
        },
        replay,
    };
    if a.json {
        let mut t = serde_json::to_string(&report)?;
        t.push('\n');
        return output::emit(&t);
    }
    let c = &report.cost_per_inference;
    let text = format!(
        "{} ({}) on the {} test split, {} examples; MPC: profile {}, {} fractional bits, truncation {}, deployment {}{}\n\
         plaintext accuracy  {:>7.2} %  ({}/{})\n\
         MPC accuracy        {:>7.2} %  ({}/{})\n\
         agreement           {:>7.2} %\n\
         deviations          {:>7}     (MPC label ≠ plaintext label, plaintext correct)\n\
         MPC cost            {} rounds per batch of {}; per inference {:.0} mul triples, {:.0} square pairs, {:.0} AND words, {:.1} KiB sent per party, {} wrap events in all\n",
        report.model, report.architecture, dataset, n_total, p.name, setup.fp.frac_bits(), report.trunc, report.deploy,
        if a.target.engine.is_default() { String::new() } else { format!(", engine {}", engine.name()) }
            + &if comparison.uses_helper() { format!(", comparison {} (helper party)", comparison.name()) } else { String::new() },
        100.0 * report.plaintext_accuracy, plain_ok, n_total,
        100.0 * report.mpc_accuracy, mpc_ok, n_total,
        100.0 * report.agreement,
        report.deviations,
        c.rounds_per_batch, a.batch, c.mul_triples, c.square_pairs, c.and_triples, c.bytes_per_party / 1024.0, c.wrap_events
    );
    let text = match c.helper_bytes {
        Some(h) => format!(
            "{text}helper              {:.1} KiB sent by the helper party per inference\n",
            h / 1024.0
        ),
        None => text,
    };
    output::emit(&text)
}
