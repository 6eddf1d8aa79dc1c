//! The covert-attack experiments on training: the harness, the reconstruction, the poisoning
//! drivers and the membership game, on small hostile problems (sizes, NaN data and
//! learning rates, hostile profiles, scales, victims, slots and buffers) so a call stays short.

use super::approx::profile;
use super::{e, ok};
use crate::stress::{Entry, Gen, Res};
use mpcdiff_kernel::approx::profile::Profile;
use mpcdiff_kernel::training::adversary::{self, shares_needed, Setting};
use mpcdiff_kernel::training::logistic::{gradient_opening, Hyper, Problem, Sizes};
use mpcdiff_kernel::training::{membership, poisoning, reconstruction, separable};
use mpcdiff_kernel::wire::additive::Edit;
use mpcdiff_kernel::{FixedPoint, Share, TruncMode};

pub(super) fn entries() -> Vec<Entry> {
    vec![
        e(
            "training::adversary::{run,accuracy,loss,logit,predict}",
            harness,
        ),
        e(
            "training::adversary::{detect,authenticated_arena}",
            detect,
        ),
        e("training::reconstruction::reconstruct", reconstruct),
        e(
            "training::poisoning::{plan,plan_as,plan_shift,backdoor,misclassify,stamp_trigger,residual_boost}",
            poison,
        ),
        e("training::membership::{membership,advantage}", game),
        e(
            "training::toggles::{plan,edits_needed,counterpart,authenticated_arena,run,sabotage,detect}",
            toggle,
        ),
    ]
}

/// A small problem: up to 12 samples of up to 6 features, mostly a valid separable set,
/// else hostile values and shapes.
fn data(g: &mut Gen) -> (Vec<f64>, Vec<f64>, usize, usize) {
    if g.one_in(4) {
        let (samples, features) = (g.small(12), g.small(6));
        return (
            g.f64s(samples * features),
            g.f64s(samples),
            samples,
            features,
        );
    }
    let (samples, features) = (1 + g.small(11), 2 + g.small(4));
    let (mut x, mut y) = (vec![0.0; samples * features], vec![0.0; samples]);
    let _ = separable(g.u64(), samples, features, &mut x, &mut y);
    (x, y, samples, features)
}

fn setting<'p>(g: &mut Gen, prof: &'p Profile) -> Result<Setting<'p>, mpcdiff_kernel::Error> {
    Ok(Setting {
        fp: FixedPoint::new(if g.one_in(8) {
            g.u32()
        } else {
            8 + g.small(16) as u32
        })?,
        mode: if g.bool() {
            TruncMode::Local
        } else {
            TruncMode::Dealer
        },
        hyper: Hyper {
            lr: if g.one_in(4) { g.f64() } else { 0.5 },
            batch: if g.one_in(4) {
                g.small(6)
            } else {
                1 + g.small(3)
            },
            epochs: if g.one_in(4) {
                0
            } else {
                1 + g.small(1) as u32
            },
            profile: prof,
        },
        mpc_seed: g.u64(),
        corrupt: g.small(2),
    })
}

/// A buffer length: usually `want` (these buffers outgrow [`Gen::len`]'s cap), else one short
/// or 0.
fn sized(g: &mut Gen, want: usize) -> usize {
    match g.below(8) {
        0 => want.saturating_sub(1),
        1 => 0,
        _ => want.min(1 << 16),
    }
}

/// The session memory, usually of the right size.
fn arena(g: &mut Gen, p: &Problem<'_>, s: &Setting<'_>) -> (Vec<Share>, Vec<i64>) {
    let (shares, words) = match Sizes::of(p, &s.hyper) {
        Ok(sz) => (shares_needed(&sz).unwrap_or(0), sz.words),
        Err(_) => (g.small(64), g.small(64)),
    };
    (
        vec![Share::default(); sized(g, shares)],
        vec![0i64; sized(g, words)],
    )
}

fn edits(g: &mut Gen, want: usize) -> Vec<Edit> {
    let n = g.len(want);
    (0..n)
        .map(|_| Edit::new(gradient_opening(g.u64() % 8, g.small(64)), g.u64() as i64))
        .collect()
}

fn harness(g: &mut Gen) -> Res {
    let prof = profile(g);
    let (x, y, samples, features) = data(g);
    let p = Problem {
        x: &x,
        y: &y,
        samples,
        features,
    };
    let s = setting(g, &prof)?;
    let (mut shares, mut words) = arena(g, &p, &s);
    let mut ed = edits(g, 3);
    let mut w = vec![0.0; g.len(features)];
    adversary::run(&p, &s, &mut ed, &mut shares, &mut words, &mut w)?;
    let _ = adversary::loss(&w, &x, g.f64());
    let _ = adversary::predict(&w, &x);
    let _ = adversary::logit(&w, &x);
    ok(adversary::accuracy(&w, &x, &y))
}

/// The same training under SPDZ2k MACs (`adversary::detect`), hostile arenas and parameter.
fn detect(g: &mut Gen) -> Res {
    use mpcdiff_kernel::arith::authenticated::Auth;
    let prof = profile(g);
    let (x, y, samples, features) = data(g);
    let p = Problem {
        x: &x,
        y: &y,
        samples,
        features,
    };
    let s = setting(g, &prof)?;
    let (need_elems, (need_w, need_e)) = match Sizes::of(&p, &s.hyper) {
        Ok(sz) => (
            adversary::shares_needed(&sz).unwrap_or(0),
            adversary::authenticated_arena(&sz),
        ),
        Err(_) => (g.small(64), (g.small(64), g.small(64))),
    };
    let mut elems = vec![Auth::default(); sized(g, need_elems)];
    let mut words = vec![0i128; sized(g, need_w)];
    let mut arena = vec![Auth::default(); sized(g, need_e)];
    let mut ed = edits(g, 3);
    let mut w = vec![0.0; g.len(features)];
    let mac_s = if g.one_in(4) {
        g.u32()
    } else {
        1 + g.small(64) as u32
    };
    adversary::detect(
        &p, &s, mac_s, &mut ed, &mut elems, &mut words, &mut arena, &mut w,
    )
    .map(|_| ())
}

fn reconstruct(g: &mut Gen) -> Res {
    let prof = profile(g);
    let (x, y, samples, features) = data(g);
    let p = Problem {
        x: &x,
        y: &y,
        samples,
        features,
    };
    let s = setting(g, &prof)?;
    let (mut shares, mut words) = arena(g, &p, &s);
    let victims: Vec<usize> = (0..g.small(2))
        .map(|_| if g.bool() { 0 } else { g.small(7) })
        .collect();
    let image = if g.bool() {
        Some((g.size(), g.size()))
    } else {
        None
    };
    let e = if g.bool() { 1000.0 } else { g.f64() };
    let rows = victims.len() * features;
    let (mut wh, mut wa) = (vec![0.0; g.len(features)], vec![0.0; g.len(features)]);
    let (mut hat, mut oracle) = (vec![0.0; g.len(rows)], vec![0.0; g.len(rows)]);
    let mut out = vec![reconstruction::Recovered::default(); g.len(victims.len())];
    reconstruction::reconstruct(
        &p,
        &s,
        &victims,
        e,
        image,
        &mut shares,
        &mut words,
        &mut wh,
        &mut wa,
        &mut hat,
        &mut oracle,
        &mut out,
    )
}

fn poison(g: &mut Gen) -> Res {
    let prof = profile(g);
    let (mut x, y, samples, features) = data(g);
    let side = g.small(3);
    let _ = poisoning::stamp_trigger(&mut x, (side, g.small(3)), g.small(3), g.small(2), g.f64());
    let _ = poisoning::residual_boost(g.f64(), g.f64());
    let p = Problem {
        x: &x,
        y: &y,
        samples,
        features,
    };
    let s = setting(g, &prof)?;
    let (mut shares, mut words) = arena(g, &p, &s);
    let adv: Vec<usize> = (0..g.small(3)).map(|_| g.small(14)).collect();
    let scales: Vec<f64> = (0..g.small(2))
        .map(|_| if g.bool() { 4.0 } else { g.f64() })
        .collect();
    let feats: Vec<usize> = (0..g.small(3)).map(|_| g.small(7)).collect();
    let boost = if g.bool() {
        poisoning::Boost::Scale { adversary: &adv }
    } else {
        poisoning::Boost::Shift {
            features: &feats,
            steps: if g.one_in(8) {
                g.u64()
            } else {
                g.small(4) as u64
            },
        }
    };
    let want =
        poisoning::edits_needed(&p, &s, &adv).max(poisoning::boost_edits_needed(&p, &s, &boost));
    let mut ed = edits(g, want);
    let mut w = vec![0.0; g.len(features)];
    let (nx, ny) = (g.small(3) * features, g.small(3));
    let (tx, ty) = (g.f64s(nx), g.f64s(ny));
    let test = poisoning::TestSet { x: &tx, y: &ty };
    match g.below(3) {
        0 => {
            if g.bool() {
                let label = g.bool().then(|| g.f64());
                ok(poisoning::plan_as(&p, &s, &adv, g.f64(), label, &mut ed))
            } else {
                ok(poisoning::plan_shift(
                    &p,
                    &s,
                    &feats,
                    g.u64_edge(),
                    g.f64(),
                    g.f64(),
                    &mut ed,
                ))
            }
        }
        1 => {
            let nt = g.small(2) * features;
            let trig = g.f64s(nt);
            let mut out = vec![poisoning::BackdoorRow::default(); g.len(scales.len() + 1)];
            poisoning::backdoor(
                &p,
                &s,
                &boost,
                &scales,
                &test,
                &trig,
                g.f64(),
                &mut shares,
                &mut words,
                &mut ed,
                &mut w,
                &mut out,
            )
        }
        _ => {
            let mut out = vec![poisoning::TargetRow::default(); g.len(scales.len() + 1)];
            poisoning::misclassify(
                &p,
                &s,
                g.small(14),
                g.f64(),
                &scales,
                &test,
                &mut shares,
                &mut words,
                &mut ed,
                &mut w,
                &mut out,
            )
        }
    }
}

fn game(g: &mut Gen) -> Res {
    let prof = profile(g);
    let (x, y, samples, features) = data(g);
    let pop = Problem {
        x: &x,
        y: &y,
        samples,
        features,
    };
    let s = setting(g, &prof)?;
    let gm = membership::Game {
        trials: g.small(3),
        n: g.small(samples.max(1)),
        slot: g.small(8),
        scale: if g.bool() { 4.0 } else { g.f64() },
        seed: g.u64(),
    };
    let sub = Problem {
        x: &x[..(gm.n * features).min(x.len())],
        y: &y[..gm.n.min(y.len())],
        samples: gm.n,
        features,
    };
    let (mut shares, mut words) = arena(g, &sub, &s);
    let (mut bx, mut by) = (vec![0.0; g.len(gm.n * features)], vec![0.0; g.len(gm.n)]);
    let mut order = vec![0usize; g.len(samples)];
    let mut ed = edits(g, s.hyper.epochs as usize);
    let mut w = vec![0.0; g.len(features)];
    let mut out = vec![membership::Trial::default(); g.len(gm.trials)];
    let r = membership::membership(
        &pop,
        &s,
        &gm,
        &mut shares,
        &mut words,
        &mut bx,
        &mut by,
        &mut order,
        &mut ed,
        &mut w,
        &mut out,
    );
    let _ = membership::advantage(&out, g.bool());
    ok(r)
}

/// Comparison toggles on a small MLP: hostile widths, layers, unit counts, step ranges,
/// buffers and MAC parameters.
fn toggle(g: &mut Gen) -> Res {
    use mpcdiff_kernel::arith::authenticated::Auth;
    use mpcdiff_kernel::training::backprop::{self, Hidden, Net};
    use mpcdiff_kernel::training::toggles::{self, AuthBuffers, Buffers, ToggleRow, Toggles};
    let prof = profile(g);
    let (x, y, samples, features) = data(g);
    let p = Problem {
        x: &x,
        y: &y,
        samples,
        features,
    };
    let s = setting(g, &prof)?;
    let widths: Vec<usize> = if g.one_in(12) {
        (0..g.small(4)).map(|_| g.small(5)).collect()
    } else {
        vec![features, 1 + g.small(4), 2]
    };
    let net = Net {
        widths: &widths,
        hidden: if g.one_in(12) {
            Hidden::Sigmoid
        } else {
            Hidden::Relu
        },
    };
    let t = Toggles {
        layer: if g.one_in(12) { g.size() } else { 0 },
        units: if g.one_in(12) { g.size() } else { g.small(3) },
        first_step: if g.one_in(12) { g.u64() } else { 0 },
        steps: if g.one_in(12) {
            g.u64()
        } else {
            g.small(4) as u64
        },
    };
    let _ = toggles::counterpart(Edit::new(gradient_opening(0, 0), 1));
    let _ = toggles::authenticated_arena(&net, s.hyper.batch);
    let want = toggles::edits_needed(&t, s.hyper.batch)
        .unwrap_or(0)
        .min(1 << 12);
    let mut ed = vec![Edit::new(gradient_opening(0, 0), 0); near(g, want)];
    let _ = toggles::plan(&net, s.hyper.batch, &t, &mut ed);
    let sz = backprop::Sizes::of(&net, &p, &s.hyper);
    let (np, nw, nwords) = match sz {
        Ok(z) => (z.params, z.work, z.words),
        Err(_) => (g.small(16), g.small(64), g.small(64)),
    };
    let ns = near(g, np);
    let mut start = vec![0.0; ns];
    if g.one_in(12) || backprop::init(g.u64(), &net, &mut start).is_err() {
        start = g.f64s(ns);
    }
    let (mut params, mut work) = (
        vec![Share::default(); near(g, np)],
        vec![Share::default(); near(g, nw)],
    );
    let (mut words, mut out) = (vec![0i64; near(g, nwords)], vec![0.0; near(g, np)]);
    let mut b = Buffers {
        params: &mut params,
        work: &mut work,
        words: &mut words,
        out: &mut out,
    };
    match g.below(3) {
        0 => toggles::run(&net, &p, &s, &start, &mut ed, &mut b).map(|_| ()),
        1 => {
            let units: Vec<usize> = (0..g.small(3)).map(|_| g.small(4)).collect();
            let mut scratch = vec![0.0; near(g, backprop::eval_scratch_len(&net))];
            let mut rows = vec![ToggleRow::default(); g.len(units.len() + 1)];
            toggles::sabotage(
                &net,
                &p,
                &p,
                &s,
                &start,
                t.layer,
                &units,
                &mut b,
                &mut ed,
                &mut scratch,
                &mut rows,
            )
        }
        _ => {
            let (aw, ae) = toggles::authenticated_arena(&net, s.hyper.batch).unwrap_or((0, 0));
            let (mut ap, mut awk) = (
                vec![Auth::default(); near(g, np)],
                vec![Auth::default(); near(g, nw)],
            );
            let (mut words, mut arena) =
                (vec![0i128; near(g, aw)], vec![Auth::default(); near(g, ae)]);
            let mut out = vec![0.0; near(g, np)];
            let mut ab = AuthBuffers {
                params: &mut ap,
                work: &mut awk,
                words: &mut words,
                arena: &mut arena,
                out: &mut out,
            };
            let mac_s = 1 + g.small(64) as u32;
            toggles::detect(&net, &p, &s, mac_s, &start, &mut ed, &mut ab).map(|_| ())
        }
    }
}

/// A buffer length, `want` but for one call in twelve (one short).
fn near(g: &mut Gen, want: usize) -> usize {
    if g.one_in(12) {
        want.saturating_sub(1)
    } else {
        want.min(1 << 16)
    }
}
