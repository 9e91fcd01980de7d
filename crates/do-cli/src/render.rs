//! Tables and text for people; JSON for programs.

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use serde::Serialize;
use serde_json::Value;
use std::io::Write;

/// Prints `data` as pretty JSON on stdout.
pub(crate) fn print_json(data: &impl Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    // As an io::Error, a closed pipe (`| head`) is recognised and ends quietly.
    serde_json::to_writer_pretty(&mut out, data).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// How text for people is laid out: borders on a terminal, colours when they are on.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Look {
    pub(crate) terminal: bool,
    pub(crate) color: bool,
}

impl Look {
    pub(crate) fn of(ctx: &crate::context::Context) -> Look {
        Look {
            terminal: ctx.is_terminal(),
            color: ctx.color,
        }
    }
}

/// A table with borders on a terminal, aligned plain columns in a pipe; colours as `--color`
/// says.
pub(crate) fn table(ctx: &crate::context::Context, header: &[&str]) -> Table {
    table_in(Look::of(ctx), header)
}

/// [`table`] for a given look.
pub(crate) fn table_in(look: Look, header: &[&str]) -> Table {
    let mut table = Table::new();
    if look.terminal {
        table
            .load_style(presets::UTF8_HORIZONTAL_ONLY)
            .set_content_arrangement(ContentArrangement::Dynamic);
    } else {
        table.load_style(presets::NOTHING).force_no_tty();
    }
    if look.color {
        table.enforce_styling();
    }
    table.set_header(header.to_vec());
    table
}

/// The colour a status word is shown in: green done, red failed, yellow under way, grey for
/// what did not or will not run.
fn status_color(status: &str) -> Option<Color> {
    match status.split_whitespace().next().unwrap_or_default() {
        "completed" | "succeeded" | "active" => Some(Color::Green),
        "failed" | "timed_out" | "escalated" => Some(Color::Red),
        "running" | "retrying" | "retry" => Some(Color::Yellow),
        "queued" | "paused" => Some(Color::Cyan),
        "cancelled" | "skipped" | "interrupted" | "archived" => Some(Color::DarkGrey),
        _ => None,
    }
}

/// A table cell holding a status word, coloured when colours are on.
pub(crate) fn status_cell(ctx: &crate::context::Context, status: &str) -> Cell {
    status_cell_in(Look::of(ctx), status)
}

/// [`status_cell`] for a given look.
pub(crate) fn status_cell_in(look: Look, status: &str) -> Cell {
    let cell = Cell::new(status);
    match status_color(status) {
        Some(color) if look.color => cell.fg(color),
        _ => cell,
    }
}

/// A status word for a line of text, coloured (ANSI) when colours are on.
pub(crate) fn paint_status_in(look: Look, status: &str) -> String {
    let code = match status_color(status) {
        Some(Color::Green) => "32",
        Some(Color::Red) => "31",
        Some(Color::Yellow) => "33",
        Some(Color::Cyan) => "36",
        Some(_) => "90",
        None => return status.to_owned(),
    };
    if look.color {
        format!("\x1b[{code}m{status}\x1b[0m")
    } else {
        status.to_owned()
    }
}

pub(crate) fn print_table(table: &Table) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for line in table.lines() {
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// A value on one line, at most `max` characters: strings raw, the rest as JSON.
pub(crate) fn short_value(value: &Value, max: usize) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let one_line = text.replace('\n', " ⏎ ");
    if one_line.chars().count() <= max {
        return one_line;
    }
    let mut cut: String = one_line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// `2026-11-25T09:06:35.123Z` → `2026-11-25 09:06:35`
pub(crate) fn short_time(rfc3339: &str) -> String {
    rfc3339
        .get(..19)
        .map_or_else(|| rfc3339.to_owned(), |t| t.replace('T', " "))
}

/// Prints a list the way every `list` command does: JSON with `--json`, the first column
/// (the ids) with `-q`, a hint when it is empty, else a table with one row per item and its
/// STATUS column coloured.
pub(crate) fn print_list<T: Serialize>(
    ctx: &crate::context::Context,
    items: &[T],
    empty: &str,
    header: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> anyhow::Result<u8> {
    if ctx.json {
        print_json(&items)?;
    } else if ctx.quiet {
        let mut out = std::io::stdout().lock();
        for item in items {
            if let Some(id) = row(item).first() {
                writeln!(out, "{id}")?;
            }
        }
    } else if items.is_empty() {
        writeln!(std::io::stdout(), "{empty}")?;
    } else {
        let status_column = header.iter().position(|h| *h == "STATUS");
        let mut t = table(ctx, header);
        for item in items {
            t.add_row(row(item).into_iter().enumerate().map(|(i, text)| {
                if Some(i) == status_column {
                    status_cell(ctx, &text)
                } else {
                    Cell::new(text)
                }
            }));
        }
        print_table(&t)?;
    }
    Ok(crate::exit::SUCCESS)
}
