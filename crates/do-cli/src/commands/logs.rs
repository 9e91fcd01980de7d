//! `do workflow logs`: what steps wrote on stderr, as the daemon serves it (`executions.logs`);
//! with `--follow`, line by line as it is written, until the step or the execution ends.

use crate::context::Context;
use crate::exit::SUCCESS;
use clap::Args;
use do_proto::{LogEntry, Logs};
use std::io::Write;
use std::ops::ControlFlow;

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// The execution's id (`exec_…`).
    #[arg(add = crate::complete::execution_ids())]
    execution: String,
    /// Only this step (inside a loop: `process[2]`).
    #[arg(add = crate::complete::step_ids())]
    step: Option<String>,
    /// Only this attempt of the step(s).
    #[arg(long, value_name = "N")]
    attempt: Option<u32>,
    /// After the log so far, print what the step (without STEP: every step) writes on stderr
    /// as it runs, until it (the execution) ends.
    #[arg(long, short = 'f', conflicts_with = "attempt")]
    follow: bool,
}

pub(crate) fn cmd_logs(ctx: &Context, args: &LogsArgs) -> anyhow::Result<u8> {
    let mut client = ctx.client()?;
    let mut out = std::io::stdout().lock();
    let mut printer = Printer {
        follow: args.follow,
        shown: None,
        quiet_attempt: false,
    };
    let mut failed = None;
    let request = Logs {
        id: args.execution.clone(),
        step_id: args.step.clone(),
        attempt: args.attempt,
        follow: args.follow,
    };
    client.logs(request, |entry| match printer.print(&mut out, entry) {
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
    Ok(SUCCESS)
}

/// Prints the entries of a log stream: a header before each attempt's lines (again whenever
/// the lines switch to another attempt, as running steps interleave).
struct Printer {
    follow: bool,
    /// The attempt whose lines are being printed.
    shown: Option<(String, u32)>,
    /// Whether the last attempt announced has printed no line yet.
    quiet_attempt: bool,
}

impl Printer {
    fn print(&mut self, out: &mut impl Write, entry: &LogEntry) -> std::io::Result<()> {
        match entry {
            LogEntry::Attempt {
                step_id,
                attempt,
                status,
            } => {
                self.end(out)?;
                writeln!(out, "==> {step_id} attempt {attempt} ({status}) <==")?;
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
                    writeln!(out, "==> {step_id} attempt {attempt} <==")?;
                    self.shown = Some((step_id.clone(), *attempt));
                }
                self.quiet_attempt = false;
                for line in lines {
                    writeln!(out, "{line}")?;
                }
            }
            LogEntry::End => {}
        }
        // Followed lines are read as they come.
        if self.follow {
            out.flush()?;
        }
        Ok(())
    }

    /// After the last entry of an attempt: says so when it wrote nothing (its log is empty by
    /// now, unless it is followed).
    fn end(&mut self, out: &mut impl Write) -> std::io::Result<()> {
        if self.quiet_attempt && !self.follow {
            writeln!(out, "(nothing on stderr)")?;
        }
        self.quiet_attempt = false;
        out.flush()
    }
}
