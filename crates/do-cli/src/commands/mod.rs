//! One module per noun; each command is an `Args` struct and a `cmd_` function.

pub(crate) mod agent;
pub(crate) mod completions;
pub(crate) mod daemon;
pub(crate) mod man;
pub(crate) mod schedule;
pub(crate) mod team;
pub(crate) mod workflow;

use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::exit::UsageError;

/// Runs a parsed command line; returns the exit code.
pub(crate) fn run(cli: Cli) -> anyhow::Result<u8> {
    let ctx = Context::new(&cli.global)?;
    match cli.command {
        Command::Workflow(command) => workflow::run(&ctx, command),
        Command::Agent(command) => agent::run(&ctx, command),
        Command::Team(command) => team::run(&ctx, command),
        Command::Schedule(command) => schedule::run(&ctx, command),
        Command::Daemon(command) => daemon::run(&ctx, command),
        Command::Completions(_) | Command::Man(_) if ctx.json => Err(UsageError(
            "`completions` prints a shell script and `man` a man page or Markdown: --json does \
             not apply to them"
                .to_owned(),
        )
        .into()),
        Command::Completions(args) => completions::cmd_completions(&args),
        Command::Man(args) => man::cmd_man(&args),
    }
}
