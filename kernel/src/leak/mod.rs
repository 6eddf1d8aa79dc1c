//! Protocol leakage: what a party sees, what can be rebuilt from it, and a view audit.
//!
//! * [`ViewRecorder`]: a [`Wire`] that keeps one party's view — every word it receives (and,
//!   if asked, every word it sends) at the message seam — for party 0, party 1 or the
//!   [`HELPER`], the same way for all three.
//! * [`attack`]: the SCSDF sign leak end to end on a model's first block: the helper's view of
//!   the leaky DReLU ([`crate::protocols::drelu`]), the per-channel sign maps, the two
//!   reconstructions of the research note §2.3 (without and with the first layer's weights)
//!   and the image metrics (MSE, PSNR, SSIM) against the originals and a mean-image baseline.
//! * [`audit`]: MPCGuard's view-based leakage test (Lin et al., IEEE S&P 2025) on every
//!   protocol of the kernel: per-bit two-sample tests and a classifier with the 0.1
//!   accuracy-gap rule against an ideal-world simulator, plus the output-share test.

pub mod attack;
pub mod audit;
pub mod metrics;

use crate::wire::{Domain, Message, Wire, HELPER};

/// One party's view, recorded at the seam into a caller-provided buffer.
///
/// Words are appended in message order: for each message the party receives (and, with
/// [`ViewRecorder::with_sent`], sends), its whole payload. A buffer that fills up keeps the
/// first words and counts the rest in [`ViewRecorder::dropped`]; nothing is ever altered.
///
/// With [`ViewRecorder::with_openings`], what the party receives in an opening (an exchange
/// between parties 0 and 1, or the pair of messages the helper receives) is recorded as the
/// *opened value* — the combination of the two messages, which the party computes anyway — as
/// MPCGuard records the result of each `all_reduce`; the helper's replies stay as received.
#[derive(Debug)]
pub struct ViewRecorder<'b> {
    party: usize,
    sent: bool,
    openings: bool,
    words: &'b mut [i64],
    len: usize,
    dropped: usize,
    /// The opening in progress: (round, start of its words in `words`, its length).
    pending: Option<(u64, usize, usize)>,
}

impl<'b> ViewRecorder<'b> {
    /// Records what `party` (0, 1 or [`HELPER`]) receives into `words`.
    pub fn new(party: usize, words: &'b mut [i64]) -> Self {
        ViewRecorder {
            party,
            sent: false,
            openings: false,
            words,
            len: 0,
            dropped: 0,
            pending: None,
        }
    }

    /// Records openings as opened values (see the type's doc).
    pub fn with_openings(mut self) -> Self {
        self.openings = true;
        self
    }

    /// Also records what the party sends (MPCGuard's view has both directions).
    pub fn with_sent(mut self) -> Self {
        self.sent = true;
        self
    }

    /// The words recorded so far.
    pub fn view(&self) -> &[i64] {
        &self.words[..self.len]
    }

    /// How many words were recorded.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Words that did not fit in the buffer.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// Forgets what was recorded (the buffer is reused).
    pub fn clear(&mut self) {
        self.len = 0;
        self.dropped = 0;
        self.pending = None;
    }

    /// Appends words as if received (the audit adds the party's input and output shares).
    pub fn push(&mut self, w: &[i64]) {
        let room = self.words.len() - self.len;
        let k = room.min(w.len());
        self.words[self.len..self.len + k].copy_from_slice(&w[..k]);
        self.len += k;
        self.dropped = self.dropped.saturating_add(w.len() - k);
    }
}

impl Wire for ViewRecorder<'_> {
    /// Records sessions over Z_2^64 (every protocol the audit runs); a message of Z_2^128 is
    /// not recorded, only counted in [`ViewRecorder::dropped`].
    fn send(&mut self, msg: &mut Message<'_>) {
        let n = msg.payload.len();
        let Some(payload) = msg.payload.z64() else {
            self.dropped = self.dropped.saturating_add(n);
            return;
        };
        let payload: &[i64] = payload;
        let p = self.party;
        if !self.openings || msg.from == HELPER {
            if msg.to == p || (self.sent && msg.from == p) {
                self.push(payload);
            }
            return;
        }
        // An opening's two messages come from party 0, then party 1, in one round.
        if msg.from != p && msg.to != p {
            return;
        }
        if self.sent && msg.from == p {
            self.push(payload);
        }
        // Parties 0 and 1 do not open what they send to the helper.
        if msg.to == HELPER && p != HELPER {
            return;
        }
        match self.pending {
            Some((round, start, n)) if round == msg.round && msg.from == 1 => {
                self.pending = None;
                let end = (start + n).min(self.len);
                for (w, &v) in self.words[start..end].iter_mut().zip(payload.iter()) {
                    *w = match msg.domain {
                        Domain::Arithmetic => w.wrapping_add(v),
                        Domain::Binary => *w ^ v,
                    };
                }
            }
            _ => {
                self.pending = Some((msg.round, self.len, payload.len()));
                self.push(payload);
            }
        }
    }
}

#[cfg(test)]
mod tests;
