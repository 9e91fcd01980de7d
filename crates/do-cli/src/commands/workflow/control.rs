//! `cancel`, `pause`, `resume`, `retry`: decisions about a running or stopped execution.

use super::execution::wait_for;
use super::{WATCH_HELP, latest};
use crate::context::Context;
use crate::exit::{SUCCESS, UsageError};
use crate::render::print_json;
use clap::Args;
use do_proto::{ById, CancelExecution, ExecutionData, Request, RetryStep};
use std::io::Write;

#[derive(Debug, Args)]
pub(crate) struct CancelArgs {
    /// The execution's id (`exec_…`), or --last.
    #[arg(add = crate::complete::execution_ids(), required_unless_present = "last")]
    execution: Option<String>,
    #[arg(long, help = latest::LAST_HELP)]
    last: bool,
    /// Why; kept in the execution's status document.
    #[arg(long)]
    reason: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct RetryArgs {
    /// The execution's id (`exec_…`), or --last.
    #[arg(add = crate::complete::execution_ids(), required_unless_present = "last")]
    execution: Option<String>,
    /// The failed step's id (inside a loop: `process[2]`).
    #[arg(add = crate::complete::step_ids(), required_unless_present = "last")]
    step: Option<String>,
    #[arg(long, help = latest::LAST_STEP_HELP)]
    last: bool,
    /// Wait for the execution to end; exit 0 when it completed, 1 otherwise.
    #[arg(long)]
    wait: bool,
    #[arg(long, conflicts_with = "wait", help = WATCH_HELP)]
    watch: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExecutionArgs {
    /// The execution's id (`exec_…`), or --last.
    #[arg(add = crate::complete::execution_ids(), required_unless_present = "last")]
    execution: Option<String>,
    #[arg(long, help = latest::LAST_HELP)]
    last: bool,
    /// Wait for the execution to end; exit 0 when it completed, 1 otherwise.
    #[arg(long)]
    wait: bool,
}

pub(super) fn cmd_cancel(ctx: &Context, args: CancelArgs) -> anyhow::Result<u8> {
    cmd_control(
        ctx,
        Request::CancelExecution(CancelExecution {
            id: latest::execution(ctx, args.last, args.execution)?,
            reason: args.reason,
        }),
        "Cancelled",
        None,
    )
}

pub(super) fn cmd_pause(ctx: &Context, args: ExecutionArgs) -> anyhow::Result<u8> {
    cmd_control(
        ctx,
        Request::PauseExecution(ById {
            id: latest::execution(ctx, args.last, args.execution)?,
        }),
        "Paused",
        None,
    )
}

pub(super) fn cmd_resume(ctx: &Context, args: ExecutionArgs) -> anyhow::Result<u8> {
    cmd_control(
        ctx,
        Request::ResumeExecution(ById {
            id: latest::execution(ctx, args.last, args.execution)?,
        }),
        "Resumed",
        None,
    )
}

pub(super) fn cmd_retry(ctx: &Context, args: RetryArgs) -> anyhow::Result<u8> {
    let (execution, step) = latest::resolve(ctx, args.last, args.execution, args.step)?;
    let step_id =
        step.ok_or_else(|| UsageError("give the id of the failed step to retry".to_owned()))?;
    let request = Request::RetryStep(RetryStep {
        id: execution.clone(),
        step_id,
    });
    if args.watch {
        let _: ExecutionData = ctx.client()?.call(request)?;
        return crate::watch::follow(ctx, &execution);
    }
    let wait = args.wait.then_some(execution.as_str());
    cmd_control(ctx, request, "Retrying a step of", wait)
}

/// Sends a decision about an execution and prints its status afterwards.
fn cmd_control(
    ctx: &Context,
    request: Request,
    done: &str,
    wait: Option<&str>,
) -> anyhow::Result<u8> {
    let mut client = ctx.client()?;
    let execution: ExecutionData = client.call(request)?;
    if let Some(id) = wait {
        return wait_for(ctx, &mut client, id);
    }
    if ctx.json {
        print_json(&execution)?;
    } else if !ctx.quiet {
        writeln!(
            std::io::stdout(),
            "{done} {} (now {}).",
            execution.execution_id,
            execution.status
        )?;
    }
    Ok(SUCCESS)
}
