//! The laws of the module doc, over seeded inputs and edge values: sharing reconstructs exactly;
//! the local operations are exact and free; `Shared` products, matrix products, convolutions and
//! batched truncations equal `Fixed` ones up to one ring unit per truncation, and `Fixed` equals
//! the exact integer recipe; a `Shared` run is a function of its seed, and its exact results do
//! not depend on it.
//!
//! Inputs come from `seed::stream(seed, StreamId::Synthetic)`; every assertion names its seed.

// Edge values are written as exact powers of two (`2f64.powi(47)`): std's f64 math is fine for
// those.
#![allow(clippy::disallowed_methods)]

use crate::arith::RingArith;
use crate::protocols::maximum::{max_rows, scratch_elems_max};
use crate::protocols::select;
use crate::seed::{self, StreamId};
use crate::share::{reconstruct, share_from};
use crate::testing::{
    any_ring, arena, check_trunc, int_in, open, ring_edges, rng, session, share_ring, small_raws,
    trunc_div, usize_in, FP, MODES, S, SEEDS,
};
use crate::{Arith, Conv2dShape, Cost, Digest, Fixed, MatShape, Share, Shared, TruncMode};
use rand_core::RngCore;

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
