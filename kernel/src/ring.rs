//! The ring Z_2^64.
//!
//! Ring elements are stored as `i64` in two's complement, exactly as CrypTen stores them in torch
//! int64 tensors: addition and multiplication wrap modulo 2^64, and the signed reading gives the
//! fixed-point value's sign. Every ring operation in the kernel goes through an explicit
//! `wrapping_*` call (the `release-checked` profile turns a stray `+` into a test failure).

/// A ring element (two's complement representative of a class of Z_2^64).
pub type Ring = i64;

/// Division by a positive public integer, truncating toward zero: CrypTen's
/// `div(d, rounding_mode="trunc")` on an int64 tensor.
///
/// `d` should be positive (the kernel's callers reject 0 first); `i64::MIN / d` cannot overflow
/// for `d >= 1`. Never panics: `d = 0` gives 0, and `i64::MIN / −1` wraps to `i64::MIN`.
#[inline]
pub fn tdiv(x: Ring, d: i64) -> Ring {
    if d == 0 {
        return 0;
    }
    x.wrapping_div(d)
}

/// Whether adding the two shares overflows as true integers: the event behind the 2PC
/// share-local truncation catastrophe (CrypTen research notes §2.5).
#[inline]
pub fn sum_wraps(a: Ring, b: Ring) -> bool {
    a.checked_add(b).is_none()
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
