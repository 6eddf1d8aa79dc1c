//! Summaries of error vectors: deterministic (fixed summation order, `libm` only).

use std::collections::BTreeMap;

/// Mean, root mean square and largest magnitude of a non-empty error vector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Arithmetic mean (signed: the bias).
    pub mean: f64,
    /// Root mean square.
    pub rms: f64,
    /// Largest absolute value.
    pub max_abs: f64,
}

/// Summarizes `xs`, summing in index order so the result never depends on anything but `xs`.
/// An empty slice gives zeros.
pub fn summarize(xs: &[f64]) -> Summary {
    if xs.is_empty() {
        return Summary {
            mean: 0.0,
            rms: 0.0,
            max_abs: 0.0,
        };
    }
    let n = xs.len() as f64;
    let (mut sum, mut sum_sq, mut max_abs) = (0.0f64, 0.0f64, 0.0f64);
    for &x in xs {
        sum += x;
        sum_sq += x * x;
        max_abs = max_abs.max(x.abs());
    }
    Summary {
        mean: sum / n,
        rms: libm::sqrt(sum_sq / n),
        max_abs,
    }
}

/// Counts of each distinct value, in increasing order of value.
pub fn histogram(xs: &[i64]) -> Vec<(i64, u64)> {
    let mut bins = BTreeMap::new();
    for &x in xs {
        *bins.entry(x).or_insert(0u64) += 1;
    }
    bins.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_of_known_values() {
        let s = summarize(&[1.0, -1.0, 1.0, -1.0]);
        assert_eq!(s.mean, 0.0);
        assert_eq!(s.rms, 1.0);
        assert_eq!(s.max_abs, 1.0);
        assert_eq!(summarize(&[]).rms, 0.0);
    }

    #[test]
    fn histogram_is_sorted_by_value() {
        assert_eq!(
            histogram(&[1, -1, 0, 1, 1 << 48]),
            vec![(-1, 1), (0, 1), (1, 2), (1 << 48, 1)]
        );
    }
}
