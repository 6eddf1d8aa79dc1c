//! The message seam: every opening passes through `Net::exchange`, where a `Wire` sees it.
//!
//! Goal: a recording wire sees exactly the messages the ledger counts (rounds, per-party word
//! counts, domains, protocol names, in order), the payloads combine to the opened values, and a
//! tampering wire changes the result exactly as if the sender had held a different share:
//! proof that the opened values come from the wire's messages and from nowhere else.

use crate::arith::RingArith;
use crate::protocols::maximum::{max_rows, scratch_elems_max};
use crate::protocols::select;
use crate::seed::{self, StreamId};
use crate::testing::{int_in, rng};
use crate::wire::{Domain, Message, Wire};
use crate::{Arith, Conv2dShape, Cost, Fixed, FixedPoint, MatShape, Share, Shared, TruncMode};
use rand_core::RngCore;
use std::cell::RefCell;
use std::rc::Rc;

const FP: FixedPoint = FixedPoint::CRYPTEN_DEFAULT;
const S: i64 = 1 << 16;
const MODES: [TruncMode; 2] = [TruncMode::Local, TruncMode::Dealer];

#[derive(Clone, Debug)]
struct Rec {
    round: u64,
    from: usize,
    protocol: &'static str,
    domain: Domain,
    payload: Vec<i64>,
}

/// A wire that records every message; the log is shared so the test can read it while the
/// session (which borrows the wire) is alive.
#[derive(Clone, Default)]
struct Recorder(Rc<RefCell<Vec<Rec>>>);

impl Wire for Recorder {
    fn send(&mut self, m: &mut Message<'_>) {
        self.0.borrow_mut().push(Rec {
            round: m.round,
            from: m.from,
            protocol: m.protocol,
            domain: m.domain,
            payload: m.payload.z64().map(|w| w.to_vec()).unwrap_or_default(),
        });
    }
}

/// A wire that changes one word of one party's message in the `nth` round of `protocol`.
struct Tamper {
    protocol: &'static str,
    nth: usize,
    from: usize,
    word: usize,
    edit: fn(i64) -> i64,
    seen: usize,
    applied: bool,
}

impl Tamper {
    fn new(protocol: &'static str, word: usize, edit: fn(i64) -> i64) -> Self {
        Tamper {
            protocol,
            nth: 0,
            from: 1,
            word,
            edit,
            seen: 0,
            applied: false,
        }
    }
}

impl Wire for Tamper {
    fn send(&mut self, m: &mut Message<'_>) {
        if m.protocol != self.protocol || m.from != self.from {
            return;
        }
        if self.seen == self.nth {
            let w = &mut m.payload.z64().unwrap()[self.word];
            *w = (self.edit)(*w);
            self.applied = true;
        }
        self.seen += 1;
    }
}

fn shares(mpc: &mut Shared<'_>, raw: &[i64]) -> Vec<Share> {
    let mut out = vec![[0i64; 2]; raw.len()];
    mpc.input_ring(raw, &mut out).unwrap();
    out
}

fn open(mpc: &Shared<'_>, x: &[Share]) -> Vec<i64> {
    let mut out = vec![0i64; x.len()];
    mpc.peek_ring(x, &mut out).unwrap();
    out
}

fn small(seed: u64, n: usize) -> Vec<i64> {
    let mut r = rng(seed);
    (0..n).map(|_| int_in(&mut r, -8 * S, 8 * S)).collect()
}

/// The expected messages of one operation: (protocol, domain, words per party) per round.
type Rounds = Vec<(&'static str, Domain, usize)>;

fn ltz_rounds(n: usize) -> Rounds {
    let mut v = vec![("ltz.and", Domain::Binary, 2 * n)];
    v.extend(std::iter::repeat_n(("ltz.and", Domain::Binary, 4 * n), 6));
    v.push(("ltz.b2a", Domain::Binary, n));
    v
}

fn trunc_rounds(mode: TruncMode, n: usize) -> Rounds {
    match mode {
        TruncMode::Local => vec![],
        TruncMode::Dealer => vec![("trunc", Domain::Arithmetic, n)],
        TruncMode::Law(_) => unreachable!("laws are ideal functionalities: no messages"),
    }
}

/// Checks the messages recorded since `from_msg` against `want` and the ledger delta `cost`.
fn check_messages(log: &[Rec], first_round: u64, want: &Rounds, cost: &Cost, what: &str) {
    assert_eq!(
        log.len(),
        2 * want.len(),
        "{what}: {} messages for {} expected rounds",
        log.len(),
        want.len()
    );
    assert_eq!(cost.rounds, want.len() as u64, "{what}: ledger rounds");
    let mut words = [0u64; 2];
    for (j, (proto, domain, len)) in want.iter().enumerate() {
        let pair = &log[2 * j..2 * j + 2];
        for (p, m) in pair.iter().enumerate() {
            assert_eq!(m.round, first_round + j as u64, "{what} round {j}: number");
            assert_eq!(m.from, p, "{what} round {j}: sender order");
            assert_eq!(m.protocol, *proto, "{what} round {j}: protocol");
            assert_eq!(m.domain, *domain, "{what} round {j}: domain");
            assert_eq!(
                m.payload.len(),
                *len,
                "{what} round {j}: words of party {p}"
            );
            words[p] += m.payload.len() as u64;
        }
    }
    assert_eq!(
        cost.bytes_sent,
        [8 * words[0], 8 * words[1]],
        "{what}: ledger bytes vs words seen on the wire"
    );
}

#[test]
fn recorder_sees_exactly_what_the_ledger_counts() {
    for mode in MODES {
        for n in [1usize, 3, 8] {
            let rec = Recorder::default();
            let mut wire = rec.clone();
            let ms = MatShape { m: 2, k: n, n: 3 };
            let cs = Conv2dShape {
                batch: 1,
                in_ch: 1,
                h: 3,
                w: n + 2,
                out_ch: 2,
                kh: 2,
                kw: 2,
                stride: 1,
                pad: 0,
            };
            let words = Shared::scratch_words_elementwise(2 * n)
                .max(Shared::scratch_words_matmul(ms))
                .max(Shared::scratch_words_conv2d(&cs).unwrap());
            let mut arena = vec![0i64; words];
            let mut mpc = Shared::new(FP, 5, &mut arena)
                .with_truncation(mode)
                .with_wire(&mut wire);
            let xs = small(1, 5 * n + 6);
            let x = shares(&mut mpc, &xs[..n]);
            let y = shares(&mut mpc, &xs[n..2 * n]);
            assert!(rec.0.borrow().is_empty(), "input sent a message");

            // Each step: run it, then compare the new messages with the expectation and the
            // ledger delta.
            let step =
                |mpc: &mut Shared<'_>, what: &str, want: Rounds, op: &dyn Fn(&mut Shared<'_>)| {
                    let start = rec.0.borrow().len();
                    let before = mpc.cost();
                    op(mpc);
                    let delta = mpc.cost().since(&before);
                    let log = rec.0.borrow();
                    check_messages(
                        &log[start..],
                        before.rounds,
                        &want,
                        &delta,
                        &format!("{what} n={n} {mode:?}"),
                    );
                };
            let tr = trunc_rounds(mode, n);
            step(
                &mut mpc,
                "reveal",
                vec![("reveal", Domain::Arithmetic, n)],
                &|m| {
                    let mut o = vec![0.0; n];
                    m.reveal(&x, &mut o).unwrap();
                },
            );
            step(
                &mut mpc,
                "reveal_ring",
                vec![("reveal", Domain::Arithmetic, n)],
                &|m| {
                    let mut o = vec![0i64; n];
                    m.reveal_ring(&x, &mut o).unwrap();
                },
            );
            let want: Rounds = [vec![("mul", Domain::Arithmetic, 2 * n)], tr.clone()].concat();
            step(&mut mpc, "mul", want, &|m| {
                let mut t = x.clone();
                m.mul(&mut t, &y).unwrap();
            });
            step(
                &mut mpc,
                "mul_unscaled",
                vec![("mul", Domain::Arithmetic, 2 * n)],
                &|m| {
                    let mut t = x.clone();
                    m.mul_unscaled(&mut t, &y).unwrap();
                },
            );
            let want: Rounds = [vec![("square", Domain::Arithmetic, n)], tr.clone()].concat();
            step(&mut mpc, "square", want, &|m| {
                let mut t = x.clone();
                m.square(&mut t).unwrap();
            });
            step(&mut mpc, "mul_const", tr.clone(), &|m| {
                let mut t = x.clone();
                m.mul_const(&mut t, 0.3).unwrap();
            });
            step(&mut mpc, "div_int(3)", vec![], &|m| {
                let mut t = x.clone();
                m.div_int(&mut t, 3).unwrap();
            });
            let a = shares(&mut mpc, &xs[..2 * n]);
            let b = shares(&mut mpc, &xs[2 * n..5 * n]);
            let want: Rounds = [
                vec![("matmul", Domain::Arithmetic, 2 * n + 3 * n)],
                trunc_rounds(mode, 6),
            ]
            .concat();
            step(&mut mpc, "matmul", want, &|m| {
                let mut o = vec![[0i64; 2]; 6];
                m.matmul(&a, &b, &mut o, ms).unwrap();
            });
            let (ci, cw, co) = (
                cs.input_len().unwrap(),
                cs.weight_len().unwrap(),
                cs.output_len().unwrap(),
            );
            let xs2 = small(2, ci + cw);
            let cx = shares(&mut mpc, &xs2[..ci]);
            let cwt = shares(&mut mpc, &xs2[ci..]);
            let want: Rounds = [
                vec![("conv2d", Domain::Arithmetic, ci + cw)],
                trunc_rounds(mode, co),
            ]
            .concat();
            step(&mut mpc, "conv2d", want, &|m| {
                let mut o = vec![[0i64; 2]; co];
                m.conv2d(&cx, &cwt, &mut o, &cs).unwrap();
            });
            step(&mut mpc, "ltz", ltz_rounds(n), &|m| {
                let mut o = vec![[0i64; 2]; n];
                m.ltz(&x, &mut o).unwrap();
            });
            let want: Rounds = [ltz_rounds(n), vec![("mul", Domain::Arithmetic, 2 * n)]].concat();
            step(&mut mpc, "relu", want, &|m| {
                let mut t = x.clone();
                let mut bits = vec![[0i64; 2]; n];
                select::relu(m, &mut t, &mut bits).unwrap();
            });
            // max over 2 rows of 3: levels of 2 pairs, then of 2 pairs again (3 → 2 → 1).
            let want: Rounds = [
                ltz_rounds(2),
                vec![("mul", Domain::Arithmetic, 2 * 4)],
                ltz_rounds(2),
                vec![("mul", Domain::Arithmetic, 2 * 4)],
            ]
            .concat();
            let xm = shares(&mut mpc, &xs[..6]);
            step(&mut mpc, "max_rows 2x3", want, &|m| {
                let mut mx = vec![[0i64; 2]; 2];
                let mut sc = vec![[0i64; 2]; scratch_elems_max(2, 3)];
                max_rows(m, &xm, 2, 3, &mut mx, None, &mut sc).unwrap();
            });
            // The whole session: the log covers every round the ledger counts, numbered
            // 0, 1, 2, … without gaps.
            let total = mpc.cost();
            let log = rec.0.borrow();
            assert_eq!(log.len() as u64, 2 * total.rounds, "n={n} {mode:?}");
            for (i, m) in log.iter().enumerate() {
                assert_eq!(m.round, i as u64 / 2, "n={n} {mode:?}: message {i}");
            }
        }
    }
}

/// The recorded payloads are what each party sends: for a reveal, party 0's and party 1's
/// messages are their shares and combine to the revealed values; for ltz's last round the XOR
/// of the two one-bit messages, unmasked by the dealer's bit, is the sign.
#[test]
fn recorded_payloads_combine_to_the_opened_values() {
    let rec = Recorder::default();
    let mut wire = rec.clone();
    let n = 6;
    let mut arena = vec![0i64; Shared::scratch_words_elementwise(n)];
    let mut mpc = Shared::new(FP, 9, &mut arena).with_wire(&mut wire);
    let xs = vec![5, -5, 0, i64::MIN, i64::MAX, -1];
    let x = shares(&mut mpc, &xs);
    let mut out = vec![0i64; n];
    mpc.reveal_ring(&x, &mut out).unwrap();
    let mut bits = vec![[0i64; 2]; n];
    mpc.ltz(&x, &mut bits).unwrap();
    let lt = open(&mpc, &bits);
    let log = rec.0.borrow();
    let (m0, m1) = (&log[0].payload, &log[1].payload);
    for i in 0..n {
        assert_eq!(m0[i], x[i][0], "party 0 sends its own share [{i}]");
        assert_eq!(m1[i], x[i][1], "party 1 sends its own share [{i}]");
        assert_eq!(
            m0[i].wrapping_add(m1[i]),
            xs[i],
            "shares combine to the value [{i}]"
        );
    }
    assert_eq!(out, xs);
    // The b2a round opens z = sign ^ r; the output is r(1 − 2z) + z, so the sign is z ^ r and
    // z alone is uniformly masked. Here: z is the XOR of the recorded messages.
    let b2a: Vec<&Rec> = log.iter().filter(|m| m.protocol == "ltz.b2a").collect();
    assert_eq!(b2a.len(), 2);
    let z: Vec<i64> = (0..n)
        .map(|i| (b2a[0].payload[i] ^ b2a[1].payload[i]) & 1)
        .collect();
    assert!(z.iter().all(|&v| v == 0 || v == 1));
    let want: Vec<i64> = xs.iter().map(|&v| i64::from(v < 0)).collect();
    assert_eq!(lt, want);
}

/// The Beaver round's messages are `x − a` and `y − b` with the triple drawn from the dealer
/// stream in the documented order: a's party-0 shares, a's party-1 shares, then b's.
#[test]
fn beaver_messages_use_the_documented_dealer_draws() {
    let seed = 31;
    let n = 5;
    let rec = Recorder::default();
    let mut wire = rec.clone();
    let mut arena = vec![0i64; Shared::scratch_words_elementwise(n)];
    let mut mpc = Shared::new(FP, seed, &mut arena).with_wire(&mut wire);
    let x = shares(&mut mpc, &small(3, n));
    let y = shares(&mut mpc, &small(4, n));
    let mut t = x.clone();
    mpc.mul_unscaled(&mut t, &y).unwrap();
    let log = rec.0.borrow();
    assert_eq!(log.len(), 2);
    let mut dealer = seed::stream(seed, StreamId::Dealer);
    let mut draw = |k: usize| -> Vec<i64> { (0..k).map(|_| dealer.next_u64() as i64).collect() };
    let (a0, a1, b0, b1) = (draw(n), draw(n), draw(n), draw(n));
    for i in 0..n {
        assert_eq!(
            log[0].payload[i],
            x[i][0].wrapping_sub(a0[i]),
            "ε party 0 [{i}]"
        );
        assert_eq!(
            log[1].payload[i],
            x[i][1].wrapping_sub(a1[i]),
            "ε party 1 [{i}]"
        );
        assert_eq!(
            log[0].payload[n + i],
            y[i][0].wrapping_sub(b0[i]),
            "δ party 0 [{i}]"
        );
        assert_eq!(
            log[1].payload[n + i],
            y[i][1].wrapping_sub(b1[i]),
            "δ party 1 [{i}]"
        );
    }
}

/// Adding 1 to one word of party 1's Beaver message (an additive attack on ε or δ) shifts the
/// revealed unscaled product by exactly the other operand; with truncation, the result is
/// bit-identical to an honest run on x + 1 ulp and within one unit of `Fixed`'s (x + 1)·y.
#[test]
fn tampering_party1_mul_message_shifts_the_product() {
    let n = 6;
    let xs = small(7, n);
    let ys = small(8, n);
    let run = |wire: Option<&mut dyn Wire>, xs: &[i64], unscaled: bool| -> Vec<i64> {
        let mut arena = vec![0i64; Shared::scratch_words_elementwise(n)];
        let mut mpc = Shared::new(FP, 17, &mut arena);
        if let Some(w) = wire {
            mpc = mpc.with_wire(w);
        }
        let mut x = shares(&mut mpc, xs);
        let y = shares(&mut mpc, &ys);
        if unscaled {
            mpc.mul_unscaled(&mut x, &y).unwrap();
        } else {
            mpc.mul(&mut x, &y).unwrap();
        }
        let mut out = vec![0i64; n];
        mpc.reveal_ring(&x, &mut out).unwrap();
        out
    };
    let honest = run(None, &xs, true);
    for i in [0, 3, n - 1] {
        // ε_i + 1: the product becomes (x_i + 1)·y_i.
        let mut t = Tamper::new("mul", i, |w| w.wrapping_add(1));
        let got = run(Some(&mut t), &xs, true);
        assert!(t.applied);
        for j in 0..n {
            let want = if j == i {
                honest[j].wrapping_add(ys[j])
            } else {
                honest[j]
            };
            assert_eq!(got[j], want, "ε_{i} + 1: element {j}");
        }
        // δ_i + 1: the product becomes x_i·(y_i + 1).
        let mut t = Tamper::new("mul", n + i, |w| w.wrapping_add(1));
        let got = run(Some(&mut t), &xs, true);
        for j in 0..n {
            let want = if j == i {
                honest[j].wrapping_add(xs[j])
            } else {
                honest[j]
            };
            assert_eq!(got[j], want, "δ_{i} + 1: element {j}");
        }
        // With truncation: identical to an honest run on x_i + 1 ulp.
        let mut t = Tamper::new("mul", i, |w| w.wrapping_add(1));
        let got = run(Some(&mut t), &xs, false);
        let mut bumped = xs.clone();
        bumped[i] += 1;
        assert_eq!(
            got,
            run(None, &bumped, false),
            "tampered mul vs honest x + 1 ulp"
        );
        let mut fx = Fixed::new(FP);
        let mut f = bumped.clone();
        fx.mul(&mut f, &ys).unwrap();
        for j in 0..n {
            assert!(
                (got[j] - f[j]).abs() <= 1,
                "element {j}: {} vs Fixed {}",
                got[j],
                f[j]
            );
        }
    }
    // The untampered run is not affected by an observing wire.
    let mut rec = Recorder::default();
    assert_eq!(run(Some(&mut rec), &xs, true), honest);
}

/// For every arithmetic opening, +1 on a word of party 1's message gives exactly the result of
/// an honest run in which party 1's share was 1 larger; for the binary B2A opening, flipping
/// the bit flips the output. So each protocol's result depends on the opened values only
/// through the messages the wire delivers.
#[test]
fn tampering_each_protocol_equals_changing_party1_share() {
    let n = 5;
    let xs = small(21, 3 * n);
    // Runs `op` on inputs `raw` with an optional wire; returns the revealed outputs.
    fn run(
        mode: TruncMode,
        wire: Option<&mut dyn Wire>,
        raw: &[i64],
        op: &dyn Fn(&mut Shared<'_>, &[Share]) -> Vec<Share>,
    ) -> Vec<i64> {
        let mut arena = vec![0i64; 4096];
        let mut mpc = Shared::new(FP, 23, &mut arena).with_truncation(mode);
        if let Some(w) = wire {
            mpc = mpc.with_wire(w);
        }
        let x = shares(&mut mpc, raw);
        let out = op(&mut mpc, &x);
        let mut r = vec![0i64; out.len()];
        mpc.reveal_ring(&out, &mut r).unwrap();
        r
    }
    type OpFn = fn(&mut Shared<'_>, &[Share]) -> Vec<Share>;
    let square: OpFn = |m, x| {
        let mut t = x[..5].to_vec();
        m.square(&mut t).unwrap();
        t
    };
    let matmul: OpFn = |m, x| {
        let mut o = vec![[0i64; 2]; 2];
        m.matmul(&x[..5], &x[5..15], &mut o, MatShape { m: 1, k: 5, n: 2 })
            .unwrap();
        o
    };
    let trunc: OpFn = |m, x| {
        let mut t = x[..5].to_vec();
        m.div_int(&mut t, 1 << 16).unwrap();
        t
    };
    // (protocol, operation, modes, word, amount added): the truncation's opening is shifted by
    // one output unit (2^16), since one ring unit would vanish in the truncation.
    let cases: [(&str, OpFn, &[TruncMode], usize, i64); 3] = [
        ("square", square, &MODES, 2, 1),
        ("matmul", matmul, &MODES, 3, 1),
        ("trunc", trunc, &[TruncMode::Dealer], 4, S),
    ];
    for (proto, op, modes, word, amount) in cases {
        for &mode in modes {
            let mut t = Tamper::new(proto, word, |w| w.wrapping_add(1));
            if amount == S {
                t.edit = |w| w.wrapping_add(S);
            }
            let got = run(mode, Some(&mut t), &xs, &op);
            assert!(t.applied, "{proto} {mode:?}: no message tampered");
            let mut bumped = xs.clone();
            bumped[word] += amount;
            let want = run(mode, None, &bumped, &op);
            assert_eq!(
                got, want,
                "{proto} {mode:?}: tampered ≠ honest run with share + 1"
            );
            assert_ne!(
                got,
                run(mode, None, &xs, &op),
                "{proto} {mode:?}: no effect"
            );
        }
    }

    // The final reveal itself: +1 on party 1's word i adds exactly 1 to the revealed value i.
    let ident: OpFn = |_, x| x.to_vec();
    let mut t = Tamper::new("reveal", 2, |w| w.wrapping_add(1));
    let got = run(TruncMode::Local, Some(&mut t), &xs, &ident);
    let mut want = xs.clone();
    want[2] += 1;
    assert_eq!(got, want, "reveal_ring");
    // And the decoding reveal: the value moves by exactly one ulp (2^−16).
    let mut t = Tamper::new("reveal", 2, |w| w.wrapping_add(1));
    let mut arena = vec![0i64; 64];
    let mut mpc = Shared::new(FP, 23, &mut arena).with_wire(&mut t);
    let x = shares(&mut mpc, &xs);
    let mut vals = vec![0.0; xs.len()];
    mpc.reveal(&x, &mut vals).unwrap();
    for (j, &v) in vals.iter().enumerate() {
        let want = FP.decode(if j == 2 { xs[j] + 1 } else { xs[j] });
        assert_eq!(v, want, "reveal: element {j}");
    }

    // The B2A opening (binary domain): flipping party 1's bit flips the comparison result.
    let ltz: OpFn = |m, x| {
        let mut o = vec![[0i64; 2]; x.len()];
        m.ltz(x, &mut o).unwrap();
        o
    };
    for i in [0, 7, 14] {
        let mut t = Tamper::new("ltz.b2a", i, |w| w ^ 1);
        let got = run(TruncMode::Local, Some(&mut t), &xs, &ltz);
        for (j, &g) in got.iter().enumerate() {
            let lt = i64::from(xs[j] < 0);
            let want = if j == i { 1 - lt } else { lt };
            assert_eq!(g, want, "ltz.b2a flip at {i}: element {j}");
        }
    }
    // An AND round's message: a flipped bit in the carry circuit changes some output (the
    // adder reads its inputs only through the wire).
    let mut r = rng(99);
    let mut changed = 0;
    for _ in 0..8 {
        // Flip bit 62 of a word of the first AND round: it changes the generate bit that
        // carries into the sign bit (bit 63's own generate bit is shifted out, never read).
        let word = (r.next_u64() % (2 * 15)) as usize;
        let mut t = Tamper::new("ltz.and", word, |w| w ^ (1 << 62));
        let got = run(TruncMode::Local, Some(&mut t), &xs, &ltz);
        let honest: Vec<i64> = xs.iter().map(|&v| i64::from(v < 0)).collect();
        if got != honest {
            changed += 1;
        }
    }
    assert!(
        changed > 0,
        "tampering the AND round never changed the comparison"
    );
}

/// `Net::exchange` is public; messages of unequal length used to trip a debug assertion (and
/// be combined over the shorter one in release builds). Now an error before anything counts.
#[test]
fn exchange_of_unequal_messages_is_an_error() {
    let mut net = crate::wire::Net::new();
    let (mut m0, mut m1) = ([1i64, 2, 3], [4i64, 5]);
    assert_eq!(
        net.exchange("t", Domain::Arithmetic, &mut m0, &mut m1),
        Err(crate::Error::ShapeMismatch {
            expected: 3,
            got: 2
        })
    );
    assert_eq!((m0, m1), ([1, 2, 3], [4, 5]));
    assert_eq!(*net.cost(), Cost::default());
    net.exchange("t", Domain::Binary, &mut m0[..2], &mut m1)
        .unwrap();
    assert_eq!(m0, [1 ^ 4, 2 ^ 5, 3]);
    assert_eq!(net.cost().rounds, 1);
}
