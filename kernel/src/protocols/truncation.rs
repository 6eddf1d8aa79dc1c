//! Truncation: bringing a product at scale 2^2f back to scale 2^f (or dividing by any public
//! positive integer).
//!
//! Two modes, chosen per session with [`TruncMode`]:
//!
//! # Local (CrypTen/SecureML two-party truncation)
//! ## Method
//! Each party divides its own share by `d`, rounding toward zero. No communication.
//! ## Cost
//! 0 rounds, 0 bytes, no preprocessing.
//! ## Error
//! When the shares have opposite signs (all but a fraction ≈ 2|x|/2^64 of sharings), the
//! result is `floor(x/d) + B` with `B ~ Bernoulli(frac(x/d))`: unbiased stochastic rounding,
//! |error| < 1 LSB, RMS √(1/6) LSB for d = 2^f. When both shares have the sign of `x` without
//! wrapping (probability ≈ |x|/2^64), the result is `tdiv(x, d)` or one unit further toward
//! zero (|error| < 2 LSB). Either way the result is within one unit of CrypTen's one-party
//! `tdiv(x, d)`. When `s0 + s1` overflows as true integers (probability (|x| + 1)/2^64, x the
//! pre-truncation ring value), the result is off by ∓2^64/d ring units (∓2^32 in real units
//! at f = 16), plus a share rounding of less than 2 units: the *truncation catastrophe*. The
//! simulator sees both shares, so it counts these in
//! [`Cost::wrap_events`](crate::cost::Cost::wrap_events).
//!
//! # Dealer (dealer-assisted exact truncation, power-of-two divisors)
//! ## Method
//! For `d = 2^k`, the dealer gives `[r]`, `[r >> k]` and `[msb(r)]` for a uniform `r`. The
//! parties shift `x' = x + 2^62` into `[0, 2^63)`, open `z = x' − r`, and use that `z + r`
//! wraps mod 2^64 exactly when `msb(z) ∨ msb(r)` (because `x' < 2^63`): with the wrap bit
//! `w = 1` if `msb(z)` else `[msb r]` (linear in the shares), `floor(x'/2^k)` is
//! `(z >> k) + [r >> k] − w·2^(64−k) + c` for the unknown low-bit carry `c` of the low `k` bits.
//! The protocol adds 1 in place of `c`, so it outputs `floor(x/2^k) + [x_low ≥ r_low]`: the
//! only error left is the rounding of the low `k` bits, which behaves like stochastic rounding.
//! ## Cost
//! 1 round; each party sends `n` words; `n` truncation tuples.
//! ## Error
//! `result − x/2^k ∈ (−1, 1]`, nearly unbiased (mean +2^−k LSB), and **no wrap error** for
//! `x ∈ [−2^62, 2^62)`. Non-power-of-two divisors fall back to local truncation.
//!
//! # Reference
//! CrypTen `arithmetic.py: div_` (2 parties); the wrap-bit identity is the one behind the
//! truncation of Escudero et al., "Improved Primitives for MPC over Mixed Arithmetic-Binary
//! Circuits" (CRYPTO 2020).

use super::{carve, need};
use crate::dealer::Dealer;
use crate::error::{Error, Result};
use crate::ring::{sum_wraps, tdiv};
use crate::share::Share;
use crate::wire::{Domain, Net};

/// How the shared arithmetic truncates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TruncMode {
    /// Share-local truncation, as CrypTen does for two parties (the default).
    #[default]
    Local,
    /// Dealer-assisted truncation without the wrap catastrophe (power-of-two divisors).
    Dealer,
}

impl TruncMode {
    /// The name used on command lines and in result files (`local`, `dealer`).
    pub const fn name(self) -> &'static str {
        match self {
            TruncMode::Local => "local",
            TruncMode::Dealer => "dealer",
        }
    }

    /// The mode called `name`.
    pub fn by_name(name: &str) -> Option<TruncMode> {
        [TruncMode::Local, TruncMode::Dealer]
            .into_iter()
            .find(|m| m.name() == name)
    }
}

/// Scratch words [`truncate`] needs for `n` elements (either mode).
pub const fn scratch_words_truncate(n: usize) -> usize {
    8 * n
}

/// Divides the shared values by the public `d ≥ 1`, in place.
pub fn truncate(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    mode: TruncMode,
    x: &mut [Share],
    d: u64,
    scratch: &mut [i64],
) -> Result<()> {
    if d == 0 {
        return Err(Error::DivisionByZero);
    }
    if d > i64::MAX as u64 {
        return Err(Error::OutOfRange {
            what: "divisor above 2^63 − 1",
        });
    }
    if d == 1 {
        return Ok(());
    }
    match mode {
        TruncMode::Dealer if d.is_power_of_two() => {
            dealer_pow2(net, dealer, x, d.trailing_zeros(), scratch)
        }
        _ => {
            local(net, x, d as i64);
            Ok(())
        }
    }
}

fn local(net: &mut Net<'_>, x: &mut [Share], d: i64) {
    let mut wraps = 0u64;
    for s in x.iter_mut() {
        wraps = wraps.wrapping_add(u64::from(sum_wraps(s[0], s[1])));
        s[0] = tdiv(s[0], d);
        s[1] = tdiv(s[1], d);
    }
    let cost = net.cost_mut();
    cost.truncations = cost.truncations.wrapping_add(x.len() as u64);
    cost.wrap_events = cost.wrap_events.wrapping_add(wraps);
}

fn dealer_pow2(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    x: &mut [Share],
    k: u32,
    scratch: &mut [i64],
) -> Result<()> {
    debug_assert!((1..=62).contains(&k));
    dealer_pow2_each(net, dealer, x, |_| k, scratch)
}

/// Divides element `i` by the public `d[i] ≥ 1`, in place, as one batch: local truncation per
/// element, or (dealer mode) one round for all power-of-two divisors, with the others truncated
/// locally. Same cost and error laws as [`truncate`], element by element.
pub fn truncate_each(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    mode: TruncMode,
    x: &mut [Share],
    d: &dyn Fn(usize) -> u64,
    scratch: &mut [i64],
) -> Result<()> {
    let n = x.len();
    if (0..n).any(|i| d(i) == 0) {
        return Err(Error::DivisionByZero);
    }
    if (0..n).any(|i| d(i) > i64::MAX as u64) {
        return Err(Error::OutOfRange {
            what: "divisor above 2^63 − 1",
        });
    }
    let pow2 = |v: u64| v > 1 && v.is_power_of_two();
    let by_dealer = |i: usize| mode == TruncMode::Dealer && pow2(d(i));
    let n_dealer = (0..n).filter(|&i| by_dealer(i)).count();
    if n_dealer > 0 {
        need(scratch_words_truncate(n_dealer), scratch.len())?;
    }
    for (i, s) in x.iter_mut().enumerate() {
        if d(i) > 1 && !by_dealer(i) {
            local(net, core::slice::from_mut(s), d(i) as i64);
        }
    }
    if n_dealer > 0 {
        dealer_pow2_each(
            net,
            dealer,
            x,
            |i| {
                if by_dealer(i) {
                    d(i).trailing_zeros()
                } else {
                    0
                }
            },
            scratch,
        )?;
    }
    Ok(())
}

/// The dealer protocol on the elements with a shift `k(i) > 0`, all in one round.
fn dealer_pow2_each(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    x: &mut [Share],
    k: impl Fn(usize) -> u32,
    mut scratch: &mut [i64],
) -> Result<()> {
    let n = (0..x.len()).filter(|&i| k(i) > 0).count();
    if n == 0 {
        return Ok(());
    }
    need(scratch_words_truncate(n), scratch.len())?;
    let hi = carve(&mut scratch, 2 * n);
    let msb = carve(&mut scratch, 2 * n);
    let m0 = carve(&mut scratch, n);
    let m1 = carve(&mut scratch, n);
    const OFFSET: i64 = 1 << 62;
    let mut q = 0;
    for (i, xi) in x.iter().enumerate() {
        let ki = k(i);
        if ki == 0 {
            continue;
        }
        let [r, h, b] = dealer.trunc_tuple(ki);
        hi[2 * q] = h[0];
        hi[2 * q + 1] = h[1];
        msb[2 * q] = b[0];
        msb[2 * q + 1] = b[1];
        m0[q] = xi[0].wrapping_add(OFFSET).wrapping_sub(r[0]);
        m1[q] = xi[1].wrapping_sub(r[1]);
        q += 1;
    }
    let cost = net.cost_mut();
    cost.trunc_tuples = cost.trunc_tuples.wrapping_add(n as u64);
    cost.truncations = cost.truncations.wrapping_add(n as u64);
    net.exchange("trunc", Domain::Arithmetic, m0, m1);
    let mut q = 0;
    for (i, xi) in x.iter_mut().enumerate() {
        let ki = k(i);
        if ki == 0 {
            continue;
        }
        let big = (1u64 << (64 - ki)) as i64; // 2^(64−k) in the ring (k = 1 wraps to −2^63: fine)
        let offset_hi = 1i64 << (62 - ki);
        let z = m0[q] as u64;
        let zhi = (z >> ki) as i64;
        let (w0, w1) = if z >> 63 == 1 {
            (1, 0)
        } else {
            (msb[2 * q], msb[2 * q + 1])
        };
        let s0 = zhi
            .wrapping_add(hi[2 * q])
            .wrapping_sub(w0.wrapping_mul(big))
            .wrapping_sub(offset_hi)
            .wrapping_add(1);
        let s1 = hi[2 * q + 1].wrapping_sub(w1.wrapping_mul(big));
        *xi = [s0, s1];
        q += 1;
    }
    Ok(())
}
