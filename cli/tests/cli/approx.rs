//! End-to-end tests of `mpcdiff approx`.
//!
//! Goal: the attribution table and its JSON agree with each other and with the kernel's error
//! laws (ideal math has no encoding error, shares add at most a few ring units to sigmoid),
//! plots are written atomically as SVG, the same seed replays byte for byte, `--raw-in`
//! reproduces real CrypTen's one-party ring integers, and bad input exits 2 with a sentence
//! naming the flag (or the file and line).

use serde_json::Value;

use crate::support::{entries, json_ok, ok, read_text, shared, usage_error, workdir};

#[test]
fn json_report_has_the_stages_and_a_plot() {
    let dir = workdir("approx-json");
    let text = ok(
        &dir,
        &[
            "approx",
            "--fn",
            "sigmoid",
            "--profile",
            "mpcdiff",
            "--points",
            "201",
            "--json",
        ],
    );
    assert_eq!(text.lines().count(), 1, "one JSON object");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["schema"], 1);
    assert_eq!(v["function"], "sigmoid");
    assert_eq!(
        v["level"]["iters_exp"], 6,
        "mpcdiff profile's sigmoid level"
    );
    assert_eq!(v["level"]["iters_nr"], 6);
    let samples = v["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 201);
    // The summary is the samples' own: recompute the largest share error.
    let max_share = samples
        .iter()
        .map(|s| (s["shared"].as_f64().unwrap() - s["fixed"].as_f64().unwrap()).abs())
        .fold(0.0, f64::max);
    assert_eq!(
        v["stages"]["shares"]["max_abs"].as_f64().unwrap(),
        max_share
    );
    // Shares add stochastic rounding only: a few dozen ring units at most for sigmoid.
    assert!(max_share < 64.0 / 65536.0, "share error {max_share}");
    // The algorithm error of the 6/6 level (artifact notes: 3.5e−3).
    let approx = v["stages"]["approximation"]["max_abs"].as_f64().unwrap();
    assert!(
        (1e-3..5e-3).contains(&approx),
        "approximation error {approx}"
    );
    let plot = dir.join(v["plot"].as_str().unwrap());
    let svg = read_text(&plot);
    assert!(
        svg.starts_with("<svg")
            && svg.contains("shared − fixed")
            && svg.trim_end().ends_with("</svg>")
    );
    // No temporary file is left behind.
    let leftovers: Vec<_> = entries(&dir)
        .into_iter()
        .filter(|f| f.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn same_seed_same_bytes_other_seed_other_shares() {
    let dir = workdir("approx-seed");
    let args = |seed: &'static str| {
        [
            "approx",
            "--fn",
            "tanh",
            "--points",
            "51",
            "--no-plot",
            "--json",
            "--seed",
            seed,
        ]
    };
    let a = ok(&dir, &args("7"));
    let b = ok(&dir, &args("7"));
    let c = ok(&dir, &args("8"));
    assert_eq!(a, b);
    let (va, vc): (Value, Value) = (
        serde_json::from_str(&a).unwrap(),
        serde_json::from_str(&c).unwrap(),
    );
    assert_eq!(
        va["samples"][10]["fixed"], vc["samples"][10]["fixed"],
        "fixed point has no randomness"
    );
    assert_ne!(
        va["stages"]["shares"], vc["stages"]["shares"],
        "share randomness depends on the seed"
    );
}

#[test]
fn text_table_names_every_stage_and_the_cost() {
    let dir = workdir("approx-text");
    let text = ok(
        &dir,
        &["approx", "--fn", "exp", "--no-plot", "--points", "11"],
    );
    for needle in [
        "replay: mpcdiff approx --fn exp",
        "approximation (float − exact)",
        "encoding + rounding",
        "share randomness",
        "total (shared − exact)",
        "shared cost: 8 rounds",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn encoding_mode_reports_the_truncation_law() {
    let dir = workdir("approx-encoding");
    let v = json_ok(&dir, &["approx", "--encoding", "--json", "--no-plot"]);
    for s in v["series"].as_array().unwrap() {
        let f = s["frac_bits"].as_u64().unwrap() as i32;
        for p in s["samples"].as_array().unwrap() {
            let (x, r) = (p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
            // Truncation toward zero loses less than one LSB: relative error < 2^−f / x (and ≤ 1).
            assert!(
                r < libm::pow(2.0, f64::from(-f)) / x + 1e-15 && r <= 1.0,
                "f={f} x={x} r={r}"
            );
        }
    }
}

fn raw_column(case: &Value, path: &[&str]) -> Vec<String> {
    let mut v = case;
    for p in path {
        v = &v[*p];
    }
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn raw_mode_reproduces_crypten_one_party_integers() {
    let Some(refdir) = shared("reference/crypten") else {
        return;
    };
    let dir = workdir("approx-raw");
    for (case, func) in [
        ("sigmoid_p16", "sigmoid"),
        ("log_p16", "log"),
        ("erf_p16", "erf"),
    ] {
        let j: Value =
            serde_json::from_str(&read_text(refdir.join(format!("{case}.json")))).unwrap();
        std::fs::write(
            dir.join("in.txt"),
            raw_column(&j, &["inputs", "x", "raw"]).join("\n"),
        )
        .unwrap();
        let got = ok(
            &dir,
            &[
                "approx",
                "--fn",
                func,
                "--profile",
                "crypten",
                "--frac-bits",
                "16",
                "--arith",
                "fixed",
                "--raw-in",
                "in.txt",
            ],
        );
        let want = raw_column(&j, &["one_party", "raw"]).join("\n") + "\n";
        assert_eq!(got, want, "{case}");
    }
    // Binary: two columns.
    let j: Value = serde_json::from_str(&read_text(refdir.join("mul_p16.json"))).unwrap();
    let (x, y) = (
        raw_column(&j, &["inputs", "x", "raw"]),
        raw_column(&j, &["inputs", "y", "raw"]),
    );
    let lines: Vec<String> = x.iter().zip(&y).map(|(a, b)| format!("{a} {b}")).collect();
    std::fs::write(dir.join("mul.txt"), lines.join("\n")).unwrap();
    let got = ok(
        &dir,
        &[
            "approx", "--fn", "mul", "--arith", "fixed", "--raw-in", "mul.txt",
        ],
    );
    assert_eq!(got, raw_column(&j, &["one_party", "raw"]).join("\n") + "\n");
    // Shared: one integer per input, within a few ring units of fixed for in-range products.
    let shared_out = ok(
        &dir,
        &[
            "approx", "--fn", "mul", "--arith", "shared", "--seed", "3", "--raw-in", "mul.txt",
        ],
    );
    assert_eq!(shared_out.lines().count(), x.len());
}

#[test]
fn bad_input_exits_2_naming_the_problem() {
    let dir = workdir("approx-bad");
    let refused = |args: &[&str], needle: &str| {
        let err = usage_error(&dir, args);
        assert!(
            err.contains(needle),
            "stderr of {args:?} should mention {needle:?}: {err}"
        );
    };
    refused(
        &["approx", "--fn", "sigmod"],
        "--fn \"sigmod\" is not a known function",
    );
    refused(&["approx", "--fn", "exp", "--profile", "syft"], "--profile");
    refused(&["approx", "--fn", "exp", "--range", "5:1"], "--range");
    refused(
        &["approx", "--fn", "exp", "--frac-bits", "41"],
        "--frac-bits",
    );
    refused(&["approx", "--fn", "sigmoid", "--level", "9"], "--level");
    refused(&["approx", "--fn", "exp", "--points", "1"], "--points");
    refused(&["approx", "--fn", "mul"], "--raw-in");
    std::fs::write(dir.join("bad.txt"), "12\n# comment\n\n7x\n").unwrap();
    refused(
        &[
            "approx", "--fn", "exp", "--arith", "fixed", "--raw-in", "bad.txt",
        ],
        "bad.txt line 4",
    );
    refused(
        &[
            "approx",
            "--fn",
            "exp",
            "--arith",
            "fixed",
            "--raw-in",
            "missing.txt",
        ],
        "missing.txt",
    );
    assert!(
        !dir.join("approx-exp-crypten-f16.svg").exists(),
        "a failed run writes no plot"
    );
}
