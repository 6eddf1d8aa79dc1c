//! The covert-attack experiments on images (MNIST in the CLI) with owned memory: building the
//! two-digit data sets, the poisoned examples and the triggered test inputs, and running the
//! kernel's drivers ([`mpcdiff_kernel::training::reconstruction`],
//! [`mpcdiff_kernel::training::poisoning`], [`mpcdiff_kernel::training::membership`],
//! [`mpcdiff_kernel::training::toggles`]) with
//! buffers sized by the kernel. Results are owned and serializable.
//!
//! # Data
//! A [`Pair`] data set takes images of two digits (`negative` → label 0, `positive` →
//! label 1) in the order given, pixels as values in `[0, 1]` (widened from `f32`), and
//! appends a bias feature 1, so a model has `pixels + 1` weights, the last its bias.
//!
//! Everything else (which images, which scales) is the caller's choice and is recorded in
//! the results; the same arguments give the same numbers on every target.

use mpcdiff_kernel::approx::profile::CRYPTEN;
use mpcdiff_kernel::arith::authenticated::Auth;
use mpcdiff_kernel::training::adversary::{self, shares_needed, Setting};
use mpcdiff_kernel::training::backprop::{self, Hidden, Net};
use mpcdiff_kernel::training::covert::gradient_scale;
use mpcdiff_kernel::training::logistic::{gradient_opening, Hyper, Problem, Sizes};
use mpcdiff_kernel::training::membership::{self, Game, Trial};
use mpcdiff_kernel::training::poisoning::{
    self, boost_edits_needed, edits_needed, stamp_trigger, BackdoorRow, Boost, TargetRow, TestSet,
};
use mpcdiff_kernel::training::reconstruction::{reconstruct, Recovered};
use mpcdiff_kernel::training::toggles::{self, ToggleRow, Toggles};
use mpcdiff_kernel::wire::additive::Edit;
use mpcdiff_kernel::{digits, FixedPoint, Share, TruncMode};
use serde::Serialize;

use crate::Failure;

/// Two digits of an image set as a binary problem (see the module doc).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pair {
    /// Rows of `pixels + 1` features.
    pub x: Vec<f64>,
    /// Labels 0 (negative digit) or 1 (positive digit).
    pub y: Vec<f64>,
    /// Each row's index in the source images.
    pub source: Vec<usize>,
    /// Features per row (`pixels + 1`).
    pub features: usize,
}

impl Pair {
    /// The first `take` images (in source order) of digits `negative` and `positive` among
    /// `images` (`pixels` values each, in `[0, 1]`) with labels `labels`, skipping the first
    /// `skip` such images.
    ///
    /// # Errors
    /// [`Failure::Argument`] if the images and labels disagree in length or the two digits
    /// are equal.
    pub fn of(
        images: &[f32],
        labels: &[u8],
        pixels: usize,
        [negative, positive]: [u8; 2],
        skip: usize,
        take: usize,
    ) -> Result<Pair, Failure> {
        if pixels == 0 || images.len() != labels.len().saturating_mul(pixels) {
            return Err(Failure::Argument {
                name: "images",
                expected: "one row of `pixels` values per label",
            });
        }
        if negative == positive {
            return Err(Failure::Argument {
                name: "digits",
                expected: "two different digits",
            });
        }
        let features = pixels + 1;
        let mut p = Pair {
            features,
            ..Pair::default()
        };
        for (i, (row, &l)) in images
            .chunks_exact(pixels)
            .zip(labels)
            .enumerate()
            .filter(|(_, (_, &l))| l == negative || l == positive)
            .skip(skip)
            .take(take)
        {
            p.x.extend(row.iter().map(|&v| f64::from(v)));
            p.x.push(1.0);
            p.y.push(if l == positive { 1.0 } else { 0.0 });
            p.source.push(i);
        }
        Ok(p)
    }

    /// `take` of the kernel's seeded synthetic digits ([`digits::synthetic`]) of `negative`
    /// and `positive`, alternating (even rows `negative`, odd rows `positive`): row `k` is
    /// synthetic digit `skip + k` of `seed` drawn with its row's label, and its source index
    /// is `skip + k`. For places without MNIST (the browser): the same arguments give the
    /// same images on every target, and disjoint `skip..skip + take` ranges give independent
    /// digits (a training set and a test set of one seed).
    ///
    /// # Errors
    /// [`Failure::Argument`] if the two digits are equal or one is not 0..=9.
    pub fn synthetic(
        seed: u64,
        [negative, positive]: [u8; 2],
        skip: usize,
        take: usize,
    ) -> Result<Pair, Failure> {
        if negative > 9 || positive > 9 {
            return Err(Failure::Argument {
                name: "digits",
                expected: "two different digits 0..=9",
            });
        }
        let mut images = vec![0.0f32; take.saturating_mul(digits::PIXELS)];
        let mut labels = Vec::with_capacity(take);
        let mut img = [0.0f32; digits::PIXELS];
        for (k, row) in images.chunks_exact_mut(digits::PIXELS).enumerate() {
            let label = if k % 2 == 0 { negative } else { positive };
            digits::synthetic::digit(seed, (skip + k) as u64, label, &mut img)?;
            row.copy_from_slice(&img);
            labels.push(label);
        }
        let mut p = Pair::of(
            &images,
            &labels,
            digits::PIXELS,
            [negative, positive],
            0,
            take,
        )?;
        for s in &mut p.source {
            *s += skip;
        }
        Ok(p)
    }

    /// The same set without row `i` (unchanged if there is none).
    pub fn without(&self, i: usize) -> Pair {
        let mut p = self.clone();
        if i < p.len() {
            p.x.drain(i * p.features..(i + 1) * p.features);
            p.y.remove(i);
            p.source.remove(i);
        }
        p
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether it has no rows.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.features..][..self.features]
    }

    fn problem(&self) -> Problem<'_> {
        Problem {
            x: &self.x,
            y: &self.y,
            samples: self.len(),
            features: self.features,
        }
    }
}

/// The three sets of an experiment on synthetic digits ([`synthetic_sets`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sets {
    /// The (clean) training rows.
    pub train: Pair,
    /// The adversary's rows, for [`backdoor`]'s poisoned images.
    pub pool: Pair,
    /// The test rows.
    pub test: Pair,
}

/// The data of an experiment on the synthetic digits of `seed` ([`Pair::synthetic`]), at
/// disjoint indices in this order: `train` training rows, `2·poison` rows for the adversary
/// (its `poison` images of the negative digit, and as many of the positive one, unused), then
/// `test` test rows. One definition, so `mpcdiff attack … --synthetic` and the browser run
/// the same images.
///
/// # Errors
/// As [`Pair::synthetic`].
pub fn synthetic_sets(
    seed: u64,
    pair: [u8; 2],
    train: usize,
    poison: usize,
    test: usize,
) -> Result<Sets, Failure> {
    let pool = poison.saturating_mul(2);
    Ok(Sets {
        train: Pair::synthetic(seed, pair, 0, train)?,
        pool: Pair::synthetic(seed, pair, train, pool)?,
        test: Pair::synthetic(seed, pair, train.saturating_add(pool), test)?,
    })
}

/// Whether the residual shift `e` fits the reconstruction at `frac_bits`: nonzero, finite, and
/// `|e|·2^(2f) < 2^62`, so the product `e·x` before truncation stays in the ring (the rule of
/// `mpcdiff attack reconstruct --e` and the page's field alike).
pub fn shift_fits(e: f64, frac_bits: u32) -> bool {
    let scale = (1u64 << frac_bits.min(62)) as f64;
    e.is_finite() && e != 0.0 && (e * scale * scale).abs() < (1u64 << 62) as f64
}

/// The training settings every experiment records.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Training {
    /// Fixed-point fractional bits.
    pub frac_bits: u32,
    /// Dealer (true) or share-local (false) truncation.
    pub dealer_truncation: bool,
    /// Learning rate.
    pub lr: f64,
    /// Batch size.
    pub batch: usize,
    /// Epochs.
    pub epochs: u32,
    /// The MPC session's seed.
    pub mpc_seed: u64,
    /// The corrupt party.
    pub corrupt: usize,
    /// The MAC's statistical parameter of the authenticated rerun ([`MacCheck`]), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mac_s: Option<u32>,
}

/// What the same attack does when the training runs with SPDZ2k MACs (the kernel's
/// `training::adversary::detect`): the attack's strongest edits, rerun in an authenticated
/// session.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct MacCheck {
    /// The statistical parameter.
    pub s: u32,
    /// Whether a MAC check failed (the honest party aborted, no model was released).
    pub caught: bool,
    /// The protocol of the failed opening.
    pub protocol: Option<&'static str>,
    /// The round of the failed check.
    pub round: Option<u64>,
    /// Edits that changed a word before the abort.
    pub edits_applied: u32,
    /// MAC checks run.
    pub checks: u64,
    /// Rounds until the end or the abort.
    pub rounds: u64,
    /// Bytes each party sent until the end or the abort.
    pub bytes_per_party: u64,
}

/// Reruns `edits` on `p` under MACs, if `t` asks for it.
fn under_macs(
    p: &Problem<'_>,
    s: &Setting<'_>,
    t: &Training,
    edits: &mut [Edit],
) -> Result<Option<MacCheck>, Failure> {
    let Some(mac_s) = t.mac_s else {
        return Ok(None);
    };
    let sz = Sizes::of(p, &s.hyper)?;
    let (w, e) = adversary::authenticated_arena(&sz);
    let mut elems = vec![Auth::default(); shares_needed(&sz)?];
    let (mut words, mut arena) = (vec![0i128; w], vec![Auth::default(); e]);
    let mut out = vec![0.0; p.features];
    let d = adversary::detect(
        p, s, mac_s, edits, &mut elems, &mut words, &mut arena, &mut out,
    )?;
    Ok(Some(MacCheck::of(mac_s, &d)))
}

impl MacCheck {
    /// What the kernel's detection says, at statistical parameter `s`.
    fn of(s: u32, d: &adversary::Detection) -> MacCheck {
        MacCheck {
            s,
            caught: d.caught.is_some(),
            protocol: d.caught.map(|c| c.0),
            round: d.caught.map(|c| c.1),
            edits_applied: d.applied,
            checks: d.checks,
            rounds: d.cost.rounds,
            bytes_per_party: d.cost.bytes_sent[1],
        }
    }
}

impl Training {
    /// These settings and `digits` as `mpcdiff attack` spells them in its `replay:` line, after
    /// the data flags (`--digits … --macs …`): the one spelling the CLI and the page print.
    pub fn flags(&self, digits: [u8; 2]) -> String {
        format!(
            "--digits {},{} --lr {} --batch {} --epochs {} --frac-bits {} --trunc {} --mpc-seed {} --macs {}",
            digits[0],
            digits[1],
            self.lr,
            self.batch,
            self.epochs,
            self.frac_bits,
            if self.dealer_truncation { "dealer" } else { "local" },
            self.mpc_seed,
            self.mac_s.unwrap_or(0)
        )
    }

    fn setting(&self) -> Result<Setting<'static>, Failure> {
        Ok(Setting {
            fp: FixedPoint::new(self.frac_bits)?,
            mode: if self.dealer_truncation {
                TruncMode::Dealer
            } else {
                TruncMode::Local
            },
            hyper: Hyper {
                lr: self.lr,
                batch: self.batch,
                epochs: self.epochs,
                profile: &CRYPTEN,
            },
            mpc_seed: self.mpc_seed,
            corrupt: self.corrupt,
        })
    }
}

/// The session memory of one training problem.
fn arena(p: &Problem<'_>, s: &Setting<'_>) -> Result<(Vec<Share>, Vec<i64>), Failure> {
    let sz = Sizes::of(p, &s.hyper)?;
    Ok((
        vec![Share::default(); shares_needed(&sz)?],
        vec![0i64; sz.words],
    ))
}

fn no_edits(n: usize) -> Vec<Edit> {
    vec![Edit::new(gradient_opening(0, 0), 0); n]
}

/// PSNR and SSIM of a reconstruction ([`mpcdiff_kernel::leak::metrics`]).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ImageQuality {
    /// Mean squared error.
    pub mse: f64,
    /// PSNR in dB (data range 1).
    pub psnr: f64,
    /// Mean SSIM (7 × 7 uniform window, Wang et al. 2004 constants).
    pub ssim: f64,
}

/// One victim of [`reconstruction`].
#[derive(Clone, Debug, Serialize)]
pub struct Victim {
    /// Its row in the training set.
    pub sample: usize,
    /// Its index in the source images.
    pub source: usize,
    /// Whether the edit reached its word.
    pub applied: bool,
    /// The attacker's estimate: largest absolute error (all features).
    pub max_abs: f64,
    /// Its cosine with the original.
    pub cosine: f64,
    /// Its image quality.
    pub quality: ImageQuality,
    /// The oracle estimate (honest model subtracted): largest absolute error.
    pub oracle_max_abs: f64,
    /// The original image (`pixels`).
    #[serde(skip)]
    pub original: Vec<f64>,
    /// The attacker's reconstruction (`pixels`).
    #[serde(skip)]
    pub reconstruction: Vec<f64>,
}

/// The reconstructions of one residual shift `e`.
#[derive(Clone, Debug, Serialize)]
pub struct ReconstructionRun {
    /// The residual shift.
    pub e: f64,
    /// Per victim.
    pub victims: Vec<Victim>,
}

/// The reconstruction experiment's results.
#[derive(Clone, Debug, Serialize)]
pub struct ReconstructionReport {
    /// Training settings.
    pub training: Training,
    /// The strongest attack rerun under SPDZ2k MACs (if asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macs: Option<MacCheck>,
    /// Training rows.
    pub samples: usize,
    /// Clean accuracy of the honest model on `test` (if given).
    pub honest_test_accuracy: Option<f64>,
    /// One run per residual shift, in the order given.
    pub runs: Vec<ReconstructionRun>,
}

/// Runs [`reconstruct`] on `train` (images `side × side`) for each residual shift of `es`,
/// the victims at batch positions `positions` of the last batch.
///
/// # Errors
/// The kernel's.
pub fn reconstruction(
    train: &Pair,
    test: Option<&Pair>,
    side: usize,
    t: &Training,
    positions: &[usize],
    es: &[f64],
) -> Result<ReconstructionReport, Failure> {
    let s = t.setting()?;
    let p = train.problem();
    let (mut shares, mut words) = arena(&p, &s)?;
    let d = train.features;
    let (mut wh, mut wa) = (vec![0.0; d], vec![0.0; d]);
    let mut hat = vec![0.0; positions.len() * d];
    let mut oracle = hat.clone();
    let mut out = vec![Recovered::default(); positions.len()];
    let px = side * side;
    let mut runs = Vec::with_capacity(es.len());
    for &e in es {
        reconstruct(
            &p,
            &s,
            positions,
            e,
            Some((side, side)),
            &mut shares,
            &mut words,
            &mut wh,
            &mut wa,
            &mut hat,
            &mut oracle,
            &mut out,
        )?;
        let victims = out
            .iter()
            .zip(hat.chunks_exact(d))
            .map(|(r, h)| {
                let q = r.quality.unwrap_or_default();
                Victim {
                    sample: r.sample,
                    source: train.source[r.sample],
                    applied: r.applied,
                    max_abs: r.max_abs,
                    cosine: r.cosine,
                    quality: ImageQuality {
                        mse: q.mse,
                        psnr: q.psnr,
                        ssim: q.ssim,
                    },
                    oracle_max_abs: r.oracle_max_abs,
                    original: train.row(r.sample)[..px].to_vec(),
                    reconstruction: h[..px].to_vec(),
                }
            })
            .collect();
        runs.push(ReconstructionRun { e, victims });
    }
    let honest_test_accuracy = match test {
        Some(t) => Some(adversary::accuracy(&wh, &t.x, &t.y)?),
        None => None,
    };
    // the strongest shift's edits, one per victim, in the last step
    let steps = s.hyper.steps_per_epoch(p.samples) as u64 * u64::from(s.hyper.epochs);
    let strongest = es
        .iter()
        .fold(0.0f64, |m, &e| if e.abs() > m.abs() { e } else { m });
    let mut edits = positions
        .iter()
        .map(|&pos| {
            gradient_scale(
                s.fp,
                steps.saturating_sub(1),
                d,
                s.hyper.batch,
                pos,
                strongest,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let macs = under_macs(&p, &s, t, &mut edits)?;
    Ok(ReconstructionReport {
        training: *t,
        macs,
        samples: train.len(),
        honest_test_accuracy,
        runs,
    })
}

/// The trigger of the backdoor experiment.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Trigger {
    /// Side of the square patch in pixels.
    pub size: usize,
    /// Its distance from the bottom and right edges.
    pub margin: usize,
    /// Its pixel value.
    pub value: f64,
}

/// One row of the backdoor table.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct BackdoorJson {
    /// The scale (scaling; 1: honest run) or the shift (shifting; 0: honest run).
    pub strength: f64,
    /// Clean test accuracy.
    pub clean_accuracy: f64,
    /// Attack success rate.
    pub attack_success: f64,
    /// Edits applied.
    pub edits_applied: usize,
}

impl From<BackdoorRow> for BackdoorJson {
    fn from(r: BackdoorRow) -> Self {
        BackdoorJson {
            strength: r.strength,
            clean_accuracy: r.clean_accuracy,
            attack_success: r.attack_success,
            edits_applied: r.edits_applied,
        }
    }
}

/// How the backdoor is planted.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Gradient scaling of `poison` stamped, target-labelled examples of the adversary.
    Scale {
        /// The adversary's poisoned examples.
        poison: usize,
    },
    /// Gradient shifting of the trigger's weights in the last `steps` steps (dealer
    /// truncation); the data stays clean.
    Shift {
        /// Shifted final steps.
        steps: u64,
    },
}

/// The backdoor experiment's results.
#[derive(Clone, Debug, Serialize)]
pub struct BackdoorReport {
    /// Training settings.
    pub training: Training,
    /// The strongest attack rerun under SPDZ2k MACs (if asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macs: Option<MacCheck>,
    /// The trigger.
    pub trigger: Trigger,
    /// How it was planted.
    pub strategy: Strategy,
    /// Training rows (clean plus poisoned).
    pub samples: usize,
    /// The adversary's (poisoned) rows (scaling only).
    pub poisoned: Vec<usize>,
    /// Clean test rows.
    pub test_samples: usize,
    /// Triggered test inputs (the negative digit's test images, stamped).
    pub triggered: usize,
    /// The honest run first, then one per strength.
    pub rows: Vec<BackdoorJson>,
}

/// The backdoor experiment with target label 1. Scaling: `clean` training rows and `poison`
/// rows of the negative digit from `pool` (stamped, labelled 1) placed evenly among them (row
/// `k·(n/poison) + n/(2·poison)` of the combined `n` rows). Shifting: the `clean` rows alone.
/// Test rows from `test`; one run per strength of `strengths` after the honest one.
///
/// # Errors
/// [`Failure::Argument`] for no poison or too few negative images in `pool`; the kernel's.
#[allow(clippy::too_many_arguments)]
pub fn backdoor(
    clean: &Pair,
    pool: &Pair,
    test: &Pair,
    side: usize,
    trigger: Trigger,
    strategy: Strategy,
    t: &Training,
    strengths: &[f64],
) -> Result<BackdoorReport, Failure> {
    let s = t.setting()?;
    let d = clean.features;
    let stamp = |row: &mut [f64]| {
        stamp_trigger(
            row,
            (side, side),
            trigger.size,
            trigger.margin,
            trigger.value,
        )
    };
    let poison = match strategy {
        Strategy::Scale { poison } => poison,
        Strategy::Shift { .. } => 0,
    };
    let negatives: Vec<usize> = (0..pool.len()).filter(|&i| pool.y[i] == 0.0).collect();
    if matches!(strategy, Strategy::Scale { .. }) && (poison == 0 || negatives.len() < poison) {
        return Err(Failure::Argument {
            name: "poison",
            expected: "at least 1, and no more than the negative images left for the adversary",
        });
    }
    let n = clean.len() + poison;
    let every = n / poison.max(1);
    let mut x = Vec::with_capacity(n * d);
    let mut y = Vec::with_capacity(n);
    let mut adv = Vec::with_capacity(poison);
    let (mut c, mut q) = (0usize, 0usize);
    for k in 0..n {
        if q < poison && k == q * every + every / 2 {
            let mut row = pool.row(negatives[q]).to_vec();
            stamp(&mut row)?;
            x.extend(row);
            y.push(1.0);
            adv.push(k);
            q += 1;
        } else {
            x.extend_from_slice(clean.row(c));
            y.push(clean.y[c]);
            c += 1;
        }
    }
    let p = Problem {
        x: &x,
        y: &y,
        samples: n,
        features: d,
    };
    let mut trig = Vec::new();
    for i in (0..test.len()).filter(|&i| test.y[i] == 0.0) {
        let mut row = test.row(i).to_vec();
        stamp(&mut row)?;
        trig.extend(row);
    }
    // The trigger's features: the pixels the stamp sets.
    let mut marked = vec![f64::NAN; d];
    stamp(&mut marked)?;
    let trigger_features: Vec<usize> = (0..d).filter(|&j| !marked[j].is_nan()).collect();
    let boost = match strategy {
        Strategy::Scale { .. } => Boost::Scale { adversary: &adv },
        Strategy::Shift { steps } => Boost::Shift {
            features: &trigger_features,
            steps,
        },
    };
    let (mut shares, mut words) = arena(&p, &s)?;
    let mut edits = no_edits(boost_edits_needed(&p, &s, &boost));
    let mut w = vec![0.0; d];
    let mut out = vec![BackdoorRow::default(); strengths.len() + 1];
    poisoning::backdoor(
        &p,
        &s,
        &boost,
        strengths,
        &TestSet {
            x: &test.x,
            y: &test.y,
        },
        &trig,
        1.0,
        &mut shares,
        &mut words,
        &mut edits,
        &mut w,
        &mut out,
    )?;
    let strongest = strengths.iter().fold(0.0f64, |m, &v| m.max(v));
    let mut edits = no_edits(boost_edits_needed(&p, &s, &boost));
    match boost {
        Boost::Scale { adversary } => {
            poisoning::plan(&p, &s, adversary, strongest, &mut edits)?;
        }
        Boost::Shift { features, steps } => {
            poisoning::plan_shift(&p, &s, features, steps, 1.0, strongest, &mut edits)?;
        }
    }
    let macs = under_macs(&p, &s, t, &mut edits)?;
    Ok(BackdoorReport {
        training: *t,
        macs,
        trigger,
        strategy,
        samples: n,
        poisoned: adv,
        test_samples: test.len(),
        triggered: trig.len() / d,
        rows: out.into_iter().map(Into::into).collect(),
    })
}

/// One row of the misclassification table.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct TargetJson {
    /// Scale (1: honest run).
    pub scale: f64,
    /// The chosen input's margin toward its true label.
    pub margin: f64,
    /// Whether it is classified correctly.
    pub correct: bool,
    /// Clean test accuracy.
    pub clean_accuracy: f64,
    /// Edits applied.
    pub edits_applied: usize,
}

impl From<TargetRow> for TargetJson {
    fn from(r: TargetRow) -> Self {
        TargetJson {
            scale: r.scale,
            margin: r.margin,
            correct: r.correct,
            clean_accuracy: r.clean_accuracy,
            edits_applied: r.edits_applied,
        }
    }
}

/// The targeted misclassification's results.
#[derive(Clone, Debug, Serialize)]
pub struct MisclassifyReport {
    /// Training settings.
    pub training: Training,
    /// The strongest attack rerun under SPDZ2k MACs (if asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macs: Option<MacCheck>,
    /// Training rows (clean plus the chosen one).
    pub samples: usize,
    /// The chosen input's row in the training set.
    pub chosen_row: usize,
    /// Its index in the source images.
    pub chosen_source: usize,
    /// Its true label.
    pub true_label: f64,
    /// The honest run first, then one per scale.
    pub rows: Vec<TargetJson>,
}

/// The targeted misclassification: the image `chosen` of `inputs` (the adversary's own,
/// e.g. a test image) joins `clean` at the middle row with the wrong label; the test rows of
/// `test` give the clean accuracy.
///
/// # Errors
/// [`Failure::Argument`] if `chosen` is past `inputs`; the kernel's.
pub fn misclassify(
    clean: &Pair,
    inputs: &Pair,
    chosen: usize,
    test: &Pair,
    t: &Training,
    scales: &[f64],
) -> Result<MisclassifyReport, Failure> {
    if chosen >= inputs.len() {
        return Err(Failure::Argument {
            name: "chosen",
            expected: "an image of the two digits",
        });
    }
    let s = t.setting()?;
    let at = clean.len() / 2;
    let true_label = inputs.y[chosen];
    let mut x = clean.x.clone();
    let mut y = clean.y.clone();
    let d = clean.features;
    x.splice(at * d..at * d, inputs.row(chosen).iter().copied());
    y.insert(at, 1.0 - true_label);
    let p = Problem {
        x: &x,
        y: &y,
        samples: y.len(),
        features: d,
    };
    let (mut shares, mut words) = arena(&p, &s)?;
    let mut edits = no_edits(edits_needed(&p, &s, &[at]));
    let mut w = vec![0.0; d];
    let mut out = vec![TargetRow::default(); scales.len() + 1];
    poisoning::misclassify(
        &p,
        &s,
        at,
        true_label,
        scales,
        &TestSet {
            x: &test.x,
            y: &test.y,
        },
        &mut shares,
        &mut words,
        &mut edits,
        &mut w,
        &mut out,
    )?;
    let strongest = scales.iter().fold(0.0f64, |m, &v| m.max(v));
    let mut edits = no_edits(edits_needed(&p, &s, &[at]));
    poisoning::plan_as(&p, &s, &[at], strongest, Some(1.0 - true_label), &mut edits)?;
    let macs = under_macs(&p, &s, t, &mut edits)?;
    Ok(MisclassifyReport {
        training: *t,
        macs,
        samples: y.len(),
        chosen_row: at,
        chosen_source: inputs.source[chosen],
        true_label,
        rows: out.into_iter().map(Into::into).collect(),
    })
}

/// One trial of the membership game.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct TrialJson {
    /// The candidate's index in the source images.
    pub candidate: usize,
    /// Whether it was trained on.
    pub member: bool,
    /// Honest model's loss on it.
    pub loss_honest: f64,
    /// Attacked model's loss on it.
    pub loss_attacked: f64,
}

/// The membership game's results.
#[derive(Clone, Debug, Serialize)]
pub struct MembershipReport {
    /// Training settings (the MPC seed of trial `t` is `splitmix64(mpc_seed ^ t)`).
    pub training: Training,
    /// The strongest attack rerun under SPDZ2k MACs (if asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macs: Option<MacCheck>,
    /// Trials.
    pub trials: usize,
    /// Training rows per trial.
    pub n: usize,
    /// The tested slot.
    pub slot: usize,
    /// Scale of the attacked world.
    pub scale: f64,
    /// Seed of the draws.
    pub seed: u64,
    /// The population size.
    pub population: usize,
    /// Members among the trials.
    pub members: usize,
    /// Best-threshold advantage, honest world.
    pub advantage_honest: f64,
    /// Best-threshold advantage, attacked world.
    pub advantage_attacked: f64,
    /// Every trial.
    pub per_trial: Vec<TrialJson>,
}

/// Plays the membership game on the population `pop`.
///
/// # Errors
/// The kernel's.
pub fn membership(pop: &Pair, t: &Training, g: &Game) -> Result<MembershipReport, Failure> {
    let s = t.setting()?;
    let d = pop.features;
    let p = pop.problem();
    if g.n == 0 || g.n >= pop.len() {
        return Err(Failure::Argument {
            name: "n",
            expected: "at least 1 and fewer than the population",
        });
    }
    let sub = Problem {
        x: &pop.x[..g.n * d],
        y: &pop.y[..g.n],
        samples: g.n,
        features: d,
    };
    let (mut shares, mut words) = arena(&sub, &s)?;
    let (mut x, mut y) = (vec![0.0; g.n * d], vec![0.0; g.n]);
    let mut order = vec![0usize; pop.len()];
    let mut edits = no_edits(t.epochs as usize);
    let mut w = vec![0.0; d];
    let mut trials = vec![Trial::default(); g.trials];
    let o = membership::membership(
        &p,
        &s,
        g,
        &mut shares,
        &mut words,
        &mut x,
        &mut y,
        &mut order,
        &mut edits,
        &mut w,
        &mut trials,
    )?;
    // one attacked world: the slot boosted toward label 1 in the first `n` images
    let mut edits = no_edits(edits_needed(&sub, &s, &[g.slot]));
    poisoning::plan_as(&sub, &s, &[g.slot], g.scale, Some(1.0), &mut edits)?;
    let macs = under_macs(&sub, &s, t, &mut edits)?;
    Ok(MembershipReport {
        training: *t,
        macs,
        trials: g.trials,
        n: g.n,
        slot: g.slot,
        scale: g.scale,
        seed: g.seed,
        population: pop.len(),
        members: o.members,
        advantage_honest: o.advantage_honest,
        advantage_attacked: o.advantage_attacked,
        per_trial: trials
            .iter()
            .map(|t| TrialJson {
                candidate: pop.source[t.candidate],
                member: t.member,
                loss_honest: t.loss_honest,
                loss_attacked: t.loss_attacked,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    //! The synthetic pair is the kernel's synthetic digits, labelled and indexed as documented.

    use super::*;

    #[test]
    fn synthetic_pair_alternates_the_two_digits() {
        let p = Pair::synthetic(2024, [3, 8], 10, 5).unwrap();
        assert_eq!((p.len(), p.features), (5, digits::PIXELS + 1));
        assert_eq!(p.y, [0.0, 1.0, 0.0, 1.0, 0.0]);
        assert_eq!(p.source, [10, 11, 12, 13, 14]);
        let mut img = [0.0f32; digits::PIXELS];
        digits::synthetic::digit(2024, 13, 8, &mut img).unwrap();
        let want: Vec<f64> = img.iter().map(|&v| f64::from(v)).chain([1.0]).collect();
        assert_eq!(p.row(3), &want[..]);
        assert!(Pair::synthetic(1, [2, 2], 0, 4).is_err());
        assert!(Pair::synthetic(1, [2, 10], 0, 4).is_err());
        assert!(Pair::synthetic(1, [0, 1], 0, 0).unwrap().is_empty());
    }
}

/// One row of the sabotage table ([`toggle`]).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct ToggleJson {
    /// Hidden units whose masks were toggled (0: the honest run).
    pub units: usize,
    /// Test accuracy of the released model.
    pub accuracy: f64,
    /// Its mean test cross-entropy.
    pub loss: f64,
    /// Edits applied (every example's toggles of every step).
    pub edits_applied: usize,
}

impl From<ToggleRow> for ToggleJson {
    fn from(r: ToggleRow) -> Self {
        ToggleJson {
            units: r.units,
            accuracy: r.accuracy,
            loss: r.loss,
            edits_applied: r.edits_applied,
        }
    }
}

/// The sabotage by comparison toggles' results ([`toggle`]).
#[derive(Clone, Debug, Serialize)]
pub struct ToggleReport {
    /// Training settings.
    pub training: Training,
    /// The strongest toggling rerun under SPDZ2k MACs (if asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macs: Option<MacCheck>,
    /// The MLP's widths (features with the bias column, hidden units, 2 classes).
    pub widths: [usize; 3],
    /// Seed of the initial parameters (PyTorch's `nn.Linear` default law).
    pub init_seed: u64,
    /// Training rows.
    pub samples: usize,
    /// Test rows.
    pub test_samples: usize,
    /// The honest run first, then one per entry of `units`.
    pub rows: Vec<ToggleJson>,
}

/// Sabotage by comparison toggles (the kernel's `training::toggles`): an MLP with `hidden`
/// ReLU units trained in shares on `train` from parameters drawn from `init_seed`, honestly
/// and with the masks of its first `u` hidden units toggled at every example of every step,
/// for each `u` of `units`; each released model is evaluated on `test`.
///
/// # Errors
/// [`Failure::Argument`] for no hidden units, no or too many toggled units, or empty sets;
/// the kernel's.
pub fn toggle(
    train: &Pair,
    test: &Pair,
    t: &Training,
    hidden: usize,
    units: &[usize],
    init_seed: u64,
) -> Result<ToggleReport, Failure> {
    if hidden == 0 || units.is_empty() || units.iter().any(|&u| u == 0 || u > hidden) {
        return Err(Failure::Argument {
            name: "units",
            expected: "one or more counts of toggled units, each 1..=hidden",
        });
    }
    if train.is_empty() || test.is_empty() {
        return Err(Failure::Argument {
            name: "train",
            expected: "nonempty training and test sets",
        });
    }
    let s = t.setting()?;
    let widths = [train.features, hidden, 2];
    let net = Net {
        widths: &widths,
        hidden: Hidden::Relu,
    };
    let (p, q) = (train.problem(), test.problem());
    let sz = backprop::Sizes::of(&net, &p, &s.hyper)?;
    let mut start = vec![0.0; sz.params];
    backprop::init(init_seed, &net, &mut start)?;
    let steps = s.hyper.steps_per_epoch(p.samples) as u64 * u64::from(s.hyper.epochs);
    let strongest = Toggles {
        layer: 0,
        units: units.iter().copied().max().unwrap_or(0),
        first_step: 0,
        steps,
    };
    let n = toggles::edits_needed(&strongest, s.hyper.batch)?;
    let mut edits = no_edits(n);
    let (mut params, mut work) = (
        vec![Share::default(); sz.params],
        vec![Share::default(); sz.work],
    );
    let (mut words, mut out) = (vec![0i64; sz.words], vec![0.0; sz.params]);
    let mut b = toggles::Buffers {
        params: &mut params,
        work: &mut work,
        words: &mut words,
        out: &mut out,
    };
    let mut scratch = vec![0.0; backprop::eval_scratch_len(&net)];
    let mut rows = vec![ToggleRow::default(); units.len() + 1];
    toggles::sabotage(
        &net,
        &p,
        &q,
        &s,
        &start,
        0,
        units,
        &mut b,
        &mut edits,
        &mut scratch,
        &mut rows,
    )?;
    let macs = match t.mac_s {
        None => None,
        Some(mac_s) => {
            toggles::plan(&net, s.hyper.batch, &strongest, &mut edits)?;
            let (aw, ae) = toggles::authenticated_arena(&net, s.hyper.batch)?;
            let (mut params, mut work) = (
                vec![Auth::default(); sz.params],
                vec![Auth::default(); sz.work],
            );
            let (mut words, mut arena) = (vec![0i128; aw], vec![Auth::default(); ae]);
            let mut out = vec![0.0; sz.params];
            let mut ab = toggles::AuthBuffers {
                params: &mut params,
                work: &mut work,
                words: &mut words,
                arena: &mut arena,
                out: &mut out,
            };
            let d = toggles::detect(&net, &p, &s, mac_s, &start, &mut edits, &mut ab)?;
            Some(MacCheck::of(mac_s, &d))
        }
    };
    Ok(ToggleReport {
        training: *t,
        macs,
        widths,
        init_seed,
        samples: p.samples,
        test_samples: q.samples,
        rows: rows.into_iter().map(Into::into).collect(),
    })
}
