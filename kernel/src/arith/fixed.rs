//! Plaintext fixed point with CrypTen's one-party semantics.

use super::{Arith, ArithKind, RingArith};
use crate::error::{check_len, Error, Result};
use crate::fixed::FixedPoint;
use crate::linalg::{conv2d_acc, matmul_acc, Conv2dShape, MatShape};
use crate::protocols::laws::{PublicTruncation, SignTest};
use crate::ring::{Ring, Word};

/// The plaintext fixed-point arithmetic: exactly what a framework computes with one party.
///
/// Products are exact in Z_2^64 (wrapping), then divided by the scale as the format's public
/// truncation says (toward zero for CrypTen and PySyft, floor for TF-Encrypted, half up for
/// SPU); public reals are encoded truncating toward zero; comparisons read the two's-complement
/// sign (through the framework's [`SignTest`]). No randomness. Bit-exact with `one_party.raw`
/// of the CrypTen reference vectors.
///
/// The ring is the word type `W` ([`Word`]): Z_2^64 by default, Z_2^128 for `Fixed<i128>`.
#[derive(Clone, Copy, Debug)]
pub struct Fixed<W: Word = Ring> {
    fp: FixedPoint,
    sign: SignTest,
    ring: core::marker::PhantomData<W>,
}

impl Fixed {
    /// A fixed-point arithmetic in format `fp` over Z_2^64, with exact comparisons.
    pub fn new(fp: FixedPoint) -> Self {
        Fixed::in_ring(fp)
    }
}

impl<W: Word> Fixed<W> {
    /// A fixed-point arithmetic in format `fp` over `W`'s ring, with exact comparisons.
    pub fn in_ring(fp: FixedPoint) -> Self {
        Fixed {
            fp,
            sign: SignTest::Exact,
            ring: core::marker::PhantomData,
        }
    }

    /// The same arithmetic with comparisons as `sign` reports them (TF-Encrypted's −1 quirk).
    pub fn with_sign_test(self, sign: SignTest) -> Self {
        Fixed { sign, ..self }
    }

    /// Inputs are refused unless the format's ring is this arithmetic's word (as
    /// [`crate::Shared`]'s).
    fn check_ring(&self) -> Result<()> {
        if self.fp.ring() == W::WIDTH {
            Ok(())
        } else {
            Err(Error::Unsupported {
                what: "a format whose ring is not the arithmetic's word (build it with Fixed::in_ring over that ring)",
            })
        }
    }

    fn trunc_all(&self, x: &mut [W]) {
        let s = W::from_i64(self.fp.scale());
        if self.fp.rounding() == PublicTruncation::TowardZero {
            for v in x.iter_mut() {
                *v = v.tdiv(s);
            }
        } else {
            for v in x.iter_mut() {
                *v = self.fp.truncate_public_word(*v, s);
            }
        }
    }
}

impl<W: Word> Arith for Fixed<W> {
    type Elem = W;

    fn kind(&self) -> ArithKind {
        ArithKind::Fixed
    }
    fn fixed_point(&self) -> FixedPoint {
        self.fp
    }
    fn elem_add(&self, a: W, b: W) -> W {
        a.wrapping_add(b)
    }
    fn elem_sub(&self, a: W, b: W) -> W {
        a.wrapping_sub(b)
    }
    fn elem_mul_int(&self, a: W, k: i64) -> W {
        a.wrapping_mul(W::from_i64(k))
    }
    fn elem_int(&self, k: i64) -> W {
        W::from_i64(k)
    }
    fn elem_const(&self, c: f64) -> Result<W> {
        self.fp.encode_word(c)
    }
    fn input(&mut self, x: &[f64], out: &mut [W]) -> Result<()> {
        check_len(x.len(), out.len())?;
        self.check_ring()?;
        for (i, &v) in x.iter().enumerate() {
            self.fp.encode_data_word_at::<W>(v, i)?;
        }
        for (i, (&v, o)) in x.iter().zip(out.iter_mut()).enumerate() {
            *o = self.fp.encode_data_word_at(v, i)?;
        }
        Ok(())
    }
    fn reveal(&mut self, x: &[W], out: &mut [f64]) -> Result<()> {
        self.peek(x, out)
    }
    fn peek(&self, x: &[W], out: &mut [f64]) -> Result<()> {
        check_len(x.len(), out.len())?;
        for (o, &v) in out.iter_mut().zip(x) {
            *o = self.fp.decode_word(v);
        }
        Ok(())
    }
    fn mul_const(&mut self, x: &mut [W], c: f64) -> Result<()> {
        let c: W = self.fp.encode_word(c)?;
        for v in x.iter_mut() {
            *v = v.wrapping_mul(c);
        }
        self.trunc_all(x);
        Ok(())
    }
    fn div_int(&mut self, x: &mut [W], d: u64) -> Result<()> {
        if d == 0 {
            return Err(Error::DivisionByZero);
        }
        let d = i64::try_from(d).map_err(|_| Error::OutOfRange {
            what: "divisor above 2^63 − 1",
        })?;
        let d = W::from_i64(d);
        for v in x.iter_mut() {
            *v = self.fp.truncate_public_word(*v, d);
        }
        Ok(())
    }
    /// Validates every divisor first (zero, then above 2^63 − 1, as the shared truncation
    /// does), so a bad divisor anywhere leaves `x` untouched.
    fn div_int_each(&mut self, x: &mut [W], d: &dyn Fn(usize) -> u64) -> Result<()> {
        if (0..x.len()).any(|i| d(i) == 0) {
            return Err(Error::DivisionByZero);
        }
        if (0..x.len()).any(|i| d(i) > i64::MAX as u64) {
            return Err(Error::OutOfRange {
                what: "divisor above 2^63 − 1",
            });
        }
        for (i, v) in x.iter_mut().enumerate() {
            *v = self.fp.truncate_public_word(*v, W::from_i64(d(i) as i64));
        }
        Ok(())
    }
    fn mul(&mut self, x: &mut [W], y: &[W]) -> Result<()> {
        self.mul_unscaled(x, y)?;
        self.trunc_all(x);
        Ok(())
    }
    fn mul_unscaled(&mut self, x: &mut [W], y: &[W]) -> Result<()> {
        check_len(x.len(), y.len())?;
        for (a, &b) in x.iter_mut().zip(y) {
            *a = a.wrapping_mul(b);
        }
        Ok(())
    }
    fn square(&mut self, x: &mut [W]) -> Result<()> {
        for a in x.iter_mut() {
            *a = a.wrapping_mul(*a);
        }
        self.trunc_all(x);
        Ok(())
    }
    fn matmul(&mut self, a: &[W], b: &[W], out: &mut [W], s: MatShape) -> Result<()> {
        s.check(a.len(), b.len(), out.len())?;
        out.fill(W::ZERO);
        matmul_acc(a, b, out, s)?;
        self.trunc_all(out);
        Ok(())
    }
    fn conv2d(&mut self, x: &[W], w: &[W], out: &mut [W], s: &Conv2dShape) -> Result<()> {
        s.check(x.len(), w.len(), out.len())?;
        out.fill(W::ZERO);
        conv2d_acc(x, w, out, s)?;
        self.trunc_all(out);
        Ok(())
    }
    fn lincomb_const(&mut self, terms: &[W], coeffs: &[f64], out: &mut [W]) -> Result<()> {
        lincomb_raw(self.fp, terms, coeffs, out, |v: &mut W, c: W, t: W| {
            *v = v.wrapping_add(t.wrapping_mul(c))
        })?;
        self.trunc_all(out);
        Ok(())
    }
    fn msb_map(&mut self, x: &[W], out: &mut [W], g: &dyn Fn(i32) -> f64) -> Result<()> {
        check_len(x.len(), out.len())?;
        for (o, &v) in out.iter_mut().zip(x) {
            *o = self.fp.encode_word(g(msb_position(v)))?;
        }
        Ok(())
    }
    fn ltz(&mut self, x: &[W], out: &mut [W]) -> Result<()> {
        check_len(x.len(), out.len())?;
        for (o, &v) in out.iter_mut().zip(x) {
            *o = W::from_i64(i64::from(self.sign.is_negative(v.to_i128())));
        }
        Ok(())
    }
}

/// The position of the highest set bit of `v` (`−1` for `v ≤ 0`).
pub(crate) fn msb_position<W: Word>(v: W) -> i32 {
    let v = v.to_i128();
    if v <= 0 {
        -1
    } else {
        127 - v.leading_zeros() as i32
    }
}

impl<W: Word> RingArith for Fixed<W> {
    type Word = W;
    fn input_ring(&mut self, raw: &[W], out: &mut [W]) -> Result<()> {
        check_len(raw.len(), out.len())?;
        self.check_ring()?;
        out.copy_from_slice(raw);
        Ok(())
    }
    fn reveal_ring(&mut self, x: &[W], out: &mut [W]) -> Result<()> {
        self.peek_ring(x, out)
    }
    fn peek_ring(&self, x: &[W], out: &mut [W]) -> Result<()> {
        check_len(x.len(), out.len())?;
        out.copy_from_slice(x);
        Ok(())
    }
}

/// `out = Σ_j enc(c_j)·terms_j` (untruncated), checking shapes and encoding every coefficient
/// before anything is written. Shared by the plaintext and shared arithmetics.
pub(crate) fn lincomb_raw<E: Copy + Default, W: Word>(
    fp: FixedPoint,
    terms: &[E],
    coeffs: &[f64],
    out: &mut [E],
    mut mac: impl FnMut(&mut E, W, E),
) -> Result<()> {
    let n = out.len();
    check_len(n * coeffs.len(), terms.len())?;
    for (j, &c) in coeffs.iter().enumerate() {
        // The error names the bad coefficient, as `Float`'s check does.
        fp.encode_word_at::<W>(c, j)?;
    }
    out.fill(E::default());
    for (j, &c) in coeffs.iter().enumerate() {
        let c: W = fp.encode_word(c)?;
        for (o, &t) in out.iter_mut().zip(&terms[j * n..(j + 1) * n]) {
            mac(o, c, t);
        }
    }
    Ok(())
}
