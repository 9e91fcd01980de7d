//! `list` and `show`: the stored workflows, and one of them with its steps.

use crate::cli::one_of;
use crate::context::Context;
use crate::exit::SUCCESS;
use crate::render::{print_json, print_list, print_table, short_time, table};
use clap::Args;
use do_core::model::WorkflowStatus;
use do_core::workflow::{Step, StepKind};
use do_proto::{ById, ListWorkflows, Request, WorkflowData, WorkflowVersion};
use std::io::Write;

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

pub(super) fn cmd_list(ctx: &Context, args: &ListArgs) -> anyhow::Result<u8> {
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

pub(super) fn cmd_show(ctx: &Context, args: &ShowArgs) -> anyhow::Result<u8> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Look, table_in};
    use do_core::workflow::WorkflowDocument;
    use serde_json::json;

    #[test]
    fn the_steps_of_a_workflow_as_a_table() {
        let document: WorkflowDocument = serde_json::from_value(json!({"name": "launch", "steps": [
            {"id": "research", "type": "task", "agent": "analyst", "task": "research", "output": "notes"},
            {"id": "build", "type": "parallel", "steps": [
                {"id": "backend", "type": "task", "agent": "coder", "task": "api", "input": "notes", "output": "api"},
                {"id": "frontend", "type": "task", "agent": "coder", "task": "ui", "input": ["notes", "api"]},
            ]},
        ]}))
        .expect("a workflow document");
        let look = Look {
            terminal: false,
            color: false,
        };
        let mut t = table_in(look, &["STEP", "TYPE", "AGENT", "INPUT", "OUTPUT"]);
        for step in &document.steps {
            add_step_rows(&mut t, step, 0);
        }
        insta::assert_snapshot!(t.to_string());
    }
}
