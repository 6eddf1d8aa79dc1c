//! One module per subcommand. Each exposes `run`, which checks its arguments into a plan,
//! does the work and writes the results (see `crate::output`).

pub mod approx;
pub mod demo;
pub mod eval;
pub mod export;
pub mod fuzz;
pub mod import;
pub mod localize;
pub mod mul;
pub mod predict;
pub mod repair;
pub mod report;
pub mod slice;
pub mod sweep;
pub mod train;

use crate::args::{Cli, Command};

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Mul(args) => mul::run("mul", &args),
        Command::Approx(args) => approx::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Predict(args) => predict::run(&args),
        Command::Slice(args) => slice::run(&args),
        Command::Train(args) => train::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Fuzz(args) => fuzz::run(&args),
        Command::Export(args) => export::run(&args),
        Command::Localize(args) => localize::run(&args),
        Command::Repair(args) => repair::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Report(args) => report::run(&args),
    }
}
