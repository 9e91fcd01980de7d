//! The `do` command line: a client of the daemon, and the daemon itself (`do daemon run`).

mod cli;
mod commands;
mod config;
mod context;
mod document;
mod exit;
mod graph;
mod render;

use clap::Parser;
use std::process::ExitCode;

/// Parses the command line, runs the command and turns its result into an exit code.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = commands::run(cli);
    exit::finish(result)
}
