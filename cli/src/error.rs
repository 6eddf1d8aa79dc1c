//! Which failures are the user's (exit 2) and which are ours (exit 1).
//!
//! Subcommands return `anyhow::Result`. A failure the user caused (a flag out of range, a
//! value that cannot be encoded, a bad input file, an output file that cannot be written) is
//! a [`UsageError`] holding one sentence that names the flag or the file; anything else that
//! reaches `main` is an internal failure.

use std::fmt;

/// Exit code of a usage or input error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code of an internal failure.
pub const EXIT_INTERNAL: u8 = 1;

/// An error in the user's input: one sentence naming the flag, printed as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Builds a [`UsageError`] from format arguments.
macro_rules! usage {
    ($($arg:tt)*) => {
        $crate::error::UsageError(format!($($arg)*))
    };
}
pub(crate) use usage;

/// The exit code for an error that reached `main`.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<UsageError>().is_some() {
        EXIT_USAGE
    } else if e.downcast_ref::<crate::interrupt::Interrupted>().is_some() {
        crate::interrupt::EXIT_INTERRUPTED
    } else {
        EXIT_INTERNAL
    }
}
