//! `--last`: the latest execution, wherever a command takes an execution's id, so that no id
//! has to be copied by hand.

use crate::context::Context;
use crate::exit::UsageError;
use do_proto::{ApiError, ClientError, ErrorCode, ExecutionData, ListExecutions, Request};

/// The help of `--last`, the same on every command that takes it.
pub(crate) const LAST_HELP: &str = "The latest execution (the one created last), instead of \
its id";

/// The help of `--last` on the commands that take a STEP after the execution.
pub(crate) const LAST_STEP_HELP: &str = "The latest execution (the one created last), instead \
of its id; STEP is then the only value given (`--last build`)";

/// The execution a command names, and the step after it: `EXEC [STEP]` as typed, or with
/// `--last` the latest execution, the one positional typed then being the step.
pub(crate) fn resolve(
    ctx: &Context,
    last: bool,
    execution: Option<String>,
    step: Option<String>,
) -> anyhow::Result<(String, Option<String>)> {
    match (last, execution, step) {
        (false, Some(execution), step) => Ok((execution, step)),
        (false, None, _) => {
            Err(UsageError("give the execution's id (`exec_…`) or --last".to_owned()).into())
        }
        (true, step, None) | (true, None, step) => Ok((latest(ctx)?, step)),
        (true, Some(execution), Some(_)) => Err(UsageError(format!(
            "`{execution}` and --last both name an execution; give one of them"
        ))
        .into()),
    }
}

/// For commands that take no step: the execution, named or `--last`.
pub(crate) fn execution(
    ctx: &Context,
    last: bool,
    execution: Option<String>,
) -> anyhow::Result<String> {
    if last && let Some(execution) = execution {
        return Err(UsageError(format!(
            "`{execution}` and --last both name an execution; give one of them"
        ))
        .into());
    }
    Ok(resolve(ctx, last, execution, None)?.0)
}

/// The id of the execution created last, across all workflows.
fn latest(ctx: &Context) -> anyhow::Result<String> {
    let newest: Vec<ExecutionData> =
        ctx.client()?.call(Request::ListExecutions(ListExecutions {
            workflow_id: None,
            status: None,
            limit: 1,
            offset: 0,
        }))?;
    match newest.into_iter().next() {
        Some(execution) => Ok(execution.execution_id),
        None => Err(ClientError::Api(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "there is no execution yet for --last; start one with `{}`",
                crate::program::command("workflow execute WF")
            ),
        ))
        .into()),
    }
}
