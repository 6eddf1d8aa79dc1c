//! Fixed-point encoding: reals as ring integers scaled by 2^frac_bits.
//!
//! # Method
//! Encoding is CrypTen's: `(2^f * x)` computed in `f64` (exact, the scale is a power of two)
//! and converted to an integer **truncating toward zero**, so every encoded value, public
//! constants included, is off by (−1, 0] LSB toward zero (`0.1 → 6553` at f = 16, and any
//! constant below 2^−f becomes 0). Decoding is exact: `raw / 2^f`, correctly rounded to `f64`.
//!
//! # Errors
//! CrypTen casts out-of-range values to `INT64_MIN` silently; the kernel returns
//! [`Error::EncodeOverflow`] instead, and [`Error::NonFinite`] for NaN and infinities.
//!
//! # Reference
//! `crypten/encoder.py: FixedPointEncoder` (research notes `crypten.md` §1.3–1.4). CrypTen's
//! decoder has an off-by-one for some negatives; [`FixedPoint::decode_crypten_compat`]
//! reproduces it for comparisons, [`FixedPoint::decode`] does not.

use crate::error::{Error, Result};
use crate::ring::Ring;

/// The largest supported `frac_bits`. With 40 fractional bits a product at scale 2^80 no longer
/// fits, but single values up to 2^23 still do; beyond 40 there is no useful range left.
pub const FRAC_BITS_MAX: u32 = 40;

/// A fixed-point format: values are ring integers `raw = trunc(x * 2^frac_bits)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedPoint {
    frac_bits: u32,
}

/// 2^63 as f64: the first magnitude that does not fit an i64.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

impl FixedPoint {
    /// A format with `frac_bits` fractional bits (0..=40).
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
        Ok(FixedPoint { frac_bits })
    }

    /// CrypTen's default: 16 fractional bits.
    pub const CRYPTEN_DEFAULT: FixedPoint = FixedPoint { frac_bits: 16 };

    /// The number of fractional bits.
    pub const fn frac_bits(self) -> u32 {
        self.frac_bits
    }

    /// The scale 2^frac_bits as a ring integer.
    pub const fn scale(self) -> i64 {
        1i64 << self.frac_bits
    }

    /// The scale as `f64` (exact).
    pub fn scale_f64(self) -> f64 {
        self.scale() as f64
    }

    /// Encodes one value. `index` only labels the error.
    pub fn encode_at(self, x: f64, index: usize) -> Result<Ring> {
        if !x.is_finite() {
            return Err(Error::NonFinite { index });
        }
        let scaled = x * self.scale_f64();
        // trunc toward zero happens in the cast; reject what the cast would saturate.
        if !(-TWO_POW_63..TWO_POW_63).contains(&scaled) {
            return Err(Error::EncodeOverflow { index });
        }
        Ok(scaled as i64)
    }

    /// Encodes one value (a public constant, say).
    ///
    /// # Errors
    /// As [`FixedPoint::encode_at`] (index 0).
    pub fn encode(self, x: f64) -> Result<Ring> {
        self.encode_at(x, 0)
    }

    /// Encodes a slice. All or nothing: on error (naming the first bad index) `out` has not
    /// been written.
    pub fn encode_slice(self, x: &[f64], out: &mut [Ring]) -> Result<()> {
        crate::error::check_len(x.len(), out.len())?;
        for (i, &v) in x.iter().enumerate() {
            self.encode_at(v, i)?;
        }
        for (i, (&v, o)) in x.iter().zip(out.iter_mut()).enumerate() {
            *o = self.encode_at(v, i)?;
        }
        Ok(())
    }

    /// Exact decode: `raw / 2^f`, correctly rounded to `f64` (exact when |raw| < 2^53).
    pub fn decode(self, raw: Ring) -> f64 {
        // `raw as f64` rounds to nearest once; dividing by a power of two is then exact.
        raw as f64 / self.scale_f64()
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
