//! Two-party additive secret shares over Z_2^k ([`Word`]: Z_2^64 by default, or Z_2^128).
//!
//! A shared value is the pair of the parties' shares, `[s0, s1]`, with value `s0 + s1 mod 2^64`.
//! The simulator keeps both shares side by side; each party's computation touches only its own
//! index, and values cross between parties only through [`crate::wire::Net::exchange`].
//!
//! Fresh sharings use a pairwise zero sharing (CrypTen's PRZS): both parties draw the same
//! mask `m` from the shared [`crate::seed::StreamId::Przs`] stream, the zero sharing is
//! `[m, −m]`, and the input's owner adds its value to its own share. No communication, and each
//! share on its own is uniform on the ring.

use crate::ring::{Ring, Word};
use crate::seed::Xoshiro256PlusPlus;
use rand_core::RngCore;

/// Number of parties the simulator runs.
pub const PARTIES: usize = 2;

/// One shared ring element: party 0's and party 1's additive shares (of Z_2^64 unless `W`
/// says otherwise).
pub type Share<W = Ring> = [W; PARTIES];

/// The value of a sharing.
#[inline]
pub fn reconstruct<W: Word>(s: Share<W>) -> W {
    s[0].wrapping_add(s[1])
}

/// The value of an XOR sharing.
#[inline]
pub fn reconstruct_xor<W: Word>(s: Share<W>) -> W {
    s[0] ^ s[1]
}

/// A fresh additive sharing of `v` owned by party `src` (0 or 1), masked by the PRZS stream
/// (one draw per word of Z_2^64, two per word of Z_2^128, low half first).
#[inline]
pub fn share_from<W: Word>(przs: &mut Xoshiro256PlusPlus, src: usize, v: W) -> Share<W> {
    let m = W::draw(|| przs.next_u64());
    let mut s = [m, m.wrapping_neg()];
    s[src & 1] = s[src & 1].wrapping_add(v);
    s
}

/// A fresh XOR sharing of the word `v` owned by party `src`, masked by the PRZS stream.
#[inline]
pub fn share_xor_from<W: Word>(przs: &mut Xoshiro256PlusPlus, src: usize, v: W) -> Share<W> {
    let m = W::draw(|| przs.next_u64());
    let mut s = [m, m];
    s[src & 1] ^= v;
    s
}

/// A public constant as a sharing: party 0 holds it, party 1 holds 0 (CrypTen's rule: only rank
/// 0 adds public values).
#[inline]
pub fn public<W: Word>(v: W) -> Share<W> {
    [v, W::ZERO]
}
