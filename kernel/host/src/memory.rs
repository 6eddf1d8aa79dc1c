//! The owned memory of the kernel's [`Evaluator`], reused call after call.

use mpcdiff_kernel::difftest::evaluator::{Evaluator, Footprint, Loaded};
use mpcdiff_kernel::difftest::oracle::Target;
use mpcdiff_kernel::Share;

/// The evaluator's buffers and what they hold (the kernel's [`Loaded`]: the plaintext and
/// the encoded MPC parameters stay loaded between calls).
#[derive(Debug, Default)]
pub struct Memory {
    floats: Vec<f64>,
    ints: Vec<i64>,
    shares: Vec<Share>,
    loaded: Loaded,
}

impl Memory {
    /// `f` with an evaluator of `target` for batches of up to `batch` samples over this
    /// memory, which grows to the kernel's [`Footprint`] first.
    ///
    /// # Errors
    /// The kernel's, from sizing the memory or building the evaluator (`f`'s own result is
    /// returned as it is).
    pub fn with<'m, R>(
        &mut self,
        target: Target<'m, 'm>,
        batch: usize,
        f: impl FnOnce(&mut Evaluator<'m, '_>) -> R,
    ) -> mpcdiff_kernel::Result<R> {
        let need = Footprint::of(&target, batch)?;
        if self.floats.len() < need.floats {
            self.floats.resize(need.floats, 0.0);
        }
        if self.ints.len() < need.ints {
            self.ints.resize(need.ints, 0);
        }
        if self.shares.len() < need.shares {
            self.shares.resize(need.shares, Share::default());
        }
        let (floats, ints, shares) = (&mut self.floats, &mut self.ints, &mut self.shares);
        let mut ev = Evaluator::new(target, batch, floats, ints, shares, self.loaded)?;
        let r = f(&mut ev);
        self.loaded = ev.loaded();
        Ok(r)
    }
}
