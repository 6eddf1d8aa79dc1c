//! The end-to-end tests of the `mpcdiff` binary, as one test program.
//!
//! Cargo builds every file directly in `tests/` as a program of its own; this folder is one
//! (the test target `cli`: `cargo test -p mpcdiff-cli --test cli`), one module a command or
//! topic. Each module's comment says what it checks and why; what several modules need
//! (running the binary in a working directory of its own, the usage-error contract, the
//! shared data and its `SKIP:` line, the committed models) is in `support`.

mod support;

mod approx;
mod attack;
mod browser;
mod contract;
mod engine;
mod eval;
mod export;
mod import;
mod leak;
mod predict;
mod reliability;
mod train;
mod train_mpc;
