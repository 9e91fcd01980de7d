//! The `do` command line: a client of the daemon, and the daemon itself (`do daemon run`).

mod cli;
mod commands;
mod complete;
mod context;
mod document;
mod duration;
mod events;
mod exit;
mod graph;
mod program;
mod render;
mod status_view;
mod watch;

use clap::{CommandFactory, Parser};
use std::process::ExitCode;

/// Parses the command line, runs the command and turns its result into an exit code.
pub fn main() -> ExitCode {
    // A shell asking for completions (`COMPLETE=bash do -- …`) is answered and exits here.
    clap_complete::CompleteEnv::with_factory(cli::Cli::command)
        .bin(program::name())
        .complete();
    let cli = cli::Cli::parse();
    let result = commands::run(cli);
    exit::finish(result)
}
