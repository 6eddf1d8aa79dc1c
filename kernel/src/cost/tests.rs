//! The cost ledger records exactly what each protocol's `# Cost` doc states.
//!
//! Goal: the figures in the docs (kernel/src/protocols/*.rs, arith/shared.rs, nn/pooling.rs)
//! are the contract the repair search trades against accuracy, so each is checked here as a
//! formula of the sizes, for several sizes (1 and odd ones included) and both truncation modes,
//! on the `Cost::since` delta of the call alone: every field, so a cost the doc does not mention
//! must be zero.
//!
//! Doc figures used (per party "sends w words" ⇒ `bytes_sent = [8w, 8w]`):
//! * input: free (PRZS). reveal / reveal_ring: 1 round, n words.
//! * Beaver bilinear: 1 round, |x| + |y| words; elementwise n mul triples; matmul/conv one
//!   matrix triple of |x| + |y| + |z| words. square: 1 round, n words, n square pairs.
//! * Truncation of n values: local 0 rounds, n truncations; dealer (power-of-two d) 1 round,
//!   n words, n truncation tuples, n truncations; d = 1 is no truncation at all.
//! * ltz: 8 rounds, 13n AND words, n B2A bits, 27n words.
//! * select: 1 round, n mul triples (2n words: one elementwise Beaver product).
//!   sign, gez: one ltz. relu: one ltz + one bit product (9 rounds).
//! * max_rows: ⌈log2 cols⌉ levels of 9 rounds; per level with p = rows·⌊w/2⌋ pairs: 13p AND
//!   words, p B2A bits, 2p mul triples (so 27p + 4p words).
//! * avg_pool2d: the division's truncation only. max_pool2d: max_rows over k² columns.

use crate::arith::RingArith;
use crate::nn::pooling::{avg_pool2d, max_pool2d, scratch_elems_max_pool2d};
use crate::protocols::maximum::{max_rows, scratch_elems_max};
use crate::protocols::select;
use crate::testing::{int_in, rng};
use crate::{
    Arith, Conv2dShape, Cost, FixedPoint, MatShape, Pool2dShape, Share, Shared, TruncMode,
};

const FP: FixedPoint = FixedPoint::CRYPTEN_DEFAULT;
const SIZES: [usize; 6] = [1, 2, 3, 7, 16, 33];
const MODES: [TruncMode; 2] = [TruncMode::Local, TruncMode::Dealer];
const SEED: u64 = 0x1ED6E5;

/// A cost with the given rounds and per-party words, everything else zero.
fn comm(rounds: u64, words: u64) -> Cost {
    Cost {
        rounds,
        bytes_sent: [8 * words, 8 * words],
        ..Cost::default()
    }
}

/// The documented cost of truncating `n` values by `d` in `mode`.
fn trunc_cost(mode: TruncMode, n: u64, d: u64) -> Cost {
    if d == 1 {
        return Cost::default();
    }
    match mode {
        TruncMode::Dealer if d.is_power_of_two() => Cost {
            trunc_tuples: n,
            truncations: n,
            ..comm(1, n)
        },
        _ => Cost {
            truncations: n,
            ..Cost::default()
        },
    }
}

fn ltz_cost(n: u64) -> Cost {
    Cost {
        and_triples: 13 * n,
        b2a_bits: n,
        ..comm(8, 27 * n)
    }
}

fn mul_unscaled_cost(n: u64) -> Cost {
    Cost {
        mul_triples: n,
        ..comm(1, 2 * n)
    }
}

fn matrix_cost(na: u64, nb: u64, nc: u64) -> Cost {
    Cost {
        matrix_triples: 1,
        matrix_triple_words: na + nb + nc,
        ..comm(1, na + nb)
    }
}

fn max_rows_cost(rows: usize, cols: usize) -> Cost {
    let mut total = Cost::default();
    let mut w = cols;
    while w > 1 {
        let p = (rows * (w / 2)) as u64;
        total = total + ltz_cost(p) + mul_unscaled_cost(2 * p);
        w = w.div_ceil(2);
    }
    total
}

/// Small values: no share-local wrap can happen (|x| ≤ 2^41 pre-truncation).
fn values(seed: u64, n: usize) -> Vec<i64> {
    let mut r = rng(seed ^ n as u64);
    (0..n)
        .map(|_| int_in(&mut r, -(8 << 16), 8 << 16))
        .collect()
}

struct Bench {
    arena: Vec<i64>,
}

impl Bench {
    fn new(words: usize) -> Self {
        Bench {
            arena: vec![0i64; words],
        }
    }
    fn session(&mut self, mode: TruncMode) -> Shared<'_> {
        Shared::new(FP, SEED, &mut self.arena).with_truncation(mode)
    }
}

fn shares(mpc: &mut Shared<'_>, raw: &[i64]) -> Vec<Share> {
    let mut out = vec![[0i64; 2]; raw.len()];
    mpc.input_ring(raw, &mut out).unwrap();
    out
}

/// Runs `op` on `mpc` and returns its ledger delta.
fn delta(mpc: &mut Shared<'_>, op: impl FnOnce(&mut Shared<'_>)) -> Cost {
    let before = mpc.cost();
    op(mpc);
    mpc.cost().since(&before)
}

#[test]
fn input_and_reveal() {
    for n in SIZES {
        let mut b = Bench::new(Shared::scratch_words_elementwise(n));
        let mut mpc = b.session(TruncMode::Local);
        let reals: Vec<f64> = (0..n).map(|i| i as f64 * 0.25 - 1.0).collect();
        let mut x = vec![[0i64; 2]; n];
        let c = delta(&mut mpc, |m| m.input(&reals, &mut x).unwrap());
        assert_eq!(c, Cost::default(), "input n={n}");
        let c = delta(&mut mpc, |m| {
            m.input_ring(&values(1, n), &mut x).unwrap();
        });
        assert_eq!(c, Cost::default(), "input_ring n={n}");
        let mut out = vec![0.0; n];
        let c = delta(&mut mpc, |m| m.reveal(&x, &mut out).unwrap());
        assert_eq!(c, comm(1, n as u64), "reveal n={n}");
        let mut raw = vec![0i64; n];
        let c = delta(&mut mpc, |m| m.reveal_ring(&x, &mut raw).unwrap());
        assert_eq!(c, comm(1, n as u64), "reveal_ring n={n}");
        let c = delta(&mut mpc, |m| m.peek(&x, &mut out).unwrap());
        assert_eq!(c, Cost::default(), "peek n={n}");
        // CrypTen's rank-0 byte figure is sent + received.
        assert_eq!(mpc.cost().crypten_bytes(), 2 * 2 * 8 * n as u64, "n={n}");
    }
}

#[test]
fn elementwise_products_and_truncations() {
    for mode in MODES {
        for n in SIZES {
            let nn = n as u64;
            let mut b = Bench::new(Shared::scratch_words_elementwise(n));
            let mut mpc = b.session(mode);
            let x = shares(&mut mpc, &values(2, n));
            let y = shares(&mut mpc, &values(3, n));
            let s = FP.scale() as u64;

            let mut t = x.clone();
            let c = delta(&mut mpc, |m| m.mul(&mut t, &y).unwrap());
            assert_eq!(
                c,
                mul_unscaled_cost(nn) + trunc_cost(mode, nn, s),
                "mul n={n} {mode:?}"
            );

            let mut t = x.clone();
            let c = delta(&mut mpc, |m| m.mul_unscaled(&mut t, &y).unwrap());
            assert_eq!(c, mul_unscaled_cost(nn), "mul_unscaled n={n} {mode:?}");

            let mut t = x.clone();
            let c = delta(&mut mpc, |m| m.square(&mut t).unwrap());
            let sq = Cost {
                square_pairs: nn,
                ..comm(1, nn)
            };
            assert_eq!(c, sq + trunc_cost(mode, nn, s), "square n={n} {mode:?}");

            let mut t = x.clone();
            let c = delta(&mut mpc, |m| m.mul_const(&mut t, -2.75).unwrap());
            assert_eq!(c, trunc_cost(mode, nn, s), "mul_const n={n} {mode:?}");

            for d in [1u64, 2, 3, 10, 1 << 16, 1 << 40] {
                let mut t = x.clone();
                let c = delta(&mut mpc, |m| m.div_int(&mut t, d).unwrap());
                assert_eq!(c, trunc_cost(mode, nn, d), "div_int({d}) n={n} {mode:?}");
            }

            // Local operations are free.
            let mut t = x.clone();
            let c = delta(&mut mpc, |m| {
                m.add(&mut t, &y).unwrap();
                m.sub(&mut t, &y).unwrap();
                m.neg(&mut t);
                m.mul_int(&mut t, 3);
                m.add_int(&mut t, 1);
                m.add_const(&mut t, 0.5).unwrap();
                m.rsub_const(&mut t, 0.5).unwrap();
            });
            assert_eq!(c, Cost::default(), "local ops n={n} {mode:?}");
        }
    }
}

#[test]
fn matmul_and_conv2d() {
    let mats = [
        MatShape { m: 1, k: 1, n: 1 },
        MatShape { m: 3, k: 5, n: 7 },
        MatShape { m: 4, k: 1, n: 2 },
        MatShape { m: 2, k: 9, n: 1 },
    ];
    let convs = [
        Conv2dShape {
            batch: 1,
            in_ch: 1,
            h: 1,
            w: 1,
            out_ch: 1,
            kh: 1,
            kw: 1,
            stride: 1,
            pad: 0,
        },
        Conv2dShape {
            batch: 2,
            in_ch: 3,
            h: 5,
            w: 4,
            out_ch: 2,
            kh: 3,
            kw: 2,
            stride: 1,
            pad: 1,
        },
        Conv2dShape {
            batch: 1,
            in_ch: 2,
            h: 7,
            w: 7,
            out_ch: 3,
            kh: 3,
            kw: 3,
            stride: 2,
            pad: 0,
        },
    ];
    let s = FP.scale() as u64;
    for mode in MODES {
        for sh in mats {
            let (na, nb, nc) = (sh.m * sh.k, sh.k * sh.n, sh.m * sh.n);
            let mut b = Bench::new(Shared::scratch_words_matmul(sh));
            let mut mpc = b.session(mode);
            let a = shares(&mut mpc, &values(4, na));
            let bb = shares(&mut mpc, &values(5, nb));
            let mut o = vec![[0i64; 2]; nc];
            let c = delta(&mut mpc, |m| m.matmul(&a, &bb, &mut o, sh).unwrap());
            let want =
                matrix_cost(na as u64, nb as u64, nc as u64) + trunc_cost(mode, nc as u64, s);
            assert_eq!(c, want, "matmul {sh:?} {mode:?}");
        }
        for sh in convs {
            let (na, nb, nc) = (
                sh.input_len().unwrap(),
                sh.weight_len().unwrap(),
                sh.output_len().unwrap(),
            );
            let mut b = Bench::new(Shared::scratch_words_conv2d(&sh).unwrap());
            let mut mpc = b.session(mode);
            let x = shares(&mut mpc, &values(6, na));
            let w = shares(&mut mpc, &values(7, nb));
            let mut o = vec![[0i64; 2]; nc];
            let c = delta(&mut mpc, |m| m.conv2d(&x, &w, &mut o, &sh).unwrap());
            let want =
                matrix_cost(na as u64, nb as u64, nc as u64) + trunc_cost(mode, nc as u64, s);
            assert_eq!(c, want, "conv2d {sh:?} {mode:?}");
        }
    }
}

#[test]
fn comparisons_and_selection() {
    for mode in MODES {
        for n in SIZES {
            let nn = n as u64;
            let mut b = Bench::new(Shared::scratch_words_elementwise(n));
            let mut mpc = b.session(mode);
            let x = shares(&mut mpc, &values(8, n));
            let y = shares(&mut mpc, &values(9, n));
            let mut bits = vec![[0i64; 2]; n];

            let c = delta(&mut mpc, |m| m.ltz(&x, &mut bits).unwrap());
            assert_eq!(c, ltz_cost(nn), "ltz n={n} {mode:?}");
            // CrypTen's rank-0 log for ltz: 432 bytes per element (sent + received).
            assert_eq!(c.crypten_bytes(), 432 * nn, "ltz n={n}: CrypTen bytes");

            let c = delta(&mut mpc, |m| select::sign(m, &x, &mut bits).unwrap());
            assert_eq!(c, ltz_cost(nn), "sign n={n} {mode:?}");

            let c = delta(&mut mpc, |m| select::gez(m, &x, &mut bits).unwrap());
            assert_eq!(c, ltz_cost(nn), "gez n={n} {mode:?}");

            let mut out = vec![[0i64; 2]; n];
            let c = delta(&mut mpc, |m| {
                select::select(m, &bits, &x, &y, &mut out).unwrap()
            });
            assert_eq!(c, mul_unscaled_cost(nn), "select n={n} {mode:?}");

            let mut t = x.clone();
            let c = delta(&mut mpc, |m| select::relu(m, &mut t, &mut bits).unwrap());
            assert_eq!(
                c,
                ltz_cost(nn) + mul_unscaled_cost(nn),
                "relu n={n} {mode:?}"
            );
            assert_eq!(c.rounds, 9, "relu n={n}: 9 rounds");
        }
    }
}

#[test]
fn max_rows_levels() {
    let shapes = [
        (1, 1),
        (4, 1),
        (1, 2),
        (3, 3),
        (2, 5),
        (1, 7),
        (5, 8),
        (2, 9),
        (1, 33),
    ];
    for mode in MODES {
        for (rows, cols) in shapes {
            let n = rows * cols;
            let words = Shared::scratch_words_elementwise(rows * (cols / 2));
            let mut b = Bench::new(words);
            let mut mpc = b.session(mode);
            let x = shares(&mut mpc, &values(10, n));
            let mut mx = vec![[0i64; 2]; rows];
            let mut am = vec![[0i64; 2]; rows];
            let mut sc = vec![[0i64; 2]; scratch_elems_max(rows, cols)];
            let c = delta(&mut mpc, |m| {
                max_rows(m, &x, rows, cols, &mut mx, Some(&mut am), &mut sc).unwrap()
            });
            assert_eq!(
                c,
                max_rows_cost(rows, cols),
                "max_rows {rows}x{cols} {mode:?}"
            );
            // ⌈log2 cols⌉ levels of 9 rounds.
            let levels = cols.next_power_of_two().trailing_zeros() as u64;
            assert_eq!(c.rounds, 9 * levels, "max_rows {rows}x{cols}: rounds");
            // Without argmax the cost is the same (indices ride along in the same product).
            let c2 = delta(&mut mpc, |m| {
                max_rows(m, &x, rows, cols, &mut mx, None, &mut sc).unwrap()
            });
            assert_eq!(c2, c, "max_rows {rows}x{cols} without argmax");
        }
    }
}

#[test]
fn pooling() {
    let shapes = [
        Pool2dShape {
            planes: 1,
            h: 2,
            w: 2,
            k: 2,
            stride: 2,
        },
        Pool2dShape {
            planes: 3,
            h: 4,
            w: 6,
            k: 2,
            stride: 2,
        },
        Pool2dShape {
            planes: 2,
            h: 5,
            w: 5,
            k: 3,
            stride: 1,
        },
        Pool2dShape {
            planes: 1,
            h: 7,
            w: 5,
            k: 3,
            stride: 2,
        },
        Pool2dShape {
            planes: 2,
            h: 3,
            w: 3,
            k: 1,
            stride: 1,
        },
    ];
    for mode in MODES {
        for s in shapes {
            let (nin, nout) = (s.input_len().unwrap(), s.output_len().unwrap());
            let k2 = s.k * s.k;
            let words = Shared::scratch_words_elementwise(nout * (k2 / 2))
                .max(Shared::scratch_words_elementwise(nout));
            let mut b = Bench::new(words);
            let mut mpc = b.session(mode);
            let x = shares(&mut mpc, &values(11, nin));
            let mut o = vec![[0i64; 2]; nout];
            let c = delta(&mut mpc, |m| avg_pool2d(m, &x, &mut o, &s, false).unwrap());
            assert_eq!(
                c,
                trunc_cost(mode, nout as u64, k2 as u64),
                "avg_pool2d {s:?} {mode:?}"
            );
            let mut sc = vec![[0i64; 2]; scratch_elems_max_pool2d(&s).unwrap()];
            let c = delta(&mut mpc, |m| {
                max_pool2d(m, &x, &mut o, &s, &mut sc).unwrap()
            });
            assert_eq!(c, max_rows_cost(nout, k2), "max_pool2d {s:?} {mode:?}");
        }
    }
}

#[test]
fn ledger_accumulates_and_since_subtracts() {
    let n = 5;
    let mut b = Bench::new(Shared::scratch_words_elementwise(n));
    let mut mpc = b.session(TruncMode::Dealer);
    let x = shares(&mut mpc, &values(12, n));
    let start = mpc.cost();
    assert_eq!(start, Cost::default(), "a fresh session's ledger is zero");
    let mut t = x.clone();
    mpc.mul(&mut t, &x).unwrap();
    let mid = mpc.cost();
    let mut bits = vec![[0i64; 2]; n];
    mpc.ltz(&t, &mut bits).unwrap();
    let end = mpc.cost();
    assert_eq!(end.since(&start), mid.since(&start) + end.since(&mid));
    assert_eq!(end.since(&mid), ltz_cost(n as u64));
    assert_eq!(
        end.multiplications(),
        end.mul_triples + end.square_pairs + end.matrix_triples
    );
}

/// `lincomb_const`: local multiply-accumulate, then one truncation per output.
/// `div_int_each`: local truncations for the divisors dealer mode does not handle, and (dealer
/// mode) one round for all power-of-two divisors > 1 together.
#[test]
fn batched_truncations() {
    let s = FP.scale() as u64;
    let divisors = [1u64, 2, 3, 1 << 16, 5, 1 << 40, 1, 7, 4];
    for mode in MODES {
        for n in SIZES {
            let nn = n as u64;
            let mut b = Bench::new(Shared::scratch_words_elementwise(n));
            let mut mpc = b.session(mode);
            for c in [1usize, 3] {
                let terms = shares(&mut mpc, &values(13, c * n));
                let coeffs: Vec<f64> = (0..c).map(|j| 0.5 - j as f64).collect();
                let mut out = vec![[0i64; 2]; n];
                let cost = delta(&mut mpc, |m| {
                    m.lincomb_const(&terms, &coeffs, &mut out).unwrap()
                });
                assert_eq!(
                    cost,
                    trunc_cost(mode, nn, s),
                    "lincomb_const n={n} c={c} {mode:?}"
                );
            }
            let x = shares(&mut mpc, &values(14, n));
            let d = |i: usize| divisors[i % divisors.len()];
            let mut t = x.clone();
            let cost = delta(&mut mpc, |m| m.div_int_each(&mut t, &d).unwrap());
            let ds: Vec<u64> = (0..n).map(d).collect();
            let pow2 = ds.iter().filter(|&&v| v > 1 && v.is_power_of_two()).count() as u64;
            let other = ds
                .iter()
                .filter(|&&v| v > 1 && !v.is_power_of_two())
                .count() as u64;
            let want = match mode {
                TruncMode::Local => Cost {
                    truncations: pow2 + other,
                    ..Cost::default()
                },
                TruncMode::Dealer => {
                    let local = Cost {
                        truncations: other,
                        ..Cost::default()
                    };
                    if pow2 > 0 {
                        local + trunc_cost(mode, pow2, 2)
                    } else {
                        local
                    }
                }
                TruncMode::Law(_) => unreachable!("this test runs local and dealer truncation"),
            };
            assert_eq!(cost, want, "div_int_each n={n} {mode:?} divisors {ds:?}");
        }
    }
}
