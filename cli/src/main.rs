//! `mpcdiff`: the command line of the MPC error simulator.
//!
//! A binary over `mpcdiff-kernel`: the simulation itself (the arithmetics, protocols,
//! approximations and models, and the differential-testing campaign) lives in the kernel, which
//! the browser runs too. This crate parses arguments, checks them, runs the kernel and prints
//! the results, and adds what needs files, threads or an allocator: datasets ([`data`]),
//! training ([`train`]), model import and export ([`import`], [`onnx`]), and the machinery the
//! campaign commands share ([`engine`]: corpora, parallel evaluation, checkpoints, localization
//! and repair search).
//!
//! # Structure
//! Each subcommand is one module under [`cmd`], and runs in two stages (STYLE §8): its clap
//! `Args` only validate syntax; `Plan::from_args` then checks everything the user can get
//! wrong (ranges, finiteness, encodability) and turns it into a checked plan before any work
//! starts, so a bad flag fails in one sentence and nothing is printed on stdout.
//!
//! # Streams
//! Results (text or JSON) go to stdout, written in one piece at the end. Notes and errors go to
//! stderr. A closed stdout (`mpcdiff demo | head -1`) is not an error.
//!
//! # Exit codes
//! * `0`: success (including a broken pipe on stdout, and `--help` / `--version`).
//! * `2`: usage or input error: an unknown flag, a value that does not parse or is out of
//!   range, a bad input file, an output file that cannot be written (a missing or read-only
//!   folder, a full disk). The message names the flag or the file.
//! * `1`: internal failure: the kernel rejected a plan that had been checked, or stdout could
//!   not be written. These are bugs or environment problems, never the user's input.
//! * `130`: interrupted (Ctrl-C, SIGTERM).

#![forbid(unsafe_code)]
#![warn(clippy::disallowed_methods)]

mod args;
mod cmd;
mod engine;
// All of it serves the commands except `mnist::load_raw` and `mnist::normalize_in_place`,
// which only the module's own tests call.
#[allow(dead_code)]
mod data;
mod error;
mod files;
mod flags;
mod import;
mod interrupt;
mod onnx;
mod output;
mod stats;
mod svg;
mod table;
mod train;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

fn main() -> ExitCode {
    interrupt::install();
    // The matches as well as the parsed flags: `fuzz --resume` needs to know which flags were
    // typed (not defaulted) to compare them with the campaign's.
    let parsed = args::Cli::command()
        .try_get_matches()
        .and_then(|m| args::Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (cli, matches) = match parsed {
        Ok(p) => p,
        Err(e) => {
            // clap prints help and version to stdout (exit 0), usage errors to stderr (exit 2).
            // A failed print (closed pipe) changes nothing about the outcome.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(error::EXIT_USAGE));
        }
    };
    match cmd::run(cli, &matches) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            output::error(&e);
            ExitCode::from(error::exit_code(&e))
        }
    }
}
