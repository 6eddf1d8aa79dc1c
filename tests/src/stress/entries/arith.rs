//! The three arithmetics: every method of `Arith` and `RingArith`, in `Float`, `Fixed` and
//! `Shared` (random truncation mode, arena size and seed, sometimes a tampering wire).

use super::base::{conv_lens, conv_shape, fp};
use super::{e, Draw};
use crate::stress::{Entry, Gen, Res};
use mpcdiff_kernel::arith::{Arith, ArithKind, Engine, Fixed, Float, RingArith, Shared};
use mpcdiff_kernel::linalg::MatShape;
use mpcdiff_kernel::wire::{Message, Wire};
use mpcdiff_kernel::TruncMode;

/// Work written once over the arithmetics.
pub(crate) trait Job {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw;
}

/// Work that needs ring access too (`Fixed`, `Shared`).
trait RingJob {
    fn run<A: RingArith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw;
}

/// A wire that flips bits of some messages.
pub(crate) struct Flip(pub u64);

impl Wire for Flip {
    fn send(&mut self, msg: &mut Message<'_>) {
        self.0 = mpcdiff_kernel::seed::splitmix64(self.0 ^ msg.round);
        if self.0.is_multiple_of(3) {
            if let Some(last) = msg.payload.len().checked_sub(1) {
                msg.payload.add(last, i128::from(self.0 as i64));
            }
        }
    }
}

/// Arena words: usually plenty, sometimes none, tiny or random.
pub(crate) fn arena_words(g: &mut Gen) -> usize {
    match g.below(8) {
        0 => 0,
        1 => g.small(64),
        2 => g.small(4096),
        _ => 16 * 1024,
    }
}

pub(crate) fn on_float<J: Job>(g: &mut Gen, job: &J) -> Res {
    let mut a = Float::new(fp(g));
    job.run(&mut a, g)
}

/// A framework's sign test (TF-Encrypted's −1 quirk, sometimes).
fn sign_test(g: &mut Gen) -> mpcdiff_kernel::protocols::laws::SignTest {
    use mpcdiff_kernel::protocols::laws::SignTest;
    if g.one_in(4) {
        SignTest::MinusOneNonNegative
    } else {
        SignTest::Exact
    }
}

pub(crate) fn on_fixed<J: Job>(g: &mut Gen, job: &J) -> Res {
    let mut a = Fixed::new(fp(g)).with_sign_test(sign_test(g));
    job.run(&mut a, g)
}

/// A fresh session with hostile settings, passed to `f`.
pub(crate) fn with_shared<R>(g: &mut Gen, f: impl FnOnce(&mut Shared<'_>, &mut Gen) -> R) -> R {
    let words = arena_words(g);
    with_shared_words(g, words, f)
}

/// A fresh session whose arena is `need` words (capped), or one short, or none, or tiny.
pub(crate) fn with_shared_need<R>(
    g: &mut Gen,
    need: usize,
    f: impl FnOnce(&mut Shared<'_>, &mut Gen) -> R,
) -> R {
    let words = match g.below(10) {
        0 => 0,
        1 => g.small(64),
        2 => need.saturating_sub(1).min(1 << 17),
        _ => need.min(1 << 17),
    };
    with_shared_words(g, words, f)
}

/// A fresh session with an arena of `words` words.
pub(crate) fn with_shared_words<R>(
    g: &mut Gen,
    words: usize,
    f: impl FnOnce(&mut Shared<'_>, &mut Gen) -> R,
) -> R {
    let mut arena = vec![0i64; words];
    let mut wire = Flip(g.u64());
    // every mode: CrypTen's two and the other frameworks' laws
    let mode = g.pick(&TruncMode::ALL);
    // Either engine: the ideal one's products and comparisons are other code paths.
    let engine = if g.bool() {
        Engine::Protocol
    } else {
        Engine::Ideal
    };
    let mut a = Shared::new(fp(g), g.u64(), &mut arena)
        .with_truncation(mode)
        .with_engine(engine)
        .with_sign_test(sign_test(g))
        .with_triple_check(g.one_in(4));
    if g.one_in(4) {
        a = a.with_wire(&mut wire);
    }
    let _ = (
        a.truncation(),
        a.engine(),
        a.cost(),
        a.kind(),
        ArithKind::Shared.name(),
    );
    let _ = (Engine::by_name(engine.name()), engine.about());
    f(&mut a, g)
}

pub(crate) fn on_shared<J: Job>(g: &mut Gen, job: &J) -> Res {
    with_shared(g, |a, g| job.run(a, g))
}

/// The job in an arithmetic chosen at random.
pub(crate) fn on_any<J: Job>(g: &mut Gen, job: &J) -> Res {
    match g.below(3) {
        0 => on_float(g, job),
        1 => on_fixed(g, job),
        _ => on_shared(g, job),
    }
}

/// An element count: small, sometimes up to the buffer limit.
pub(crate) fn count(g: &mut Gen) -> usize {
    if g.one_in(8) {
        g.small(crate::stress::gen::LEN_MAX)
    } else {
        g.small(10)
    }
}

struct Local;
impl Job for Local {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let (x, y) = (A::Elem::draw(g), A::Elem::draw(g));
        let _ = (a.kind(), a.fixed_point());
        let _ = a.elem_add(x, y);
        let _ = a.elem_sub(x, y);
        let _ = a.elem_mul_int(x, g.ring());
        let _ = a.elem_int(g.ring());
        let _ = a.elem_const(g.f64());
        // A public constant: ordinary mostly (so the ops after it run), sometimes hostile.
        let constant = |g: &mut Gen| if g.one_in(8) { g.f64() } else { g.real() };
        let n = count(g);
        let mut v: Vec<A::Elem> = g.elems(n);
        let len = g.len(n);
        let w: Vec<A::Elem> = g.elems(len);
        let r1 = a.add(&mut v, &w);
        let r2 = a.sub(&mut v, &w);
        a.neg(&mut v);
        a.mul_int(&mut v, g.ring());
        a.add_int(&mut v, g.ring());
        let k = constant(g);
        let r3 = a.add_const(&mut v, k);
        let k = constant(g);
        let r4 = a.rsub_const(&mut v, k);
        let k = constant(g);
        let r5 = a.fill_const(&mut v, k);
        r1.and(r2).and(r3).and(r4).and(r5)
    }
}

struct Input;
impl Job for Input {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let n = count(g);
        let x = if g.bool() { g.reals(n) } else { g.f64s(n) };
        let mut out: Vec<A::Elem> = vec![A::Elem::default(); g.len(n)];
        if g.bool() {
            a.input(&x, &mut out)
        } else {
            a.input_model(&x, &mut out)
        }
    }
}

struct Reveal;
impl Job for Reveal {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let n = count(g);
        let x: Vec<A::Elem> = g.elems(n);
        let mut out = vec![0.0; g.len(n)];
        if g.bool() {
            a.reveal(&x, &mut out)
        } else {
            a.peek(&x, &mut out)
        }
    }
}

struct MulConst;
impl Job for MulConst {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let n = count(g);
        let mut x: Vec<A::Elem> = g.elems(n);
        a.mul_const(&mut x, g.f64())
    }
}

struct DivInt;
impl Job for DivInt {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let n = count(g);
        let mut x: Vec<A::Elem> = g.elems(n);
        a.div_int(&mut x, g.u64_edge())
    }
}

struct DivIntEach;
impl Job for DivIntEach {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let n = count(g);
        let mut x: Vec<A::Elem> = g.elems(n);
        let hostile = g.one_in(4);
        let ds: Vec<u64> = (0..g.len(n))
            .map(|_| match g.below(3) {
                _ if hostile => g.u64_edge(),
                0 => 1 + g.below(1000),
                _ => 1 << g.below(63),
            })
            .collect();
        a.div_int_each(&mut x, &|i| ds.get(i).copied().unwrap_or(0))
    }
}

struct Mul;
impl Job for Mul {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let n = count(g);
        let mut x: Vec<A::Elem> = g.elems(n);
        let len = g.len(n);
        let y: Vec<A::Elem> = g.elems(len);
        match g.below(3) {
            0 => a.mul(&mut x, &y),
            1 => a.mul_unscaled(&mut x, &y),
            _ => a.square(&mut x),
        }
    }
}

struct MulBcast;
impl Job for MulBcast {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let (c, inner, batch) = if g.one_in(6) {
            (g.small(4), g.dim(), g.small(3))
        } else {
            (1 + g.small(3), 1 + g.small(3), 1 + g.small(2))
        };
        let n = g.len_of(batch, c.saturating_mul(inner));
        let mut x: Vec<A::Elem> = g.elems(n);
        let len = g.len(c);
        let y: Vec<A::Elem> = g.elems(len);
        a.mul_bcast(&mut x, &y, inner)
    }
}

struct Matmul;
impl Job for Matmul {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let s = MatShape {
            m: g.dim(),
            k: g.dim(),
            n: g.dim(),
        };
        let len = g.len_of(s.m, s.k);
        let x: Vec<A::Elem> = g.elems(len);
        let len = g.len_of(s.k, s.n);
        let y: Vec<A::Elem> = g.elems(len);
        let len = g.len_of(s.m, s.n);
        let mut out: Vec<A::Elem> = g.elems(len);
        a.matmul(&x, &y, &mut out, s)
    }
}

struct Conv;
impl Job for Conv {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let s = conv_shape(g);
        let (nx, nw, no) = conv_lens(g, &s);
        let x: Vec<A::Elem> = g.elems(nx);
        let w: Vec<A::Elem> = g.elems(nw);
        let mut out: Vec<A::Elem> = g.elems(no);
        a.conv2d(&x, &w, &mut out, &s)
    }
}

struct Lincomb;
impl Job for Lincomb {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let (n, k) = (count(g), g.small(5));
        let coeffs: Vec<f64> = (0..k).map(|_| g.mostly_real()).collect();
        let len = g.len_of(n, k);
        let terms: Vec<A::Elem> = g.elems(len);
        let mut out: Vec<A::Elem> = g.elems(n);
        a.lincomb_const(&terms, &coeffs, &mut out)
    }
}

/// `ltz`, or (`Ltz(true)`) `msb_map` with a hostile map (any value, NaN and infinities
/// included): both map each element to a public function of its ring bits.
struct Ltz(bool);
const LTZ: Ltz = Ltz(false);
const MSB_MAP: Ltz = Ltz(true);
impl Job for Ltz {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let n = count(g);
        let x: Vec<A::Elem> = g.elems(n);
        let len = g.len(n);
        let mut out: Vec<A::Elem> = g.elems(len);
        if self.0 {
            let scale = g.f64();
            a.msb_map(&x, &mut out, &|m| scale * 2f64.powi(m))
        } else {
            a.ltz(&x, &mut out)
        }
    }
}

struct Ring;
impl RingJob for Ring {
    fn run<A: RingArith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        use mpcdiff_kernel::ring::Word;
        let n = count(g);
        let raw: Vec<A::Word> = g.rings(n).into_iter().map(A::Word::from_i64).collect();
        let len = g.len(n);
        let mut x: Vec<A::Elem> = g.elems(len);
        let mut out = vec![A::Word::ZERO; g.len(n)];
        match g.below(3) {
            0 => a.input_ring(&raw, &mut x),
            1 => a.reveal_ring(&x, &mut out),
            _ => a.peek_ring(&x, &mut out),
        }
    }
}

fn shared_input_from(g: &mut Gen) -> Res {
    with_shared(g, |a, g| {
        let n = count(g);
        let x = g.reals(n);
        let mut out = vec![[0i64; 2]; g.len(n)];
        let _ = Shared::scratch_words_elementwise(g.size());
        let _ = Shared::scratch_words_matmul(MatShape {
            m: g.size(),
            k: g.size(),
            n: g.size(),
        });
        let _ = Shared::scratch_words_conv2d(&conv_shape(g));
        a.input_from(g.size(), &x, &mut out)
    })
}

macro_rules! per_arith {
    ($($job:ident: $float:ident, $fixed:ident, $shared:ident;)*) => {
        $(
            fn $float(g: &mut Gen) -> Res { on_float(g, &$job) }
            fn $fixed(g: &mut Gen) -> Res { on_fixed(g, &$job) }
            fn $shared(g: &mut Gen) -> Res { on_shared(g, &$job) }
        )*
    };
}

per_arith! {
    Local: float_local, fixed_local, shared_local;
    Input: float_input, fixed_input, shared_input;
    Reveal: float_reveal, fixed_reveal, shared_reveal;
    MulConst: float_mul_const, fixed_mul_const, shared_mul_const;
    DivInt: float_div_int, fixed_div_int, shared_div_int;
    DivIntEach: float_div_int_each, fixed_div_int_each, shared_div_int_each;
    Mul: float_mul, fixed_mul, shared_mul;
    MulBcast: float_mul_bcast, fixed_mul_bcast, shared_mul_bcast;
    Matmul: float_matmul, fixed_matmul, shared_matmul;
    Conv: float_conv2d, fixed_conv2d, shared_conv2d;
    Lincomb: float_lincomb, fixed_lincomb, shared_lincomb;
    LTZ: float_ltz, fixed_ltz, shared_ltz;
    MSB_MAP: float_msb_map, fixed_msb_map, shared_msb_map;
}

/// Every job above, one chosen at random (the wide and authenticated arithmetics run the same
/// methods; one entry each keeps the harness's size).
fn any_job<A: Arith>(a: &mut A, g: &mut Gen) -> Res
where
    A::Elem: Draw,
{
    match g.below(13) {
        0 => Local.run(a, g),
        1 => Input.run(a, g),
        2 => Reveal.run(a, g),
        3 => MulConst.run(a, g),
        4 => DivInt.run(a, g),
        5 => DivIntEach.run(a, g),
        6 => Mul.run(a, g),
        7 => MulBcast.run(a, g),
        8 => Matmul.run(a, g),
        9 => Conv.run(a, g),
        10 => Lincomb.run(a, g),
        11 => LTZ.run(a, g),
        _ => MSB_MAP.run(a, g),
    }
}

/// A format in Z_2^128 (or, sometimes, a 64-bit one the arithmetic must refuse).
fn fp128(g: &mut Gen) -> mpcdiff_kernel::FixedPoint {
    let f = fp(g);
    if g.one_in(8) {
        f
    } else {
        f.with_ring(mpcdiff_kernel::encoding::RingWidth::Z128)
    }
}

fn fixed128_any(g: &mut Gen) -> Res {
    let mut a = Fixed::<i128>::in_ring(fp128(g)).with_sign_test(sign_test(g));
    if g.one_in(4) {
        let n = count(g);
        let raw: Vec<i128> = (0..n).map(|_| i128::draw(g)).collect();
        let mut x = vec![0i128; g.len(n)];
        let mut out = vec![0i128; g.len(n)];
        let _ = a.input_ring(&raw, &mut x);
        let _ = a.reveal_ring(&x, &mut out);
        return a.peek_ring(&x, &mut out);
    }
    any_job(&mut a, g)
}

fn shared128_any(g: &mut Gen) -> Res {
    let mut arena = vec![0i128; arena_words(g)];
    let mut wire = Flip(g.u64());
    let mode = g.pick(&TruncMode::ALL);
    let engine = if g.bool() {
        Engine::Protocol
    } else {
        Engine::Ideal
    };
    let mut a = Shared::in_ring(fp128(g), g.u64(), &mut arena)
        .with_truncation(mode)
        .with_engine(engine)
        .with_sign_test(sign_test(g));
    if g.one_in(4) {
        a = a.with_wire(&mut wire);
    }
    if g.one_in(8) {
        // a helper comparison: refused in Z_2^128
        let c = g.pick(&mpcdiff_kernel::protocols::drelu::Comparison::ALL);
        a = a.with_comparison(c);
    }
    any_job(&mut a, g)
}

fn authenticated_any(g: &mut Gen) -> Res {
    use mpcdiff_kernel::arith::authenticated::Auth;
    let (w, e) = match g.below(6) {
        0 => (0, 0),
        1 => (g.small(64), g.small(64)),
        // room for a comparison of a few values (`scratch_comparison`)
        2 => (64 * 1024, 32 * 1024),
        _ => (16 * 1024, 8 * 1024),
    };
    let (mut words, mut elems) = (vec![0i128; w], vec![Auth::default(); e]);
    let mut wire = Flip(g.u64());
    let s = if g.one_in(8) {
        g.u32()
    } else {
        1 + g.small(64) as u32
    };
    let a = mpcdiff_kernel::Authenticated::new(fp(g), s, g.u64(), &mut words, &mut elems);
    let Ok(mut a) = a else { return a.map(|_| ()) };
    if g.one_in(4) {
        a = a.with_wire(&mut wire);
    }
    let _ = (a.cost(), a.checks(), a.s(), a.key_share(g.size()), a.seed());
    any_job(&mut a, g)
}

fn authenticated_experiment(g: &mut Gen) -> Res {
    use mpcdiff_kernel::arith::authenticated::{challenge, forgery_passes, forgery_trial, Auth};
    let _ = challenge(g.u64(), g.u64(), g.size(), g.u32());
    let _ = mpcdiff_kernel::Authenticated::scratch_conv2d(&conv_shape(g));
    let _ = mpcdiff_kernel::Authenticated::scratch_comparison(g.size());
    let _ = mpcdiff_kernel::Authenticated::scratch_matmul(MatShape {
        m: g.size(),
        k: g.size(),
        n: g.size(),
    });
    let (w, e) = mpcdiff_kernel::Authenticated::scratch_elementwise(g.small(4));
    let (mut words, mut elems) = (vec![0i128; w], vec![Auth::default(); e]);
    let s = if g.one_in(4) {
        g.u32()
    } else {
        1 + g.small(64) as u32
    };
    if g.bool() {
        forgery_trial(s, g.u64(), g.ring(), g.u64(), &mut words, &mut elems).map(|_| ())
    } else {
        forgery_passes(
            s,
            g.small(4) as u64,
            g.u64(),
            g.ring(),
            &mut words,
            &mut elems,
        )
        .map(|_| ())
    }
}

fn fixed_ring(g: &mut Gen) -> Res {
    let mut a = Fixed::new(fp(g));
    Ring.run(&mut a, g)
}

fn shared_ring(g: &mut Gen) -> Res {
    with_shared(g, |a, g| Ring.run(a, g))
}

pub(super) fn entries() -> Vec<Entry> {
    vec![
        e(
            "arith::Float::{elem_*,add,sub,neg,mul_int,add_int,add_const,rsub_const,fill_const}",
            float_local,
        ),
        e(
            "arith::Fixed::{elem_*,add,sub,neg,mul_int,add_int,add_const,rsub_const,fill_const}",
            fixed_local,
        ),
        e(
            "arith::Shared::{elem_*,add,sub,neg,mul_int,add_int,add_const,rsub_const,fill_const}",
            shared_local,
        ),
        e("arith::Float::{input,input_model}", float_input),
        e("arith::Fixed::{input,input_model}", fixed_input),
        e("arith::Shared::{input,input_model}", shared_input),
        e(
            "arith::Shared::input_from+scratch_words_*",
            shared_input_from,
        ),
        e("arith::Float::{reveal,peek}", float_reveal),
        e("arith::Fixed::{reveal,peek}", fixed_reveal),
        e("arith::Shared::{reveal,peek}", shared_reveal),
        e(
            "arith::Fixed::{input_ring,reveal_ring,peek_ring}",
            fixed_ring,
        ),
        e(
            "arith::Shared::{input_ring,reveal_ring,peek_ring}",
            shared_ring,
        ),
        e("arith::Float::mul_const", float_mul_const),
        e("arith::Fixed::mul_const", fixed_mul_const),
        e("arith::Shared::mul_const", shared_mul_const),
        e("arith::Float::div_int", float_div_int),
        e("arith::Fixed::div_int", fixed_div_int),
        e("arith::Shared::div_int", shared_div_int),
        e("arith::Float::div_int_each", float_div_int_each),
        e("arith::Fixed::div_int_each", fixed_div_int_each),
        e("arith::Shared::div_int_each", shared_div_int_each),
        e("arith::Float::{mul,mul_unscaled,square}", float_mul),
        e("arith::Fixed::{mul,mul_unscaled,square}", fixed_mul),
        e("arith::Shared::{mul,mul_unscaled,square}", shared_mul),
        e("arith::Float::mul_bcast", float_mul_bcast),
        e("arith::Fixed::mul_bcast", fixed_mul_bcast),
        e("arith::Shared::mul_bcast", shared_mul_bcast),
        e("arith::Float::matmul", float_matmul),
        e("arith::Fixed::matmul", fixed_matmul),
        e("arith::Shared::matmul", shared_matmul),
        e("arith::Float::conv2d", float_conv2d),
        e("arith::Fixed::conv2d", fixed_conv2d),
        e("arith::Shared::conv2d", shared_conv2d),
        e("arith::Float::lincomb_const", float_lincomb),
        e("arith::Fixed::lincomb_const", fixed_lincomb),
        e("arith::Shared::lincomb_const", shared_lincomb),
        e("arith::Float::ltz", float_ltz),
        e("arith::Fixed::ltz", fixed_ltz),
        e("arith::Shared::ltz", shared_ltz),
        e("arith::Float::msb_map", float_msb_map),
        e("arith::Fixed::msb_map", fixed_msb_map),
        e("arith::Shared::msb_map", shared_msb_map),
        e(
            "arith::Fixed<i128>::* (every method, Z_2^128)",
            fixed128_any,
        ),
        e(
            "arith::Shared<i128>::* (every method, Z_2^128)",
            shared128_any,
        ),
        e("arith::Authenticated::* (every method)", authenticated_any),
        e(
            "arith::authenticated::{challenge,forgery_trial,forgery_passes,scratch_*}",
            authenticated_experiment,
        ),
    ]
}
