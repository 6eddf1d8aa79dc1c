//! A view audit of every protocol, after MPCGuard (Lin, Du, Song, Han, Tan, Ma, Fang, Wang, *Is
//! MPC Secure? Leveraging Neural Network Classifiers to Detect Data Leakage Vulnerabilities in
//! MPC Implementations*, IEEE S&P 2025; artifact `FudanMPL/MPCGuard`).
//!
//! # Method
//! For one protocol, one adversary party (0, 1 or the helper) and one pair of secrets, the
//! protocol runs [`RUNS`] times on each secret, each run in its own session (seeds below), and
//! the adversary's **view** is recorded ([`execute`]): at the message seam
//! ([`ViewRecorder`]: what it sends, and each opening as the opened value, as MPCGuard records
//! `all_reduce` results), its input share before, **its own random draws** (its shares of the
//! dealer's material — triple shares, truncation tuples, AND triples, B2A bits — replayed
//! from a copy of the session's dealer and checked to end where the protocol's dealer ended;
//! the raw words of the stream it draws from in the helper protocols: the pair stream for
//! parties 0 and 1, its own for the helper), as MPCGuard's patched `rng.py` logs every random
//! tensor, and last its output share: one row of ring words per run.
//!
//! The **ideal world** is the simulator's view: the same number of uniformly random words (a
//! party's fresh input share, the messages of a secure protocol and its fresh output share are
//! each uniform on their own), as MPCGuard's `functionality.py` simulators emit.
//!
//! * **Per-bit test**: for every word position and each of its 64 bits, a two-proportion
//!   z-test between the two secrets' runs. A bit is flagged when `|z|` exceeds
//!   `√(2·ln(2T/α))`, `T` the number of tests and `α = 0.01` — a Bonferroni threshold with the
//!   Gaussian tail bound `P(|Z| > z) ≤ 2·exp(−z²/2)`, so conservative **\[derived\]**.
//! * **Classifier features**: MPCGuard's — per word the value normalised by
//!   `2^⌈log₂ max|v|⌉` over the data set, and its 64 bits MSB first (65 per word) — plus ours:
//!   the word's magnitude (`bit length of |v|` / 64: a linear model cannot form a magnitude
//!   from two's-complement bits, and the sign-hidden DReLU leaks exactly that) and
//!   [`RESIDUES`] residues, the value of its low `k` bits over `2^k` for `k` = 4, 8, …, 60 (a
//!   threshold on the low bits of a word, which the truncations' rounding is, is then linear;
//!   for a `k` between two of them it is linear in the lower residue and at most 3 bits).
//!   [`FEATURES`] = 81 per word. The classifier is **logistic regression** (Adam, learning
//!   rate 0.01, batches of 100, 20 epochs, zero initial weights) after a seeded shuffle and an
//!   80/20 split, scored by its best test accuracy over the epochs. MPCGuard's is a neural
//!   network ("MPCNN", NALU and MLP branches); the research note allows a linear one (§3.4).
//! * **Input test**: label 0 for the first secret's runs, 1 for the second's. **Leak iff
//!   `acc_real > acc_ideal + 0.1`** (MPCGuard's `accuracy_verify_gap`).
//! * **Output-share test** (MPCGuard's: does the adversary's view predict the victim's output
//!   share mod 2 better than in the ideal world?), on each secret's runs apart, the two
//!   accuracies averaged (for a given input: mixing the secrets would also score a protocol
//!   that computes the wrong function on an extreme secret, which the helper DReLUs do outside
//!   `|x| < 2^45`). For parties 0 and 1 the view ends with the adversary's own output share
//!   `s_a`, so predicting the parity of the victim's share `s_v` is the same task as predicting
//!   the parity of the output `y = s_a + s_v`: the labels differ by bit 0 of `s_a`, which the
//!   view fixes, so the best achievable accuracy is the same in both worlds **\[derived\]**.
//!   The classifier is given the second form (labels `y mod 2`), because the first needs an
//!   XOR with a bit of the view, which a linear model cannot represent. In the ideal world
//!   `y` is the functionality's output, drawn as MPCGuard's functionalities draw it
//!   (truncations: `⌊x/2^16⌋ + Bernoulli(frac)`, its `F_ass_truncpr`, the rounding independent
//!   of everything the adversary sees); for the helper, which holds no output share, the label
//!   is party 1's share and a uniform word in the ideal world. **Leak iff the real accuracy
//!   exceeds the ideal by 0.1.** A deterministic functionality (products, comparisons) can
//!   never fail it: `y` is the same in every run of one secret, in both worlds. A probabilistic
//!   one fails it when the protocol's rounding is a function of the adversary's view: then
//!   the view predicts `y`, hence the victim's share, in every run, where the ideal
//!   functionality's fresh rounding allows only `max(frac, 1 − frac)`.
//!
//! Secret pairs, runs and seed are MPCGuard's: [`SECRET_PAIRS`], [`RUNS`] = 2000, [`SEED`] = 66.
//!
//! # Seeds
//! Run `r` of side `s` (0, 1) of pair `p` uses the session seed = the first draw of sub-stream
//! `(p·2 + s)·2^32 + r` of [`StreamId::Audit`]; the ideal world's words of the same run come from
//! sub-stream `2^62 + (p·2 + s)·2^32 + r`; the classifier's shuffle from sub-stream `2^63 + k`,
//! `k` the test's number (0: input real, 1: input ideal, 2 + 2s: output real of side `s`,
//! 3 + 2s: output ideal of side `s`).
//!
//! # What the protocols compute
//! With `x` the secret (shared by party 1, the victim) on the ring: `mul`: `x·3` (the 3 shared
//! by party 0), no truncation; `matmul`: `[x, 5]·[3, 7]ᵀ`; `trunc.local` and `trunc.dealer`:
//! `x / 2^16` ([`truncation`]); `ltz`: `[x < 0]` ([`comparison::ltz`]); `drelu.*`: `[x ≥ 0]` by
//! [`drelu::drelu`] in each [`Comparison`] (`drelu.pc`: [`Comparison::PrivateCompare`]).

use super::ViewRecorder;
use crate::dealer::Dealer;
use crate::error::{Error, Result};
use crate::linalg::MatShape;
use crate::protocols::beaver::{self, Bilinear};
use crate::protocols::drelu::{self, Comparison, HelperStreams};
use crate::protocols::truncation::{self, TruncMode};
use crate::protocols::{comparison, need};
use crate::seed::{self, StreamId};
use crate::share::{share_from, Share};
use crate::wire::{Net, HELPER};
use rand_core::RngCore;

/// MPCGuard's five secret pairs (`main.py`), as ring words.
pub const SECRET_PAIRS: [(i64, i64); 5] = [
    (1_049_088, i64::MIN),
    (-5_374_770_517_643_919_356, 0),
    (-1_049_088, i64::MAX),
    (123_123_123, !123_123_123),
    (i64::MIN, i64::MAX),
];

/// MPCGuard's executions per secret.
pub const RUNS: usize = 2000;

/// MPCGuard's seed.
pub const SEED: u64 = 66;

/// MPCGuard's accuracy gap.
pub const GAP: f64 = 0.1;

/// Most words one view holds.
pub const VIEW_MAX: usize = 320;

/// Residue features per word: the value of the low `k` bits over `2^k` for `k` = 4, 8, …, 60.
pub const RESIDUES: usize = 15;

/// Classifier features per view word: normalised value, 64 bits, magnitude, the residues.
pub const FEATURES: usize = 66 + RESIDUES;

/// Fraction of bits of the truncations (`x / 2^16`).
pub const TRUNC_BITS: u32 = 16;

/// The audited protocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Beaver elementwise product.
    Mul,
    /// Beaver matrix product.
    Matmul,
    /// Share-local truncation.
    TruncLocal,
    /// Dealer-assisted truncation.
    TruncDealer,
    /// The A2B comparison `ltz`.
    Ltz,
    /// DReLU by the A2B comparison (the helper takes no part).
    DreluA2b,
    /// The leaky helper DReLU.
    DreluLeaky,
    /// The sign-hidden helper DReLU.
    DreluHidden,
    /// The private-compare helper DReLU ([`drelu::private_compare`]).
    DreluPc,
}

impl Protocol {
    /// All of them, in the report's order.
    pub const ALL: [Protocol; 9] = [
        Protocol::Mul,
        Protocol::Matmul,
        Protocol::TruncLocal,
        Protocol::TruncDealer,
        Protocol::Ltz,
        Protocol::DreluA2b,
        Protocol::DreluLeaky,
        Protocol::DreluHidden,
        Protocol::DreluPc,
    ];

    /// Its name in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::Mul => "mul",
            Protocol::Matmul => "matmul",
            Protocol::TruncLocal => "trunc.local",
            Protocol::TruncDealer => "trunc.dealer",
            Protocol::Ltz => "ltz",
            Protocol::DreluA2b => "drelu.a2b",
            Protocol::DreluLeaky => "drelu.leaky",
            Protocol::DreluHidden => "drelu.hidden",
            Protocol::DreluPc => "drelu.pc",
        }
    }

    /// The protocol called `name`.
    pub fn by_name(name: &str) -> Option<Protocol> {
        Protocol::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The parties audited: 0 and 1, and the helper for the DReLUs.
    pub fn parties(self) -> &'static [usize] {
        match self {
            Protocol::DreluA2b
            | Protocol::DreluLeaky
            | Protocol::DreluHidden
            | Protocol::DreluPc => &[0, 1, HELPER],
            _ => &[0, 1],
        }
    }

    /// The ideal functionality's output on `x`, with `coin` uniform in `[0, 1)` for the
    /// probabilistic truncation.
    fn ideal(self, x: i64, coin: f64) -> i64 {
        match self {
            Protocol::Mul => x.wrapping_mul(3),
            Protocol::Matmul => x.wrapping_mul(3).wrapping_add(35),
            Protocol::TruncLocal | Protocol::TruncDealer => {
                let low = (x as u64) & ((1u64 << TRUNC_BITS) - 1);
                let frac = low as f64 / (1u64 << TRUNC_BITS) as f64;
                (x >> TRUNC_BITS).wrapping_add(i64::from(coin < frac))
            }
            Protocol::Ltz => i64::from(x < 0),
            _ => i64::from(x >= 0),
        }
    }
}

/// Scratch words one execution needs (the largest: `drelu.pc`).
const EXEC_SCRATCH: usize = drelu::private_compare::PC_WORDS;

/// What one execution gives the audit besides the view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Execution {
    /// Words of the view written.
    pub view_words: usize,
    /// The victim's output share (party 1's, or party 0's when party 1 is the adversary).
    pub victim_share: i64,
    /// The output, reconstructed from both shares.
    pub output: i64,
}

/// Runs `protocol` once on the secret `x` in the session seeded `seed`, writing `party`'s view
/// into `view` (at most [`VIEW_MAX`] words): its input share (parties 0 and 1), what it sends
/// and each opening's value, its own random draws (its dealer shares: triple shares,
/// truncation tuples, AND triples and B2A bits; raw words of the streams it draws from: the
/// pair stream for parties 0 and 1 and the helper's own for the helper, in the helper
/// protocols) and last its output share (parties 0 and 1).
///
/// # Errors
/// [`Error::OutOfRange`] for a party above [`HELPER`]; [`Error::BufferTooSmall`] if `view` is
/// shorter than the view; the protocol's.
pub fn execute(
    protocol: Protocol,
    party: usize,
    x: i64,
    seed: u64,
    view: &mut [i64],
) -> Result<Execution> {
    if party > HELPER {
        return Err(Error::OutOfRange { what: "party" });
    }
    let mut scratch = [0i64; EXEC_SCRATCH];
    let mut przs = seed::stream(seed, StreamId::Przs);
    let mut dealer = Dealer::new(seed);
    let dealer_before = dealer.clone();
    let mut streams = HelperStreams::new(seed);
    let xs = share_from(&mut przs, 1, x);
    let mut out: [Share; 1] = [[0, 0]];
    let mut rec = ViewRecorder::new(party, view).with_sent().with_openings();
    let own = |s: &Share| if party < 2 { Some(s[party]) } else { None };
    if let Some(w) = own(&xs) {
        rec.push(&[w]);
    }
    {
        let mut net = Net::with_wire(&mut rec);
        match protocol {
            Protocol::Mul | Protocol::Matmul => {
                // The public operands are party 0's inputs; their shares go in the view too
                // (after the wire, so first the Beaver opening).
                let matmul = protocol == Protocol::Matmul;
                let ys = [share_from(&mut przs, 0, 3), share_from(&mut przs, 0, 7)];
                let x2 = [xs, share_from(&mut przs, 0, 5)];
                let (xa, ya, op) = if matmul {
                    (
                        &x2[..],
                        &ys[..],
                        Bilinear::Matmul(MatShape { m: 1, k: 2, n: 1 }),
                    )
                } else {
                    (&x2[..1], &ys[..1], Bilinear::Elementwise)
                };
                beaver::bilinear(
                    &mut net,
                    &mut dealer,
                    op,
                    protocol.name(),
                    xa,
                    ya,
                    &mut out,
                    &mut scratch,
                )?;
                if party < 2 {
                    for s in xa.iter().skip(1).chain(ya) {
                        rec.push(&[s[party]]);
                    }
                }
            }
            Protocol::TruncLocal | Protocol::TruncDealer => {
                let mode = if protocol == Protocol::TruncLocal {
                    TruncMode::Local
                } else {
                    TruncMode::Dealer
                };
                out[0] = xs;
                truncation::truncate(
                    &mut net,
                    &mut dealer,
                    mode,
                    &mut out,
                    1 << TRUNC_BITS,
                    &mut scratch,
                )?;
            }
            Protocol::Ltz => {
                comparison::ltz(
                    &mut net,
                    &mut dealer,
                    &mut przs,
                    &[xs],
                    &mut out,
                    &mut scratch,
                )?;
            }
            Protocol::DreluA2b
            | Protocol::DreluLeaky
            | Protocol::DreluHidden
            | Protocol::DreluPc => {
                let mode = match protocol {
                    Protocol::DreluA2b => Comparison::A2b,
                    Protocol::DreluLeaky => Comparison::Leaky,
                    Protocol::DreluHidden => Comparison::SignHidden,
                    _ => Comparison::PrivateCompare,
                };
                drelu::drelu(
                    &mut net,
                    &mut dealer,
                    &mut przs,
                    &mut streams,
                    mode,
                    &[xs],
                    &mut out,
                    &mut scratch,
                )?;
            }
        }
    }
    // The party's own randomness.
    dealer_shares(protocol, party, &dealer_before, &dealer, &mut rec)?;
    let mut draws = [0i64; 2 * drelu::private_compare::PC_BITS + 4];
    let k = streams
        .draws_since(&HelperStreams::new(seed), party, &mut draws)
        .ok_or(Error::BufferTooSmall {
            needed: draws.len() + 1,
            got: draws.len(),
        })?;
    rec.push(&draws[..k]);
    if let Some(w) = own(&out[0]) {
        rec.push(&[w]);
    }
    if rec.dropped() > 0 {
        return Err(Error::BufferTooSmall {
            needed: rec.len() + rec.dropped(),
            got: rec.len(),
        });
    }
    let victim = if party == 1 { 0 } else { 1 };
    Ok(Execution {
        view_words: rec.len(),
        victim_share: out[0][victim],
        output: out[0][0].wrapping_add(out[0][1]),
    })
}

/// Appends `party`'s shares of the dealer material `protocol` drew (between `before` and
/// `after`) to its view, replaying the protocol's dealer calls on a copy of `before`; the
/// replay must end where the protocol's dealer ended.
///
/// # Errors
/// [`Error::Malformed`] if the replay and the protocol drew differently (a protocol changed
/// its dealer calls without this replay).
fn dealer_shares(
    protocol: Protocol,
    party: usize,
    before: &Dealer,
    after: &Dealer,
    rec: &mut ViewRecorder<'_>,
) -> Result<()> {
    let mut d = before.clone();
    let p = party.min(1);
    let mut words = [0i64; 48];
    let mut len = 0usize;
    let mut put = |w: i64| {
        if len < words.len() {
            words[len] = w;
            len += 1;
        }
    };
    match protocol {
        Protocol::Mul | Protocol::Matmul => {
            let k = if protocol == Protocol::Matmul { 2 } else { 1 };
            let (mut a, mut b, mut c0) = ([[0i64; 2]; 2], [[0i64; 2]; 2], [0i64; 1]);
            for q in 0..2 {
                for a in a.iter_mut().take(k) {
                    a[q] = d.ring();
                }
            }
            for q in 0..2 {
                for b in b.iter_mut().take(k) {
                    b[q] = d.ring();
                }
            }
            d.fill(&mut c0);
            let c = (0..k).fold(0i64, |acc, i| {
                acc.wrapping_add(
                    a[i][0]
                        .wrapping_add(a[i][1])
                        .wrapping_mul(b[i][0].wrapping_add(b[i][1])),
                )
            });
            for a in a.iter().take(k) {
                put(a[p]);
            }
            for b in b.iter().take(k) {
                put(b[p]);
            }
            put(if p == 0 { c0[0] } else { c.wrapping_sub(c0[0]) });
        }
        Protocol::TruncDealer => {
            for s in d.trunc_tuple(TRUNC_BITS) {
                put(s[p]);
            }
        }
        Protocol::Ltz | Protocol::DreluA2b => {
            // ltz on one element: one AND of 1 word, then 6 levels of 2 words; one B2A bit.
            for n in [1usize, 2, 2, 2, 2, 2, 2] {
                let mut t = [[0i64; 2]; 6];
                let [a0, a1, b0, b1, c0, c1] = &mut t;
                d.and_triples(
                    [&mut a0[..n], &mut a1[..n]],
                    [&mut b0[..n], &mut b1[..n]],
                    [&mut c0[..n], &mut c1[..n]],
                );
                for v in [&t[p], &t[2 + p], &t[4 + p]] {
                    for &w in &v[..n] {
                        put(w);
                    }
                }
            }
            let (rb, ra) = d.b2a_bit();
            put(rb[p]);
            put(ra[p]);
        }
        _ => {}
    }
    if party == HELPER {
        // The dealer is not the helper's: it holds no dealer shares.
        len = 0;
    }
    if d.clone().ring() != after.clone().ring() {
        return Err(Error::Malformed {
            what: "audit: the replay of the dealer's draws diverged from the protocol's",
        });
    }
    rec.push(&words[..len]);
    Ok(())
}

/// The session seed of run `r` of side `side` of pair `pair` (see the module doc).
pub fn run_seed(seed: u64, pair: usize, side: usize, r: usize) -> u64 {
    seed::substream(seed, StreamId::Audit, run_index(pair, side, r)).next_u64()
}

/// `(pair·2 + side)·2^32 + r`, wrapping (any `pair` only names seeds).
fn run_index(pair: usize, side: usize, r: usize) -> u64 {
    (pair as u64)
        .wrapping_mul(2)
        .wrapping_add(side as u64)
        .wrapping_shl(32)
        | r as u64
}

/// The work space of one audit test.
#[derive(Debug)]
pub struct Buffers<'b> {
    /// `2·runs·VIEW_MAX` words: real views.
    pub real: &'b mut [i64],
    /// `2·runs·VIEW_MAX` words: ideal views.
    pub ideal: &'b mut [i64],
    /// `2·runs` labels of the output test, real then ideal (`4·runs`).
    pub labels: &'b mut [u8],
    /// `2·runs` sample indices.
    pub order: &'b mut [u32],
    /// [`classifier_work_len`] words.
    pub work: &'b mut [f64],
}

/// `f64` words the classifier needs.
pub const fn classifier_work_len() -> usize {
    // weights + Adam moments (FEATURES per word + bias), gradient, the normalisers.
    4 * (FEATURES * VIEW_MAX + 1) + VIEW_MAX
}

/// Sizes of [`Buffers`] for `runs` per secret: (words of `real` and of `ideal`, labels,
/// order, work).
pub const fn buffer_sizes(runs: usize) -> (usize, usize, usize, usize) {
    (
        runs.saturating_mul(2 * VIEW_MAX),
        runs.saturating_mul(4),
        runs.saturating_mul(2),
        classifier_work_len(),
    )
}

/// The verdict on one (protocol, party, secret pair).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Finding {
    /// Words in the party's view (0: it takes no part, nothing to learn).
    pub view_words: usize,
    /// Input test: classifier accuracy, real world.
    pub acc_real: f64,
    /// Input test: classifier accuracy, ideal world.
    pub acc_ideal: f64,
    /// Per-bit test, real world: the largest `|z|`.
    pub max_z_real: f64,
    /// Per-bit test, ideal world: the largest `|z|`.
    pub max_z_ideal: f64,
    /// Per-bit test, real world: bits over the threshold.
    pub bits_flagged: usize,
    /// The per-bit threshold used.
    pub z_threshold: f64,
    /// Output test: accuracy, real world.
    pub out_real: f64,
    /// Output test: accuracy, ideal world.
    pub out_ideal: f64,
}

impl Finding {
    /// Input leak by MPCGuard's rule.
    pub fn input_leak(&self) -> bool {
        self.acc_real > self.acc_ideal + GAP
    }
    /// Output-share leak by MPCGuard's rule.
    pub fn output_leak(&self) -> bool {
        self.out_real > self.out_ideal + GAP
    }
    /// Some bit differs between the secrets (per-bit test).
    pub fn bit_leak(&self) -> bool {
        self.bits_flagged > 0
    }
}

/// Audits `protocol` for `party` on one secret pair (index `pair` into [`SECRET_PAIRS`], or
/// any pair with the index only naming its seeds) with `runs` executions per secret.
///
/// # Errors
/// [`Error::BufferTooSmall`] for buffers below [`buffer_sizes`]; [`Error::OutOfRange`] for
/// `runs < 10` or above 2^31; [`execute`]'s.
pub fn audit_pair(
    protocol: Protocol,
    party: usize,
    pair: usize,
    secrets: (i64, i64),
    runs: usize,
    seed: u64,
    buf: &mut Buffers<'_>,
) -> Result<Finding> {
    if !(10..=1 << 31).contains(&runs) {
        return Err(Error::OutOfRange {
            what: "runs per secret (10..=2^31)",
        });
    }
    let (nw, nl, no, nk) = buffer_sizes(runs);
    need(nw, buf.real.len())?;
    need(nw, buf.ideal.len())?;
    need(nl, buf.labels.len())?;
    need(no, buf.order.len())?;
    need(nk, buf.work.len())?;
    let n = 2 * runs;
    let mut len = 0usize;
    for side in 0..2 {
        let x = if side == 0 { secrets.0 } else { secrets.1 };
        for r in 0..runs {
            let s = side * runs + r;
            let row = &mut buf.real[s * VIEW_MAX..(s + 1) * VIEW_MAX];
            let run = execute(protocol, party, x, run_seed(seed, pair, side, r), row)?;
            let l = run.view_words;
            if s > 0 && l != len {
                return Err(Error::ShapeMismatch {
                    expected: len,
                    got: l,
                });
            }
            len = l;
            // Parties 0 and 1: the victim's share's parity XOR the adversary's own output
            // share's (its view's last word), i.e. the output's parity (see the module doc).
            let target = if party < 2 {
                run.output
            } else {
                run.victim_share
            };
            buf.labels[s] = (target & 1) as u8;
            // The ideal world: uniform words; the victim's share is the ideal output minus the
            // adversary's (the view's last word when the adversary has an output share).
            let idx = (1u64 << 62) | run_index(pair, side, r);
            let mut g = seed::substream(seed, StreamId::Audit, idx);
            let irow = &mut buf.ideal[s * VIEW_MAX..(s + 1) * VIEW_MAX];
            for w in irow.iter_mut() {
                *w = g.next_u64() as i64;
            }
            let y = protocol.ideal(x, seed::unit_f64(&mut g));
            // The victim's share is y minus the adversary's (uniform) output share, so the
            // target of parties 0 and 1 is y itself; the helper's is a uniform share.
            let target_ideal = if party < 2 && l > 0 {
                y
            } else {
                g.next_u64() as i64
            };
            buf.labels[n + s] = (target_ideal & 1) as u8;
        }
    }
    let mut f = Finding {
        view_words: len,
        ..Finding::default()
    };
    if len == 0 {
        f.acc_real = 0.5;
        f.acc_ideal = 0.5;
        f.out_real = 0.5;
        f.out_ideal = 0.5;
        return Ok(f);
    }
    let (zr, br, t) = bit_test(&buf.real[..n * VIEW_MAX], runs, len);
    let (zi, _, _) = bit_test(&buf.ideal[..n * VIEW_MAX], runs, len);
    f.max_z_real = zr;
    f.max_z_ideal = zi;
    f.bits_flagged = br;
    f.z_threshold = t;
    let side_label = |s: usize| u8::from(s >= runs);
    let (real_labels, ideal_labels) = buf.labels[..2 * n].split_at(n);
    f.acc_real = classify(buf.real, len, n, &side_label, seed, 0, buf.order, buf.work);
    f.acc_ideal = classify(buf.ideal, len, n, &side_label, seed, 1, buf.order, buf.work);
    // The output test per secret (the question is whether the view predicts the victim's share
    // for a given input), averaged over the two secrets.
    let (mut or, mut oi) = (0.0, 0.0);
    for side in 0..2 {
        let lo = side * runs;
        let real_rows = &buf.real[lo * VIEW_MAX..];
        let ideal_rows = &buf.ideal[lo * VIEW_MAX..];
        let t = 2 + 2 * side as u64;
        let rl = |s: usize| real_labels[lo + s];
        let il = |s: usize| ideal_labels[lo + s];
        or += classify(real_rows, len, runs, &rl, seed, t, buf.order, buf.work);
        oi += classify(ideal_rows, len, runs, &il, seed, t + 1, buf.order, buf.work);
    }
    f.out_real = or / 2.0;
    f.out_ideal = oi / 2.0;
    Ok(f)
}

/// The per-bit two-sample test on rows `0..runs` vs `runs..2·runs`: (largest `|z|`, bits over
/// the threshold, threshold).
fn bit_test(rows: &[i64], runs: usize, len: usize) -> (f64, usize, f64) {
    let tests = (64 * len) as f64;
    let threshold = libm::sqrt(2.0 * libm::log(2.0 * tests / 0.01));
    let (mut max_z, mut flagged) = (0.0f64, 0usize);
    let nf = runs as f64;
    for j in 0..len {
        for b in 0..64 {
            let count = |side: usize| {
                (0..runs)
                    .filter(|&r| (rows[(side * runs + r) * VIEW_MAX + j] >> b) & 1 == 1)
                    .count() as f64
            };
            let (ca, cb) = (count(0), count(1));
            let p = (ca + cb) / (2.0 * nf);
            if p <= 0.0 || p >= 1.0 {
                continue;
            }
            let z = libm::fabs((ca - cb) / nf) / libm::sqrt(p * (1.0 - p) * 2.0 / nf);
            max_z = max_z.max(z);
            flagged += usize::from(z > threshold);
        }
    }
    (max_z, flagged, threshold)
}

/// The magnitude feature: the bit length of `|v|` over 64.
fn magnitude(v: i64) -> f64 {
    f64::from(64 - v.unsigned_abs().leading_zeros()) / 64.0
}

/// The residue features: the low `k` bits' value over `2^k`, `k` = 4, 8, …, 60.
fn residues(v: i64) -> [f64; RESIDUES] {
    let mut r = [0.0; RESIDUES];
    for (q, o) in r.iter_mut().enumerate() {
        let k = 4 * (q as u32 + 1);
        *o = ((v as u64) & ((1u64 << k) - 1)) as f64 / (1u64 << k) as f64;
    }
    r
}

/// Logistic regression on MPCGuard's features of the rows, labels from `label`; returns the
/// best test accuracy over the epochs (see the module doc).
#[allow(clippy::too_many_arguments)]
fn classify(
    rows: &[i64],
    len: usize,
    n: usize,
    label: &dyn Fn(usize) -> u8,
    seed: u64,
    test: u64,
    order: &mut [u32],
    work: &mut [f64],
) -> f64 {
    let d = FEATURES * len + 1;
    let (w, rest) = work.split_at_mut(d);
    let (m1, rest) = rest.split_at_mut(d);
    let (m2, rest) = rest.split_at_mut(d);
    let (g, rest) = rest.split_at_mut(d);
    let norm = &mut rest[..len];
    // Normalisers: 2^⌈log₂ max|v|⌉ per word position.
    for (j, nj) in norm.iter_mut().enumerate() {
        let mx = (0..n)
            .map(|s| libm::fabs(rows[s * VIEW_MAX + j] as f64))
            .fold(0.0f64, f64::max);
        *nj = if mx > 0.0 {
            libm::exp2(libm::ceil(libm::log2(mx)))
        } else {
            1.0
        };
    }
    for (i, o) in order.iter_mut().enumerate().take(n) {
        *o = i as u32;
    }
    let mut rng = seed::substream(seed, StreamId::Audit, (1u64 << 63) | test);
    for i in (1..n).rev() {
        let j = seed::below(&mut rng, i as u64 + 1) as usize;
        order.swap(i, j);
    }
    let train = n * 4 / 5;
    w.fill(0.0);
    m1.fill(0.0);
    m2.fill(0.0);
    let row = |s: usize| &rows[s * VIEW_MAX..s * VIEW_MAX + len];
    let score = |w: &[f64], r: &[i64]| {
        let mut z = w[d - 1];
        for (j, &v) in r.iter().enumerate() {
            let base = FEATURES * j;
            z += w[base] * (v as f64 / norm[j]) + w[base + 65] * magnitude(v);
            for (q, r) in residues(v).iter().enumerate() {
                z += w[base + 66 + q] * r;
            }
            let mut bits = v as u64;
            while bits != 0 {
                let b = bits.trailing_zeros() as usize;
                z += w[base + 1 + (63 - b)];
                bits &= bits - 1;
            }
        }
        z
    };
    let (lr, b1, b2, eps) = (0.01f64, 0.9f64, 0.999f64, 1e-8f64);
    let (mut p1, mut p2) = (1.0f64, 1.0f64);
    let mut best = 0.0f64;
    const BATCH: usize = 100;
    for _epoch in 0..20 {
        for chunk in order[..train].chunks(BATCH) {
            g.fill(0.0);
            for &s in chunk {
                let r = row(s as usize);
                let z = score(w, r);
                let p = 1.0 / (1.0 + libm::exp(-z));
                let e = (p - f64::from(label(s as usize))) / chunk.len() as f64;
                g[d - 1] += e;
                for (j, &v) in r.iter().enumerate() {
                    let base = FEATURES * j;
                    g[base] += e * (v as f64 / norm[j]);
                    g[base + 65] += e * magnitude(v);
                    for (q, r) in residues(v).iter().enumerate() {
                        g[base + 66 + q] += e * r;
                    }
                    let mut bits = v as u64;
                    while bits != 0 {
                        let b = bits.trailing_zeros() as usize;
                        g[base + 1 + (63 - b)] += e;
                        bits &= bits - 1;
                    }
                }
            }
            p1 *= b1;
            p2 *= b2;
            for i in 0..d {
                m1[i] = b1 * m1[i] + (1.0 - b1) * g[i];
                m2[i] = b2 * m2[i] + (1.0 - b2) * g[i] * g[i];
                w[i] -= lr * (m1[i] / (1.0 - p1)) / (libm::sqrt(m2[i] / (1.0 - p2)) + eps);
            }
        }
        let correct = order[train..n]
            .iter()
            .filter(|&&s| {
                let z = score(w, row(s as usize));
                u8::from(z > 0.0) == label(s as usize)
            })
            .count();
        best = best.max(correct as f64 / (n - train) as f64);
    }
    best
}

/// Checks a secret-pair index.
///
/// # Errors
/// [`Error::OutOfRange`] past the five pairs.
pub fn secret_pair(i: usize) -> Result<(i64, i64)> {
    SECRET_PAIRS.get(i).copied().ok_or(Error::OutOfRange {
        what: "secret pair index (0..5)",
    })
}

#[cfg(test)]
mod tests;
