//! Small helpers shared by the integration tests: seeded draws and binomial bounds.
//!
//! Every random test input comes from `mpcdiff_kernel::seed::stream(seed, StreamId::Synthetic)`
//! (the production derivation), so a failing test is replayed from the seed it prints.

use mpcdiff_kernel::seed::{self, StreamId, Xoshiro256PlusPlus};
use rand_core::RngCore;

/// The test-input generator of `seed`.
pub fn rng(seed: u64) -> Xoshiro256PlusPlus {
    seed::stream(seed, StreamId::Synthetic)
}

/// A uniform ring integer in `[lo, hi]` (inclusive), drawn as one `u64`.
pub fn int_in(rng: &mut impl RngCore, lo: i64, hi: i64) -> i64 {
    assert!(lo <= hi);
    let span = (hi as i128 - lo as i128 + 1) as u128;
    if span > u64::MAX as u128 {
        return rng.next_u64() as i64;
    }
    let off = seed::below(rng, span as u64);
    (lo as i128 + off as i128) as i64
}

/// A uniform full-range ring integer.
pub fn any_ring(rng: &mut impl RngCore) -> i64 {
    rng.next_u64() as i64
}

/// A uniform `usize` in `[lo, hi]` (small ranges only).
pub fn usize_in(rng: &mut impl RngCore, lo: usize, hi: usize) -> usize {
    int_in(rng, lo as i64, hi as i64) as usize
}

/// Ring integers that every ring test should see: zero, ±1, the extremes and the powers of two
/// around the wrap points.
pub fn ring_edges() -> Vec<i64> {
    let mut v = vec![
        0,
        1,
        -1,
        2,
        -2,
        i64::MAX,
        i64::MIN,
        i64::MAX - 1,
        i64::MIN + 1,
    ];
    for k in [15, 16, 17, 31, 32, 47, 48, 61, 62] {
        let p = 1i64 << k;
        v.extend([p, -p, p - 1, -p + 1, p + 1, -p - 1]);
    }
    v.push(-(1i64 << 62) - (1i64 << 61));
    v
}

/// Whether `observed` successes are within `z` standard deviations of the expectation of a sum
/// of independent Bernoulli variables with the given means (`expected` = Σp, `variance` =
/// Σp(1−p)), allowing one count for discreteness.
pub fn within_sigma(observed: f64, expected: f64, variance: f64, z: f64) -> bool {
    (observed - expected).abs() <= z * variance.sqrt() + 1.0
}

/// `⌊x / d⌋` for `d > 0` in exact integer arithmetic.
pub fn floor_div(x: i128, d: i128) -> i128 {
    x.div_euclid(d)
}

/// `⌈x / d⌉` for `d > 0` in exact integer arithmetic.
pub fn ceil_div(x: i128, d: i128) -> i128 {
    -(-x).div_euclid(d)
}

/// Division truncating toward zero (CrypTen's `rounding_mode="trunc"`), exact.
pub fn trunc_div(x: i128, d: i128) -> i128 {
    x / d
}
