//! Helpers for the kernel's unit tests: seeded draws, exact integer division and binomial
//! bounds, and the two-party session helpers the arithmetic-law tests of several modules share.
//!
//! Every random test input comes from `seed::stream(seed, StreamId::Synthetic)` (the production
//! derivation), so a failing test is replayed from the seed it prints.

// Host-side statistical bounds (the square root of a variance), never compared across targets.
#![allow(clippy::disallowed_methods)]

use crate::arith::RingArith;
use crate::seed::{self, StreamId, Xoshiro256PlusPlus};
use crate::{FixedPoint, Share, Shared, TruncMode};
use rand_core::RngCore;

// ---------------------------------------------------------------------------------------------
// Seeded draws and exact bounds
// ---------------------------------------------------------------------------------------------

/// The test-input generator of `seed`.
pub(crate) fn rng(seed: u64) -> Xoshiro256PlusPlus {
    seed::stream(seed, StreamId::Synthetic)
}

/// A uniform ring integer in `[lo, hi]` (inclusive), drawn as one `u64`.
pub(crate) fn int_in(rng: &mut impl RngCore, lo: i64, hi: i64) -> i64 {
    assert!(lo <= hi);
    let span = (hi as i128 - lo as i128 + 1) as u128;
    if span > u64::MAX as u128 {
        return rng.next_u64() as i64;
    }
    let off = seed::below(rng, span as u64);
    (lo as i128 + off as i128) as i64
}

/// A uniform full-range ring integer.
pub(crate) fn any_ring(rng: &mut impl RngCore) -> i64 {
    rng.next_u64() as i64
}

/// A uniform `usize` in `[lo, hi]` (small ranges only).
pub(crate) fn usize_in(rng: &mut impl RngCore, lo: usize, hi: usize) -> usize {
    int_in(rng, lo as i64, hi as i64) as usize
}

/// Ring integers that every ring test should see: zero, ±1, the extremes and the powers of two
/// around the wrap points.
pub(crate) fn ring_edges() -> Vec<i64> {
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
pub(crate) fn within_sigma(observed: f64, expected: f64, variance: f64, z: f64) -> bool {
    (observed - expected).abs() <= z * variance.sqrt() + 1.0
}

/// `⌊x / d⌋` for `d > 0` in exact integer arithmetic.
pub(crate) fn floor_div(x: i128, d: i128) -> i128 {
    x.div_euclid(d)
}

/// `⌈x / d⌉` for `d > 0` in exact integer arithmetic.
pub(crate) fn ceil_div(x: i128, d: i128) -> i128 {
    -(-x).div_euclid(d)
}

/// Division truncating toward zero (CrypTen's `rounding_mode="trunc"`), exact.
pub(crate) fn trunc_div(x: i128, d: i128) -> i128 {
    x / d
}

// ---------------------------------------------------------------------------------------------
// Two-party sessions for the law tests (arith, truncation, comparison, maximum, pooling, seed)
// ---------------------------------------------------------------------------------------------

pub(crate) const FP: FixedPoint = FixedPoint::CRYPTEN_DEFAULT;
pub(crate) const S: i64 = 1 << 16;
pub(crate) const SEEDS: [u64; 4] = [1, 0x5EED, 2024, u64::MAX];
pub(crate) const MODES: [TruncMode; 2] = [TruncMode::Local, TruncMode::Dealer];

pub(crate) fn arena(words: usize) -> Vec<i64> {
    vec![0i64; words]
}

pub(crate) fn session(seed: u64, mode: TruncMode, arena: &mut [i64]) -> Shared<'_> {
    Shared::new(FP, seed, arena).with_truncation(mode)
}

pub(crate) fn share_ring(mpc: &mut Shared<'_>, raw: &[i64]) -> Vec<Share> {
    let mut out = vec![[0i64; 2]; raw.len()];
    mpc.input_ring(raw, &mut out).unwrap();
    out
}

pub(crate) fn open(mpc: &Shared<'_>, x: &[Share]) -> Vec<i64> {
    let mut out = vec![0i64; x.len()];
    mpc.peek_ring(x, &mut out).unwrap();
    out
}

/// Small fixed-point raws (|value| ≤ 8), so pre-truncation products stay below 2^41 and the
/// rare share-local events (probability |x|/2^64) are negligible.
pub(crate) fn small_raws(r: &mut impl RngCore, n: usize) -> Vec<i64> {
    let mut v: Vec<i64> = (0..n).map(|_| int_in(r, -8 * S, 8 * S)).collect();
    // Edge values: 0 and ±1 ulp, exact integers (truncation of exact multiples).
    for (i, e) in [0, 1, -1, S, -S, 2 * S + 1, -(2 * S) - 1]
        .into_iter()
        .enumerate()
    {
        if i < n {
            v[i] = e;
        }
    }
    v
}

/// Checks one truncated output of `Shared` against the exact pre-truncation value `x` and
/// `Fixed`'s `tdiv(x, d)`: within one ring unit of `Fixed`, and one of ⌊x/d⌋, ⌈x/d⌉ (local)
/// or ⌊x/d⌋, ⌊x/d⌋ + 1 (dealer).
pub(crate) fn check_trunc(
    what: &str,
    seed: u64,
    mode: TruncMode,
    i: usize,
    x: i128,
    d: i128,
    got: i64,
) {
    let got = i128::from(got);
    let fixed = trunc_div(x, d);
    assert!(
        (got - fixed).abs() <= 1,
        "{what} seed {seed} {mode:?} [{i}]: shared {got}, fixed {fixed} (x = {x}, d = {d})"
    );
    let (lo, hi) = match mode {
        TruncMode::Local => (floor_div(x, d), ceil_div(x, d)),
        TruncMode::Dealer | TruncMode::Law(_) => (floor_div(x, d), floor_div(x, d) + 1),
    };
    assert!(
        got == lo || got == hi,
        "{what} seed {seed} {mode:?} [{i}]: shared {got} not in {{{lo}, {hi}}} (x = {x}, d = {d})"
    );
}
