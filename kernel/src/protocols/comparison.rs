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
//! `ltz` on `n` elements: 8 rounds (7 adder + 1 B2A); `13n` AND word-triples; `n` B2A bits;
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
use crate::error::Result;
use crate::seed::Xoshiro256PlusPlus;
use crate::share::{share_xor_from, Share};
use crate::wire::{Domain, Net};

/// Scratch words [`and`] needs for `n` words.
pub const fn scratch_words_and(n: usize) -> usize {
    10 * n
}

/// Scratch words [`ltz`] needs for `n` elements.
pub const fn scratch_words_ltz(n: usize) -> usize {
    // G, P, P0 (2 words each) + level operands x, y, z (2n shares each) + the AND scratch (2n)
    // + the B2A messages.
    6 * n + 12 * n + scratch_words_and(2 * n) + 2 * n
}

/// `out = x & y` on XOR shares (one round; `n` AND word-triples).
pub fn and(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    protocol: &'static str,
    x: &[Share],
    y: &[Share],
    out: &mut [Share],
    mut scratch: &mut [i64],
) -> Result<()> {
    let n = out.len();
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
    net.exchange(protocol, Domain::Binary, m0, m1);
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
fn shl(s: Share, k: u32) -> Share {
    [s[0] << k, s[1] << k]
}

#[inline]
fn xor(a: Share, b: Share) -> Share {
    [a[0] ^ b[0], a[1] ^ b[1]]
}

/// `out = [x < 0]` as an additive sharing of the integer 0 or 1 (scale 1).
pub fn ltz(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    przs: &mut Xoshiro256PlusPlus,
    x: &[Share],
    out: &mut [Share],
    mut scratch: &mut [i64],
) -> Result<()> {
    let n = x.len();
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
    for level in 0..6 {
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
        let (rb, ra) = dealer.b2a_bit();
        // Keep the additive shares of r where the output goes; rb masks the opened bit.
        out[i] = ra;
        m0[i] = (((sum[0] as u64) >> 63) as i64) ^ rb[0];
        m1[i] = (((sum[1] as u64) >> 63) as i64) ^ rb[1];
    }
    let cost = net.cost_mut();
    cost.b2a_bits = cost.b2a_bits.wrapping_add(n as u64);
    net.exchange("ltz.b2a", Domain::Binary, m0, m1);
    for i in 0..n {
        let z = m0[i] & 1;
        let f = 1i64.wrapping_sub(z.wrapping_mul(2));
        out[i] = [
            out[i][0].wrapping_mul(f).wrapping_add(z),
            out[i][1].wrapping_mul(f),
        ];
    }
    Ok(())
}
