//! One module per subcommand. Each exposes `run`, which checks its arguments into a plan,
//! does the work and writes the results (see `crate::output`).

pub mod approx;
pub mod attack;
pub mod demo;
pub mod eval;
pub mod export;
pub mod fuzz;
pub mod import;
pub mod leak;
pub mod localize;
pub mod mul;
pub mod predict;
pub mod repair;
pub mod report;
pub mod slice;
pub mod sweep;
pub mod train;
pub mod train_mpc;

use crate::args::{Cli, Command};

/// The ids (field names, e.g. `frac_bits`) of the flags given on the command line of the
/// subcommand in `matches`, not taken from their defaults.
fn typed(matches: &clap::ArgMatches) -> Vec<String> {
    use clap::CommandFactory;
    let Some((name, sub)) = matches.subcommand() else {
        return Vec::new();
    };
    // Flags only: the matches also hold the groups clap derives for each `Args` struct.
    let cli = Cli::command();
    let Some(command) = cli.find_subcommand(name) else {
        return Vec::new();
    };
    command
        .get_arguments()
        .map(|arg| arg.get_id().as_str())
        .filter(|id| sub.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
        .map(str::to_string)
        .collect()
}

/// Runs the parsed command line (`matches`: what clap parsed it from).
pub fn run(cli: Cli, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Mul(args) => mul::run("mul", &args),
        Command::Approx(args) => approx::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Predict(args) => predict::run(&args),
        Command::Slice(args) => slice::run(&args),
        Command::Train(args) => train::run(&args),
        Command::TrainMpc(args) => train_mpc::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Fuzz(args) => fuzz::run(&args, &typed(matches)),
        Command::Export(args) => export::run(&args),
        Command::Leak(args) => leak::run(&args),
        Command::Attack(args) => attack::run(&args),
        Command::Localize(args) => localize::run(&args),
        Command::Repair(args) => repair::run(&args),
        Command::Sweep(args) => sweep::run(&args),
        Command::Report(args) => report::run(&args),
    }
}
