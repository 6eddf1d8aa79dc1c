//! Goals: (1) the float backward pass is the loss's gradient — checked against central finite
//! differences of the exact loss, an independent computation; (2) shared MLP training follows
//! its float twin within a stated bound, epoch after epoch, for ReLU and sigmoid hidden units,
//! in both truncation modes, with the documented number of matrix products; (3) training
//! lowers the loss and raises the accuracy; (4) the documented message targeting is right: a
//! one-word edit of an example's error in the first layer's gradient product writes that
//! example's features into one hidden unit's weights and changes nothing else; (5) bad shapes
//! and labels are errors, not panics.

use super::backprop::{
    error_word, eval_scratch_len, evaluate, gradient_opening, init, matmuls_per_step, train,
    Hidden, Net, Sizes,
};
use super::logistic::{Hyper, Problem};
use super::separable;
use crate::approx::profile::{RecipParams, CRYPTEN};
use crate::approx::{Level, Profile};
use crate::arith::Arith;
use crate::testing::FP;
use crate::wire::additive::{AdditiveAttack, Edit};
use crate::{Cost, Error, Float, Shared, TruncMode};

const SAMPLES: usize = 64;
const FEATURES: usize = 5;
const DATA_SEED: u64 = 17;
const INIT_SEED: u64 = 3;
const WIDTHS: [usize; 3] = [FEATURES, 8, 2];

fn hyper(epochs: u32) -> Hyper<'static> {
    Hyper {
        lr: 0.5,
        batch: 8,
        epochs,
        profile: &CRYPTEN,
    }
}

fn data(seed: u64, samples: usize) -> (Vec<f64>, Vec<f64>) {
    let mut x = vec![0.0; samples * FEATURES];
    let mut y = vec![0.0; samples];
    separable(seed, samples, FEATURES, &mut x, &mut y).unwrap();
    (x, y)
}

fn problem<'d>(x: &'d [f64], y: &'d [f64]) -> Problem<'d> {
    Problem {
        x,
        y,
        samples: y.len(),
        features: FEATURES,
    }
}

/// Trains `epochs` one at a time from `start`, returning the parameters after each epoch.
fn run<A: Arith>(
    a: &mut A,
    net: &Net<'_>,
    p: &Problem<'_>,
    h: &Hyper<'_>,
    start: &[f64],
    epochs: u32,
) -> Vec<Vec<f64>> {
    let one = Hyper { epochs: 1, ..*h };
    let sz = Sizes::of(net, p, &one).unwrap();
    let mut w = vec![A::Elem::default(); sz.params];
    a.input_model(start, &mut w).unwrap();
    let mut work = vec![A::Elem::default(); sz.work];
    let mut out = Vec::new();
    for _ in 0..epochs {
        train(a, net, p, &one, &mut w, &mut work).unwrap();
        let mut v = vec![0.0; sz.params];
        a.peek(&w, &mut v).unwrap();
        out.push(v);
    }
    out
}

fn start(net: &Net<'_>) -> Vec<f64> {
    let mut w = vec![0.0; net.params_len().unwrap()];
    init(INIT_SEED, net, &mut w).unwrap();
    w
}

/// A shared run; `edits` applied by a corrupt party 1 when given.
fn shared(
    net: &Net<'_>,
    p: &Problem<'_>,
    mode: TruncMode,
    seed: u64,
    epochs: u32,
    edits: Option<&mut [Edit]>,
) -> (Vec<Vec<f64>>, Cost) {
    let h = hyper(1);
    let sz = Sizes::of(net, p, &h).unwrap();
    let mut words = vec![0i64; sz.words];
    let w0 = start(net);
    match edits {
        None => {
            let mut mpc = Shared::new(FP, seed, &mut words).with_truncation(mode);
            let w = run(&mut mpc, net, p, &h, &w0, epochs);
            (w, mpc.cost())
        }
        Some(edits) => {
            let mut adv = AdditiveAttack::new(1, edits);
            let mut mpc = Shared::new(FP, seed, &mut words)
                .with_truncation(mode)
                .with_wire(&mut adv);
            let w = run(&mut mpc, net, p, &h, &w0, epochs);
            (w, mpc.cost())
        }
    }
}

fn eval(net: &Net<'_>, w: &[f64], p: &Problem<'_>) -> (f64, f64) {
    let mut s = vec![0.0; eval_scratch_len(net)];
    let e = evaluate(net, w, p, &mut s).unwrap();
    (e.loss, e.correct as f64 / p.samples as f64)
}

/// CrypTen's profile with near-exact approximations in [`Float`] (exp by 2^20 squarings,
/// 30 Newton steps), so that the float gradient can be compared with the exact loss's.
const NEAR_EXACT: Profile = Profile {
    exp_iters: 20,
    sigmoid_level: Level::new(20, 30),
    softmax_reciprocal: RecipParams {
        iters_nr: 30,
        ..CRYPTEN.softmax_reciprocal
    },
    ..CRYPTEN
};

#[test]
fn float_backward_matches_central_differences() {
    const B: usize = 4;
    const LR: f64 = 1.0;
    let (x, y) = data(DATA_SEED, B);
    let p = problem(&x, &y);
    let h = Hyper {
        lr: LR,
        batch: B,
        epochs: 1,
        profile: &NEAR_EXACT,
    };
    for widths in [&[FEATURES, 6, 2][..], &[FEATURES, 4, 3, 2][..]] {
        for hidden in [Hidden::Relu, Hidden::Sigmoid] {
            let net = Net { widths, hidden };
            let w0 = start(&net);
            // One step on the whole (one-batch) set: θ' = θ − (lr/B)·∇(Σ loss).
            let after = &run(&mut Float::new(FP), &net, &p, &h, &w0, 1)[0];
            let loss_sum = |w: &[f64]| eval(&net, w, &p).0 * B as f64;
            let mut worst = 0.0f64;
            for k in 0..w0.len() {
                let g = (w0[k] - after[k]) * B as f64 / LR;
                let eps = 1e-6;
                let (mut up, mut down) = (w0.clone(), w0.clone());
                up[k] += eps;
                down[k] -= eps;
                let fd = (loss_sum(&up) - loss_sum(&down)) / (2.0 * eps);
                let d = (g - fd).abs();
                worst = worst.max(d);
                assert!(
                    d <= 1e-5 + 1e-4 * fd.abs(),
                    "{widths:?} {hidden:?} parameter {k}: backprop {g} vs central difference {fd}"
                );
            }
            std::eprintln!(
                "{widths:?} {hidden:?}: max |backprop − central difference| = {worst:.2e}"
            );
        }
    }
}

/// The stated bounds of `backprop.rs`'s `# Error`: shared − float, any parameter, any epoch
/// (widths 5-8-2, lr 0.5, batch 8, 4 epochs, f = 16), and the final exact loss.
const MLP_SHARED_VS_FLOAT_MAX: f64 = 1e-2;
const MLP_LOSS_SHARED_VS_FLOAT_MAX: f64 = 1e-3;

#[test]
fn shared_mlp_training_follows_its_float_twin() {
    const EPOCHS: u32 = 4;
    let (x, y) = data(DATA_SEED, SAMPLES);
    let p = problem(&x, &y);
    let h = hyper(1);
    for hidden in [Hidden::Relu, Hidden::Sigmoid] {
        let net = Net {
            widths: &WIDTHS,
            hidden,
        };
        let w0 = start(&net);
        let float = run(&mut Float::new(FP), &net, &p, &h, &w0, EPOCHS);
        let (loss0, acc0) = eval(&net, &w0, &p);
        let (loss, acc) = eval(&net, &float[EPOCHS as usize - 1], &p);
        std::eprintln!(
            "{hidden:?} float: loss {loss0:.4} → {loss:.4}, accuracy {acc0} → {acc} in {EPOCHS} epochs"
        );
        assert!(
            loss < loss0 && acc > acc0 && acc >= 0.85,
            "{hidden:?}: {acc0} → {acc}"
        );
        for mode in [TruncMode::Local, TruncMode::Dealer] {
            for seed in [1u64, 0x5EED, 2024] {
                let (sh, cost) = shared(&net, &p, mode, seed, EPOCHS, None);
                let mut worst = 0.0f64;
                let mut at = (0, 0, 0.0, 0.0);
                for (e, (ws, wf)) in sh.iter().zip(&float).enumerate() {
                    for (j, (a, b)) in ws.iter().zip(wf).enumerate() {
                        let d = (a - b).abs();
                        if d > worst {
                            worst = d;
                            at = (e, j, *a, *b);
                        }
                    }
                }
                let (sloss, sacc) = eval(&net, &sh[EPOCHS as usize - 1], &p);
                std::eprintln!(
                    "{hidden:?} seed {seed} {mode:?}: max |shared − float| over {EPOCHS} epochs \
                     = {worst:.3e}; loss shared {sloss:.5} float {loss:.5}; accuracy shared \
                     {sacc} float {acc}"
                );
                let (e, j, a, b) = at;
                assert!(
                    worst <= MLP_SHARED_VS_FLOAT_MAX,
                    "{hidden:?} seed {seed} {mode:?} epoch {e} parameter {j}: shared {a} float {b}"
                );
                assert!(
                    (sloss - loss).abs() <= MLP_LOSS_SHARED_VS_FLOAT_MAX,
                    "{hidden:?} seed {seed} {mode:?}: loss shared {sloss} float {loss}"
                );
                assert_eq!(sacc, acc, "{hidden:?} seed {seed} {mode:?}");
                let steps = u64::from(EPOCHS) * (SAMPLES / h.batch) as u64;
                assert_eq!(
                    cost.matrix_triples,
                    matmuls_per_step(net.layers()) * steps,
                    "{hidden:?} seed {seed} {mode:?}"
                );
            }
        }
    }
}

#[test]
fn scaling_an_error_word_writes_the_victims_features_into_one_hidden_unit() {
    const EPOCHS: u32 = 2;
    const E: f64 = 1000.0;
    const UNIT: usize = 5;
    let (x, y) = data(DATA_SEED, SAMPLES);
    let p = problem(&x, &y);
    let h = hyper(EPOCHS);
    let steps = h.steps_per_epoch(SAMPLES);
    let last = u64::from(EPOCHS) * steps as u64 - 1;
    let victim = 3usize;
    let row = &x[((steps - 1) * h.batch + victim) * FEATURES..][..FEATURES];
    let net = Net {
        widths: &WIDTHS,
        hidden: Hidden::Relu,
    };
    let word = error_word(&net, h.batch, 0, victim, UNIT).unwrap();
    let target = gradient_opening(net.layers(), last, 0, word).unwrap();
    let raw = libm::round(E * FP.scale() as f64) as i64;
    let hid = WIDTHS[1];
    for mode in [TruncMode::Local, TruncMode::Dealer] {
        let (honest, cost_h) = shared(&net, &p, mode, 5, EPOCHS, None);
        let mut edits = [Edit::new(target, raw)];
        let (att, cost_a) = shared(&net, &p, mode, 5, EPOCHS, Some(&mut edits));
        assert_eq!(edits[0].applied(), 1, "{mode:?}");
        assert_eq!(cost_h, cost_a, "{mode:?}: the edit costs nothing");
        assert_eq!(honest[0], att[0], "{mode:?}: epoch 0 is not attacked");
        let (wh, wa) = (&honest[1], &att[1]);
        let mut worst = 0.0f64;
        for k in 0..wh.len() {
            // W_0 is FEATURES × hid, input-major: column UNIT holds words j·hid + UNIT.
            if k < FEATURES * hid && k % hid == UNIT {
                let j = k / hid;
                let rec = -(h.batch as f64) * (wa[k] - wh[k]) / (h.lr * E);
                worst = worst.max((rec - row[j]).abs());
            } else {
                assert_eq!(wa[k], wh[k], "{mode:?}: parameter {k} is not the target");
            }
        }
        // As in the logistic test: the encoded features (1 ring unit) plus two truncations of
        // the update in each run, magnified by batch / (lr · e).
        let ulp = 1.0 / FP.scale() as f64;
        let bound = ulp * (1.0 + 4.0 * h.batch as f64 / (h.lr * E));
        std::eprintln!("{mode:?}: reconstruction max |x̂ − x| = {worst:.3e} (bound {bound:.3e})");
        assert!(worst <= bound, "{mode:?}: reconstruction error {worst}");
    }
}

#[test]
fn bad_networks_shapes_and_labels_are_errors() {
    let (x, y) = data(DATA_SEED, SAMPLES);
    let p = problem(&x, &y);
    let h = hyper(1);
    for widths in [
        &[FEATURES][..],
        &[FEATURES, 0, 2][..],
        &[FEATURES, 4, 1][..],
    ] {
        let net = Net {
            widths,
            hidden: Hidden::Relu,
        };
        assert!(
            matches!(Sizes::of(&net, &p, &h), Err(Error::InvalidShape { .. })),
            "{widths:?}"
        );
    }
    let net = Net {
        widths: &WIDTHS,
        hidden: Hidden::Relu,
    };
    let wrong = Net {
        widths: &[FEATURES + 1, 4, 2],
        hidden: Hidden::Relu,
    };
    assert!(matches!(
        Sizes::of(&wrong, &p, &h),
        Err(Error::InvalidShape { .. })
    ));
    for batch in [0, SAMPLES + 1] {
        let hb = Hyper { batch, ..h };
        assert!(matches!(
            Sizes::of(&net, &p, &hb),
            Err(Error::InvalidShape { .. })
        ));
    }
    let sz = Sizes::of(&net, &p, &h).unwrap();
    let mut f = Float::new(FP);
    let mut w = start(&net);
    let mut work = vec![0.0; sz.work];
    // A short work buffer, a short parameter vector, a label that is no class.
    assert!(matches!(
        train(&mut f, &net, &p, &h, &mut w, &mut work[..sz.work - 1]),
        Err(Error::BufferTooSmall { .. })
    ));
    assert!(matches!(
        train(&mut f, &net, &p, &h, &mut w[1..], &mut work),
        Err(Error::ShapeMismatch { .. })
    ));
    for bad in [2.0, 0.5, -1.0, f64::NAN] {
        let mut yb = y.clone();
        yb[7] = bad;
        let pb = problem(&x, &yb);
        assert!(matches!(
            train(&mut f, &net, &pb, &h, &mut w, &mut work),
            Err(Error::OutOfRange { .. })
        ));
    }
    assert!(error_word(&net, h.batch, 2, 0, 0).is_err());
    assert!(error_word(&net, h.batch, 0, h.batch, 0).is_err());
    assert!(error_word(&net, h.batch, 0, 0, WIDTHS[1]).is_err());
    assert!(gradient_opening(2, 0, 2, 0).is_err());
    let mut short = vec![0.0; 3];
    assert!(init(1, &net, &mut short).is_err());
}

#[test]
fn initialisation_is_seeded_and_bounded() {
    let net = Net {
        widths: &WIDTHS,
        hidden: Hidden::Relu,
    };
    let a = start(&net);
    assert_eq!(a, start(&net));
    let mut b = vec![0.0; a.len()];
    init(INIT_SEED + 1, &net, &mut b).unwrap();
    assert_ne!(a, b);
    let l1 = net.layer(1).unwrap();
    assert_eq!(l1.offset, FEATURES * 8 + 8);
    for (k, v) in a.iter().enumerate() {
        let fan_in = if k < l1.offset { FEATURES } else { 8 };
        assert!(
            v.abs() < 1.0 / libm::sqrt(fan_in as f64),
            "parameter {k}: {v}"
        );
    }
}

#[test]
fn a_mask_toggle_flips_exactly_the_chosen_relu_bit() {
    // Goal: the documented "ltz.b2a" targeting. After training, the work buffer still holds the
    // last step's masks (data, one-hot targets, hidden activations, then the masks); toggling
    // (example, unit) at the last step flips that bit and no other of the step (besides what
    // the toggled activation changes downstream in its own example), for 2 and 3 classes.
    use super::backprop::relu_mask_toggle;
    let (x, y) = data(DATA_SEED, SAMPLES);
    for classes in [2usize, 3] {
        let y3: Vec<f64> = y
            .iter()
            .enumerate()
            .map(|(i, &v)| if classes == 3 && i % 5 == 0 { 2.0 } else { v })
            .collect();
        let p = problem(&x, &y3);
        let widths = [FEATURES, 8, 6, classes];
        let net = Net {
            widths: &widths,
            hidden: Hidden::Relu,
        };
        let h = hyper(1);
        let last = h.steps_per_epoch(SAMPLES) as u64 - 1;
        let sz = Sizes::of(&net, &p, &h).unwrap();
        let w0 = start(&net);
        let masks = |edits: Option<&mut [Edit]>| -> Vec<f64> {
            let mut words = vec![0i64; sz.words];
            let mut adv;
            let mut mpc = Shared::new(FP, 3, &mut words).with_truncation(TruncMode::Dealer);
            if let Some(e) = edits {
                adv = AdditiveAttack::new(1, e);
                mpc = mpc.with_wire(&mut adv);
            }
            let mut w = vec![<Shared as Arith>::Elem::default(); sz.params];
            mpc.input_model(&w0, &mut w).unwrap();
            let mut work = vec![<Shared as Arith>::Elem::default(); sz.work];
            train(&mut mpc, &net, &p, &h, &mut w, &mut work).unwrap();
            let hidden = h.batch * (8 + 6);
            let at = SAMPLES * FEATURES + SAMPLES * classes + hidden;
            let mut v = vec![0.0; hidden];
            mpc.peek(&work[at..][..hidden], &mut v).unwrap();
            v.iter().map(|k| k * FP.scale() as f64).collect()
        };
        let honest = masks(None);
        assert!(honest.iter().all(|&k| k == 0.0 || k == 1.0));
        for (layer, example, unit) in [(0usize, 3usize, 5usize), (1, 7, 2)] {
            let mut e = [relu_mask_toggle(&net, h.batch, last, layer, example, unit).unwrap()];
            let att = masks(Some(&mut e));
            assert_eq!(e[0].applied(), 1, "{classes} classes");
            let flat = if layer == 0 {
                example * 8 + unit
            } else {
                h.batch * 8 + example * 6 + unit
            };
            for (i, (a, b)) in att.iter().zip(&honest).enumerate() {
                // The target's own example downstream of it may change legitimately (its
                // activation changed); every other mask of the step is the honest one.
                let downstream = layer == 0 && i >= h.batch * 8 && (i - h.batch * 8) / 6 == example;
                if i == flat {
                    assert_eq!(*a, 1.0 - b, "{classes} classes: the target is not toggled");
                } else if !downstream {
                    assert_eq!(a, b, "{classes} classes: mask {i} is not the target");
                }
            }
        }
    }
    let sig = Net {
        widths: &WIDTHS,
        hidden: Hidden::Sigmoid,
    };
    assert!(relu_mask_toggle(&sig, 8, 0, 0, 0, 0).is_err());
}

#[test]
fn fixed_point_training_follows_its_float_twin() {
    // Goal: the third arithmetic. Plaintext fixed point has the encoding and truncation errors
    // of the shared run without its share randomness; it stays within the shared bound.
    const EPOCHS: u32 = 4;
    let (x, y) = data(DATA_SEED, SAMPLES);
    let p = problem(&x, &y);
    let h = hyper(1);
    for hidden in [Hidden::Relu, Hidden::Sigmoid] {
        let net = Net {
            widths: &WIDTHS,
            hidden,
        };
        let w0 = start(&net);
        let float = run(&mut Float::new(FP), &net, &p, &h, &w0, EPOCHS);
        let fixed = run(&mut crate::Fixed::new(FP), &net, &p, &h, &w0, EPOCHS);
        let worst = fixed
            .iter()
            .zip(&float)
            .flat_map(|(a, b)| a.iter().zip(b).map(|(u, v)| (u - v).abs()))
            .fold(0.0f64, f64::max);
        std::eprintln!("{hidden:?}: max |fixed − float| over {EPOCHS} epochs = {worst:.3e}");
        assert!(worst <= MLP_SHARED_VS_FLOAT_MAX, "{hidden:?}: {worst}");
        let last = EPOCHS as usize - 1;
        assert_eq!(
            eval(&net, &fixed[last], &p).1,
            eval(&net, &float[last], &p).1
        );
    }
}

/// Goal: the comparison toggle (P2) in a real training, and its fate under MACs
/// ([`super::toggles`]). Passively, toggling hidden units' masks of every example at every
/// step goes unnoticed and degrades the released MLP (measured: 5-16-2 ReLU, 4 epochs, dealer
/// truncation, seed 1, on its own 64 training samples: loss 0.121 → 0.356, 62 → 56 right with
/// all 16 units toggled); the same MLP trained in the authenticated arithmetic follows the
/// passive run within 1e−2, and with the toggles' counterparts aborts at the first
/// comparison.
#[test]
fn relu_toggles_degrade_passive_training_and_abort_under_macs() {
    use super::adversary::Setting;
    use super::backprop::eval_scratch_len;
    use super::toggles::{
        authenticated_arena, detect, edits_needed, plan, sabotage, AuthBuffers, Buffers, ToggleRow,
        Toggles,
    };
    use crate::arith::authenticated::Auth;
    const EPOCHS: u32 = 4;
    const WIDE: usize = 16;
    let (x, y) = data(DATA_SEED, SAMPLES);
    let p = problem(&x, &y);
    let widths = [FEATURES, WIDE, 2];
    let net = Net {
        widths: &widths,
        hidden: Hidden::Relu,
    };
    let s = Setting {
        fp: FP,
        mode: TruncMode::Dealer,
        hyper: hyper(EPOCHS),
        mpc_seed: 1,
        corrupt: 1,
    };
    let h = s.hyper;
    let sz = Sizes::of(&net, &p, &h).unwrap();
    let w0 = start(&net);
    let all = Toggles {
        layer: 0,
        units: WIDE,
        first_step: 0,
        steps: h.steps_per_epoch(SAMPLES) as u64 * u64::from(EPOCHS),
    };
    let n = edits_needed(&all, h.batch).unwrap();
    assert_eq!(n, 32 * 8 * WIDE);
    let mut edits = vec![Edit::new(relu_target(), 0); n];
    let (mut params, mut work) = (vec![[0i64; 2]; sz.params], vec![[0i64; 2]; sz.work]);
    let (mut words, mut out) = (vec![0i64; sz.words], vec![0.0; sz.params]);
    let mut b = Buffers {
        params: &mut params,
        work: &mut work,
        words: &mut words,
        out: &mut out,
    };
    let mut scratch = vec![0.0; eval_scratch_len(&net)];
    let mut rows = [ToggleRow::default(); 3];
    sabotage(
        &net,
        &p,
        &p,
        &s,
        &w0,
        0,
        &[4, WIDE],
        &mut b,
        &mut edits,
        &mut scratch,
        &mut rows,
    )
    .unwrap();
    std::eprintln!("passive: {rows:?}");
    let [honest, _, every] = rows;
    assert_eq!((honest.units, honest.edits_applied), (0, 0));
    assert_eq!((every.units, every.edits_applied), (WIDE, n));
    assert!(every.loss > honest.loss + 0.1, "{rows:?}");
    assert!(every.accuracy < honest.accuracy, "{rows:?}");
    let honest_params = {
        run_honest(&net, &p, &s, &w0, &mut b);
        b.out.to_vec()
    };
    // Under MACs: the honest run follows the passive one; the toggles abort at the first.
    let (aw, ae) = authenticated_arena(&net, h.batch).unwrap();
    let authenticated = |edits: &mut [Edit]| {
        let (mut params, mut work) = (
            vec![Auth::default(); sz.params],
            vec![Auth::default(); sz.work],
        );
        let (mut words, mut arena) = (vec![0i128; aw], vec![Auth::default(); ae]);
        let mut out = vec![0.0; sz.params];
        let mut ab = AuthBuffers {
            params: &mut params,
            work: &mut work,
            words: &mut words,
            arena: &mut arena,
            out: &mut out,
        };
        let d = detect(&net, &p, &s, 64, &w0, edits, &mut ab).unwrap();
        (d, out)
    };
    let (clean, mac_params) = authenticated(&mut []);
    assert_eq!(clean.caught, None);
    let worst = mac_params
        .iter()
        .zip(&honest_params)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max);
    assert!(worst <= 1e-2, "authenticated vs passive: {worst}");
    plan(&net, h.batch, &all, &mut edits).unwrap();
    let (caught, _) = authenticated(&mut edits);
    std::eprintln!("under MACs: {caught:?}");
    assert_eq!(caught.caught.map(|c| c.0), Some("ltz.xor"));
    // the first comparison's message carries every example's toggles of step 0
    assert_eq!(caught.applied as usize, h.batch * WIDE);
}

fn relu_target() -> crate::wire::additive::Target {
    crate::wire::additive::Target {
        protocol: "ltz.b2a",
        occurrence: 0,
        rounds_after: 0,
        word: 0,
    }
}

fn run_honest(
    net: &Net<'_>,
    p: &Problem<'_>,
    s: &super::adversary::Setting<'_>,
    w0: &[f64],
    b: &mut super::toggles::Buffers<'_>,
) {
    super::toggles::run(net, p, s, w0, &mut [], b).unwrap();
}
