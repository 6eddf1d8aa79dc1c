//! The command line as clap parses it: syntax only.
//!
//! Each subcommand's arguments are defined in its own module under [`crate::cmd`]; this
//! module only lists the subcommands. Checking values (ranges, finiteness) is the job of each
//! subcommand's `Plan`, not of clap, so that the rules live next to the code that relies on
//! them and come from the kernel's own limits.

use clap::{Parser, Subcommand};

use crate::cmd::approx::ApproxArgs;
use crate::cmd::eval::EvalArgs;
use crate::cmd::mul::MulArgs;
use crate::cmd::predict::PredictArgs;
use crate::cmd::train::TrainArgs;

const EXIT_CODES: &str = "\
Exit codes:
  0  success (also when stdout is closed early, e.g. piped into `head`)
  2  usage or input error (the message names the flag)
  1  internal failure";

/// Simulates the numerical errors of secure multi-party computation (MPC): the same
/// computation in float, in plaintext fixed point and in two-party secret shares, with every
/// deviation attributed to its source.
#[derive(Debug, Parser)]
#[command(name = "mpcdiff", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The seeded demo: shared multiplication in three arithmetics, errors by stage, costs.
    ///
    /// For now this is the `mul` report under the name `demo`; it will grow into the
    /// fuzz → localize → repair pipeline.
    Demo(MulArgs),
    /// Multiply pairs in float, fixed point and two-party shares; attribute the errors.
    Mul(MulArgs),
    /// Where an approximation's error comes from: float vs exact, fixed vs float, shared vs
    /// fixed, with a plot; `--encoding` for the encoding error alone; `--raw-in` for raw ring
    /// integers in and out.
    Approx(ApproxArgs),
    /// Plaintext vs MPC accuracy of a model on its test split, deviations and MPC cost.
    Eval(EvalArgs),
    /// One input through the plaintext and the MPC model: logits, probabilities, labels,
    /// the logit deviation and the MPC cost (the web demo's prediction, natively).
    Predict(PredictArgs),
    /// Train one of the MPCDiff models (LeNet, Credit MLP, Bank MLP) in plaintext,
    /// deterministically from a seed, and save it as an `mpcdiff-model/1` safetensors file.
    Train(TrainArgs),
}
