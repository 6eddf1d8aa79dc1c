//! GELU, in its tanh form (the MPC frameworks') and its erf form (PyTorch's `nn.GELU()`).
//!
//! # Method
//! tanh form: `x³ = (x·x)·x`, `u = (x + 0.044715·x³)·0.7978845608`,
//! `gelu = (x·(tanh(u) + 1))·0.5`, with tanh from the profile (levels apply to it).
//! erf form: `0.5·x·(1 + erf(x/√2))` with the bounded erf ([`super::erf::erf_bounded`]).
//!
//! # Cost
//! tanh form: 2 products + tanh (23 rounds stock) + 1 product. erf form: 23 + 1 rounds.
//!
//! # Error
//! The tanh form differs from PyTorch's erf GELU by up to 4.7e−4 even in exact arithmetic
//! (the MPCDiff artifact compared the two and so mixed this into every Bank "deviation").
//! In fixed point (f = 16, stock tanh): ≤ 1.6e−3 on |x| ≤ 18; it diverges beyond ≈ 19.3
//! where tanh's exp does.
//!
//! # Reference
//! MPCDiff's CrypTen `elu` override (`approximations.py`); the reference case
//! `gelu_tanh_p16` records exactly this operation order.

use super::levels::{take, Levels};
use super::profile::{GeluImpl, SigmoidMethod};
use crate::arith::Arith;
use crate::error::Result;

/// Scratch elements [`gelu_tanh`] needs for `n` inputs.
pub const fn scratch_elems_tanh(n: usize) -> usize {
    n.saturating_mul(2)
        .saturating_add(super::sigmoid::scratch_elems(n))
}

/// Scratch elements [`gelu_erf_graph`] needs for `n` inputs.
pub const fn scratch_elems_erf_graph(n: usize) -> usize {
    n.saturating_add(super::erf::scratch_elems(n))
}

/// `x ← gelu(x)` as `crypten.nn.from_pytorch` evaluates PyTorch's `nn.GELU()`: torch exports
/// it (opset 17) as `Div(x, √2), Erf, Add(·, 1), Mul(x, ·), Mul(·, 0.5)`, with √2 a float32
/// constant; CrypTen divides by a public tensor by multiplying with its float32 reciprocal,
/// evaluates `Erf` by its Taylor series ([`super::erf::erf`] with the profile's parameters:
/// stock CrypTen's has the recursive `pow` bug), adds the public 1, multiplies by `x` (a Beaver
/// product) and by the public 0.5.
///
/// # Error
/// That of CrypTen's erf: garbage for |x/√2| ≳ 1.5 with the buggy `pow` (the Bank model's
/// hidden units reach |x/√2| = 6); see the module docs of [`super::erf`].
///
/// # Cost
/// erf's rounds plus one Beaver product.
pub fn gelu_erf_graph<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    erf: &super::profile::ErfParams,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    super::need(scratch.len(), scratch_elems_erf_graph(n))?;
    let (t, s) = scratch.split_at_mut(n);
    t.copy_from_slice(x);
    let sqrt2 = core::f64::consts::SQRT_2 as f32;
    a.mul_const(t, f64::from(1.0f32 / sqrt2))?;
    super::erf::erf(a, t, erf, s)?;
    a.add_const(t, 1.0)?;
    a.mul(x, t)?;
    a.mul_const(x, 0.5)
}

/// Scratch elements [`gelu_erf`] needs for `n` inputs.
pub const fn scratch_elems_erf(n: usize) -> usize {
    n.saturating_add(super::erf::scratch_elems_bounded(n))
}

/// `x ← gelu(x)`, tanh form (CrypTen's order, [`GeluImpl::TanhForm`]).
///
/// # Errors
/// [`Levels::check`]'s; [`crate::Error::BufferTooSmall`] if `scratch` is shorter than
/// [`scratch_elems_tanh`]; then the sigmoid's ([`super::sigmoid::tanh`]) and the arithmetic's.
pub fn gelu_tanh<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    method: SigmoidMethod,
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    gelu_tanh_as(a, x, method, GeluImpl::TanhForm, levels, scratch)
}

/// `x ← gelu(x)`, tanh form, in the evaluation order a framework uses (`order`; the erf form
/// [`GeluImpl::ErfBounded`] counts as CrypTen's tanh order here):
/// * [`GeluImpl::TanhForm`] (CrypTen, the artifact): `u = c1·(x + c2·((x·x)·x))`,
///   `(x·(tanh(u) + 1))·0.5`;
/// * [`GeluImpl::TanhFactored`] (MPCDiff's TF-Encrypted and PySyft code):
///   `u = (x·c1)·((x·x)·c2 + 1)`, `x·(tanh(u) + 1)` halved by the encoded 0.5 or by a
///   truncation by 2;
/// * [`GeluImpl::TanhJax`] (`jax.nn.gelu(approximate=True)`, SPU): `u` as CrypTen's,
///   `x·(0.5·(tanh(u) + 1))`.
///
/// # Errors
/// As [`gelu_tanh`].
pub fn gelu_tanh_as<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    method: SigmoidMethod,
    order: GeluImpl,
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    levels.check(n)?;
    super::need(scratch.len(), scratch_elems_tanh(n))?;
    let mut s = scratch;
    let t = take(&mut s, n)?;
    let u = take(&mut s, n)?;
    t.copy_from_slice(x);
    a.mul(t, x)?;
    if let GeluImpl::TanhFactored { .. } = order {
        // (x·c1)·((x·x)·c2 + 1) (`x * x`: a product of two private tensors, not a square)
        a.mul_const(t, 0.044715)?;
        a.add_const(t, 1.0)?;
        u.copy_from_slice(x);
        a.mul_const(u, 0.797_884_560_8)?;
        a.mul(u, t)?;
    } else {
        // c1·(x + c2·((x·x)·x))
        a.mul(t, x)?;
        a.mul_const(t, 0.044715)?;
        u.copy_from_slice(x);
        a.add(u, t)?;
        let c1 = match order {
            GeluImpl::TanhJax => 0.797_884_560_802_865_4,
            _ => 0.797_884_560_8,
        };
        a.mul_const(u, c1)?;
    }
    super::sigmoid::tanh(a, u, method, levels, s)?;
    a.add_const(u, 1.0)?;
    match order {
        GeluImpl::TanhJax => {
            a.mul_const(u, 0.5)?;
            a.mul(x, u)
        }
        GeluImpl::TanhFactored {
            halve_by_constant: false,
        } => {
            a.mul(x, u)?;
            a.div_int(x, 2)
        }
        _ => {
            a.mul(x, u)?;
            a.mul_const(x, 0.5)
        }
    }
}

/// `x ← gelu(x)`, erf form.
///
/// # Errors
/// [`crate::Error::BufferTooSmall`] if `scratch` is shorter than [`scratch_elems_erf`]; then
/// the arithmetic's (a [`crate::Shared`] arena too small, an encoding overflow).
pub fn gelu_erf<A: Arith>(a: &mut A, x: &mut [A::Elem], scratch: &mut [A::Elem]) -> Result<()> {
    let n = x.len();
    super::need(scratch.len(), scratch_elems_erf(n))?;
    let (z, rest) = scratch.split_at_mut(n);
    z.copy_from_slice(x);
    a.mul_const(z, core::f64::consts::FRAC_1_SQRT_2)?;
    super::erf::erf_bounded(a, z, rest)?;
    a.add_const(z, 1.0)?;
    a.mul(x, z)?;
    a.mul_const(x, 0.5)
}
