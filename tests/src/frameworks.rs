//! The recorded references of TF-Encrypted, PySyft and SecretFlow-SPU
//! (`tests/reference/frameworks/`, its README): one case file as JSON, and its number arrays.

use serde_json::Value;
use std::path::PathBuf;

/// `tests/reference/frameworks/<framework>/<case>.json`, parsed (panics naming the file if it
/// is missing or malformed: the references are part of the repository).
pub fn load(framework: &str, case: &str) -> Value {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "reference",
        "frameworks",
        framework,
    ]
    .iter()
    .collect::<PathBuf>()
    .join(format!("{case}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An array of decimal strings (ring integers), as integers of type `T` (`i64`, or `i128` for
/// SPU's FM128).
pub fn ints<T: std::str::FromStr>(v: &Value) -> Vec<T> {
    v.as_array()
        .expect("an array of decimal strings")
        .iter()
        .map(|s| {
            s.as_str()
                .expect("a decimal string")
                .parse()
                .unwrap_or_else(|_| panic!("{s} is not an integer of this width"))
        })
        .collect()
}

/// An array of numbers.
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array of numbers")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}
