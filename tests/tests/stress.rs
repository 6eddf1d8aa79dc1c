//! The CI smoke of the kernel's stress harness (`mpcdiff_tests::stress`): every public entry
//! point of the kernel, a bounded number of hostile calls each, no panic and no hang allowed.
//!
//! Seeded from `MPCDIFF_STRESS_SEED`, else the commit (`git rev-parse HEAD`), else a fixed
//! seed; the seed is printed, and each failure with the command that replays it. `cargo test`
//! builds this crate with overflow checks and debug assertions (the dev profile), so the
//! kernel's arithmetic is checked here too. The long run is the `stress` binary
//! (tests/README.md).

use mpcdiff_tests::stress::{self, Config};

/// Calls per entry point: a few seconds for the whole registry on the CI machine.
const EXECS: u64 = 2000;

#[test]
fn every_kernel_entry_point_survives_hostile_input() {
    let (seed, origin) = stress::default_seed();
    println!("stress smoke: seed {seed:#018x} ({origin}), {EXECS} executions per entry point");
    let report = stress::run(&Config {
        seed,
        execs: Some(EXECS),
        ..Config::default()
    });
    let text = report.render("cargo run -p mpcdiff-tests --release --bin stress --");
    println!("{text}");
    assert_eq!(
        report.skipped, 0,
        "entry points skipped after hangs\n{text}"
    );
    assert!(
        report.stats.iter().all(|s| s.execs == EXECS),
        "every entry point runs its executions\n{text}"
    );
    assert_eq!(
        report.failures(),
        0,
        "panics or hangs (seed {seed:#x})\n{text}"
    );
}

/// The harness itself: a panicking entry point and a hanging one are reported (with the
/// execution that replays them), and the other entry points still run.
#[test]
fn the_harness_reports_panics_and_hangs() {
    use mpcdiff_tests::stress::{Entry, Gen, Res};
    use std::time::Duration;
    fn fine(g: &mut Gen) -> Res {
        let _ = g.u64();
        Ok(())
    }
    fn panics(g: &mut Gen) -> Res {
        let v = [1, 2, 3];
        let i = (g.u64() % 4) as usize;
        assert!(v.get(i).is_some(), "index {i} past the end");
        Ok(())
    }
    fn hangs(_: &mut Gen) -> Res {
        use std::sync::atomic::{AtomicU64, Ordering};
        static CALLS: AtomicU64 = AtomicU64::new(0);
        if CALLS.fetch_add(1, Ordering::SeqCst) == 10 {
            std::thread::sleep(Duration::from_millis(1500));
        }
        Err(mpcdiff_kernel::Error::DivisionByZero)
    }
    let entries = vec![
        Entry {
            name: "test::fine",
            run: fine,
        },
        Entry {
            name: "test::panics",
            run: panics,
        },
        Entry {
            name: "test::hangs",
            run: hangs,
        },
        Entry {
            name: "test::fine_after",
            run: fine,
        },
    ];
    let cfg = Config {
        seed: 3,
        execs: Some(40),
        hang: Duration::from_millis(300),
        ..Config::default()
    };
    let report = stress::run_entries(&cfg, entries);
    let text = report.render("stress");
    let by = |n: &str| report.stats.iter().find(|s| s.name == n).unwrap().clone();
    assert_eq!(by("test::fine").execs, 40, "{text}");
    assert_eq!(by("test::fine_after").execs, 40, "{text}");
    let p = by("test::panics");
    assert!(p.panics > 0 && p.panics < 40, "{text}");
    let (exec, msg) = p.first_panic.clone().unwrap();
    assert!(msg.contains("past the end"), "{msg}");
    // The recorded execution replays the panic alone.
    let replay = stress::run_entries(
        &Config {
            only_exec: Some(exec),
            filter: Some("test::panics".into()),
            exact: true,
            ..cfg.clone()
        },
        vec![Entry {
            name: "test::panics",
            run: panics,
        }],
    );
    assert_eq!((replay.stats[0].execs, replay.stats[0].panics), (1, 1));
    let h = by("test::hangs");
    assert_eq!((h.hang, h.err), (Some(10), 10), "{text}");
    assert_eq!(report.failures(), p.panics + 1);
    assert!(text.contains("HANG in test::hangs") && text.contains("PANIC in test::panics"));
    assert!(text.contains("--entry 'test::panics' --exec"), "{text}");
}
