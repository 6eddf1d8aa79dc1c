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
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] unless `c`, `x`, `y` and `out` have one length; then the
/// arithmetic's.
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
///
/// # Errors
/// The arithmetic's `ltz` ([`crate::Error::ShapeMismatch`] unless `out` is as long as `x`).
pub fn sign<A: Arith>(a: &mut A, x: &[A::Elem], out: &mut [A::Elem]) -> Result<()> {
    a.ltz(x, out)?;
    a.mul_int(out, -2);
    a.add_int(out, 1);
    Ok(())
}

/// `out = [x ≥ 0]` as scale-1 bits.
///
/// # Errors
/// As [`sign`].
pub fn gez<A: Arith>(a: &mut A, x: &[A::Elem], out: &mut [A::Elem]) -> Result<()> {
    a.ltz(x, out)?;
    a.neg(out);
    a.add_int(out, 1);
    Ok(())
}

/// `x ← max(0, x)`; `bits` (same length) receives `[x ≥ 0]`, which callers may reuse.
///
/// # Errors
/// [`crate::Error::ShapeMismatch`] unless `bits` is as long as `x`; then the arithmetic's.
pub fn relu<A: Arith>(a: &mut A, x: &mut [A::Elem], bits: &mut [A::Elem]) -> Result<()> {
    check_len(x.len(), bits.len())?;
    gez(a, x, bits)?;
    a.mul_unscaled(x, bits)
}

#[cfg(test)]
mod tests {
    //! Every comparison is exact on the whole ring, in `Fixed` and in `Shared` (both truncation
    //! modes): `ltz`, `sign`, `gez`, `relu` (and its bits), and `select` on full-range values.

    use crate::protocols::select;
    use crate::testing::{any_ring, arena, int_in, open, ring_edges, rng, session, share_ring};
    use crate::testing::{FP, MODES, SEEDS};
    use crate::{Arith, Fixed, Shared};
    use rand_core::RngCore;

    #[test]
    fn comparisons_are_exact_on_the_whole_ring() {
        for seed in SEEDS {
            for mode in MODES {
                let mut r = rng(seed);
                let mut xs = ring_edges();
                xs.extend((0..150).map(|_| any_ring(&mut r)));
                // Values next to zero, where a carry error would show first.
                xs.extend((0..50).map(|_| int_in(&mut r, -3, 3)));
                let n = xs.len();
                let lt: Vec<i64> = xs.iter().map(|&v| i64::from(v < 0)).collect();
                let sg: Vec<i64> = xs.iter().map(|&v| if v < 0 { -1 } else { 1 }).collect();
                let relu: Vec<i64> = xs.iter().map(|&v| v.max(0)).collect();

                let mut fx = Fixed::new(FP);
                let mut o = vec![0i64; n];
                fx.ltz(&xs, &mut o).unwrap();
                assert_eq!(o, lt, "seed {seed}: Fixed ltz");
                select::sign(&mut fx, &xs, &mut o).unwrap();
                assert_eq!(o, sg, "seed {seed}: Fixed sign");
                let mut v = xs.clone();
                select::relu(&mut fx, &mut v, &mut o).unwrap();
                assert_eq!(v, relu, "seed {seed}: Fixed relu");

                let mut ar = arena(Shared::scratch_words_elementwise(n));
                let mut mpc = session(seed, mode, &mut ar);
                let x = share_ring(&mut mpc, &xs);
                let mut o = vec![[0i64; 2]; n];
                mpc.ltz(&x, &mut o).unwrap();
                assert_eq!(open(&mpc, &o), lt, "seed {seed} {mode:?}: ltz");
                select::sign(&mut mpc, &x, &mut o).unwrap();
                assert_eq!(open(&mpc, &o), sg, "seed {seed} {mode:?}: sign");
                select::gez(&mut mpc, &x, &mut o).unwrap();
                let ge: Vec<i64> = lt.iter().map(|b| 1 - b).collect();
                assert_eq!(open(&mpc, &o), ge, "seed {seed} {mode:?}: gez");
                let mut v = x.clone();
                select::relu(&mut mpc, &mut v, &mut o).unwrap();
                assert_eq!(open(&mpc, &v), relu, "seed {seed} {mode:?}: relu");
                assert_eq!(open(&mpc, &o), ge, "seed {seed} {mode:?}: relu bits");

                // select with random bits picks exactly, on full-range values.
                let ys: Vec<i64> = (0..n).map(|_| any_ring(&mut r)).collect();
                let cs: Vec<i64> = (0..n).map(|_| (r.next_u64() & 1) as i64).collect();
                let y = share_ring(&mut mpc, &ys);
                let c = share_ring(&mut mpc, &cs);
                let mut out = vec![[0i64; 2]; n];
                select::select(&mut mpc, &c, &x, &y, &mut out).unwrap();
                let want: Vec<i64> = (0..n)
                    .map(|i| if cs[i] == 1 { xs[i] } else { ys[i] })
                    .collect();
                assert_eq!(open(&mpc, &out), want, "seed {seed} {mode:?}: select");
            }
        }
    }
}
