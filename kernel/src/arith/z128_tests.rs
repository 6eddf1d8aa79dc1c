//! The arithmetics in Z_2^128 (`Fixed<i128>`, `Shared<'_, i128>`): the same protocol text as
//! in Z_2^64, with the width's own constants. Golden values are exact `i128` math (wrapping
//! products, floor division, signs); the ledger is checked against the protocols' documented
//! counts for k = 128.

use super::{Arith, Engine, RingArith};
use crate::fixed::FixedPoint;
use crate::protocols::truncation::TruncMode;
use crate::share::Share;
use crate::testing::rng;
use crate::{Fixed, Shared};
use rand_core::RngCore;

fn fp128() -> FixedPoint {
    FixedPoint::spu(26)
        .unwrap()
        .with_ring(crate::encoding::RingWidth::Z128)
}

fn any128(r: &mut impl RngCore) -> i128 {
    ((r.next_u64() as u128) << 64 | r.next_u64() as u128) as i128
}

/// Values that a 64-bit ring would get wrong: around ±2^63, ±2^64, the ring's own ends.
fn edges128() -> Vec<i128> {
    let mut v = vec![
        i128::MIN,
        i128::MIN + 1,
        i128::MAX,
        i128::MAX - 1,
        -1,
        0,
        1,
        1 << 63,
        -(1 << 63) - 1,
        1 << 64,
        -(1 << 64),
        (1 << 64) - 1,
        1 << 126,
        -(1 << 126),
    ];
    let mut r = rng(128);
    v.extend((0..50).map(|_| any128(&mut r)));
    v
}

fn shares(sh: &mut Shared<'_, i128>, raw: &[i128]) -> Vec<Share<i128>> {
    let mut x = vec![[0i128; 2]; raw.len()];
    sh.input_ring(raw, &mut x).unwrap();
    x
}

fn open(sh: &Shared<'_, i128>, x: &[Share<i128>]) -> Vec<i128> {
    let mut out = vec![0i128; x.len()];
    sh.peek_ring(x, &mut out).unwrap();
    out
}

#[test]
fn z128_products_and_comparisons_are_exact_in_both_engines() {
    let xs = edges128();
    let mut r = rng(7);
    let ys: Vec<i128> = xs.iter().map(|_| any128(&mut r)).collect();
    let n = xs.len();
    for engine in Engine::ALL {
        let mut words = vec![0i128; Shared::scratch_words_elementwise(n)];
        let mut sh = Shared::in_ring(fp128(), 11, &mut words).with_engine(engine);
        let x = shares(&mut sh, &xs);
        assert_eq!(open(&sh, &x), xs, "{engine:?}: sharing");
        let mut p = x.clone();
        let y = shares(&mut sh, &ys);
        sh.mul_unscaled(&mut p, &y).unwrap();
        let want: Vec<i128> = xs
            .iter()
            .zip(&ys)
            .map(|(a, b)| a.wrapping_mul(*b))
            .collect();
        assert_eq!(open(&sh, &p), want, "{engine:?}: products mod 2^128");
        let mut bits = vec![[0i128; 2]; n];
        sh.ltz(&x, &mut bits).unwrap();
        let want: Vec<i128> = xs.iter().map(|&v| i128::from(v < 0)).collect();
        assert_eq!(open(&sh, &bits), want, "{engine:?}: signs of 128-bit words");
    }
}

/// Dealer truncation in Z_2^128 is exact up to its +1 on `[−2^126, 2^126)` (the offset is
/// 2^(k−2)); share-local truncation and the SR+1 law round down or up, never further.
#[test]
fn z128_truncations_round_within_one_unit() {
    let k = 26u32;
    let d = 1i128 << k;
    let mut xs = vec![-(1i128 << 126), (1i128 << 126) - 1, -1, 0, 1, (1 << 80) + 5];
    let mut r = rng(3);
    xs.extend((0..400).map(|_| any128(&mut r) >> 2));
    for mode in [
        TruncMode::Dealer,
        TruncMode::Local,
        TruncMode::Law(crate::protocols::laws::TruncationLaw::StochasticRoundingPlusOne),
    ] {
        // share-local truncation of values near 2^126 wraps with probability ≈ |x|/2^128:
        // keep its values small enough that no wrap occurs at this seed
        let vals: Vec<i128> = if mode == TruncMode::Local {
            xs.iter().map(|v| v >> 24).collect()
        } else {
            xs.clone()
        };
        let n = vals.len();
        let mut words = vec![0i128; Shared::scratch_words_elementwise(n)];
        let mut sh = Shared::in_ring(fp128(), 5, &mut words).with_truncation(mode);
        let mut x = shares(&mut sh, &vals);
        sh.div_int(&mut x, d as u64).unwrap();
        for (got, &v) in open(&sh, &x).iter().zip(&vals) {
            let up = got - v.div_euclid(d);
            assert!(up == 0 || up == 1, "{mode:?}: {v} / 2^{k} gave {got}");
        }
        assert_eq!(sh.cost().wrap_events, 0, "{mode:?}");
    }
}

/// The ledger in Z_2^128: 16-byte words, and the comparison's adder one level deeper
/// (9 rounds, 15 AND triples per value), the same in both engines.
#[test]
fn z128_ledger_counts_wide_words_and_the_deeper_adder() {
    let n = 3usize;
    for engine in Engine::ALL {
        let mut words = vec![0i128; Shared::scratch_words_elementwise(n)];
        let mut sh = Shared::in_ring(fp128(), 2, &mut words).with_engine(engine);
        let x = shares(&mut sh, &[-5, 0, 1 << 100]);
        let mut bits = vec![[0i128; 2]; n];
        sh.ltz(&x, &mut bits).unwrap();
        let c = sh.cost();
        assert_eq!(c.rounds, 9, "{engine:?}");
        assert_eq!(c.and_triples, 15 * n as u64, "{engine:?}");
        assert_eq!(c.b2a_bits, n as u64, "{engine:?}");
        assert_eq!(c.bytes_sent, [16 * 31 * n as u64; 2], "{engine:?}");
        let mut y = x.clone();
        sh.mul_unscaled(&mut y, &x).unwrap();
        let c = sh.cost();
        assert_eq!(c.rounds, 10, "{engine:?}");
        assert_eq!(c.bytes_sent, [16 * (31 + 2) * n as u64; 2], "{engine:?}");
    }
}

/// A chunked elementwise pipeline (ideal engine, share-local truncation) gives the very words
/// of the single call in Z_2^128 too: its cursors jump two generator outputs per word.
#[test]
fn z128_chunked_pipelines_equal_the_single_call() {
    let n = 2500usize;
    let mut r = rng(9);
    let vals: Vec<i128> = (0..n).map(|_| any128(&mut r) >> 70).collect();
    let run = |max_ops: usize| {
        let mut words = vec![0i128; Shared::scratch_words_elementwise(n)];
        let mut sh = Shared::in_ring(fp128(), 21, &mut words).with_engine(Engine::Ideal);
        let mut x = shares(&mut sh, &vals);
        let y = x.clone();
        let mut bits = vec![[0i128; 2]; n];
        sh.elementwise_chunks(n, max_ops, &mut |a, lo, hi| {
            a.mul(&mut x[lo..hi], &y[lo..hi])?;
            a.square(&mut x[lo..hi])?;
            a.ltz(&y[lo..hi], &mut bits[lo..hi])
        })
        .unwrap();
        (x, bits, sh.cost())
    };
    let chunked = run(3);
    let single = run(1000);
    assert_eq!(chunked, single);
}

/// The same algorithm in Fixed over Z_2^64 and over Z_2^128, with the same scale, gives the
/// same integers wherever no intermediate leaves the 64-bit range.
#[test]
fn z128_fixed_equals_z64_fixed_where_values_fit() {
    use crate::approx::{self, profile, Function, Levels};
    let p = &profile::SPU;
    let fp64 = FixedPoint::spu(18).unwrap();
    let fp128 = fp64.with_ring(crate::encoding::RingWidth::Z128);
    let xs: Vec<f64> = (0..200).map(|i| -6.0 + 12.0 * i as f64 / 199.0).collect();
    for f in [
        Function::Sigmoid,
        Function::Tanh,
        Function::Exp,
        Function::GeluTanh,
    ] {
        let mut a = Fixed::new(fp64);
        let mut v64 = vec![0i64; xs.len()];
        a.input(&xs, &mut v64).unwrap();
        let mut s = vec![0i64; approx::scratch_elems(xs.len())];
        approx::eval(
            &mut a,
            f,
            p,
            &mut v64,
            &Levels::Uniform(p.sigmoid_level),
            &mut s,
        )
        .unwrap();
        let mut b = Fixed::<i128>::in_ring(fp128);
        let mut v128 = vec![0i128; xs.len()];
        b.input(&xs, &mut v128).unwrap();
        let mut s = vec![0i128; approx::scratch_elems(xs.len())];
        approx::eval(
            &mut b,
            f,
            p,
            &mut v128,
            &Levels::Uniform(p.sigmoid_level),
            &mut s,
        )
        .unwrap();
        let widened: Vec<i128> = v64.iter().map(|&v| i128::from(v)).collect();
        assert_eq!(v128, widened, "{f:?}");
    }
}
