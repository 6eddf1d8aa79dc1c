//! A small helper shared by the integration tests: a binomial bound.
//!
//! (The kernel's own unit tests have their seeded helpers in `kernel/src/testing.rs`.)

/// Whether `observed` successes are within `z` standard deviations of the expectation of a sum
/// of independent Bernoulli variables with the given means (`expected` = Σp, `variance` =
/// Σp(1−p)), allowing one count for discreteness.
pub fn within_sigma(observed: f64, expected: f64, variance: f64, z: f64) -> bool {
    (observed - expected).abs() <= z * variance.sqrt() + 1.0
}
