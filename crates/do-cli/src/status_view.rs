//! `do workflow execution EXEC`: an execution's status for people. A line of facts, a table of
//! its steps, the errors with the agents' last lines, and, when it waits for a person, what to
//! type next.

use crate::duration;
use crate::events::{continue_hint, excerpt, first_line};
use crate::render::{Look, paint_status_in, short_time, short_value, status_cell_in, table_in};
use do_core::model::{ExecutionStatus, StepStatus};
use do_proto::{ExecutionData, StepData};
use std::io::Write;
use std::time::{Duration, SystemTime};

/// Writes the status of `execution` as seen at `now`.
pub(crate) fn write_execution(
    look: Look,
    out: &mut impl Write,
    execution: &ExecutionData,
    now: SystemTime,
) -> std::io::Result<()> {
    let progress = execution.progress;
    writeln!(
        out,
        "{}  {} ({})",
        execution.execution_id, execution.workflow_name, execution.workflow_id
    )?;
    let status = paint_status_in(look, execution.status.as_str());
    let mut facts = vec![
        match execution.queue_position {
            Some(position) => format!("{status} (#{position} in the queue)"),
            None => status,
        },
        format!(
            "{}/{} steps ({}%)",
            progress.completed, progress.total, progress.percentage
        ),
        format!("priority {}", execution.priority),
        format!("workflow version {}", execution.workflow_version),
    ];
    if let Some(started) = &execution.started_at {
        facts.push(format!("started {}", short_time(started)));
    }
    if let Some(ms) = execution.duration_ms {
        facts.push(format!("took {}", duration::human_ms(ms)));
    }
    // A person decides when a paused or escalated execution goes on: no end to foretell.
    let waiting = matches!(
        execution.status,
        ExecutionStatus::Paused | ExecutionStatus::Escalated
    );
    if let Some(estimate) = execution.estimated_completion.as_ref().filter(|_| !waiting) {
        facts.push(format!("expected to end {}", short_time(estimate)));
    }
    if let Some(current) = &execution.current_step
        && !execution.status.is_terminal()
    {
        facts.push(format!("current step {current}"));
    }
    writeln!(out, "{}", facts.join(" · "))?;
    let mut t = table_in(look, &["STEP", "STATUS", "AGENT", "DURATION", "OUTPUT"]);
    let mut rows = Rows {
        look,
        now,
        escalated: execution.status == ExecutionStatus::Escalated,
        errors: Vec::new(),
    };
    for step in execution.steps.iter().flatten() {
        rows.add(&mut t, step, 0);
    }
    for line in t.lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    for (step, error) in &rows.errors {
        writeln!(out, "{step}: {}", excerpt(error, "    "))?;
    }
    if let Some(error) = &execution.error
        && execution.status != ExecutionStatus::Completed
    {
        // The failed step's lines are above already.
        if rows.errors.is_empty() {
            writeln!(out, "error: {}", excerpt(error, "    "))?;
        } else {
            writeln!(out, "error: {}", first_line(error))?;
        }
    }
    if execution.status == ExecutionStatus::Escalated {
        let step = escalated_step(execution.steps.as_deref().unwrap_or_default());
        writeln!(
            out,
            "{}",
            continue_hint(&execution.execution_id, step.map(|s| s.id.as_str()))
        )?;
    }
    Ok(())
}

/// The failed task an escalated execution waits on: the last one to fail.
fn escalated_step(steps: &[StepData]) -> Option<&StepData> {
    fn failed<'a>(steps: &'a [StepData], out: &mut Vec<&'a StepData>) {
        for step in steps {
            if step.steps.is_empty() && step.status == StepStatus::Failed {
                out.push(step);
            }
            failed(&step.steps, out);
        }
    }
    let mut all = Vec::new();
    failed(steps, &mut all);
    all.into_iter()
        .max_by(|a, b| a.completed_at.cmp(&b.completed_at))
}

/// Whether a task under `step` (or `step` itself) is running.
fn runs(step: &StepData) -> bool {
    if step.steps.is_empty() {
        step.status == StepStatus::Running
    } else {
        step.steps.iter().any(runs)
    }
}

struct Rows {
    look: Look,
    now: SystemTime,
    escalated: bool,
    /// The failed tasks and their errors, shown under the table.
    errors: Vec<(String, String)>,
}

impl Rows {
    fn add(&mut self, t: &mut comfy_table::Table, step: &StepData, depth: usize) {
        let output = step
            .output
            .as_ref()
            .and_then(|map| map.values().next())
            .map(|value| short_value(value, 60))
            .unwrap_or_default();
        t.add_row(vec![
            comfy_table::Cell::new(format!("{}{}", "  ".repeat(depth), step.id)),
            status_cell_in(self.look, &self.status(step)),
            step.agent.clone().unwrap_or_default().into(),
            step.duration_ms
                .map(duration::human_ms)
                .unwrap_or_default()
                .into(),
            output.into(),
        ]);
        if let Some(error) = &step.error
            && step.steps.is_empty()
        {
            self.errors.push((step.id.clone(), error.clone()));
        }
        for child in &step.steps {
            self.add(t, child, depth + 1);
        }
    }

    /// The status column: with a running task's progress, a retry's number and time, and
    /// `escalated` for a composite step that holds the failure a person must decide on.
    fn status(&self, step: &StepData) -> String {
        match step.status {
            StepStatus::Running if !step.steps.is_empty() && self.escalated && !runs(step) => {
                "escalated".to_owned()
            }
            StepStatus::Running => match step.progress {
                Some(p) => format!("running {p}%"),
                None => "running".to_owned(),
            },
            StepStatus::Retrying => retry_status(step, self.now),
            status => status.to_string(),
        }
    }
}

/// `retry 2/3 in 4.0 s`: the next retry's number (the failed attempts so far), of how many, and
/// how long until it starts.
fn retry_status(step: &StepData, now: SystemTime) -> String {
    let next = step.attempts.len();
    let of = step
        .max_retries
        .map(|max| format!("/{max}"))
        .unwrap_or_default();
    let at = step
        .retry_at
        .as_deref()
        .and_then(|at| humantime::parse_rfc3339_weak(at).ok());
    match at {
        Some(at) => {
            let left = at.duration_since(now).unwrap_or(Duration::ZERO);
            format!("retry {next}{of} in {}", duration::human(left))
        }
        None => format!("retry {next}{of}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PLAIN: Look = Look {
        terminal: false,
        color: false,
    };

    fn shown(execution: serde_json::Value, now: &str) -> String {
        let execution: ExecutionData = serde_json::from_value(execution).expect("a status");
        let now = humantime::parse_rfc3339_weak(now).expect("a time");
        let mut out = Vec::new();
        write_execution(PLAIN, &mut out, &execution, now).expect("written");
        // Hints name the program as it was started: here, the test binary.
        String::from_utf8(out)
            .expect("UTF-8")
            .replace(crate::program::name(), "dowf")
    }

    const FAILED: &str =
        "agent `check` exited with status 3; last lines of its stderr:\ntests failed\n2 of 9 red";

    #[test]
    fn an_escalated_execution() {
        insta::assert_snapshot!(shown(
            json!({
                "executionId": "exec_1", "workflowId": "wf_1", "workflowName": "gate",
                "workflowVersion": 1, "status": "escalated", "priority": "normal",
                "currentStep": "testing",
                "progress": {"completed": 1, "total": 3, "percentage": 33},
                "createdAt": "2026-12-02T12:00:00.000Z", "startedAt": "2026-12-02T12:00:00.000Z",
                "error": format!("step `suite[1]` failed: {FAILED}"),
                "estimatedCompletion": "2026-12-02T12:05:00.000Z",
                "steps": [
                    {"id": "build", "type": "task", "status": "completed", "agent": "make",
                     "durationMs": 184000, "duration": "3.1 minutes", "output": {"build": {"ok": true}}},
                    {"id": "testing", "type": "loop", "status": "running", "steps": [
                        {"id": "suite[0]", "type": "task", "status": "completed", "agent": "check",
                         "durationMs": 1234, "output": {"suite[0]": "passed"},
                         "completedAt": "2026-12-02T12:03:05.000Z"},
                        {"id": "suite[1]", "type": "task", "status": "failed", "agent": "check",
                         "durationMs": 57, "error": FAILED,
                         "completedAt": "2026-12-02T12:03:06.000Z"}]},
                    {"id": "deploy", "type": "task", "status": "pending", "agent": "ship"}]
            }),
            "2026-12-02T12:04:00Z"
        ));
    }

    #[test]
    fn a_step_waiting_for_its_retry() {
        insta::assert_snapshot!(shown(
            json!({
                "executionId": "exec_2", "workflowId": "wf_2", "workflowName": "flaky",
                "workflowVersion": 2, "status": "running", "priority": "high",
                "currentStep": "fetch",
                "progress": {"completed": 0, "total": 2, "percentage": 0},
                "createdAt": "2026-12-02T12:00:00.000Z", "startedAt": "2026-12-02T12:00:00.000Z",
                "estimatedCompletion": "2026-12-02T12:00:30.000Z",
                "steps": [
                    {"id": "fetch", "type": "task", "status": "retrying", "agent": "curl",
                     "retryAt": "2026-12-02T12:00:14.000Z", "maxRetries": 3,
                     "error": "agent `curl` exited with status 7",
                     "attempts": [
                        {"attempt": 1, "status": "failed", "agent": "curl",
                         "startedAt": "2026-12-02T12:00:00.000Z"},
                        {"attempt": 2, "status": "failed", "agent": "curl",
                         "startedAt": "2026-12-02T12:00:05.000Z"}]},
                    {"id": "parse", "type": "task", "status": "running", "agent": "jq", "progress": 40}]
            }),
            "2026-12-02T12:00:10Z"
        ));
    }
}
