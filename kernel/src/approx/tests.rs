//! The error-budget table of the approximations, enforced.
//!
//! For each function and level, over its working range, the largest error of each stage:
//! `float − exact` (the algorithm), `fixed − float` (encoding and truncation, f = 16) and
//! `shared − fixed` (share randomness, in ring units, 3 MPC seeds). The same table is quoted in
//! the module doc (`approx/mod.rs`); a change that makes any stage worse fails here. Budgets are
//! the measured maxima rounded up with a margin, so an improvement passes and a regression
//! (or a wrong operation order, which moves the fixed-point error by orders of magnitude) does
//! not.

use crate::approx::attribution::{attribute, Memory, Probe, Stages};
use crate::approx::{profile, Function, Level, Levels};
use crate::{FixedPoint, TruncMode};

struct Row {
    f: Function,
    level: Option<Level>,
    lo: f64,
    hi: f64,
    /// Errors relative to |exact| instead of absolute.
    relative: bool,
    approx: f64,
    fixed: f64,
    shared_ring: f64,
}

#[rustfmt::skip]
fn table() -> Vec<Row> {
    use Function::*;
    let r = |f, level, lo, hi, relative, approx, fixed, shared_ring| Row { f, level, lo, hi, relative, approx, fixed, shared_ring };
    vec![
        //  function      level                      range          rel    float−exact fixed−float shared−fixed (ring)
        r(Exp,           None,                      -5.0, 5.0,      true,  5.0e-2,     1.0e-2,     1.3e5),
        r(Reciprocal,    None,                      0.1, 10.0,      true,  1.0e-7,     2.3e-3,     40.0),
        r(ReciprocalPos, None,                      0.1, 10.0,      true,  1.0e-7,     2.3e-3,     40.0),
        r(InvSqrt,       None,                      0.1, 100.0,     true,  5.0e-3,     1.1e-3,     70.0),
        r(Sqrt,          None,                      0.1, 100.0,     true,  5.0e-3,     1.1e-3,     1800.0),
        r(Log,           None,                      0.1, 100.0,     false, 4.0e-2,     7.5e-3,     1100.0),
        r(Sigmoid,       None,                      -20.0, 20.0,    false, 2.0e-3,     1.2e-3,     140.0),
        r(Sigmoid,       Some(Level::new(6, 6)),    -20.0, 20.0,    false, 3.5e-3,     3.0e-4,     40.0),
        r(Sigmoid,       Some(Level::new(9, 9)),    -20.0, 20.0,    false, 4.4e-4,     2.5e-3,     260.0),
        r(Sigmoid,       Some(Level::new(3, 3)),    -15.0, 15.0,    false, 2.6e-1,     1.1e-4,     14.0),
        r(Tanh,          None,                      -10.0, 10.0,    false, 4.0e-3,     2.4e-3,     260.0),
        r(Erf,           None,                      -1.0, 1.0,      false, 2.4e-1,     1.5e-4,     16.0),
        r(ErfTaylor,     None,                      -1.0, 1.0,      false, 2.0e-7,     6.3e-5,     8.0),
        r(ErfBounded,    None,                      -6.0, 6.0,      false, 1.0e-6,     2.4e-4,     20.0),
        r(GeluTanh,      None,                      -10.0, 10.0,    false, 1.4e-3,     6.0e-4,     80.0),
        r(GeluErf,       None,                      -10.0, 10.0,    false, 5.0e-6,     2.1e-4,     12.0),
        r(Relu,          None,                      -10.0, 10.0,    false, 0.0,        1.6e-5,     0.0),
        r(Sign,          None,                      -10.0, 10.0,    false, 0.0,        0.0,        0.0),
    ]
}

#[test]
fn every_stage_stays_within_its_budget() {
    let failures = over_budget(
        &profile::CRYPTEN,
        FixedPoint::new(16).unwrap(),
        TruncMode::Local,
        &table(),
    );
    assert!(
        failures.is_empty(),
        "error budgets exceeded:\n{}",
        failures.join("\n")
    );
}

/// The `spu` profile's own functions in its own arithmetic (f = 18, SPU's truncation law
/// SR+1), as the module doc's second table quotes them. The one-party outputs are bit-exact
/// with SPU's plaintext ring (`tests/tests/framework_profiles.rs`), so the `fixed − float`
/// column is SPU's own fixed-point error (the input's encoding included: at x = 0.01 one unit
/// of 2^−18 moves ln x by 3.8e−4).
#[rustfmt::skip]
fn spu_table() -> Vec<Row> {
    use Function::*;
    let r = |f, lo, hi, relative, approx, fixed, shared_ring| Row { f, level: None, lo, hi, relative, approx, fixed, shared_ring };
    vec![
        //  function      range          rel    float−exact fixed−float shared−fixed (ring)
        r(Reciprocal,    0.1, 10.0,      true,  5.5e-5,     4.0e-5,     32.0),
        r(Erf,           -5.0, 5.0,      false, 5.0e-4,     1.5e-5,     14.0),
        r(Log,           0.01, 1000.0,   false, 1.0e-7,     2.5e-4,     8.0),
        r(InvSqrt,       0.01, 100.0,    true,  2.5e-4,     1.6e-4,     560.0),
    ]
}

#[test]
fn spu_stages_stay_within_their_budget() {
    let p = &profile::SPU;
    let failures = over_budget(p, p.numerics.fp, p.numerics.trunc, &spu_table());
    assert!(
        failures.is_empty(),
        "error budgets exceeded:\n{}",
        failures.join("\n")
    );
}

/// The rows of `table` whose worst error of some stage exceeds its budget, under profile `p`
/// in format `fp` with truncation `trunc`.
fn over_budget(
    p: &profile::Profile,
    fp: FixedPoint,
    trunc: TruncMode,
    table: &[Row],
) -> Vec<String> {
    let n = 1001;
    let (a, b, c) = Memory::sizes(n);
    let (mut fa, mut fb, mut fc) = (vec![0.0; a], vec![0i64; b], vec![[0i64; 2]; c]);
    let mut failures = Vec::new();
    for row in table {
        let level = row.level.unwrap_or(row.f.default_level(p));
        let x: Vec<f64> = (0..n)
            .map(|i| row.lo + (row.hi - row.lo) * i as f64 / (n - 1) as f64)
            .collect();
        let mut worst = [0.0f64; 3];
        for seed in 1..=3 {
            let mut out = vec![Stages::default(); n];
            let setup = Probe {
                function: row.f,
                profile: p,
                fp,
                trunc,
                seed,
            };
            let ws = Memory {
                floats: &mut fa,
                ints: &mut fb,
                shares: &mut fc,
            };
            attribute(&setup, &x, &Levels::Uniform(level), ws, &mut out).unwrap();
            for o in &out {
                let scale = if row.relative { o.exact.abs() } else { 1.0 };
                worst[0] = worst[0].max(o.approximation_error().abs() / scale);
                worst[1] = worst[1].max(o.encoding_error().abs() / scale);
                worst[2] = worst[2].max(o.share_error().abs() * fp.scale_f64());
            }
        }
        std::eprintln!(
            "{} {} on [{}, {}]: {:.2e} {:.2e} {:.1}",
            p.name,
            row.f.name(),
            row.lo,
            row.hi,
            worst[0],
            worst[1],
            worst[2]
        );
        for (stage, (got, budget)) in ["float−exact", "fixed−float", "shared−fixed"]
            .iter()
            .zip(worst.iter().zip([row.approx, row.fixed, row.shared_ring]))
        {
            if *got > budget {
                failures.push(format!(
                    "{} {:?} on [{}, {}]: {stage} {got:.3e} > budget {budget:.3e}",
                    row.f.name(),
                    level,
                    row.lo,
                    row.hi
                ));
            }
        }
    }
    failures
}

#[test]
fn budgets_are_tight_enough_to_catch_a_wrong_level() {
    // The table must discriminate: sigmoid at 3/3 on the 8/3 range breaks the 8/3 budget.
    let fp = FixedPoint::new(16).unwrap();
    let n = 401;
    let x: Vec<f64> = (0..n)
        .map(|i| -10.0 + 20.0 * i as f64 / (n - 1) as f64)
        .collect();
    let (a, b, c) = Memory::sizes(n);
    let (mut fa, mut fb, mut fc) = (vec![0.0; a], vec![0i64; b], vec![[0i64; 2]; c]);
    let mut out = vec![Stages::default(); n];
    let setup = Probe {
        function: Function::Sigmoid,
        profile: &profile::CRYPTEN,
        fp,
        trunc: TruncMode::Local,
        seed: 1,
    };
    let ws = Memory {
        floats: &mut fa,
        ints: &mut fb,
        shares: &mut fc,
    };
    attribute(&setup, &x, &Levels::Uniform(Level::new(3, 3)), ws, &mut out).unwrap();
    let worst = out
        .iter()
        .map(|o| o.approximation_error().abs())
        .fold(0.0, f64::max);
    assert!(
        worst > 2.0e-3,
        "3/3 sigmoid should be far worse than the 8/3 budget, got {worst}"
    );
}

/// Goal: a level changes exactly the functions with a profile default level: ReLU (an exact
/// comparison) takes none, so the browser demo does not offer one for the ReLU LeNet.
#[test]
fn takes_level_matches_default_levels() {
    for &f in Function::ALL {
        let d = f.default_level(&profile::CRYPTEN);
        if f.takes_level() {
            assert_ne!(d, Level::new(0, 0), "{f:?}");
        } else {
            assert_eq!(d, Level::new(0, 0), "{f:?}");
        }
    }
    assert!(!Function::Relu.takes_level());
    assert!(Function::Sigmoid.takes_level());
}
