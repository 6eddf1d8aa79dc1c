//! DReLU (`[x ≥ 0]`) four ways: the project's A2B comparison, and three helper-assisted
//! three-party protocols — a *leaky* one that shows the helper the sign of every input, as
//! SCSDF's DReLU does, a *sign-hidden* one that hides the signs but not the magnitudes, and
//! SecureNN's *private compare* ([`private_compare`]), whose helper view is simulatable — plus
//! a piecewise-linear sigmoid built from `m` DReLUs.
//!
//! # Provenance
//! SCSDF (Shen, Chen, Shi, Dong, Fang, ESORICS 2020) builds every nonlinear activation on a
//! DReLU in which a third, assisting party learns the sign of each input (Wei, Zhu, Cui, Li, Li,
//! ESORICS 2022) **\[src\]**. SCSDF's exact message flow, its sigmoid and Wei et al.'s
//! countermeasure are **\[not found\]** (research note `attacks-and-leakage.md` §2.1). The two
//! helper protocols below are the note's *reference model* of that leak and of a sign-hiding
//! fix (§2.2) **\[derived\]**: they have the documented leakage, and are not SCSDF's text.
//!
//! # Method
//! * [`Comparison::A2b`]: `1 − ltz(x)` with [`comparison::ltz`] (A2B adder, B2A). The helper
//!   takes no part; its view is empty.
//! * [`Comparison::Leaky`]: parties 0 and 1 draw, from the stream they share and the helper
//!   does not know ([`StreamId::Pair`]), a multiplier `ρ ∈ [1, 2^16]` and a mask `m` per
//!   element. Party 0 sends `ρ·(2x₀ + 1) + m`, party 1 sends `ρ·2x₁ − m` to the helper, which
//!   opens `u = ρ·(2x + 1)` — never 0, and `u ≥ 0` exactly when `x ≥ 0` for `|x| < 2^45` (the
//!   `2x + 1` settles the tie at 0 the way `ltz` does) — and deals back a fresh sharing of
//!   `d = [u ≥ 0]` with a mask from its own stream ([`StreamId::Helper`]). Parties 0 and 1
//!   re-randomise the sharing with one more shared mask, so the helper does not know their
//!   output shares. **Leak**: the helper learns `u`: the sign of `x` exactly and `|x|` up to
//!   the unknown factor `ρ`.
//! * [`Comparison::SignHidden`]: as `Leaky`, but the parties also draw a sign `t ∈ {±1}` per
//!   element and a permutation `π` of the batch (Fisher–Yates), send the messages of element
//!   `i` at position `π(i)` multiplied by `t`, un-permute the replies and, where `t = −1`,
//!   replace `d` by `1 − d`. The helper's view is a uniformly random sign pattern in a random
//!   order. **What it still leaks**: `|u| = ρ·|2x + 1|`, the magnitudes up to `ρ` (the note:
//!   "sign blinding alone still leaks |v| up to ρ"). The audit ([`crate::leak::audit`]) finds
//!   exactly that: it passes the secret pairs that differ in sign only and flags those that
//!   differ in magnitude.
//! * [`Comparison::PrivateCompare`]: see [`private_compare`]: the parties open `x + r` for a
//!   mask `r` the helper dealt, and the helper only tests masked, permuted values mod 67 for a
//!   zero whose meaning is XOR-blinded by a bit it does not know. Its view is simulatable; the
//!   audit passes it on every pair.
//!
//! # Cost
//! * `A2b`: [`comparison::ltz`]'s: 8 rounds, `13n` AND word-triples, `n` B2A bits, `27n` words
//!   per party.
//! * `Leaky`, `SignHidden`: 2 rounds (to the helper, back); parties 0 and 1 send `n` words each
//!   (8n bytes each), the helper sends `2n` words (16n bytes, [`Cost::helper_bytes`]); no dealer
//!   material. Draws from the pair stream: `2n` (+ `n` signs and `n − 1` permutation draws when
//!   hidden) before sending, `n` re-sharing masks after; `n` from the helper's stream.
//! * `PrivateCompare`: 4 rounds; `64n` words per party, `130n` words from the helper; no dealer
//!   material ([`private_compare`]).
//! * [`piecewise_sigmoid`] with `m` breakpoints on `n` values: one DReLU batch of `m·n`
//!   elements, one truncation per `m·n` (the slopes), one round of `m·n` elementwise Beaver
//!   products (unscaled, no truncation).
//!
//! # Error
//! `A2b`, `PrivateCompare`: exact on the whole ring. `Leaky`, `SignHidden`: exact for `|x| < 2^45` ring units
//! (2^29 at 16 fractional bits); beyond, `ρ·(2x + 1)` may wrap and the bit may be wrong.
//! [`piecewise_sigmoid`]: its DReLU bits are exact; each segment's line costs one truncation
//! (the slope product), so the result is within a few units of the last place of the
//! `f64` reference [`piecewise_sigmoid_f64`] (the tests allow 10⁻³ at 16 fractional bits).
//!
//! # Reference
//! The leakage model: research note §2.2 **\[derived\]**; SCSDF, DOI 10.1007/978-3-030-58951-6_21;
//! Wei et al., DOI 10.1007/978-3-031-17140-6_7.
//!
//! [`Cost::helper_bytes`]: crate::cost::Cost::helper_bytes

use super::{carve, comparison, need};
use crate::arith::Arith;
use crate::dealer::Dealer;
use crate::error::{check_len, Error, Result};
use crate::seed::{self, stream, StreamId, Xoshiro256PlusPlus};
use crate::share::Share;
use crate::wire::{Domain, Net};
use rand_core::RngCore;

/// How a session computes comparisons (DReLU and `ltz`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Comparison {
    /// The two-party A2B comparison ([`comparison::ltz`]), CrypTen's (the default).
    #[default]
    A2b,
    /// The helper-assisted DReLU that shows the helper every sign (the SCSDF leak's reference
    /// model).
    Leaky,
    /// The helper-assisted DReLU with random sign flips and a random permutation.
    SignHidden,
    /// The helper-assisted DReLU whose helper view is simulatable: the MSB of a masked opening
    /// with SecureNN's private compare ([`private_compare`]).
    PrivateCompare,
}

impl Comparison {
    /// All four, in the order reports list them.
    pub const ALL: [Comparison; 4] = [
        Comparison::A2b,
        Comparison::Leaky,
        Comparison::SignHidden,
        Comparison::PrivateCompare,
    ];

    /// The name used on command lines and in result files (`a2b`, `leaky`, `hidden`, `pc`).
    pub const fn name(self) -> &'static str {
        match self {
            Comparison::A2b => "a2b",
            Comparison::Leaky => "leaky",
            Comparison::SignHidden => "hidden",
            Comparison::PrivateCompare => "pc",
        }
    }

    /// The comparison called `name`.
    pub fn by_name(name: &str) -> Option<Comparison> {
        Comparison::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether the helper party takes part.
    pub const fn uses_helper(self) -> bool {
        !matches!(self, Comparison::A2b)
    }
}

/// The randomness of the helper-assisted protocols: the stream parties 0 and 1 share
/// ([`StreamId::Pair`]) and the helper's own ([`StreamId::Helper`]).
#[derive(Clone, Debug)]
pub struct HelperStreams {
    pair: Xoshiro256PlusPlus,
    helper: Xoshiro256PlusPlus,
}

impl HelperStreams {
    /// The streams of the session seeded `seed`.
    pub fn new(seed: u64) -> Self {
        HelperStreams {
            pair: stream(seed, StreamId::Pair),
            helper: stream(seed, StreamId::Helper),
        }
    }
}

impl HelperStreams {
    /// The raw words the stream `party` knows drew between `before` and `self` (parties 0 and
    /// 1: the pair stream; the [`HELPER`](crate::wire::HELPER): its own), into `out`: the
    /// party's own randomness, as MPCGuard's views log each random draw. `None` if more than
    /// `out.len()` words were drawn (or `self` is not a later state of `before`).
    pub fn draws_since(
        &self,
        before: &HelperStreams,
        party: usize,
        out: &mut [i64],
    ) -> Option<usize> {
        let (mut g, now) = if party < 2 {
            (before.pair.clone(), &self.pair)
        } else {
            (before.helper.clone(), &self.helper)
        };
        for (k, o) in out.iter_mut().enumerate() {
            if g == *now {
                return Some(k);
            }
            *o = g.next_u64() as i64;
        }
        (g == *now).then_some(out.len())
    }
}

/// Bits of the multiplier `ρ` (drawn in `[1, 2^RHO_BITS]`).
pub const RHO_BITS: u32 = 16;

/// The helper protocols are exact for ring values with `|x| < 2^INPUT_BITS`.
pub const INPUT_BITS: u32 = 63 - RHO_BITS - 2;

/// Scratch words [`drelu`] needs for `n` elements in any mode (saturating at `usize::MAX`).
pub const fn scratch_words_drelu(n: usize) -> usize {
    let helper = n.saturating_mul(private_compare::PC_WORDS);
    let a2b = comparison::scratch_words_ltz(n);
    if helper > a2b {
        helper
    } else {
        a2b
    }
}

/// `out = [x ≥ 0]`, an additive sharing of the integer 0 or 1 (scale 1), by `mode`.
///
/// # Errors
/// [`Error::ShapeMismatch`] unless `out` is as long as `x`, then [`Error::BufferTooSmall`] if
/// `scratch` is shorter than the mode needs ([`comparison::scratch_words_ltz`] for `A2b`, `4n`
/// for `Leaky` and `SignHidden`, [`private_compare::PC_WORDS`] for `PrivateCompare`, which runs
/// in blocks when given less than `PC_WORDS·n`); nothing is drawn or sent when it fails.
#[allow(clippy::too_many_arguments)]
pub fn drelu(
    net: &mut Net<'_>,
    dealer: &mut Dealer,
    przs: &mut Xoshiro256PlusPlus,
    streams: &mut HelperStreams,
    mode: Comparison,
    x: &[Share],
    out: &mut [Share],
    scratch: &mut [i64],
) -> Result<()> {
    match mode {
        Comparison::A2b => {
            comparison::ltz(net, dealer, przs, x, out, scratch)?;
            one_minus(out);
            Ok(())
        }
        Comparison::Leaky => helper_drelu(net, streams, false, x, out, scratch),
        Comparison::SignHidden => helper_drelu(net, streams, true, x, out, scratch),
        Comparison::PrivateCompare => private_compare::pc_drelu(net, streams, x, out, scratch),
    }
}

/// `s ← 1 − s` on sharings of bits (party 0 holds the public 1).
pub(crate) fn one_minus(s: &mut [Share]) {
    for o in s {
        *o = [1i64.wrapping_sub(o[0]), o[1].wrapping_neg()];
    }
}

/// The helper-assisted DReLU (see the module doc), `hide` selecting the sign-hidden variant.
///
/// # Errors
/// As [`drelu`].
pub fn helper_drelu(
    net: &mut Net<'_>,
    streams: &mut HelperStreams,
    hide: bool,
    x: &[Share],
    out: &mut [Share],
    mut scratch: &mut [i64],
) -> Result<()> {
    let n = x.len();
    check_len(n, out.len())?;
    need(n.saturating_mul(4), scratch.len())?;
    let m0 = carve(&mut scratch, n);
    let m1 = carve(&mut scratch, n);
    let pos = carve(&mut scratch, n);
    let flip = carve(&mut scratch, n);
    let pair = &mut streams.pair;

    // Parties 0 and 1: the permutation first (identity when not hiding), then per element ρ,
    // the mask and (hiding) the sign, in element order.
    for (i, p) in pos.iter_mut().enumerate() {
        *p = i as i64;
    }
    if hide {
        for i in (1..n).rev() {
            let j = seed::below(pair, i as u64 + 1) as usize;
            pos.swap(i, j);
        }
    }
    for i in 0..n {
        let rho = 1i64.wrapping_add((pair.next_u64() >> (64 - RHO_BITS)) as i64);
        let mask = pair.next_u64() as i64;
        let t = if hide && pair.next_u64() & 1 == 1 {
            -1i64
        } else {
            1
        };
        flip[i] = i64::from(t < 0);
        let k = pos[i] as usize;
        let a = x[i][0].wrapping_mul(2).wrapping_add(1);
        let b = x[i][1].wrapping_mul(2);
        m0[k] = rho.wrapping_mul(t).wrapping_mul(a).wrapping_add(mask);
        m1[k] = rho.wrapping_mul(t).wrapping_mul(b).wrapping_sub(mask);
    }
    let protocol = if hide { "drelu.hidden" } else { "drelu.leaky" };
    net.to_helper(protocol, Domain::Arithmetic, m0, m1)?;

    // The helper: open u, deal [u ≥ 0] back with its own mask.
    for k in 0..n {
        let u = m0[k].wrapping_add(m1[k]);
        let d = i64::from(u >= 0);
        let r = streams.helper.next_u64() as i64;
        m0[k] = r;
        m1[k] = d.wrapping_sub(r);
    }
    net.from_helper(protocol, Domain::Arithmetic, m0, m1)?;

    // Parties 0 and 1: re-share, un-permute, undo the flips.
    for i in 0..n {
        let k = pos[i] as usize;
        let mask = pair.next_u64() as i64;
        let mut s = [m0[k].wrapping_add(mask), m1[k].wrapping_sub(mask)];
        if flip[i] == 1 {
            s = [1i64.wrapping_sub(s[0]), s[1].wrapping_neg()];
        }
        out[i] = s;
    }
    Ok(())
}

/// Elements [`piecewise_sigmoid`] needs in `scratch` for `n` values and `m` breakpoints.
pub const fn scratch_elems_piecewise(n: usize, m: usize) -> usize {
    n.saturating_mul(m).saturating_mul(2)
}

/// Most breakpoints a piecewise sigmoid takes.
pub const BREAKPOINTS_MAX: usize = 64;

/// Checks breakpoints: 1 to [`BREAKPOINTS_MAX`], finite, strictly increasing.
///
/// # Errors
/// [`Error::OutOfRange`] otherwise.
pub fn check_breakpoints(c: &[f64]) -> Result<()> {
    if c.is_empty() || c.len() > BREAKPOINTS_MAX {
        return Err(Error::OutOfRange {
            what: "sigmoid breakpoints: give 1 to 64",
        });
    }
    if c.iter().any(|v| !v.is_finite()) || c.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::OutOfRange {
            what: "sigmoid breakpoints must be finite and strictly increasing",
        });
    }
    Ok(())
}

/// The logistic function in `f64` (libm only).
fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

/// The piecewise-linear sigmoid of breakpoints `c₁ < … < c_m` in plain `f64`: `σ(c₁)` below
/// `c₁`, `σ(c_m)` above `c_m`, the chord of `σ` between consecutive breakpoints. The reference
/// for [`piecewise_sigmoid`] (which computes the same function in any arithmetic).
pub fn piecewise_sigmoid_f64(c: &[f64], x: f64) -> f64 {
    let (Some(&first), Some(&last)) = (c.first(), c.last()) else {
        return f64::NAN;
    };
    if x < first {
        return logistic(first);
    }
    if x >= last {
        return logistic(last);
    }
    let k = c.iter().rposition(|&ck| x >= ck).unwrap_or(0);
    let (a, b) = (c[k], c[(k + 1).min(c.len() - 1)]);
    let (fa, fb) = (logistic(a), logistic(b));
    fa + (fb - fa) * (x - a) / (b - a)
}

/// Segment `k` (0..=m) of the piecewise sigmoid as `(slope, intercept)`.
fn segment(c: &[f64], k: usize) -> (f64, f64) {
    let m = c.len();
    if k == 0 {
        return (0.0, logistic(c[0]));
    }
    if k >= m {
        return (0.0, logistic(c[m - 1]));
    }
    let (a, b) = (c[k - 1], c[k]);
    let slope = (logistic(b) - logistic(a)) / (b - a);
    (slope, logistic(a) - slope * a)
}

/// The piecewise-linear sigmoid of [`piecewise_sigmoid_f64`], in place, in any arithmetic:
/// `σ(c₁) + Σ_k [x ≥ c_k]·(g_k(x) − g_{k−1}(x))`, `g_k` the line of segment `k`. The `m` DReLUs
/// `[x − c_k ≥ 0]` run as one batch of `m·n` comparisons — in [`Shared`](crate::Shared) through
/// the session's [`Comparison`], so with a helper protocol the helper sees `m` values per
/// input: which of the `m + 1` intervals it falls in.
///
/// `scratch` holds at least [`scratch_elems_piecewise`] elements; its first `m·n` hold, on
/// return, the DReLU bits (breakpoint-major: all of `c₁`, then `c₂`, …).
///
/// # Errors
/// [`check_breakpoints`]'s; [`Error::BufferTooSmall`] for a short `scratch` (nothing computed
/// then); the arithmetic's.
pub fn piecewise_sigmoid<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    c: &[f64],
    scratch: &mut [A::Elem],
) -> Result<()> {
    check_breakpoints(c)?;
    let (n, m) = (x.len(), c.len());
    let mn = n.saturating_mul(m);
    need(scratch_elems_piecewise(n, m), scratch.len())?;
    let (bits, rest) = scratch.split_at_mut(mn);
    let lin = &mut rest[..mn];
    for (k, &ck) in c.iter().enumerate() {
        let d = &mut lin[k * n..(k + 1) * n];
        d.copy_from_slice(x);
        a.add_const(d, -ck)?;
    }
    super::select::gez(a, lin, bits)?;
    // lin_k = (slope_k − slope_{k−1})·x + (icpt_k − icpt_{k−1}) for k = 1..=m.
    for k in 0..m {
        let (s1, i1) = segment(c, k + 1);
        let (s0, i0) = segment(c, k);
        let d = &mut lin[k * n..(k + 1) * n];
        d.copy_from_slice(x);
        a.mul_const(d, s1 - s0)?;
        a.add_const(d, i1 - i0)?;
    }
    a.mul_unscaled(lin, bits)?;
    a.fill_const(x, logistic(c[0]))?;
    for k in 0..m {
        a.add(x, &lin[k * n..(k + 1) * n])?;
    }
    Ok(())
}

pub mod private_compare;

#[cfg(test)]
mod tests;
