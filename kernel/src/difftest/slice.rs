//! The decision-boundary slice (the MPCDiff paper's Figures 3 and 7): the plaintext and the
//! MPC labels on a grid in the plane through an input, spanned by two seeded random
//! orthonormal directions of the input's (raw) space. Where the two label maps differ, MPC's
//! arithmetic has moved the decision boundary.
//!
//! The grid is `steps × steps` points `center + a·d₁ + b·d₂` with `a` (columns) and `b`
//! (rows) evenly spaced over `[−radius, radius]`; the caller maps each point to the model's
//! input (its normalisation) and [`label`] labels them all. The plane is not clipped to the
//! input's range: clipping would fold it. All MPC inferences run in one session seeded with
//! the MPC seed, in chunks of the evaluator's batch in row-major order (the parameters shared
//! once), so a grid point's MPC label may differ from the same input evaluated alone (other
//! share randomness).
//!
//! Used by `mpcdiff slice` and the page's "Decision boundary" panel.

use super::evaluator::Evaluator;
use super::fitness::argmax;
use crate::cost::Cost;
use crate::error::{check_len, Error, Result};
use crate::nn::forward::Plan;
use crate::seed::{normal, substream, StreamId};

/// The largest grid side (41² = 1681 MPC inferences).
pub const STEPS_MAX: usize = 41;

/// The largest radius.
pub const RADIUS_MAX: f64 = 1000.0;

/// The directions are sub-streams `DIRECTION_INDEX + k` of the `Synthetic` stream of the
/// direction seed: far above the indices of synthetic digits, which take the same stream.
pub const DIRECTION_INDEX: u64 = 1 << 63;

fn unit(v: &mut [f64]) {
    let norm = libm::sqrt(v.iter().map(|x| x * x).sum());
    for x in v.iter_mut() {
        *x /= norm;
    }
}

/// Two orthonormal directions of `d1.len()`-dimensional space from `seed`: standard normal
/// vectors from sub-streams [`DIRECTION_INDEX`] and `DIRECTION_INDEX + 1` of the `Synthetic`
/// stream, the second made orthogonal to the first (Gram–Schmidt), both scaled to unit length.
///
/// # Errors
/// [`Error::ShapeMismatch`] if the two differ in length; [`Error::OutOfRange`] below 2
/// dimensions.
pub fn directions(seed: u64, d1: &mut [f64], d2: &mut [f64]) -> Result<()> {
    check_len(d1.len(), d2.len())?;
    if d1.len() < 2 {
        return Err(Error::OutOfRange {
            what: "a slice needs an input of at least two values",
        });
    }
    for (k, d) in [&mut *d1, &mut *d2].into_iter().enumerate() {
        let mut rng = substream(seed, StreamId::Synthetic, DIRECTION_INDEX + k as u64);
        for x in d.iter_mut() {
            *x = normal(&mut rng);
        }
    }
    unit(d1);
    let dot: f64 = d1.iter().zip(d2.iter()).map(|(a, b)| a * b).sum();
    for (x, &e) in d2.iter_mut().zip(d1.iter()) {
        *x -= dot * e;
    }
    unit(d2);
    Ok(())
}

/// The grid's coordinates along each direction: `out.len()` values evenly spaced over
/// `[−radius, radius]`.
///
/// # Errors
/// [`Error::OutOfRange`] for a radius outside (0, [`RADIUS_MAX`]] or a side outside
/// `2..=`[`STEPS_MAX`].
pub fn offsets(radius: f64, out: &mut [f64]) -> Result<()> {
    if !(radius.is_finite() && radius > 0.0 && radius <= RADIUS_MAX) {
        return Err(Error::OutOfRange {
            what: "the slice radius must lie in (0, 1000]",
        });
    }
    let steps = out.len();
    if !(2..=STEPS_MAX).contains(&steps) {
        return Err(Error::OutOfRange {
            what: "the slice grid side must lie in 2..=41",
        });
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = -radius + 2.0 * radius * i as f64 / (steps - 1) as f64;
    }
    Ok(())
}

/// Grid point `(row, col)`: `center + offsets[col]·d1 + offsets[row]·d2` into `out`.
///
/// The four slices should have one length; if they do not, only the elements all of them
/// have are written (never a panic).
pub fn point(center: &[f64], d1: &[f64], d2: &[f64], a: f64, b: f64, out: &mut [f64]) {
    let dirs = d1.iter().zip(d2.iter());
    for ((o, &c), (&u, &v)) in out.iter_mut().zip(center.iter()).zip(dirs) {
        *o = c + a * u + b * v;
    }
}

/// Every point of the `offsets.len()`² grid ([`point`]), row-major (row `r` at `offsets[r]`
/// along `d2`, column `c` at `offsets[c]` along `d1`), back to back into `out`.
///
/// # Errors
/// [`Error::ShapeMismatch`] unless `out` holds `offsets.len()² × center.len()` values.
pub fn grid(
    center: &[f64],
    d1: &[f64],
    d2: &[f64],
    offsets: &[f64],
    out: &mut [f64],
) -> Result<()> {
    let (steps, n) = (offsets.len(), center.len());
    let need = steps.saturating_mul(steps).saturating_mul(n);
    if out.len() != need || n == 0 {
        return Err(Error::ShapeMismatch {
            expected: need,
            got: out.len(),
        });
    }
    for (k, p) in out.chunks_mut(n).enumerate() {
        point(center, d1, d2, offsets[k % steps], offsets[k / steps], p);
    }
    Ok(())
}

/// The plaintext and the MPC labels of `samples` model inputs `x` (back to back): the
/// plaintext model in chunks of the evaluator's batch, the MPC model in ONE session seeded
/// `seed` (module doc), `logits` holding `samples × classes` values. Returns the MPC
/// forward passes' cost.
///
/// # Errors
/// The evaluation's; [`Error::ShapeMismatch`] for buffers of other lengths;
/// [`Error::OutOfRange`] for a model without classes.
#[allow(clippy::too_many_arguments)]
pub fn label(
    ev: &mut Evaluator<'_, '_>,
    plan: &dyn Plan,
    x: &[f64],
    samples: usize,
    seed: u64,
    plaintext: &mut [u8],
    mpc: &mut [u8],
    logits: &mut [f64],
) -> Result<Cost> {
    let (n, classes) = (ev.target().model.input.len(), ev.classes());
    check_len(samples.saturating_mul(n), x.len())?;
    check_len(samples, plaintext.len())?;
    check_len(samples, mpc.len())?;
    check_len(samples.saturating_mul(classes), logits.len())?;
    if classes == 0 {
        return Err(Error::OutOfRange {
            what: "a slice needs a model with at least one class",
        });
    }
    let batch = ev.batch();
    let labels = |logits: &[f64], out: &mut [u8]| {
        for (o, l) in out.iter_mut().zip(logits.chunks(classes)) {
            *o = argmax(l) as u8;
        }
    };
    let mut done = 0;
    while done < samples {
        let k = (samples - done).min(batch);
        let out = &mut logits[done * classes..(done + k) * classes];
        ev.plaintext(&x[done * n..(done + k) * n], k, None, out)?;
        labels(out, &mut plaintext[done..done + k]);
        done += k;
    }
    let cost = ev.mpc_chunked(x, samples, seed, plan, logits)?;
    labels(logits, mpc);
    Ok(cost)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    // Goal: the directions span a plane (unit length, orthogonal) and follow their seed.
    #[test]
    fn directions_are_orthonormal_and_seeded() {
        let (mut a, mut b) = (vec![0.0; 784], vec![0.0; 784]);
        directions(5, &mut a, &mut b).unwrap();
        let dot = |u: &[f64], v: &[f64]| -> f64 { u.iter().zip(v).map(|(x, y)| x * y).sum() };
        assert!((dot(&a, &a) - 1.0).abs() < 1e-12);
        assert!((dot(&b, &b) - 1.0).abs() < 1e-12);
        assert!(dot(&a, &b).abs() < 1e-12);
        let (mut c, mut d) = (vec![0.0; 784], vec![0.0; 784]);
        directions(6, &mut c, &mut d).unwrap();
        assert_ne!(c, a);
        assert!(directions(5, &mut a[..3], &mut b).is_err());
    }

    /// `point` is public: slices of unequal length used to index past the shorter ones.
    #[test]
    fn point_takes_unequal_slices() {
        let mut out = [9.0; 3];
        point(&[1.0, 1.0], &[1.0; 3], &[2.0; 3], 1.0, 1.0, &mut out);
        assert_eq!(out, [4.0, 4.0, 9.0]);
        point(&[1.0; 3], &[1.0; 3], &[], 1.0, 1.0, &mut out);
        assert_eq!(out, [4.0, 4.0, 9.0]);
        point(&[1.0; 3], &[1.0; 3], &[1.0; 3], 0.5, 0.25, &mut out);
        assert_eq!(out, [1.75; 3]);
    }

    #[test]
    fn offsets_span_the_radius_and_refuse_bad_grids() {
        let mut o = [0.0; 5];
        offsets(4.0, &mut o).unwrap();
        assert_eq!(o, [-4.0, -2.0, 0.0, 2.0, 4.0]);
        assert!(offsets(0.0, &mut o).is_err());
        assert!(offsets(f64::NAN, &mut o).is_err());
        assert!(offsets(1.0, &mut [0.0; 1]).is_err());
        assert!(offsets(1.0, &mut [0.0; 42]).is_err());
    }
}
