//! Cross-crate test support for mpcdiff: the CrypTen reference-vector loader, the other
//! frameworks' recorded references ([`frameworks`]), the MNIST files of
//! the shared material, a binomial bound, and the kernel's stress harness ([`stress`], run by
//! `tests/stress.rs` and the `stress` binary). The tests themselves live in `tests/tests/*.rs`:
//! the ones that need recorded reference files, the shared data, the committed models or the wasm
//! build. The kernel's unit and property tests sit beside its code (`#[cfg(test)]` modules).

pub mod frameworks;
pub mod mnist;
pub mod reference;
pub mod stress;
pub mod support;
