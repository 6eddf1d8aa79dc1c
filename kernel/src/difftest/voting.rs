//! Localization by neuron voting, with a signed score.
//!
//! # The artifact's vote
//! For each deviation-triggering input and each nonlinear layer, the per-neuron error
//! `|h_plain − h_mpc|` of the layer's outputs is ranked; the ⌊n·τ⁺⌋ neurons with the largest
//! error get a *high* vote, the ⌊n·τ⁻⌋ with the smallest a *low* vote (τ⁺ = τ⁻ = 1/3 in the
//! artifact). After all inputs the ⌊n·τ⁺⌋ neurons with most high votes form the high set and
//! the ⌊n·τ⁻⌋ with most low votes the low set; the repair raises the first and lowers the
//! second.
//!
//! # What we add
//! * All nonlinear layers vote in one pass (the artifact runs one prefix network per layer).
//! * The **signed score** `high − low` ranks neurons on one scale (the artifact ranks the two
//!   tallies separately, so a neuron can land in both sets); when it does, the high set wins
//!   (documented precedence, unlike the artifact's file-dependent one).
//! * Ties break by neuron index, so the sets are deterministic.

use crate::error::{check_len, Error, Result};

/// The voting fractions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Thresholds {
    /// τ⁺: the fraction of a layer's neurons that get a high vote per input.
    pub high: f64,
    /// τ⁻: the fraction that get a low vote.
    pub low: f64,
}

impl Thresholds {
    /// The artifact's thirds.
    pub const ARTIFACT: Thresholds = Thresholds {
        high: 1.0 / 3.0,
        low: 1.0 / 3.0,
    };

    /// `⌊n·τ⌋` for `τ` in [0, 1].
    pub fn count(tau: f64, n: usize) -> usize {
        let t = if tau.is_finite() {
            tau.clamp(0.0, 1.0)
        } else {
            0.0
        };
        (libm::floor(n as f64 * t) as usize).min(n)
    }

    fn check(&self) -> Result<()> {
        let ok = |t: f64| (0.0..=1.0).contains(&t);
        if ok(self.high) && ok(self.low) && self.high + self.low <= 1.0 {
            Ok(())
        } else {
            Err(Error::OutOfRange {
                what: "voting fractions must lie in [0, 1] and add up to at most 1",
            })
        }
    }
}

/// Sorts `order` (which must be a permutation of `0..n`) by `key` descending, ties by index.
fn rank_desc<K: Fn(usize) -> f64>(order: &mut [u32], key: K) {
    order.sort_unstable_by(|&a, &b| {
        let (ka, kb) = (key(a as usize), key(b as usize));
        kb.total_cmp(&ka).then(a.cmp(&b))
    });
}

fn identity(order: &mut [u32]) {
    for (i, o) in order.iter_mut().enumerate() {
        *o = i as u32;
    }
}

/// One input's votes for one layer: `err[j] = |h_plain,j − h_mpc,j|`; adds 1 to `high[j]` for
/// the ⌊n·τ⁺⌋ largest errors and to `low[j]` for the ⌊n·τ⁻⌋ smallest. `order` is scratch
/// (`n` long).
///
/// # Errors
/// [`Error::ShapeMismatch`] for slices of different lengths, [`Error::OutOfRange`] for bad
/// fractions.
pub fn vote(
    err: &[f64],
    th: Thresholds,
    order: &mut [u32],
    high: &mut [u32],
    low: &mut [u32],
) -> Result<()> {
    th.check()?;
    let n = err.len();
    check_len(n, order.len())?;
    check_len(n, high.len())?;
    check_len(n, low.len())?;
    identity(order);
    rank_desc(order, |j| err[j]);
    let (h, l) = (Thresholds::count(th.high, n), Thresholds::count(th.low, n));
    // Tallies saturate at u32::MAX votes.
    for &j in &order[..h] {
        high[j as usize] = high[j as usize].saturating_add(1);
    }
    for &j in &order[n - l..] {
        low[j as usize] = low[j as usize].saturating_add(1);
    }
    Ok(())
}

/// The neurons of a layer most voted: `order` ends up ranked by `votes` descending (ties by
/// index) and the first `⌊n·tau⌋` of it are returned.
///
/// # Errors
/// [`Error::ShapeMismatch`] if `order` and `votes` differ in length.
pub fn select<'o>(votes: &[u32], tau: f64, order: &'o mut [u32]) -> Result<&'o [u32]> {
    check_len(votes.len(), order.len())?;
    identity(order);
    rank_desc(order, |j| f64::from(votes[j]));
    let m = Thresholds::count(tau, votes.len());
    Ok(&order[..m])
}

/// The artifact's two sets from a layer's tallies: the high set (the ⌊n·τ⁺⌋ neurons with most
/// high votes, ranked in `high_order`) and the low set (the ⌊n·τ⁻⌋ with most low votes, minus
/// the high set: the high set wins, compacted at the front of `low_order`).
///
/// # Errors
/// [`Error::ShapeMismatch`] for slices of different lengths.
pub fn sets<'o>(
    high: &[u32],
    low: &[u32],
    th: Thresholds,
    high_order: &'o mut [u32],
    low_order: &'o mut [u32],
) -> Result<(&'o [u32], &'o [u32])> {
    let high_set = select(high, th.high, high_order)?;
    let m = select(low, th.low, low_order)?.len();
    let mut kept = 0;
    for k in 0..m {
        let j = low_order[k];
        if !high_set.contains(&j) {
            low_order[kept] = j;
            kept += 1;
        }
    }
    Ok((high_set, &low_order[..kept]))
}

/// Ranks neurons by signed score `high − low` (descending, ties by index) into `order`.
///
/// # Errors
/// [`Error::ShapeMismatch`] for slices of different lengths.
pub fn rank_signed(high: &[u32], low: &[u32], order: &mut [u32]) -> Result<()> {
    check_len(high.len(), low.len())?;
    check_len(high.len(), order.len())?;
    identity(order);
    rank_desc(order, |j| f64::from(high[j]) - f64::from(low[j]));
    Ok(())
}
