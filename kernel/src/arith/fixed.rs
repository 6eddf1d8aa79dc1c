//! Plaintext fixed point with CrypTen's one-party semantics.

use super::{Arith, ArithKind, RingArith};
use crate::error::{check_len, Error, Result};
use crate::fixed::FixedPoint;
use crate::linalg::{conv2d_acc, matmul_acc, Conv2dShape, MatShape};
use crate::protocols::laws::{PublicTruncation, SignTest};
use crate::ring::{tdiv, Ring};

/// The plaintext fixed-point arithmetic: exactly what a framework computes with one party.
///
/// Products are exact in Z_2^64 (wrapping), then divided by the scale as the format's public
/// truncation says (toward zero for CrypTen and PySyft, floor for TF-Encrypted, half up for
/// SPU); public reals are encoded truncating toward zero; comparisons read the two's-complement
/// sign (through the framework's [`SignTest`]). No randomness. Bit-exact with `one_party.raw`
/// of the CrypTen reference vectors.
#[derive(Clone, Copy, Debug)]
pub struct Fixed {
    fp: FixedPoint,
    sign: SignTest,
}

impl Fixed {
    /// A fixed-point arithmetic in format `fp`, with exact comparisons.
    pub fn new(fp: FixedPoint) -> Self {
        Fixed {
            fp,
            sign: SignTest::Exact,
        }
    }

    /// The same arithmetic with comparisons as `sign` reports them (TF-Encrypted's −1 quirk).
    pub fn with_sign_test(self, sign: SignTest) -> Self {
        Fixed { sign, ..self }
    }

    fn trunc_all(&self, x: &mut [Ring]) {
        let s = self.fp.scale();
        if self.fp.rounding() == PublicTruncation::TowardZero {
            for v in x.iter_mut() {
                *v = tdiv(*v, s);
            }
        } else {
            for v in x.iter_mut() {
                *v = self.fp.truncate_public(*v, s);
            }
        }
    }
}

impl Arith for Fixed {
    type Elem = Ring;

    fn kind(&self) -> ArithKind {
        ArithKind::Fixed
    }
    fn fixed_point(&self) -> FixedPoint {
        self.fp
    }
    fn elem_add(&self, a: Ring, b: Ring) -> Ring {
        a.wrapping_add(b)
    }
    fn elem_sub(&self, a: Ring, b: Ring) -> Ring {
        a.wrapping_sub(b)
    }
    fn elem_mul_int(&self, a: Ring, k: i64) -> Ring {
        a.wrapping_mul(k)
    }
    fn elem_int(&self, k: i64) -> Ring {
        k
    }
    fn elem_const(&self, c: f64) -> Result<Ring> {
        self.fp.encode(c)
    }
    fn input(&mut self, x: &[f64], out: &mut [Ring]) -> Result<()> {
        self.fp.encode_slice(x, out)
    }
    fn reveal(&mut self, x: &[Ring], out: &mut [f64]) -> Result<()> {
        self.peek(x, out)
    }
    fn peek(&self, x: &[Ring], out: &mut [f64]) -> Result<()> {
        check_len(x.len(), out.len())?;
        for (o, &v) in out.iter_mut().zip(x) {
            *o = self.fp.decode(v);
        }
        Ok(())
    }
    fn mul_const(&mut self, x: &mut [Ring], c: f64) -> Result<()> {
        let c = self.fp.encode(c)?;
        for v in x.iter_mut() {
            *v = v.wrapping_mul(c);
        }
        self.trunc_all(x);
        Ok(())
    }
    fn div_int(&mut self, x: &mut [Ring], d: u64) -> Result<()> {
        if d == 0 {
            return Err(Error::DivisionByZero);
        }
        let d = i64::try_from(d).map_err(|_| Error::OutOfRange {
            what: "divisor above 2^63 − 1",
        })?;
        for v in x.iter_mut() {
            *v = self.fp.truncate_public(*v, d);
        }
        Ok(())
    }
    /// Validates every divisor first (zero, then above 2^63 − 1, as the shared truncation
    /// does), so a bad divisor anywhere leaves `x` untouched.
    fn div_int_each(&mut self, x: &mut [Ring], d: &dyn Fn(usize) -> u64) -> Result<()> {
        if (0..x.len()).any(|i| d(i) == 0) {
            return Err(Error::DivisionByZero);
        }
        if (0..x.len()).any(|i| d(i) > i64::MAX as u64) {
            return Err(Error::OutOfRange {
                what: "divisor above 2^63 − 1",
            });
        }
        for (i, v) in x.iter_mut().enumerate() {
            *v = self.fp.truncate_public(*v, d(i) as i64);
        }
        Ok(())
    }
    fn mul(&mut self, x: &mut [Ring], y: &[Ring]) -> Result<()> {
        self.mul_unscaled(x, y)?;
        self.trunc_all(x);
        Ok(())
    }
    fn mul_unscaled(&mut self, x: &mut [Ring], y: &[Ring]) -> Result<()> {
        check_len(x.len(), y.len())?;
        for (a, &b) in x.iter_mut().zip(y) {
            *a = a.wrapping_mul(b);
        }
        Ok(())
    }
    fn square(&mut self, x: &mut [Ring]) -> Result<()> {
        for a in x.iter_mut() {
            *a = a.wrapping_mul(*a);
        }
        self.trunc_all(x);
        Ok(())
    }
    fn matmul(&mut self, a: &[Ring], b: &[Ring], out: &mut [Ring], s: MatShape) -> Result<()> {
        s.check(a.len(), b.len(), out.len())?;
        out.fill(0);
        matmul_acc(a, b, out, s)?;
        self.trunc_all(out);
        Ok(())
    }
    fn conv2d(&mut self, x: &[Ring], w: &[Ring], out: &mut [Ring], s: &Conv2dShape) -> Result<()> {
        s.check(x.len(), w.len(), out.len())?;
        out.fill(0);
        conv2d_acc(x, w, out, s)?;
        self.trunc_all(out);
        Ok(())
    }
    fn lincomb_const(&mut self, terms: &[Ring], coeffs: &[f64], out: &mut [Ring]) -> Result<()> {
        lincomb_raw(self.fp, terms, coeffs, out, |v: &mut Ring, c, t: Ring| {
            *v = v.wrapping_add(t.wrapping_mul(c))
        })?;
        self.trunc_all(out);
        Ok(())
    }
    fn msb_map(&mut self, x: &[Ring], out: &mut [Ring], g: &dyn Fn(i32) -> f64) -> Result<()> {
        check_len(x.len(), out.len())?;
        for (o, &v) in out.iter_mut().zip(x) {
            *o = self.fp.encode(g(msb_position(v)))?;
        }
        Ok(())
    }
    fn ltz(&mut self, x: &[Ring], out: &mut [Ring]) -> Result<()> {
        check_len(x.len(), out.len())?;
        for (o, &v) in out.iter_mut().zip(x) {
            *o = i64::from(self.sign.is_negative(i128::from(v)));
        }
        Ok(())
    }
}

/// The position of the highest set bit of `v` (`−1` for `v ≤ 0`).
pub(crate) fn msb_position(v: i64) -> i32 {
    if v <= 0 {
        -1
    } else {
        63 - v.leading_zeros() as i32
    }
}

impl RingArith for Fixed {
    fn input_ring(&mut self, raw: &[i64], out: &mut [Ring]) -> Result<()> {
        check_len(raw.len(), out.len())?;
        out.copy_from_slice(raw);
        Ok(())
    }
    fn reveal_ring(&mut self, x: &[Ring], out: &mut [i64]) -> Result<()> {
        self.peek_ring(x, out)
    }
    fn peek_ring(&self, x: &[Ring], out: &mut [i64]) -> Result<()> {
        check_len(x.len(), out.len())?;
        out.copy_from_slice(x);
        Ok(())
    }
}

/// `out = Σ_j enc(c_j)·terms_j` (untruncated), checking shapes and encoding every coefficient
/// before anything is written. Shared by the plaintext and shared arithmetics.
pub(crate) fn lincomb_raw<E: Copy + Default>(
    fp: FixedPoint,
    terms: &[E],
    coeffs: &[f64],
    out: &mut [E],
    mut mac: impl FnMut(&mut E, i64, E),
) -> Result<()> {
    let n = out.len();
    check_len(n * coeffs.len(), terms.len())?;
    for (j, &c) in coeffs.iter().enumerate() {
        // The error names the bad coefficient, as `Float`'s check does.
        fp.encode_at(c, j)?;
    }
    out.fill(E::default());
    for (j, &c) in coeffs.iter().enumerate() {
        let c = fp.encode(c)?;
        for (o, &t) in out.iter_mut().zip(&terms[j * n..(j + 1) * n]) {
            mac(o, c, t);
        }
    }
    Ok(())
}
