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
//! # Law (the other frameworks' interactive truncations, as ideal functionalities)
//! ## Method
//! [`TruncMode::Law`] truncates each reconstructed value by a named law
//! ([`crate::protocols::laws::TruncationLaw`]: TF-Encrypted's SR, SPU's SR+1, FL− and CH) and
//! deals a fresh sharing of the result. Those laws depend on the value alone, never on the
//! shares (`frameworks.md` §0), so this is the protocols' output law exactly; their messages
//! are not simulated. The law's randomness and the fresh share come from the dealer stream.
//! ## Cost
//! Charged as one round in which each party sends `n` words, and `n` truncation tuples: the
//! shape of TF-Encrypted's Catrina–Saxena truncation (one masked opening, masks from the
//! crypto producer) and SPU's `TruncAPr`/`TruncAPr2` (one opening, dealer correlations);
//! their exact word counts were not recorded (**derived**).
//! ## Error
//! The law's (table in [`crate::protocols::laws`]); no wrap catastrophe for SR, SR+1, CH.
//!
//! # Reference
//! CrypTen `arithmetic.py: div_` (2 parties); the wrap-bit identity is the one behind the
//! truncation of Escudero et al., "Improved Primitives for MPC over Mixed Arithmetic-Binary
//! Circuits" (CRYPTO 2020).

use super::laws::TruncationLaw;
use super::{carve, need};
use crate::dealer::Dealer;
use crate::error::{Error, Result};
use crate::ring::Word;
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
    /// Another framework's interactive truncation, as its ideal functionality: the named law
    /// applied to the value and a fresh sharing dealt (any divisor). The share-local law is
    /// [`TruncMode::Local`] itself.
    Law(TruncationLaw),
}

impl TruncMode {
    /// Every mode, default first.
    pub const ALL: [TruncMode; 6] = [
        TruncMode::Local,
        TruncMode::Dealer,
        TruncMode::Law(TruncationLaw::StochasticRounding),
        TruncMode::Law(TruncationLaw::StochasticRoundingPlusOne),
        TruncMode::Law(TruncationLaw::ArithmeticShiftBoth),
        TruncMode::Law(TruncationLaw::Cheetah),
    ];

    /// The name used on command lines and in result files (`local`, `dealer`, `sr`, `sr1`,
    /// `fl`, `ch`).
    pub const fn name(self) -> &'static str {
        match self {
            TruncMode::Local | TruncMode::Law(TruncationLaw::ShareLocal) => "local",
            TruncMode::Dealer => "dealer",
            TruncMode::Law(TruncationLaw::StochasticRounding) => "sr",
            TruncMode::Law(TruncationLaw::StochasticRoundingPlusOne) => "sr1",
            TruncMode::Law(TruncationLaw::ArithmeticShiftBoth) => "fl",
            TruncMode::Law(TruncationLaw::Cheetah) => "ch",
        }
    }

    /// The mode called `name`.
    pub fn by_name(name: &str) -> Option<TruncMode> {
        TruncMode::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether the mode truncates each share on its own (no round, rare wraps).
    pub const fn is_local(self) -> bool {
        matches!(
            self,
            TruncMode::Local | TruncMode::Law(TruncationLaw::ShareLocal)
        )
    }
}

/// Scratch words [`truncate`] needs for `n` elements (either mode; saturating at `usize::MAX`).
pub const fn scratch_words_truncate(n: usize) -> usize {
    n.saturating_mul(8)
}

/// Divides the shared values by the public `d ≥ 1`, in place.
///
/// # Errors
/// [`Error::DivisionByZero`] for `d = 0`; [`Error::OutOfRange`] for `d` above 2^63 − 1;
/// [`Error::BufferTooSmall`] if dealer truncation needs more `scratch` than
/// [`scratch_words_truncate`] gives (nothing is drawn or sent then).
pub fn truncate<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    mode: TruncMode,
    x: &mut [Share<W>],
    d: u64,
    scratch: &mut [W],
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
        TruncMode::Law(law) if !mode.is_local() => by_law(net, dealer, law, x, &|_| d),
        _ => {
            local(net, x, W::from_i64(d as i64));
            Ok(())
        }
    }
}

/// Share-local truncation of one sharing by `2^k` (`1 ≤ k ≤ 62`): each share's quotient toward
/// zero (as `tdiv`, by a shift instead of a hardware division), and whether the shares wrapped
/// (their sum overflows as true integers).
#[inline]
pub(crate) fn local_pow2<W: Word>(s: Share<W>, k: u32) -> (Share<W>, bool) {
    let bias = (W::ONE << k).wrapping_sub(W::ONE);
    let div = |v: W| v.wrapping_add((v >> (W::BITS - 1)) & bias) >> k;
    ([div(s[0]), div(s[1])], s[0].sum_wraps(s[1]))
}

/// Counts `n` share-local truncations, `wraps` of which wrapped.
pub(crate) fn count_local(net: &mut Net<'_>, n: usize, wraps: u64) {
    let cost = net.cost_mut();
    cost.truncations = cost.truncations.wrapping_add(n as u64);
    cost.wrap_events = cost.wrap_events.wrapping_add(wraps);
}

fn local<W: Word>(net: &mut Net<'_>, x: &mut [Share<W>], d: W) {
    let mut wraps = 0u64;
    let d64 = d.low_i64();
    if d64 > 1 && d64.count_ones() == 1 {
        let k = d64.trailing_zeros();
        for s in x.iter_mut() {
            let (q, wrapped) = local_pow2(*s, k);
            wraps = wraps.wrapping_add(u64::from(wrapped));
            *s = q;
        }
    } else {
        for s in x.iter_mut() {
            wraps = wraps.wrapping_add(u64::from(s[0].sum_wraps(s[1])));
            s[0] = s[0].tdiv(d);
            s[1] = s[1].tdiv(d);
        }
    }
    count_local(net, x.len(), wraps);
}

fn dealer_pow2<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    x: &mut [Share<W>],
    k: u32,
    scratch: &mut [W],
) -> Result<()> {
    debug_assert!((1..=W::BITS - 2).contains(&k));
    dealer_pow2_each(net, dealer, x, |_| k, scratch)
}

/// Divides element `i` by the public `d[i] ≥ 1`, in place, as one batch: local truncation per
/// element, or (dealer mode) one round for all power-of-two divisors, with the others truncated
/// locally. Same cost and error laws as [`truncate`], element by element.
pub fn truncate_each<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    mode: TruncMode,
    x: &mut [Share<W>],
    d: &dyn Fn(usize) -> u64,
    scratch: &mut [W],
) -> Result<()> {
    // One call of `d` per element to check them all (division by zero reported first, as
    // before), one more per element for the local truncations.
    let by_dealer = |di: u64| mode == TruncMode::Dealer && di > 1 && di.is_power_of_two();
    let (mut zero, mut big, mut n_dealer) = (false, false, 0usize);
    for i in 0..x.len() {
        let di = d(i);
        zero |= di == 0;
        big |= di > i64::MAX as u64;
        n_dealer += usize::from(by_dealer(di));
    }
    if zero {
        return Err(Error::DivisionByZero);
    }
    if big {
        return Err(Error::OutOfRange {
            what: "divisor above 2^63 − 1",
        });
    }
    if let TruncMode::Law(law) = mode {
        if !mode.is_local() {
            return by_law(net, dealer, law, x, d);
        }
    }
    if n_dealer > 0 {
        need(scratch_words_truncate(n_dealer), scratch.len())?;
    }
    // The local ones, each as `local` on that one element, counted together.
    let (mut count, mut wraps) = (0usize, 0u64);
    for (i, s) in x.iter_mut().enumerate() {
        let di = d(i);
        if di <= 1 || by_dealer(di) {
            continue;
        }
        count += 1;
        if di.is_power_of_two() {
            let (q, wrapped) = local_pow2(*s, di.trailing_zeros());
            wraps = wraps.wrapping_add(u64::from(wrapped));
            *s = q;
        } else {
            wraps = wraps.wrapping_add(u64::from(s[0].sum_wraps(s[1])));
            s[0] = s[0].tdiv(W::from_i64(di as i64));
            s[1] = s[1].tdiv(W::from_i64(di as i64));
        }
    }
    count_local(net, count, wraps);
    if n_dealer > 0 {
        dealer_pow2_each(
            net,
            dealer,
            x,
            |i| {
                let di = d(i);
                if by_dealer(di) {
                    di.trailing_zeros()
                } else {
                    0
                }
            },
            scratch,
        )?;
    }
    Ok(())
}

/// The dealer's words as a random number generator (for the laws' draws).
struct DealerRng<'d>(&'d mut Dealer);

impl rand_core::RngCore for DealerRng<'_> {
    fn next_u32(&mut self) -> u32 {
        (self.0.ring() as u64 >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0.ring() as u64
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let w = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
    }
}

/// [`TruncMode::Law`] on every element with a divisor above 1 (see the module doc): the law's
/// result on the reconstructed value, dealt afresh (party 0's share is the dealer's next word,
/// drawn after the law's words); one round for all of them.
fn by_law<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    law: TruncationLaw,
    x: &mut [Share<W>],
    d: &dyn Fn(usize) -> u64,
) -> Result<()> {
    let mut n = 0usize;
    for (i, s) in x.iter_mut().enumerate() {
        let di = d(i);
        if di <= 1 {
            continue;
        }
        let a = s[0].wrapping_add(s[1]).to_i128();
        let t = W::from_i128(law.truncate(a, i128::from(di), W::WIDTH, &mut DealerRng(dealer))?);
        let u: W = dealer.word();
        *s = [u, t.wrapping_sub(u)];
        n += 1;
    }
    if n > 0 {
        net.charge_round::<W>(n);
        let cost = net.cost_mut();
        cost.trunc_tuples = cost.trunc_tuples.wrapping_add(n as u64);
        cost.truncations = cost.truncations.wrapping_add(n as u64);
    }
    Ok(())
}

/// The dealer protocol on the elements with a shift `k(i) > 0`, all in one round.
fn dealer_pow2_each<W: Word>(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    x: &mut [Share<W>],
    k: impl Fn(usize) -> u32,
    mut scratch: &mut [W],
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
    // 2^(k−2): shifts the range [−2^(k−2), 2^(k−2)) into [0, 2^(k−1)).
    let offset = W::ONE << (W::BITS - 2);
    let mut q = 0;
    for (i, xi) in x.iter().enumerate() {
        let ki = k(i);
        if ki == 0 {
            continue;
        }
        let [r, h, b] = dealer.trunc_tuple::<W>(ki);
        hi[2 * q] = h[0];
        hi[2 * q + 1] = h[1];
        msb[2 * q] = b[0];
        msb[2 * q + 1] = b[1];
        m0[q] = xi[0].wrapping_add(offset).wrapping_sub(r[0]);
        m1[q] = xi[1].wrapping_sub(r[1]);
        q += 1;
    }
    let cost = net.cost_mut();
    cost.trunc_tuples = cost.trunc_tuples.wrapping_add(n as u64);
    cost.truncations = cost.truncations.wrapping_add(n as u64);
    net.exchange("trunc", Domain::Arithmetic, m0, m1)?;
    let mut q = 0;
    for (i, xi) in x.iter_mut().enumerate() {
        let ki = k(i);
        if ki == 0 {
            continue;
        }
        // 2^(k_ring − k) in the ring (k = 1 wraps to −2^(k_ring − 1): fine)
        let big = W::ONE << (W::BITS - ki);
        let offset_hi = W::ONE << (W::BITS - 2 - ki);
        let z = m0[q];
        let zhi = z.shr_logical(ki);
        let (w0, w1) = if z.shr_logical(W::BITS - 1) == W::ONE {
            (W::ONE, W::ZERO)
        } else {
            (msb[2 * q], msb[2 * q + 1])
        };
        let s0 = zhi
            .wrapping_add(hi[2 * q])
            .wrapping_sub(w0.wrapping_mul(big))
            .wrapping_sub(offset_hi)
            .wrapping_add(W::ONE);
        let s1 = hi[2 * q + 1].wrapping_sub(w1.wrapping_mul(big));
        *xi = [s0, s1];
        q += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The laws of both truncations, over many seeded values: dealer truncation never wraps in its
    //! range and rounds up with the documented probability; share-local truncation rounds up with
    //! probability frac(x/d), and wraps at rate |x|/2^64 with an error of exactly ∓2^64/d, each
    //! wrap counted in the ledger.

    // The binomial bounds take a variance's square root on the host; never compared across
    // targets, so std's f64 math is fine here.
    #![allow(clippy::disallowed_methods)]

    use super::TruncMode;
    use crate::testing::{
        arena, floor_div, int_in, open, rng, session, share_ring, within_sigma, S,
    };
    use crate::{Arith, Shared};
    use rand_core::RngCore;

    /// Share-local truncation by a power of two (a shift) gives the same quotients, toward
    /// zero, as a division by a divisor that is not one (`tdiv`), at the edges of the ring and
    /// on seeded shares: 3 and 6 are divided, 2, 4 and 2^62 shifted.
    #[test]
    fn local_truncation_by_a_power_of_two_divides_toward_zero() {
        let mut r = rng(11);
        let mut xs = vec![i64::MIN, i64::MIN + 1, i64::MAX, -1, 0, 1, -2, 2, -3, 3];
        xs.extend((0..4000).map(|_| r.next_u64() as i64));
        for d in [2i64, 3, 4, 6, 1 << 16, 1 << 62] {
            let mut x: Vec<[i64; 2]> = xs.chunks(2).map(|c| [c[0], c[1]]).collect();
            let want: Vec<[i64; 2]> = x
                .iter()
                .map(|s| [s[0].wrapping_div(d), s[1].wrapping_div(d)])
                .collect();
            let mut net = crate::wire::Net::new();
            super::local(&mut net, &mut x, d);
            assert_eq!(x, want, "d = {d}");
        }
    }

    /// Dealer truncation by 2^k: error `result − x/2^k ∈ (−1, 1]` and no wrap, for every
    /// x ∈ [−2^62, 2^62), including both ends; the +1 happens with probability (x_low + 1)/2^k.
    /// The same values under share-local truncation do wrap, so the absence of wraps is a property
    /// of the protocol and not of the draws.
    #[test]
    fn dealer_truncation_never_wraps_in_its_range() {
        let lo = -(1i64 << 62);
        let hi = (1i64 << 62) - 1;
        for seed in [3u64, 0xD1CE] {
            let mut r = rng(seed);
            let mut xs: Vec<i64> = vec![lo, hi, lo + 1, hi - 1, 0, 1, -1, 1 << 61, -(1 << 61)];
            xs.extend((0..6000).map(|_| int_in(&mut r, lo, hi)));
            xs.extend((0..1000).map(|_| int_in(&mut r, -(1 << 20), 1 << 20)));
            let n = xs.len();
            for k in [1u32, 16, 40, 62] {
                let d = 1i128 << k;
                let mut ar = arena(Shared::scratch_words_elementwise(n));
                let mut mpc = session(seed, TruncMode::Dealer, &mut ar);
                let mut x = share_ring(&mut mpc, &xs);
                mpc.div_int(&mut x, 1u64 << k).unwrap();
                let got = open(&mpc, &x);
                let (mut ups, mut expect, mut var) = (0.0, 0.0, 0.0);
                for i in 0..n {
                    let xi = i128::from(xs[i]);
                    let e = i128::from(got[i]) * d - xi; // error × d, exact
                    assert!(
                        -d < e && e <= d,
                        "seed {seed} k {k} [{i}]: x = {xi}, result {} (error {e}/2^{k})",
                        got[i]
                    );
                    if i128::from(got[i]) == floor_div(xi, d) + 1 {
                        ups += 1.0;
                    }
                    let p = (xi.rem_euclid(d) + 1) as f64 / d as f64;
                    expect += p;
                    var += p * (1.0 - p);
                }
                assert!(
                    within_sigma(ups, expect, var, 5.0),
                    "seed {seed} k {k}: {ups} round-ups, law predicts {expect:.1} ± {:.1}",
                    var.sqrt()
                );
                let c = mpc.cost();
                assert_eq!(c.wrap_events, 0, "seed {seed} k {k}");
                assert_eq!(c.trunc_tuples, n as u64, "seed {seed} k {k}");

                // Contrast: share-local truncation of the same values wraps (E|x|/2^64 ≈ 1/8 of the
                // 6000 full-range draws).
                let mut ar = arena(0);
                let mut mpc = session(seed, TruncMode::Local, &mut ar);
                let mut x = share_ring(&mut mpc, &xs);
                mpc.div_int(&mut x, 1u64 << k).unwrap();
                assert!(
                    mpc.cost().wrap_events > 500,
                    "seed {seed} k {k}: local truncation wrapped only {} times",
                    mpc.cost().wrap_events
                );
            }
        }
    }

    /// Share-local truncation by 2^16 on |x| < 2^40: the result is ⌊x/d⌋ + B with
    /// P(B = 1) = frac(x/d), i.e. ≈ 0.125/0.375/0.625/0.875 per quarter of the fractional part.
    #[test]
    fn local_truncation_rounds_up_with_probability_frac() {
        let d = i128::from(S);
        for seed in [5u64, 0xF00D] {
            let mut r = rng(seed);
            let n = 40_000;
            let xs: Vec<i64> = (0..n)
                .map(|_| int_in(&mut r, -(1 << 40), 1 << 40))
                .collect();
            let mut ar = arena(0);
            let mut mpc = session(seed, TruncMode::Local, &mut ar);
            let mut x = share_ring(&mut mpc, &xs);
            mpc.div_int(&mut x, S as u64).unwrap();
            let got = open(&mpc, &x);
            let mut ups = [0.0f64; 4];
            let mut expect = [0.0f64; 4];
            let mut var = [0.0f64; 4];
            let mut count = [0usize; 4];
            for i in 0..n {
                let xi = i128::from(xs[i]);
                let fl = floor_div(xi, d);
                let b = i128::from(got[i]) - fl;
                assert!(
                    b == 0 || b == 1,
                    "seed {seed} [{i}]: x = {xi}: result {} is not ⌊x/d⌋ or ⌊x/d⌋ + 1",
                    got[i]
                );
                let frac = xi.rem_euclid(d) as f64 / d as f64;
                let q = ((frac * 4.0) as usize).min(3);
                ups[q] += b as f64;
                expect[q] += frac;
                var[q] += frac * (1.0 - frac);
                count[q] += 1;
            }
            for q in 0..4 {
                let rate = ups[q] / count[q] as f64;
                let nominal = 0.125 + 0.25 * q as f64;
                assert!(
                    within_sigma(ups[q], expect[q], var[q], 5.0),
                    "seed {seed} quarter {q}: {} of {} rounded up, law predicts {:.1} ± {:.1}",
                    ups[q],
                    count[q],
                    expect[q],
                    var[q].sqrt()
                );
                // The binomial 5σ band around the nominal quarter rate.
                let sigma = (nominal * (1.0 - nominal) / count[q] as f64).sqrt();
                assert!(
                    (rate - nominal).abs() <= 5.0 * sigma + 1.0 / count[q] as f64,
                    "seed {seed} quarter {q}: P(+1) = {rate:.4}, nominal {nominal}"
                );
            }
            assert_eq!(mpc.cost().wrap_events, 0, "seed {seed}");
            assert_eq!(mpc.cost().truncations, n as u64, "seed {seed}");
        }
    }

    /// Share-local truncation of |x| ∈ [2^60, 2^61]: wraps at rate (|x| + 1)/2^64 (5σ), each wrap
    /// is off by exactly −sign(x)·2^64/d up to the two share roundings (|residual| < 2 units),
    /// non-wrapped results are within 2 units, and `Cost::wrap_events` counts exactly the wraps
    /// observed in the revealed values.
    #[test]
    fn local_truncation_wraps_at_rate_abs_x_over_2_pow_64() {
        for seed in [11u64, 0xBAD5EED] {
            for k in [16u32, 20] {
                let d = 1i128 << k;
                let shift = (1i128 << 64) / d;
                let mut r = rng(seed ^ u64::from(k));
                let n = 20_000;
                let xs: Vec<i64> = (0..n)
                    .map(|_| {
                        let m = int_in(&mut r, 1 << 60, 1 << 61);
                        if r.next_u64() & 1 == 1 {
                            -m
                        } else {
                            m
                        }
                    })
                    .collect();
                let mut ar = arena(0);
                let mut mpc = session(seed, TruncMode::Local, &mut ar);
                let mut x = share_ring(&mut mpc, &xs);
                let before = mpc.cost();
                mpc.div_int(&mut x, 1u64 << k).unwrap();
                let delta = mpc.cost().since(&before);
                let got = open(&mpc, &x);
                let (mut wraps, mut expect, mut var) = (0u64, 0.0f64, 0.0f64);
                for i in 0..n {
                    let xi = i128::from(xs[i]);
                    let e = i128::from(got[i]) * d - xi;
                    let p = (xi.unsigned_abs() + 1) as f64 / 2f64.powi(64);
                    expect += p;
                    var += p * (1.0 - p);
                    if e.abs() > shift * d / 2 {
                        wraps += 1;
                        let residual = e + xi.signum() * shift * d;
                        assert!(
                            residual.abs() < 2 * d,
                            "seed {seed} k {k} [{i}]: x = {xi}, result {}: wrap error is not \
                             −sign(x)·2^64/d (residual {residual}/d)",
                            got[i]
                        );
                    } else {
                        assert!(
                            e.abs() < 2 * d,
                            "seed {seed} k {k} [{i}]: x = {xi}, result {}: error {e}/d",
                            got[i]
                        );
                    }
                }
                assert!(
                    within_sigma(wraps as f64, expect, var, 5.0),
                    "seed {seed} k {k}: {wraps} wraps, law |x|/2^64 predicts {expect:.1} ± {:.1}",
                    var.sqrt()
                );
                assert_eq!(
                    delta.wrap_events, wraps,
                    "seed {seed} k {k}: ledger wrap_events"
                );
                assert_eq!(delta.truncations, n as u64, "seed {seed} k {k}");
            }
        }
    }
}
