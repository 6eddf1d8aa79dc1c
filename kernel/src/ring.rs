//! The rings Z_2^64 and Z_2^128.
//!
//! Ring elements are stored in two's complement, exactly as CrypTen stores them in torch int64
//! tensors: addition and multiplication wrap modulo 2^k, and the signed reading gives the
//! fixed-point value's sign. Every ring operation in the kernel goes through an explicit
//! `wrapping_*` call (the `release-checked` profile turns a stray `+` into a test failure).
//!
//! # One ring width parameter
//! The ring is a type parameter, [`Word`], of the arithmetics that hold ring elements
//! ([`crate::Fixed`], [`crate::Shared`]) and of the protocols, the dealer and the channel: `i64`
//! is Z_2^64 (CrypTen, TF-Encrypted, PySyft, SPU FM64: the default everywhere), `i128` is
//! Z_2^128 (SPU FM128, SecretFlow's default; SPDZ2k's Z_2^(64+s)). The algorithms are the same
//! text for both widths; only constants tied to the width (the sign bit, the dealer
//! truncation's offset 2^(k−2), the adder's log₂ k levels) come from [`Word::BITS`].

/// A ring element of Z_2^64 (two's complement representative of a class), the default word.
pub type Ring = i64;

/// A ring word: the two's complement representative of a class of Z_2^k, k = [`Word::BITS`].
///
/// Implemented by `i64` (Z_2^64) and `i128` (Z_2^128). The wrapping methods have the names of the
/// integer types' own, so one algorithm text reads the same for both widths.
pub trait Word:
    Copy
    + Default
    + Eq
    + Ord
    + core::hash::Hash
    + core::fmt::Debug
    + Scalar
    + core::ops::BitXor<Output = Self>
    + core::ops::BitAnd<Output = Self>
    + core::ops::BitOr<Output = Self>
    + core::ops::Not<Output = Self>
    + core::ops::BitXorAssign
    + core::ops::Shl<u32, Output = Self>
    + core::ops::Shr<u32, Output = Self>
    + Send
    + Sync
    + 'static
{
    /// k.
    const BITS: u32;
    /// The ring as the encoders name it.
    const WIDTH: RingWidth;
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// The 64-bit generator outputs one word takes (1 or 2, low half first): what a dealer's
    /// jump over `n` words skips.
    const DRAWS: u64;

    /// `a + b mod 2^k`.
    fn wrapping_add(self, b: Self) -> Self;
    /// `a − b mod 2^k`.
    fn wrapping_sub(self, b: Self) -> Self;
    /// `a · b mod 2^k`.
    fn wrapping_mul(self, b: Self) -> Self;
    /// `−a mod 2^k`.
    fn wrapping_neg(self) -> Self;
    /// Division toward zero by `d` (0 for `d = 0`; `MIN / −1` wraps).
    fn tdiv(self, d: Self) -> Self;
    /// ⌊a / d⌋ for `d > 0` (`a` itself for `d ≤ 0`).
    fn floor_div(self, d: Self) -> Self;
    /// `a mod d` in `[0, d)` for `d > 0` (0 for `d ≤ 0`).
    fn floor_rem(self, d: Self) -> Self;
    /// The word of the 64-bit integer `v` (sign-extended).
    fn from_i64(v: i64) -> Self;
    /// The word of `v mod 2^k` (wrapping).
    fn from_i128(v: i128) -> Self;
    /// The signed representative as an `i128` (exact).
    fn to_i128(self) -> i128;
    /// The low 64 bits.
    fn low_i64(self) -> i64;
    /// The signed representative rounded to the nearest `f64`.
    fn to_f64(self) -> f64;
    /// A uniform word from a 64-bit generator (`DRAWS` outputs, low half first).
    fn draw(next: impl FnMut() -> u64) -> Self;
    /// The logical (unsigned) right shift by `k` (0 for `k ≥ BITS`).
    fn shr_logical(self, k: u32) -> Self;
    /// Whether adding the two shares overflows as true integers: the event behind the 2PC
    /// share-local truncation catastrophe (CrypTen research notes §2.5).
    fn sum_wraps(self, b: Self) -> bool;
    /// The words as the channel carries them ([`crate::wire::Payload`]).
    fn payload(words: &mut [Self]) -> crate::wire::Payload<'_>;
    /// The words as words of Z_2^64, if this is Z_2^64: how generic code reaches the protocols
    /// written for that ring only (the helper-assisted comparisons, the exact `f64` products).
    fn z64(words: &[Self]) -> Option<&[i64]>;
    /// [`Word::z64`], mutable.
    fn z64_mut(words: &mut [Self]) -> Option<&mut [i64]>;
    /// Sharings of Z_2^64, if this is Z_2^64.
    fn z64_shares(s: &[[Self; 2]]) -> Option<&[[i64; 2]]>;
    /// [`Word::z64_shares`], mutable.
    fn z64_shares_mut(s: &mut [[Self; 2]]) -> Option<&mut [[i64; 2]]>;
}

use crate::encoding::RingWidth;

macro_rules! z64_views {
    (Z64) => {
        fn z64(words: &[Self]) -> Option<&[i64]> {
            Some(words)
        }
        fn z64_mut(words: &mut [Self]) -> Option<&mut [i64]> {
            Some(words)
        }
        fn z64_shares(s: &[[Self; 2]]) -> Option<&[[i64; 2]]> {
            Some(s)
        }
        fn z64_shares_mut(s: &mut [[Self; 2]]) -> Option<&mut [[i64; 2]]> {
            Some(s)
        }
    };
    (Z128) => {
        fn z64(_: &[Self]) -> Option<&[i64]> {
            None
        }
        fn z64_mut(_: &mut [Self]) -> Option<&mut [i64]> {
            None
        }
        fn z64_shares(_: &[[Self; 2]]) -> Option<&[[i64; 2]]> {
            None
        }
        fn z64_shares_mut(_: &mut [[Self; 2]]) -> Option<&mut [[i64; 2]]> {
            None
        }
    };
}

macro_rules! word {
    ($t:ty, $u:ty, $width:expr, $draws:expr, $variant:ident) => {
        impl Word for $t {
            const BITS: u32 = <$t>::BITS;
            const WIDTH: RingWidth = $width;
            const ZERO: Self = 0;
            const ONE: Self = 1;
            const DRAWS: u64 = $draws;
            #[inline(always)]
            fn wrapping_add(self, b: Self) -> Self {
                <$t>::wrapping_add(self, b)
            }
            #[inline(always)]
            fn wrapping_sub(self, b: Self) -> Self {
                <$t>::wrapping_sub(self, b)
            }
            #[inline(always)]
            fn wrapping_mul(self, b: Self) -> Self {
                <$t>::wrapping_mul(self, b)
            }
            #[inline(always)]
            fn wrapping_neg(self) -> Self {
                <$t>::wrapping_neg(self)
            }
            #[inline]
            fn tdiv(self, d: Self) -> Self {
                if d == 0 {
                    0
                } else {
                    <$t>::wrapping_div(self, d)
                }
            }
            #[inline]
            fn floor_div(self, d: Self) -> Self {
                if d <= 0 {
                    self
                } else {
                    <$t>::div_euclid(self, d)
                }
            }
            #[inline]
            fn floor_rem(self, d: Self) -> Self {
                if d <= 0 {
                    0
                } else {
                    <$t>::rem_euclid(self, d)
                }
            }
            #[inline(always)]
            fn from_i64(v: i64) -> Self {
                v as $t
            }
            #[inline(always)]
            fn from_i128(v: i128) -> Self {
                v as $t
            }
            #[inline(always)]
            fn to_i128(self) -> i128 {
                self as i128
            }
            #[inline(always)]
            fn low_i64(self) -> i64 {
                self as i64
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn draw(mut next: impl FnMut() -> u64) -> Self {
                let mut w: $u = 0;
                for i in 0..$draws {
                    w |= (next() as $u) << (64 * i);
                }
                w as $t
            }
            #[inline(always)]
            fn shr_logical(self, k: u32) -> Self {
                (self as $u).checked_shr(k).unwrap_or(0) as $t
            }
            #[inline(always)]
            fn sum_wraps(self, b: Self) -> bool {
                self.checked_add(b).is_none()
            }
            fn payload(words: &mut [Self]) -> crate::wire::Payload<'_> {
                crate::wire::Payload::$variant(words)
            }
            z64_views!($variant);
        }
    };
}

word!(i64, u64, RingWidth::Z64, 1, Z64);
word!(i128, u128, RingWidth::Z128, 2, Z128);

/// Division by a positive public integer, truncating toward zero: CrypTen's
/// `div(d, rounding_mode="trunc")` on an int64 tensor ([`Word::tdiv`] in Z_2^64).
///
/// `d` should be positive (the kernel's callers reject 0 first); `i64::MIN / d` cannot overflow
/// for `d >= 1`. Never panics: `d = 0` gives 0, and `i64::MIN / −1` wraps to `i64::MIN`.
#[inline]
pub fn tdiv(x: Ring, d: i64) -> Ring {
    Word::tdiv(x, d)
}

/// Scalar types the linear-algebra kernels below run on: the ring (wrapping) and `f64` (the
/// ideal-math twin). Writing matmul and convolution once over this trait keeps the float,
/// fixed-point and shared arithmetics on the same summation order.
pub trait Scalar: Copy + Default {
    /// `acc + a * b`, in the scalar's own arithmetic (wrapping for the ring; two roundings, no
    /// fused multiply-add, for `f64`).
    fn mac(acc: Self, a: Self, b: Self) -> Self;
}

impl Scalar for i64 {
    #[inline(always)]
    fn mac(acc: Self, a: Self, b: Self) -> Self {
        acc.wrapping_add(a.wrapping_mul(b))
    }
}

impl Scalar for i128 {
    #[inline(always)]
    fn mac(acc: Self, a: Self, b: Self) -> Self {
        acc.wrapping_add(a.wrapping_mul(b))
    }
}

impl Scalar for f64 {
    #[inline(always)]
    fn mac(acc: Self, a: Self, b: Self) -> Self {
        acc + a * b
    }
}

#[cfg(test)]
mod tests {
    use super::tdiv;

    /// `tdiv` is public: a divisor of 0 used to panic (callers check, but the function is the
    /// kernel's contract too).
    #[test]
    fn tdiv_never_panics() {
        assert_eq!(tdiv(5, 0), 0);
        assert_eq!(tdiv(i64::MIN, -1), i64::MIN);
        assert_eq!(tdiv(-7, 2), -3);
        assert_eq!(tdiv(7, 2), 3);
    }
}
