//! The top level of the command line; each command's arguments live with the command.

use crate::commands::{
    agent::AgentCommand, daemon::DaemonCommand, schedule::ScheduleCommand, team::TeamCommand,
    workflow::WorkflowCommand,
};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Run multi-step workflows of agents (CLI AI agents, scripts, build tools), durably.
///
/// A background daemon owns the database and runs executions; every command talks to it and
/// starts it when none is running. In bash and zsh `do` is a reserved word at the start of a
/// command: type `dowf` (the same program), `\do` or `command do`.
#[derive(Debug, Parser)]
#[command(name = "do", version, propagate_version = true, max_term_width = 100)]
#[command(after_help = "Quick start:
  dowf agent add mira --shell 'echo \"research on: $DO_TASK\"'
  dowf workflow create examples/saas-launch.json
  dowf workflow execute wf_… --input '{\"productName\":\"CloudSync Pro\"}' --wait

Exit codes: 0 ok; 1 the execution waited for did not complete; 2 bad usage or an invalid
document; 3 the daemon cannot be reached; 4 no such workflow, execution, agent or team.")]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Clone, Args)]
pub(crate) struct GlobalArgs {
    /// Print machine-readable JSON (the API's `data`) instead of tables.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Print only what a script needs: ids (one per line), an execution's status word, or
    /// nothing. Errors still go to stderr and the exit code tells the outcome.
    #[arg(short, long, global = true, conflicts_with = "json")]
    pub(crate) quiet: bool,
    /// When to colour the output: on a terminal unless NO_COLOR is set (auto), always, never.
    #[arg(long, global = true, value_name = "WHEN", default_value = "auto")]
    pub(crate) color: clap::ColorChoice,
    /// The daemon's socket [default: `$XDG_RUNTIME_DIR/do/do.sock`, or `DATA_DIR/do.sock` when
    /// `--data-dir` is given].
    #[arg(
        long,
        global = true,
        env = "DO_SOCKET",
        hide_env_values = true,
        value_name = "PATH"
    )]
    pub(crate) socket: Option<PathBuf>,
    /// Where the daemon keeps its database, logs and workspaces [default: `~/.local/share/do`].
    #[arg(
        long,
        global = true,
        env = "DO_DATA_DIR",
        hide_env_values = true,
        value_name = "DIR"
    )]
    pub(crate) data_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create, inspect and execute workflows, and follow their executions.
    #[command(subcommand)]
    Workflow(WorkflowCommand),
    /// Register the programs that run steps.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Group agents into teams that `team` steps run on.
    #[command(subcommand)]
    Team(TeamCommand),
    /// Run workflows by themselves on cron expressions, durably.
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// Start, stop and inspect the background daemon.
    #[command(subcommand)]
    Daemon(DaemonCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(crate::commands::completions::CompletionsArgs),
    /// Print the man page (`dowf man | man -l -`), or with `--markdown` the CLI reference.
    Man(crate::commands::completions::ManArgs),
}
