//! The natural logarithm by Householder iteration.
//!
//! # Method
//! `y0 = x/120 − 20·exp(−2x − 1) + 3`, then `iters` steps `h = 1 − x·exp(−y)`,
//! `y ← y − Σ_{k=1..order} h^k/k`. The powers of `h` come from a doubling tree (`[h, h²]`, then
//! the whole block times its highest power, batched), each coefficient `1/k` goes through
//! `f32` and is encoded, and each term is truncated before the sum, as CrypTen's `polynomial`.
//!
//! # Cost
//! `iters_exp_init` rounds + per step `iters_exp` + 1 + ⌈log2 order⌉ rounds; CrypTen defaults:
//! 8 + 2·(8 + 1 + 3) = 32 rounds.
//!
//! # Error
//! CrypTen's own claim is 2 % relative on [10^−4, 250]; measured absolute ≤ 0.015 on [0.1, 10],
//! ≤ 0.065 on [10^−4, 250]. Above ≈ 253.8 the start's exp(−2x − 1) diverges (argument < −508):
//! garbage.
//!
//! # Reference
//! CrypTen `approximations.py: log` (`log_iterations` 2, `log_exp_iterations` 8, `log_order` 8),
//! `power.py: polynomial`.

use super::levels::take;
use super::profile::LogParams;
use crate::arith::Arith;
use crate::error::{Error, Result};

/// Scratch elements [`log`] needs for `n` inputs at Householder order `order` (saturating at
/// `usize::MAX`, a size no buffer has, when `n` is too large to say).
pub const fn scratch_elems(n: usize, order: u8) -> usize {
    let blocks = (order as usize).next_power_of_two();
    // 4n (y, t, h, the polynomial) + the power table (blocks·n) + its repeat buffer
    // (blocks/2·n) + n for exp (which runs before the table, in the same space).
    n.saturating_mul(5 + blocks + blocks / 2)
}

/// `x ← ln x`.
///
/// # Errors
/// [`Error::OutOfRange`] unless `p.order` is in 1..=32; [`Error::BufferTooSmall`] if `scratch`
/// is shorter than [`scratch_elems`]`(x.len(), p.order)`; then the arithmetic's (an arena too
/// small in [`crate::Shared`], an encoding overflow).
pub fn log<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    p: &LogParams,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = x.len();
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
