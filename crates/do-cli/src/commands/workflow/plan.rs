//! What `--dry-run` prints: the plan of a document, step by step, with what each does when it
//! fails.

use super::failure_plan;
use do_core::workflow::{ErrorHandling, Step, StepKind};
use std::io::Write;

/// The plan of a document: its steps, what each does on failure, and its timeout.
pub(super) fn plan(
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
