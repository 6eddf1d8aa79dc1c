//! Goals: (1) shared logistic-regression training follows its plaintext (float) twin within a
//! stated bound, epoch after epoch, in both truncation modes; (2) each covert edit changes
//! exactly what it targets — the shifted weight moves by the predicted amount and every other
//! weight stays bit-identical, the scaled residual writes the victim's features into the
//! weights — while an honest run, with or without the adversary's wire installed, does not
//! change; (3) bad shapes and edits are errors, not panics.

use super::covert::{gradient_scale, gradient_shift, gradient_zero};
use super::logistic::{train, Buffers, Hyper, Problem, Sizes};
use super::separable;
use crate::approx::profile::CRYPTEN;
use crate::arith::Arith;
use crate::testing::FP;
use crate::wire::additive::{AdditiveAttack, Edit};
use crate::{Cost, Error, Float, Shared, TruncMode};

const SAMPLES: usize = 64;
const FEATURES: usize = 5;
const DATA_SEED: u64 = 17;

fn hyper(epochs: u32) -> Hyper<'static> {
    Hyper {
        lr: 0.5,
        batch: 8,
        epochs,
        profile: &CRYPTEN,
    }
}

/// The test data set as a training problem.
fn problem<'d>(x: &'d [f64], y: &'d [f64]) -> Problem<'d> {
    Problem {
        x,
        y,
        samples: SAMPLES,
        features: FEATURES,
    }
}

fn data(seed: u64) -> (Vec<f64>, Vec<f64>) {
    let mut x = vec![0.0; SAMPLES * FEATURES];
    let mut y = vec![0.0; SAMPLES];
    separable(seed, SAMPLES, FEATURES, &mut x, &mut y).unwrap();
    (x, y)
}

/// Trains `epochs` one at a time from zero weights, returning the weights after each epoch.
fn run<A: Arith>(a: &mut A, p: &Problem<'_>, epochs: u32) -> Vec<Vec<f64>> {
    let h = hyper(1);
    let sz = Sizes::of(p, &h).unwrap();
    let mut w = vec![A::Elem::default(); FEATURES];
    a.input_model(&[0.0; FEATURES], &mut w).unwrap();
    let (mut data, mut labels) = (
        vec![A::Elem::default(); sz.data],
        vec![A::Elem::default(); sz.labels],
    );
    let (mut rows_t, mut z, mut grad, mut scratch) = (
        vec![A::Elem::default(); sz.rows],
        vec![A::Elem::default(); sz.batch],
        vec![A::Elem::default(); sz.features],
        vec![A::Elem::default(); sz.scratch],
    );
    let mut buf = Buffers {
        data: &mut data,
        labels: &mut labels,
        rows_t: &mut rows_t,
        z: &mut z,
        grad: &mut grad,
        scratch: &mut scratch,
    };
    let mut out = Vec::new();
    for _ in 0..epochs {
        train(a, p, &h, &mut w, &mut buf).unwrap();
        let mut v = vec![0.0; FEATURES];
        a.peek(&w, &mut v).unwrap();
        out.push(v);
    }
    out
}

/// A shared run of `epochs`, with `edits` applied by a corrupt party 1 (none: the wire is
/// installed but honest; `None`: no wire at all). Returns the weights per epoch and the ledger.
fn shared(
    p: &Problem<'_>,
    mode: TruncMode,
    seed: u64,
    epochs: u32,
    edits: Option<&mut [Edit]>,
) -> (Vec<Vec<f64>>, Cost) {
    let sz = Sizes::of(p, &hyper(1)).unwrap();
    let mut words = vec![0i64; sz.words];
    match edits {
        None => {
            let mut mpc = Shared::new(FP, seed, &mut words).with_truncation(mode);
            let w = run(&mut mpc, p, epochs);
            (w, mpc.cost())
        }
        Some(edits) => {
            let mut adv = AdditiveAttack::new(1, edits);
            let mut mpc = Shared::new(FP, seed, &mut words)
                .with_truncation(mode)
                .with_wire(&mut adv);
            let w = run(&mut mpc, p, epochs);
            (w, mpc.cost())
        }
    }
}

fn accuracy(p: &Problem<'_>, w: &[f64]) -> f64 {
    let right =
        p.x.chunks_exact(p.features)
            .zip(p.y)
            .filter(|(row, &y)| {
                let z: f64 = row.iter().zip(w).map(|(a, b)| a * b).sum();
                (z > 0.0) == (y > 0.5)
            })
            .count();
    right as f64 / p.samples as f64
}

/// The stated bound of `logistic.rs`'s `# Error`: shared − float, any weight, any epoch.
const SHARED_VS_FLOAT_MAX: f64 = 1e-3;

#[test]
fn shared_training_follows_its_float_twin() {
    const EPOCHS: u32 = 4;
    let (x, y) = data(DATA_SEED);
    let p = problem(&x, &y);
    let float = run(&mut Float::new(FP), &p, EPOCHS);
    let acc = accuracy(&p, &float[EPOCHS as usize - 1]);
    assert!(acc >= 0.9, "float training accuracy {acc}");
    for mode in [TruncMode::Local, TruncMode::Dealer] {
        for seed in [1u64, 0x5EED, 2024] {
            let (sh, cost) = shared(&p, mode, seed, EPOCHS, None);
            let mut worst = 0.0f64;
            for (e, (ws, wf)) in sh.iter().zip(&float).enumerate() {
                for (j, (a, b)) in ws.iter().zip(wf).enumerate() {
                    let d = (a - b).abs();
                    worst = worst.max(d);
                    assert!(
                        d <= SHARED_VS_FLOAT_MAX,
                        "seed {seed} {mode:?} epoch {e} weight {j}: shared {a} float {b}"
                    );
                }
            }
            std::eprintln!(
                "seed {seed} {mode:?}: max |shared − float| over {EPOCHS} epochs = {worst:.3e}; \
                 accuracy shared {} float {acc}",
                accuracy(&p, &sh[EPOCHS as usize - 1])
            );
            assert_eq!(
                accuracy(&p, &sh[EPOCHS as usize - 1]),
                acc,
                "seed {seed} {mode:?}"
            );
            // Two matrix triples per step (module doc's # Cost).
            let steps = u64::from(EPOCHS) * (SAMPLES / 8) as u64;
            assert_eq!(cost.matrix_triples, 2 * steps, "seed {seed} {mode:?}");
        }
    }
}

#[test]
fn an_installed_but_honest_adversary_changes_nothing() {
    let (x, y) = data(DATA_SEED);
    let p = problem(&x, &y);
    for mode in [TruncMode::Local, TruncMode::Dealer] {
        let honest = shared(&p, mode, 9, 2, None);
        let mut zero = [gradient_shift(FP, 3, 1, 0.0).unwrap()];
        let watched = shared(&p, mode, 9, 2, Some(&mut zero));
        assert_eq!(honest, watched, "{mode:?}");
    }
}

#[test]
fn gradient_shift_moves_exactly_the_chosen_weight() {
    const EPOCHS: u32 = 3;
    let (x, y) = data(DATA_SEED);
    let p = problem(&x, &y);
    let h = hyper(EPOCHS);
    let last = u64::from(EPOCHS) * h.steps_per_epoch(SAMPLES) as u64 - 1;
    let ulp = 1.0 / FP.scale() as f64;
    for seed in [1u64, 0x5EED, 2024] {
        for (feature, shift) in [(0usize, 4.0f64), (2, -1.5), (4, 10.0)] {
            let (honest, cost_h) = shared(&p, TruncMode::Dealer, seed, EPOCHS, None);
            let mut edits = [gradient_shift(FP, last, feature, shift).unwrap()];
            let (att, cost_a) = shared(&p, TruncMode::Dealer, seed, EPOCHS, Some(&mut edits));
            assert_eq!(edits[0].applied(), 1, "seed {seed}");
            assert_eq!(cost_h, cost_a, "the edit costs nothing");
            let (wh, wa) = (&honest[EPOCHS as usize - 1], &att[EPOCHS as usize - 1]);
            // Every epoch before the attacked step is untouched.
            assert_eq!(honest[..EPOCHS as usize - 1], att[..EPOCHS as usize - 1]);
            let want = -(h.lr / h.batch as f64) * shift;
            for j in 0..FEATURES {
                if j == feature {
                    let got = wa[j] - wh[j];
                    assert!(
                        (got - want).abs() <= 2.0 * ulp,
                        "seed {seed} feature {j}: moved {got}, predicted {want}"
                    );
                } else {
                    assert_eq!(wa[j], wh[j], "seed {seed}: weight {j} is not the target");
                }
            }
        }
    }
}

#[test]
fn gradient_scale_writes_the_victims_features_into_the_weights() {
    const EPOCHS: u32 = 2;
    const E: f64 = 1000.0;
    let (x, y) = data(DATA_SEED);
    let p = problem(&x, &y);
    let h = hyper(EPOCHS);
    let steps = h.steps_per_epoch(SAMPLES);
    let last = u64::from(EPOCHS) * steps as u64 - 1;
    let victim = 3usize;
    let row = &x[((steps - 1) * h.batch + victim) * FEATURES..][..FEATURES];
    for mode in [TruncMode::Local, TruncMode::Dealer] {
        let (honest, _) = shared(&p, mode, 5, EPOCHS, None);
        let mut edits = [gradient_scale(FP, last, FEATURES, h.batch, victim, E).unwrap()];
        let (att, _) = shared(&p, mode, 5, EPOCHS, Some(&mut edits));
        assert_eq!(edits[0].applied(), 1);
        let (wh, wa) = (&honest[EPOCHS as usize - 1], &att[EPOCHS as usize - 1]);
        let mut worst = 0.0f64;
        for j in 0..FEATURES {
            // x̂ = −batch · Δw / (lr · e)   (research note §1.5)
            let rec = -(h.batch as f64) * (wa[j] - wh[j]) / (h.lr * E);
            worst = worst.max((rec - row[j]).abs());
        }
        // x̂ recovers the *encoded* features (truncated toward zero: up to 1 ring unit), plus two
        // truncations of the update in each run, magnified by batch / (lr · e).
        let ulp = 1.0 / FP.scale() as f64;
        let bound = ulp * (1.0 + 4.0 * h.batch as f64 / (h.lr * E));
        std::eprintln!("{mode:?}: reconstruction max |x̂ − x| = {worst:.3e} (bound {bound:.3e})");
        assert!(worst <= bound, "{mode:?}: reconstruction error {worst}");
    }
}

#[test]
fn gradient_zeroing_freezes_the_chosen_weight() {
    const EPOCHS: u32 = 4;
    const FEATURE: usize = 1;
    let (x, y) = data(DATA_SEED);
    let p = problem(&x, &y);
    let h = hyper(EPOCHS);
    let steps = h.steps_per_epoch(SAMPLES);
    let ulp = 1.0 / FP.scale() as f64;
    for mode in [TruncMode::Local, TruncMode::Dealer] {
        // The data owner (party 1) zeroes feature 1's gradient from the second epoch on.
        let mut edits = Vec::new();
        for epoch in 1..EPOCHS as usize {
            for s in 0..steps {
                let step = (epoch * steps + s) as u64;
                let column: Vec<f64> = (0..h.batch)
                    .map(|i| x[(s * h.batch + i) * FEATURES + FEATURE])
                    .collect();
                let mut e = vec![gradient_shift(FP, 0, 0, 0.0).unwrap(); h.batch];
                assert_eq!(
                    gradient_zero(FP, step, FEATURES, FEATURE, &column, &mut e).unwrap(),
                    h.batch
                );
                edits.extend(e);
            }
        }
        let (honest, cost_h) = shared(&p, mode, 11, EPOCHS, None);
        let (att, cost_a) = shared(&p, mode, 11, EPOCHS, Some(&mut edits));
        assert!(edits.iter().all(|e| e.applied() == 1), "{mode:?}");
        assert_eq!(cost_h, cost_a, "{mode:?}: the edits cost nothing");
        assert_eq!(honest[0], att[0], "{mode:?}: epoch 0 is not attacked");
        let frozen = att[0][FEATURE];
        let attacked_steps = ((EPOCHS - 1) as usize * steps) as f64;
        let mut drift = 0.0f64;
        for w in &att[1..] {
            drift = drift.max((w[FEATURE] - frozen).abs());
        }
        let honest_moved = (honest[EPOCHS as usize - 1][FEATURE] - honest[0][FEATURE]).abs();
        let others_moved = (0..FEATURES)
            .filter(|&j| j != FEATURE)
            .map(|j| (att[EPOCHS as usize - 1][j] - att[0][j]).abs())
            .fold(0.0f64, f64::max);
        std::eprintln!(
            "{mode:?}: weight {FEATURE} frozen at {frozen:.5}, drift {drift:.2e} over \
             {attacked_steps} attacked steps; honest run moves it by {honest_moved:.4}; the \
             other weights move by up to {others_moved:.4}"
        );
        assert!(
            drift <= 2.0 * ulp * attacked_steps,
            "{mode:?}: drift {drift}"
        );
        assert!(
            honest_moved > 100.0 * drift.max(ulp),
            "{mode:?}: honest {honest_moved}"
        );
        assert!(
            others_moved > 100.0 * ulp,
            "{mode:?}: the others {others_moved}"
        );
    }
}

#[test]
fn bad_shapes_and_edits_are_errors() {
    let (x, y) = data(DATA_SEED);
    let p = problem(&x, &y);
    let mut h = hyper(1);
    h.batch = 0;
    assert!(matches!(Sizes::of(&p, &h), Err(Error::InvalidShape { .. })));
    h.batch = SAMPLES + 1;
    assert!(matches!(Sizes::of(&p, &h), Err(Error::InvalidShape { .. })));
    assert!(matches!(
        gradient_shift(FP, 0, 0, f64::NAN),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        gradient_scale(FP, 0, FEATURES, 8, 0, 1e30),
        Err(Error::OutOfRange { .. })
    ));
    let mut few = [gradient_shift(FP, 0, 0, 0.0).unwrap(); 2];
    assert!(matches!(
        gradient_zero(FP, 0, FEATURES, 0, &[1.0; 3], &mut few),
        Err(Error::BufferTooSmall { .. })
    ));
    assert!(matches!(
        gradient_zero(FP, 0, FEATURES, FEATURES, &[1.0; 2], &mut few),
        Err(Error::OutOfRange { .. })
    ));
    assert!(gradient_zero(FP, 0, FEATURES, 0, &[f64::NAN; 2], &mut few).is_err());
    let (mut xs, mut ys) = (vec![0.0; 10], vec![0.0; 10]);
    assert!(separable(1, 10, 1, &mut xs, &mut ys).is_err());
    assert!(separable(1, 10, 2, &mut xs, &mut ys).is_err());
    // A short weight buffer is a shape error, not a panic.
    let mut f = Float::new(FP);
    let h = hyper(1);
    let sz = Sizes::of(&p, &h).unwrap();
    let mut w = vec![0.0; FEATURES - 1];
    let (mut d, mut l, mut r, mut z, mut g, mut s) = (
        vec![0.0; sz.data],
        vec![0.0; sz.labels],
        vec![0.0; sz.rows],
        vec![0.0; sz.batch],
        vec![0.0; sz.features],
        vec![0.0; sz.scratch],
    );
    let mut buf = Buffers {
        data: &mut d,
        labels: &mut l,
        rows_t: &mut r,
        z: &mut z,
        grad: &mut g,
        scratch: &mut s,
    };
    assert!(matches!(
        train(&mut f, &p, &h, &mut w, &mut buf),
        Err(Error::ShapeMismatch { .. })
    ));
}

#[test]
fn the_data_set_is_separable_and_seeded() {
    let (x, y) = data(DATA_SEED);
    assert_eq!((x.clone(), y.clone()), data(DATA_SEED));
    assert_ne!(x, data(DATA_SEED + 1).0);
    assert!(x.chunks_exact(FEATURES).all(|r| r[FEATURES - 1] == 1.0));
    let ones = y.iter().filter(|&&v| v == 1.0).count();
    assert!(
        ones > 8 && ones < SAMPLES - 8,
        "{ones} positives of {SAMPLES}"
    );
}
