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
    pub fn square_pairs(&mut self, r: [&mut [Ring]; 2], r2: [&mut [Ring]; 2]) {
        let [r0, r1] = r;
        let [s0, s1] = r2;
        self.fill(r0);
        self.fill(r1);
        self.fill(s0);
        for i in 0..s1.len() {
            let v = r0[i].wrapping_add(r1[i]);
            s1[i] = v.wrapping_mul(v).wrapping_sub(s0[i]);
        }
    }

    /// Binary AND triples, XOR-shared: `a, b` uniform words, `c = a & b`.
    pub fn and_triples(&mut self, a: [&mut [Ring]; 2], b: [&mut [Ring]; 2], c: [&mut [Ring]; 2]) {
        let [a0, a1] = a;
        let [b0, b1] = b;
        let [c0, c1] = c;
        self.fill(a0);
        self.fill(a1);
        self.fill(b0);
        self.fill(b1);
        self.fill(c0);
        for i in 0..c1.len() {
            c1[i] = ((a0[i] ^ a1[i]) & (b0[i] ^ b1[i])) ^ c0[i];
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
    /// value − it). Returns `[r, r >> k, msb(r)]` as sharings.
    #[inline]
    pub fn trunc_tuple(&mut self, k: u32) -> [[Ring; 2]; 3] {
        let r = self.rng.next_u64();
        let vals = [r as i64, (r >> k) as i64, (r >> 63) as i64];
        let mut out = [[0; 2]; 3];
        for (o, v) in out.iter_mut().zip(vals) {
            let s0 = self.ring();
            *o = [s0, v.wrapping_sub(s0)];
        }
        out
    }
}
