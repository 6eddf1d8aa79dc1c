//! The exact `f64` kernels against the ring kernels: the same words whenever they run, and
//! the ring's turn whenever the bound or the scratch fails.

use super::{conv2d, exact, matmul, max_abs, EXACT};
use crate::linalg::{conv2d_acc, matmul_acc, Conv2dShape, MatShape};
use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Words of magnitude below `2^bits` (both signs), `bits ≤ 63`.
fn words(rng: &mut Xoshiro256PlusPlus, n: usize, bits: u32) -> Vec<i64> {
    (0..n)
        .map(|_| {
            let v = (rng.next_u64() >> (64 - bits)) as i64;
            if rng.next_u64() & 1 == 1 {
                -v
            } else {
                v
            }
        })
        .collect()
}

fn below(rng: &mut Xoshiro256PlusPlus, n: u64) -> usize {
    (rng.next_u64() % n) as usize
}

#[test]
fn the_bound() {
    assert!(exact(1, EXACT - 1, 1));
    assert!(!exact(1, EXACT, 1));
    assert!(!exact(1, 1, EXACT));
    assert!(!exact(0, EXACT, 0), "each operand must convert exactly");
    assert!(exact(0, EXACT - 1, EXACT - 1), "no term, nothing to round");
    // K·A·B = 2^53 − 1 = 6361 · 69431 · 20394401 passes, one step further fails.
    let (a, b) = (6361u64, 69431 * 20394401);
    assert_eq!(u128::from(a) * u128::from(b), (1u128 << 53) - 1);
    assert!(exact(1, a, b));
    assert!(!exact(1, a, b + 1));
    assert!(exact(6361, 1, b));
    assert!(!exact(6362, 1, b));
    assert!(exact(7, 1 << 20, (1 << 30) + 1)); // 7·2^50 + 7·2^20 < 2^53
    assert!(!exact(8, 1 << 20, 1 << 30)); // = 2^53
    assert!(!exact(usize::MAX, u64::MAX, u64::MAX), "no overflow");
    assert_eq!(max_abs(&[i64::MIN, 3]), 1 << 63);
    assert_eq!(max_abs(&[]), 0);
}

#[test]
fn matmul_is_the_ring_matmul() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(14);
    let mut taken = 0;
    for case in 0..400 {
        let s = MatShape {
            m: 1 + below(&mut rng, 9),
            k: below(&mut rng, 40),
            n: 1 + below(&mut rng, 13),
        };
        // Magnitudes around the bound: most cases exact, some just over it.
        let ba = 1 + below(&mut rng, 40) as u32;
        let bb = 1 + below(&mut rng, 40) as u32;
        let a = words(&mut rng, s.m * s.k, ba);
        let b = words(&mut rng, s.k * s.n, bb);
        let init = words(&mut rng, s.m * s.n, 63);
        let mut want = init.clone();
        matmul_acc(&a, &b, &mut want, s).unwrap();
        let mut got = init.clone();
        let mut scratch = vec![0i64; a.len() + b.len()];
        let fast = matmul(&a, &b, &mut got, s, &mut scratch);
        assert_eq!(fast, exact(s.k, max_abs(&a), max_abs(&b)), "case {case}");
        if fast {
            taken += 1;
            assert_eq!(got, want, "case {case}: {s:?}");
        } else {
            assert_eq!(got, init, "nothing written on the fallback");
        }
        // One word of scratch too few: the fallback.
        let mut short = vec![0i64; (a.len() + b.len()).saturating_sub(1)];
        if !a.is_empty() || !b.is_empty() {
            assert!(!matmul(&a, &b, &mut got.clone(), s, &mut short));
        }
    }
    assert!(taken > 200, "{taken}");
}

#[test]
fn conv2d_is_the_ring_conv2d() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(53);
    let mut taken = 0;
    for case in 0..400 {
        let kh = 1 + below(&mut rng, 5);
        let kw = 1 + below(&mut rng, 5);
        let pad = below(&mut rng, 3);
        let s = Conv2dShape {
            batch: 1 + below(&mut rng, 3),
            in_ch: 1 + below(&mut rng, 3),
            h: (kh + below(&mut rng, 9)).saturating_sub(2 * pad).max(1),
            w: (kw + below(&mut rng, 9)).saturating_sub(2 * pad).max(1),
            out_ch: 1 + below(&mut rng, 9),
            kh,
            kw,
            stride: 1 + below(&mut rng, 3),
            pad,
        };
        if s.out_hw().is_err() {
            continue;
        }
        let ba = 1 + below(&mut rng, 36) as u32;
        let bb = 1 + below(&mut rng, 36) as u32;
        let x = words(&mut rng, s.input_len().unwrap(), ba);
        let w = words(&mut rng, s.weight_len().unwrap(), bb);
        let init = words(&mut rng, s.output_len().unwrap(), 63);
        let mut want = init.clone();
        conv2d_acc(&x, &w, &mut want, &s).unwrap();
        let mut got = init.clone();
        let mut scratch = vec![0i64; x.len() + w.len() + 4096];
        let q = s.in_ch * s.kh * s.kw;
        let fast = conv2d(&x, &w, &mut got, &s, &mut scratch);
        assert_eq!(
            fast,
            exact(q, max_abs(&x), max_abs(&w)),
            "case {case}: {s:?}"
        );
        if fast {
            taken += 1;
            assert_eq!(got, want, "case {case}: {s:?}");
        } else {
            assert_eq!(got, init, "nothing written on the fallback");
        }
        assert!(
            !conv2d(&x, &w, &mut got, &s, &mut []),
            "no scratch: the fallback"
        );
    }
    assert!(taken > 150, "{taken}");
}

/// LeNet's shapes at the fixed-point magnitudes they meet (inputs and weights at scale 2^16).
#[test]
fn lenet_shapes_take_the_fast_path() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    for s in [
        Conv2dShape {
            batch: 3,
            in_ch: 1,
            h: 28,
            w: 28,
            out_ch: 6,
            kh: 5,
            kw: 5,
            stride: 1,
            pad: 2,
        },
        Conv2dShape {
            batch: 2,
            in_ch: 6,
            h: 14,
            w: 14,
            out_ch: 16,
            kh: 5,
            kw: 5,
            stride: 1,
            pad: 0,
        },
    ] {
        let x = words(&mut rng, s.input_len().unwrap(), 19);
        let w = words(&mut rng, s.weight_len().unwrap(), 18);
        let mut want = vec![0; s.output_len().unwrap()];
        conv2d_acc(&x, &w, &mut want, &s).unwrap();
        let mut got = vec![0; want.len()];
        let mut scratch = vec![0i64; x.len() + w.len()];
        assert!(conv2d(&x, &w, &mut got, &s, &mut scratch));
        assert_eq!(got, want);
    }
    let s = MatShape {
        m: 5,
        k: 400,
        n: 120,
    };
    let a = words(&mut rng, s.m * s.k, 18);
    let b = words(&mut rng, s.k * s.n, 18);
    let mut want = vec![0; s.m * s.n];
    matmul_acc(&a, &b, &mut want, s).unwrap();
    let mut got = vec![0; want.len()];
    assert!(matmul(&a, &b, &mut got, s, &mut vec![0; a.len() + b.len()]));
    assert_eq!(got, want);
}

/// Wrong lengths are refused, never indexed.
#[test]
fn unchecked_shapes_are_refused() {
    let mut scratch = [0i64; 64];
    let s = MatShape { m: 2, k: 2, n: 2 };
    assert!(!matmul(&[1; 3], &[1; 4], &mut [0; 4], s, &mut scratch));
    let c = Conv2dShape {
        batch: 1,
        in_ch: 1,
        h: 3,
        w: 3,
        out_ch: 1,
        kh: 2,
        kw: 2,
        stride: 1,
        pad: 0,
    };
    assert!(!conv2d(&[1; 8], &[1; 4], &mut [0; 4], &c, &mut scratch));
    assert!(conv2d(&[1; 9], &[1; 4], &mut [0; 4], &c, &mut scratch));
}
