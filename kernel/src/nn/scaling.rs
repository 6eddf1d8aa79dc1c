//! Min-max scaling of tabular inputs, as a model file records it.
//!
//! A tabular model (`credit-mlp`, `bank-mlp`) records its preprocessing in the `preprocessing`
//! metadata as `{"kind":"minmax","max":[…],"min":[…]}` (one entry per feature, the training
//! split's statistics in raw units). Feature `j`'s model input is
//! `(raw − min[j]) / (max[j] − min[j])` computed in `f64` and rounded once to `f32`, or
//! `raw − min[j]` when `max[j] ≤ min[j]`: the CLI's `MinMax::apply`, bit for bit, so a sample
//! scaled here and one `mpcdiff predict --input` reads give the model the same input.
//!
//! The metadata is read as stored (JSON-escaped or not); only the two arrays are parsed, with
//! `core`'s `f64` parser, no allocation.

use crate::error::{Error, Result};

/// The array of `key` in `meta`, as its text between `[` and `]`.
fn array<'m>(meta: &'m str, key: &str) -> Result<&'m str> {
    let malformed = || Error::Malformed {
        what: "minmax preprocessing: a \"min\" or \"max\" array is missing",
    };
    let mut rest = meta;
    loop {
        let at = rest.find(key).ok_or_else(malformed)?;
        let after = &rest[at + key.len()..];
        // `key":[`, `key\":[`, with the quote before `key` (escaped or not).
        let before_ok = rest[..at].ends_with('"');
        let tail = after.trim_start_matches('\\').trim_start_matches('"');
        let tail = tail.trim_start();
        if before_ok {
            if let Some(t) = tail.strip_prefix(':') {
                if let Some(body) = t.trim_start().strip_prefix('[') {
                    let end = body.find(']').ok_or_else(malformed)?;
                    return Ok(&body[..end]);
                }
            }
        }
        rest = after;
    }
}

/// Whether `meta` is a min-max preprocessing record (`"kind":"minmax"`, escaped or not).
pub fn is_minmax(meta: &str) -> bool {
    meta.contains(r#"\"kind\":\"minmax\""#) || meta.contains(r#""kind":"minmax""#)
}

/// The `j`-th number of a comma-separated list.
fn nth(list: &str, j: usize) -> Result<f64> {
    let field = list.split(',').nth(j).ok_or(Error::OutOfRange {
        what: "feature index beyond the minmax statistics",
    })?;
    let v: f64 = field.trim().parse().map_err(|_| Error::Malformed {
        what: "minmax preprocessing: a statistic is not a number",
    })?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::Malformed {
            what: "minmax preprocessing: a statistic is not finite",
        })
    }
}

/// Features in the record (the length of its `min` array; 0 for an empty one).
///
/// # Errors
/// [`Error::Malformed`] without a `min` array.
pub fn features(meta: &str) -> Result<usize> {
    let list = array(meta, "min")?;
    Ok(if list.trim().is_empty() {
        0
    } else {
        list.split(',').count()
    })
}

/// Feature `j`'s `(min, max)` in raw units.
///
/// # Errors
/// [`Error::Malformed`] for a record without the arrays or with a non-number;
/// [`Error::OutOfRange`] for `j` past the arrays.
pub fn bounds(meta: &str, j: usize) -> Result<(f64, f64)> {
    Ok((nth(array(meta, "min")?, j)?, nth(array(meta, "max")?, j)?))
}

/// The model input of the raw sample `raw` (module doc) into `out`.
///
/// # Errors
/// [`Error::ShapeMismatch`] unless `raw`, `out` and the record have one entry per feature;
/// [`Error::NonFinite`] at the first non-finite raw value; [`bounds`]'s errors.
pub fn apply(meta: &str, raw: &[f64], out: &mut [f64]) -> Result<()> {
    let n = features(meta)?;
    if raw.len() != n || out.len() != n {
        return Err(Error::ShapeMismatch {
            expected: n,
            got: if raw.len() != n { raw.len() } else { out.len() },
        });
    }
    let (mins, maxs) = (array(meta, "min")?, array(meta, "max")?);
    for (j, (r, o)) in raw.iter().zip(out.iter_mut()).enumerate() {
        if !r.is_finite() {
            return Err(Error::NonFinite { index: j });
        }
        let (lo, hi) = (nth(mins, j)?, nth(maxs, j)?);
        let range = hi - lo;
        let range = if range > 0.0 { range } else { 1.0 };
        *o = f64::from(((r - lo) / range) as f32);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = r#"{\"kind\":\"minmax\",\"max\":[10.0,2.0,5.0],\"min\":[0.0,1.0,5.0]}"#;

    // Goal: the CLI's `MinMax::apply`, bit for bit: (raw − min) / (max − min) in f64 rounded
    // once to f32, raw − min for a constant feature; the record escaped or not; bad input
    // refused.
    #[test]
    fn scales_as_the_cli_does() {
        assert!(is_minmax(META));
        assert_eq!(features(META), Ok(3));
        assert_eq!(bounds(META, 1), Ok((1.0, 2.0)));
        let mut out = [0.0; 3];
        apply(META, &[3.0, 1.5, 7.0], &mut out).unwrap();
        assert_eq!(out, [f64::from((3.0f64 / 10.0) as f32), 0.5, 2.0]);
        let plain = META.replace('\\', "");
        assert!(is_minmax(&plain));
        let mut again = [0.0; 3];
        apply(&plain, &[3.0, 1.5, 7.0], &mut again).unwrap();
        assert_eq!(again, out);
        assert!(matches!(
            apply(META, &[1.0], &mut out),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            apply(META, &[f64::NAN, 1.0, 1.0], &mut out),
            Err(Error::NonFinite { index: 0 })
        ));
        assert!(matches!(bounds(META, 3), Err(Error::OutOfRange { .. })));
        assert!(matches!(features("{}"), Err(Error::Malformed { .. })));
        assert!(!is_minmax(r#"{"kind":"mnist"}"#));
    }
}
