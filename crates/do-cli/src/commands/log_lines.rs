//! How `workflow logs` prints what steps wrote on stderr: for people, with a header per
//! attempt; bare with `-q`; with `--json`, one JSON object per line of log.

use crate::context::Context;
use serde::Serialize;
use std::io::{self, Write};

/// One line of a step's log, as `logs --json` prints it.
#[derive(Debug, Serialize)]
struct LogLine<'a> {
    /// When the line was read while following (RFC 3339); null for a line of the stored log,
    /// which keeps no time per line.
    time: Option<String>,
    step: &'a str,
    attempt: u32,
    /// Always `stderr`: a step's stdout is its output (`workflow output`).
    stream: &'static str,
    /// The line, without its newline.
    line: String,
}

enum Mode {
    /// `==> STEP attempt N (STATUS) <==` before each attempt's log.
    Text,
    /// `-q`: the logs alone.
    Bare,
    /// `--json`: JSON lines.
    Json,
}

pub(crate) struct LogPrinter {
    mode: Mode,
    /// The attempt whose text was printed last: a header marks each switch while following.
    shown: Option<(String, u32)>,
    /// Per attempt, the end of its log after the last newline (JSON lines are whole lines).
    partial: Vec<((String, u32), Vec<u8>)>,
}

impl LogPrinter {
    pub(crate) fn new(ctx: &Context) -> LogPrinter {
        let mode = if ctx.json {
            Mode::Json
        } else if ctx.quiet {
            Mode::Bare
        } else {
            Mode::Text
        };
        LogPrinter {
            mode,
            shown: None,
            partial: Vec::new(),
        }
    }

    /// An attempt's log as stored so far; `following` keeps an unfinished last line open.
    pub(crate) fn stored(
        &mut self,
        out: &mut impl Write,
        (step, attempt): (&str, u32),
        status: &str,
        log: &[u8],
        following: bool,
    ) -> io::Result<()> {
        self.shown = Some((step.to_owned(), attempt));
        match self.mode {
            Mode::Json => self.json_lines(out, (step, attempt), log, None, following),
            Mode::Text | Mode::Bare => {
                if let Mode::Text = self.mode {
                    writeln!(out, "==> {step} attempt {attempt} ({status}) <==")?;
                    if log.is_empty() && !following {
                        writeln!(out, "(nothing on stderr)")?;
                    }
                }
                out.write_all(log)?;
                if !log.is_empty() && !log.ends_with(b"\n") && !following {
                    writeln!(out)?;
                }
                Ok(())
            }
        }
    }

    /// What a followed attempt wrote since the last read.
    pub(crate) fn written(
        &mut self,
        out: &mut impl Write,
        (step, attempt): (&str, u32),
        new: &[u8],
    ) -> io::Result<()> {
        let this = (step.to_owned(), attempt);
        match self.mode {
            Mode::Json => {
                let now = humantime::format_rfc3339_millis(std::time::SystemTime::now());
                self.json_lines(out, (step, attempt), new, Some(now.to_string()), true)
            }
            Mode::Text | Mode::Bare => {
                if matches!(self.mode, Mode::Text) && self.shown.as_ref() != Some(&this) {
                    writeln!(out, "==> {step} attempt {attempt} <==")?;
                }
                self.shown = Some(this);
                out.write_all(new)
            }
        }
    }

    /// Prints the complete lines of `bytes` (after what was left of this attempt's last read)
    /// as JSON; an unfinished last line waits for more unless `keep_partial` is false.
    fn json_lines(
        &mut self,
        out: &mut impl Write,
        (step, attempt): (&str, u32),
        bytes: &[u8],
        time: Option<String>,
        keep_partial: bool,
    ) -> io::Result<()> {
        let key = (step.to_owned(), attempt);
        let mut text = match self.partial.iter().position(|(k, _)| *k == key) {
            Some(i) => self.partial.swap_remove(i).1,
            None => Vec::new(),
        };
        text.extend_from_slice(bytes);
        let complete = match text.iter().rposition(|b| *b == b'\n') {
            _ if !keep_partial => text.len(),
            Some(newline) => newline + 1,
            None => 0,
        };
        let rest = text.split_off(complete);
        for line in text.split_inclusive(|b| *b == b'\n') {
            let line = LogLine {
                time: time.clone(),
                step,
                attempt,
                stream: "stderr",
                line: String::from_utf8_lossy(line.strip_suffix(b"\n").unwrap_or(line))
                    .into_owned(),
            };
            serde_json::to_writer(&mut *out, &line).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        if !rest.is_empty() {
            self.partial.push((key, rest));
        }
        Ok(())
    }

    /// The end of following: an unfinished last line is printed as it is.
    pub(crate) fn finish(&mut self, out: &mut impl Write) -> io::Result<()> {
        for ((step, attempt), rest) in std::mem::take(&mut self.partial) {
            let now = humantime::format_rfc3339_millis(std::time::SystemTime::now());
            self.json_lines(out, (&step, attempt), &rest, Some(now.to_string()), false)?;
        }
        Ok(())
    }
}
