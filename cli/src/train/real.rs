//! The scalar type of the network code: `f32` for training, `f64` for the gradient checks.
//!
//! Every transcendental goes through `libm` (the same bits on every target; the workspace
//! `.clippy.toml` bans std's), so a seeded training run gives the same bytes everywhere.

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// A floating-point scalar the layers are generic over.
pub trait Real:
    Copy
    + Debug
    + Default
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + Send
    + Sync
    + 'static
{
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// The nearest value to `x` (round to nearest even).
    fn from_f64(x: f64) -> Self;
    /// The exact value as `f64`.
    fn to_f64(self) -> f64;
    /// `e^self` (libm).
    fn exp(self) -> Self;
    /// `tanh(self)` (libm).
    fn tanh(self) -> Self;
    /// `erf(self)` (libm).
    fn erf(self) -> Self;
    /// The square root (libm).
    fn sqrt(self) -> Self;
    /// The natural logarithm (libm).
    fn ln(self) -> Self;
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn from_f64(x: f64) -> Self {
        x as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn exp(self) -> Self {
        libm::expf(self)
    }
    fn tanh(self) -> Self {
        libm::tanhf(self)
    }
    fn erf(self) -> Self {
        libm::erff(self)
    }
    fn sqrt(self) -> Self {
        libm::sqrtf(self)
    }
    fn ln(self) -> Self {
        libm::logf(self)
    }
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    fn from_f64(x: f64) -> Self {
        x
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn exp(self) -> Self {
        libm::exp(self)
    }
    fn tanh(self) -> Self {
        libm::tanh(self)
    }
    fn erf(self) -> Self {
        libm::erf(self)
    }
    fn sqrt(self) -> Self {
        libm::sqrt(self)
    }
    fn ln(self) -> Self {
        libm::log(self)
    }
}

/// Number of partial sums in [`dot`].
const LANES: usize = 8;

/// `Σ a[i]·b[i]` in a fixed order: eight partial sums over `i mod 8` (which the compiler can
/// keep in one vector register), combined pairwise as `((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7))`,
/// then the tail `i ≥ 8·⌊n/8⌋` added in order. The order depends only on the length, never
/// on the thread count or the target.
#[inline]
pub fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    debug_assert_eq!(a.len(), b.len());
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut s = [T::ZERO; LANES];
    let mut ca = a.chunks_exact(LANES);
    let mut cb = b.chunks_exact(LANES);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..LANES {
            s[l] += x[l] * y[l];
        }
    }
    let mut total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (&x, &y) in ca.remainder().iter().zip(cb.remainder()) {
        total += x * y;
    }
    total
}

/// `y[i] += alpha · x[i]` for every `i` (each element's update is one rounding step, so the
/// result does not depend on vectorisation).
#[inline]
pub fn axpy<T: Real>(alpha: T, x: &[T], y: &mut [T]) {
    debug_assert_eq!(x.len(), y.len());
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}
