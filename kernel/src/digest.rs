//! A stable digest of output bytes, for cross-target determinism checks.
//!
//! FNV-1a (64-bit) over explicitly little-endian bytes: simple enough to recompute anywhere
//! (a JS test, a Python script) and identical on every target. It is not a cryptographic hash;
//! it only has to change when any output bit changes.

/// An FNV-1a 64-bit digest under construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest {
    state: u64,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Default for Digest {
    fn default() -> Self {
        Self::new()
    }
}

impl Digest {
    /// An empty digest.
    pub const fn new() -> Self {
        Digest { state: FNV_OFFSET }
    }

    /// A digest continued from a [`Digest::finish`] value (FNV-1a's state is its value), so a
    /// resumed computation digests the same as an uninterrupted one.
    pub const fn from_state(state: u64) -> Self {
        Digest { state }
    }

    /// Absorbs raw bytes.
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        for &b in bytes {
            self.state = (self.state ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        }
        self
    }

    /// Absorbs one `u64`, little-endian.
    pub fn u64(&mut self, x: u64) -> &mut Self {
        self.bytes(&x.to_le_bytes())
    }

    /// Absorbs ring integers, little-endian.
    pub fn i64s(&mut self, xs: &[i64]) -> &mut Self {
        for &x in xs {
            self.bytes(&x.to_le_bytes());
        }
        self
    }

    /// Absorbs floats by their IEEE bits, little-endian.
    pub fn f64s(&mut self, xs: &[f64]) -> &mut Self {
        for &x in xs {
            self.bytes(&x.to_bits().to_le_bytes());
        }
        self
    }

    /// The digest value.
    pub const fn finish(&self) -> u64 {
        self.state
    }
}
