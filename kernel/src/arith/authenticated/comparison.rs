//! The authenticated comparison `[x < 0]`: every bit it computes is a MAC'd arithmetic share, so
//! every word it opens is checked like any other opening.
//!
//! # Method
//! Damgård, Escudero, Frederiksen, Keller, Scholl and Xing, *New Primitives for Actively-Secure
//! MPC over Rings with Applications to Private Machine Learning* (IEEE S&P 2019), §4: the sign
//! of a value of Z_2^64 from random bits shared (and MAC'd) in the large ring Z_2^(64+s), over
//! a public masked opening.
//!
//! 1. The dealer deals 64 MAC'd bits `[rᵢ]` of a uniform `r` per value (charged as shared
//!    random bits, [`crate::Cost::b2a_bits`]); `[r] = Σ 2^i·[rᵢ]` is local.
//! 2. One checked opening (`"ltz.open"`) of `c = x + r`; its low 64 bits are `x + r mod 2^64`
//!    whatever the shares' upper bits (the opening's `2^64·r'` mask included).
//! 3. `x = c − r mod 2^64`, so `msb(x) = c₆₃ ⊕ r₆₃ ⊕ b` with `b = [c mod 2^63 < r mod 2^63]`,
//!    the borrow out of bit 62 of the subtraction. With `c` public each bit's borrow generate
//!    `gᵢ = ¬cᵢ ∧ rᵢ` and propagate `pᵢ = (cᵢ = rᵢ)` are linear in `[rᵢ]`; segments combine as
//!    `(G, P) = (G_high + P_high·G_low, P_high·P_low)` (the sum is an OR: a segment that
//!    propagates everywhere generates nowhere), two products per combination. A balanced tree
//!    over the 63 leaves takes 6 levels (63 → 32 → 16 → 8 → 4 → 2 → 1), each one checked
//!    opening (`"ltz.carry"`) of all its products for all values.
//! 4. `a = c₆₃ ⊕ [r₆₃]` is linear; `a ⊕ b = a + b − 2ab`, one last product (`"ltz.xor"`).
//!
//! All products are of exact 0/1 integers (no truncation), so the result is exact: `[x < 0]`
//! as a MAC'd 0/1 share, for every `x` in Z_2^64 (tests: the ring's extremes and random words).
//!
//! # Cost
//! Per call on `n` values: 8 checked openings (each one round of 16-byte words, a commitment
//! round and a check round: 24 rounds), `125n` MAC'd triples (62 combinations of 2 products,
//! the XOR's 1), `64n` MAC'd random bits and `8` MAC checks; per party `4,016n` bytes of
//! opened words (16-byte words: `c`, then each combination's two `ε` and two `δ`, then the
//! XOR's) and 48 bytes per check. The passive comparison ([`crate::protocols::comparison`])
//! takes 8 rounds, `216n` bytes per party, `13n` AND-triple words and `n` B2A bits: measured
//! side by side in `tests` (108 values: 24 vs 8 rounds, 434,112 vs 23,328 bytes per party).
//!
//! # Reference
//! Damgård et al., S&P 2019 (eprint 2019/599), the comparison over Z_2^k with bits shared in
//! Z_2^k (their edaBit-free variant); the carry tree is the textbook prefix-borrow circuit
//! (Catrina and de Hoogh, *Improved primitives for secure multiparty integer computation*,
//! SCN 2010, `BitLT`). Which of the paper's variants MP-SPDZ runs is not checked here.

use super::{bilinear_need, deal, public, Auth, Authenticated};
use crate::error::{check_len, Error, Result};
use crate::protocols::beaver::Bilinear;
use crate::protocols::carve;

/// Bits of the mask below its top bit: the borrow tree's leaves.
const LOW: usize = 63;

/// Elements of comparison state per value: the leaves' `G` and `P`, and the products'
/// operands (at most `2·31` each per value).
const STATE: usize = 4 * LOW;

/// Products at the tree's widest level, per value: two per combination of 31 pairs.
const WIDEST: usize = 2 * (LOW / 2);

impl Authenticated<'_> {
    /// `(words, elems)` arena sizes for a comparison of `n` values ([`Arith::ltz`], hence ReLU
    /// and max), saturating.
    ///
    /// [`Arith::ltz`]: crate::arith::Arith::ltz
    pub const fn scratch_comparison(n: usize) -> (usize, usize) {
        let widest = n.saturating_mul(WIDEST);
        let (w, e) = bilinear_need(widest, widest, widest);
        // the opening of c: n opened words and 3n + 2 of the check's
        let open = n.saturating_mul(4).saturating_add(2);
        (
            if w > open { w } else { open },
            e.saturating_add(n.saturating_mul(STATE)),
        )
    }

    /// `out ← [x < 0]` (module doc).
    pub(super) fn compare(&mut self, x: &[Auth], out: &mut [Auth]) -> Result<()> {
        let n = x.len();
        check_len(n, out.len())?;
        if n == 0 {
            return Ok(());
        }
        self.ensure(Self::scratch_comparison(n))?;
        let all = core::mem::take(&mut self.elems);
        let done = self.compare_in(&mut *all, x, out);
        self.elems = all;
        done
    }

    fn compare_in(&mut self, all: &mut [Auth], x: &[Auth], out: &mut [Auth]) -> Result<()> {
        let n = x.len();
        let split = all
            .len()
            .checked_sub(STATE * n)
            .ok_or(Error::BufferTooSmall {
                needed: STATE * n,
                got: all.len(),
            })?;
        let (scratch, mut st) = all.split_at_mut(split);
        // g[i·n + e]: segment i of value e (first the mask's bits, then the leaves' G)
        let g = carve(&mut st, LOW * n);
        let p = carve(&mut st, LOW * n);
        let xs = carve(&mut st, LOW * n);
        let ys = carve(&mut st, LOW * n);
        let full = self.alpha();
        let alpha = self.ch.alpha;
        // 1. the dealer's bits: r₀..r₆₂ into g, r₆₃ into p[..n]; [x + r] into xs[..n]
        for e in 0..n {
            let r = self.ch.dealer.word::<i64>() as u64;
            let mut masked = x[e];
            for i in 0..64 {
                let bit = deal(&mut self.ch.dealer, full, i128::from((r >> i) & 1 == 1));
                masked = masked.add(bit.scale(1i128 << i));
                if i < LOW {
                    g[i * n + e] = bit;
                } else {
                    p[e] = bit;
                }
            }
            xs[e] = masked;
        }
        let cost = self.ch.net.cost_mut();
        cost.b2a_bits = cost.b2a_bits.wrapping_add(64 * n as u64);
        // 2. open c = x + r
        let (opened, tmp) = self.words.split_at_mut(n);
        self.ch.open("ltz.open", &xs[..n], opened, tmp)?;
        // 3. a = c₆₃ ⊕ r₆₃ into out; the leaves (G, P) from the public bits of c
        let one = public(alpha, 1);
        for e in 0..n {
            let c = self.words[e] as u64;
            out[e] = if c >> 63 == 1 { one.sub(p[e]) } else { p[e] };
            for i in 0..LOW {
                let r = g[i * n + e];
                let (gi, pi) = if (c >> i) & 1 == 1 {
                    (Auth::default(), r)
                } else {
                    (r, one.sub(r))
                };
                g[i * n + e] = gi;
                p[i * n + e] = pi;
            }
        }
        let mut m = LOW;
        while m > 1 {
            let pairs = m / 2;
            let k = pairs * n;
            for j in 0..pairs {
                for e in 0..n {
                    let (lo, hi) = ((2 * j) * n + e, (2 * j + 1) * n + e);
                    xs[j * n + e] = p[hi];
                    xs[k + j * n + e] = p[hi];
                    ys[j * n + e] = g[lo];
                    ys[k + j * n + e] = p[lo];
                }
            }
            let (xk, yk) = (&xs[..2 * k], &ys[..2 * k]);
            self.product_in(
                &mut *scratch,
                Bilinear::Elementwise,
                "ltz.carry",
                xk,
                yk,
                2 * k,
            )?;
            let res = &scratch[4 * k..6 * k];
            for j in 0..pairs {
                for e in 0..n {
                    let hi = (2 * j + 1) * n + e;
                    g[j * n + e] = g[hi].add(res[j * n + e]);
                    p[j * n + e] = res[k + j * n + e];
                }
            }
            if m % 2 == 1 {
                for e in 0..n {
                    g[pairs * n + e] = g[(m - 1) * n + e];
                    p[pairs * n + e] = p[(m - 1) * n + e];
                }
            }
            m = pairs + m % 2;
        }
        // 4. msb = a ⊕ b = a + b − 2ab
        self.product_in(
            &mut *scratch,
            Bilinear::Elementwise,
            "ltz.xor",
            out,
            &g[..n],
            n,
        )?;
        for e in 0..n {
            let ab = scratch[2 * n + e];
            out[e] = out[e].add(g[e]).sub(ab.scale(2));
        }
        Ok(())
    }
}
