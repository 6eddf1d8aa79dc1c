//! Two-party authenticated sharing with SPDZ2k-style information-theoretic MACs: the opt-in
//! active-security mode, in which a party that changes an opened word is caught.
//!
//! # Method
//! Values live in Z_2^64 (the format's ring, as in [`super::Shared`]); shares and MACs live in
//! Z_2^(64+s) for a statistical parameter `1 ≤ s ≤ 64` (Cramer, Damgård, Escudero, Scholl and
//! Xing, *SPDZ2k*, CRYPTO 2018), held in `i128` words: every identity below holds mod 2^128,
//! hence mod 2^(64+s), which divides it. The dealer holds the MAC key `α = α₀ + α₁`, `αᵢ`
//! uniform in Z_2^s and known to party `i`; every shared value `x` comes with MAC shares `mᵢ`,
//! `m₀ + m₁ = α·x̃ mod 2^(64+s)`, where `x̃` is `x` plus some multiple of 2^64 (the upper bits
//! carry no meaning).
//!
//! * **Linear operations** (local, free): on shares and MAC shares alike; a public constant `c`
//!   enters as party 0's share and `αᵢ·c` in each MAC share.
//! * **Openings** (every reveal, every Beaver `ε`/`δ` batch, every truncation's `z`): MP-SPDZ's
//!   `MAC_Check_Z2k`. Each opened value first gets `2^64·r` added for a fresh dealt `r`
//!   (`prepare_open`: the upper `s` bits of the opened word are uniform), then one round opens
//!   the words through the [`Net`], where a [`Wire`] may change them. Then the batch check:
//!   challenges `χⱼ` uniform in Z_2^s from a public coin ([`challenge`]) tossed after the
//!   openings, `y = Σ χⱼ·ỹⱼ`, each party `zᵢ = Σ χⱼ·mⱼ,ᵢ − αᵢ·y`, a commitment round and an
//!   opening round of the `zᵢ` (message `"mac.check"`, one word per party), and an abort
//!   ([`Error::MacCheckFailed`]) unless `z₀ + z₁ ≡ 0 mod 2^(64+s)`.
//! * **Products**: Beaver with MAC'd triples, `z = c + ε·b + a·δ + ε·δ` with MAC shares
//!   `m(c) + ε·m(b) + m(a)·δ + αᵢ·ε·δ`, for elementwise, matrix and convolution products alike.
//! * **Truncation**: the dealer's only (MACs do not survive share-local division): a MAC'd
//!   tuple `[r], [r ≫ f], [msb r]`, the checked opening of `x + 2^62 − r`, then the public
//!   quotient and the tuple combined linearly, as [`crate::protocols::truncation`]'s dealer
//!   mode. Division by a public integer that is not a power of two is refused.
//! * **Comparisons** (`ltz`, hence ReLU and max): over MAC'd bits ([`comparison`]): 64 dealt
//!   MAC'd random bits per value, a checked opening of `x + r`, a borrow tree of MAC'd
//!   products and a last XOR, every opening checked (Damgård et al., S&P 2019). A party that
//!   changes any of its words (the toggle of the passive protocol's `"ltz.b2a"` opening
//!   included) is caught like anywhere else.
//! * **SPU's bit normalisation** (`msb_map`) is an ideal functionality here: the dealer
//!   returns a fresh MAC'd sharing of the exact result, charged as the passive comparison.
//!   **A gap**: it has no messages to tamper with in this mode. CrypTen's approximations
//!   never call it; SPU's reciprocal and rsqrt do, so under SPU's approximations this mode
//!   does not cover their normalisation step.
//! * **Inputs**: the dealer deals the owner a MAC'd `[r]` with `r` known to it and the owner
//!   broadcasts `x − r`: one round, charged, not shown to the wire (the owner's own input is
//!   its to choose).
//!
//! # Cost
//! Per opening batch of `n` values: one round of `n` 16-byte words per party, then the check's
//! commitment round (a 32-byte hash per party) and its opening round (one word per party);
//! `n` dealt masks. A product: one opening batch (`ε`, `δ`) and one MAC'd triple per element
//! (one matrix triple for a matrix or convolution product), then one truncation batch (a MAC'd
//! tuple per element). A comparison of `n` values: 8 checked openings (24 rounds), `125n`
//! MAC'd triples and `64n` MAC'd bits ([`comparison`]). [`Authenticated::checks`] counts the
//! MAC checks; the rest is in
//! [`Authenticated::cost`]. `tests` measure the overhead against the passive protocol.
//!
//! # Error
//! The values are those of [`super::Shared`] with dealer truncation: exact products and a
//! truncation that rounds down or up by one unit, in Z_2^64.
//!
//! A tampered opening of a value by `δ ≢ 0 mod 2^64` passes the check only if the adversary
//! also corrects its check word by `χ·α·δ`, that is, guesses the honest party's key share:
//! probability `2^−s` with one checked value; batched with random `χ`, at most `(s + 1)·2^−s`
//! (research note `attacks-and-leakage.md` §3.2, **derived**; the SPDZ2k paper's own statement
//! of the batched bound is not checked here). Measured (`authenticated/tests.rs`, 20,000
//! sessions each, one tampered reveal, the adversary guessing uniformly): at s = 8, 0.885 % of
//! forgeries pass for δ = 1 and δ = 2^40 (the right guess, 2^−8 = 0.39 %, or a zero
//! challenge), 1.365 % for δ = 2^63 (even challenges help), all below the bound 9·2^−8 =
//! 3.5 %; at s = 64, none of 2,000. One product of 10 values and its truncation: passive
//! (dealer truncation) 2 rounds and 240 bytes per party, authenticated 6 rounds and 576 bytes,
//! the same triples and tuples.
//!
//! # Reference
//! Cramer et al., SPDZ2k (eprint 2018/482); MP-SPDZ `Protocols/MAC_Check.hpp: MAC_Check_Z2k`
//! (`prepare_open`, `Check`); `../shared/research/attacks-and-leakage.md` §3.2–3.3.

use super::{Arith, ArithKind};
use crate::cost::Cost;
use crate::dealer::Dealer;
use crate::error::{check_len, Error, Result};
use crate::fixed::FixedPoint;
use crate::linalg::{conv2d_acc, matmul_acc, mul_acc, Conv2dShape, MatShape};
use crate::protocols::beaver::Bilinear;
use crate::protocols::carve;
use crate::seed::splitmix64;
use crate::wire::{Domain, Net, Wire};

/// One authenticated shared value: both parties' shares and their MAC shares.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Auth {
    /// The additive shares: their sum is the value mod 2^64 (plus a multiple of 2^64).
    pub x: [i128; 2],
    /// The MAC shares: `m[0] + m[1] = α·(x[0] + x[1]) mod 2^(64+s)`.
    pub m: [i128; 2],
}

impl Auth {
    fn add(self, o: Auth) -> Auth {
        Auth {
            x: [
                self.x[0].wrapping_add(o.x[0]),
                self.x[1].wrapping_add(o.x[1]),
            ],
            m: [
                self.m[0].wrapping_add(o.m[0]),
                self.m[1].wrapping_add(o.m[1]),
            ],
        }
    }

    fn sub(self, o: Auth) -> Auth {
        Auth {
            x: [
                self.x[0].wrapping_sub(o.x[0]),
                self.x[1].wrapping_sub(o.x[1]),
            ],
            m: [
                self.m[0].wrapping_sub(o.m[0]),
                self.m[1].wrapping_sub(o.m[1]),
            ],
        }
    }

    fn scale(self, k: i128) -> Auth {
        Auth {
            x: [self.x[0].wrapping_mul(k), self.x[1].wrapping_mul(k)],
            m: [self.m[0].wrapping_mul(k), self.m[1].wrapping_mul(k)],
        }
    }

    /// Component `c`: 0 and 1 the shares, 2 and 3 the MAC shares.
    fn get(&self, c: usize) -> i128 {
        match c {
            0 => self.x[0],
            1 => self.x[1],
            2 => self.m[0],
            _ => self.m[1],
        }
    }

    fn set(&mut self, c: usize, v: i128) {
        match c {
            0 => self.x[0] = v,
            1 => self.x[1] = v,
            2 => self.m[0] = v,
            _ => self.m[1] = v,
        }
    }
}

/// The largest statistical parameter: shares and MACs then fill Z_2^128.
pub const S_MAX: u32 = 64;

/// Challenge `j` of MAC check number `check` of the session seeded `seed`, uniform in
/// Z_2^s: the public coin both parties toss after a batch is opened (modelled as a hash of
/// the seed and the check's position, public once tossed; an adversary choosing its check
/// word may read it, as it could after the real coin toss).
pub fn challenge(seed: u64, check: u64, j: usize, s: u32) -> i128 {
    let h = splitmix64(
        splitmix64(seed ^ 0xC0C0_A5A5_0F0F_5A5A).wrapping_add(splitmix64(check))
            ^ (j as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    i128::from(h.checked_shr(64 - s.clamp(1, 64)).unwrap_or(h))
}

/// Whether `v ≡ 0 mod 2^(64+s)`.
fn vanishes(v: i128, s: u32) -> bool {
    let bits = 64 + s.min(S_MAX);
    if bits >= 128 {
        v == 0
    } else {
        (v as u128) & ((1u128 << bits) - 1) == 0
    }
}

/// An authenticated two-party session (module doc): the dealer and its MAC key, the channel,
/// and two arenas (ring words and authenticated elements).
pub struct Authenticated<'a> {
    fp: FixedPoint,
    ch: Channel<'a>,
    words: &'a mut [i128],
    elems: &'a mut [Auth],
}

impl core::fmt::Debug for Authenticated<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Authenticated")
            .field("fp", &self.fp)
            .field("s", &self.ch.s)
            .field("net", &self.ch.net)
            .field("checks", &self.ch.checks)
            .finish()
    }
}

/// What an opening batch needs besides its buffers: the channel, the dealer and its MAC key,
/// the coin's seed and the checks so far.
struct Channel<'n> {
    net: Net<'n>,
    dealer: Dealer,
    alpha: [i128; 2],
    s: u32,
    seed: u64,
    checks: u64,
}

impl Channel<'_> {
    /// Opens `x` as one checked batch named `protocol` into `out` (each word the value plus
    /// `2^64·r`), with `tmp` (at least `3n + 2` words) as its arena; aborts with
    /// [`Error::MacCheckFailed`] if the check fails.
    fn open(
        &mut self,
        protocol: &'static str,
        x: &[Auth],
        out: &mut [i128],
        mut tmp: &mut [i128],
    ) -> Result<()> {
        let n = x.len();
        check_len(n, out.len())?;
        if tmp.len() < 3 * n + 2 {
            return Err(Error::BufferTooSmall {
                needed: 3 * n + 2,
                got: tmp.len(),
            });
        }
        let m1 = carve(&mut tmp, n);
        let mac0 = carve(&mut tmp, n);
        let mac1 = carve(&mut tmp, n);
        let alpha = self.alpha[0].wrapping_add(self.alpha[1]);
        for i in 0..n {
            // prepare_open: + 2^64·[r], r uniform in Z_2^64
            let masked = ((self.dealer.word::<i128>() as u128) << 64) as i128;
            let x0: i128 = self.dealer.word();
            let m0: i128 = self.dealer.word();
            out[i] = x[i].x[0].wrapping_add(x0);
            m1[i] = x[i].x[1].wrapping_add(masked.wrapping_sub(x0));
            mac0[i] = x[i].m[0].wrapping_add(m0);
            mac1[i] = x[i].m[1].wrapping_add(alpha.wrapping_mul(masked).wrapping_sub(m0));
        }
        self.net
            .exchange(protocol, Domain::Arithmetic, &mut *out, &mut *m1)?;
        // The check: challenges from the coin tossed now, each party's check word.
        let check = self.checks;
        let (mut y, mut z0, mut z1) = (0i128, 0i128, 0i128);
        for j in 0..n {
            let chi = challenge(self.seed, check, j, self.s);
            y = y.wrapping_add(chi.wrapping_mul(out[j]));
            z0 = z0.wrapping_add(chi.wrapping_mul(mac0[j]));
            z1 = z1.wrapping_add(chi.wrapping_mul(mac1[j]));
        }
        z0 = z0.wrapping_sub(self.alpha[0].wrapping_mul(y));
        z1 = z1.wrapping_sub(self.alpha[1].wrapping_mul(y));
        // Commit (a 32-byte hash per party: two words' bytes), then open.
        self.net.charge_round::<i128>(2);
        let (za, zb) = tmp.split_at_mut(1);
        za[0] = z0;
        zb[0] = z1;
        self.net
            .exchange("mac.check", Domain::Arithmetic, &mut za[..1], &mut zb[..1])?;
        self.checks = check.wrapping_add(1);
        if vanishes(za[0], self.s) {
            Ok(())
        } else {
            Err(Error::MacCheckFailed {
                protocol,
                round: self.net.cost().rounds.wrapping_sub(1),
            })
        }
    }
}

impl<'a> Authenticated<'a> {
    /// A session in format `fp` (a binary format in Z_2^64) with statistical parameter `s`,
    /// seeded `seed` (the dealer's stream: the two key shares first, then every dealt word;
    /// the challenges from [`challenge`]), over the arenas `words` and `elems`, with an honest
    /// channel.
    ///
    /// # Errors
    /// [`Error::OutOfRange`] unless `1 ≤ s ≤ 64`; [`Error::Unsupported`] for a format that is
    /// not `2^f` in Z_2^64.
    pub fn new(
        fp: FixedPoint,
        s: u32,
        seed: u64,
        words: &'a mut [i128],
        elems: &'a mut [Auth],
    ) -> Result<Self> {
        if !(1..=S_MAX).contains(&s) {
            return Err(Error::OutOfRange {
                what: "the MAC's statistical parameter s (1..=64)",
            });
        }
        if fp.binary_bits().is_none() || fp.ring() != crate::encoding::RingWidth::Z64 {
            return Err(Error::Unsupported {
                what: "authenticated sharing of a format other than 2^f in Z_2^64",
            });
        }
        let mut dealer = Dealer::new(seed);
        let mut key = || ((dealer.word::<i128>() as u128) >> (128 - s)) as i128;
        let alpha = [key(), key()];
        Ok(Authenticated {
            fp,
            ch: Channel {
                net: Net::new(),
                dealer,
                alpha,
                s,
                seed,
                checks: 0,
            },
            words,
            elems,
        })
    }

    /// The same session with every message shown to `wire` first (the ledger starts again).
    pub fn with_wire(mut self, wire: &'a mut dyn Wire) -> Self {
        self.ch.net = Net::with_wire(wire);
        self
    }

    /// The ledger so far.
    pub fn cost(&self) -> Cost {
        *self.ch.net.cost()
    }

    /// MAC checks run so far (one per opening batch).
    pub fn checks(&self) -> u64 {
        self.ch.checks
    }

    /// The statistical parameter `s`.
    pub fn s(&self) -> u32 {
        self.ch.s
    }

    /// Party `party`'s key share `α_party` (what that party knows: an experiment's adversary
    /// uses its own).
    pub fn key_share(&self, party: usize) -> i128 {
        self.ch.alpha[party & 1]
    }

    /// The session's seed (the coin's: [`challenge`]).
    pub fn seed(&self) -> u64 {
        self.ch.seed
    }

    /// `(words, elems)` arena sizes for elementwise operations on `n` elements (products,
    /// truncations, reveals; saturating).
    pub const fn scratch_elementwise(n: usize) -> (usize, usize) {
        bilinear_need(n, n, n)
    }

    /// `(words, elems)` arena sizes for a matrix product of shape `s`.
    pub const fn scratch_matmul(s: MatShape) -> (usize, usize) {
        bilinear_need(
            s.m.saturating_mul(s.k),
            s.k.saturating_mul(s.n),
            s.m.saturating_mul(s.n),
        )
    }

    /// `(words, elems)` arena sizes for a convolution of shape `s`.
    ///
    /// # Errors
    /// [`Conv2dShape`]'s size errors.
    pub fn scratch_conv2d(s: &Conv2dShape) -> Result<(usize, usize)> {
        Ok(bilinear_need(
            s.input_len()?,
            s.weight_len()?,
            s.output_len()?,
        ))
    }

    fn ensure(&self, (words, elems): (usize, usize)) -> Result<()> {
        for (needed, got) in [(words, self.words.len()), (elems, self.elems.len())] {
            if got < needed {
                return Err(Error::BufferTooSmall { needed, got });
            }
        }
        Ok(())
    }

    fn alpha(&self) -> i128 {
        self.ch.alpha[0].wrapping_add(self.ch.alpha[1])
    }

    /// A fresh authenticated sharing of the word `v` from the dealer.
    fn deal(&mut self, v: i128) -> Auth {
        let alpha = self.alpha();
        deal(&mut self.ch.dealer, alpha, v)
    }

    /// The public constant `c` as an authenticated sharing.
    fn public(&self, c: i128) -> Auth {
        public(self.ch.alpha, c)
    }

    /// `op(x, y)` (`nc` elements) without truncation: one MAC'd triple, one checked opening of
    /// `ε`, `δ`. The result is left in the element arena at `x.len() + y.len()`
    /// ([`Self::product_into`] copies it out).
    fn product(
        &mut self,
        op: Bilinear<'_>,
        protocol: &'static str,
        x: &[Auth],
        y: &[Auth],
        nc: usize,
    ) -> Result<()> {
        let arena = core::mem::take(&mut self.elems);
        let done = self.product_in(&mut *arena, op, protocol, x, y, nc);
        self.elems = arena;
        done
    }

    /// [`Self::product`] with `arena` as its element arena (the result at `x.len() +
    /// y.len()`): the comparison keeps its own state beside it.
    fn product_in(
        &mut self,
        arena: &mut [Auth],
        op: Bilinear<'_>,
        protocol: &'static str,
        x: &[Auth],
        y: &[Auth],
        nc: usize,
    ) -> Result<()> {
        let (na, nb) = (x.len(), y.len());
        op.check(na, nb, nc)?;
        let (nw, ne) = bilinear_need(na, nb, nc);
        if self.words.len() < nw {
            return Err(Error::BufferTooSmall {
                needed: nw,
                got: self.words.len(),
            });
        }
        if arena.len() < ne {
            return Err(Error::BufferTooSmall {
                needed: ne,
                got: arena.len(),
            });
        }
        let alpha = self.ch.alpha;
        let full = self.alpha();
        let mut w = &mut *self.words;
        let av = carve(&mut w, na);
        let bv = carve(&mut w, nb);
        let acc = carve(&mut w, nc);
        let ed = carve(&mut w, nc);
        let opened = carve(&mut w, na + nb);
        let mut e = arena;
        let a = carve(&mut e, na);
        let b = carve(&mut e, nb);
        let c = carve(&mut e, nc);
        let masked = carve(&mut e, na + nb);
        // The dealer: a, b uniform, c = op(a, b), each MAC'd.
        for v in av.iter_mut() {
            *v = self.ch.dealer.word();
        }
        for v in bv.iter_mut() {
            *v = self.ch.dealer.word();
        }
        acc.fill(0);
        apply(op, av, bv, acc)?;
        for (slot, &v) in a.iter_mut().zip(av.iter()) {
            *slot = deal(&mut self.ch.dealer, full, v);
        }
        for (slot, &v) in b.iter_mut().zip(bv.iter()) {
            *slot = deal(&mut self.ch.dealer, full, v);
        }
        for (slot, &v) in c.iter_mut().zip(acc.iter()) {
            *slot = deal(&mut self.ch.dealer, full, v);
        }
        let cost = self.ch.net.cost_mut();
        match op {
            Bilinear::Elementwise | Bilinear::Broadcast { .. } => {
                cost.mul_triples = cost.mul_triples.wrapping_add(nc as u64)
            }
            _ => {
                cost.matrix_triples = cost.matrix_triples.wrapping_add(1);
                cost.matrix_triple_words =
                    cost.matrix_triple_words.wrapping_add((na + nb + nc) as u64);
            }
        }
        // Open ε = x − a and δ = y − b in one checked batch.
        for (m, (&xi, &ai)) in masked.iter_mut().zip(x.iter().zip(a.iter())) {
            *m = xi.sub(ai);
        }
        for (m, (&yi, &bi)) in masked[na..].iter_mut().zip(y.iter().zip(b.iter())) {
            *m = yi.sub(bi);
        }
        self.ch.open(protocol, masked, opened, w)?;
        let (eps, delta) = opened.split_at(na);
        ed.fill(0);
        apply(op, eps, delta, ed)?;
        // z = c + ε·b + a·δ + ε·δ, component by component (ε·δ: party 0's share, αᵢ·ε·δ in
        // the MAC shares).
        for comp in 0..4 {
            for (v, bi) in bv.iter_mut().zip(b.iter()) {
                *v = bi.get(comp);
            }
            for (v, ai) in av.iter_mut().zip(a.iter()) {
                *v = ai.get(comp);
            }
            for (v, ci) in acc.iter_mut().zip(c.iter()) {
                *v = ci.get(comp);
            }
            apply(op, eps, bv, acc)?;
            apply(op, av, delta, acc)?;
            let k = match comp {
                0 => 1,
                1 => 0,
                2 => alpha[0],
                _ => alpha[1],
            };
            for (o, (&v, &d)) in c.iter_mut().zip(acc.iter().zip(ed.iter())) {
                o.set(comp, v.wrapping_add(k.wrapping_mul(d)));
            }
        }
        Ok(())
    }

    /// [`Self::product`] into `out`.
    fn product_into(
        &mut self,
        op: Bilinear<'_>,
        protocol: &'static str,
        x: &[Auth],
        y: &[Auth],
        out: &mut [Auth],
    ) -> Result<()> {
        let (at, nc) = (x.len() + y.len(), out.len());
        self.product(op, protocol, x, y, nc)?;
        out.copy_from_slice(&self.elems[at..at + nc]);
        Ok(())
    }

    /// `x ← x / 2^k` by the dealer's truncation, one checked opening for the batch.
    fn truncate(&mut self, x: &mut [Auth], k: u32) -> Result<()> {
        let n = x.len();
        if k == 0 || n == 0 {
            return Ok(());
        }
        if k > 62 {
            return Err(Error::OutOfRange {
                what: "a truncation by more than 62 bits",
            });
        }
        self.ensure((4 * n + 2, 4 * n))?;
        let full = self.alpha();
        let alpha = self.ch.alpha;
        let mut w = &mut *self.words;
        let opened = carve(&mut w, n);
        let mut e = &mut *self.elems;
        let hi = carve(&mut e, n);
        let msb = carve(&mut e, n);
        let z = carve(&mut e, n);
        let offset = public(alpha, 1i128 << 62);
        for i in 0..n {
            let r = (self.ch.dealer.word::<i128>() as u128 >> 64) as i128;
            let ra = deal(&mut self.ch.dealer, full, r);
            hi[i] = deal(&mut self.ch.dealer, full, r >> k);
            msb[i] = deal(&mut self.ch.dealer, full, r >> 63);
            z[i] = x[i].add(offset).sub(ra);
        }
        let cost = self.ch.net.cost_mut();
        cost.trunc_tuples = cost.trunc_tuples.wrapping_add(n as u64);
        cost.truncations = cost.truncations.wrapping_add(n as u64);
        self.ch.open("trunc", z, opened, w)?;
        let big = 1i128 << (64 - k);
        for i in 0..n {
            let zl = opened[i] as u128 & u128::from(u64::MAX);
            let zhi = (zl >> k) as i128;
            let wrap = if zl >> 63 == 1 {
                public(alpha, 1)
            } else {
                msb[i]
            };
            let base = public(alpha, zhi - (1i128 << (62 - k)) + 1);
            x[i] = base.add(hi[i]).sub(wrap.scale(big));
        }
        Ok(())
    }

    fn truncate_scale(&mut self, x: &mut [Auth]) -> Result<()> {
        let f = self.fp.binary_bits().unwrap_or(0);
        self.truncate(x, f)
    }

    /// The value's low 64 bits, as the simulator sees it (no opening).
    fn value(a: &Auth) -> i64 {
        a.x[0].wrapping_add(a.x[1]) as i64
    }
}

fn deal(dealer: &mut Dealer, alpha: i128, v: i128) -> Auth {
    let x0: i128 = dealer.word();
    let m0: i128 = dealer.word();
    Auth {
        x: [x0, v.wrapping_sub(x0)],
        m: [m0, alpha.wrapping_mul(v).wrapping_sub(m0)],
    }
}

fn public(alpha: [i128; 2], c: i128) -> Auth {
    Auth {
        x: [c, 0],
        m: [alpha[0].wrapping_mul(c), alpha[1].wrapping_mul(c)],
    }
}

/// `out += op(a, b)` in Z_2^128.
fn apply(op: Bilinear<'_>, a: &[i128], b: &[i128], out: &mut [i128]) -> Result<()> {
    match op {
        Bilinear::Elementwise => {
            mul_acc(a, b, out);
            Ok(())
        }
        Bilinear::Matmul(s) => matmul_acc(a, b, out, s),
        Bilinear::Conv2d(s) => conv2d_acc(a, b, out, s),
        Bilinear::Broadcast { inner } => {
            super::check_bcast(a.len(), b.len(), inner)?;
            let c = b.len();
            for ((i, o), &x) in out.iter_mut().enumerate().zip(a) {
                *o = o.wrapping_add(x.wrapping_mul(b[(i / inner) % c]));
            }
            Ok(())
        }
    }
}

/// `(words, elems)` a product of `na`·`nb` → `nc` elements and its truncation need.
const fn bilinear_need(na: usize, nb: usize, nc: usize) -> (usize, usize) {
    let ab = na.saturating_add(nb);
    // product: a, b, acc, ε·δ, the opened words, then the opening's 3(na + nb) + 2
    let words = ab
        .saturating_mul(5)
        .saturating_add(nc.saturating_mul(2))
        .saturating_add(2);
    let elems = ab.saturating_mul(2).saturating_add(nc);
    // truncation of nc: 4nc + 2 words, 3nc elements
    let tw = nc.saturating_mul(4).saturating_add(2);
    let te = nc.saturating_mul(3);
    (
        if words > tw { words } else { tw },
        if elems > te { elems } else { te },
    )
}

impl Arith for Authenticated<'_> {
    type Elem = Auth;

    fn kind(&self) -> ArithKind {
        ArithKind::Shared
    }
    fn fixed_point(&self) -> FixedPoint {
        self.fp
    }
    fn elem_add(&self, a: Auth, b: Auth) -> Auth {
        a.add(b)
    }
    fn elem_sub(&self, a: Auth, b: Auth) -> Auth {
        a.sub(b)
    }
    fn elem_mul_int(&self, a: Auth, k: i64) -> Auth {
        a.scale(i128::from(k))
    }
    fn elem_int(&self, k: i64) -> Auth {
        self.public(i128::from(k))
    }
    fn elem_const(&self, c: f64) -> Result<Auth> {
        Ok(self.public(i128::from(self.fp.encode(c)?)))
    }
    /// The input functionality (module doc): one round, charged.
    fn input(&mut self, x: &[f64], out: &mut [Auth]) -> Result<()> {
        check_len(x.len(), out.len())?;
        for (i, &v) in x.iter().enumerate() {
            self.fp.encode_data_at(v, i)?;
        }
        for (i, (o, &v)) in out.iter_mut().zip(x).enumerate() {
            let raw = self.fp.encode_data_at(v, i)?;
            *o = self.deal(i128::from(raw));
        }
        self.ch.net.charge_round::<i128>(x.len());
        Ok(())
    }
    /// One checked opening.
    fn reveal(&mut self, x: &[Auth], out: &mut [f64]) -> Result<()> {
        let n = x.len();
        check_len(n, out.len())?;
        self.ensure((4 * n + 2, 0))?;
        let (opened, tmp) = self.words.split_at_mut(n);
        self.ch.open("reveal", x, opened, tmp)?;
        for (o, &w) in out.iter_mut().zip(opened.iter()) {
            *o = self.fp.decode(w as i64);
        }
        Ok(())
    }
    fn peek(&self, x: &[Auth], out: &mut [f64]) -> Result<()> {
        check_len(x.len(), out.len())?;
        for (o, a) in out.iter_mut().zip(x) {
            *o = self.fp.decode(Self::value(a));
        }
        Ok(())
    }
    fn mul_const(&mut self, x: &mut [Auth], c: f64) -> Result<()> {
        let c = i128::from(self.fp.encode(c)?);
        self.ensure(bilinear_need(0, 0, x.len()))?;
        for v in x.iter_mut() {
            *v = v.scale(c);
        }
        self.truncate_scale(x)
    }
    /// Powers of two only (the dealer's truncation).
    fn div_int(&mut self, x: &mut [Auth], d: u64) -> Result<()> {
        if d == 0 {
            return Err(Error::DivisionByZero);
        }
        if !d.is_power_of_two() {
            return Err(Error::Unsupported {
                what: "authenticated division by a public integer that is not a power of two",
            });
        }
        self.truncate(x, d.trailing_zeros())
    }
    fn div_int_each(&mut self, x: &mut [Auth], d: &dyn Fn(usize) -> u64) -> Result<()> {
        if (0..x.len()).any(|i| d(i) == 0) {
            return Err(Error::DivisionByZero);
        }
        if (0..x.len()).any(|i| !d(i).is_power_of_two()) {
            return Err(Error::Unsupported {
                what: "authenticated division by a public integer that is not a power of two",
            });
        }
        for (i, xi) in x.chunks_mut(1).enumerate() {
            self.truncate(xi, d(i).trailing_zeros())?;
        }
        Ok(())
    }
    fn mul(&mut self, x: &mut [Auth], y: &[Auth]) -> Result<()> {
        self.mul_unscaled(x, y)?;
        self.truncate_scale(x)
    }
    fn mul_bcast(&mut self, x: &mut [Auth], y: &[Auth], inner: usize) -> Result<()> {
        let n = x.len();
        super::check_bcast(n, y.len(), inner)?;
        self.ensure(bilinear_need(n, y.len(), n))?;
        self.product(Bilinear::Broadcast { inner }, "mul", x, y, n)?;
        let at = n + y.len();
        x.copy_from_slice(&self.elems[at..at + n]);
        self.truncate_scale(x)
    }
    fn mul_unscaled(&mut self, x: &mut [Auth], y: &[Auth]) -> Result<()> {
        let n = x.len();
        check_len(n, y.len())?;
        self.product(Bilinear::Elementwise, "mul", x, y, n)?;
        x.copy_from_slice(&self.elems[2 * n..3 * n]);
        Ok(())
    }
    fn square(&mut self, x: &mut [Auth]) -> Result<()> {
        let n = x.len();
        self.product(Bilinear::Elementwise, "square", x, x, n)?;
        x.copy_from_slice(&self.elems[2 * n..3 * n]);
        self.truncate_scale(x)
    }
    fn matmul(&mut self, a: &[Auth], b: &[Auth], out: &mut [Auth], s: MatShape) -> Result<()> {
        s.check(a.len(), b.len(), out.len())?;
        self.product_into(Bilinear::Matmul(s), "matmul", a, b, out)?;
        self.truncate_scale(out)
    }
    fn conv2d(&mut self, x: &[Auth], w: &[Auth], out: &mut [Auth], s: &Conv2dShape) -> Result<()> {
        s.check(x.len(), w.len(), out.len())?;
        self.product_into(Bilinear::Conv2d(s), "conv2d", x, w, out)?;
        self.truncate_scale(out)
    }
    fn lincomb_const(&mut self, terms: &[Auth], coeffs: &[f64], out: &mut [Auth]) -> Result<()> {
        let n = out.len();
        check_len(n.saturating_mul(coeffs.len()), terms.len())?;
        for (j, &c) in coeffs.iter().enumerate() {
            self.fp.encode_at(c, j)?;
        }
        self.ensure(bilinear_need(0, 0, n))?;
        out.fill(Auth::default());
        for (j, &c) in coeffs.iter().enumerate() {
            let c = i128::from(self.fp.encode(c)?);
            for (o, t) in out.iter_mut().zip(&terms[j * n..(j + 1) * n]) {
                *o = o.add(t.scale(c));
            }
        }
        self.truncate_scale(out)
    }
    /// The authenticated comparison over MAC'd bits ([`comparison`]'s doc): its arena is
    /// [`Self::scratch_comparison`].
    fn ltz(&mut self, x: &[Auth], out: &mut [Auth]) -> Result<()> {
        self.compare(x, out)
    }
    /// An ideal functionality, charged as one comparison.
    fn msb_map(&mut self, x: &[Auth], out: &mut [Auth], g: &dyn Fn(i32) -> f64) -> Result<()> {
        check_len(x.len(), out.len())?;
        for a in x {
            self.fp
                .encode(g(super::fixed::msb_position(Self::value(a))))?;
        }
        for (o, a) in out.iter_mut().zip(x) {
            let raw = self
                .fp
                .encode(g(super::fixed::msb_position(Self::value(a))))?;
            *o = self.deal(i128::from(raw));
        }
        charge_comparison(&mut self.ch.net, x.len());
        Ok(())
    }
}

/// The passive comparison's ledger on `n` values in Z_2^64 (8 rounds, `13n` AND triples, `n`
/// B2A bits), what the authenticated comparison is charged (**derived**: the binary-domain
/// MACs' own cost is not modelled).
fn charge_comparison(net: &mut Net<'_>, n: usize) {
    for w in [2usize, 4, 4, 4, 4, 4, 4, 1] {
        net.charge_round::<i64>(w * n);
    }
    let cost = net.cost_mut();
    cost.and_triples = cost.and_triples.wrapping_add(13 * n as u64);
    cost.b2a_bits = cost.b2a_bits.wrapping_add(n as u64);
}

/// The forging adversary of the detection experiment: as party 1 it adds `delta` to word 0 of
/// its `"reveal"` message and `correction` to its `"mac.check"` word.
#[derive(Clone, Copy, Debug)]
pub struct Forger {
    /// The error added to the revealed value.
    pub delta: i128,
    /// What it adds to its check word: `(α₁ + g)·χ·delta` for its guess `g` of `α₀`.
    pub correction: i128,
}

impl Wire for Forger {
    fn send(&mut self, m: &mut crate::wire::Message<'_>) {
        if m.from != 1 {
            return;
        }
        match m.protocol {
            "reveal" => {
                m.payload.add(0, self.delta);
            }
            "mac.check" => {
                m.payload.add(0, self.correction);
            }
            _ => {}
        }
    }
}

/// One trial of the detection experiment: a session seeded `seed` with parameter `s` brings
/// in 1.5 and reveals it while party 1 forges (adds `delta`, then corrects its check word for
/// its guess `guess` of the honest key share, which it takes mod 2^s). Returns whether the
/// forgery passed the MAC check (`Ok(true)`: the honest party accepted a wrong value).
///
/// # Errors
/// [`Authenticated::new`]'s; [`Error::BufferTooSmall`] for arenas below
/// [`Authenticated::scratch_elementwise`]`(1)`.
pub fn forgery_trial(
    s: u32,
    seed: u64,
    delta: i64,
    guess: u64,
    words: &mut [i128],
    elems: &mut [Auth],
) -> Result<bool> {
    let fp = FixedPoint::CRYPTEN_DEFAULT;
    let own = Authenticated::new(fp, s, seed, words, elems)?.key_share(1);
    let g = i128::from(guess.checked_shr(64 - s.clamp(1, 64)).unwrap_or(guess));
    // the reveal is the session's first check (number 0), of one value (challenge 0)
    let chi = challenge(seed, 0, 0, s);
    let delta = i128::from(delta);
    let mut forger = Forger {
        delta,
        correction: own.wrapping_add(g).wrapping_mul(chi).wrapping_mul(delta),
    };
    let mut au = Authenticated::new(fp, s, seed, words, elems)?.with_wire(&mut forger);
    let mut x = [Auth::default()];
    au.input(&[1.5], &mut x)?;
    let mut out = [0.0];
    match au.reveal(&x, &mut out) {
        Ok(()) => Ok(true),
        Err(Error::MacCheckFailed { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The detection experiment: `trials` forgery trials at parameter `s` (sessions seeded
/// `seed`, `seed + 1`, …; guesses uniform from the stream [`StreamId::Audit`](crate::seed::StreamId::Audit) of `seed`).
/// Returns how many passed; the rest were detected. Expected pass rate: at least `2^−s`,
/// at most `(s + 1)·2^−s` (module doc).
///
/// # Errors
/// As [`forgery_trial`].
pub fn forgery_passes(
    s: u32,
    trials: u64,
    seed: u64,
    delta: i64,
    words: &mut [i128],
    elems: &mut [Auth],
) -> Result<u64> {
    use rand_core::RngCore;
    let mut guesses = crate::seed::stream(seed, crate::seed::StreamId::Audit);
    let mut passes = 0u64;
    for t in 0..trials {
        let g = guesses.next_u64();
        let (w, e) = (&mut *words, &mut *elems);
        passes += u64::from(forgery_trial(s, seed.wrapping_add(t), delta, g, w, e)?);
    }
    Ok(passes)
}

pub mod comparison;
#[cfg(test)]
mod tests;
