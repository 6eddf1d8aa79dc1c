//! The helper-assisted DReLU whose helper view is simulatable: the MSB of a masked opening
//! with SecureNN's *private compare* ([`Comparison::PrivateCompare`](super::Comparison::PrivateCompare)).
//!
//! # Method
//! Per element, with `p` = [`PC_PRIME`] = 67 and `ℓ` = [`PC_BITS`] = 63:
//! 1. **The helper deals** (one round, from its own stream [`StreamId::Helper`](crate::seed::StreamId)):
//!    a uniform `r ∈ Z_2^64`, an additive sharing of `r` in `Z_2^64` and additive sharings in
//!    `Z_p` of the bits `r_0 … r_62` of `r' = r mod 2^63`. It keeps `r_63`.
//! 2. **Parties 0 and 1 open `c = x + r`** (one exchange). `c` is uniform; neither learns `x`.
//!    With `c' = c mod 2^63`: `x = c − r`, so the top bit of `x` is
//!    `msb(x) = c_63 ⊕ r_63 ⊕ [c' < r']` (the borrow out of the low 63 bits).
//! 3. **Private compare** (SecureNN, Algorithm 3), the public `c'` against the bit-shared `r'`:
//!    parties 0 and 1 draw from the stream they share ([`StreamId::Pair`](crate::seed::StreamId))
//!    a bit `β`, per bit position `i` a multiplier `s_i ∈ [1, p)`, a mask `u_i ∈ [0, p)` and a
//!    Fisher–Yates permutation `π` of the 63 positions. With `β = 0` they form shares of
//!    `e_i = c_i − r_i + 1 + Σ_{k>i} (r_k ⊕ c_k)` (zero exactly at the first bit, from the
//!    top, where `r'` has 1 and `c'` has 0: some `e_i = 0` iff `r' > c'`); with `β = 1` the same
//!    for `r' < c' + 1` (`e_i = −τ_i + r_i + 1 + Σ_{k>i} (r_k ⊕ τ_k)`, `τ = c' + 1`; for
//!    `c' = 2^63 − 1` a fixed vector with one zero). Each sends `s_i·⟨e_i⟩ ± u_i mod p` at
//!    position `π(i)` to the helper, which opens `d_i = s_i·e_i` and learns only
//!    `β' = [some d_i = 0] = β ⊕ [r' > c']`.
//! 4. **The helper deals back** `β' ⊕ r_63` (fresh additive sharing in `Z_2^64`, its own mask).
//!    Parties 0 and 1 XOR in the public `β ⊕ c_63` (linear: `s ← 1 − s` on party 0's share and
//!    `−s` on party 1's), which gives `msb(x)`; DReLU is `1 − msb(x)`, re-randomised with a
//!    mask from the pair stream so the helper does not know the output shares.
//!
//! **What the helper sees** (its view, own draws included): `r`, the shares it dealt, and per
//! element 63 values `d_{π(i)}` that are independent and uniform on `[1, p)` except that, when
//! `β' = 1`, one of them (at a uniformly random position) is 0; `β'` is uniform and independent
//! of `x` because `β` is. A simulator draws `β'` and such a vector: the view is simulatable.
//! Parties 0 and 1 see the helper's shares (uniform), `c` (uniform: `r` is) and the helper's
//! mask. **Not hidden**: nothing about `x` beyond its output; the protocol is semi-honest only
//! (a helper that lies about `β'` flips the bit undetected, as in SecureNN).
//!
//! # Cost
//! 4 rounds (dealing, opening, to the helper, back; the dealing round is input-independent
//! and could run offline). Party 0 and party 1 each send `64n` words (`n` for the opening,
//! `63n` for the compare); the helper sends `2·65n` words ([`Cost::helper_bytes`] `= 1040n`).
//! Each `Z_p` value travels as a 64-bit word here; a packed implementation sends one byte
//! each (`63n + 8n` bytes per party). No dealer material (no triples). Draws per element: the
//! helper's stream `66` (`r`, the share of `r`, 63 bit shares, its mask), the pair stream
//! `65` (`β`, one word per bit position giving `u_i`, `s_i` and the Fisher–Yates index by a
//! multiply-shift chain — bias below `2^−45` —, the output mask). With a `scratch` shorter than
//! [`PC_WORDS`]`·n` the elements run in blocks of `⌊scratch/PC_WORDS⌋`, 4 rounds each.
//!
//! # Error
//! Exact on the whole ring (`msb(x) = c_63 ⊕ r_63 ⊕ [c' < r']` is an identity), like the A2B
//! comparison; the tests check the edge words (`0`, `±1`, `i64::MIN`, `i64::MAX`) and random
//! ones.
//!
//! # Reference
//! Wagh, Gupta, Chandran, *SecureNN: 3-Party Secure Computation for Neural Network Training*,
//! PoPETs 2019 (3), Algorithm 3 (private compare: `p = 67`, the multipliers `s_i`, the
//! permutation, the blinding bit `β`) and Algorithm 5 (the helper deals the masked value's
//! bit sharings and the result is XOR-ed with what it learns). The MSB of a masked opening via
//! the borrow of the low bits is the identity of Makri, Rotaru, Vercauteren, Wagh, *Rabbit:
//! Efficient Comparison for Secure Multi-Party Computation*, FC 2021. SecureNN reaches the MSB
//! through a share conversion to the odd ring `Z_{2^64 − 1}`; here the borrow identity does it
//! in `Z_2^64` directly, and the helper folds `r_63` into the bit it deals back (it knows `r`),
//! which saves SecureNN's final multiplication **\[derived\]**.
//!
//! [`Cost::helper_bytes`]: crate::cost::Cost::helper_bytes

use super::HelperStreams;
use crate::error::{check_len, Result};
use crate::protocols::{carve, need};
use crate::share::Share;
use crate::wire::{Domain, Net};
use rand_core::RngCore;

/// The prime of the private compare (SecureNN's): larger than `ℓ + 2` so that no sum of the
/// compare wraps to 0 by accident.
pub const PC_PRIME: i64 = 67;

/// Bits compared (the low 63 bits of the opened word).
pub const PC_BITS: usize = 63;

/// Scratch words per element: the helper's dealing to each party (`2·64`), `β ⊕ c_63` and
/// the helper's `r_63`.
pub const PC_WORDS: usize = 2 * (PC_BITS + 1) + 2;

/// The protocol's name on the wire.
pub const PC_NAME: &str = "drelu.pc";

/// `⌊w·m / 2^64⌋` and `w·m mod 2^64`: one step of the multiply-shift chain that turns a
/// uniform word into a uniform value below `m` and a (nearly) uniform remainder word.
const fn mulhi(w: u64, m: u64) -> (u64, u64) {
    let t = (w as u128) * (m as u128);
    ((t >> 64) as u64, t as u64)
}

/// `v mod p` in `[0, p)`.
fn modp(v: i64) -> i64 {
    v.rem_euclid(PC_PRIME)
}

/// DReLU by masked opening and private compare (see the module doc).
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] unless `out` is as long as `x`, then
/// [`crate::Error::BufferTooSmall`] if `scratch` holds fewer than [`PC_WORDS`] words (for a
/// non-empty `x`); nothing is drawn or sent when it fails.
pub fn pc_drelu(
    net: &mut Net<'_>,
    streams: &mut HelperStreams,
    x: &[Share],
    out: &mut [Share],
    scratch: &mut [i64],
) -> Result<()> {
    let n = x.len();
    check_len(n, out.len())?;
    if n == 0 {
        return Ok(());
    }
    need(PC_WORDS, scratch.len())?;
    let block = (scratch.len() / PC_WORDS).min(n);
    let mut start = 0;
    while start < n {
        let end = (start + block).min(n);
        pc_block(net, streams, &x[start..end], &mut out[start..end], scratch)?;
        start = end;
    }
    Ok(())
}

/// One block of [`pc_drelu`] (`scratch` holds `PC_WORDS·x.len()` words).
fn pc_block(
    net: &mut Net<'_>,
    streams: &mut HelperStreams,
    x: &[Share],
    out: &mut [Share],
    mut scratch: &mut [i64],
) -> Result<()> {
    let b = x.len();
    need(PC_WORDS.saturating_mul(b), scratch.len())?;
    let m0 = carve(&mut scratch, (PC_BITS + 1) * b);
    let m1 = carve(&mut scratch, (PC_BITS + 1) * b);
    let q = carve(&mut scratch, b);
    let r63 = carve(&mut scratch, b);

    // 1. The helper deals: per element r, its share for party 0, then the 63 bit shares.
    {
        let h = &mut streams.helper;
        let (s0, t0) = m0.split_at_mut(b);
        let (s1, t1) = m1.split_at_mut(b);
        for e in 0..b {
            let r = h.next_u64();
            r63[e] = (r >> 63) as i64;
            s0[e] = h.next_u64() as i64;
            s1[e] = (r as i64).wrapping_sub(s0[e]);
            for i in 0..PC_BITS {
                let t = mulhi(h.next_u64(), PC_PRIME as u64).0 as i64;
                let bit = ((r >> i) & 1) as i64;
                t0[e * PC_BITS + i] = t;
                t1[e * PC_BITS + i] = modp(bit - t);
            }
        }
    }
    net.from_helper(PC_NAME, Domain::Arithmetic, m0, m1)?;

    // 2. Open c = x + r.
    {
        let (c0, _) = m0.split_at_mut(b);
        let (c1, _) = m1.split_at_mut(b);
        for e in 0..b {
            c0[e] = x[e][0].wrapping_add(c0[e]);
            c1[e] = x[e][1].wrapping_add(c1[e]);
        }
        net.exchange(PC_NAME, Domain::Arithmetic, c0, c1)?;
    }

    // 3. Private compare of c' against the bit-shared r', messages in place of the bit shares.
    {
        let pair = &mut streams.pair;
        let (c, t0) = m0.split_at_mut(b);
        let (_, t1) = m1.split_at_mut(b);
        for e in 0..b {
            let cw = c[e] as u64;
            let beta = pair.next_u64() & 1;
            q[e] = (beta ^ (cw >> 63)) as i64;
            let cl = cw & (u64::MAX >> 1);
            let mut u = [0i64; PC_BITS];
            let mut s = [0i64; PC_BITS];
            let mut pos = [0usize; PC_BITS];
            for (i, p) in pos.iter_mut().enumerate() {
                *p = i;
            }
            for i in 0..PC_BITS {
                let (ui, rest) = mulhi(pair.next_u64(), PC_PRIME as u64);
                let (si, rest) = mulhi(rest, PC_PRIME as u64 - 1);
                let (j, _) = mulhi(rest, i as u64 + 1);
                u[i] = ui as i64;
                s[i] = si as i64 + 1;
                pos.swap(i, j as usize);
            }
            let t0e = &mut t0[e * PC_BITS..(e + 1) * PC_BITS];
            let t1e = &mut t1[e * PC_BITS..(e + 1) * PC_BITS];
            let mut e0 = [0i64; PC_BITS];
            let mut e1 = [0i64; PC_BITS];
            if beta == 1 && cl == u64::MAX >> 1 {
                // r' ≤ c' always: one zero (position 0), the rest 1.
                for (i, v) in e0.iter_mut().enumerate() {
                    *v = i64::from(i != 0);
                }
            } else {
                let (pubw, sign) = if beta == 0 { (cl, 1) } else { (cl + 1, -1) };
                let (mut sum0, mut sum1) = (0i64, 0i64);
                for i in (0..PC_BITS).rev() {
                    let pb = ((pubw >> i) & 1) as i64;
                    let (a0, a1) = (t0e[i], t1e[i]);
                    // Shares of pb − r_i + 1 (β = 0) or −pb + r_i + 1 (β = 1), plus the prefix.
                    e0[i] = modp(-sign * a0 + sum0);
                    e1[i] = modp(sign * pb - sign * a1 + 1 + sum1);
                    // Shares of r_i ⊕ pb.
                    sum0 = modp(sum0 + a0 - 2 * pb * a0);
                    sum1 = modp(sum1 + a1 + pb - 2 * pb * a1);
                }
            }
            for i in 0..PC_BITS {
                t0e[pos[i]] = modp(s[i] * e0[i] + u[i]);
                t1e[pos[i]] = modp(s[i] * e1[i] - u[i]);
            }
        }
        net.to_helper(PC_NAME, Domain::Arithmetic, t0, t1)?;
    }

    // 4. The helper: β' = [some d = 0]; deals β' ⊕ r_63 with its own mask.
    {
        let (h0, t0) = m0.split_at_mut(b);
        let (h1, t1) = m1.split_at_mut(b);
        for e in 0..b {
            let zero = (e * PC_BITS..(e + 1) * PC_BITS).any(|k| modp(t0[k] + t1[k]) == 0);
            let v = i64::from(zero) ^ r63[e];
            let mask = streams.helper.next_u64() as i64;
            h0[e] = mask;
            h1[e] = v.wrapping_sub(mask);
        }
        net.from_helper(PC_NAME, Domain::Arithmetic, h0, h1)?;
        // Parties 0 and 1: msb = v ⊕ (β ⊕ c_63), DReLU = 1 − msb, re-randomised.
        for e in 0..b {
            let mut s = [h0[e], h1[e]];
            if q[e] == 0 {
                s = [1i64.wrapping_sub(s[0]), s[1].wrapping_neg()];
            }
            let mask = streams.pair.next_u64() as i64;
            out[e] = [s[0].wrapping_add(mask), s[1].wrapping_sub(mask)];
        }
    }
    Ok(())
}
