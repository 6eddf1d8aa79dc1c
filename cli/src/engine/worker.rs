//! One thread's memory for the kernel's [`Evaluator`]: a rayon worker builds one
//! [`Worker`] and lends it to every item it takes.
//!
//! Every MPC evaluation is one input in a fresh session with its own seed (batching does not
//! speed the simulation up, see BENCHMARKS.md, and a per-input seed lets each result replay
//! alone).

use mpcdiff_host::memory::Memory;
use mpcdiff_kernel::difftest::evaluator::{Evaluator, Footprint};

use super::target::Setup;

/// A thread's evaluation memory for one [`Setup`].
pub struct Worker<'s> {
    setup: &'s Setup,
    memory: Memory,
}

impl<'s> Worker<'s> {
    /// Memory for `setup`, one input at a time (its size checked here; it is taken at the
    /// first evaluation).
    pub fn new(setup: &'s Setup) -> anyhow::Result<Self> {
        Footprint::of(&setup.target(), 1)?;
        Ok(Worker {
            setup,
            memory: Memory::default(),
        })
    }

    /// Logits per input.
    pub fn classes(&self) -> usize {
        self.setup.model.classes
    }

    /// `f` with an evaluator over this memory (the plaintext parameters and the encoded MPC
    /// parameters stay loaded between calls).
    pub fn with<R>(
        &mut self,
        f: impl FnOnce(&mut Evaluator<'s, '_>) -> mpcdiff_kernel::Result<R>,
    ) -> anyhow::Result<R> {
        Ok(self.memory.with(self.setup.target(), 1, f)??)
    }

    /// The plaintext logits of `x`.
    pub fn plaintext(
        &mut self,
        x: &[f64],
        tap: Option<&mut dyn mpcdiff_kernel::nn::forward::Tap>,
    ) -> anyhow::Result<Vec<f64>> {
        let mut logits = vec![0.0; self.setup.model.classes];
        self.with(|ev| ev.plaintext(x, 1, tap, &mut logits))?;
        Ok(logits)
    }

    /// The MPC logits of `x` in a session seeded `seed`, with `plan`, and the session's cost.
    pub fn mpc(
        &mut self,
        x: &[f64],
        seed: u64,
        plan: &dyn mpcdiff_kernel::nn::forward::Plan,
        tap: Option<&mut dyn mpcdiff_kernel::nn::forward::Tap>,
    ) -> anyhow::Result<(Vec<f64>, mpcdiff_kernel::Cost)> {
        let mut logits = vec![0.0; self.setup.model.classes];
        let cost = self.with(|ev| ev.mpc(x, seed, plan, tap, &mut logits))?;
        Ok((logits, cost))
    }
}
