//! `mpcdiff attack`: covert attacks on MPC training by a corrupt party at the message seam —
//! logistic regression on two MNIST digits, trained in shares, once honestly and once per
//! attack, with the same seeds.
//!
//! * `mpcdiff attack reconstruct --data DIR [--train N] [--victims V] [--e E1,E2,…] [--out
//!   F.svg]`: one edited word in the last step writes a victim's image into the released
//!   model (`mpcdiff_kernel::training::reconstruction`); the attacker reads it back as
//!   `x̂ = −B·w_T/(η·e)`. Reports, per `e` and victim (the last batch's first `V` rows), the
//!   largest pixel error, the cosine, PSNR and SSIM, and the oracle error (honest model
//!   subtracted); the SVG shows the originals above one row of reconstructions per `e`.
//! * `mpcdiff attack backdoor --data DIR [--train N] [--poison P] [--trigger S] [--scales
//!   LIST] [--out F.svg]`: the adversary's `P` training images of the negative digit,
//!   stamped with an `S × S` white corner patch and labelled positive, with their residuals
//!   boosted by each scale (`mpcdiff_kernel::training::poisoning`). Reports clean accuracy
//!   and attack success rate (stamped negative test images labelled positive) for the honest
//!   run (scale 1: the same poisoned data, protocol followed) and each scale; the SVG plots
//!   both against the scale. `--strategy shift --trunc dealer [--shift-steps K] [--shifts
//!   LIST]`: no poisoned data; the gradients of the patch's weights are shifted toward the
//!   positive label in the last `K` steps instead (honest run: shift 0).
//! * `mpcdiff attack misclassify --data DIR [--train N] [--chosen K] [--scales LIST]`: the
//!   adversary adds test image `K` of the two digits to the training data with the wrong
//!   label and boosts it. Reports its margin toward its true label and the clean accuracy
//!   (on the other test images).
//! * `mpcdiff attack membership --data DIR [--population P] [--n N] [--trials T] [--slot S]
//!   [--scale K] [--seed S]`: the loss-threshold membership game
//!   (`mpcdiff_kernel::training::membership`), its best-threshold advantage with and without
//!   the attack.
//! * `mpcdiff attack toggle --data DIR [--train N] [--hidden H] [--units LIST] [--init-seed S]
//!   [--out F.svg]`: an MLP (pixels and bias, `H` ReLU units, 2 classes) trained in shares,
//!   honestly and with the ReLU masks of its first `U` hidden units toggled at every example
//!   of every step (the comparison's last opening, bit 0: `mpcdiff_kernel::training::
//!   toggles`), for each `U` of the list. Reports the released model's test accuracy and loss;
//!   the SVG plots them against `U`. The MAC rerun toggles the largest `U` (in the
//!   authenticated protocol: `+1` on the same word of the comparison's last opening).
//!
//! Common flags: `--digits A,B` (negative, positive; default 0,1), `--lr`, `--batch`,
//! `--epochs`, `--frac-bits`, `--trunc local|dealer`, `--mpc-seed`, `--json`. Training images
//! are the MNIST training split's images of the two digits in file order, test images the
//! test split's, pixels in `[0, 1]` (`mnist::load_raw`) plus a bias feature. `--synthetic SEED
//! [--test N]` instead of `--data`: the kernel's seeded synthetic digits
//! (`mpcdiff_host::attacks::synthetic_sets`, the browser's data; source indices are the
//! synthetic digits' indices), so the page's runs replay natively.
//!
//! Detection: every result says `"detected": false` with `"detection": "none: the passive
//! protocol has no check"`: the passively secure protocol checks nothing, so no run can be
//! caught; this is the protocol's property, not a measured rate.
//!
//! # JSON, schema `mpcdiff.attack/1`
//! `{schema, command, version, attack, digits, detected, detection, replay, svg (or null),
//! result}` where `result` is the experiment's report: reconstruct `{training, samples,
//! honest_test_accuracy, runs: [{e, victims: [{sample, source, applied, max_abs, cosine,
//! quality: {mse, psnr, ssim}, oracle_max_abs}]}]}`; backdoor `{training, trigger: {size, margin, value},
//! strategy: {"scale": {poison}} or {"shift": {steps}}, samples, poisoned, test_samples,
//! triggered, rows: [{strength (the scale, or the shift), clean_accuracy, attack_success,
//! edits_applied}]}`; misclassify `{training, samples, chosen_row,
//! chosen_source, true_label, rows: [{scale, margin, correct, clean_accuracy,
//! edits_applied}]}`; toggle `{training, widths, init_seed, samples, test_samples, rows:
//! [{units, accuracy, loss, edits_applied}]}`; membership `{training, trials, n, slot, scale, seed, population,
//! members, advantage_honest, advantage_attacked, per_trial: [{candidate, member,
//! loss_honest, loss_attacked}]}`. `training` is `{frac_bits, dealer_truncation, lr, batch,
//! epochs, mpc_seed, corrupt}`; `source` and `candidate` are indices in the MNIST split.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use mpcdiff_host::attacks::{self, Pair, Sets, Strategy, Training, Trigger};
use mpcdiff_kernel::training::membership::Game;
use serde::Serialize;

use crate::data::mnist;
use crate::error::usage;
use crate::output;
use crate::svg::{Chart, Scale, Series, PALETTE};

/// Options of `attack`.
#[derive(Clone, Debug, Args)]
pub struct AttackArgs {
    /// Which attack.
    #[command(subcommand)]
    pub action: AttackAction,
}

/// The attacks.
#[derive(Clone, Debug, Subcommand)]
pub enum AttackAction {
    /// Read a victim's training image back from the released model (gradient scaling).
    Reconstruct(ReconstructArgs),
    /// Plant a trigger-patch backdoor with boosted poisoned examples.
    Backdoor(BackdoorArgs),
    /// Make the model misclassify one chosen input.
    Misclassify(MisclassifyArgs),
    /// Raise the loss-threshold membership inference advantage on a victim's example.
    Membership(MembershipArgs),
    /// Sabotage an MLP by toggling its ReLU comparisons (blind, every example, every step).
    Toggle(ToggleArgs),
}

/// Truncation of the shared arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Trunc {
    /// Share-local (CrypTen's).
    Local,
    /// Dealer-assisted.
    Dealer,
}

/// Flags every attack shares.
#[derive(Clone, Debug, Args)]
pub struct Common {
    /// The folder holding mnist/ (e.g. ../shared/data).
    #[arg(long, required_unless_present = "synthetic")]
    pub data: Option<PathBuf>,
    /// Instead of MNIST, the kernel's seeded synthetic digits of this seed (the browser's
    /// data): the training images, then the adversary's (twice --poison), then --test test
    /// images, at disjoint indices, the two digits alternating.
    #[arg(long, conflicts_with = "data")]
    pub synthetic: Option<u64>,
    /// Test images with --synthetic (MNIST: its whole test split).
    #[arg(long, default_value_t = 200)]
    pub test: usize,
    /// The two digits: negative (label 0), positive (label 1).
    #[arg(long, default_value = "0,1")]
    pub digits: String,
    /// Learning rate.
    #[arg(long, default_value_t = 0.5)]
    pub lr: f64,
    /// Batch size.
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// Epochs.
    #[arg(long, default_value_t = 1)]
    pub epochs: u32,
    /// Fixed-point fractional bits.
    #[arg(long, default_value_t = 16)]
    pub frac_bits: u32,
    /// Truncation protocol.
    #[arg(long, value_enum, default_value_t = Trunc::Local)]
    pub trunc: Trunc,
    /// The MPC session's seed (dealer and share randomness).
    #[arg(long, default_value_t = 42)]
    pub mpc_seed: u64,
    /// Rerun the strongest attack with SPDZ2k MACs of this statistical parameter (1..=64;
    /// 0: do not): whether the authenticated protocol catches it.
    #[arg(long, default_value_t = 64)]
    pub macs: u32,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Options of `attack reconstruct`.
#[derive(Clone, Debug, Args)]
pub struct ReconstructArgs {
    #[command(flatten)]
    pub common: Common,
    /// Training images (of the two digits, file order); a multiple of the batch is best.
    #[arg(long, default_value_t = 256)]
    pub train: usize,
    /// Victims: the last batch's first V rows (1..=batch), one attacked training each.
    #[arg(long, default_value_t = 8)]
    pub victims: usize,
    /// Residual shifts e, comma-separated (P1 on one word; larger is sharper until the ring
    /// overflows; with --trunc local a large e risks a local-truncation wrap per lit pixel,
    /// probability about e·2^(2f)·x/2^63); one attacked training per victim and e, one figure
    /// row per e.
    #[arg(long, default_value = "10,100,1000")]
    pub e: String,
    /// Where to write the SVG (originals beside reconstructions).
    #[arg(long, value_name = "FILE", default_value = "attack-reconstruct.svg")]
    pub out: PathBuf,
}

/// How the backdoor is planted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// Gradient scaling of the adversary's poisoned examples (`--poison`, `--scales`).
    Scale,
    /// Gradient shifting of the trigger's weights in the last steps, clean data
    /// (`--shift-steps`, `--shifts`; needs `--trunc dealer`).
    Shift,
}

/// Options of `attack backdoor`.
#[derive(Clone, Debug, Args)]
pub struct BackdoorArgs {
    #[command(flatten)]
    pub common: Common,
    /// scale (poisoned examples, boosted) or shift (clean data, the trigger's weights shifted).
    #[arg(long, value_enum, default_value_t = StrategyArg::Scale)]
    pub strategy: StrategyArg,
    /// Shifts per step of the trigger's weights' gradients (shift strategy), comma-separated.
    #[arg(long, default_value = "0.25,0.5,1,2,4")]
    pub shifts: String,
    /// Final steps whose gradients are shifted (shift strategy).
    #[arg(long, default_value_t = 8)]
    pub shift_steps: u64,
    /// Clean training images (of the two digits, file order).
    #[arg(long, default_value_t = 2000)]
    pub train: usize,
    /// The adversary's poisoned images (negative digit, stamped, labelled positive), taken
    /// from the training split after the clean ones.
    #[arg(long, default_value_t = 5)]
    pub poison: usize,
    /// Side of the square trigger patch (pixels), in the bottom-right corner.
    #[arg(long, default_value_t = 4)]
    pub trigger: usize,
    /// Distance of the patch from the bottom and right edges (pixels).
    #[arg(long, default_value_t = 1)]
    pub margin: usize,
    /// Scales of the residual boost, comma-separated, each at least 1.
    #[arg(long, default_value = "2,4,8,16,32,64")]
    pub scales: String,
    /// Where to write the SVG (ASR and clean accuracy vs scale).
    #[arg(long, value_name = "FILE", default_value = "attack-backdoor.svg")]
    pub out: PathBuf,
}

/// Options of `attack misclassify`.
#[derive(Clone, Debug, Args)]
pub struct MisclassifyArgs {
    #[command(flatten)]
    pub common: Common,
    /// Clean training images (of the two digits, file order).
    #[arg(long, default_value_t = 1000)]
    pub train: usize,
    /// The chosen input: the K-th test image of the two digits.
    #[arg(long, default_value_t = 0)]
    pub chosen: usize,
    /// Scales of the residual boost, comma-separated, each at least 1.
    #[arg(long, default_value = "2,4,8,16,32,64")]
    pub scales: String,
}

/// Options of `attack membership`.
#[derive(Clone, Debug, Args)]
pub struct MembershipArgs {
    #[command(flatten)]
    pub common: Common,
    /// The population the training sets and candidates are drawn from (training images of
    /// the two digits, file order).
    #[arg(long, default_value_t = 1000)]
    pub population: usize,
    /// Training images per trial.
    #[arg(long, default_value_t = 64)]
    pub n: usize,
    /// Trials (trainings per world), 2..=10000.
    #[arg(long, default_value_t = 200)]
    pub trials: usize,
    /// The tested example's public position in the training set.
    #[arg(long, default_value_t = 60)]
    pub slot: usize,
    /// Scale of the residual boost in the attacked world.
    #[arg(long, default_value_t = 8.0)]
    pub scale: f64,
    /// Seed of the trials' draws (member bits, training sets, candidates).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Options of `attack toggle`.
#[derive(Clone, Debug, Args)]
pub struct ToggleArgs {
    #[command(flatten)]
    pub common: Common,
    /// Training images (of the two digits, file order).
    #[arg(long, default_value_t = 1000)]
    pub train: usize,
    /// Hidden ReLU units of the MLP (1..=256).
    #[arg(long, default_value_t = 16)]
    pub hidden: usize,
    /// How many hidden units to toggle (the first U), comma-separated, each 1..=hidden.
    #[arg(long, default_value = "1,2,4,8,16")]
    pub units: String,
    /// Seed of the MLP's initial parameters (PyTorch's nn.Linear law).
    #[arg(long, default_value_t = 1)]
    pub init_seed: u64,
    /// Where to write the SVG (test accuracy and loss vs toggled units).
    #[arg(long, value_name = "FILE", default_value = "attack-toggle.svg")]
    pub out: PathBuf,
}

const LR: &str = "logistic regression";

const DETECTION: &str = "none: the passive protocol has no check";

#[derive(Serialize)]
struct Out<'r, R: Serialize> {
    schema: &'static str,
    command: &'static str,
    version: &'static str,
    attack: &'static str,
    digits: [u8; 2],
    detected: bool,
    detection: &'static str,
    replay: String,
    svg: Option<String>,
    result: &'r R,
}

/// Runs `attack`.
pub fn run(a: &AttackArgs) -> anyhow::Result<()> {
    match &a.action {
        AttackAction::Reconstruct(a) => reconstruct(a),
        AttackAction::Backdoor(a) => backdoor(a),
        AttackAction::Misclassify(a) => misclassify(a),
        AttackAction::Membership(a) => membership(a),
        AttackAction::Toggle(a) => toggle(a),
    }
}

/// The checked common flags.
struct Plan {
    digits: [u8; 2],
    training: Training,
}

impl Plan {
    fn of(c: &Common) -> anyhow::Result<Plan> {
        let parts: Vec<&str> = c.digits.split(',').collect();
        let digit = |s: &str| s.trim().parse::<u8>().ok().filter(|d| *d <= 9);
        let digits = match parts.as_slice() {
            [a, b] => match (digit(a), digit(b)) {
                (Some(a), Some(b)) if a != b => [a, b],
                _ => {
                    return Err(usage!(
                        "--digits {}: give two different digits 0..9, e.g. 0,1",
                        c.digits
                    )
                    .into())
                }
            },
            _ => {
                return Err(usage!(
                    "--digits {}: give two different digits 0..9, e.g. 0,1",
                    c.digits
                )
                .into())
            }
        };
        if !(c.lr.is_finite() && c.lr > 0.0 && c.lr <= 100.0) {
            return Err(usage!("--lr {}: give a value in (0, 100]", c.lr).into());
        }
        if !(1..=1024).contains(&c.batch) {
            return Err(usage!("--batch {}: give 1..=1024", c.batch).into());
        }
        if !(1..=100).contains(&c.epochs) {
            return Err(usage!("--epochs {}: give 1..=100", c.epochs).into());
        }
        if c.macs > 64 {
            return Err(usage!("--macs {}: give 1..=64, or 0 for no rerun", c.macs).into());
        }
        if mpcdiff_kernel::FixedPoint::new(c.frac_bits).is_err() || c.frac_bits > 24 {
            return Err(usage!("--frac-bits {}: give 0..=24", c.frac_bits).into());
        }
        Ok(Plan {
            digits,
            training: Training {
                frac_bits: c.frac_bits,
                dealer_truncation: c.trunc == Trunc::Dealer,
                lr: c.lr,
                batch: c.batch,
                epochs: c.epochs,
                mpc_seed: c.mpc_seed,
                corrupt: 1,
                mac_s: (c.macs > 0).then_some(c.macs),
            },
        })
    }

    /// The shared part of the replay command.
    fn flags(&self, c: &Common) -> String {
        let data = match (&c.data, c.synthetic) {
            (_, Some(seed)) => format!("--synthetic {seed} --test {}", c.test),
            (Some(d), None) => format!("--data {}", d.display()),
            (None, None) => String::new(),
        };
        format!("{data} {}", self.training.flags(self.digits))
    }
}

/// A comma-separated list of at most 64 numbers, each in `range`; `flag` and `what` word
/// the usage error.
fn numbers(
    flag: &str,
    s: &str,
    range: core::ops::RangeInclusive<f64>,
    what: &str,
) -> anyhow::Result<Vec<f64>> {
    let bad = || usage!("{flag} {s}: give comma-separated numbers, each {what}");
    let v: Vec<f64> = s
        .split(',')
        .map(|t| t.trim().parse::<f64>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if v.is_empty() || v.len() > 64 || v.iter().any(|x| !(x.is_finite() && range.contains(x))) {
        return Err(bad().into());
    }
    Ok(v)
}

fn shifts(s: &str) -> anyhow::Result<Vec<f64>> {
    numbers("--shifts", s, 0.0..=1e6, "in 0..=1e6")
}

fn scales(s: &str) -> anyhow::Result<Vec<f64>> {
    numbers("--scales", s, 1.0..=1e6, "at least 1 and at most 1e6")
}

/// The two digits' first `take` training images, the adversary's images (with `poison > 0`;
/// MNIST: every later training image of the two digits) and the test images (MNIST: all of
/// them), from `--data` or `--synthetic` ([`attacks::synthetic_sets`]).
fn load(c: &Common, digits: [u8; 2], take: usize, poison: usize) -> anyhow::Result<Sets> {
    if let Some(seed) = c.synthetic {
        if !(1..=100_000).contains(&c.test) {
            return Err(usage!("--test {}: give 1..=100000", c.test).into());
        }
        // Each row is 785 f64s: 20,000 rows are 126 MB (MNIST has 12,665 of 0 and 1).
        if take > 20_000 {
            return Err(usage!(
                "--synthetic: give at most 20000 training images (--train or --population {take})"
            )
            .into());
        }
        return attacks::synthetic_sets(seed, digits, take, poison, c.test)
            .map_err(|e| anyhow::anyhow!("building the synthetic two-digit sets: {e}"));
    }
    let data: &Path = c.data.as_deref().unwrap_or(Path::new("."));
    let raw = mnist::load_raw(data).map_err(|e| usage!("--data {}: {e}", data.display()))?;
    Ok(Sets {
        train: pair(&raw.train, digits, 0, take)?,
        pool: if poison > 0 {
            pair(&raw.train, digits, take, usize::MAX)?
        } else {
            Pair::default()
        },
        test: pair(&raw.test, digits, 0, usize::MAX)?,
    })
}

/// [`load`] without the adversary's images, refusing (naming `flag`) a source with fewer than
/// `take` training images of the two digits.
fn load_train(c: &Common, digits: [u8; 2], flag: &str, take: usize) -> anyhow::Result<Sets> {
    let m = load(c, digits, take, 0)?;
    if m.train.len() < take {
        return Err(usage!(
            "{flag} {take}: {} has only {} training images of digits {digits:?}",
            source(c),
            m.train.len()
        )
        .into());
    }
    Ok(m)
}

/// The source's name in messages.
fn source(c: &Common) -> &'static str {
    if c.synthetic.is_some() {
        "--synthetic"
    } else {
        "MNIST"
    }
}

fn pair(
    split: &crate::data::Split,
    digits: [u8; 2],
    skip: usize,
    take: usize,
) -> anyhow::Result<Pair> {
    Pair::of(&split.x, &split.y, split.features, digits, skip, take)
        .map_err(|e| anyhow::anyhow!("building the two-digit set: {e}"))
}

fn kernel(e: mpcdiff_host::Failure) -> anyhow::Error {
    anyhow::anyhow!("the experiment failed after its plan was checked: {e}")
}

#[allow(clippy::too_many_arguments)]
fn emit<R: Serialize>(
    c: &Common,
    plan: &Plan,
    model: &str,
    attack: &'static str,
    replay: String,
    svg: Option<&Path>,
    result: &R,
    macs: Option<attacks::MacCheck>,
    text: String,
) -> anyhow::Result<()> {
    if c.json {
        let o = Out {
            schema: "mpcdiff.attack/1",
            command: "attack",
            version: env!("CARGO_PKG_VERSION"),
            attack,
            digits: plan.digits,
            detected: false,
            detection: DETECTION,
            replay,
            svg: svg.map(|p| p.display().to_string()),
            result,
        };
        return output::emit(&(serde_json::to_string(&o)? + "\n"));
    }
    let mut t = String::new();
    let _ = writeln!(
        t,
        "mpcdiff {} attack {attack}: digits {} vs {}, {model} trained in shares (mpc seed {})",
        env!("CARGO_PKG_VERSION"),
        plan.digits[0],
        plan.digits[1],
        c.mpc_seed
    );
    t.push_str(&text);
    let _ = writeln!(t, "detected: false ({DETECTION})");
    if let Some(m) = macs {
        let _ = match (m.protocol, m.round) {
            (Some(p), Some(r)) => writeln!(
                t,
                "with SPDZ2k MACs (s = {}): caught, the {p:?} opening's MAC check failed at round {r} ({} edits applied, {} checks): the honest party aborts",
                m.s, m.edits_applied, m.checks
            ),
            _ => writeln!(
                t,
                "with SPDZ2k MACs (s = {}): not caught ({} edits applied, {} checks)",
                m.s, m.edits_applied, m.checks
            ),
        };
    }
    if let Some(p) = svg {
        let _ = writeln!(t, "figure: {}", p.display());
    }
    let _ = writeln!(t, "replay: {replay}");
    output::emit(&t)
}

fn reconstruct(a: &ReconstructArgs) -> anyhow::Result<()> {
    let c = &a.common;
    let plan = Plan::of(c)?;
    if !(1..=c.batch).contains(&a.victims) {
        return Err(usage!("--victims {}: give 1..=batch ({})", a.victims, c.batch).into());
    }
    if a.train < c.batch {
        return Err(usage!("--train {}: give at least one batch ({})", a.train, c.batch).into());
    }
    let bad = || {
        usage!(
            "--e {}: give up to 8 comma-separated nonzero values with |e|·2^(2·frac_bits) below 2^62 (the product e·x before truncation must fit the ring)",
            a.e
        )
    };
    let es: Vec<f64> =
        a.e.split(',')
            .map(|t| t.trim().parse::<f64>().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
    if es.len() > 8 || !es.iter().all(|&e| attacks::shift_fits(e, c.frac_bits)) {
        return Err(bad().into());
    }
    let m = load_train(c, plan.digits, "--train", a.train)?;
    let positions: Vec<usize> = (0..a.victims).collect();
    let r = attacks::reconstruction(
        &m.train,
        Some(&m.test),
        mnist::SIDE,
        &plan.training,
        &positions,
        &es,
    )
    .map_err(kernel)?;
    output::write_atomic(&a.out, recon_figure(&r))?;
    let replay = format!(
        "mpcdiff attack reconstruct {} --train {} --victims {} --e {}",
        plan.flags(c),
        a.train,
        a.victims,
        a.e
    );
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{} training images, one edited word in the last step per attacked training; honest test accuracy {:.4}",
        r.samples,
        r.honest_test_accuracy.unwrap_or(f64::NAN)
    );
    let _ = writeln!(
        t,
        "{:>9} {:>7} {:>7} {:>10} {:>9} {:>8} {:>7} {:>12}",
        "e",
        "row",
        if c.synthetic.is_some() {
            "synth"
        } else {
            "mnist"
        },
        "max |err|",
        "cosine",
        "PSNR dB",
        "SSIM",
        "oracle err"
    );
    for run in &r.runs {
        for v in &run.victims {
            let _ = writeln!(
                t,
                "{:>9} {:>7} {:>7} {:>10.4} {:>9.6} {:>8.2} {:>7.4} {:>12.2e}",
                run.e,
                v.sample,
                v.source,
                v.max_abs,
                v.cosine,
                v.quality.psnr,
                v.quality.ssim,
                v.oracle_max_abs
            );
        }
    }
    emit(
        c,
        &plan,
        LR,
        "reconstruct",
        replay,
        Some(&a.out),
        &r,
        r.macs,
        t,
    )
}

/// Originals in the first row, then one row of reconstructions per `e`, each image with its
/// PSNR and SSIM below it.
fn recon_figure(r: &attacks::ReconstructionReport) -> String {
    let s = 3.0;
    let side = mnist::SIDE;
    let cell = side as f64 * s + 8.0;
    let row_h = cell + 24.0;
    let n = r.runs.first().map_or(0, |run| run.victims.len());
    let width = 100.0 + n as f64 * cell;
    let height = 30.0 + (1 + r.runs.len()) as f64 * row_h;
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="9">"#
    );
    o.push_str(
        r#"<text x="4" y="14">gradient-scaling reconstruction: x̂ = −B·w/(η·e) from the released model alone</text>"#,
    );
    let _ = write!(
        o,
        r#"<text x="4" y="{}">original</text>"#,
        24.0 + cell / 2.0
    );
    if let Some(run) = r.runs.first() {
        for (k, v) in run.victims.iter().enumerate() {
            let x = 100.0 + k as f64 * cell;
            crate::svg::image(&mut o, &v.original, (side, side), x, 24.0, s);
        }
    }
    for (q, run) in r.runs.iter().enumerate() {
        let y = 24.0 + (1 + q) as f64 * row_h;
        let _ = write!(
            o,
            r#"<text x="4" y="{}">reconstructed,</text><text x="4" y="{}">e = {}</text>"#,
            y + cell / 2.0 - 6.0,
            y + cell / 2.0 + 6.0,
            run.e
        );
        for (k, v) in run.victims.iter().enumerate() {
            let x = 100.0 + k as f64 * cell;
            crate::svg::image(&mut o, &v.reconstruction, (side, side), x, y, s);
            let _ = write!(
                o,
                r#"<text x="{x}" y="{}">{:.1} dB</text><text x="{x}" y="{}">SSIM {:.3}</text>"#,
                y + cell + 2.0,
                v.quality.psnr,
                y + cell + 13.0,
                v.quality.ssim
            );
        }
    }
    o.push_str("</svg>\n");
    o
}

fn backdoor(a: &BackdoorArgs) -> anyhow::Result<()> {
    let c = &a.common;
    let plan = Plan::of(c)?;
    let shifting = a.strategy == StrategyArg::Shift;
    let strengths = if shifting {
        if c.trunc != Trunc::Dealer {
            return Err(usage!(
                "--strategy shift: gradient shifting edits the dealer truncation's opening; add --trunc dealer"
            )
            .into());
        }
        shifts(&a.shifts)?
    } else {
        scales(&a.scales)?
    };
    if a.train < c.batch {
        return Err(usage!("--train {}: give at least one batch ({})", a.train, c.batch).into());
    }
    if !shifting && (a.poison == 0 || a.poison > a.train) {
        return Err(usage!("--poison {}: give 1..=train ({})", a.poison, a.train).into());
    }
    if shifting && !(1..=1_000_000).contains(&a.shift_steps) {
        return Err(usage!("--shift-steps {}: give 1..=1000000", a.shift_steps).into());
    }
    if a.trigger == 0 || a.trigger + a.margin > mnist::SIDE {
        return Err(usage!(
            "--trigger {} --margin {}: the patch must fit the 28 × 28 image",
            a.trigger,
            a.margin
        )
        .into());
    }
    let poison = if shifting { 0 } else { a.poison };
    let Sets {
        train: clean,
        pool,
        test,
    } = load(c, plan.digits, a.train, poison)?;
    if clean.len() < a.train || pool.y.iter().filter(|&&y| y == 0.0).count() < poison {
        return Err(usage!(
            "--train {} --poison {}: {} has too few training images of digits {:?}",
            a.train,
            a.poison,
            source(c),
            plan.digits
        )
        .into());
    }
    let trigger = Trigger {
        size: a.trigger,
        margin: a.margin,
        value: 1.0,
    };
    let strategy = if shifting {
        Strategy::Shift {
            steps: a.shift_steps,
        }
    } else {
        Strategy::Scale { poison: a.poison }
    };
    let r = attacks::backdoor(
        &clean,
        &pool,
        &test,
        mnist::SIDE,
        trigger,
        strategy,
        &plan.training,
        &strengths,
    )
    .map_err(kernel)?;
    let (title, x_label, x_scale) = if shifting {
        (
            format!(
                "backdoor by gradient shifting: the {}×{} patch's weights, last {} steps, clean data ({} rows), digits {} → {}",
                a.trigger, a.trigger, a.shift_steps, r.samples, plan.digits[0], plan.digits[1]
            ),
            "shift per step (0 = honest run)",
            Scale::Linear,
        )
    } else {
        (
            format!(
                "backdoor by residual scaling: {} poisoned of {} ({}×{} patch), digits {} → {}",
                a.poison, r.samples, a.trigger, a.trigger, plan.digits[0], plan.digits[1]
            ),
            "scale (1 = honest run)",
            Scale::Log,
        )
    };
    let chart = Chart {
        title,
        x_label: x_label.into(),
        y_label: "fraction".into(),
        x_scale,
        y_scale: Scale::Linear,
        series: vec![
            Series {
                label: "attack success rate".into(),
                points: r
                    .rows
                    .iter()
                    .map(|q| (q.strength, q.attack_success))
                    .collect(),
                color: PALETTE[1],
                dashed: false,
            },
            Series {
                label: "clean accuracy".into(),
                points: r
                    .rows
                    .iter()
                    .map(|q| (q.strength, q.clean_accuracy))
                    .collect(),
                color: PALETTE[0],
                dashed: false,
            },
        ],
    };
    output::write_atomic(&a.out, chart.render())?;
    let replay = if shifting {
        format!(
            "mpcdiff attack backdoor {} --strategy shift --train {} --shift-steps {} --trigger {} --margin {} --shifts {}",
            plan.flags(c),
            a.train,
            a.shift_steps,
            a.trigger,
            a.margin,
            a.shifts
        )
    } else {
        format!(
            "mpcdiff attack backdoor {} --strategy scale --train {} --poison {} --trigger {} --margin {} --scales {}",
            plan.flags(c),
            a.train,
            a.poison,
            a.trigger,
            a.margin,
            a.scales
        )
    };
    let mut t = String::new();
    if shifting {
        let _ = writeln!(
            t,
            "{} clean training rows; the trigger's {} weights shifted in the last {} steps; {} clean test images, {} triggered test images",
            r.samples,
            a.trigger * a.trigger,
            a.shift_steps,
            r.test_samples,
            r.triggered
        );
    } else {
        let _ = writeln!(
            t,
            "{} training rows ({} poisoned), {} clean test images, {} triggered test images",
            r.samples, a.poison, r.test_samples, r.triggered
        );
    }
    let _ = writeln!(
        t,
        "{:>8} {:>15} {:>8} {:>14}",
        if shifting { "shift" } else { "scale" },
        "clean accuracy",
        "ASR",
        "edits applied"
    );
    for (k, q) in r.rows.iter().enumerate() {
        let _ = writeln!(
            t,
            "{:>8} {:>15.4} {:>8.4} {:>14}",
            if k == 0 {
                "honest".to_string()
            } else {
                q.strength.to_string()
            },
            q.clean_accuracy,
            q.attack_success,
            q.edits_applied
        );
    }
    emit(
        c,
        &plan,
        LR,
        "backdoor",
        replay,
        Some(&a.out),
        &r,
        r.macs,
        t,
    )
}

fn misclassify(a: &MisclassifyArgs) -> anyhow::Result<()> {
    let c = &a.common;
    let plan = Plan::of(c)?;
    let sc = scales(&a.scales)?;
    if a.train < c.batch {
        return Err(usage!("--train {}: give at least one batch ({})", a.train, c.batch).into());
    }
    let m = load_train(c, plan.digits, "--train", a.train)?;
    if a.chosen >= m.test.len() {
        return Err(usage!(
            "--chosen {}: {} has {} test images of digits {:?}",
            a.chosen,
            source(c),
            m.test.len(),
            plan.digits
        )
        .into());
    }
    // Clean accuracy on the other test images: the chosen one is the adversary's.
    let others = m.test.without(a.chosen);
    let r = attacks::misclassify(&m.train, &m.test, a.chosen, &others, &plan.training, &sc)
        .map_err(kernel)?;
    let replay = format!(
        "mpcdiff attack misclassify {} --train {} --chosen {} --scales {}",
        plan.flags(c),
        a.train,
        a.chosen,
        a.scales
    );
    let mut t = String::new();
    let _ = writeln!(
        t,
        "chosen input: {} test image {} (digit {}), training row {} of {} with the wrong label",
        if c.synthetic.is_some() {
            "synthetic"
        } else {
            "MNIST"
        },
        r.chosen_source,
        plan.digits[usize::from(r.true_label > 0.5)],
        r.chosen_row,
        r.samples
    );
    let _ = writeln!(
        t,
        "{:>8} {:>10} {:>14} {:>15}",
        "scale", "margin", "prediction", "clean accuracy"
    );
    for q in &r.rows {
        let _ = writeln!(
            t,
            "{:>8} {:>+10.3} {:>14} {:>15.4}",
            if q.edits_applied == 0 && q.scale == 1.0 {
                "honest".to_string()
            } else {
                q.scale.to_string()
            },
            q.margin,
            if q.correct {
                "correct"
            } else {
                "misclassified"
            },
            q.clean_accuracy
        );
    }
    emit(c, &plan, LR, "misclassify", replay, None, &r, r.macs, t)
}

fn membership(a: &MembershipArgs) -> anyhow::Result<()> {
    let c = &a.common;
    let plan = Plan::of(c)?;
    if !(a.scale.is_finite() && (1.0..=1e6).contains(&a.scale)) {
        return Err(usage!("--scale {}: give 1..=1e6", a.scale).into());
    }
    if a.n < c.batch || a.n >= a.population {
        return Err(usage!(
            "--n {}: give at least one batch ({}) and fewer than --population ({})",
            a.n,
            c.batch,
            a.population
        )
        .into());
    }
    let full = a.n / c.batch * c.batch;
    if a.slot >= full {
        return Err(usage!(
            "--slot {}: give a position in a full batch (below {full})",
            a.slot
        )
        .into());
    }
    // The best-threshold advantage compares every pair of trials.
    if !(2..=10_000).contains(&a.trials) {
        return Err(usage!("--trials {}: give 2..=10000", a.trials).into());
    }
    let m = load_train(c, plan.digits, "--population", a.population)?;
    let g = Game {
        trials: a.trials,
        n: a.n,
        slot: a.slot,
        scale: a.scale,
        seed: a.seed,
    };
    let r = attacks::membership(&m.train, &plan.training, &g).map_err(kernel)?;
    let replay = format!(
        "mpcdiff attack membership {} --population {} --n {} --trials {} --slot {} --scale {} --seed {}",
        plan.flags(c),
        a.population,
        a.n,
        a.trials,
        a.slot,
        a.scale,
        a.seed
    );
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{} trials ({} members) of {} training images drawn from {}; the victim at row {}; scale {}",
        r.trials, r.members, r.n, r.population, r.slot, r.scale
    );
    let _ = writeln!(
        t,
        "loss-threshold membership advantage (best threshold): honest {:.4}, attacked {:.4}",
        r.advantage_honest, r.advantage_attacked
    );
    emit(c, &plan, LR, "membership", replay, None, &r, r.macs, t)
}

fn toggle(a: &ToggleArgs) -> anyhow::Result<()> {
    let c = &a.common;
    let plan = Plan::of(c)?;
    if !(1..=256).contains(&a.hidden) {
        return Err(usage!("--hidden {}: give 1..=256", a.hidden).into());
    }
    let bad = || {
        usage!(
            "--units {}: give up to 16 comma-separated counts, each 1..=hidden ({})",
            a.units,
            a.hidden
        )
    };
    let units: Vec<usize> = a
        .units
        .split(',')
        .map(|t| t.trim().parse::<usize>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if units.is_empty() || units.len() > 16 || units.iter().any(|&u| u == 0 || u > a.hidden) {
        return Err(bad().into());
    }
    if a.train < c.batch {
        return Err(usage!("--train {}: give at least one batch ({})", a.train, c.batch).into());
    }
    let m = load_train(c, plan.digits, "--train", a.train)?;
    let r = attacks::toggle(
        &m.train,
        &m.test,
        &plan.training,
        a.hidden,
        &units,
        a.init_seed,
    )
    .map_err(kernel)?;
    let [features, hidden, classes] = r.widths;
    let chart = Chart {
        title: format!(
            "sabotage by ReLU-mask toggles: MLP {features}-{hidden}-{classes}, {} rows, digits {} vs {}",
            r.samples, plan.digits[0], plan.digits[1]
        ),
        x_label: "hidden units toggled (0 = honest run)".into(),
        y_label: "released model on the test set".into(),
        x_scale: Scale::Linear,
        y_scale: Scale::Linear,
        series: vec![
            Series {
                label: "test accuracy".into(),
                points: r.rows.iter().map(|q| (q.units as f64, q.accuracy)).collect(),
                color: PALETTE[0],
                dashed: false,
            },
            Series {
                label: "test loss (cross-entropy)".into(),
                points: r.rows.iter().map(|q| (q.units as f64, q.loss)).collect(),
                color: PALETTE[1],
                dashed: true,
            },
        ],
    };
    output::write_atomic(&a.out, chart.render())?;
    let replay = format!(
        "mpcdiff attack toggle {} --train {} --hidden {} --units {} --init-seed {}",
        plan.flags(c),
        a.train,
        a.hidden,
        a.units,
        a.init_seed
    );
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{} training rows, {} test images; MLP {features}-{hidden}-{classes} (ReLU), initial parameters of seed {}; the first U hidden units' masks toggled at every example of every step",
        r.samples, r.test_samples, a.init_seed
    );
    let _ = writeln!(
        t,
        "{:>8} {:>14} {:>10} {:>14}",
        "U", "test accuracy", "test loss", "edits applied"
    );
    for q in &r.rows {
        let _ = writeln!(
            t,
            "{:>8} {:>14.4} {:>10.4} {:>14}",
            if q.units == 0 {
                "honest".to_string()
            } else {
                q.units.to_string()
            },
            q.accuracy,
            q.loss,
            q.edits_applied
        );
    }
    let model = format!("an MLP ({features}-{hidden}-{classes}, ReLU)");
    emit(
        c,
        &plan,
        &model,
        "toggle",
        replay,
        Some(&a.out),
        &r,
        r.macs,
        t,
    )
}
