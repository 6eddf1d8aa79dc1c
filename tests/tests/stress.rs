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
