//! A determinism probe: one number that says whether a target computes the kernel bit for bit
//! as x86-64 does.
//!
//! # Why
//! mpcdiff's results are only comparable across machines if the same seed gives the same bits
//! everywhere. The kernel is written for that (explicit `wrapping_*` ring arithmetic, `u64`
//! draws instead of `usize`, `libm` instead of the platform's transcendentals), but a port can
//! still break it: a 32-bit `usize` leaking into a draw, a soft-float routine that rounds
//! differently, a miscompilation. An embedded user cannot ship the whole test suite to a
//! Cortex-M, so [`determinism_digest`] is the probe they run instead: it drives every shared
//! protocol over a small, fixed, seeded workload, in both truncation modes, and folds every
//! revealed ring word, every revealed real and every cost ledger into one FNV-1a [`Digest`].
//! Equal digests on the target and on x86-64 (same seed, same kernel version) mean the target
//! reproduced every share, triple, truncation, wrap event and round count; different digests
//! mean its results must not be compared with anyone else's.
//!
//! `tests/tests/wasm_determinism.rs` runs it natively and in wasm32 (under Node) and compares
//! the two live; the digest itself is never pasted into a test as a golden value.
//!
//! # Workload
//! Format `frac_bits = 16` (CrypTen's default). For each [`TruncMode`] (`Local`, then
//! `Dealer`), a fresh [`Shared`] session seeded with `seed` runs, on inputs drawn from
//! [`seed::stream`]`(seed, `[`StreamId::Synthetic`]`)` (one stream for the whole probe):
//! 1. elementwise on 8 values: input, `reveal`, `mul`, `square`, `mul_const` (0.3 and −1.75),
//!    `div_int` (3, and 4 = a power of two, which takes the dealer path in `Dealer` mode);
//! 2. comparisons: `ltz`, [`relu`], [`select`];
//! 3. [`max_rows`] with argmax on a 2 × 5 matrix that contains a tie;
//! 4. `matmul` (2×4)·(4×3);
//! 5. `conv2d` (1×1×4×4 input, 2×1×3×3 kernel, stride 1, padding 1), then [`avg_pool2d`] and
//!    [`max_pool2d`] (2×2 windows, stride 2) of its output;
//! 6. ring inputs ([`RingArith::input_ring`]) uniform in [−2^62, 2^62) divided by 2^16, so that
//!    share-local truncation wraps now and then and [`Cost::wrap_events`] is exercised.
//!
//! Every result is opened with [`RingArith::reveal_ring`] and its words absorbed, each after a
//! step label, followed by the ledger so far. The workload, its order and its labels are part of
//! the digest's value: changing any of them is a value-breaking change, like changing a stream.
//!
//! # Memory
//! No allocation: operands live in small arrays on the stack (under 2 KiB at the deepest
//! step), the sessions' scratch and the max-pooling temporaries in the caller's arena of at
//! least [`SELFCHECK_ARENA_WORDS`] words (8 KiB). The arena's initial contents do not matter.

use rand_core::RngCore;

use crate::arith::{Arith, RingArith, Shared};
use crate::cost::Cost;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::fixed::FixedPoint;
use crate::linalg::{Conv2dShape, MatShape, Pool2dShape};
use crate::nn::pooling::{avg_pool2d, max_pool2d};
use crate::protocols::beaver::scratch_words_bilinear;
use crate::protocols::comparison::scratch_words_ltz;
use crate::protocols::maximum::{max_rows, scratch_elems_max};
use crate::protocols::select::{relu, select};
use crate::protocols::truncation::{scratch_words_truncate, TruncMode};
use crate::seed::{self, StreamId, Xoshiro256PlusPlus};
use crate::share::Share;

/// Words of arena [`determinism_digest`] needs (8 KiB).
pub const SELFCHECK_ARENA_WORDS: usize = SESSION_WORDS + 2 * SHARE_SCRATCH_ELEMS;

/// Elements of the elementwise steps.
const N: usize = 8;
/// The matrix product.
const MAT: MatShape = MatShape { m: 2, k: 4, n: 3 };
/// The convolution: one 4×4 image, two 3×3 filters, padding 1, so the output is 2×4×4.
const CONV: Conv2dShape = Conv2dShape {
    batch: 1,
    in_ch: 1,
    h: 4,
    w: 4,
    out_ch: 2,
    kh: 3,
    kw: 3,
    stride: 1,
    pad: 1,
};
const CONV_IN: usize = 16;
const CONV_W: usize = 18;
const CONV_OUT: usize = 32;
/// The pooling of the convolution's output: 2 planes of 4×4, 2×2 windows, stride 2.
const POOL: Pool2dShape = Pool2dShape {
    planes: 2,
    h: 4,
    w: 4,
    k: 2,
    stride: 2,
};
const POOL_OUT: usize = 8;
/// The `max_rows` step.
const MAX_ROWS: usize = 2;
const MAX_COLS: usize = 5;

/// The largest `ltz` batch: max pooling's first level compares `8 windows × 2 pairs`.
const LTZ_MAX: usize = POOL_OUT * (POOL.k * POOL.k / 2);

const fn max(a: usize, b: usize) -> usize {
    if a > b {
        a
    } else {
        b
    }
}

/// Scratch words the sessions need: the largest of every step's need.
const SESSION_WORDS: usize = max(
    max(
        // ...and then selects values and indices of those pairs in one bit product.
        max(
            scratch_words_ltz(LTZ_MAX),
            scratch_words_bilinear(2 * LTZ_MAX, 2 * LTZ_MAX, 2 * LTZ_MAX),
        ),
        Shared::scratch_words_matmul(MAT),
    ),
    max(
        max(
            scratch_words_bilinear(CONV_IN, CONV_W, CONV_OUT),
            scratch_words_truncate(CONV_OUT),
        ),
        // reveal_ring of the convolution's output opens CONV_OUT words at once.
        CONV_OUT,
    ),
);

/// Shares of scratch the generic `max_rows` and `max_pool2d` need (kept in the arena).
const SHARE_SCRATCH_ELEMS: usize = max(
    scratch_elems_max(MAX_ROWS, MAX_COLS),
    POOL_OUT * POOL.k * POOL.k + scratch_elems_max(POOL_OUT, POOL.k * POOL.k),
);

/// The version label absorbed first: bump it with any change to the workload.
const LABEL: &[u8] = b"mpcdiff-selfcheck-v1";

/// The digest of the fixed workload described in the [module docs](self), for `seed`.
///
/// Run it on the target and on x86-64 with the same seed and the same kernel version: the two
/// values must be equal. `arena` is scratch (at least [`SELFCHECK_ARENA_WORDS`] words; its
/// contents are overwritten and do not affect the result).
///
/// # Errors
/// [`Error::BufferTooSmall`] if `arena` is shorter than [`SELFCHECK_ARENA_WORDS`] (checked
/// before anything runs). Any other error is a kernel bug.
///
/// ```
/// use mpcdiff_kernel::selfcheck::{determinism_digest, SELFCHECK_ARENA_WORDS};
///
/// let mut arena = [0i64; SELFCHECK_ARENA_WORDS];
/// let d = determinism_digest(42, &mut arena)?;
/// assert_eq!(d, determinism_digest(42, &mut arena)?);
/// # Ok::<(), mpcdiff_kernel::Error>(())
/// ```
pub fn determinism_digest(seed: u64, arena: &mut [i64]) -> Result<u64> {
    run(seed, arena).map(|(digest, _)| digest)
}

/// The digest and the final ledger of each truncation mode (`[Local, Dealer]`).
fn run(seed: u64, arena: &mut [i64]) -> Result<(u64, [Cost; 2])> {
    if arena.len() < SELFCHECK_ARENA_WORDS {
        return Err(Error::BufferTooSmall {
            needed: SELFCHECK_ARENA_WORDS,
            got: arena.len(),
        });
    }
    let fp = FixedPoint::CRYPTEN_DEFAULT;
    let mut rng = seed::stream(seed, StreamId::Synthetic);
    let mut digest = Digest::new();
    digest.bytes(LABEL).u64(seed).u64(u64::from(fp.frac_bits()));
    let mut ledgers = [Cost::default(); 2];
    for (ledger, mode) in ledgers
        .iter_mut()
        .zip([TruncMode::Local, TruncMode::Dealer])
    {
        let (session_words, share_words) = arena.split_at_mut(SESSION_WORDS);
        let (share_scratch, _) = share_words.as_chunks_mut::<2>();
        let share_scratch = &mut share_scratch[..SHARE_SCRATCH_ELEMS];
        digest.bytes(match mode {
            TruncMode::Local => b"trunc=local",
            TruncMode::Dealer => b"trunc=dealer",
            TruncMode::Law(_) => b"trunc=law",
        });
        let mut probe = Probe {
            mpc: Shared::new(fp, seed, session_words).with_truncation(mode),
            digest: &mut digest,
            rng: &mut rng,
        };
        probe.elementwise()?;
        probe.comparisons()?;
        probe.maximum(share_scratch)?;
        probe.matmul()?;
        probe.conv_and_pool(share_scratch)?;
        probe.ring_wraps()?;
        *ledger = probe.mpc.cost();
    }
    Ok((digest.finish(), ledgers))
}

/// One truncation mode's session, the digest and the input stream.
struct Probe<'a, 'd> {
    mpc: Shared<'a>,
    digest: &'d mut Digest,
    rng: &'d mut Xoshiro256PlusPlus,
}

/// Absorbs every field of a ledger, in declaration order.
fn absorb_cost(digest: &mut Digest, c: &Cost) {
    digest
        .u64(c.rounds)
        .u64(c.bytes_sent[0])
        .u64(c.bytes_sent[1])
        .u64(c.mul_triples)
        .u64(c.square_pairs)
        .u64(c.matrix_triples)
        .u64(c.matrix_triple_words)
        .u64(c.and_triples)
        .u64(c.b2a_bits)
        .u64(c.trunc_tuples)
        .u64(c.truncations)
        .u64(c.wrap_events);
}

impl Probe<'_, '_> {
    /// Seeded reals: even positions `2·N(0, 1)` (Box–Muller through `libm`), odd positions
    /// uniform in [−8, 8) — both exact functions of `u64` draws.
    fn draw(&mut self, out: &mut [f64]) {
        for (i, v) in out.iter_mut().enumerate() {
            *v = if i % 2 == 0 {
                2.0 * seed::normal(self.rng)
            } else {
                seed::unit_f64(self.rng) * 16.0 - 8.0
            };
        }
    }

    /// Draws `out.len()` reals and brings them in as shares.
    fn input(&mut self, out: &mut [Share]) -> Result<()> {
        let mut x = [0.0f64; CONV_W];
        let x = &mut x[..out.len()];
        self.draw(x);
        self.mpc.input(x, out)
    }

    /// Opens `x` as ring words and absorbs `label`, the words and the ledger so far.
    fn open(&mut self, label: &[u8], x: &[Share]) -> Result<()> {
        let mut words = [0i64; CONV_OUT];
        let words = &mut words[..x.len()];
        self.mpc.reveal_ring(x, words)?;
        self.digest.bytes(label).i64s(words);
        absorb_cost(self.digest, &self.mpc.cost());
        Ok(())
    }

    /// Input, `reveal`, `mul`, `square`, `mul_const`, `div_int`.
    #[inline(never)]
    fn elementwise(&mut self) -> Result<()> {
        let (mut x, mut y) = ([Share::default(); N], [Share::default(); N]);
        self.input(&mut x)?;
        self.input(&mut y)?;
        self.open(b"input", &x)?;
        let mut reals = [0.0f64; N];
        self.mpc.reveal(&y, &mut reals)?;
        self.digest.bytes(b"reveal").f64s(&reals);

        let mut t = x;
        self.mpc.mul(&mut t, &y)?;
        self.open(b"mul", &t)?;
        let mut t = y;
        self.mpc.square(&mut t)?;
        self.open(b"square", &t)?;
        for (label, c) in [(&b"mul_const 0.3"[..], 0.3), (b"mul_const -1.75", -1.75)] {
            let mut t = x;
            self.mpc.mul_const(&mut t, c)?;
            self.open(label, &t)?;
        }
        for (label, d) in [(&b"div_int 3"[..], 3), (b"div_int 4", 4)] {
            let mut t = x;
            self.mpc.div_int(&mut t, d)?;
            self.open(label, &t)?;
        }
        Ok(())
    }

    /// `ltz`, `relu`, `select`.
    #[inline(never)]
    fn comparisons(&mut self) -> Result<()> {
        let (mut x, mut y) = ([Share::default(); N], [Share::default(); N]);
        self.input(&mut x)?;
        self.input(&mut y)?;
        let mut bits = [Share::default(); N];
        self.mpc.ltz(&x, &mut bits)?;
        self.open(b"ltz", &bits)?;
        let mut out = [Share::default(); N];
        select(&mut self.mpc, &bits, &x, &y, &mut out)?;
        self.open(b"select", &out)?;
        relu(&mut self.mpc, &mut x, &mut bits)?;
        self.open(b"relu", &x)?;
        self.open(b"relu bits", &bits)
    }

    /// `max_rows` with argmax, on a matrix with a tie in its first row.
    #[inline(never)]
    fn maximum(&mut self, scratch: &mut [Share]) -> Result<()> {
        let mut vals = [0.0f64; MAX_ROWS * MAX_COLS];
        self.draw(&mut vals);
        vals[3] = vals[1];
        let mut m = [Share::default(); MAX_ROWS * MAX_COLS];
        self.mpc.input(&vals, &mut m)?;
        let (mut top, mut arg) = ([Share::default(); MAX_ROWS], [Share::default(); MAX_ROWS]);
        max_rows(
            &mut self.mpc,
            &m,
            MAX_ROWS,
            MAX_COLS,
            &mut top,
            Some(&mut arg),
            scratch,
        )?;
        self.open(b"max_rows", &top)?;
        self.open(b"argmax", &arg)
    }

    /// `matmul`.
    #[inline(never)]
    fn matmul(&mut self) -> Result<()> {
        let mut a = [Share::default(); 8];
        let mut b = [Share::default(); 12];
        let mut out = [Share::default(); 6];
        self.input(&mut a)?;
        self.input(&mut b)?;
        self.mpc.matmul(&a, &b, &mut out, MAT)?;
        self.open(b"matmul", &out)
    }

    /// `conv2d`, then average and max pooling of its output.
    #[inline(never)]
    fn conv_and_pool(&mut self, scratch: &mut [Share]) -> Result<()> {
        let mut x = [Share::default(); CONV_IN];
        let mut w = [Share::default(); CONV_W];
        let mut out = [Share::default(); CONV_OUT];
        self.input(&mut x)?;
        self.input(&mut w)?;
        self.mpc.conv2d(&x, &w, &mut out, &CONV)?;
        self.open(b"conv2d", &out)?;
        let mut pooled = [Share::default(); POOL_OUT];
        avg_pool2d(&mut self.mpc, &out, &mut pooled, &POOL, false)?;
        self.open(b"avg_pool2d", &pooled)?;
        max_pool2d(&mut self.mpc, &out, &mut pooled, &POOL, scratch)?;
        self.open(b"max_pool2d", &pooled)
    }

    /// Ring inputs uniform in [−2^62, 2^62), divided by 2^16: share-local truncation wraps
    /// with probability about |x|/2^64 each; the dealer's does not.
    #[inline(never)]
    fn ring_wraps(&mut self) -> Result<()> {
        let mut raw = [0i64; N];
        for r in raw.iter_mut() {
            *r = (self.rng.next_u64() as i64) >> 1;
        }
        let mut x = [Share::default(); N];
        self.mpc.input_ring(&raw, &mut x)?;
        self.mpc.div_int(&mut x, 1 << 16)?;
        self.open(b"ring div 2^16", &x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Goal: the probe is a pure function of the seed (not of the arena's contents or size),
    // it fails cleanly on a short arena, and its workload really exercises every protocol
    // the module doc lists, in both truncation modes.

    fn digest(seed: u64) -> u64 {
        let mut arena = [0i64; SELFCHECK_ARENA_WORDS];
        determinism_digest(seed, &mut arena).expect("selfcheck runs in its documented arena")
    }

    #[test]
    fn same_seed_same_digest_and_seeds_differ() {
        let seeds = [0u64, 1, 2, 42, u64::MAX];
        let mut seen = [0u64; 5];
        for (s, d) in seeds.iter().zip(seen.iter_mut()) {
            *d = digest(*s);
            assert_eq!(*d, digest(*s), "seed {s}: digest not reproducible");
        }
        for i in 0..seen.len() {
            for j in 0..i {
                assert_ne!(seen[i], seen[j], "seeds {} and {}", seeds[i], seeds[j]);
            }
        }
    }

    #[test]
    fn seed_42_gives_the_documented_digest() {
        // kernel/README.md documents this value for comparing targets; a change here is a
        // value-breaking change of some protocol, not of the probe.
        assert_eq!(format!("{:016x}", digest(42)), "32af84f89a95e5b5");
    }

    #[test]
    fn arena_contents_and_extra_length_do_not_matter() {
        let clean = digest(7);
        let mut dirty = [0x5a5a_5a5a_5a5a_5a5a_i64; SELFCHECK_ARENA_WORDS + 100];
        assert_eq!(determinism_digest(7, &mut dirty), Ok(clean));
        // Run again on the arena the first run left behind.
        assert_eq!(determinism_digest(7, &mut dirty), Ok(clean));
    }

    #[test]
    fn short_arena_is_an_error_not_a_panic() {
        let mut arena = [0i64; SELFCHECK_ARENA_WORDS - 1];
        assert_eq!(
            determinism_digest(1, &mut arena),
            Err(Error::BufferTooSmall {
                needed: SELFCHECK_ARENA_WORDS,
                got: SELFCHECK_ARENA_WORDS - 1
            })
        );
        assert!(determinism_digest(1, &mut []).is_err());
    }

    #[test]
    fn workload_exercises_every_protocol_in_both_modes() {
        let mut arena = [0i64; SELFCHECK_ARENA_WORDS];
        let mut local_wraps = 0u64;
        for seed in 0..16 {
            let (_, [local, dealer]) = run(seed, &mut arena).expect("selfcheck runs");
            for (mode, c) in [("local", &local), ("dealer", &dealer)] {
                assert!(c.mul_triples > 0, "seed {seed} {mode}: {c:?}");
                assert!(c.square_pairs > 0, "seed {seed} {mode}: {c:?}");
                assert_eq!(c.matrix_triples, 2, "seed {seed} {mode}: matmul + conv2d");
                assert!(
                    c.and_triples > 0 && c.b2a_bits > 0,
                    "seed {seed} {mode}: {c:?}"
                );
                assert!(c.truncations > 0, "seed {seed} {mode}: {c:?}");
            }
            assert_eq!(
                local.trunc_tuples, 0,
                "seed {seed}: local mode used the dealer"
            );
            assert!(
                dealer.trunc_tuples > 0,
                "seed {seed}: dealer mode never truncated"
            );
            assert_eq!(
                dealer.wrap_events, 0,
                "seed {seed}: dealer truncation wrapped"
            );
            // Local and dealer truncation open different numbers of words.
            assert_ne!(local.rounds, dealer.rounds, "seed {seed}");
            local_wraps = local_wraps.wrapping_add(local.wrap_events);
        }
        assert!(
            local_wraps > 0,
            "no local wrap in 16 seeds: the ring step lost its purpose"
        );
    }

    #[test]
    fn arena_constant_is_what_the_doc_says() {
        assert_eq!(SELFCHECK_ARENA_WORDS * 8, 8 * 1024);
    }
}
