//! Image-quality metrics of a reconstruction against its original: MSE, PSNR and SSIM, for
//! grey images with values in `[0, 1]` (data range 1).
//!
//! # SSIM
//! Wang, Bovik, Sheikh, Simoncelli, *Image quality assessment: from error visibility to
//! structural similarity*, IEEE TIP 2004, eq. 13, with `K₁ = 0.01`, `K₂ = 0.03`, `L = 1`, a
//! 7 × 7 uniform window and sample (`N − 1`) variances, averaged over every window that lies
//! inside the image — the conventions of scikit-image's `structural_similarity` with
//! `win_size = 7`, `gaussian_weights = False`, `data_range = 1` (which computes the map with
//! padding and then crops the 3-pixel border, leaving exactly those windows) **\[derived\]** from
//! its documentation, not checked against it here (no scikit-image on this machine).

use crate::error::{check_len, Error, Result};

/// Mean squared error.
///
/// # Errors
/// [`Error::ShapeMismatch`] for images of different sizes; [`Error::InvalidShape`] for empty
/// ones.
pub fn mse(a: &[f64], b: &[f64]) -> Result<f64> {
    check_len(a.len(), b.len())?;
    if a.is_empty() {
        return Err(Error::InvalidShape {
            what: "an empty image",
        });
    }
    let s: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
    Ok(s / a.len() as f64)
}

/// Peak signal-to-noise ratio in dB for data range 1: `10·log₁₀(1 / MSE)` (infinite for equal
/// images).
///
/// # Errors
/// As [`mse`].
pub fn psnr(a: &[f64], b: &[f64]) -> Result<f64> {
    let e = mse(a, b)?;
    Ok(if e == 0.0 {
        f64::INFINITY
    } else {
        -10.0 * libm::log10(e)
    })
}

/// The SSIM window side.
pub const SSIM_WIN: usize = 7;

/// Mean SSIM of two `h × w` images (see the module doc).
///
/// # Errors
/// [`Error::ShapeMismatch`] unless both have `h·w` pixels; [`Error::InvalidShape`] if a side
/// is shorter than the window.
pub fn ssim(a: &[f64], b: &[f64], h: usize, w: usize) -> Result<f64> {
    let n = h.checked_mul(w).ok_or(Error::InvalidShape {
        what: "image size overflows",
    })?;
    check_len(n, a.len())?;
    check_len(n, b.len())?;
    if h < SSIM_WIN || w < SSIM_WIN {
        return Err(Error::InvalidShape {
            what: "an image side below the SSIM window (7)",
        });
    }
    let (c1, c2) = (0.01f64 * 0.01, 0.03f64 * 0.03);
    let np = (SSIM_WIN * SSIM_WIN) as f64;
    let (mut total, mut count) = (0.0, 0usize);
    for i in 0..=h - SSIM_WIN {
        for j in 0..=w - SSIM_WIN {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for di in 0..SSIM_WIN {
                for dj in 0..SSIM_WIN {
                    let k = (i + di) * w + j + dj;
                    let (x, y) = (a[k], b[k]);
                    sa += x;
                    sb += y;
                    saa += x * x;
                    sbb += y * y;
                    sab += x * y;
                }
            }
            let (ma, mb) = (sa / np, sb / np);
            let cov = np / (np - 1.0);
            let va = (saa / np - ma * ma) * cov;
            let vb = (sbb / np - mb * mb) * cov;
            let vab = (sab / np - ma * mb) * cov;
            total += ((2.0 * ma * mb + c1) * (2.0 * vab + c2))
                / ((ma * ma + mb * mb + c1) * (va + vb + c2));
            count += 1;
        }
    }
    Ok(total / count as f64)
}

/// MSE, PSNR and SSIM of one reconstruction.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Quality {
    /// Mean squared error.
    pub mse: f64,
    /// PSNR in dB.
    pub psnr: f64,
    /// Mean SSIM.
    pub ssim: f64,
}

/// [`mse`], [`psnr`] and [`ssim`] of `got` against `original` (`h × w`).
///
/// # Errors
/// Theirs.
pub fn quality(original: &[f64], got: &[f64], h: usize, w: usize) -> Result<Quality> {
    Ok(Quality {
        mse: mse(original, got)?,
        psnr: psnr(original, got)?,
        ssim: ssim(original, got, h, w)?,
    })
}

#[cfg(test)]
mod tests {
    //! Hand-computable cases: equal images, constant images (SSIM's luminance term alone,
    //! computed here from the formula), a known MSE.

    use super::*;

    #[test]
    fn metrics_on_hand_computable_images() {
        let a = vec![0.25; 64];
        assert_eq!(mse(&a, &a).unwrap(), 0.0);
        assert_eq!(psnr(&a, &a).unwrap(), f64::INFINITY);
        assert!((ssim(&a, &a, 8, 8).unwrap() - 1.0).abs() < 1e-12);
        let b = vec![0.75; 64];
        assert!((mse(&a, &b).unwrap() - 0.25).abs() < 1e-15);
        // 10·log10(1/0.25) = 6.0206 dB.
        assert!((psnr(&a, &b).unwrap() - 6.020_599_913_279_624).abs() < 1e-12);
        // Constant windows: variances 0, so SSIM = (2·μa·μb + C1)/(μa² + μb² + C1).
        let c1 = 1e-4;
        let want = (2.0 * 0.25 * 0.75 + c1) / (0.0625 + 0.5625 + c1);
        assert!((ssim(&a, &b, 8, 8).unwrap() - want).abs() < 1e-12);
        // An image against its negative has negative SSIM.
        let x: Vec<f64> = (0..64)
            .map(|i| f64::from((i * 7 % 11) as u8) / 10.0)
            .collect();
        let y: Vec<f64> = x.iter().map(|v| 1.0 - v).collect();
        assert!(ssim(&x, &y, 8, 8).unwrap() < 0.0);
        assert!(matches!(
            ssim(&x, &y, 4, 16),
            Err(Error::InvalidShape { .. })
        ));
        assert!(matches!(mse(&x, &y[1..]), Err(Error::ShapeMismatch { .. })));
        assert!(matches!(mse(&[], &[]), Err(Error::InvalidShape { .. })));
    }
}
