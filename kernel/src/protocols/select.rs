//! Selection and the functions built on one comparison: `select`, `sign`, `relu`.
//!
//! Written once against [`Arith`], so the same text runs in float, fixed point and shares.
//!
//! # Cost (in [`crate::arith::Shared`])
//! * `select`: 1 round, `n` mul triples (one product `c·(x − y)` of a value by a bit).
//! * `sign`: one `ltz` (8 rounds, 13n AND words, n B2A bits), then local.
//! * `relu`: one `ltz` and one bit product: 9 rounds.
//!
//! # Error
//! None beyond the inputs': a value times a 0/1 bit needs no truncation, so `relu(x)` equals
//! `max(0, x)` bit for bit on the ring (CrypTen research notes §3.4).
//!
//! # Reference
//! CrypTen `common/functions/logic.py: where`, `mpc/mpc.py: relu` (= `x · ge(0)`), `sign`.
//! CrypTen's `where` spends two products (`x·c + y·(1 − c)`); `y + c·(x − y)` needs one.

use crate::arith::Arith;
use crate::error::{check_len, Result};

/// `out = c ? x : y` elementwise, for scale-1 bits `c`.
pub fn select<A: Arith>(
    a: &mut A,
    c: &[A::Elem],
    x: &[A::Elem],
    y: &[A::Elem],
    out: &mut [A::Elem],
) -> Result<()> {
    check_len(out.len(), c.len())?;
    check_len(out.len(), x.len())?;
    check_len(out.len(), y.len())?;
    out.copy_from_slice(x);
    a.sub(out, y)?;
    a.mul_unscaled(out, c)?;
    a.add(out, y)
}

/// `out = sign(x)` as the scale-1 integers −1 or +1 (`+1` for 0, as CrypTen's `1 − 2·ltz`).
pub fn sign<A: Arith>(a: &mut A, x: &[A::Elem], out: &mut [A::Elem]) -> Result<()> {
    a.ltz(x, out)?;
    a.mul_int(out, -2);
    a.add_int(out, 1);
    Ok(())
}

/// `out = [x ≥ 0]` as scale-1 bits.
pub fn gez<A: Arith>(a: &mut A, x: &[A::Elem], out: &mut [A::Elem]) -> Result<()> {
    a.ltz(x, out)?;
    a.neg(out);
    a.add_int(out, 1);
    Ok(())
}

/// `x ← max(0, x)`; `bits` (same length) receives `[x ≥ 0]`, which callers may reuse.
pub fn relu<A: Arith>(a: &mut A, x: &mut [A::Elem], bits: &mut [A::Elem]) -> Result<()> {
    check_len(x.len(), bits.len())?;
    gez(a, x, bits)?;
    a.mul_unscaled(x, bits)
}
