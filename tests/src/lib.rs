//! Cross-crate test support for mpcdiff: the CrypTen reference-vector loader and small seeded
//! helpers. The tests themselves live in `tests/tests/*.rs`.

pub mod mnist;
pub mod reference;
pub mod support;
