//! Tests of the network code: gradients by finite differences in `f64`, batch-norm and Adam
//! against hand-computed values, and determinism of whole training runs.

use mpcdiff_kernel::nn::model::Model as KernelModel;
use mpcdiff_kernel::nn::spec::{Activation, Kind as K, Layer as LayerSpec, Shape, Spec};
use mpcdiff_kernel::seed::{self, StreamId};

use super::format::{self, Preprocessing};
use super::layers::Layer;
use super::net::{self, cross_entropy, Adam, Network};
use super::real::Real;
use super::*;
use crate::data::{MinMax, SplitRecord};

/// Standard normal values from a test stream (seeded, so failures replay).
fn normals(seed: u64, n: usize) -> Vec<f64> {
    let mut rng = seed::stream(seed, StreamId::Synthetic);
    (0..n).map(|_| seed::normal(&mut rng)).collect()
}

/// Sets every stored tensor of `net` to seeded normal values (variances positive).
fn randomize<T: Real>(net: &mut Network<T>, seed: u64) {
    let mut rng = seed::stream(seed, StreamId::WeightInit);
    for layer in net.layers_mut() {
        for (name, t) in layer.tensors_mut() {
            for v in t.iter_mut() {
                let z = seed::normal(&mut rng);
                *v = T::from_f64(if name == ".running_var" {
                    0.5 + z * z
                } else {
                    0.5 * z
                });
            }
        }
    }
}

/// `L = Σ r · f(x)`: a scalar loss whose gradient with respect to the output is `r`.
fn weighted_loss(net: &mut Network<f64>, x: &[f64], n: usize, r: &[f64], train: bool) -> f64 {
    let y = net.forward(x, n, train);
    y.iter().zip(r).map(|(a, b)| a * b).sum()
}

/// Checks the analytic gradients of `L = Σ r · f(x)` against central differences, for the
/// input (all entries up to 200, else 40 seeded ones) and every parameter tensor (all
/// entries, or 40 seeded ones of larger tensors).
fn grad_check(input: Shape, spec: &Spec, n: usize, train: bool, seed: u64) {
    grad_check_with(input, spec, n, train, seed, Steps::DEFAULT);
}

/// The finite-difference settings of a gradient check.
#[derive(Clone, Copy)]
struct Steps {
    /// The step.
    h: f64,
    /// The relative tolerance.
    tol: f64,
    /// Seeded entries checked per large tensor.
    picks: usize,
}

impl Steps {
    const DEFAULT: Steps = Steps {
        h: 1e-5,
        tol: 1e-6,
        picks: 40,
    };
}

/// [`grad_check`] with other [`Steps`].
fn grad_check_with(input: Shape, spec: &Spec, n: usize, train: bool, seed: u64, steps: Steps) {
    let Steps { h, tol, picks } = steps;
    let mut net = Network::<f64>::zeros(input, spec).expect("the test network chains");
    randomize(&mut net, seed);
    let x = normals(seed ^ 1, n * input.len());
    let out_len = n * net.outputs();
    let r = normals(seed ^ 2, out_len);
    let _ = net.forward(&x, n, train);
    let dx = net.backward(&r, n, true);
    let grads: Vec<Vec<f64>> = net.params().into_iter().map(|(_, g)| g.clone()).collect();

    let check = |what: &str, analytic: f64, plus: f64, minus: f64| {
        let numeric = (plus - minus) / (2.0 * h);
        let tol = tol * (1.0 + numeric.abs().max(analytic.abs()));
        assert!(
            (analytic - numeric).abs() <= tol,
            "{spec:?}: {what}: analytic {analytic}, numeric {numeric}"
        );
    };
    let mut rng = seed::stream(seed, StreamId::Schedule);
    let inputs: Vec<usize> = if x.len() <= 200 {
        (0..x.len()).collect()
    } else {
        (0..picks)
            .map(|_| seed::below(&mut rng, x.len() as u64) as usize)
            .collect()
    };
    for i in inputs {
        let mut xp = x.clone();
        xp[i] += h;
        let plus = weighted_loss(&mut net, &xp, n, &r, train);
        xp[i] -= 2.0 * h;
        let minus = weighted_loss(&mut net, &xp, n, &r, train);
        check(&format!("input {i}"), dx[i], plus, minus);
    }
    for (t, g) in grads.iter().enumerate() {
        let chosen: Vec<usize> = if g.len() <= picks {
            (0..g.len()).collect()
        } else {
            (0..picks)
                .map(|_| seed::below(&mut rng, g.len() as u64) as usize)
                .collect()
        };
        for i in chosen {
            let set = |net: &mut Network<f64>, delta: f64| {
                let mut params = net.params();
                params[t].0[i] += delta;
            };
            set(&mut net, h);
            let plus = weighted_loss(&mut net, &x, n, &r, train);
            set(&mut net, -2.0 * h);
            let minus = weighted_loss(&mut net, &x, n, &r, train);
            set(&mut net, h);
            check(
                &format!("parameter tensor {t} entry {i}"),
                g[i],
                plus,
                minus,
            );
        }
    }
}

fn img(c: usize, h: usize, w: usize) -> Shape {
    Shape::Image { c, h, w }
}

/// The spec of the named layers.
fn spec(layers: &[(&str, K)]) -> Spec {
    let mut spec = Spec {
        layers: Default::default(),
    };
    for &(name, kind) in layers {
        let name = name.try_into().expect("a short name");
        spec.layers.push(LayerSpec { name, kind }).unwrap();
    }
    spec
}

/// Goal: every layer's backward pass is the derivative of its forward pass.
#[test]
fn conv2d_gradients_match_finite_differences() {
    for (stride, pad, seed) in [(1, 0, 1), (1, 2, 2), (2, 1, 3)] {
        let conv = K::Conv2d {
            in_ch: 2,
            out_ch: 3,
            k: 3,
            stride,
            pad,
        };
        grad_check(img(2, 6, 5), &spec(&[("c", conv)]), 2, true, seed);
    }
}

#[test]
fn batchnorm_gradients_match_finite_differences() {
    let bn = |c| {
        spec(&[(
            "b",
            K::BatchNorm {
                channels: c,
                eps_micro: 10,
            },
        )])
    };
    // 2-D (over batch and positions) and 1-D, training mode (batch statistics).
    grad_check(img(3, 2, 3), &bn(3), 3, true, 4);
    grad_check(Shape::Vector(5), &bn(5), 4, true, 5);
    // Inference mode (running statistics): an affine map.
    grad_check(img(2, 2, 2), &bn(2), 2, false, 6);
}

#[test]
fn activation_gradients_match_finite_differences() {
    for (act, seed) in [
        (Activation::Sigmoid, 7),
        (Activation::Tanh, 8),
        (Activation::GeluErf, 9),
        (Activation::Relu, 10),
    ] {
        // The linear layer in front gives the activation inputs of both signs; ReLU's kink
        // at 0 is never hit by normal draws within H.
        let fc = K::Linear {
            inputs: 4,
            outputs: 6,
        };
        let s = spec(&[("fc", fc), ("a", K::Act(act))]);
        grad_check(Shape::Vector(4), &s, 3, true, seed);
    }
}

#[test]
fn pooling_gradients_match_finite_differences() {
    for (k, stride, seed) in [(2, 2, 11), (3, 2, 12), (2, 1, 13)] {
        let avg = spec(&[("p", K::AvgPool { k, stride })]);
        grad_check(img(2, 5, 6), &avg, 2, true, seed);
        let max = spec(&[("p", K::MaxPool { k, stride })]);
        grad_check(img(2, 5, 6), &max, 2, true, seed + 100);
    }
}

#[test]
fn flatten_and_linear_gradients_match_finite_differences() {
    let fc = K::Linear {
        inputs: 12,
        outputs: 5,
    };
    let s = spec(&[("flatten", K::Flatten), ("fc", fc)]);
    grad_check(img(3, 2, 2), &s, 3, true, 14);
}

/// Goal: the whole LeNet chain (both variants) back-propagates correctly end to end.
#[test]
fn lenet_gradients_match_finite_differences() {
    // Four entries per tensor: the layers are checked in full above, this is about the chain
    // (and a debug-build forward pass of LeNet is slow).
    let lenet = Arch::Lenet;
    grad_check_with(
        lenet.input(),
        &lenet.layers(),
        2,
        true,
        15,
        Steps {
            picks: 4,
            ..Steps::DEFAULT
        },
    );
    // ReLU and max pooling are not differentiable everywhere, and among thousands of
    // activations some lie within 1e-5 of a kink or a tie: a much smaller step makes a
    // crossing unlikely (f64 keeps the rounding error near 1e-8 relative).
    let relu = Arch::LenetRelu;
    grad_check_with(
        relu.input(),
        &relu.layers(),
        2,
        true,
        16,
        Steps {
            h: 1e-9,
            tol: 1e-5,
            picks: 4,
        },
    );
}

/// Goal: the cross-entropy gradient is the derivative of the cross-entropy.
#[test]
fn cross_entropy_gradient_matches_finite_differences() {
    let logits = normals(17, 12);
    let labels = [2u8, 0, 3];
    let (loss, grad, _) = cross_entropy(&logits, &labels, 4);
    // The loss recomputed naively.
    let mut naive = 0.0;
    for (b, &y) in labels.iter().enumerate() {
        let row = &logits[b * 4..(b + 1) * 4];
        let z: f64 = row.iter().map(|&v| libm::exp(v)).sum();
        naive += libm::log(z) - row[usize::from(y)];
    }
    assert!((loss - naive / 3.0).abs() < 1e-12);
    const H: f64 = 1e-6;
    for i in 0..logits.len() {
        let mut p = logits.clone();
        p[i] += H;
        let plus = cross_entropy(&p, &labels, 4).0;
        p[i] -= 2.0 * H;
        let minus = cross_entropy(&p, &labels, 4).0;
        let numeric = (plus - minus) / (2.0 * H);
        assert!(
            (numeric - grad[i]).abs() < 1e-8,
            "logit {i}: {numeric} vs {}",
            grad[i]
        );
    }
}

/// The batch-norm layer of a one-layer network.
fn bn_of(net: &mut Network<f64>) -> &mut super::layers::BatchNorm<f64> {
    match &mut net.layers_mut()[0] {
        Layer::BatchNorm(b) => b,
        _ => unreachable!(),
    }
}

/// Goal: batch norm follows PyTorch exactly: biased batch variance for the output, unbiased
/// for the running variance, momentum 0.1, and running statistics in inference mode.
#[test]
fn batchnorm_training_and_inference_match_hand_computed_values() {
    let eps = 1e-5;
    let bn = |c| {
        spec(&[(
            "bn",
            K::BatchNorm {
                channels: c,
                eps_micro: 10,
            },
        )])
    };
    // 1-D: four examples of one feature, γ = 2, β = 0.5.
    let mut net = Network::<f64>::zeros(Shape::Vector(1), &bn(1)).unwrap();
    bn_of(&mut net).weight[0] = 2.0;
    bn_of(&mut net).bias[0] = 0.5;
    let eps = f64::from(eps as f32);
    let y = net.forward(&[1.0, 2.0, 3.0, 4.0], 4, true);
    // mean 2.5, biased variance 1.25.
    for (i, x) in [1.0, 2.0, 3.0, 4.0].iter().enumerate() {
        let expected = (x - 2.5) / libm::sqrt(1.25 + eps) * 2.0 + 0.5;
        assert!((y[i] - expected).abs() < 1e-12, "y[{i}] = {}", y[i]);
    }
    // Running: 0.9 · 0 + 0.1 · 2.5 and 0.9 · 1 + 0.1 · (5/3) (unbiased: 5 / (4 − 1)).
    assert!((bn_of(&mut net).running_mean[0] - 0.25).abs() < 1e-15);
    assert!((bn_of(&mut net).running_var[0] - (0.9 + 0.1 * 5.0 / 3.0)).abs() < 1e-15);
    // Inference uses the running statistics.
    let y = net.forward(&[1.0], 1, false);
    let expected = (1.0 - 0.25) / libm::sqrt(0.9 + 0.5 / 3.0 + eps) * 2.0 + 0.5;
    assert!((y[0] - expected).abs() < 1e-12);

    // 2-D: statistics over the batch and the positions (2 examples × 1×2 = 4 values per
    // channel); the two channels are independent.
    let mut net = Network::<f64>::zeros(img(2, 1, 2), &bn(2)).unwrap();
    // Example 0: ch0 [0, 2], ch1 [10, 10]; example 1: ch0 [4, 6], ch1 [10, 14].
    let x = [0.0, 2.0, 10.0, 10.0, 4.0, 6.0, 10.0, 14.0];
    let y = net.forward(&x, 2, true);
    // ch0: mean 3, biased var (9+1+1+9)/4 = 5; ch1: mean 11, biased var (1+1+1+9)/4 = 3.
    let expect = |v: f64, m: f64, var: f64| (v - m) / libm::sqrt(var + eps);
    let e = [
        expect(0.0, 3.0, 5.0),
        expect(2.0, 3.0, 5.0),
        expect(10.0, 11.0, 3.0),
        expect(10.0, 11.0, 3.0),
        expect(4.0, 3.0, 5.0),
        expect(6.0, 3.0, 5.0),
        expect(10.0, 11.0, 3.0),
        expect(14.0, 11.0, 3.0),
    ];
    for i in 0..8 {
        assert!(
            (y[i] - e[i]).abs() < 1e-12,
            "y[{i}] = {}, expected {}",
            y[i],
            e[i]
        );
    }
    let b = bn_of(&mut net);
    assert!((b.running_mean[0] - 0.3).abs() < 1e-15);
    assert!((b.running_mean[1] - 1.1).abs() < 1e-15);
    assert!((b.running_var[0] - (0.9 + 0.1 * 20.0 / 3.0)).abs() < 1e-14);
    assert!((b.running_var[1] - (0.9 + 0.1 * 12.0 / 3.0)).abs() < 1e-14);
}

/// Goal: Adam follows PyTorch's update, weight decay included, over two steps.
#[test]
fn adam_steps_match_hand_computed_values() {
    let (lr, wd) = (0.1, 0.01);
    let mut p = vec![1.0f64, -2.0];
    let mut adam = Adam::<f64>::new(wd);
    let g1 = vec![0.5, -0.1];
    adam.step(lr, vec![(&mut p, &g1)]);
    // Step 1: g' = g + wd·p; m = 0.1 g'; v = 0.001 g'²; bias corrections 0.1 and 0.001, so
    // p ← p − lr · g' / (|g'| + eps).
    let gp = [0.5 + 0.01 * 1.0, -0.1 + 0.01 * -2.0];
    let p1 = [
        1.0 - lr * gp[0] / (gp[0].abs() + 1e-8),
        -2.0 - lr * gp[1] / (gp[1].abs() + 1e-8),
    ];
    assert!(
        (p[0] - p1[0]).abs() < 1e-12 && (p[1] - p1[1]).abs() < 1e-12,
        "{p:?}"
    );
    // Step 2 from the torch formulas written out.
    let g2 = vec![-0.3, 0.2];
    adam.step(lr, vec![(&mut p, &g2)]);
    for i in 0..2 {
        let g2p = g2[i] + wd * p1[i];
        let m = 0.9 * (0.1 * gp[i]) + 0.1 * g2p;
        let v = 0.999 * (0.001 * gp[i] * gp[i]) + 0.001 * g2p * g2p;
        let bc1 = 1.0 - 0.9 * 0.9;
        let bc2 = 1.0 - 0.999 * 0.999;
        let expected = p1[i] - lr / bc1 * m / (libm::sqrt(v) / libm::sqrt(bc2) + 1e-8);
        assert!(
            (p[i] - expected).abs() < 1e-12,
            "p[{i}] = {}, expected {expected}",
            p[i]
        );
    }
}

/// Goal: the initialisation is the documented recipe (Xavier bound, bias 0.1, N(0, 0.1)
/// linear weights in stream order).
#[test]
fn init_follows_the_documented_recipe() {
    let net = Network::<f32>::init(Arch::Lenet.input(), &Arch::Lenet.layers(), 7).unwrap();
    let t = net.to_tensors();
    let bound = libm::sqrt(6.0 / (25.0 + 150.0)) as f32;
    assert!(t["conv1.weight"].data.iter().all(|w| w.abs() <= bound));
    assert!(t["conv1.bias"].data.iter().all(|&b| b == 0.1));
    assert!(t["bn1.weight"].data.iter().all(|&g| g == 1.0));
    assert!(t["bn3.running_var"].data.iter().all(|&v| v == 1.0));
    // The first conv1 weight is the stream's first draw; fc1.weight[0] follows the 150 +
    // 2400 conv uniforms.
    let mut rng = seed::stream(7, StreamId::WeightInit);
    let w0 = (libm::sqrt(6.0 / 175.0) * (2.0 * seed::unit_f64(&mut rng) - 1.0)) as f32;
    assert_eq!(t["conv1.weight"].data[0], w0);
    for _ in 1..150 + 2400 {
        seed::unit_f64(&mut rng);
    }
    assert_eq!(
        t["fc1.weight"].data[0],
        (0.1 * seed::normal(&mut rng)) as f32
    );
    // Spread of the linear weights: about 0.1.
    let w = &t["fc1.weight"].data;
    let sd = libm::sqrt(w.iter().map(|&v| f64::from(v * v)).sum::<f64>() / w.len() as f64);
    assert!((sd - 0.1).abs() < 0.005, "sd {sd}");
}

/// Goal: every architecture's layer spec chains from its input to its classes, and its
/// tensors have the PyTorch names and shapes of the artifact's models.
#[test]
fn architectures_chain_and_have_the_artifact_shapes() {
    for arch in Arch::ALL {
        assert_eq!(Arch::by_name(arch.name()), Some(arch));
        let shapes = net::shapes(arch.input(), &arch.layers()).unwrap();
        let classes = match arch {
            Arch::Lenet | Arch::LenetRelu => 10,
            Arch::CreditMlp | Arch::BankMlp => 2,
        };
        assert_eq!(*shapes.last().unwrap(), Shape::Vector(classes));
        assert_eq!(arch.classes(), classes);
        let net = Network::<f32>::init(arch.input(), &arch.layers(), 1).unwrap();
        let total: usize = net.to_tensors().values().map(|t| t.data.len()).sum();
        let expected = match arch {
            // conv 156 + 2416, bn 4·(6+16+120+84), fc 48120 + 10164 + 850.
            Arch::Lenet | Arch::LenetRelu => 156 + 2416 + 4 * 226 + 48120 + 10164 + 850,
            Arch::CreditMlp => 23 * 120 + 120 + 240 + 2,
            Arch::BankMlp => 20 * 250 + 250 + 500 + 2,
        };
        assert_eq!(total, expected, "{}", arch.name());
    }
    // The files record the kernel's built-in spec verbatim: a change to it changes the files.
    assert_eq!(
        Arch::Lenet.spec_text(),
        (
            "conv2d conv1 in=1 out=6 k=5 stride=1 pad=2;batchnorm bn1 c=6 eps=0.00001;sigmoid act1;\
         avgpool pool1 k=2 stride=2;conv2d conv2 in=6 out=16 k=5 stride=1 pad=0;\
         batchnorm bn2 c=16 eps=0.00001;sigmoid act2;avgpool pool2 k=2 stride=2;flatten flatten;\
         linear fc1 in=400 out=120;batchnorm bn3 c=120 eps=0.00001;sigmoid act3;\
         linear fc2 in=120 out=84;batchnorm bn4 c=84 eps=0.00001;sigmoid act4;\
         linear fc3 in=84 out=10",
            "1x28x28"
        )
    );
}

/// Goal: the learning-rate schedule and the epoch order follow their documented recipes.
#[test]
fn schedule_and_epoch_order_follow_their_recipes() {
    let r = Arch::Lenet.recipe();
    let LrSchedule::Step { every, gamma } = r.schedule else {
        panic!("LeNet uses a step schedule")
    };
    assert_eq!(r.lr_at(0), r.lr);
    assert_eq!(r.lr_at(every - 1), r.lr);
    assert_eq!(r.lr_at(every), r.lr * gamma);
    assert_eq!(r.lr_at(2 * every + 1), r.lr * gamma * gamma);
    let c = Arch::CreditMlp.recipe();
    assert_eq!(c.schedule, LrSchedule::Constant);
    assert_eq!(c.lr_at(99), c.lr);
    let order = epoch_order(5, 3, 10);
    let mut rng = seed::substream(5, StreamId::DataOrder, 3);
    let mut expected: Vec<u32> = (0..10).collect();
    for i in (1..10usize).rev() {
        expected.swap(i, seed::below(&mut rng, i as u64 + 1) as usize);
    }
    assert_eq!(order, expected);
    assert_ne!(epoch_order(5, 4, 10), order);
}

/// A small synthetic two-class dataset: the label is whether the first two features sum
/// to more than 1.
fn synthetic(seed: u64, train: usize, test: usize) -> Dataset {
    let f = 23;
    let mut rng = seed::stream(seed, StreamId::Synthetic);
    let mut split = |n: usize| {
        let x: Vec<f32> = (0..n * f)
            .map(|_| seed::unit_f64(&mut rng) as f32)
            .collect();
        let y = (0..n)
            .map(|i| u8::from(x[i * f] + x[i * f + 1] > 1.0))
            .collect();
        Split {
            features: f,
            x,
            y,
            rows: (0..n as u32).collect(),
        }
    };
    let (train_split, test_split) = (split(train), split(test));
    Dataset {
        name: "credit",
        features: f,
        image: None,
        classes: 2,
        train: train_split,
        test: test_split,
        feature_names: (0..f).map(|j| format!("f{j}")).collect(),
        categorical: vec![None; f],
        category_names: vec![Vec::new(); f],
        scaling: Scaling::MinMax(MinMax {
            min: vec![0.0; f],
            max: vec![1.0; f],
        }),
        provenance: SplitRecord {
            seed: Some(seed),
            train_len: train,
            test_len: test,
            index_digest: 0,
        },
    }
}

/// The model file of a training run on `data`.
fn train_bytes(arch: Arch, data: &Dataset, epochs: u32, seed: u64) -> (Vec<u8>, Trained) {
    let mut recipe = arch.recipe();
    recipe.epochs = epochs;
    let t = train(arch, data, &recipe, seed, &mut |_| {});
    let bytes = format::write_model(&to_model(arch, data, &recipe, seed, &t));
    (bytes, t)
}

/// Goal: a training run is a function of its seed: the same seed gives the same bytes, a
/// different seed different ones; the file reads back into the same network. Synthetic
/// data, so this runs without the shared data folder.
#[test]
fn training_is_deterministic_on_synthetic_data() {
    let data = synthetic(3, 3000, 200);
    let (a, t) = train_bytes(Arch::CreditMlp, &data, 2, 11);
    let (b, _) = train_bytes(Arch::CreditMlp, &data, 2, 11);
    assert!(a == b, "same seed, different bytes (seed 11)");
    let (c, _) = train_bytes(Arch::CreditMlp, &data, 2, 12);
    assert!(a != c, "seeds 11 and 12 gave the same bytes");
    // It learned the rule.
    assert!(
        t.test_correct > 170,
        "synthetic test accuracy {}/200",
        t.test_correct
    );
    // Round trip: the stored network predicts exactly as the trained one.
    let model = KernelModel::parse(&a).unwrap();
    let mut back = Network::<f32>::from_model(&model).unwrap();
    let mut orig = t.net.clone();
    let x = &data.test.x[..10 * 23];
    assert_eq!(back.forward(x, 10, false), orig.forward(x, 10, false));
}

/// Goal: LeNet training steps run and are deterministic too (two steps on random images;
/// no full MNIST training in the test suite).
#[test]
fn lenet_training_is_deterministic() {
    let mut data = synthetic(4, 0, 0);
    let mut rng = seed::stream(4, StreamId::Synthetic);
    let mut images = |n: usize| {
        let x: Vec<f32> = (0..n * 784)
            .map(|_| seed::normal(&mut rng) as f32)
            .collect();
        let y = (0..n).map(|i| (i % 10) as u8).collect();
        Split {
            features: 784,
            x,
            y,
            rows: (0..n as u32).collect(),
        }
    };
    data.train = images(40);
    data.test = images(8);
    data.features = 784;
    data.scaling = Scaling::Standardize {
        mean: 0.1307,
        std: 0.3081,
    };
    for arch in [Arch::Lenet, Arch::LenetRelu] {
        let (a, _) = train_bytes(arch, &data, 1, 5);
        let (b, _) = train_bytes(arch, &data, 1, 5);
        assert!(a == b, "{}: same seed, different bytes", arch.name());
        let m = read_model(&a).unwrap();
        assert_eq!(m.architecture, arch.name());
        assert_eq!(
            m.preprocessing,
            Preprocessing::Mnist {
                mean: 0.1307,
                std: 0.3081
            }
        );
    }
}

/// Goal: the files the trainer writes are the kernel's model files, and the trainer's
/// inference pass computes what the kernel's plaintext forward pass computes (`Float`,
/// exact activations, batch norm from the running statistics): two independent
/// implementations of the same layers agree to rounding.
#[test]
fn files_parse_in_the_kernel_and_inference_agrees_with_the_kernel() {
    use mpcdiff_kernel::approx::profile;
    use mpcdiff_kernel::nn::deploy::Deployment;
    use mpcdiff_kernel::nn::forward::{self, Config, ExactPlan};
    use mpcdiff_kernel::{Arith, Float};

    for (arch, batch) in [
        (Arch::Lenet, 2),
        (Arch::LenetRelu, 2),
        (Arch::CreditMlp, 5),
        (Arch::BankMlp, 5),
    ] {
        let mut net = Network::<f32>::init(arch.input(), &arch.layers(), 3).unwrap();
        randomize(&mut net, 21);
        let (layers, input) = arch.spec_text();
        let model = format::Model {
            architecture: arch.name().into(),
            layers: layers.into(),
            input: input.into(),
            classes: arch.classes(),
            preprocessing: Preprocessing::Mnist {
                mean: 0.0,
                std: 1.0,
            },
            training: "{}".into(),
            tensors: net.to_tensors(),
        };
        let bytes = format::write_model(&model);
        let km = KernelModel::parse(&bytes)
            .unwrap_or_else(|e| panic!("{}: the kernel rejects the file: {e:?}", arch.name()));
        let x = normals(22, batch * arch.input().len());
        let mut ours = Network::<f64>::from_model(&km).unwrap();
        let want = ours.forward(&x, batch, false);

        let mut a = Float::default();
        // Every batch norm evaluated (not folded), as a crypten.nn-module network runs it.
        let deploy = Deployment::CryptenModules;
        let (_, total) = km.slots(deploy).unwrap();
        let mut params = vec![0.0; total];
        km.load(&mut a, deploy, &mut params).unwrap();
        let mut xi = vec![0.0; x.len()];
        a.input(&x, &mut xi).unwrap();
        let mut out = vec![0.0; batch * km.classes];
        let mut arena = vec![0.0; forward::arena_elems(&km, batch)];
        let cfg = Config {
            profile: &profile::CRYPTEN,
            deploy,
        };
        forward::prepare(&mut a, &km, &mut params, &cfg, &ExactPlan, &mut arena).unwrap();
        forward::forward(
            &mut a, &km, &params, &cfg, &ExactPlan, None, &xi, batch, &mut out, &mut arena,
        )
        .unwrap();
        for (i, (g, w)) in out.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-9 * (1.0 + w.abs()),
                "{}: logit {i}: kernel {g}, trainer {w}",
                arch.name()
            );
        }
    }
}
