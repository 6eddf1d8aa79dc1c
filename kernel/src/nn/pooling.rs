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

/// `out = avgpool(x)`: the window sum divided by the window's size (a truncation), or with
/// `by_constant` multiplied by the encoded `1/(k·k)` (TF-Encrypted's public product).
///
/// # Errors
/// [`Pool2dShape::out_hw`]'s, [`crate::Error::InvalidShape`] if a size overflows,
/// [`crate::Error::ShapeMismatch`] unless `x` and `out` have the shape's lengths; then the
/// arithmetic's (the division by the window).
pub fn avg_pool2d<A: Arith>(
    a: &mut A,
    x: &[A::Elem],
    out: &mut [A::Elem],
    s: &Pool2dShape,
    by_constant: bool,
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
    if by_constant {
        a.mul_const(out, 1.0 / s.window() as f64)
    } else {
        a.div_int(out, s.window() as u64)
    }
}

/// Elements of scratch [`max_pool2d`] needs.
///
/// # Errors
/// [`Pool2dShape::out_hw`]'s, and [`Error::InvalidShape`] if the size overflows.
pub fn scratch_elems_max_pool2d(s: &Pool2dShape) -> Result<usize> {
    let rows = s.output_len()?;
    let n = rows.checked_mul(s.window()).ok_or(Error::InvalidShape {
        what: "pool size overflows",
    })?;
    n.checked_add(scratch_elems_max(rows, s.window()))
        .ok_or(Error::InvalidShape {
            what: "pool size overflows",
        })
}

/// `out = maxpool(x)`.
///
/// # Errors
/// As [`avg_pool2d`], [`Error::BufferTooSmall`] if `scratch` is shorter than
/// [`scratch_elems_max_pool2d`], then [`max_rows`]'s.
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

#[cfg(test)]
mod tests {
    //! Average and max pooling in float, fixed point and shares against plaintext window sums and
    //! maxima: max pooling exactly, average pooling within one truncation.

    use super::{avg_pool2d, max_pool2d, scratch_elems_max_pool2d};
    use crate::testing::{
        arena, check_trunc, open, rng, session, share_ring, small_raws, trunc_div,
    };
    use crate::testing::{FP, MODES, S, SEEDS};
    use crate::{Fixed, Float, Pool2dShape, Shared, TruncMode};

    /// Plaintext pooling reference: window sums and maxima.
    fn pool_ref(xs: &[i64], s: &Pool2dShape) -> (Vec<i64>, Vec<i64>) {
        let oh = (s.h - s.k) / s.stride + 1;
        let ow = (s.w - s.k) / s.stride + 1;
        let (mut sums, mut maxs) = (Vec::new(), Vec::new());
        for p in 0..s.planes {
            for oy in 0..oh {
                for ox in 0..ow {
                    let cells: Vec<i64> = (0..s.k * s.k)
                        .map(|c| {
                            let (ky, kx) = (c / s.k, c % s.k);
                            xs[(p * s.h + oy * s.stride + ky) * s.w + ox * s.stride + kx]
                        })
                        .collect();
                    sums.push(cells.iter().sum());
                    maxs.push(*cells.iter().max().unwrap());
                }
            }
        }
        (sums, maxs)
    }

    #[test]
    fn pooling_agrees_across_float_fixed_shared() {
        let shapes = [
            Pool2dShape {
                planes: 2,
                h: 4,
                w: 4,
                k: 2,
                stride: 2,
            },
            Pool2dShape {
                planes: 1,
                h: 5,
                w: 6,
                k: 3,
                stride: 1,
            },
            Pool2dShape {
                planes: 3,
                h: 5,
                w: 5,
                k: 2,
                stride: 3,
            },
            Pool2dShape {
                planes: 1,
                h: 3,
                w: 3,
                k: 3,
                stride: 1,
            },
            Pool2dShape {
                planes: 2,
                h: 4,
                w: 3,
                k: 1,
                stride: 1,
            },
        ];
        for seed in SEEDS {
            let mut r = rng(seed);
            for s in shapes {
                let xs = small_raws(&mut r, s.input_len().unwrap());
                let nout = s.output_len().unwrap();
                let (sums, maxs) = pool_ref(&xs, &s);
                let area = (s.k * s.k) as i128;

                // Float on the decoded values.
                let xf: Vec<f64> = xs.iter().map(|&v| FP.decode(v)).collect();
                let mut fl = Float::new(FP);
                let mut avg_f = vec![0.0; nout];
                avg_pool2d(&mut fl, &xf, &mut avg_f, &s, false).unwrap();
                let mut max_f = vec![0.0; nout];
                let mut sc = vec![0.0; scratch_elems_max_pool2d(&s).unwrap()];
                max_pool2d(&mut fl, &xf, &mut max_f, &s, &mut sc).unwrap();

                // Fixed.
                let mut fx = Fixed::new(FP);
                let mut avg_x = vec![0i64; nout];
                avg_pool2d(&mut fx, &xs, &mut avg_x, &s, false).unwrap();
                let mut max_x = vec![0i64; nout];
                let mut sc = vec![0i64; scratch_elems_max_pool2d(&s).unwrap()];
                max_pool2d(&mut fx, &xs, &mut max_x, &s, &mut sc).unwrap();
                assert_eq!(max_x, maxs, "seed {seed} {s:?}: Fixed max_pool2d");
                for o in 0..nout {
                    let want = trunc_div(sums[o].into(), area);
                    assert_eq!(
                        i128::from(avg_x[o]),
                        want,
                        "seed {seed} {s:?}: Fixed avg [{o}]"
                    );
                    assert_eq!(
                        max_f[o],
                        FP.decode(maxs[o]),
                        "seed {seed} {s:?}: Float max [{o}]"
                    );
                    // Float is the exact mean; Fixed truncates it once: within one ulp.
                    let exact = sums[o] as f64 / S as f64 / area as f64;
                    assert!(
                        (avg_f[o] - exact).abs() <= exact.abs() * 1e-15,
                        "seed {seed} {s:?}: Float avg [{o}]"
                    );
                    assert!(
                        (FP.decode(avg_x[o]) - avg_f[o]).abs() < 1.0 / S as f64,
                        "seed {seed} {s:?}: Fixed avg {} vs Float {} [{o}]",
                        avg_x[o],
                        avg_f[o]
                    );
                }

                for mode in MODES {
                    // The arena max_pool2d documents: elementwise words for the first level's pairs.
                    let pairs = nout * (s.k * s.k / 2);
                    let words = Shared::scratch_words_elementwise(pairs)
                        .max(Shared::scratch_words_elementwise(nout));
                    let mut ar = arena(words);
                    let mut mpc = session(seed, mode, &mut ar);
                    let x = share_ring(&mut mpc, &xs);
                    let mut avg = vec![[0i64; 2]; nout];
                    avg_pool2d(&mut mpc, &x, &mut avg, &s, false).unwrap();
                    let mut mx = vec![[0i64; 2]; nout];
                    let mut sc = vec![[0i64; 2]; scratch_elems_max_pool2d(&s).unwrap()];
                    max_pool2d(&mut mpc, &x, &mut mx, &s, &mut sc).unwrap();
                    assert_eq!(
                        open(&mpc, &mx),
                        maxs,
                        "seed {seed} {mode:?} {s:?}: max_pool2d"
                    );
                    let got = open(&mpc, &avg);
                    // Dealer mode truncates exactly only for power-of-two window areas.
                    let law = if (s.k * s.k).is_power_of_two() {
                        mode
                    } else {
                        TruncMode::Local
                    };
                    for o in 0..nout {
                        check_trunc("avg_pool2d", seed, law, o, sums[o].into(), area, got[o]);
                    }
                }
            }
        }
    }
}
