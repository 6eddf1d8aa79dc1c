//! End-to-end tests of `mpcdiff eval` on the committed models and the real test splits.
//!
//! Goal: the plaintext model computed by the kernel (f64, exact activations) reproduces the
//! trained model's own recorded test accuracy exactly (same split, same predictions); the
//! MPC model with the `crypten` profile agrees with it on at least 95 % of the first 1000
//! MNIST test images (issue 4's bar); results do not depend on the thread count; a model or
//! data folder that cannot be used exits 2 with a sentence.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn shared_data() -> Option<PathBuf> {
    let d = match std::env::var_os("MPCDIFF_SHARED") {
        Some(s) => PathBuf::from(s).join("data"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"),
    };
    d.is_dir().then_some(d)
}

fn eval(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mpcdiff"))
        .arg("eval")
        .args(args)
        .output()
        .expect("run mpcdiff");
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The test accuracy the trainer recorded in the committed model file.
fn recorded_test_correct(model: &str) -> u64 {
    let bytes = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("models/{model}.safetensors")),
    )
    .unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let training: Value =
        serde_json::from_str(header["__metadata__"]["training"].as_str().unwrap()).unwrap();
    training["test_correct"].as_u64().unwrap()
}

#[test]
fn plaintext_model_reproduces_the_recorded_accuracy_and_mpc_stays_close() {
    let Some(data) = shared_data() else {
        eprintln!(
            "SKIP: plaintext_model_reproduces_the_recorded_accuracy: ../shared/data not found"
        );
        return;
    };
    let d = data.to_str().unwrap();
    // (model, deployment, whether MPC stays close). Bank's GELU through `from_pytorch` is
    // CrypTen's Taylor erf with its `pow` bug: real CrypTen agrees with the plaintext labels on
    // 44.3 % of the test rows (the shared reference), so the default deployment must collapse
    // too; written in the tanh form with CrypTensor calls it stays close.
    for (model, deploy, close) in [
        ("credit-mlp", "crypten", true),
        ("bank-mlp", "crypten-modules", true),
        ("bank-mlp", "crypten", false),
    ] {
        let (code, out, err) = eval(&["--model", model, "--deploy", deploy, "--data", d, "--json"]);
        assert_eq!(code, Some(0), "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v["plaintext_correct"].as_u64().unwrap(),
            recorded_test_correct(model),
            "{model}"
        );
        let (p, m) = (
            v["plaintext_accuracy"].as_f64().unwrap(),
            v["mpc_accuracy"].as_f64().unwrap(),
        );
        if close {
            assert!(
                (p - m).abs() < 0.01,
                "{model} {deploy}: plaintext {p} vs MPC {m}"
            );
        } else {
            assert!(
                m < 0.5,
                "{model} {deploy}: MPC accuracy {m}, CrypTen's is 45.3 %"
            );
        }
        assert_eq!(
            v["deviations"].as_u64().unwrap() as usize,
            v["deviation_indices"].as_array().unwrap().len()
        );
        // Sigmoid and the tanh-form GELU compare; the erf graph is a polynomial.
        let and = v["cost_per_inference"]["and_triples"].as_f64().unwrap();
        assert_eq!(and > 0.0, close, "{model} {deploy}: AND triples {and}");
    }
}

#[test]
fn mpc_lenet_agrees_with_plaintext_on_the_first_1000_images() {
    let Some(data) = shared_data() else {
        eprintln!("SKIP: mpc_lenet_agrees_with_plaintext_on_the_first_1000_images: ../shared/data not found");
        return;
    };
    let d = data.to_str().unwrap();
    let (code, out, err) = eval(&[
        "--model",
        "lenet",
        "--profile",
        "crypten",
        "--data",
        d,
        "--limit",
        "1000",
        "--json",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["examples"], 1000);
    let agreement = v["agreement"].as_f64().unwrap();
    assert!(agreement >= 0.95, "agreement {agreement}");
    assert!(v["plaintext_accuracy"].as_f64().unwrap() >= 0.98);
    // Thread count does not change a single byte.
    let (_, one, _) = eval(&[
        "--model",
        "lenet",
        "--profile",
        "crypten",
        "--data",
        d,
        "--limit",
        "100",
        "--json",
        "--threads",
        "1",
    ]);
    let (_, two, _) = eval(&[
        "--model",
        "lenet",
        "--profile",
        "crypten",
        "--data",
        d,
        "--limit",
        "100",
        "--json",
        "--threads",
        "2",
    ]);
    assert_eq!(one, two);
}

#[test]
fn unusable_models_and_data_exit_2() {
    let dir = std::env::temp_dir().join(format!("mpcdiff-eval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.safetensors");
    std::fs::write(&junk, b"not a model").unwrap();
    let (code, out, err) = eval(&[
        "--model",
        junk.to_str().unwrap(),
        "--data",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2));
    assert!(out.is_empty() && err.contains("--model"), "{err}");
    let (code, _, err) = eval(&["--model", "no-such-model", "--data", dir.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no-such-model"), "{err}");
    let (code, _, err) = eval(&["--model", "credit-mlp", "--data", dir.to_str().unwrap()]);
    assert_eq!(code, Some(2));
    assert!(err.contains("credit"), "names the missing data file: {err}");
    let (code, _, err) = eval(&[
        "--model",
        "credit-mlp",
        "--data",
        dir.to_str().unwrap(),
        "--profile",
        "pysyft",
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--profile"), "{err}");
}
