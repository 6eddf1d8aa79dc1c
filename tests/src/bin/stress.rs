//! The long run of the kernel's stress harness (see `mpcdiff_tests::stress`).
//!
//! ```sh
//! cargo run -p mpcdiff-tests --release --bin stress -- --seed 0x5eed --seconds 600
//! cargo run -p mpcdiff-tests --profile release-checked --bin stress -- --execs 100000
//! cargo run -p mpcdiff-tests --release --bin stress -- --seed S --entry NAME --exec I   # replay
//! ```
//!
//! Flags: `--seed S` (decimal or 0x hex; default `MPCDIFF_STRESS_SEED`, else the git HEAD,
//! else fixed), `--execs N` per entry point, `--seconds T` for the whole run (shared evenly by
//! the entry points; with both, whichever ends first), `--filter TEXT` (entry points whose
//! name contains it), `--entry NAME` (exactly that one), `--exec I` (only execution I),
//! `--threads T`, `--list`, `--errors` (count the typed errors per entry point, to see
//! how deep the draws get). Exits 1 on any panic or hang, 2 on a bad flag.

use mpcdiff_tests::stress::{self, Config};
use std::process::ExitCode;

const USAGE: &str = "usage: stress [--seed S] [--execs N] [--seconds T] [--filter TEXT | --entry NAME] [--exec I] [--threads T] [--list] [--errors]";

fn main() -> ExitCode {
    let mut cfg = Config {
        execs: None,
        ..Config::default()
    };
    let (seed, origin) = stress::default_seed();
    cfg.seed = seed;
    let mut origin = origin.to_string();
    let mut list = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| match args.next() {
            Some(v) => Ok(v),
            None => Err(format!("{name} needs a value")),
        };
        let parsed: Result<(), String> = (|| {
            match a.as_str() {
                "--seed" => {
                    let v = value("--seed")?;
                    cfg.seed = stress::parse_seed(&v).ok_or(format!("bad --seed {v}"))?;
                    origin = "--seed".into();
                }
                "--execs" => {
                    let v = value("--execs")?;
                    cfg.execs = Some(v.parse().map_err(|_| format!("bad --execs {v}"))?);
                }
                "--seconds" => {
                    let v = value("--seconds")?;
                    let s: f64 = v.parse().map_err(|_| format!("bad --seconds {v}"))?;
                    if !(s.is_finite() && s > 0.0) {
                        return Err(format!("bad --seconds {v}"));
                    }
                    cfg.seconds = Some(s);
                }
                "--filter" => cfg.filter = Some(value("--filter")?),
                "--entry" => {
                    cfg.filter = Some(value("--entry")?);
                    cfg.exact = true;
                }
                "--exec" => {
                    let v = value("--exec")?;
                    cfg.only_exec = Some(v.parse().map_err(|_| format!("bad --exec {v}"))?);
                }
                "--threads" => {
                    let v = value("--threads")?;
                    cfg.threads = v.parse().map_err(|_| format!("bad --threads {v}"))?;
                }
                "--list" => list = true,
                "--errors" => cfg.tally_errors = true,
                "-h" | "--help" => return Err(String::new()),
                other => return Err(format!("unknown flag {other}")),
            }
            Ok(())
        })();
        if let Err(msg) = parsed {
            if !msg.is_empty() {
                eprintln!("error: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    }
    if list {
        for e in stress::entries::all() {
            println!("{}", e.name);
        }
        return ExitCode::SUCCESS;
    }
    if cfg.execs.is_none() && cfg.seconds.is_none() && cfg.only_exec.is_none() {
        cfg.execs = Some(1000);
    }
    println!(
        "stress: seed {:#018x} ({origin}), profile {}, overflow checks {}, {} thread(s), execs {:?}, seconds {:?}",
        cfg.seed,
        if cfg!(debug_assertions) { "with debug assertions" } else { "release" },
        if overflow_checks() { "on" } else { "off" },
        cfg.threads,
        cfg.execs,
        cfg.seconds
    );
    let report = stress::run(&cfg);
    print!(
        "{}",
        report.render("cargo run -p mpcdiff-tests --release --bin stress --")
    );
    // Hung workers may still be running: leave without joining them.
    let code = if report.failures() > 0 { 1 } else { 0 };
    std::process::exit(code)
}

/// Whether this build checks integer overflow (`release-checked`, debug builds): an
/// overflowing `+` panics, silently (before the harness installs its hook).
fn overflow_checks() -> bool {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let probe = std::hint::black_box(u8::MAX);
    let checked = std::panic::catch_unwind(|| probe + std::hint::black_box(1)).is_err();
    std::panic::set_hook(previous);
    checked
}
