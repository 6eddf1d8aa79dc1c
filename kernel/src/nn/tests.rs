//! Models: the kernel's forward pass against a straightforward reference implementation.
//!
//! Goal: the plaintext model (Float arithmetic, exact activations) computes exactly what the
//! textbook layers compute; folding batch norm changes nothing but rounding; the MPC model
//! (Shared, the profile's approximations) stays close to the plaintext one, and per-neuron
//! levels attached to a layer's name change exactly that layer; malformed model files are
//! rejected with a reason. The model files are written here, with seeded random weights, in
//! the documented format (safetensors + `mpcdiff-model/1` metadata).

// The reference model computes the textbook layers with std's f64 math on purpose (independent
// of the kernel's `libm`); it is compared with tolerances, never across targets.
#![allow(clippy::disallowed_methods)]

use crate::approx::{profile, Level};
use crate::nn::deploy::Deployment;
use crate::nn::forward::{self, Config, DefaultPlan, ExactPlan, LayerMode, Plan, Tap};
use crate::nn::model::Model;
use crate::nn::spec::{self, Kind, Shape, Spec};
use crate::testing as support;
use crate::{Arith, Error, Fixed, FixedPoint, Float, Shared};

/// A safetensors file of named F32 tensors plus string metadata (sorted, as the trainer writes).
fn safetensors(tensors: &[(String, Vec<usize>, Vec<f32>)], meta: &[(&str, &str)]) -> Vec<u8> {
    let mut sorted: Vec<_> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut header = String::from("{\"__metadata__\":{");
    header += &meta
        .iter()
        .map(|(k, v)| format!("\"{k}\":\"{v}\""))
        .collect::<Vec<_>>()
        .join(",");
    header += "}";
    let mut data = Vec::new();
    for (name, shape, values) in &sorted {
        let begin = data.len();
        for v in values {
            data.extend_from_slice(&v.to_le_bytes());
        }
        let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
        header += &format!(
            ",\"{name}\":{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{begin},{}]}}",
            dims.join(","),
            data.len()
        );
    }
    header += "}";
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&data);
    out
}

/// A model of architecture `arch` with seeded weights (BN statistics plausible: var in [0.3, 3]).
fn random_model(arch: &str, seed: u64) -> Vec<u8> {
    let (layers, input) = spec::builtin(arch).unwrap();
    let spec = Spec::parse(layers).unwrap();
    let mut rng = support::rng(seed);
    let mut u = |lo: f64, hi: f64| lo + (hi - lo) * crate::seed::unit_f64(&mut rng);
    let mut tensors = Vec::new();
    for l in &spec.layers {
        let n = l.name.as_str();
        match l.kind {
            Kind::Conv2d {
                in_ch, out_ch, k, ..
            } => {
                let fan = (in_ch * k * k) as f64;
                let bound = (3.0 / fan).sqrt();
                tensors.push((
                    format!("{n}.weight"),
                    vec![out_ch, in_ch, k, k],
                    (0..out_ch * in_ch * k * k)
                        .map(|_| u(-bound, bound) as f32)
                        .collect(),
                ));
                tensors.push((
                    format!("{n}.bias"),
                    vec![out_ch],
                    (0..out_ch).map(|_| u(-0.1, 0.1) as f32).collect(),
                ));
            }
            Kind::Linear { inputs, outputs } => {
                let bound = (3.0 / inputs as f64).sqrt();
                tensors.push((
                    format!("{n}.weight"),
                    vec![outputs, inputs],
                    (0..outputs * inputs)
                        .map(|_| u(-bound, bound) as f32)
                        .collect(),
                ));
                tensors.push((
                    format!("{n}.bias"),
                    vec![outputs],
                    (0..outputs).map(|_| u(-0.1, 0.1) as f32).collect(),
                ));
            }
            Kind::BatchNorm { channels: c, .. } => {
                tensors.push((
                    format!("{n}.weight"),
                    vec![c],
                    (0..c).map(|_| u(0.5, 1.5) as f32).collect(),
                ));
                tensors.push((
                    format!("{n}.bias"),
                    vec![c],
                    (0..c).map(|_| u(-0.2, 0.2) as f32).collect(),
                ));
                tensors.push((
                    format!("{n}.running_mean"),
                    vec![c],
                    (0..c).map(|_| u(-0.3, 0.3) as f32).collect(),
                ));
                tensors.push((
                    format!("{n}.running_var"),
                    vec![c],
                    (0..c).map(|_| u(0.3, 3.0) as f32).collect(),
                ));
            }
            _ => {}
        }
    }
    let classes = match arch {
        "lenet" | "lenet-relu" => "10",
        _ => "2",
    };
    safetensors(
        &tensors,
        &[
            ("format", "mpcdiff-model/1"),
            ("architecture", arch),
            ("layers", layers),
            ("input", input),
            ("classes", classes),
        ],
    )
}

fn inputs(m: &Model<'_>, batch: usize, seed: u64) -> Vec<f64> {
    let mut rng = support::rng(seed);
    (0..batch * m.input.len())
        .map(|_| 2.0 * crate::seed::unit_f64(&mut rng) - 0.5)
        .collect()
}

/// The textbook forward pass in f64, straight from the tensors (no kernel code but the parser).
fn reference(m: &Model<'_>, x: &[f64], batch: usize) -> Vec<f64> {
    let t = |l: &str, s: &str| -> Vec<f64> {
        m.tensor(l, s).unwrap().values().map(f64::from).collect()
    };
    let mut v = x.to_vec();
    for (i, layer) in m.spec.layers.iter().enumerate() {
        let l = layer.name.as_str();
        let sin = m.input_shape(i);
        let sout = m.shapes[i];
        let per_in = sin.len();
        let per_out = sout.len();
        let mut next = vec![0.0; batch * per_out];
        match layer.kind {
            Kind::Linear { inputs, outputs } => {
                let (w, b) = (t(l, ".weight"), t(l, ".bias"));
                for s in 0..batch {
                    for o in 0..outputs {
                        let mut acc = b[o];
                        for j in 0..inputs {
                            acc += w[o * inputs + j] * v[s * inputs + j];
                        }
                        next[s * outputs + o] = acc;
                    }
                }
            }
            Kind::Conv2d {
                in_ch,
                out_ch,
                k,
                stride,
                pad,
            } => {
                let (Shape::Image { h, w, .. }, Shape::Image { h: oh, w: ow, .. }) = (sin, sout)
                else {
                    panic!()
                };
                let (wt, b) = (t(l, ".weight"), t(l, ".bias"));
                for s in 0..batch {
                    for o in 0..out_ch {
                        for y in 0..oh {
                            for xx in 0..ow {
                                let mut acc = b[o];
                                for c in 0..in_ch {
                                    for ky in 0..k {
                                        for kx in 0..k {
                                            let (iy, ix) = (
                                                (y * stride + ky) as isize - pad as isize,
                                                (xx * stride + kx) as isize - pad as isize,
                                            );
                                            if iy >= 0
                                                && ix >= 0
                                                && (iy as usize) < h
                                                && (ix as usize) < w
                                            {
                                                acc += wt[((o * in_ch + c) * k + ky) * k + kx]
                                                    * v[s * per_in
                                                        + (c * h + iy as usize) * w
                                                        + ix as usize];
                                            }
                                        }
                                    }
                                }
                                next[s * per_out + (o * oh + y) * ow + xx] = acc;
                            }
                        }
                    }
                }
            }
            Kind::BatchNorm {
                channels: c,
                eps_micro,
            } => {
                let (g, be, mu, var) = (
                    t(l, ".weight"),
                    t(l, ".bias"),
                    t(l, ".running_mean"),
                    t(l, ".running_var"),
                );
                let hw = per_in / c;
                for (idx, o) in next.iter_mut().enumerate() {
                    let ch = (idx % per_in) / hw;
                    *o = (v[idx] - mu[ch]) / (var[ch] + eps_micro as f64 * 1e-6).sqrt() * g[ch]
                        + be[ch];
                }
            }
            Kind::Act(a) => {
                let f = |z: f64| match a {
                    spec::Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
                    spec::Activation::Relu => z.max(0.0),
                    spec::Activation::Tanh => z.tanh(),
                    spec::Activation::GeluErf => 0.5 * z * (1.0 + libm::erf(z / 2f64.sqrt())),
                    spec::Activation::GeluTanh => {
                        0.5 * z * (1.0 + (0.7978845608 * (z + 0.044715 * z * z * z)).tanh())
                    }
                };
                next = v.iter().map(|&z| f(z)).collect();
            }
            Kind::AvgPool { k, stride } | Kind::MaxPool { k, stride } => {
                let (Shape::Image { c, h, w }, Shape::Image { h: oh, w: ow, .. }) = (sin, sout)
                else {
                    panic!()
                };
                for p in 0..batch * c {
                    for y in 0..oh {
                        for xx in 0..ow {
                            let cells = (0..k * k)
                                .map(|q| v[(p * h + y * stride + q / k) * w + xx * stride + q % k]);
                            next[(p * oh + y) * ow + xx] =
                                if matches!(layer.kind, Kind::AvgPool { .. }) {
                                    cells.sum::<f64>() / (k * k) as f64
                                } else {
                                    cells.fold(f64::NEG_INFINITY, f64::max)
                                };
                        }
                    }
                }
            }
            Kind::Flatten => next = v.clone(),
        }
        v = next;
    }
    v
}

fn run<A: Arith>(
    a: &mut A,
    m: &Model<'_>,
    deploy: Deployment,
    plan: &dyn Plan,
    tap: Option<&mut dyn Tap>,
    x: &[f64],
    batch: usize,
) -> Vec<A::Elem> {
    let (_, total) = m.slots(deploy).unwrap();
    let mut params = vec![A::Elem::default(); total];
    m.load(a, deploy, &mut params).unwrap();
    let mut out = vec![A::Elem::default(); batch * m.classes];
    let mut arena = vec![A::Elem::default(); forward::arena_elems(m, batch)];
    let cfg = Config {
        profile: &profile::CRYPTEN,
        deploy,
    };
    forward::prepare(a, m, &mut params, &cfg, plan, &mut arena).unwrap();
    let mut xi = vec![A::Elem::default(); x.len()];
    a.input(x, &mut xi).unwrap();
    forward::forward(
        a, m, &params, &cfg, plan, tap, &xi, batch, &mut out, &mut arena,
    )
    .unwrap();
    out
}

fn peek<A: Arith>(a: &A, v: &[A::Elem]) -> Vec<f64> {
    let mut o = vec![0.0; v.len()];
    a.peek(v, &mut o).unwrap();
    o
}

#[test]
fn float_forward_with_exact_activations_equals_the_reference() {
    for (arch, batch) in [
        ("lenet", 2),
        ("lenet-relu", 2),
        ("credit-mlp", 5),
        ("bank-mlp", 5),
    ] {
        let bytes = random_model(arch, 7);
        let m = Model::parse(&bytes).unwrap();
        let x = inputs(&m, batch, 3);
        let want = reference(&m, &x, batch);
        for &deploy in Deployment::ALL {
            if deploy.check(&m.spec).is_err() {
                continue;
            }
            // torch's exporter fuses conv and batch norm in f32: weights within f32 rounding.
            let tol = if deploy == Deployment::Crypten {
                1e-5
            } else {
                1e-9
            };
            let mut a = Float::default();
            let got = run(&mut a, &m, deploy, &ExactPlan, None, &x, batch);
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() <= tol * (1.0 + w.abs()),
                    "{arch} {deploy:?}: {g} vs {w}"
                );
            }
        }
    }
}

#[test]
fn mpc_model_stays_close_to_the_plaintext_model_and_levels_act_by_name() {
    let bytes = random_model("lenet", 11);
    let m = Model::parse(&bytes).unwrap();
    let batch = 2;
    let x = inputs(&m, batch, 5);
    let plain = reference(&m, &x, batch);
    let fp = FixedPoint::new(16).unwrap();
    let mut session_arena = vec![0i64; forward::shared_arena_words(&m, batch)];
    let mut sh = Shared::new(fp, 9, &mut session_arena);
    let out = run(
        &mut sh,
        &m,
        Deployment::CryptenModules,
        &DefaultPlan,
        None,
        &x,
        batch,
    );
    let mpc = peek(&sh, &out);
    let worst = mpc
        .iter()
        .zip(&plain)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(worst < 0.1, "MPC logits off by {worst}");
    assert!(worst > 0.0, "an approximated model cannot be exact");
    // The fixed-point model without shares is closer to MPC than to the plaintext model's bits.
    let mut fx = Fixed::new(fp);
    let fixed_out = run(
        &mut fx,
        &m,
        Deployment::CryptenModules,
        &DefaultPlan,
        None,
        &x,
        batch,
    );
    let fixed = peek(&fx, &fixed_out);
    let share_gap = mpc
        .iter()
        .zip(&fixed)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    assert!(share_gap < 0.01, "shares moved the logits by {share_gap}");

    // Per-neuron levels on `act3` (120 neurons): the low level 3/3 for all of them changes the
    // output, and the cost shows more squarings at the high level.
    struct OneLayer(Vec<Level>);
    impl Plan for OneLayer {
        fn mode(&self, name: &str) -> LayerMode<'_> {
            if name == "act3" {
                LayerMode::Levels(&self.0)
            } else {
                LayerMode::Default
            }
        }
    }
    let mut fx = Fixed::new(fp);
    let low_out = run(
        &mut fx,
        &m,
        Deployment::CryptenModules,
        &OneLayer(vec![Level::new(3, 3); 120]),
        None,
        &x,
        batch,
    );
    let low = peek(&fx, &low_out);
    assert_ne!(low, fixed, "levels on act3 must change the output");
    let cost_at = |level: Level| {
        let mut arena = vec![0i64; forward::shared_arena_words(&m, batch)];
        let mut sh = Shared::new(fp, 9, &mut arena);
        run(
            &mut sh,
            &m,
            Deployment::CryptenModules,
            &OneLayer(vec![level; 120]),
            None,
            &x,
            batch,
        );
        sh.cost()
    };
    let (hi, lo) = (cost_at(Level::new(9, 9)), cost_at(Level::new(3, 3)));
    assert!(hi.square_pairs > lo.square_pairs && hi.rounds > lo.rounds);
}

#[test]
fn taps_see_every_activation_layer_and_exact_layers_match_the_reference() {
    // Chunks of one layer arrive in order and cover it: (layer, values seen) per layer.
    struct Record(Vec<(String, usize)>);
    impl Tap for Record {
        fn activation(&mut self, _i: usize, layer: &str, offset: usize, values: &[f64]) {
            match self.0.last_mut() {
                Some((l, n)) if l == layer => {
                    assert_eq!(*n, offset, "chunks in order");
                    *n += values.len();
                }
                _ => {
                    assert_eq!(offset, 0);
                    self.0.push((layer.to_string(), values.len()));
                }
            }
        }
    }
    let bytes = random_model("lenet", 2);
    let m = Model::parse(&bytes).unwrap();
    let mut rec = Record(Vec::new());
    let x = inputs(&m, 1, 1);
    let mut a = Float::default();
    run(
        &mut a,
        &m,
        Deployment::Folded,
        &ExactPlan,
        Some(&mut rec),
        &x,
        1,
    );
    assert_eq!(
        rec.0,
        vec![
            ("act1".into(), 4704),
            ("act2".into(), 1600),
            ("act3".into(), 120),
            ("act4".into(), 84)
        ]
    );
}

#[test]
fn malformed_models_are_rejected_with_a_reason() {
    let good = random_model("credit-mlp", 1);
    assert!(Model::parse(&good).is_ok());
    let malformed = |b: &[u8]| {
        matches!(
            Model::parse(b),
            Err(Error::Malformed { .. })
                | Err(Error::ShapeMismatch { .. })
                | Err(Error::InvalidShape { .. })
        )
    };
    assert!(malformed(&good[..good.len() - 1]), "truncated data");
    assert!(malformed(&good[..5]), "shorter than the prefix");
    let mut long_header = good.clone();
    long_header[0..8].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert!(malformed(&long_header), "header length past the end");
    // A tensor missing, an extra tensor, a wrong shape, a wrong format tag.
    let (layers, input) = spec::builtin("credit-mlp").unwrap();
    let meta = [
        ("format", "mpcdiff-model/1"),
        ("architecture", "credit-mlp"),
        ("layers", layers),
        ("input", input),
        ("classes", "2"),
    ];
    let full = vec![
        ("fc1.weight".to_string(), vec![120, 23], vec![0.0f32; 2760]),
        ("fc1.bias".to_string(), vec![120], vec![0.0; 120]),
        ("fc2.weight".to_string(), vec![2, 120], vec![0.0; 240]),
        ("fc2.bias".to_string(), vec![2], vec![0.0; 2]),
    ];
    assert!(Model::parse(&safetensors(&full, &meta)).is_ok());
    assert!(malformed(&safetensors(&full[..3], &meta)), "missing tensor");
    let mut extra = full.clone();
    extra.push(("fc9.bias".into(), vec![1], vec![0.0]));
    assert!(malformed(&safetensors(&extra, &meta)), "extra tensor");
    let mut wrong = full.clone();
    wrong[0].1 = vec![23, 120];
    assert!(malformed(&safetensors(&wrong, &meta)), "transposed weight");
    let mut tag = meta;
    tag[0].1 = "something-else";
    assert!(malformed(&safetensors(&full, &tag)), "format tag");
    let mut cls = meta;
    cls[4].1 = "3";
    assert!(
        malformed(&safetensors(&full, &cls)),
        "classes disagree with the last layer"
    );
    // Spec errors.
    for bad in [
        "",
        "linear fc1 in=0 out=2",
        "linear fc1 in=2",
        "conv2d c in=1 out=1 k=5 stride=0 pad=0",
        "softplus a1",
        "linear a in=2 out=2;linear a in=2 out=2",
    ] {
        assert!(Spec::parse(bad).is_err(), "{bad:?} should not parse");
    }
}

/// A model file of a built-in architecture with seeded weights (for other modules' tests).
pub(crate) fn model_file(arch: &str, seed: u64) -> Vec<u8> {
    random_model(arch, seed)
}

/// A model file of `layers` over `input`, with `classes` classes and every tensor the layers
/// need (zeros; batch-norm variances 1).
fn model_of(layers: &str, input: &str, classes: &str) -> Vec<u8> {
    let spec = Spec::parse(layers).unwrap();
    let mut tensors = Vec::new();
    for l in &spec.layers {
        let n = l.name.as_str();
        let mut t = |suffix: &str, dims: Vec<usize>, v: f32| {
            let len = dims.iter().product();
            tensors.push((format!("{n}{suffix}"), dims, vec![v; len]));
        };
        match l.kind {
            Kind::Conv2d {
                in_ch, out_ch, k, ..
            } => {
                t(".weight", vec![out_ch, in_ch, k, k], 0.5);
                t(".bias", vec![out_ch], 0.0);
            }
            Kind::Linear { inputs, outputs } => {
                t(".weight", vec![outputs, inputs], 0.5);
                t(".bias", vec![outputs], 0.0);
            }
            Kind::BatchNorm { channels: c, .. } => {
                t(".weight", vec![c], 1.0);
                t(".bias", vec![c], 0.0);
                t(".running_mean", vec![c], 0.0);
                t(".running_var", vec![c], 1.0);
            }
            _ => {}
        }
    }
    safetensors(
        &tensors,
        &[
            ("format", "mpcdiff-model/1"),
            ("architecture", "test"),
            ("layers", layers),
            ("input", input),
            ("classes", classes),
        ],
    )
}

/// K2 (reliability probe): a batch of 0 on a model with a convolution divided by
/// `batch × out_ch` when adding the bias (a panic), through `forward` and every oracle.
#[test]
fn forward_with_batch_zero_is_an_error() {
    use crate::difftest::oracle::{self, Buffers, Sizes, Target};
    let bytes = model_of(
        "conv2d c in=1 out=1 k=1 stride=1 pad=0;flatten f;linear l in=4 out=2",
        "1x2x2",
        "2",
    );
    let m = Model::parse(&bytes).unwrap();
    let zero_batch = Err(Error::OutOfRange {
        what: "a forward pass needs a batch of at least 1",
    });
    let cfg = Config {
        profile: &profile::CRYPTEN,
        deploy: Deployment::Folded,
    };
    let (_, total) = m.slots(Deployment::Folded).unwrap();
    let mut a = Float::new(FixedPoint::CRYPTEN_DEFAULT);
    let mut params = vec![0.0; total];
    m.load(&mut a, Deployment::Folded, &mut params).unwrap();
    let mut arena = vec![0.0; forward::arena_elems(&m, 1)];
    let got = forward::forward(
        &mut a,
        &m,
        &params,
        &cfg,
        &ExactPlan,
        None,
        &[],
        0,
        &mut [],
        &mut arena,
    );
    assert_eq!(got, zero_batch);
    // Through the oracles, with buffers sized for a batch of 0 (as the probe did).
    let t = Target {
        model: &m,
        profile: &profile::CRYPTEN,
        fp: FixedPoint::CRYPTEN_DEFAULT,
        trunc: crate::TruncMode::Local,
        deploy: Deployment::Crypten,
        engine: Default::default(),
        comparison: Default::default(),
    };
    let s = Sizes::of(&m, Deployment::Folded, 0).unwrap();
    let (mut p, mut i, mut o, mut ar) = (
        vec![0.0; s.params],
        vec![0.0; s.input],
        vec![0.0; s.out],
        vec![0.0; s.arena],
    );
    let mut buf = Buffers {
        params: &mut p,
        input: &mut i,
        out: &mut o,
        arena: &mut ar,
    };
    assert_eq!(
        oracle::plaintext(&t, None, &[], 0, &mut [], &mut buf, true),
        zero_batch
    );
    let s = Sizes::of(&m, Deployment::Crypten, 0).unwrap();
    let (mut p, mut i, mut o, mut ar) = (
        vec![[0i64; 2]; s.params],
        vec![[0i64; 2]; s.input],
        vec![[0i64; 2]; s.out],
        vec![[0i64; 2]; s.arena.max(64)],
    );
    let mut buf = Buffers {
        params: &mut p,
        input: &mut i,
        out: &mut o,
        arena: &mut ar,
    };
    let mut words = vec![0i64; s.words.max(forward::shared_arena_words(&m, 1))];
    assert_eq!(
        oracle::mpc(
            &t,
            &DefaultPlan,
            None,
            1,
            &[],
            0,
            &mut [],
            &mut buf,
            &mut words
        ),
        zero_batch.map(|()| crate::Cost::default())
    );
}

/// D8: with overflow checks, an input shape whose size overflows made `Model::parse` panic in
/// `Shape::len` (a release build wrapped it to a wrong size).
#[test]
fn model_parse_rejects_shapes_whose_size_overflows() {
    let overflow: Result<(), Error> = Err(Error::InvalidShape {
        what: "a shape's element count overflows",
    });
    let huge = Shape::Image {
        c: 999_999_999,
        h: 999_999_999,
        w: 999_999_999,
    };
    assert_eq!(huge.checked_len().map(|_| ()), overflow);
    assert_eq!(huge.len(), usize::MAX, "len saturates, it does not wrap");
    let bytes = model_of("flatten f", "999999999x999999999x999999999", "2");
    assert_eq!(Model::parse(&bytes).map(|_| ()), overflow);
    // Without a flatten the input itself is checked.
    let bytes = model_of("relu r", "999999999x999999999x999999999", "2");
    assert_eq!(Model::parse(&bytes).map(|_| ()), overflow);
    let mut out = [Shape::Vector(0); 2];
    let s = Spec::parse("relu r;flatten f").unwrap();
    assert_eq!(s.shapes(huge, &mut out), overflow);
    // Shapes that fit still parse.
    let bytes = model_of("flatten f", "2x3x4", "24");
    assert_eq!(Model::parse(&bytes).unwrap().shapes[0], Shape::Vector(24));
}

/// A parsed model's fields are public: changed after parsing so that they disagree (classes,
/// input, shapes, layers), they used to drive the forward pass's slicing into panics.
#[test]
fn a_model_whose_fields_were_changed_is_an_error_not_a_panic() {
    let bytes = random_model("credit-mlp", 3);
    let good = Model::parse(&bytes).unwrap();
    let mut changed = Vec::new();
    let mut m = good.clone();
    m.classes = 7;
    changed.push(m);
    let mut m = good.clone();
    m.input = Shape::Vector(5);
    changed.push(m);
    let mut m = good.clone();
    m.shapes[1] = Shape::Vector(usize::MAX);
    changed.push(m);
    let mut m = good.clone();
    m.shapes.pop();
    changed.push(m);
    let mut m = good.clone();
    m.spec.layers[0].kind = Kind::Linear {
        inputs: 23,
        outputs: 1000,
    };
    changed.push(m);
    let mut m = good.clone();
    m.spec.layers.pop();
    changed.push(m);
    for (k, m) in changed.iter().enumerate() {
        assert!(m.check().is_err(), "change {k}");
        assert!(m.slots(Deployment::Crypten).is_err(), "change {k}: slots");
        let mut a = Float::new(FixedPoint::CRYPTEN_DEFAULT);
        let mut params = vec![0.0; 4096];
        assert!(m.load(&mut a, Deployment::Folded, &mut params).is_err());
        let cfg = Config {
            profile: &profile::CRYPTEN,
            deploy: Deployment::Folded,
        };
        let mut arena = vec![0.0; 1 << 16];
        let got = forward::forward(
            &mut a,
            m,
            &params,
            &cfg,
            &ExactPlan,
            None,
            &[0.0; 23],
            1,
            &mut [0.0; 2],
            &mut arena,
        );
        assert!(got.is_err(), "change {k}: forward");
        let _ = (m.input_shape(usize::MAX), m.input_shape(9));
    }
    assert_eq!(good.check(), Ok(()));
}

/// A batch norm over images without pixels (`c×0×0`) needs its `c` inverse deviations, more
/// than the activations' width (0): the arena did not count them and the forward pass
/// sliced past it.
#[test]
fn batch_norm_on_empty_images_is_sized_by_arena_elems() {
    let bytes = model_of("batchnorm bn c=300 eps=0.00001;flatten f", "300x0x0", "0");
    let m = Model::parse(&bytes).unwrap();
    for deploy in [Deployment::Crypten, Deployment::CryptenModules] {
        let cfg = Config {
            profile: &profile::CRYPTEN,
            deploy,
        };
        let mut a = Float::new(FixedPoint::CRYPTEN_DEFAULT);
        let (_, total) = m.slots(deploy).unwrap();
        let mut params = vec![0.0; total];
        m.load(&mut a, deploy, &mut params).unwrap();
        let mut arena = vec![0.0; forward::arena_elems(&m, 1)];
        forward::prepare(&mut a, &m, &mut params, &cfg, &DefaultPlan, &mut arena).unwrap();
        // The inverse deviations fit; the broadcast over channels of no pixel is then refused.
        assert!(matches!(
            forward::forward(
                &mut a,
                &m,
                &params,
                &cfg,
                &DefaultPlan,
                None,
                &[],
                1,
                &mut [],
                &mut arena,
            ),
            Err(Error::ShapeMismatch { .. })
        ));
        // One element short of the documented arena is a typed error.
        let short = arena.len() - 1;
        assert!(matches!(
            forward::forward(
                &mut a,
                &m,
                &params,
                &cfg,
                &DefaultPlan,
                None,
                &[],
                1,
                &mut [],
                &mut arena[..short],
            ),
            Err(Error::BufferTooSmall { .. })
        ));
    }
}

/// `Tensor::get` is public and used to slice past the tensor's bytes.
#[test]
fn tensor_get_past_the_end_is_nan() {
    use crate::nn::safetensors::Tensor;
    let t = Tensor {
        name: "t",
        shape: heapless::Vec::new(),
        bytes: &[0, 0, 128, 63, 1, 2],
    };
    assert_eq!(t.get(0), 1.0);
    for i in [1, 2, usize::MAX / 4, usize::MAX] {
        assert!(t.get(i).is_nan(), "element {i}");
    }
}

/// The margin gradient (the deviation search's guide) is the plaintext model's: its margin
/// equals the forward pass's, and its gradient matches central finite differences on every
/// built-in architecture (sigmoid and average pooling, ReLU and max pooling, folded batch
/// norms, a GELU table model).
#[test]
fn margin_gradient_matches_finite_differences() {
    use crate::nn::gradient::{margin_gradient, params_len, tape_elems};
    for (arch, seed) in [
        ("lenet", 3),
        ("lenet-relu", 4),
        ("credit-mlp", 5),
        ("bank-mlp", 6),
    ] {
        let bytes = random_model(arch, seed);
        let m = Model::parse(&bytes).unwrap();
        let mut a = Float::new(FixedPoint::CRYPTEN_DEFAULT);
        let mut params = vec![0.0; params_len(&m).unwrap()];
        m.load(&mut a, Deployment::Folded, &mut params).unwrap();
        let n = m.input.len();
        let mut rng = support::rng(seed);
        let x: Vec<f64> = (0..n)
            .map(|_| 2.0 * crate::seed::unit_f64(&mut rng) - 0.5)
            .collect();
        let mut tape = vec![0.0; tape_elems(&m)];
        let mut grad = vec![0.0; n];
        // The forward pass's logits, for the margin.
        let cfg = Config {
            profile: &profile::CRYPTEN,
            deploy: Deployment::Folded,
        };
        let mut arena = vec![0.0; forward::arena_elems(&m, 1)];
        let mut logits = vec![0.0; m.classes];
        let forward_margin = |x: &[f64], label: usize, logits: &mut [f64], arena: &mut [f64]| {
            let mut a = Float::new(FixedPoint::CRYPTEN_DEFAULT);
            forward::forward(
                &mut a, &m, &params, &cfg, &ExactPlan, None, x, 1, logits, arena,
            )
            .unwrap();
            let rival = (0..logits.len())
                .filter(|&j| j != label)
                .map(|j| logits[j])
                .fold(f64::NEG_INFINITY, f64::max);
            logits[label] - rival
        };
        for label in [0, 1] {
            let got = margin_gradient(&m, &params, &x, label, &mut grad, &mut tape).unwrap();
            let want = forward_margin(&x, label, &mut logits, &mut arena);
            assert!(
                (got - want).abs() <= 1e-9 * (1.0 + want.abs()),
                "{arch}: margin {got} vs forward {want}"
            );
            // Central differences on a spread of coordinates (every one for the tables).
            let h = 1e-5;
            let mut checked = 0;
            for i in (0..n).step_by(if n > 100 { 37 } else { 1 }) {
                let mut xp = x.clone();
                xp[i] += h;
                let up = forward_margin(&xp, label, &mut logits, &mut arena);
                xp[i] -= 2.0 * h;
                let down = forward_margin(&xp, label, &mut logits, &mut arena);
                let fd = (up - down) / (2.0 * h);
                assert!(
                    (fd - grad[i]).abs() <= 1e-5 * (1.0 + fd.abs()),
                    "{arch} label {label} input {i}: gradient {} vs finite difference {fd}",
                    grad[i]
                );
                checked += 1;
            }
            assert!(checked >= 20, "{arch}: {checked} coordinates checked");
            assert!(grad.iter().any(|&g| g != 0.0), "{arch}: a zero gradient");
        }
        // Errors, not panics: a short tape, a label that is no class, a short gradient.
        let short = margin_gradient(&m, &params, &x, 0, &mut grad, &mut tape[..1]);
        assert!(matches!(short, Err(Error::BufferTooSmall { .. })));
        let bad = margin_gradient(&m, &params, &x, m.classes, &mut grad, &mut tape);
        assert!(matches!(bad, Err(Error::OutOfRange { .. })));
        let bad = margin_gradient(&m, &params, &x, 0, &mut grad[..1], &mut tape);
        assert!(matches!(bad, Err(Error::ShapeMismatch { .. })));
    }
}
