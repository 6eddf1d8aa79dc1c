//! End-to-end tests of the MPCDiff engine: `fuzz`, `localize`, `repair`, `report`, `demo`.
//!
//! Goals (issue 5): a planted fault (one layer forced to a very low approximation level) is
//! found by fuzzing, blamed by localization and removed by repair without accuracy loss;
//! results do not depend on the thread count; a resumed campaign ends identical to an
//! uninterrupted one; edited or malformed files are refused with a sentence and exit 2.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn mpcdiff(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mpcdiff"))
        .args(args)
        .output()
        .expect("run mpcdiff");
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn ok(args: &[&str]) -> String {
    let (code, out, err) = mpcdiff(args);
    assert_eq!(code, Some(0), "mpcdiff {args:?} failed: {err}");
    out
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("mpcdiff-engine-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
    fn path(&self, rel: &str) -> String {
        self.0.join(rel).display().to_string()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read(p: &str) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p}: {e}"))
}

/// A plan that forces `act1` of LeNet to exp 1 / NR 1: a planted fault.
const PLANTED: &str = r#"{"schema":"mpcdiff.plan/1","architecture":"lenet","profile":"crypten","layers":[{"name":"act1","neurons":4704,"default":{"exp":1,"nr":1}}]}"#;

#[test]
fn a_planted_fault_is_found_blamed_and_repaired() {
    let d = Dir::new("planted");
    std::fs::write(d.path("planted.json"), PLANTED).unwrap();
    let camp = d.path("camp");
    let out = ok(&[
        "fuzz",
        "--seeds",
        "40",
        "--mutations",
        "100",
        "--plan",
        &d.path("planted.json"),
        "--out",
        &camp,
        "--json",
    ]);
    let c: Value = serde_json::from_str(&out).unwrap();
    let found = c["summary"]["deviations"].as_u64().unwrap();
    assert!(found >= 3, "the planted fault gives deviations: {found}");

    // Localization blames the faulty layer: making it exact removes the most deviations.
    let loc: Value =
        serde_json::from_str(&ok(&["localize", "--campaign", &camp, "--json"])).unwrap();
    let layers = loc["layers"].as_array().unwrap();
    let best = layers
        .iter()
        .max_by_key(|l| l["fixed_when_exact"].as_u64().unwrap())
        .unwrap();
    assert_eq!(best["name"], "act1", "{loc}");
    assert_eq!(best["fixed_when_exact"].as_u64(), Some(found));
    assert!(Path::new(&format!("{camp}/heatmap-act1.svg")).exists());

    // Repair removes every known deviation without accuracy loss on the check inputs.
    let r: Value = serde_json::from_str(&ok(&[
        "repair",
        "--campaign",
        &camp,
        "--check",
        "40",
        "--quick",
        "--json",
    ]))
    .unwrap();
    let chosen = &r["tried"][r["chosen"].as_u64().unwrap() as usize];
    assert_eq!(chosen["meets_target"], true, "{chosen}");
    let a = &chosen["assessment"];
    assert_eq!(a["known_fixed"], a["known"]);
    assert!(a["mpc_correct"].as_u64() >= r["baseline"]["mpc_correct"].as_u64());

    // The report agrees, and the plan file is usable by fuzz.
    let rep: Value = serde_json::from_str(&ok(&[
        "report",
        "--campaign",
        &camp,
        "--limit",
        "40",
        "--no-campaign",
        "--json",
    ]))
    .unwrap();
    assert_eq!(
        rep["after"]["assessment"]["known_fixed"].as_u64(),
        Some(found)
    );
    assert_eq!(rep["before"]["assessment"]["known_fixed"].as_u64(), Some(0));
    ok(&[
        "fuzz",
        "--seeds",
        "5",
        "--mutations",
        "20",
        "--plan",
        &format!("{camp}/plan.json"),
    ]);
}

#[test]
fn results_do_not_depend_on_threads() {
    let d = Dir::new("threads");
    let run = |t: &str| {
        let dir = d.path(&format!("t{t}"));
        let json = ok(&[
            "fuzz",
            "--seeds",
            "30",
            "--mutations",
            "120",
            "--fitness",
            "margin",
            "--mutator",
            "artifact",
            "--threads",
            t,
            "--out",
            &dir,
            "--json",
        ]);
        (json, read(&format!("{dir}/deviations.jsonl")))
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
    let d = Dir::new("resume");
    let args = |dir: &str, m: &str| {
        vec![
            "fuzz".to_string(),
            "--seeds".into(),
            "30".into(),
            "--mutations".into(),
            m.into(),
            "--fitness".into(),
            "margin".into(),
            "--mutator".into(),
            "artifact".into(),
            "--out".into(),
            dir.into(),
            "--json".into(),
        ]
    };
    let whole = d.path("whole");
    let a: Vec<String> = args(&whole, "200");
    let full = ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let part = d.path("part");
    let a = args(&part, "100");
    ok(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let resumed = ok(&[
        "fuzz",
        "--out",
        &part,
        "--resume",
        "--mutations",
        "200",
        "--json",
    ]);
    assert_eq!(full, resumed);
    assert_eq!(
        read(&format!("{whole}/deviations.jsonl")),
        read(&format!("{part}/deviations.jsonl"))
    );
    assert_eq!(
        read(&format!("{whole}/campaign.json")),
        read(&format!("{part}/campaign.json"))
    );
}

#[test]
fn deviations_are_lossless_and_reverified_on_reload() {
    let d = Dir::new("verify");
    std::fs::write(d.path("planted.json"), PLANTED).unwrap();
    let camp = d.path("camp");
    ok(&[
        "fuzz",
        "--seeds",
        "20",
        "--mutations",
        "20",
        "--plan",
        &d.path("planted.json"),
        "--out",
        &camp,
    ]);
    let lines = read(&format!("{camp}/deviations.jsonl"));
    let first: Value = serde_json::from_str(lines.lines().next().expect("a deviation")).unwrap();
    assert_ne!(first["plaintext_label"], first["mpc_label"]);
    assert_eq!(first["plaintext_label"], first["label"]);
    assert_eq!(first["input"].as_array().unwrap().len(), 784);
    // Change one input value in its last digit: the record no longer replays.
    let x = first["input"][300].as_f64().unwrap();
    let mut edited: Value = first.clone();
    edited["input"][300] = serde_json::json!(x + x.abs() * 1e-15 + 1e-300);
    let mut text = serde_json::to_string(&edited).unwrap();
    text.push('\n');
    for l in lines.lines().skip(1) {
        text += l;
        text.push('\n');
    }
    std::fs::write(format!("{camp}/deviations.jsonl"), text).unwrap();
    let (code, _, err) = mpcdiff(&["localize", "--campaign", &camp]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("line 1") && err.contains("does not replay"),
        "{err}"
    );
}

#[test]
fn malformed_corpus_and_plan_files_are_refused_with_a_sentence() {
    let d = Dir::new("malformed");
    let cases: [(&str, &str, &str, &str); 6] = [
        ("corpus", "c1.jsonl", "{\"input\": [1, 2], \"label\": 3}\n", "has 2 values"),
        ("corpus", "c2.jsonl", "not json\n", "line 1"),
        ("corpus", "c3.jsonl", "", "no inputs"),
        ("plan", "p1.json", "{\"schema\":\"mpcdiff.plan/1\",\"architecture\":\"lenet\",\"profile\":\"crypten\",\"layers\":[{\"name\":\"fc9\",\"neurons\":1}]}", "not a nonlinear layer"),
        ("plan", "p2.json", "{\"schema\":\"mpcdiff.plan/1\",\"architecture\":\"lenet\",\"profile\":\"crypten\",\"layers\":[{\"name\":\"act3\",\"neurons\":121}]}", "has 120 neurons"),
        ("plan", "p3.json", "{\"schema\":\"other\"}", "--plan"),
    ];
    for (flag, name, text, want) in cases {
        std::fs::write(d.path(name), text).unwrap();
        let (code, out, err) = mpcdiff(&[
            "fuzz",
            &format!("--{flag}"),
            &d.path(name),
            "--mutations",
            "1",
            "--out",
            &d.path("o"),
        ]);
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains(want), "{name}: {err}");
        assert!(out.is_empty());
    }
    let (code, _, err) = mpcdiff(&["localize", "--campaign", &d.path("nothing")]);
    assert_eq!(code, Some(2));
    assert!(err.contains("campaign.json"), "{err}");
    // A campaign from before deployments (`--bn`) is refused with the reason, not replayed.
    std::fs::create_dir_all(d.path("old")).unwrap();
    std::fs::write(
        d.path("old/campaign.json"),
        r#"{"schema":"mpcdiff.campaign/1","spec":{"target":{"model":"lenet","profile":"crypten","frac_bits":16,"trunc":"local","bn":"crypten"}}}"#,
    )
    .unwrap();
    let (code, out, err) = mpcdiff(&["localize", "--campaign", &d.path("old")]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("before deployments"), "{err}");
    assert!(out.is_empty());
}
