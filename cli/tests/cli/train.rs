//! End-to-end tests of `mpcdiff train` with the real binary.
//!
//! Goal: pin the command's contract: a short Credit run learns (> 78 % test accuracy after
//! one epoch; the majority class is 77.9 %), writes an `mpcdiff-model/1` file at the default
//! path, the same seed writes the same bytes and another seed other bytes; missing data
//! fails with exit code 2 and a sentence naming the folder or file, with nothing on stdout.
//! Tests that need the shared data print a visible `SKIP:` line when it is absent.

use std::process::{Output, Stdio};

use serde_json::Value;

use crate::support::{
    assert_success, command, entries, model_header, shared, usage_error, workdir,
};

/// Checks that a training run succeeded and returns its JSON report.
fn check_ok(args: &[&str], out: Output) -> Value {
    assert_success(args, &out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "mpcdiff {}  train  seed ",
            env!("CARGO_PKG_VERSION")
        )),
        "the header comes first on stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("replay: mpcdiff train --model "),
        "{stderr}"
    );
    serde_json::from_slice(&out.stdout).expect("stdout is one JSON object")
}

#[test]
fn credit_trains_writes_the_model_and_replays_byte_for_byte() {
    let Some(data) = shared("data") else {
        return;
    };
    let data = data.to_str().expect("a UTF-8 path");
    let dir = workdir("train-credit");
    let base = [
        "train",
        "--model",
        "credit-mlp",
        "--data",
        data,
        "--epochs",
        "1",
        "--json",
    ];

    // Three runs at once (they are independent; this halves the wall time on two cores):
    // seed 42 to the default output path, created on the fly; seed 42 again to an explicit
    // path; seed 43.
    let runs: Vec<Vec<&str>> = vec![
        vec!["--seed", "42"],
        vec!["--seed", "42", "--out", "again/credit.safetensors"],
        vec!["--seed", "43", "--out", "other.safetensors"],
    ];
    let children: Vec<_> = runs
        .iter()
        .map(|extra| {
            let mut args = base.to_vec();
            args.extend(extra);
            let child = command(&dir, &args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run the mpcdiff binary");
            (args, child)
        })
        .collect();
    let reports: Vec<Value> = children
        .into_iter()
        .map(|(args, child)| check_ok(&args, child.wait_with_output().expect("wait for mpcdiff")))
        .collect();

    let report = &reports[0];
    assert_eq!(report["schema"], "mpcdiff.train/1");
    assert_eq!(report["model"], "credit-mlp");
    assert_eq!(report["test_len"], 6000);
    let acc = report["test_accuracy"].as_f64().unwrap();
    assert!(acc > 0.78, "seed 42: test accuracy {acc} after one epoch");
    let a = std::fs::read(dir.join("models/credit-mlp.safetensors")).expect("the default output");
    assert_eq!(report["bytes"], a.len());

    let h = model_header(&a);
    let meta = &h["__metadata__"];
    assert_eq!(meta["format"], "mpcdiff-model/1");
    assert_eq!(meta["architecture"], "credit-mlp");
    assert_eq!(
        meta["layers"],
        "linear fc1 in=23 out=120;sigmoid act1;linear fc2 in=120 out=2"
    );
    assert_eq!(meta["input"], "23");
    assert_eq!(meta["classes"], "2");
    let pre: Value = serde_json::from_str(meta["preprocessing"].as_str().unwrap()).unwrap();
    assert_eq!(pre["kind"], "minmax");
    assert_eq!(pre["min"].as_array().unwrap().len(), 23);
    let training: Value = serde_json::from_str(meta["training"].as_str().unwrap()).unwrap();
    assert_eq!(training["seed"], 42);
    assert_eq!(training["test_accuracy"].as_f64().unwrap(), acc);
    assert_eq!(h["fc1.weight"]["shape"], serde_json::json!([120, 23]));

    let b = std::fs::read(dir.join("again/credit.safetensors")).unwrap();
    assert!(a == b, "seed 42 twice gave different files");
    let c = std::fs::read(dir.join("other.safetensors")).unwrap();
    assert!(a != c, "seeds 42 and 43 gave the same file");
    // No temporary file is left behind.
    let leftovers: Vec<_> = entries(&dir)
        .into_iter()
        .filter(|f| f.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn missing_data_is_a_usage_error_naming_the_file() {
    let dir = workdir("train-missing");
    let e = usage_error(
        &dir,
        &[
            "train",
            "--model",
            "credit-mlp",
            "--data",
            "nowhere",
            "--seed",
            "1",
        ],
    );
    assert!(
        e.contains("--data nowhere") && e.contains("does not exist"),
        "{e}"
    );

    std::fs::create_dir_all(dir.join("empty")).unwrap();
    for (model, file) in [
        ("credit-mlp", "credit/default_of_credit_card_clients.csv"),
        ("bank-mlp", "bank/bank-additional-full.csv"),
        ("lenet", "mnist/train-images-idx3-ubyte.gz"),
    ] {
        let e = usage_error(
            &dir,
            &["train", "--model", model, "--data", "empty", "--seed", "1"],
        );
        assert!(
            e.contains(file) && e.contains("does not exist"),
            "{model}: {e}"
        );
    }
    assert!(!dir.join("models").join("credit-mlp.safetensors").exists());
}

#[test]
fn bad_flags_are_usage_errors() {
    let dir = workdir("train-flags");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let e = usage_error(
        &dir,
        &["train", "--model", "vgg", "--data", "data", "--seed", "1"],
    );
    assert!(e.contains("vgg"), "{e}");
    let e = usage_error(
        &dir,
        &[
            "train", "--model", "lenet", "--data", "data", "--seed", "1", "--epochs", "0",
        ],
    );
    assert!(e.contains("--epochs"), "{e}");
    let e = usage_error(
        &dir,
        &[
            "train", "--model", "lenet", "--data", "data", "--seed", "1", "--out", "data",
        ],
    );
    assert!(e.contains("--out data"), "{e}");
    let e = usage_error(&dir, &["train", "--model", "lenet", "--data", "data"]);
    assert!(e.contains("--seed"), "{e}");
}
