//! The truncation laws of every framework MPCDiff tested, by name, and their comparison quirks.
//!
//! A fixed-point product `a` (at scale S²) is brought back to scale S by a truncation whose
//! result, in every framework, depends only on `a` and on fresh randomness — never on the
//! particular triples — so each law can be sampled directly from `a` (the research note's key
//! observation, `../shared/research/frameworks.md` §0). This module samples them exactly:
//!
//! | law | output | where |
//! |---|---|---|
//! | [`TruncationLaw::ShareLocal`] (LT) | each of two uniform shares divided toward zero: SR plus ∓2^k/d ring units w.p. ≈ \|a\|/2^k | CrypTen 2PC, PySyft 0.2.9 |
//! | [`TruncationLaw::StochasticRounding`] (SR) | ⌊a/d⌋ + Bern(frac) | TF-Encrypted's interactive truncation, SPU `TruncAPr` (3PC SEMI2K, ≤ 0.9.3) |
//! | [`TruncationLaw::StochasticRoundingPlusOne`] (SR+1) | ⌊a/d⌋ + Bern((r+1)/d) | SPU `TruncAPr2` (SEMI2K 2PC and ABY3, ≥ 0.9.4) |
//! | [`TruncationLaw::ArithmeticShiftBoth`] (FL−) | each of two uniform shares floor-divided | SPU `TruncA` (`trunc_allow_msb_error`) |
//! | [`TruncationLaw::Cheetah`] (CH) | ⌊a/d⌋ + Bern(frac) − Bern(½) | SPU CHEETAH 2PC (measured only, not derived) |
//!
//! with frac = r/d, r = a mod d ∈ [0, d). Public values are truncated deterministically
//! ([`PublicTruncation`]), and TF-Encrypted's sign test has one wrong value ([`SignTest`]).
//!
//! # Method
//! SR, SR+1 and CH draw a uniform integer u in [0, d) (rejection sampling on 64-bit words, so
//! Bern(r/d) is exact) and compare it with r. LT and FL− are sampled as the protocol runs them:
//! a uniform ring word s0, s1 = a − s0 (mod 2^k), each share truncated on its own and the two
//! added mod 2^k; that reproduces their rare wrap errors with their exact probability.
//!
//! # Cost
//! Laws are ideal functionalities: what a framework's protocol costs (rounds, bytes, triples) is
//! the profile's to count, not the law's. Draws: one or two 64-bit words per truncation (SR,
//! SR+1: 1 expected; CH: 2; LT, FL−: 1 for Z_2^64, 2 for Z_2^128).
//!
//! # Error
//! The law *is* the error model: see the table. SR, SR+1 and CH are valid for |a| < 2^(k−2)
//! (beyond it the real protocols return garbage, which is not modelled).
//!
//! # Reference
//! `../shared/research/frameworks.md` §0 (the catalogue), §1.3 (TF-Encrypted: Catrina–Saxena
//! TruncPr), §2.3 (PySyft: per-share `/`), §3.3 (SPU per protocol and version). Each law's
//! histogram is checked against products recorded from the real packages
//! (`tests/reference/frameworks/*/mul.json`, `tests/tests/frameworks.rs`).

use crate::encoding::RingWidth;
use crate::error::{Error, Result};
use rand_core::RngCore;

/// A truncation law (see the module table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TruncationLaw {
    /// LT: two shares, each divided toward zero (CrypTen 2PC, PySyft).
    ShareLocal,
    /// SR: exact stochastic rounding (TF-Encrypted, SPU `TruncAPr`).
    StochasticRounding,
    /// SR+1: stochastic rounding biased by one unit of the numerator (SPU `TruncAPr2`).
    StochasticRoundingPlusOne,
    /// FL−: two shares, each floor-divided (an arithmetic shift for d = 2^m; SPU `TruncA`).
    ArithmeticShiftBoth,
    /// CH: stochastic rounding minus a fair bit (SPU CHEETAH, measured).
    Cheetah,
}

impl TruncationLaw {
    /// The law's short name as in the research note's catalogue (`LT`, `SR`, `SR+1`, `FL-`, `CH`).
    pub const fn name(self) -> &'static str {
        match self {
            TruncationLaw::ShareLocal => "LT",
            TruncationLaw::StochasticRounding => "SR",
            TruncationLaw::StochasticRoundingPlusOne => "SR+1",
            TruncationLaw::ArithmeticShiftBoth => "FL-",
            TruncationLaw::Cheetah => "CH",
        }
    }

    /// Truncates the ring value `a` (its signed representative in `ring`) by the public divisor
    /// `d`, drawing from `rng`; the result is a signed representative in `ring`.
    ///
    /// # Errors
    /// [`Error::DivisionByZero`] for `d < 1`; [`Error::OutOfRange`] for `d > 2^62`.
    pub fn truncate<R: RngCore>(
        self,
        a: i128,
        d: i128,
        ring: RingWidth,
        rng: &mut R,
    ) -> Result<i128> {
        if d < 1 {
            return Err(Error::DivisionByZero);
        }
        if d > 1 << 62 {
            return Err(Error::OutOfRange {
                what: "truncation divisor",
            });
        }
        let a = ring.wrap(a);
        let floor = a.div_euclid(d);
        let r = a.rem_euclid(d);
        let out = match self {
            TruncationLaw::StochasticRounding => {
                floor.wrapping_add(i128::from(uniform_below(rng, d) < r))
            }
            TruncationLaw::StochasticRoundingPlusOne => {
                floor.wrapping_add(i128::from(uniform_below(rng, d) <= r))
            }
            TruncationLaw::Cheetah => floor
                .wrapping_add(i128::from(uniform_below(rng, d) < r))
                .wrapping_sub(i128::from(rng.next_u64() & 1)),
            TruncationLaw::ShareLocal | TruncationLaw::ArithmeticShiftBoth => {
                let s0 = ring_word(rng, ring);
                let s1 = ring.wrap(a.wrapping_sub(s0));
                let (t0, t1) = if self == TruncationLaw::ShareLocal {
                    // division toward zero (CrypTen's `div(rounding_mode="trunc")`, torch 1.4's `/`)
                    (s0 / d, s1 / d)
                } else {
                    (s0.div_euclid(d), s1.div_euclid(d))
                };
                t0.wrapping_add(t1)
            }
        };
        Ok(ring.wrap(out))
    }
}

/// How a framework truncates a *public* product (no randomness).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicTruncation {
    /// ⌊a/d⌋ (TF-Encrypted's `_truncate_public`).
    Floor,
    /// ⌊a/d + ½⌋ (SPU's `TruncP`, and its REF2K protocol's products: (a >> f) + bit f−1).
    RoundHalfUp,
    /// a/d toward zero (CrypTen and PySyft on one party).
    TowardZero,
}

impl PublicTruncation {
    /// Truncates the public ring value `a` by `d`.
    ///
    /// # Errors
    /// [`Error::DivisionByZero`] for `d < 1`.
    pub fn truncate(self, a: i128, d: i128, ring: RingWidth) -> Result<i128> {
        if d < 1 {
            return Err(Error::DivisionByZero);
        }
        let a = ring.wrap(a);
        let out = match self {
            PublicTruncation::Floor => a.div_euclid(d),
            // ⌊(2a + d) / 2d⌋ without overflow: ⌊a/d⌋ + [2r ≥ d]
            PublicTruncation::RoundHalfUp => a
                .div_euclid(d)
                .wrapping_add(i128::from(2 * a.rem_euclid(d) >= d)),
            PublicTruncation::TowardZero => a / d,
        };
        Ok(ring.wrap(out))
    }
}

/// A framework's sign test on ring values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignTest {
    /// Exact: negative iff the signed representative is < 0 (CrypTen's A2B, SPU's MSB,
    /// PySyft's SecureNN `positive` for |a| < 2^62).
    Exact,
    /// TF-Encrypted's SecureNN `is_negative`: exact except that ring value −1 is reported
    /// non-negative (its shares, reinterpreted in Z_(2^64−1), sum to 0; frameworks.md §1.5).
    MinusOneNonNegative,
}

impl SignTest {
    /// Whether `a` is reported negative.
    pub const fn is_negative(self, a: i128) -> bool {
        match self {
            SignTest::Exact => a < 0,
            SignTest::MinusOneNonNegative => a < -1,
        }
    }
}

/// A uniform integer in [0, d) for 1 ≤ d ≤ 2^62, by rejection on 64-bit words (exact; the
/// expected number of draws is below 2).
fn uniform_below<R: RngCore>(rng: &mut R, d: i128) -> i128 {
    let d = d as u64; // 1 ≤ d ≤ 2^62 (checked by the callers)
    let zone = u64::MAX - (u64::MAX - d + 1) % d; // the largest multiple of d, minus one
    loop {
        let v = rng.next_u64();
        if v <= zone {
            return i128::from(v % d);
        }
    }
}

/// A uniform ring word of `ring`, as its signed representative.
fn ring_word<R: RngCore>(rng: &mut R, ring: RingWidth) -> i128 {
    match ring {
        RingWidth::Z64 => i128::from(rng.next_u64() as i64),
        RingWidth::Z128 => {
            let hi = u128::from(rng.next_u64());
            let lo = u128::from(rng.next_u64());
            ((hi << 64) | lo) as i128
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn rng() -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(15)
    }

    /// Exact multiples are exact under every law but CH, and every law stays within one unit
    /// of ⌊a/d⌋ (away from the rare wraps, impossible for these small values in practice).
    #[test]
    fn supports() {
        let mut g = rng();
        for law in [
            TruncationLaw::ShareLocal,
            TruncationLaw::StochasticRounding,
            TruncationLaw::StochasticRoundingPlusOne,
            TruncationLaw::ArithmeticShiftBoth,
            TruncationLaw::Cheetah,
        ] {
            for a in -5000i128..5000 {
                for d in [243i128, 1000, 65536] {
                    let t = law.truncate(a * 7919, d, RingWidth::Z64, &mut g).unwrap();
                    let e = t - (a * 7919).div_euclid(d);
                    let ok = match law {
                        TruncationLaw::StochasticRounding
                        | TruncationLaw::StochasticRoundingPlusOne
                        | TruncationLaw::ShareLocal => e == 0 || e == 1,
                        TruncationLaw::ArithmeticShiftBoth => e == 0 || e == -1,
                        TruncationLaw::Cheetah => (-1..=1).contains(&e),
                    };
                    assert!(ok, "{law:?} a={a} d={d} e={e}");
                }
                let exact = law.truncate(a * 243, 243, RingWidth::Z128, &mut g).unwrap();
                match law {
                    TruncationLaw::Cheetah => assert!((a - 1..=a).contains(&exact)),
                    TruncationLaw::ArithmeticShiftBoth => assert!((a - 1..=a).contains(&exact)),
                    TruncationLaw::StochasticRoundingPlusOne => {}
                    _ => assert_eq!(exact, a),
                }
            }
        }
    }

    /// SR's mean error is 0, FL−'s about −1, SR+1's +1/d, CH's −½ (in units of the output).
    #[test]
    fn means() {
        let mut g = rng();
        let d = 1 << 16;
        let mean = |law: TruncationLaw, g: &mut Xoshiro256PlusPlus| {
            let mut s = 0.0;
            let n = 40_000;
            for i in 0..n {
                let a = (i as i128 * 1_234_567_891) % (1 << 40) - (1 << 39);
                let t = law.truncate(a, d, RingWidth::Z64, g).unwrap();
                s += (t as f64) - (a as f64) / (d as f64);
            }
            s / f64::from(n)
        };
        assert!(mean(TruncationLaw::StochasticRounding, &mut g).abs() < 0.01);
        assert!(mean(TruncationLaw::ShareLocal, &mut g).abs() < 0.01);
        assert!((mean(TruncationLaw::ArithmeticShiftBoth, &mut g) + 1.0).abs() < 0.01);
        assert!((mean(TruncationLaw::Cheetah, &mut g) + 0.5).abs() < 0.01);
    }

    /// The LT wrap: with |a| near 2^62 a quarter of share-local truncations are off by 2^64/d.
    #[test]
    fn share_local_wraps_as_often_as_the_shares_do() {
        let mut g = rng();
        let a: i128 = 1 << 62;
        let d: i128 = 1 << 16;
        let n = 20_000;
        let mut wraps = 0;
        for _ in 0..n {
            let t = TruncationLaw::ShareLocal
                .truncate(a, d, RingWidth::Z64, &mut g)
                .unwrap();
            if (t - (a >> 16)).abs() > 2 {
                wraps += 1;
            }
        }
        let p = f64::from(wraps) / f64::from(n);
        assert!((p - 0.25).abs() < 0.02, "wrap rate {p}");
    }

    #[test]
    fn public_truncations_and_signs() {
        let z = RingWidth::Z64;
        assert_eq!(PublicTruncation::Floor.truncate(-7, 2, z).unwrap(), -4);
        assert_eq!(PublicTruncation::TowardZero.truncate(-7, 2, z).unwrap(), -3);
        assert_eq!(
            PublicTruncation::RoundHalfUp.truncate(-7, 2, z).unwrap(),
            -3
        );
        assert_eq!(
            PublicTruncation::RoundHalfUp.truncate(-8, 3, z).unwrap(),
            -3
        );
        assert_eq!(PublicTruncation::RoundHalfUp.truncate(7, 2, z).unwrap(), 4);
        assert!(PublicTruncation::Floor.truncate(1, 0, z).is_err());
        assert!(TruncationLaw::StochasticRounding
            .truncate(1, 0, z, &mut rng())
            .is_err());
        // the extremes of Z_2^128 wrap instead of overflowing
        let z128 = RingWidth::Z128;
        assert_eq!(
            PublicTruncation::RoundHalfUp
                .truncate(i128::MAX, 1, z128)
                .unwrap(),
            i128::MAX
        );
        for law in [
            TruncationLaw::StochasticRoundingPlusOne,
            TruncationLaw::Cheetah,
        ] {
            law.truncate(i128::MAX, 1, z128, &mut rng()).unwrap();
            law.truncate(i128::MIN, 1, z128, &mut rng()).unwrap();
        }
        assert!(!SignTest::MinusOneNonNegative.is_negative(-1));
        assert!(SignTest::MinusOneNonNegative.is_negative(-2));
        assert!(SignTest::Exact.is_negative(-1));
    }
}
