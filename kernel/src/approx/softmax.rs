//! Softmax over the rows of a matrix.
//!
//! # Method
//! `m = max(row)` (exact, [`max_rows`]), `e = exp(x − m)`, `s = Σ e` (≥ 1), `softmax = e · (1/s)`
//! with the profile's positive reciprocal (CrypTen: Newton 10 from `3·exp(1 − 2s) + 0.003`). A
//! row of one element is 1.
//!
//! # Cost
//! max: ⌈log2 cols⌉·9 rounds; exp: `exp_iters`; reciprocal: 8 + 20; one product.
//!
//! # Error
//! Governed by `s`: the reciprocal's relative error is ≈ s²·2^−f, and it fails for s ≳ 185–253,
//! so rows of more than ≈ 200 near-equal logits come out wrong (garbage from 256). Logits within
//! a few units of the max: ≤ 3e−3 absolute at f = 16.
//!
//! # Reference
//! CrypTen `approximations.py: softmax`.

use super::levels::{take, Level, Levels};
use super::profile::Profile;
use crate::arith::Arith;
use crate::error::{check_len, Error, Result};
use crate::protocols::maximum::{max_rows, scratch_elems_max};

/// Scratch elements [`softmax`] needs for a `rows × cols` input (saturating at `usize::MAX`).
pub const fn scratch_elems(rows: usize, cols: usize) -> usize {
    let n = rows.saturating_mul(cols);
    let max = scratch_elems_max(rows, cols);
    let recip = rows
        .saturating_mul(2)
        .saturating_add(super::reciprocal::scratch_elems_pos(rows));
    let inner = if max > recip { max } else { recip };
    n.saturating_mul(2)
        .saturating_add(rows.saturating_mul(2))
        .saturating_add(inner)
}

/// `x ← softmax(x)` row by row.
///
/// # Errors
/// [`Error::InvalidShape`] if `rows × cols` overflows or `cols` is 0; [`Error::ShapeMismatch`]
/// unless `x` holds `rows × cols` values; [`Error::BufferTooSmall`] if `scratch` is shorter
/// than [`scratch_elems`]; then the maximum's, the exponential's, the reciprocal's and the
/// arithmetic's.
pub fn softmax<A: Arith>(
    a: &mut A,
    x: &mut [A::Elem],
    rows: usize,
    cols: usize,
    profile: &Profile,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = rows.checked_mul(cols).ok_or(Error::InvalidShape {
        what: "rows × cols overflows",
    })?;
    check_len(n, x.len())?;
    if cols == 0 {
        return Err(Error::InvalidShape {
            what: "softmax over rows of zero columns",
        });
    }
    super::need(scratch.len(), scratch_elems(rows, cols))?;
    if cols == 1 {
        return a.fill_const(x, 1.0);
    }
    let mut s = scratch;
    let bcast = take(&mut s, n)?;
    let m = take(&mut s, rows)?;
    let sum = take(&mut s, rows)?;
    max_rows(a, x, rows, cols, m, None, s)?;
    for r in 0..rows {
        for c in 0..cols {
            bcast[r * cols + c] = m[r];
        }
    }
    a.sub(x, bcast)?;
    super::exp::exp_uniform(a, x, profile.exp_iters, s)?;
    for r in 0..rows {
        let mut acc = A::Elem::default();
        for c in 0..cols {
            acc = a.elem_add(acc, x[r * cols + c]);
        }
        sum[r] = acc;
    }
    let rp = profile.softmax_reciprocal;
    super::reciprocal::reciprocal_pos(
        a,
        sum,
        m,
        rp.init,
        &Levels::Uniform(Level::new(0, rp.iters_nr)),
        s,
    )?;
    for r in 0..rows {
        for c in 0..cols {
            bcast[r * cols + c] = m[r];
        }
    }
    a.mul(x, bcast)
}
