//! Goals: (1) honest authenticated runs never abort and compute what the fixed-point arithmetic
//! computes, up to the dealer truncation's one unit; (2) every tampered opening (a Beaver `ε`
//! or `δ` word, a truncation's word, a reveal) aborts, naming its protocol; (3) an adversary
//! that corrects its check word by guessing the honest key share passes at a rate near `2^−s`
//! and below the `(s + 1)·2^−s` bound (measured at s = 8, where a pass is observable); (4) the
//! cost overhead against the passive protocol is what the module doc states; (5) logistic-
//! regression training runs under MACs, and the covert gradient attacks that pass silently in
//! the passive protocol abort here.

// The binomial bounds take a square root on the host; never compared across targets.
#![allow(clippy::disallowed_methods)]

use super::{Auth, Authenticated};
use crate::arith::Arith;
use crate::linalg::MatShape;
use crate::testing::FP;
use crate::wire::additive::{AdditiveAttack, Edit, Target};
use crate::{Error, Fixed, Shared, TruncMode};
use rand_core::RngCore;

fn arenas(n: usize) -> (Vec<i128>, Vec<Auth>) {
    let (w, e) = Authenticated::scratch_elementwise(n);
    (vec![0; w], vec![Auth::default(); e])
}

/// Products, squares, constants, a matrix product: within one unit of `Fixed` (two for the
/// matrix product's truncation of a sum), and one MAC check per opening batch.
#[test]
fn honest_runs_agree_with_fixed_point_and_never_abort() {
    let mut r = crate::testing::rng(4);
    let xs: Vec<f64> = (0..40)
        .map(|_| (r.next_u64() % 2000) as f64 / 100.0 - 10.0)
        .collect();
    let ys: Vec<f64> = (0..40)
        .map(|_| (r.next_u64() % 2000) as f64 / 100.0 - 10.0)
        .collect();
    let n = xs.len();
    let (mut words, mut elems) = arenas(n);
    let mut au = Authenticated::new(FP, 16, 9, &mut words, &mut elems).unwrap();
    let mut fx = Fixed::new(FP);
    let (mut a, mut b) = (vec![Auth::default(); n], vec![Auth::default(); n]);
    au.input(&xs, &mut a).unwrap();
    au.input(&ys, &mut b).unwrap();
    let (mut fa, mut fb) = (vec![0i64; n], vec![0i64; n]);
    fx.input(&xs, &mut fa).unwrap();
    fx.input(&ys, &mut fb).unwrap();
    au.mul(&mut a, &b).unwrap();
    fx.mul(&mut fa, &fb).unwrap();
    au.mul_const(&mut a, 0.3).unwrap();
    fx.mul_const(&mut fa, 0.3).unwrap();
    au.square(&mut b).unwrap();
    fx.square(&mut fb).unwrap();
    let units = |got: &[f64], want: &[i64], tol: f64| {
        for (g, &w) in got.iter().zip(want) {
            let d = (g * 65536.0 - w as f64).abs();
            assert!(d <= tol, "{g} vs {} ({d} units)", w as f64 / 65536.0);
        }
    };
    let mut out = vec![0.0; n];
    au.reveal(&a, &mut out).unwrap();
    // two truncations (the product's, the constant's), each within a unit, carried by 0.3
    units(&out, &fa, 2.0);
    au.reveal(&b, &mut out).unwrap();
    units(&out, &fb, 1.0);
    // a (5 × 8)·(8 × 1) product
    let s = MatShape { m: 5, k: 8, n: 1 };
    let mut m = vec![Auth::default(); 5];
    au.matmul(&a[..40], &b[..8], &mut m, s).unwrap();
    let mut fm = vec![0i64; 5];
    fx.matmul(&fa[..40], &fb[..8], &mut fm, s).unwrap();
    let mut mo = vec![0.0; 5];
    au.peek(&m, &mut mo).unwrap();
    // the operands already differ by up to 2 units each: compare in value, loosely
    for (g, &w) in mo.iter().zip(&fm) {
        let want = w as f64 / 65536.0;
        assert!(
            (g - want).abs() <= 1e-2 * want.abs().max(1.0),
            "{g} vs {want}"
        );
    }
    // openings: mul (ε, δ) and its trunc, mul_const's trunc, square (ε, δ) and its trunc, two
    // reveals, matmul and its trunc
    assert_eq!(au.checks(), 9);
}

/// A wire that adds `delta` to word `word` of party 1's `nth` message of `protocol`.
fn edit(protocol: &'static str, occurrence: u64, word: usize, delta: i64) -> Edit {
    Edit::new(
        Target {
            protocol,
            occurrence,
            rounds_after: 0,
            word,
        },
        delta,
    )
}

/// Each protocol's opening, tampered by one word of party 1's message: the run aborts at that
/// opening, for small and large errors alike.
#[test]
fn every_tampered_opening_aborts() {
    let n = 6;
    let cases: [(&str, u64, usize); 5] = [
        ("mul", 0, 0),     // an ε word
        ("mul", 0, n + 2), // a δ word
        ("trunc", 0, 3),
        ("matmul", 0, 1),
        ("reveal", 0, 5),
    ];
    for (protocol, occurrence, word) in cases {
        for delta in [1i64, -7, 1 << 40, i64::MIN] {
            let mut edits = [edit(protocol, occurrence, word, delta)];
            let mut wire = AdditiveAttack::new(1, &mut edits);
            let (mut words, mut elems) = arenas(8 * n);
            let au = Authenticated::new(FP, 32, 3, &mut words, &mut elems).unwrap();
            let mut au = au.with_wire(&mut wire);
            let xs: Vec<f64> = (0..n).map(|i| i as f64 - 2.5).collect();
            let mut x = vec![Auth::default(); n];
            au.input(&xs, &mut x).unwrap();
            let y = x.clone();
            let run = |au: &mut Authenticated<'_>, x: &mut Vec<Auth>| -> crate::Result<()> {
                au.mul(x, &y)?;
                let mut m = vec![Auth::default(); 2];
                au.matmul(&x[..6], &y[..3], &mut m, MatShape { m: 2, k: 3, n: 1 })?;
                let mut out = vec![0.0; n];
                au.reveal(x, &mut out)
            };
            let got = run(&mut au, &mut x);
            match got {
                Err(Error::MacCheckFailed { protocol: p, .. }) => {
                    assert_eq!(p, protocol, "delta {delta}")
                }
                other => panic!("{protocol} word {word} + {delta}: {other:?}"),
            }
            assert_eq!(edits[0].applied(), 1);
        }
    }
}

fn forgery_rate(s: u32, delta: i64, trials: u64) -> (u64, u64) {
    let (mut words, mut elems) = arenas(1);
    let p = super::forgery_passes(s, trials, 1000, delta, &mut words, &mut elems).unwrap();
    (p, trials)
}

/// A forged reveal that passes delivers the forged value (δ = 1 at s = 1, where half pass).
#[test]
fn a_passing_forgery_delivers_its_value() {
    let (mut words, mut elems) = arenas(1);
    let mut seen = 0;
    for seed in 0..64 {
        if super::forgery_trial(1, seed, 1, 0, &mut words, &mut elems).unwrap() {
            seen += 1;
        }
    }
    assert!(seen > 0 && seen < 64, "{seen} of 64 passed at s = 1");
}

/// At s = 8 the check's misses are observable: the guessing adversary passes at a rate at
/// least `2^−8` (its guess is right that often) and below the batched bound `9·2^−8`, within
/// 4σ. Measured: see the test's output.
#[test]
fn forged_checks_pass_at_the_predicted_rate() {
    let s = 8u32;
    let trials = 20_000u64;
    for delta in [1i64, 1 << 40, i64::MIN] {
        let (p, n) = forgery_rate(s, delta, trials);
        let rate = p as f64 / n as f64;
        let lo = 1.0 / 256.0;
        let hi = 9.0 / 256.0;
        let sigma = |q: f64| (q * (1.0 - q) / n as f64).sqrt();
        eprintln!("s = {s}, δ = {delta}: {p} of {n} forgeries passed ({rate:.5}); 2^-s = {lo:.5}, bound {hi:.5}");
        assert!(
            rate >= lo - 4.0 * sigma(lo),
            "δ = {delta}: {rate} below 2^-s"
        );
        assert!(
            rate <= hi + 4.0 * sigma(hi),
            "δ = {delta}: {rate} above (s+1)/2^s"
        );
    }
    // the same adversary against s = 64 never passes in these trials
    let (p, _) = forgery_rate(64, 1, 2_000);
    assert_eq!(p, 0);
}

/// The overhead against the passive protocol (dealer truncation, the same values): one
/// elementwise product of n values and its truncation, both ledgers exactly.
#[test]
fn overhead_against_the_passive_protocol() {
    let n = 10usize;
    let xs: Vec<f64> = (0..n).map(|i| i as f64 / 3.0).collect();
    let mut sw = vec![0i64; Shared::scratch_words_elementwise(n)];
    let mut sh = Shared::new(FP, 1, &mut sw).with_truncation(TruncMode::Dealer);
    let mut a = vec![[0i64; 2]; n];
    sh.input(&xs, &mut a).unwrap();
    let before = sh.cost();
    let b = a.clone();
    sh.mul(&mut a, &b).unwrap();
    let passive = sh.cost().since(&before);
    let (mut words, mut elems) = arenas(n);
    let mut au = Authenticated::new(FP, 64, 1, &mut words, &mut elems).unwrap();
    let mut x = vec![Auth::default(); n];
    au.input(&xs, &mut x).unwrap();
    let before = au.cost();
    let y = x.clone();
    au.mul(&mut x, &y).unwrap();
    let active = au.cost().since(&before);
    eprintln!("passive: {passive:?}\nactive:  {active:?}");
    // passive: Beaver (2n words of 8 bytes) and the truncation (n words), one round each
    assert_eq!(passive.rounds, 2);
    assert_eq!(passive.bytes_sent[0], 8 * 3 * n as u64);
    // active: each opening also commits (32 bytes) and opens its check word (16 bytes)
    assert_eq!(active.rounds, 6);
    assert_eq!(active.bytes_sent[0], 16 * 3 * n as u64 + 2 * (32 + 16));
    assert_eq!(active.mul_triples, passive.mul_triples);
    assert_eq!(active.trunc_tuples, passive.trunc_tuples);
}

/// The covert gradient attacks of `training::covert` under MACs: the honest run trains as the
/// passive one does (within 1e−3 of the float twin's weights, as the passive test states),
/// and each attack (scaling through a δ word, zeroing through ε words, shifting through the
/// truncation word) aborts at its opening.
#[test]
fn covert_gradient_attacks_abort_under_macs() {
    use crate::approx::profile::CRYPTEN;
    use crate::training::covert::{gradient_scale, gradient_shift, gradient_zero};
    use crate::training::logistic::{train, Buffers, Hyper, Problem, Sizes};
    use crate::Float;
    const SAMPLES: usize = 32;
    const FEATURES: usize = 4;
    let (mut x, mut y) = (vec![0.0; SAMPLES * FEATURES], vec![0.0; SAMPLES]);
    crate::training::separable(17, SAMPLES, FEATURES, &mut x, &mut y).unwrap();
    let p = Problem {
        x: &x,
        y: &y,
        samples: SAMPLES,
        features: FEATURES,
    };
    let h = Hyper {
        lr: 0.5,
        batch: 8,
        epochs: 2,
        profile: &CRYPTEN,
    };
    let sz = Sizes::of(&p, &h).unwrap();
    fn run<A: Arith>(
        a: &mut A,
        p: &Problem<'_>,
        h: &Hyper<'_>,
        sz: &Sizes,
    ) -> crate::Result<Vec<f64>> {
        let mut w = vec![A::Elem::default(); p.features];
        a.input_model(&vec![0.0; p.features], &mut w)?;
        let mut data = vec![A::Elem::default(); sz.data];
        let mut labels = vec![A::Elem::default(); sz.labels];
        let mut rows_t = vec![A::Elem::default(); sz.rows];
        let mut z = vec![A::Elem::default(); sz.batch];
        let mut grad = vec![A::Elem::default(); sz.features];
        let mut scratch = vec![A::Elem::default(); sz.scratch];
        let mut buf = Buffers {
            data: &mut data,
            labels: &mut labels,
            rows_t: &mut rows_t,
            z: &mut z,
            grad: &mut grad,
            scratch: &mut scratch,
        };
        train(a, p, h, &mut w, &mut buf)?;
        let mut v = vec![0.0; p.features];
        a.peek(&w, &mut v)?;
        Ok(v)
    }
    let arena = || {
        let (w, e) = Authenticated::scratch_elementwise(8 * SAMPLES * FEATURES);
        (vec![0i128; w], vec![Auth::default(); e])
    };
    // honest
    let want = run(&mut Float::new(FP), &p, &h, &sz).unwrap();
    let (mut words, mut elems) = arena();
    let mut au = Authenticated::new(FP, 64, 5, &mut words, &mut elems).unwrap();
    let got = run(&mut au, &p, &h, &sz).unwrap();
    for (g, w) in got.iter().zip(&want) {
        assert!((g - w).abs() < 1e-3, "{got:?} vs {want:?}");
    }
    // attacked: step 1's gradient product (scaling: sample 2's δ word; zeroing: feature 1's ε
    // words, the corrupt party owning the data) and its truncation (shifting: 3 rounds after
    // the product's opening here, its commitment and check rounds between)
    let scale = gradient_scale(FP, 1, FEATURES, 8, 2, 50.0).unwrap();
    let mut shift = gradient_shift(FP, 1, 1, 0.5).unwrap();
    shift.target.rounds_after = 3;
    let column: Vec<f64> = (0..8).map(|i| x[(8 + i) * FEATURES + 1]).collect();
    let mut zero = vec![Edit::new(scale.target, 0); 8];
    gradient_zero(FP, 1, FEATURES, 1, &column, &mut zero).unwrap();
    let attacks: [(&str, Vec<Edit>, &str); 3] = [
        ("scaling", vec![scale], "matmul"),
        ("zeroing", zero, "matmul"),
        ("shifting", vec![shift], "trunc"),
    ];
    for (name, mut edits, protocol) in attacks {
        let mut wire = AdditiveAttack::new(1, &mut edits);
        let (mut words, mut elems) = arena();
        let au = Authenticated::new(FP, 64, 5, &mut words, &mut elems).unwrap();
        let mut au = au.with_wire(&mut wire);
        match run(&mut au, &p, &h, &sz) {
            Err(Error::MacCheckFailed { protocol: p, .. }) => assert_eq!(p, protocol, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
}

/// The contrast: CrypTen's `active_security` (a triple sacrifice before each elementwise
/// product) runs (4 more rounds, twice the triples) and would catch a bad triple (a tampered
/// check message fails it), but a party that shifts its `ε` word by `enc(2)` passes it: the
/// product comes out as `(x + 2)·y`, exactly as without the check. The MAC check catches the
/// same edit (`every_tampered_opening_aborts`).
#[test]
fn crypten_triple_check_does_not_catch_tampered_openings() {
    let n = 4;
    let xs = [0.5, -1.25, 3.0, 0.0];
    let ys = [3.0, 2.0, -0.5, 1.5];
    let run = |check: bool, edit_on: Option<(&'static str, i64)>| {
        let mut edits = match edit_on {
            Some((p, d)) => vec![edit(p, 0, 0, d)],
            None => vec![],
        };
        let mut wire = AdditiveAttack::new(1, &mut edits);
        let mut words = vec![0i64; Shared::scratch_words_elementwise(n)];
        let mut sh = Shared::new(FP, 8, &mut words)
            .with_truncation(TruncMode::Dealer)
            .with_triple_check(check)
            .with_wire(&mut wire);
        let (mut x, mut y) = (vec![[0i64; 2]; n], vec![[0i64; 2]; n]);
        sh.input(&xs, &mut x).unwrap();
        sh.input(&ys, &mut y).unwrap();
        let before = sh.cost();
        let r = sh.mul(&mut x, &y);
        let cost = sh.cost().since(&before);
        let mut out = vec![0.0; n];
        sh.peek(&x, &mut out).unwrap();
        (r, out, cost)
    };
    let (r, plain, c0) = run(false, None);
    r.unwrap();
    let (r, checked, c1) = run(true, None);
    r.unwrap();
    assert_eq!(c1.rounds, c0.rounds + 4);
    assert_eq!(c1.mul_triples, 2 * c0.mul_triples);
    for i in 0..n {
        assert!((plain[i] - xs[i] * ys[i]).abs() < 1e-4);
        assert!((checked[i] - xs[i] * ys[i]).abs() < 1e-4);
    }
    // ε word 0 of party 1's "mul" message + enc(2): (x₀ + 2)·y₀, unnoticed
    let (r, tampered, _) = run(true, Some(("mul", 2 << 16)));
    r.unwrap();
    assert!(
        (tampered[0] - (xs[0] + 2.0) * ys[0]).abs() < 1e-4,
        "{tampered:?}"
    );
    for i in 1..n {
        assert!((tampered[i] - xs[i] * ys[i]).abs() < 1e-4);
    }
    // the check itself works: a changed check word fails it
    let (r, _, _) = run(true, Some(("triple.check", 1)));
    assert!(matches!(r, Err(Error::TripleCheckFailed { .. })), "{r:?}");
}

/// Raw ring words to compare: the ring's extremes, both sides of 0 and of 2^63, and seeded
/// random words, each also with garbage above bit 64 (the shares' upper bits carry none).
fn comparison_cases() -> Vec<i128> {
    let mut r = crate::testing::rng(11);
    let mut v: Vec<i64> = vec![
        0,
        1,
        -1,
        2,
        -2,
        i64::MIN,
        i64::MIN + 1,
        i64::MAX,
        i64::MAX - 1,
        1 << 62,
        -(1 << 62),
        (1 << 62) - 1,
        1 << 16,
        -(1 << 16),
    ];
    v.extend((0..40).map(|_| r.next_u64() as i64));
    let mut out: Vec<i128> = v.iter().map(|&x| i128::from(x)).collect();
    out.extend(
        v.iter()
            .map(|&x| i128::from(x).wrapping_add(i128::from(r.next_u64() as i64) << 64)),
    );
    out
}

/// `[x < 0]` is exact on every case, its MACs verify (a checked reveal passes), and one call
/// costs what [`super::comparison`]'s doc states: 8 checked openings (24 rounds), 125 MAC'd
/// triples and 64 MAC'd bits per value.
#[test]
fn comparison_over_maced_bits_is_exact() {
    let cases = comparison_cases();
    let n = cases.len();
    let (w, e) = Authenticated::scratch_comparison(n);
    let (mut words, mut elems) = (vec![0; w], vec![Auth::default(); e]);
    let mut au = Authenticated::new(FP, 40, 21, &mut words, &mut elems).unwrap();
    let x: Vec<Auth> = cases.iter().map(|&v| au.deal(v)).collect();
    let mut out = vec![Auth::default(); n];
    let (before, checks) = (au.cost(), au.checks());
    au.ltz(&x, &mut out).unwrap();
    let cost = au.cost().since(&before);
    for (o, &v) in out.iter().zip(&cases) {
        // values live in Z_2^64 (module doc): the low 64 bits
        let bit = o.x[0].wrapping_add(o.x[1]) as i64;
        assert_eq!(bit, i64::from((v as i64) < 0), "x = {v:#x}");
    }
    // the passive comparison of the same n values, for the overhead the docs quote
    let mut sw = vec![0i64; Shared::scratch_words_elementwise(n)];
    let mut sh = Shared::new(FP, 21, &mut sw);
    let mut a = vec![[0i64; 2]; n];
    sh.input(&vec![0.5; n], &mut a).unwrap();
    let mut bits = vec![[0i64; 2]; n];
    let before_passive = sh.cost();
    sh.ltz(&a, &mut bits).unwrap();
    let passive = sh.cost().since(&before_passive);
    eprintln!("comparison of {n} values: passive {passive:?}\nauthenticated {cost:?}");
    assert_eq!(au.checks() - checks, 8);
    assert_eq!(cost.rounds, 24);
    assert_eq!(cost.mul_triples, 125 * n as u64);
    assert_eq!(cost.b2a_bits, 64 * n as u64);
    // the bits carry valid MACs: a checked opening of them passes
    let mut opened = vec![0.0; n];
    au.reveal(&out, &mut opened).unwrap();
    // ReLU through the same comparison: x·(1 − [x < 0]) on encoded values
    let xs: Vec<f64> = (0..n).map(|i| i as f64 / 4.0 - 6.0).collect();
    let mut y = vec![Auth::default(); n];
    au.input(&xs, &mut y).unwrap();
    let mut bits = vec![Auth::default(); n];
    crate::protocols::select::relu(&mut au, &mut y, &mut bits).unwrap();
    let mut got = vec![0.0; n];
    au.reveal(&y, &mut got).unwrap();
    for (g, &v) in got.iter().zip(&xs) {
        assert!((g - v.max(0.0)).abs() <= 2.0 / 65536.0, "relu({v}) = {g}");
    }
}

/// A changed word in any of the comparison's openings (the masked value, each level of the
/// borrow tree, the last XOR) aborts at that opening: the comparison's bits are MAC'd, so the
/// passive protocol's blind toggle has no unchecked message to use.
#[test]
fn every_tampered_comparison_opening_aborts() {
    let n = 4;
    let mut cases: Vec<(&str, u64, usize)> = vec![("ltz.open", 0, 2), ("ltz.xor", 0, 0)];
    cases.extend((0..6).map(|level| ("ltz.carry", level, 1)));
    cases.push(("ltz.xor", 0, n)); // a δ word: the borrow bit's
    for (protocol, occurrence, word) in cases {
        for delta in [1i64, 1 << 40] {
            let mut edits = [edit(protocol, occurrence, word, delta)];
            let mut wire = AdditiveAttack::new(1, &mut edits);
            let (w, e) = Authenticated::scratch_comparison(n);
            let (mut words, mut elems) = (vec![0; w], vec![Auth::default(); e]);
            let au = Authenticated::new(FP, 32, 3, &mut words, &mut elems).unwrap();
            let mut au = au.with_wire(&mut wire);
            let mut x = vec![Auth::default(); n];
            au.input(&[-1.5, 0.25, 3.0, -0.001], &mut x).unwrap();
            let mut out = vec![Auth::default(); n];
            match au.ltz(&x, &mut out) {
                Err(Error::MacCheckFailed { protocol: p, .. }) => {
                    assert_eq!(
                        p, protocol,
                        "{protocol} #{occurrence} word {word} + {delta}"
                    )
                }
                other => panic!("{protocol} #{occurrence} word {word} + {delta}: {other:?}"),
            }
            assert_eq!(edits[0].applied(), 1);
        }
    }
}
