//! `mpcdiff leak`: protocol leakage — the SCSDF sign leak to a helper party, the input it
//! gives away, the fix, and a view audit of every protocol.
//!
//! * `mpcdiff leak attack --data DIR [--model lenet|lenet-relu|FILE] [--comparison
//!   all|a2b|leaky|hidden|pc] [--breakpoints C1,C2,…] [--images N] [--start K] [--show S]
//!   [--steps T] [--mpc-seed S] [--threads T] [--out FILE.svg] [--json]`: runs the model's
//!   first block on MNIST test images `K..K+N` in shares, each image in its own session seeded
//!   `splitmix64(mpc_seed ^ index)`, with each comparison, records the helper's view, and
//!   rebuilds every image from that view alone (`mpcdiff_kernel::leak::attack`): the sign
//!   picture without the weights, and the optimisation with the first layer known. Reports
//!   mean MSE, PSNR and SSIM against the originals, and the mean-image baseline (the training
//!   images' mean), plus the cost of the activation. The SVG shows `S` originals beside their
//!   reconstructions and the helper's per-channel sign maps of the first image.
//! * `mpcdiff leak audit [--protocol NAME]… [--runs N] [--seed S] [--threads T] [--json]`:
//!   MPCGuard's view audit (`mpcdiff_kernel::leak::audit`) of every protocol and party on its
//!   five secret pairs.
//!
//! The ReLU LeNet's activation is ReLU (one DReLU per pre-activation); the sigmoid LeNet's is
//! the piecewise sigmoid of `--breakpoints` (default −4,−2,0,2,4: `m = 5` DReLUs per
//! pre-activation).
//!
//! # JSON, schemas `mpcdiff.leak-attack/1` and `mpcdiff.leak-audit/1`
//! attack: `{schema, command, version, model, activation, breakpoints, images: [indices],
//! mpc_seed, steps, baseline: {mse, psnr, ssim}, variants: [{comparison, helper_view_words,
//! signs_agree (fraction of the helper's signs equal to the true ones), activation_cost:
//! {rounds, bytes_per_party, helper_bytes, and_triples, b2a_bits}, signs: {mse, psnr, ssim},
//! reconstruction: {mse, psnr, ssim}, per_image: [{index, baseline, signs, reconstruction}]}],
//! svg, replay}`.
//! audit: `{schema, command, version, runs, seed, gap, findings: [{protocol, party, pair,
//! secrets, view_words, acc_real, acc_ideal, input_leak, max_z_real, max_z_ideal,
//! bits_flagged, z_threshold, bit_leak, out_real, out_ideal, output_leak}], summary:
//! [{protocol, party, input_leak, output_leak, bit_leak, max_gap, max_out_gap}], replay}`.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use mpcdiff_kernel::leak::attack::{self, Activation, FirstLayer, ReconSettings};
use mpcdiff_kernel::leak::audit::{self, Buffers, Finding, Protocol};
use mpcdiff_kernel::leak::metrics::{self, Quality};
use mpcdiff_kernel::protocols::drelu::{self, Comparison};
use mpcdiff_kernel::seed::splitmix64;
use mpcdiff_kernel::wire::HELPER;
use mpcdiff_kernel::{Cost, Share};
use rayon::prelude::*;
use serde::Serialize;

use super::predict::preprocessing_of;
use crate::engine::target::{Setup, TargetArgs};
use crate::error::usage;
use crate::flags::{DeployArg, EngineArg, TruncArg};
use crate::output;

/// Options of `leak`.
#[derive(Clone, Debug, Args)]
pub struct LeakArgs {
    /// What to run.
    #[command(subcommand)]
    pub action: LeakAction,
}

/// The `leak` subcommands.
#[derive(Clone, Debug, Subcommand)]
pub enum LeakAction {
    /// Rebuild MNIST test images from what the helper party sees of the first layer's DReLUs,
    /// for each comparison protocol; metrics, cost and a figure.
    Attack(AttackArgs),
    /// MPCGuard's view audit: does a party's view tell two secrets apart better than an
    /// ideal-world simulator's? Every protocol, every party, five secret pairs.
    Audit(AuditArgs),
}

/// Options of `leak attack`.
#[derive(Clone, Debug, Args)]
pub struct AttackArgs {
    /// lenet (sigmoid LeNet: piecewise sigmoid), lenet-relu (ReLU LeNet) or a model file
    /// whose first layer is a 1-channel convolution.
    #[arg(long, default_value = "lenet-relu")]
    pub model: String,
    /// The folder holding mnist/ (e.g. ../shared/data).
    #[arg(long)]
    pub data: PathBuf,
    /// all, a2b, leaky, hidden or pc.
    #[arg(long, default_value = "all")]
    pub comparison: String,
    /// Breakpoints of the piecewise sigmoid (sigmoid models), comma-separated, increasing.
    #[arg(long, default_value = "-4,-2,0,2,4")]
    pub breakpoints: String,
    /// MNIST test images to attack (1..=10000).
    #[arg(long, default_value_t = 100)]
    pub images: usize,
    /// The first test image.
    #[arg(long, default_value_t = 0)]
    pub start: usize,
    /// Images in the figure (0..=16).
    #[arg(long, default_value_t = 8)]
    pub show: usize,
    /// Optimiser steps of the reconstruction with the weights (1..=10000).
    #[arg(long, default_value_t = 500)]
    pub steps: u32,
    /// MPC seed (image i's session: splitmix64(seed ^ i)).
    #[arg(long, default_value_t = 42)]
    pub mpc_seed: u64,
    /// Fixed-point fractional bits.
    #[arg(long, default_value_t = 16)]
    pub frac_bits: u32,
    /// Worker threads (results do not depend on it).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Where to write the SVG.
    #[arg(long, value_name = "FILE", default_value = "leak.svg")]
    pub out: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Options of `leak audit`.
#[derive(Clone, Debug, Args)]
pub struct AuditArgs {
    /// Protocols to audit (repeatable): mul, matmul, trunc.local, trunc.dealer, ltz,
    /// drelu.a2b, drelu.leaky, drelu.hidden, drelu.pc. Default: all.
    #[arg(long = "protocol", value_name = "NAME")]
    pub protocols: Vec<String>,
    /// Executions per secret (10..=100000; MPCGuard: 2000).
    #[arg(long, default_value_t = audit::RUNS)]
    pub runs: usize,
    /// Seed (MPCGuard: 66).
    #[arg(long, default_value_t = audit::SEED)]
    pub seed: u64,
    /// Worker threads (results do not depend on it).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `leak`.
pub fn run(a: &LeakArgs) -> anyhow::Result<()> {
    match &a.action {
        LeakAction::Attack(a) => run_attack(a),
        LeakAction::Audit(a) => run_audit(a),
    }
}

fn pool(threads: usize) -> anyhow::Result<rayon::ThreadPool> {
    if !(1..=256).contains(&threads) {
        return Err(usage!("--threads {threads}: give 1..=256").into());
    }
    Ok(rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?)
}

#[derive(Serialize, Clone, Copy, Default)]
struct QualityJson {
    mse: f64,
    psnr: f64,
    ssim: f64,
}

impl From<Quality> for QualityJson {
    fn from(q: Quality) -> Self {
        QualityJson {
            mse: q.mse,
            psnr: q.psnr,
            ssim: q.ssim,
        }
    }
}

fn mean_quality(qs: &[Quality]) -> QualityJson {
    let n = qs.len().max(1) as f64;
    QualityJson {
        mse: qs.iter().map(|q| q.mse).sum::<f64>() / n,
        // Mean of the per-image PSNRs (finite: no reconstruction is exact here).
        psnr: qs.iter().map(|q| q.psnr.min(99.0)).sum::<f64>() / n,
        ssim: qs.iter().map(|q| q.ssim).sum::<f64>() / n,
    }
}

#[derive(Serialize)]
struct CostJson {
    rounds: u64,
    bytes_per_party: u64,
    helper_bytes: u64,
    and_triples: u64,
    b2a_bits: u64,
    mul_triples: u64,
}

impl From<Cost> for CostJson {
    fn from(c: Cost) -> Self {
        CostJson {
            rounds: c.rounds,
            bytes_per_party: c.bytes_sent[0],
            helper_bytes: c.helper_bytes,
            and_triples: c.and_triples,
            b2a_bits: c.b2a_bits,
            mul_triples: c.mul_triples,
        }
    }
}

#[derive(Serialize)]
struct PerImage {
    index: usize,
    baseline: QualityJson,
    signs: QualityJson,
    reconstruction: QualityJson,
}

#[derive(Serialize)]
struct VariantJson {
    comparison: &'static str,
    helper_view_words: usize,
    signs_agree: f64,
    activation_cost: CostJson,
    signs: QualityJson,
    reconstruction: QualityJson,
    per_image: Vec<PerImage>,
}

#[derive(Serialize)]
struct AttackJson {
    schema: &'static str,
    command: &'static str,
    version: &'static str,
    model: String,
    activation: &'static str,
    breakpoints: Vec<f64>,
    images: Vec<usize>,
    mpc_seed: u64,
    steps: u32,
    baseline: QualityJson,
    variants: Vec<VariantJson>,
    svg: String,
    replay: String,
}

/// One image's outcome under one comparison.
struct Outcome {
    view_words: usize,
    agree: f64,
    cost: Cost,
    signs_img: Vec<f64>,
    recon: Vec<f64>,
    levels: Vec<u8>,
}

fn run_attack(a: &AttackArgs) -> anyhow::Result<()> {
    // Plan: every flag checked before any work.
    let comparisons: Vec<Comparison> = if a.comparison == "all" {
        Comparison::ALL.to_vec()
    } else {
        vec![Comparison::by_name(&a.comparison).ok_or_else(|| {
            usage!(
                "--comparison {}: give all, a2b, leaky, hidden or pc",
                a.comparison
            )
        })?]
    };
    if !(1..=10_000).contains(&a.images) || a.start.saturating_add(a.images) > 10_000 {
        return Err(usage!(
            "--images {} --start {}: MNIST has 10000 test images",
            a.images,
            a.start
        )
        .into());
    }
    if a.show > 16 {
        return Err(usage!("--show {}: give 0..=16", a.show).into());
    }
    if !(1..=10_000).contains(&a.steps) {
        return Err(usage!("--steps {}: give 1..=10000", a.steps).into());
    }
    let target = TargetArgs {
        model: a.model.clone(),
        arch: None,
        input_shape: None,
        profile: "crypten".into(),
        frac_bits: a.frac_bits,
        trunc: TruncArg::Local,
        deploy: DeployArg::Crypten,
        engine: EngineArg::Protocol,
    };
    let setup = Setup::new(&target)?;
    let (mean, std) = match preprocessing_of(&setup, &a.model)? {
        crate::train::format::Preprocessing::Mnist { mean, std } => {
            (f64::from(mean), f64::from(std))
        }
        _ => {
            return Err(usage!(
                "--model {}: not an MNIST model (its preprocessing is not MNIST's)",
                a.model
            )
            .into())
        }
    };
    let layer = FirstLayer::from_model(&setup.model, mean, std)
        .map_err(|e| usage!("--model {}: {e}", a.model))?;
    let is_relu = setup
        .model
        .spec
        .layers
        .iter()
        .find_map(|l| match l.kind {
            mpcdiff_kernel::nn::spec::Kind::Act(act) => Some(act),
            _ => None,
        })
        .is_some_and(|act| act == mpcdiff_kernel::nn::spec::Activation::Relu);
    let breakpoints: Vec<f64> = if is_relu {
        vec![0.0]
    } else {
        let parsed: Result<Vec<f64>, _> = a
            .breakpoints
            .split(',')
            .map(|t| t.trim().parse::<f64>())
            .collect();
        let c = parsed.map_err(|_| {
            usage!(
                "--breakpoints {}: give comma-separated numbers",
                a.breakpoints
            )
        })?;
        drelu::check_breakpoints(&c).map_err(|e| usage!("--breakpoints {}: {e}", a.breakpoints))?;
        c
    };
    let act = if is_relu {
        Activation::Relu
    } else {
        Activation::Piecewise(&breakpoints)
    };
    let m = breakpoints.len();
    let fp = setup.fp;
    let pool = pool(a.threads)?;
    let raw = crate::data::mnist::load_raw(&a.data)
        .map_err(|e| usage!("--data {}: {e}", a.data.display()))?;
    let px = layer.pixels();
    // The baseline and prior: the training images' mean.
    let mut prior = vec![0.0f64; px];
    for i in 0..raw.train.len() {
        for (p, &v) in prior.iter_mut().zip(raw.train.row(i)) {
            *p += f64::from(v);
        }
    }
    let ntrain = raw.train.len().max(1) as f64;
    for p in prior.iter_mut() {
        *p /= ntrain;
    }
    let indices: Vec<usize> = (a.start..a.start + a.images).collect();
    let images: Vec<Vec<f64>> = indices
        .iter()
        .map(|&i| raw.test.row(i).iter().map(|&v| f64::from(v)).collect())
        .collect();
    let (h, w) = layer.hw;
    let settings = ReconSettings {
        steps: a.steps,
        ..ReconSettings::default()
    };
    let sizes = attack::block_sizes(&layer, m)?;
    let n = layer.outputs();
    let (oh, ow) = layer.out_hw();

    let run_one = |c: Comparison, k: usize| -> anyhow::Result<Outcome> {
        let x = &images[k];
        let mut arena = vec![0i64; sizes.arena_words];
        let mut elems: Vec<Share> = vec![[0, 0]; sizes.elems];
        let mut view = vec![0i64; sizes.view_words];
        let seed = splitmix64(a.mpc_seed ^ indices[k] as u64);
        let run = attack::run_first_block(
            &layer, act, c, fp, seed, x, &mut arena, &mut elems, &mut view,
        )?;
        let view = &view[..run.view_words];
        let mut levels = vec![0u8; n];
        let mut bits = vec![0u8; m * n];
        let seen = attack::helper_levels(c, view, m, n, &mut levels, &mut bits)?;
        // How often the helper's sign at each position of its view is the true sign of the
        // DReLU input at that position (plaintext pre-activations; values within 10^-3 of a
        // breakpoint skipped, where fixed point and f64 may disagree).
        let mut pre = vec![0.0; n];
        layer.forward(x, &mut pre)?;
        let mut signs = vec![0u8; m * n];
        let (mut agree, mut total) = (0usize, 0usize);
        if attack::helper_signs(c, view, m * n, &mut signs)? {
            for (i, &sgn) in signs.iter().enumerate() {
                let (kk, e) = (i / n, i % n);
                let d = pre[e] - breakpoints[kk];
                if d.abs() < 1e-3 {
                    continue;
                }
                total += 1;
                agree += usize::from((sgn == 1) == (d >= 0.0));
            }
        }
        let mut signs_img = vec![0.0; oh * ow];
        if seen {
            attack::sign_image(&levels, layer.channels, m, &mut signs_img)?;
        } else {
            signs_img.copy_from_slice(&prior);
        }
        let mut recon = vec![0.0; px];
        let mut work = vec![0.0; attack::recon_work_len(&layer)];
        attack::reconstruct(
            &layer,
            seen.then_some(&levels[..]),
            &breakpoints,
            &prior,
            settings,
            &mut recon,
            &mut work,
        )?;
        Ok(Outcome {
            view_words: run.view_words,
            agree: if total > 0 {
                agree as f64 / total as f64
            } else {
                f64::NAN
            },
            cost: run.activation_cost,
            signs_img,
            recon,
            levels,
        })
    };

    let baseline_q: Vec<Quality> = images
        .iter()
        .map(|x| metrics::quality(x, &prior, h, w))
        .collect::<Result<_, _>>()?;
    let mut variants = Vec::new();
    let mut outcomes_all = Vec::new();
    for &c in &comparisons {
        let outcomes: Vec<Outcome> = pool.install(|| {
            (0..images.len())
                .into_par_iter()
                .map(|k| run_one(c, k))
                .collect::<anyhow::Result<_>>()
        })?;
        if (oh, ow) != (h, w) {
            return Err(usage!(
                "--model {}: the first layer changes the image size; the sign picture needs a same-size convolution",
                a.model
            )
            .into());
        }
        let mut sq = Vec::new();
        let mut rq = Vec::new();
        let mut per = Vec::new();
        for (k, o) in outcomes.iter().enumerate() {
            let s = metrics::quality(&images[k], &o.signs_img, h, w)?;
            let r = metrics::quality(&images[k], &o.recon, h, w)?;
            sq.push(s);
            rq.push(r);
            per.push(PerImage {
                index: indices[k],
                baseline: baseline_q[k].into(),
                signs: s.into(),
                reconstruction: r.into(),
            });
        }
        let agree = outcomes.iter().map(|o| o.agree).sum::<f64>() / outcomes.len() as f64;
        variants.push(VariantJson {
            comparison: c.name(),
            helper_view_words: outcomes[0].view_words,
            signs_agree: agree,
            activation_cost: outcomes[0].cost.into(),
            signs: mean_quality(&sq),
            reconstruction: mean_quality(&rq),
            per_image: per,
        });
        outcomes_all.push((c, outcomes));
    }
    let svg = figure(&images, &prior, &outcomes_all, a.show, (h, w), &layer, m);
    output::write_atomic(&a.out, &svg)?;
    let bp_flag = if is_relu {
        String::new()
    } else {
        format!(" --breakpoints {}", a.breakpoints)
    };
    let replay = format!(
        "mpcdiff leak attack --model {} --data {} --comparison {}{} --images {} --start {} --steps {} --mpc-seed {} --frac-bits {}",
        a.model,
        a.data.display(),
        a.comparison,
        bp_flag,
        a.images,
        a.start,
        a.steps,
        a.mpc_seed,
        a.frac_bits
    );
    let j = AttackJson {
        schema: "mpcdiff.leak-attack/1",
        command: "leak attack",
        version: env!("CARGO_PKG_VERSION"),
        model: a.model.clone(),
        activation: if is_relu { "relu" } else { "piecewise-sigmoid" },
        breakpoints: breakpoints.clone(),
        images: indices.clone(),
        mpc_seed: a.mpc_seed,
        steps: a.steps,
        baseline: mean_quality(&baseline_q),
        variants,
        svg: a.out.display().to_string(),
        replay,
    };
    if a.json {
        return output::emit(&(serde_json::to_string(&j)? + "\n"));
    }
    let mut t = String::new();
    let _ = writeln!(
        t,
        "mpcdiff {} leak attack: model {} ({}, {} DReLU per pre-activation), MNIST test images {}..{}, mpc seed {}",
        j.version,
        j.model,
        j.activation,
        m,
        a.start,
        a.start + a.images,
        a.mpc_seed
    );
    let _ = writeln!(
        t,
        "{:<9} {:>10} {:>8} {:>21} {:>21} {:>7} {:>9} {:>9}",
        "variant",
        "view words",
        "agree",
        "signs MSE/PSNR/SSIM",
        "recon MSE/PSNR/SSIM",
        "rounds",
        "B/party",
        "B helper"
    );
    let b = &j.baseline;
    let _ = writeln!(
        t,
        "{:<9} {:>10} {:>8} {:>21} {:>21}",
        "baseline",
        "-",
        "-",
        format!("{:.4}/{:.2}/{:.3}", b.mse, b.psnr, b.ssim),
        "(mean image)"
    );
    for v in &j.variants {
        let _ = writeln!(
            t,
            "{:<9} {:>10} {:>8.3} {:>21} {:>21} {:>7} {:>9} {:>9}",
            v.comparison,
            v.helper_view_words,
            v.signs_agree,
            format!("{:.4}/{:.2}/{:.3}", v.signs.mse, v.signs.psnr, v.signs.ssim),
            format!(
                "{:.4}/{:.2}/{:.3}",
                v.reconstruction.mse, v.reconstruction.psnr, v.reconstruction.ssim
            ),
            v.activation_cost.rounds,
            v.activation_cost.bytes_per_party,
            v.activation_cost.helper_bytes
        );
    }
    let _ = writeln!(t, "figure: {}", j.svg);
    let _ = writeln!(t, "replay: {}", j.replay);
    output::emit(&t)
}

fn figure(
    images: &[Vec<f64>],
    prior: &[f64],
    outcomes: &[(Comparison, Vec<Outcome>)],
    show: usize,
    hw: (usize, usize),
    layer: &FirstLayer,
    m: usize,
) -> String {
    let show = show.min(images.len());
    let s = 3.0;
    let cell = hw.1 as f64 * s + 8.0;
    let cols = 2 + 2 * outcomes.len();
    let channels_row = outcomes.iter().any(|(c, _)| *c == Comparison::Leaky);
    let width = 110.0 + cols as f64 * cell;
    let height = 40.0 + (show as f64 + f64::from(u8::from(channels_row))) * cell + 20.0;
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="9">"#
    );
    let mut heads = vec!["original".to_string(), "mean (baseline)".to_string()];
    for (c, _) in outcomes {
        heads.push(format!("{}: signs", c.name()));
        heads.push(format!("{}: W known", c.name()));
    }
    for (q, t) in heads.iter().enumerate() {
        let _ = write!(
            o,
            r#"<text x="{}" y="20">{t}</text>"#,
            110.0 + q as f64 * cell
        );
    }
    for k in 0..show {
        let y = 30.0 + k as f64 * cell;
        let _ = write!(o, r#"<text x="4" y="{}">test image {k}</text>"#, y + 40.0);
        crate::svg::image(&mut o, &images[k], hw, 110.0, y, s);
        crate::svg::image(&mut o, prior, hw, 110.0 + cell, y, s);
        for (q, (_, outs)) in outcomes.iter().enumerate() {
            let x = 110.0 + (2 + 2 * q) as f64 * cell;
            crate::svg::image(&mut o, &outs[k].signs_img, hw, x, y, s);
            crate::svg::image(&mut o, &outs[k].recon, hw, x + cell, y, s);
        }
    }
    if let Some((_, outs)) = outcomes.iter().find(|(c, _)| *c == Comparison::Leaky) {
        if let Some(first) = outs.first() {
            let y = 30.0 + show as f64 * cell;
            let _ = write!(
                o,
                r#"<text x="4" y="{}">leaky, image 0:</text><text x="4" y="{}">channel maps</text>"#,
                y + 36.0,
                y + 48.0
            );
            let (oh, ow) = layer.out_hw();
            for ch in 0..layer.channels.min(cols) {
                let map: Vec<f64> = first.levels[ch * oh * ow..(ch + 1) * oh * ow]
                    .iter()
                    .map(|&l| f64::from(l) / m as f64)
                    .collect();
                crate::svg::image(&mut o, &map, (oh, ow), 110.0 + ch as f64 * cell, y, s);
            }
        }
    }
    o.push_str("</svg>\n");
    o
}

#[derive(Serialize)]
struct FindingJson {
    protocol: &'static str,
    party: String,
    pair: usize,
    secrets: (i64, i64),
    view_words: usize,
    acc_real: f64,
    acc_ideal: f64,
    input_leak: bool,
    max_z_real: f64,
    max_z_ideal: f64,
    bits_flagged: usize,
    z_threshold: f64,
    bit_leak: bool,
    out_real: f64,
    out_ideal: f64,
    output_leak: bool,
}

#[derive(Serialize)]
struct SummaryJson {
    protocol: &'static str,
    party: String,
    view_words: usize,
    input_leak: bool,
    bit_leak: bool,
    output_leak: bool,
    leaking_pairs: Vec<usize>,
    max_gap: f64,
    max_out_gap: f64,
}

#[derive(Serialize)]
struct AuditJson {
    schema: &'static str,
    command: &'static str,
    version: &'static str,
    runs: usize,
    seed: u64,
    gap: f64,
    findings: Vec<FindingJson>,
    summary: Vec<SummaryJson>,
    replay: String,
}

fn party_name(p: usize) -> String {
    if p == HELPER {
        "helper".into()
    } else {
        format!("P{p}")
    }
}

fn run_audit(a: &AuditArgs) -> anyhow::Result<()> {
    let protocols: Vec<Protocol> = if a.protocols.is_empty() {
        Protocol::ALL.to_vec()
    } else {
        a.protocols
            .iter()
            .map(|n| {
                Protocol::by_name(n).ok_or_else(|| {
                    usage!("--protocol {n}: give mul, matmul, trunc.local, trunc.dealer, ltz, drelu.a2b, drelu.leaky, drelu.hidden or drelu.pc")
                })
            })
            .collect::<Result<_, _>>()?
    };
    if !(10..=100_000).contains(&a.runs) {
        return Err(usage!("--runs {}: give 10..=100000", a.runs).into());
    }
    let pool = pool(a.threads)?;
    let jobs: Vec<(Protocol, usize, usize)> = protocols
        .iter()
        .flat_map(|&p| {
            p.parties()
                .iter()
                .flat_map(move |&party| (0..5).map(move |pair| (p, party, pair)))
        })
        .collect();
    let results: Vec<Finding> = pool.install(|| {
        jobs.par_iter()
            .map(|&(p, party, pair)| {
                let (w, l, o, k) = audit::buffer_sizes(a.runs);
                let (mut real, mut ideal) = (vec![0i64; w], vec![0i64; w]);
                let (mut labels, mut order, mut work) = (vec![0u8; l], vec![0u32; o], vec![0.0; k]);
                let mut buf = Buffers {
                    real: &mut real,
                    ideal: &mut ideal,
                    labels: &mut labels,
                    order: &mut order,
                    work: &mut work,
                };
                audit::audit_pair(
                    p,
                    party,
                    pair,
                    audit::SECRET_PAIRS[pair],
                    a.runs,
                    a.seed,
                    &mut buf,
                )
            })
            .collect::<Result<_, _>>()
    })?;
    let findings: Vec<FindingJson> = jobs
        .iter()
        .zip(&results)
        .map(|(&(p, party, pair), f)| FindingJson {
            protocol: p.name(),
            party: party_name(party),
            pair,
            secrets: audit::SECRET_PAIRS[pair],
            view_words: f.view_words,
            acc_real: f.acc_real,
            acc_ideal: f.acc_ideal,
            input_leak: f.input_leak(),
            max_z_real: f.max_z_real,
            max_z_ideal: f.max_z_ideal,
            bits_flagged: f.bits_flagged,
            z_threshold: f.z_threshold,
            bit_leak: f.bit_leak(),
            out_real: f.out_real,
            out_ideal: f.out_ideal,
            output_leak: f.output_leak(),
        })
        .collect();
    let mut summary = Vec::new();
    for &p in &protocols {
        for &party in p.parties() {
            let fs: Vec<&FindingJson> = findings
                .iter()
                .filter(|f| f.protocol == p.name() && f.party == party_name(party))
                .collect();
            summary.push(SummaryJson {
                protocol: p.name(),
                party: party_name(party),
                view_words: fs.first().map_or(0, |f| f.view_words),
                input_leak: fs.iter().any(|f| f.input_leak),
                bit_leak: fs.iter().any(|f| f.bit_leak),
                output_leak: fs.iter().any(|f| f.output_leak),
                leaking_pairs: fs
                    .iter()
                    .filter(|f| f.input_leak || f.bit_leak)
                    .map(|f| f.pair)
                    .collect(),
                max_gap: fs
                    .iter()
                    .map(|f| f.acc_real - f.acc_ideal)
                    .fold(f64::NEG_INFINITY, f64::max),
                max_out_gap: fs
                    .iter()
                    .map(|f| f.out_real - f.out_ideal)
                    .fold(f64::NEG_INFINITY, f64::max),
            });
        }
    }
    let mut replay = format!("mpcdiff leak audit --runs {} --seed {}", a.runs, a.seed);
    for p in &protocols {
        let _ = write!(replay, " --protocol {}", p.name());
    }
    let j = AuditJson {
        schema: "mpcdiff.leak-audit/1",
        command: "leak audit",
        version: env!("CARGO_PKG_VERSION"),
        runs: a.runs,
        seed: a.seed,
        gap: audit::GAP,
        findings,
        summary,
        replay,
    };
    if a.json {
        return output::emit(&(serde_json::to_string(&j)? + "\n"));
    }
    let mut t = String::new();
    let _ = writeln!(
        t,
        "mpcdiff {} leak audit (MPCGuard-style views): {} runs per secret, 5 secret pairs, seed {}, gap {}",
        j.version,
        a.runs,
        a.seed,
        audit::GAP
    );
    let _ = writeln!(
        t,
        "| protocol | party | view words | input leak (classifier) | max acc gap | per-bit leak | leaking pairs | output-share leak | max out gap |"
    );
    let _ = writeln!(t, "|---|---|---:|---|---:|---|---|---|---:|");
    let yes = |b: bool| if b { "**yes**" } else { "no" };
    for s in &j.summary {
        let _ = writeln!(
            t,
            "| {} | {} | {} | {} | {:+.3} | {} | {:?} | {} | {:+.3} |",
            s.protocol,
            s.party,
            s.view_words,
            yes(s.input_leak),
            s.max_gap,
            yes(s.bit_leak),
            s.leaking_pairs,
            yes(s.output_leak),
            s.max_out_gap
        );
    }
    let _ = writeln!(t, "replay: {}", j.replay);
    output::emit(&t)
}
