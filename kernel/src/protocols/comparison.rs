//! Comparison with zero: arithmetic-to-binary conversion, a log-depth adder, one-bit B2A.
//!
//! # Method
//! Each party's additive share becomes an XOR sharing (PRZS-masked, no communication). The
//! parties add the two XOR-shared words with a parallel-prefix (Kogge–Stone) carry circuit:
//! generate `G = X & Y` (1 AND round), propagate `P = X ^ Y`, then 6 levels
//! `G ← G ^ (P & (G << s))`, `P ← P & (P << s)` for `s = 1, 2, …, 32`, both ANDs of a level in
//! one round. The sum is `P₀ ^ (G << 1)`; its top bit is the sign. A one-bit B2A turns that
//! bit into an additive sharing: the dealer's random bit `r` is shared both ways, the parties
//! open `z = bit ^ r` and set `[bit] = [r]·(1 − 2z) + z`.
//!
//! # Cost
//! `ltz` on `n` elements in Z_2^64: 8 rounds (7 adder + 1 B2A); `13n` AND word-triples; `n` B2A bits;
//! in Z_2^k, `2 + log₂ k` rounds and `(1 + 2·log₂ k)·n` triples (Z_2^128: 9 and `15n`);
//! each party sends `27n` words (216 bytes per element; CrypTen's rank-0 log counts
//! sent + received, 432 B).
//!
//! # Error
//! None: the result is the exact two's-complement sign bit of the ring value. It is only wrong
//! for a value that has already wrapped (|real| ≥ 2^(63−f)), or after an upstream truncation
//! catastrophe.
//!
//! # Reference
//! CrypTen `mpc/mpc.py: _ltz`, `converters.py: _A2B`, `circuit.py: add` (its Sklansky-style tree
//! has the same 7 rounds and 13 AND words), `beaver.py: AND`, `B2A_single_bit`.

use super::{carve, need};
use crate::dealer::Dealer;
#[cfg(doc)]
use crate::error::Error;
use crate::error::{check_len, Result};
use crate::ring::Word;
use crate::seed::Xoshiro256PlusPlus;
use crate::share::{share_xor_from, Share};
use crate::wire::{Domain, Net};

/// Scratch words [`and`] needs for `n` words (saturating at `usize::MAX`).
pub const fn scratch_words_and(n: usize) -> usize {
    n.saturating_mul(10)
}

/// Scratch words [`ltz`] needs for `n` elements (saturating at `usize::MAX`).
pub const fn scratch_words_ltz(n: usize) -> usize {
    // G, P, P0 (2 words each) + level operands x, y, z (2n shares each) + the AND scratch (2n)
    // + the B2A messages: 6n + 12n + 20n + 2n.
    n.saturating_mul(40)
}

/// `out = x & y` on XOR shares (one round; `n` AND word-triples).
///
/// # Errors
/// [`Error::ShapeMismatch`] unless `x`, `y` and `out` have one length, then
/// [`Error::BufferTooSmall`] if `scratch` is shorter than [`scratch_words_and`]; nothing is
/// drawn or sent when it fails.
pub fn and<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    protocol: &'static str,
    x: &[Share<W>],
    y: &[Share<W>],
    out: &mut [Share<W>],
    mut scratch: &mut [W],
) -> Result<()> {
    let n = out.len();
    check_len(n, x.len())?;
    check_len(n, y.len())?;
    need(scratch_words_and(n), scratch.len())?;
    let a0 = carve(&mut scratch, n);
    let a1 = carve(&mut scratch, n);
    let b0 = carve(&mut scratch, n);
    let b1 = carve(&mut scratch, n);
    let c0 = carve(&mut scratch, n);
    let c1 = carve(&mut scratch, n);
    let m0 = carve(&mut scratch, 2 * n);
    let m1 = carve(&mut scratch, 2 * n);
    dealer.and_triples(
        [&mut *a0, &mut *a1],
        [&mut *b0, &mut *b1],
        [&mut *c0, &mut *c1],
    );
    let cost = net.cost_mut();
    cost.and_triples = cost.and_triples.wrapping_add(n as u64);
    for i in 0..n {
        m0[i] = x[i][0] ^ a0[i];
        m1[i] = x[i][1] ^ a1[i];
        m0[n + i] = y[i][0] ^ b0[i];
        m1[n + i] = y[i][1] ^ b1[i];
    }
    net.exchange(protocol, Domain::Binary, m0, m1)?;
    for i in 0..n {
        let (e, d) = (m0[i], m0[n + i]);
        out[i] = [
            c0[i] ^ (e & b0[i]) ^ (a0[i] & d) ^ (e & d),
            c1[i] ^ (e & b1[i]) ^ (a1[i] & d),
        ];
    }
    Ok(())
}

#[inline]
fn shl<W: Word>(s: Share<W>, k: u32) -> Share<W> {
    [s[0] << k, s[1] << k]
}

#[inline]
fn xor<W: Word>(a: Share<W>, b: Share<W>) -> Share<W> {
    [a[0] ^ b[0], a[1] ^ b[1]]
}

/// The prefix levels of the adder in Z_2^k: log₂ k (6 for Z_2^64, 7 for Z_2^128).
pub const fn prefix_levels<W: Word>() -> u32 {
    W::BITS.trailing_zeros()
}

/// `out = [x < 0]` as an additive sharing of the integer 0 or 1 (scale 1).
///
/// # Errors
/// [`Error::ShapeMismatch`] unless `out` is as long as `x`, then [`Error::BufferTooSmall`]
/// if `scratch` is shorter than [`scratch_words_ltz`]; nothing is drawn or sent when it fails.
pub fn ltz<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    przs: &mut Xoshiro256PlusPlus,
    x: &[Share<W>],
    out: &mut [Share<W>],
    mut scratch: &mut [W],
) -> Result<()> {
    let n = x.len();
    check_len(n, out.len())?;
    need(scratch_words_ltz(n), scratch.len())?;
    let (g, _) = carve(&mut scratch, 2 * n).as_chunks_mut::<2>();
    let (p, _) = carve(&mut scratch, 2 * n).as_chunks_mut::<2>();
    let (p0, _) = carve(&mut scratch, 2 * n).as_chunks_mut::<2>();
    let (xs, _) = carve(&mut scratch, 4 * n).as_chunks_mut::<2>();
    let (ys, _) = carve(&mut scratch, 4 * n).as_chunks_mut::<2>();
    let (zs, _) = carve(&mut scratch, 4 * n).as_chunks_mut::<2>();

    // A2B: party i's share x_i as an XOR sharing owned by party i.
    for i in 0..n {
        xs[i] = share_xor_from(przs, 0, x[i][0]);
        ys[i] = share_xor_from(przs, 1, x[i][1]);
        p0[i] = xor(xs[i], ys[i]);
        p[i] = p0[i];
    }
    and(net, dealer, "ltz.and", &xs[..n], &ys[..n], g, scratch)?;
    for level in 0..prefix_levels::<W>() {
        let s = 1u32 << level;
        for i in 0..n {
            xs[i] = p[i];
            xs[n + i] = p[i];
            ys[i] = shl(g[i], s);
            ys[n + i] = shl(p[i], s);
        }
        and(net, dealer, "ltz.and", xs, ys, zs, scratch)?;
        for i in 0..n {
            g[i] = xor(g[i], zs[i]);
            p[i] = zs[n + i];
        }
    }

    // Sign bit of P0 ^ (G << 1), as an XOR sharing of 0/1 in bit 0 (logical shifts are linear).
    let m0 = carve(&mut scratch, n);
    let m1 = carve(&mut scratch, n);
    for i in 0..n {
        let sum = xor(p0[i], shl(g[i], 1));
        let (rb, ra) = dealer.b2a_bit::<W>();
        // Keep the additive shares of r where the output goes; rb masks the opened bit.
        out[i] = ra;
        m0[i] = sum[0].shr_logical(W::BITS - 1) ^ rb[0];
        m1[i] = sum[1].shr_logical(W::BITS - 1) ^ rb[1];
    }
    let cost = net.cost_mut();
    cost.b2a_bits = cost.b2a_bits.wrapping_add(n as u64);
    net.exchange("ltz.b2a", Domain::Binary, m0, m1)?;
    for i in 0..n {
        let z = m0[i] & W::ONE;
        let f = W::ONE.wrapping_sub(z.wrapping_mul(W::from_i64(2)));
        out[i] = [
            out[i][0].wrapping_mul(f).wrapping_add(z),
            out[i][1].wrapping_mul(f),
        ];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Regressions: the public protocol functions check their own lengths (K5 of the
    //! reliability probe: they used to trust the caller, as `Shared::ltz` does, and index past
    //! a short `out`).

    use super::{and, ltz, scratch_words_and, scratch_words_ltz};
    use crate::dealer::Dealer;
    use crate::seed::{self, StreamId};
    use crate::wire::Net;
    use crate::Error;

    #[test]
    fn ltz_and_and_reject_mismatched_lengths() {
        let mismatch = |expected, got| Err(Error::ShapeMismatch { expected, got });
        // ltz: `out` shorter or longer than `x`.
        for out_len in [0usize, 1, 3] {
            let (mut net, mut dealer) = (Net::new(), Dealer::new(1));
            let mut przs = seed::stream(1, StreamId::Przs);
            let mut out = vec![[7i64; 2]; out_len];
            let mut scratch = vec![0i64; scratch_words_ltz(2)];
            assert_eq!(
                ltz(
                    &mut net,
                    &mut dealer,
                    &mut przs,
                    &[[1, 2]; 2],
                    &mut out,
                    &mut scratch
                ),
                mismatch(2, out_len)
            );
            assert_eq!(out, vec![[7i64; 2]; out_len], "out written");
            assert_eq!(net.cost().rounds, 0, "a round was counted");
            assert_eq!(dealer.ring(), Dealer::new(1).ring(), "the dealer drew");
        }
        // and: `x` or `y` shorter or longer than `out`.
        for (nx, ny) in [(1, 2), (2, 1), (3, 2), (2, 3), (0, 0)] {
            let (mut net, mut dealer) = (Net::new(), Dealer::new(1));
            let (x, y) = (vec![[1i64, 2]; nx], vec![[3i64, 4]; ny]);
            let mut out = [[0i64; 2]; 2];
            let mut scratch = vec![0i64; scratch_words_and(3)];
            let got = and(&mut net, &mut dealer, "t", &x, &y, &mut out, &mut scratch);
            assert!(matches!(got, Err(Error::ShapeMismatch { .. })), "{nx} {ny}");
            assert_eq!(out, [[0i64; 2]; 2]);
            assert_eq!(net.cost().rounds, 0);
        }
        // Equal lengths still work.
        let (mut net, mut dealer) = (Net::new(), Dealer::new(1));
        let mut out = [[0i64; 2]; 2];
        let mut scratch = vec![0i64; scratch_words_and(2)];
        and(
            &mut net,
            &mut dealer,
            "t",
            &[[1, 2]; 2],
            &[[3, 4]; 2],
            &mut out,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(out.map(|s| s[0] ^ s[1]), [(1 ^ 2) & (3 ^ 4); 2]);
    }
}
