//! Seeded property tests of the arithmetic laws stated in `kernel/src/arith/mod.rs` and the
//! protocol docs.
//!
//! Goal: every law a later module relies on is checked on edge values and on seeded random
//! values: sharing reconstructs exactly; `Shared` products equal `Fixed` ones up to one ring
//! unit per truncation; comparisons are exact on the whole ring; dealer truncation never wraps
//! in its range; share-local truncation follows its stochastic-rounding law and wraps at rate
//! |x|/2^64 with an error of exactly ∓2^64/d; max/argmax/pooling agree across the three
//! arithmetics; the seed derivation is the documented recipe; runs are reproducible.
//!
//! Inputs come from `seed::stream(seed, StreamId::Synthetic)`; every assertion names its seed.

use mpcdiff_kernel::arith::RingArith;
use mpcdiff_kernel::nn::pooling::{avg_pool2d, max_pool2d, scratch_elems_max_pool2d};
use mpcdiff_kernel::protocols::maximum::{max_rows, scratch_elems_max};
use mpcdiff_kernel::protocols::select;
use mpcdiff_kernel::seed::{self, splitmix64, StreamId};
use mpcdiff_kernel::share::{reconstruct, share_from};
use mpcdiff_kernel::{
    Arith, Conv2dShape, Cost, Digest, Fixed, FixedPoint, Float, MatShape, Pool2dShape, Share,
    Shared, TruncMode,
};
use mpcdiff_tests::support::{
    any_ring, ceil_div, floor_div, int_in, ring_edges, rng, trunc_div, usize_in, within_sigma,
};
use rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const FP: FixedPoint = FixedPoint::CRYPTEN_DEFAULT;
const S: i64 = 1 << 16;
const SEEDS: [u64; 4] = [1, 0x5EED, 2024, u64::MAX];
const MODES: [TruncMode; 2] = [TruncMode::Local, TruncMode::Dealer];

fn arena(words: usize) -> Vec<i64> {
    vec![0i64; words]
}

fn session(seed: u64, mode: TruncMode, arena: &mut [i64]) -> Shared<'_> {
    Shared::new(FP, seed, arena).with_truncation(mode)
}

fn share_ring(mpc: &mut Shared<'_>, raw: &[i64]) -> Vec<Share> {
    let mut out = vec![[0i64; 2]; raw.len()];
    mpc.input_ring(raw, &mut out).unwrap();
    out
}

fn open(mpc: &Shared<'_>, x: &[Share]) -> Vec<i64> {
    let mut out = vec![0i64; x.len()];
    mpc.peek_ring(x, &mut out).unwrap();
    out
}

/// Small fixed-point raws (|value| ≤ 8), so pre-truncation products stay below 2^41 and the
/// rare share-local events (probability |x|/2^64) are negligible.
fn small_raws(r: &mut impl RngCore, n: usize) -> Vec<i64> {
    let mut v: Vec<i64> = (0..n).map(|_| int_in(r, -8 * S, 8 * S)).collect();
    // Edge values: 0 and ±1 ulp, exact integers (truncation of exact multiples).
    for (i, e) in [0, 1, -1, S, -S, 2 * S + 1, -(2 * S) - 1]
        .into_iter()
        .enumerate()
    {
        if i < n {
            v[i] = e;
        }
    }
    v
}

/// Checks one truncated output of `Shared` against the exact pre-truncation value `x` and
/// `Fixed`'s `tdiv(x, d)`: within one ring unit of `Fixed`, and one of ⌊x/d⌋, ⌈x/d⌉ (local)
/// or ⌊x/d⌋, ⌊x/d⌋ + 1 (dealer).
fn check_trunc(what: &str, seed: u64, mode: TruncMode, i: usize, x: i128, d: i128, got: i64) {
    let got = i128::from(got);
    let fixed = trunc_div(x, d);
    assert!(
        (got - fixed).abs() <= 1,
        "{what} seed {seed} {mode:?} [{i}]: shared {got}, fixed {fixed} (x = {x}, d = {d})"
    );
    let (lo, hi) = match mode {
        TruncMode::Local => (floor_div(x, d), ceil_div(x, d)),
        TruncMode::Dealer => (floor_div(x, d), floor_div(x, d) + 1),
    };
    assert!(
        got == lo || got == hi,
        "{what} seed {seed} {mode:?} [{i}]: shared {got} not in {{{lo}, {hi}}} (x = {x}, d = {d})"
    );
}

#[test]
fn sharing_reconstructs_inputs_including_edges() {
    for seed in SEEDS {
        let mut r = rng(seed);
        // Reals through `input`: random, ±1 ulp, values below one ulp, the encodable extremes.
        let mut reals: Vec<f64> = (0..200)
            .map(|_| (seed::unit_f64(&mut r) - 0.5) * 2000.0)
            .collect();
        let ulp = 1.0 / S as f64;
        reals.extend([
            0.0,
            -0.0,
            ulp,
            -ulp,
            ulp / 2.0,
            -ulp / 2.0,
            // The largest f64 below 2^47 (2^47 − 2^−6): encodes to 2^63 − 2^10.
            f64::from_bits(2f64.powi(47).to_bits() - 1),
            -(2f64.powi(47)),
            0.1,
            -0.1,
        ]);
        let n = reals.len();
        let mut a = arena(2 * n);
        let mut mpc = session(seed, TruncMode::Local, &mut a);
        let mut sh = vec![[0i64; 2]; n];
        mpc.input(&reals, &mut sh).unwrap();
        let mut revealed = vec![0.0; n];
        mpc.reveal(&sh, &mut revealed).unwrap();
        let mut fx = Fixed::new(FP);
        let mut enc = vec![0i64; n];
        fx.input(&reals, &mut enc).unwrap();
        for i in 0..n {
            let want = FP.encode(reals[i]).unwrap();
            assert_eq!(enc[i], want, "seed {seed} [{i}]: Fixed input");
            assert_eq!(reconstruct(sh[i]), want, "seed {seed} [{i}] = {}", reals[i]);
            assert_eq!(
                revealed[i].to_bits(),
                FP.decode(want).to_bits(),
                "seed {seed} [{i}]: reveal"
            );
        }
        // Raw ring values through `input_ring`, the whole ring including i64::MIN/MAX.
        let mut raws = ring_edges();
        raws.extend((0..200).map(|_| any_ring(&mut r)));
        let n = raws.len();
        let mut a = arena(2 * n);
        let mut mpc = session(seed, TruncMode::Local, &mut a);
        let sh = share_ring(&mut mpc, &raws);
        let mut out = vec![0i64; n];
        mpc.reveal_ring(&sh, &mut out).unwrap();
        assert_eq!(out, raws, "seed {seed}: reveal_ring(input_ring(x)) != x");
        assert_eq!(open(&mpc, &sh), raws, "seed {seed}: peek_ring");
        // Each share alone carries no information: over many inputs, party 0's shares are not
        // the values themselves (a sharing that forgot the mask would fail here).
        let equal = sh.iter().zip(&raws).filter(|(s, &v)| s[0] == v).count();
        assert!(
            equal <= 1,
            "seed {seed}: {equal} party-0 shares equal the value"
        );
        assert_eq!(
            mpc.cost().rounds,
            1,
            "seed {seed}: input is free, reveal one round"
        );
    }
    // share_from: either party may own the value.
    let mut przs = seed::stream(9, StreamId::Przs);
    for v in ring_edges() {
        for src in 0..2 {
            assert_eq!(reconstruct(share_from(&mut przs, src, v)), v);
        }
    }
}

#[test]
fn local_linear_ops_are_exact_and_free() {
    for seed in SEEDS {
        let mut r = rng(seed);
        let n = 64;
        let mut xs: Vec<i64> = (0..n).map(|_| any_ring(&mut r)).collect();
        let mut ys: Vec<i64> = (0..n).map(|_| any_ring(&mut r)).collect();
        xs[..8].copy_from_slice(&[0, 1, -1, i64::MIN, i64::MAX, i64::MIN, i64::MAX, 5]);
        ys[..8].copy_from_slice(&[0, -1, 1, i64::MIN, 1, -1, i64::MAX, -5]);
        let k = int_in(&mut r, -1000, 1000);
        let c = (seed::unit_f64(&mut r) - 0.5) * 100.0;
        let mut a = arena(0);
        let mut mpc = session(seed, TruncMode::Local, &mut a);
        let mut fx = Fixed::new(FP);
        let x = share_ring(&mut mpc, &xs);
        let y = share_ring(&mut mpc, &ys);
        let before = mpc.cost();
        let mut fxx = xs.clone();

        let mut t = x.clone();
        mpc.add(&mut t, &y).unwrap();
        let mut f = fxx.clone();
        fx.add(&mut f, &ys).unwrap();
        let want: Vec<i64> = xs
            .iter()
            .zip(&ys)
            .map(|(a, b)| a.wrapping_add(*b))
            .collect();
        assert_eq!(f, want, "seed {seed}: Fixed add");
        assert_eq!(open(&mpc, &t), want, "seed {seed}: add");

        let mut t = x.clone();
        mpc.sub(&mut t, &y).unwrap();
        let want: Vec<i64> = xs
            .iter()
            .zip(&ys)
            .map(|(a, b)| a.wrapping_sub(*b))
            .collect();
        assert_eq!(open(&mpc, &t), want, "seed {seed}: sub");

        let mut t = x.clone();
        mpc.neg(&mut t);
        fx.neg(&mut fxx);
        let want: Vec<i64> = xs.iter().map(|a| a.wrapping_neg()).collect();
        assert_eq!(fxx, want, "seed {seed}: Fixed neg");
        assert_eq!(open(&mpc, &t), want, "seed {seed}: neg");

        let mut t = x.clone();
        mpc.mul_int(&mut t, k);
        let want: Vec<i64> = xs.iter().map(|a| a.wrapping_mul(k)).collect();
        assert_eq!(open(&mpc, &t), want, "seed {seed}: mul_int {k}");

        let mut t = x.clone();
        mpc.add_int(&mut t, k);
        let want: Vec<i64> = xs.iter().map(|a| a.wrapping_add(k)).collect();
        assert_eq!(open(&mpc, &t), want, "seed {seed}: add_int {k}");

        let mut t = x.clone();
        mpc.add_const(&mut t, c).unwrap();
        let ce = FP.encode(c).unwrap();
        let want: Vec<i64> = xs.iter().map(|a| a.wrapping_add(ce)).collect();
        assert_eq!(open(&mpc, &t), want, "seed {seed}: add_const {c}");

        let mut t = x.clone();
        mpc.rsub_const(&mut t, c).unwrap();
        let want: Vec<i64> = xs.iter().map(|a| ce.wrapping_sub(*a)).collect();
        assert_eq!(open(&mpc, &t), want, "seed {seed}: rsub_const {c}");

        assert_eq!(
            mpc.cost(),
            before,
            "seed {seed}: local ops must cost nothing"
        );
    }
}

#[test]
fn shared_elementwise_products_equal_fixed_within_one_unit() {
    for seed in SEEDS {
        for mode in MODES {
            let mut r = rng(seed);
            let n = 300;
            let xs = small_raws(&mut r, n);
            let mut ys = small_raws(&mut r, n);
            ys.reverse();
            let mut a = arena(Shared::scratch_words_elementwise(n));
            let mut mpc = session(seed, mode, &mut a);
            let mut fx = Fixed::new(FP);

            // mul
            let mut x = share_ring(&mut mpc, &xs);
            let y = share_ring(&mut mpc, &ys);
            mpc.mul(&mut x, &y).unwrap();
            let got = open(&mpc, &x);
            let mut f = xs.clone();
            fx.mul(&mut f, &ys).unwrap();
            for i in 0..n {
                let exact = i128::from(xs[i]) * i128::from(ys[i]);
                assert_eq!(
                    i128::from(f[i]),
                    trunc_div(exact, S.into()),
                    "seed {seed}: Fixed mul [{i}]"
                );
                check_trunc("mul", seed, mode, i, exact, S.into(), got[i]);
            }

            // square
            let mut x = share_ring(&mut mpc, &xs);
            mpc.square(&mut x).unwrap();
            let got = open(&mpc, &x);
            let mut f = xs.clone();
            fx.square(&mut f).unwrap();
            for i in 0..n {
                let exact = i128::from(xs[i]) * i128::from(xs[i]);
                assert_eq!(
                    i128::from(f[i]),
                    trunc_div(exact, S.into()),
                    "seed {seed}: Fixed square [{i}]"
                );
                check_trunc("square", seed, mode, i, exact, S.into(), got[i]);
            }

            // mul_const with a random public real and a few edge constants
            for c in [
                (seed::unit_f64(&mut r) - 0.5) * 16.0,
                0.1,
                -1.0,
                1.0 / S as f64,
                0.0,
            ] {
                let ce = FP.encode(c).unwrap();
                let mut x = share_ring(&mut mpc, &xs);
                mpc.mul_const(&mut x, c).unwrap();
                let got = open(&mpc, &x);
                let mut f = xs.clone();
                fx.mul_const(&mut f, c).unwrap();
                for i in 0..n {
                    let exact = i128::from(xs[i]) * i128::from(ce);
                    assert_eq!(
                        i128::from(f[i]),
                        trunc_div(exact, S.into()),
                        "seed {seed}: Fixed mul_const {c} [{i}]"
                    );
                    check_trunc("mul_const", seed, mode, i, exact, S.into(), got[i]);
                }
            }

            // div_int, powers of two (dealer path) and others (local fallback), on values up
            // to 2^40 (share-local rare events have probability ≤ 2^-24 per element).
            let wide: Vec<i64> = (0..n)
                .map(|_| int_in(&mut r, -(1 << 40), 1 << 40))
                .collect();
            for d in [2u64, 3, 7, 1000, 1 << 16, 1 << 20, 1 << 40] {
                let mut x = share_ring(&mut mpc, &wide);
                mpc.div_int(&mut x, d).unwrap();
                let got = open(&mpc, &x);
                let mut f = wide.clone();
                fx.div_int(&mut f, d).unwrap();
                let dd = i128::from(d);
                // Non-powers of two fall back to local truncation in dealer mode too.
                let law = if d.is_power_of_two() {
                    mode
                } else {
                    TruncMode::Local
                };
                for i in 0..n {
                    assert_eq!(
                        i128::from(f[i]),
                        trunc_div(wide[i].into(), dd),
                        "seed {seed}: Fixed div {d} [{i}]"
                    );
                    check_trunc("div_int", seed, law, i, wide[i].into(), dd, got[i]);
                }
            }
            assert_eq!(mpc.cost().wrap_events, 0, "seed {seed} {mode:?}: wraps");
        }
    }
}

/// `lincomb_const` (one truncation per output of Σ enc(c_j)·t_j) and `div_int_each` (a
/// divisor per element): `Shared` equals `Fixed` within one unit, `Fixed` equals the exact
/// integer recipe.
#[test]
fn shared_batched_truncations_equal_fixed_within_one_unit() {
    for seed in SEEDS {
        for mode in MODES {
            let mut r = rng(seed);
            let n = 40;
            let c = 3;
            let terms = small_raws(&mut r, c * n);
            let coeffs: Vec<f64> = (0..c)
                .map(|_| (seed::unit_f64(&mut r) - 0.5) * 4.0)
                .collect();
            let enc: Vec<i64> = coeffs.iter().map(|&v| FP.encode(v).unwrap()).collect();
            let mut fx = Fixed::new(FP);
            let mut fo = vec![0i64; n];
            fx.lincomb_const(&terms, &coeffs, &mut fo).unwrap();
            let mut ar = arena(Shared::scratch_words_elementwise(c * n));
            let mut mpc = session(seed, mode, &mut ar);
            let t = share_ring(&mut mpc, &terms);
            let mut o = vec![[0i64; 2]; n];
            mpc.lincomb_const(&t, &coeffs, &mut o).unwrap();
            let got = open(&mpc, &o);
            for i in 0..n {
                let exact: i128 = (0..c)
                    .map(|j| i128::from(enc[j]) * i128::from(terms[j * n + i]))
                    .sum();
                assert_eq!(
                    i128::from(fo[i]),
                    trunc_div(exact, S.into()),
                    "seed {seed}: Fixed lincomb [{i}]"
                );
                check_trunc("lincomb_const", seed, mode, i, exact, S.into(), got[i]);
            }

            let xs: Vec<i64> = (0..n)
                .map(|_| int_in(&mut r, -(1 << 40), 1 << 40))
                .collect();
            let ds: Vec<u64> = (0..n)
                .map(|_| [1u64, 2, 3, 10, 1 << 16, 1 << 20][(r.next_u64() % 6) as usize])
                .collect();
            let d = |i: usize| ds[i];
            let mut f = xs.clone();
            fx.div_int_each(&mut f, &d).unwrap();
            let mut x = share_ring(&mut mpc, &xs);
            mpc.div_int_each(&mut x, &d).unwrap();
            let got = open(&mpc, &x);
            for i in 0..n {
                let dd = i128::from(ds[i]);
                assert_eq!(
                    i128::from(f[i]),
                    trunc_div(xs[i].into(), dd),
                    "seed {seed}: Fixed div_each [{i}]"
                );
                let law = if ds[i].is_power_of_two() {
                    mode
                } else {
                    TruncMode::Local
                };
                check_trunc("div_int_each", seed, law, i, xs[i].into(), dd, got[i]);
            }
        }
    }
}

/// Plain i128 matmul, the independent reference.
fn naive_matmul(a: &[i64], b: &[i64], s: MatShape) -> Vec<i128> {
    let mut out = vec![0i128; s.m * s.n];
    for i in 0..s.m {
        for j in 0..s.n {
            for p in 0..s.k {
                out[i * s.n + j] += i128::from(a[i * s.k + p]) * i128::from(b[p * s.n + j]);
            }
        }
    }
    out
}

/// Plain i128 convolution with PyTorch's semantics (cross-correlation, zero padding), the
/// independent reference.
fn naive_conv(x: &[i64], w: &[i64], s: &Conv2dShape) -> Vec<i128> {
    let oh = (s.h + 2 * s.pad - s.kh) / s.stride + 1;
    let ow = (s.w + 2 * s.pad - s.kw) / s.stride + 1;
    let mut out = vec![0i128; s.batch * s.out_ch * oh * ow];
    for b in 0..s.batch {
        for oc in 0..s.out_ch {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut acc = 0i128;
                    for ic in 0..s.in_ch {
                        for ky in 0..s.kh {
                            for kx in 0..s.kw {
                                let iy = (oy * s.stride + ky) as isize - s.pad as isize;
                                let ix = (ox * s.stride + kx) as isize - s.pad as isize;
                                if iy < 0 || ix < 0 || iy >= s.h as isize || ix >= s.w as isize {
                                    continue;
                                }
                                let xv =
                                    x[((b * s.in_ch + ic) * s.h + iy as usize) * s.w + ix as usize];
                                let wv = w[((oc * s.in_ch + ic) * s.kh + ky) * s.kw + kx];
                                acc += i128::from(xv) * i128::from(wv);
                            }
                        }
                    }
                    out[((b * s.out_ch + oc) * oh + oy) * ow + ox] = acc;
                }
            }
        }
    }
    out
}

#[test]
fn shared_matmul_and_conv2d_equal_fixed_within_one_unit() {
    for seed in SEEDS {
        for mode in MODES {
            let mut r = rng(seed);
            for _ in 0..6 {
                let s = MatShape {
                    m: usize_in(&mut r, 1, 6),
                    k: usize_in(&mut r, 1, 8),
                    n: usize_in(&mut r, 1, 6),
                };
                let av = small_raws(&mut r, s.m * s.k);
                let bv = small_raws(&mut r, s.k * s.n);
                let mut fx = Fixed::new(FP);
                let mut fo = vec![0i64; s.m * s.n];
                fx.matmul(&av, &bv, &mut fo, s).unwrap();
                let exact = naive_matmul(&av, &bv, s);
                let mut ar = arena(Shared::scratch_words_matmul(s));
                let mut mpc = session(seed, mode, &mut ar);
                let a = share_ring(&mut mpc, &av);
                let b = share_ring(&mut mpc, &bv);
                let mut o = vec![[0i64; 2]; s.m * s.n];
                mpc.matmul(&a, &b, &mut o, s).unwrap();
                let got = open(&mpc, &o);
                for i in 0..s.m * s.n {
                    assert_eq!(
                        i128::from(fo[i]),
                        trunc_div(exact[i], S.into()),
                        "seed {seed}: Fixed matmul {s:?} [{i}]"
                    );
                    check_trunc("matmul", seed, mode, i, exact[i], S.into(), got[i]);
                }
            }
            for _ in 0..6 {
                let kh = usize_in(&mut r, 1, 3);
                let kw = usize_in(&mut r, 1, 3);
                let s = Conv2dShape {
                    batch: usize_in(&mut r, 1, 2),
                    in_ch: usize_in(&mut r, 1, 3),
                    h: usize_in(&mut r, kh, 6),
                    w: usize_in(&mut r, kw, 6),
                    out_ch: usize_in(&mut r, 1, 3),
                    kh,
                    kw,
                    stride: usize_in(&mut r, 1, 2),
                    pad: usize_in(&mut r, 0, 1),
                };
                let xv = small_raws(&mut r, s.input_len().unwrap());
                let wv = small_raws(&mut r, s.weight_len().unwrap());
                let nout = s.output_len().unwrap();
                let exact = naive_conv(&xv, &wv, &s);
                assert_eq!(exact.len(), nout, "seed {seed}: output_len {s:?}");
                let mut fx = Fixed::new(FP);
                let mut fo = vec![0i64; nout];
                fx.conv2d(&xv, &wv, &mut fo, &s).unwrap();
                let mut ar = arena(Shared::scratch_words_conv2d(&s).unwrap());
                let mut mpc = session(seed, mode, &mut ar);
                let x = share_ring(&mut mpc, &xv);
                let w = share_ring(&mut mpc, &wv);
                let mut o = vec![[0i64; 2]; nout];
                mpc.conv2d(&x, &w, &mut o, &s).unwrap();
                let got = open(&mpc, &o);
                for i in 0..nout {
                    assert_eq!(
                        i128::from(fo[i]),
                        trunc_div(exact[i], S.into()),
                        "seed {seed}: Fixed conv2d {s:?} [{i}]"
                    );
                    check_trunc("conv2d", seed, mode, i, exact[i], S.into(), got[i]);
                }
            }
        }
    }
}

#[test]
fn comparisons_are_exact_on_the_whole_ring() {
    for seed in SEEDS {
        for mode in MODES {
            let mut r = rng(seed);
            let mut xs = ring_edges();
            xs.extend((0..150).map(|_| any_ring(&mut r)));
            // Values next to zero, where a carry error would show first.
            xs.extend((0..50).map(|_| int_in(&mut r, -3, 3)));
            let n = xs.len();
            let lt: Vec<i64> = xs.iter().map(|&v| i64::from(v < 0)).collect();
            let sg: Vec<i64> = xs.iter().map(|&v| if v < 0 { -1 } else { 1 }).collect();
            let relu: Vec<i64> = xs.iter().map(|&v| v.max(0)).collect();

            let mut fx = Fixed::new(FP);
            let mut o = vec![0i64; n];
            fx.ltz(&xs, &mut o).unwrap();
            assert_eq!(o, lt, "seed {seed}: Fixed ltz");
            select::sign(&mut fx, &xs, &mut o).unwrap();
            assert_eq!(o, sg, "seed {seed}: Fixed sign");
            let mut v = xs.clone();
            select::relu(&mut fx, &mut v, &mut o).unwrap();
            assert_eq!(v, relu, "seed {seed}: Fixed relu");

            let mut ar = arena(Shared::scratch_words_elementwise(n));
            let mut mpc = session(seed, mode, &mut ar);
            let x = share_ring(&mut mpc, &xs);
            let mut o = vec![[0i64; 2]; n];
            mpc.ltz(&x, &mut o).unwrap();
            assert_eq!(open(&mpc, &o), lt, "seed {seed} {mode:?}: ltz");
            select::sign(&mut mpc, &x, &mut o).unwrap();
            assert_eq!(open(&mpc, &o), sg, "seed {seed} {mode:?}: sign");
            select::gez(&mut mpc, &x, &mut o).unwrap();
            let ge: Vec<i64> = lt.iter().map(|b| 1 - b).collect();
            assert_eq!(open(&mpc, &o), ge, "seed {seed} {mode:?}: gez");
            let mut v = x.clone();
            select::relu(&mut mpc, &mut v, &mut o).unwrap();
            assert_eq!(open(&mpc, &v), relu, "seed {seed} {mode:?}: relu");
            assert_eq!(open(&mpc, &o), ge, "seed {seed} {mode:?}: relu bits");

            // select with random bits picks exactly, on full-range values.
            let ys: Vec<i64> = (0..n).map(|_| any_ring(&mut r)).collect();
            let cs: Vec<i64> = (0..n).map(|_| (r.next_u64() & 1) as i64).collect();
            let y = share_ring(&mut mpc, &ys);
            let c = share_ring(&mut mpc, &cs);
            let mut out = vec![[0i64; 2]; n];
            select::select(&mut mpc, &c, &x, &y, &mut out).unwrap();
            let want: Vec<i64> = (0..n)
                .map(|i| if cs[i] == 1 { xs[i] } else { ys[i] })
                .collect();
            assert_eq!(open(&mpc, &out), want, "seed {seed} {mode:?}: select");
        }
    }
}

/// Dealer truncation by 2^k: error `result − x/2^k ∈ (−1, 1]` and no wrap, for every
/// x ∈ [−2^62, 2^62), including both ends; the +1 happens with probability (x_low + 1)/2^k.
/// The same values under share-local truncation do wrap, so the absence of wraps is a property
/// of the protocol and not of the draws.
#[test]
fn dealer_truncation_never_wraps_in_its_range() {
    let lo = -(1i64 << 62);
    let hi = (1i64 << 62) - 1;
    for seed in [3u64, 0xD1CE] {
        let mut r = rng(seed);
        let mut xs: Vec<i64> = vec![lo, hi, lo + 1, hi - 1, 0, 1, -1, 1 << 61, -(1 << 61)];
        xs.extend((0..6000).map(|_| int_in(&mut r, lo, hi)));
        xs.extend((0..1000).map(|_| int_in(&mut r, -(1 << 20), 1 << 20)));
        let n = xs.len();
        for k in [1u32, 16, 40, 62] {
            let d = 1i128 << k;
            let mut ar = arena(Shared::scratch_words_elementwise(n));
            let mut mpc = session(seed, TruncMode::Dealer, &mut ar);
            let mut x = share_ring(&mut mpc, &xs);
            mpc.div_int(&mut x, 1u64 << k).unwrap();
            let got = open(&mpc, &x);
            let (mut ups, mut expect, mut var) = (0.0, 0.0, 0.0);
            for i in 0..n {
                let xi = i128::from(xs[i]);
                let e = i128::from(got[i]) * d - xi; // error × d, exact
                assert!(
                    -d < e && e <= d,
                    "seed {seed} k {k} [{i}]: x = {xi}, result {} (error {e}/2^{k})",
                    got[i]
                );
                if i128::from(got[i]) == floor_div(xi, d) + 1 {
                    ups += 1.0;
                }
                let p = (xi.rem_euclid(d) + 1) as f64 / d as f64;
                expect += p;
                var += p * (1.0 - p);
            }
            assert!(
                within_sigma(ups, expect, var, 5.0),
                "seed {seed} k {k}: {ups} round-ups, law predicts {expect:.1} ± {:.1}",
                var.sqrt()
            );
            let c = mpc.cost();
            assert_eq!(c.wrap_events, 0, "seed {seed} k {k}");
            assert_eq!(c.trunc_tuples, n as u64, "seed {seed} k {k}");

            // Contrast: share-local truncation of the same values wraps (E|x|/2^64 ≈ 1/8 of the
            // 6000 full-range draws).
            let mut ar = arena(0);
            let mut mpc = session(seed, TruncMode::Local, &mut ar);
            let mut x = share_ring(&mut mpc, &xs);
            mpc.div_int(&mut x, 1u64 << k).unwrap();
            assert!(
                mpc.cost().wrap_events > 500,
                "seed {seed} k {k}: local truncation wrapped only {} times",
                mpc.cost().wrap_events
            );
        }
    }
}

/// Share-local truncation by 2^16 on |x| < 2^40: the result is ⌊x/d⌋ + B with
/// P(B = 1) = frac(x/d), i.e. ≈ 0.125/0.375/0.625/0.875 per quarter of the fractional part.
#[test]
fn local_truncation_rounds_up_with_probability_frac() {
    let d = i128::from(S);
    for seed in [5u64, 0xF00D] {
        let mut r = rng(seed);
        let n = 40_000;
        let xs: Vec<i64> = (0..n)
            .map(|_| int_in(&mut r, -(1 << 40), 1 << 40))
            .collect();
        let mut ar = arena(0);
        let mut mpc = session(seed, TruncMode::Local, &mut ar);
        let mut x = share_ring(&mut mpc, &xs);
        mpc.div_int(&mut x, S as u64).unwrap();
        let got = open(&mpc, &x);
        let mut ups = [0.0f64; 4];
        let mut expect = [0.0f64; 4];
        let mut var = [0.0f64; 4];
        let mut count = [0usize; 4];
        for i in 0..n {
            let xi = i128::from(xs[i]);
            let fl = floor_div(xi, d);
            let b = i128::from(got[i]) - fl;
            assert!(
                b == 0 || b == 1,
                "seed {seed} [{i}]: x = {xi}: result {} is not ⌊x/d⌋ or ⌊x/d⌋ + 1",
                got[i]
            );
            let frac = xi.rem_euclid(d) as f64 / d as f64;
            let q = ((frac * 4.0) as usize).min(3);
            ups[q] += b as f64;
            expect[q] += frac;
            var[q] += frac * (1.0 - frac);
            count[q] += 1;
        }
        for q in 0..4 {
            let rate = ups[q] / count[q] as f64;
            let nominal = 0.125 + 0.25 * q as f64;
            assert!(
                within_sigma(ups[q], expect[q], var[q], 5.0),
                "seed {seed} quarter {q}: {} of {} rounded up, law predicts {:.1} ± {:.1}",
                ups[q],
                count[q],
                expect[q],
                var[q].sqrt()
            );
            // The binomial 5σ band around the nominal quarter rate.
            let sigma = (nominal * (1.0 - nominal) / count[q] as f64).sqrt();
            assert!(
                (rate - nominal).abs() <= 5.0 * sigma + 1.0 / count[q] as f64,
                "seed {seed} quarter {q}: P(+1) = {rate:.4}, nominal {nominal}"
            );
        }
        assert_eq!(mpc.cost().wrap_events, 0, "seed {seed}");
        assert_eq!(mpc.cost().truncations, n as u64, "seed {seed}");
    }
}

/// Share-local truncation of |x| ∈ [2^60, 2^61]: wraps at rate (|x| + 1)/2^64 (5σ), each wrap
/// is off by exactly −sign(x)·2^64/d up to the two share roundings (|residual| < 2 units),
/// non-wrapped results are within 2 units, and `Cost::wrap_events` counts exactly the wraps
/// observed in the revealed values.
#[test]
fn local_truncation_wraps_at_rate_abs_x_over_2_pow_64() {
    for seed in [11u64, 0xBAD5EED] {
        for k in [16u32, 20] {
            let d = 1i128 << k;
            let shift = (1i128 << 64) / d;
            let mut r = rng(seed ^ u64::from(k));
            let n = 20_000;
            let xs: Vec<i64> = (0..n)
                .map(|_| {
                    let m = int_in(&mut r, 1 << 60, 1 << 61);
                    if r.next_u64() & 1 == 1 {
                        -m
                    } else {
                        m
                    }
                })
                .collect();
            let mut ar = arena(0);
            let mut mpc = session(seed, TruncMode::Local, &mut ar);
            let mut x = share_ring(&mut mpc, &xs);
            let before = mpc.cost();
            mpc.div_int(&mut x, 1u64 << k).unwrap();
            let delta = mpc.cost().since(&before);
            let got = open(&mpc, &x);
            let (mut wraps, mut expect, mut var) = (0u64, 0.0f64, 0.0f64);
            for i in 0..n {
                let xi = i128::from(xs[i]);
                let e = i128::from(got[i]) * d - xi;
                let p = (xi.unsigned_abs() + 1) as f64 / 2f64.powi(64);
                expect += p;
                var += p * (1.0 - p);
                if e.abs() > shift * d / 2 {
                    wraps += 1;
                    let residual = e + xi.signum() * shift * d;
                    assert!(
                        residual.abs() < 2 * d,
                        "seed {seed} k {k} [{i}]: x = {xi}, result {}: wrap error is not \
                         −sign(x)·2^64/d (residual {residual}/d)",
                        got[i]
                    );
                } else {
                    assert!(
                        e.abs() < 2 * d,
                        "seed {seed} k {k} [{i}]: x = {xi}, result {}: error {e}/d",
                        got[i]
                    );
                }
            }
            assert!(
                within_sigma(wraps as f64, expect, var, 5.0),
                "seed {seed} k {k}: {wraps} wraps, law |x|/2^64 predicts {expect:.1} ± {:.1}",
                var.sqrt()
            );
            assert_eq!(
                delta.wrap_events, wraps,
                "seed {seed} k {k}: ledger wrap_events"
            );
            assert_eq!(delta.truncations, n as u64, "seed {seed} k {k}");
        }
    }
}

/// Plaintext reference: per row, the max and the first index reaching it.
fn row_max(xs: &[i64], rows: usize, cols: usize) -> (Vec<i64>, Vec<i64>) {
    let mut m = Vec::new();
    let mut am = Vec::new();
    for r in 0..rows {
        let row = &xs[r * cols..(r + 1) * cols];
        let best = *row.iter().max().unwrap();
        m.push(best);
        am.push(row.iter().position(|&v| v == best).unwrap() as i64);
    }
    (m, am)
}

#[test]
fn max_and_argmax_agree_across_float_fixed_shared() {
    let shapes = [
        (1, 1),
        (3, 1),
        (2, 2),
        (4, 5),
        (3, 7),
        (2, 16),
        (5, 9),
        (1, 33),
    ];
    for seed in SEEDS {
        let mut r = rng(seed);
        for (rows, cols) in shapes {
            let n = rows * cols;
            // A small alphabet makes ties common (the lowest index must win everywhere).
            let alphabet: Vec<i64> = (0..4).map(|_| int_in(&mut r, -5 * S, 5 * S)).collect();
            let xs: Vec<i64> = (0..n)
                .map(|_| {
                    if r.next_u64().is_multiple_of(3) {
                        alphabet[(r.next_u64() % 4) as usize]
                    } else {
                        int_in(&mut r, -5 * S, 5 * S)
                    }
                })
                .collect();
            let (want_max, want_arg) = row_max(&xs, rows, cols);
            let need = scratch_elems_max(rows, cols);

            let mut fl = Float::new(FP);
            let xf: Vec<f64> = xs.iter().map(|&v| FP.decode(v)).collect();
            let (mut m, mut am, mut sc) = (vec![0.0; rows], vec![0.0; rows], vec![0.0; need]);
            max_rows(&mut fl, &xf, rows, cols, &mut m, Some(&mut am), &mut sc).unwrap();
            for i in 0..rows {
                assert_eq!(
                    m[i],
                    FP.decode(want_max[i]),
                    "seed {seed} {rows}x{cols}: Float max"
                );
                assert_eq!(
                    am[i], want_arg[i] as f64,
                    "seed {seed} {rows}x{cols}: Float argmax"
                );
            }

            let mut fx = Fixed::new(FP);
            let (mut m, mut am, mut sc) = (vec![0i64; rows], vec![0i64; rows], vec![0i64; need]);
            max_rows(&mut fx, &xs, rows, cols, &mut m, Some(&mut am), &mut sc).unwrap();
            assert_eq!(m, want_max, "seed {seed} {rows}x{cols}: Fixed max");
            assert_eq!(am, want_arg, "seed {seed} {rows}x{cols}: Fixed argmax");

            for mode in MODES {
                let mut ar = arena(Shared::scratch_words_elementwise(n));
                let mut mpc = session(seed, mode, &mut ar);
                let x = share_ring(&mut mpc, &xs);
                let (mut m, mut am) = (vec![[0i64; 2]; rows], vec![[0i64; 2]; rows]);
                let mut sc = vec![[0i64; 2]; need];
                max_rows(&mut mpc, &x, rows, cols, &mut m, Some(&mut am), &mut sc).unwrap();
                assert_eq!(
                    open(&mpc, &m),
                    want_max,
                    "seed {seed} {mode:?} {rows}x{cols}: max"
                );
                assert_eq!(
                    open(&mpc, &am),
                    want_arg,
                    "seed {seed} {mode:?} {rows}x{cols}: arg"
                );
            }
        }
    }
}

/// Plaintext pooling reference: window sums and maxima.
fn pool_ref(xs: &[i64], s: &Pool2dShape) -> (Vec<i64>, Vec<i64>) {
    let oh = (s.h - s.k) / s.stride + 1;
    let ow = (s.w - s.k) / s.stride + 1;
    let (mut sums, mut maxs) = (Vec::new(), Vec::new());
    for p in 0..s.planes {
        for oy in 0..oh {
            for ox in 0..ow {
                let cells: Vec<i64> = (0..s.k * s.k)
                    .map(|c| {
                        let (ky, kx) = (c / s.k, c % s.k);
                        xs[(p * s.h + oy * s.stride + ky) * s.w + ox * s.stride + kx]
                    })
                    .collect();
                sums.push(cells.iter().sum());
                maxs.push(*cells.iter().max().unwrap());
            }
        }
    }
    (sums, maxs)
}

#[test]
fn pooling_agrees_across_float_fixed_shared() {
    let shapes = [
        Pool2dShape {
            planes: 2,
            h: 4,
            w: 4,
            k: 2,
            stride: 2,
        },
        Pool2dShape {
            planes: 1,
            h: 5,
            w: 6,
            k: 3,
            stride: 1,
        },
        Pool2dShape {
            planes: 3,
            h: 5,
            w: 5,
            k: 2,
            stride: 3,
        },
        Pool2dShape {
            planes: 1,
            h: 3,
            w: 3,
            k: 3,
            stride: 1,
        },
        Pool2dShape {
            planes: 2,
            h: 4,
            w: 3,
            k: 1,
            stride: 1,
        },
    ];
    for seed in SEEDS {
        let mut r = rng(seed);
        for s in shapes {
            let xs = small_raws(&mut r, s.input_len().unwrap());
            let nout = s.output_len().unwrap();
            let (sums, maxs) = pool_ref(&xs, &s);
            let area = (s.k * s.k) as i128;

            // Float on the decoded values.
            let xf: Vec<f64> = xs.iter().map(|&v| FP.decode(v)).collect();
            let mut fl = Float::new(FP);
            let mut avg_f = vec![0.0; nout];
            avg_pool2d(&mut fl, &xf, &mut avg_f, &s).unwrap();
            let mut max_f = vec![0.0; nout];
            let mut sc = vec![0.0; scratch_elems_max_pool2d(&s).unwrap()];
            max_pool2d(&mut fl, &xf, &mut max_f, &s, &mut sc).unwrap();

            // Fixed.
            let mut fx = Fixed::new(FP);
            let mut avg_x = vec![0i64; nout];
            avg_pool2d(&mut fx, &xs, &mut avg_x, &s).unwrap();
            let mut max_x = vec![0i64; nout];
            let mut sc = vec![0i64; scratch_elems_max_pool2d(&s).unwrap()];
            max_pool2d(&mut fx, &xs, &mut max_x, &s, &mut sc).unwrap();
            assert_eq!(max_x, maxs, "seed {seed} {s:?}: Fixed max_pool2d");
            for o in 0..nout {
                let want = trunc_div(sums[o].into(), area);
                assert_eq!(
                    i128::from(avg_x[o]),
                    want,
                    "seed {seed} {s:?}: Fixed avg [{o}]"
                );
                assert_eq!(
                    max_f[o],
                    FP.decode(maxs[o]),
                    "seed {seed} {s:?}: Float max [{o}]"
                );
                // Float is the exact mean; Fixed truncates it once: within one ulp.
                let exact = sums[o] as f64 / S as f64 / area as f64;
                assert!(
                    (avg_f[o] - exact).abs() <= exact.abs() * 1e-15,
                    "seed {seed} {s:?}: Float avg [{o}]"
                );
                assert!(
                    (FP.decode(avg_x[o]) - avg_f[o]).abs() < 1.0 / S as f64,
                    "seed {seed} {s:?}: Fixed avg {} vs Float {} [{o}]",
                    avg_x[o],
                    avg_f[o]
                );
            }

            for mode in MODES {
                // The arena max_pool2d documents: elementwise words for the first level's pairs.
                let pairs = nout * (s.k * s.k / 2);
                let words = Shared::scratch_words_elementwise(pairs)
                    .max(Shared::scratch_words_elementwise(nout));
                let mut ar = arena(words);
                let mut mpc = session(seed, mode, &mut ar);
                let x = share_ring(&mut mpc, &xs);
                let mut avg = vec![[0i64; 2]; nout];
                avg_pool2d(&mut mpc, &x, &mut avg, &s).unwrap();
                let mut mx = vec![[0i64; 2]; nout];
                let mut sc = vec![[0i64; 2]; scratch_elems_max_pool2d(&s).unwrap()];
                max_pool2d(&mut mpc, &x, &mut mx, &s, &mut sc).unwrap();
                assert_eq!(
                    open(&mpc, &mx),
                    maxs,
                    "seed {seed} {mode:?} {s:?}: max_pool2d"
                );
                let got = open(&mpc, &avg);
                // Dealer mode truncates exactly only for power-of-two window areas.
                let law = if (s.k * s.k).is_power_of_two() {
                    mode
                } else {
                    TruncMode::Local
                };
                for o in 0..nout {
                    check_trunc("avg_pool2d", seed, law, o, sums[o].into(), area, got[o]);
                }
            }
        }
    }
}

/// SplitMix64's output function as published (Steele, Lea, Flood 2014; Vigna's
/// `splitmix64.c`), written out independently of the kernel.
fn splitmix64_reference(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const ALL_STREAMS: [(StreamId, u32); 9] = [
    (StreamId::Dealer, 0),
    (StreamId::Przs, 1),
    (StreamId::Party0, 2),
    (StreamId::Party1, 3),
    (StreamId::Mutation, 4),
    (StreamId::DataOrder, 5),
    (StreamId::WeightInit, 6),
    (StreamId::Synthetic, 7),
    (StreamId::Schedule, 8),
];

/// The named stream recomputed from rand_xoshiro primitives: `seed_from_u64`, then
/// `long_jump()` (number + 1) times.
fn stream_reference(seed: u64, number: u32) -> Xoshiro256PlusPlus {
    let mut g = Xoshiro256PlusPlus::seed_from_u64(seed);
    for _ in 0..=number {
        g.long_jump();
    }
    g
}

#[test]
fn seed_derivation_is_the_documented_recipe() {
    for seed in [0u64, 1, 42, 0x5EED, u64::MAX] {
        let mut firsts = Vec::new();
        for (id, number) in ALL_STREAMS {
            // The stream numbers are part of the documented, value-breaking contract.
            assert_eq!(id.number(), number, "{id:?}: stream number");
            let mut want = stream_reference(seed, number);
            let mut got = seed::stream(seed, id);
            for j in 0..16 {
                assert_eq!(
                    got.next_u64(),
                    want.next_u64(),
                    "seed {seed} {id:?}: draw {j} differs from seed_from_u64 + {} long jumps",
                    number + 1
                );
            }
            firsts.push(seed::stream(seed, id).next_u64());

            // Sub-streams: key = first draw of the named stream, then
            // seed_from_u64(key ^ splitmix64(index)).
            let key = stream_reference(seed, number).next_u64();
            for index in [0u64, 1, 2, 1000, u64::MAX] {
                let mut want = Xoshiro256PlusPlus::seed_from_u64(key ^ splitmix64_reference(index));
                let mut got = seed::substream(seed, id, index);
                for j in 0..8 {
                    assert_eq!(
                        got.next_u64(),
                        want.next_u64(),
                        "seed {seed} {id:?} sub-stream {index}: draw {j}"
                    );
                }
            }
        }
        firsts.sort_unstable();
        firsts.dedup();
        assert_eq!(
            firsts.len(),
            ALL_STREAMS.len(),
            "seed {seed}: two streams coincide"
        );
        // Distinct indices give distinct sub-streams.
        let mut subs: Vec<u64> = (0..200u64)
            .map(|i| seed::substream(seed, StreamId::Mutation, i).next_u64())
            .collect();
        subs.sort_unstable();
        subs.dedup();
        assert_eq!(subs.len(), 200, "seed {seed}: sub-streams coincide");
    }
    for x in [0u64, 1, 2, 0x9e37_79b9_7f4a_7c15, u64::MAX, 1 << 63] {
        assert_eq!(splitmix64(x), splitmix64_reference(x), "splitmix64({x})");
    }
    // The shared arithmetic draws its input masks from the PRZS stream of its seed: party 0's
    // share of the i-th input is the i-th draw.
    let seed = 77;
    let mut ar = arena(0);
    let mut mpc = Shared::new(FP, seed, &mut ar);
    let raws = [5i64, -7, 0, i64::MIN];
    let sh = share_ring(&mut mpc, &raws);
    let mut przs = stream_reference(seed, 1);
    for (i, s) in sh.iter().enumerate() {
        assert_eq!(
            s[0],
            przs.next_u64() as i64,
            "input mask {i} is not the PRZS draw"
        );
    }
}

/// Everything a run produces, to compare runs.
struct Run {
    digest: u64,
    exact: Vec<i64>,
    truncated: Vec<i64>,
    cost: Cost,
}

/// A fixed workload in `Shared`: input, mul, square, matmul, ltz, relu, max_rows, reveal.
/// The digest covers every share after every step, the revealed values and the ledger.
fn workload(mpc_seed: u64, mode: TruncMode) -> Run {
    let mut r = rng(1234); // the data is the same for every MPC seed
    let n = 24;
    let xs = small_raws(&mut r, n);
    let ys = small_raws(&mut r, n);
    let mut ar = arena(
        Shared::scratch_words_elementwise(n).max(Shared::scratch_words_matmul(MatShape {
            m: 4,
            k: 6,
            n: 4,
        })),
    );
    let mut mpc = session(mpc_seed, mode, &mut ar);
    let mut dg = Digest::new();
    let absorb = |dg: &mut Digest, v: &[Share]| {
        for s in v {
            dg.i64s(s);
        }
    };
    let x = share_ring(&mut mpc, &xs);
    let y = share_ring(&mut mpc, &ys);
    absorb(&mut dg, &x);
    absorb(&mut dg, &y);
    let mut p = x.clone();
    mpc.mul(&mut p, &y).unwrap();
    absorb(&mut dg, &p);
    let mut q = x.clone();
    mpc.square(&mut q).unwrap();
    absorb(&mut dg, &q);
    let mut mm = vec![[0i64; 2]; 16];
    mpc.matmul(&x, &y, &mut mm, MatShape { m: 4, k: 6, n: 4 })
        .unwrap();
    absorb(&mut dg, &mm);
    let mut lt = vec![[0i64; 2]; n];
    mpc.ltz(&x, &mut lt).unwrap();
    absorb(&mut dg, &lt);
    let mut rl = y.clone();
    let mut bits = vec![[0i64; 2]; n];
    select::relu(&mut mpc, &mut rl, &mut bits).unwrap();
    absorb(&mut dg, &rl);
    let mut mx = vec![[0i64; 2]; 4];
    let mut am = vec![[0i64; 2]; 4];
    let mut sc = vec![[0i64; 2]; scratch_elems_max(4, 6)];
    max_rows(&mut mpc, &x, 4, 6, &mut mx, Some(&mut am), &mut sc).unwrap();
    absorb(&mut dg, &mx);
    absorb(&mut dg, &am);
    let mut exact = Vec::new();
    let mut truncated = Vec::new();
    for (v, is_exact) in [
        (&lt, true),
        (&rl, true),
        (&mx, true),
        (&am, true),
        (&p, false),
        (&q, false),
        (&mm, false),
    ] {
        let mut out = vec![0i64; v.len()];
        mpc.reveal_ring(v, &mut out).unwrap();
        dg.i64s(&out);
        if is_exact {
            exact.extend(out);
        } else {
            truncated.extend(out);
        }
    }
    let cost = mpc.cost();
    dg.u64(cost.rounds)
        .u64(cost.bytes_sent[0])
        .u64(cost.bytes_sent[1]);
    Run {
        digest: dg.finish(),
        exact,
        truncated,
        cost,
    }
}

/// The same workload in `Fixed`: the values `Shared` must reproduce (exactly for the exact
/// operations, within one unit for the truncated ones).
fn workload_fixed() -> (Vec<i64>, Vec<i64>) {
    let mut r = rng(1234);
    let n = 24;
    let xs = small_raws(&mut r, n);
    let ys = small_raws(&mut r, n);
    let mut fx = Fixed::new(FP);
    let mut p = xs.clone();
    fx.mul(&mut p, &ys).unwrap();
    let mut q = xs.clone();
    fx.square(&mut q).unwrap();
    let mut mm = vec![0i64; 16];
    fx.matmul(&xs, &ys, &mut mm, MatShape { m: 4, k: 6, n: 4 })
        .unwrap();
    let mut lt = vec![0i64; n];
    fx.ltz(&xs, &mut lt).unwrap();
    let mut rl = ys.clone();
    let mut bits = vec![0i64; n];
    select::relu(&mut fx, &mut rl, &mut bits).unwrap();
    let (mut mx, mut am) = (vec![0i64; 4], vec![0i64; 4]);
    let mut sc = vec![0i64; scratch_elems_max(4, 6)];
    max_rows(&mut fx, &xs, 4, 6, &mut mx, Some(&mut am), &mut sc).unwrap();
    let exact = [lt, rl, mx, am].concat();
    let truncated = [p, q, mm].concat();
    (exact, truncated)
}

#[test]
fn same_seed_same_digest_different_seed_same_fixed_results() {
    let (fx_exact, fx_trunc) = workload_fixed();
    for mode in MODES {
        for seed in SEEDS {
            let a = workload(seed, mode);
            let b = workload(seed, mode);
            assert_eq!(
                a.digest, b.digest,
                "seed {seed} {mode:?}: same seed, different digest"
            );
            assert_eq!(
                a.cost, b.cost,
                "seed {seed} {mode:?}: same seed, different ledger"
            );
            assert_eq!(
                a.exact, fx_exact,
                "seed {seed} {mode:?}: exact ops differ from Fixed"
            );
            for (i, (&s, &f)) in a.truncated.iter().zip(&fx_trunc).enumerate() {
                assert!(
                    (s - f).abs() <= 1,
                    "seed {seed} {mode:?} [{i}]: truncated op {s} vs Fixed {f}"
                );
            }
        }
        let digests: Vec<u64> = SEEDS.iter().map(|&s| workload(s, mode).digest).collect();
        let mut distinct = digests.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            SEEDS.len(),
            "{mode:?}: different MPC seeds gave the same shares ({digests:x?})"
        );
        // The ledger does not depend on the seed (no wraps at these magnitudes).
        let c0 = workload(SEEDS[0], mode).cost;
        for seed in SEEDS {
            assert_eq!(
                workload(seed, mode).cost,
                c0,
                "seed {seed} {mode:?}: ledger"
            );
        }
    }
}
