//! The protocols on shares (called directly, with their own net, dealer and scratch), the
//! composed ones (in a random arithmetic), and every scratch-sizing function.

use super::arith::{count, on_any, Flip, Job};
use super::base::{conv_lens, conv_shape};
use super::{e, Draw};
use crate::stress::{Entry, Gen, Res};
use mpcdiff_kernel::arith::Arith;
use mpcdiff_kernel::dealer::Dealer;
use mpcdiff_kernel::linalg::MatShape;
use mpcdiff_kernel::protocols::beaver::{self, Bilinear};
use mpcdiff_kernel::protocols::{comparison, maximum, select, truncation};
use mpcdiff_kernel::seed::{self, StreamId};
use mpcdiff_kernel::share::Share;
use mpcdiff_kernel::wire::Net;
use mpcdiff_kernel::{approx, nn, Shared, TruncMode};

pub(super) fn entries() -> Vec<Entry> {
    vec![
        e("protocols::beaver::bilinear", beaver_bilinear),
        e(
            "protocols::beaver::bilinear_to_scratch+collect_output",
            beaver_to_scratch,
        ),
        e("protocols::beaver::square", beaver_square),
        e("protocols::comparison::and", comparison_and),
        e("protocols::comparison::ltz", comparison_ltz),
        e("protocols::truncation::truncate", truncation_truncate),
        e("protocols::truncation::truncate_each", truncation_each),
        e("protocols::maximum::max_rows", maximum_rows),
        e("protocols::select::{select,sign,gez,relu}", select_ops),
        e("*::scratch_{words,elems}_* (sizing)", sizing),
    ]
}

/// Scratch words: the call's need (when it fits a buffer), off by one, or random.
fn scratch(g: &mut Gen, need: usize) -> Vec<i64> {
    let n = match g.below(6) {
        0 => g.small(256),
        1 => need.saturating_sub(1).min(1 << 16),
        _ => need.min(1 << 16),
    };
    vec![0i64; n]
}

fn bilinear_op<'s>(g: &mut Gen, conv: &'s mpcdiff_kernel::Conv2dShape) -> Bilinear<'s> {
    match g.below(4) {
        0 => Bilinear::Elementwise,
        1 => Bilinear::Matmul(MatShape {
            m: g.dim(),
            k: g.dim(),
            n: g.dim(),
        }),
        2 => Bilinear::Conv2d(conv),
        _ => Bilinear::Broadcast { inner: g.dim() },
    }
}

/// Operand and output lengths for `op`: the product's (mostly) or off.
fn bilinear_lens(g: &mut Gen, op: &Bilinear<'_>) -> (usize, usize, usize) {
    match *op {
        Bilinear::Elementwise => {
            let n = count(g);
            (n, g.len(n), g.len(n))
        }
        Bilinear::Matmul(s) => (g.len_of(s.m, s.k), g.len_of(s.k, s.n), g.len_of(s.m, s.n)),
        Bilinear::Conv2d(s) => conv_lens(g, s),
        Bilinear::Broadcast { inner } => {
            let c = g.small(3);
            let batch = g.small(3);
            let n = g.len_of(batch, c.saturating_mul(inner));
            (n, g.len(c), g.len(n))
        }
    }
}

fn beaver_bilinear(g: &mut Gen) -> Res {
    let conv = conv_shape(g);
    let op = bilinear_op(g, &conv);
    let (na, nb, nc) = bilinear_lens(g, &op);
    let _ = op.check(g.size(), g.size(), g.size());
    let (x, y): (Vec<Share>, Vec<Share>) = (g.elems(na), g.elems(nb));
    let mut out: Vec<Share> = g.elems(nc);
    let mut s = scratch(g, beaver::scratch_words_bilinear(na, nb, nc));
    let mut wire = Flip(g.u64());
    let mut net = if g.bool() {
        Net::new()
    } else {
        Net::with_wire(&mut wire)
    };
    let mut dealer = Dealer::new(g.u64());
    beaver::bilinear(
        &mut net,
        &mut dealer,
        op,
        "stress",
        &x,
        &y,
        &mut out,
        &mut s,
    )
}

fn beaver_to_scratch(g: &mut Gen) -> Res {
    let conv = conv_shape(g);
    let op = bilinear_op(g, &conv);
    let (na, nb, nc) = bilinear_lens(g, &op);
    let (x, y): (Vec<Share>, Vec<Share>) = (g.elems(na), g.elems(nb));
    let mut s = scratch(g, beaver::scratch_words_bilinear(na, nb, nc));
    let mut net = Net::new();
    let mut dealer = Dealer::new(g.u64());
    let r = beaver::bilinear_to_scratch(&mut net, &mut dealer, op, "stress", &x, &y, nc, &mut s);
    let len = g.len(nc);
    let mut out: Vec<Share> = g.elems(len);
    let z = g.len(nc.saturating_mul(2)).min(s.len());
    r.and(beaver::collect_output(&s[..z], &mut out))
}

fn beaver_square(g: &mut Gen) -> Res {
    let n = count(g);
    let mut x: Vec<Share> = g.elems(n);
    let mut s = scratch(g, beaver::scratch_words_square(n));
    beaver::square(&mut Net::new(), &mut Dealer::new(g.u64()), &mut x, &mut s)
}

fn comparison_and(g: &mut Gen) -> Res {
    let n = count(g);
    let len = g.len(n);
    let x: Vec<Share> = g.elems(len);
    let len = g.len(n);
    let y: Vec<Share> = g.elems(len);
    let mut out: Vec<Share> = g.elems(n);
    let mut s = scratch(g, comparison::scratch_words_and(n));
    comparison::and(
        &mut Net::new(),
        &mut Dealer::new(g.u64()),
        "stress",
        &x,
        &y,
        &mut out,
        &mut s,
    )
}

fn comparison_ltz(g: &mut Gen) -> Res {
    let n = count(g);
    let x: Vec<Share> = g.elems(n);
    let len = g.len(n);
    let mut out: Vec<Share> = g.elems(len);
    let mut s = scratch(g, comparison::scratch_words_ltz(n));
    let mut przs = seed::stream(g.u64(), StreamId::Przs);
    comparison::ltz(
        &mut Net::new(),
        &mut Dealer::new(g.u64()),
        &mut przs,
        &x,
        &mut out,
        &mut s,
    )
}

fn mode(g: &mut Gen) -> TruncMode {
    let m = if g.bool() {
        TruncMode::Local
    } else {
        TruncMode::Dealer
    };
    let _ = TruncMode::by_name(m.name());
    m
}

fn divisor(g: &mut Gen) -> u64 {
    match g.below(12) {
        0 => g.u64_edge(),
        1..=6 => 1 << g.below(63),
        _ => 1 + g.below(1000),
    }
}

fn truncation_truncate(g: &mut Gen) -> Res {
    let n = count(g);
    let mut x: Vec<Share> = g.elems(n);
    let mut s = scratch(g, truncation::scratch_words_truncate(n));
    let (m, d) = (mode(g), divisor(g));
    truncation::truncate(
        &mut Net::new(),
        &mut Dealer::new(g.u64()),
        m,
        &mut x,
        d,
        &mut s,
    )
}

fn truncation_each(g: &mut Gen) -> Res {
    let n = count(g);
    let mut x: Vec<Share> = g.elems(n);
    let ds: Vec<u64> = (0..g.len(n)).map(|_| divisor(g)).collect();
    let mut s = scratch(g, truncation::scratch_words_truncate(n));
    let m = mode(g);
    truncation::truncate_each(
        &mut Net::new(),
        &mut Dealer::new(g.u64()),
        m,
        &mut x,
        &|i| ds.get(i).copied().unwrap_or(0),
        &mut s,
    )
}

struct MaxRows;
impl Job for MaxRows {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let (rows, cols) = if g.one_in(6) {
            (g.dim(), g.dim())
        } else {
            (1 + g.small(4), 1 + g.small(6))
        };
        let len = g.len_of(rows, cols);
        let x: Vec<A::Elem> = g.elems(len);
        let len = g.len(rows);
        let mut m: Vec<A::Elem> = g.elems(len);
        let len = g.len(rows);
        let mut am: Vec<A::Elem> = g.elems(len);
        let need = maximum::scratch_elems_max(rows, cols);
        let len = g.len(need);
        let mut s: Vec<A::Elem> = g.elems(len);
        let arg = if g.bool() { Some(&mut am[..]) } else { None };
        maximum::max_rows(a, &x, rows, cols, &mut m, arg, &mut s)
    }
}

fn maximum_rows(g: &mut Gen) -> Res {
    on_any(g, &MaxRows)
}

struct Select;
impl Job for Select {
    fn run<A: Arith>(&self, a: &mut A, g: &mut Gen) -> Res
    where
        A::Elem: Draw,
    {
        let n = count(g);
        let len = g.len(n);
        let c: Vec<A::Elem> = g.elems(len);
        let len = g.len(n);
        let x: Vec<A::Elem> = g.elems(len);
        let len = g.len(n);
        let y: Vec<A::Elem> = g.elems(len);
        let mut out: Vec<A::Elem> = g.elems(n);
        match g.below(4) {
            0 => select::select(a, &c, &x, &y, &mut out),
            1 => select::sign(a, &x, &mut out),
            2 => select::gez(a, &x, &mut out),
            _ => {
                let mut v = x;
                select::relu(a, &mut v, &mut out)
            }
        }
    }
}

fn select_ops(g: &mut Gen) -> Res {
    on_any(g, &Select)
}

/// Every sizing function at hostile sizes: they must saturate, never overflow.
fn sizing(g: &mut Gen) -> Res {
    let (a, b, c) = (g.size(), g.size(), g.size());
    let o = g.u8();
    let _ = (
        beaver::scratch_words_bilinear(a, b, c),
        beaver::scratch_words_square(a),
        comparison::scratch_words_and(a),
        comparison::scratch_words_ltz(a),
        truncation::scratch_words_truncate(a),
        maximum::scratch_elems_max(a, b),
        Shared::scratch_words_elementwise(a),
        Shared::scratch_words_matmul(MatShape { m: a, k: b, n: c }),
        approx::scratch_elems(a),
        approx::exp::scratch_elems(a),
        approx::log::scratch_elems(a, o),
        approx::reciprocal::scratch_elems(a),
        approx::reciprocal::scratch_elems_pos(a),
        approx::sqrt::scratch_elems(a),
        approx::sqrt::scratch_elems_sqrt(a),
        approx::sigmoid::scratch_elems(a),
        approx::chebyshev::scratch_elems(a, b),
        approx::chebyshev::scratch_elems_hardtanh(a),
        approx::erf::scratch_elems(a),
        approx::erf::scratch_elems_bounded(a),
        approx::gelu::scratch_elems_tanh(a),
        approx::gelu::scratch_elems_erf(a),
        approx::gelu::scratch_elems_erf_graph(a),
        approx::softmax::scratch_elems(a, b),
        approx::attribution::Memory::sizes(a),
        mpcdiff_kernel::difftest::fuzzer::Fuzzer::floats(a, b, c),
    );
    let _ = Shared::scratch_words_conv2d(&conv_shape(g));
    let _ = nn::pooling::scratch_elems_max_pool2d(&super::base::pool_shape(g));
    Ok(())
}
