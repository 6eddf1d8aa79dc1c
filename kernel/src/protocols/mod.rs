//! The two-party protocols: how the parties compute on shares what they cannot compute locally.
//!
//! They come in two layers:
//! * **On shares** ([`beaver`]: products, [`comparison`]: A2B and `ltz`, [`truncation`]): each
//!   takes the session's [`Net`](crate::wire::Net) (the message seam and the ledger), the
//!   [`Dealer`](crate::dealer::Dealer), its operands and a scratch slice of ring words. It
//!   checks the scratch size first and returns [`Error::BufferTooSmall`] with the exact need,
//!   so nothing has been computed or drawn when it fails. The `scratch_words_*` functions give
//!   those needs to callers that size an arena up front. [`Shared`](crate::arith::Shared) runs
//!   them behind its [`Arith`](crate::arith::Arith) operations (`mul`, `ltz`, `div_int`, …),
//!   or, with the ideal engine, their ideal functionalities ([`ideal`]).
//! * **Composed** ([`select`]: oblivious selection, `sign`, `relu`; [`maximum`]: the secure
//!   maximum and argmax): written once against [`Arith`](crate::arith::Arith) from those
//!   operations, so the same text runs in float, fixed point and shares, and the protocol is
//!   the order of comparisons and products it runs. Their temporaries are caller-provided
//!   element slices ([`maximum::scratch_elems_max`] sizes the maximum's); the operations they
//!   call use the session's arena.
//!
//! * **Laws** ([`laws`]): the truncation laws of the other frameworks by name (LT, SR, SR+1,
//!   FL−, CH), their public truncations and sign-test quirks, sampled from the value alone, for
//!   the TF-Encrypted, PySyft and SPU profiles.
//!
//! Every protocol's doc lists `# Cost` and `# Error`. The ledger's tests (`cost/tests.rs`) check
//! that the ledger records exactly the documented cost; the error laws are checked by the tests
//! of [`truncation`], [`select`] (every comparison), [`maximum`] and
//! [`arith`](crate::arith) (the products, against [`Fixed`](crate::arith::Fixed)).

pub mod beaver;
pub mod comparison;
pub mod drelu;
pub mod ideal;
pub mod laws;
pub mod maximum;
pub mod select;
pub mod truncation;

use crate::error::{Error, Result};

/// Takes the first `n` words of `*buf`, leaving the rest in `*buf`.
#[inline]
pub(crate) fn carve<'s, T>(buf: &mut &'s mut [T], n: usize) -> &'s mut [T] {
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
