//! The helper-assisted DReLUs, the piecewise sigmoid, the view recorder, the sign-leak attack
//! (with hostile first layers: its fields are public), the image metrics and the view audit.

use super::arith::count;
use super::{e, ok};
use crate::stress::{Entry, Gen, Res};
use mpcdiff_kernel::dealer::Dealer;
use mpcdiff_kernel::leak::attack::{self, Activation, FirstLayer, ReconSettings};
use mpcdiff_kernel::leak::{audit, metrics, ViewRecorder};
use mpcdiff_kernel::protocols::drelu::{self, Comparison, HelperStreams};
use mpcdiff_kernel::seed::{self, StreamId};
use mpcdiff_kernel::share::Share;
use mpcdiff_kernel::wire::{Domain, Net};
use mpcdiff_kernel::{FixedPoint, Float};

pub(super) fn entries() -> Vec<Entry> {
    vec![
        e("protocols::drelu::drelu", drelu_any),
        e("protocols::drelu::piecewise_sigmoid", piecewise),
        e("leak::ViewRecorder (as a Wire)", recorder),
        e(
            "leak::attack::{run_first_block,helper_*,sign_image,reconstruct}",
            attack_any,
        ),
        e("leak::metrics::{mse,psnr,ssim}", metrics_any),
        e("leak::audit::{execute,audit_pair}", audit_any),
    ]
}

fn comparison(g: &mut Gen) -> Comparison {
    g.pick(&Comparison::ALL)
}

fn drelu_any(g: &mut Gen) -> Res {
    let n = count(g);
    let x: Vec<Share> = g.shares(n);
    let len = g.len(n);
    let mut out: Vec<Share> = g.shares(len);
    let ns = g.scratch(drelu::scratch_words_drelu(n));
    let mut s = vec![0i64; ns];
    let mut przs = seed::stream(g.u64(), StreamId::Przs);
    drelu::drelu(
        &mut Net::new(),
        &mut Dealer::new(g.u64()),
        &mut przs,
        &mut HelperStreams::new(g.u64()),
        comparison(g),
        &x,
        &mut out,
        &mut s,
    )
}

fn breakpoints(g: &mut Gen) -> Vec<f64> {
    let m = g.small(70);
    let mut c = g.f64s(m);
    if g.bool() {
        c.sort_by(f64::total_cmp);
    }
    c
}

fn piecewise(g: &mut Gen) -> Res {
    let c = breakpoints(g);
    let n = count(g);
    let mut x = g.f64s(n);
    let ns = g.scratch(drelu::scratch_elems_piecewise(n, c.len()));
    let mut s = vec![0.0; ns];
    let v = g.f64();
    let _ = drelu::piecewise_sigmoid_f64(&c, v);
    drelu::piecewise_sigmoid(
        &mut Float::new(FixedPoint::CRYPTEN_DEFAULT),
        &mut x,
        &c,
        &mut s,
    )
}

fn recorder(g: &mut Gen) -> Res {
    let (nw, party) = (g.small(64), g.small(4));
    let mut words = vec![0i64; nw];
    let mut rec = ViewRecorder::new(party, &mut words);
    if g.bool() {
        rec = rec.with_sent();
    }
    if g.bool() {
        rec = rec.with_openings();
    }
    let mut net = Net::with_wire(&mut rec);
    for _ in 0..g.small(6) {
        let n = g.small(40);
        let nb = g.len(n);
        let (mut a, mut b) = (g.rings(n), g.rings(nb));
        let d = if g.bool() {
            Domain::Arithmetic
        } else {
            Domain::Binary
        };
        let _ = match g.below(3) {
            0 => net.exchange("s", d, &mut a, &mut b),
            1 => net.to_helper("s", d, &mut a, &mut b),
            _ => net.from_helper("s", d, &mut a, &mut b),
        };
    }
    let v = rec.view().len();
    let k = g.small(10);
    rec.push(&g.rings(k));
    let _ = (v, rec.dropped(), rec.is_empty());
    Ok(())
}

fn layer(g: &mut Gen) -> FirstLayer {
    // Half the time a layer that passes its check, so the attack runs to the end.
    let sane = g.bool();
    let (channels, k) = if sane {
        (1 + g.small(5), 1 + g.small(6))
    } else {
        (g.small(20), g.small(9))
    };
    let pad = if sane { g.small(k) } else { g.small(4) };
    let hw = if sane {
        (7 + g.small(20), 7 + g.small(20))
    } else {
        (g.small(40), g.small(40))
    };
    let mut l = FirstLayer {
        channels,
        k,
        pad,
        hw,
        weight: [0.0; attack::CHANNELS_MAX * attack::KERNEL_MAX * attack::KERNEL_MAX],
        bias: [0.0; attack::CHANNELS_MAX],
        mean: g.f64(),
    };
    for w in l.weight.iter_mut() {
        *w = if sane { g.real() } else { g.mostly_real() };
    }
    for b in l.bias.iter_mut() {
        *b = if sane { g.real() } else { g.mostly_real() };
    }
    if sane {
        l.mean = g.unit();
    }
    l
}

fn attack_any(g: &mut Gen) -> Res {
    let l = layer(g);
    let c = breakpoints(g);
    let act = if g.bool() {
        Activation::Relu
    } else {
        Activation::Piecewise(&c)
    };
    let m = act.breakpoints().len();
    let sizes = attack::block_sizes(&l, m).unwrap_or(attack::BlockSizes {
        arena_words: 64,
        elems: 64,
        view_words: 64,
    });
    let px = l.pixels().min(1 << 12);
    let lx = g.len(px);
    let x = g.f64s(lx);
    let na = g.scratch(sizes.arena_words.min(1 << 22));
    let mut arena = vec![0i64; na];
    let ne = g.scratch(sizes.elems.min(1 << 20));
    let mut elems: Vec<Share> = vec![[0, 0]; ne];
    let nv = g.scratch(sizes.view_words.min(1 << 20));
    let mut view = vec![0i64; nv];
    let fp = FixedPoint::CRYPTEN_DEFAULT;
    let _ = attack::run_first_block(
        &l,
        act,
        comparison(g),
        fp,
        g.u64(),
        &x,
        &mut arena,
        &mut elems,
        &mut view,
    );
    let n = l.outputs().min(1 << 16);
    let nl = g.len(n);
    let mut levels = vec![0u8; nl];
    let nb = g.len(m.saturating_mul(n));
    let mut bits = vec![0u8; nb];
    let _ = attack::helper_levels(comparison(g), &view, m, n, &mut levels, &mut bits);
    let ns = g.len(n);
    let mut signs = vec![0u8; ns];
    let _ = attack::helper_signs(comparison(g), &view, n, &mut signs);
    let ni = g.len(px);
    let mut img = vec![0.0; ni];
    let _ = attack::sign_image(&levels, l.channels, m, &mut img);
    let np = g.len(px);
    let prior = g.f64s(np);
    let no = g.len(px);
    let mut out = vec![0.0; no];
    let nw = g.scratch(attack::recon_work_len(&l).min(1 << 20));
    let mut work = vec![0.0; nw];
    let settings = if g.bool() {
        ReconSettings {
            steps: g.small(4) as u32,
            ..ReconSettings::default()
        }
    } else {
        ReconSettings {
            steps: g.small(4) as u32,
            lr: g.f64(),
            margin: g.f64(),
            prior: g.f64(),
        }
    };
    let lv = if g.bool() { Some(&levels[..]) } else { None };
    ok(attack::reconstruct(
        &l, lv, &c, &prior, settings, &mut out, &mut work,
    ))
}

fn metrics_any(g: &mut Gen) -> Res {
    let (h, w) = (g.small(12), g.small(12));
    let (la, lb) = (g.len(h * w), g.len(h * w));
    let a = g.f64s(la);
    let b = g.f64s(lb);
    let _ = metrics::mse(&a, &b);
    let _ = metrics::psnr(&a, &b);
    ok(metrics::quality(&a, &b, h, w))
}

fn audit_any(g: &mut Gen) -> Res {
    let p = g.pick(&audit::Protocol::ALL);
    let nv = g.small(70);
    let mut v = vec![0i64; nv];
    let (party, x, sd) = (g.small(4), g.ring(), g.u64());
    let _ = audit::execute(p, party, x, sd, &mut v);
    let runs = g.small(14);
    let (w, l, o, k) = audit::buffer_sizes(runs);
    let n_real = g.scratch(w);
    let mut real = vec![0i64; n_real];
    let n_ideal = g.scratch(w);
    let mut ideal = vec![0i64; n_ideal];
    let nl = g.scratch(l);
    let mut labels = vec![0u8; nl];
    let no = g.scratch(o);
    let mut order = vec![0u32; no];
    let nk = g.scratch(k);
    let mut work = vec![0.0; nk];
    let mut buf = audit::Buffers {
        real: &mut real,
        ideal: &mut ideal,
        labels: &mut labels,
        order: &mut order,
        work: &mut work,
    };
    let (party, pair, secrets, sd) = (
        g.small(3),
        g.index(usize::MAX),
        (g.ring(), g.ring()),
        g.u64(),
    );
    ok(audit::audit_pair(
        p, party, pair, secrets, runs, sd, &mut buf,
    ))
}
