//! Average and max pooling over NCHW planes: the pooling layers of [`forward`](super::forward),
//! written once against [`Arith`] like the layers' other building blocks.
//!
//! # Average pooling
//! Method: a sum over each window (local), then one division by the public window area, as
//! CrypTen's `avg_pool2d` (sum-pool, then integer division). Cost: the division's truncation
//! only (0 rounds with local truncation). Error: one truncation per output.
//!
//! # Max pooling
//! Method: the window cells are gathered into rows and reduced by the secure maximum,
//! [`max_rows`]. Cost: `⌈log2 k²⌉` levels of 9 rounds. Error: none. Unlike CrypTen, which pads
//! each party's share with −2^24 (so a padded cell is −512.0 for two parties), windows here never
//! read outside the input (no padding), so no value is assumed to exceed a sentinel.

use crate::arith::Arith;
use crate::error::{check_len, Error, Result};
use crate::linalg::Pool2dShape;
use crate::protocols::maximum::{max_rows, scratch_elems_max};

/// `out = avgpool(x)`.
pub fn avg_pool2d<A: Arith>(
    a: &mut A,
    x: &[A::Elem],
    out: &mut [A::Elem],
    s: &Pool2dShape,
) -> Result<()> {
    // Geometry first ([`Error::InvalidShape`]), then lengths.
    let rows = s.output_len()?;
    check_len(s.input_len()?, x.len())?;
    check_len(rows, out.len())?;
    out.fill(A::Elem::default());
    let mut acc = |o: usize, _slot: usize, i: usize| {
        out[o] = a.elem_add(out[o], x[i]);
    };
    s.for_each_cell(&mut acc);
    a.div_int(out, s.window() as u64)
}

/// Elements of scratch [`max_pool2d`] needs.
pub fn scratch_elems_max_pool2d(s: &Pool2dShape) -> Result<usize> {
    let rows = s.output_len()?;
    let n = rows.checked_mul(s.window()).ok_or(Error::InvalidShape {
        what: "pool size overflows",
    })?;
    Ok(n + scratch_elems_max(rows, s.window()))
}

/// `out = maxpool(x)`.
pub fn max_pool2d<A: Arith>(
    a: &mut A,
    x: &[A::Elem],
    out: &mut [A::Elem],
    s: &Pool2dShape,
    scratch: &mut [A::Elem],
) -> Result<()> {
    let rows = s.output_len()?;
    check_len(s.input_len()?, x.len())?;
    check_len(rows, out.len())?;
    let needed = scratch_elems_max_pool2d(s)?;
    if scratch.len() < needed {
        return Err(Error::BufferTooSmall {
            needed,
            got: scratch.len(),
        });
    }
    let k2 = s.window();
    let (gathered, rest) = scratch.split_at_mut(rows * k2);
    s.for_each_cell(|o, slot, i| gathered[o * k2 + slot] = x[i]);
    max_rows(a, gathered, rows, k2, out, None, rest)
}
