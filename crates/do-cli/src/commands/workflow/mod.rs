//! `do workflow …`: documents and their executions.

mod failure_plan;
mod latest;
mod logs;
mod output;

use crate::cli::one_of;
use crate::context::Context;
use crate::document::{Strict, explain};
use crate::exit::{FAILURE, SUCCESS, USAGE, UsageError};
use crate::render::{print_json, print_list, print_table, short_time, table};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use do_core::model::{ExecutionStatus, Priority, WorkflowStatus};
use do_core::validate::Diagnostic;
use do_core::workflow::{ErrorHandling, Step, StepKind};
use do_proto::{
    ApiError, ById, CancelExecution, ClientError, CreateWorkflow, DeleteWorkflow, DeletedWorkflow,
    ErrorCode, Event, ExecuteWorkflow, ExecutionData, ListExecutions, ListWorkflows, Request,
    RetryStep, RunData, RunOutcome, RunWorkflow, UpdateWorkflow, ValidationData, WorkflowData,
    WorkflowVersion,
};
use logs::{LogsArgs, cmd_logs};
use serde_json::Value;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

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
    Output(output::OutputArgs),
}

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

/// The help of `--watch`, the same wherever it is offered.
const WATCH_HELP: &str = "Follow the execution live until it ends, then exit 0 when it \
completed, 1 otherwise (as --wait). On a terminal: a progress bar per running step (its \
agent's `::progress N` lines) and one for the execution; in a pipe: one line per event; with \
--json: one JSON object per line per event. Not with --wait.";

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

pub(crate) fn run(ctx: &Context, command: WorkflowCommand) -> anyhow::Result<u8> {
    match command {
        WorkflowCommand::Create(args) => cmd_create(ctx, &args),
        WorkflowCommand::Validate(args) => cmd_validate(ctx, &args),
        WorkflowCommand::Schema => {
            print_json(&do_core::workflow::json_schema())?;
            Ok(SUCCESS)
        }
        WorkflowCommand::List(args) => cmd_list(ctx, &args),
        WorkflowCommand::Show(args) => cmd_show(ctx, &args),
        WorkflowCommand::Update(args) => cmd_update(ctx, &args),
        WorkflowCommand::Delete(args) => cmd_delete(ctx, &args),
        WorkflowCommand::Archive(args) => cmd_archive(ctx, &args),
        WorkflowCommand::Run(args) => cmd_run(ctx, &args),
        WorkflowCommand::Execute(args) => cmd_execute(ctx, &args),
        WorkflowCommand::Execution(args) => cmd_execution(ctx, &args),
        WorkflowCommand::Executions(args) => cmd_executions(ctx, &args),
        WorkflowCommand::Cancel(args) => cmd_control(
            ctx,
            Request::CancelExecution(CancelExecution {
                id: latest::execution(ctx, args.last, args.execution)?,
                reason: args.reason,
            }),
            "Cancelled",
            None,
        ),
        WorkflowCommand::Pause(args) => cmd_control(
            ctx,
            Request::PauseExecution(ById {
                id: latest::execution(ctx, args.last, args.execution)?,
            }),
            "Paused",
            None,
        ),
        WorkflowCommand::Resume(args) => cmd_control(
            ctx,
            Request::ResumeExecution(ById {
                id: latest::execution(ctx, args.last, args.execution)?,
            }),
            "Resumed",
            None,
        ),
        WorkflowCommand::Logs(args) => cmd_logs(ctx, args),
        WorkflowCommand::Output(args) => output::cmd_output(ctx, args),
        WorkflowCommand::Retry(args) => {
            let (execution, step) = latest::resolve(ctx, args.last, args.execution, args.step)?;
            let step_id = step
                .ok_or_else(|| UsageError("give the id of the failed step to retry".to_owned()))?;
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
    }
}

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// The workflow document, JSON or YAML (`.yaml`/`.yml`); `-` reads standard input.
    file: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The workflow document, JSON or YAML (`.yaml`/`.yml`); `-` reads standard input.
    file: PathBuf,
    /// Treat warnings as errors (exit 2): agents that are not registered, teams that are not
    /// defined (which `run` and `execute` refuse), fields no step type has.
    #[arg(long)]
    strict: bool,
}

/// Reads and parses a document file, reporting a syntax error with its line and column. A
/// document over `limit` bytes is refused before it is read whole.
fn read_document(file: &Path, limit: u64) -> anyhow::Result<Value> {
    let too_big = |name: &str| {
        UsageError(format!(
            "`{name}` is larger than the limit of {} for a workflow document \
             (limits.document_bytes in config.toml)",
            do_daemon::show_bytes(limit)
        ))
    };
    let (name, text) = if file == Path::new("-") {
        let mut text = Vec::new();
        std::io::stdin()
            .take(limit + 1)
            .read_to_end(&mut text)
            .context("cannot read the document from standard input")?;
        ("<stdin>".to_owned(), text)
    } else {
        let mut text = Vec::new();
        std::fs::File::open(file)
            .and_then(|f| f.take(limit + 1).read_to_end(&mut text))
            .map_err(|e| UsageError(format!("cannot read `{}`: {e}", file.display())))?;
        (file.display().to_string(), text)
    };
    if text.len() as u64 > limit {
        return Err(too_big(&name).into());
    }
    let text = String::from_utf8(text)
        .map_err(|e| UsageError(format!("`{name}` is not UTF-8 text: {e}")))?;
    let yaml = file.extension().is_some_and(|e| e == "yaml" || e == "yml")
        || (file == Path::new("-") && !text.trim_start().starts_with(['{', '[']));
    if yaml {
        // YAML is read into the same JSON value, so both forms validate and store alike.
        return serde_norway::from_str::<Strict>(&text)
            .map(|strict| strict.0)
            .map_err(|e| {
                // The message may end with its own " at line L column C": said once, below.
                let message = e.to_string();
                let message = match (e.location(), message.rfind(" at line ")) {
                    (Some(_), Some(at)) => &message[..at],
                    _ => &message,
                };
                let place = e
                    .location()
                    .map(|l| format!(" at line {}, column {}", l.line(), l.column()));
                anyhow::Error::new(UsageError(format!(
                    "`{name}` is not valid YAML: {}{}",
                    explain(message),
                    place.unwrap_or_default()
                )))
            });
    }
    serde_json::from_str::<Strict>(&text)
        .map(|strict| strict.0)
        .map_err(|e| {
            anyhow::Error::new(UsageError(format!(
                "`{name}` is not valid JSON: {} at line {}, column {}",
                explain(&syntax_message(&e)),
                e.line(),
                e.column()
            )))
        })
}

/// serde_json appends " at line L column C" to its messages; the caller says where itself.
fn syntax_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Prints the daemon's verdict on an invalid document: one line per problem, with its path.
fn report_invalid(file: &Path, error: &ApiError) -> u8 {
    let diagnostics: Vec<Diagnostic> = error
        .details
        .as_ref()
        .and_then(|d| d.get("errors"))
        .and_then(|e| serde_json::from_value(e.clone()).ok())
        .unwrap_or_default();
    report_errors(file, &diagnostics)
}

/// One line per problem of an invalid document, with its path; exit 2.
fn report_errors(file: &Path, diagnostics: &[Diagnostic]) -> u8 {
    let mut err = std::io::stderr().lock();
    let count = diagnostics.len();
    let _ = writeln!(
        err,
        "error: `{}` is not a valid workflow ({count} error{}):",
        file.display(),
        if count == 1 { "" } else { "s" }
    );
    for diagnostic in diagnostics {
        let _ = writeln!(
            err,
            "  {}",
            crate::program::localize(&diagnostic.to_string())
        );
    }
    USAGE
}

fn print_warnings(file: &Path, warnings: &[Diagnostic]) {
    let mut err = std::io::stderr().lock();
    for warning in warnings {
        let warning = crate::program::localize(&warning.to_string());
        let _ = writeln!(err, "warning: {}: {warning}", file.display());
    }
}

/// Sends a document to the daemon; an invalid one is reported here and yields exit 2.
fn submit<T: serde::de::DeserializeOwned>(
    ctx: &Context,
    file: &Path,
    request: impl FnOnce(CreateWorkflow) -> Request,
) -> anyhow::Result<Result<T, u8>> {
    let limits = crate::config::FileConfig::load(&ctx.config_file)?.limits();
    let document = read_document(file, limits.document_bytes)?;
    let mut client = ctx.client()?;
    match client.call::<T>(request(CreateWorkflow { document })) {
        Ok(data) => Ok(Ok(data)),
        Err(ClientError::Api(error)) if error.code == ErrorCode::InvalidDocument => {
            Ok(Err(report_invalid(file, &error)))
        }
        Err(other) => Err(other.into()),
    }
}

fn cmd_create(ctx: &Context, args: &CreateArgs) -> anyhow::Result<u8> {
    let workflow: WorkflowData = match submit(ctx, &args.file, Request::CreateWorkflow)? {
        Ok(data) => data,
        Err(code) => return Ok(code),
    };
    print_warnings(&args.file, &workflow.warnings);
    if ctx.json {
        print_json(&workflow)?;
    } else if ctx.quiet {
        writeln!(std::io::stdout(), "{}", workflow.workflow_id)?;
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "Created workflow {} ({}, {} top-level step{}, version {}).",
            workflow.workflow_id,
            workflow.document.name,
            workflow.document.steps.len(),
            if workflow.document.steps.len() == 1 {
                ""
            } else {
                "s"
            },
            workflow.version
        )?;
        if std::io::stdout().is_terminal() {
            writeln!(
                out,
                "Run it with: {}",
                crate::program::command(&format!(
                    "workflow execute {} --wait",
                    workflow.workflow_id
                ))
            )?;
        }
    }
    Ok(SUCCESS)
}

/// Checks a document with the running daemon, which also knows the registered agents and
/// teams; with none running, checks it here and says what was left unchecked (a check never
/// starts a daemon).
fn cmd_validate(ctx: &Context, args: &ValidateArgs) -> anyhow::Result<u8> {
    let validation: ValidationData = if ctx.daemon_runs()? {
        match submit(ctx, &args.file, Request::ValidateWorkflow)? {
            Ok(data) => data,
            Err(code) => return Ok(code),
        }
    } else {
        let limits = crate::config::FileConfig::load(&ctx.config_file)?.limits();
        let document = read_document(&args.file, limits.document_bytes)?;
        let validated = match do_core::validate::parse_document(&document) {
            Ok(validated) => validated,
            Err(errors) => return Ok(report_errors(&args.file, &errors)),
        };
        writeln!(
            std::io::stderr(),
            "note: no daemon is running, so the agents and teams the steps name were not \
             checked; `{}` starts one",
            crate::program::command("daemon start")
        )?;
        ValidationData {
            name: validated.document.name,
            steps: validated.document.steps.len(),
            warnings: validated.warnings,
        }
    };
    print_warnings(&args.file, &validation.warnings);
    let count = validation.warnings.len();
    if args.strict && count > 0 {
        writeln!(
            std::io::stderr(),
            "error: `{}` has {count} warning{} and --strict treats them as errors",
            args.file.display(),
            if count == 1 { "" } else { "s" }
        )?;
        return Ok(USAGE);
    }
    if ctx.json {
        print_json(&validation)?;
    } else if !ctx.quiet {
        let warned = match count {
            0 => String::new(),
            1 => ", with 1 warning above".to_owned(),
            n => format!(", with {n} warnings above"),
        };
        writeln!(
            std::io::stdout(),
            "`{}` is a valid workflow: {} ({} top-level step{}){warned}.",
            args.file.display(),
            validation.name,
            validation.steps,
            if validation.steps == 1 { "" } else { "s" }
        )?;
    }
    Ok(SUCCESS)
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only workflows with this status.
    #[arg(
        long,
        value_parser = one_of::<WorkflowStatus>(WorkflowStatus::ALL.iter().map(|s| s.as_str()))
    )]
    status: Option<WorkflowStatus>,
    /// Only workflows of this category.
    #[arg(long)]
    category: Option<String>,
    /// Archived workflows too (`--status archived` shows only them).
    #[arg(long, conflicts_with = "status")]
    all: bool,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// Skip this many (for paging).
    #[arg(long, default_value_t = 0)]
    offset: u32,
}

fn cmd_list(ctx: &Context, args: &ListArgs) -> anyhow::Result<u8> {
    let request = Request::ListWorkflows(ListWorkflows {
        status: args.status,
        category: args.category.clone(),
        all: args.all,
        limit: args.limit,
        offset: args.offset,
    });
    let workflows: Vec<WorkflowData> = ctx.client()?.call(request)?;
    let header = [
        "ID", "NAME", "CATEGORY", "STATUS", "VERSION", "STEPS", "CREATED",
    ];
    print_list(
        ctx,
        &workflows,
        &format!(
            "No workflows. Create one with `{}`.",
            crate::program::command("workflow create FILE")
        ),
        &header,
        |w| {
            vec![
                w.workflow_id.clone(),
                w.document.name.clone(),
                w.document.category.clone().unwrap_or_default(),
                w.status.to_string(),
                w.version.to_string(),
                w.document.steps.len().to_string(),
                short_time(&w.created_at),
            ]
        },
    )
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The workflow's id (`wf_…`).
    #[arg(add = crate::complete::workflow_ids())]
    workflow: String,
    /// Draw the step tree instead: an indented tree, a Mermaid flowchart or a Graphviz digraph
    /// (`| dot -Tsvg > workflow.svg`).
    #[arg(long, value_enum, value_name = "FORMAT")]
    graph: Option<crate::graph::GraphFormat>,
    /// This version of the document instead of the current one.
    #[arg(long, value_name = "N")]
    version: Option<u32>,
}

fn cmd_show(ctx: &Context, args: &ShowArgs) -> anyhow::Result<u8> {
    let id = args.workflow.clone();
    let request = match args.version {
        Some(version) => Request::GetWorkflowVersion(WorkflowVersion { id, version }),
        None => Request::GetWorkflow(ById { id }),
    };
    let workflow: WorkflowData = ctx.client()?.call(request)?;
    if let Some(format) = args.graph {
        write!(
            std::io::stdout(),
            "{}",
            crate::graph::render(&workflow.document, format)
        )?;
        return Ok(SUCCESS);
    }
    if ctx.json {
        print_json(&workflow)?;
        return Ok(SUCCESS);
    }
    if ctx.quiet {
        // As `execution -q`: the status word.
        writeln!(std::io::stdout(), "{}", workflow.status)?;
        return Ok(SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}  {}", workflow.workflow_id, workflow.document.name)?;
    if let Some(description) = &workflow.document.description {
        writeln!(out, "{description}")?;
    }
    let mut facts = vec![
        format!("status {}", workflow.status),
        format!("version {}", workflow.version),
    ];
    if let Some(category) = &workflow.document.category {
        facts.push(format!("category {category}"));
    }
    if let Some(timeout) = workflow.document.timeout {
        facts.push(format!("timeout {timeout}s"));
    }
    facts.push(format!("created {}", short_time(&workflow.created_at)));
    writeln!(out, "{}", facts.join(" · "))?;
    drop(out);
    let mut t = table(ctx, &["STEP", "TYPE", "AGENT", "INPUT", "OUTPUT"]);
    for step in &workflow.document.steps {
        add_step_rows(&mut t, step, 0);
    }
    print_table(&t)?;
    Ok(SUCCESS)
}

fn add_step_rows(t: &mut comfy_table::Table, step: &Step, depth: usize) {
    let indent = "  ".repeat(depth);
    let (agent, input, output, children): (String, String, String, Vec<&Step>) = match &step.kind {
        StepKind::Task(task) => (
            task.agent.clone(),
            task.input
                .as_ref()
                .map(|i| i.names().join(", "))
                .unwrap_or_default(),
            task.output.clone().unwrap_or_default(),
            Vec::new(),
        ),
        StepKind::Team(team) => (
            format!("team {}", team.team_id),
            team.input
                .as_ref()
                .map(|i| i.names().join(", "))
                .unwrap_or_default(),
            team.output.clone().unwrap_or_default(),
            Vec::new(),
        ),
        StepKind::Parallel(p) => (
            String::new(),
            String::new(),
            String::new(),
            p.steps.iter().collect(),
        ),
        StepKind::Conditional(c) => {
            let mut children: Vec<&Step> = c.then.steps().iter().collect();
            if let Some(otherwise) = &c.otherwise {
                children.extend(otherwise.steps());
            }
            (
                String::new(),
                format!("if {}", c.condition),
                String::new(),
                children,
            )
        }
        StepKind::Loop(l) => (
            String::new(),
            format!("for each in {}", l.items),
            l.output.clone().unwrap_or_default(),
            vec![&*l.step],
        ),
    };
    t.add_row(vec![
        format!("{indent}{}", step.id),
        step.kind.type_name().to_owned(),
        agent,
        input,
        output,
    ]);
    for child in children {
        add_step_rows(t, child, depth + 1);
    }
}

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

fn cmd_execute(ctx: &Context, args: &ExecuteArgs) -> anyhow::Result<u8> {
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

/// Follows an execution to its end through the daemon's event stream, prints its final
/// status, and exits 0 when it completed, 1 otherwise.
fn wait_for(
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

/// The plan of a document: its steps, what each does on failure, and its timeout.
fn plan(
    document: &do_core::workflow::WorkflowDocument,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let defaults = document.error_handling.clone().unwrap_or_default();
    plan_steps(&document.steps, "", 0, &defaults, out)?;
    if let Some(timeout) = document.timeout {
        writeln!(out, "The execution times out after {timeout} s.")?;
    }
    Ok(())
}

/// One numbered line per step: a sequence counts 1, 2, 3; steps that run together share a
/// number with a letter (3a, 3b); a branch or loop body is numbered under its step (4.1).
/// Under a step, what happens when it fails.
fn plan_steps(
    steps: &[Step],
    prefix: &str,
    depth: usize,
    defaults: &ErrorHandling,
    out: &mut impl Write,
) -> std::io::Result<()> {
    for (i, step) in steps.iter().enumerate() {
        plan_step(step, &format!("{prefix}{}", i + 1), depth, defaults, out)?;
    }
    Ok(())
}

fn plan_step(
    step: &Step,
    label: &str,
    depth: usize,
    defaults: &ErrorHandling,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let inputs = |input: &Option<do_core::workflow::Inputs>| match input {
        Some(input) => format!(" with {}", input.names().join(", ")),
        None => String::new(),
    };
    let line = match &step.kind {
        StepKind::Task(t) => format!("{} runs agent {}{}", step.id, t.agent, inputs(&t.input)),
        StepKind::Team(t) => format!(
            "{} runs on a member of team {}{}",
            step.id,
            t.team_id,
            inputs(&t.input)
        ),
        StepKind::Parallel(p) => format!(
            "{} runs {} steps at once{}",
            step.id,
            p.steps.len(),
            p.max_concurrency
                .map(|m| format!(" ({m} at a time)"))
                .unwrap_or_default()
        ),
        StepKind::Conditional(c) => format!("{} checks `{}`", step.id, c.condition),
        StepKind::Loop(l) => format!(
            "{} runs its step for each item of `{}`, {} at a time",
            step.id,
            l.items,
            l.max_concurrency.unwrap_or(1)
        ),
    };
    let indent = "   ".repeat(depth);
    writeln!(out, "{indent}{label}. {line}")?;
    if let Some(handling) = failure_plan::describe(step, defaults) {
        writeln!(out, "{indent}   {handling}")?;
    }
    match &step.kind {
        StepKind::Parallel(p) => {
            for (j, child) in p.steps.iter().enumerate() {
                plan_step(
                    child,
                    &format!("{label}{}", char::from(b'a' + (j % 26) as u8)),
                    depth + 1,
                    defaults,
                    out,
                )?;
            }
        }
        StepKind::Conditional(c) => {
            writeln!(out, "{indent}   if true:")?;
            plan_steps(
                c.then.steps(),
                &format!("{label}."),
                depth + 1,
                defaults,
                out,
            )?;
            if let Some(otherwise) = &c.otherwise {
                writeln!(out, "{indent}   else:")?;
                plan_steps(
                    otherwise.steps(),
                    &format!("{label}."),
                    depth + 1,
                    defaults,
                    out,
                )?;
            }
        }
        StepKind::Loop(l) => plan_step(&l.step, &format!("{label}.1"), depth + 1, defaults, out)?,
        StepKind::Task(_) | StepKind::Team(_) => {}
    }
    Ok(())
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

/// One line per step event on stderr, so stdout keeps only the result.
fn print_event(event: &Event) {
    if let Some(mut line) = crate::events::wait_line(event) {
        // One write per line: stderr is unbuffered, and `--wait` prints two lines per step.
        line.push('\n');
        let _ = std::io::stderr().write_all(line.as_bytes());
    }
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

fn cmd_execution(ctx: &Context, args: &ExecutionStatusArgs) -> anyhow::Result<u8> {
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

fn cmd_executions(ctx: &Context, args: &ExecutionsArgs) -> anyhow::Result<u8> {
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

#[derive(Debug, Args)]
pub(crate) struct WorkflowArgs {
    /// The workflow's id (`wf_…`).
    #[arg(add = crate::complete::workflow_ids())]
    workflow: String,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    /// The workflow's id (`wf_…`).
    #[arg(add = crate::complete::workflow_ids())]
    workflow: String,
    /// The new document, JSON or YAML (`.yaml`/`.yml`); `-` reads standard input.
    file: PathBuf,
}

fn cmd_update(ctx: &Context, args: &UpdateArgs) -> anyhow::Result<u8> {
    let id = args.workflow.clone();
    let request =
        |CreateWorkflow { document }| Request::UpdateWorkflow(UpdateWorkflow { id, document });
    let workflow: WorkflowData = match submit(ctx, &args.file, request)? {
        Ok(data) => data,
        Err(code) => return Ok(code),
    };
    print_warnings(&args.file, &workflow.warnings);
    if ctx.json {
        print_json(&workflow)?;
    } else if !ctx.quiet {
        writeln!(
            std::io::stdout(),
            "Updated workflow {} ({}) to version {}.",
            workflow.workflow_id,
            workflow.document.name,
            workflow.version
        )?;
    }
    Ok(SUCCESS)
}

#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// The workflow's id (`wf_…`).
    #[arg(add = crate::complete::workflow_ids())]
    workflow: String,
    /// Delete its past executions too (their records, logs and workspaces); without it, a
    /// workflow that has any is kept (`archive` hides it and keeps them).
    #[arg(long)]
    force: bool,
}

fn cmd_delete(ctx: &Context, args: &DeleteArgs) -> anyhow::Result<u8> {
    let deleted: DeletedWorkflow = ctx.client()?.call(Request::DeleteWorkflow(DeleteWorkflow {
        id: args.workflow.clone(),
        force: args.force,
    }))?;
    if ctx.json {
        print_json(&deleted)?;
    } else if !ctx.quiet {
        let count = deleted.executions_deleted.len();
        let with = match count {
            0 => String::new(),
            1 => " and its 1 execution".to_owned(),
            n => format!(" and its {n} executions"),
        };
        writeln!(
            std::io::stdout(),
            "Deleted workflow {}{with}.",
            deleted.workflow_id
        )?;
    }
    Ok(SUCCESS)
}

fn cmd_archive(ctx: &Context, args: &WorkflowArgs) -> anyhow::Result<u8> {
    let workflow: WorkflowData = ctx.client()?.call(Request::ArchiveWorkflow(ById {
        id: args.workflow.clone(),
    }))?;
    if ctx.json {
        print_json(&workflow)?;
    } else if !ctx.quiet {
        writeln!(
            std::io::stdout(),
            "Archived workflow {} ({}); its executions stay readable.",
            workflow.workflow_id,
            workflow.document.name
        )?;
    }
    Ok(SUCCESS)
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

fn cmd_run(ctx: &Context, args: &RunArgs) -> anyhow::Result<u8> {
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
        let limits = crate::config::FileConfig::load(&ctx.config_file)?.limits();
        let text = read_document(&args.file, limits.document_bytes)?;
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
