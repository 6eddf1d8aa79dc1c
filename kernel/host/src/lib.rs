//! # mpcdiff-host
//!
//! The kernel on a host with an allocator: what both the command line (`cli/`) and the
//! browser's adapter (`wasm/`) need around the kernel's `no_std` drivers, written once.
//!
//! * [`memory::Memory`]: the owned memory of the kernel's evaluator (the CLI's workers, the
//!   session).
//! * [`plan`]: level plans as owned data ([`plan::OwnedPlan`]): one level on every activation
//!   layer, one layer's level, the repair candidates as named plans (the CLI's `predict` and
//!   `repair`, the session).
//! * [`session::Session`], [`search::Search`], [`repair::Investigation`]: the interactive
//!   session the page runs (an embedded model from [`models`], its settings and level plan;
//!   a deviation search a few mutants per call; the localization and repair of what it
//!   found), with their results as owned, serializable views ([`ser`]: typed arrays inside
//!   wasm). The CLI's browser tests run it natively against `mpcdiff fuzz`.
//! * [`training`]: logistic regression or an MLP trained under MPC beside its float twin,
//!   epoch by epoch (the CLI's `train-mpc`).
//!
//! * [`attacks`]: the covert-attack experiments on two-digit image sets (reconstruction,
//!   backdoor, targeted misclassification, membership inference) with owned memory (the
//!   CLI's `attack`).
//!
//! Every number is the kernel's. [`Failure`] is why a call failed: the kernel's error or an
//! argument out of range, in words the caller shows.

pub mod attacks;
pub mod memory;
pub mod models;
pub mod plan;
pub mod repair;
pub mod search;
pub mod ser;
pub mod session;
pub mod training;

/// Why a call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The kernel refused the call.
    Kernel(mpcdiff_kernel::Error),
    /// An argument has the wrong type or range.
    Argument {
        /// The parameter's name.
        name: &'static str,
        /// What it must be.
        expected: &'static str,
    },
}

impl From<mpcdiff_kernel::Error> for Failure {
    fn from(e: mpcdiff_kernel::Error) -> Self {
        Failure::Kernel(e)
    }
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Failure::Kernel(e) => e.fmt(f),
            Failure::Argument { name, expected } => write!(f, "`{name}` must be {expected}"),
        }
    }
}

/// The value called `value` of the argument `name`, by the kernel's `lookup` (`by_name`);
/// else a [`Failure::Argument`] saying what it must be.
pub fn by_name<T>(
    lookup: impl FnOnce(&str) -> Option<T>,
    name: &'static str,
    expected: &'static str,
    value: &str,
) -> Result<T, Failure> {
    lookup(value).ok_or(Failure::Argument { name, expected })
}
