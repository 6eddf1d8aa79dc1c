//! The kernel's one error type.
//!
//! Everything a user can cause (a bad `frac_bits`, a NaN in an input, a buffer or shape that does
//! not fit) comes back as an [`Error`]; the kernel never panics on such input. Variants carry the
//! numbers the user needs to fix the call, in the user's terms.

use core::fmt;

/// Errors returned by the kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// `frac_bits` outside `0..=max`.
    FracBitsOutOfRange {
        /// The value asked for.
        frac_bits: u32,
        /// The largest supported value.
        max: u32,
    },
    /// A NaN or infinite value at `index` of an input.
    NonFinite {
        /// Position in the input slice.
        index: usize,
    },
    /// `value * 2^frac_bits` does not fit the signed 64-bit ring.
    EncodeOverflow {
        /// Position in the input slice (0 for a scalar constant).
        index: usize,
    },
    /// A caller-provided buffer is too small.
    BufferTooSmall {
        /// Elements (or words) the operation needs.
        needed: usize,
        /// Elements (or words) it was given.
        got: usize,
    },
    /// Two operands (or an operand and its declared shape) disagree in length.
    ShapeMismatch {
        /// The length the shape implies.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// A shape that cannot be computed (zero stride, kernel larger than the padded input,
    /// a size whose product overflows).
    InvalidShape {
        /// Which parameter is wrong.
        what: &'static str,
    },
    /// Division by zero (a public divisor of 0).
    DivisionByZero,
    /// A numeric parameter outside its documented range.
    OutOfRange {
        /// Which parameter.
        what: &'static str,
    },
    /// A byte buffer that is not a valid encoding of what was asked for.
    Malformed {
        /// What is wrong, in a few words.
        what: &'static str,
    },
    /// Something the chosen deployment's framework cannot run (its importer refuses it).
    Unsupported {
        /// What, and what to use instead.
        what: &'static str,
    },
    /// An authenticated session's MAC check failed: a party changed an opened value
    /// ([`crate::arith::Authenticated`]). The honest party aborts.
    MacCheckFailed {
        /// The protocol whose opening failed the check.
        protocol: &'static str,
        /// The round of the failed check.
        round: u64,
    },
    /// CrypTen's `active_security` check found a dealt triple that is not a product
    /// ([`crate::protocols::beaver::bilinear_checked`]).
    TripleCheckFailed {
        /// The round of the failed check.
        round: u64,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::FracBitsOutOfRange { frac_bits, max } => {
                write!(f, "frac_bits {frac_bits} is out of range (0..={max})")
            }
            Error::NonFinite { index } => write!(f, "input value at index {index} is NaN or infinite"),
            Error::EncodeOverflow { index } => write!(
                f,
                "input value at index {index} is too large for the 64-bit fixed-point ring at this frac_bits"
            ),
            Error::BufferTooSmall { needed, got } => {
                write!(f, "buffer too small: needs {needed}, got {got}")
            }
            Error::ShapeMismatch { expected, got } => {
                write!(f, "shape mismatch: expected {expected} elements, got {got}")
            }
            Error::InvalidShape { what } => write!(f, "invalid shape: {what}"),
            Error::DivisionByZero => write!(f, "division by a public zero"),
            Error::OutOfRange { what } => write!(f, "parameter out of range: {what}"),
            Error::Malformed { what } => write!(f, "malformed input: {what}"),
            Error::Unsupported { what } => write!(f, "not supported: {what}"),
            Error::TripleCheckFailed { round } => {
                write!(f, "Beaver triples verification failed (round {round})")
            }
            Error::MacCheckFailed { protocol, round } => write!(
                f,
                "MAC check failed on the {protocol:?} opening (round {round}): a party tampered with its messages; abort"
            ),
        }
    }
}

impl core::error::Error for Error {}

/// Shorthand for kernel results.
pub type Result<T> = core::result::Result<T, Error>;

/// Checks that `got == expected`, as a [`Error::ShapeMismatch`].
#[inline]
pub(crate) fn check_len(expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::ShapeMismatch { expected, got })
    }
}

#[cfg(test)]
mod tests;
