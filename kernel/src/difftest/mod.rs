//! Differential testing of a model against its MPC deployment: MPCDiff's engine.
//!
//! * [`mutation`]: operators, input domains, distance budgets;
//! * [`fitness`]: the feedback and the deviation test;
//! * [`campaign`]: the seeded, round-based fuzzing loop over a corpus (ask / tell);
//! * [`oracle`]: the plaintext and MPC models (and the stages between them);
//! * [`recorder`], [`voting`]: localization by neuron votes;
//! * [`plan`]: per-neuron repair levels attached to layer names;
//! * [`repair`]: the candidate plans a repair tries and the rule that picks one;
//! * [`stepwise`]: a campaign over one input advanced a few mutants per call (the browser's
//!   search).
//!
//! Everything works on caller-provided buffers, so the CLI (threads, files) and the browser
//! (a worker) drive the same code and get the same bytes.

pub mod campaign;
pub mod evaluator;
pub mod fitness;
pub mod fuzzer;
pub mod localization;
pub mod mutation;
pub mod oracle;
pub mod plan;
pub mod recorder;
pub mod repair;
pub mod slice;
pub mod stepwise;
pub mod voting;

#[cfg(test)]
mod tests;
