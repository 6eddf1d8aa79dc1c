//! The DReLU protocols compute `[x ≥ 0]` exactly in their documented range and cost what their
//! docs say; the piecewise sigmoid is the function of its `f64` reference in every arithmetic;
//! a session with a helper comparison runs ReLU (and max pooling) through the helper.

use super::*;
use crate::arith::{Float, Shared};
use crate::fixed::FixedPoint;
use crate::leak::ViewRecorder;
use crate::seed::{self, StreamId};
use crate::share::{reconstruct, share_from};
use crate::testing::{int_in, rng};
use crate::wire::{Net, HELPER};
use rand_core::RngCore;

const BOUND: i64 = 1 << INPUT_BITS;

fn inputs(seed: u64) -> Vec<i64> {
    let mut r = rng(seed);
    let mut xs = vec![
        0,
        1,
        -1,
        2,
        -2,
        BOUND - 1,
        -(BOUND - 1),
        1 << 20,
        -(1 << 20),
    ];
    xs.extend((0..200).map(|_| int_in(&mut r, -(BOUND - 1), BOUND - 1)));
    xs.extend((0..50).map(|_| int_in(&mut r, -3, 3)));
    xs
}

#[test]
fn drelu_is_exact_in_every_mode_and_costs_what_it_says() {
    for seed in [1u64, 7, 0xDEAD] {
        let xs = inputs(seed);
        let n = xs.len();
        for mode in Comparison::ALL {
            let mut przs = seed::stream(seed, StreamId::Przs);
            let shares: Vec<Share> = xs.iter().map(|&v| share_from(&mut przs, 1, v)).collect();
            let mut net = Net::new();
            let mut dealer = Dealer::new(seed);
            let mut streams = HelperStreams::new(seed);
            let mut out = vec![[0i64; 2]; n];
            let mut scratch = vec![0i64; scratch_words_drelu(n)];
            drelu(
                &mut net,
                &mut dealer,
                &mut przs,
                &mut streams,
                mode,
                &shares,
                &mut out,
                &mut scratch,
            )
            .unwrap();
            for (i, (&x, &o)) in xs.iter().zip(&out).enumerate() {
                assert_eq!(
                    reconstruct(o),
                    i64::from(x >= 0),
                    "seed {seed} {mode:?}: element {i} = {x}"
                );
            }
            let c = *net.cost();
            match mode {
                Comparison::A2b => {
                    assert_eq!(c.rounds, 8);
                    assert_eq!(c.bytes_sent, [216 * n as u64; 2]);
                    assert_eq!(c.helper_bytes, 0);
                }
                Comparison::PrivateCompare => {
                    assert_eq!(c.rounds, 4);
                    assert_eq!(c.bytes_sent, [512 * n as u64; 2]);
                    assert_eq!(c.helper_bytes, 1040 * n as u64);
                    assert_eq!((c.mul_triples, c.and_triples, c.b2a_bits), (0, 0, 0));
                }
                _ => {
                    assert_eq!(c.rounds, 2, "{mode:?}");
                    assert_eq!(c.bytes_sent, [8 * n as u64; 2], "{mode:?}");
                    assert_eq!(c.helper_bytes, 16 * n as u64, "{mode:?}");
                    assert_eq!(
                        (c.mul_triples, c.and_triples, c.b2a_bits),
                        (0, 0, 0),
                        "{mode:?}: no dealer material"
                    );
                }
            }
        }
    }
}

#[test]
fn drelu_checks_its_buffers_before_drawing() {
    let mut net = Net::new();
    let mut streams = HelperStreams::new(3);
    let before = format!("{streams:?}");
    let mut out = [[0i64; 2]; 2];
    let mut scratch = [0i64; 7];
    assert_eq!(
        helper_drelu(
            &mut net,
            &mut streams,
            true,
            &[[1, 2]; 2],
            &mut out,
            &mut scratch
        ),
        Err(Error::BufferTooSmall { needed: 8, got: 7 })
    );
    assert!(matches!(
        helper_drelu(
            &mut net,
            &mut streams,
            true,
            &[[1, 2]; 3],
            &mut out,
            &mut [0; 64]
        ),
        Err(Error::ShapeMismatch { .. })
    ));
    assert_eq!(format!("{streams:?}"), before, "drew");
    assert_eq!(net.cost().rounds, 0);
}

/// What the helper sees: with the leaky protocol the sum of its two received words has the
/// sign of `x`; with the sign-hidden one the signs it sees agree with the true ones about half
/// the time; with A2B it receives nothing.
#[test]
fn the_helper_sees_the_signs_only_in_the_leaky_protocol() {
    let xs = inputs(11);
    let n = xs.len();
    for mode in Comparison::ALL {
        let mut przs = seed::stream(5, StreamId::Przs);
        let shares: Vec<Share> = xs.iter().map(|&v| share_from(&mut przs, 1, v)).collect();
        let mut words = vec![0i64; 2 * 63 * n];
        let mut rec = ViewRecorder::new(HELPER, &mut words);
        let mut net = Net::with_wire(&mut rec);
        let mut out = vec![[0i64; 2]; n];
        drelu(
            &mut net,
            &mut Dealer::new(5),
            &mut przs,
            &mut HelperStreams::new(5),
            mode,
            &shares,
            &mut out,
            &mut vec![0; scratch_words_drelu(n)],
        )
        .unwrap();
        let view = rec.view();
        if mode == Comparison::A2b {
            assert!(view.is_empty(), "the helper received {} words", view.len());
            continue;
        }
        if mode == Comparison::PrivateCompare {
            // 63 masked values per element from each party; the helper's only derived bit,
            // "some value is 0 mod 67", agrees with the sign about half the time.
            assert_eq!(view.len(), 2 * 63 * n);
            let (d0, d1) = view.split_at(63 * n);
            let agree = (0..n)
                .filter(|&i| {
                    let zero = (63 * i..63 * (i + 1)).any(|k| (d0[k] + d1[k]).rem_euclid(67) == 0);
                    zero == (xs[i] >= 0)
                })
                .count();
            let frac = agree as f64 / n as f64;
            assert!((0.35..0.65).contains(&frac), "pc: agreement {frac}");
            for k in 0..63 * n {
                assert!((0..67).contains(&d0[k]) && (0..67).contains(&d1[k]));
            }
            continue;
        }
        assert_eq!(view.len(), 2 * n);
        let agree = (0..n)
            .filter(|&i| (view[i].wrapping_add(view[n + i]) >= 0) == (xs[i] >= 0))
            .count();
        if mode == Comparison::Leaky {
            assert_eq!(agree, n, "the leaky helper sees every sign");
        } else {
            let frac = agree as f64 / n as f64;
            assert!((0.35..0.65).contains(&frac), "hidden: agreement {frac}");
        }
    }
}

#[test]
fn piecewise_sigmoid_is_its_reference_in_float_and_in_shares() {
    let c = [-4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0];
    let xs: Vec<f64> = (-60..=60).map(|i| f64::from(i) * 0.1 + 0.003).collect();
    let want: Vec<f64> = xs.iter().map(|&x| piecewise_sigmoid_f64(&c, x)).collect();
    // Float: exact up to rounding.
    let mut f = Float::new(FixedPoint::new(16).unwrap());
    let mut v = xs.clone();
    let mut scratch = vec![0.0; scratch_elems_piecewise(v.len(), c.len())];
    piecewise_sigmoid(&mut f, &mut v, &c, &mut scratch).unwrap();
    for (i, (&g, &w)) in v.iter().zip(&want).enumerate() {
        assert!((g - w).abs() < 1e-12, "float {}: {g} vs {w}", xs[i]);
    }
    // Shares, every comparison: within a few fixed-point units.
    let fp = FixedPoint::new(16).unwrap();
    for mode in Comparison::ALL {
        let n = xs.len() * c.len();
        let mut arena = vec![0i64; Shared::scratch_words_elementwise(n)];
        let mut mpc = Shared::new(fp, 9, &mut arena).with_comparison(mode);
        let mut s = vec![[0i64; 2]; xs.len()];
        mpc.input(&xs, &mut s).unwrap();
        let mut scratch = vec![[0i64; 2]; scratch_elems_piecewise(xs.len(), c.len())];
        let before = mpc.cost();
        piecewise_sigmoid(&mut mpc, &mut s, &c, &mut scratch).unwrap();
        let cost = mpc.cost().since(&before);
        let mut out = vec![0.0; xs.len()];
        mpc.reveal(&s, &mut out).unwrap();
        for (i, (&g, &w)) in out.iter().zip(&want).enumerate() {
            assert!((g - w).abs() < 1e-3, "{mode:?} {}: {g} vs {w}", xs[i]);
        }
        // One DReLU batch of m·n, one round of m·n products.
        let dr = match mode {
            Comparison::A2b => 8,
            // In blocks of what the session's arena holds.
            Comparison::PrivateCompare => {
                let block = Shared::scratch_words_elementwise(n) / private_compare::PC_WORDS;
                4 * n.div_ceil(block) as u64
            }
            _ => 2,
        };
        assert_eq!(cost.rounds, dr + 1, "{mode:?}");
        assert_eq!(cost.mul_triples, n as u64, "{mode:?}");
    }
    assert!(check_breakpoints(&[]).is_err());
    assert!(check_breakpoints(&[1.0, 1.0]).is_err());
    assert!(check_breakpoints(&[f64::NAN]).is_err());
}

/// A whole session with a helper comparison: ReLU through `Arith::ltz` gives the A2B result.
#[test]
fn a_session_runs_relu_through_the_helper() {
    let fp = FixedPoint::new(16).unwrap();
    let xs: Vec<f64> = (-50..50).map(|i| f64::from(i) * 0.37).collect();
    let mut results = Vec::new();
    for mode in Comparison::ALL {
        let mut arena = vec![0i64; Shared::scratch_words_elementwise(xs.len())];
        let mut mpc = Shared::new(fp, 4, &mut arena).with_comparison(mode);
        assert_eq!(mpc.comparison(), mode);
        let mut s = vec![[0i64; 2]; xs.len()];
        mpc.input(&xs, &mut s).unwrap();
        let mut bits = vec![[0i64; 2]; xs.len()];
        crate::protocols::select::relu(&mut mpc, &mut s, &mut bits).unwrap();
        let mut out = vec![0.0; xs.len()];
        mpc.reveal(&s, &mut out).unwrap();
        results.push(out);
    }
    for (i, &x) in xs.iter().enumerate() {
        let want = x.max(0.0);
        for r in &results {
            assert!((r[i] - want).abs() < 1e-4, "{x}: {}", r[i]);
        }
    }
}

/// The private-compare DReLU is exact on the whole ring (edge words and random words), and in
/// blocks when its scratch is short: the same bits, 4 rounds per block.
#[test]
fn private_compare_is_exact_on_the_whole_ring_and_in_blocks() {
    let mut r = rng(21);
    let mut xs = vec![
        0,
        1,
        -1,
        i64::MIN,
        i64::MAX,
        i64::MIN + 1,
        i64::MAX - 1,
        1 << 62,
        -(1 << 62),
    ];
    xs.extend((0..300).map(|_| r.next_u64() as i64));
    let n = xs.len();
    for seed in [2u64, 99] {
        let mut przs = seed::stream(seed, StreamId::Przs);
        let shares: Vec<Share> = xs.iter().map(|&v| share_from(&mut przs, 1, v)).collect();
        let mut results = Vec::new();
        for words in [private_compare::PC_WORDS * n, private_compare::PC_WORDS * 7] {
            let mut net = Net::new();
            let mut out = vec![[0i64; 2]; n];
            private_compare::pc_drelu(
                &mut net,
                &mut HelperStreams::new(seed),
                &shares,
                &mut out,
                &mut vec![0; words],
            )
            .unwrap();
            for (i, (&x, &o)) in xs.iter().zip(&out).enumerate() {
                assert_eq!(reconstruct(o), i64::from(x >= 0), "seed {seed}: {i} = {x}");
            }
            let blocks = n.div_ceil(words / private_compare::PC_WORDS) as u64;
            assert_eq!(net.cost().rounds, 4 * blocks);
            results.push(out.iter().map(|&o| reconstruct(o)).collect::<Vec<_>>());
        }
        assert_eq!(results[0], results[1]);
    }
    let mut out = [[0i64; 2]; 1];
    assert!(matches!(
        private_compare::pc_drelu(
            &mut Net::new(),
            &mut HelperStreams::new(1),
            &[[1, 2]],
            &mut out,
            &mut [0; private_compare::PC_WORDS - 1]
        ),
        Err(Error::BufferTooSmall { .. })
    ));
}
