//! End-to-end tests of the MPCDiff engine: `fuzz`, `localize`, `repair`, `report`, `demo`.
//!
//! Goals (issue 5): a planted fault (one layer forced to a very low approximation level) is
//! found by fuzzing, blamed by localization and removed by repair without accuracy loss;
//! results do not depend on the thread count; a resumed campaign ends identical to an
//! uninterrupted one; edited or malformed files are refused with a sentence and exit 2.

use serde_json::Value;

use crate::support::{campaign, json_ok, nudged, ok, read_text, usage_error, workdir, PLANTED};

#[test]
fn a_planted_fault_is_found_blamed_and_repaired() {
    let dir = workdir("engine-planted");
    std::fs::write(dir.join("planted.json"), PLANTED).unwrap();
    let c = json_ok(
        &dir,
        &[
            "fuzz",
            "--seeds",
            "40",
            "--mutations",
            "100",
            "--plan",
            "planted.json",
            "--out",
            "camp",
            "--json",
        ],
    );
    let found = c["summary"]["deviations"].as_u64().unwrap();
    assert!(found >= 3, "the planted fault gives deviations: {found}");

    // Localization blames the faulty layer: making it exact removes the most deviations.
    let loc = json_ok(&dir, &["localize", "--campaign", "camp", "--json"]);
    let layers = loc["layers"].as_array().unwrap();
    let best = layers
        .iter()
        .max_by_key(|l| l["fixed_when_exact"].as_u64().unwrap())
        .unwrap();
    assert_eq!(best["name"], "act1", "{loc}");
    assert_eq!(best["fixed_when_exact"].as_u64(), Some(found));
    assert!(dir.join("camp/heatmap-act1.svg").exists());

    // Repair removes every known deviation without accuracy loss on the check inputs.
    let r = json_ok(
        &dir,
        &[
            "repair",
            "--campaign",
            "camp",
            "--check",
            "40",
            "--quick",
            "--json",
        ],
    );
    let chosen = &r["tried"][r["chosen"].as_u64().unwrap() as usize];
    assert_eq!(chosen["meets_target"], true, "{chosen}");
    let a = &chosen["assessment"];
    assert_eq!(a["known_fixed"], a["known"]);
    assert!(a["mpc_correct"].as_u64() >= r["baseline"]["mpc_correct"].as_u64());

    // The report agrees, and the plan file is usable by fuzz.
    let rep = json_ok(
        &dir,
        &[
            "report",
            "--campaign",
            "camp",
            "--limit",
            "40",
            "--no-campaign",
            "--json",
        ],
    );
    assert_eq!(
        rep["after"]["assessment"]["known_fixed"].as_u64(),
        Some(found)
    );
    assert_eq!(rep["before"]["assessment"]["known_fixed"].as_u64(), Some(0));
    ok(
        &dir,
        &[
            "fuzz",
            "--seeds",
            "5",
            "--mutations",
            "20",
            "--plan",
            "camp/plan.json",
        ],
    );
}

#[test]
fn results_do_not_depend_on_threads() {
    let dir = workdir("engine-threads");
    let run = |t: &str| {
        let out = format!("t{t}");
        let json = campaign(&dir, &out, &["--threads", t], "30", "120");
        (json, read_text(dir.join(out).join("deviations.jsonl")))
    };
    let (j1, d1) = run("1");
    let (j3, d3) = run("3");
    assert_eq!(j1, j3);
    assert_eq!(d1, d3);
    let c: Value = serde_json::from_str(&j1).unwrap();
    assert_eq!(c["summary"]["mutants"].as_u64(), Some(120));
}

#[test]
fn a_resumed_campaign_ends_as_an_uninterrupted_one() {
    let dir = workdir("engine-resume");
    let full = campaign(&dir, "whole", &[], "30", "200");
    campaign(&dir, "part", &[], "30", "100");
    let resumed = ok(
        &dir,
        &[
            "fuzz",
            "--out",
            "part",
            "--resume",
            "--mutations",
            "200",
            "--json",
        ],
    );
    assert_eq!(full, resumed);
    assert_eq!(
        read_text(dir.join("whole/deviations.jsonl")),
        read_text(dir.join("part/deviations.jsonl"))
    );
    assert_eq!(
        read_text(dir.join("whole/campaign.json")),
        read_text(dir.join("part/campaign.json"))
    );
}

#[test]
fn deviations_are_lossless_and_reverified_on_reload() {
    let dir = workdir("engine-verify");
    std::fs::write(dir.join("planted.json"), PLANTED).unwrap();
    ok(
        &dir,
        &[
            "fuzz",
            "--seeds",
            "20",
            "--mutations",
            "20",
            "--plan",
            "planted.json",
            "--out",
            "camp",
        ],
    );
    let lines = read_text(dir.join("camp/deviations.jsonl"));
    let first: Value = serde_json::from_str(lines.lines().next().expect("a deviation")).unwrap();
    assert_ne!(first["plaintext_label"], first["mpc_label"]);
    assert_eq!(first["plaintext_label"], first["label"]);
    assert_eq!(first["input"].as_array().unwrap().len(), 784);
    // Change one input value in its last digit: the record no longer replays.
    let mut text = serde_json::to_string(&nudged(&first)).unwrap();
    text.push('\n');
    for l in lines.lines().skip(1) {
        text += l;
        text.push('\n');
    }
    std::fs::write(dir.join("camp/deviations.jsonl"), text).unwrap();
    let err = usage_error(&dir, &["localize", "--campaign", "camp"]);
    assert!(
        err.contains("line 1") && err.contains("does not replay"),
        "{err}"
    );
}

#[test]
fn malformed_corpus_and_plan_files_are_refused_with_a_sentence() {
    let dir = workdir("engine-malformed");
    let cases: [(&str, &str, &str, &str); 6] = [
        ("corpus", "c1.jsonl", "{\"input\": [1, 2], \"label\": 3}\n", "has 2 values"),
        ("corpus", "c2.jsonl", "not json\n", "line 1"),
        ("corpus", "c3.jsonl", "", "no inputs"),
        ("plan", "p1.json", "{\"schema\":\"mpcdiff.plan/1\",\"architecture\":\"lenet\",\"profile\":\"crypten\",\"layers\":[{\"name\":\"fc9\",\"neurons\":1}]}", "not a nonlinear layer"),
        ("plan", "p2.json", "{\"schema\":\"mpcdiff.plan/1\",\"architecture\":\"lenet\",\"profile\":\"crypten\",\"layers\":[{\"name\":\"act3\",\"neurons\":121}]}", "has 120 neurons"),
        ("plan", "p3.json", "{\"schema\":\"other\"}", "--plan"),
    ];
    for (flag, name, text, want) in cases {
        std::fs::write(dir.join(name), text).unwrap();
        let err = usage_error(
            &dir,
            &[
                "fuzz",
                &format!("--{flag}"),
                name,
                "--mutations",
                "1",
                "--out",
                "o",
            ],
        );
        assert!(err.contains(want), "{name}: {err}");
    }
    let err = usage_error(&dir, &["localize", "--campaign", "nothing"]);
    assert!(err.contains("campaign.json"), "{err}");
    // A campaign from before deployments (`--bn`) is refused with the reason, not replayed.
    std::fs::create_dir_all(dir.join("old")).unwrap();
    std::fs::write(
        dir.join("old/campaign.json"),
        r#"{"schema":"mpcdiff.campaign/1","spec":{"target":{"model":"lenet","profile":"crypten","frac_bits":16,"trunc":"local","bn":"crypten"}}}"#,
    )
    .unwrap();
    let err = usage_error(&dir, &["localize", "--campaign", "old"]);
    assert!(err.contains("before deployments"), "{err}");
}

/// `--engine ideal` end to end: the planted fault is found, blamed and its deviations replay
/// under the recorded engine; the replay line and campaign.json carry the engine; results do
/// not depend on the thread count; `--resume` accepts the recorded engine and refuses the
/// other one; and the ideal engine's campaign differs from the protocol one's (other draws).
#[test]
fn the_ideal_engine_runs_the_whole_pipeline() {
    let dir = workdir("engine-ideal");
    std::fs::write(dir.join("planted.json"), PLANTED).unwrap();
    let args = |out: &'static str, threads: &'static str, engine: &'static str| {
        vec![
            "fuzz",
            "--seeds",
            "40",
            "--mutations",
            "100",
            "--plan",
            "planted.json",
            "--engine",
            engine,
            "--threads",
            threads,
            "--out",
            out,
            "--json",
        ]
    };
    let a = json_ok(&dir, &args("a", "1", "ideal"));
    let b = json_ok(&dir, &args("b", "2", "ideal"));
    let p = json_ok(&dir, &args("p", "2", "protocol"));
    let digest = |v: &Value| v["summary"]["digest"].as_str().unwrap().to_string();
    assert_eq!(
        digest(&a),
        digest(&b),
        "thread count changed the ideal campaign"
    );
    assert_ne!(digest(&a), digest(&p), "the engines drew the same");
    assert!(a["summary"]["deviations"].as_u64().unwrap() >= 3, "{a}");
    assert_eq!(a["spec"]["target"]["engine"], "ideal");
    assert!(p["spec"]["target"].get("engine").is_none(), "{p}");
    let text = crate::support::mpcdiff(&dir, &args("t", "1", "ideal")[..13]);
    let replay = String::from_utf8_lossy(&text.stderr);
    assert!(
        replay.contains("--deploy crypten --engine ideal --seeds 40"),
        "{replay}"
    );
    let recorded = |c: &str| -> Value {
        serde_json::from_str(&read_text(dir.join(c).join("campaign.json"))).unwrap()
    };
    assert_eq!(recorded("a")["spec"]["target"]["engine"], "ideal");
    assert!(recorded("p")["spec"]["target"].get("engine").is_none());
    // The deviations replay under the recorded engine (localize refuses any that do not).
    let loc = json_ok(&dir, &["localize", "--campaign", "a", "--json"]);
    assert_eq!(loc["deviations"], a["summary"]["deviations"]);
    let resume = |engine: &'static str| {
        vec![
            "fuzz",
            "--out",
            "a",
            "--resume",
            "--mutations",
            "120",
            "--engine",
            engine,
        ]
    };
    ok(&dir, &resume("ideal"));
    let err = usage_error(&dir, &resume("protocol"));
    assert!(
        err.contains("--engine ideal") && err.contains("--engine protocol"),
        "{err}"
    );
}

/// `fuzz --mutator gradient` (steps along the plaintext margin's gradient, computed on the
/// calling thread) is still a pure function of its flags, whatever `--threads`; on synthetic
/// digits it finds deviations where the artifact's and today's default mutators find none in
/// the same budget, close to their seeds.
#[test]
fn fuzz_with_the_gradient_mutator_finds_more_and_ignores_threads() {
    let dir = workdir("engine-gradient");
    let run = |name: &str, mutator: &str, threads: &str| {
        let c = json_ok(
            &dir,
            &[
                "fuzz",
                "--seeds",
                "20",
                "--mutations",
                "200",
                "--engine",
                "ideal",
                "--mutator",
                mutator,
                "--threads",
                threads,
                "--out",
                name,
                "--json",
            ],
        );
        (c, read_text(dir.join(name).join("deviations.jsonl")))
    };
    let (g1, d1) = run("g1", "gradient", "1");
    let (g2, d2) = run("g2", "gradient", "2");
    assert_eq!(g1, g2);
    assert_eq!(d1, d2);
    let found = g1["summary"]["deviations"].as_u64().unwrap();
    assert!(found >= 4, "the gradient mutator finds deviations: {found}");
    assert_eq!(
        g1["summary"]["by_operator"]["gradient"].as_u64(),
        Some(found)
    );
    assert!(g1["summary"]["mean_l2"].as_f64().unwrap() < 6.0);
    assert_eq!(
        g1["spec"]["settings"]["mutator"]["weights"]["gradient"].as_u64(),
        Some(1)
    );
    for other in ["artifact", "mpcdiff"] {
        let (c, _) = run(other, other, "2");
        let theirs = c["summary"]["deviations"].as_u64().unwrap();
        assert!(theirs < found, "{other} finds {theirs}, gradient {found}");
        // The gradient operator is listed only where it is used.
        assert!(c["spec"]["settings"]["mutator"]["weights"]
            .get("gradient")
            .is_none());
    }
    // A campaign stopped half-way resumes to the same end (the recorded mutator is found
    // again from campaign.json).
    let part = |mutations: &str, resume: bool| {
        let mut args = vec!["fuzz", "--out", "part", "--mutations", mutations, "--json"];
        if resume {
            args.push("--resume");
        } else {
            args.extend([
                "--seeds",
                "20",
                "--engine",
                "ideal",
                "--mutator",
                "gradient",
            ]);
        }
        json_ok(&dir, &args)
    };
    part("100", false);
    assert_eq!(part("200", true), g1);
    assert_eq!(read_text(dir.join("part/deviations.jsonl")), d1);
}
