//! End-to-end tests of the real `mpcdiff` binary.
//!
//! Goal: pin the command line's contract as a user sees it: the JSON report parses and has
//! its documented fields, a seed replays byte for byte, the shared product stays within one
//! ring unit of the plaintext fixed-point one, bad flags fail with exit code 2, one sentence
//! on stderr naming the flag and nothing on stdout, and `--help` lists the subcommands.
//! Each test runs the binary in its own temporary directory, so nothing depends on (or
//! writes to) the caller's working directory.

use crate::support::{json_ok, mpcdiff, ok, usage_error, workdir};

#[test]
fn mul_json_parses_and_has_the_documented_fields() {
    let v = json_ok(&workdir("cli-json-fields"), &["mul", "--json"]);
    assert_eq!(v["schema"], "mpcdiff.mul/1");
    assert_eq!(v["command"], "mul");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["seed"], 42);
    assert_eq!(v["frac_bits"], 16);
    assert_eq!(v["trunc"], "local");
    assert_eq!(v["count"], 1000);
    assert!(v["replay"]
        .as_str()
        .unwrap()
        .starts_with("mpcdiff mul --seed 42 "));
    for stage in [
        "encoding",
        "truncation",
        "fixed_vs_float",
        "shares",
        "shared_vs_float",
    ] {
        for stat in ["pair0", "mean", "rms", "max_abs"] {
            assert!(
                v["errors"][stage][stat].is_number(),
                "errors.{stage}.{stat} is a number"
            );
        }
    }
    let bins = v["histogram"].as_array().expect("histogram is an array");
    let total: u64 = bins.iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 1000, "the histogram counts every pair once");
    for phase in ["input", "mul", "reveal", "total"] {
        for field in [
            "rounds",
            "crypten_bytes",
            "mul_triples",
            "trunc_tuples",
            "truncations",
            "wrap_events",
        ] {
            assert!(v["cost"][phase][field].is_u64(), "cost.{phase}.{field}");
        }
        assert_eq!(v["cost"][phase]["bytes_sent"].as_array().unwrap().len(), 2);
    }
    // One Beaver opening and one reveal; CrypTen's 32 bytes per multiplied element.
    assert_eq!(v["cost"]["total"]["rounds"], 2);
    assert_eq!(v["cost"]["mul"]["mul_triples"], 1000);
    assert_eq!(v["cost"]["mul"]["crypten_bytes"], 32 * 1000);
}

#[test]
fn json_stdout_is_nothing_but_the_object() {
    let text = ok(
        &workdir("cli-json-only"),
        &["mul", "--json", "--count", "10"],
    );
    assert!(text.starts_with('{') && text.ends_with("}\n"));
}

#[test]
fn same_seed_gives_identical_bytes() {
    for format in [&[][..], &["--json"][..]] {
        let mut args = vec!["mul", "--seed", "7"];
        args.extend_from_slice(format);
        let first = mpcdiff(&workdir("cli-same-seed-1"), &args);
        let second = mpcdiff(&workdir("cli-same-seed-2"), &args);
        assert!(first.status.success());
        assert_eq!(first.stdout, second.stdout, "mpcdiff {args:?} twice");
    }
}

#[test]
fn different_seeds_give_different_share_randomness() {
    let a = json_ok(&workdir("cli-seed-a"), &["mul", "--json", "--seed", "1"]);
    let b = json_ok(&workdir("cli-seed-b"), &["mul", "--json", "--seed", "2"]);
    assert_ne!(a["errors"]["shares"], b["errors"]["shares"]);
    assert_ne!(a["histogram"], b["histogram"]);
}

#[test]
fn shared_product_is_within_one_ring_unit_of_fixed() {
    for seed in ["0", "1", "42", "18446744073709551615"] {
        for trunc in ["local", "dealer"] {
            let v = json_ok(
                &workdir("cli-pair0"),
                &[
                    "mul", "--json", "--seed", seed, "--trunc", trunc, "--a", "1.5", "--b", "-2.25",
                ],
            );
            let p = &v["pair0"];
            assert_eq!(p["float"], -3.375);
            assert_eq!(p["fixed_ring"], -221_184, "−3.375 · 2^16");
            let diff = p["shared_ring"].as_i64().unwrap() - p["fixed_ring"].as_i64().unwrap();
            assert!(
                diff.abs() <= 1,
                "seed {seed}, {trunc}: shared − fixed = {diff}"
            );
        }
    }
}

#[test]
fn text_starts_with_the_header_and_its_replay_reproduces_the_output() {
    let text = ok(
        &workdir("cli-header"),
        &["mul", "--seed", "9", "--count", "50"],
    );
    let header = text.lines().next().unwrap();
    assert!(header.starts_with(&format!(
        "mpcdiff {}  mul  seed 9  ",
        env!("CARGO_PKG_VERSION")
    )));
    let replay = header
        .split("replay: ")
        .nth(1)
        .expect("the header has a replay command");
    let args: Vec<&str> = replay.split(' ').skip(1).collect(); // skip "mpcdiff"
    assert_eq!(ok(&workdir("cli-header-replay"), &args), text);
}

#[test]
fn bad_flags_exit_2_with_one_message_and_no_stdout() {
    let cases: [(&[&str], &str); 7] = [
        (&["mul", "--frac-bits", "41"], "--frac-bits"),
        (&["mul", "--a", "nan"], "--a"),
        (&["mul", "--a=inf"], "--a"),
        (&["mul", "--b=-inf"], "--b"),
        (&["mul", "--trunc", "nearest"], "--trunc"),
        (&["mul", "--count", "0"], "--count"),
        (&["mul", "--a", "1e17"], "--a"),
    ];
    for (args, flag) in cases {
        let stderr = usage_error(&workdir("cli-bad-flags"), args);
        let first = stderr.lines().next().unwrap_or("");
        assert!(
            first.starts_with("error: ") && first.contains(flag),
            "mpcdiff {args:?}: the first stderr line names {flag}: {first:?}"
        );
    }
}

#[test]
fn help_lists_the_subcommands() {
    let help = ok(&workdir("cli-help"), &["--help"]);
    for sub in ["mul", "mul"] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(sub)),
            "--help lists {sub}:\n{help}"
        );
    }
    assert!(help.contains("Exit codes"));
}

#[test]
fn demo_json_is_one_object_with_the_deviations_found() {
    // The README's main job: the whole pipeline, one JSON object on stdout and nothing else.
    let a = ok(
        &workdir("cli-demo-json"),
        &["demo", "--seed", "1", "--json", "--threads", "1"],
    );
    assert_eq!(a.lines().count(), 1, "{a}");
    let v: serde_json::Value = serde_json::from_str(&a).expect("one JSON object");
    assert_eq!(v["schema"], "mpcdiff.demo/1");
    let found = v["deviations_found"].as_u64().expect("deviations_found");
    assert!(found > 0, "the demo finds deviations");
    let after = &v["report"]["after"]["assessment"];
    assert!(
        after["known_fixed"].as_u64().unwrap() > 0,
        "the repair fixes some: {after}"
    );
    let b = ok(
        &workdir("cli-demo-json-2"),
        &["demo", "--seed", "1", "--json", "--threads", "2"],
    );
    assert_eq!(a, b, "same seed, same bytes, whatever the thread count");
}
