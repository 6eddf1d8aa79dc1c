//! An active adversary at the message seam: a corrupt party that adds chosen errors to chosen
//! words of chosen messages.
//!
//! # Method
//! [`AdditiveAttack`] is a [`Wire`] for one corrupt party. Each [`Edit`] names a message by
//! its protocol and its occurrence among that party's messages of that protocol (0-based,
//! counted over the life of the session), optionally shifted by a number of rounds (the
//! dealer truncation that follows a product is `rounds_after = 1`), and one word of it; the
//! adversary adds its `delta` to that word (in Z_2^64 for [`Domain::Arithmetic`], by XOR for
//! [`Domain::Binary`]). The sender then proceeds as if it had sent the altered word — a
//! *consistent* deviation, so the opened value is shifted by `delta` and nothing else changes:
//! the additive attack of Genkin, Ishai, Prabhakaran, Sahai and Tromer (STOC 2014), which is
//! all an active party can do against these passively secure protocols. Every word the
//! honest party receives is masked by a fresh dealer mask, so its view has the same
//! distribution with or without the edit: the deviation is undetectable in the passive
//! protocol.
//!
//! What an edit does to the computation (derived in the research note's §1.4 and checked by
//! the tests beside [`crate::training`]):
//! * on a Beaver opening (`"mul"`, `"matmul"`, …), adding `E` to a word of ε = x − a computes
//!   `op(x + E, y)`, to a word of δ = y − b computes `op(x, y + E)` (P1);
//! * on a dealer truncation (`"trunc"`), adding `E` shifts the truncated value by `E / 2^k`
//!   ring units (P3), unless it flips the top bit of the opened word (probability about
//!   |E|/2^62);
//! * on a comparison's last opening (`"ltz.b2a"`, binary), XOR-ing 1 toggles the bit (P2);
//! * on a `"reveal"`, it changes what the honest party learns (P4).
//!
//! # Cost
//! None: the adversary sends exactly as many words as an honest party.
//!
//! # Errors
//! None at run time: an edit whose word is past the end of its message is counted as missed
//! ([`Edit::missed`]) and changes nothing.
//!
//! # Reference
//! Jagielski, Escudero, Rachuri, Scholl, *Covert Attacks on Machine Learning Training in
//! Passively Secure MPC*, arXiv 2505.17092; the project's research note on attacks and leakage,
//! §1.3 (threat model) and §1.4 (attack primitives P1–P4).

use crate::wire::{Domain, Message, Wire};

/// Which word of which message an [`Edit`] changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// The protocol of the anchor message (`"matmul"`, `"mul"`, `"trunc"`, `"ltz.b2a"`, …).
    pub protocol: &'static str,
    /// Which of the corrupt party's messages of `protocol` is the anchor (0-based).
    pub occurrence: u64,
    /// The edited message is the corrupt party's message this many rounds after the anchor
    /// (0: the anchor itself).
    pub rounds_after: u64,
    /// The word of the edited message.
    pub word: usize,
}

/// One planned deviation and what became of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edit {
    /// The word it changes.
    pub target: Target,
    /// The error: added in Z_2^64 to an arithmetic word, XOR-ed into a binary one.
    pub delta: i64,
    seen: u64,
    anchor_round: Option<u64>,
    applied: u32,
    missed: u32,
}

impl Edit {
    /// An edit adding `delta` to `target`, not yet applied.
    pub const fn new(target: Target, delta: i64) -> Self {
        Edit {
            target,
            delta,
            seen: 0,
            anchor_round: None,
            applied: 0,
            missed: 0,
        }
    }

    /// How many times it changed a word (1 once its message has passed, 0 before).
    pub const fn applied(&self) -> u32 {
        self.applied
    }

    /// How many times its message passed but was too short for its word.
    pub const fn missed(&self) -> u32 {
        self.missed
    }

    fn apply(&mut self, msg: &mut Message<'_>) {
        let (i, e) = (self.target.word, i128::from(self.delta));
        let hit = match msg.domain {
            Domain::Arithmetic => msg.payload.add(i, e),
            Domain::Binary => msg.payload.xor(i, e),
        };
        if hit {
            self.applied = self.applied.saturating_add(1);
        } else {
            self.missed = self.missed.saturating_add(1);
        }
    }

    fn see(&mut self, msg: &mut Message<'_>) {
        if let Some(anchor) = self.anchor_round {
            if self.applied == 0
                && self.missed == 0
                && msg.round == anchor.wrapping_add(self.target.rounds_after)
            {
                self.apply(msg);
            }
            return;
        }
        if msg.protocol != self.target.protocol {
            return;
        }
        if self.seen == self.target.occurrence {
            self.anchor_round = Some(msg.round);
            if self.target.rounds_after == 0 {
                self.apply(msg);
            }
        }
        self.seen = self.seen.wrapping_add(1);
    }
}

/// A corrupt party that applies its [`Edit`]s to its own outgoing messages (see the module
/// doc). The edits live in the caller's buffer and record whether they were applied.
#[derive(Debug)]
pub struct AdditiveAttack<'e> {
    party: usize,
    edits: &'e mut [Edit],
}

impl<'e> AdditiveAttack<'e> {
    /// Party `party` (0 or 1) corrupted, with the deviations `edits`.
    pub fn new(party: usize, edits: &'e mut [Edit]) -> Self {
        AdditiveAttack { party, edits }
    }

    /// The edits and their outcome.
    pub fn edits(&self) -> &[Edit] {
        self.edits
    }
}

impl Wire for AdditiveAttack<'_> {
    fn send(&mut self, msg: &mut Message<'_>) {
        if msg.from != self.party {
            return;
        }
        for e in self.edits.iter_mut() {
            e.see(msg);
        }
    }
}

#[cfg(test)]
mod tests {
    //! Goal: an edit changes exactly the word it names, once, in the message it names (by
    //! occurrence and rounds after), only for the corrupt party; a word past the end is
    //! counted as missed and changes nothing.

    use super::{AdditiveAttack, Edit, Target};
    use crate::arith::{Arith, RingArith};
    use crate::testing::{FP, S};
    use crate::{Shared, TruncMode};

    /// `x · y` on two elements, twice, with `edits` by corrupt `party`; the revealed rings.
    fn products(party: usize, edits: &mut [Edit]) -> [i64; 4] {
        let mut words = vec![0i64; Shared::scratch_words_elementwise(2)];
        let mut adv = AdditiveAttack::new(party, edits);
        let mut mpc = Shared::new(FP, 3, &mut words)
            .with_truncation(TruncMode::Dealer)
            .with_wire(&mut adv);
        let (mut x, mut y) = ([[0i64; 2]; 2], [[0i64; 2]; 2]);
        mpc.input_ring(&[S / 2, 3 * S], &mut x).unwrap();
        mpc.input_ring(&[3 * S, -S], &mut y).unwrap();
        let mut a = x;
        mpc.mul(&mut a, &y).unwrap();
        let mut b = x;
        mpc.mul(&mut b, &y).unwrap();
        let mut out = [0i64; 4];
        mpc.peek_ring(&a, &mut out[..2]).unwrap();
        mpc.peek_ring(&b, &mut out[2..]).unwrap();
        out
    }

    #[test]
    fn edits_hit_the_named_word_of_the_named_message() {
        let honest = products(0, &mut []);
        assert_eq!(honest, [3 * S / 2, -3 * S, 3 * S / 2, -3 * S]);
        let mul = |occurrence, rounds_after, word| Target {
            protocol: "mul",
            occurrence,
            rounds_after,
            word,
        };
        for party in [0, 1] {
            // ε word 0 of the second product: (x0 + 2)·y0 = 2.5 · 3.
            let mut e = [Edit::new(mul(1, 0, 0), 2 * S)];
            let got = products(party, &mut e);
            assert_eq!(
                got,
                [3 * S / 2, -3 * S, 15 * S / 2, -3 * S],
                "party {party}"
            );
            assert_eq!((e[0].applied(), e[0].missed()), (1, 0));
            // The truncation after the first product, word 1: −3 + 1 (dealer truncation
            // shifts by E / 2^16 ring units, ± 1 for the rounding of the mask).
            let mut e = [Edit::new(mul(0, 1, 1), S * S)];
            let got = products(party, &mut e);
            assert!((got[1] - (-2 * S)).abs() <= 1, "party {party}: {got:?}");
            assert_eq!([got[0], got[2], got[3]], [honest[0], honest[2], honest[3]]);
            // A word past the end of the message: missed, nothing changes.
            let mut e = [Edit::new(mul(0, 0, 99), 1)];
            assert_eq!(products(party, &mut e), honest);
            assert_eq!((e[0].applied(), e[0].missed()), (0, 1));
        }
    }
}
