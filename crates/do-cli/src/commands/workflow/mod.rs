//! `do workflow …`: documents and their executions. One module per group of subcommands, each
//! with its `Args` and `cmd_` functions; `submit` reads and sends documents, `plan` and
//! `failure_plan` word `--dry-run`, `latest` resolves `--last`.

mod control;
mod create;
mod execute;
mod execution;
mod failure_plan;
mod latest;
mod list;
mod logs;
mod output;
mod plan;
mod submit;

use crate::context::Context;
use crate::exit::SUCCESS;
use crate::render::print_json;
use clap::Subcommand;
use control::{CancelArgs, ExecutionArgs, RetryArgs};
use create::{CreateArgs, DeleteArgs, UpdateArgs, ValidateArgs, WorkflowArgs};
use execute::{ExecuteArgs, RunArgs};
use execution::{ExecutionStatusArgs, ExecutionsArgs};
use list::{ListArgs, ShowArgs};
use logs::LogsArgs;
use output::OutputArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum WorkflowCommand {
    /// Store a workflow document (JSON or YAML) and print its id.
    Create(CreateArgs),
    /// Check a workflow document and report every problem, without storing it.
    Validate(ValidateArgs),
    /// Print the JSON Schema of workflow documents, for editors (`docs/workflow.schema.json`).
    Schema,
    /// List stored workflows, newest first.
    List(ListArgs),
    /// Show a workflow and its steps.
    // `--version N` picks a version of the workflow here, not the program's version.
    #[command(disable_version_flag = true)]
    Show(ShowArgs),
    /// Store a new version of a workflow's document; running executions keep their version.
    Update(UpdateArgs),
    /// Delete a workflow that has no execution left to run (`--force`: its past ones too).
    Delete(DeleteArgs),
    /// Archive a workflow: hidden from `workflow list`, cannot be executed; its executions stay.
    Archive(WorkflowArgs),
    /// Store a document (create it, reuse it, or add a version to the workflow of its name),
    /// then execute it: one command for CI.
    Run(RunArgs),
    /// Start an execution of a workflow.
    Execute(ExecuteArgs),
    /// Show the status of one execution: every step with its status, agent, duration, output.
    Execution(ExecutionStatusArgs),
    /// List executions, newest first.
    Executions(ExecutionsArgs),
    /// Cancel an execution: its running steps are ended (their whole process groups).
    Cancel(CancelArgs),
    /// Pause an execution: no new step starts; running steps finish.
    Pause(ExecutionArgs),
    /// Resume a paused execution.
    Resume(ExecutionArgs),
    /// Run a failed step of a failed or escalated execution again, and continue from there.
    ///
    /// Every other step that stopped the execution (another failed step, the steps the failure
    /// cancelled) runs again with it; a step the workflow went on past (`strategy: continue`)
    /// cannot be retried.
    Retry(RetryArgs),
    /// Print what steps wrote on stderr (their logs), every attempt, oldest first.
    ///
    /// With --json, one JSON object per line of log: {"time", "step", "attempt", "stream",
    /// "line"} (`time` is null for lines of the stored log, which keeps no time per line); with
    /// -q, the logs without the header before each attempt.
    Logs(LogsArgs),
    /// Print one step's whole output: a text as the text, anything else as JSON (pipeable).
    Output(OutputArgs),
}

/// The help of `--watch`, the same wherever it is offered.
const WATCH_HELP: &str = "Follow the execution live until it ends, then exit 0 when it \
completed, 1 otherwise (as --wait). On a terminal: a progress bar per running step (its \
agent's `::progress N` lines) and one for the execution; in a pipe: one line per event; with \
--json: one JSON object per line per event. Not with --wait.";

pub(crate) fn run(ctx: &Context, command: WorkflowCommand) -> anyhow::Result<u8> {
    match command {
        WorkflowCommand::Create(args) => create::cmd_create(ctx, &args),
        WorkflowCommand::Validate(args) => create::cmd_validate(ctx, &args),
        WorkflowCommand::Schema => {
            print_json(&do_core::workflow::json_schema())?;
            Ok(SUCCESS)
        }
        WorkflowCommand::List(args) => list::cmd_list(ctx, &args),
        WorkflowCommand::Show(args) => list::cmd_show(ctx, &args),
        WorkflowCommand::Update(args) => create::cmd_update(ctx, &args),
        WorkflowCommand::Delete(args) => create::cmd_delete(ctx, &args),
        WorkflowCommand::Archive(args) => create::cmd_archive(ctx, &args),
        WorkflowCommand::Run(args) => execute::cmd_run(ctx, &args),
        WorkflowCommand::Execute(args) => execute::cmd_execute(ctx, &args),
        WorkflowCommand::Execution(args) => execution::cmd_execution(ctx, &args),
        WorkflowCommand::Executions(args) => execution::cmd_executions(ctx, &args),
        WorkflowCommand::Cancel(args) => control::cmd_cancel(ctx, args),
        WorkflowCommand::Pause(args) => control::cmd_pause(ctx, args),
        WorkflowCommand::Resume(args) => control::cmd_resume(ctx, args),
        WorkflowCommand::Logs(args) => logs::cmd_logs(ctx, args),
        WorkflowCommand::Output(args) => output::cmd_output(ctx, args),
        WorkflowCommand::Retry(args) => control::cmd_retry(ctx, args),
    }
}
