//! The changing part of an execution's page: its summary, its buttons and the step tree with
//! each step's status, attempts, output and log links.

use super::layout;
use do_core::model::{ExecutionStatus, StepStatus};
use do_core::workflow::{StepKind, WorkflowDocument};
use do_proto::{EventKind, ExecutionData, StepData};
use maud::{Markup, html};
use std::collections::HashMap;

/// Iterations of a loop shown whatever their status.
const SHOWN_ITERATIONS: usize = 50;

/// The event names the page's script listens for: any of them means "fetch the live part".
pub(crate) fn event_kinds() -> String {
    [
        EventKind::ExecutionQueued,
        EventKind::ExecutionStarted,
        EventKind::StepStarted,
        EventKind::StepCompleted,
        EventKind::StepFailed,
        EventKind::StepCancelled,
        EventKind::StepSkipped,
        EventKind::StepProgress,
        EventKind::StepRetrying,
        EventKind::ExecutionPaused,
        EventKind::ExecutionResumed,
        EventKind::ExecutionEscalated,
        EventKind::ExecutionFinished,
    ]
    .map(EventKind::as_str)
    .join(" ")
}

/// Steps done of the top-level steps, as text and a bar.
pub(crate) fn progress(e: &ExecutionData) -> Markup {
    let p = e.progress;
    html! {
        span class="progress" {
            progress max="100" value=(p.percentage) aria-label="Progress" {}
            " " (p.completed) "/" (p.total)
        }
    }
}

/// What the document says about a step that the status document does not: a condition and
/// which children are its `then`, a loop's items, a team.
enum Shape {
    Conditional {
        condition: String,
        then: Vec<String>,
    },
    Loop {
        items: String,
    },
    Team {
        team: String,
    },
    Other,
}

fn shapes(document: Option<&WorkflowDocument>) -> HashMap<String, Shape> {
    let mut shapes = HashMap::new();
    if let Some(document) = document {
        document.walk(&mut |_, step| {
            let shape = match &step.kind {
                StepKind::Conditional(c) => Shape::Conditional {
                    condition: c.condition.clone(),
                    then: c.then.steps().iter().map(|s| s.id.clone()).collect(),
                },
                StepKind::Loop(l) => Shape::Loop {
                    items: l.items.clone(),
                },
                StepKind::Team(t) => Shape::Team {
                    team: t.team_id.clone(),
                },
                _ => Shape::Other,
            };
            shapes.insert(step.id.clone(), shape);
        });
    }
    shapes
}

/// Whether the page's script follows the event stream (`stream`), polls now and then
/// (`wait`: escalated, its stream has ended) or stops (`done`).
fn follow(status: ExecutionStatus) -> &'static str {
    match status {
        ExecutionStatus::Escalated => "wait",
        s if s.is_terminal() => "done",
        _ => "stream",
    }
}

pub(crate) fn live(
    data: &ExecutionData,
    document: Option<&WorkflowDocument>,
    csrf: Option<&str>,
) -> Markup {
    let shapes = shapes(document);
    let page = Page {
        execution: &data.execution_id,
        status: data.status,
        shapes: &shapes,
        csrf,
    };
    html! {
        div class="summary" data-follow=(follow(data.status)) data-status=(data.status.as_str()) {
            dl class="facts" {
                dt { "Status" } dd id="execution-status" { (layout::status(data.status.as_str())) }
                dt { "Priority" } dd { (data.priority.as_str()) }
                dt { "Progress" } dd { (progress(data)) }
                @if let Some(step) = &data.current_step { dt { "Current step" } dd { code { (step) } } }
                @if let Some(position) = data.queue_position { dt { "Queue position" } dd { (position) } }
                dt { "Created" } dd { (layout::time(Some(&data.created_at))) }
                dt { "Started" } dd { (layout::time(data.started_at.as_deref())) }
                @if data.completed_at.is_some() {
                    dt { "Ended" } dd { (layout::time(data.completed_at.as_deref())) }
                }
                @if let Some(duration) = &data.duration { dt { "Duration" } dd { (duration) } }
                @if let Some(at) = &data.estimated_completion {
                    dt { "Estimated completion" } dd { (layout::time(Some(at))) }
                }
                @if let Some(schedule) = &data.schedule {
                    dt { "Schedule" } dd { (schedule.name) " at " (layout::time(Some(&schedule.scheduled_at))) }
                }
            }
            @if let Some(error) = &data.error {
                p class="error" id="execution-error" { strong { "Error: " } (error) }
            }
            @if let Some(reason) = &data.cancel_reason {
                p class="cancel-reason" id="cancel-reason" { strong { "Cancel reason: " } (reason) }
            }
            (page.controls())
        }
        section {
            h2 { "Steps" }
            (page.tree(data.steps.as_deref().unwrap_or_default(), None))
        }
    }
}

/// The cancel form, outside the part that is re-rendered so that typing a reason is never
/// interrupted; the page's script hides it once the execution has ended.
pub(crate) fn cancel_form(data: &ExecutionData, csrf: Option<&str>) -> Markup {
    let id = &data.execution_id;
    html! {
        @if !data.status.is_terminal() {
            form id="cancel" class="control cancel" method="post" action={ "/executions/" (id) "/cancel" }
                data-confirm={ "Cancel execution " (id) "? Running steps are ended." } {
                @if let Some(csrf) = csrf { input type="hidden" name="csrf" value=(csrf); }
                label for="cancel-reason-input" { "Reason" }
                input id="cancel-reason-input" name="reason" type="text" maxlength="500"
                    placeholder="why (optional)";
                button type="submit" name="do" value="cancel" { "Cancel execution" }
            }
        }
    }
}

struct Page<'a> {
    execution: &'a str,
    status: ExecutionStatus,
    shapes: &'a HashMap<String, Shape>,
    csrf: Option<&'a str>,
}

impl Page<'_> {
    fn csrf_field(&self) -> Markup {
        html! {
            @if let Some(csrf) = self.csrf { input type="hidden" name="csrf" value=(csrf); }
        }
    }

    /// A button in a form that asks before it posts.
    fn button(&self, action: &str, label: &str, question: &str) -> Markup {
        html! {
            form class="control" method="post" action={ "/executions/" (self.execution) "/" (action) }
                data-confirm=(question) {
                (self.csrf_field())
                button type="submit" name="do" value=(action) { (label) }
            }
        }
    }

    fn controls(&self) -> Markup {
        let id = self.execution;
        if self.status.is_terminal() {
            return html! {};
        }
        html! {
            div class="controls" {
                @if matches!(self.status, ExecutionStatus::Running | ExecutionStatus::Queued) {
                    (self.button("pause", "Pause", &format!("Pause execution {id}? Running steps finish; no new step starts.")))
                }
                @if self.status == ExecutionStatus::Paused {
                    (self.button("resume", "Resume", &format!("Resume execution {id}?")))
                }
            }
        }
    }

    fn tree(&self, steps: &[StepData], parent: Option<&StepData>) -> Markup {
        let labels: Vec<Option<String>> = steps
            .iter()
            .enumerate()
            .map(|(i, step)| self.label(parent, i, step))
            .collect();
        // A long loop shows its iterations that need a look (running, failed) and the first
        // few others, so that the page stays light whatever the number of items.
        let in_loop =
            parent.is_some_and(|p| matches!(self.shapes.get(&p.id), Some(Shape::Loop { .. })));
        let shown = |i: usize, step: &StepData| {
            !in_loop
                || i < SHOWN_ITERATIONS
                || !matches!(
                    step.status,
                    StepStatus::Completed | StepStatus::Pending | StepStatus::Skipped
                )
        };
        let hidden = steps
            .iter()
            .enumerate()
            .filter(|&(i, s)| !shown(i, s))
            .count();
        html! {
            ol class="steps" {
                @for (i, (step, label)) in steps.iter().zip(labels).enumerate() {
                    @if shown(i, step) {
                        li { (self.step(step, label.as_deref())) }
                    }
                }
                @if hidden > 0 {
                    li class="note" { "… and " (hidden) " more iterations, completed or pending; "
                        "the API's status document lists them all." }
                }
            }
        }
    }

    /// Where a child sits in its parent: a branch of a conditional, an iteration of a loop.
    fn label(&self, parent: Option<&StepData>, index: usize, step: &StepData) -> Option<String> {
        let parent = parent?;
        match self.shapes.get(&parent.id) {
            Some(Shape::Conditional { then, .. }) => Some(if then.contains(&step.id) {
                "then".to_owned()
            } else {
                "else".to_owned()
            }),
            Some(Shape::Loop { .. }) => Some(format!("item {}", index + 1)),
            _ => None,
        }
    }

    fn step(&self, step: &StepData, label: Option<&str>) -> Markup {
        let shape = self.shapes.get(&step.id);
        let failed = step.status == StepStatus::Failed;
        let retryable = failed
            && matches!(
                self.status,
                ExecutionStatus::Escalated | ExecutionStatus::Failed
            );
        let step_url = layout::encode(&step.id);
        html! {
            div class={ "step step-" (step.status.as_str()) } data-step=(step.id) data-status=(step.status.as_str()) {
                div class="step-head" {
                    @if let Some(label) = label { span class="branch" { (label) } }
                    code class="step-id" { (step.id) }
                    span class="type" { (step.step_type) }
                    (layout::status(step.status.as_str()))
                    @match shape {
                        Some(Shape::Team { team }) => {
                            span class="runner" { "team " code { (team) }
                                @if let Some(agent) = &step.agent { " → " code { (agent) } } }
                        }
                        _ => {
                            @if let Some(agent) = &step.agent {
                                span class="runner" { "agent " code { (agent) } }
                            }
                        }
                    }
                    @if let Some(duration) = &step.duration { span class="duration" { (duration) } }
                    @if let Some(p) = step.progress {
                        progress max="100" value=(p) aria-label={ "Progress of " (step.id) } {} " " (p) "%"
                    }
                }
                @match shape {
                    Some(Shape::Conditional { condition, .. }) => {
                        p class="detail" { "if " code { (condition) } }
                    }
                    Some(Shape::Loop { items }) => {
                        p class="detail" { "for each of " code { (items) } }
                    }
                    _ => {}
                }
                @if step.started_at.is_some() || step.retry_at.is_some() || !step.attempts.is_empty() {
                    dl class="facts small" {
                        @if step.started_at.is_some() { dt { "Started" } dd { (layout::time(step.started_at.as_deref())) } }
                        @if !step.attempts.is_empty() { dt { "Attempts" } dd { (step.attempts.len()) } }
                        @if let Some(at) = &step.retry_at { dt { "Retries at" } dd { (layout::time(Some(at))) } }
                        @if let Some(at) = &step.estimated_completion { dt { "Expected end" } dd { (layout::time(Some(at))) } }
                    }
                }
                @if let Some(error) = &step.error { p class="error" { (error) } }
                @if let Some(output) = &step.output {
                    details id={ "output-" (step.id) } {
                        summary { "Output" }
                        (layout::json(&serde_json::Value::Object(output.clone())))
                    }
                }
                @if !step.attempts.is_empty() {
                    ul class="attempts" {
                        @for a in &step.attempts {
                            li {
                                "attempt " (a.attempt) " " (layout::status(a.status.as_str()))
                                " " code { (a.agent) }
                                @if let Some(code) = a.exit_code { " exit " (code) }
                                " "
                                a href={ "/executions/" (self.execution) "/steps/" (step_url) "/attempts/" (a.attempt) "/log" }
                                    class="log-link" { "log of attempt " (a.attempt) }
                            }
                        }
                    }
                }
                @if retryable {
                    form class="control" method="post"
                        action={ "/executions/" (self.execution) "/steps/" (step_url) "/retry" }
                        data-confirm={ "Run step " (step.id) " again?" } {
                        (self.csrf_field())
                        button type="submit" name="do" value="retry" { "Retry " (step.id) }
                    }
                }
                @if !step.steps.is_empty() { (self.tree(&step.steps, Some(step))) }
            }
        }
    }
}
