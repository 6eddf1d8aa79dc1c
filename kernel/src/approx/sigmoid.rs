//! Sigmoid and tanh: CrypTen's reciprocal method (with per-element levels) and its Chebyshev
//! method.
//!
//! # Method (reciprocal)
//! `b = [x < 0]`, `s = 1 − 2b`, `d = exp(−x·s) + 1` (so `d ∈ [1, 2]`), `p = 1/d` by Newton
//! from the constant `nr_init` (CrypTen: 0.75), and the result is `1 − p` where `x < 0`, else
//! `p`. Each element's level gives the exp squarings and Newton steps. `tanh(x) = 2σ(2x) − 1`.
//!
//! # Method (Chebyshev)
//! `tanh(x) ≈ Σ c_{2j+1} T_{2j+1}(x)` with the coefficients of `chebyshev_series(tanh, 1,
//! terms)` (fitted on [−1, 1]), combined with one truncation, then clipped to [−1, 1] by
//! `relu(t + 1) − relu(t − 1) − 1`; `σ(x) = tanh(x/2)/2 + 1/2`.
//!
//! # Cost
//! Reciprocal: 8 (ltz) + `iters_exp` + 2·(`iters_nr` − 1) + 1 (select) rounds; CrypTen stock
//! (8/3): 23; MPCDiff baseline (6/6): 25; repair high (9/9): 34. Chebyshev (32 terms): 25.
//!
//! # Error
//! Reciprocal, algorithm: Newton from 0.75 after `R` steps leaves `(1 − 0.75d)^(2^R)` relative;
//! the exp leaves ≈ x²/2^(E+1) relative on `e^−|x|`. Max |error| vs σ: 2.0e−3 (8/3), 3.5e−3
//! (6/6), 4.3e−4 (9/9), 2.9e−2 (3/3, and divergence for |x| ≥ 2^(E+1) = 16). Fixed point at
//! f = 16 adds ≤ a few LSB; the limit exp diverges for |x| > 2^(E+1) (512 for E = 8), tanh
//! at half that. Chebyshev: ≤ 2.6e−5 on |x| ≤ 1, unreliable for |x| ≥ 3 (polynomial fitted on
//! [−1, 1], then T9 overflows).
//!
//! # Reference
//! CrypTen `approximations.py: sigmoid, tanh, _chebyshev_polynomials`, `common/util.py:
//! chebyshev_series`, `mpc.py: hardtanh`; MPCDiff `approximations.py: sigmoid` (the per-neuron
//! levels).

use super::levels::{take, Level, Levels};
use super::profile::{RecipInit, SigmoidMethod};
use crate::arith::Arith;
use crate::error::{Error, Result};

/// Scratch elements [`sigmoid`] and [`tanh`] need for `n` inputs.
pub const fn scratch_elems(n: usize) -> usize {
    // Chebyshev: 16 polynomials + y + out + relu (3n); reciprocal: 5n + reciprocal_pos.
    let cheb = 20 * n;
    let recip = 5 * n + super::reciprocal::scratch_elems_pos(n);
    if cheb > recip {
        cheb
    } else {
        recip
    }
}

/// `x ← σ(x)`.
pub fn sigmoid<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    method: SigmoidMethod,
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    levels.check(x.len())?;
    super::need(scratch.len(), scratch_elems(x.len()))?;
    match method {
        SigmoidMethod::Reciprocal { nr_init } => sigmoid_reciprocal(a, x, nr_init, levels, scratch),
        SigmoidMethod::Chebyshev { terms } => {
            a.div_int(x, 2)?;
            tanh_chebyshev(a, x, terms, scratch)?;
            a.div_int(x, 2)?;
            a.add_const(x, 0.5)
        }
    }
}

/// `x ← tanh(x)`.
pub fn tanh<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    method: SigmoidMethod,
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    levels.check(x.len())?;
    super::need(scratch.len(), scratch_elems(x.len()))?;
    match method {
        SigmoidMethod::Reciprocal { nr_init } => {
            a.mul_int(x, 2);
            sigmoid_reciprocal(a, x, nr_init, levels, scratch)?;
            a.mul_int(x, 2);
            a.add_const(x, -1.0)
        }
        SigmoidMethod::Chebyshev { terms } => tanh_chebyshev(a, x, terms, scratch),
    }
}

fn sigmoid_reciprocal<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    nr_init: f64,
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    let mut s = scratch;
    let bits = take(&mut s, n)?;
    let sgn = take(&mut s, n)?;
    let d = take(&mut s, n)?;
    let p = take(&mut s, n)?;
    let q = take(&mut s, n)?;
    a.ltz(x, bits)?;
    sgn.copy_from_slice(bits);
    a.mul_int(sgn, -2);
    a.add_int(sgn, 1);
    d.copy_from_slice(x);
    a.mul_unscaled(d, sgn)?;
    a.neg(d);
    super::exp::exp(a, d, levels, s)?;
    a.add_const(d, 1.0)?;
    super::reciprocal::reciprocal_pos(a, d, p, RecipInit::Const(nr_init), levels, s)?;
    q.copy_from_slice(p);
    a.rsub_const(q, 1.0)?;
    crate::select::select(a, bits, q, p, x)
}

/// The odd Chebyshev coefficients `c_1, c_3, …` of `tanh` on [−1, 1] with `terms` terms:
/// `c_j = (2/n) Σ_k tanh(cos((k + ½)π/n)) · cos(j(k + ½)π/n)`, in `f64` with `libm`.
/// Writes `terms/2` values.
pub fn chebyshev_tanh_coeffs(terms: u8, out: &mut [f64]) -> Result<()> {
    if terms % 2 != 0 || terms < 6 {
        return Err(Error::OutOfRange {
            what: "Chebyshev terms must be even and at least 6",
        });
    }
    let n = terms as usize;
    crate::error::check_len(n / 2, out.len())?;
    let pi = core::f64::consts::PI;
    for (q, o) in out.iter_mut().enumerate() {
        let j = (2 * q + 1) as f64;
        let mut acc = 0.0;
        for k in 0..n {
            let t = (k as f64 + 0.5) * pi / n as f64;
            acc += libm::tanh(libm::cos(t)) * libm::cos(j * t);
        }
        *o = 2.0 / n as f64 * acc;
    }
    Ok(())
}

const CHEB_TERMS_MAX: usize = 64;

fn tanh_chebyshev<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    terms: u8,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let mut coeffs = [0.0f64; CHEB_TERMS_MAX / 2];
    if terms as usize > CHEB_TERMS_MAX {
        return Err(Error::OutOfRange {
            what: "Chebyshev terms above 64",
        });
    }
    let m = terms as usize / 2;
    chebyshev_tanh_coeffs(terms, &mut coeffs[..m])?;
    let n = x.len();
    let mut s = scratch;
    let polys = take(&mut s, m * n)?;
    let y = take(&mut s, n)?;
    // P1 = x; y = 4x² − 2; P3 = (y − 1)·x; P_{k} = y·P_{k−1} − P_{k−2}.
    polys[..n].copy_from_slice(x);
    y.copy_from_slice(x);
    a.square(y)?;
    a.mul_int(y, 4);
    a.add_const(y, -2.0)?;
    polys[n..2 * n].copy_from_slice(y);
    a.add_const(&mut polys[n..2 * n], -1.0)?;
    a.mul(&mut polys[n..2 * n], x)?;
    for k in 2..m {
        let (done, next) = polys.split_at_mut(k * n);
        let next = &mut next[..n];
        next.copy_from_slice(y);
        a.mul(next, &done[(k - 1) * n..k * n])?;
        a.sub(next, &done[(k - 2) * n..(k - 1) * n])?;
    }
    // One truncation for the whole combination (CrypTen: a matmul with the public coefficients).
    a.lincomb_const(polys, &coeffs[..m], x)?;
    hardtanh(a, x, s)
}

/// `x ← clamp(x, −1, 1) = relu(x + 1) − relu(x − 1) − 1` (one batched relu).
pub fn hardtanh<A: Arith>(a: &mut A, x: &mut [A::Elem], scratch: &mut [A::Elem]) -> Result<()> {
    let n = x.len();
    let mut s = scratch;
    let both = take(&mut s, 2 * n)?;
    let bits = take(&mut s, 2 * n)?;
    both[..n].copy_from_slice(x);
    a.add_const(&mut both[..n], 1.0)?;
    both[n..].copy_from_slice(x);
    a.add_const(&mut both[n..], -1.0)?;
    crate::select::relu(a, both, bits)?;
    x.copy_from_slice(&both[..n]);
    a.sub(x, &both[n..])?;
    a.add_const(x, -1.0)
}

/// The level for the profile's sigmoid (uniform), for callers that have no per-neuron plan.
pub const fn uniform(level: Level) -> Levels<'static> {
    Levels::Uniform(level)
}
