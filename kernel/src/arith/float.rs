//! Ideal math in `f64`: the approximation algorithm without any fixed-point effect.

use super::{check_finite, Arith, ArithKind};
use crate::error::{check_len, Error, Result};
use crate::fixed::FixedPoint;
use crate::linalg::{conv2d_acc, matmul_acc, Conv2dShape, MatShape};

/// The float arithmetic: every operation in `f64`, constants exact, no truncation.
///
/// Its `fixed_point` is carried only so that reports can say which format a run is compared
/// against.
#[derive(Clone, Copy, Debug)]
pub struct Float {
    fp: FixedPoint,
}

impl Float {
    /// A float arithmetic labelled with `fp`.
    pub fn new(fp: FixedPoint) -> Self {
        Float { fp }
    }
}

impl Default for Float {
    fn default() -> Self {
        Float::new(FixedPoint::CRYPTEN_DEFAULT)
    }
}

impl Arith for Float {
    type Elem = f64;

    fn kind(&self) -> ArithKind {
        ArithKind::Float
    }
    fn fixed_point(&self) -> FixedPoint {
        self.fp
    }
    fn elem_add(&self, a: f64, b: f64) -> f64 {
        a + b
    }
    fn elem_sub(&self, a: f64, b: f64) -> f64 {
        a - b
    }
    fn elem_mul_int(&self, a: f64, k: i64) -> f64 {
        a * k as f64
    }
    fn elem_int(&self, k: i64) -> f64 {
        k as f64
    }
    fn elem_const(&self, c: f64) -> Result<f64> {
        if c.is_finite() {
            Ok(c)
        } else {
            Err(Error::NonFinite { index: 0 })
        }
    }
    fn input(&mut self, x: &[f64], out: &mut [f64]) -> Result<()> {
        check_len(x.len(), out.len())?;
        check_finite(x)?;
        out.copy_from_slice(x);
        Ok(())
    }
    fn reveal(&mut self, x: &[f64], out: &mut [f64]) -> Result<()> {
        self.peek(x, out)
    }
    fn peek(&self, x: &[f64], out: &mut [f64]) -> Result<()> {
        check_len(x.len(), out.len())?;
        out.copy_from_slice(x);
        Ok(())
    }
    fn mul_const(&mut self, x: &mut [f64], c: f64) -> Result<()> {
        let c = self.elem_const(c)?;
        for v in x.iter_mut() {
            *v *= c;
        }
        Ok(())
    }
    fn div_int(&mut self, x: &mut [f64], d: u64) -> Result<()> {
        if d == 0 {
            return Err(Error::DivisionByZero);
        }
        let d = d as f64;
        for v in x.iter_mut() {
            *v /= d;
        }
        Ok(())
    }
    fn mul(&mut self, x: &mut [f64], y: &[f64]) -> Result<()> {
        check_len(x.len(), y.len())?;
        for (a, &b) in x.iter_mut().zip(y) {
            *a *= b;
        }
        Ok(())
    }
    fn mul_unscaled(&mut self, x: &mut [f64], y: &[f64]) -> Result<()> {
        self.mul(x, y)
    }
    fn square(&mut self, x: &mut [f64]) -> Result<()> {
        for a in x.iter_mut() {
            *a *= *a;
        }
        Ok(())
    }
    fn matmul(&mut self, a: &[f64], b: &[f64], out: &mut [f64], s: MatShape) -> Result<()> {
        s.check(a.len(), b.len(), out.len())?;
        out.fill(0.0);
        matmul_acc(a, b, out, s)?;
        Ok(())
    }
    fn conv2d(&mut self, x: &[f64], w: &[f64], out: &mut [f64], s: &Conv2dShape) -> Result<()> {
        s.check(x.len(), w.len(), out.len())?;
        out.fill(0.0);
        conv2d_acc(x, w, out, s)?;
        Ok(())
    }
    fn lincomb_const(&mut self, terms: &[f64], coeffs: &[f64], out: &mut [f64]) -> Result<()> {
        let n = out.len();
        check_len(n * coeffs.len(), terms.len())?;
        super::check_finite(coeffs)?;
        out.fill(0.0);
        for (j, &c) in coeffs.iter().enumerate() {
            for (o, &t) in out.iter_mut().zip(&terms[j * n..(j + 1) * n]) {
                *o += c * t;
            }
        }
        Ok(())
    }
    fn ltz(&mut self, x: &[f64], out: &mut [f64]) -> Result<()> {
        check_len(x.len(), out.len())?;
        for (o, &v) in out.iter_mut().zip(x) {
            *o = if v < 0.0 { 1.0 } else { 0.0 };
        }
        Ok(())
    }
    fn msb_map(&mut self, x: &[f64], out: &mut [f64], g: &dyn Fn(i32) -> f64) -> Result<()> {
        check_len(x.len(), out.len())?;
        let s = self.fixed_point().scale_f64();
        for (o, &v) in out.iter_mut().zip(x) {
            let m = if v * s >= 1.0 {
                libm::floor(libm::log2(v * s)) as i32
            } else {
                -1
            };
            *o = g(m);
        }
        Ok(())
    }
}
