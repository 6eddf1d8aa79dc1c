//! Fixed-point formats: reals as ring integers scaled by `S = base^digits`.
//!
//! The engine's arithmetics ([`crate::arith::Fixed`], [`crate::arith::Shared`]) run in one
//! [`FixedPoint`] format over its ring, Z_2^64 unless [`FixedPoint::with_ring`] says Z_2^128
//! (the arithmetic's word type must match: [`crate::ring::Word`]). CrypTen's is the default ([`FixedPoint::new`]: `S = 2^f`,
//! float64 products, exact decode, products truncated toward zero on one party); the other
//! frameworks MPCDiff tested are values of the same type ([`FixedPoint::tf_encrypted`],
//! [`FixedPoint::pysyft`], [`FixedPoint::spu`]): a scale with any base (3^5 and 3^8 for
//! TF-Encrypted, 10^3 for stock PySyft), the float width in which private data (tensors,
//! weights) and public constants are multiplied by `S`, the decoder's width, saturation, and the
//! deterministic truncation of a public product.
//!
//! # Method
//! Encoding: `x · S` in the format's float width for that kind of value (IEEE multiplication;
//! for float32 the input is first rounded to `f32`, as a float32 tensor holds it), converted to
//! an integer **truncating toward zero** (every framework casts; none rounds), so every encoded
//! value, public constants included, is off by (−1, 0] units of `1/S` toward zero (`0.1 → 6553`
//! at 2^16; `1/32 → 7/243` at 3^5, which is why MPCDiff's TF-Encrypted "high" exp computes
//! `exp(0.92x)`). One implementation: [`crate::encoding::Encoder`]. Decoding:
//! `raw / S` in the decoder's width (exact `f64` for CrypTen's binary scales).
//!
//! # Errors
//! CrypTen casts out-of-range values to `INT64_MIN` silently; the kernel returns
//! [`Error::EncodeOverflow`] instead (a saturating format clamps, as SPU does), and
//! [`Error::NonFinite`] for NaN and infinities.
//!
//! # Reference
//! `crypten/encoder.py: FixedPointEncoder` (research notes `crypten.md` §1.3–1.4). CrypTen's
//! decoder has an off-by-one for some negatives; [`FixedPoint::decode_crypten_compat`]
//! reproduces it for comparisons, [`FixedPoint::decode`] does not. The other formats:
//! `../shared/research/frameworks.md` §1.2, §2.2, §3.2, checked against the real packages'
//! recorded encodings (`tests/tests/frameworks.rs`).

use crate::encoding::{Encoder, FloatWidth, RingWidth, Scale};
use crate::error::{Error, Result};
use crate::protocols::laws::PublicTruncation;
use crate::ring::{Ring, Word};

/// The largest supported `frac_bits` of a binary format. With 40 fractional bits a product at
/// scale 2^80 no longer fits, but single values up to 2^23 still do; beyond 40 there is no useful
/// range left. Other bases are bounded alike: `S ≤ 2^40`.
pub const FRAC_BITS_MAX: u32 = 40;

/// A fixed-point format over Z_2^64: values are ring integers `raw = trunc(x · S)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedPoint {
    s: Scale,
    scale: i64,
    data: FloatWidth,
    constant: FloatWidth,
    decode: FloatWidth,
    saturate: bool,
    rounding: PublicTruncation,
    ring: RingWidth,
}

/// 2^63 as f64: the first magnitude that does not fit an i64.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

impl FixedPoint {
    /// CrypTen's format with `frac_bits` fractional bits (0..=40): `S = 2^f`, float64 products,
    /// exact decode, no saturation, public products truncated toward zero.
    ///
    /// # Errors
    /// [`Error::FracBitsOutOfRange`] above [`FRAC_BITS_MAX`].
    pub const fn new(frac_bits: u32) -> Result<Self> {
        if frac_bits > FRAC_BITS_MAX {
            return Err(Error::FracBitsOutOfRange {
                frac_bits,
                max: FRAC_BITS_MAX,
            });
        }
        let s = match Scale::new(2, frac_bits) {
            Ok(s) => s,
            Err(e) => return Err(e),
        };
        Ok(FixedPoint {
            s,
            scale: 1i64 << frac_bits,
            data: FloatWidth::F64,
            constant: FloatWidth::F64,
            decode: FloatWidth::F64,
            saturate: false,
            rounding: PublicTruncation::TowardZero,
            ring: RingWidth::Z64,
        })
    }

    /// CrypTen's default: 16 fractional bits.
    pub const CRYPTEN_DEFAULT: FixedPoint = match FixedPoint::new(16) {
        Ok(fp) => fp,
        Err(_) => panic!("16 fractional bits are in range"),
    };

    /// The same format with the scale `base^digits` (base 2..=16, `S ≤ 2^40`).
    ///
    /// # Errors
    /// [`Error::FracBitsOutOfRange`] for a binary scale above [`FRAC_BITS_MAX`] bits;
    /// [`Error::OutOfRange`] naming the base or the digits otherwise.
    pub const fn with_scale(self, base: u32, digits: u32) -> Result<Self> {
        if base == 2 && digits > FRAC_BITS_MAX {
            return Err(Error::FracBitsOutOfRange {
                frac_bits: digits,
                max: FRAC_BITS_MAX,
            });
        }
        match Scale::new(base, digits) {
            Ok(s) if s.value() <= 1 << FRAC_BITS_MAX => Ok(FixedPoint {
                s,
                scale: s.value() as i64,
                ..self
            }),
            Ok(_) => Err(Error::OutOfRange {
                what: "scale digits",
            }),
            Err(e) => Err(e),
        }
    }

    /// The same format with private data (inputs, weights) multiplied by `S` in `data` and
    /// public constants in `constant`.
    pub const fn with_products(self, data: FloatWidth, constant: FloatWidth) -> Self {
        FixedPoint {
            data,
            constant,
            ..self
        }
    }

    /// The same format with `raw / S` computed in `decode`.
    pub const fn with_decode(self, decode: FloatWidth) -> Self {
        FixedPoint { decode, ..self }
    }

    /// The same format clamping out-of-range values to `[−2^62, 2^62 − 1]` (SPU) instead of
    /// refusing them.
    pub const fn with_saturation(self, saturate: bool) -> Self {
        FixedPoint { saturate, ..self }
    }

    /// The same format with public products truncated by `rounding` (the one-party arithmetic
    /// [`crate::arith::Fixed`] truncates every product that way).
    pub const fn with_rounding(self, rounding: PublicTruncation) -> Self {
        FixedPoint { rounding, ..self }
    }

    /// TF-Encrypted 0.7.0 `fixed64` (SecureNN): `S = 3^digits` (8 stock, 5 as MPCDiff patched
    /// it); float32 products for the graph's placeholders and Keras' float32 weights, float64
    /// for Python constants; exact float64 decode; public products floored (`_truncate_public`).
    /// `frameworks.md` §1.2–1.3.
    ///
    /// # Errors
    /// As [`FixedPoint::with_scale`].
    pub const fn tf_encrypted(digits: u32) -> Result<Self> {
        match FixedPoint::CRYPTEN_DEFAULT.with_scale(3, digits) {
            Ok(fp) => Ok(fp
                .with_products(FloatWidth::F32, FloatWidth::F64)
                .with_rounding(PublicTruncation::Floor)),
            Err(e) => Err(e),
        }
    }

    /// PySyft 0.2.9 `fix_precision(base, precision_fractional)` on float32 tensors: float32
    /// products (data and the multiplicative constants MPCDiff's recipes build as tensors) and
    /// float32 decode; one party truncates toward zero (torch 1.4's integer `/`). Stock base 10
    /// with 3 digits; MPCDiff base 2 with 16 (12 for Bank). `frameworks.md` §2.2–2.3. (PySyft
    /// adds Python-float constants as `int(c · S)` in float64; the format uses one constant
    /// width, float32, for both: they differ only where `c · S` in float32 crosses an integer.)
    ///
    /// # Errors
    /// As [`FixedPoint::with_scale`].
    pub const fn pysyft(base: u32, digits: u32) -> Result<Self> {
        match FixedPoint::CRYPTEN_DEFAULT.with_scale(base, digits) {
            Ok(fp) => Ok(fp
                .with_products(FloatWidth::F32, FloatWidth::F32)
                .with_decode(FloatWidth::F32)),
            Err(e) => Err(e),
        }
    }

    /// SPU 0.9.5 FM64 (`encodeToRing`): `S = 2^frac_bits` (18 by default), float64 products
    /// (`jax_enable_x64`), saturation to ±2^62, float64 decode, public products rounded half
    /// up (`TruncP`, and REF2K's products). `frameworks.md` §3.2–3.3. FM128 is this format
    /// with 26 bits in Z_2^128 ([`FixedPoint::with_ring`]).
    ///
    /// # Errors
    /// As [`FixedPoint::new`].
    pub const fn spu(frac_bits: u32) -> Result<Self> {
        match FixedPoint::new(frac_bits) {
            Ok(fp) => Ok(fp
                .with_saturation(true)
                .with_rounding(PublicTruncation::RoundHalfUp)),
            Err(e) => Err(e),
        }
    }

    /// The number of fractional digits in the scale's base (bits for a binary format).
    pub const fn frac_bits(self) -> u32 {
        self.s.digits()
    }

    /// The scale's base (2 for CrypTen, SPU and MPCDiff's PySyft; 3 for TF-Encrypted; 10 for
    /// stock PySyft).
    pub const fn base(self) -> u32 {
        self.s.base()
    }

    /// `Some(f)` for a binary scale 2^f (truncations by it are shifts).
    pub const fn binary_bits(self) -> Option<u32> {
        if self.s.base() == 2 {
            Some(self.s.digits())
        } else {
            None
        }
    }

    /// How a public product is truncated.
    pub const fn rounding(self) -> PublicTruncation {
        self.rounding
    }

    /// Whether out-of-range values saturate.
    pub const fn saturates(self) -> bool {
        self.saturate
    }

    /// The scale S as a ring integer.
    pub const fn scale(self) -> i64 {
        self.scale
    }

    /// The scale as `f64` (exact).
    pub fn scale_f64(self) -> f64 {
        self.scale as f64
    }

    /// The general encoder of this format, for values multiplied by `S` in `product`.
    fn encoder(self, product: FloatWidth, ring: RingWidth) -> Encoder {
        Encoder {
            scale: self.s,
            ring,
            product,
            saturate: self.saturate,
            decode: self.decode,
        }
    }

    fn encode_in(self, product: FloatWidth, x: f64, index: usize) -> Result<Ring> {
        if product == FloatWidth::F64 && !self.saturate {
            // The common case (CrypTen, constants): one multiplication and a checked cast.
            if !x.is_finite() {
                return Err(Error::NonFinite { index });
            }
            let scaled = x * self.scale_f64();
            // trunc toward zero happens in the cast; reject what the cast would saturate.
            if !(-TWO_POW_63..TWO_POW_63).contains(&scaled) {
                return Err(Error::EncodeOverflow { index });
            }
            return Ok(scaled as i64);
        }
        // Z_2^64: the representative fits an i64.
        self.encoder(product, RingWidth::Z64)
            .encode_at(x, index)
            .map(|v| v as i64)
    }

    /// [`FixedPoint::encode_in`] into `W`'s ring: the same integer for Z_2^64; for Z_2^128 the
    /// general [`Encoder`] (saturating at ±2^126 where the format saturates).
    fn encode_in_word<W: Word>(self, product: FloatWidth, x: f64, index: usize) -> Result<W> {
        if W::BITS == 64 {
            return self.encode_in(product, x, index).map(W::from_i64);
        }
        self.encoder(product, W::WIDTH)
            .encode_at(x, index)
            .map(W::from_i128)
    }

    /// [`FixedPoint::encode_at`] (a public constant) into `W`'s ring.
    pub fn encode_word_at<W: Word>(self, x: f64, index: usize) -> Result<W> {
        self.encode_in_word(self.constant, x, index)
    }

    /// [`FixedPoint::encode_data_at`] (a private input) into `W`'s ring.
    pub fn encode_data_word_at<W: Word>(self, x: f64, index: usize) -> Result<W> {
        self.encode_in_word(self.data, x, index)
    }

    /// [`FixedPoint::encode`] into `W`'s ring.
    pub fn encode_word<W: Word>(self, x: f64) -> Result<W> {
        self.encode_word_at(x, 0)
    }

    /// [`FixedPoint::decode`] of a word of `W`'s ring (`raw as f64` rounds to nearest once,
    /// then the division by the scale, in the decoder's width).
    pub fn decode_word<W: Word>(self, raw: W) -> f64 {
        if W::BITS == 64 {
            return self.decode(raw.low_i64());
        }
        match self.decode {
            FloatWidth::F64 => raw.to_f64() / self.scale_f64(),
            FloatWidth::F32 => f64::from(raw.to_f64() as f32 / self.scale as f32),
        }
    }

    /// [`FixedPoint::truncate_public`] in `W`'s ring (`d ≥ 1`).
    #[inline]
    pub fn truncate_public_word<W: Word>(self, a: W, d: W) -> W {
        match self.rounding {
            PublicTruncation::TowardZero => a.tdiv(d),
            PublicTruncation::Floor => a.floor_div(d),
            PublicTruncation::RoundHalfUp => {
                if d <= W::ZERO {
                    return a;
                }
                // ⌊a/d⌋ + [2r ≥ d], without overflow
                let (q, r) = (a.floor_div(d), a.floor_rem(d));
                let up = if r >= d.wrapping_sub(r) {
                    W::ONE
                } else {
                    W::ZERO
                };
                q.wrapping_add(up)
            }
        }
    }

    /// The same format in the ring `ring` (Z_2^64 unless set): which word type
    /// ([`Word`]) a driver runs the arithmetics in. SPU FM128 is `spu(26)` in Z_2^128.
    pub const fn with_ring(self, ring: RingWidth) -> Self {
        FixedPoint { ring, ..self }
    }

    /// The ring the format lives in.
    pub const fn ring(self) -> RingWidth {
        self.ring
    }

    /// Encodes one public constant (the format's constant width). `index` only labels the
    /// error.
    pub fn encode_at(self, x: f64, index: usize) -> Result<Ring> {
        self.encode_in(self.constant, x, index)
    }

    /// Encodes one value of private data (the format's data width). `index` only labels the
    /// error.
    pub fn encode_data_at(self, x: f64, index: usize) -> Result<Ring> {
        self.encode_in(self.data, x, index)
    }

    /// Encodes one value (a public constant, say).
    ///
    /// # Errors
    /// As [`FixedPoint::encode_at`] (index 0).
    pub fn encode(self, x: f64) -> Result<Ring> {
        self.encode_at(x, 0)
    }

    /// Truncates the public product `a` by the public divisor `d ≥ 1` as the format says
    /// ([`FixedPoint::rounding`]); `d = 0` returns `a` (callers check divisors first).
    #[inline]
    pub fn truncate_public(self, a: Ring, d: i64) -> Ring {
        self.truncate_public_word(a, d)
    }

    /// Encodes a slice of private data (the format's data width). All or nothing: on error
    /// (naming the first bad index) `out` has not been written.
    pub fn encode_slice(self, x: &[f64], out: &mut [Ring]) -> Result<()> {
        crate::error::check_len(x.len(), out.len())?;
        for (i, &v) in x.iter().enumerate() {
            self.encode_data_at(v, i)?;
        }
        for (i, (&v, o)) in x.iter().zip(out.iter_mut()).enumerate() {
            *o = self.encode_data_at(v, i)?;
        }
        Ok(())
    }

    /// Decode: `raw / S` in the decoder's width. For float64 (CrypTen, TF-Encrypted, SPU)
    /// correctly rounded to `f64` (exact for a binary scale when |raw| < 2^53); for float32
    /// (PySyft) the float32 quotient.
    pub fn decode(self, raw: Ring) -> f64 {
        match self.decode {
            // `raw as f64` rounds to nearest once; dividing by a power of two is then exact.
            FloatWidth::F64 => raw as f64 / self.scale_f64(),
            FloatWidth::F32 => f64::from(raw as f32 / self.scale as f32),
        }
    }

    /// CrypTen 0.4.1's `FixedPointEncoder.decode`, bug included, for comparisons with
    /// `get_plain_text()` output: negative values are floor-divided by `2^f − 1`, so a value
    /// just above a negative integer ≤ −2 decodes 1.0 too low, and the result is `f32`.
    pub fn decode_crypten_compat(self, raw: Ring) -> f32 {
        let s = self.scale();
        if s == 1 {
            return raw as f32;
        }
        let correction = i64::from(raw < 0);
        let dividend = raw.div_euclid(s - correction);
        let mut remainder = raw.rem_euclid(s);
        if remainder == 0 {
            remainder += s * correction;
        }
        dividend as f32 + remainder as f32 / s as f32
    }

    /// The error of encoding `x`: `decode(encode(x)) − x`, in (−2^−f, 0] toward zero.
    pub fn encoding_error(self, x: f64) -> Result<f64> {
        Ok(self.decode(self.encode(x)?) - x)
    }

    /// The relative encoding error `|encoding_error(x)| / x` at `x.len()` log-spaced `x` from
    /// 1e−6 to 1e6 (into `x`, the errors into `rel`); `NaN` where `x` does not fit the ring.
    /// The page's encoding curve (the CLI's `approx --encoding` samples the same range).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] for fewer than 2 points; [`Error::ShapeMismatch`] if `rel` is not
    /// as long as `x`.
    pub fn encoding_curve(self, x: &mut [f64], rel: &mut [f64]) -> Result<()> {
        let n = x.len();
        if n < 2 {
            return Err(Error::OutOfRange {
                what: "an encoding curve needs at least 2 points",
            });
        }
        if rel.len() != n {
            return Err(Error::ShapeMismatch {
                expected: n,
                got: rel.len(),
            });
        }
        for (i, (v, r)) in x.iter_mut().zip(rel.iter_mut()).enumerate() {
            *v = libm::pow(10.0, -6.0 + 12.0 * i as f64 / (n - 1) as f64);
            *r = self
                .encoding_error(*v)
                .map_or(f64::NAN, |e| libm::fabs(e) / *v);
        }
        Ok(())
    }
}
