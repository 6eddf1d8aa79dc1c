//! The committed models in the kernel: they parse, and the trained LeNets read the synthetic
//! digits (the embedded default corpus of the demo) with at least 90 % accuracy.

use std::path::Path;

use mpcdiff_kernel::approx::profile;
use mpcdiff_kernel::digits::synthetic;
use mpcdiff_kernel::nn::deploy::Deployment;
use mpcdiff_kernel::nn::forward::{self, Config, ExactPlan};
use mpcdiff_kernel::nn::model::Model;
use mpcdiff_kernel::{Arith, Float};

fn model_bytes(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../cli/models/{name}.safetensors")),
    )
    .unwrap()
}

#[test]
fn committed_models_parse_with_their_architectures() {
    for (name, input, classes) in [
        ("lenet", 784, 10),
        ("lenet-relu", 784, 10),
        ("credit-mlp", 23, 2),
        ("bank-mlp", 20, 2),
    ] {
        let bytes = model_bytes(name);
        let m = Model::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(m.architecture, name);
        assert_eq!((m.input.len(), m.classes), (input, classes));
        let (builtin, _) = mpcdiff_kernel::nn::spec::builtin(name).unwrap();
        assert_eq!(
            m.spec,
            mpcdiff_kernel::nn::spec::Spec::parse(builtin).unwrap(),
            "{name}: the file's layers are the built-in ones"
        );
    }
}

#[test]
fn trained_lenets_read_synthetic_digits() {
    let n = 1000;
    let mut x = vec![0.0f64; n * 784];
    let mut labels = Vec::with_capacity(n);
    let mut img = [0.0f32; 784];
    for i in 0..n {
        labels.push(synthetic::sample(2026, i as u64, &mut img).unwrap() as usize);
        for (o, &p) in x[i * 784..(i + 1) * 784].iter_mut().zip(img.iter()) {
            *o = (f64::from(p) - 0.1307) / 0.3081;
        }
    }
    for name in ["lenet", "lenet-relu"] {
        let bytes = model_bytes(name);
        let m = Model::parse(&bytes).unwrap();
        let mut a = Float::default();
        let (_, total) = m.slots(Deployment::Folded).unwrap();
        let mut params = vec![0.0; total];
        m.load(&mut a, Deployment::Folded, &mut params).unwrap();
        let mut logits = vec![0.0; n * 10];
        let mut arena = vec![0.0; forward::arena_elems(&m, n)];
        let cfg = Config {
            profile: &profile::CRYPTEN,
            deploy: Deployment::Folded,
        };
        let mut xin = vec![0.0; x.len()];
        a.input(&x, &mut xin).unwrap();
        forward::forward(
            &mut a,
            &m,
            &params,
            &cfg,
            &ExactPlan,
            None,
            &xin,
            n,
            &mut logits,
            &mut arena,
        )
        .unwrap();
        let correct = logits
            .chunks(10)
            .zip(&labels)
            .filter(|(l, &y)| {
                l.iter()
                    .enumerate()
                    .fold(0, |b, (i, &v)| if v > l[b] { i } else { b })
                    == y
            })
            .count();
        let acc = correct as f64 / n as f64;
        eprintln!("{name}: {:.1} % of {n} synthetic digits", 100.0 * acc);
        assert!(
            acc >= 0.90,
            "{name} reads only {:.1} % of the synthetic digits",
            100.0 * acc
        );
    }
}

#[test]
fn committed_models_reach_the_papers_plaintext_accuracy() {
    // The accuracy each model's trainer measured on the full test split, recorded in the file
    // (`cli/tests/cli/eval.rs` shows the kernel's plaintext model reproduces those
    // predictions exactly). Bars: the paper's plaintext figures (LeNet 98.65 %, Bank
    // 90.00 %); Credit 81.5 % against the paper's 82.93 % on a different split (the
    // artifact's row order is unknown; ours is a seeded stratified 80/20 split, see README).
    for (name, bar) in [
        ("lenet", 0.9865),
        ("lenet-relu", 0.9865),
        ("credit-mlp", 0.815),
        ("bank-mlp", 0.90),
    ] {
        let bytes = model_bytes(name);
        let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
        let training: serde_json::Value =
            serde_json::from_str(header["__metadata__"]["training"].as_str().unwrap()).unwrap();
        let acc = training["test_accuracy"].as_f64().unwrap();
        let (correct, len) = (
            training["test_correct"].as_u64().unwrap(),
            training["data"]["test_len"].as_u64().unwrap(),
        );
        assert_eq!(
            acc,
            correct as f64 / len as f64,
            "{name}: recorded accuracy is its own counts"
        );
        assert!(acc >= bar, "{name}: test accuracy {acc} below {bar}");
    }
}
