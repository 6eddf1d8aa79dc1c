//! The network seam: every message a party sends passes through [`Net::exchange`].
//!
//! The simulator runs both parties in lock-step in one thread. An *opening* is the only thing
//! that crosses between parties: each party puts its message (one ring word per opened value)
//! in its own buffer, [`Net::exchange`] counts the round and the bytes, hands each message to
//! the installed [`Wire`] (to record a party's view for leakage audits, or to tamper with it as
//! an active adversary would), and then combines the two messages into the opened value.
//!
//! Protocols never combine shares themselves, so this is the one place to observe or replace a
//! party's messages. Tampering is modelled as a *consistent* deviation: the sender proceeds as
//! if it had sent the altered message, which is an additive attack on the opened value — the
//! attack class a SPDZ-style MAC check is designed to catch.
//!
//! # A third party: the helper
//! Three-party frameworks (SCSDF, SecureNN, Bicoptor) add a *helper* party, [`HELPER`] = 2,
//! that holds no input and assists the two computing parties. Its messages cross the same seam:
//! [`Net::to_helper`] (parties 0 and 1 each send one message to the helper, one round) and
//! [`Net::from_helper`] (the helper sends one message to each of them, one round). Every
//! [`Message`] names its sender and its receiver, so one recorder keeps the view of any party —
//! 0, 1 or the helper — in the same way (`crate::leak::ViewRecorder`).

pub mod additive;

use crate::cost::Cost;
#[cfg(doc)]
use crate::error::Error;
use crate::error::{check_len, Result};
use crate::ring::Word;

/// How the two messages of an opening combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Additive shares in Z_2^k: opened = m0 + m1.
    Arithmetic,
    /// XOR shares of k-bit words: opened = m0 ^ m1.
    Binary,
}

/// The words of one message, in the session's ring ([`crate::ring::Word`]): each word is 8 bytes
/// on the wire in Z_2^64, 16 in Z_2^128.
#[derive(Debug)]
pub enum Payload<'m> {
    /// Words of Z_2^64.
    Z64(&'m mut [i64]),
    /// Words of Z_2^128.
    Z128(&'m mut [i128]),
}

impl Payload<'_> {
    /// Number of words.
    pub fn len(&self) -> usize {
        match self {
            Payload::Z64(w) => w.len(),
            Payload::Z128(w) => w.len(),
        }
    }

    /// Whether the message is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `e` to word `i` in its ring (wrapping); false if there is no word `i`.
    pub fn add(&mut self, i: usize, e: i128) -> bool {
        match self {
            Payload::Z64(w) => w
                .get_mut(i)
                .map(|v| *v = v.wrapping_add(e as i64))
                .is_some(),
            Payload::Z128(w) => w.get_mut(i).map(|v| *v = v.wrapping_add(e)).is_some(),
        }
    }

    /// XORs `mask` (its low k bits) into word `i`; false if there is no word `i`.
    pub fn xor(&mut self, i: usize, mask: i128) -> bool {
        match self {
            Payload::Z64(w) => w.get_mut(i).map(|v| *v ^= mask as i64).is_some(),
            Payload::Z128(w) => w.get_mut(i).map(|v| *v ^= mask).is_some(),
        }
    }

    /// The words of Z_2^64, if the ring is Z_2^64.
    pub fn z64(&mut self) -> Option<&mut [i64]> {
        match self {
            Payload::Z64(w) => Some(w),
            Payload::Z128(_) => None,
        }
    }
}

/// The helper party's index (the third party of three-party protocols; see the module doc).
pub const HELPER: usize = 2;

/// One party's message in one round.
#[derive(Debug)]
pub struct Message<'m> {
    /// The round this message belongs to (0-based, counted over the life of the [`Net`]).
    pub round: u64,
    /// Sending party (0, 1 or [`HELPER`]).
    pub from: usize,
    /// Receiving party: the other one of an opening between 0 and 1, or [`HELPER`], or 0 or 1
    /// for the helper's replies.
    pub to: usize,
    /// The protocol that sends it (`"mul"`, `"ltz.and"`, `"trunc"`, …).
    pub protocol: &'static str,
    /// How the messages combine.
    pub domain: Domain,
    /// The words sent. A [`Wire`] may change them.
    pub payload: Payload<'m>,
}

/// An observer or adversary on the channel between the parties.
pub trait Wire {
    /// Called for each message before it is delivered.
    fn send(&mut self, msg: &mut Message<'_>);
}

/// The channel and the ledger of one simulated two-party session.
pub struct Net<'w> {
    wire: Option<&'w mut dyn Wire>,
    cost: Cost,
}

impl core::fmt::Debug for Net<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Net")
            .field("wire", &self.wire.is_some())
            .field("cost", &self.cost)
            .finish()
    }
}

impl<'w> Net<'w> {
    /// An honest channel (no observer).
    pub fn new() -> Self {
        Net {
            wire: None,
            cost: Cost::default(),
        }
    }

    /// A channel that shows every message to `wire` first.
    pub fn with_wire(wire: &'w mut dyn Wire) -> Self {
        Net {
            wire: Some(wire),
            cost: Cost::default(),
        }
    }

    /// The ledger so far.
    pub fn cost(&self) -> &Cost {
        &self.cost
    }

    /// The ledger, for protocols to record preprocessing and truncations.
    pub(crate) fn cost_mut(&mut self) -> &mut Cost {
        &mut self.cost
    }

    /// One round: party 0 sends `m0`, party 1 sends `m1` (equal lengths). On return `m0` holds
    /// the opened values and `m1` is unspecified.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the two messages differ in length; nothing is counted or
    /// sent then.
    pub fn exchange<W: Word>(
        &mut self,
        protocol: &'static str,
        domain: Domain,
        m0: &mut [W],
        m1: &mut [W],
    ) -> Result<()> {
        check_len(m0.len(), m1.len())?;
        self.round_of_two(
            protocol,
            domain,
            [(0, 1, W::payload(m0)), (1, 0, W::payload(m1))],
        );
        self.charge_parties(m0.len(), W::BITS / 8);
        match domain {
            Domain::Arithmetic => {
                for (a, b) in m0.iter_mut().zip(m1.iter()) {
                    *a = a.wrapping_add(*b);
                }
            }
            Domain::Binary => {
                for (a, b) in m0.iter_mut().zip(m1.iter()) {
                    *a ^= *b;
                }
            }
        }
        Ok(())
    }
}

impl Net<'_> {
    /// Each of the two parties sent `words` ring words this round.
    /// Charges one round in which each party sends `words` words, with no message shown to the
    /// [`Wire`]: what an ideal functionality costs ([`crate::protocols::ideal`], the laws of
    /// [`crate::protocols::truncation`]).
    pub(crate) fn charge_round<W: Word>(&mut self, words: usize) {
        self.cost.rounds = self.cost.rounds.wrapping_add(1);
        self.charge_parties(words, W::BITS / 8);
    }

    fn charge_parties(&mut self, words: usize, word_bytes: u32) {
        let bytes = (words as u64).wrapping_mul(u64::from(word_bytes));
        self.cost.bytes_sent[0] = self.cost.bytes_sent[0].wrapping_add(bytes);
        self.cost.bytes_sent[1] = self.cost.bytes_sent[1].wrapping_add(bytes);
    }

    /// Counts one round and shows its two messages, `(from, to, payload)`, to the [`Wire`] in
    /// order: what every kind of round shares. Bytes are the caller's to count (who pays
    /// depends on the sender).
    fn round_of_two(
        &mut self,
        protocol: &'static str,
        domain: Domain,
        messages: [(usize, usize, Payload<'_>); 2],
    ) {
        let round = self.cost.rounds;
        self.cost.rounds = round.wrapping_add(1);
        if let Some(wire) = self.wire.as_deref_mut() {
            for (from, to, payload) in messages {
                wire.send(&mut Message {
                    round,
                    from,
                    to,
                    protocol,
                    domain,
                    payload,
                });
            }
        }
    }

    /// One round: party 0 sends `m0` and party 1 sends `m1` (equal lengths) to the [`HELPER`].
    /// On return both hold what the helper received (after the [`Wire`], which may alter
    /// them); the helper combines them itself. Each party's bytes are counted in
    /// [`Cost::bytes_sent`].
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the two messages differ in length; nothing is counted or
    /// sent then.
    pub fn to_helper(
        &mut self,
        protocol: &'static str,
        domain: Domain,
        m0: &mut [i64],
        m1: &mut [i64],
    ) -> Result<()> {
        check_len(m0.len(), m1.len())?;
        self.round_of_two(
            protocol,
            domain,
            [
                (0, HELPER, Payload::Z64(&mut *m0)),
                (1, HELPER, Payload::Z64(&mut *m1)),
            ],
        );
        self.charge_parties(m0.len(), 8);
        Ok(())
    }

    /// One round: the [`HELPER`] sends `r0` to party 0 and `r1` to party 1 (equal lengths).
    /// On return each holds what its receiver got (after the [`Wire`]). The helper's bytes are
    /// counted in [`Cost::helper_bytes`].
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if the two messages differ in length; nothing is counted or
    /// sent then.
    pub fn from_helper(
        &mut self,
        protocol: &'static str,
        domain: Domain,
        r0: &mut [i64],
        r1: &mut [i64],
    ) -> Result<()> {
        check_len(r0.len(), r1.len())?;
        self.round_of_two(
            protocol,
            domain,
            [
                (HELPER, 0, Payload::Z64(&mut *r0)),
                (HELPER, 1, Payload::Z64(&mut *r1)),
            ],
        );
        let bytes = (r0.len() as u64).wrapping_mul(16);
        self.cost.helper_bytes = self.cost.helper_bytes.wrapping_add(bytes);
        Ok(())
    }
}

impl Default for Net<'_> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests;
