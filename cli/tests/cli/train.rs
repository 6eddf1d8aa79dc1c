//! End-to-end tests of `mpcdiff train` with the real binary.
//!
//! Goal: pin the command's contract: a short Credit run learns (> 78 % test accuracy after
//! one epoch; the majority class is 77.9 %), writes an `mpcdiff-model/1` file at the default
//! path, the same seed writes the same bytes and another seed other bytes; missing data
//! fails with exit code 2 and a sentence naming the folder or file, with nothing on stdout.
//! Tests that need the shared data print a visible `SKIP:` line when it is absent.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// A fresh, empty working directory for test `name`.
fn workdir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("train-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create the test's working directory");
    dir
}

/// Runs `mpcdiff args…` in `dir`.
fn mpcdiff(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mpcdiff"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run the mpcdiff binary")
}

/// The shared data folder: `$MPCDIFF_SHARED/data`, else `../shared/data` next to the
/// repository. When absent, prints the visible `SKIP:` line and returns `None`.
fn shared_data(test: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MPCDIFF_SHARED") {
        let dir = PathBuf::from(dir).join("data");
        assert!(
            dir.is_dir(),
            "MPCDIFF_SHARED is set but {} is not a directory",
            dir.display()
        );
        return Some(dir);
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data");
    if dir.is_dir() {
        Some(dir.canonicalize().expect("canonical data path"))
    } else {
        eprintln!("SKIP: {test}: ../shared/data not found");
        None
    }
}

/// Checks that a training run succeeded and returns its JSON report.
fn check_ok(args: &[&str], out: Output) -> Value {
    assert!(
        out.status.success(),
        "mpcdiff {args:?} failed with {:?}; stderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
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

/// The header JSON of a model file.
fn header(bytes: &[u8]) -> Value {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    assert_eq!(n % 8, 0, "the header is padded to 8 bytes");
    serde_json::from_slice(&bytes[8..8 + n]).expect("the header is JSON")
}

#[test]
fn credit_trains_writes_the_model_and_replays_byte_for_byte() {
    let Some(data) = shared_data("credit_trains_writes_the_model_and_replays_byte_for_byte") else {
        return;
    };
    let data = data.to_str().expect("a UTF-8 path");
    let dir = workdir("credit");
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
            let child = Command::new(env!("CARGO_BIN_EXE_mpcdiff"))
                .current_dir(&dir)
                .args(&args)
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

    let h = header(&a);
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
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Runs a command that must fail with exit code 2, nothing on stdout and a one-line error;
/// returns stderr.
fn usage_error(dir: &Path, args: &[&str]) -> String {
    let out = mpcdiff(dir, args);
    assert_eq!(out.status.code(), Some(2), "mpcdiff {args:?}");
    assert!(out.stdout.is_empty(), "stdout must stay empty on errors");
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn missing_data_is_a_usage_error_naming_the_file() {
    let dir = workdir("missing");
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
    let dir = workdir("flags");
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
