//! Goals: (1) the float backward of the convolutional network (convolutions as convolutions,
//! ReLU and max pooling from their forward bits, sigmoid and average pooling) is the exact
//! loss's gradient, checked against central finite differences; (2) shared training follows
//! its float twin within a stated bound, in both truncation modes, with the documented number
//! of convolution and matrix products; (3) a one-word edit of an example's error in the first
//! convolution's gradient product writes that example's image patch into one channel's kernel
//! and changes nothing else; (4) LeNet-5's plan has PyTorch's parameter count; (5) bad
//! networks are errors, not panics.

use super::backprop::Hidden;
use super::convnet::{
    eval_scratch_len, evaluate, init, lenet5, train, ConvBlock, ConvNet, Pooling, Sizes,
};
use super::logistic::{Hyper, Problem};
use super::separable;
use crate::approx::profile::{InvSqrtParams, RecipParams, CRYPTEN};
use crate::approx::{Level, Profile};
use crate::arith::Arith;
use crate::testing::FP;
use crate::wire::additive::{AdditiveAttack, Edit};
use crate::{Cost, Error, Float, Shared, TruncMode};

const NEAR_EXACT: Profile = Profile {
    exp_iters: 20,
    inv_sqrt: InvSqrtParams {
        iters_nr: 40,
        iters_exp: 20,
        ..CRYPTEN.inv_sqrt
    },
    sigmoid_level: Level::new(20, 30),
    softmax_reciprocal: RecipParams {
        iters_nr: 30,
        ..CRYPTEN.softmax_reciprocal
    },
    ..CRYPTEN
};

const KINDS: [(Hidden, Pooling); 2] = [
    (Hidden::Relu, Pooling::Max),
    (Hidden::Sigmoid, Pooling::Average),
];

/// `samples` images of `side × side` from the separable set (its last pixel is the constant 1).
fn images(seed: u64, samples: usize, side: usize) -> (Vec<f64>, Vec<f64>) {
    let f = side * side;
    let (mut x, mut y) = (vec![0.0; samples * f], vec![0.0; samples]);
    separable(seed, samples, f, &mut x, &mut y).unwrap();
    (x, y)
}

fn problem<'d>(x: &'d [f64], y: &'d [f64], features: usize) -> Problem<'d> {
    Problem {
        x,
        y,
        samples: y.len(),
        features,
    }
}

fn start(net: &ConvNet<'_>, seed: u64) -> Vec<f64> {
    let mut w = vec![0.0; net.plan().unwrap().params()];
    init(seed, net, &mut w).unwrap();
    w
}

fn run<A: Arith>(
    a: &mut A,
    net: &ConvNet<'_>,
    p: &Problem<'_>,
    h: &Hyper<'_>,
    w0: &[f64],
    epochs: u32,
) -> Vec<Vec<f64>> {
    let one = Hyper { epochs: 1, ..*h };
    let sz = Sizes::of(net, p, &one).unwrap();
    let mut w = vec![A::Elem::default(); sz.params];
    a.input_model(w0, &mut w).unwrap();
    let mut work = vec![A::Elem::default(); sz.work];
    (0..epochs)
        .map(|_| {
            train(a, net, p, &one, &mut w, &mut work).unwrap();
            let mut v = vec![0.0; sz.params];
            a.peek(&w, &mut v).unwrap();
            v
        })
        .collect()
}

fn loss_and_accuracy(net: &ConvNet<'_>, w: &[f64], p: &Problem<'_>) -> (f64, f64) {
    let mut s = vec![0.0; eval_scratch_len(net).unwrap()];
    let e = evaluate(net, w, p, &mut s).unwrap();
    (e.loss, e.correct as f64 / p.samples as f64)
}

#[test]
fn float_backward_matches_central_differences() {
    const B: usize = 3;
    let one_conv = [ConvBlock {
        out_ch: 3,
        k: 3,
        pad: 1,
        pool: 2,
    }];
    let two_convs = [
        ConvBlock {
            out_ch: 2,
            k: 3,
            pad: 1,
            pool: 2,
        },
        ConvBlock {
            out_ch: 3,
            k: 3,
            pad: 0,
            pool: 1,
        },
    ];
    for (side, convs, fcs) in [
        (6usize, &one_conv[..], &[5usize, 2][..]),
        (8, &two_convs[..], &[2][..]),
    ] {
        let (x, y) = images(23, B, side);
        let p = problem(&x, &y, side * side);
        for (hidden, pooling) in KINDS {
            let net = ConvNet {
                input: [1, side, side],
                convs,
                fcs,
                hidden,
                pooling,
                batch_norm: false,
            };
            let h = Hyper {
                lr: 1.0,
                batch: B,
                epochs: 1,
                profile: &NEAR_EXACT,
            };
            let w0 = start(&net, 4);
            let after = &run(&mut Float::new(FP), &net, &p, &h, &w0, 1)[0];
            let loss_sum = |w: &[f64]| loss_and_accuracy(&net, w, &p).0 * B as f64;
            let mut worst = 0.0f64;
            for k in 0..w0.len() {
                let g = (w0[k] - after[k]) * B as f64;
                let eps = 1e-6;
                let (mut up, mut down) = (w0.clone(), w0.clone());
                up[k] += eps;
                down[k] -= eps;
                let fd = (loss_sum(&up) - loss_sum(&down)) / (2.0 * eps);
                worst = worst.max((g - fd).abs());
                assert!(
                    (g - fd).abs() <= 1e-5 + 1e-4 * fd.abs(),
                    "{side}×{side} {hidden:?}/{pooling:?} parameter {k}: backprop {g} vs \
                     central difference {fd}"
                );
            }
            std::eprintln!(
                "{side}×{side}, {} convolution(s), {hidden:?}/{pooling:?}: {} parameters, max \
                 |backprop − central difference| = {worst:.2e}",
                convs.len(),
                w0.len()
            );
        }
    }
}

const SIDE: usize = 8;
const SAMPLES: usize = 48;
const CONVS: [ConvBlock; 1] = [ConvBlock {
    out_ch: 4,
    k: 3,
    pad: 1,
    pool: 2,
}];
const FCS: [usize; 2] = [8, 2];

fn small(hidden: Hidden, pooling: Pooling) -> ConvNet<'static> {
    ConvNet {
        input: [1, SIDE, SIDE],
        convs: &CONVS,
        fcs: &FCS,
        hidden,
        pooling,
        batch_norm: false,
    }
}

fn hyper() -> Hyper<'static> {
    Hyper {
        lr: 0.5,
        batch: 8,
        epochs: 1,
        profile: &CRYPTEN,
    }
}

fn shared(
    net: &ConvNet<'_>,
    p: &Problem<'_>,
    mode: TruncMode,
    seed: u64,
    epochs: u32,
    edits: Option<&mut [Edit]>,
) -> (Vec<Vec<f64>>, Cost) {
    shared_with(net, p, &hyper(), mode, seed, epochs, edits)
}

fn shared_with(
    net: &ConvNet<'_>,
    p: &Problem<'_>,
    h: &Hyper<'_>,
    mode: TruncMode,
    seed: u64,
    epochs: u32,
    edits: Option<&mut [Edit]>,
) -> (Vec<Vec<f64>>, Cost) {
    let h = *h;
    let sz = Sizes::of(net, p, &h).unwrap();
    let mut words = vec![0i64; sz.words];
    let w0 = start(net, 3);
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

/// The stated bounds of `convnet.rs`'s `# Error` (1×8×8 images, conv 4@3×3 pad 1, pool 2,
/// widths 64-8-2, lr 0.5, batch 8, 3 epochs, f = 16).
const CNN_SHARED_VS_FLOAT_MAX: f64 = 1e-2;
const CNN_LOSS_SHARED_VS_FLOAT_MAX: f64 = 2e-3;

#[test]
fn shared_cnn_training_follows_its_float_twin() {
    const EPOCHS: u32 = 3;
    let (x, y) = images(31, SAMPLES, SIDE);
    let p = problem(&x, &y, SIDE * SIDE);
    for (hidden, pooling) in KINDS {
        let net = small(hidden, pooling);
        let w0 = start(&net, 3);
        let float = run(&mut Float::new(FP), &net, &p, &hyper(), &w0, EPOCHS);
        let (loss0, acc0) = loss_and_accuracy(&net, &w0, &p);
        let (loss, acc) = loss_and_accuracy(&net, &float[EPOCHS as usize - 1], &p);
        std::eprintln!(
            "{hidden:?}/{pooling:?} float: loss {loss0:.4} → {loss:.4}, accuracy {acc0} → {acc}"
        );
        assert!(loss < loss0 && acc > acc0, "{hidden:?}: it does not learn");
        for mode in [TruncMode::Local, TruncMode::Dealer] {
            for seed in [1u64, 0x5EED] {
                let (sh, cost) = shared(&net, &p, mode, seed, EPOCHS, None);
                let worst = sh
                    .iter()
                    .zip(&float)
                    .flat_map(|(a, b)| a.iter().zip(b).map(|(u, v)| (u - v).abs()))
                    .fold(0.0f64, f64::max);
                let (sloss, sacc) = loss_and_accuracy(&net, &sh[EPOCHS as usize - 1], &p);
                std::eprintln!(
                    "{hidden:?}/{pooling:?} seed {seed} {mode:?}: max |shared − float| = \
                     {worst:.3e}; loss shared {sloss:.5} float {loss:.5}; accuracy shared \
                     {sacc} float {acc}"
                );
                assert!(
                    worst <= CNN_SHARED_VS_FLOAT_MAX,
                    "{hidden:?} {seed} {mode:?}"
                );
                assert!(
                    (sloss - loss).abs() <= CNN_LOSS_SHARED_VS_FLOAT_MAX,
                    "{hidden:?} {seed} {mode:?}"
                );
                assert_eq!(sacc, acc, "{hidden:?} {seed} {mode:?}");
                // Per step 2 convolution products (3·1 − 1) and 6 matrix products (3·2).
                let steps = u64::from(EPOCHS) * (SAMPLES / 8) as u64;
                assert_eq!(cost.matrix_triples, (2 + 6) * steps, "{hidden:?} {mode:?}");
            }
        }
    }
}

#[test]
fn scaling_an_error_word_writes_the_victims_patch_into_one_kernel() {
    const E: f64 = 1000.0;
    const EPOCHS: u32 = 1;
    let (x, y) = images(31, SAMPLES, SIDE);
    let p = problem(&x, &y, SIDE * SIDE);
    let net = small(Hidden::Relu, Pooling::Max);
    let h = hyper();
    let steps = h.steps_per_epoch(SAMPLES);
    let last = steps as u64 - 1;
    let (victim, ch, py, px) = (2usize, 1usize, 3usize, 5usize);
    let word = net.conv_error_word(h.batch, 0, victim, ch, py, px).unwrap();
    let target = net.gradient_opening(last, 0, word).unwrap();
    assert_eq!(target.protocol, "conv2d");
    let raw = libm::round(E * FP.scale() as f64) as i64;
    let image = &x[((steps - 1) * h.batch + victim) * SIDE * SIDE..][..SIDE * SIDE];
    for mode in [TruncMode::Local, TruncMode::Dealer] {
        let (honest, _) = shared(&net, &p, mode, 5, EPOCHS, None);
        let mut edits = [Edit::new(target, raw)];
        let (att, _) = shared(&net, &p, mode, 5, EPOCHS, Some(&mut edits));
        assert_eq!(edits[0].applied(), 1, "{mode:?}");
        let (wh, wa) = (&honest[0], &att[0]);
        let mut worst = 0.0f64;
        for k in 0..wh.len() {
            // conv1's weights [4, 1, 3, 3] come first; channel `ch` holds words ch·9 … ch·9 + 8.
            if (ch * 9..ch * 9 + 9).contains(&k) {
                let (u, v) = ((k - ch * 9) / 3, (k - ch * 9) % 3);
                // The padded image's pixel under kernel cell (u, v) at output (py, px).
                let (iy, ix) = ((py + u) as isize - 1, (px + v) as isize - 1);
                let pixel = if (0..SIDE as isize).contains(&iy) && (0..SIDE as isize).contains(&ix)
                {
                    image[iy as usize * SIDE + ix as usize]
                } else {
                    0.0
                };
                let rec = -(h.batch as f64) * (wa[k] - wh[k]) / (h.lr * E);
                worst = worst.max((rec - pixel).abs());
            } else {
                assert_eq!(wa[k], wh[k], "{mode:?}: parameter {k} is not the target");
            }
        }
        let ulp = 1.0 / FP.scale() as f64;
        let bound = ulp * (1.0 + 4.0 * h.batch as f64 / (h.lr * E));
        std::eprintln!("{mode:?}: patch read back within {worst:.3e} (bound {bound:.3e})");
        assert!(worst <= bound, "{mode:?}: {worst}");
    }
}

#[test]
fn lenet5_without_batch_norm_has_pytorchs_parameter_count() {
    for (hidden, pooling) in KINDS {
        let net = lenet5(hidden, pooling, false);
        let plan = net.plan().unwrap();
        // conv1 156, conv2 2416, fc1 48120, fc2 10164, fc3 850 (PyTorch's LeNet-5).
        assert_eq!(plan.params(), 61_706);
        // With its four batch norms (6, 16, 120, 84 channels; γ, β and the two running
        // statistics each): PyTorch's 62,158 parameters plus 452 buffers.
        let bn = lenet5(hidden, pooling, true).plan().unwrap();
        assert_eq!(bn.params(), 61_706 + 4 * (6 + 16 + 120 + 84));
        assert_eq!(bn.layers().len(), 15);
        // conv, act, pool, conv, act, pool, fc, act, fc, act, fc.
        assert_eq!(plan.layers().len(), 11);
        assert_eq!(plan.layers()[6].inp, 400);
    }
}

#[test]
fn bad_networks_are_errors() {
    let bad = |convs: &[ConvBlock], fcs: &[usize], input: [usize; 3]| {
        let net = ConvNet {
            input,
            convs,
            fcs,
            hidden: Hidden::Relu,
            pooling: Pooling::Max,
            batch_norm: false,
        };
        matches!(net.plan(), Err(Error::InvalidShape { .. }))
    };
    let blk = |out_ch, k, pad, pool| ConvBlock {
        out_ch,
        k,
        pad,
        pool,
    };
    assert!(bad(&[blk(2, 3, 3, 1)], &[2], [1, 8, 8]), "padding ≥ kernel");
    assert!(bad(&[blk(0, 3, 1, 1)], &[2], [1, 8, 8]), "no channel");
    assert!(
        bad(&[blk(2, 9, 0, 1)], &[2], [1, 8, 8]),
        "kernel past the image"
    );
    assert!(
        bad(&[blk(2, 3, 1, 9)], &[2], [1, 8, 8]),
        "pool past the image"
    );
    assert!(bad(&[blk(2, 3, 1, 1)], &[1], [1, 8, 8]), "one class");
    assert!(bad(&[blk(2, 3, 1, 1)], &[2], [0, 8, 8]), "empty input");
    let many = [blk(1, 1, 0, 1); 20];
    assert!(bad(&many, &[2], [1, 4, 4]), "too many layers");
    let net = small(Hidden::Relu, Pooling::Max);
    assert!(net.gradient_opening(0, 3, 0).is_err());
    assert!(net.error_opening(0, 0, 0).is_err());
    assert!(net.conv_error_word(8, 1, 0, 0, 0, 0).is_err());
    assert!(net.conv_error_word(8, 0, 8, 0, 0, 0).is_err());
    let (x, y) = images(31, SAMPLES, SIDE);
    let p = problem(&x, &y, SIDE * SIDE);
    let sz = Sizes::of(&net, &p, &hyper()).unwrap();
    let mut w = start(&net, 3);
    let mut work = vec![0.0; sz.work - 1];
    assert!(matches!(
        train(&mut Float::new(FP), &net, &p, &hyper(), &mut w, &mut work),
        Err(Error::BufferTooSmall { .. })
    ));
    let q = problem(&x[..SIDE * SIDE * 8], &y[..8], SIDE * SIDE - 1);
    assert!(Sizes::of(&net, &q, &hyper()).is_err());
}

#[test]
fn fixed_point_cnn_training_follows_its_float_twin() {
    const EPOCHS: u32 = 3;
    let (x, y) = images(31, SAMPLES, SIDE);
    let p = problem(&x, &y, SIDE * SIDE);
    for (hidden, pooling) in KINDS {
        let net = small(hidden, pooling);
        let w0 = start(&net, 3);
        let float = run(&mut Float::new(FP), &net, &p, &hyper(), &w0, EPOCHS);
        let fixed = run(&mut crate::Fixed::new(FP), &net, &p, &hyper(), &w0, EPOCHS);
        let worst = fixed
            .iter()
            .zip(&float)
            .flat_map(|(a, b)| a.iter().zip(b).map(|(u, v)| (u - v).abs()))
            .fold(0.0f64, f64::max);
        std::eprintln!("{hidden:?}/{pooling:?}: max |fixed − float| = {worst:.3e}");
        assert!(worst <= CNN_SHARED_VS_FLOAT_MAX, "{hidden:?}: {worst}");
        let last = EPOCHS as usize - 1;
        assert_eq!(
            loss_and_accuracy(&net, &fixed[last], &p).1,
            loss_and_accuracy(&net, &float[last], &p).1
        );
    }
}

/// The exact summed cross-entropy of one batch in **training** mode (every batch norm on the
/// batch's own statistics, biased variance), layer by layer over the whole batch in `f64`:
/// the function the backward pass with batch norms differentiates.
fn batch_loss(net: &ConvNet<'_>, params: &[f64], x: &[f64], y: &[f64]) -> f64 {
    use super::convnet::{LayerKind, NORM_EPS};
    use crate::linalg::{conv2d_acc, Conv2dShape};
    let plan = net.plan().unwrap();
    let b = y.len();
    let mut cur = x.to_vec();
    for l in plan.layers() {
        let prm = &params[l.param_off..][..l.param_len];
        let mut out = vec![0.0; b * l.out];
        match l.kind {
            LayerKind::Conv {
                cin,
                h,
                w,
                cout,
                k,
                pad,
            } => {
                let (wt, bias) = prm.split_at(cout * cin * k * k);
                let plane = l.out / cout;
                for (i, o) in out.iter_mut().enumerate() {
                    *o = bias[(i / plane) % cout];
                }
                let s = Conv2dShape {
                    batch: b,
                    in_ch: cin,
                    h,
                    w,
                    out_ch: cout,
                    kh: k,
                    kw: k,
                    stride: 1,
                    pad,
                };
                conv2d_acc(&cur, wt, &mut out, &s).unwrap();
            }
            LayerKind::Linear { i, o } => {
                let (wt, bias) = prm.split_at(i * o);
                for e in 0..b {
                    for kk in 0..o {
                        out[e * o + kk] =
                            bias[kk] + (0..i).map(|j| cur[e * i + j] * wt[j * o + kk]).sum::<f64>();
                    }
                }
            }
            LayerKind::Act => {
                for (o, &v) in out.iter_mut().zip(&cur) {
                    *o = match net.hidden {
                        Hidden::Relu => v.max(0.0),
                        Hidden::Sigmoid => 1.0 / (1.0 + libm::exp(-v)),
                    };
                }
            }
            LayerKind::Pool { c, h, w, k } => {
                let (ho, wo) = (h / k, w / k);
                for (win, o) in out.iter_mut().enumerate() {
                    let (plane, r) = (win / (ho * wo), win % (ho * wo));
                    let (oy, ox) = (r / wo, r % wo);
                    let cells =
                        (0..k * k).map(|j| cur[(plane * h + oy * k + j / k) * w + ox * k + j % k]);
                    *o = match net.pooling {
                        Pooling::Max => cells.fold(f64::NEG_INFINITY, f64::max),
                        Pooling::Average => cells.sum::<f64>() / (k * k) as f64,
                    };
                }
                let _ = c;
            }
            LayerKind::Norm { c, plane } => {
                let n = (b * plane) as f64;
                let ch = |i: usize| (i / plane) % c;
                let (mut mu, mut var) = (vec![0.0; c], vec![0.0; c]);
                for (i, &v) in cur.iter().enumerate() {
                    mu[ch(i)] += v / n;
                }
                for (i, &v) in cur.iter().enumerate() {
                    var[ch(i)] += (v - mu[ch(i)]) * (v - mu[ch(i)]) / n;
                }
                for (i, o) in out.iter_mut().enumerate() {
                    let j = ch(i);
                    *o = prm[j] * (cur[i] - mu[j]) / libm::sqrt(var[j] + NORM_EPS) + prm[c + j];
                }
            }
        }
        cur = out;
    }
    let classes = net.classes();
    cur.chunks_exact(classes)
        .zip(y)
        .map(|(z, &label)| {
            let m = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            m + libm::log(z.iter().map(|&v| libm::exp(v - m)).sum::<f64>()) - z[label as usize]
        })
        .sum()
}

#[test]
fn batch_norm_backward_matches_central_differences() {
    use super::convnet::LayerKind;
    const B: usize = 4;
    let convs = [ConvBlock {
        out_ch: 3,
        k: 3,
        pad: 1,
        pool: 2,
    }];
    let (x, y) = images(41, B, 6);
    let p = problem(&x, &y, 36);
    for (hidden, pooling) in KINDS {
        let net = ConvNet {
            input: [1, 6, 6],
            convs: &convs,
            fcs: &[5, 2],
            hidden,
            pooling,
            batch_norm: true,
        };
        let h = Hyper {
            lr: 1.0,
            batch: B,
            epochs: 1,
            profile: &NEAR_EXACT,
        };
        let mut w0 = start(&net, 6);
        // Non-trivial γ and β, so that their gradients are not a special case.
        let plan = net.plan().unwrap();
        let mut running = Vec::new();
        for l in plan.layers() {
            if let LayerKind::Norm { c, .. } = l.kind {
                for j in 0..2 * c {
                    w0[l.param_off + j] += 0.1 * (j as f64 + 1.0) / (2 * c) as f64;
                }
                running.extend(l.param_off + 2 * c..l.param_off + 4 * c);
            }
        }
        let after = &run(&mut Float::new(FP), &net, &p, &h, &w0, 1)[0];
        let mut worst = 0.0f64;
        for k in (0..w0.len()).filter(|k| !running.contains(k)) {
            let g = (w0[k] - after[k]) * B as f64;
            let eps = 1e-6;
            let (mut up, mut down) = (w0.clone(), w0.clone());
            up[k] += eps;
            down[k] -= eps;
            let fd =
                (batch_loss(&net, &up, &x, &y) - batch_loss(&net, &down, &x, &y)) / (2.0 * eps);
            worst = worst.max((g - fd).abs());
            assert!(
                (g - fd).abs() <= 1e-5 + 1e-4 * fd.abs(),
                "{hidden:?}/{pooling:?} parameter {k}: backprop {g} vs central difference {fd}"
            );
        }
        std::eprintln!(
            "batch norm, {hidden:?}/{pooling:?}: {} parameters, max |backprop − central \
             difference| = {worst:.2e}",
            w0.len()
        );
        // The running statistics moved by one momentum step towards the batch's.
        for &k in &running {
            assert_ne!(after[k], w0[k], "running statistic {k} did not move");
        }
    }
}

#[test]
fn shared_training_with_batch_norm_follows_its_float_twin() {
    const EPOCHS: u32 = 3;
    let (x, y) = images(31, SAMPLES, SIDE);
    let p = problem(&x, &y, SIDE * SIDE);
    for (hidden, pooling) in KINDS {
        let net = ConvNet {
            batch_norm: true,
            ..small(hidden, pooling)
        };
        let w0 = start(&net, 3);
        let float = run(&mut Float::new(FP), &net, &p, &bn_hyper(), &w0, EPOCHS);
        let fixed = run(
            &mut crate::Fixed::new(FP),
            &net,
            &p,
            &bn_hyper(),
            &w0,
            EPOCHS,
        );
        let fixed_gap = fixed
            .iter()
            .zip(&float)
            .flat_map(|(a, b)| a.iter().zip(b).map(|(u, v)| (u - v).abs()))
            .fold(0.0f64, f64::max);
        std::eprintln!("batch norm {hidden:?}/{pooling:?}: max |fixed − float| = {fixed_gap:.3e}");
        assert!(
            fixed_gap <= CNN_SHARED_VS_FLOAT_MAX,
            "{hidden:?}: fixed {fixed_gap}"
        );

        let (loss0, acc0) = loss_and_accuracy(&net, &w0, &p);
        let (loss, acc) = loss_and_accuracy(&net, &float[EPOCHS as usize - 1], &p);
        std::eprintln!(
            "batch norm {hidden:?}/{pooling:?} float: loss {loss0:.4} → {loss:.4}, accuracy \
             {acc0} → {acc}"
        );
        for mode in [TruncMode::Local, TruncMode::Dealer] {
            for seed in [1u64, 0x5EED] {
                let (sh, _) = shared_with(&net, &p, &bn_hyper(), mode, seed, EPOCHS, None);
                let worst = sh
                    .iter()
                    .zip(&float)
                    .flat_map(|(a, b)| a.iter().zip(b).map(|(u, v)| (u - v).abs()))
                    .fold(0.0f64, f64::max);
                let (sloss, sacc) = loss_and_accuracy(&net, &sh[EPOCHS as usize - 1], &p);
                std::eprintln!(
                    "batch norm {hidden:?}/{pooling:?} seed {seed} {mode:?}: max |shared − \
                     float| = {worst:.3e}; loss shared {sloss:.5} float {loss:.5}; accuracy \
                     shared {sacc} float {acc}"
                );
                assert!(
                    worst <= CNN_BN_SHARED_VS_FLOAT_MAX,
                    "{hidden:?} {seed} {mode:?}"
                );
                assert!(
                    (sloss - loss).abs() <= CNN_BN_LOSS_SHARED_VS_FLOAT_MAX,
                    "{hidden:?} {seed} {mode:?}"
                );
                assert_eq!(sacc, acc, "{hidden:?} {seed} {mode:?}");
            }
        }
    }
}

fn bn_hyper() -> Hyper<'static> {
    Hyper { lr: 0.1, ..hyper() }
}

/// The stated bounds with batch norms (the network of
/// `shared_cnn_training_follows_its_float_twin` with a batch norm after the convolution and
/// after the hidden linear layer, lr 0.1; at lr 0.5 this small ReLU network's trajectory is
/// unstable and even plaintext fixed point leaves the float twin by 0.16).
const CNN_BN_SHARED_VS_FLOAT_MAX: f64 = 2e-2;
const CNN_BN_LOSS_SHARED_VS_FLOAT_MAX: f64 = 2e-3;
