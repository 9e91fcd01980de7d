//! `execute` and `run`: starting an execution of a stored workflow, or of a document stored on
//! the way; with `--wait`/`--watch` followed to its end, with `--dry-run` only planned.

use super::execution::wait_for;
use super::submit::{print_warnings, read_document, submit, syntax_message};
use super::{WATCH_HELP, plan::plan};
use crate::cli::one_of;
use crate::context::Context;
use crate::exit::{SUCCESS, UsageError};
use crate::render::print_json;
use anyhow::Context as _;
use clap::Args;
use do_core::model::Priority;
use do_proto::{
    ById, CreateWorkflow, ExecuteWorkflow, ExecutionData, Request, RunData, RunOutcome,
    RunWorkflow, ValidationData, WorkflowData,
};
use serde_json::Value;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub(crate) struct ExecuteArgs {
    /// The workflow's id (`wf_…`).
    #[arg(add = crate::complete::workflow_ids())]
    workflow: String,
    #[command(flatten)]
    options: ExecuteOptions,
}

/// `execute` and `run` take the same options; `args.input` reads through to them.
impl std::ops::Deref for ExecuteArgs {
    type Target = ExecuteOptions;
    fn deref(&self) -> &ExecuteOptions {
        &self.options
    }
}

/// How to execute a workflow, whichever way it is named.
#[derive(Debug, Args)]
pub(crate) struct ExecuteOptions {
    /// The execution input, a JSON object; steps read it as `input.KEY`.
    #[arg(long, value_name = "JSON", conflicts_with = "input_file")]
    input: Option<String>,
    /// Read the execution input from a JSON file (`-` for standard input).
    #[arg(long, value_name = "FILE")]
    input_file: Option<PathBuf>,
    /// Ready steps of higher-priority executions start first.
    #[arg(
        long,
        default_value = "normal",
        value_parser = one_of::<Priority>(Priority::ALL.iter().map(|p| p.as_str()))
    )]
    priority: Priority,
    /// Wait for the execution to end; exit 0 when it completed, 1 otherwise.
    #[arg(long)]
    wait: bool,
    #[arg(long, conflicts_with = "wait", help = WATCH_HELP)]
    watch: bool,
    /// Print the plan (what runs in which order, what runs in parallel, which inputs each step
    /// gets) and run nothing.
    #[arg(long, conflicts_with_all = ["wait", "watch"])]
    dry_run: bool,
    /// POST each notification (the event JSON) to this URL.
    #[arg(long, value_name = "URL")]
    notify_webhook: Option<String>,
    /// Run this shell command for each notification, with the event JSON on stdin.
    #[arg(long, value_name = "CMD")]
    notify_command: Option<String>,
    /// Post notifications to Slack: an incoming-webhook URL, or a #channel mapped in config.
    #[arg(long, value_name = "URL|#CHANNEL")]
    notify_slack: Option<String>,
    /// Mail notifications to this address (through the configured sendmail command).
    #[arg(long, value_name = "ADDR")]
    notify_email: Option<String>,
}

impl ExecuteOptions {
    /// The execution input of `--input` or `--input-file`, if any.
    fn read_input(&self) -> anyhow::Result<Option<Value>> {
        Ok(match (&self.input, &self.input_file) {
            (Some(text), _) => Some(parse_input(text, "--input")?),
            (None, Some(file)) => {
                let text = if file == Path::new("-") {
                    let mut text = String::new();
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .context("cannot read the input from standard input")?;
                    text
                } else {
                    std::fs::read_to_string(file)
                        .map_err(|e| UsageError(format!("cannot read `{}`: {e}", file.display())))?
                };
                Some(parse_input(&text, &format!("`{}`", file.display()))?)
            }
            (None, None) => None,
        })
    }

    /// The `notifications` object of the execute request, from the `--notify-…` flags.
    fn notifications(&self) -> Option<Value> {
        let mut map = serde_json::Map::new();
        for (key, value) in [
            ("webhook", &self.notify_webhook),
            ("command", &self.notify_command),
            ("slack", &self.notify_slack),
            ("email", &self.notify_email),
        ] {
            if let Some(value) = value {
                map.insert(key.to_owned(), Value::String(value.clone()));
            }
        }
        (!map.is_empty()).then_some(Value::Object(map))
    }
}

pub(super) fn cmd_execute(ctx: &Context, args: &ExecuteArgs) -> anyhow::Result<u8> {
    let input = args.read_input()?;
    let mut client = ctx.client()?;
    if args.dry_run {
        let workflow: WorkflowData = client.call(Request::GetWorkflow(ById {
            id: args.workflow.clone(),
        }))?;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "Plan of {} ({}); nothing runs:",
            workflow.workflow_id, workflow.document.name
        )?;
        plan(&workflow.document, &mut out)?;
        return Ok(SUCCESS);
    }
    let execution: ExecutionData = client.call(Request::ExecuteWorkflow(ExecuteWorkflow {
        workflow_id: args.workflow.clone(),
        input,
        priority: Some(args.priority),
        notifications: args.notifications(),
    }))?;
    report_started(ctx, &mut client, args, &execution)
}

/// Prints the execution just started, or follows it to its end (`--wait`, `--watch`).
fn report_started(
    ctx: &Context,
    client: &mut do_proto::Client,
    options: &ExecuteOptions,
    execution: &ExecutionData,
) -> anyhow::Result<u8> {
    if options.watch {
        return crate::watch::follow(ctx, &execution.execution_id);
    }
    if !options.wait {
        if ctx.json {
            print_json(execution)?;
        } else if ctx.quiet {
            writeln!(std::io::stdout(), "{}", execution.execution_id)?;
        } else {
            writeln!(
                std::io::stdout(),
                "Started execution {}.",
                execution.execution_id
            )?;
            if std::io::stdout().is_terminal() {
                writeln!(
                    std::io::stdout(),
                    "Follow it with: {}",
                    crate::program::command(&format!(
                        "workflow execution {}",
                        execution.execution_id
                    ))
                )?;
            }
        }
        return Ok(SUCCESS);
    }
    if !ctx.json && !ctx.quiet {
        writeln!(
            std::io::stderr(),
            "Started execution {}.",
            execution.execution_id
        )?;
    }
    wait_for(ctx, client, &execution.execution_id)
}

fn parse_input(text: &str, source: &str) -> anyhow::Result<Value> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        UsageError(format!(
            "{source} is not valid JSON: {} at line {}, column {}",
            syntax_message(&e),
            e.line(),
            e.column()
        ))
    })?;
    if !value.is_object() {
        return Err(UsageError(format!(
            "{source} must be a JSON object like '{{\"productName\":\"CloudSync\"}}'"
        ))
        .into());
    }
    Ok(value)
}

#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The workflow document, JSON or YAML (`.yaml`/`.yml`); `-` reads standard input. The
    /// stored workflow of the same `name` is reused when its document is the same, or gets it
    /// as a new version; with none of that name (or only archived ones), a workflow is created.
    file: PathBuf,
    #[command(flatten)]
    options: ExecuteOptions,
}

pub(super) fn cmd_run(ctx: &Context, args: &RunArgs) -> anyhow::Result<u8> {
    let options = &args.options;
    let stdin = Path::new("-");
    if args.file == stdin && options.input_file.as_deref() == Some(stdin) {
        return Err(UsageError(
            "the document and `--input-file` cannot both be read from standard input; \
             put one of them in a file"
                .to_owned(),
        )
        .into());
    }
    let input = options.read_input()?;
    if options.dry_run {
        // The daemon checks the document (and reports every problem alike); nothing is stored.
        let validation: ValidationData = match submit(ctx, &args.file, Request::ValidateWorkflow)? {
            Ok(data) => data,
            Err(code) => return Ok(code),
        };
        print_warnings(&args.file, &validation.warnings);
        let text = read_document(ctx, &args.file)?;
        let document = do_core::validate::parse_document(&text)
            .map_err(|_| {
                UsageError(format!(
                    "`{}` changed while being read",
                    args.file.display()
                ))
            })?
            .document;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "Plan of {}; nothing is stored and nothing runs:",
            document.name
        )?;
        plan(&document, &mut out)?;
        return Ok(SUCCESS);
    }
    let request = |CreateWorkflow { document }| {
        Request::RunWorkflow(RunWorkflow {
            document,
            input,
            priority: Some(options.priority),
            notifications: options.notifications(),
        })
    };
    let run: RunData = match submit(ctx, &args.file, request)? {
        Ok(data) => data,
        Err(code) => return Ok(code),
    };
    print_warnings(&args.file, &run.workflow.warnings);
    let workflow = &run.workflow;
    let what = match run.outcome {
        RunOutcome::Created => format!("created {} v{}", workflow.workflow_id, workflow.version),
        RunOutcome::Reused => format!("reused {} v{}", workflow.workflow_id, workflow.version),
        RunOutcome::Updated => {
            format!("updated {} to v{}", workflow.workflow_id, workflow.version)
        }
    };
    if !ctx.quiet {
        writeln!(std::io::stderr(), "{what}")?;
    }
    report_started(ctx, &mut ctx.client()?, options, &run.execution)
}
