//! # mpcdiff-kernel
//!
//! A deterministic simulation kernel for the numerical errors of secure multi-party
//! computation (MPC) on neural networks. It is for people who need to know *where* an MPC
//! model's outputs come from: exact fixed-point share arithmetic in Z_2^64, a seeded
//! trusted dealer, the protocols CrypTen runs, the approximations of sigmoid, exp,
//! reciprocal… with tunable levels, the models built from them, and MPCDiff's search for the
//! inputs on which a model's MPC deployment and its plaintext disagree.
//!
//! `#![no_std]`, no allocator, no `unsafe`: every buffer is a caller-provided slice, so the same
//! code runs on x86-64, wasm32 and a Cortex-M.
//!
//! ## Three arithmetics
//! Algorithms are written once against [`Arith`] and run in [`Float`] (ideal math),
//! [`Fixed`] (CrypTen's one-party fixed point: encoding and truncation error, no randomness)
//! and [`Shared`] (two parties and a dealer: share randomness too). Comparing the three
//! attributes a deviation to its source.
//!
//! ## Seeds
//! One `u64` seed is expanded into named, independent `Xoshiro256PlusPlus` streams
//! ([`seed`]); the derivation is a value-breaking contract.
//!
//! ## Costs
//! Every shared protocol records rounds, bytes and preprocessing in a [`Cost`] ledger, with
//! the counting rules of CrypTen's communicator; each protocol's doc states its cost.
//!
//! ## Messages
//! Every value that crosses between the parties goes through [`wire::Net::exchange`], where a
//! [`Wire`] can observe or tamper with it.
//!
//! ## Layout
//! * MPC foundations: the ring ([`ring`]), fixed-point encoding ([`fixed`]), additive shares
//!   ([`share`]), seeded streams ([`seed`]), the trusted dealer ([`dealer`]), the channel
//!   ([`wire`]) and its ledger ([`cost`]).
//! * [`protocols`]: Beaver products, comparison, truncation, the helper-assisted DReLUs
//!   ([`protocols::drelu`]), and the protocols composed from them (oblivious selection, the
//!   secure maximum).
//! * [`arith`]: the three arithmetics; [`linalg`]: shapes and plaintext linear algebra.
//! * [`approx`]: the nonlinear approximations and their levels; [`nn`]: models, their layers
//!   and deployments; [`difftest`]: MPCDiff's differential-testing engine.
//! * [`leak`]: protocol leakage — any party's view recorded at the seam (a third, helper party
//!   included), the SCSDF sign-leak attack and its image metrics, and an MPCGuard-style view
//!   audit of every protocol.
//! * [`digits`]: MNIST's framing of a drawing, and the seeded synthetic digits.
//! * [`selfcheck`]: the cross-target determinism probe; [`digest`]: the digest it folds into;
//!   [`error`]: the one error type.
//!
//! ```
//! use mpcdiff_kernel::{Arith, FixedPoint, Shared};
//!
//! let fp = FixedPoint::new(16)?;
//! let mut arena = [0i64; 64];
//! let mut mpc = Shared::new(fp, 42, &mut arena);
//! let (mut x, mut y) = ([[0i64; 2]; 1], [[0i64; 2]; 1]);
//! mpc.input(&[1.5], &mut x)?;
//! mpc.input(&[-2.25], &mut y)?;
//! mpc.mul(&mut x, &y)?;
//! let mut out = [0.0];
//! mpc.reveal(&x, &mut out)?;
//! assert!((out[0] - -3.375).abs() <= 2.0 / 65536.0);
//! assert_eq!(mpc.cost().rounds, 2); // Beaver open + reveal
//! # Ok::<(), mpcdiff_kernel::Error>(())
//! ```

// `std` only for the unit tests (their `Vec`s, `format!`, `Rc`s and the test harness); the
// library itself is `no_std` and allocation-free.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod approx;
pub mod arith;
pub mod cost;
pub mod datasets;
pub mod dealer;
pub mod difftest;
pub mod digest;
pub mod digits;
pub mod encoding;
pub mod error;
pub mod fixed;
pub mod leak;
pub mod linalg;
pub mod nn;
pub mod protocols;
pub mod ring;
pub mod seed;
pub mod selfcheck;
pub mod share;
pub mod training;
pub mod wire;

#[cfg(test)]
mod testing;

pub use arith::{Arith, ArithKind, Authenticated, Engine, Fixed, Float, RingArith, Shared};
pub use cost::Cost;
pub use digest::Digest;
pub use error::{Error, Result};
pub use fixed::FixedPoint;
pub use linalg::{Conv2dShape, MatShape, Pool2dShape};
pub use protocols::truncation::TruncMode;
pub use share::Share;
pub use wire::Wire;

/// The kernel's version, recorded in every result file.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
