//! End-to-end tests of `mpcdiff predict`.
//!
//! Goal: the command the browser tests compare the web demo against is itself right: it
//! classifies the kernel's synthetic digits as drawn, replays from its seed byte for byte,
//! lets the MPC seed and the level move only the MPC side, and refuses an input file of the
//! wrong length with a sentence naming `--input` (exit 2).

use std::path::{Path, PathBuf};

use mpcdiff_kernel::digits::{synthetic, PIXELS};
use serde_json::Value;

use crate::support::{json_ok, mpcdiff, usage_error, workdir};

/// Writes synthetic digit `index` of seed 7 (intensities in [0, 1]) into `dir`.
fn digit_file(dir: &Path, index: u64) -> (u8, PathBuf) {
    let mut img = [0.0f32; PIXELS];
    let label = synthetic::sample(7, index, &mut img).unwrap();
    let text: Vec<String> = img.iter().map(|v| v.to_string()).collect();
    let path = dir.join(format!("digit{index}.txt"));
    std::fs::write(&path, text.join("\n")).unwrap();
    (label, path)
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
    let dir = workdir("predict-labels");
    let mut right = 0;
    for i in 0..6 {
        let (label, path) = digit_file(&dir, i);
        let v = json_ok(
            &dir,
            &[
                "predict",
                "--model",
                "lenet",
                "--input",
                path.to_str().unwrap(),
                "--json",
            ],
        );
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
    let dir = workdir("predict-seed");
    let (_, path) = digit_file(&dir, 3);
    let p = path.to_str().unwrap();
    let base = mpcdiff(
        &dir,
        &["predict", "--model", "lenet", "--input", p, "--json"],
    );
    let again = mpcdiff(
        &dir,
        &["predict", "--model", "lenet", "--input", p, "--json"],
    );
    assert_eq!(base.stdout, again.stdout, "same seed, same bytes");
    let base: Value = serde_json::from_slice(&base.stdout).unwrap();
    for other in [
        json_ok(
            &dir,
            &[
                "predict",
                "--model",
                "lenet",
                "--input",
                p,
                "--mpc-seed",
                "43",
                "--json",
            ],
        ),
        json_ok(
            &dir,
            &[
                "predict", "--model", "lenet", "--input", p, "--level", "low", "--json",
            ],
        ),
    ] {
        assert_eq!(logits(&other, "plaintext"), logits(&base, "plaintext"));
        assert_ne!(logits(&other, "mpc"), logits(&base, "mpc"));
    }
    let low = json_ok(
        &dir,
        &[
            "predict", "--model", "lenet", "--input", p, "--level", "3/3", "--json",
        ],
    );
    assert_eq!(low["level"]["iters_exp"], 3);
    assert!(low["replay"].as_str().unwrap().contains("--level 3/3"));
}

#[test]
fn an_input_of_the_wrong_length_is_a_usage_error() {
    let dir = workdir("predict-short");
    std::fs::write(dir.join("short.txt"), "0.5, 0.25\n# a comment\n1\n").unwrap();
    let args = ["predict", "--model", "lenet", "--input", "short.txt"];
    let err = usage_error(&dir, &args);
    assert!(
        err.contains("--input") && err.contains("784 values") && err.contains("holds 3"),
        "{err}"
    );
    std::fs::write(dir.join("short.txt"), "0.5 nan").unwrap();
    assert!(usage_error(&dir, &args).contains("not a finite number"));
}
