//! The approximations: `eval` of every function under hostile profiles and levels in each
//! arithmetic, each module's functions directly, the levels, the error attribution.

use super::arith::{count, on_fixed, on_float, with_shared_need, Job};
use super::{e, ok, Draw};
use crate::stress::{Entry, Gen, Res};
use mpcdiff_kernel::approx::attribution::{self, Memory, Probe, Stages};
use mpcdiff_kernel::approx::profile::{
    self, ErfMethod, ErfParams, ExpDivide, GeluImpl, InvSqrtMethod, InvSqrtParams, LogMethod,
    LogParams, PowMode, Profile, RecipInit, RecipParams, SigmoidMethod,
};
use mpcdiff_kernel::approx::{self, Function, Level, Levels};
use mpcdiff_kernel::arith::Arith;
use mpcdiff_kernel::{Shared, TruncMode};

pub(super) fn entries() -> Vec<Entry> {
    vec![
        e("approx::eval(Float)", eval_float),
        e("approx::eval(Fixed)", eval_fixed),
        e("approx::eval(Shared)", eval_shared),
        e("approx::exp::{exp,exp_uniform}", exp),
        e("approx::log::log", log),
        e(
            "approx::reciprocal::{reciprocal,reciprocal_pos}",
            reciprocal,
        ),
        e("approx::sqrt::{inv_sqrt,sqrt}", sqrt),
        e("approx::reciprocal::reciprocal_goldschmidt", goldschmidt),
        e("approx::polynomial::polynomial", polynomial),
        e(
            "training::{separable,logistic::{Sizes::of,train}}",
            training,
        ),
        e(
            "training::backprop::{Sizes::of,init,train,evaluate}",
            backprop,
        ),
        e(
            "training::convnet::{ConvNet::plan,Sizes::of,init,train,evaluate}",
            convnet,
        ),
        e(
            "approx::sigmoid::{sigmoid,tanh,chebyshev_tanh_coeffs}",
            sigmoid,
        ),
        e("approx::erf::{erf,pow,erf_bounded}", erf),
        e("approx::gelu::{gelu_tanh,gelu_erf,gelu_erf_graph}", gelu),
        e(
            "approx::chebyshev::{odd_coeffs,odd_series,hardtanh}",
            chebyshev,
        ),
        e("approx::softmax::softmax", softmax),
        e("approx::levels::Levels::{check,at,max}", levels_entry),
        e("approx::attribution::{attribute,curve}", attribution),
        e("approx::{Function,profile}::* (lookups, exact)", lookups),
    ]
}

fn level(g: &mut Gen) -> Level {
    if g.one_in(8) {
        Level::new(g.u8(), g.u8())
    } else {
        Level::new(g.below(12) as u8, g.below(12) as u8)
    }
}

/// A Newton start, hostile parameters included.
fn init(g: &mut Gen) -> RecipInit {
    match g.below(4) {
        0 => RecipInit::Crypten { iters_exp: g.u8() },
        1 => RecipInit::PySyft { iters_exp: g.u8() },
        2 => RecipInit::Goldschmidt,
        _ => RecipInit::Const(g.f64()),
    }
}

/// A profile: a built-in one with some fields made hostile.
pub(crate) fn profile(g: &mut Gen) -> Profile {
    let mut p = *g.pick(profile::PROFILES);
    for _ in 0..g.small(2) {
        match g.below(10) {
            0 => p.exp_iters = g.u8(),
            1 => {
                p.reciprocal = RecipParams {
                    iters_nr: g.u8(),
                    init: init(g),
                    all_pos: g.bool(),
                }
            }
            2 => {
                p.inv_sqrt = InvSqrtParams {
                    iters_nr: g.u8(),
                    iters_exp: g.u8(),
                    method: if g.bool() {
                        InvSqrtMethod::Crypten
                    } else {
                        InvSqrtMethod::PySyftNewton
                    },
                }
            }
            3 => {
                p.log = LogParams {
                    method: if g.bool() {
                        LogMethod::Householder
                    } else {
                        LogMethod::SpuMinmax
                    },
                    iters: g.small(4) as u8,
                    iters_exp: g.u8(),
                    iters_exp_init: g.u8(),
                    order: g.u8(),
                }
            }
            4 => {
                p.sigmoid = match g.below(4) {
                    0 => SigmoidMethod::Reciprocal {
                        nr_init: g.f64(),
                        crypten_where: g.bool(),
                    },
                    1 => SigmoidMethod::Limit {
                        divide: if g.bool() {
                            ExpDivide::Truncate
                        } else {
                            ExpDivide::Constant
                        },
                        init: init(g),
                    },
                    2 => SigmoidMethod::Pond,
                    _ => SigmoidMethod::Chebyshev { terms: g.u8() },
                }
            }
            5 => p.sigmoid_level = level(g),
            6 => {
                p.erf = ErfParams {
                    method: if g.bool() {
                        ErfMethod::Taylor
                    } else {
                        ErfMethod::Spu {
                            goldschmidt_iters: g.u8(),
                        }
                    },
                    terms: g.u8(),
                    pow: if g.bool() {
                        PowMode::Exact
                    } else {
                        PowMode::CryptenBug
                    },
                }
            }
            7 => {
                p.softmax_reciprocal = RecipParams {
                    iters_nr: g.u8(),
                    init: RecipInit::Crypten { iters_exp: g.u8() },
                    all_pos: g.bool(),
                }
            }
            8 => {
                p.gelu = if g.bool() {
                    GeluImpl::TanhForm
                } else {
                    GeluImpl::ErfBounded
                }
            }
            _ => p.repair.high = level(g),
        }
    }
    p
}

/// The levels of a call on `n` elements, kept alive in `store`.
fn levels<'s>(g: &mut Gen, n: usize, store: &'s mut Vec<Level>) -> Levels<'s> {
    match g.below(4) {
        0 | 1 => Levels::Uniform(level(g)),
        2 => {
            *store = (0..g.len(n)).map(|_| level(g)).collect();
            Levels::PerElement(store)
        }
        _ => {
            *store = (0..g.small(4)).map(|_| level(g)).collect();
            Levels::Cyclic(store)
        }
    }
}

/// A job over an arithmetic, with a session arena sized for `n` elements' approximations.
fn on_any_sized<J: Job>(g: &mut Gen, n: usize, job: &J) -> Res {
    match g.below(3) {
        0 => on_float(g, job),
        1 => on_fixed(g, job),
        _ => with_shared_need(
            g,
            Shared::scratch_words_elementwise(n.saturating_mul(8)),
            |a, g| job.run(a, g),
        ),
    }
}

struct Eval(usize);
impl Job for Eval {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let n = self.0;
        let f = g.pick(Function::ALL);
        let p = profile(g);
        let mut store = Vec::new();
        let l = levels(g, n, &mut store);
        let mut x: Vec<A::Elem> = g.elems(n);
        let mut s: Vec<A::Elem> = vec![A::Elem::default(); g.scratch(approx::scratch_elems(n))];
        approx::eval(a, f, &p, &mut x, &l, &mut s)
    }
}

fn eval_float(g: &mut Gen) -> Res {
    let n = count(g);
    on_float(g, &Eval(n))
}

fn eval_fixed(g: &mut Gen) -> Res {
    let n = count(g);
    on_fixed(g, &Eval(n))
}

fn eval_shared(g: &mut Gen) -> Res {
    let n = count(g);
    let need = Shared::scratch_words_elementwise(n.saturating_mul(8));
    with_shared_need(g, need, |a, g| Eval(n).run(a, g))
}

/// A call `f(arith, x, levels, scratch)` on hostile inputs, scratch sized by `need(n)`.
macro_rules! direct {
    ($name:ident, $need:expr, |$a:ident, $g:ident, $x:ident, $l:ident, $s:ident| $call:expr) => {
        fn $name(g: &mut Gen) -> Res {
            struct J(usize);
            impl Job for J {
                fn run<A: Arith>(&self, $a: &mut A, $g: &mut Gen) -> Res
                where
                    A::Elem: Draw,
                {
                    let n = self.0;
                    let mut store = Vec::new();
                    let $l = levels($g, n, &mut store);
                    let mut xv: Vec<A::Elem> = $g.elems(n);
                    let $x = &mut xv[..];
                    let need: fn(usize) -> usize = $need;
                    let mut sv: Vec<A::Elem> = vec![A::Elem::default(); $g.scratch(need(n))];
                    let $s = &mut sv[..];
                    $call
                }
            }
            let n = count(g);
            on_any_sized(g, n, &J(n))
        }
    };
}

direct!(
    goldschmidt,
    approx::reciprocal::scratch_elems_goldschmidt,
    |a, g, x, l, s| {
        let mut out = x.to_vec();
        if g.one_in(8) {
            out.pop();
        }
        approx::reciprocal::reciprocal_goldschmidt(a, x, &mut out, &l, s)
    }
);

direct!(
    polynomial,
    |n| approx::polynomial::scratch_elems(n, 34),
    |a, g, x, _l, s| {
        let mut coeffs = vec![0.0f32; g.small(35)];
        for c in coeffs.iter_mut() {
            *c = g.f64() as f32;
        }
        let mut out = x.to_vec();
        if g.one_in(8) {
            out.pop();
        }
        approx::polynomial::polynomial(a, x, &coeffs, &mut out, s)
    }
);

/// Logistic-regression training on a hostile problem (small sizes so a run stays short):
/// bad shapes, NaN data and learning rates, wrong buffer lengths, any profile.
struct Train;
impl Job for Train {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        use mpcdiff_kernel::training::{self, logistic};
        let (samples, features) = (g.small(12), g.small(5));
        let n = samples.saturating_mul(features);
        let mut x = g.f64s(n);
        let mut y = g.f64s(samples);
        if g.bool() {
            training::separable(g.u64(), samples, features, &mut x, &mut y)?;
        }
        let prof = profile(g);
        let p = logistic::Problem {
            x: &x,
            y: &y,
            samples,
            features,
        };
        let h = logistic::Hyper {
            lr: g.f64(),
            batch: g.small(6),
            epochs: g.small(3) as u32,
            profile: &prof,
        };
        let sz = logistic::Sizes::of(&p, &h)?;
        let el = |g: &mut Gen, want: usize| -> Vec<A::Elem> {
            let len = if g.one_in(16) { g.len(want) } else { want };
            g.elems(len)
        };
        let (mut data, mut labels, mut rows_t) = (el(g, sz.data), el(g, sz.labels), el(g, sz.rows));
        let (mut z, mut grad, mut scratch) =
            (el(g, sz.batch), el(g, sz.features), el(g, sz.scratch));
        let mut w = el(g, sz.features);
        let mut buf = logistic::Buffers {
            data: &mut data,
            labels: &mut labels,
            rows_t: &mut rows_t,
            z: &mut z,
            grad: &mut grad,
            scratch: &mut scratch,
        };
        logistic::train(a, &p, &h, &mut w, &mut buf)
    }
}

fn training(g: &mut Gen) -> Res {
    on_any_sized(g, 24, &Train)
}

struct Backprop;

impl Job for Backprop {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        use mpcdiff_kernel::training::{self, backprop, logistic};
        let hostile = g.one_in(8);
        let (samples, features) = if hostile {
            (g.small(12), g.small(5))
        } else {
            (1 + g.small(11), 1 + g.small(4))
        };
        // Mostly valid networks (two or three layers of 1 to 6 units), sometimes hostile ones.
        let mut widths = vec![features];
        let layers = if hostile { g.small(3) } else { 1 + g.small(2) };
        for _ in 0..layers {
            let w = if hostile { g.small(6) } else { 2 + g.small(4) };
            widths.push(w);
        }
        let n = samples.saturating_mul(features);
        let mut x = if hostile { g.f64s(n) } else { g.reals(n) };
        let mut y = g.f64s(samples);
        if g.bool() && features >= 2 {
            training::separable(g.u64(), samples, features, &mut x, &mut y)?;
        }
        if !g.one_in(8) {
            // Labels that are class indices, mostly.
            let c = widths.last().copied().unwrap_or(1).max(1);
            let extra = u64::from(hostile);
            for v in y.iter_mut() {
                *v = g.below(c as u64 + extra) as f64;
            }
        }
        let prof = if hostile {
            profile(g)
        } else {
            *g.pick(profile::PROFILES)
        };
        let net = backprop::Net {
            widths: &widths,
            hidden: if g.bool() {
                backprop::Hidden::Relu
            } else {
                backprop::Hidden::Sigmoid
            },
        };
        let p = logistic::Problem {
            x: &x,
            y: &y,
            samples,
            features,
        };
        let h = logistic::Hyper {
            lr: if hostile { g.f64() } else { g.mostly_real() },
            batch: if hostile {
                g.small(6)
            } else {
                1 + g.small(samples - 1)
            },
            epochs: g.small(2) as u32,
            profile: &prof,
        };
        let want = backprop::eval_scratch_len(&net);
        let scratch_len = if hostile { g.len(want) } else { want };
        let mut scratch = vec![0.0; scratch_len];
        let sz = backprop::Sizes::of(&net, &p, &h)?;
        let params_len = if hostile { g.len(sz.params) } else { sz.params };
        let mut start = vec![0.0; params_len];
        backprop::init(g.u64(), &net, &mut start)?;
        let _ = backprop::evaluate(&net, &start, &p, &mut scratch);
        let mut w = vec![A::Elem::default(); sz.params];
        a.input_model(&start, &mut w)?;
        // Exactly sized unless hostile (the generator's buffers stop at a few dozen elements).
        let work_len = if hostile { g.len(sz.work) } else { sz.work };
        let mut work = vec![A::Elem::default(); work_len];
        backprop::train(a, &net, &p, &h, &mut w, &mut work)
    }
}

fn backprop(g: &mut Gen) -> Res {
    on_any_sized(g, 128, &Backprop)
}

struct Convnet;

impl Job for Convnet {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        use mpcdiff_kernel::training::backprop::Hidden;
        use mpcdiff_kernel::training::convnet::{self, ConvBlock, ConvNet, Pooling};
        use mpcdiff_kernel::training::logistic;
        // Mostly valid networks on tiny images, sometimes hostile shapes.
        let hostile = g.one_in(8);
        let side = if hostile { g.small(6) } else { 3 + g.small(3) };
        let ch = if hostile { g.small(2) } else { 1 + g.small(1) };
        let mut convs = Vec::new();
        for _ in 0..(if hostile { g.small(3) } else { 1 + g.small(1) }) {
            convs.push(if hostile {
                ConvBlock {
                    out_ch: g.small(3),
                    k: g.small(4),
                    pad: g.small(3),
                    pool: g.small(3),
                }
            } else {
                let k = 1 + 2 * g.small(1);
                ConvBlock {
                    out_ch: 1 + g.small(2),
                    k,
                    pad: if k > 1 { g.small(1) } else { 0 },
                    pool: 1 + g.small(1),
                }
            });
        }
        let classes = if hostile { g.small(3) } else { 2 + g.small(1) };
        let fcs = if g.bool() {
            vec![classes]
        } else {
            vec![1 + g.small(4), classes]
        };
        let net = ConvNet {
            input: [ch, side, side],
            convs: &convs,
            fcs: &fcs,
            hidden: if g.bool() {
                Hidden::Relu
            } else {
                Hidden::Sigmoid
            },
            pooling: if g.bool() {
                Pooling::Max
            } else {
                Pooling::Average
            },
            batch_norm: g.bool(),
        };
        let samples = if hostile { g.small(8) } else { 1 + g.small(7) };
        let features = ch * side * side;
        let n = samples * features;
        let mut x = if hostile { g.f64s(n) } else { g.reals(n) };
        if !hostile {
            // Finite pixels, so that most calls reach the training itself.
            x.iter_mut()
                .filter(|v| !v.is_finite())
                .for_each(|v| *v = 0.0);
        }
        let extra = u64::from(hostile);
        let y: Vec<f64> = (0..samples)
            .map(|_| g.below(classes.max(1) as u64 + extra) as f64)
            .collect();
        let prof = if hostile {
            profile(g)
        } else {
            *g.pick(profile::PROFILES)
        };
        let p = logistic::Problem {
            x: &x,
            y: &y,
            samples,
            features,
        };
        let h = logistic::Hyper {
            lr: if hostile { g.f64() } else { g.mostly_real() },
            batch: if hostile {
                g.small(6)
            } else {
                1 + g.small(samples - 1)
            },
            epochs: g.small(2) as u32,
            profile: &prof,
        };
        let sz = convnet::Sizes::of(&net, &p, &h)?;
        let mut start = vec![0.0; sz.params];
        convnet::init(g.u64(), &net, &mut start)?;
        let mut scratch = vec![0.0; convnet::eval_scratch_len(&net)?];
        let _ = convnet::evaluate(&net, &start, &p, &mut scratch);
        let mut w = vec![A::Elem::default(); sz.params];
        a.input_model(&start, &mut w)?;
        let work_len = if hostile { g.len(sz.work) } else { sz.work };
        let mut work = vec![A::Elem::default(); work_len];
        convnet::train(a, &net, &p, &h, &mut w, &mut work)
    }
}

fn convnet(g: &mut Gen) -> Res {
    on_any_sized(g, 256, &Convnet)
}

direct!(exp, approx::exp::scratch_elems, |a, g, x, l, s| {
    if g.bool() {
        approx::exp::exp(a, x, &l, s)
    } else {
        approx::exp::exp_uniform(a, x, g.u8(), s)
    }
});

direct!(
    log,
    |n| approx::log::scratch_elems(n, 32),
    |a, g, x, _l, s| approx::log::log(a, x, &profile(g).log, s)
);

direct!(
    reciprocal,
    approx::reciprocal::scratch_elems,
    |a, g, x, l, s| {
        let p = profile(g);
        if g.bool() {
            approx::reciprocal::reciprocal(a, x, &p.reciprocal, &l, s)
        } else {
            let len = g.len(x.len());
            let mut y: Vec<A::Elem> = g.elems(len);
            approx::reciprocal::reciprocal_pos(a, x, &mut y, p.reciprocal.init, &l, s)
        }
    }
);

direct!(sqrt, approx::sqrt::scratch_elems_sqrt, |a, g, x, l, s| {
    let p = profile(g);
    let _ = approx::sqrt::default_level(&p.inv_sqrt);
    if g.bool() {
        approx::sqrt::inv_sqrt(a, x, &p.inv_sqrt, &l, s)
    } else {
        approx::sqrt::sqrt(a, x, &p.inv_sqrt, &l, s)
    }
});

direct!(sigmoid, approx::sigmoid::scratch_elems, |a, g, x, l, s| {
    let p = profile(g);
    let mut c = vec![0.0; g.small(40)];
    let _ = approx::sigmoid::chebyshev_tanh_coeffs(g.u8(), &mut c);
    let _ = approx::sigmoid::uniform(level(g));
    if g.bool() {
        approx::sigmoid::sigmoid(a, x, p.sigmoid, &l, s)
    } else {
        approx::sigmoid::tanh(a, x, p.sigmoid, &l, s)
    }
});

direct!(erf, approx::erf::scratch_elems, |a, g, x, _l, s| {
    let p = profile(g);
    match g.below(3) {
        0 => approx::erf::erf(a, x, &p.erf, s),
        1 => approx::erf::erf_bounded(a, x, s),
        _ => {
            let len = g.len(x.len());
            let mut out: Vec<A::Elem> = g.elems(len);
            approx::erf::pow(a, x, g.u32(), p.erf.pow, &mut out, s)
        }
    }
});

direct!(gelu, approx::gelu::scratch_elems_tanh, |a, g, x, l, s| {
    let p = profile(g);
    match g.below(3) {
        0 => approx::gelu::gelu_tanh(a, x, p.sigmoid, &l, s),
        1 => approx::gelu::gelu_erf(a, x, s),
        _ => approx::gelu::gelu_erf_graph(a, x, &p.erf, s),
    }
});

direct!(
    chebyshev,
    |n| approx::chebyshev::scratch_elems(n, 33),
    |a, g, x, _l, s| {
        let terms = if g.one_in(4) {
            g.u8()
        } else {
            6 + 2 * g.below(30) as u8
        };
        let mut c = vec![0.0; g.len(usize::from(terms / 2))];
        let r = approx::chebyshev::odd_coeffs(|t| t * t * t, terms, &mut c);
        if g.bool() {
            let coeffs: Vec<f64> = (0..g.small(34)).map(|_| g.mostly_real()).collect();
            r.and(approx::chebyshev::odd_series(a, x, &coeffs, s))
        } else {
            r.and(approx::chebyshev::hardtanh(a, x, s))
        }
    }
);

struct Softmax;
impl Job for Softmax {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let (rows, cols) = (g.dim(), g.dim());
        let len = g.len_of(rows, cols);
        let mut x: Vec<A::Elem> = g.elems(len);
        let p = profile(g);
        let need = approx::softmax::scratch_elems(rows, cols);
        let mut s: Vec<A::Elem> = vec![A::Elem::default(); g.scratch(need)];
        approx::softmax::softmax(a, &mut x, rows, cols, &p, &mut s)
    }
}

fn softmax(g: &mut Gen) -> Res {
    on_any_sized(g, 64, &Softmax)
}

fn levels_entry(g: &mut Gen) -> Res {
    let n = g.size();
    let mut store = Vec::new();
    let m = g.small(8);
    let l = levels(g, m, &mut store);
    let _ = l.at(g.size());
    let _ = l.max();
    l.check(n)
}

fn attribution(g: &mut Gen) -> Res {
    let n = 2 + g.small(10);
    let p = profile(g);
    let probe = Probe {
        function: g.pick(Function::ALL),
        profile: &p,
        fp: super::base::fp(g),
        trunc: if g.bool() {
            TruncMode::Local
        } else {
            TruncMode::Dealer
        },
        seed: g.u64(),
    };
    let (ef, ei, es) = Memory::sizes(n);
    let mut floats = vec![0.0; g.scratch(ef)];
    let mut ints = vec![0i64; g.scratch(ei)];
    let mut shares = vec![[0i64; 2]; g.scratch(es)];
    let mem = Memory {
        floats: &mut floats,
        ints: &mut ints,
        shares: &mut shares,
    };
    let mut store = Vec::new();
    let l = levels(g, n, &mut store);
    let mut out = vec![Stages::default(); g.len(n)];
    let mut x = g.reals(n);
    let r = if g.bool() {
        attribution::attribute(&probe, &x, &l, mem, &mut out)
    } else {
        let (a, b) = (g.mostly_real(), g.mostly_real());
        let range = if g.one_in(6) {
            (a, b)
        } else {
            (a.min(b), a.max(b))
        };
        attribution::curve(&probe, range, &l, mem, &mut x, &mut out)
    };
    for s in &out {
        let _ = (
            s.approximation_error(),
            s.encoding_error(),
            s.share_error(),
            s.total_error(),
        );
    }
    ok(r)
}

fn lookups(g: &mut Gen) -> Res {
    let f = g.pick(Function::ALL);
    let p = profile(g);
    let _ = (
        f.name(),
        f.integer_output(),
        f.default_level(&p),
        f.takes_level(),
        f.exact(g.f64()),
    );
    let _ = Function::by_name(&g.text(3));
    let _ = profile::by_name(&g.text(3));
    let _ = approx::reciprocal::default_level(&p.reciprocal);
    Ok(())
}
