//! The ideal functionalities of the interactive protocols: what [`Shared`] runs with
//! [`Engine::Ideal`] instead of [`beaver`](super::beaver)'s products and
//! [`comparison`](super::comparison)'s `ltz`.
//!
//! # Why it is exact in law
//! What two parties running CrypTen's protocols end up holding depends on the protocols'
//! randomness only through one fact: each interactive protocol outputs a *fresh* additive
//! sharing of its exact result. A Beaver product's party-0 share is `c0 + ε·(b0 + δ) + a0·δ`,
//! where the dealer's `c0` is a uniform word drawn for this product alone, so the share is
//! uniform and independent of everything before it; the same holds for square pairs (`r²`'s
//! share), matrix and convolution triples, and the one-bit B2A that ends a comparison (the
//! dealer's arithmetic share of its random bit, times ±1). The value itself is exact
//! (Beaver's identity in Z_2^64; the A2B adder computes the sign exactly).
//!
//! The functions here therefore compute each result on the reconstructed values and deal it as
//! `(u, z − u)` with `u` one uniform word from the dealer's stream. Everything else [`Shared`]
//! does is the same in both engines: input sharing (the same PRZS masks), openings, public
//! products, share-local truncation (whose stochastic rounding and rare wraps are the whole of
//! the share-randomness error, and act on these very shares) and dealer truncation. The joint
//! law of every share, and so of every revealed value, equals the full protocols'; individual
//! draws differ, so the same seed gives other samples of that law. Tests: this module's
//! (`ideal/tests.rs`: ledger, rounding and wrap laws) and `tests/tests/deployment.rs` (both
//! engines against real CrypTen's records, and against each other on whole models).
//!
//! # Cost
//! Each function charges the ledger what the protocol it replaces charges, field by field
//! (rounds, bytes per party, triples of each kind, B2A bits), so a session's [`Cost`] does not
//! depend on the engine. No message is formed, so a [`Wire`](crate::wire::Wire) sees none of
//! these rounds: observing or tampering with messages needs [`Engine::Protocol`].
//!
//! # Error
//! Exact values; the only error is the share-local truncation that follows, as in the protocol.
//!
//! [`Shared`]: crate::arith::Shared
//! [`Engine::Ideal`]: crate::arith::Engine::Ideal
//! [`Engine::Protocol`]: crate::arith::Engine::Protocol
//! [`Cost`]: crate::cost::Cost

use super::truncation;
use crate::dealer::Dealer;
use crate::error::{check_len, Result};
use crate::ring::Word;
use crate::share::{reconstruct, Share};
use crate::wire::Net;

/// One opening round in which each party would send `words` words of `W`'s ring.
pub fn charge_round<W: Word>(net: &mut Net<'_>, words: usize) {
    net.charge_round::<W>(words);
}

/// A fresh sharing of `z`: party 0 holds one uniform word from the dealer.
#[inline]
pub fn deal<W: Word>(dealer: &mut Dealer, z: W) -> Share<W> {
    let u: W = dealer.word();
    [u, z.wrapping_sub(u)]
}

/// `x[i] ←` a fresh sharing of `z(i, x[i])`; with `shift = Some(f)` (`1 ≤ f ≤ 62`) each is then
/// truncated share-locally by `2^f` in the same pass, counted as share-local truncations are
/// (the same words as dealing, then [`truncation::truncate`] in local mode, which draws
/// nothing).
pub fn deal_into<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    x: &mut [Share<W>],
    z: impl Fn(usize, Share<W>) -> W,
    shift: Option<u32>,
) {
    let n = x.len();
    let items = x.iter_mut().enumerate().map(|(i, s)| {
        let v = z(i, *s);
        (s, v)
    });
    deal_items(net, dealer, n, items, shift);
}

/// [`deal_into`] with `z` of `x[i]` and `y[i]`, for `y` as long as `x` (a longer `y`'s tail is
/// not read; a shorter one leaves the rest of `x` as it was, drawing nothing for it). Walking
/// the two slices together leaves no bounds check in the loop, so the generator's state stays
/// in registers.
pub fn deal_into_zip<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    x: &mut [Share<W>],
    y: &[Share<W>],
    z: impl Fn(Share<W>, Share<W>) -> W,
    shift: Option<u32>,
) {
    let n = x.len().min(y.len());
    let items = x.iter_mut().zip(y).map(|(s, &t)| {
        let v = z(*s, t);
        (s, v)
    });
    deal_items(net, dealer, n, items, shift);
}

/// The loop of [`deal_into`] and [`deal_into_zip`] over `n` pairs (slot, value to share). A
/// shift by 16 bits (the CrypTen scale) runs as its own copy of the loop, with the shift a
/// constant (the same quotients).
#[inline(always)]
fn deal_items<'x, W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    n: usize,
    items: impl Iterator<Item = (&'x mut Share<W>, W)>,
    shift: Option<u32>,
) {
    match shift {
        Some(16) => deal_truncating(net, dealer, n, items, 16),
        Some(f) => deal_truncating(net, dealer, n, items, f),
        None => {
            for (s, z) in items {
                *s = deal(dealer, z);
            }
        }
    }
}

#[inline(always)]
fn deal_truncating<'x, W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    n: usize,
    items: impl Iterator<Item = (&'x mut Share<W>, W)>,
    f: u32,
) {
    let mut wraps = 0u64;
    for (s, z) in items {
        let (q, wrapped) = truncation::local_pow2(deal(dealer, z), f);
        wraps = wraps.wrapping_add(u64::from(wrapped));
        *s = q;
    }
    truncation::count_local(net, n, wraps);
}

/// `out = [x < 0]` as fresh sharings of 0/1, charged as [`super::comparison::ltz`]: in Z_2^k,
/// `2 + log₂ k` rounds (the first AND layer opens `2n` words, each of the `log₂ k` prefix
/// layers `4n`, the B2A `n`), `(1 + 2·log₂ k)·n` AND triples, `n` B2A bits. Z_2^64: 8 rounds,
/// `13n` triples, `27n` words per party; Z_2^128: 9 rounds, `15n` triples, `31n` words.
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] unless `out` is as long as `x` (nothing drawn or charged).
pub fn ltz<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    x: &[Share<W>],
    out: &mut [Share<W>],
) -> Result<()> {
    let n = x.len();
    check_len(n, out.len())?;
    for (o, &s) in out.iter_mut().zip(x) {
        let bit = if reconstruct(s) < W::ZERO {
            W::ONE
        } else {
            W::ZERO
        };
        *o = deal(dealer, bit);
    }
    let levels = super::comparison::prefix_levels::<W>();
    charge_round::<W>(net, 2 * n);
    for _ in 0..levels {
        charge_round::<W>(net, 4 * n);
    }
    charge_round::<W>(net, n);
    let cost = net.cost_mut();
    let triples = (1 + 2 * levels as u64).wrapping_mul(n as u64);
    cost.and_triples = cost.and_triples.wrapping_add(triples);
    cost.b2a_bits = cost.b2a_bits.wrapping_add(n as u64);
    Ok(())
}

#[cfg(test)]
mod tests;
