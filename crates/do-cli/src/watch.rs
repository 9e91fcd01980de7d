//! `--watch`: an execution followed live through the daemon's event stream, never by polling.
//! On a terminal, progress bars (one per running step, one for the whole execution) with
//! finished steps printed above them; in a pipe, one line per event; with `--json`, one JSON
//! object per line per event.

use crate::context::Context;
use crate::duration;
use crate::events::{continue_hint, excerpt, first_line, percentage, plain_line, retry_words};
use crate::exit::{FAILURE, SUCCESS};
use do_core::model::{ExecutionStatus, StepStatus};
use do_proto::{ById, Event, EventKind, ExecutionData, Request, StepData};
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
        writeln!(out, "{} {}", clock(&event.at), plain_line(event))?;
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

/// Progress bars on a terminal: one per running task (its progress, or a spinner, and how long
/// it has run), one for the whole execution that moves as each step ends; finished steps are
/// printed above them, names aligned.
struct Bars {
    multi: MultiProgress,
    /// The whole execution: its steps that ended, of all its steps known so far (a loop's
    /// iterations count once they are known).
    overall: ProgressBar,
    known: HashSet<String>,
    ended: HashSet<String>,
    /// Running task steps: their bar, and when they started (to tell their duration).
    running: HashMap<String, (ProgressBar, Option<SystemTime>)>,
    /// When the execution started, from its `execution.started` event.
    started: Option<SystemTime>,
    /// The longest step id seen: names are padded to it.
    width: usize,
    color: bool,
}

/// Every step of a status document's tree.
fn all_steps<'a>(steps: &'a [StepData], out: &mut Vec<&'a StepData>) {
    for step in steps {
        out.push(step);
        all_steps(&step.steps, out);
    }
}

impl Bars {
    fn new(execution: &ExecutionData, color: bool) -> Bars {
        let mut steps = Vec::new();
        all_steps(execution.steps.as_deref().unwrap_or_default(), &mut steps);
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
        let overall = multi.add(ProgressBar::new(steps.len() as u64));
        overall.set_style(style(OVERALL));
        overall.set_prefix(format!(
            "{} {}",
            execution.execution_id, execution.workflow_name
        ));
        // A stream that starts at a retry does not replay the steps done before it.
        let done: HashSet<String> = steps
            .iter()
            .filter(|s| matches!(s.status, StepStatus::Completed | StepStatus::Skipped))
            .map(|s| s.id.clone())
            .collect();
        overall.set_position(done.len() as u64);
        let bars = Bars {
            multi,
            overall,
            width: steps
                .iter()
                .map(|s| s.id.chars().count())
                .max()
                .unwrap_or(0),
            known: steps.iter().map(|s| s.id.clone()).collect(),
            ended: done,
            running: HashMap::new(),
            // A stream that starts at a retry has no `execution.started`.
            started: execution
                .started_at
                .as_deref()
                .and_then(|at| humantime::parse_rfc3339_weak(at).ok()),
            color,
        };
        if execution.status == ExecutionStatus::Paused {
            bars.pause();
        } else {
            bars.overall.enable_steady_tick(Duration::from_millis(200));
        }
        bars
    }

    /// The step's id padded to the names' width; a step not seen before counts from now on.
    fn name(&mut self, step: &str) -> String {
        if self.known.insert(step.to_owned()) {
            self.overall.inc_length(1);
        }
        self.width = self.width.max(step.chars().count());
        format!("{step:<width$}", width = self.width)
    }

    /// The step ended: the execution's bar moves on.
    fn step_ended(&mut self, step: &str) {
        if self.ended.insert(step.to_owned()) {
            self.overall.inc(1);
        }
    }

    /// A paused execution's bar stands still (running steps go on) and says so.
    fn pause(&self) {
        self.overall.disable_steady_tick();
        self.overall
            .set_style(style(&OVERALL.replace("{spinner}", "‖")));
        self.overall.set_message(" · paused");
    }

    fn resume(&self) {
        self.overall.set_style(style(OVERALL));
        self.overall.set_message("");
        self.overall.enable_steady_tick(Duration::from_millis(200));
    }

    /// A finished step's line above the bars: a mark, its id, what became of it, how long, and
    /// the error with the agent's last lines under it.
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
            .map(|d| format!("  {}", duration::human(d)))
            .unwrap_or_default();
        let name = self.name(&step);
        let indent = " ".repeat(self.width + 4);
        let error = event
            .data
            .get("error")
            .and_then(Value::as_str)
            .map(|e| format!(": {}", excerpt(e, &indent)))
            .unwrap_or_default();
        let mark = self.paint(mark, color);
        let _ = self
            .multi
            .println(format!("{mark} {name}  {word}{took}{error}"));
    }

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

/// The execution's bar.
const OVERALL: &str = "{spinner} {prefix} [{bar:30}] {pos}/{len} steps{msg}";

const GREEN: &str = "\x1b[32m";
const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";

/// A bar style from a template this module writes (never from user input), with `{took}`: how
/// long since `started`.
fn style_since(template: &str, started: SystemTime) -> ProgressStyle {
    style(template).with_key(
        "took",
        move |_: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let took = SystemTime::now()
                .duration_since(started)
                .unwrap_or_default();
            let _ = write!(w, "{}", duration::human(took));
        },
    )
}

/// A bar style from a template this module writes (never from user input).
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
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
                let name = self.name(&step);
                let started = humantime::parse_rfc3339_weak(&event.at).ok();
                let since = started.unwrap_or_else(SystemTime::now);
                let bar = self
                    .multi
                    .insert_before(&self.overall, ProgressBar::new_spinner());
                bar.set_style(style_since("{spinner} {prefix}  {took:>8}  {msg}", since));
                bar.set_prefix(name);
                bar.set_message(format!("agent {agent}"));
                bar.enable_steady_tick(Duration::from_millis(100));
                self.running.insert(step, (bar, started));
            }
            EventKind::StepStarted => {
                self.name(&step);
            }
            EventKind::StepProgress => {
                if let (Some((bar, started)), Some(p)) =
                    (self.running.get(&step), percentage(event))
                {
                    bar.set_position(p);
                    if bar.length() != Some(100) {
                        bar.set_length(100);
                        bar.set_style(style_since(
                            "{spinner} {prefix}  {took:>8} [{bar:30}] {pos:>3}%  {msg}",
                            started.unwrap_or_else(SystemTime::now),
                        ));
                    }
                }
            }
            EventKind::StepCompleted => {
                self.finished_line(event, "completed", "✓", GREEN);
                self.step_ended(&step);
            }
            EventKind::StepSkipped => {
                self.finished_line(event, "skipped", "–", YELLOW);
                self.step_ended(&step);
            }
            EventKind::StepCancelled => {
                self.finished_line(event, "cancelled", "–", YELLOW);
                self.step_ended(&step);
            }
            EventKind::StepFailed => {
                self.finished_line(event, "failed", "✗", RED);
                self.step_ended(&step);
            }
            EventKind::StepRetrying => {
                let word = format!("failed, {}", retry_words(event));
                self.finished_line(event, &word, "↻", YELLOW);
            }
            EventKind::ExecutionPaused => {
                self.pause();
                self.multi
                    .println(format!("{} {}", clock(&event.at), event.kind.as_str()))?;
            }
            EventKind::ExecutionResumed => {
                self.resume();
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
            .map(|d| format!(" in {}", duration::human(d)))
            .unwrap_or_default();
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{} {} {status}{took} · {}/{} steps",
            self.paint(mark, color),
            last.execution_id,
            self.ended.len(),
            self.known.len(),
        )?;
        if last.kind == EventKind::ExecutionEscalated {
            let error = last.data.get("error").and_then(Value::as_str);
            writeln!(out, "{}", first_line(error.unwrap_or_default()))?;
            writeln!(
                out,
                "{}",
                continue_hint(&last.execution_id, last.step_id.as_deref())
            )?;
        } else if status != "completed" {
            writeln!(out, "{}", plain_line(last))?;
        }
        writeln!(
            out,
            "Details: {} workflow execution {}",
            crate::program::name(),
            last.execution_id
        )?;
        out.flush()
    }
}
