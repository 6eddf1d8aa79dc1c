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

use crate::ring::{Ring, Word};
use crate::seed::{splitmix64, StreamId};

/// The dealer's generator: xoshiro256++, the generator of [`crate::seed::stream`], drawing the
/// very words `stream(seed, StreamId::Dealer)` draws (tests check it against `rand_xoshiro`),
/// with its state at hand so that it can jump ahead by any number of draws ([`Jump`]).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Xoshiro {
    s: [u64; 4],
}

/// The characteristic polynomial of xoshiro256's linear state transition `T`, without its
/// leading `x^256`: bit `i` of word `i / 64` is the coefficient of `x^i`. (Berlekamp–Massey on
/// the generator's output bits; `x^(2^192) mod P` gives back the published long-jump constants,
/// which a test checks.)
const CHARPOLY: [u64; 4] = [
    0x9d11_6f2b_b0f0_f001,
    0x0280_002b_cefd_1a5e,
    0x04b4_edcf_2625_9f85,
    0x0003_c03c_3f3e_cb19,
];

/// xoshiro256's long jump, `x^(2^192) mod P` (as `rand_xoshiro`'s `long_jump`).
const LONG_JUMP: [u64; 4] = [
    0x76e1_5d3e_fefd_cbbf,
    0xc500_4e44_1c52_2fb3,
    0x7771_0069_854e_e241,
    0x3910_9bb0_2acb_e635,
];

impl Xoshiro {
    /// The state of `seed::stream(seed, id)`: `rand_xoshiro`'s `seed_from_u64` (four SplitMix64
    /// outputs, never all zero), then `id.number() + 1` long jumps.
    fn stream(seed: u64, id: StreamId) -> Self {
        let mut x = Xoshiro {
            s: core::array::from_fn(|i| {
                splitmix64(seed.wrapping_add((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            }),
        };
        for _ in 0..=id.number() {
            x.apply(&LONG_JUMP);
        }
        x
    }

    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// `state ← p(T)·state` (`rand_xoshiro`'s jump loop with the polynomial `p`).
    fn apply(&mut self, p: &[u64; 4]) {
        let mut acc = [0u64; 4];
        for w in p {
            for b in 0..64 {
                if w >> b & 1 == 1 {
                    for (a, &v) in acc.iter_mut().zip(&self.s) {
                        *a ^= v;
                    }
                }
                self.next_u64();
            }
        }
        self.s = acc;
    }
}

/// A jump of the dealer's generator by a fixed number of draws: `x^n mod P`, so that
/// [`Dealer::jump`] costs 256 steps whatever `n` (instead of `n`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Jump([u64; 4]);

impl Jump {
    /// The jump by `n` draws.
    pub fn by(n: u64) -> Jump {
        // `x^n mod P` by squaring and multiplying by `x`, from the top bit of `n`.
        let mut r = [1u64, 0, 0, 0];
        for i in (0..64).rev() {
            r = mulmod(&r, &r);
            if n >> i & 1 == 1 {
                r = mul_x(&r);
            }
        }
        Jump(r)
    }
}

/// `a·x mod P` over GF(2).
fn mul_x(a: &[u64; 4]) -> [u64; 4] {
    let carry = a[3] >> 63;
    let mut r = [
        a[0] << 1,
        a[1] << 1 | a[0] >> 63,
        a[2] << 1 | a[1] >> 63,
        a[3] << 1 | a[2] >> 63,
    ];
    if carry == 1 {
        for (r, p) in r.iter_mut().zip(CHARPOLY) {
            *r ^= p;
        }
    }
    r
}

/// `a·b mod P` over GF(2) (Horner on the bits of `b`).
fn mulmod(a: &[u64; 4], b: &[u64; 4]) -> [u64; 4] {
    let mut r = [0u64; 4];
    for i in (0..256).rev() {
        r = mul_x(&r);
        if b[i / 64] >> (i % 64) & 1 == 1 {
            for (r, &v) in r.iter_mut().zip(a) {
                *r ^= v;
            }
        }
    }
    r
}

/// The dealer's generator.
#[derive(Clone, Debug)]
pub struct Dealer {
    rng: Xoshiro,
}

impl Dealer {
    /// The dealer of an MPC session seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Dealer {
            rng: Xoshiro::stream(seed, StreamId::Dealer),
        }
    }

    /// Moves the dealer ahead as `n` draws would, for the [`Jump`] by `n`.
    pub fn jump(&mut self, j: &Jump) {
        self.rng.apply(&j.0);
    }

    /// One uniform ring element.
    #[inline]
    pub fn ring(&mut self) -> Ring {
        self.rng.next_u64() as i64
    }

    /// One uniform word of `W`'s ring ([`Word::DRAWS`] generator outputs, low half first; for
    /// Z_2^64 the same draw as [`Dealer::ring`]).
    #[inline]
    pub fn word<W: Word>(&mut self) -> W {
        W::draw(|| self.rng.next_u64())
    }

    /// Fills `out` with uniform ring elements.
    pub fn fill<W: Word>(&mut self, out: &mut [W]) {
        for o in out {
            *o = self.word();
        }
    }

    /// An elementwise square pair: `(r0, r1)` uniform, then `r2_0` uniform and
    /// `r2_1 = (r0 + r1)² − r2_0`.
    ///
    /// The four slices should have one length; if they do not, each of `r0`, `r1`, `r2_0` is
    /// filled with its own length's draws and `r2_1` is written only where all four have
    /// elements (never a panic).
    pub fn square_pairs<W: Word>(&mut self, r: [&mut [W]; 2], r2: [&mut [W]; 2]) {
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
    pub fn and_triples<W: Word>(&mut self, a: [&mut [W]; 2], b: [&mut [W]; 2], c: [&mut [W]; 2]) {
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
    pub fn b2a_bit<W: Word>(&mut self) -> ([W; 2], [W; 2]) {
        let bit = W::from_i64((self.rng.next_u64() & 1) as i64);
        let rb0: W = self.word();
        let ra0: W = self.word();
        ([rb0, rb0 ^ bit], [ra0, bit.wrapping_sub(ra0)])
    }

    /// A truncation tuple for a shift by `k` bits: per element draws `r`, then shares of `r`,
    /// `r >> k` (logical) and the top bit of `r`, each as (party-0 share drawn, party-1 share =
    /// value − it). Returns `[r, r >> k, msb(r)]` as sharings. A shift by `k ≥ k_ring` gives
    /// `r >> k = 0`, as a logical shift of a k-bit word would.
    #[inline]
    pub fn trunc_tuple<W: Word>(&mut self, k: u32) -> [[W; 2]; 3] {
        let r: W = self.word();
        let hi = if k < W::BITS {
            r.shr_logical(k)
        } else {
            W::ZERO
        };
        let vals = [r, hi, r.shr_logical(W::BITS - 1)];
        let mut out = [[W::ZERO; 2]; 3];
        for (o, v) in out.iter_mut().zip(vals) {
            let s0: W = self.word();
            *o = [s0, v.wrapping_sub(s0)];
        }
        out
    }
}

#[cfg(test)]
mod tests {
    //! Regressions: the dealer's public methods take any arguments. The generator is
    //! `rand_xoshiro`'s, word for word, and its jumps are draws skipped.

    use super::{mulmod, Dealer, Jump, Xoshiro, LONG_JUMP};
    use crate::seed::{stream, StreamId};
    use rand_core::RngCore;

    #[test]
    fn the_generator_is_the_seed_stream() {
        for seed in [0u64, 1, 42, 0x5eed, u64::MAX, 1 << 63] {
            for id in [StreamId::Dealer, StreamId::Przs, StreamId::Schedule] {
                let mut a = Xoshiro::stream(seed, id);
                let mut b = stream(seed, id);
                for _ in 0..1000 {
                    assert_eq!(a.next_u64(), b.next_u64(), "seed {seed} {id:?}");
                }
            }
        }
    }

    #[test]
    fn jumps_skip_draws() {
        // x^(2^192) mod P, by 192 squarings of x: the published long jump.
        let mut x = [2u64, 0, 0, 0];
        for _ in 0..192 {
            x = mulmod(&x, &x);
        }
        assert_eq!(x, LONG_JUMP);
        assert_eq!(Jump::by(0).0, [1, 0, 0, 0]);
        for n in [0u64, 1, 2, 63, 64, 255, 256, 257, 1000, 4097, 300_000] {
            let mut a = Dealer::new(9);
            a.ring();
            let mut b = a.clone();
            for _ in 0..n {
                a.ring();
            }
            b.jump(&Jump::by(n));
            assert_eq!(a.rng, b.rng, "n = {n}");
            assert_eq!(a.ring(), b.ring());
        }
    }

    #[test]
    fn trunc_tuple_shift_of_64_or_more_is_zero() {
        for k in [64u32, 65, 127, u32::MAX] {
            let mut a = Dealer::new(5);
            let [_, hi, _] = a.trunc_tuple::<i64>(k);
            assert_eq!(hi[0].wrapping_add(hi[1]), 0, "k = {k}");
        }
        // k < 64 is the logical shift of the drawn r.
        let mut a = Dealer::new(5);
        let [r, hi, msb] = a.trunc_tuple::<i64>(3);
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
