//! `mpcdiff demo`: the project's main job, run by the README's first command.
//!
//! For now the demo is the shared-multiplication report of [`super::mul`] under the name
//! `demo` (the header, the replay command and the JSON `command` field say `demo`). It will
//! become the full fuzz → localize → repair pipeline; `mpcdiff mul` keeps the multiplication
//! report available with the same options when it does.

use super::mul::{self, MulArgs};

/// Runs the demo.
pub fn run(args: &MulArgs) -> anyhow::Result<()> {
    mul::run("demo", args)
}
