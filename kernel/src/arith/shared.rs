//! Two-party additive sharing with a trusted dealer, as CrypTen runs two parties.
//!
//! One session type for both engines ([`Engine`]): the interactive products and comparisons run
//! as message-by-message protocols ([`beaver`], [`comparison`]) or as their ideal
//! functionalities ([`ideal`]); everything else (input sharing, openings, public products,
//! both truncations) is the same code in both.

use super::{Arith, ArithKind, Engine, RingArith};
use crate::cost::Cost;
use crate::dealer::{Dealer, Jump};
use crate::error::{check_len, Error, Result};
use crate::fixed::FixedPoint;
use crate::linalg::{conv2d_acc, exact, matmul_acc};
use crate::linalg::{Conv2dShape, MatShape};
use crate::protocols::beaver::{self, scratch_words_bilinear, scratch_words_square, Bilinear};
use crate::protocols::comparison::{self, scratch_words_ltz};
use crate::protocols::drelu::{self, Comparison, HelperStreams};
use crate::protocols::ideal;
use crate::protocols::laws::SignTest;
use crate::protocols::truncation::{self, scratch_words_truncate, TruncMode};
use crate::ring::{Ring, Word};
use crate::seed::{stream, StreamId, Xoshiro256PlusPlus};
use crate::share::{public, reconstruct, share_from, Share};
use crate::wire::{Domain, Net, Wire};

/// Which party owns the private inputs brought in by [`Arith::input`]. MPCDiff encrypts the
/// model with `src = 0` and the data with `src = 1`; the numbers do not depend on it.
pub const DATA_OWNER: usize = 1;

/// A simulated two-party session: both parties' shares in lock-step, a dealer, the channel
/// ([`Net`], where every message can be observed or replaced) and a word arena for the
/// protocols' temporaries.
///
/// # Randomness
/// An MPC seed `s` drives the dealer ([`StreamId::Dealer`]) and the pairwise masks of input
/// sharing and A2B ([`StreamId::Przs`]); the same seed and the same sequence of operations give
/// the same shares, bit for bit, on every target.
///
/// # Arena
/// Interactive operations need scratch words. [`Shared::scratch_words_elementwise`] is enough
/// for `mul`, `mul_unscaled`, `square`, truncation, `reveal` and `ltz` on `n` elements (and for
/// [`crate::protocols::maximum::max_rows`] given the number of pairs of its first level), and
/// [`Shared::scratch_words_matmul`] / [`Shared::scratch_words_conv2d`] for the products, in
/// either truncation mode. Too small an arena returns [`Error::BufferTooSmall`] before
/// anything is drawn or written; its `needed` is the exact need of the failing call, which can
/// be less than the sizing function: `reveal` 2n, `reveal_ring` n,
/// [`beaver::scratch_words_bilinear`] for products, [`beaver::scratch_words_square`] for
/// squares, [`comparison::scratch_words_ltz`] for `ltz`, and at least
/// [`truncation::scratch_words_truncate`] when dealer truncation follows (share-local
/// truncation needs none).
///
/// # Ring
/// The word type `W` ([`Word`]) is the ring: Z_2^64 by default (CrypTen and every profile but
/// SPU FM128), Z_2^128 for `Shared<'_, i128>` (built by [`Shared::in_ring`]). The protocols
/// are the same text for both; the helper-assisted comparisons ([`Comparison`]'s helper
/// protocols) exist for Z_2^64 only and return [`Error::Unsupported`] in Z_2^128.
pub struct Shared<'a, W: Word = Ring> {
    fp: FixedPoint,
    trunc: TruncMode,
    engine: Engine,
    dealer: Dealer,
    przs: Xoshiro256PlusPlus,
    net: Net<'a>,
    scratch: &'a mut [W],
    /// [`Arith::elementwise_chunks`] in progress: one dealer per drawing operation of the
    /// pipeline, each where that operation's draws for the current chunk begin.
    cursors: heapless::Vec<Dealer, CURSORS>,
    chunking: Option<Chunking>,
    seed: u64,
    comparison: Comparison,
    helper: Option<HelperStreams>,
    sign: SignTest,
    triple_check: bool,
}

/// The most drawing operations a chunked elementwise pipeline may run.
const CURSORS: usize = 48;

/// Elements per chunk of a chunked elementwise pipeline (16 KiB per slice of shares: a
/// pipeline's working set stays in the L2 cache).
const CHUNK: usize = 1024;

/// The state of a chunked elementwise pipeline.
#[derive(Clone, Copy, Debug)]
struct Chunking {
    /// The drawing operation the pipeline runs next (its index in the chunk's sequence).
    next: usize,
    /// Whether this is the first chunk (cursors are created as its operations first run).
    first: bool,
    /// The jump from the end of the first chunk to the end of the whole range: `n − CHUNK`
    /// draws.
    skip: Jump,
}

impl<W: Word> core::fmt::Debug for Shared<'_, W> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Shared")
            .field("fp", &self.fp)
            .field("trunc", &self.trunc)
            .field("engine", &self.engine)
            .field("net", &self.net)
            .field("scratch_words", &self.scratch.len())
            .finish()
    }
}

impl<'a> Shared<'a> {
    /// A session over Z_2^64 in format `fp`, seeded with `seed`, with `scratch` as its arena
    /// and an honest channel. Truncation is share-local, as in CrypTen.
    pub fn new(fp: FixedPoint, seed: u64, scratch: &'a mut [i64]) -> Self {
        Shared::in_ring(fp, seed, scratch)
    }

    // The arena's sizes count words, the same in either ring (a word of Z_2^128 is twice the
    // bytes).

    /// Scratch words that `mul`, `mul_unscaled`, `square`, truncation, `reveal` and `ltz`
    /// need on `n` elements (saturating at `usize::MAX`).
    pub const fn scratch_words_elementwise(n: usize) -> usize {
        let a = scratch_words_bilinear(n, n, n);
        let b = scratch_words_ltz(n);
        if a > b {
            a
        } else {
            b
        }
    }

    /// Scratch words a matmul of shape `s` needs (saturating at `usize::MAX`, a size no arena
    /// has, for a shape whose sizes overflow).
    pub const fn scratch_words_matmul(s: MatShape) -> usize {
        let nc = s.m.saturating_mul(s.n);
        let a = scratch_words_bilinear(s.m.saturating_mul(s.k), s.k.saturating_mul(s.n), nc);
        let b = scratch_words_truncate(nc);
        if a > b {
            a
        } else {
            b
        }
    }

    /// Scratch words a convolution of shape `s` needs.
    ///
    /// # Errors
    /// [`Conv2dShape::out_hw`]'s, and [`Error::InvalidShape`] if a size overflows.
    pub fn scratch_words_conv2d(s: &Conv2dShape) -> Result<usize> {
        let nc = s.output_len()?;
        Ok(scratch_words_bilinear(s.input_len()?, s.weight_len()?, nc)
            .max(scratch_words_truncate(nc)))
    }
}

impl<'a, W: Word> Shared<'a, W> {
    /// A session over `W`'s ring in format `fp`, seeded with `seed`, with `scratch` as its
    /// arena and an honest channel. Truncation is share-local, as in CrypTen. The same seed
    /// draws the same generator outputs in either ring; a word of Z_2^128 takes two.
    pub fn in_ring(fp: FixedPoint, seed: u64, scratch: &'a mut [W]) -> Self {
        Shared {
            fp,
            trunc: TruncMode::Local,
            engine: Engine::Protocol,
            dealer: Dealer::new(seed),
            przs: stream(seed, StreamId::Przs),
            net: Net::new(),
            scratch,
            cursors: heapless::Vec::new(),
            chunking: None,
            seed,
            comparison: Comparison::A2b,
            helper: None,
            sign: SignTest::Exact,
            triple_check: false,
        }
    }

    /// The same session with comparisons reported as the framework's `sign` test reports them
    /// ([`SignTest::Exact`] unless set). TF-Encrypted's SecureNN `is_negative` calls the ring
    /// value −1 non-negative; the simulator applies that to the comparison's (exact) result,
    /// modelling SecureNN's MSB protocol as its functionality (its messages are CrypTen's A2B
    /// here).
    pub fn with_sign_test(mut self, sign: SignTest) -> Self {
        self.sign = sign;
        self
    }

    /// Applies the session's sign test to `out = [x < 0]`: where it reports a negative value
    /// non-negative, party 1's share drops by one.
    fn sign_quirk(&self, x: &[Share<W>], out: &mut [Share<W>]) {
        if self.sign == SignTest::Exact {
            return;
        }
        for (o, &v) in out.iter_mut().zip(x) {
            let a = reconstruct(v).to_i128();
            if a < 0 && !self.sign.is_negative(a) {
                o[1] = o[1].wrapping_sub(W::ONE);
            }
        }
    }

    /// The same session with comparisons (`ltz`, hence ReLU, max pooling, and DReLU) computed
    /// by `c` ([`Comparison::A2b`] unless set). A helper protocol brings in the third party:
    /// its streams ([`StreamId::Pair`], [`StreamId::Helper`]) are derived from the session's
    /// seed, and its messages cross the session's [`Net`] ([`Net::to_helper`]). The ideal
    /// engine ignores it.
    pub fn with_comparison(mut self, c: Comparison) -> Self {
        self.comparison = c;
        self.helper = c.uses_helper().then(|| HelperStreams::new(self.seed));
        self
    }

    /// The same session with CrypTen's `mpc.active_security` flag: every elementwise Beaver
    /// product of the protocol engine first sacrifices a second triple to check the dealer's
    /// ([`beaver::bilinear_checked`]). It checks triples, not openings: a party that changes
    /// its messages passes it (the tests show it).
    pub fn with_triple_check(mut self, on: bool) -> Self {
        self.triple_check = on;
        self
    }

    /// How comparisons are computed.
    pub fn comparison(&self) -> Comparison {
        self.comparison
    }

    /// The same session with every message shown to `wire` first. Install it before running
    /// any protocol (the ledger starts again from zero).
    pub fn with_wire(mut self, wire: &'a mut dyn Wire) -> Self {
        self.net = Net::with_wire(wire);
        self
    }

    /// The same session with truncation mode `mode`.
    pub fn with_truncation(mut self, mode: TruncMode) -> Self {
        self.trunc = mode;
        self
    }

    /// The truncation mode.
    pub fn truncation(&self) -> TruncMode {
        self.trunc
    }

    /// The same session with engine `engine` ([`Engine::Protocol`] unless set): with
    /// [`Engine::Ideal`], products and comparisons are their ideal functionalities
    /// ([`ideal`]), with the same law of results and the same ledger, and no messages for a
    /// [`Wire`] to see.
    pub fn with_engine(mut self, engine: Engine) -> Self {
        self.engine = engine;
        self
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Before a drawing operation of a chunked pipeline: its cursor becomes the session's
    /// dealer. The first chunk creates cursor `k` from cursor `k − 1`, which has then drawn
    /// the first chunk's words: jumping over the rest of the range ([`Jump`], 256 generator
    /// steps) puts it where operation `k`'s draws begin in the unchunked run. Outside a
    /// pipeline: nothing.
    fn cursor_in(&mut self) -> Result<()> {
        let Some(c) = self.chunking else {
            return Ok(());
        };
        let bad = Error::InvalidShape {
            what: "an elementwise pipeline ran other operations than it promised",
        };
        if c.next == self.cursors.len() {
            if !c.first {
                return Err(bad);
            }
            let cursor = match self.cursors.last() {
                None => self.dealer.clone(),
                Some(prev) => {
                    let mut d = prev.clone();
                    d.jump(&c.skip);
                    d
                }
            };
            self.cursors.push(cursor).map_err(|_| bad)?;
        }
        let slot = self.cursors.get_mut(c.next).ok_or(bad)?;
        core::mem::swap(&mut self.dealer, slot);
        Ok(())
    }

    /// After a drawing operation: the session's dealer back, the cursor kept.
    fn cursor_out(&mut self) {
        if let Some(c) = self.chunking.as_mut() {
            if let Some(slot) = self.cursors.get_mut(c.next) {
                core::mem::swap(&mut self.dealer, slot);
            }
            c.next += 1;
        }
    }

    /// Runs `f` as one drawing operation (between [`Self::cursor_in`] and
    /// [`Self::cursor_out`]).
    fn drawing<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        self.cursor_in()?;
        let r = f(self);
        self.cursor_out();
        r
    }

    /// The ideal engine's fresh sharings of `z(i, x[i])`, then one truncation by the scale:
    /// in the same pass when it is share-local.
    fn deal_scaled(&mut self, x: &mut [Share<W>], z: impl Fn(usize, Share<W>) -> W) -> Result<()> {
        let shift = self.local_shift();
        ideal::deal_into(&mut self.net, &mut self.dealer, x, z, shift);
        self.truncate_unless(shift, x)
    }

    /// [`Self::deal_scaled`] with `z` of `x[i]` and `y[i]` (`y` as long as `x`).
    fn deal_scaled_zip(
        &mut self,
        x: &mut [Share<W>],
        y: &[Share<W>],
        z: impl Fn(Share<W>, Share<W>) -> W,
    ) -> Result<()> {
        let shift = self.local_shift();
        ideal::deal_into_zip(&mut self.net, &mut self.dealer, x, y, z, shift);
        self.truncate_unless(shift, x)
    }

    /// The shift of a share-local truncation by the scale, if truncation is share-local (and
    /// the scale is not 1).
    fn local_shift(&self) -> Option<u32> {
        let f = self.fp.binary_bits()?;
        (self.trunc == TruncMode::Local && f >= 1).then_some(f)
    }

    /// The truncation by the scale that dealing did not do in its pass (`shift` = `None`).
    fn truncate_unless(&mut self, shift: Option<u32>, x: &mut [Share<W>]) -> Result<()> {
        match shift {
            Some(_) => Ok(()),
            None => self.truncate(x, self.fp.scale() as u64),
        }
    }

    /// Charges what a Beaver product opening `words` words per party costs: one round and
    /// `triples` elementwise triples.
    fn charge_mul(&mut self, words: usize, triples: usize) {
        ideal::charge_round::<W>(&mut self.net, words);
        let cost = self.net.cost_mut();
        cost.mul_triples = cost.mul_triples.wrapping_add(triples as u64);
    }

    /// The ledger so far.
    pub fn cost(&self) -> Cost {
        *self.net.cost()
    }

    /// Inputs are refused unless the format's ring is the session's word: a driver that builds
    /// a Z_2^64 session for a Z_2^128 format (or the reverse) fails at once instead of running
    /// the other ring.
    fn check_ring(&self) -> Result<()> {
        if self.fp.ring() == W::WIDTH {
            Ok(())
        } else {
            Err(Error::Unsupported {
                what: "a format whose ring is not the session's word (build it with Shared::in_ring over that ring)",
            })
        }
    }

    fn ensure(&self, needed: usize) -> Result<()> {
        if self.scratch.len() >= needed {
            Ok(())
        } else {
            Err(Error::BufferTooSmall {
                needed,
                got: self.scratch.len(),
            })
        }
    }

    /// Scratch the session's truncation by `d` needs on `n` elements: none for share-local
    /// truncation, nor for the divisors dealer mode does not handle (1 and non-powers of two,
    /// which fall back to local truncation).
    fn trunc_words(&self, n: usize, d: u64) -> usize {
        match self.trunc {
            TruncMode::Dealer if d > 1 && d.is_power_of_two() => scratch_words_truncate(n),
            _ => 0,
        }
    }

    /// [`Shared::trunc_words`] for the truncation after a product (by the scale 2^f).
    fn trunc_words_scale(&self, n: usize) -> usize {
        self.trunc_words(n, self.fp.scale() as u64)
    }

    /// Brings private reals in, owned by party `src` (0 or 1).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] unless `out` is as long as `x`; [`Error::NonFinite`] or
    /// [`Error::EncodeOverflow`] naming the first bad input (nothing is drawn or written then).
    pub fn input_from(&mut self, src: usize, x: &[f64], out: &mut [Share<W>]) -> Result<()> {
        check_len(x.len(), out.len())?;
        self.check_ring()?;
        // Encode everything first, so that a failure leaves the PRZS stream and `out` untouched
        // (the error names the first bad index, NaN or overflow alike, as in `Fixed`).
        for (i, &v) in x.iter().enumerate() {
            self.fp.encode_data_word_at::<W>(v, i)?;
        }
        for (i, (o, &v)) in out.iter_mut().zip(x).enumerate() {
            let raw: W = self.fp.encode_data_word_at(v, i)?;
            *o = share_from(&mut self.przs, src, raw);
        }
        Ok(())
    }

    /// Brings already encoded ring integers in, owned by party `src`: the same PRZS draws, in
    /// the same order, as [`Self::input_from`] on the reals that encode to them (so a model
    /// encoded once can be shared into every fresh session without encoding it again).
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] unless `out` is as long as `raw`.
    pub fn input_ring_from(&mut self, src: usize, raw: &[W], out: &mut [Share<W>]) -> Result<()> {
        check_len(raw.len(), out.len())?;
        self.check_ring()?;
        for (o, &v) in out.iter_mut().zip(raw) {
            *o = share_from(&mut self.przs, src, v);
        }
        Ok(())
    }

    fn truncate(&mut self, x: &mut [Share<W>], d: u64) -> Result<()> {
        truncation::truncate(
            &mut self.net,
            &mut self.dealer,
            self.trunc,
            x,
            d,
            self.scratch,
        )
    }

    /// A bilinear product followed by one truncation per output.
    fn product(
        &mut self,
        op: Bilinear<'_>,
        protocol: &'static str,
        x: &[Share<W>],
        y: &[Share<W>],
        out: &mut [Share<W>],
    ) -> Result<()> {
        self.ensure(
            scratch_words_bilinear(x.len(), y.len(), out.len())
                .max(self.trunc_words_scale(out.len())),
        )?;
        if self.engine == Engine::Ideal {
            if self.chunking.is_some() {
                return Err(Error::InvalidShape {
                    what: "a matrix product inside an elementwise pipeline",
                });
            }
            return self.ideal_product(op, x, y, out);
        }
        beaver::bilinear(
            &mut self.net,
            &mut self.dealer,
            op,
            protocol,
            x,
            y,
            out,
            self.scratch,
        )?;
        self.truncate(out, self.fp.scale() as u64)
    }

    /// [`Shared::product`] as its ideal functionality: the product of the reconstructed
    /// operands (in the arena), each output dealt fresh and truncated; charged as one matrix
    /// triple. The arena already holds the protocol's need, which is more than this.
    fn ideal_product(
        &mut self,
        op: Bilinear<'_>,
        x: &[Share<W>],
        y: &[Share<W>],
        out: &mut [Share<W>],
    ) -> Result<()> {
        let (na, nb, nc) = (x.len(), y.len(), out.len());
        let (rx, rest) = self.scratch.split_at_mut(na);
        let (ry, rest) = rest.split_at_mut(nb);
        let (rz, spare) = rest.split_at_mut(nc);
        for (r, &v) in rx.iter_mut().zip(x) {
            *r = reconstruct(v);
        }
        for (r, &v) in ry.iter_mut().zip(y) {
            *r = reconstruct(v);
        }
        rz.fill(W::ZERO);
        // The exact `f64` kernels when the operands allow (same words, faster; Z_2^64 only),
        // the ring's otherwise (`linalg::exact`).
        let z64 = (W::z64(rx), W::z64(ry), W::z64_mut(rz), W::z64_mut(spare));
        match op {
            Bilinear::Matmul(s) => {
                let done = match z64 {
                    (Some(a), Some(b), Some(c), Some(t)) => exact::matmul(a, b, c, s, t),
                    _ => false,
                };
                if !done {
                    matmul_acc(rx, ry, rz, s)?
                }
            }
            Bilinear::Conv2d(s) => {
                let done = match z64 {
                    (Some(a), Some(b), Some(c), Some(t)) => exact::conv2d(a, b, c, s, t),
                    _ => false,
                };
                if !done {
                    conv2d_acc(rx, ry, rz, s)?
                }
            }
            // `product` runs only matrix and convolution products.
            Bilinear::Elementwise | Bilinear::Broadcast { .. } => {
                return Err(Error::InvalidShape {
                    what: "an elementwise product is not a matrix triple",
                })
            }
        }
        for (o, &z) in out.iter_mut().zip(rz.iter()) {
            o[0] = z;
        }
        ideal::charge_round::<W>(&mut self.net, na + nb);
        let c = self.net.cost_mut();
        c.matrix_triples = c.matrix_triples.wrapping_add(1);
        c.matrix_triple_words = c.matrix_triple_words.wrapping_add((na + nb + nc) as u64);
        self.deal_scaled(out, |_, o| o[0])
    }

    /// `out = [x < 0]`, exactly, by the session's comparison protocol.
    fn ltz_exact(&mut self, x: &[Share<W>], out: &mut [Share<W>]) -> Result<()> {
        check_len(x.len(), out.len())?;
        if self.engine == Engine::Ideal {
            self.ensure(scratch_words_ltz(x.len()))?;
            return self.drawing(|sh| ideal::ltz(&mut sh.net, &mut sh.dealer, x, out));
        }
        if let Some(streams) = self.helper.as_mut() {
            let helper_ring = Error::Unsupported {
                what: "helper-assisted comparisons in Z_2^128 (use the A2B comparison)",
            };
            let (Some(x), Some(out), Some(scratch)) = (
                W::z64_shares(x),
                W::z64_shares_mut(out),
                W::z64_mut(self.scratch),
            ) else {
                return Err(helper_ring);
            };
            // ltz = 1 − DReLU (both settle the tie at 0 alike).
            if self.comparison == Comparison::PrivateCompare {
                drelu::private_compare::pc_drelu(&mut self.net, streams, x, out, scratch)?;
            } else {
                let hide = self.comparison == Comparison::SignHidden;
                drelu::helper_drelu(&mut self.net, streams, hide, x, out, scratch)?;
            }
            drelu::one_minus(out);
            return Ok(());
        }
        comparison::ltz(
            &mut self.net,
            &mut self.dealer,
            &mut self.przs,
            x,
            out,
            self.scratch,
        )
    }

    /// One round: party 0's shares travel in `out`, party 1's in the arena.
    fn open_words(&mut self, x: &[Share<W>], out: &mut [W]) -> Result<()> {
        let n = x.len();
        check_len(n, out.len())?;
        self.ensure(n)?;
        let m1 = &mut self.scratch[..n];
        for i in 0..n {
            out[i] = x[i][0];
            m1[i] = x[i][1];
        }
        self.net.exchange("reveal", Domain::Arithmetic, out, m1)?;
        Ok(())
    }
}

impl<W: Word> Arith for Shared<'_, W> {
    type Elem = Share<W>;

    fn kind(&self) -> ArithKind {
        ArithKind::Shared
    }
    fn fixed_point(&self) -> FixedPoint {
        self.fp
    }
    fn elem_add(&self, a: Share<W>, b: Share<W>) -> Share<W> {
        [a[0].wrapping_add(b[0]), a[1].wrapping_add(b[1])]
    }
    fn elem_sub(&self, a: Share<W>, b: Share<W>) -> Share<W> {
        [a[0].wrapping_sub(b[0]), a[1].wrapping_sub(b[1])]
    }
    fn elem_mul_int(&self, a: Share<W>, k: i64) -> Share<W> {
        let k = W::from_i64(k);
        [a[0].wrapping_mul(k), a[1].wrapping_mul(k)]
    }
    fn elem_int(&self, k: i64) -> Share<W> {
        public(W::from_i64(k))
    }
    fn elem_const(&self, c: f64) -> Result<Share<W>> {
        Ok(public(self.fp.encode_word(c)?))
    }
    fn input(&mut self, x: &[f64], out: &mut [Share<W>]) -> Result<()> {
        self.input_from(DATA_OWNER, x, out)
    }
    fn input_model(&mut self, x: &[f64], out: &mut [Share<W>]) -> Result<()> {
        self.input_from(0, x, out)
    }
    /// One round; each party sends `n` words.
    fn reveal(&mut self, x: &[Share<W>], out: &mut [f64]) -> Result<()> {
        let n = x.len();
        check_len(n, out.len())?;
        self.ensure(2 * n)?;
        let (m0, m1) = self.scratch[..2 * n].split_at_mut(n);
        for i in 0..n {
            m0[i] = x[i][0];
            m1[i] = x[i][1];
        }
        self.net.exchange("reveal", Domain::Arithmetic, m0, m1)?;
        for (o, &w) in out.iter_mut().zip(m0.iter()) {
            *o = self.fp.decode_word(w);
        }
        Ok(())
    }
    fn peek(&self, x: &[Share<W>], out: &mut [f64]) -> Result<()> {
        check_len(x.len(), out.len())?;
        for (o, &s) in out.iter_mut().zip(x) {
            *o = self.fp.decode_word(reconstruct(s));
        }
        Ok(())
    }
    /// Local multiply by the encoded constant, then one truncation.
    fn mul_const(&mut self, x: &mut [Share<W>], c: f64) -> Result<()> {
        let c: W = self.fp.encode_word(c)?;
        self.ensure(self.trunc_words_scale(x.len()))?;
        for s in x.iter_mut() {
            *s = [s[0].wrapping_mul(c), s[1].wrapping_mul(c)];
        }
        self.truncate(x, self.fp.scale() as u64)
    }
    /// A truncation by `d` (local: 0 rounds; dealer mode with `d = 2^k`: 1 round).
    fn div_int(&mut self, x: &mut [Share<W>], d: u64) -> Result<()> {
        self.ensure(self.trunc_words(x.len(), d))?;
        self.truncate(x, d)
    }
    /// One batch: local truncations, or one dealer round for all power-of-two divisors.
    fn div_int_each(&mut self, x: &mut [Share<W>], d: &dyn Fn(usize) -> u64) -> Result<()> {
        truncation::truncate_each(
            &mut self.net,
            &mut self.dealer,
            self.trunc,
            x,
            d,
            self.scratch,
        )
    }
    /// Beaver product (1 round, `n` triples), then one truncation.
    fn mul(&mut self, x: &mut [Share<W>], y: &[Share<W>]) -> Result<()> {
        self.ensure(self.trunc_words_scale(x.len()))?;
        if self.engine == Engine::Ideal {
            let n = x.len();
            check_len(n, y.len())?;
            self.ensure(scratch_words_bilinear(n, n, n))?;
            return self.drawing(|sh| {
                sh.charge_mul(2 * n, n);
                sh.deal_scaled_zip(x, y, |s, t| reconstruct(s).wrapping_mul(reconstruct(t)))
            });
        }
        self.mul_unscaled(x, y)?;
        self.truncate(x, self.fp.scale() as u64)
    }
    /// Broadcasting Beaver product (1 round, `|x|` triples, `|x| + |y|` words opened), then
    /// one truncation.
    fn mul_bcast(&mut self, x: &mut [Share<W>], y: &[Share<W>], inner: usize) -> Result<()> {
        super::check_bcast(x.len(), y.len(), inner)?;
        let n = x.len();
        self.ensure(scratch_words_bilinear(n, y.len(), n).max(self.trunc_words_scale(n)))?;
        if self.engine == Engine::Ideal {
            if self.chunking.is_some() {
                return Err(Error::InvalidShape {
                    what: "a broadcast product inside an elementwise pipeline",
                });
            }
            let c = y.len();
            self.charge_mul(n + c, n);
            return self.deal_scaled(x, |i, s| {
                reconstruct(s).wrapping_mul(reconstruct(y[(i / inner) % c]))
            });
        }
        beaver::bilinear_to_scratch(
            &mut self.net,
            &mut self.dealer,
            Bilinear::Broadcast { inner },
            "mul",
            x,
            y,
            n,
            self.scratch,
        )?;
        beaver::collect_output(&self.scratch[..2 * n], x)?;
        self.truncate(x, self.fp.scale() as u64)
    }
    /// Beaver product (1 round, `n` triples), no truncation.
    fn mul_unscaled(&mut self, x: &mut [Share<W>], y: &[Share<W>]) -> Result<()> {
        let n = x.len();
        check_len(n, y.len())?;
        self.ensure(scratch_words_bilinear(n, n, n))?;
        if self.engine == Engine::Ideal {
            return self.drawing(|sh| {
                sh.charge_mul(2 * n, n);
                let (net, dealer) = (&mut sh.net, &mut sh.dealer);
                ideal::deal_into_zip(
                    net,
                    dealer,
                    x,
                    y,
                    |s, t| reconstruct(s).wrapping_mul(reconstruct(t)),
                    None,
                );
                Ok(())
            });
        }
        beaver::bilinear_checked(
            &mut self.net,
            &mut self.dealer,
            Bilinear::Elementwise,
            "mul",
            x,
            y,
            n,
            self.scratch,
            self.triple_check,
        )?;
        beaver::collect_output(&self.scratch[..2 * n], x)?;
        Ok(())
    }
    /// Square pair (1 round, `n` pairs), then one truncation.
    fn square(&mut self, x: &mut [Share<W>]) -> Result<()> {
        let n = x.len();
        self.ensure(scratch_words_square(n).max(self.trunc_words_scale(n)))?;
        if self.engine == Engine::Ideal {
            return self.drawing(|sh| {
                ideal::charge_round::<W>(&mut sh.net, n);
                let cost = sh.net.cost_mut();
                cost.square_pairs = cost.square_pairs.wrapping_add(n as u64);
                sh.deal_scaled(x, |_, s| {
                    let v = reconstruct(s);
                    v.wrapping_mul(v)
                })
            });
        }
        beaver::square(&mut self.net, &mut self.dealer, x, self.scratch)?;
        self.truncate(x, self.fp.scale() as u64)
    }
    /// One matrix triple (1 round), then one truncation per output.
    fn matmul(
        &mut self,
        a: &[Share<W>],
        b: &[Share<W>],
        out: &mut [Share<W>],
        s: MatShape,
    ) -> Result<()> {
        s.check(a.len(), b.len(), out.len())?;
        self.product(Bilinear::Matmul(s), "matmul", a, b, out)
    }
    /// One convolution triple (1 round), then one truncation per output.
    fn conv2d(
        &mut self,
        x: &[Share<W>],
        w: &[Share<W>],
        out: &mut [Share<W>],
        s: &Conv2dShape,
    ) -> Result<()> {
        s.check(x.len(), w.len(), out.len())?;
        self.product(Bilinear::Conv2d(s), "conv2d", x, w, out)
    }
    /// Local multiply-accumulate by the encoded coefficients, then one truncation per output.
    fn lincomb_const(
        &mut self,
        terms: &[Share<W>],
        coeffs: &[f64],
        out: &mut [Share<W>],
    ) -> Result<()> {
        self.ensure(self.trunc_words_scale(out.len()))?;
        let mac = |v: &mut Share<W>, c: W, t: Share<W>| {
            *v = [
                v[0].wrapping_add(t[0].wrapping_mul(c)),
                v[1].wrapping_add(t[1].wrapping_mul(c)),
            ]
        };
        super::fixed::lincomb_raw(self.fp, terms, coeffs, out, mac)?;
        self.truncate(out, self.fp.scale() as u64)
    }
    /// An ideal functionality in both engines (see [`Arith::msb_map`]): the exact result, dealt
    /// fresh, charged as one `ltz`.
    fn msb_map(
        &mut self,
        x: &[Share<W>],
        out: &mut [Share<W>],
        g: &dyn Fn(i32) -> f64,
    ) -> Result<()> {
        check_len(x.len(), out.len())?;
        self.ensure(scratch_words_ltz(x.len()))?;
        // Encode every value first: an error leaves the dealer and the ledger untouched.
        for &v in x {
            self.fp
                .encode_word::<W>(g(super::fixed::msb_position(reconstruct(v))))?;
        }
        let fp = self.fp;
        self.drawing(|sh| {
            // The ledger of one comparison on these values, then fresh shares of the results.
            ideal::ltz(&mut sh.net, &mut sh.dealer, x, out)?;
            for (o, &v) in out.iter_mut().zip(x) {
                let raw: W = fp.encode_word(g(super::fixed::msb_position(reconstruct(v))))?;
                *o = ideal::deal(&mut sh.dealer, raw);
            }
            Ok(())
        })
    }
    /// 8 rounds; see [`comparison::ltz`]. Then the session's sign test
    /// ([`Shared::with_sign_test`]).
    fn ltz(&mut self, x: &[Share<W>], out: &mut [Share<W>]) -> Result<()> {
        self.ltz_exact(x, out)?;
        self.sign_quirk(x, out);
        Ok(())
    }
    /// With [`Engine::Ideal`] and share-local truncation, a range longer than one chunk runs in
    /// chunks of 1024 elements, so that the pipeline's slices stay in cache. The same words:
    /// every drawing operation of the ideal engine draws one dealer word per element, in
    /// order, so operation `k` of the single call draws, for element `i`, the word at
    /// `P + k·n + i` of the dealer's stream (`P`: where the dealer stood). Chunked, operation
    /// `k` draws from its own cursor, a copy of the dealer moved to `P + k·n`, which walks on
    /// from chunk to chunk; the dealer ends at `P + K·n` after `K` operations, as unchunked.
    /// Share-local truncation draws nothing. The ledger: every count is a sum over elements
    /// (the same split over chunks) except rounds, which the first chunk charges alone. Taken
    /// only when the arena holds the whole range's elementwise need (so no operation can fail
    /// on it for a chunk and not for the range) and `max_ops` is at most 48; otherwise (and
    /// with the protocol engine, dealer truncation or a short range) one call.
    fn elementwise_chunks(
        &mut self,
        n: usize,
        max_ops: usize,
        body: &mut dyn FnMut(&mut Self, usize, usize) -> Result<()>,
    ) -> Result<()> {
        let chunked = self.engine == Engine::Ideal
            && self.trunc == TruncMode::Local
            && self.chunking.is_none()
            && n > CHUNK
            && max_ops <= CURSORS
            && self.scratch.len() >= Shared::scratch_words_elementwise(n);
        if !chunked {
            return body(self, 0, n);
        }
        self.cursors.clear();
        self.chunking = Some(Chunking {
            next: 0,
            first: true,
            skip: Jump::by(((n - CHUNK) as u64).wrapping_mul(W::DRAWS)),
        });
        let mut rounds = None;
        let mut lo = 0;
        let mut result = Ok(());
        while lo < n && result.is_ok() {
            let hi = n.min(lo + CHUNK);
            if let Some(c) = self.chunking.as_mut() {
                c.next = 0;
            }
            result = body(self, lo, hi);
            let cost = self.net.cost_mut();
            match rounds {
                None => rounds = Some(cost.rounds),
                Some(r) => cost.rounds = r,
            }
            if let Some(c) = self.chunking.as_mut() {
                c.first = false;
            }
            lo = hi;
        }
        self.chunking = None;
        if let Some(last) = self.cursors.pop() {
            self.dealer = last;
        }
        self.cursors.clear();
        result
    }
}

impl<W: Word> RingArith for Shared<'_, W> {
    type Word = W;
    fn input_ring(&mut self, raw: &[W], out: &mut [Share<W>]) -> Result<()> {
        check_len(raw.len(), out.len())?;
        self.check_ring()?;
        for (o, &v) in out.iter_mut().zip(raw) {
            *o = share_from(&mut self.przs, DATA_OWNER, v);
        }
        Ok(())
    }
    fn reveal_ring(&mut self, x: &[Share<W>], out: &mut [W]) -> Result<()> {
        self.open_words(x, out)
    }
    fn peek_ring(&self, x: &[Share<W>], out: &mut [W]) -> Result<()> {
        check_len(x.len(), out.len())?;
        for (o, &s) in out.iter_mut().zip(x) {
            *o = reconstruct(s);
        }
        Ok(())
    }
}
