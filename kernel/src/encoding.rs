//! Fixed-point encodings of every framework MPCDiff tested: a scale with any base, a ring of 64
//! or 128 bits, the float width of the encoding product, saturation, the decoder's width.
//!
//! [`crate::fixed::FixedPoint`] is the format the engine runs (CrypTen's by default: scale 2^f,
//! float64 product, Z_2^64); it encodes through this module. This module is the general format the other frameworks' profiles
//! need (issue 15), written once: an [`Encoder`] is a [`Scale`] (base^digits: 2^16 for CrypTen
//! and MPCDiff's PySyft, 3^8 and 3^5 for TF-Encrypted, 10^3 for stock PySyft, 2^18 and 2^26 for
//! SPU), a [`RingWidth`], the [`FloatWidth`] in which `x · S` is computed, whether out-of-range
//! values saturate, and the [`FloatWidth`] of the decoder. CrypTen's format is the special case
//! [`Encoder::crypten`] (tested to agree with `FixedPoint` bit for bit).
//!
//! Ring elements of either width are carried as `i128`, the signed representative of their class
//! (for Z_2^64 always within the `i64` range): one representation for both widths, so the width
//! is a value ([`RingWidth::wrap`]) rather than a type.
//!
//! # Method
//! Encode: `p = x · S` in the encoder's float width (IEEE multiplication; for `F32` the input is
//! first rounded to `f32`, as a float32 tensor or placeholder holds it), then **truncation toward
//! zero** (every framework casts; none rounds). Saturating encoders (SPU) clamp to
//! `[−2^(k−2), 2^(k−2) − 1]`, the range its MSB-based comparisons are exact on; the others
//! return [`Error::EncodeOverflow`] where the real framework would silently wrap or cast to
//! `INT64_MIN`. Decode: `raw / S` in the decoder's width (float64 for TF-Encrypted and SPU,
//! float32 for PySyft).
//!
//! # Error
//! Encoding is off by (−1, 0] units of 1/S toward zero, plus the float32 rounding of the input and
//! product for `F32` encoders; a saturated value is off by its excess.
//!
//! # Reference
//! `../shared/research/frameworks.md` §1.2 (TF-Encrypted: `Pond._encode`, numpy float64 for
//! variables and constants, float32 for placeholders; `Pond._decode` exact float64), §2.2
//! (PySyft: `fix_precision` on float32 tensors, float32 decode), §3.2 (SPU: `encodeToRing`,
//! saturation to ±2^(k−2), NaN → 0 there, an error here). Checked bit for bit against the real
//! packages' recorded encodings (`tests/reference/frameworks/*/encode.json`,
//! `tests/tests/frameworks.rs`).

use crate::error::{Error, Result};

/// The ring Z_2^k the shares live in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RingWidth {
    /// Z_2^64: CrypTen, TF-Encrypted, PySyft, SPU FM64.
    Z64,
    /// Z_2^128: SPU FM128 (SecretFlow's default), SPDZ2k's Z_2^(64+s) for s ≤ 64.
    Z128,
}

impl RingWidth {
    /// k.
    pub const fn bits(self) -> u32 {
        match self {
            RingWidth::Z64 => 64,
            RingWidth::Z128 => 128,
        }
    }

    /// The signed representative of `v mod 2^k` (wrapping, never panics).
    #[inline]
    pub const fn wrap(self, v: i128) -> i128 {
        match self {
            RingWidth::Z64 => v as i64 as i128,
            RingWidth::Z128 => v,
        }
    }

    /// 2^(k−1) as `f64`: the first magnitude the signed representative cannot hold.
    fn half_f64(self) -> f64 {
        match self {
            RingWidth::Z64 => 9_223_372_036_854_775_808.0,
            RingWidth::Z128 => 170_141_183_460_469_231_731_687_303_715_884_105_728.0,
        }
    }
}

/// The largest scale: its value must be exact in `f64` and in `f32` products' range of use.
pub const SCALE_MAX: i128 = 1 << 52;

/// A fixed-point scale `S = base^digits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scale {
    base: u32,
    digits: u32,
    value: i128,
}

impl Scale {
    /// `base^digits`, with `base` in 2..=16 and `S ≤ 2^52` (exact in `f64`).
    ///
    /// # Errors
    /// [`Error::OutOfRange`] naming `base` or `digits`.
    pub const fn new(base: u32, digits: u32) -> Result<Self> {
        if base < 2 || base > 16 {
            return Err(Error::OutOfRange { what: "scale base" });
        }
        let mut value: i128 = 1;
        let mut i = 0;
        while i < digits {
            value *= base as i128;
            if value > SCALE_MAX {
                return Err(Error::OutOfRange {
                    what: "scale digits",
                });
            }
            i += 1;
        }
        Ok(Scale {
            base,
            digits,
            value,
        })
    }

    /// The base.
    pub const fn base(self) -> u32 {
        self.base
    }

    /// The number of base-`base` fractional digits.
    pub const fn digits(self) -> u32 {
        self.digits
    }

    /// S as a ring integer.
    pub const fn value(self) -> i128 {
        self.value
    }

    /// S as `f64` (exact).
    pub fn as_f64(self) -> f64 {
        self.value as f64
    }
}

/// The float width an encoding product or a decode is computed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatWidth {
    /// IEEE binary32.
    F32,
    /// IEEE binary64.
    F64,
}

/// A framework's fixed-point format: scale, ring, product and decode widths, saturation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encoder {
    /// The scale S.
    pub scale: Scale,
    /// The ring.
    pub ring: RingWidth,
    /// The width of `x · S`.
    pub product: FloatWidth,
    /// Clamp to `[−2^(k−2), 2^(k−2) − 1]` instead of failing.
    pub saturate: bool,
    /// The width of `raw / S`.
    pub decode: FloatWidth,
}

impl Encoder {
    /// CrypTen 0.4.1: 2^f, float64 product, Z_2^64, no saturation, exact decode (`fixed.rs`).
    ///
    /// # Errors
    /// As [`Scale::new`].
    pub const fn crypten(frac_bits: u32) -> Result<Self> {
        match Scale::new(2, frac_bits) {
            Ok(scale) => Ok(Encoder {
                scale,
                ring: RingWidth::Z64,
                product: FloatWidth::F64,
                saturate: false,
                decode: FloatWidth::F64,
            }),
            Err(e) => Err(e),
        }
    }

    /// TF-Encrypted 0.7.0 `fixed64`: 3^digits (8 stock, 5 as MPCDiff patched it), Z_2^64,
    /// float64 decode; `product` F64 for variables, weights and constants (numpy), F32 for
    /// float32 placeholders (frameworks.md §1.2).
    ///
    /// # Errors
    /// As [`Scale::new`].
    pub const fn tf_encrypted(digits: u32, product: FloatWidth) -> Result<Self> {
        match Scale::new(3, digits) {
            Ok(scale) => Ok(Encoder {
                scale,
                ring: RingWidth::Z64,
                product,
                saturate: false,
                decode: FloatWidth::F64,
            }),
            Err(e) => Err(e),
        }
    }

    /// PySyft 0.2.9 `fix_precision(base, precision_fractional)` on float32 tensors: float32
    /// product and decode, Z_2^64 (stock base 10, 3 digits; MPCDiff base 2, 16 or 12 bits).
    ///
    /// # Errors
    /// As [`Scale::new`].
    pub const fn pysyft(base: u32, digits: u32) -> Result<Self> {
        match Scale::new(base, digits) {
            Ok(scale) => Ok(Encoder {
                scale,
                ring: RingWidth::Z64,
                product: FloatWidth::F32,
                saturate: false,
                decode: FloatWidth::F32,
            }),
            Err(e) => Err(e),
        }
    }

    /// SPU 0.9.5 `encodeToRing`: 2^f with f = 18 (FM64) or 26 (FM128) by default, saturating,
    /// the product in the input's float width, float64 decode (`jax_enable_x64`).
    ///
    /// # Errors
    /// As [`Scale::new`].
    pub const fn spu(ring: RingWidth, frac_bits: u32, product: FloatWidth) -> Result<Self> {
        match Scale::new(2, frac_bits) {
            Ok(scale) => Ok(Encoder {
                scale,
                ring,
                product,
                saturate: true,
                decode: FloatWidth::F64,
            }),
            Err(e) => Err(e),
        }
    }

    /// Encodes one value; `index` only labels the error.
    ///
    /// # Errors
    /// [`Error::NonFinite`] for NaN and infinities; [`Error::EncodeOverflow`] when `x · S` does
    /// not fit the ring and the encoder does not saturate.
    pub fn encode_at(&self, x: f64, index: usize) -> Result<i128> {
        if !x.is_finite() {
            return Err(Error::NonFinite { index });
        }
        let p = match self.product {
            FloatWidth::F64 => x * self.scale.as_f64(),
            FloatWidth::F32 => f64::from((x as f32) * (self.scale.value as f32)),
        };
        let t = libm::trunc(p);
        let half = self.ring.half_f64();
        if self.saturate {
            let lim = half / 4.0; // 2^(k−2)
            if t >= lim {
                return Ok((1i128 << (self.ring.bits() - 2)) - 1);
            }
            if t <= -lim {
                return Ok(-(1i128 << (self.ring.bits() - 2)));
            }
        }
        // (an infinite product from a float32 overflow falls outside too)
        if !(-half..half).contains(&t) {
            return Err(Error::EncodeOverflow { index });
        }
        // `t` is an integer strictly inside ±2^(k−1): the cast is exact.
        Ok(t as i128)
    }

    /// Encodes one value (a public constant, say).
    ///
    /// # Errors
    /// As [`Encoder::encode_at`] (index 0).
    pub fn encode(&self, x: f64) -> Result<i128> {
        self.encode_at(x, 0)
    }

    /// Decodes a ring value: `raw / S` in the decoder's width, returned as `f64` (exact for a
    /// float64 decoder when |raw| < 2^53; a float32 decoder's result is a float32 value).
    pub fn decode(&self, raw: i128) -> f64 {
        match self.decode {
            FloatWidth::F64 => raw as f64 / self.scale.as_f64(),
            FloatWidth::F32 => f64::from(raw as f32 / self.scale.value as f32),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::FixedPoint;

    #[test]
    fn scale_limits() {
        assert_eq!(Scale::new(3, 5).unwrap().value(), 243);
        assert_eq!(Scale::new(10, 3).unwrap().value(), 1000);
        assert_eq!(Scale::new(2, 52).unwrap().value(), 1 << 52);
        assert!(Scale::new(2, 53).is_err());
        assert!(Scale::new(3, 40).is_err());
        assert!(Scale::new(1, 3).is_err());
        assert!(Scale::new(17, 1).is_err());
    }

    /// CrypTen's format is the special case: the same ring integers as `fixed.rs`, and the same
    /// refusals.
    #[test]
    fn crypten_is_fixed_point() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for f in [0u32, 8, 12, 16, 20, 30, 40] {
            let fp = FixedPoint::new(f).unwrap();
            let e = Encoder::crypten(f).unwrap();
            for _ in 0..2000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let v = f64::from_bits((x >> 12) | 0x4000_0000_0000_0000) - 3.0; // [−1, 1)
                let v = v * libm::exp2(f64::from((x % 64) as u32) - 20.0);
                match (fp.encode(v), e.encode(v)) {
                    (Ok(a), Ok(b)) => {
                        assert_eq!(i128::from(a), b, "x = {v}, f = {f}");
                        assert_eq!(fp.decode(a), e.decode(b));
                    }
                    (Err(a), Err(b)) => assert_eq!(a, b),
                    (a, b) => panic!("x = {v}, f = {f}: {a:?} vs {b:?}"),
                }
            }
        }
    }

    #[test]
    fn saturation_and_refusals() {
        let spu = Encoder::spu(RingWidth::Z64, 18, FloatWidth::F64).unwrap();
        assert_eq!(spu.encode(1e20).unwrap(), (1i128 << 62) - 1);
        assert_eq!(spu.encode(-1e20).unwrap(), -(1i128 << 62));
        assert!(spu.encode(f64::NAN).is_err());
        let spu128 = Encoder::spu(RingWidth::Z128, 26, FloatWidth::F64).unwrap();
        assert_eq!(
            spu128.encode(1e20).unwrap(),
            6_710_886_400_000_000_000_000_000_000
        );
        assert_eq!(spu128.encode(1e40).unwrap(), (1i128 << 126) - 1);
        let tfe = Encoder::tf_encrypted(5, FloatWidth::F64).unwrap();
        assert_eq!(tfe.encode(1e20), Err(Error::EncodeOverflow { index: 0 }));
        assert_eq!(tfe.encode(1.0 / 32.0).unwrap(), 7);
        assert_eq!(tfe.encode(-1.0 / 3.0).unwrap(), -81);
        // a float32 product rounds the input first: 1 + 2^−30 is 1.0f
        let f32_enc = Encoder::pysyft(2, 30).unwrap();
        let f64_enc = Encoder {
            product: FloatWidth::F64,
            ..f32_enc
        };
        let x = 1.0 + libm::exp2(-30.0);
        assert_eq!(f32_enc.encode(x).unwrap(), 1 << 30);
        assert_eq!(f64_enc.encode(x).unwrap(), (1 << 30) + 1);
        assert_eq!(f32_enc.decode(3), f64::from(3.0f32 / 1_073_741_824.0f32));
        assert_eq!(RingWidth::Z64.wrap(1i128 << 64), 0);
        assert_eq!(RingWidth::Z64.wrap((1i128 << 63) + 5), -(1i128 << 63) + 5);
    }
}
