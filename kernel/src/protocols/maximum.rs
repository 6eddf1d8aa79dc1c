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

/// Elements of scratch [`max_rows`] needs for a `rows × cols` input (saturating at
/// `usize::MAX`, a size no buffer has).
pub const fn scratch_elems_max(rows: usize, cols: usize) -> usize {
    // values + indices, then per level: differences, bits (pairs each) and the batched
    // operand and bit vectors (2 pairs each): 2n + 3n.
    rows.saturating_mul(cols).saturating_mul(5)
}

/// For each row of the `rows × cols` matrix `x`: `max_out[r]` = its maximum, and, when given,
/// `argmax_out[r]` = the column of the first maximum (a scale-1 integer).
///
/// # Errors
/// [`Error::InvalidShape`] if `rows × cols` overflows or `cols` is 0; [`Error::ShapeMismatch`]
/// unless `x` holds `rows × cols` values and `max_out` (and `argmax_out`) `rows`;
/// [`Error::BufferTooSmall`] if `scratch` is shorter than [`scratch_elems_max`]; then the
/// arithmetic's (`ltz`, `mul_unscaled`).
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

#[cfg(test)]
mod tests {
    //! The maximum and the first argmax of every row, in float, fixed point and shares, against a
    //! plaintext reference, with ties common.

    use super::{max_rows, scratch_elems_max};
    use crate::testing::{arena, int_in, open, rng, session, share_ring, FP, MODES, S, SEEDS};
    use crate::{Fixed, Float, Shared};
    use rand_core::RngCore;

    /// Plaintext reference: per row, the max and the first index reaching it.
    fn row_max(xs: &[i64], rows: usize, cols: usize) -> (Vec<i64>, Vec<i64>) {
        let mut m = Vec::new();
        let mut am = Vec::new();
        for r in 0..rows {
            let row = &xs[r * cols..(r + 1) * cols];
            let best = *row.iter().max().unwrap();
            m.push(best);
            am.push(row.iter().position(|&v| v == best).unwrap() as i64);
        }
        (m, am)
    }

    #[test]
    fn max_and_argmax_agree_across_float_fixed_shared() {
        let shapes = [
            (1, 1),
            (3, 1),
            (2, 2),
            (4, 5),
            (3, 7),
            (2, 16),
            (5, 9),
            (1, 33),
        ];
        for seed in SEEDS {
            let mut r = rng(seed);
            for (rows, cols) in shapes {
                let n = rows * cols;
                // A small alphabet makes ties common (the lowest index must win everywhere).
                let alphabet: Vec<i64> = (0..4).map(|_| int_in(&mut r, -5 * S, 5 * S)).collect();
                let xs: Vec<i64> = (0..n)
                    .map(|_| {
                        if r.next_u64().is_multiple_of(3) {
                            alphabet[(r.next_u64() % 4) as usize]
                        } else {
                            int_in(&mut r, -5 * S, 5 * S)
                        }
                    })
                    .collect();
                let (want_max, want_arg) = row_max(&xs, rows, cols);
                let need = scratch_elems_max(rows, cols);

                let mut fl = Float::new(FP);
                let xf: Vec<f64> = xs.iter().map(|&v| FP.decode(v)).collect();
                let (mut m, mut am, mut sc) = (vec![0.0; rows], vec![0.0; rows], vec![0.0; need]);
                max_rows(&mut fl, &xf, rows, cols, &mut m, Some(&mut am), &mut sc).unwrap();
                for i in 0..rows {
                    assert_eq!(
                        m[i],
                        FP.decode(want_max[i]),
                        "seed {seed} {rows}x{cols}: Float max"
                    );
                    assert_eq!(
                        am[i], want_arg[i] as f64,
                        "seed {seed} {rows}x{cols}: Float argmax"
                    );
                }

                let mut fx = Fixed::new(FP);
                let (mut m, mut am, mut sc) =
                    (vec![0i64; rows], vec![0i64; rows], vec![0i64; need]);
                max_rows(&mut fx, &xs, rows, cols, &mut m, Some(&mut am), &mut sc).unwrap();
                assert_eq!(m, want_max, "seed {seed} {rows}x{cols}: Fixed max");
                assert_eq!(am, want_arg, "seed {seed} {rows}x{cols}: Fixed argmax");

                for mode in MODES {
                    let mut ar = arena(Shared::scratch_words_elementwise(n));
                    let mut mpc = session(seed, mode, &mut ar);
                    let x = share_ring(&mut mpc, &xs);
                    let (mut m, mut am) = (vec![[0i64; 2]; rows], vec![[0i64; 2]; rows]);
                    let mut sc = vec![[0i64; 2]; need];
                    max_rows(&mut mpc, &x, rows, cols, &mut m, Some(&mut am), &mut sc).unwrap();
                    assert_eq!(
                        open(&mpc, &m),
                        want_max,
                        "seed {seed} {mode:?} {rows}x{cols}: max"
                    );
                    assert_eq!(
                        open(&mpc, &am),
                        want_arg,
                        "seed {seed} {mode:?} {rows}x{cols}: arg"
                    );
                }
            }
        }
    }
}
