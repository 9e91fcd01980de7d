//! `create`, `validate`, `update`, `delete`, `archive`: storing and changing workflow documents.

use super::submit::{print_warnings, read_document, report_errors, submit};
use crate::context::Context;
use crate::exit::{SUCCESS, USAGE};
use crate::render::print_json;
use clap::Args;
use do_proto::{
    ById, CreateWorkflow, DeleteWorkflow, DeletedWorkflow, Request, UpdateWorkflow, ValidationData,
    WorkflowData,
};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

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

pub(super) fn cmd_create(ctx: &Context, args: &CreateArgs) -> anyhow::Result<u8> {
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
pub(super) fn cmd_validate(ctx: &Context, args: &ValidateArgs) -> anyhow::Result<u8> {
    let validation: ValidationData = if ctx.daemon_runs()? {
        match submit(ctx, &args.file, Request::ValidateWorkflow)? {
            Ok(data) => data,
            Err(code) => return Ok(code),
        }
    } else {
        let document = read_document(ctx, &args.file)?;
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

pub(super) fn cmd_update(ctx: &Context, args: &UpdateArgs) -> anyhow::Result<u8> {
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

pub(super) fn cmd_delete(ctx: &Context, args: &DeleteArgs) -> anyhow::Result<u8> {
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

pub(super) fn cmd_archive(ctx: &Context, args: &WorkflowArgs) -> anyhow::Result<u8> {
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
