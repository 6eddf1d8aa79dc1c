//! One thread's buffers for evaluating single inputs, plaintext and MPC.
//!
//! Every MPC evaluation is one input in a fresh session with its own seed (batching does not
//! speed the simulation up, see BENCHMARKS.md, and a per-input seed lets each result replay
//! alone). A rayon worker builds one [`Workspace`] and reuses it for every item it takes.

use mpcdiff_kernel::difftest::oracle::{self, Buffers, Sizes, Stage};
use mpcdiff_kernel::nn::deploy::Deployment;
use mpcdiff_kernel::nn::forward::{Plan, Tap};
use mpcdiff_kernel::{Cost, Share};

use super::target::Setup;

/// Buffers of one arithmetic.
struct Bufs<E> {
    params: Vec<E>,
    input: Vec<E>,
    out: Vec<E>,
    arena: Vec<E>,
}

impl<E: Copy + Default> Bufs<E> {
    fn new(s: &Sizes) -> Self {
        Bufs {
            params: vec![E::default(); s.params],
            input: vec![E::default(); s.input],
            out: vec![E::default(); s.out],
            arena: vec![E::default(); s.arena],
        }
    }

    fn view(&mut self) -> Buffers<'_, E> {
        Buffers {
            params: &mut self.params,
            input: &mut self.input,
            out: &mut self.out,
            arena: &mut self.arena,
        }
    }
}

/// A thread's evaluation buffers for one [`Setup`].
pub struct Workspace<'s> {
    setup: &'s Setup,
    /// Folded plaintext parameters, loaded once.
    plain: Bufs<f64>,
    plain_loaded: bool,
    /// Float parameters in the MPC's batch-norm mode (approximation stage).
    float: Bufs<f64>,
    fixed: Bufs<i64>,
    shared: Bufs<Share>,
    words: Vec<i64>,
}

impl<'s> Workspace<'s> {
    /// Buffers for `setup`.
    pub fn new(setup: &'s Setup) -> anyhow::Result<Self> {
        let m = &setup.model;
        let folded = Sizes::of(m, Deployment::Folded, 1)?;
        let deployed = Sizes::of(m, setup.deploy, 1)?;
        Ok(Workspace {
            setup,
            plain: Bufs::new(&folded),
            plain_loaded: false,
            float: Bufs::new(&deployed),
            fixed: Bufs::new(&deployed),
            shared: Bufs::new(&deployed),
            words: vec![0; deployed.words],
        })
    }

    /// Logits of the model's classes.
    pub fn classes(&self) -> usize {
        self.setup.model.classes
    }

    /// The plaintext logits of `x`.
    pub fn plaintext(&mut self, x: &[f64], tap: Option<&mut dyn Tap>) -> anyhow::Result<Vec<f64>> {
        let mut logits = vec![0.0; self.classes()];
        let load = !self.plain_loaded;
        oracle::plaintext(
            &self.setup.target(),
            tap,
            x,
            1,
            &mut logits,
            &mut self.plain.view(),
            load,
        )?;
        self.plain_loaded = true;
        Ok(logits)
    }

    /// The MPC logits of `x` in a session seeded `seed`, with `plan`, and the session's cost.
    pub fn mpc(
        &mut self,
        x: &[f64],
        seed: u64,
        plan: &dyn Plan,
        tap: Option<&mut dyn Tap>,
    ) -> anyhow::Result<(Vec<f64>, Cost)> {
        let mut logits = vec![0.0; self.classes()];
        let cost = oracle::mpc(
            &self.setup.target(),
            plan,
            tap,
            seed,
            x,
            1,
            &mut logits,
            &mut self.shared.view(),
            &mut self.words,
        )?;
        Ok((logits, cost))
    }

    /// The logits of `x` at `stage` (`Shared` in a session seeded `seed`).
    pub fn stage(
        &mut self,
        stage: Stage,
        x: &[f64],
        seed: u64,
        plan: &dyn Plan,
    ) -> anyhow::Result<Vec<f64>> {
        if stage == Stage::Plaintext {
            return self.plaintext(x, None);
        }
        let mut logits = vec![0.0; self.classes()];
        oracle::stage(
            &self.setup.target(),
            plan,
            stage,
            None,
            seed,
            x,
            &mut logits,
            &mut self.float.view(),
            &mut self.fixed.view(),
            &mut self.shared.view(),
            &mut self.words,
        )?;
        Ok(logits)
    }
}
