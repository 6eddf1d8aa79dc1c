//! Every bad input comes back as its typed error, and a failed call has no effect.
//!
//! Goal: the kernel never panics on user input and never half-applies an operation. For each
//! error the test checks the exact variant and payload (the index of the first non-finite
//! input, the needed and given sizes, the expected and given lengths), and that the operands,
//! the output buffer, the ledger and the random streams are as they were before the call.

// Encoding limits are written as exact powers of two (`2f64.powi(47)`): std's f64 math is fine
// for those.
#![allow(clippy::disallowed_methods)]

use crate::arith::RingArith;
use crate::nn::pooling::{avg_pool2d, max_pool2d, scratch_elems_max_pool2d};
use crate::protocols::beaver::{scratch_words_bilinear, scratch_words_square};
use crate::protocols::comparison::scratch_words_ltz;
use crate::protocols::maximum::{max_rows, scratch_elems_max};
use crate::protocols::select;
use crate::protocols::truncation::scratch_words_truncate;
use crate::{
    Arith, Conv2dShape, Cost, Error, Fixed, FixedPoint, Float, MatShape, Pool2dShape, Share,
    Shared, TruncMode,
};

const FP: FixedPoint = FixedPoint::CRYPTEN_DEFAULT;
const MODES: [TruncMode; 2] = [TruncMode::Local, TruncMode::Dealer];
const SEED: u64 = 0xE7707;

/// The ledger of an arithmetic (always zero outside `Shared`).
trait Ledger {
    fn ledger(&self) -> Cost;
}

impl Ledger for Float {
    fn ledger(&self) -> Cost {
        Cost::default()
    }
}

impl Ledger for Fixed {
    fn ledger(&self) -> Cost {
        Cost::default()
    }
}

impl Ledger for Shared<'_> {
    fn ledger(&self) -> Cost {
        self.cost()
    }
}

fn mismatch(expected: usize, got: usize) -> Error {
    Error::ShapeMismatch { expected, got }
}

fn shares(mpc: &mut Shared<'_>, raw: &[i64]) -> Vec<Share> {
    let mut out = vec![[0i64; 2]; raw.len()];
    mpc.input_ring(raw, &mut out).unwrap();
    out
}

#[test]
fn frac_bits_out_of_range() {
    for f in [41u32, 64, u32::MAX] {
        assert_eq!(
            FixedPoint::new(f),
            Err(Error::FracBitsOutOfRange {
                frac_bits: f,
                max: 40
            })
        );
    }
    for f in [0u32, 16, 40] {
        assert_eq!(FixedPoint::new(f).map(|p| p.frac_bits()), Ok(f));
    }
    let msg = FixedPoint::new(41).unwrap_err().to_string();
    assert!(msg.contains("41") && msg.contains("40"), "{msg}");
}

#[test]
fn encode_errors_name_the_index() {
    for (x, idx) in [
        (f64::NAN, 0usize),
        (f64::INFINITY, 7),
        (f64::NEG_INFINITY, 123),
    ] {
        assert_eq!(FP.encode_at(x, idx), Err(Error::NonFinite { index: idx }));
    }
    // The ring holds [−2^63, 2^63) ring units: [−2^47, 2^47) at f = 16.
    assert_eq!(
        FP.encode(2f64.powi(47)),
        Err(Error::EncodeOverflow { index: 0 })
    );
    assert_eq!(
        FP.encode_at(-1e30, 4),
        Err(Error::EncodeOverflow { index: 4 })
    );
    assert_eq!(FP.encode(-(2f64.powi(47))), Ok(i64::MIN));
    let f0 = FixedPoint::new(0).unwrap();
    assert_eq!(
        f0.encode(2f64.powi(63)),
        Err(Error::EncodeOverflow { index: 0 })
    );
    assert_eq!(f0.encode(-(2f64.powi(63))), Ok(i64::MIN));
    let f40 = FixedPoint::new(40).unwrap();
    assert_eq!(
        f40.encode(2f64.powi(23)),
        Err(Error::EncodeOverflow { index: 0 })
    );
    assert!(f40.encode(2f64.powi(23) - 1.0).is_ok());
    assert_eq!(
        FP.encode_slice(&[1.0, 2.0], &mut [0i64; 3]),
        Err(mismatch(2, 3))
    );
}

/// `input` with a bad value at some index: the error names the first bad index and `out` is
/// untouched, in every arithmetic; `Shared` has also drawn nothing from its PRZS stream.
#[test]
fn input_with_a_bad_value_writes_nothing() {
    // (input, error in Fixed and Shared, error in Float: it has no overflow).
    let cases: [(Vec<f64>, Error, Option<Error>); 5] = [
        (
            vec![1.0, 2.0, 3.0, f64::NAN, 5.0],
            Error::NonFinite { index: 3 },
            Some(Error::NonFinite { index: 3 }),
        ),
        (
            vec![1.0, 2.0, f64::INFINITY, f64::NAN],
            Error::NonFinite { index: 2 },
            Some(Error::NonFinite { index: 2 }),
        ),
        (
            vec![0.5, -0.5, 1e300, 4.0],
            Error::EncodeOverflow { index: 2 },
            None,
        ),
        (
            vec![1e300, 0.0, f64::NAN],
            Error::EncodeOverflow { index: 0 },
            Some(Error::NonFinite { index: 2 }),
        ),
        (
            vec![0.0, f64::NEG_INFINITY, -1e300],
            Error::NonFinite { index: 1 },
            Some(Error::NonFinite { index: 1 }),
        ),
    ];
    for (x, err, float_err) in cases {
        let n = x.len();
        let mut fl = Float::new(FP);
        let mut out = vec![7.0; n];
        match float_err {
            Some(e) => {
                assert_eq!(fl.input(&x, &mut out), Err(e), "Float {x:?}");
                assert_eq!(out, vec![7.0; n], "Float wrote into out on error");
            }
            None => assert!(fl.input(&x, &mut out).is_ok()),
        }

        let mut fx = Fixed::new(FP);
        let mut out = vec![7i64; n];
        assert_eq!(fx.input(&x, &mut out), Err(err), "Fixed {x:?}");
        assert_eq!(out, vec![7i64; n], "Fixed wrote into out on error ({x:?})");
        assert_eq!(FP.encode_slice(&x, &mut out), Err(err));
        assert_eq!(
            out,
            vec![7i64; n],
            "encode_slice wrote into out on error ({x:?})"
        );

        let mut arena = [0i64; 0];
        let mut mpc = Shared::new(FP, SEED, &mut arena);
        let mut out = vec![[7i64; 2]; n];
        assert_eq!(mpc.input(&x, &mut out), Err(err), "Shared {x:?}");
        assert_eq!(
            out,
            vec![[7i64; 2]; n],
            "Shared wrote into out on error ({x:?})"
        );
        assert_eq!(
            mpc.input_from(0, &x, &mut out),
            Err(err),
            "Shared input_from"
        );
        assert_eq!(mpc.cost(), Cost::default());
        // Nothing was drawn: the next input gets the masks a fresh session gives its first.
        let good = [0.25, -3.0];
        let mut after = [[0i64; 2]; 2];
        mpc.input(&good, &mut after).unwrap();
        let mut arena2 = [0i64; 0];
        let mut fresh = Shared::new(FP, SEED, &mut arena2);
        let mut first = [[0i64; 2]; 2];
        fresh.input(&good, &mut first).unwrap();
        assert_eq!(after, first, "a failed input consumed PRZS draws ({x:?})");
    }
}

/// Bad public constants: NonFinite / EncodeOverflow at index 0, operand and ledger unchanged.
#[test]
fn bad_constants_change_nothing() {
    let raw = [65536i64, -3, 0, 12345];
    let nan = Error::NonFinite { index: 0 };
    let big = Error::EncodeOverflow { index: 0 };

    let mut fl = Float::new(FP);
    let xf: Vec<f64> = raw.iter().map(|&v| FP.decode(v)).collect();
    let mut t = xf.clone();
    assert_eq!(fl.mul_const(&mut t, f64::NAN), Err(nan));
    assert_eq!(fl.add_const(&mut t, f64::INFINITY), Err(nan));
    assert_eq!(fl.rsub_const(&mut t, f64::NAN), Err(nan));
    assert_eq!(fl.fill_const(&mut t, f64::NEG_INFINITY), Err(nan));
    assert_eq!(fl.elem_const(f64::NAN), Err(nan));
    assert_eq!(t, xf);

    let mut fx = Fixed::new(FP);
    let mut t = raw.to_vec();
    for c in [f64::NAN, f64::INFINITY] {
        assert_eq!(fx.mul_const(&mut t, c), Err(nan));
        assert_eq!(fx.add_const(&mut t, c), Err(nan));
        assert_eq!(fx.rsub_const(&mut t, c), Err(nan));
        assert_eq!(fx.fill_const(&mut t, c), Err(nan));
    }
    assert_eq!(fx.mul_const(&mut t, 1e300), Err(big));
    assert_eq!(fx.add_const(&mut t, -1e300), Err(big));
    assert_eq!(t, raw.to_vec());

    for mode in MODES {
        let mut arena = vec![0i64; 1024];
        let mut mpc = Shared::new(FP, SEED, &mut arena).with_truncation(mode);
        let x = shares(&mut mpc, &raw);
        let mut t = x.clone();
        for c in [f64::NAN, f64::NEG_INFINITY] {
            assert_eq!(mpc.mul_const(&mut t, c), Err(nan), "{mode:?}");
            assert_eq!(mpc.add_const(&mut t, c), Err(nan), "{mode:?}");
            assert_eq!(mpc.rsub_const(&mut t, c), Err(nan), "{mode:?}");
            assert_eq!(mpc.fill_const(&mut t, c), Err(nan), "{mode:?}");
        }
        assert_eq!(mpc.mul_const(&mut t, 1e300), Err(big), "{mode:?}");
        assert_eq!(t, x, "{mode:?}: operand changed by a failed constant op");
        assert_eq!(mpc.cost(), Cost::default(), "{mode:?}: ledger changed");
    }
}

#[test]
fn division_by_zero_and_huge_divisors() {
    let mut fl = Float::new(FP);
    let mut t = vec![1.5, -2.0];
    assert_eq!(fl.div_int(&mut t, 0), Err(Error::DivisionByZero));
    assert_eq!(t, vec![1.5, -2.0]);

    let mut fx = Fixed::new(FP);
    let mut t = vec![98304i64, -131072];
    assert_eq!(fx.div_int(&mut t, 0), Err(Error::DivisionByZero));
    assert!(matches!(
        fx.div_int(&mut t, 1 << 63),
        Err(Error::OutOfRange { .. })
    ));
    assert!(matches!(
        fx.div_int(&mut t, u64::MAX),
        Err(Error::OutOfRange { .. })
    ));
    assert_eq!(t, vec![98304i64, -131072]);

    for mode in MODES {
        let mut arena = vec![0i64; 64];
        let mut mpc = Shared::new(FP, SEED, &mut arena).with_truncation(mode);
        let x = shares(&mut mpc, &[98304, -131072]);
        let mut t = x.clone();
        assert_eq!(
            mpc.div_int(&mut t, 0),
            Err(Error::DivisionByZero),
            "{mode:?}"
        );
        assert!(
            matches!(mpc.div_int(&mut t, 1 << 63), Err(Error::OutOfRange { .. })),
            "{mode:?}"
        );
        assert_eq!(t, x, "{mode:?}");
        assert_eq!(mpc.cost(), Cost::default(), "{mode:?}");
    }
}

/// Every length mismatch of every slice operation, in one arithmetic: the expected/got
/// payload, operands and outputs unchanged, ledger unchanged.
fn shape_mismatches<A: Arith + Ledger>(a: &mut A, mk: fn(i64) -> A::Elem, name: &str) {
    let x4: Vec<A::Elem> = (1..=4).map(mk).collect();
    let x3: Vec<A::Elem> = (5..=7).map(mk).collect();
    let before = a.ledger();
    let fill = mk(99);

    let mut out3 = vec![fill; 3];
    assert_eq!(
        a.input(&[1.0; 4], &mut out3),
        Err(mismatch(4, 3)),
        "{name} input"
    );
    assert_eq!(out3, vec![fill; 3], "{name} input");
    let mut r3 = vec![9.0; 3];
    assert_eq!(a.reveal(&x4, &mut r3), Err(mismatch(4, 3)), "{name} reveal");
    assert_eq!(a.peek(&x4, &mut r3), Err(mismatch(4, 3)), "{name} peek");
    assert_eq!(r3, vec![9.0; 3], "{name} reveal/peek");

    for op in 0..4 {
        let mut t = x4.clone();
        let res = match op {
            0 => a.mul(&mut t, &x3),
            1 => a.mul_unscaled(&mut t, &x3),
            2 => a.add(&mut t, &x3),
            _ => a.sub(&mut t, &x3),
        };
        assert_eq!(res, Err(mismatch(4, 3)), "{name} binary op {op}");
        assert_eq!(t, x4, "{name} binary op {op}: operand changed");
    }
    let mut out3 = vec![fill; 3];
    assert_eq!(a.ltz(&x4, &mut out3), Err(mismatch(4, 3)), "{name} ltz");
    assert_eq!(
        select::sign(a, &x4, &mut out3),
        Err(mismatch(4, 3)),
        "{name} sign"
    );
    assert_eq!(
        select::gez(a, &x4, &mut out3),
        Err(mismatch(4, 3)),
        "{name} gez"
    );
    let mut t = x4.clone();
    assert_eq!(
        select::relu(a, &mut t, &mut out3),
        Err(mismatch(4, 3)),
        "{name} relu"
    );
    assert_eq!(t, x4, "{name} relu: operand changed");
    assert_eq!(out3, vec![fill; 3], "{name} ltz/sign/gez/relu wrote");

    // select: out is the reference length.
    let mut out4 = vec![fill; 4];
    assert_eq!(
        select::select(a, &x3, &x4, &x4, &mut out4),
        Err(mismatch(4, 3)),
        "{name} select c"
    );
    assert_eq!(
        select::select(a, &x4, &x3, &x4, &mut out4),
        Err(mismatch(4, 3)),
        "{name} select x"
    );
    assert_eq!(
        select::select(a, &x4, &x4, &x3, &mut out4),
        Err(mismatch(4, 3)),
        "{name} select y"
    );
    assert_eq!(out4, vec![fill; 4], "{name} select wrote");

    // matmul 2×2·2×2: each operand in turn has 3 elements instead of 4.
    let s = MatShape { m: 2, k: 2, n: 2 };
    let mut o4 = vec![fill; 4];
    let mut o3 = vec![fill; 3];
    assert_eq!(
        a.matmul(&x3, &x4, &mut o4, s),
        Err(mismatch(4, 3)),
        "{name} matmul a"
    );
    assert_eq!(
        a.matmul(&x4, &x3, &mut o4, s),
        Err(mismatch(4, 3)),
        "{name} matmul b"
    );
    assert_eq!(
        a.matmul(&x4, &x4, &mut o3, s),
        Err(mismatch(4, 3)),
        "{name} matmul out"
    );
    assert_eq!(o4, vec![fill; 4], "{name} matmul wrote");
    assert_eq!(o3, vec![fill; 3], "{name} matmul wrote");

    // conv2d: 1×1×2×2 input, 1×1×1×1 kernel, 2×2 output.
    let cs = Conv2dShape {
        batch: 1,
        in_ch: 1,
        h: 2,
        w: 2,
        out_ch: 1,
        kh: 1,
        kw: 1,
        stride: 1,
        pad: 0,
    };
    let w1 = vec![mk(1)];
    assert_eq!(
        a.conv2d(&x3, &w1, &mut o4, &cs),
        Err(mismatch(4, 3)),
        "{name} conv x"
    );
    assert_eq!(
        a.conv2d(&x4, &x3[..2], &mut o4, &cs),
        Err(mismatch(1, 2)),
        "{name} conv w"
    );
    assert_eq!(
        a.conv2d(&x4, &w1, &mut o3, &cs),
        Err(mismatch(4, 3)),
        "{name} conv out"
    );
    assert_eq!(o4, vec![fill; 4], "{name} conv2d wrote");

    // max_rows over 2×2.
    let mut sc = vec![fill; scratch_elems_max(2, 2)];
    let (mut m2, mut m1, mut am2, mut am3) =
        (vec![fill; 2], vec![fill; 1], vec![fill; 2], vec![fill; 3]);
    let x5: Vec<A::Elem> = (1..=5).map(mk).collect();
    assert_eq!(
        max_rows(a, &x5, 2, 2, &mut m2, Some(&mut am2), &mut sc),
        Err(mismatch(4, 5)),
        "{name} max_rows x"
    );
    assert_eq!(
        max_rows(a, &x4, 2, 2, &mut m1, Some(&mut am2), &mut sc),
        Err(mismatch(2, 1)),
        "{name} max_rows max_out"
    );
    assert_eq!(
        max_rows(a, &x4, 2, 2, &mut m2, Some(&mut am3), &mut sc),
        Err(mismatch(2, 3)),
        "{name} max_rows argmax_out"
    );
    assert_eq!(
        m2,
        vec![fill; 2],
        "{name} max_rows wrote max_out on a bad argmax length"
    );
    assert_eq!(am2, vec![fill; 2], "{name} max_rows wrote");
    assert_eq!(am3, vec![fill; 3], "{name} max_rows wrote");

    // Pooling 1×2×2 with a 2×2 window: 4 in, 1 out.
    let ps = Pool2dShape {
        planes: 1,
        h: 2,
        w: 2,
        k: 2,
        stride: 2,
    };
    let mut p1 = vec![fill; 1];
    let mut p2 = vec![fill; 2];
    let mut psc = vec![fill; scratch_elems_max_pool2d(&ps).unwrap()];
    assert_eq!(
        avg_pool2d(a, &x3, &mut p1, &ps, false),
        Err(mismatch(4, 3)),
        "{name} avg x"
    );
    assert_eq!(
        avg_pool2d(a, &x4, &mut p2, &ps, false),
        Err(mismatch(1, 2)),
        "{name} avg out"
    );
    assert_eq!(
        max_pool2d(a, &x3, &mut p1, &ps, &mut psc),
        Err(mismatch(4, 3)),
        "{name} maxpool x"
    );
    assert_eq!(
        max_pool2d(a, &x4, &mut p2, &ps, &mut psc),
        Err(mismatch(1, 2)),
        "{name} maxpool out"
    );
    assert_eq!(p1, vec![fill; 1], "{name} pooling wrote");
    assert_eq!(p2, vec![fill; 2], "{name} pooling wrote");

    assert_eq!(a.ledger(), before, "{name}: a failed op spent something");
}

#[test]
fn shape_mismatches_in_every_arithmetic() {
    shape_mismatches(&mut Float::new(FP), |v| v as f64, "Float");
    shape_mismatches(&mut Fixed::new(FP), |v| v, "Fixed");
    for mode in MODES {
        let mut arena = vec![0i64; 4096];
        let mut mpc = Shared::new(FP, SEED, &mut arena).with_truncation(mode);
        shape_mismatches(&mut mpc, |v| [v, 0], &format!("Shared {mode:?}"));
    }
    // The ring-level entry points too.
    let mut fx = Fixed::new(FP);
    let mut o = [0i64; 3];
    assert_eq!(fx.input_ring(&[1, 2, 3, 4], &mut o), Err(mismatch(4, 3)));
    assert_eq!(fx.reveal_ring(&[1, 2, 3, 4], &mut o), Err(mismatch(4, 3)));
    assert_eq!(fx.peek_ring(&[1, 2, 3, 4], &mut o), Err(mismatch(4, 3)));
    assert_eq!(o, [0; 3]);
    let mut arena = vec![0i64; 64];
    let mut mpc = Shared::new(FP, SEED, &mut arena);
    let mut so = [[5i64; 2]; 3];
    assert_eq!(mpc.input_ring(&[1, 2, 3, 4], &mut so), Err(mismatch(4, 3)));
    assert_eq!(so, [[5i64; 2]; 3]);
    let x = shares(&mut mpc, &[1, 2, 3, 4]);
    assert_eq!(mpc.reveal_ring(&x, &mut o), Err(mismatch(4, 3)));
    assert_eq!(mpc.peek_ring(&x, &mut o), Err(mismatch(4, 3)));
    assert_eq!(o, [0; 3]);
    assert_eq!(mpc.cost(), Cost::default());
}

fn conv(stride: usize, pad: usize, kh: usize, kw: usize, h: usize, w: usize) -> Conv2dShape {
    Conv2dShape {
        batch: 1,
        in_ch: 1,
        h,
        w,
        out_ch: 1,
        kh,
        kw,
        stride,
        pad,
    }
}

#[test]
fn invalid_conv_and_pool_shapes() {
    let bad_convs = [
        (conv(0, 0, 1, 1, 4, 4), "stride"),
        (conv(1, 0, 0, 1, 4, 4), "kernel"),
        (conv(1, 0, 1, 0, 4, 4), "kernel"),
        (conv(1, 0, 5, 1, 4, 4), "kernel"),
        (conv(1, 1, 7, 1, 4, 4), "kernel"),
        (conv(1, usize::MAX, 1, 1, 4, 4), "overflow"),
        (conv(1, usize::MAX / 2 + 1, 1, 1, 4, 4), "overflow"),
        (conv(1, 1, 1, 1, usize::MAX, 4), "overflow"),
        (
            Conv2dShape {
                batch: usize::MAX,
                in_ch: 2,
                ..conv(1, 0, 1, 1, 4, 4)
            },
            "overflow",
        ),
    ];
    for (s, word) in bad_convs {
        let err = s
            .output_len()
            .and(s.input_len())
            .and(s.weight_len())
            .unwrap_err();
        match err {
            Error::InvalidShape { what } => {
                assert!(
                    what.contains(word),
                    "{s:?}: {what:?} does not mention {word}"
                )
            }
            e => panic!("{s:?}: {e:?}"),
        }
        assert_eq!(Shared::scratch_words_conv2d(&s), Err(err), "{s:?}");
        let mut fx = Fixed::new(FP);
        let mut o = [3i64; 4];
        assert_eq!(fx.conv2d(&[0; 16], &[0; 1], &mut o, &s), Err(err), "{s:?}");
        assert_eq!(o, [3i64; 4]);
        let mut arena = vec![0i64; 256];
        let mut mpc = Shared::new(FP, SEED, &mut arena);
        let mut so = [[3i64; 2]; 4];
        assert_eq!(
            mpc.conv2d(&[[0; 2]; 16], &[[0; 2]; 1], &mut so, &s),
            Err(err)
        );
        assert_eq!(so, [[3i64; 2]; 4]);
        assert_eq!(mpc.cost(), Cost::default());
    }

    let pool = |planes, h, w, k, stride| Pool2dShape {
        planes,
        h,
        w,
        k,
        stride,
    };
    let big = 1usize << (usize::BITS / 2 + 1); // big² overflows usize
    let bad_pools = [
        pool(1, 4, 4, 0, 1),
        pool(1, 4, 4, 2, 0),
        pool(1, 4, 4, 5, 1),
        pool(1, 4, 3, 4, 1),
        pool(0, big, big, big, 1),
        pool(usize::MAX, 2, 2, 2, 2),
    ];
    for s in bad_pools {
        let err = scratch_elems_max_pool2d(&s).unwrap_err();
        assert!(matches!(err, Error::InvalidShape { .. }), "{s:?}: {err:?}");
        let mut fx = Fixed::new(FP);
        let mut o: [i64; 0] = [];
        assert!(
            matches!(
                avg_pool2d(&mut fx, &[], &mut o, &s, false),
                Err(Error::InvalidShape { .. })
            ),
            "{s:?}: avg_pool2d"
        );
        let mut sc = [0i64; 8];
        assert!(
            matches!(
                max_pool2d(&mut fx, &[], &mut o, &s, &mut sc),
                Err(Error::InvalidShape { .. })
            ),
            "{s:?}: max_pool2d"
        );
    }

    // max_rows: zero columns, and a size that overflows.
    let mut fx = Fixed::new(FP);
    let mut m = [0i64; 2];
    let mut sc = [0i64; 16];
    assert!(matches!(
        max_rows(&mut fx, &[], 2, 0, &mut m, None, &mut sc),
        Err(Error::InvalidShape { .. })
    ));
    assert!(matches!(
        max_rows(&mut fx, &[], usize::MAX, 2, &mut m, None, &mut sc),
        Err(Error::InvalidShape { .. })
    ));
}

/// Element-scratch too small for max_rows / max_pool2d, in every arithmetic.
#[test]
fn element_scratch_too_small() {
    let (rows, cols) = (3, 5);
    let need = scratch_elems_max(rows, cols);
    let xs: Vec<i64> = (0..15).map(|i| (i * 7919) % 23 - 11).collect();
    let mut fx = Fixed::new(FP);
    let mut m = [42i64; 3];
    let mut sc = vec![0i64; need - 1];
    assert_eq!(
        max_rows(&mut fx, &xs, rows, cols, &mut m, None, &mut sc),
        Err(Error::BufferTooSmall {
            needed: need,
            got: need - 1
        })
    );
    assert_eq!(m, [42; 3]);
    let mut sc = vec![0i64; need];
    assert!(max_rows(&mut fx, &xs, rows, cols, &mut m, None, &mut sc).is_ok());

    let ps = Pool2dShape {
        planes: 2,
        h: 5,
        w: 5,
        k: 3,
        stride: 1,
    };
    let need = scratch_elems_max_pool2d(&ps).unwrap();
    let x = vec![1.0; 50];
    let mut o = vec![-1.0; 18];
    let mut sc = vec![0.0; need - 1];
    let mut fl = Float::new(FP);
    assert_eq!(
        max_pool2d(&mut fl, &x, &mut o, &ps, &mut sc),
        Err(Error::BufferTooSmall {
            needed: need,
            got: need - 1
        })
    );
    assert_eq!(o, vec![-1.0; 18]);
}

/// What one call did: its result, its ledger delta, and whether it changed an operand or an
/// output buffer.
struct Probe {
    result: Result<(), Error>,
    cost: Cost,
    changed: bool,
}

/// One interactive operation under test, on fresh operands of size `n`.
#[derive(Clone, Copy, Debug)]
enum Op {
    Reveal,
    RevealRing,
    Mul,
    MulUnscaled,
    Square,
    Ltz,
    MulConst,
    DivInt(u64),
    Matmul(MatShape),
    Conv2d(Conv2dShape),
    Relu,
    Sign,
    MaxRows(usize, usize),
    MaxPool(Pool2dShape),
}

fn run_op(op: Op, n: usize, mode: TruncMode, words: usize) -> Probe {
    let mut arena = vec![0i64; words];
    let mut mpc = Shared::new(FP, SEED, &mut arena).with_truncation(mode);
    let raws: Vec<i64> = (0..n.max(64))
        .map(|i| (i as i64 * 40503) % 200_000 - 100_000)
        .collect();
    let x = shares(&mut mpc, &raws[..n]);
    let y = shares(&mut mpc, &raws[1..=n]);
    let before_cost = mpc.cost();
    let mut t = x.clone();
    let mut out = vec![[11i64; 2]; n];
    let mut fout = vec![-5.0; n];
    let mut rout = vec![-5i64; n];
    let result = match op {
        Op::Reveal => mpc.reveal(&x, &mut fout),
        Op::RevealRing => mpc.reveal_ring(&x, &mut rout),
        Op::Mul => mpc.mul(&mut t, &y),
        Op::MulUnscaled => mpc.mul_unscaled(&mut t, &y),
        Op::Square => mpc.square(&mut t),
        Op::Ltz => mpc.ltz(&x, &mut out),
        Op::MulConst => mpc.mul_const(&mut t, 1.75),
        Op::DivInt(d) => mpc.div_int(&mut t, d),
        Op::Matmul(s) => {
            out.truncate(s.m * s.n);
            mpc.matmul(&x[..s.m * s.k], &y[..s.k * s.n], &mut out, s)
        }
        Op::Conv2d(s) => {
            out.truncate(s.output_len().unwrap());
            let xi = &x[..s.input_len().unwrap()];
            let wi = &y[..s.weight_len().unwrap()];
            mpc.conv2d(xi, wi, &mut out, &s)
        }
        Op::Relu => select::relu(&mut mpc, &mut t, &mut out),
        Op::Sign => select::sign(&mut mpc, &x, &mut out),
        Op::MaxRows(rows, cols) => {
            out.truncate(rows);
            let mut sc = vec![[0i64; 2]; scratch_elems_max(rows, cols)];
            max_rows(
                &mut mpc,
                &x[..rows * cols],
                rows,
                cols,
                &mut out,
                None,
                &mut sc,
            )
        }
        Op::MaxPool(s) => {
            out.truncate(s.output_len().unwrap());
            let mut sc = vec![[0i64; 2]; scratch_elems_max_pool2d(&s).unwrap()];
            max_pool2d(
                &mut mpc,
                &x[..s.input_len().unwrap()],
                &mut out,
                &s,
                &mut sc,
            )
        }
    };
    let changed = t != x
        || out.iter().any(|&s| s != [11, 11])
        || fout.iter().any(|&v| v != -5.0)
        || rout.iter().any(|&v| v != -5);
    Probe {
        result,
        cost: mpc.cost().since(&before_cost),
        changed,
    }
}

/// Each interactive `Shared` operation, with an arena one word short of its need: returns
/// `BufferTooSmall { needed, got }` with `needed` the documented figure, changes neither
/// operands nor outputs nor the ledger; with exactly `needed` words it succeeds; and the
/// session-sizing function (`scratch_words_elementwise` / `_matmul` / `_conv2d`) is enough.
#[test]
fn arena_too_small_for_each_interactive_op() {
    let ms = MatShape { m: 3, k: 4, n: 5 };
    let cs = Conv2dShape {
        batch: 1,
        in_ch: 2,
        h: 4,
        w: 4,
        out_ch: 2,
        kh: 3,
        kw: 3,
        stride: 1,
        pad: 1,
    };
    let ps = Pool2dShape {
        planes: 2,
        h: 4,
        w: 4,
        k: 2,
        stride: 2,
    };
    for mode in MODES {
        let dealer = mode == TruncMode::Dealer;
        let trunc = |n: usize| if dealer { scratch_words_truncate(n) } else { 0 };
        for n in [1usize, 5, 8] {
            let elementwise = Shared::scratch_words_elementwise(n);
            let mut cases: Vec<(Op, usize, usize)> = vec![
                (Op::Reveal, 2 * n, elementwise),
                (Op::RevealRing, n, elementwise),
                (
                    Op::Mul,
                    scratch_words_bilinear(n, n, n).max(trunc(n)),
                    elementwise,
                ),
                (
                    Op::MulUnscaled,
                    scratch_words_bilinear(n, n, n),
                    elementwise,
                ),
                (
                    Op::Square,
                    scratch_words_square(n).max(trunc(n)),
                    elementwise,
                ),
                (Op::Ltz, scratch_words_ltz(n), elementwise),
                (Op::Relu, scratch_words_ltz(n), elementwise),
                (Op::Sign, scratch_words_ltz(n), elementwise),
            ];
            if dealer {
                cases.push((Op::MulConst, trunc(n), elementwise));
                cases.push((Op::DivInt(1 << 16), trunc(n), elementwise));
            }
            for (op, needed, sizing) in cases {
                let short = run_op(op, n, mode, needed - 1);
                assert_eq!(
                    short.result,
                    Err(Error::BufferTooSmall {
                        needed,
                        got: needed - 1
                    }),
                    "{op:?} n={n} {mode:?}"
                );
                assert!(!short.changed, "{op:?} n={n} {mode:?}: wrote on failure");
                assert_eq!(short.cost, Cost::default(), "{op:?} n={n} {mode:?}: spent");
                assert_eq!(
                    run_op(op, n, mode, needed).result,
                    Ok(()),
                    "{op:?} n={n} exact"
                );
                assert!(
                    needed <= sizing,
                    "{op:?} n={n} {mode:?}: sizing function too small"
                );
                assert_eq!(
                    run_op(op, n, mode, sizing).result,
                    Ok(()),
                    "{op:?} n={n} sizing"
                );
            }
            // Share-local truncation needs no arena at all.
            if !dealer {
                for op in [Op::MulConst, Op::DivInt(1 << 16), Op::DivInt(3)] {
                    assert_eq!(run_op(op, n, mode, 0).result, Ok(()), "{op:?} n={n}");
                }
            } else {
                // Non-power-of-two divisors fall back to local truncation: no arena either.
                assert_eq!(
                    run_op(Op::DivInt(3), n, mode, 0).result,
                    Ok(()),
                    "div 3 n={n}"
                );
            }
        }

        // Products: the bilinear need, and the truncation's in dealer mode.
        let (na, nb, nc) = (ms.m * ms.k, ms.k * ms.n, ms.m * ms.n);
        let mneed = scratch_words_bilinear(na, nb, nc).max(trunc(nc));
        let (ca, cb, cc) = (
            cs.input_len().unwrap(),
            cs.weight_len().unwrap(),
            cs.output_len().unwrap(),
        );
        let cneed = scratch_words_bilinear(ca, cb, cc).max(trunc(cc));
        let pool_pairs = ps.output_len().unwrap() * (ps.k * ps.k / 2);
        let products = [
            (
                Op::Matmul(ms),
                mneed,
                Shared::scratch_words_matmul(ms),
                32usize,
            ),
            (
                Op::Conv2d(cs),
                cneed,
                Shared::scratch_words_conv2d(&cs).unwrap(),
                36,
            ),
            (
                Op::MaxRows(3, 7),
                scratch_words_ltz(3 * 3),
                Shared::scratch_words_elementwise(3 * 3),
                21,
            ),
            (
                Op::MaxPool(ps),
                scratch_words_ltz(pool_pairs),
                Shared::scratch_words_elementwise(pool_pairs),
                32,
            ),
        ];
        for (op, needed, sizing, n) in products {
            let short = run_op(op, n, mode, needed - 1);
            assert_eq!(
                short.result,
                Err(Error::BufferTooSmall {
                    needed,
                    got: needed - 1
                }),
                "{op:?} {mode:?}"
            );
            assert!(!short.changed, "{op:?} {mode:?}: wrote on failure");
            assert_eq!(short.cost, Cost::default(), "{op:?} {mode:?}: spent");
            assert_eq!(
                run_op(op, n, mode, needed).result,
                Ok(()),
                "{op:?} {mode:?} exact"
            );
            assert!(
                needed <= sizing,
                "{op:?} {mode:?}: sizing function too small"
            );
            if dealer {
                // With dealer truncation the sizing function is the exact need.
                if let Op::Matmul(_) | Op::Conv2d(_) = op {
                    assert_eq!(needed, sizing, "{op:?}: sizing ≠ need in dealer mode");
                }
            }
        }
    }
    // ltz's need is the elementwise sizing function itself.
    for n in [1, 5, 8] {
        assert_eq!(scratch_words_ltz(n), Shared::scratch_words_elementwise(n));
    }
}

/// A call that failed for lack of arena drew nothing from the dealer: a session that failed a
/// large product and then ran a small one holds the same shares as a session that only ran the
/// small one.
#[test]
fn failed_ops_draw_no_randomness() {
    for mode in MODES {
        let words = Shared::scratch_words_elementwise(4);
        let run = |fail_first: bool| -> Vec<Share> {
            let mut arena = vec![0i64; words];
            let mut mpc = Shared::new(FP, SEED, &mut arena).with_truncation(mode);
            let raws: Vec<i64> = (0..64).map(|i| i * 1000 - 7000).collect();
            let big = shares(&mut mpc, &raws);
            let small = shares(&mut mpc, &raws[..4]);
            if fail_first {
                let mut t = big.clone();
                assert!(matches!(
                    mpc.mul(&mut t, &big),
                    Err(Error::BufferTooSmall { .. })
                ));
                let mut o = vec![[0i64; 2]; 64];
                assert!(matches!(
                    mpc.ltz(&big, &mut o),
                    Err(Error::BufferTooSmall { .. })
                ));
                let mut o = vec![[0i64; 2]; 64];
                let s = MatShape { m: 8, k: 8, n: 8 };
                assert!(matches!(
                    mpc.matmul(&big, &big, &mut o, s),
                    Err(Error::BufferTooSmall { .. })
                ));
            }
            let mut t = small.clone();
            mpc.mul(&mut t, &small).unwrap();
            let mut bits = vec![[0i64; 2]; 4];
            mpc.ltz(&t, &mut bits).unwrap();
            [t, bits].concat()
        };
        assert_eq!(
            run(true),
            run(false),
            "{mode:?}: a failed op consumed dealer draws"
        );
    }
}

#[test]
fn error_messages_use_the_numbers() {
    let cases = [
        (Error::NonFinite { index: 3 }, "3"),
        (Error::EncodeOverflow { index: 9 }, "9"),
        (
            Error::BufferTooSmall {
                needed: 40,
                got: 39,
            },
            "39",
        ),
        (
            Error::ShapeMismatch {
                expected: 12,
                got: 11,
            },
            "11",
        ),
        (Error::DivisionByZero, "zero"),
    ];
    for (e, needle) in cases {
        let msg = e.to_string();
        assert!(msg.contains(needle), "{e:?}: {msg:?}");
    }
}

/// The batched operations added for the approximations: `div_int_each` and `lincomb_const`
/// validate everything before touching anything, in every arithmetic.
#[test]
fn batched_division_and_lincomb_change_nothing_on_error() {
    let raw = vec![98304i64, -131072, 777, -5];
    let zero_at_2 = |i: usize| [2u64, 4, 0, 3][i];
    let huge_at_1 = |i: usize| [2u64, 1 << 63, 4, 3][i];

    let mut fl = Float::new(FP);
    let xf: Vec<f64> = raw.iter().map(|&v| FP.decode(v)).collect();
    let mut t = xf.clone();
    assert_eq!(
        fl.div_int_each(&mut t, &zero_at_2),
        Err(Error::DivisionByZero)
    );
    assert_eq!(t, xf, "Float div_int_each wrote on error");

    let mut fx = Fixed::new(FP);
    let mut t = raw.clone();
    assert_eq!(
        fx.div_int_each(&mut t, &zero_at_2),
        Err(Error::DivisionByZero)
    );
    assert_eq!(t, raw, "Fixed div_int_each wrote on error");
    assert!(matches!(
        fx.div_int_each(&mut t, &huge_at_1),
        Err(Error::OutOfRange { .. })
    ));
    assert_eq!(
        t, raw,
        "Fixed div_int_each divided elements before a bad divisor"
    );

    for mode in MODES {
        let mut arena = vec![0i64; 4];
        let mut mpc = Shared::new(FP, SEED, &mut arena).with_truncation(mode);
        let x = shares(&mut mpc, &raw);
        let mut t = x.clone();
        assert_eq!(
            mpc.div_int_each(&mut t, &zero_at_2),
            Err(Error::DivisionByZero)
        );
        assert!(matches!(
            mpc.div_int_each(&mut t, &huge_at_1),
            Err(Error::OutOfRange { .. })
        ));
        if mode == TruncMode::Dealer {
            // Three power-of-two divisors > 1 need a dealer round: 24 words, 4 given.
            let pow2 = |i: usize| [2u64, 4, 1 << 16, 3][i];
            assert_eq!(
                mpc.div_int_each(&mut t, &pow2),
                Err(Error::BufferTooSmall {
                    needed: scratch_words_truncate(3),
                    got: 4
                })
            );
        }
        assert_eq!(t, x, "{mode:?}: div_int_each changed the operand on error");
        assert_eq!(
            mpc.cost(),
            Cost::default(),
            "{mode:?}: div_int_each spent on error"
        );
    }

    // lincomb_const: 2 coefficients over blocks of 2 outputs.
    let coeffs_nan = [0.5, f64::NAN, 1.0];
    let mut fl = Float::new(FP);
    let mut of = vec![-1.0; 2];
    assert_eq!(
        fl.lincomb_const(&xf[..3], &[0.5, 0.25], &mut of),
        Err(mismatch(4, 3))
    );
    assert_eq!(
        fl.lincomb_const(&[0.0; 6], &coeffs_nan, &mut of),
        Err(Error::NonFinite { index: 1 })
    );
    assert_eq!(of, vec![-1.0; 2], "Float lincomb_const wrote on error");
    let mut fx = Fixed::new(FP);
    let mut o = vec![-1i64; 2];
    assert_eq!(
        fx.lincomb_const(&raw[..3], &[0.5, 0.25], &mut o),
        Err(mismatch(4, 3))
    );
    assert_eq!(
        fx.lincomb_const(&[0; 6], &coeffs_nan, &mut o),
        Err(Error::NonFinite { index: 1 }),
        "the error names the bad coefficient"
    );
    assert_eq!(
        fx.lincomb_const(&[0; 4], &[0.5, 1e300], &mut o),
        Err(Error::EncodeOverflow { index: 1 })
    );
    assert_eq!(o, vec![-1i64; 2], "Fixed lincomb_const wrote on error");
    for mode in MODES {
        let mut arena = vec![0i64; 64];
        let mut mpc = Shared::new(FP, SEED, &mut arena).with_truncation(mode);
        let x = shares(&mut mpc, &raw);
        let mut o = vec![[-1i64; 2]; 2];
        assert_eq!(
            mpc.lincomb_const(&x[..3], &[0.5, 0.25], &mut o),
            Err(mismatch(4, 3))
        );
        assert_eq!(
            mpc.lincomb_const(&[[0; 2]; 6], &coeffs_nan, &mut o),
            Err(Error::NonFinite { index: 1 })
        );
        assert_eq!(
            o,
            vec![[-1i64; 2]; 2],
            "{mode:?}: lincomb_const wrote on error"
        );
        assert_eq!(
            mpc.cost(),
            Cost::default(),
            "{mode:?}: lincomb_const spent on error"
        );
    }
    let mut arena = vec![0i64; 15];
    let mut mpc = Shared::new(FP, SEED, &mut arena).with_truncation(TruncMode::Dealer);
    let x = shares(&mut mpc, &raw);
    let mut o = vec![[-1i64; 2]; 2];
    assert_eq!(
        mpc.lincomb_const(&x, &[0.5, 0.25], &mut o),
        Err(Error::BufferTooSmall {
            needed: scratch_words_truncate(2),
            got: 15
        })
    );
    assert_eq!(o, vec![[-1i64; 2]; 2]);
}

/// The scratch-sizing functions are public and take any size: with overflow checks, 18 of
/// them panicked on sizes whose need overflows `usize` (the reliability probe's list). They
/// saturate at `usize::MAX`, a size no buffer has, so the call they size fails with
/// `BufferTooSmall` instead.
#[test]
fn sizing_functions_saturate_instead_of_overflowing() {
    use crate::approx::{self, attribution::Memory};
    use crate::difftest::fuzzer::Fuzzer;
    use crate::protocols::comparison::scratch_words_and;
    let max = usize::MAX;
    for n in [max, max / 2 + 1, max / 5, 1 << 62, 3_037_000_500] {
        let all = [
            scratch_words_bilinear(n, n, n),
            scratch_words_bilinear(n, 0, 0),
            scratch_words_square(n),
            scratch_words_and(n),
            scratch_words_ltz(n),
            scratch_words_truncate(n),
            scratch_elems_max(n, n),
            Shared::scratch_words_elementwise(n),
            Shared::scratch_words_matmul(MatShape { m: n, k: n, n }),
            approx::scratch_elems(n),
            approx::log::scratch_elems(n, 1),
            approx::log::scratch_elems(n, 32),
            approx::reciprocal::scratch_elems(n),
            approx::sqrt::scratch_elems_sqrt(n),
            approx::sigmoid::scratch_elems(n),
            approx::chebyshev::scratch_elems(n, n),
            approx::erf::scratch_elems(n),
            approx::gelu::scratch_elems_tanh(n),
            approx::gelu::scratch_elems_erf(n),
            approx::softmax::scratch_elems(n, n),
            Memory::sizes(n).1,
            Fuzzer::floats(n, n, n),
        ];
        for (k, &v) in all.iter().enumerate() {
            assert!(v >= n.min(1 << 62), "sizing function {k} at {n}: {v}");
        }
    }
    // Exact where they fit.
    assert_eq!(scratch_words_bilinear(3, 4, 5), 4 * 7 + 2 * 5);
    assert_eq!(scratch_words_ltz(10), 400);
    assert_eq!(approx::log::scratch_elems(10, 8), 10 * (5 + 8 + 4));
    assert_eq!(approx::softmax::scratch_elems(2, 3), 2 * 6 + 2 * 2 + 5 * 6);
    // Shapes whose sizes overflow are errors, not panics.
    let pool = Pool2dShape {
        planes: max,
        h: 2,
        w: 2,
        k: 2,
        stride: 2,
    };
    assert!(scratch_elems_max_pool2d(&pool).is_err());
    let pool = Pool2dShape {
        planes: max / 4,
        h: 2,
        w: 2,
        k: 2,
        stride: 2,
    };
    assert!(scratch_elems_max_pool2d(&pool).is_err());
    let mut arena = [0i64; 8];
    let mut mpc = Shared::new(FP, SEED, &mut arena);
    assert!(matches!(
        mpc.matmul(&[], &[], &mut [], MatShape { m: max, k: 2, n: 0 }),
        Err(Error::ShapeMismatch { .. } | Error::InvalidShape { .. })
    ));
}
