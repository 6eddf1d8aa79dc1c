//! The two-party protocols, over share slices and a caller-provided word arena.
//!
//! Each protocol takes the session's [`Net`](crate::wire::Net) (the message seam and the ledger),
//! the [`Dealer`](crate::dealer::Dealer), its operands and a scratch slice of ring words. It
//! checks the scratch size first and returns [`Error::BufferTooSmall`] with the exact need,
//! so nothing has been computed or drawn when it fails. The `scratch_words_*` functions give
//! those needs to callers that size an arena up front.
//!
//! Every protocol's doc lists `# Cost` and `# Error`; `tests/tests/ledger.rs` checks that the
//! ledger records exactly the documented cost.

pub mod beaver;
pub mod comparison;
pub mod truncation;

use crate::error::{Error, Result};

/// Takes the first `n` words of `*buf`, leaving the rest in `*buf`.
#[inline]
pub(crate) fn carve<'s>(buf: &mut &'s mut [i64], n: usize) -> &'s mut [i64] {
    let b = core::mem::take(buf);
    let (head, tail) = b.split_at_mut(n);
    *buf = tail;
    head
}

/// Fails with [`Error::BufferTooSmall`] unless `got >= needed`.
#[inline]
pub(crate) fn need(needed: usize, got: usize) -> Result<()> {
    if got >= needed {
        Ok(())
    } else {
        Err(Error::BufferTooSmall { needed, got })
    }
}
