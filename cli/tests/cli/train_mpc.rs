//! End-to-end tests of `mpcdiff train-mpc` with the real binary.
//!
//! Goal: pin the command's contract. A shared Credit-MLP run reports every epoch beside its
//! float twin and stays near it; it replays byte for byte from its seed; the model file it
//! writes is an `mpcdiff-model/1` Credit MLP that `mpcdiff eval` — an independent evaluator
//! reading the `f32` file — scores exactly as the run reported. Logistic regression in fixed
//! point learns a pair of MNIST digits, with no MPC cost. Bad flags fail with exit code 2 and a
//! sentence naming the flag, nothing on stdout. Tests that need the shared data print a
//! visible `SKIP:` line when it is absent.

use serde_json::Value;

use crate::support::{json_ok, model_header, shared, usage_error, workdir};

#[test]
fn shared_credit_mlp_follows_its_twin_replays_and_eval_agrees() {
    let Some(data) = shared("data") else {
        return;
    };
    let data = data.to_str().expect("a UTF-8 path");
    let dir = workdir("train-mpc-credit");
    let args = |out: &'static str| {
        vec![
            "train-mpc",
            "--model",
            "mlp",
            "--data",
            data,
            "--seed",
            "7",
            "--samples",
            "512",
            "--epochs",
            "2",
            "--trunc",
            "dealer",
            "--out",
            out,
            "--json",
        ]
    };
    let r = json_ok(&dir, &args("a.safetensors"));
    assert_eq!(r["schema"], "mpcdiff.train-mpc/1");
    assert_eq!(r["architecture"], "credit-mlp");
    assert_eq!(r["widths"], serde_json::json!([23, 120, 2]));
    assert_eq!(r["arith"], "shared");
    assert_eq!(r["engine"], "protocol");
    assert_eq!(r["trunc"], "dealer");
    assert_eq!(r["train_len"], 512);
    let epochs = r["per_epoch"].as_array().expect("per_epoch");
    assert_eq!(epochs.len(), 2);
    for e in epochs {
        let (run, twin) = (&e["run"], &e["twin"]);
        let dl = (run["loss"].as_f64().unwrap() - twin["loss"].as_f64().unwrap()).abs();
        let dw = e["max_param_diff"].as_f64().unwrap();
        assert!(
            dl < 0.05 && dw < 0.05,
            "epoch {}: loss gap {dl}, weights {dw}",
            e["epoch"]
        );
    }
    // 2 epochs of 16 steps, 5 matrix products each (3·2 − 1, training::backprop's # Cost).
    assert_eq!(r["cost"]["matrix_triples"], 2 * 16 * 5);
    assert!(r["cost"]["rounds"].as_u64().unwrap() > 0);

    // The same seed writes the same file.
    let again = json_ok(&dir, &args("b.safetensors"));
    assert_eq!(r["digest"], again["digest"]);
    let a = std::fs::read(dir.join("a.safetensors")).unwrap();
    assert_eq!(a, std::fs::read(dir.join("b.safetensors")).unwrap());
    let h = model_header(&a);
    let meta = &h["__metadata__"];
    assert_eq!(meta["format"], "mpcdiff-model/1");
    assert_eq!(
        meta["layers"],
        "linear fc1 in=23 out=120;sigmoid act1;linear fc2 in=120 out=2"
    );
    assert_eq!(h["fc1.weight"]["shape"], serde_json::json!([120, 23]));

    // `eval` reads the file and scores the test split in plaintext on its own.
    let last = &epochs[1]["run"];
    let ev: Value = json_ok(
        &dir,
        &["eval", "--model", "a.safetensors", "--data", data, "--json"],
    );
    assert_eq!(ev["examples"], r["test_len"]);
    let theirs = ev["plaintext_accuracy"].as_f64().unwrap();
    let ours = last["test_accuracy"].as_f64().unwrap();
    assert!(
        (theirs - ours).abs() <= 2.0 / 6000.0,
        "eval {theirs} vs train-mpc {ours} (f32 weights may move a tie or two)"
    );
}

#[test]
fn fixed_point_logistic_regression_learns_an_mnist_pair() {
    let Some(data) = shared("data") else {
        return;
    };
    let data = data.to_str().expect("a UTF-8 path");
    let dir = workdir("train-mpc-mnist");
    let r = json_ok(
        &dir,
        &[
            "train-mpc",
            "--model",
            "logistic",
            "--dataset",
            "mnist",
            "--digits",
            "0,1",
            "--data",
            data,
            "--seed",
            "3",
            "--samples",
            "512",
            "--epochs",
            "2",
            "--lr",
            "0.1",
            "--arith",
            "fixed",
            "--json",
        ],
    );
    assert_eq!(r["architecture"], "logistic");
    assert_eq!(r["digits"], serde_json::json!([0, 1]));
    assert_eq!(r["engine"], Value::Null);
    assert_eq!(r["cost"]["rounds"], 0);
    let e = &r["per_epoch"][1];
    let acc = e["run"]["test_accuracy"].as_f64().unwrap();
    assert!(acc > 0.98, "test accuracy {acc} on 0 vs 1");
    assert!(e["max_param_diff"].as_f64().unwrap() < 1e-2, "{e}");
    // The test split of digits 0 and 1: 980 + 1135 images.
    assert_eq!(r["test_len"], 2115);
    assert!(dir.join("models/logistic-mpc.safetensors").is_file());
}

#[test]
fn lenet_trains_on_an_mnist_pair_with_and_without_batch_norm_and_its_file_runs() {
    let Some(data) = shared("data") else {
        return;
    };
    let data = data.to_str().expect("a UTF-8 path");
    let dir = workdir("train-mpc-lenet");
    let r = json_ok(
        &dir,
        &[
            "train-mpc",
            "--model",
            "lenet",
            "--dataset",
            "mnist",
            "--digits",
            "3,8",
            "--data",
            data,
            "--seed",
            "1",
            "--samples",
            "64",
            "--batch",
            "16",
            "--epochs",
            "1",
            "--lr",
            "0.02",
            "--engine",
            "ideal",
            "--out",
            "lenet.safetensors",
            "--json",
        ],
    );
    // MPCDiff's lenet-relu, batch norms included, with a two-class last layer.
    assert_eq!(r["architecture"], "lenet-relu-pair");
    assert_eq!(r["activation"], "relu");
    assert_eq!(r["engine"], "ideal");
    // 4 steps of 5 convolution products (3·2 − 1) and 9 matrix products (3·3).
    assert_eq!(r["cost"]["matrix_triples"], 4 * (5 + 9));
    let e = &r["per_epoch"][0];
    assert!(e["max_param_diff"].as_f64().unwrap() < 1e-2, "{e}");
    let bytes = std::fs::read(dir.join("lenet.safetensors")).unwrap();
    let h = model_header(&bytes);
    assert_eq!(h["conv1.weight"]["shape"], serde_json::json!([6, 1, 5, 5]));
    assert_eq!(h["fc3.weight"]["shape"], serde_json::json!([2, 84]));
    assert_eq!(h["__metadata__"]["input"], "1x28x28");
    assert_eq!(
        h["__metadata__"]["layers"],
        "conv2d conv1 in=1 out=6 k=5 stride=1 pad=2;batchnorm bn1 c=6 eps=0.00001;relu act1;\
         maxpool pool1 k=2 stride=2;conv2d conv2 in=6 out=16 k=5 stride=1 pad=0;batchnorm bn2 \
         c=16 eps=0.00001;relu act2;maxpool pool2 k=2 stride=2;flatten flatten;linear fc1 \
         in=400 out=120;batchnorm bn3 c=120 eps=0.00001;relu act3;linear fc2 in=120 out=84;\
         batchnorm bn4 c=84 eps=0.00001;relu act4;linear fc3 in=84 out=2"
    );
    assert_eq!(h["bn3.running_var"]["shape"], serde_json::json!([120]));
    // The kernel's model reader runs the file (plaintext and MPC).
    std::fs::write(dir.join("digit.txt"), vec!["0.5"; 784].join(" ")).unwrap();
    let p = json_ok(
        &dir,
        &[
            "predict",
            "--model",
            "lenet.safetensors",
            "--input",
            "digit.txt",
            "--json",
        ],
    );
    assert_eq!(p["architecture"], "lenet-relu-pair");

    // Without the batch norms: another name, no bn tensors.
    let r = json_ok(
        &dir,
        &[
            "train-mpc",
            "--model",
            "lenet",
            "--dataset",
            "mnist",
            "--digits",
            "3,8",
            "--data",
            data,
            "--seed",
            "1",
            "--samples",
            "32",
            "--batch",
            "16",
            "--epochs",
            "1",
            "--lr",
            "0.02",
            "--engine",
            "ideal",
            "--no-batch-norm",
            "--out",
            "plain.safetensors",
            "--json",
        ],
    );
    assert_eq!(r["architecture"], "lenet-relu-no-batchnorm-pair");
    let h = model_header(&std::fs::read(dir.join("plain.safetensors")).unwrap());
    assert!(h.get("bn1.weight").is_none());
}

#[test]
fn bad_flags_are_usage_errors() {
    let dir = workdir("train-mpc-flags");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let base = ["train-mpc", "--data", "data", "--seed", "1", "--model"];
    for (extra, named) in [
        (&["mlp", "--digits", "0,1"][..], "--digits"),
        (
            &["mlp", "--dataset", "mnist", "--digits", "3,3"][..],
            "--digits",
        ),
        (&["logistic", "--hidden", "8"][..], "--hidden"),
        (&["mlp", "--hidden", "8,0"][..], "--hidden"),
        (&["mlp", "--lr", "0"][..], "--lr"),
        (&["mlp", "--lr", "inf"][..], "--lr"),
        (&["mlp", "--batch", "0"][..], "--batch"),
        (&["mlp", "--epochs", "0"][..], "--epochs"),
        (&["mlp", "--samples", "0"][..], "--samples"),
        (&["mlp", "--profile", "nope"][..], "--profile"),
        (&["lenet"][..], "--dataset mnist"),
        (
            &["lenet", "--dataset", "mnist", "--hidden", "8"][..],
            "--hidden",
        ),
        (&["mlp", "--no-batch-norm"][..], "--no-batch-norm"),
        (
            &["lenet", "--dataset", "mnist", "--digits", "all,1"][..],
            "--digits",
        ),
        (&["mlp", "--out", "data"][..], "--out data"),
    ] {
        let mut args = base.to_vec();
        args.extend(extra);
        let e = usage_error(&dir, &args);
        assert!(e.contains(named), "{extra:?}: {e}");
    }
    let e = usage_error(
        &dir,
        &[
            "train-mpc",
            "--data",
            "nowhere",
            "--seed",
            "1",
            "--model",
            "mlp",
        ],
    );
    assert!(e.contains("--data nowhere"), "{e}");
    let e = usage_error(
        &dir,
        &[
            "train-mpc",
            "--data",
            "data",
            "--seed",
            "1",
            "--model",
            "mlp",
        ],
    );
    assert!(
        e.contains("does not exist"),
        "a missing data file is named: {e}"
    );
    assert!(!dir.join("models").exists(), "nothing is written");
}
