//! End-to-end tests of `mpcdiff predict`.
//!
//! Goal: the command the browser tests compare the web demo against is itself right: it
//! classifies the kernel's synthetic digits as drawn, replays from its seed byte for byte,
//! lets the MPC seed and the level move only the MPC side, and refuses an input file of the
//! wrong length with a sentence naming `--input` (exit 2).

use std::path::PathBuf;
use std::process::{Command, Output};

use mpcdiff_kernel::digits::{synthetic, PIXELS};
use serde_json::Value;

/// Writes synthetic digit `index` of seed 7 (intensities in [0, 1]) for test `name`.
fn digit_file(name: &str, index: u64) -> (u8, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("predict-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut img = [0.0f32; PIXELS];
    let label = synthetic::sample(7, index, &mut img).unwrap();
    let text: Vec<String> = img.iter().map(|v| v.to_string()).collect();
    let path = dir.join(format!("digit{index}.txt"));
    std::fs::write(&path, text.join("\n")).unwrap();
    (label, path)
}

fn predict(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mpcdiff"))
        .arg("predict")
        .args(args)
        .output()
        .expect("run mpcdiff")
}

fn json(args: &[&str]) -> Value {
    let out = predict(args);
    assert!(
        out.status.success(),
        "mpcdiff predict {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn logits(v: &Value, side: &str) -> Vec<f64> {
    v[side]["logits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn synthetic_digits_are_classified_as_drawn() {
    let mut right = 0;
    for i in 0..6 {
        let (label, path) = digit_file("labels", i);
        let v = json(&[
            "--model",
            "lenet",
            "--input",
            path.to_str().unwrap(),
            "--json",
        ]);
        assert_eq!(v["schema"], "mpcdiff.predict/2");
        assert_eq!(v["features"], 784);
        right += usize::from(v["plaintext"]["label"] == u64::from(label));
        assert_eq!(v["agree"], v["plaintext"]["label"] == v["mpc"]["label"]);
        let p: f64 = v["mpc"]["probabilities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .sum();
        assert!((p - 1.0).abs() < 1e-12);
        assert!(
            v["cost"]["rounds"].as_u64().unwrap() > 100,
            "LeNet's MPC pass"
        );
    }
    assert!(right >= 5, "only {right}/6 synthetic digits right");
}

#[test]
fn the_seed_and_the_level_move_only_the_mpc_side() {
    let (_, path) = digit_file("seed", 3);
    let p = path.to_str().unwrap();
    let base = predict(&["--model", "lenet", "--input", p, "--json"]);
    let again = predict(&["--model", "lenet", "--input", p, "--json"]);
    assert_eq!(base.stdout, again.stdout, "same seed, same bytes");
    let base: Value = serde_json::from_slice(&base.stdout).unwrap();
    for other in [
        json(&[
            "--model",
            "lenet",
            "--input",
            p,
            "--mpc-seed",
            "43",
            "--json",
        ]),
        json(&["--model", "lenet", "--input", p, "--level", "low", "--json"]),
    ] {
        assert_eq!(logits(&other, "plaintext"), logits(&base, "plaintext"));
        assert_ne!(logits(&other, "mpc"), logits(&base, "mpc"));
    }
    let low = json(&["--model", "lenet", "--input", p, "--level", "3/3", "--json"]);
    assert_eq!(low["level"]["iters_exp"], 3);
    assert!(low["replay"].as_str().unwrap().contains("--level 3/3"));
}

#[test]
fn an_input_of_the_wrong_length_is_a_usage_error() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("predict-short");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("short.txt");
    std::fs::write(&path, "0.5, 0.25\n# a comment\n1\n").unwrap();
    let out = predict(&["--model", "lenet", "--input", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--input") && err.contains("784 values") && err.contains("holds 3"),
        "{err}"
    );
    std::fs::write(&path, "0.5 nan").unwrap();
    let out = predict(&["--model", "lenet", "--input", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a finite number"));
}
