//! The reciprocal by Newton–Raphson iteration, and SPU's Goldschmidt division.
//!
//! # Method
//! Signed inputs: `s = sign(x)` (one comparison), `1/x = s · recip(s·x)`. For positive `p`:
//! start from `y0` (CrypTen's `3·exp(1 − 2p) + 0.003`, or a public constant) and iterate
//! `y ← y + (y − y²·p)`, `iters_nr` times (the element's level). With a constant `y0` the
//! first step is public but for one product: `2·y0 − (y0²)·p`.
//! [`RecipInit::Goldschmidt`] runs [`reciprocal_goldschmidt`] instead (its own section below),
//! with `iters_nr` Goldschmidt iterations; with `all_pos` without the sign's comparison and
//! muxes (SPU's `reciprocal_goldschmidt_positive`).
//!
//! # Cost
//! Crypten start: `iters_exp` rounds (the exp), then 2 rounds per step (square, multiply);
//! signed: + 8 (sign) + 2 bit products. CrypTen defaults: 28 rounds (positive), 38 (signed).
//!
//! # Error
//! Newton converges when `0 < y0 < 2/p`; each step squares the relative error. Fixed point: the
//! last step's ±1 LSB rounding of `y²` is multiplied by `p`, so the absolute error is ≈ p LSB
//! and the **relative error grows as p²·2^−f** (0.12 at p = 100, f = 16). Breakdowns (CrypTen
//! start): p ≳ 185–253 sporadic, p > 253 always garbage (the start's exp sees 1 − 2p < −505);
//! p < 10^−3 does not converge in 10 steps.
//!
//! # Reference
//! CrypTen `approximations.py: reciprocal` (method NR, `reciprocal_nr_iters` = 10,
//! `reciprocal_initial` = None, `reciprocal_all_pos` = False).

use super::levels::{masked_step, take, Count, Level, Levels};
use super::profile::{RecipInit, RecipParams};
use crate::arith::Arith;
use crate::error::Result;

/// Scratch elements [`reciprocal`] needs for `n` inputs.
pub const fn scratch_elems(n: usize) -> usize {
    n.saturating_mul(7)
}

/// Scratch elements [`reciprocal_pos`] needs for `n` inputs.
pub const fn scratch_elems_pos(n: usize) -> usize {
    n.saturating_mul(4)
}

/// The level a [`RecipParams`] asks for (Newton steps; the start's exp is in its init).
pub const fn default_level(p: &RecipParams) -> Level {
    Level::new(0, p.iters_nr)
}

/// `x ← 1/x`, with Newton steps (or Goldschmidt iterations) from each element's level
/// (`iters_nr`).
///
/// # Errors
/// [`Levels::check`]'s; [`crate::Error::BufferTooSmall`] if `scratch` is shorter than
/// [`scratch_elems`] ([`scratch_elems_pos`] + n with `all_pos`); then the arithmetic's (a
/// [`crate::Shared`] arena too small, an encoding overflow).
pub fn reciprocal<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    p: &RecipParams,
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    levels.check(n)?;
    super::need(
        scratch.len(),
        if p.all_pos {
            n.saturating_mul(5)
        } else {
            scratch_elems(n)
        },
    )?;
    let mut s = scratch;
    if p.init == RecipInit::Goldschmidt && !p.all_pos {
        // SPU's own sign handling (a mux on the MSB, not a product by ±1)
        let y = take(&mut s, n)?;
        reciprocal_goldschmidt(a, x, y, levels, s)?;
        x.copy_from_slice(y);
        return Ok(());
    }
    if p.all_pos {
        let y = take(&mut s, n)?;
        reciprocal_pos(a, x, y, p.init, levels, s)?;
        x.copy_from_slice(y);
        return Ok(());
    }
    let sgn = take(&mut s, n)?;
    let pos = take(&mut s, n)?;
    let y = take(&mut s, n)?;
    crate::protocols::select::sign(a, x, sgn)?;
    pos.copy_from_slice(x);
    a.mul_unscaled(pos, sgn)?;
    reciprocal_pos(a, pos, y, p.init, levels, s)?;
    a.mul_unscaled(y, sgn)?;
    x.copy_from_slice(y);
    Ok(())
}

/// `y = 1/d` for positive `d`, from `init`, with each element's `iters_nr` Newton steps.
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] unless `y` is as long as `d`; [`Levels::check`]'s;
/// [`crate::Error::BufferTooSmall`] if `scratch` is shorter than [`scratch_elems_pos`]; then
/// the arithmetic's.
pub fn reciprocal_pos<A: Arith>(
    a: &mut A,
    d: &[A::Elem],
    y: &mut [A::Elem],
    init: RecipInit,
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = d.len();
    crate::error::check_len(n, y.len())?;
    levels.check(n)?;
    super::need(scratch.len(), scratch_elems_pos(n))?;
    let first = match init {
        RecipInit::Crypten { iters_exp } => {
            y.copy_from_slice(d);
            a.mul_int(y, -2);
            a.add_const(y, 1.0)?;
            super::exp::exp_uniform(a, y, iters_exp, scratch)?;
            a.mul_int(y, 3);
            a.add_const(y, 0.003)?;
            0
        }
        RecipInit::PySyft { iters_exp } => {
            y.copy_from_slice(d);
            a.neg(y);
            a.add_const(y, 0.5)?;
            super::exp::exp_uniform(a, y, iters_exp, scratch)?;
            a.mul_int(y, 3);
            a.add_const(y, 0.003)?;
            0
        }
        RecipInit::Goldschmidt => return goldschmidt_positive(a, d, y, levels, scratch),
        RecipInit::Const(c) => {
            a.fill_const(y, c)?;
            masked_step(a, levels, Count::Nr, 0, y, d, scratch, |a, yv, dv, _| {
                yv.copy_from_slice(dv);
                a.mul_const(yv, c * c)?;
                a.rsub_const(yv, 2.0 * c)
            })?;
            1
        }
    };
    for j in first..levels.max().iters_nr {
        masked_step(a, levels, Count::Nr, j, y, d, scratch, |a, yv, dv, s| {
            let t = &mut s[..yv.len()];
            t.copy_from_slice(yv);
            a.square(t)?;
            a.mul(t, dv)?;
            // y + (y − y²d), in this order (CrypTen: `result += result - result.square().mul_(self)`):
            // `neg(t)`, `add(t, y)`, `add(y, t)` in one pass.
            for (y, &tv) in yv.iter_mut().zip(t.iter()) {
                *y = a.elem_add(*y, a.elem_add(a.elem_mul_int(tv, -1), *y));
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Scratch elements [`reciprocal_goldschmidt`] needs for `n` inputs.
pub const fn scratch_elems_goldschmidt(n: usize) -> usize {
    n.saturating_mul(6)
}

/// `out = 1/b` by SPU's Goldschmidt division (`reciprocal_goldschmidt`, SPU 0.9.5
/// `fxp_base.cc`; `frameworks.md` §3.5), each element with its level's `iters_nr`
/// iterations (SPU: `fxp_div_goldschmidt_iters` = 2). This is what SPU runs for
/// `jnp.reciprocal(x)` and for `1.0 / x` (its compiler rewrites a division of the constant 1
/// into `pphlo.reciprocal`; measured), and inside `jax.nn.sigmoid`.
///
/// # Method
/// `s = [b < 0]`, `|b|` by a mux; `factor = 2^(f−1−m)` from the highest set bit `m` of `|b|`'s
/// ring integer ([`Arith::msb_map`]; 0 when `m ≥ 2f`, SPU's mask to 2f bits), so
/// `c = |b|·factor ∈ [1/2, 1)`; `w = 2.9142 − 2c`, `e = 1 − c·w`, `r = w`; then per iteration
/// `r ← r·(1 + e)`, `e ← e²`; the result `r·factor` with `b`'s sign restored by a mux.
///
/// # Cost
/// 2 comparisons (the sign and the normalisation), 2 + 2·`iters` products (no square after the
/// last iteration, as SPU), 2 sign muxes. Per-element levels run every element
/// to the deepest level and keep each one's result at its own (public) count.
///
/// # Error
/// Algorithmic relative error `e0^(2^iters)` with `|e0| ≤ 0.0858` on [1/2, 1): ≤ 5.4e−5 for 2
/// iterations, plus a few units of the truncations; `|b| ≥ 2^f` (real) returns 0. The result's
/// units are absolute, so the relative error grows as `1/|b|` nears the resolution 2^−f (at
/// f = 18, `1/10⁴` is 26 units; SPU measured: 3e−4 on [10, 100], 3.2e−2 on [100, 10⁴]).
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] unless `out` is as long as `b`; [`Levels::check`]'s;
/// [`crate::Error::BufferTooSmall`] below [`scratch_elems_goldschmidt`]; the arithmetic's.
pub fn reciprocal_goldschmidt<A: Arith>(
    a: &mut A,
    b: &[A::Elem],
    out: &mut [A::Elem],
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = b.len();
    crate::error::check_len(n, out.len())?;
    levels.check(n)?;
    super::need(scratch.len(), scratch_elems_goldschmidt(n))?;
    let mut s = scratch;
    let sign = take(&mut s, n)?;
    let abs = take(&mut s, n)?;
    a.ltz(b, sign)?;
    // |b| = b + s·(−2b)
    out.copy_from_slice(b);
    a.mul_int(out, -2);
    a.mul_unscaled(out, sign)?;
    abs.copy_from_slice(b);
    a.add(abs, out)?;
    goldschmidt_positive(a, abs, out, levels, s)?;
    // the sign back: r + s·(−2r)
    let t = &mut s[..n];
    t.copy_from_slice(out);
    a.mul_int(t, -2);
    a.mul_unscaled(t, sign)?;
    a.add(out, t)
}

/// Scratch elements [`goldschmidt_positive`] needs for `n` inputs.
const fn scratch_elems_goldschmidt_positive(n: usize) -> usize {
    n.saturating_mul(4)
}

/// `r = 1/d` for positive `d` by SPU's Goldschmidt iteration (its
/// `reciprocal_goldschmidt_positive`, and the core of [`reciprocal_goldschmidt`] after the
/// sign): `d` normalised by its highest set bit, the start `2.9142 − 2c`, each element's
/// `iters_nr` iterations, `r·factor`. Lengths and levels are the caller's to check.
fn goldschmidt_positive<A: Arith>(
    a: &mut A,
    d: &[A::Elem],
    r: &mut [A::Elem],
    levels: &Levels<'_>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = d.len();
    super::need(scratch.len(), scratch_elems_goldschmidt_positive(n))?;
    let f = a.fixed_point().frac_bits() as i32;
    let mut s = scratch;
    let factor = take(&mut s, n)?;
    // c, then (once e is formed) each iteration's 1 + e
    let c = take(&mut s, n)?;
    let e = take(&mut s, n)?;
    let u = take(&mut s, n)?;
    let g = move |m: i32| {
        if (0..2 * f).contains(&m) {
            libm::exp2(f64::from(f - 1 - m))
        } else {
            0.0
        }
    };
    a.msb_map(d, factor, &g)?;
    c.copy_from_slice(d);
    a.mul(c, factor)?;
    // w = 2.9142 − 2c, held in r (SPU's constant is the float32 `2.9142F`)
    r.copy_from_slice(c);
    a.mul_int(r, -2);
    a.add_const(r, 2.9142_f32 as f64)?;
    // e = 1 − c·w
    e.copy_from_slice(c);
    a.mul(e, r)?;
    a.rsub_const(e, 1.0)?;
    let t = c;
    let deepest = levels.max().iters_nr;
    for j in 0..deepest {
        t.copy_from_slice(e);
        a.add_const(t, 1.0)?;
        u.copy_from_slice(r);
        a.mul(u, t)?;
        for (i, (ri, &ui)) in r.iter_mut().zip(u.iter()).enumerate() {
            if levels.at(i).iters_nr > j {
                *ri = ui;
            }
        }
        if j + 1 < deepest {
            a.square(e)?;
        }
    }
    a.mul(r, factor)
}
