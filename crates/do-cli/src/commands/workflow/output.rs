//! `do workflow output EXEC STEP`: one step's whole output, as it is, for a pipe.

use super::latest;
use crate::context::Context;
use crate::exit::{FAILURE, SUCCESS, UsageError};
use crate::render::print_json;
use clap::Args;
use do_proto::{ById, ExecutionData, Request, StepData};
use serde_json::Value;
use std::io::Write;

#[derive(Debug, Args)]
pub(crate) struct OutputArgs {
    /// The execution's id (`exec_…`), or --last.
    #[arg(add = crate::complete::execution_ids(), required_unless_present = "last")]
    execution: Option<String>,
    /// The step's id (inside a loop: `process[2]`).
    #[arg(add = crate::complete::step_ids())]
    step: Option<String>,
    #[arg(long, help = latest::LAST_STEP_HELP)]
    last: bool,
}

/// Prints a text output as the text (with a final newline), any other output as pretty JSON;
/// `--json` prints every output as JSON (a text as a JSON string). The output is the value
/// alone, without the name the status document wraps it in. Exit 1 when the step has none yet.
pub(crate) fn cmd_output(ctx: &Context, args: OutputArgs) -> anyhow::Result<u8> {
    let (execution_id, step) = latest::resolve(ctx, args.last, args.execution, args.step)?;
    let Some(step_id) = step else {
        return Err(UsageError("give the step whose output to print".to_owned()).into());
    };
    let execution: ExecutionData = ctx.client()?.call(Request::GetExecution(ById {
        id: execution_id.clone(),
    }))?;
    let Some(step) = find(execution.steps.as_deref().unwrap_or_default(), &step_id) else {
        return Err(UsageError(format!(
            "execution {execution_id} has no step `{step_id}`; `{}` lists its steps",
            crate::program::command(&format!("workflow execution {execution_id}"))
        ))
        .into());
    };
    let Some(value) = step.output.as_ref().and_then(|map| map.values().next()) else {
        writeln!(
            std::io::stderr(),
            "error: step `{step_id}` of {execution_id} has no output (it is {})",
            step.status
        )?;
        return Ok(FAILURE);
    };
    match value {
        Value::String(text) if !ctx.json => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            if !text.ends_with('\n') {
                out.write_all(b"\n")?;
            }
        }
        other => print_json(other)?,
    }
    Ok(SUCCESS)
}

fn find<'a>(steps: &'a [StepData], id: &str) -> Option<&'a StepData> {
    steps.iter().find_map(|step| {
        (step.id == id)
            .then_some(step)
            .or_else(|| find(&step.steps, id))
    })
}
