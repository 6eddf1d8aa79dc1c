//! The page is the CLI: its "Search for a deviation" is `mpcdiff fuzz` on a one-line corpus,
//! its decision-boundary slice is `mpcdiff slice`.
//!
//! Goal: the browser adapter (`mpcdiff-wasm`, run natively here; `web/test/` runs the same
//! in Chromium against the same command) and the CLI give the same campaign for the same
//! settings: equal digests, the same found input, logits and MPC seed, bit for bit. Both are
//! computed now; nothing is pasted. The command is the one the adapter itself prints
//! (`Search::command`), so a drift between its flags and the CLI's fails here.

use mpcdiff_host::search::{mutator_arg, Options, Search};
use mpcdiff_host::session::{synthetic_digit, Session, Settings};
use mpcdiff_kernel::difftest::campaign::Status;
use serde_json::Value;

use crate::support::{assert_success, json_ok, mpcdiff, read_text, workdir};

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

/// Runs the adapter's search and the CLI's campaign; returns (adapter session, CLI JSON,
/// CLI deviations).
fn both(name: &str, digit: (u64, u64), o: Options, frac_bits: u32) -> (Search, Value, Vec<Value>) {
    let settings = Settings {
        fp: mpcdiff_kernel::FixedPoint::new(frac_bits).unwrap(),
        ..Settings::default()
    };
    let mut s = Session::new("lenet", settings).unwrap();
    let (_, px) = synthetic_digit(digit.0, digit.1).unwrap();
    let mut search = Search::start(&mut s, &px, o).unwrap();
    while !search.step(&mut s, 13).unwrap().done {}

    let dir = workdir(&format!("browser-search-{name}"));
    let corpus = dir.join("one.jsonl");
    std::fs::write(&corpus, search.corpus_line() + "\n").unwrap();
    let out_dir = dir.join("campaign");
    let args: Vec<String> = search
        .command(&s)
        .into_iter()
        .skip(1) // the program name
        .map(|a| {
            if a == "CORPUS" {
                corpus.display().to_string()
            } else {
                a
            }
        })
        .chain([
            "--json".into(),
            "--out".into(),
            out_dir.display().to_string(),
        ])
        .collect();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = mpcdiff(&dir, &argv);
    assert_success(&argv, &out);
    // The adapter's command is the CLI's own replay line for the campaign, flag for flag.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let replay = stderr
        .lines()
        .find_map(|l| l.split_once("  replay: ").map(|(_, r)| r))
        .expect("mpcdiff fuzz prints its replay line");
    let shown = search.command(&s).join(" ");
    assert_eq!(
        replay,
        shown.replace("CORPUS", &corpus.display().to_string()),
        "the page's command vs the CLI's replay line"
    );
    let json: Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    let devs = std::fs::read_to_string(out_dir.join("deviations.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (search, json, devs)
}

#[test]
fn a_search_that_finds_a_deviation_is_the_cli_campaign() {
    let o = Options {
        mutations: 300,
        ..Options::default()
    };
    let (s, cli, devs) = both("found", (4, 0), o, 16);
    let p = s.progress();
    assert_eq!(p.status, Status::Found);
    let summary = &cli["summary"];
    assert_eq!(summary["digest"], format!("{:016x}", p.digest));
    assert_eq!(summary["mutants"], p.mutants);
    assert_eq!(summary["deviations"], 1);
    let f = s.found().unwrap();
    let d = &devs[0];
    assert_eq!(
        f64s(&d["input"]),
        f.input,
        "the same found input, bit for bit"
    );
    assert_eq!(f64s(&d["plaintext_logits"]), f.plaintext);
    assert_eq!(f64s(&d["mpc_logits"]), f.mpc);
    assert_eq!(d["mpc_seed"], f.mpc_seed);
    assert_eq!(d["mutant"], f.mutant.unwrap());
    assert_eq!(d["probability"]["flips"], f.flips);
    let ops: Vec<&str> = d["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["op"].as_str().unwrap())
        .collect();
    let mine: Vec<&str> = f.path.iter().map(|s| s.op.name()).collect();
    assert_eq!(ops, mine);
}

#[test]
fn a_search_that_spends_its_budget_is_the_cli_campaign() {
    // The artifact's mutator and fitness at 12 fractional bits: other settings, same contract.
    let o = Options {
        mutations: 60,
        seed: 77,
        fitness: mpcdiff_kernel::difftest::fitness::Fitness::LogitL2,
        mutator: mutator_arg("artifact").unwrap(),
        repeats: 3,
        ..Options::default()
    };
    let (s, cli, devs) = both("budget", (7, 2), o, 12);
    let p = s.progress();
    assert_eq!(cli["summary"]["digest"], format!("{:016x}", p.digest));
    assert_eq!(cli["summary"]["mutants"], p.mutants);
    assert_eq!(devs.len(), usize::from(p.status == Status::Found));
}

// The gradient mutator in the page is the CLI's too: the same plaintext gradient (the kernel's
// `nn::gradient::Plain`) in the browser's judge and the CLI's.
#[test]
fn a_gradient_search_is_the_cli_campaign() {
    let o = Options {
        mutations: 200,
        seed: 3,
        fitness: mpcdiff_kernel::difftest::fitness::Fitness::Margin,
        mutator: mutator_arg("gradient").unwrap(),
        repeats: 4,
        ..Options::default()
    };
    let (s, cli, devs) = both("gradient", (4, 0), o, 16);
    let p = s.progress();
    assert_eq!(cli["summary"]["digest"], format!("{:016x}", p.digest));
    assert_eq!(cli["summary"]["mutants"], p.mutants);
    assert_eq!(devs.len(), usize::from(p.status == Status::Found));
    assert_eq!(
        p.status,
        Status::Found,
        "the gradient walks this digit to a deviation"
    );
}

// Goal: the page's decision-boundary slice is `mpcdiff slice`, label for label: the same
// kernel driver, the same directions, the same preprocessing of every grid point and the same
// MPC session, compiled into the adapter and into the CLI.
#[test]
fn the_pages_slice_is_mpcdiff_slice() {
    let mut s = Session::new("lenet", Settings::default()).unwrap();
    let (_, px) = synthetic_digit(2024, 3).unwrap();
    let page = s.slice(&px, 5, 12.0, 9).unwrap();
    let dir = workdir("browser-slice");
    let cli = json_ok(
        &dir,
        &[
            "slice",
            "--digit",
            "3",
            "--synthetic-seed",
            "2024",
            "--direction-seed",
            "5",
            "--radius",
            "12",
            "--steps",
            "9",
            "--json",
            "--out",
            "slice.svg",
        ],
    );
    let labels = |v: &Value| -> Vec<u8> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u8)
            .collect()
    };
    assert_eq!(f64s(&cli["offsets"]), page.offsets);
    assert_eq!(labels(&cli["plaintext"]), page.plaintext);
    assert_eq!(labels(&cli["mpc"]), page.mpc);
    assert_eq!(cli["disagreements"], page.disagreements);
    assert_eq!(cli["cost"]["rounds"], page.cost.rounds);
    let text = read_text(dir.join("slice.svg"));
    assert_eq!(
        text.matches("<rect x=").count(),
        3 * 81 + 10,
        "three 9×9 maps and a legend"
    );
}
