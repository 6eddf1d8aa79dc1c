//! The natural logarithm: CrypTen's Householder iteration, and SPU's minimax form.
//!
//! # Method
//! `y0 = x/120 − 20·exp(−2x − 1) + 3`, then `iters` steps `h = 1 − x·exp(−y)`,
//! `y ← y − Σ_{k=1..order} h^k/k`. The powers of `h` come from a doubling tree (`[h, h²]`, then
//! the whole block times its highest power, batched), each coefficient `1/k` goes through
//! `f32` and is encoded, and each term is truncated before the sum, as CrypTen's `polynomial`.
//!
//! # Method (SPU)
//! SPU 0.9.5's `log_minmax` ([`LogMethod::SpuMinmax`], its default `fxp_log_mode`): from the
//! highest set bit `m` of `x`'s ring integer (SPU: prefix-or, popcount over 2f + 2 bits, bit
//! reversal over 2f + 1 bits), `factor = 2^(f−m)` (0 for `m > 2f`) and `e = min(m + 1, 2f + 2)
//! − f − 1` as an integer value; `u = x·factor ∈ [1, 2)` (one truncated product),
//! `ln(1 + t)` at `t = u − 1` by SPU's degree-8 polynomial (`f32` coefficients 0,
//! 0.9999964239, −0.4998741238, 0.3317990258, −0.2407338084, 0.1676540711, −0.0953293897,
//! 0.0360884937, −0.0064535442, evaluated as [`super::polynomial`]), plus `e·ln 2` (the encoded
//! `ln 2` times the integer: one product, exact). Valid for `0 < x < 2^(f+1)` (SPU's own note);
//! `x ≤ 0` gives what SPU gives for 0 here (`p(−1) − (f + 1)·ln 2`; SPU's answer for negative
//! inputs differs, both garbage).
//!
//! # Cost
//! `iters_exp_init` rounds + per step `iters_exp` + 1 + ⌈log2 order⌉ rounds; CrypTen defaults:
//! 8 + 2·(8 + 1 + 3) = 32 rounds. SPU: the bit decomposition of `x` (charged as two
//! [`Arith::msb_map`]s), 2 products (`u`, `e·ln 2`), 3 rounds of powers (7 products), one sum.
//!
//! # Error
//! CrypTen's own claim is 2 % relative on [10^−4, 250]; measured absolute ≤ 0.015 on [0.1, 10],
//! ≤ 0.065 on [10^−4, 250]. Above ≈ 253.8 the start's exp(−2x − 1) diverges (argument < −508):
//! garbage.
//!
//! SPU's (f = 18): the polynomial's own error ≤ 4.6e−8 on [0.01, 1000] (A&S: 3e−8); in fixed
//! point ≤ 2.5e−5 against ln of the decoded input on the recorded grid [10^−4, 10^5] (SPU's
//! plaintext ring, which this arithmetic equals bit for bit,
//! `tests/tests/framework_profiles.rs`), plus the input's own encoding (one unit of 2^−18 moves
//! ln x by 2^−18/x: 3.8e−4 at x = 0.01). Garbage for `x ≥ 2^(f+1)` and `x ≤ 0`.
//!
//! # Reference
//! CrypTen `approximations.py: log` (`log_iterations` 2, `log_exp_iterations` 8, `log_order` 8),
//! `power.py: polynomial`. SPU 0.9.5 `libspu/kernel/hal/fxp_approx.cc: log_minmax,
//! log_minmax_normalized` (Abramowitz–Stegun 4.1.44), what `jnp.log` runs (`pphlo.log`,
//! measured).

use super::levels::take;
use super::profile::{LogMethod, LogParams};
use crate::arith::Arith;
use crate::error::{Error, Result};

/// SPU's minimax coefficients of `ln(1 + t)` on [0, 1], as SPU holds them: C++ `double`
/// literals in a `float` array, so rounded to `f64`, then to `f32`.
const SPU_LOG: [f32; 9] = [
    0.0,
    0.9999964239_f64 as f32,
    -0.4998741238_f64 as f32,
    0.3317990258_f64 as f32,
    -0.2407338084_f64 as f32,
    0.1676540711_f64 as f32,
    -0.0953293897_f64 as f32,
    0.0360884937_f64 as f32,
    -0.0064535442_f64 as f32,
];

/// Scratch elements [`log`] needs for `n` inputs at Householder order `order`, or by SPU's
/// method (saturating at `usize::MAX`, a size no buffer has, when `n` is too large to say).
pub const fn scratch_elems(n: usize, order: u8) -> usize {
    let blocks = (order as usize).next_power_of_two();
    // 4n (y, t, h, the polynomial) + the power table (blocks·n) + its repeat buffer
    // (blocks/2·n) + n for exp (which runs before the table, in the same space).
    let householder = n.saturating_mul(5 + blocks + blocks / 2);
    // SPU: factor, e, u + the polynomial's
    let spu = n
        .saturating_mul(3)
        .saturating_add(super::polynomial::scratch_elems(n, SPU_LOG.len()));
    if householder > spu {
        householder
    } else {
        spu
    }
}

/// `x ← ln x`.
///
/// # Errors
/// [`Error::OutOfRange`] unless `p.order` is in 1..=32 (Householder); [`Error::BufferTooSmall`]
/// if `scratch` is shorter than [`scratch_elems`]`(x.len(), p.order)`; then the arithmetic's
/// (an arena too small in [`crate::Shared`], an encoding overflow).
pub fn log<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    p: &LogParams,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
    if p.method == LogMethod::SpuMinmax {
        super::need(scratch.len(), scratch_elems(n, p.order))?;
        return log_spu(a, x, scratch);
    }
    if p.order == 0 || p.order > 32 {
        return Err(Error::OutOfRange {
            what: "log order outside 1..=32",
        });
    }
    super::need(scratch.len(), scratch_elems(n, p.order))?;
    let mut s = scratch;
    let y = take(&mut s, n)?;
    let t = take(&mut s, n)?;
    let h = take(&mut s, n)?;
    let poly = take(&mut s, n)?;
    // y0 = x/120 − 20·exp(−(2x + 1)) + 3
    y.copy_from_slice(x);
    a.div_int(y, 120)?;
    t.copy_from_slice(x);
    a.mul_int(t, 2);
    a.add_const(t, 1.0)?;
    a.neg(t);
    super::exp::exp_uniform(a, t, p.iters_exp_init, s)?;
    a.mul_int(t, 20);
    a.sub(y, t)?;
    a.add_const(y, 3.0)?;
    for _ in 0..p.iters {
        t.copy_from_slice(y);
        a.neg(t);
        super::exp::exp_uniform(a, t, p.iters_exp, s)?;
        h.copy_from_slice(x);
        a.mul(h, t)?;
        a.rsub_const(h, 1.0)?;
        polynomial_harmonic(a, h, p.order, poly, s)?;
        a.sub(y, poly)?;
    }
    x.copy_from_slice(y);
    Ok(())
}

/// SPU's `log_minmax` (module docs, "Method (SPU)").
fn log_spu<A: Arith>(a: &mut A, x: &mut [A::Elem], scratch: &mut [A::Elem]) -> Result<()> {
    let n = x.len();
    let f = a.fixed_point().frac_bits() as i32;
    let mut s = scratch;
    let factor = take(&mut s, n)?;
    let e = take(&mut s, n)?;
    let u = take(&mut s, n)?;
    a.msb_map(x, factor, &|m| {
        if (0..=2 * f).contains(&m) {
            libm::exp2(f64::from(f - m))
        } else {
            0.0
        }
    })?;
    // k = popcount of the prefix-or over 2f + 2 bits: m + 1, at most 2f + 2; 0 for x = 0
    // (m saturates in `Float` for an infinite x)
    a.msb_map(x, e, &|m| {
        f64::from(m.saturating_add(1).clamp(0, 2 * f + 2) - f - 1)
    })?;
    u.copy_from_slice(x);
    a.mul(u, factor)?;
    a.add_const(u, -1.0)?;
    super::polynomial::polynomial(a, u, &SPU_LOG, x, s)?;
    // SPU: `constant(ctx, std::log(2), …)`, a double
    a.mul_const(e, core::f64::consts::LN_2)?;
    a.add(x, e)
}

/// `out = Σ_{k=1..order} c_k·h^k` with `c_k = f32(1/k)`, as CrypTen's `polynomial`.
fn polynomial_harmonic<A: Arith>(
    a: &mut A,
    h: &[A::Elem],
    order: u8,
    out: &mut [A::Elem],
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = h.len();
    let order = order as usize;
    if order == 1 {
        // One term, `1·h`: no power table (so none is sized by [`scratch_elems`]).
        out.copy_from_slice(h);
        return a.mul_const(out, 1.0);
    }
    let blocks = order.next_power_of_two();
    let need = blocks
        .saturating_mul(n)
        .saturating_add((blocks / 2).saturating_mul(n));
    super::need(scratch.len(), need)?;
    let (terms, rest) = scratch.split_at_mut(blocks * n);
    let rep = &mut rest[..(blocks / 2) * n];
    // terms = [h, h²], then the block times its highest power until `order` terms exist.
    terms[..n].copy_from_slice(h);
    terms[n..2 * n].copy_from_slice(h);
    a.square(&mut terms[n..2 * n])?;
    let mut len = 2;
    while len < order {
        let (done, fresh) = terms.split_at_mut(len * n);
        let highest = &done[(len - 1) * n..len * n];
        for b in 0..len {
            rep[b * n..(b + 1) * n].copy_from_slice(highest);
        }
        let fresh = &mut fresh[..len * n];
        fresh.copy_from_slice(done);
        a.mul(fresh, &rep[..len * n])?;
        len *= 2;
    }
    out.fill(A::Elem::default());
    for k in 0..order {
        let term = &mut terms[k * n..(k + 1) * n];
        // torch.tensor([1/(i+1) …]) is float32.
        let c = f64::from((1.0 / (k as f64 + 1.0)) as f32);
        a.mul_const(term, c)?;
        a.add(out, term)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! Regression: order 1 (the low end of the documented range) runs in the scratch its own
    //! sizing function asks for.

    use super::{log, scratch_elems};
    use crate::approx::{self, profile, Function, Level, Levels};
    use crate::testing::FP;
    use crate::{Fixed, Float};

    #[test]
    fn log_order_one_is_sized_and_evaluates() {
        let mut p = profile::CRYPTEN;
        p.log.order = 1;
        // Through `approx::eval`, with exactly the scratch `scratch_elems` says.
        let mut x = [2.0, 0.5, 7.0];
        let mut scratch = vec![0.0; scratch_elems(x.len(), 1)];
        let uniform = Levels::Uniform(Level::new(0, 0));
        approx::eval(
            &mut Float::new(FP),
            Function::Log,
            &p,
            &mut x,
            &uniform,
            &mut scratch,
        )
        .unwrap();
        // One Householder term per step is Newton's method, two steps from CrypTen's start: a
        // coarse log, but a finite one that moved from the start towards ln x.
        assert!(x.iter().all(|v| v.is_finite()), "{x:?}");
        assert!(x[0] < 2.0 && x[0] > 0.0, "{x:?}");
        // And in fixed point, directly.
        let mut r = [FP.encode(2.0).unwrap()];
        let mut s = vec![0i64; scratch_elems(1, 1)];
        log(&mut Fixed::new(FP), &mut r, &p.log, &mut s).unwrap();
        // One element short is a typed error, for every order.
        for order in [1u8, 2, 3, 8, 32] {
            let mut q = p.log;
            q.order = order;
            let need = scratch_elems(2, order);
            let mut s = vec![0.0; need - 1];
            assert_eq!(
                log(&mut Float::new(FP), &mut [1.0, 2.0], &q, &mut s),
                Err(crate::Error::BufferTooSmall {
                    needed: need,
                    got: need - 1
                }),
                "order {order}"
            );
            let mut s = vec![0.0; need];
            log(&mut Float::new(FP), &mut [1.0, 2.0], &q, &mut s).unwrap();
        }
    }
}
