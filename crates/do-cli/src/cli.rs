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
#[command(
    after_help = "Quick start (paste it; the last three lines from the root of the repository):
  dowf agent add hello --shell 'echo \"hello, $DO_TASK\"'
  echo '{\"name\":\"hi\",\"steps\":[{\"agent\":\"hello\",\"task\":\"you\"}]}' | dowf workflow run - --wait
  examples/agents/register.sh
  wf=$(dowf workflow create examples/saas-launch.json -q)
  dowf workflow execute \"$wf\" --input '{\"productName\":\"CloudSync Pro\"}' --wait

Exit codes: 0 ok; 1 the execution waited for did not complete; 2 bad usage or an invalid
document; 3 the daemon cannot be reached; 4 no such workflow, execution, agent or team."
)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The heading of the options every command takes that say where the daemon is and how to
/// print, apart from each command's own.
const GLOBAL: &str = "Global options";

#[derive(Debug, Clone, Args)]
pub(crate) struct GlobalArgs {
    /// Print machine-readable JSON (the API's `data`) instead of tables; `logs` prints JSON
    /// lines. `completions` and `man` refuse it: they print a script or a page.
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Print only what a script needs: ids (one per line), an execution's or a workflow's
    /// status word, or nothing; `logs` prints the logs without headers, and `output`,
    /// `schema`, `api-key`, `completions` and `man` print what they print without it. Errors
    /// still go to stderr and the exit code tells the outcome.
    #[arg(short, long, global = true, conflicts_with = "json")]
    pub(crate) quiet: bool,
    /// When to colour the output: on a terminal unless NO_COLOR is set (auto), always, never.
    #[arg(
        long,
        global = true,
        value_name = "WHEN",
        default_value = "auto",
        help_heading = GLOBAL
    )]
    pub(crate) color: clap::ColorChoice,
    /// The daemon's socket [env: DO_SOCKET] [default: `$XDG_RUNTIME_DIR/do/do.sock`, or
    /// `DATA_DIR/do.sock` when the data dir is given].
    // The environment is read by `Context`, not by clap: clap would print a value it took from
    // the environment in a usage error's `Usage:` line, as if it had been typed.
    #[arg(long, global = true, value_name = "PATH", help_heading = GLOBAL)]
    pub(crate) socket: Option<PathBuf>,
    /// Where the daemon keeps its database, logs and workspaces [env: DO_DATA_DIR] [default:
    /// `~/.local/share/do`].
    #[arg(long, global = true, value_name = "DIR", help_heading = GLOBAL)]
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
    /// Print the man page (`dowf man | man -l -`), write every command's page (`--dir`), or
    /// print the CLI reference (`--markdown`).
    Man(crate::commands::man::ManArgs),
}

/// A value among an enum's wire names, which `--help` and shell completion then list.
pub(crate) fn one_of<T>(
    names: impl Iterator<Item = &'static str>,
) -> impl clap::builder::TypedValueParser<Value = T>
where
    T: std::str::FromStr + Clone + Send + Sync + 'static,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(names).try_map(|text| text.parse::<T>())
}
