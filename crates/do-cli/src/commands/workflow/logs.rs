//! `do workflow logs`: what steps wrote on stderr, as the daemon serves it (`executions.logs`);
//! with `--follow`, line by line as it is written, until the step or the execution ends. For
//! people with a header per attempt; bare with `-q`; with `--json`, one JSON object per line.

use super::latest;
use crate::context::Context;
use crate::exit::SUCCESS;
use clap::Args;
use do_core::model::StepStatus;
use do_proto::{ById, ExecutionData, LogEntry, Logs, Request, StepData};
use serde::Serialize;
use std::io::{self, Write};
use std::ops::ControlFlow;

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// The execution's id (`exec_…`), or --last.
    #[arg(add = crate::complete::execution_ids(), required_unless_present = "last")]
    execution: Option<String>,
    /// Only this step (inside a loop: `process[2]`).
    #[arg(add = crate::complete::step_ids())]
    step: Option<String>,
    #[arg(long, help = latest::LAST_STEP_HELP)]
    last: bool,
    /// Only the steps that failed (every attempt of each), like `gh run view --log-failed`.
    #[arg(long, conflicts_with_all = ["step", "follow"])]
    failed: bool,
    /// Only this attempt of the step(s).
    #[arg(long, value_name = "N")]
    attempt: Option<u32>,
    /// After the log so far, print what the step (without STEP: every step) writes on stderr
    /// as it runs, until it (the execution) ends.
    #[arg(long, short = 'f', conflicts_with = "attempt")]
    follow: bool,
}

pub(crate) fn cmd_logs(ctx: &Context, args: LogsArgs) -> anyhow::Result<u8> {
    let (execution, step) = latest::resolve(ctx, args.last, args.execution, args.step)?;
    let steps = if args.failed {
        let status: ExecutionData = ctx.client()?.call(Request::GetExecution(ById {
            id: execution.clone(),
        }))?;
        let failed = failed_tasks(status.steps.as_deref().unwrap_or_default());
        if failed.is_empty() && !ctx.json && !ctx.quiet {
            writeln!(io::stderr(), "No step of {execution} failed.")?;
        }
        failed.into_iter().map(Some).collect()
    } else {
        vec![step]
    };
    let mut out = io::stdout().lock();
    let mut printer = Printer::new(ctx, args.follow);
    for step_id in steps {
        let mut failed = None;
        let request = Logs {
            id: execution.clone(),
            step_id,
            attempt: args.attempt,
            follow: args.follow,
        };
        ctx.client()?
            .logs(request, |entry| match printer.print(&mut out, entry) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => {
                    failed = Some(e);
                    ControlFlow::Break(())
                }
            })?;
        if let Some(e) = failed {
            return Err(e.into());
        }
        printer.end(&mut out)?;
    }
    Ok(SUCCESS)
}

/// The steps that ran an agent and failed, in the document's order.
fn failed_tasks(steps: &[StepData]) -> Vec<String> {
    let mut failed = Vec::new();
    for step in steps {
        if step.steps.is_empty() {
            if step.status == StepStatus::Failed {
                failed.push(step.id.clone());
            }
        } else {
            failed.extend(failed_tasks(&step.steps));
        }
    }
    failed
}

/// One line of a step's log, as `logs --json` prints it.
#[derive(Debug, Serialize)]
struct LogLine<'a> {
    /// When the line reached this command while following (RFC 3339); null for a log read
    /// after the fact, as the daemon keeps no time per line.
    time: Option<String>,
    step: &'a str,
    attempt: u32,
    /// Always `stderr`: a step's stdout is its output (`workflow output`).
    stream: &'static str,
    line: &'a str,
}

enum Mode {
    /// `==> STEP attempt N (STATUS) <==` before each attempt's lines.
    Text,
    /// `-q`: the lines alone.
    Bare,
    /// `--json`: JSON lines.
    Json,
}

/// Prints the entries of a log stream: in text, a header before each attempt's lines (again
/// whenever the lines switch to another attempt, as running steps interleave).
struct Printer {
    mode: Mode,
    follow: bool,
    /// The attempt whose lines are being printed.
    shown: Option<(String, u32)>,
    /// Whether the last attempt announced has printed no line yet.
    quiet_attempt: bool,
}

impl Printer {
    fn new(ctx: &Context, follow: bool) -> Printer {
        let mode = if ctx.json {
            Mode::Json
        } else if ctx.quiet {
            Mode::Bare
        } else {
            Mode::Text
        };
        Printer {
            mode,
            follow,
            shown: None,
            quiet_attempt: false,
        }
    }

    fn print(&mut self, out: &mut impl Write, entry: &LogEntry) -> io::Result<()> {
        match entry {
            LogEntry::Attempt {
                step_id,
                attempt,
                status,
            } => {
                self.end(out)?;
                if let Mode::Text = self.mode {
                    writeln!(out, "==> {step_id} attempt {attempt} ({status}) <==")?;
                }
                self.shown = Some((step_id.clone(), *attempt));
                self.quiet_attempt = true;
            }
            LogEntry::Lines {
                step_id,
                attempt,
                lines,
            } => {
                if self
                    .shown
                    .as_ref()
                    .is_none_or(|(s, a)| s != step_id || a != attempt)
                {
                    if let Mode::Text = self.mode {
                        writeln!(out, "==> {step_id} attempt {attempt} <==")?;
                    }
                    self.shown = Some((step_id.clone(), *attempt));
                }
                self.quiet_attempt = false;
                self.lines(out, step_id, *attempt, lines)?;
            }
            LogEntry::End => {}
        }
        // Followed lines are read as they come.
        if self.follow {
            out.flush()?;
        }
        Ok(())
    }

    fn lines(
        &self,
        out: &mut impl Write,
        step: &str,
        attempt: u32,
        lines: &[String],
    ) -> io::Result<()> {
        let Mode::Json = self.mode else {
            return lines.iter().try_for_each(|line| writeln!(out, "{line}"));
        };
        let time = self
            .follow
            .then(|| humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string());
        for line in lines {
            let line = LogLine {
                time: time.clone(),
                step,
                attempt,
                stream: "stderr",
                line,
            };
            serde_json::to_writer(&mut *out, &line).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        Ok(())
    }

    /// After the last entry of an attempt: says so when it wrote nothing (its log is empty by
    /// now, unless it is followed).
    fn end(&mut self, out: &mut impl Write) -> io::Result<()> {
        if self.quiet_attempt && !self.follow && matches!(self.mode, Mode::Text) {
            writeln!(out, "(nothing on stderr)")?;
        }
        self.quiet_attempt = false;
        out.flush()
    }
}
