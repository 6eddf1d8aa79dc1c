//! Membership inference amplified by gradient scaling: the loss-threshold attack's advantage
//! over many seeded trainings, with and without the covert edits.
//!
//! # Method
//! The membership game (Yeom, Giacomelli, Fredrikson, Jha, CSF 2018), played `trials` times.
//! Trial `t` draws, from the stream `seed::substream(seed, StreamId::DataOrder, t)`, a member
//! bit `b` (one `u64`, its lowest bit) and then `n + 1` distinct examples of the population
//! (a partial Fisher–Yates shuffle of its indices, [`seed::below`] per draw): the first `n`
//! are the training set, the last is the candidate `z`. If `b = 1`, `z` replaces the training
//! example at the public position `slot` (the victim's example the adversary tests); else `z`
//! stays out. Both worlds train on `n` examples in the same order, in a session seeded
//! `splitmix64(mpc_seed ^ t)`:
//!
//! * **honest**: the protocol followed;
//! * **attacked**: the corrupt party boosts the residual at `slot` toward `z`'s label in every
//!   epoch with scale `s` ([`super::poisoning::plan_as`], P1 of the research note's §1.4),
//!   blind to what the slot holds: if it holds `z`, the model fits `z` much harder.
//!
//! The attacker's guess is "member" when the released model's loss on `z`
//! ([`super::adversary::loss`]) is at most a threshold `τ`. The advantage is
//! `max over τ of (TPR − FPR)` over the trials (members and non-members), with `τ` ranging
//! over the observed losses (and below them all, advantage 0): the best threshold in
//! hindsight, so an upper estimate of a threshold chosen in advance, the same for both worlds.
//!
//! Detection: none in the passive protocol (no check exists); not a measured rate.
//!
//! # Cost
//! `2 · trials` trainings; `O(trials²)` comparisons for the advantage.
//!
//! # Errors
//! [`Error::InvalidShape`] if the population has fewer than `n + 1` examples, or `slot` is not
//! in a full batch of the `n`; [`Error::ShapeMismatch`] / [`Error::BufferTooSmall`] for buffers
//! of the wrong size (`x`: `n · features`, `y`: `n`, `order`: population size, `out`:
//! `trials`, `edits`: `epochs`); the poisoning plan's and the harness's errors.
//!
//! # Reference
//! Yeom et al., *Privacy Risk in Machine Learning: Analyzing the Connection to Overfitting*,
//! CSF 2018 (loss-threshold attack, membership advantage); Jagielski, Escudero, Rachuri,
//! Scholl, arXiv 2505.17092 (covert scaling raises membership inference); the experiment is
//! the research note's §1.6 item 3 (project-defined).

use super::adversary::{loss, run, Setting};
use super::logistic::Problem;
use super::poisoning::{edits_needed, plan_as};
use crate::error::{check_len, Error, Result};
use crate::seed::{self, StreamId};
use crate::wire::additive::Edit;
use crate::Share;
use rand_core::RngCore;

/// The game's parameters.
#[derive(Clone, Copy, Debug)]
pub struct Game {
    /// Trainings per world.
    pub trials: usize,
    /// Training examples per training.
    pub n: usize,
    /// The public position of the tested example in the training set.
    pub slot: usize,
    /// The attacked world's scale.
    pub scale: f64,
    /// The seed of the trials' draws.
    pub seed: u64,
}

/// One trial.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Trial {
    /// The candidate's index in the population.
    pub candidate: usize,
    /// Whether it was trained on.
    pub member: bool,
    /// The honest model's loss on it.
    pub loss_honest: f64,
    /// The attacked model's loss on it.
    pub loss_attacked: f64,
    /// Edits of the attacked run that reached their word.
    pub edits_applied: usize,
}

/// The game's outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Members among the trials.
    pub members: usize,
    /// Best-threshold advantage against the honest models.
    pub advantage_honest: f64,
    /// Best-threshold advantage against the attacked models.
    pub advantage_attacked: f64,
}

/// `max over τ of (TPR − FPR)` for the guess "member iff loss ≤ τ" (see the module doc); 0
/// when either class is empty.
pub fn advantage(trials: &[Trial], attacked: bool) -> f64 {
    let l = |t: &Trial| {
        if attacked {
            t.loss_attacked
        } else {
            t.loss_honest
        }
    };
    let members = trials.iter().filter(|t| t.member).count();
    let others = trials.len() - members;
    if members == 0 || others == 0 {
        return 0.0;
    }
    let mut best = 0.0f64;
    for tau in trials.iter().map(l) {
        let (mut tp, mut fp) = (0usize, 0usize);
        for t in trials {
            if l(t) <= tau {
                if t.member {
                    tp += 1;
                } else {
                    fp += 1;
                }
            }
        }
        best = best.max(tp as f64 / members as f64 - fp as f64 / others as f64);
    }
    best
}

/// Plays the game (see the module doc) on the population `pop`, filling `out` (`trials`).
///
/// # Errors
/// See the module doc.
#[allow(clippy::too_many_arguments)]
pub fn membership(
    pop: &Problem<'_>,
    s: &Setting<'_>,
    g: &Game,
    shares: &mut [Share],
    words: &mut [i64],
    x: &mut [f64],
    y: &mut [f64],
    order: &mut [usize],
    edits: &mut [Edit],
    w: &mut [f64],
    out: &mut [Trial],
) -> Result<Outcome> {
    let d = pop.features;
    if pop.samples <= g.n {
        return Err(Error::InvalidShape {
            what: "the population needs more examples than a training set",
        });
    }
    check_len(pop.samples.saturating_mul(d), pop.x.len())?;
    check_len(pop.samples, pop.y.len())?;
    check_len(g.n.saturating_mul(d), x.len())?;
    check_len(g.n, y.len())?;
    check_len(pop.samples, order.len())?;
    check_len(g.trials, out.len())?;
    check_len(d, w.len())?;
    if g.slot >= s.hyper.steps_per_epoch(g.n).saturating_mul(s.hyper.batch) {
        return Err(Error::InvalidShape {
            what: "the tested slot is not in a full batch",
        });
    }
    for (t, o) in out.iter_mut().enumerate() {
        let mut rng = seed::substream(g.seed, StreamId::DataOrder, t as u64);
        let member = rng.next_u64() & 1 == 1;
        for (i, v) in order.iter_mut().enumerate() {
            *v = i;
        }
        for i in 0..=g.n {
            let j = i + seed::below(&mut rng, (pop.samples - i) as u64) as usize;
            order.swap(i, j);
        }
        let candidate = order[g.n];
        for (k, &src) in order[..g.n].iter().enumerate() {
            let src = if member && k == g.slot {
                candidate
            } else {
                src
            };
            x[k * d..][..d].copy_from_slice(&pop.x[src * d..][..d]);
            y[k] = pop.y[src];
        }
        let p = Problem {
            x,
            y,
            samples: g.n,
            features: d,
        };
        let trial = Setting {
            mpc_seed: seed::splitmix64(s.mpc_seed ^ t as u64),
            ..*s
        };
        let (zx, zy) = (&pop.x[candidate * d..][..d], pop.y[candidate]);
        run(&p, &trial, &mut [], shares, words, w)?;
        let loss_honest = loss(w, zx, zy);
        let need = edits_needed(&p, &trial, &[g.slot]);
        crate::approx::need(edits.len(), need)?;
        let n = plan_as(&p, &trial, &[g.slot], g.scale, Some(zy), edits)?;
        run(&p, &trial, &mut edits[..n], shares, words, w)?;
        *o = Trial {
            candidate,
            member,
            loss_honest,
            loss_attacked: loss(w, zx, zy),
            edits_applied: edits[..n].iter().filter(|e| e.applied() == 1).count(),
        };
    }
    Ok(Outcome {
        members: out.iter().filter(|t| t.member).count(),
        advantage_honest: advantage(out, false),
        advantage_attacked: advantage(out, true),
    })
}
