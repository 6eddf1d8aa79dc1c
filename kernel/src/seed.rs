//! One `u64` seed, many independent random streams.
//!
//! Every random draw in mpcdiff comes from a stream derived here; nothing else seeds a
//! generator. The derivation is a **value-breaking contract**: changing it (or the version of
//! `rand_xoshiro` it names) changes every seeded output, and must be recorded under
//! "Reproducibility-breaking changes" in the changelog.
//!
//! # Derivation
//! * Named stream `id` of seed `s`: `Xoshiro256PlusPlus::seed_from_u64(s)` (rand_xoshiro 0.7:
//!   SplitMix64 expansion of `s` into the 256-bit state), then `long_jump()` applied
//!   `id.number() + 1` times. Long jumps are 2^192 steps apart, so named streams never overlap,
//!   and the number of a stream is fixed forever: adding a stream takes a new number and
//!   moves no existing stream.
//! * Sub-stream `index` of a named stream (one per fuzzing item, per image, …):
//!   `key` = the first `next_u64()` of the named stream; the sub-stream is
//!   `Xoshiro256PlusPlus::seed_from_u64(key ^ splitmix64(index))`. Distinct indices give distinct
//!   states; overlap between two sub-streams is as unlikely as a collision of random 256-bit
//!   states. Sub-streams are what make results independent of the thread count: an item's draws
//!   depend on its index, never on which thread or in which order it ran.
//!
//! Randomness is drawn as `u64` (or `u32`), never `usize`, so 32-bit targets (wasm32,
//! thumbv7em) draw the same values as x86-64.

use rand_core::{RngCore, SeedableRng};
pub use rand_xoshiro::Xoshiro256PlusPlus;

/// The named streams. The discriminant is the stream's number in the derivation; it is part of
/// the value-breaking contract and must never be reused or renumbered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
#[repr(u32)]
pub enum StreamId {
    /// The trusted dealer (CrypTen's TFP provider): Beaver triples, truncation tuples, B2A bits.
    Dealer = 0,
    /// The pairwise stream both parties share for zero-communication input sharing (PRZS).
    Przs = 1,
    /// Party 0's private randomness.
    Party0 = 2,
    /// Party 1's private randomness.
    Party1 = 3,
    /// Fuzzing mutations.
    Mutation = 4,
    /// Data order (shuffles, splits).
    DataOrder = 5,
    /// Weight initialisation for training.
    WeightInit = 6,
    /// Synthetic inputs (generated digits, random test vectors).
    Synthetic = 7,
    /// Corpus scheduling in the fuzzer.
    Schedule = 8,
    /// The helper party's private randomness (three-party protocols, [`crate::wire::HELPER`]):
    /// the masks of the output sharings it deals back; in the private-compare DReLU
    /// ([`crate::protocols::drelu::private_compare`]) also the mask `r` it deals, its sharing
    /// and the sharings of its bits mod 67 (per element: `r`, party 0's share of `r`, 63 bit
    /// shares, then after the compare its output mask).
    Helper = 9,
    /// Randomness parties 0 and 1 share and the helper does not know (a PRG seed they agreed
    /// on): the helper-assisted DReLU's multipliers, sign flips, permutation and re-sharing
    /// masks ([`crate::protocols::drelu`]); in the private compare, per element the blinding
    /// bit `β`, one word per bit position (its mask, multiplier and Fisher–Yates index) and
    /// the output re-sharing mask. Kept apart from [`StreamId::Przs`] so that adding the
    /// helper moves no two-party draw.
    Pair = 10,
    /// The view audit ([`crate::leak::audit`]): session seeds of its executions, the ideal
    /// world's simulated words, the classifier's split and initialisation.
    Audit = 11,
    /// Synthetic training sets ([`crate::training::separable`]): the true weights, then each
    /// sample's features in order.
    TrainingData = 12,
}

impl StreamId {
    /// The stream's fixed number in the derivation.
    pub const fn number(self) -> u32 {
        self as u32
    }
}

/// The named stream `id` of `seed` (see the module doc for the recipe).
pub fn stream(seed: u64, id: StreamId) -> Xoshiro256PlusPlus {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    for _ in 0..=id.number() {
        rng.long_jump();
    }
    rng
}

/// The sub-stream `index` of the named stream `id` of `seed`.
pub fn substream(seed: u64, id: StreamId, index: u64) -> Xoshiro256PlusPlus {
    let key = stream(seed, id).next_u64();
    Xoshiro256PlusPlus::seed_from_u64(key ^ splitmix64(index))
}

/// SplitMix64's output function applied to `x` (Steele, Lea, Flood 2014): a bijection of u64
/// that spreads consecutive indices over the whole space.
pub const fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A uniform `f64` in [0, 1) from the top 53 bits of one `u64` draw: the one conversion from
/// integer draws to floats (exact, no rounding, the same on every target).
pub fn unit_f64(rng: &mut impl RngCore) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
}

/// A uniform integer in `0..n` (`n > 0`), by Lemire's multiply-shift with rejection: exact and
/// portable (64-bit arithmetic only). `n = 0` is taken as 1 (the result is 0, after one draw).
pub fn below(rng: &mut impl RngCore, n: u64) -> u64 {
    let n = n.max(1);
    let threshold = n.wrapping_neg() % n;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n);
        if (m as u64) >= threshold {
            return (m >> 64) as u64;
        }
    }
}

/// A standard normal draw by the Box–Muller transform (two uniform draws, `libm` only, so every
/// target computes the same bits).
pub fn normal(rng: &mut impl RngCore) -> f64 {
    // 1 - u is in (0, 1], so the log is finite.
    let u1 = 1.0 - unit_f64(rng);
    let u2 = unit_f64(rng);
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(core::f64::consts::TAU * u2)
}

#[cfg(test)]
mod tests {
    //! The derivation is the documented recipe, recomputed from `rand_xoshiro`'s primitives and the
    //! published SplitMix64; the stream numbers are the contract's; the shared arithmetic masks its
    //! inputs with the PRZS stream.

    use crate::seed::{self, splitmix64, StreamId};
    use crate::testing::{arena, share_ring, FP};
    use crate::Shared;
    use rand_core::{RngCore, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// SplitMix64's output function as published (Steele, Lea, Flood 2014; Vigna's
    /// `splitmix64.c`), written out independently of the kernel.
    fn splitmix64_reference(x: u64) -> u64 {
        let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// `below(rng, 0)` used to trip a debug assertion (release builds took it as 1).
    #[test]
    fn below_zero_is_zero() {
        let mut r = seed::stream(3, StreamId::Schedule);
        assert_eq!(seed::below(&mut r, 0), 0);
        assert_eq!(seed::below(&mut r, 1), 0);
        assert!(seed::below(&mut r, u64::MAX) < u64::MAX);
    }

    const ALL_STREAMS: [(StreamId, u32); 13] = [
        (StreamId::Dealer, 0),
        (StreamId::Przs, 1),
        (StreamId::Party0, 2),
        (StreamId::Party1, 3),
        (StreamId::Mutation, 4),
        (StreamId::DataOrder, 5),
        (StreamId::WeightInit, 6),
        (StreamId::Synthetic, 7),
        (StreamId::Schedule, 8),
        (StreamId::Helper, 9),
        (StreamId::Pair, 10),
        (StreamId::Audit, 11),
        (StreamId::TrainingData, 12),
    ];

    /// The named stream recomputed from rand_xoshiro primitives: `seed_from_u64`, then
    /// `long_jump()` (number + 1) times.
    fn stream_reference(seed: u64, number: u32) -> Xoshiro256PlusPlus {
        let mut g = Xoshiro256PlusPlus::seed_from_u64(seed);
        for _ in 0..=number {
            g.long_jump();
        }
        g
    }

    #[test]
    fn seed_derivation_is_the_documented_recipe() {
        for seed in [0u64, 1, 42, 0x5EED, u64::MAX] {
            let mut firsts = Vec::new();
            for (id, number) in ALL_STREAMS {
                // The stream numbers are part of the documented, value-breaking contract.
                assert_eq!(id.number(), number, "{id:?}: stream number");
                let mut want = stream_reference(seed, number);
                let mut got = seed::stream(seed, id);
                for j in 0..16 {
                    assert_eq!(
                        got.next_u64(),
                        want.next_u64(),
                        "seed {seed} {id:?}: draw {j} differs from seed_from_u64 + {} long jumps",
                        number + 1
                    );
                }
                firsts.push(seed::stream(seed, id).next_u64());

                // Sub-streams: key = first draw of the named stream, then
                // seed_from_u64(key ^ splitmix64(index)).
                let key = stream_reference(seed, number).next_u64();
                for index in [0u64, 1, 2, 1000, u64::MAX] {
                    let mut want =
                        Xoshiro256PlusPlus::seed_from_u64(key ^ splitmix64_reference(index));
                    let mut got = seed::substream(seed, id, index);
                    for j in 0..8 {
                        assert_eq!(
                            got.next_u64(),
                            want.next_u64(),
                            "seed {seed} {id:?} sub-stream {index}: draw {j}"
                        );
                    }
                }
            }
            firsts.sort_unstable();
            firsts.dedup();
            assert_eq!(
                firsts.len(),
                ALL_STREAMS.len(),
                "seed {seed}: two streams coincide"
            );
            // Distinct indices give distinct sub-streams.
            let mut subs: Vec<u64> = (0..200u64)
                .map(|i| seed::substream(seed, StreamId::Mutation, i).next_u64())
                .collect();
            subs.sort_unstable();
            subs.dedup();
            assert_eq!(subs.len(), 200, "seed {seed}: sub-streams coincide");
        }
        for x in [0u64, 1, 2, 0x9e37_79b9_7f4a_7c15, u64::MAX, 1 << 63] {
            assert_eq!(splitmix64(x), splitmix64_reference(x), "splitmix64({x})");
        }
        // The shared arithmetic draws its input masks from the PRZS stream of its seed: party 0's
        // share of the i-th input is the i-th draw.
        let seed = 77;
        let mut ar = arena(0);
        let mut mpc = Shared::new(FP, seed, &mut ar);
        let raws = [5i64, -7, 0, i64::MIN];
        let sh = share_ring(&mut mpc, &raws);
        let mut przs = stream_reference(seed, 1);
        for (i, s) in sh.iter().enumerate() {
            assert_eq!(
                s[0],
                przs.next_u64() as i64,
                "input mask {i} is not the PRZS draw"
            );
        }
    }
}
