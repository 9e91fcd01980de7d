//! `--watch`: an execution followed live through the daemon's event stream, never by polling.
//! On a terminal, progress bars (one per running step, one for the whole execution) with
//! finished steps printed above them; in a pipe, one line per event; with `--json`, one JSON
//! object per line per event.

use crate::context::Context;
use crate::exit::{FAILURE, SUCCESS};
use do_core::model::ExecutionStatus;
use do_proto::{ById, Event, EventKind, ExecutionData, Request};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::time::{Duration, SystemTime};

/// Follows execution `execution_id` until it ends (or escalates); exit 0 when it completed, 1
/// otherwise, as `--wait`.
pub(crate) fn follow(ctx: &Context, execution_id: &str) -> anyhow::Result<u8> {
    let mut client = ctx.client()?;
    let mut view: Box<dyn View> = if ctx.json {
        Box::new(JsonLines)
    } else if ctx.quiet {
        Box::new(Quiet)
    } else if ctx.is_terminal() {
        // The status document names the top-level steps, whose completions the execution's
        // bar counts.
        let execution: ExecutionData = client.call(Request::GetExecution(ById {
            id: execution_id.to_owned(),
        }))?;
        Box::new(Bars::new(&execution, ctx.color))
    } else {
        Box::new(PlainLines)
    };
    let mut failed_write = None;
    let last = client.watch(execution_id, |event| {
        if failed_write.is_none()
            && let Err(e) = view.show(event)
        {
            failed_write = Some(e);
        }
    })?;
    if let Some(e) = failed_write {
        return Err(e.into());
    }
    view.end(&last)?;
    let status = last
        .data
        .get("status")
        .cloned()
        .and_then(|s| serde_json::from_value::<ExecutionStatus>(s).ok());
    Ok(if status == Some(ExecutionStatus::Completed) {
        SUCCESS
    } else {
        FAILURE
    })
}

/// How the events are shown.
trait View {
    fn show(&mut self, event: &Event) -> std::io::Result<()>;
    /// After the last event (`execution.finished` or `execution.escalated`).
    fn end(&mut self, last: &Event) -> std::io::Result<()>;
}

struct JsonLines;

impl View for JsonLines {
    fn show(&mut self, event: &Event) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, event)?;
        writeln!(out)?;
        out.flush()
    }

    fn end(&mut self, _last: &Event) -> std::io::Result<()> {
        Ok(())
    }
}

/// `-q`: nothing; the exit code tells how the execution ended.
struct Quiet;

impl View for Quiet {
    fn show(&mut self, _event: &Event) -> std::io::Result<()> {
        Ok(())
    }

    fn end(&mut self, _last: &Event) -> std::io::Result<()> {
        Ok(())
    }
}

struct PlainLines;

impl View for PlainLines {
    fn show(&mut self, event: &Event) -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{} {}", clock(&event.at), describe(event))?;
        out.flush()
    }

    fn end(&mut self, _last: &Event) -> std::io::Result<()> {
        Ok(())
    }
}

/// `12:00:01` of an RFC 3339 time.
fn clock(at: &str) -> &str {
    at.get(11..19).unwrap_or(at)
}

/// An event in words: its type, its step, and what its data says.
fn describe(event: &Event) -> String {
    let kind = event.kind.as_str();
    let step = event.step_id.as_deref().unwrap_or("");
    let text = |key: &str| event.data.get(key).and_then(Value::as_str).unwrap_or("");
    let first_line = |key: &str| text(key).lines().next().unwrap_or("").to_owned();
    match event.kind {
        EventKind::ExecutionQueued | EventKind::ExecutionStarted => {
            format!("{kind} {}", event.execution_id)
        }
        EventKind::StepStarted => match event.data.get("agent").and_then(Value::as_str) {
            Some(agent) => format!("{kind} {step} (agent {agent})"),
            None => format!("{kind} {step}"),
        },
        EventKind::StepProgress => format!("{kind} {step} {}%", percentage(event).unwrap_or(0)),
        EventKind::StepCompleted => format!("{kind} {step}"),
        EventKind::StepFailed => format!("{kind} {step}: {}", first_line("error")),
        EventKind::StepCancelled => format!("{kind} {step} ({})", text("status")),
        EventKind::StepRetrying => format!(
            "{kind} {step} in {:.1} s: {}",
            event
                .data
                .get("delay")
                .and_then(Value::as_f64)
                .unwrap_or(0.0),
            first_line("error")
        ),
        EventKind::ExecutionPaused | EventKind::ExecutionResumed => kind.to_owned(),
        EventKind::ExecutionEscalated => format!(
            "{kind}: {} — fix the cause, then `dowf workflow retry {} STEP` or `dowf workflow cancel {}`",
            first_line("error"),
            event.execution_id,
            event.execution_id
        ),
        EventKind::Notification => format!(
            "{kind} {} {}",
            text("channel"),
            if event.data.get("ok") == Some(&Value::Bool(true)) {
                "delivered"
            } else {
                "not delivered"
            }
        ),
        EventKind::NotificationsDone => kind.to_owned(),
        EventKind::ExecutionFinished => match text("error") {
            "" => format!("{kind} {}", text("status")),
            _ => format!("{kind} {}: {}", text("status"), first_line("error")),
        },
    }
}

fn percentage(event: &Event) -> Option<u64> {
    event
        .data
        .get("percentage")
        .and_then(Value::as_u64)
        .map(|p| p.min(100))
}

/// Progress bars on a terminal.
struct Bars {
    multi: MultiProgress,
    /// The whole execution: completed top-level steps of all.
    overall: ProgressBar,
    roots: HashSet<String>,
    done_roots: HashSet<String>,
    /// Running task steps: their bar, and when they started (to tell their duration).
    running: HashMap<String, (ProgressBar, Option<SystemTime>)>,
    /// When the execution started, from its `execution.started` event.
    started: Option<SystemTime>,
    color: bool,
}

impl Bars {
    fn new(execution: &ExecutionData, color: bool) -> Bars {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
        let overall = multi.add(ProgressBar::new(u64::from(execution.progress.total)));
        overall.set_style(style("{spinner} {prefix} [{bar:30}] {pos}/{len} steps"));
        overall.set_prefix(format!(
            "{} {}",
            execution.execution_id, execution.workflow_name
        ));
        overall.enable_steady_tick(Duration::from_millis(200));
        Bars {
            multi,
            overall,
            roots: execution
                .steps
                .iter()
                .flatten()
                .map(|s| s.id.clone())
                .collect(),
            done_roots: HashSet::new(),
            running: HashMap::new(),
            started: None,
            color,
        }
    }

    /// A finished step's line above the bars: a mark, its id, what became of it, how long.
    fn finished_line(&mut self, event: &Event, word: &str, mark: &str, color: &str) {
        let step = event.step_id.clone().unwrap_or_default();
        let started = match self.running.remove(&step) {
            Some((bar, started)) => {
                bar.finish_and_clear();
                self.multi.remove(&bar);
                started
            }
            None => None,
        };
        let took = since(started, event)
            .map(|d| format!("  {}", human(d)))
            .unwrap_or_default();
        let mark = self.paint(mark, color);
        let error = event
            .data
            .get("error")
            .and_then(Value::as_str)
            .and_then(|e| e.lines().next())
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        let _ = self
            .multi
            .println(format!("{mark} {step}  {word}{took}{error}"));
    }
}

impl Bars {
    fn paint(&self, text: &str, color: &str) -> String {
        if self.color {
            format!("{color}{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// How long from `from` to `event`.
fn since(from: Option<SystemTime>, event: &Event) -> Option<Duration> {
    let to = humantime::parse_rfc3339_weak(&event.at).ok()?;
    to.duration_since(from?).ok()
}

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";

/// A bar style from a template this module writes (never from user input).
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

fn human(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        format!("{}m {:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

impl View for Bars {
    fn show(&mut self, event: &Event) -> std::io::Result<()> {
        let step = event.step_id.clone().unwrap_or_default();
        match event.kind {
            // Composite steps (no agent) show through their children.
            EventKind::StepStarted if event.data.get("agent").is_some() => {
                if self.running.contains_key(&step) {
                    return Ok(());
                }
                let agent = event
                    .data
                    .get("agent")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let bar = self
                    .multi
                    .insert_before(&self.overall, ProgressBar::new_spinner());
                bar.set_style(style("{spinner} {prefix}  {msg}"));
                bar.set_prefix(step.clone());
                bar.set_message(format!("agent {agent}"));
                bar.enable_steady_tick(Duration::from_millis(100));
                let started = humantime::parse_rfc3339_weak(&event.at).ok();
                self.running.insert(step, (bar, started));
            }
            EventKind::StepStarted => {}
            EventKind::StepProgress => {
                if let (Some((bar, _)), Some(p)) = (self.running.get(&step), percentage(event)) {
                    bar.set_position(p);
                    if bar.length() != Some(100) {
                        bar.set_length(100);
                        bar.set_style(style("{spinner} {prefix} [{bar:30}] {pos:>3}%  {msg}"));
                    }
                }
            }
            EventKind::StepCompleted => {
                self.finished_line(event, "completed", "✓", GREEN);
                if self.roots.contains(&step) && self.done_roots.insert(step) {
                    self.overall.inc(1);
                }
            }
            EventKind::StepCancelled => {
                let status = event.data.get("status").and_then(Value::as_str);
                let word = status.unwrap_or("cancelled").to_owned();
                self.finished_line(event, &word, "–", YELLOW);
                if status == Some("skipped")
                    && self.roots.contains(&step)
                    && self.done_roots.insert(step)
                {
                    self.overall.inc(1);
                }
            }
            EventKind::StepFailed => self.finished_line(event, "failed", "✗", RED),
            EventKind::StepRetrying => {
                let delay = event.data.get("delay").and_then(Value::as_f64);
                let word = format!("retrying in {:.1} s", delay.unwrap_or(0.0));
                self.finished_line(event, &word, "↻", YELLOW);
            }
            EventKind::ExecutionPaused | EventKind::ExecutionResumed => {
                self.multi
                    .println(format!("{} {}", clock(&event.at), event.kind.as_str()))?;
            }
            EventKind::ExecutionStarted => {
                self.started = humantime::parse_rfc3339_weak(&event.at).ok();
            }
            EventKind::ExecutionQueued
            | EventKind::ExecutionEscalated
            | EventKind::ExecutionFinished
            | EventKind::Notification
            | EventKind::NotificationsDone => {}
        }
        Ok(())
    }

    fn end(&mut self, last: &Event) -> std::io::Result<()> {
        for (bar, _) in self.running.values() {
            bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
        self.multi.clear()?;
        let status = last
            .data
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("");
        let (mark, color) = match status {
            "completed" => ("✓", GREEN),
            "escalated" | "paused" => ("!", YELLOW),
            _ => ("✗", RED),
        };
        let took = since(self.started, last)
            .map(|d| format!(" in {}", human(d)))
            .unwrap_or_default();
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{} {} {status}{took} · {}/{} steps",
            self.paint(mark, color),
            last.execution_id,
            self.done_roots.len(),
            self.roots.len(),
        )?;
        if last.kind == EventKind::ExecutionEscalated || status != "completed" {
            writeln!(out, "{}", describe(last))?;
        }
        writeln!(
            out,
            "Details: dowf workflow execution {}",
            last.execution_id
        )?;
        out.flush()
    }
}
