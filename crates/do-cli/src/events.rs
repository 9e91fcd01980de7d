//! An execution's events in words, the same in every view: the lines of `--watch` in a pipe,
//! the lines `--wait` prints on stderr, and the lines above the bars of `--watch` on a
//! terminal. A failure always comes with the excerpt of the agent's stderr that its error
//! quotes, indented under it.

use crate::duration;
use do_proto::{Event, EventKind};
use serde_json::Value;
use std::time::Duration;

/// At most this many lines of an error are shown under its first line…
const EXCERPT_LINES: usize = 10;
/// … each cut at this many characters.
const EXCERPT_WIDTH: usize = 200;

/// `error` as shown under an event: its first line, then the lines after it (the last lines of
/// the agent's stderr) each on its own line after `indent`, bounded.
pub(crate) fn excerpt(error: &str, indent: &str) -> String {
    let mut lines = error.lines();
    let mut text = lines.next().unwrap_or_default().to_owned();
    let rest: Vec<&str> = lines.collect();
    let skipped = rest.len().saturating_sub(EXCERPT_LINES);
    if skipped > 0 {
        text.push_str(&format!("\n{indent}[{skipped} earlier lines left out]"));
    }
    for line in &rest[skipped..] {
        text.push('\n');
        text.push_str(indent);
        if line.chars().count() > EXCERPT_WIDTH {
            text.extend(line.chars().take(EXCERPT_WIDTH - 1));
            text.push('…');
        } else {
            text.push_str(line);
        }
    }
    text
}

fn text<'a>(event: &'a Event, key: &str) -> &'a str {
    event.data.get(key).and_then(Value::as_str).unwrap_or("")
}

fn number(event: &Event, key: &str) -> Option<u64> {
    event.data.get(key).and_then(Value::as_u64)
}

/// `retry 2/3 in 4.0 s` of a `step.retrying` event.
pub(crate) fn retry_words(event: &Event) -> String {
    let delay = event
        .data
        .get("delay")
        .and_then(Value::as_f64)
        .filter(|d| d.is_finite() && *d >= 0.0)
        .unwrap_or(0.0);
    let next = number(event, "attempt").unwrap_or(0);
    let of = match number(event, "maxRetries") {
        Some(max) => format!("/{max}"),
        None => String::new(),
    };
    format!(
        "retry {next}{of} in {}",
        duration::human(Duration::from_secs_f64(delay))
    )
}

/// What a person does about an escalated execution: the commands, named as this program was
/// started.
pub(crate) fn continue_hint(execution_id: &str, step: Option<&str>) -> String {
    let program = crate::program::name();
    format!(
        "Fix the cause, then continue with `{program} workflow retry {execution_id} {}`, or stop \
         with `{program} workflow cancel {execution_id}`.",
        step.unwrap_or("STEP")
    )
}

/// A percentage reported by a `step.progress` event, at most 100.
pub(crate) fn percentage(event: &Event) -> Option<u64> {
    number(event, "percentage").map(|p| p.min(100))
}

/// An event on one line (more when it quotes an agent's stderr): its type, its step, and what
/// its data says. The plain view of `--watch`.
pub(crate) fn plain_line(event: &Event) -> String {
    let kind = event.kind.as_str();
    let step = event.step_id.as_deref().unwrap_or("");
    let indent = "    ";
    match event.kind {
        EventKind::ExecutionQueued | EventKind::ExecutionStarted => {
            format!("{kind} {}", event.execution_id)
        }
        EventKind::StepStarted => match event.data.get("agent").and_then(Value::as_str) {
            Some(agent) => format!("{kind} {step} (agent {agent})"),
            None => format!("{kind} {step}"),
        },
        EventKind::StepProgress => format!("{kind} {step} {}%", percentage(event).unwrap_or(0)),
        EventKind::StepCompleted | EventKind::StepSkipped => format!("{kind} {step}"),
        EventKind::StepCancelled => match text(event, "error") {
            "" => format!("{kind} {step}"),
            error => format!("{kind} {step}: {}", excerpt(error, indent)),
        },
        EventKind::StepFailed => {
            format!("{kind} {step}: {}", excerpt(text(event, "error"), indent))
        }
        EventKind::StepRetrying => format!(
            "{kind} {step} ({}): {}",
            retry_words(event),
            excerpt(text(event, "error"), indent)
        ),
        EventKind::ExecutionPaused | EventKind::ExecutionResumed => kind.to_owned(),
        EventKind::ExecutionEscalated => format!(
            "{kind}: {}\n{}",
            first_line(text(event, "error")),
            continue_hint(&event.execution_id, event.step_id.as_deref())
        ),
        EventKind::Notification => format!(
            "{kind} {} {}",
            text(event, "channel"),
            if event.data.get("ok") == Some(&Value::Bool(true)) {
                "delivered"
            } else {
                "not delivered"
            }
        ),
        EventKind::NotificationsDone => kind.to_owned(),
        // The failed step's event showed the excerpt already.
        EventKind::ExecutionFinished => match text(event, "error") {
            "" => format!("{kind} {}", text(event, "status")),
            error => format!("{kind} {}: {}", text(event, "status"), first_line(error)),
        },
    }
}

/// An error's first line, for where its excerpt is not shown: without the announcement of the
/// lines that would follow.
pub(crate) fn first_line(error: &str) -> &str {
    let line = error.lines().next().unwrap_or_default();
    line.strip_suffix(EXCERPT_FOLLOWS).unwrap_or(line)
}

/// How the runner ends the first line of an error that quotes the agent's stderr.
const EXCERPT_FOLLOWS: &str = "; last lines of its stderr:";

/// The line `--wait` prints on stderr for a step's event or a pause; `None` for the events it
/// leaves out.
pub(crate) fn wait_line(event: &Event) -> Option<String> {
    let step = event.step_id.as_deref().unwrap_or("");
    // Under the step's name: `  failed    ` is 12 wide.
    let indent = " ".repeat(14);
    Some(match event.kind {
        EventKind::StepStarted => format!("  started   {step}"),
        EventKind::StepCompleted => format!("  completed {step}"),
        EventKind::StepSkipped => format!("  skipped   {step}"),
        EventKind::StepFailed => format!(
            "  failed    {step}: {}",
            excerpt(text(event, "error"), &indent)
        ),
        EventKind::StepCancelled => format!("  cancelled {step}"),
        EventKind::StepRetrying => format!(
            "  retrying  {step} ({}): {}",
            retry_words(event),
            excerpt(text(event, "error"), &indent)
        ),
        // The status printed after it says what to do.
        EventKind::ExecutionEscalated => format!("escalated: {}", first_line(text(event, "error"))),
        EventKind::ExecutionPaused => "paused".to_owned(),
        EventKind::ExecutionResumed => "resumed".to_owned(),
        EventKind::StepProgress
        | EventKind::Notification
        | EventKind::NotificationsDone
        | EventKind::ExecutionQueued
        | EventKind::ExecutionStarted
        | EventKind::ExecutionFinished => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(kind: EventKind, step: Option<&str>, data: Value) -> Event {
        Event {
            execution_id: "exec_1".into(),
            seq: 1,
            at: "2026-12-02T12:00:01.000Z".into(),
            kind,
            step_id: step.map(str::to_owned),
            data,
        }
    }

    const FAILED: &str =
        "agent `gated` exited with status 3; last lines of its stderr:\nchecking\nboom: disk full";

    #[test]
    fn a_failure_shows_the_agents_last_lines_in_every_view() {
        let failed = event(
            EventKind::StepFailed,
            Some("three"),
            json!({"status": "failed", "error": FAILED}),
        );
        assert_eq!(
            plain_line(&failed),
            "step.failed three: agent `gated` exited with status 3; last lines of its stderr:\n    checking\n    boom: disk full"
        );
        let wait = wait_line(&failed).expect("a line");
        assert!(
            wait.ends_with("stderr:\n              checking\n              boom: disk full"),
            "{wait}"
        );
    }

    #[test]
    fn an_excerpt_is_bounded() {
        let long: String = (0..30).map(|i| format!("\nline {i}")).collect();
        let shown = excerpt(&format!("failed{long}"), "  ");
        assert_eq!(shown.lines().count(), 1 + 1 + EXCERPT_LINES, "{shown}");
        assert!(shown.contains("[20 earlier lines left out]"), "{shown}");
        assert!(shown.ends_with("  line 29"), "{shown}");
        let wide = excerpt(&format!("failed\n{}", "x".repeat(500)), "");
        assert_eq!(
            wide.lines().nth(1).map(|l| l.chars().count()),
            Some(EXCERPT_WIDTH)
        );
    }

    #[test]
    fn a_retry_says_which_and_when() {
        let retrying = event(
            EventKind::StepRetrying,
            Some("flaky"),
            json!({"error": "agent `f` exited with status 1", "delay": 4.0, "attempt": 2, "maxRetries": 3}),
        );
        assert_eq!(
            plain_line(&retrying),
            "step.retrying flaky (retry 2/3 in 4.0 s): agent `f` exited with status 1"
        );
        assert_eq!(
            wait_line(&retrying).as_deref(),
            Some("  retrying  flaky (retry 2/3 in 4.0 s): agent `f` exited with status 1")
        );
    }

    #[test]
    fn a_skipped_step_is_skipped() {
        let skipped = event(
            EventKind::StepSkipped,
            Some("deploy"),
            json!({"status": "skipped"}),
        );
        assert_eq!(plain_line(&skipped), "step.skipped deploy");
        assert_eq!(wait_line(&skipped).as_deref(), Some("  skipped   deploy"));
    }

    #[test]
    fn an_escalation_names_the_step_to_retry() {
        let escalated = event(
            EventKind::ExecutionEscalated,
            Some("testing"),
            json!({"status": "escalated", "error": format!("step `testing` failed: {FAILED}")}),
        );
        let line = plain_line(&escalated);
        assert!(line.contains("workflow retry exec_1 testing`"), "{line}");
        assert!(line.contains("workflow cancel exec_1`"), "{line}");
        assert_eq!(
            wait_line(&escalated).as_deref(),
            Some("escalated: step `testing` failed: agent `gated` exited with status 3"),
            "no announcement of lines that are not shown"
        );
    }
}

#[cfg(test)]
mod snapshots {
    use super::*;
    use serde_json::json;

    /// One execution's events, as its stream would bring them.
    fn story() -> Vec<Event> {
        let failed = "agent `check` exited with status 3; last lines of its stderr:\ntests failed\n2 of 9 red";
        [
            (EventKind::ExecutionQueued, None, json!({})),
            (EventKind::ExecutionStarted, None, json!({})),
            (
                EventKind::StepStarted,
                Some("build"),
                json!({"status": "running", "agent": "make", "attempt": 1}),
            ),
            (
                EventKind::StepProgress,
                Some("build"),
                json!({"percentage": 40}),
            ),
            (
                EventKind::StepCompleted,
                Some("build"),
                json!({"status": "completed"}),
            ),
            (
                EventKind::StepStarted,
                Some("decide"),
                json!({"status": "running"}),
            ),
            (
                EventKind::StepSkipped,
                Some("fix"),
                json!({"status": "skipped"}),
            ),
            (
                EventKind::StepStarted,
                Some("suite"),
                json!({"status": "running", "agent": "check", "attempt": 1}),
            ),
            (
                EventKind::StepRetrying,
                Some("suite"),
                json!({"error": failed, "delay": 4.0, "attempt": 1, "maxRetries": 2}),
            ),
            (EventKind::ExecutionPaused, None, json!({})),
            (EventKind::ExecutionResumed, None, json!({})),
            (
                EventKind::StepStarted,
                Some("suite"),
                json!({"status": "running", "agent": "check", "attempt": 2}),
            ),
            (
                EventKind::StepFailed,
                Some("suite"),
                json!({"status": "failed", "error": failed}),
            ),
            (
                EventKind::StepCancelled,
                Some("lint"),
                json!({"status": "cancelled", "error": "agent `lint` was ended"}),
            ),
            (
                EventKind::ExecutionEscalated,
                Some("suite"),
                json!({"status": "escalated", "error": format!("step `suite` failed: {failed}")}),
            ),
            (
                EventKind::Notification,
                None,
                json!({"channel": "webhook", "ok": true}),
            ),
            (EventKind::NotificationsDone, None, json!({})),
            (
                EventKind::ExecutionFinished,
                None,
                json!({"status": "cancelled", "error": "cancelled by a person"}),
            ),
        ]
        .into_iter()
        .enumerate()
        .map(|(seq, (kind, step, data))| Event {
            execution_id: "exec_1".into(),
            seq: seq as u64 + 1,
            at: "2026-12-02T12:00:01.000Z".into(),
            kind,
            step_id: step.map(str::to_owned),
            data,
        })
        .collect()
    }

    #[test]
    fn plain_lines() {
        let lines: Vec<String> = story().iter().map(plain_line).collect();
        // Hints name the program as it was started: here, the test binary.
        let text = lines.join("\n").replace(crate::program::name(), "dowf");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn wait_lines() {
        let lines: Vec<String> = story().iter().filter_map(wait_line).collect();
        insta::assert_snapshot!(lines.join("\n"));
    }
}
