//! Tables and text for people; JSON for programs.

use comfy_table::{ContentArrangement, Table, presets};
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

/// A table with borders on a terminal, aligned plain columns in a pipe.
pub(crate) fn table(terminal: bool, header: &[&str]) -> Table {
    let mut table = Table::new();
    if terminal {
        table
            .load_style(presets::UTF8_HORIZONTAL_ONLY)
            .set_content_arrangement(ContentArrangement::Dynamic);
    } else {
        table.load_style(presets::NOTHING).force_no_tty();
    }
    table.set_header(header.to_vec());
    table
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

/// Prints a list the way every `list` command does: JSON with `--json`, a hint when it is
/// empty, else a table with one row per item.
pub(crate) fn print_list<T: Serialize>(
    ctx: &crate::context::Context,
    items: &[T],
    empty: &str,
    header: &[&str],
    row: impl Fn(&T) -> Vec<String>,
) -> anyhow::Result<u8> {
    if ctx.json {
        print_json(&items)?;
    } else if items.is_empty() {
        writeln!(std::io::stdout(), "{empty}")?;
    } else {
        let mut t = table(ctx.is_terminal(), header);
        for item in items {
            t.add_row(row(item));
        }
        print_table(&t)?;
    }
    Ok(crate::exit::SUCCESS)
}
