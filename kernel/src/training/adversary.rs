//! The harness of the covert-attack experiments: one logistic-regression training in shares
//! with a corrupt party at the message seam, and the plaintext metrics of the model it
//! releases.
//!
//! # Method
//! [`run`] trains `w` (zero initial weights) on a [`Problem`] with [`super::logistic::train`]
//! in a [`Shared`] session seeded `setting.mpc_seed`, with an [`AdditiveAttack`] of party
//! `setting.corrupt` installed and the caller's [`Edit`]s. With no edits the adversary's wire
//! is installed but changes nothing (tested: bit-identical to a session without it), so an
//! experiment's honest run and its attacked runs differ in the edits alone: same data, same
//! dealer, same share randomness. The released model is opened at the end ([`Arith::peek`],
//! the training's output), and every metric ([`accuracy`], [`logit`], [`loss`]) is computed
//! on it in plaintext, as a user of the trained model would.
//!
//! The model is a parameter in one place: [`run`] and the word of a sample's residual in the
//! gradient opening ([`super::covert::gradient_scale`]). Another model trained against
//! [`Arith`] plugs in with its own runner and the position of the same residual word in its
//! own backward pass; the experiments' metrics are on released weights and do not change.
//!
//! # Cost
//! One training: see [`super::logistic`]'s `# Cost`; the edits add nothing.
//!
//! # Errors
//! [`Error::BufferTooSmall`] if `shares` or `words` are shorter than [`shares_needed`] and
//! [`Sizes::words`]; then the training's errors.

use super::logistic::{train, Buffers, Hyper, Problem, Sizes};
use crate::arith::authenticated::Auth;
use crate::arith::{Arith, Authenticated};
use crate::error::{check_len, Error, Result};
use crate::fixed::FixedPoint;
use crate::linalg::MatShape;
use crate::wire::additive::{AdditiveAttack, Edit};
use crate::{Cost, Share, Shared, TruncMode};

/// What every run of one experiment shares: the format, truncation, SGD settings, the MPC
/// seed and which party the adversary corrupts.
#[derive(Clone, Copy, Debug)]
pub struct Setting<'p> {
    /// Fixed-point format.
    pub fp: FixedPoint,
    /// Truncation mode of the session.
    pub mode: TruncMode,
    /// SGD's settings.
    pub hyper: Hyper<'p>,
    /// The session's seed (dealer and share randomness), the same for every run.
    pub mpc_seed: u64,
    /// The corrupt party (0 or 1).
    pub corrupt: usize,
}

/// Shares [`run`] needs for `sz`: data, labels, one transposed batch, logits, gradient,
/// weights and the sigmoid's scratch.
pub fn shares_needed(sz: &Sizes) -> Result<usize> {
    [
        sz.labels,
        sz.rows,
        sz.batch,
        sz.features,
        sz.features,
        sz.scratch,
    ]
    .iter()
    .try_fold(sz.data, |acc, &n| acc.checked_add(n))
    .ok_or(Error::InvalidShape {
        what: "training sizes overflow",
    })
}

/// Trains on `p` in shares with `s`, the corrupt party applying `edits` (see the module doc),
/// and writes the released weights to `w_out` (`features`). Returns the session's ledger.
///
/// # Errors
/// See the module doc.
pub fn run(
    p: &Problem<'_>,
    s: &Setting<'_>,
    edits: &mut [Edit],
    shares: &mut [Share],
    words: &mut [i64],
    w_out: &mut [f64],
) -> Result<Cost> {
    let sz = Sizes::of(p, &s.hyper)?;
    check_len(sz.features, w_out.len())?;
    crate::approx::need(shares.len(), shares_needed(&sz)?)?;
    crate::approx::need(words.len(), sz.words)?;
    let mut adv = AdditiveAttack::new(s.corrupt, edits);
    let mut mpc = Shared::new(s.fp, s.mpc_seed, words)
        .with_truncation(s.mode)
        .with_wire(&mut adv);
    released(&mut mpc, p, &s.hyper, &sz, shares, w_out)?;
    Ok(mpc.cost())
}

/// Trains from zero weights in `a` over the elements `elems` ([`shares_needed`]) and writes the
/// released weights to `w_out`: the one training both [`run`] and [`detect`] run.
fn released<A: Arith>(
    a: &mut A,
    p: &Problem<'_>,
    h: &Hyper<'_>,
    sz: &Sizes,
    elems: &mut [A::Elem],
    w_out: &mut [f64],
) -> Result<()> {
    let (data, rest) = elems.split_at_mut(sz.data);
    let (labels, rest) = rest.split_at_mut(sz.labels);
    let (rows_t, rest) = rest.split_at_mut(sz.rows);
    let (z, rest) = rest.split_at_mut(sz.batch);
    let (grad, rest) = rest.split_at_mut(sz.features);
    let (w, rest) = rest.split_at_mut(sz.features);
    let scratch = &mut rest[..sz.scratch];
    for v in w_out.iter_mut() {
        *v = 0.0;
    }
    a.input_model(w_out, w)?;
    let mut buf = Buffers {
        data,
        labels,
        rows_t,
        z,
        grad,
        scratch,
    };
    train(a, p, h, w, &mut buf)?;
    a.peek(w, w_out)
}

/// What the same attacked training does under SPDZ2k MACs ([`detect`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Detection {
    /// The opening whose MAC check failed (its protocol and round), if one did: the honest
    /// party aborted there and no model was released.
    pub caught: Option<(&'static str, u64)>,
    /// How many of the edits changed a word.
    pub applied: u32,
    /// MAC checks run (one per opening batch) until the end or the abort.
    pub checks: u64,
    /// The ledger until the end or the abort.
    pub cost: Cost,
}

/// `(words, elems)` of the [`Authenticated`] arena [`detect`] needs for `sz`.
pub fn authenticated_arena(sz: &Sizes) -> (usize, usize) {
    let fwd = MatShape {
        m: sz.batch,
        k: sz.features,
        n: 1,
    };
    let grad = MatShape {
        m: sz.features,
        k: sz.batch,
        n: 1,
    };
    let mut need = Authenticated::scratch_elementwise(sz.batch.saturating_mul(4).max(sz.features));
    for (w, e) in [
        Authenticated::scratch_matmul(fwd),
        Authenticated::scratch_matmul(grad),
        // the sigmoid's comparison of the batch's logits
        Authenticated::scratch_comparison(sz.batch),
    ] {
        need = (need.0.max(w), need.1.max(e));
    }
    need
}

/// The same training and edits as [`run`], in an [`Authenticated`] session with statistical
/// parameter `mac_s` (seeded `setting.mpc_seed`): whether the MAC checks catch the edits.
/// Edits aimed `r` rounds after their anchor are re-aimed `3r` rounds after it (each opening's
/// check adds a commitment round and an opening round; exact for the covert edits, whose
/// targets are the openings right after their anchors). `elems` holds [`shares_needed`]
/// elements, `words` and `arena` the [`authenticated_arena`]. The model trained, if no check
/// fails, goes to `w_out`.
///
/// # Errors
/// As [`run`], and [`Authenticated::new`]'s; a failed check is not an error here but
/// [`Detection::caught`].
#[allow(clippy::too_many_arguments)]
pub fn detect(
    p: &Problem<'_>,
    s: &Setting<'_>,
    mac_s: u32,
    edits: &mut [Edit],
    elems: &mut [Auth],
    words: &mut [i128],
    arena: &mut [Auth],
    w_out: &mut [f64],
) -> Result<Detection> {
    let sz = Sizes::of(p, &s.hyper)?;
    check_len(sz.features, w_out.len())?;
    crate::approx::need(elems.len(), shares_needed(&sz)?)?;
    for e in edits.iter_mut() {
        e.target.rounds_after = e.target.rounds_after.saturating_mul(3);
    }
    under_macs(s, mac_s, edits, words, arena, |au| {
        released(au, p, &s.hyper, &sz, elems, w_out)
    })
}

/// Runs `train` in an [`Authenticated`] session with statistical parameter `mac_s` seeded
/// `setting.mpc_seed` over `words` and `arena`, party `setting.corrupt` applying `edits`: the
/// one MAC'd run behind [`detect`] and [`super::toggles::detect`]. A failed check is
/// [`Detection::caught`]; other errors pass through.
pub(crate) fn under_macs(
    s: &Setting<'_>,
    mac_s: u32,
    edits: &mut [Edit],
    words: &mut [i128],
    arena: &mut [Auth],
    train: impl FnOnce(&mut Authenticated<'_>) -> Result<()>,
) -> Result<Detection> {
    let mut adv = AdditiveAttack::new(s.corrupt, edits);
    let mut au = Authenticated::new(s.fp, mac_s, s.mpc_seed, words, arena)?.with_wire(&mut adv);
    let caught = match train(&mut au) {
        Ok(()) => None,
        Err(Error::MacCheckFailed { protocol, round }) => Some((protocol, round)),
        Err(e) => return Err(e),
    };
    let (checks, cost) = (au.checks(), au.cost());
    let applied = adv.edits().iter().map(|e| e.applied()).sum();
    Ok(Detection {
        caught,
        applied,
        checks,
        cost,
    })
}

/// The logit `w · x` of one sample (`x` and `w` of equal length; extra elements of the longer
/// are ignored).
pub fn logit(w: &[f64], x: &[f64]) -> f64 {
    w.iter().zip(x).map(|(a, b)| a * b).sum()
}

/// The model's label for one sample: 1 if its logit is positive, else 0.
pub fn predict(w: &[f64], x: &[f64]) -> f64 {
    if logit(w, x) > 0.0 {
        1.0
    } else {
        0.0
    }
}

/// Binary cross-entropy of the model on one sample with label `y` (0 or 1):
/// `log(1 + e^z) − y·z`, computed as `max(z, 0) + log1p(e^−|z|) − y·z` so that it neither
/// overflows nor loses a small loss to cancellation.
pub fn loss(w: &[f64], x: &[f64], y: f64) -> f64 {
    let z = logit(w, x);
    let small = libm::log1p(libm::exp(-libm::fabs(z)));
    let pos = if z > 0.0 { z } else { 0.0 };
    // Where y = 1 and z > 0 this is log1p(e^−z) exactly, without the cancellation of z − z.
    if y > 0.5 {
        pos - z + small
    } else {
        pos + small
    }
}

/// The fraction of the rows of `x` (`features` each) whose predicted label equals `y`'s.
///
/// # Errors
/// [`Error::ShapeMismatch`] unless `x` has `y.len() · w.len()` elements; [`Error::InvalidShape`]
/// for no samples.
pub fn accuracy(w: &[f64], x: &[f64], y: &[f64]) -> Result<f64> {
    let n = y.len();
    if n == 0 || w.is_empty() {
        return Err(Error::InvalidShape {
            what: "accuracy of no samples",
        });
    }
    check_len(
        n.checked_mul(w.len()).ok_or(Error::InvalidShape {
            what: "samples × features overflows",
        })?,
        x.len(),
    )?;
    let right = x
        .chunks_exact(w.len())
        .zip(y)
        .filter(|(row, &label)| predict(w, row) == label)
        .count();
    Ok(right as f64 / n as f64)
}
