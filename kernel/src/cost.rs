//! The cost ledger: what every protocol spent.
//!
//! Counting rules follow CrypTen's communicator (research notes §5.1): one **round** per opening
//! event, however many values it batches; **bytes** are what each party sends, 8 per ring word.
//! CrypTen logs sent + received on each rank, so its per-rank figure for two parties is
//! `bytes_sent[0] + bytes_sent[1]` ([`Cost::crypten_bytes`]). Preprocessing material is
//! counted by kind, in elements (or 64-bit words for binary triples). Truncations and the wrap
//! events behind the 2PC truncation catastrophe are counted too: the simulator sees both
//! shares, so it knows when a wrap happened even though no party does.

use core::ops::{Add, Sub};

/// Costs of a computation, accumulated by the shared arithmetic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cost {
    /// Communication rounds (opening events).
    pub rounds: u64,
    /// Bytes sent by each of the two computing parties (to each other, or to the helper).
    pub bytes_sent: [u64; 2],
    /// Bytes the helper party ([`crate::wire::HELPER`]) sent, to both parties together; zero
    /// in two-party protocols.
    pub helper_bytes: u64,
    /// Elementwise Beaver triples.
    pub mul_triples: u64,
    /// Square pairs (r, r²).
    pub square_pairs: u64,
    /// Matrix- or convolution-shaped triples (one per product, whatever its size).
    pub matrix_triples: u64,
    /// Ring words in those matrix triples (|a| + |b| + |c|).
    pub matrix_triple_words: u64,
    /// Binary AND triples, in 64-bit words.
    pub and_triples: u64,
    /// Shared random bits for one-bit B2A.
    pub b2a_bits: u64,
    /// Dealer truncation tuples (r, r >> f, msb r).
    pub trunc_tuples: u64,
    /// Truncations performed (one per truncated element).
    pub truncations: u64,
    /// Share-local truncations whose shares wrapped (each an error of about 2^(64−f) units).
    pub wrap_events: u64,
}

impl Cost {
    /// The cost accumulated since `earlier` (a snapshot of the same ledger).
    pub fn since(&self, earlier: &Cost) -> Cost {
        *self - *earlier
    }

    /// Bytes as CrypTen's rank-0 communicator would log them (sent + received).
    pub fn crypten_bytes(&self) -> u64 {
        self.bytes_sent[0].wrapping_add(self.bytes_sent[1])
    }

    /// Total multiplications of any kind (elementwise triples, square pairs, matrix triples):
    /// the figure the repair search trades against accuracy.
    pub fn multiplications(&self) -> u64 {
        self.mul_triples
            .wrapping_add(self.square_pairs)
            .wrapping_add(self.matrix_triples)
    }
}

macro_rules! fieldwise {
    ($trait:ident, $method:ident, $op:ident) => {
        impl $trait for Cost {
            type Output = Cost;
            fn $method(self, o: Cost) -> Cost {
                Cost {
                    rounds: self.rounds.$op(o.rounds),
                    bytes_sent: [
                        self.bytes_sent[0].$op(o.bytes_sent[0]),
                        self.bytes_sent[1].$op(o.bytes_sent[1]),
                    ],
                    helper_bytes: self.helper_bytes.$op(o.helper_bytes),
                    mul_triples: self.mul_triples.$op(o.mul_triples),
                    square_pairs: self.square_pairs.$op(o.square_pairs),
                    matrix_triples: self.matrix_triples.$op(o.matrix_triples),
                    matrix_triple_words: self.matrix_triple_words.$op(o.matrix_triple_words),
                    and_triples: self.and_triples.$op(o.and_triples),
                    b2a_bits: self.b2a_bits.$op(o.b2a_bits),
                    trunc_tuples: self.trunc_tuples.$op(o.trunc_tuples),
                    truncations: self.truncations.$op(o.truncations),
                    wrap_events: self.wrap_events.$op(o.wrap_events),
                }
            }
        }
    };
}
fieldwise!(Add, add, wrapping_add);
fieldwise!(Sub, sub, wrapping_sub);

#[cfg(test)]
mod tests;
