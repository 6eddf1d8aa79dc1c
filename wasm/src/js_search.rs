//! The `#[wasm_bindgen]` face of [`crate::search`] and [`crate::repair`]: the `Session`
//! methods of "Search for a deviation" and "Localize and repair", and their result classes
//! (getters; bulk numbers as typed arrays, seeds as `BigInt`s, counts as `Number`s).

use mpcdiff_kernel::difftest::oracle::Stage;
use wasm_bindgen::prelude::*;

use crate::js::{shape_dims, CostLedger, JsSession, Prediction};
use crate::search::{self, SearchOptions};
use crate::{into_error, repair, seed_arg, Failure};

fn check<T>(function: &str, r: Result<T, Failure>) -> Result<T, JsError> {
    r.map_err(|e| into_error(function, e))
}

#[wasm_bindgen(js_class = Session)]
impl JsSession {
    /// Starts a deviation search from a 28×28 image (`Float32Array` of 784 intensities):
    /// `seed` (`BigInt`) seeds the mutations, at most `mutations` mutants, fitness `margin`
    /// or `logit-l2`, mutator `mpcdiff` or `artifact`, `repeats` MPC runs per deviation for
    /// its probability. Evaluates the image itself (admission) and returns the progress.
    pub fn fuzz_start(
        &mut self,
        pixels: &[f32],
        #[wasm_bindgen(unchecked_param_type = "bigint | number")] seed: JsValue,
        mutations: u32,
        fitness: &str,
        mutator: &str,
        repeats: u32,
    ) -> Result<SearchProgress, JsError> {
        let o = check(
            "fuzz_start",
            (|| {
                Ok(SearchOptions {
                    seed: seed_arg(&seed)?,
                    mutations: u64::from(mutations),
                    fitness: search::fitness_arg(fitness)?,
                    mpcdiff_mutator: search::mutator_arg(mutator)?,
                    repeats,
                })
            })(),
        )?;
        let p = check("fuzz_start", self.inner.fuzz_start(pixels, o))?;
        Ok(SearchProgress { inner: p })
    }

    /// Runs the search for at most `max` more mutants.
    pub fn fuzz_step(&mut self, max: u32) -> Result<SearchProgress, JsError> {
        let p = check("fuzz_step", self.inner.fuzz_step(u64::from(max)))?;
        Ok(SearchProgress { inner: p })
    }

    /// The deviation the search found, or `undefined`.
    pub fn fuzz_found(&self) -> Option<FoundDeviation> {
        let s = self.inner.search()?;
        Some(FoundDeviation {
            inner: s.found()?.clone(),
        })
    }

    /// The search's start as one line of an `mpcdiff fuzz --corpus` file:
    /// `{"input":[…normalised…],"label":k}` (numbers printed round-trip exact).
    pub fn fuzz_corpus_line(&self) -> Result<String, JsError> {
        check("fuzz_corpus_line", self.inner.fuzz_corpus_line())
    }

    /// The `mpcdiff fuzz` command that runs the same campaign natively on a file holding
    /// [`JsSession::fuzz_corpus_line`] (its path left as `CORPUS`; with a level plan, `PLAN`).
    pub fn fuzz_command(&self) -> Result<String, JsError> {
        check("fuzz_command", self.inner.fuzz_command()).map(|a| a.join(" "))
    }

    /// Localizes the found deviation: per-layer errors, votes and attribution, error source.
    pub fn localize(&mut self) -> Result<Localization, JsError> {
        let l = check("localize", self.inner.localize())?;
        Ok(Localization { inner: l })
    }

    /// Starts the repair search on `check` synthetic digits (≤ 500) with a multiplication
    /// `budget` (× the current plan's, ≥ 1); returns the number of candidates.
    pub fn repair_start(&mut self, check_digits: u32, budget: f64) -> Result<u32, JsError> {
        let n = check(
            "repair_start",
            self.inner.repair_start(check_digits as usize, budget),
        )?;
        Ok(n as u32)
    }

    /// Assesses the next candidate (after the last one, chooses): the search so far.
    pub fn repair_step(&mut self) -> Result<RepairSearch, JsError> {
        let r = check("repair_step", self.inner.repair_step())?;
        Ok(RepairSearch { inner: r })
    }

    /// Makes the chosen repair plan the session's level plan.
    pub fn apply_repair(&mut self) -> Result<(), JsError> {
        check("apply_repair", self.inner.apply_repair())
    }

    /// The found deviation under the current settings and plan.
    pub fn fuzz_replay(&mut self) -> Result<Replay, JsError> {
        let r = check("fuzz_replay", self.inner.fuzz_replay())?;
        Ok(Replay { inner: r })
    }
}

/// Where a search stands.
#[wasm_bindgen]
pub struct SearchProgress {
    inner: search::Progress,
}

#[wasm_bindgen]
impl SearchProgress {
    /// Mutants evaluated.
    #[wasm_bindgen(getter)]
    pub fn mutants(&self) -> f64 {
        self.inner.mutants as f64
    }
    /// The mutation budget.
    #[wasm_bindgen(getter)]
    pub fn budget(&self) -> f64 {
        self.inner.budget as f64
    }
    /// Rounds.
    #[wasm_bindgen(getter)]
    pub fn rounds(&self) -> f64 {
        self.inner.rounds as f64
    }
    /// `active`, `found`, `dropped` or `skipped`.
    #[wasm_bindgen(getter)]
    pub fn status(&self) -> String {
        self.inner.status.name().into()
    }
    /// The current input's fitness.
    #[wasm_bindgen(getter)]
    pub fn fitness(&self) -> f64 {
        self.inner.fitness
    }
    /// Mutants accepted.
    #[wasm_bindgen(getter)]
    pub fn accepted(&self) -> u32 {
        self.inner.accepted
    }
    /// The campaign digest, 16 hex digits (`mpcdiff fuzz --json`'s `summary.digest`).
    #[wasm_bindgen(getter)]
    pub fn digest(&self) -> String {
        format!("{:016x}", self.inner.digest)
    }
    /// Whether the search is over.
    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.inner.done()
    }
}

/// A deviation the search found.
#[wasm_bindgen]
pub struct FoundDeviation {
    inner: search::Found,
}

#[wasm_bindgen]
impl FoundDeviation {
    /// The found image's intensities (`Float32Array`, 784).
    #[wasm_bindgen(getter)]
    pub fn pixels(&self) -> Vec<f32> {
        self.inner.pixels()
    }
    /// The original image's intensities.
    #[wasm_bindgen(getter)]
    pub fn original_pixels(&self) -> Vec<f32> {
        self.inner.original_pixels()
    }
    /// The found model input, normalised (`Float64Array`, exact).
    #[wasm_bindgen(getter)]
    pub fn input(&self) -> Vec<f64> {
        self.inner.input.clone()
    }
    /// `‖found − original‖₂` in normalised units.
    #[wasm_bindgen(getter)]
    pub fn l2(&self) -> f64 {
        self.inner.l2
    }
    /// `‖found − original‖∞` in normalised units.
    #[wasm_bindgen(getter)]
    pub fn linf(&self) -> f64 {
        self.inner.linf
    }
    /// The seed of the MPC session that shows it (`BigInt`).
    #[wasm_bindgen(getter)]
    pub fn mpc_seed(&self) -> u64 {
        self.inner.mpc_seed
    }
    /// The mutant's number, or `undefined` if the original already deviates.
    #[wasm_bindgen(getter)]
    pub fn mutant(&self) -> Option<f64> {
        self.inner.mutant.map(|m| m as f64)
    }
    /// Mutants made before it was found.
    #[wasm_bindgen(getter)]
    pub fn mutations(&self) -> u32 {
        self.inner.mutations
    }
    /// The operators of the accepted mutants that led to it, in order.
    #[wasm_bindgen(getter)]
    pub fn path(&self) -> Vec<String> {
        self.inner
            .path
            .iter()
            .map(|s| s.op.name().to_string())
            .collect()
    }
    /// The plaintext label.
    #[wasm_bindgen(getter)]
    pub fn plaintext_label(&self) -> u32 {
        self.inner.label as u32
    }
    /// The MPC label.
    #[wasm_bindgen(getter)]
    pub fn mpc_label(&self) -> u32 {
        mpcdiff_kernel::difftest::fitness::argmax(&self.inner.mpc) as u32
    }
    /// Plaintext logits.
    #[wasm_bindgen(getter)]
    pub fn plaintext_logits(&self) -> Vec<f64> {
        self.inner.plaintext.clone()
    }
    /// MPC logits.
    #[wasm_bindgen(getter)]
    pub fn mpc_logits(&self) -> Vec<f64> {
        self.inner.mpc.clone()
    }
    /// MPC runs that flip the label.
    #[wasm_bindgen(getter)]
    pub fn flips(&self) -> u32 {
        self.inner.flips
    }
    /// MPC runs.
    #[wasm_bindgen(getter)]
    pub fn runs(&self) -> u32 {
        self.inner.runs
    }
}

/// [`JsSession::localize`]'s result: one row per nonlinear layer.
#[wasm_bindgen]
pub struct Localization {
    inner: repair::Localization,
}

#[wasm_bindgen]
impl Localization {
    /// Layers.
    #[wasm_bindgen(getter)]
    pub fn layer_count(&self) -> u32 {
        self.inner.layers.len() as u32
    }
    /// Layer `i`'s name.
    pub fn name(&self, i: u32) -> Option<String> {
        self.layer(i).map(|l| l.name.clone())
    }
    /// Layer `i`'s shape (`[c, h, w]` or `[n]`).
    pub fn shape(&self, i: u32) -> Option<Vec<u32>> {
        self.layer(i).map(|l| shape_dims(l.shape))
    }
    /// Whether layer `i` is an activation (voted on) rather than a batch norm.
    pub fn activation(&self, i: u32) -> Option<bool> {
        self.layer(i).map(|l| l.activation)
    }
    /// Layer `i`'s per-neuron `|plaintext − MPC|` (empty for a batch norm).
    pub fn error(&self, i: u32) -> Option<Vec<f64>> {
        self.layer(i).map(|l| l.error.clone())
    }
    /// Layer `i`'s high-vote neurons.
    pub fn high(&self, i: u32) -> Option<Vec<u32>> {
        self.layer(i).map(|l| l.high.clone())
    }
    /// Layer `i`'s low-vote neurons.
    pub fn low(&self, i: u32) -> Option<Vec<u32>> {
        self.layer(i).map(|l| l.low.clone())
    }
    /// Whether making layer `i` exact removes the deviation.
    pub fn fixed_when_exact(&self, i: u32) -> Option<bool> {
        self.layer(i).map(|l| l.fixed_when_exact)
    }
    /// The error source: `approximation`, `fixed-point` or `share-randomness`.
    #[wasm_bindgen(getter)]
    pub fn source(&self) -> String {
        match self.inner.source {
            Stage::Approximation | Stage::Plaintext => "approximation",
            Stage::FixedPoint => "fixed-point",
            Stage::Shared => "share-randomness",
        }
        .into()
    }
}

impl Localization {
    fn layer(&self, i: u32) -> Option<&repair::LayerVotes> {
        self.inner.layers.get(i as usize)
    }
}

/// One assessed repair plan.
#[wasm_bindgen]
pub struct Tried {
    inner: repair::Tried,
}

#[wasm_bindgen]
impl Tried {
    /// What it is, in words.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.inner.name.clone()
    }
    /// MPC runs of the deviation that still flip under it.
    #[wasm_bindgen(getter)]
    pub fn flips(&self) -> u32 {
        self.inner.flips
    }
    /// MPC runs of the deviation.
    #[wasm_bindgen(getter)]
    pub fn runs(&self) -> u32 {
        self.inner.runs
    }
    /// Check digits the MPC model gets right under it.
    #[wasm_bindgen(getter)]
    pub fn mpc_correct(&self) -> u32 {
        self.inner.mpc_correct as u32
    }
    /// One MPC inference's cost under it.
    #[wasm_bindgen(getter)]
    pub fn cost(&self) -> CostLedger {
        CostLedger::from(self.inner.cost)
    }
    /// Whether it meets the target within the budget.
    #[wasm_bindgen(getter)]
    pub fn meets(&self) -> bool {
        self.inner.meets
    }
}

/// The repair search so far.
#[wasm_bindgen]
pub struct RepairSearch {
    inner: repair::Repair,
}

#[wasm_bindgen]
impl RepairSearch {
    /// The current plan's assessment.
    #[wasm_bindgen(getter)]
    pub fn baseline(&self) -> Tried {
        Tried {
            inner: self.inner.baseline.clone(),
        }
    }
    /// Candidates in all.
    #[wasm_bindgen(getter)]
    pub fn candidates(&self) -> u32 {
        self.inner.candidates as u32
    }
    /// Candidates assessed so far.
    #[wasm_bindgen(getter)]
    pub fn tried_count(&self) -> u32 {
        self.inner.tried.len() as u32
    }
    /// Candidate `i`'s assessment.
    pub fn tried(&self, i: u32) -> Option<Tried> {
        self.inner
            .tried
            .get(i as usize)
            .map(|t| Tried { inner: t.clone() })
    }
    /// The chosen candidate's index, once all are assessed.
    #[wasm_bindgen(getter)]
    pub fn chosen(&self) -> Option<u32> {
        self.inner.chosen.map(|c| c as u32)
    }
    /// Check digits.
    #[wasm_bindgen(getter)]
    pub fn check(&self) -> u32 {
        self.inner.check as u32
    }
    /// Check digits the plaintext model gets right.
    #[wasm_bindgen(getter)]
    pub fn plaintext_correct(&self) -> u32 {
        self.inner.plaintext_correct as u32
    }
}

/// The found deviation replayed under the current plan.
#[wasm_bindgen]
pub struct Replay {
    inner: repair::Replay,
}

#[wasm_bindgen]
impl Replay {
    /// Both models on the found input (MPC in the recorded session).
    #[wasm_bindgen(getter)]
    pub fn prediction(&self) -> Prediction {
        Prediction::from(self.inner.prediction.clone())
    }
    /// MPC runs that still flip the label.
    #[wasm_bindgen(getter)]
    pub fn flips(&self) -> u32 {
        self.inner.flips
    }
    /// MPC runs.
    #[wasm_bindgen(getter)]
    pub fn runs(&self) -> u32 {
        self.inner.runs
    }
}
