//! `execution` and `executions`: the status of one execution (once, `--wait`ed for, or
//! `--watch`ed) and the list of them.

use super::{WATCH_HELP, latest};
use crate::cli::one_of;
use crate::context::Context;
use crate::exit::{FAILURE, SUCCESS};
use crate::render::{print_json, print_list, short_time};
use clap::Args;
use do_core::model::ExecutionStatus;
use do_proto::{ById, Event, ExecutionData, ListExecutions, Request};
use std::io::Write;

#[derive(Debug, Args)]
pub(crate) struct ExecutionStatusArgs {
    /// The execution's id (`exec_…`), or --last.
    #[arg(add = crate::complete::execution_ids(), required_unless_present = "last")]
    execution: Option<String>,
    #[arg(long, help = latest::LAST_HELP)]
    last: bool,
    /// Wait for the execution to end; exit 0 when it completed, 1 otherwise.
    #[arg(long)]
    wait: bool,
    #[arg(long, conflicts_with = "wait", help = WATCH_HELP)]
    watch: bool,
}

pub(super) fn cmd_execution(ctx: &Context, args: &ExecutionStatusArgs) -> anyhow::Result<u8> {
    let id = latest::execution(ctx, args.last, args.execution.clone())?;
    if args.watch {
        return crate::watch::follow(ctx, &id);
    }
    if args.wait {
        return wait_for(ctx, &mut ctx.client()?, &id);
    }
    let execution: ExecutionData = ctx.client()?.call(Request::GetExecution(ById { id }))?;
    if ctx.json {
        print_json(&execution)?;
    } else if ctx.quiet {
        writeln!(std::io::stdout(), "{}", execution.status)?;
    } else {
        print_execution(ctx, &execution)?;
    }
    Ok(SUCCESS)
}

fn print_execution(ctx: &Context, execution: &ExecutionData) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let look = crate::render::Look::of(ctx);
    crate::status_view::write_execution(look, &mut out, execution, std::time::SystemTime::now())?;
    Ok(())
}

#[derive(Debug, Args)]
pub(crate) struct ExecutionsArgs {
    /// Only executions of this workflow.
    #[arg(long, add = crate::complete::workflow_ids())]
    workflow: Option<String>,
    /// Only executions with this status.
    #[arg(
        long,
        value_parser = one_of::<ExecutionStatus>(ExecutionStatus::ALL.iter().map(|s| s.as_str()))
    )]
    status: Option<ExecutionStatus>,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Skip this many (for paging).
    #[arg(long, default_value_t = 0)]
    offset: u32,
}

pub(super) fn cmd_executions(ctx: &Context, args: &ExecutionsArgs) -> anyhow::Result<u8> {
    let executions: Vec<ExecutionData> =
        ctx.client()?.call(Request::ListExecutions(ListExecutions {
            workflow_id: args.workflow.clone(),
            status: args.status,
            limit: args.limit,
            offset: args.offset,
        }))?;
    let header = [
        "ID", "WORKFLOW", "VERSION", "STATUS", "PRIORITY", "PROGRESS", "CREATED", "DURATION",
    ];
    print_list(
        ctx,
        &executions,
        &format!(
            "No executions. Start one with `{}`.",
            crate::program::command("workflow execute WF")
        ),
        &header,
        |e| {
            vec![
                e.execution_id.clone(),
                e.workflow_name.clone(),
                e.workflow_version.to_string(),
                match e.queue_position {
                    Some(position) => format!("{} #{position}", e.status),
                    None => e.status.to_string(),
                },
                e.priority.to_string(),
                format!("{}/{}", e.progress.completed, e.progress.total),
                short_time(&e.created_at),
                e.duration_ms
                    .map(crate::duration::human_ms)
                    .unwrap_or_default(),
            ]
        },
    )
}

/// Follows an execution to its end through the daemon's event stream, prints its final
/// status, and exits 0 when it completed, 1 otherwise.
pub(super) fn wait_for(
    ctx: &Context,
    client: &mut do_proto::Client,
    execution_id: &str,
) -> anyhow::Result<u8> {
    let quiet = ctx.json || ctx.quiet;
    client.watch(execution_id, |event| {
        if !quiet {
            print_event(event);
        }
    })?;
    let finished: ExecutionData = client.call(Request::GetExecution(ById {
        id: execution_id.to_owned(),
    }))?;
    if ctx.json {
        print_json(&finished)?;
    } else if !ctx.quiet {
        print_execution(ctx, &finished)?;
    }
    Ok(if finished.status == ExecutionStatus::Completed {
        SUCCESS
    } else {
        FAILURE
    })
}

/// One line per step event on stderr, so stdout keeps only the result.
fn print_event(event: &Event) {
    if let Some(mut line) = crate::events::wait_line(event) {
        // One write per line: stderr is unbuffered, and `--wait` prints two lines per step.
        line.push('\n');
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
}
