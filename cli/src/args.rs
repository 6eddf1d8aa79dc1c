//! The command line as clap parses it: syntax only.
//!
//! Each subcommand's arguments are defined in its own module under [`crate::cmd`]; this
//! module only lists the subcommands. Checking values (ranges, finiteness) is the job of each
//! subcommand's `Plan`, not of clap, so that the rules live next to the code that relies on
//! them and come from the kernel's own limits.

use clap::{Parser, Subcommand};

use crate::cmd::approx::ApproxArgs;
use crate::cmd::demo::DemoArgs;
use crate::cmd::eval::EvalArgs;
use crate::cmd::export::ExportArgs;
use crate::cmd::fuzz::FuzzArgs;
use crate::cmd::import::ImportArgs;
use crate::cmd::localize::LocalizeArgs;
use crate::cmd::mul::MulArgs;
use crate::cmd::predict::PredictArgs;
use crate::cmd::repair::RepairArgs;
use crate::cmd::report::ReportArgs;
use crate::cmd::sweep::SweepArgs;
use crate::cmd::train::TrainArgs;

const EXIT_CODES: &str = "\
Exit codes:
  0  success (also when stdout is closed early, e.g. piped into `head`)
  2  usage or input error, or an output file that cannot be written
     (the message names the flag or the file)
  1  internal failure
  130  interrupted (Ctrl-C, SIGTERM)";

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
    /// The whole pipeline on the embedded LeNet in under a minute: find deviations,
    /// localize them, repair them, report before / after.
    Demo(DemoArgs),
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
    /// The decision-boundary slice around an input: plaintext vs MPC labels on a plane
    /// through it spanned by two seeded random directions, as SVG (the MPCDiff paper's
    /// Figures 3 and 7; the web page's slice, natively).
    Slice(crate::cmd::slice::SliceArgs),
    /// Train one of the MPCDiff models (LeNet, Credit MLP, Bank MLP) in plaintext,
    /// deterministically from a seed, and save it as an `mpcdiff-model/1` safetensors file.
    Train(TrainArgs),
    /// Train logistic regression, an MLP or LeNet-5 under MPC (shared, or fixed point) beside
    /// its float twin with the kernel's SGD, epoch by epoch, and save the revealed model.
    TrainMpc(crate::cmd::train_mpc::TrainMpcArgs),
    /// Convert a PyTorch model (an ONNX file, or a state_dict plus its architecture) into an
    /// `mpcdiff-model/1` file; `--model` also takes both directly.
    Import(ImportArgs),
    /// Search for deviations: inputs whose MPC label flips away from the plaintext model's
    /// correct label (seeded, resumable, multi-threaded, same result for any thread count).
    Fuzz(FuzzArgs),
    /// A campaign's deviations as a folder that confirms them in real CrypTen 0.4.1: the
    /// deployed model as ONNX, the inputs and labels as .npy, a manifest and
    /// confirm_crypten.py.
    Export(ExportArgs),
    /// Which neurons and layers a campaign's deviations come from: votes, signed scores,
    /// per-layer attribution, error sources, heat maps.
    Localize(LocalizeArgs),
    /// Choose per-neuron approximation levels that remove a campaign's deviations without
    /// accuracy loss, under a cost budget; writes a plan file.
    Repair(RepairArgs),
    /// The precision sweep (fractional bits 12..32): the naive repair, and where overflow
    /// takes over.
    Sweep(SweepArgs),
    /// Before / after a repair plan: accuracy, known deviations fixed, a new campaign, cost,
    /// error sources.
    Report(ReportArgs),
    /// Protocol leakage: rebuild MNIST inputs from what a helper party sees of the DReLUs
    /// (the SCSDF sign leak), the sign-hiding fix, and MPCGuard's view audit of every
    /// protocol.
    Leak(crate::cmd::leak::LeakArgs),
    /// Covert attacks on MPC training by a corrupt party at the message seam: training-data
    /// reconstruction, a backdoor, a targeted misclassification and membership inference,
    /// each against the same seeded training run honestly.
    Attack(crate::cmd::attack::AttackArgs),
}
