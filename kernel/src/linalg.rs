//! Shapes and the plaintext linear-algebra kernels every arithmetic uses.
//!
//! Matmul and convolution are written once over [`Scalar`], so the float twin, the plaintext
//! fixed point, the dealer's `c = a·b` and each party's local Beaver terms all sum in the same
//! order. Layouts are row-major: matrices `m×k`, images NCHW, kernels `[out, in, kh, kw]`.

use crate::error::{Error, Result};
use crate::ring::Scalar;

pub mod exact;

fn mul3(a: usize, b: usize, c: usize) -> Result<usize> {
    a.checked_mul(b)
        .and_then(|x| x.checked_mul(c))
        .ok_or(Error::InvalidShape {
            what: "size overflows usize",
        })
}

/// The shape of a product `(m×k)·(k×n)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatShape {
    /// Rows of the left operand and of the result.
    pub m: usize,
    /// Inner dimension.
    pub k: usize,
    /// Columns of the right operand and of the result.
    pub n: usize,
}

impl MatShape {
    /// Checks the three operand lengths against the shape.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] if a size overflows; [`Error::ShapeMismatch`] for the first
    /// length that is not the shape's.
    pub fn check(&self, a: usize, b: usize, out: usize) -> Result<()> {
        crate::error::check_len(mul3(self.m, self.k, 1)?, a)?;
        crate::error::check_len(mul3(self.k, self.n, 1)?, b)?;
        crate::error::check_len(mul3(self.m, self.n, 1)?, out)
    }
}

/// `out += a·b`.
///
/// The work is bounded by the operands: an empty result (`m = 0` or `n = 0`, whatever the
/// other sizes) returns at once.
///
/// # Errors
/// [`MatShape::check`]'s: the three lengths must be the shape's (nothing is written then).
pub fn matmul_acc<T: Scalar>(a: &[T], b: &[T], out: &mut [T], s: MatShape) -> Result<()> {
    s.check(a.len(), b.len(), out.len())?;
    if out.is_empty() {
        return Ok(());
    }
    for i in 0..s.m {
        let row = &a[i * s.k..(i + 1) * s.k];
        let o = &mut out[i * s.n..(i + 1) * s.n];
        for (p, &av) in row.iter().enumerate() {
            let brow = &b[p * s.n..(p + 1) * s.n];
            for (ov, &bv) in o.iter_mut().zip(brow) {
                *ov = T::mac(*ov, av, bv);
            }
        }
    }
    Ok(())
}

/// `out += a ⊙ b` (elementwise).
pub fn mul_acc<T: Scalar>(a: &[T], b: &[T], out: &mut [T]) {
    for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
        *o = T::mac(*o, x, y);
    }
}

/// The geometry of a 2-D convolution (cross-correlation, as PyTorch's `conv2d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dShape {
    /// Images in the batch.
    pub batch: usize,
    /// Input channels.
    pub in_ch: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Output channels.
    pub out_ch: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Stride (both directions).
    pub stride: usize,
    /// Zero padding (both directions).
    pub pad: usize,
}

impl Conv2dShape {
    /// Output height and width.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] if the stride or a kernel side is 0, the kernel is larger than
    /// the padded input, or the padded input's side overflows (or exceeds `isize::MAX`).
    pub fn out_hw(&self) -> Result<(usize, usize)> {
        if self.stride == 0 {
            return Err(Error::InvalidShape {
                what: "conv2d stride is 0",
            });
        }
        if self.kh == 0 || self.kw == 0 {
            return Err(Error::InvalidShape {
                what: "conv2d kernel size is 0",
            });
        }
        let overflow = Error::InvalidShape {
            what: "padding overflows",
        };
        let pad2 = self.pad.checked_mul(2).ok_or(overflow)?;
        let ph = self.h.checked_add(pad2).ok_or(overflow)?;
        let pw = self.w.checked_add(pad2).ok_or(overflow)?;
        // Positions are computed as `isize` (padding makes them negative): every padded
        // coordinate must fit one.
        if isize::try_from(ph).is_err() || isize::try_from(pw).is_err() {
            return Err(overflow);
        }
        if self.kh > ph || self.kw > pw {
            return Err(Error::InvalidShape {
                what: "conv2d kernel larger than the padded input",
            });
        }
        Ok((
            (ph - self.kh) / self.stride + 1,
            (pw - self.kw) / self.stride + 1,
        ))
    }

    /// Elements of the input tensor.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] if the size overflows.
    pub fn input_len(&self) -> Result<usize> {
        mul3(self.batch, self.in_ch, mul3(self.h, self.w, 1)?)
    }

    /// Elements of the kernel tensor.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] if the size overflows.
    pub fn weight_len(&self) -> Result<usize> {
        mul3(self.out_ch, self.in_ch, mul3(self.kh, self.kw, 1)?)
    }

    /// Elements of the output tensor.
    ///
    /// # Errors
    /// [`Conv2dShape::out_hw`]'s, and [`Error::InvalidShape`] if the size overflows.
    pub fn output_len(&self) -> Result<usize> {
        let (oh, ow) = self.out_hw()?;
        mul3(self.batch, self.out_ch, mul3(oh, ow, 1)?)
    }

    /// Checks the geometry ([`Error::InvalidShape`] first), then the three operand lengths.
    pub fn check(&self, x: usize, w: usize, out: usize) -> Result<()> {
        self.out_hw()?;
        crate::error::check_len(self.input_len()?, x)?;
        crate::error::check_len(self.weight_len()?, w)?;
        crate::error::check_len(self.output_len()?, out)
    }
}

/// `out += conv2d(x, w)`.
///
/// The work is bounded by the operands: an empty output (no batch, no output channel) or an
/// empty input (no channel, or images without pixels, which add nothing) returns at once.
///
/// # Errors
/// [`Conv2dShape::check`]'s (nothing is written then).
pub fn conv2d_acc<T: Scalar>(x: &[T], w: &[T], out: &mut [T], s: &Conv2dShape) -> Result<()> {
    s.check(x.len(), w.len(), out.len())?;
    let (oh, ow) = s.out_hw()?;
    // Past this point every index is below the length of its (non-empty) buffer, so none of
    // the products below overflows. (An empty input has an empty `h·w` or no channel, while
    // `batch·in_ch·h` alone may not fit `usize`.)
    if out.is_empty() || x.is_empty() || w.is_empty() {
        return Ok(());
    }
    // Each output sums its terms in (input channel, kernel row, kernel column) order, whatever
    // the loop nesting below, so `f64` results are the same bits as the textbook loop's. The
    // kernel positions that fall on padding are cut from the ranges up front instead of being
    // tested per term.
    let (cols, st) = (valid(ow, s.w, s.pad, s.stride), s.stride);
    for b in 0..s.batch {
        for oc in 0..s.out_ch {
            let obase = (b * s.out_ch + oc) * oh * ow;
            for ic in 0..s.in_ch {
                let xbase = (b * s.in_ch + ic) * s.h * s.w;
                let wbase = (oc * s.in_ch + ic) * s.kh * s.kw;
                for ky in 0..s.kh {
                    let wrow = &w[wbase + ky * s.kw..][..s.kw];
                    let (lo, hi) = valid(oh, s.h, s.pad, st)(ky);
                    for oy in lo..hi {
                        // In range: `oy ≥ lo` puts the row at or below the top edge.
                        let xrow = &x[xbase + (oy * st + ky - s.pad) * s.w..][..s.w];
                        let orow = &mut out[obase + oy * ow..][..ow];
                        for (kx, &wv) in wrow.iter().enumerate() {
                            let (lo, hi) = cols(kx);
                            if lo >= hi {
                                continue;
                            }
                            let first = lo * st + kx - s.pad;
                            let o = &mut orow[lo..hi];
                            if st == 1 {
                                for (o, &xv) in o.iter_mut().zip(&xrow[first..]) {
                                    *o = T::mac(*o, xv, wv);
                                }
                            } else {
                                for (o, &xv) in o.iter_mut().zip(xrow[first..].iter().step_by(st)) {
                                    *o = T::mac(*o, xv, wv);
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// For kernel offset `k`: the output positions `lo..hi` (of `outs`) whose input position
/// `o·stride + k − pad` lies inside `0..len`. The caller's shape was checked, so the padded
/// side fits `isize` and nothing here overflows.
fn valid(outs: usize, len: usize, pad: usize, stride: usize) -> impl Fn(usize) -> (usize, usize) {
    move |k| {
        let (lo, hi) = if stride == 1 {
            // The common case, without a division.
            (
                pad.saturating_sub(k),
                (len + pad).saturating_sub(k).min(outs),
            )
        } else {
            let lo = if pad > k {
                (pad - k).div_ceil(stride)
            } else {
                0
            };
            let hi = if len + pad > k {
                ((len + pad - k - 1) / stride + 1).min(outs)
            } else {
                0
            };
            (lo, hi)
        };
        (lo.min(hi), hi)
    }
}

/// The geometry of a 2-D pooling window over NCHW data (channels = batch × channels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2dShape {
    /// Images × channels (pooling is per channel).
    pub planes: usize,
    /// Input height.
    pub h: usize,
    /// Input width.
    pub w: usize,
    /// Window size (square).
    pub k: usize,
    /// Stride.
    pub stride: usize,
}

impl Pool2dShape {
    /// Output height and width (no padding, floor mode as PyTorch's default).
    ///
    /// # Errors
    /// [`Error::InvalidShape`] if the window or the stride is 0, the window is larger than the
    /// input, or its size overflows.
    pub fn out_hw(&self) -> Result<(usize, usize)> {
        if self.stride == 0 || self.k == 0 {
            return Err(Error::InvalidShape {
                what: "pool window or stride is 0",
            });
        }
        if self.k > self.h || self.k > self.w {
            return Err(Error::InvalidShape {
                what: "pool window larger than the input",
            });
        }
        if self.k.checked_mul(self.k).is_none() {
            return Err(Error::InvalidShape {
                what: "pool window size overflows",
            });
        }
        Ok((
            (self.h - self.k) / self.stride + 1,
            (self.w - self.k) / self.stride + 1,
        ))
    }

    /// Elements of the input.
    ///
    /// # Errors
    /// [`Error::InvalidShape`] if the size overflows.
    pub fn input_len(&self) -> Result<usize> {
        mul3(self.planes, self.h, self.w)
    }

    /// Elements of the output.
    ///
    /// # Errors
    /// [`Pool2dShape::out_hw`]'s, and [`Error::InvalidShape`] if the size overflows.
    pub fn output_len(&self) -> Result<usize> {
        let (oh, ow) = self.out_hw()?;
        mul3(self.planes, oh, ow)
    }

    /// Elements per window (saturating; [`Pool2dShape::out_hw`] rejects windows whose size
    /// overflows, so every shape that passes its checks has the exact value).
    pub fn window(&self) -> usize {
        self.k.saturating_mul(self.k)
    }

    /// Calls `f(output_index, window_slot, input_index)` for every window cell, in output order
    /// (`output_len() · window()` calls). Calls nothing for a shape that fails its checks
    /// ([`Pool2dShape::out_hw`], or an input or output size that overflows), so every index
    /// passed is below [`Pool2dShape::output_len`] or [`Pool2dShape::input_len`].
    pub fn for_each_cell(&self, mut f: impl FnMut(usize, usize, usize)) {
        let Ok((oh, ow)) = self.out_hw() else { return };
        if self.input_len().is_err() || self.output_len().is_err() {
            return;
        }
        for p in 0..self.planes {
            for oy in 0..oh {
                for ox in 0..ow {
                    let o = (p * oh + oy) * ow + ox;
                    for ky in 0..self.k {
                        for kx in 0..self.k {
                            let i = (p * self.h + oy * self.stride + ky) * self.w
                                + ox * self.stride
                                + kx;
                            f(o, ky * self.k + kx, i);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Regressions: work bounded by the buffers, whatever the shape says (K7 of the reliability
    //! probe: `m = 2^63` rows of nothing took centuries), and shapes checked by the kernels
    //! themselves.

    use super::{conv2d_acc, matmul_acc, Conv2dShape, MatShape, Pool2dShape};
    use crate::{Arith, Error, Fixed, FixedPoint, Float, Shared};

    const FP: FixedPoint = FixedPoint::CRYPTEN_DEFAULT;

    // The stress harness's find with overflow checks on: a padded convolution over empty
    // planes (`w = 0`) of huge height has outputs, and must not compute its inputs' offsets.
    #[test]
    fn a_padded_convolution_over_empty_planes_adds_nothing() {
        // 5·h overflows: the offset of the sixth input plane.
        for h in [2, usize::MAX / 4] {
            let s = Conv2dShape {
                batch: 1,
                in_ch: 8,
                h,
                w: 0,
                out_ch: 1,
                kh: 1,
                kw: 1,
                stride: h,
                pad: 1,
            };
            let (oh, ow) = s.out_hw().unwrap();
            let mut out = vec![5i64; oh * ow];
            assert!(!out.is_empty(), "padding gives the empty planes outputs");
            conv2d_acc::<i64>(&[], &[1; 8], &mut out, &s).unwrap();
            assert!(out.iter().all(|&v| v == 5), "an empty input adds nothing");
        }
    }

    /// Products with no output over huge shapes: every kernel returns `Ok` with nothing to
    /// write. (Before the fix they looped over `m` rows of nothing; that this test finishes at
    /// all is the check, with no clock involved.)
    #[test]
    fn matmul_with_an_empty_result_completes() {
        for m in [usize::MAX, 1 << 63, 1 << 32] {
            let s = MatShape { m, k: 0, n: 0 };
            assert_eq!(Float::new(FP).matmul(&[], &[], &mut [], s), Ok(()));
            assert_eq!(Fixed::new(FP).matmul(&[], &[], &mut [], s), Ok(()));
            let mut arena = [0i64; 16];
            let mut sh = Shared::new(FP, 1, &mut arena);
            assert_eq!(sh.matmul(&[], &[], &mut [], s), Ok(()));
            assert_eq!(matmul_acc::<i64>(&[], &[], &mut [], s), Ok(()));
        }
        // A convolution without output channels over `usize::MAX` images of no channel.
        let conv = Conv2dShape {
            batch: usize::MAX,
            in_ch: 0,
            h: 1,
            w: 1,
            out_ch: 0,
            kh: 1,
            kw: 1,
            stride: 1,
            pad: 0,
        };
        assert_eq!(Float::new(FP).conv2d(&[], &[], &mut [], &conv), Ok(()));
        assert_eq!(conv2d_acc::<f64>(&[], &[], &mut [], &conv), Ok(()));
    }

    #[test]
    fn kernels_check_their_shapes() {
        let s = MatShape { m: 2, k: 2, n: 2 };
        let mut out = [0i64; 4];
        assert_eq!(
            matmul_acc(&[1i64], &[1], &mut out, s),
            Err(Error::ShapeMismatch {
                expected: 4,
                got: 1
            })
        );
        assert_eq!(out, [0; 4]);
        let conv = Conv2dShape {
            batch: 1,
            in_ch: 1,
            h: 2,
            w: 2,
            out_ch: 1,
            kh: 1,
            kw: 1,
            stride: 1,
            pad: 0,
        };
        assert!(conv2d_acc(&[1.0f64; 3], &[1.0], &mut [0.0; 4], &conv).is_err());
        conv2d_acc(&[1.0f64; 4], &[2.0], &mut [0.0; 4], &conv).unwrap();
    }

    /// Images without pixels (`w = 0`) but with a huge height still have outputs where the
    /// padding fits the kernel; the input's row offsets `(b·in_ch + ic)·h` overflowed (with
    /// overflow checks) before the multiplication by `w = 0` (found by the stress harness,
    /// seed 0x5eed, `linalg::Conv2dShape+conv2d_acc` exec 160480).
    #[test]
    fn conv2d_over_images_without_pixels_adds_nothing() {
        let s = Conv2dShape {
            batch: 1,
            in_ch: 8,
            h: 1 << 62,
            w: 0,
            out_ch: 1,
            kh: 1,
            kw: 1,
            stride: 1 << 62,
            pad: 1,
        };
        assert_eq!(s.out_hw(), Ok((2, 1)));
        assert_eq!(s.input_len(), Ok(0));
        let mut out = [7i64; 2];
        conv2d_acc(&[], &[1; 8], &mut out, &s).unwrap();
        assert_eq!(out, [7; 2]);
        let mut out = [[7i64; 2]; 2];
        let mut arena = [0i64; 1024];
        Shared::new(FP, 1, &mut arena)
            .conv2d(&[], &[[1, 0]; 8], &mut out, &s)
            .unwrap();
    }

    /// Padding and strides beyond `isize::MAX` used to overflow the signed position
    /// arithmetic (with overflow checks) on tiny buffers.
    #[test]
    fn conv2d_padding_beyond_isize_is_an_error() {
        let s = Conv2dShape {
            batch: 1,
            in_ch: 1,
            h: 1,
            w: 1,
            out_ch: 1,
            kh: 1,
            kw: 1,
            stride: (1 << 63) + 5,
            pad: (1 << 63) - 1,
        };
        assert_eq!(
            s.out_hw(),
            Err(Error::InvalidShape {
                what: "padding overflows"
            })
        );
        assert!(conv2d_acc(&[1i64], &[1], &mut [0; 4], &s).is_err());
    }

    #[test]
    fn for_each_cell_calls_nothing_for_overflowing_shapes() {
        let s = Pool2dShape {
            planes: usize::MAX,
            h: 2,
            w: 2,
            k: 1,
            stride: 1,
        };
        let mut calls = 0;
        s.for_each_cell(|_, _, _| calls += 1);
        assert_eq!(calls, 0);
        let s = Pool2dShape { planes: 2, ..s };
        s.for_each_cell(|o, slot, i| {
            assert!(o < 8 && slot == 0 && i < 8);
            calls += 1;
        });
        assert_eq!(calls, 8);
    }
}
