//! The MPC foundations: fixed point, the ring, shares, seeds, the dealer, the channel, the
//! ledger, the digest, shapes and plaintext linear algebra, the error type.

use super::{e, ok};
use crate::stress::{Entry, Gen, Res};
use mpcdiff_kernel::cost::Cost;
use mpcdiff_kernel::dealer::Dealer;
use mpcdiff_kernel::linalg::{self, Conv2dShape, MatShape, Pool2dShape};
use mpcdiff_kernel::ring::{self, Scalar};
use mpcdiff_kernel::seed::{self, StreamId};
use mpcdiff_kernel::wire::{self, Message, Net, Wire};
use mpcdiff_kernel::{share, Digest, Error, FixedPoint};

pub(super) fn entries() -> Vec<Entry> {
    vec![
        e("fixed::FixedPoint::new", fixed_new),
        e("fixed::FixedPoint::encode", fixed_encode),
        e("fixed::FixedPoint::encode_slice", fixed_encode_slice),
        e("fixed::FixedPoint::decode", fixed_decode),
        e("encoding::Scale+Encoder::*", encoding_ops),
        e("protocols::laws::*", law_ops),
        e("ring::tdiv+sum_wraps+Scalar::mac", ring_ops),
        e("share::*", share_ops),
        e("seed::stream+substream", seed_streams),
        e("seed::below+unit_f64+normal", seed_draws),
        e("dealer::Dealer::*", dealer_ops),
        e("wire::Net::exchange", net_exchange),
        e("cost::Cost::*", cost_ops),
        e("digest::Digest::*", digest_ops),
        e("linalg::MatShape+matmul_acc", linalg_matmul),
        e("linalg::mul_acc", linalg_mul_acc),
        e("linalg::Conv2dShape+conv2d_acc", linalg_conv),
        e("linalg::Pool2dShape::*", linalg_pool),
        e("error::Error::fmt", error_display),
    ]
}

/// A format, valid most of the time.
pub(crate) fn fp(g: &mut Gen) -> FixedPoint {
    match g.below(10) {
        0 => FixedPoint::new(g.u32()).unwrap_or(FixedPoint::CRYPTEN_DEFAULT),
        1 => FixedPoint::new(g.pick(&[0, 1, 39, 40])).unwrap(),
        // another framework's format, hostile scales, widths and roundings included
        2 | 3 => framework_fp(g),
        _ => FixedPoint::new(g.pick(&[8, 12, 16, 20, 24])).unwrap(),
    }
}

/// A format with any base (in and out of range), float widths, saturation and public rounding.
fn framework_fp(g: &mut Gen) -> FixedPoint {
    use mpcdiff_kernel::encoding::FloatWidth;
    use mpcdiff_kernel::protocols::laws::PublicTruncation;
    let width = |g: &mut Gen| {
        if g.bool() {
            FloatWidth::F32
        } else {
            FloatWidth::F64
        }
    };
    let base = if g.one_in(4) {
        g.u32()
    } else {
        g.pick(&[2, 3, 10])
    };
    let digits = if g.one_in(4) {
        g.u32()
    } else {
        g.small(20) as u32
    };
    let rounding = g.pick(&[
        PublicTruncation::TowardZero,
        PublicTruncation::Floor,
        PublicTruncation::RoundHalfUp,
    ]);
    FixedPoint::CRYPTEN_DEFAULT
        .with_scale(base, digits)
        .unwrap_or(FixedPoint::CRYPTEN_DEFAULT)
        .with_products(width(g), width(g))
        .with_decode(width(g))
        .with_saturation(g.bool())
        .with_rounding(rounding)
}

fn fixed_new(g: &mut Gen) -> Res {
    ok(FixedPoint::new(g.u32()))
}

fn fixed_encode(g: &mut Gen) -> Res {
    let f = fp(g);
    let x = g.f64();
    let _ = f.encoding_error(x);
    let _ = f.scale_f64();
    ok(f.encode_at(x, g.size()))
}

fn fixed_encode_slice(g: &mut Gen) -> Res {
    let f = fp(g);
    let n = g.small(24);
    let x = g.reals(n);
    let mut out = vec![0i64; g.len(n)];
    f.encode_slice(&x, &mut out)
}

fn fixed_decode(g: &mut Gen) -> Res {
    let f = fp(g);
    let r = g.ring();
    let _ = f.decode(r);
    let _ = f.decode_crypten_compat(r);
    Ok(())
}

fn encoding_ops(g: &mut Gen) -> Res {
    use mpcdiff_kernel::encoding::{Encoder, FloatWidth, RingWidth, Scale};
    let scale = Scale::new(
        g.pick(&[0, 1, 2, 3, 10, 16, 17]),
        g.pick(&[0, 5, 8, 16, 26, 52, 53, 99]),
    )
    .or_else(|_| Scale::new(2, 16))?;
    let enc = Encoder {
        scale,
        ring: g.pick(&[RingWidth::Z64, RingWidth::Z128]),
        product: g.pick(&[FloatWidth::F32, FloatWidth::F64]),
        saturate: g.bool(),
        decode: g.pick(&[FloatWidth::F32, FloatWidth::F64]),
    };
    let _ = enc.encode_at(g.f64(), g.size());
    let _ = enc.decode(i128::from(g.ring()) * i128::from(g.ring()));
    let _ = enc
        .ring
        .wrap(i128::from(g.ring()) << g.pick(&[0u32, 63, 64, 100]));
    ok(Encoder::tf_encrypted(g.u32(), FloatWidth::F64)
        .and(Encoder::pysyft(g.u32(), g.u32()))
        .and(Encoder::spu(RingWidth::Z128, g.u32(), FloatWidth::F32))
        .and(Encoder::crypten(g.u32())))
}

fn law_ops(g: &mut Gen) -> Res {
    use mpcdiff_kernel::encoding::RingWidth;
    use mpcdiff_kernel::protocols::laws::{PublicTruncation, SignTest, TruncationLaw};
    let ring = g.pick(&[RingWidth::Z64, RingWidth::Z128]);
    let a = i128::from(g.ring()) * i128::from(g.pick(&[1i64, 2, i64::MAX, i64::MIN]));
    let d = i128::from(g.pick(&[0i64, 1, 3, 243, 1 << 16, 1 << 62, -5, i64::MAX]));
    let law = g.pick(&[
        TruncationLaw::ShareLocal,
        TruncationLaw::StochasticRounding,
        TruncationLaw::StochasticRoundingPlusOne,
        TruncationLaw::ArithmeticShiftBoth,
        TruncationLaw::Cheetah,
    ]);
    let mut rng = seed::stream(g.u64(), StreamId::Party0);
    let _ = law.truncate(a, d, ring, &mut rng);
    let public = g.pick(&[
        PublicTruncation::Floor,
        PublicTruncation::RoundHalfUp,
        PublicTruncation::TowardZero,
    ]);
    let _ = SignTest::MinusOneNonNegative.is_negative(a) || SignTest::Exact.is_negative(a);
    ok(public.truncate(a, d, ring))
}

fn ring_ops(g: &mut Gen) -> Res {
    let (x, d) = (g.ring(), g.ring());
    let _ = ring::tdiv(x, d);
    let _ = ring::tdiv(x, g.pick(&[0, 1, -1, i64::MIN, i64::MAX]));
    let _ = ring::Word::sum_wraps(x, d);
    // the Word methods in both widths, hostile divisors and shifts
    let (w, v) = (
        <i128 as super::Draw>::draw(g),
        <i128 as super::Draw>::draw(g),
    );
    let k = g.u32();
    for (a, b) in [(x, d), (x, g.pick(&[0, 1, -1, i64::MIN, i64::MAX]))] {
        use ring::Word;
        let _ = (a.tdiv(b), a.floor_div(b), a.floor_rem(b), a.shr_logical(k));
        let _ = (a.sum_wraps(b), a.to_i128(), a.low_i64(), a.to_f64());
    }
    {
        use ring::Word;
        let _ = (w.tdiv(v), w.floor_div(v), w.floor_rem(v), w.shr_logical(k));
        let _ = (
            w.tdiv(-1),
            w.floor_div(0),
            i128::MIN.tdiv(-1),
            w.sum_wraps(v),
        );
        let _ = (
            i128::from_i128(w),
            i64::from_i128(w),
            w.low_i64(),
            w.to_f64(),
        );
        let _ = <i128 as ring::Word>::draw(|| g.u64());
    }
    let _ = <i64 as Scalar>::mac(g.ring(), x, d);
    let _ = <f64 as Scalar>::mac(g.f64(), g.f64(), g.f64());
    Ok(())
}

fn share_ops(g: &mut Gen) -> Res {
    let s = [g.ring(), g.ring()];
    let _ = share::reconstruct(s);
    let _ = share::reconstruct_xor(s);
    let _ = share::public(g.ring());
    let mut przs = seed::stream(g.u64(), StreamId::Przs);
    let _ = share::share_from(&mut przs, g.size(), g.ring());
    let _ = share::share_xor_from(&mut przs, g.size(), g.ring());
    Ok(())
}

const STREAMS: [StreamId; 9] = [
    StreamId::Dealer,
    StreamId::Przs,
    StreamId::Party0,
    StreamId::Party1,
    StreamId::Mutation,
    StreamId::DataOrder,
    StreamId::WeightInit,
    StreamId::Synthetic,
    StreamId::Schedule,
];

fn seed_streams(g: &mut Gen) -> Res {
    let id = g.pick(&STREAMS);
    let _ = id.number();
    let _ = seed::stream(g.u64_edge(), id);
    let _ = seed::substream(g.u64_edge(), id, g.u64_edge());
    let _ = seed::splitmix64(g.u64());
    Ok(())
}

fn seed_draws(g: &mut Gen) -> Res {
    let mut rng = seed::stream(g.u64(), g.pick(&STREAMS));
    let _ = seed::below(&mut rng, g.u64_edge());
    let _ = seed::below(&mut rng, 0);
    let _ = seed::unit_f64(&mut rng);
    let _ = seed::normal(&mut rng);
    Ok(())
}

fn dealer_ops(g: &mut Gen) -> Res {
    let mut d = Dealer::new(g.u64());
    let _ = d.ring();
    let mut buf = vec![0i64; g.small(16)];
    d.fill(&mut buf);
    let mut v: Vec<Vec<i64>> = (0..6).map(|_| vec![0i64; g.small(6)]).collect();
    let [a, b, c, x, y, z] = &mut v[..] else {
        unreachable!()
    };
    if g.bool() {
        d.square_pairs([a, b], [c, x]);
    } else {
        d.and_triples([a, b], [c, x], [y, z]);
    }
    let _ = d.b2a_bit::<i64>();
    let _ = d.trunc_tuple::<i64>(g.u32());
    Ok(())
}

/// A wire that tampers with what it sees.
struct Tamper(u64);

impl Wire for Tamper {
    fn send(&mut self, msg: &mut Message<'_>) {
        self.0 = self.0.wrapping_add(msg.round).wrapping_add(msg.from as u64);
        msg.payload.xor(0, i128::from(self.0 as i64));
    }
}

fn net_exchange(g: &mut Gen) -> Res {
    let mut tamper = Tamper(g.u64());
    let mut net = if g.bool() {
        Net::with_wire(&mut tamper)
    } else {
        Net::new()
    };
    let n = g.small(16);
    let mut m0 = g.rings(n);
    let len = g.len(n);
    let mut m1 = g.rings(len);
    let domain = if g.bool() {
        wire::Domain::Arithmetic
    } else {
        wire::Domain::Binary
    };
    let r = net.exchange("stress", domain, &mut m0, &mut m1);
    let _ = net.cost();
    r
}

fn cost(g: &mut Gen) -> Cost {
    Cost {
        rounds: g.u64_edge(),
        bytes_sent: [g.u64_edge(), g.u64_edge()],
        helper_bytes: g.u64_edge(),
        mul_triples: g.u64_edge(),
        square_pairs: g.u64_edge(),
        matrix_triples: g.u64_edge(),
        matrix_triple_words: g.u64_edge(),
        and_triples: g.u64_edge(),
        b2a_bits: g.u64_edge(),
        trunc_tuples: g.u64_edge(),
        truncations: g.u64_edge(),
        wrap_events: g.u64_edge(),
    }
}

fn cost_ops(g: &mut Gen) -> Res {
    let (a, b) = (cost(g), cost(g));
    let _ = a.since(&b);
    let _ = a + b;
    let _ = a - b;
    let _ = a.crypten_bytes();
    let _ = a.multiplications();
    Ok(())
}

fn digest_ops(g: &mut Gen) -> Res {
    let mut d = Digest::from_state(g.u64());
    let n = g.small(16);
    d.bytes(&g.u64().to_le_bytes())
        .u64(g.u64())
        .i64s(&g.rings(n))
        .f64s(&g.f64s(n));
    let _ = d.finish();
    Ok(())
}

/// A matrix shape: consistent and small, or hostile.
fn mat_shape(g: &mut Gen) -> MatShape {
    MatShape {
        m: g.dim(),
        k: g.dim(),
        n: g.dim(),
    }
}

fn linalg_matmul(g: &mut Gen) -> Res {
    let s = mat_shape(g);
    let _ = s.check(g.size(), g.size(), g.size());
    if g.bool() {
        let len = g.len_of(s.m, s.k);
        let a = g.rings(len);
        let len = g.len_of(s.k, s.n);
        let b = g.rings(len);
        let len = g.len_of(s.m, s.n);
        let mut out = g.rings(len);
        linalg::matmul_acc(&a, &b, &mut out, s)
    } else {
        let len = g.len_of(s.m, s.k);
        let a = g.f64s(len);
        let len = g.len_of(s.k, s.n);
        let b = g.f64s(len);
        let len = g.len_of(s.m, s.n);
        let mut out = g.f64s(len);
        linalg::matmul_acc(&a, &b, &mut out, s)
    }
}

fn linalg_mul_acc(g: &mut Gen) -> Res {
    let n = g.small(16);
    let len_x = g.len(n);
    let len_y = g.len(n);
    let (a, b) = (g.rings(len_x), g.rings(len_y));
    let len = g.len(n);
    let mut out = g.rings(len);
    linalg::mul_acc(&a, &b, &mut out);
    let len_x = g.len(n);
    let len_y = g.len(n);
    let (a, b) = (g.f64s(len_x), g.f64s(len_y));
    let len = g.len(n);
    let mut out = g.f64s(len);
    linalg::mul_acc(&a, &b, &mut out);
    Ok(())
}

/// A convolution geometry: small and consistent most of the time, or hostile.
pub(crate) fn conv_shape(g: &mut Gen) -> Conv2dShape {
    let mut s = Conv2dShape {
        batch: 1 + g.small(1),
        in_ch: 1 + g.small(2),
        h: 1 + g.small(5),
        w: 1 + g.small(5),
        out_ch: 1 + g.small(2),
        kh: 1 + g.small(2),
        kw: 1 + g.small(2),
        stride: 1 + g.small(2),
        pad: g.small(2),
    };
    let hostile = if g.one_in(3) { 1 + g.small(2) } else { 0 };
    for _ in 0..hostile {
        let v = g.size();
        match g.below(9) {
            0 => s.batch = v,
            1 => s.in_ch = v,
            2 => s.h = v,
            3 => s.w = v,
            4 => s.out_ch = v,
            5 => s.kh = v,
            6 => s.kw = v,
            7 => s.stride = v,
            _ => s.pad = v,
        }
    }
    s
}

/// Buffer lengths for a convolution: the shape's (when they fit a buffer) or off.
pub(crate) fn conv_lens(g: &mut Gen, s: &Conv2dShape) -> (usize, usize, usize) {
    let want = |r: Result<usize, Error>| r.unwrap_or(usize::MAX);
    (
        g.len(want(s.input_len())),
        g.len(want(s.weight_len())),
        g.len(want(s.output_len())),
    )
}

fn linalg_conv(g: &mut Gen) -> Res {
    let s = conv_shape(g);
    let _ = s.out_hw();
    let _ = s.check(g.size(), g.size(), g.size());
    let (nx, nw, no) = conv_lens(g, &s);
    if g.bool() {
        let (x, w) = (g.rings(nx), g.rings(nw));
        let mut out = g.rings(no);
        linalg::conv2d_acc(&x, &w, &mut out, &s)
    } else {
        let (x, w) = (g.f64s(nx), g.f64s(nw));
        let mut out = g.f64s(no);
        linalg::conv2d_acc(&x, &w, &mut out, &s)
    }
}

/// A pooling geometry: small and consistent most of the time, or hostile.
pub(crate) fn pool_shape(g: &mut Gen) -> Pool2dShape {
    let mut s = Pool2dShape {
        planes: 1 + g.small(2),
        h: 2 + g.small(4),
        w: 2 + g.small(4),
        k: 1 + g.small(1),
        stride: 1 + g.small(2),
    };
    let hostile = if g.one_in(3) { 1 + g.small(1) } else { 0 };
    for _ in 0..hostile {
        let v = g.size();
        match g.below(5) {
            0 => s.planes = v,
            1 => s.h = v,
            2 => s.w = v,
            3 => s.k = v,
            _ => s.stride = v,
        }
    }
    s
}

fn linalg_pool(g: &mut Gen) -> Res {
    let s = pool_shape(g);
    let _ = s.window();
    let _ = s.input_len();
    let out = s.output_len();
    // `for_each_cell` calls back once per cell by contract (`output_len · window` calls):
    // exercised on the shapes whose cell count is something a caller could ask for.
    let cells = out
        .ok()
        .and_then(|o| o.checked_mul(s.window()))
        .is_some_and(|c| c <= 1 << 16);
    let (inputs, outputs) = (s.input_len().unwrap_or(0), s.output_len().unwrap_or(0));
    if cells {
        let mut bad = 0usize;
        s.for_each_cell(|o, slot, i| {
            bad += usize::from(o >= outputs || slot >= s.window() || i >= inputs);
        });
        assert_eq!(
            bad, 0,
            "for_each_cell passed an index out of its shape's range"
        );
    }
    s.out_hw().map(|_| ())
}

fn error_display(g: &mut Gen) -> Res {
    let errors = [
        Error::FracBitsOutOfRange {
            frac_bits: g.u32(),
            max: g.u32(),
        },
        Error::NonFinite { index: g.size() },
        Error::EncodeOverflow { index: g.size() },
        Error::BufferTooSmall {
            needed: g.size(),
            got: g.size(),
        },
        Error::ShapeMismatch {
            expected: g.size(),
            got: g.size(),
        },
        Error::InvalidShape { what: "x" },
        Error::DivisionByZero,
        Error::OutOfRange { what: "y" },
        Error::Malformed { what: "z" },
        Error::Unsupported { what: "w" },
    ];
    let _ = g.pick(&errors).to_string();
    Ok(())
}
