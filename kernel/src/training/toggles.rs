//! Comparison toggles in MLP training: the passive protocol's blind ReLU-mask toggle
//! (primitive P2) on chosen hidden units of every example at every step, its effect on the
//! released model, and the same training under MACs.
//!
//! # Method
//! [`plan`] writes one [`relu_mask_toggle`] per example of every step for units
//! `0 … units − 1` of hidden layer `layer` (the adversary needs only the public schedule: it
//! knows neither the bits nor the data). [`sabotage`] trains the same network from the same
//! parameters in a [`Shared`] session seeded `setting.mpc_seed`, once honestly and once per
//! entry of `units`, with the corrupt party's [`AdditiveAttack`] installed every time (with no
//! edits it changes nothing), and evaluates each released model on a test set in plaintext
//! with ReLU, as its user would. A toggled unit computes `z·[z < 0] = min(z, 0)` in training
//! and passes back only the errors of the examples where `z < 0`: it trains as a "negative
//! ReLU", and the released model, read with ReLU, has those units wrong. Every opened word is
//! still masked, so the passive protocol's honest party sees nothing.
//!
//! It is not gradient *zeroing*: a toggle inverts a mask rather than clearing it (an example's
//! active units stop contributing, its inactive ones start), so it cannot zero a contribution
//! the adversary does not know (research note §1.4, derived).
//!
//! [`detect`] reruns one attacked training in [`Authenticated`] (SPDZ2k MACs, MAC'd
//! comparisons) with each toggle's [`counterpart`]: `+1` on the same word of the same
//! comparison's last opening (`"ltz.xor"`, one per comparison as `"ltz.b2a"` is in the
//! passive protocol, so the occurrences agree). Any change to that word fails its MAC check.
//!
//! # Cost
//! `1 + units.len()` trainings ([`super::backprop`]'s `# Cost` each) and as many plaintext
//! evaluations; [`detect`] one authenticated training up to the abort. The edits add nothing
//! to the ledger; matching them costs `O(messages × edits)` time.
//!
//! # Errors
//! [`Error::OutOfRange`] for a layer or unit count past the network's hidden units, or an
//! empty step range past the schedule; [`Error::InvalidShape`] for a network without ReLU
//! hidden units; [`Error::BufferTooSmall`] / [`Error::ShapeMismatch`] for buffers below
//! [`super::backprop::Sizes::of`], [`edits_needed`] or [`authenticated_arena`]; then the
//! training's errors.
//!
//! # Reference
//! Jagielski, Escudero, Rachuri, Scholl, arXiv 2505.17092 (low-level attacks on activations
//! and comparisons, combined with gradient strategies); the research note's §1.4 (P2). The
//! experiment (sabotage by toggles, accuracy against toggled units) is project-defined.

use super::adversary::{Detection, Setting};
use super::backprop::{evaluate, relu_mask_toggle, train, Hidden, Net, Sizes};
use super::logistic::Problem;
use crate::arith::authenticated::Auth;
use crate::arith::{Arith, Authenticated};
use crate::error::{check_len, Error, Result};
use crate::linalg::MatShape;
use crate::wire::additive::{AdditiveAttack, Edit, Target};
use crate::{Cost, Share, Shared};

/// Which comparisons the adversary toggles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Toggles {
    /// The hidden layer (`0 ≤ layer < L − 1`: the activation after linear layer `layer`).
    pub layer: usize,
    /// Units `0 … units − 1` of that layer.
    pub units: usize,
    /// The first attacked step (counted from the session's first step).
    pub first_step: u64,
    /// How many steps, from `first_step`.
    pub steps: u64,
}

/// Edits [`plan`] writes for `t` with batch `batch`: `steps · batch · units`.
///
/// # Errors
/// [`Error::InvalidShape`] if the count overflows.
pub fn edits_needed(t: &Toggles, batch: usize) -> Result<usize> {
    usize::try_from(t.steps)
        .ok()
        .and_then(|s| s.checked_mul(batch))
        .and_then(|n| n.checked_mul(t.units))
        .ok_or(Error::InvalidShape {
            what: "the number of toggles overflows",
        })
}

/// Writes the toggles of `t` into `out` (step-major, then example, then unit); returns how
/// many ([`edits_needed`]).
///
/// # Errors
/// See the module doc.
pub fn plan(net: &Net<'_>, batch: usize, t: &Toggles, out: &mut [Edit]) -> Result<usize> {
    let n = edits_needed(t, batch)?;
    crate::approx::need(out.len(), n)?;
    let mut slots = out.iter_mut();
    for step in 0..t.steps {
        let step = t.first_step.checked_add(step).ok_or(Error::OutOfRange {
            what: "the attacked steps pass the last step",
        })?;
        for example in 0..batch {
            for unit in 0..t.units {
                let e = relu_mask_toggle(net, batch, step, t.layer, example, unit)?;
                if let Some(slot) = slots.next() {
                    *slot = e;
                }
            }
        }
    }
    Ok(n)
}

/// The toggle's counterpart under MACs (module doc): `+1` on the same word of the same
/// comparison's `"ltz.xor"` opening. Other edits are returned unchanged.
pub fn counterpart(e: Edit) -> Edit {
    if e.target.protocol != "ltz.b2a" {
        return e;
    }
    Edit::new(
        Target {
            protocol: "ltz.xor",
            ..e.target
        },
        1,
    )
}

/// `(words, elems)` of the [`Authenticated`] arena one training step of `net` with batch
/// `batch` needs (every product, truncation, parameter update and comparison; saturating).
///
/// # Errors
/// [`Net::check`]'s.
pub fn authenticated_arena(net: &Net<'_>, batch: usize) -> Result<(usize, usize)> {
    net.check()?;
    let mut need = (0usize, 0usize);
    let mut grow = |(w, e): (usize, usize)| need = (need.0.max(w), need.1.max(e));
    for pair in net.widths.windows(2) {
        let (i, o) = (pair[0], pair[1]);
        for s in [
            MatShape {
                m: batch,
                k: i,
                n: o,
            },
            MatShape {
                m: i,
                k: batch,
                n: o,
            },
            MatShape {
                m: batch,
                k: o,
                n: i,
            },
        ] {
            grow(Authenticated::scratch_matmul(s));
        }
        grow(Authenticated::scratch_elementwise(
            i.saturating_mul(o).saturating_add(o),
        ));
        grow(Authenticated::scratch_elementwise(batch.saturating_mul(o)));
        // the masks' comparisons, or the softmax maximum's (at most B·n_L)
        grow(Authenticated::scratch_comparison(batch.saturating_mul(o)));
    }
    Ok(need)
}

/// Trains `net` from `start` on `p` in `a` and writes the released parameters to `out`.
#[allow(clippy::too_many_arguments)]
fn released<A: Arith>(
    a: &mut A,
    net: &Net<'_>,
    p: &Problem<'_>,
    s: &Setting<'_>,
    start: &[f64],
    params: &mut [A::Elem],
    work: &mut [A::Elem],
    out: &mut [f64],
) -> Result<()> {
    a.input_model(start, params)?;
    train(a, net, p, &s.hyper, params, work)?;
    a.peek(params, out)
}

/// The buffers of one passive training.
#[derive(Debug)]
pub struct Buffers<'b> {
    /// Parameters in shares ([`Sizes::params`]).
    pub params: &'b mut [Share],
    /// The training's work buffer ([`Sizes::work`]).
    pub work: &'b mut [Share],
    /// The session's words ([`Sizes::words`]).
    pub words: &'b mut [i64],
    /// The released parameters, in plaintext ([`Sizes::params`]).
    pub out: &'b mut [f64],
}

/// One passive training of `net` from `start` on `p` with the corrupt party's `edits`; the
/// released parameters go to `b.out`. Returns the ledger.
///
/// # Errors
/// See the module doc.
pub fn run(
    net: &Net<'_>,
    p: &Problem<'_>,
    s: &Setting<'_>,
    start: &[f64],
    edits: &mut [Edit],
    b: &mut Buffers<'_>,
) -> Result<Cost> {
    let sz = Sizes::of(net, p, &s.hyper)?;
    check_len(sz.params, start.len())?;
    check_len(sz.params, b.out.len())?;
    crate::approx::need(b.params.len(), sz.params)?;
    crate::approx::need(b.words.len(), sz.words)?;
    let mut adv = AdditiveAttack::new(s.corrupt, edits);
    let mut mpc = Shared::new(s.fp, s.mpc_seed, b.words)
        .with_truncation(s.mode)
        .with_wire(&mut adv);
    let params = &mut b.params[..sz.params];
    released(&mut mpc, net, p, s, start, params, b.work, b.out)?;
    Ok(mpc.cost())
}

/// One row of [`sabotage`]: a training and its released model's quality on the test set.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ToggleRow {
    /// Units toggled (0: the honest run).
    pub units: usize,
    /// Test accuracy of the released model.
    pub accuracy: f64,
    /// Its mean test cross-entropy.
    pub loss: f64,
    /// Edits that reached their word.
    pub edits_applied: usize,
}

/// The sabotage experiment (module doc): the honest training, then one per entry of `units`
/// (toggling units `0 … u − 1` of hidden layer `layer` at every example of every step),
/// each evaluated on `test` (`scratch`: [`super::backprop::eval_scratch_len`]). Writes
/// `1 + units.len()` rows to `rows`. `edits` holds [`edits_needed`] for the largest entry.
///
/// # Errors
/// See the module doc.
#[allow(clippy::too_many_arguments)]
pub fn sabotage(
    net: &Net<'_>,
    p: &Problem<'_>,
    test: &Problem<'_>,
    s: &Setting<'_>,
    start: &[f64],
    layer: usize,
    units: &[usize],
    b: &mut Buffers<'_>,
    edits: &mut [Edit],
    scratch: &mut [f64],
    rows: &mut [ToggleRow],
) -> Result<()> {
    check_len(units.len().saturating_add(1), rows.len())?;
    if net.hidden != Hidden::Relu {
        return Err(Error::InvalidShape {
            what: "toggles need a ReLU network",
        });
    }
    if test.samples == 0 {
        return Err(Error::InvalidShape {
            what: "an empty test set",
        });
    }
    let steps = s.hyper.steps_per_epoch(p.samples) as u64 * u64::from(s.hyper.epochs);
    for (row, &u) in rows.iter_mut().zip(core::iter::once(&0).chain(units)) {
        let t = Toggles {
            layer,
            units: u,
            first_step: 0,
            steps,
        };
        let n = plan(net, s.hyper.batch, &t, edits)?;
        let mine = &mut edits[..n];
        run(net, p, s, start, mine, b)?;
        let ev = evaluate(net, b.out, test, scratch)?;
        *row = ToggleRow {
            units: u,
            accuracy: ev.correct as f64 / test.samples as f64,
            loss: ev.loss,
            edits_applied: mine.iter().filter(|e| e.applied() > 0).count(),
        };
    }
    Ok(())
}

/// The buffers of one authenticated training.
#[derive(Debug)]
pub struct AuthBuffers<'b> {
    /// Parameters ([`Sizes::params`]).
    pub params: &'b mut [Auth],
    /// The training's work buffer ([`Sizes::work`]).
    pub work: &'b mut [Auth],
    /// The session's word arena ([`authenticated_arena`]'s first).
    pub words: &'b mut [i128],
    /// The session's element arena ([`authenticated_arena`]'s second).
    pub arena: &'b mut [Auth],
    /// The released parameters if no check failed ([`Sizes::params`]).
    pub out: &'b mut [f64],
}

/// The same training as [`run`] with `edits` mapped to their [`counterpart`]s, in an
/// [`Authenticated`] session with statistical parameter `mac_s` seeded `setting.mpc_seed`:
/// whether the MAC checks catch them.
///
/// # Errors
/// As [`run`] and [`Authenticated::new`]'s; a failed check is [`Detection::caught`].
pub fn detect(
    net: &Net<'_>,
    p: &Problem<'_>,
    s: &Setting<'_>,
    mac_s: u32,
    start: &[f64],
    edits: &mut [Edit],
    b: &mut AuthBuffers<'_>,
) -> Result<Detection> {
    let sz = Sizes::of(net, p, &s.hyper)?;
    check_len(sz.params, start.len())?;
    check_len(sz.params, b.out.len())?;
    crate::approx::need(b.params.len(), sz.params)?;
    for e in edits.iter_mut() {
        *e = counterpart(*e);
    }
    let params = &mut b.params[..sz.params];
    let (work, out) = (&mut *b.work, &mut *b.out);
    super::adversary::under_macs(s, mac_s, edits, b.words, b.arena, |au| {
        released(au, net, p, s, start, params, work, out)
    })
}
