//! The trusted dealer: correlated randomness for the online protocols.
//!
//! Plays the part of CrypTen's TFP provider (a trusted first party that draws every triple and
//! deals shares of it). All draws come from the [`crate::seed::StreamId::Dealer`] stream, in the
//! order the protocols ask for them, so the same seed and the same sequence of operations give
//! the same material on every target. Each share is a fresh uniform draw and the other share is
//! the value minus it, so every share on its own is uniform on the ring, which is all the
//! protocols' error laws depend on (research notes §6).
//!
//! Draw order (part of the value-breaking contract): for a bilinear triple, every share of `a`
//! party 0 then party 1, then `b` likewise, then `c`'s party-0 shares; per element for the other
//! tuples, in the order the fields are listed on each method.

use crate::ring::Ring;
use crate::seed::{stream, StreamId, Xoshiro256PlusPlus};
use rand_core::RngCore;

/// The dealer's generator.
#[derive(Clone, Debug)]
pub struct Dealer {
    rng: Xoshiro256PlusPlus,
}

impl Dealer {
    /// The dealer of an MPC session seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Dealer {
            rng: stream(seed, StreamId::Dealer),
        }
    }

    /// One uniform ring element.
    #[inline]
    pub fn ring(&mut self) -> Ring {
        self.rng.next_u64() as i64
    }

    /// Fills `out` with uniform ring elements.
    pub fn fill(&mut self, out: &mut [Ring]) {
        for o in out {
            *o = self.ring();
        }
    }

    /// An elementwise square pair: `(r0, r1)` uniform, then `r2_0` uniform and
    /// `r2_1 = (r0 + r1)² − r2_0`.
    ///
    /// The four slices should have one length; if they do not, each of `r0`, `r1`, `r2_0` is
    /// filled with its own length's draws and `r2_1` is written only where all four have
    /// elements (never a panic).
    pub fn square_pairs(&mut self, r: [&mut [Ring]; 2], r2: [&mut [Ring]; 2]) {
        let [r0, r1] = r;
        let [s0, s1] = r2;
        self.fill(r0);
        self.fill(r1);
        self.fill(s0);
        for (((s1, &a), &b), &s0) in s1.iter_mut().zip(r0.iter()).zip(r1.iter()).zip(s0.iter()) {
            let v = a.wrapping_add(b);
            *s1 = v.wrapping_mul(v).wrapping_sub(s0);
        }
    }

    /// Binary AND triples, XOR-shared: `a, b` uniform words, `c = a & b`.
    ///
    /// The six slices should have one length; if they do not, each drawn slice gets its own
    /// length's draws and `c1` is written only where all six have elements (never a panic).
    pub fn and_triples(&mut self, a: [&mut [Ring]; 2], b: [&mut [Ring]; 2], c: [&mut [Ring]; 2]) {
        let [a0, a1] = a;
        let [b0, b1] = b;
        let [c0, c1] = c;
        self.fill(a0);
        self.fill(a1);
        self.fill(b0);
        self.fill(b1);
        self.fill(c0);
        let words = a0.iter().zip(a1.iter()).zip(b0.iter().zip(b1.iter()));
        for ((c1, &c0), ((&a0, &a1), (&b0, &b1))) in c1.iter_mut().zip(c0.iter()).zip(words) {
            *c1 = ((a0 ^ a1) & (b0 ^ b1)) ^ c0;
        }
    }

    /// A random bit shared both ways (for one-bit B2A): per element, draws the bit, its XOR
    /// share `rb0` and its additive share `ra0`. Returns `([rb0, rb1], [ra0, ra1])`.
    #[inline]
    pub fn b2a_bit(&mut self) -> ([Ring; 2], [Ring; 2]) {
        let bit = (self.rng.next_u64() & 1) as i64;
        let rb0 = self.ring();
        let ra0 = self.ring();
        ([rb0, rb0 ^ bit], [ra0, bit.wrapping_sub(ra0)])
    }

    /// A truncation tuple for a shift by `k` bits: per element draws `r`, then shares of `r`,
    /// `r >> k` (logical) and the top bit of `r`, each as (party-0 share drawn, party-1 share =
    /// value − it). Returns `[r, r >> k, msb(r)]` as sharings. A shift by `k ≥ 64` gives
    /// `r >> k = 0`, as a logical shift of a 64-bit word would.
    #[inline]
    pub fn trunc_tuple(&mut self, k: u32) -> [[Ring; 2]; 3] {
        let r = self.rng.next_u64();
        let vals = [
            r as i64,
            r.checked_shr(k).unwrap_or(0) as i64,
            (r >> 63) as i64,
        ];
        let mut out = [[0; 2]; 3];
        for (o, v) in out.iter_mut().zip(vals) {
            let s0 = self.ring();
            *o = [s0, v.wrapping_sub(s0)];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    //! Regressions: the dealer's public methods take any arguments.

    use super::Dealer;

    #[test]
    fn trunc_tuple_shift_of_64_or_more_is_zero() {
        for k in [64u32, 65, 127, u32::MAX] {
            let mut a = Dealer::new(5);
            let [_, hi, _] = a.trunc_tuple(k);
            assert_eq!(hi[0].wrapping_add(hi[1]), 0, "k = {k}");
        }
        // k < 64 is the logical shift of the drawn r.
        let mut a = Dealer::new(5);
        let [r, hi, msb] = a.trunc_tuple(3);
        let r = r[0].wrapping_add(r[1]) as u64;
        assert_eq!(hi[0].wrapping_add(hi[1]) as u64, r >> 3);
        assert_eq!(msb[0].wrapping_add(msb[1]) as u64, r >> 63);
    }

    #[test]
    fn square_pairs_and_and_triples_take_unequal_slices() {
        let mut d = Dealer::new(1);
        let (mut a, mut b, mut c, mut e) = ([0i64; 3], [0i64; 1], [0i64; 2], [0i64; 4]);
        d.square_pairs([&mut a, &mut b], [&mut c, &mut e]);
        assert_eq!(e[1..], [0; 3], "written past the shortest slice");
        let v = a[0].wrapping_add(b[0]);
        assert_eq!(e[0], v.wrapping_mul(v).wrapping_sub(c[0]));
        let mut s: [Vec<i64>; 6] = [
            vec![0; 2],
            vec![0; 3],
            vec![0; 1],
            vec![0; 2],
            vec![0; 2],
            vec![0; 5],
        ];
        let [a0, a1, b0, b1, c0, c1] = &mut s;
        d.and_triples([a0, a1], [b0, b1], [c0, c1]);
        assert_eq!(s[5][1..], [0; 4]);
        assert_eq!(
            s[5][0],
            ((s[0][0] ^ s[1][0]) & (s[2][0] ^ s[3][0])) ^ s[4][0]
        );
    }
}
