//! Deterministic parallel evaluation: rayon threads, one [`Worker`] each.
//!
//! Items are mapped in parallel and collected **in item order**; every item carries its own
//! seeds, so the result is the same for any thread count.

use std::sync::Mutex;

use anyhow::Context;
use rayon::prelude::*;

use super::target::Setup;
use super::worker::Worker;

/// A thread pool with one workspace per thread.
pub struct Pool<'s> {
    pool: rayon::ThreadPool,
    spaces: Vec<Mutex<Worker<'s>>>,
    classes: usize,
    setup: &'s Setup,
}

impl<'s> Pool<'s> {
    /// `threads` workers evaluating `setup`.
    pub fn new(setup: &'s Setup, threads: usize) -> anyhow::Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .context("could not start the worker threads")?;
        let spaces = (0..threads)
            .map(|_| Worker::new(setup).map(Mutex::new))
            .collect::<anyhow::Result<_>>()?;
        Ok(Pool {
            pool,
            spaces,
            classes: setup.model.classes,
            setup,
        })
    }

    /// The model and deployment the workers evaluate.
    pub fn setup(&self) -> &'s Setup {
        self.setup
    }

    /// Logits per input of the model the workers evaluate.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// `f` over `items`, in parallel, results in item order (the first error wins).
    pub fn map<T: Sync, R: Send>(
        &self,
        items: &[T],
        f: impl Fn(&mut Worker<'s>, &T) -> anyhow::Result<R> + Sync,
    ) -> anyhow::Result<Vec<R>> {
        self.pool.install(|| {
            items
                .par_iter()
                .map(|item| {
                    let k = rayon::current_thread_index().unwrap_or(0) % self.spaces.len();
                    let mut ws = self.spaces[k]
                        .lock()
                        .map_err(|_| anyhow::anyhow!("a worker panicked"))?;
                    f(&mut ws, item)
                })
                .collect()
        })
    }
}
