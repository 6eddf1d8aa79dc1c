//! Nothing lost, no panic, honest exit codes: one regression test for each defect of the
//! reliability probe (`../shared/research/reliability-probe.md`, D1–D8), named after what it
//! guards.

use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use crate::support::{
    campaign, command, json_ok, ok, read_text, usage_error, usage_sentence, workdir, PLANTED,
};

/// A finished LeNet campaign with deviations (the planted fault on `act1` makes them certain).
fn finished(dir: &Path, name: &str) -> Value {
    std::fs::write(dir.join("planted.json"), PLANTED).unwrap();
    let json = campaign(dir, name, &["--plan", "planted.json"], "12", "60");
    let v: Value = serde_json::from_str(&json).unwrap();
    assert!(v["summary"]["deviations"].as_u64().unwrap() >= 1, "{json}");
    v
}

// D1: a resume cuts off only what the checkpoint does not know (here a half-written record
// of a killed run) and rewrites nothing: the records stay byte for byte.
#[test]
fn a_resume_keeps_every_record_its_checkpoint_knows() {
    let dir = workdir("reliability-resume-records");
    let before = finished(&dir, "c");
    let file = dir.join("c/deviations.jsonl");
    let records = std::fs::read(&file).unwrap();
    let mut damaged = records.clone();
    damaged.extend_from_slice(b"{\"entry\":3,\"seed_id\":");
    std::fs::write(&file, &damaged).unwrap();
    let after: Value =
        serde_json::from_str(&ok(&dir, &["fuzz", "--out", "c", "--resume", "--json"])).unwrap();
    assert_eq!(
        std::fs::read(&file).unwrap(),
        records,
        "the known records, and nothing else"
    );
    assert_eq!(after["summary"]["digest"], before["summary"]["digest"]);
}

// D1: a campaign folder whose records do not add up to what campaign.json counts is refused
// by the commands that read it, instead of being localized or repaired silently.
#[test]
fn a_damaged_deviation_file_is_refused() {
    let dir = workdir("reliability-damaged-file");
    finished(&dir, "c");
    let file = dir.join("c/deviations.jsonl");
    let text = read_text(&file);
    let first: Vec<&str> = text.lines().take(text.lines().count() - 1).collect();
    std::fs::write(
        &file,
        first.join("\n") + if first.is_empty() { "" } else { "\n" },
    )
    .unwrap();
    let err = usage_sentence(&dir, &["localize", "--campaign", "c"]);
    assert!(
        err.contains("deviations.jsonl") && err.contains("counts"),
        "{err}"
    );
}

// Probe re-run (case 259): a record that claims a corpus entry the campaign does not have
// was edited or belongs elsewhere, and is refused by the commands that read the folder.
#[test]
fn a_record_from_outside_the_corpus_is_refused() {
    let dir = workdir("reliability-entry");
    finished(&dir, "c");
    let file = dir.join("c/deviations.jsonl");
    let text = read_text(&file);
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut first: Value = serde_json::from_str(&lines[0]).unwrap();
    first["entry"] = serde_json::json!(999_999);
    lines[0] = first.to_string();
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let err = usage_sentence(&dir, &["localize", "--campaign", "c"]);
    assert!(
        err.contains("deviations.jsonl line 1") && err.contains("999999"),
        "{err}"
    );
}

// D2: a new campaign in an old folder removes the old checkpoint and the files derived from
// it, and `--resume` refuses another campaign's checkpoint.
#[test]
fn a_new_campaign_never_adopts_the_old_ones_checkpoint() {
    let dir = workdir("reliability-identity");
    finished(&dir, "a");
    ok(&dir, &["localize", "--campaign", "a"]);
    assert!(dir.join("a/localize.json").is_file());
    let old_state = std::fs::read(dir.join("a/state.json")).unwrap();
    // A second campaign in the same folder: nothing of the first survives.
    campaign(&dir, "a", &["--seed", "7"], "12", "40");
    assert!(
        !dir.join("a/localize.json").exists(),
        "the old localization is gone"
    );
    assert!(!dir.join("a/heatmap-act1.svg").exists());
    assert_ne!(std::fs::read(dir.join("a/state.json")).unwrap(), old_state);
    // The old checkpoint put back (a kill before the new one's first checkpoint, once).
    std::fs::write(dir.join("a/state.json"), &old_state).unwrap();
    let err = usage_error(&dir, &["fuzz", "--out", "a", "--resume"]);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains("state.json") && last.contains("another campaign"),
        "{err}"
    );
}

// Probe re-run: a bad value in a campaign folder's `campaign.json` (a model, a precision, a
// schedule it records) is named as the file's, not as a flag nobody typed, and a damaged
// checkpoint names `state.json`.
#[test]
fn errors_in_a_campaign_folder_name_its_file() {
    let dir = workdir("reliability-recorded");
    finished(&dir, "c");
    let path = dir.join("c/campaign.json");
    let original = read_text(&path);
    let edit = |pointer: &str, value: Value| {
        let mut v: Value = serde_json::from_str(&original).unwrap();
        *v.pointer_mut(pointer).unwrap() = value;
        std::fs::write(&path, v.to_string()).unwrap();
    };
    edit("/spec/target/frac_bits", serde_json::json!(99));
    let err = usage_sentence(&dir, &["localize", "--campaign", "c"]);
    assert!(
        err.contains("c/campaign.json") && err.contains("99"),
        "{err}"
    );
    edit("/spec/target/model", serde_json::json!("gone.safetensors"));
    let err = usage_sentence(&dir, &["repair", "--campaign", "c"]);
    assert!(
        err.contains("c/campaign.json") && err.contains("gone.safetensors"),
        "{err}"
    );
    edit("/spec/settings/schedule", serde_json::json!("random"));
    let err = usage_error(&dir, &["fuzz", "--out", "c", "--resume"]);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains("c/campaign.json") && last.contains("random"),
        "{err}"
    );
    std::fs::write(&path, &original).unwrap();
    let state = dir.join("c/state.json");
    let mut st: Value = serde_json::from_str(&read_text(&state)).unwrap();
    st["entries"][0]["status"] = serde_json::json!("bogus");
    std::fs::write(&state, st.to_string()).unwrap();
    let err = usage_error(&dir, &["fuzz", "--out", "c", "--resume"]);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains("c/state.json") && last.contains("bogus"),
        "{err}"
    );
}

// H6: `fuzz --resume` refuses campaign flags that differ from what `campaign.json` records
// (naming each flag and both values) instead of ignoring them; the recorded values, and the
// flags that may change (a new budget, threads), are accepted.
#[test]
fn a_resume_refuses_flags_that_differ_from_the_campaign() {
    let dir = workdir("reliability-resume-flags");
    campaign(&dir, "c", &[], "4", "20");
    let err = error_line(
        &dir,
        &[
            "fuzz",
            "--out",
            "c",
            "--resume",
            "--seed",
            "99",
            "--model",
            "lenet",
            "--profile",
            "mpcdiff",
            "--repeats",
            "3",
        ],
    );
    for part in [
        "c/campaign.json",
        "--seed 1",
        "--seed 99",
        "--profile crypten",
        "--profile mpcdiff",
        "--repeats 8",
        "--repeats 3",
        "another folder",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
    assert!(
        !err.contains("--model"),
        "lenet is the recorded model: {err}"
    );
    // The recorded values, a larger budget and another thread count are fine.
    ok(
        &dir,
        &[
            "fuzz",
            "--out",
            "c",
            "--resume",
            "--seed",
            "1",
            "--model",
            "lenet",
            "--mutator",
            "artifact",
            "--fitness",
            "margin",
            "--seeds",
            "4",
            "--mutations",
            "40",
            "--threads",
            "1",
        ],
    );
}

// H7: a campaign records its model file and corpus so that they resolve from any working
// directory (a built-in model stays a name): `localize`, `report` and `--resume` run from
// another folder.
#[test]
fn a_campaign_folder_works_from_any_working_directory() {
    let dir = workdir("reliability-paths");
    let made = finished(&dir, "synthetic");
    assert_eq!(
        made["spec"]["target"]["model"], "lenet",
        "a built-in stays a name"
    );
    // Its seeds (their originals and labels) as a corpus file, and the model as a file.
    let corpus: String = read_text(dir.join("synthetic/deviations.jsonl"))
        .lines()
        .map(|l| {
            let d: Value = serde_json::from_str(l).unwrap();
            serde_json::json!({"input": d["original"], "label": d["label"]}).to_string() + "\n"
        })
        .collect();
    std::fs::write(dir.join("seeds.jsonl"), corpus).unwrap();
    std::fs::write(dir.join("m.safetensors"), crate::support::builtin("lenet")).unwrap();
    let v: Value = serde_json::from_str(&campaign(
        &dir,
        "c",
        &[
            "--model",
            "m.safetensors",
            "--corpus",
            "seeds.jsonl",
            "--plan",
            "planted.json",
        ],
        "12",
        "40",
    ))
    .unwrap();
    assert!(v["summary"]["deviations"].as_u64().unwrap() >= 1, "{v}");
    let recorded = |p: &str| std::path::PathBuf::from(p);
    let model = recorded(v["spec"]["target"]["model"].as_str().unwrap());
    let seeds = recorded(v["spec"]["corpus"]["path"].as_str().unwrap());
    assert!(model.is_absolute() && seeds.is_absolute(), "{v}");
    assert_eq!(model, dir.join("m.safetensors").canonicalize().unwrap());
    assert_eq!(seeds, dir.join("seeds.jsonl").canonicalize().unwrap());
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    ok(&elsewhere, &["localize", "--campaign", "../c"]);
    ok(
        &elsewhere,
        &[
            "report",
            "--campaign",
            "../c",
            "--plan",
            "../planted.json",
            "--limit",
            "5",
            "--no-campaign",
        ],
    );
    ok(
        &elsewhere,
        &["fuzz", "--out", "../c", "--resume", "--mutations", "60"],
    );
}

// D3: the writer replaces regular files only, and a killed run's temporary files are
// removed by the next campaign in the folder.
#[cfg(unix)]
#[test]
fn outputs_replace_regular_files_only() {
    let dir = workdir("reliability-outputs");
    std::fs::write(dir.join("target.txt"), "keep me").unwrap();
    std::os::unix::fs::symlink("target.txt", dir.join("link.svg")).unwrap();
    let err = usage_sentence(&dir, &["approx", "--fn", "exp", "--plot", "link.svg"]);
    assert!(
        err.contains("link.svg") && err.contains("not a regular file"),
        "{err}"
    );
    assert!(std::fs::symlink_metadata(dir.join("link.svg"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(read_text(dir.join("target.txt")), "keep me");
    std::fs::create_dir(dir.join("folder.svg")).unwrap();
    usage_sentence(&dir, &["approx", "--fn", "exp", "--plot", "folder.svg"]);
    let err = usage_sentence(&dir, &["approx", "--fn", "exp", "--plot", "/dev/null"]);
    assert!(err.contains("/dev/null"), "{err}");
    // Temporary files of a killed run.
    std::fs::create_dir(dir.join("c")).unwrap();
    std::fs::write(dir.join("c/.state.json.tmp4242"), "half").unwrap();
    campaign(&dir, "c", &[], "4", "8");
    assert!(!dir.join("c/.state.json.tmp4242").exists());
    let left: Vec<String> = std::fs::read_dir(dir.join("c"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The one sentence of a usage error, after the run's header line if it printed one.
fn error_line(dir: &Path, args: &[&str]) -> String {
    let err = usage_error(dir, args);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines.len() <= 2 && lines.last().is_some_and(|l| l.starts_with("error: ")),
        "mpcdiff {args:?}: a header at most, then one sentence: {err}"
    );
    lines[lines.len() - 1].to_string()
}

/// The temporary files (`.NAME.tmp…`) under `dir`, at any depth.
fn temp_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if e.file_type().unwrap().is_dir() {
            out.extend(temp_files(&e.path()));
        } else if name.starts_with('.') && name.contains(".tmp") {
            out.push(e.path().display().to_string());
        }
    }
    out
}

// Unwritable outputs (a missing folder, a path through a file, a read-only folder; a full
// disk takes the same path, see the README): exit 2 and one sentence naming the target, not
// its temporary file, and no temporary file left behind.
#[test]
fn unwritable_outputs_are_usage_errors_naming_the_target() {
    let dir = workdir("reliability-unwritable");
    std::fs::write(dir.join("file"), "x").unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["approx", "--fn", "exp", "--plot", "file/p.svg"],
            "file/p.svg",
        ),
        (
            &["approx", "--fn", "exp", "--plot", "nowhere/p.svg"],
            "nowhere/p.svg",
        ),
        (
            &[
                "fuzz",
                "--seeds",
                "2",
                "--mutations",
                "0",
                "--out",
                "file/c",
            ],
            "file/c",
        ),
        (
            &[
                "slice",
                "--model",
                "lenet",
                "--digit",
                "0",
                "--steps",
                "2",
                "--out",
                "file/s.svg",
            ],
            "file/s.svg",
        ),
    ];
    for (args, target) in cases {
        let err = error_line(&dir, args);
        assert!(err.contains(target) && !err.contains(".tmp"), "{err}");
    }
    assert_eq!(temp_files(&dir), Vec::<String>::new());
    // A read-only folder: a plot in it, and the campaign commands that write into theirs.
    finished(&dir, "c");
    std::fs::create_dir(dir.join("ro")).unwrap();
    let read_only = |p: &Path, on: bool| {
        let mut perm = std::fs::metadata(p).unwrap().permissions();
        perm.set_readonly(on);
        std::fs::set_permissions(p, perm).unwrap();
    };
    read_only(&dir.join("ro"), true);
    read_only(&dir.join("c"), true);
    let writable = std::fs::write(dir.join("ro/probe"), "x").is_ok();
    if writable {
        // Root (as in many containers) writes whatever the mode bits say.
        crate::support::skip("a read-only folder is writable here (running as root?); the path-through-a-file cases above ran");
    } else {
        let err = error_line(&dir, &["approx", "--fn", "exp", "--plot", "ro/p.svg"]);
        assert!(err.contains("ro/p.svg"), "{err}");
        let err = error_line(&dir, &["localize", "--campaign", "c"]);
        assert!(err.contains("c/localize.json"), "{err}");
        let err = error_line(
            &dir,
            &["repair", "--campaign", "c", "--check", "5", "--quick"],
        );
        assert!(err.contains("c/"), "{err}");
    }
    read_only(&dir.join("ro"), false);
    read_only(&dir.join("c"), false);
    assert_eq!(temp_files(&dir), Vec::<String>::new());
}

// D4: sizes from flags are checked before anything is allocated.
#[test]
fn huge_seed_counts_are_usage_errors() {
    let dir = workdir("reliability-seeds");
    for n in ["18446744073709551615", "100000000"] {
        let err = usage_sentence(&dir, &["fuzz", "--seeds", n, "--mutations", "1"]);
        assert!(err.contains("--seeds"), "{err}");
    }
}

// D4: an unwritable stderr loses the notes, not the results: no panic, exit 0.
#[cfg(unix)]
#[test]
fn an_unwritable_stderr_is_not_a_panic() {
    let dir = workdir("reliability-stderr");
    std::fs::write(dir.join("digit.txt"), "0 ".repeat(784)).unwrap();
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
    let Ok(full) = full else {
        crate::support::skip("no /dev/full");
        return;
    };
    let out = command(
        &dir,
        &[
            "predict",
            "--model",
            "lenet",
            "--input",
            "digit.txt",
            "--json",
        ],
    )
    .stderr(Stdio::from(full))
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema"], "mpcdiff.predict/2");
}

/// A model file of activations only that declares `input` and `classes` (no tensors).
fn declared(dir: &Path, name: &str, input: &str, classes: &str) {
    let header = serde_json::json!({"__metadata__": {
        "format": "mpcdiff-model/1", "architecture": "tiny", "layers": "sigmoid a",
        "input": input, "classes": classes,
    }})
    .to_string();
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(header.as_bytes());
    std::fs::write(dir.join(name), bytes).unwrap();
}

// D5, D8: a tiny file that declares a huge input (or no classes) is refused, naming it,
// before any buffer is sized from it.
#[test]
fn a_model_declaring_a_huge_input_is_refused_before_allocating() {
    let dir = workdir("reliability-huge-model");
    declared(&dir, "huge.safetensors", "999999999", "999999999");
    declared(&dir, "none.safetensors", "4", "0");
    std::fs::write(dir.join("one.jsonl"), "{\"input\":[0.5],\"label\":0}\n").unwrap();
    let err = usage_sentence(
        &dir,
        &[
            "fuzz",
            "--model",
            "huge.safetensors",
            "--corpus",
            "one.jsonl",
        ],
    );
    assert!(err.contains("--model huge.safetensors"), "{err}");
    std::fs::write(dir.join("x.txt"), "0 0 0 0").unwrap();
    let err = usage_sentence(
        &dir,
        &["predict", "--model", "none.safetensors", "--input", "x.txt"],
    );
    assert!(err.contains("classes"), "{err}");
}

// D6: bad values in a model or an input are user errors (exit 2) that name the tensor or
// the flag, not an "input value at index 0" from inside the kernel.
#[test]
fn bad_weights_and_inputs_name_the_tensor_or_the_flag() {
    let dir = workdir("reliability-bad-values");
    let mut bytes = crate::support::builtin("lenet");
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let at = 8 + n + header["fc1.weight"]["data_offsets"][0].as_u64().unwrap() as usize;
    bytes[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    std::fs::write(dir.join("nan.safetensors"), &bytes).unwrap();
    std::fs::write(dir.join("digit.txt"), "0 ".repeat(784)).unwrap();
    let err = usage_sentence(
        &dir,
        &[
            "predict",
            "--model",
            "nan.safetensors",
            "--input",
            "digit.txt",
        ],
    );
    assert!(
        err.contains("fc1.weight") && err.contains("non-finite"),
        "{err}"
    );
    std::fs::write(dir.join("big.txt"), format!("1e39 {}", "0 ".repeat(783))).unwrap();
    let err = usage_sentence(&dir, &["predict", "--model", "lenet", "--input", "big.txt"]);
    assert!(err.contains("--input big.txt"), "{err}");
    std::fs::write(dir.join("large.txt"), format!("1e20 {}", "0 ".repeat(783))).unwrap();
    let err = usage_sentence(
        &dir,
        &["predict", "--model", "lenet", "--input", "large.txt"],
    );
    assert!(
        err.contains("--input large.txt") && err.contains("ring"),
        "{err}"
    );
}

// D7: `repair` never trusts an edited or stale `localize.json`: it localizes again, and
// chooses what a fresh folder chooses.
#[test]
fn repair_does_not_trust_an_edited_localization() {
    let dir = workdir("reliability-localize-json");
    finished(&dir, "c");
    ok(&dir, &["localize", "--campaign", "c"]);
    let path = dir.join("c/localize.json");
    let mut loc: Value = serde_json::from_str(&read_text(&path)).unwrap();
    loc["layers"][0]["high_set"] = serde_json::json!([0]);
    loc["layers"][0]["fixed_when_exact"] = serde_json::json!(0);
    std::fs::write(&path, loc.to_string()).unwrap();
    let edited = json_ok(
        &dir,
        &[
            "repair",
            "--campaign",
            "c",
            "--check",
            "20",
            "--quick",
            "--json",
        ],
    );
    std::fs::remove_file(&path).unwrap();
    let fresh = json_ok(
        &dir,
        &[
            "repair",
            "--campaign",
            "c",
            "--check",
            "20",
            "--quick",
            "--json",
        ],
    );
    assert_eq!(edited, fresh);
}

// D8: a zero limit is a usage error, not an empty evaluation.
#[test]
fn an_empty_evaluation_is_refused() {
    let dir = workdir("reliability-eval-limit");
    let err = usage_sentence(
        &dir,
        &[
            "eval", "--model", "lenet", "--data", "nowhere", "--limit", "0",
        ],
    );
    assert!(err.contains("--limit"), "{err}");
}

// D8: an input file with no values is refused rather than answered with nothing.
#[test]
fn an_empty_raw_input_is_refused() {
    let dir = workdir("reliability-raw-in");
    std::fs::write(dir.join("empty.txt"), "# nothing\n\n").unwrap();
    let err = usage_sentence(
        &dir,
        &[
            "approx",
            "--fn",
            "exp",
            "--raw-in",
            "empty.txt",
            "--arith",
            "fixed",
        ],
    );
    assert!(err.contains("--raw-in empty.txt"), "{err}");
}

// D8: an MNIST file with bytes after its gzip member (a second member, trailing data) is
// refused, not read in part.
#[test]
fn a_gzip_file_with_trailing_data_is_refused() {
    let Some(data) = crate::support::shared("data") else {
        return;
    };
    let dir = workdir("reliability-gzip");
    std::fs::create_dir_all(dir.join("d/mnist")).unwrap();
    for f in std::fs::read_dir(data.join("mnist")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), dir.join("d/mnist").join(f.file_name())).unwrap();
    }
    let images = dir.join("d/mnist/t10k-images-idx3-ubyte.gz");
    let mut bytes = std::fs::read(&images).unwrap();
    let copy = bytes.clone();
    bytes.extend_from_slice(&copy[..64]);
    std::fs::write(&images, bytes).unwrap();
    let err = crate::support::usage_error(
        &dir,
        &["eval", "--model", "lenet", "--data", "d", "--limit", "5"],
    );
    assert!(
        err.contains("t10k-images") && err.contains("follow"),
        "{err}"
    );
}

// D7: a plan `mpcdiff repair` wrote is tied to its campaign and to its content: `report`
// refuses it edited, or for another campaign.
#[test]
fn report_refuses_an_edited_or_foreign_plan() {
    let dir = workdir("reliability-plan");
    finished(&dir, "c");
    ok(
        &dir,
        &["repair", "--campaign", "c", "--check", "10", "--quick"],
    );
    let path = dir.join("c/plan.json");
    let original = read_text(&path);
    let mut plan: Value = serde_json::from_str(&original).unwrap();
    assert!(plan["digest"].is_string() && plan["derived_from"].is_string());
    plan["layers"][0]["default"]["nr"] = serde_json::json!(7);
    std::fs::write(&path, plan.to_string()).unwrap();
    let report = [
        "report",
        "--campaign",
        "c",
        "--limit",
        "10",
        "--no-campaign",
    ];
    let err = usage_error(&dir, &report);
    assert!(err.contains("edited"), "{err}");
    std::fs::write(&path, &original).unwrap();
    ok(&dir, &report);
    // Another campaign (another seed) of the same model.
    campaign(
        &dir,
        "d",
        &["--plan", "planted.json", "--seed", "7"],
        "12",
        "60",
    );
    let err = usage_error(
        &dir,
        &[
            "report",
            "--campaign",
            "d",
            "--plan",
            "c/plan.json",
            "--limit",
            "10",
            "--no-campaign",
        ],
    );
    assert!(err.contains("another campaign"), "{err}");
}

// Kills: Ctrl-C during a campaign stops it between rounds with its checkpoint saved (exit
// 130), and `--resume` ends it exactly as an uninterrupted run ends.
#[cfg(unix)]
#[test]
fn an_interrupted_campaign_saves_its_checkpoint_and_resumes_to_the_same_end() {
    let dir = workdir("reliability-interrupt");
    let args = |out: &'static str| {
        [
            "fuzz",
            "--seeds",
            "30",
            "--mutations",
            "3000",
            "--fitness",
            "margin",
            "--mutator",
            "artifact",
            "--out",
            out,
            "--json",
        ]
    };
    let whole = ok(&dir, &args("whole"));
    let child = command(&dir, &args("part"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first checkpoint comes right after admission.
    let state = dir.join("part/state.json");
    let start = std::time::Instant::now();
    while !state.exists() && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.code() == Some(0) {
        crate::support::skip("the campaign ended before the signal reached it");
        return;
    }
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stopped: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stopped["summary"]["stopped_by"], "interrupted");
    let resumed = ok(&dir, &["fuzz", "--out", "part", "--resume", "--json"]);
    assert_eq!(resumed, whole);
    assert_eq!(
        read_text(dir.join("part/deviations.jsonl")),
        read_text(dir.join("whole/deviations.jsonl"))
    );
}
