//! Covert attacks on training, in the browser: thin converters over `mpcdiff_host::attacks`
//! (the experiments `mpcdiff attack reconstruct|backdoor|misclassify|toggle` run on MNIST), here
//! on the kernel's seeded synthetic digits 0 and 1
//! ([`mpcdiff_host::attacks::synthetic_sets`], seed [`DATA_SEED`]), at sizes that run in
//! under a second. Each report is the host's, the same object as the CLI's `--json`
//! `result`, and carries `macs`: the strongest attack rerun with SPDZ2k MACs (s = 64). Each
//! view also carries `command`, the CLI's `replay:` line for the same run.
//!
//! ```js
//! const r = wasm.attack_reconstruction(1000, 42n);
//! r.report.runs[0].victims[0].quality.psnr; // dB
//! r.report.macs.caught;                     // true: the MAC check aborts the training
//! r.originals, r.reconstructions;           // Float64Array, victims × 28 × 28
//! const b = wasm.attack_backdoor(16, 42n);
//! b.report.rows;                            // honest run, then scale 16: clean accuracy, ASR
//! const m = wasm.attack_misclassify(16, 0, 42n);
//! m.report.rows;                            // honest run, then scale 16: margin, correct
//! const t = wasm.attack_toggle(8, 42n);
//! t.report.rows;                            // honest MLP, then 8 units toggled: accuracy, loss
//! ```

use mpcdiff_host::attacks::{
    self, BackdoorReport, MembershipReport, MisclassifyReport, ReconstructionReport, Sets,
    Strategy, ToggleReport, Training, Trigger,
};
use mpcdiff_kernel::digits;
use mpcdiff_kernel::training::membership::Game;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::{into_error, seed_arg, ser, Failure};

/// The seed of the synthetic digits (training rows first, then test rows, disjoint indices).
pub const DATA_SEED: u64 = 2024;
/// The two digits: negative (label 0), positive (label 1).
pub const DIGITS: [u8; 2] = [0, 1];
/// Image side.
pub const SIDE: usize = 28;
/// Reconstruction: training rows (8 batches).
pub const RECON_TRAIN: usize = 64;
/// Reconstruction: victims, the last batch's first rows (one attacked training each).
pub const RECON_VICTIMS: usize = 4;
/// Backdoor: clean training rows.
pub const BACKDOOR_TRAIN: usize = 400;
/// Backdoor: the adversary's poisoned rows (zeros, stamped, labelled 1).
pub const BACKDOOR_POISON: usize = 5;
/// Misclassification: clean training rows.
pub const MISCLASSIFY_TRAIN: usize = 400;
/// Toggles: training rows of the MLP.
pub const TOGGLE_TRAIN: usize = 400;
/// Toggles: the MLP's hidden ReLU units.
pub const TOGGLE_HIDDEN: usize = 16;
/// Toggles: the seed of the MLP's initial parameters (the CLI's default).
pub const TOGGLE_INIT_SEED: u64 = 1;
/// Backdoor by shifting: the last steps whose patch gradients are shifted.
pub const SHIFT_STEPS: u64 = 8;
/// Membership: the population the training sets and candidates are drawn from.
pub const MEMBERSHIP_POPULATION: usize = 200;
/// Membership: training rows per trial.
pub const MEMBERSHIP_N: usize = 64;
/// Membership: trials (trainings per world).
pub const MEMBERSHIP_TRIALS: usize = 100;
/// Membership: the victim's public row.
pub const MEMBERSHIP_SLOT: usize = 60;
/// Membership: the seed of the trials' draws.
pub const MEMBERSHIP_SEED: u64 = 1;
/// Test rows (half zeros, half ones).
pub const TEST: usize = 200;
/// Backdoor: the trigger, a 4 × 4 white patch 1 pixel from the bottom-right corner.
pub const TRIGGER: Trigger = Trigger {
    size: 4,
    margin: 1,
    value: 1.0,
};

/// The training every experiment here runs: the CLI's defaults (lr 0.5, batch 8, one
/// epoch, 16 fractional bits, share-local truncation, party 1 corrupt), MACs at s = 64.
fn training(mpc_seed: u64) -> Training {
    training_in(mpc_seed, false)
}

/// [`training`] with dealer truncation if `dealer` (gradient shifting edits its opening).
fn training_in(mpc_seed: u64, dealer: bool) -> Training {
    Training {
        frac_bits: 16,
        dealer_truncation: dealer,
        lr: 0.5,
        batch: 8,
        epochs: 1,
        mpc_seed,
        corrupt: 1,
        mac_s: Some(64),
    }
}

/// The flags every experiment's command starts with, spelled as `mpcdiff attack` spells
/// them in its `replay:` line (the browser test requires the two to be equal).
fn flags(mpc_seed: u64) -> String {
    flags_in(mpc_seed, false)
}

/// [`flags`] of [`training_in`].
fn flags_in(mpc_seed: u64, dealer: bool) -> String {
    format!(
        "--synthetic {DATA_SEED} --test {TEST} {}",
        training_in(mpc_seed, dealer).flags(DIGITS)
    )
}

/// What the page shows of a reconstruction.
#[derive(Serialize)]
pub struct ReconstructionView {
    /// The host's report (as `mpcdiff attack reconstruct --json`'s `result`).
    pub report: ReconstructionReport,
    /// Image side.
    pub side: usize,
    /// The same experiment natively: `mpcdiff attack reconstruct --synthetic …`, as the CLI
    /// prints its `replay:` line.
    pub command: String,
    /// The victims' originals, `side²` each.
    #[serde(serialize_with = "ser::f64s")]
    pub originals: Vec<f64>,
    /// The attacker's reconstructions, `side²` each.
    #[serde(serialize_with = "ser::f64s")]
    pub reconstructions: Vec<f64>,
}

/// The reconstruction experiment on synthetic 0 vs 1 ([`RECON_TRAIN`] rows, the last batch's
/// first [`RECON_VICTIMS`] as victims, test accuracy on [`TEST`] more) with residual shift `e`.
///
/// # Errors
/// [`Failure::Argument`] unless `e` is finite, nonzero, and `|e|·2^32 < 2^62` (the product
/// `e·x` before truncation must fit the ring, as `mpcdiff attack reconstruct --e` checks);
/// the kernel's.
pub fn reconstruction_native(e: f64, mpc_seed: u64) -> Result<ReconstructionView, Failure> {
    if !attacks::shift_fits(e, training(mpc_seed).frac_bits) {
        return Err(Failure::Argument {
            name: "e",
            expected: "a nonzero number with |e|·2^32 below 2^62",
        });
    }
    let Sets { train, test, .. } =
        attacks::synthetic_sets(DATA_SEED, DIGITS, RECON_TRAIN, 0, TEST)?;
    let positions: Vec<usize> = (0..RECON_VICTIMS).collect();
    let report = attacks::reconstruction(
        &train,
        Some(&test),
        SIDE,
        &training(mpc_seed),
        &positions,
        &[e],
    )?;
    let victims = &report.runs[0].victims;
    let originals = victims.iter().flat_map(|v| v.original.clone()).collect();
    let reconstructions = victims
        .iter()
        .flat_map(|v| v.reconstruction.clone())
        .collect();
    Ok(ReconstructionView {
        report,
        side: SIDE,
        command: format!(
            "mpcdiff attack reconstruct {} --train {RECON_TRAIN} --victims {RECON_VICTIMS} --e {e}",
            flags(mpc_seed)
        ),
        originals,
        reconstructions,
    })
}

/// What the page shows of a backdoor.
#[derive(Serialize)]
pub struct BackdoorView {
    /// The host's report (as `mpcdiff attack backdoor --json`'s `result`).
    pub report: BackdoorReport,
    /// Image side.
    pub side: usize,
    /// The same experiment natively: `mpcdiff attack backdoor --synthetic …`, as the CLI
    /// prints its `replay:` line.
    pub command: String,
    /// The first poisoned training image (stamped), or with no poison (shifting) a stamped
    /// test zero, `side²`.
    #[serde(serialize_with = "ser::f64s")]
    pub poisoned: Vec<f64>,
}

/// The backdoor experiment on synthetic 0 vs 1 by gradient scaling: [`BACKDOOR_TRAIN`] clean
/// rows, [`BACKDOOR_POISON`] poisoned zeros (a 4 × 4 white patch 1 pixel from the
/// bottom-right corner, labelled 1), [`TEST`] test rows; the honest run, then `scale`.
///
/// # Errors
/// [`Failure::Argument`] unless `scale` is in 1..=1e6; the kernel's.
pub fn backdoor_native(scale: f64, mpc_seed: u64) -> Result<BackdoorView, Failure> {
    if !(scale.is_finite() && (1.0..=1e6).contains(&scale)) {
        return Err(Failure::Argument {
            name: "scale",
            expected: "a number in 1..=1e6",
        });
    }
    backdoor_view(
        Strategy::Scale {
            poison: BACKDOOR_POISON,
        },
        scale,
        mpc_seed,
    )
}

/// The backdoor by gradient shifting on synthetic 0 vs 1: [`BACKDOOR_TRAIN`] clean rows, no
/// poisoned data; in the last [`SHIFT_STEPS`] steps the gradients of the patch's 16 weights are
/// shifted by `shift` toward label 1 in the dealer truncation's opening (dealer truncation);
/// the honest run (shift 0), then `shift`. The view's image is a stamped test zero.
///
/// # Errors
/// [`Failure::Argument`] unless `shift` is in 0..=1e6; the kernel's.
pub fn backdoor_shift_native(shift: f64, mpc_seed: u64) -> Result<BackdoorView, Failure> {
    if !(shift.is_finite() && (0.0..=1e6).contains(&shift)) {
        return Err(Failure::Argument {
            name: "shift",
            expected: "a number in 0..=1e6",
        });
    }
    backdoor_view(Strategy::Shift { steps: SHIFT_STEPS }, shift, mpc_seed)
}

/// Either backdoor with the patch [`TRIGGER`]: the host's experiment, its image (the first
/// poisoned training image, or with no poison a stamped test zero) and the CLI's command.
fn backdoor_view(
    strategy: Strategy,
    strength: f64,
    mpc_seed: u64,
) -> Result<BackdoorView, Failure> {
    let (poison, dealer) = match strategy {
        Strategy::Scale { poison } => (poison, false),
        Strategy::Shift { .. } => (0, true),
    };
    let Sets {
        train: clean,
        pool,
        test,
    } = attacks::synthetic_sets(DATA_SEED, DIGITS, BACKDOOR_TRAIN, poison, TEST)?;
    let report = attacks::backdoor(
        &clean,
        &pool,
        &test,
        SIDE,
        TRIGGER,
        strategy,
        &training_in(mpc_seed, dealer),
        &[strength],
    )?;
    // the adversary's first image is a zero; so is test row 0 (the synthetic digits
    // alternate, zeros first)
    let source = if poison > 0 { &pool } else { &test };
    let mut image = source.row(0)[..digits::PIXELS].to_vec();
    mpcdiff_kernel::training::poisoning::stamp_trigger(
        &mut image,
        (SIDE, SIDE),
        TRIGGER.size,
        TRIGGER.margin,
        TRIGGER.value,
    )?;
    let how = match strategy {
        Strategy::Scale { poison } => {
            format!("--strategy scale --train {BACKDOOR_TRAIN} --poison {poison}")
        }
        Strategy::Shift { steps } => {
            format!("--strategy shift --train {BACKDOOR_TRAIN} --shift-steps {steps}")
        }
    };
    let list = if dealer { "--shifts" } else { "--scales" };
    Ok(BackdoorView {
        report,
        side: SIDE,
        command: format!(
            "mpcdiff attack backdoor {} {how} --trigger {} --margin {} {list} {strength}",
            flags_in(mpc_seed, dealer),
            TRIGGER.size,
            TRIGGER.margin
        ),
        poisoned: image,
    })
}

/// What the page shows of the membership game.
#[derive(Serialize)]
pub struct MembershipView {
    /// The host's report (as `mpcdiff attack membership --json`'s `result`).
    pub report: MembershipReport,
    /// The same experiment natively: `mpcdiff attack membership --synthetic …`, as the CLI
    /// prints its `replay:` line.
    pub command: String,
}

/// The membership game on synthetic 0 vs 1: [`MEMBERSHIP_TRIALS`] trials of
/// [`MEMBERSHIP_N`] training rows and a candidate drawn from the first
/// [`MEMBERSHIP_POPULATION`] (seed [`MEMBERSHIP_SEED`]), the candidate at row
/// [`MEMBERSHIP_SLOT`] if a member; the attacked world boosts that row by `scale`.
///
/// # Errors
/// [`Failure::Argument`] unless `scale` is in 1..=1e6; the kernel's.
pub fn membership_native(scale: f64, mpc_seed: u64) -> Result<MembershipView, Failure> {
    if !(scale.is_finite() && (1.0..=1e6).contains(&scale)) {
        return Err(Failure::Argument {
            name: "scale",
            expected: "a number in 1..=1e6",
        });
    }
    let Sets { train, .. } =
        attacks::synthetic_sets(DATA_SEED, DIGITS, MEMBERSHIP_POPULATION, 0, TEST)?;
    let game = Game {
        trials: MEMBERSHIP_TRIALS,
        n: MEMBERSHIP_N,
        slot: MEMBERSHIP_SLOT,
        scale,
        seed: MEMBERSHIP_SEED,
    };
    let report = attacks::membership(&train, &training(mpc_seed), &game)?;
    Ok(MembershipView {
        report,
        command: format!(
            "mpcdiff attack membership {} --population {MEMBERSHIP_POPULATION} --n {MEMBERSHIP_N} --trials {MEMBERSHIP_TRIALS} --slot {MEMBERSHIP_SLOT} --scale {scale} --seed {MEMBERSHIP_SEED}",
            flags(mpc_seed)
        ),
    })
}

/// The backdoor by gradient shifting (see [`backdoor_shift_native`]).
#[wasm_bindgen]
pub fn attack_backdoor_shift(
    shift: f64,
    #[wasm_bindgen(unchecked_param_type = "bigint | number")] mpc_seed: JsValue,
) -> Result<JsValue, JsError> {
    call("attack_backdoor_shift", &mpc_seed, |s| {
        backdoor_shift_native(shift, s)
    })
}

/// The membership game with the victim's row boosted by `scale` (see [`membership_native`]).
#[wasm_bindgen]
pub fn attack_membership(
    scale: f64,
    #[wasm_bindgen(unchecked_param_type = "bigint | number")] mpc_seed: JsValue,
) -> Result<JsValue, JsError> {
    call("attack_membership", &mpc_seed, |s| {
        membership_native(scale, s)
    })
}

/// What the page shows of a targeted misclassification.
#[derive(Serialize)]
pub struct MisclassifyView {
    /// The host's report (as `mpcdiff attack misclassify --json`'s `result`).
    pub report: MisclassifyReport,
    /// Image side.
    pub side: usize,
    /// The same experiment natively: `mpcdiff attack misclassify --synthetic …`, as the CLI
    /// prints its `replay:` line.
    pub command: String,
    /// The chosen input, `side²`.
    #[serde(serialize_with = "ser::f64s")]
    pub chosen: Vec<f64>,
}

/// The targeted misclassification on synthetic 0 vs 1: test image `chosen` (of [`TEST`]; even
/// numbers are zeros, odd ones ones) joins [`MISCLASSIFY_TRAIN`] clean training rows with the
/// wrong label and its residual is boosted by `scale`; clean accuracy on the other test rows.
///
/// # Errors
/// [`Failure::Argument`] unless `scale` is in 1..=1e6 and `chosen` below [`TEST`]; the
/// kernel's.
pub fn misclassify_native(
    scale: f64,
    chosen: usize,
    mpc_seed: u64,
) -> Result<MisclassifyView, Failure> {
    if !(scale.is_finite() && (1.0..=1e6).contains(&scale)) {
        return Err(Failure::Argument {
            name: "scale",
            expected: "a number in 1..=1e6",
        });
    }
    if chosen >= TEST {
        return Err(Failure::Argument {
            name: "chosen",
            expected: "a test image number below 200",
        });
    }
    let Sets { train, test, .. } =
        attacks::synthetic_sets(DATA_SEED, DIGITS, MISCLASSIFY_TRAIN, 0, TEST)?;
    let others = test.without(chosen);
    let report = attacks::misclassify(
        &train,
        &test,
        chosen,
        &others,
        &training(mpc_seed),
        &[scale],
    )?;
    Ok(MisclassifyView {
        report,
        side: SIDE,
        command: format!(
            "mpcdiff attack misclassify {} --train {MISCLASSIFY_TRAIN} --chosen {chosen} --scales {scale}",
            flags(mpc_seed)
        ),
        chosen: test.row(chosen)[..digits::PIXELS].to_vec(),
    })
}

/// The targeted misclassification of synthetic test image `chosen` with residual scale
/// `scale` (see [`misclassify_native`]).
#[wasm_bindgen]
pub fn attack_misclassify(
    scale: f64,
    chosen: u32,
    #[wasm_bindgen(unchecked_param_type = "bigint | number")] mpc_seed: JsValue,
) -> Result<JsValue, JsError> {
    call("attack_misclassify", &mpc_seed, |s| {
        misclassify_native(scale, chosen as usize, s)
    })
}

/// What the page shows of the comparison toggles.
#[derive(Serialize)]
pub struct ToggleView {
    /// The host's report (as `mpcdiff attack toggle --json`'s `result`).
    pub report: ToggleReport,
    /// The same experiment natively: `mpcdiff attack toggle --synthetic …`, as the CLI prints
    /// its `replay:` line.
    pub command: String,
}

/// Sabotage by comparison toggles on synthetic 0 vs 1: an MLP (785 inputs with the bias,
/// [`TOGGLE_HIDDEN`] ReLU units, 2 classes) trained on [`TOGGLE_TRAIN`] rows, honestly and with
/// the ReLU masks of its first `units` hidden units toggled at every example of every step;
/// test accuracy and loss on [`TEST`] rows.
///
/// # Errors
/// [`Failure::Argument`] unless `units` is in `1..=`[`TOGGLE_HIDDEN`]; the kernel's.
pub fn toggle_native(units: usize, mpc_seed: u64) -> Result<ToggleView, Failure> {
    if !(1..=TOGGLE_HIDDEN).contains(&units) {
        return Err(Failure::Argument {
            name: "units",
            expected: "a number of hidden units 1 to 16",
        });
    }
    let Sets { train, test, .. } =
        attacks::synthetic_sets(DATA_SEED, DIGITS, TOGGLE_TRAIN, 0, TEST)?;
    let report = attacks::toggle(
        &train,
        &test,
        &training(mpc_seed),
        TOGGLE_HIDDEN,
        &[units],
        TOGGLE_INIT_SEED,
    )?;
    Ok(ToggleView {
        report,
        command: format!(
            "mpcdiff attack toggle {} --train {TOGGLE_TRAIN} --hidden {TOGGLE_HIDDEN} --units {units} --init-seed {TOGGLE_INIT_SEED}",
            flags(mpc_seed)
        ),
    })
}

/// Sabotage by toggling the ReLU comparisons of `units` hidden units (see [`toggle_native`]).
#[wasm_bindgen]
pub fn attack_toggle(
    units: u32,
    #[wasm_bindgen(unchecked_param_type = "bigint | number")] mpc_seed: JsValue,
) -> Result<JsValue, JsError> {
    call("attack_toggle", &mpc_seed, |s| {
        toggle_native(units as usize, s)
    })
}

/// One adapter call: the seed argument checked, the experiment run with it, its view (or its
/// failure, naming `function`) converted for JavaScript.
fn call<T: Serialize>(
    function: &str,
    mpc_seed: &JsValue,
    run: impl FnOnce(u64) -> Result<T, Failure>,
) -> Result<JsValue, JsError> {
    let v = seed_arg(mpc_seed)
        .and_then(run)
        .map_err(|e| into_error(function, e))?;
    to_js(function, &v)
}

fn to_js<T: Serialize>(function: &str, value: &T) -> Result<JsValue, JsError> {
    let s = serde_wasm_bindgen::Serializer::new()
        .serialize_maps_as_objects(true)
        .serialize_missing_as_null(true);
    value
        .serialize(&s)
        .map_err(|e| JsError::new(&format!("mpcdiff {function}: {e}")))
}

/// The reconstruction attack on synthetic 0 vs 1 with residual shift `e` (see
/// [`reconstruction_native`]).
#[wasm_bindgen]
pub fn attack_reconstruction(
    e: f64,
    #[wasm_bindgen(unchecked_param_type = "bigint | number")] mpc_seed: JsValue,
) -> Result<JsValue, JsError> {
    call("attack_reconstruction", &mpc_seed, |s| {
        reconstruction_native(e, s)
    })
}

/// The backdoor attack on synthetic 0 vs 1 with residual scale `scale` (see
/// [`backdoor_native`]).
#[wasm_bindgen]
pub fn attack_backdoor(
    scale: f64,
    #[wasm_bindgen(unchecked_param_type = "bigint | number")] mpc_seed: JsValue,
) -> Result<JsValue, JsError> {
    call("attack_backdoor", &mpc_seed, |s| backdoor_native(scale, s))
}

#[cfg(test)]
mod tests {
    //! The adapter runs the host's experiments: at e = 1000 every victim comes back sharp,
    //! the backdoor raises the attack success rate over the honest run, and the MACs catch
    //! both; bad strengths are refused.

    use super::*;

    #[test]
    fn reconstruction_on_synthetic_digits() {
        let v = reconstruction_native(1000.0, 42).unwrap();
        let r = &v.report;
        assert_eq!(v.originals.len(), RECON_VICTIMS * digits::PIXELS);
        assert_eq!(v.reconstructions.len(), v.originals.len());
        for victim in &r.runs[0].victims {
            assert!(victim.applied);
            assert!(victim.quality.psnr > 40.0, "{}", victim.quality.psnr);
        }
        let m = r.macs.unwrap();
        assert!(m.caught);
        assert_eq!(m.protocol, Some("matmul"));
        assert!(reconstruction_native(0.0, 42).is_err());
        assert!(reconstruction_native(1e12, 42).is_err());
    }

    #[test]
    fn backdoor_on_synthetic_digits() {
        let v = backdoor_native(16.0, 42).unwrap();
        let r = &v.report;
        assert_eq!(r.rows.len(), 2);
        assert!(r.rows[1].attack_success > r.rows[0].attack_success + 0.3);
        assert!(r.macs.unwrap().caught);
        assert_eq!(v.poisoned.len(), digits::PIXELS);
        assert!(backdoor_native(0.5, 42).is_err());
    }

    #[test]
    fn shifting_and_membership_on_synthetic_digits() {
        let v = backdoor_shift_native(2.0, 42).unwrap();
        let r = &v.report;
        assert_eq!(r.rows.len(), 2);
        assert!(
            r.rows[1].attack_success > r.rows[0].attack_success + 0.3,
            "{:?}",
            r.rows
        );
        let m = r.macs.unwrap();
        assert!(m.caught);
        assert_eq!(m.protocol, Some("trunc"));
        assert!(v.command.contains("--trunc dealer"));
        assert!(backdoor_shift_native(-1.0, 42).is_err());
        let v = membership_native(8.0, 42).unwrap();
        let r = &v.report;
        assert!(r.advantage_attacked > r.advantage_honest + 0.2, "{r:?}");
        assert!(r.macs.unwrap().caught);
        assert!(membership_native(0.5, 42).is_err());
    }

    #[test]
    fn toggles_on_synthetic_digits() {
        let v = toggle_native(8, 42).unwrap();
        let r = &v.report;
        assert_eq!(r.rows.len(), 2);
        assert!(
            r.rows[1].accuracy < r.rows[0].accuracy - 0.2,
            "{:?}",
            r.rows
        );
        let m = r.macs.unwrap();
        assert!(m.caught);
        assert_eq!(m.protocol, Some("ltz.xor"));
        assert!(toggle_native(0, 42).is_err());
        assert!(toggle_native(17, 42).is_err());
    }

    #[test]
    fn misclassification_on_synthetic_digits() {
        let v = misclassify_native(16.0, 0, 42).unwrap();
        let r = &v.report;
        assert_eq!(r.rows.len(), 2);
        assert!(r.rows[0].correct && !r.rows[1].correct, "{:?}", r.rows);
        assert!(r.macs.unwrap().caught);
        assert_eq!(v.chosen.len(), digits::PIXELS);
        assert!(misclassify_native(16.0, 200, 42).is_err());
    }
}
