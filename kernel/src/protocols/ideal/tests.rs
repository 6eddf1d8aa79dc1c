//! The ideal engine against the protocol engine ([`Shared`] with [`Engine::Ideal`] and with
//! [`Engine::Protocol`]): the same ledger after every operation, the same exact results where
//! no truncation intervenes, and the same law of outputs where one does (two-sample tests over
//! many session seeds).
//!
//! The whole-model comparison (LeNet's logits over many seeds) is in `tests/tests/ideal.rs`.

// Binomial variances take a square root on the host; never compared across targets.
#![allow(clippy::disallowed_methods)]

use crate::arith::{Engine, RingArith};
use crate::share::reconstruct;
use crate::testing::{int_in, rng, FP, MODES, S};
use crate::{Arith, Conv2dShape, Cost, MatShape, Share, Shared, TruncMode};
use rand_core::RngCore;

/// One script of every operation of the trait, run on any two-party arithmetic: the ledger
/// after each step, and the exact (untruncated) results it can compare.
fn script<A: RingArith<Elem = Share, Word = i64>>(
    a: &mut A,
    cost: impl Fn(&A) -> Cost,
) -> (Vec<Cost>, Vec<i64>) {
    let mut r = rng(77);
    let n = 24;
    let x: Vec<f64> = (0..n)
        .map(|_| int_in(&mut r, -3000, 3000) as f64 / 1000.0)
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|_| int_in(&mut r, -3000, 3000) as f64 / 1000.0)
        .collect();
    let (mut sx, mut sy) = (vec![[0i64; 2]; n], vec![[0i64; 2]; n]);
    let mut costs = Vec::new();
    let mut exact = Vec::new();
    let peek = |a: &A, v: &[Share], exact: &mut Vec<i64>| {
        let mut o = vec![0i64; v.len()];
        a.peek_ring(v, &mut o).unwrap();
        exact.extend(o);
    };
    a.input(&x, &mut sx).unwrap();
    a.input_model(&y, &mut sy).unwrap();
    costs.push(cost(a));
    let mut t = sx.clone();
    a.mul(&mut t, &sy).unwrap();
    costs.push(cost(a));
    // Bits, then an exact product by them (no truncation).
    let mut bits = vec![[0i64; 2]; n];
    a.ltz(&sx, &mut bits).unwrap();
    peek(a, &bits, &mut exact);
    costs.push(cost(a));
    let mut u = sy.clone();
    a.mul_unscaled(&mut u, &bits).unwrap();
    peek(a, &u, &mut exact);
    costs.push(cost(a));
    let mut b = sx.clone();
    a.mul_bcast(&mut b, &sy[..3], 2).unwrap();
    costs.push(cost(a));
    let mut q = sx.clone();
    a.square(&mut q).unwrap();
    costs.push(cost(a));
    let mut mm = vec![[0i64; 2]; 4 * 2];
    a.matmul(
        &sx[..4 * 6],
        &sy[..6 * 2],
        &mut mm,
        MatShape { m: 4, k: 6, n: 2 },
    )
    .unwrap();
    costs.push(cost(a));
    let s = Conv2dShape {
        batch: 1,
        in_ch: 1,
        h: 4,
        w: 6,
        out_ch: 2,
        kh: 3,
        kw: 3,
        stride: 1,
        pad: 1,
    };
    let mut cv = vec![[0i64; 2]; s.output_len().unwrap()];
    a.conv2d(&sx, &sy[..18], &mut cv, &s).unwrap();
    costs.push(cost(a));
    let mut lc = vec![[0i64; 2]; 8];
    a.lincomb_const(&sx[..16], &[0.5, -1.25], &mut lc).unwrap();
    costs.push(cost(a));
    let mut c = sx.clone();
    a.mul_const(&mut c, 0.3).unwrap();
    costs.push(cost(a));
    a.div_int(&mut c, 1 << 3).unwrap();
    a.div_int(&mut c, 3).unwrap();
    a.div_int_each(&mut c, &|i| [1, 2, 5, 1 << 4][i % 4])
        .unwrap();
    costs.push(cost(a));
    let mut none = [[0i64; 2]; 0];
    a.ltz(&[], &mut none).unwrap();
    costs.push(cost(a));
    let mut out = vec![0.0; n];
    a.reveal(&t, &mut out).unwrap();
    let mut raw = vec![0i64; n];
    a.reveal_ring(&u, &mut raw).unwrap();
    exact.extend(raw);
    costs.push(cost(a));
    (costs, exact)
}

/// Every operation charges the ledger exactly what the protocol does, field by field, in both
/// truncation modes; comparisons and products by bits give the same exact values.
#[test]
fn ideal_charges_what_the_protocols_cost() {
    for mode in MODES {
        for seed in [1u64, 99] {
            let mut w1 = vec![0i64; 1 << 14];
            let mut sh = Shared::new(FP, seed, &mut w1).with_truncation(mode);
            let (c1, e1) = script(&mut sh, |a| a.cost());
            let mut w2 = vec![0i64; 1 << 14];
            let mut id = Shared::new(FP, seed, &mut w2)
                .with_engine(Engine::Ideal)
                .with_truncation(mode);
            let (c2, e2) = script(&mut id, |a| a.cost());
            for (k, (a, b)) in c1.iter().zip(&c2).enumerate() {
                assert_eq!(a, b, "{mode:?} seed {seed}: ledger after step {k}");
            }
            assert_eq!(e1, e2, "{mode:?} seed {seed}: exact results");
            assert!(c1.last().unwrap().rounds > 0);
        }
    }
}

/// The round-up count of share-local and dealer truncation after a product, summed over many
/// values and session seeds, is the same in both engines (two-sample z test, |z| < 5), and
/// each engine's count agrees with the law `P(up) = frac(x·y / 2^f)` on its own.
#[test]
fn ideal_products_round_with_the_protocols_law() {
    let mut r = rng(5);
    let n = 400;
    let xs: Vec<i64> = (0..n).map(|_| int_in(&mut r, -50 * S, 50 * S)).collect();
    let ys: Vec<i64> = (0..n).map(|_| int_in(&mut r, -50 * S, 50 * S)).collect();
    let seeds = 40u64;
    for mode in MODES {
        let mut ups = [0u64; 2];
        let mut expected = 0.0;
        let mut variance = 0.0;
        for (k, ups) in ups.iter_mut().enumerate() {
            for seed in 0..seeds {
                let mut w = vec![0i64; 1 << 16];
                let out = if k == 0 {
                    let mut a = Shared::new(FP, seed, &mut w).with_truncation(mode);
                    product(&mut a, &xs, &ys)
                } else {
                    let mut a = Shared::new(FP, seed, &mut w)
                        .with_engine(Engine::Ideal)
                        .with_truncation(mode);
                    product(&mut a, &xs, &ys)
                };
                for i in 0..n {
                    let p = i128::from(xs[i]) * i128::from(ys[i]);
                    let floor = p.div_euclid(i128::from(S));
                    let got = i128::from(out[i]);
                    assert!(
                        (got - floor).abs() <= 1,
                        "{mode:?} engine {k} seed {seed} [{i}]"
                    );
                    *ups += u64::from(got > floor);
                    if k == 0 {
                        let f = (p.rem_euclid(i128::from(S))) as f64 / S as f64;
                        // Share-local truncation rounds toward zero per share; the +1 law is
                        // checked against the other engine, the mean only loosely.
                        expected += f;
                        variance += f * (1.0 - f);
                    }
                }
            }
        }
        let (a, b) = (ups[0] as f64, ups[1] as f64);
        let z = (a - b) / (2.0 * variance).sqrt().max(1.0);
        assert!(
            z.abs() < 5.0,
            "{mode:?}: round-ups {a} vs {b} (z = {z:.2}, mean {expected:.0})"
        );
    }
}

fn product<A: RingArith<Elem = Share, Word = i64>>(a: &mut A, xs: &[i64], ys: &[i64]) -> Vec<i64> {
    let n = xs.len();
    let (mut x, mut y) = (vec![[0i64; 2]; n], vec![[0i64; 2]; n]);
    a.input_ring(xs, &mut x).unwrap();
    a.input_ring(ys, &mut y).unwrap();
    a.mul(&mut x, &y).unwrap();
    let mut out = vec![0i64; n];
    a.peek_ring(&x, &mut out).unwrap();
    out
}

/// Share-local truncation of a product near the ring's edge wraps at the rate the protocol
/// wraps (`|z| / 2^64` per value): the wrap counts of both engines agree (|z| < 5), and both
/// are far from zero, so the test can tell.
#[test]
fn ideal_wraps_as_often_as_the_protocol() {
    let mut r = rng(8);
    let n = 2000;
    // x·y ≈ ±2^61.5: a wrap chance of about 1/6 per value.
    let xs: Vec<i64> = (0..n).map(|_| int_in(&mut r, 1 << 30, 1 << 31)).collect();
    let ys: Vec<i64> = (0..n)
        .map(|_| {
            let v = int_in(&mut r, 1 << 30, 1 << 31);
            if r.next_u32() & 1 == 0 {
                v
            } else {
                -v
            }
        })
        .collect();
    let mut wraps = [0u64; 2];
    for (k, w) in wraps.iter_mut().enumerate() {
        for seed in 0..10u64 {
            let mut words = vec![0i64; 1 << 15];
            *w += if k == 0 {
                let mut a = Shared::new(FP, seed, &mut words);
                product(&mut a, &xs, &ys);
                a.cost().wrap_events
            } else {
                let mut a = Shared::new(FP, seed, &mut words).with_engine(Engine::Ideal);
                product(&mut a, &xs, &ys);
                a.cost().wrap_events
            };
        }
    }
    let (a, b) = (wraps[0] as f64, wraps[1] as f64);
    assert!(a > 1000.0 && b > 1000.0, "wraps {a} {b}");
    let z = (a - b) / (a + b).sqrt();
    assert!(z.abs() < 5.0, "wraps {a} vs {b} (z = {z:.2})");
}

/// An operation that fails (mismatched lengths, too small an arena) draws nothing and charges
/// nothing, as in [`Shared`].
#[test]
fn ideal_refuses_bad_operands_before_drawing() {
    let mut w = vec![0i64; 4];
    let mut a = Shared::new(FP, 3, &mut w)
        .with_engine(Engine::Ideal)
        .with_truncation(TruncMode::Dealer);
    let mut x = vec![[1i64, 2]; 3];
    assert!(a.mul(&mut x, &[[0, 0]; 2]).is_err());
    assert!(
        a.mul(&mut x, &[[0, 0]; 3]).is_err(),
        "dealer truncation needs an arena"
    );
    let mut out = vec![[0i64; 2]; 4];
    assert!(a
        .matmul(&x, &x, &mut out, MatShape { m: 1, k: 3, n: 1 })
        .is_err());
    assert_eq!(a.cost(), Cost::default());
    assert_eq!(reconstruct(x[0]), 3);
}
