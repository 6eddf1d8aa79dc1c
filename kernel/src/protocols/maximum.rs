//! Maximum and argmax of rows, by a tournament of pairwise comparisons.
//!
//! # Method
//! Each level compares neighbours `(2j, 2j+1)` of every row at once with one `ltz` of their
//! difference, then selects the larger value **and its index** with one batched bit product;
//! an odd element passes to the next level unchanged. Ties keep the lower index, so argmax is
//! deterministic (CrypTen breaks ties at random).
//!
//! # Cost (in [`crate::arith::Shared`])
//! `⌈log2 cols⌉` levels, each 9 rounds (8 for `ltz`, 1 for the selection); per level, for
//! `p = rows·⌊w/2⌋` pairs at width `w`: `13p` AND words, `p` B2A bits, `2p` mul triples.
//!
//! # Arena (in [`crate::arith::Shared`])
//! The session arena must hold `Shared::scratch_words_elementwise(rows·⌊cols/2⌋)` words (the
//! first level's `ltz`; later levels are smaller). Too small an arena fails at the first
//! level, before anything is spent or written.
//!
//! # Error
//! None: the maximum is one of the inputs, exactly.
//!
//! # Reference
//! CrypTen `common/functions/maximum.py` (`log_reduction` halves `int(ln n)` times, then
//! finishes pairwise); the values are the same, the round counts differ.

use crate::arith::Arith;
use crate::error::{check_len, Error, Result};

/// Elements of scratch [`max_rows`] needs for a `rows × cols` input.
pub const fn scratch_elems_max(rows: usize, cols: usize) -> usize {
    // values + indices, then per level: differences, bits (pairs each) and the batched
    // operand and bit vectors (2 pairs each).
    let n = rows * cols;
    2 * n + 3 * n
}

/// For each row of the `rows × cols` matrix `x`: `max_out[r]` = its maximum, and, when given,
/// `argmax_out[r]` = the column of the first maximum (a scale-1 integer).
pub fn max_rows<A: Arith>(
    a: &mut A,
    x: &[A::Elem],
    rows: usize,
    cols: usize,
    max_out: &mut [A::Elem],
    argmax_out: Option<&mut [A::Elem]>,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let n = rows.checked_mul(cols).ok_or(Error::InvalidShape {
        what: "rows × cols overflows",
    })?;
    check_len(n, x.len())?;
    check_len(rows, max_out.len())?;
    if let Some(am) = argmax_out.as_deref() {
        // Checked before any work, so a bad length spends nothing and writes nothing.
        check_len(rows, am.len())?;
    }
    if cols == 0 {
        return Err(Error::InvalidShape {
            what: "max over rows of zero columns",
        });
    }
    let needed = scratch_elems_max(rows, cols);
    if scratch.len() < needed {
        return Err(Error::BufferTooSmall {
            needed,
            got: scratch.len(),
        });
    }
    let (vals, rest) = scratch.split_at_mut(n);
    let (idx, rest) = rest.split_at_mut(n);
    vals.copy_from_slice(x);
    for (i, v) in idx.iter_mut().enumerate() {
        *v = a.elem_int((i % cols) as i64);
    }
    let mut width = cols;
    while width > 1 {
        let half = width / 2;
        let p = rows * half;
        let (diff, rest2) = rest.split_at_mut(p);
        let (bits, rest3) = rest2.split_at_mut(p);
        let (ops, bits2) = rest3.split_at_mut(2 * p);
        let bits2 = &mut bits2[..2 * p];
        // ltz(left − right) = 1 where the right one is larger.
        for r in 0..rows {
            for j in 0..half {
                let (l, rt) = (r * width + 2 * j, r * width + 2 * j + 1);
                diff[r * half + j] = a.elem_sub(vals[l], vals[rt]);
            }
        }
        a.ltz(diff, bits)?;
        for r in 0..rows {
            for j in 0..half {
                let (l, rt) = (r * width + 2 * j, r * width + 2 * j + 1);
                let q = r * half + j;
                ops[q] = a.elem_sub(vals[rt], vals[l]);
                ops[p + q] = a.elem_sub(idx[rt], idx[l]);
                bits2[q] = bits[q];
                bits2[p + q] = bits[q];
            }
        }
        a.mul_unscaled(ops, bits2)?;
        // Compact: row r's new width is half + (width odd), written in place left to right.
        let new_width = half + (width & 1);
        for r in 0..rows {
            for j in 0..half {
                let l = r * width + 2 * j;
                let q = r * half + j;
                let v = a.elem_add(vals[l], ops[q]);
                let ix = a.elem_add(idx[l], ops[p + q]);
                vals[r * new_width + j] = v;
                idx[r * new_width + j] = ix;
            }
            if width & 1 == 1 {
                let last = r * width + width - 1;
                vals[r * new_width + half] = vals[last];
                idx[r * new_width + half] = idx[last];
            }
        }
        width = new_width;
    }
    max_out.copy_from_slice(&vals[..rows]);
    if let Some(am) = argmax_out {
        am.copy_from_slice(&idx[..rows]);
    }
    Ok(())
}
