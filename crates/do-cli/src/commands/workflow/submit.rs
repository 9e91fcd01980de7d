//! Reading a document file (JSON or YAML, within the size limit) and sending it to the daemon,
//! with its verdict on an invalid one: what `create`, `validate`, `update` and `run` share.

use crate::context::Context;
use crate::document::{Strict, explain};
use crate::exit::{USAGE, UsageError};
use anyhow::Context as _;
use do_core::validate::Diagnostic;
use do_proto::{ApiError, ClientError, CreateWorkflow, ErrorCode, Request};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;

/// Reads and parses a document file within `limits.document_bytes` of `config.toml`: the one
/// place the workflow commands read the daemon's settings, as the socket does not tell its
/// limits; the daemon checks the document's size again as it receives it.
pub(super) fn read_document(ctx: &Context, file: &Path) -> anyhow::Result<Value> {
    let limits = crate::context::load_config(&ctx.config_file)?.limits();
    read_within(file, limits.document_bytes)
}

/// Reads and parses a document file, reporting a syntax error with its line and column. A
/// document over `limit` bytes is refused before it is read whole.
fn read_within(file: &Path, limit: u64) -> anyhow::Result<Value> {
    let too_big = |name: &str| {
        UsageError(format!(
            "`{name}` is larger than the limit of {} for a workflow document \
             (limits.document_bytes in config.toml)",
            do_daemon::show_bytes(limit)
        ))
    };
    let (name, text) = if file == Path::new("-") {
        let mut text = Vec::new();
        std::io::stdin()
            .take(limit + 1)
            .read_to_end(&mut text)
            .context("cannot read the document from standard input")?;
        ("<stdin>".to_owned(), text)
    } else {
        let mut text = Vec::new();
        std::fs::File::open(file)
            .and_then(|f| f.take(limit + 1).read_to_end(&mut text))
            .map_err(|e| UsageError(format!("cannot read `{}`: {e}", file.display())))?;
        (file.display().to_string(), text)
    };
    if text.len() as u64 > limit {
        return Err(too_big(&name).into());
    }
    let text = String::from_utf8(text)
        .map_err(|e| UsageError(format!("`{name}` is not UTF-8 text: {e}")))?;
    let yaml = file.extension().is_some_and(|e| e == "yaml" || e == "yml")
        || (file == Path::new("-") && !text.trim_start().starts_with(['{', '[']));
    if yaml {
        // YAML is read into the same JSON value, so both forms validate and store alike.
        return serde_norway::from_str::<Strict>(&text)
            .map(|strict| strict.0)
            .map_err(|e| {
                // The message may end with its own " at line L column C": said once, below.
                let message = e.to_string();
                let message = match (e.location(), message.rfind(" at line ")) {
                    (Some(_), Some(at)) => &message[..at],
                    _ => &message,
                };
                let place = e
                    .location()
                    .map(|l| format!(" at line {}, column {}", l.line(), l.column()));
                anyhow::Error::new(UsageError(format!(
                    "`{name}` is not valid YAML: {}{}",
                    explain(message),
                    place.unwrap_or_default()
                )))
            });
    }
    serde_json::from_str::<Strict>(&text)
        .map(|strict| strict.0)
        .map_err(|e| {
            anyhow::Error::new(UsageError(format!(
                "`{name}` is not valid JSON: {} at line {}, column {}",
                explain(&syntax_message(&e)),
                e.line(),
                e.column()
            )))
        })
}

/// serde_json appends " at line L column C" to its messages; the caller says where itself.
pub(super) fn syntax_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Prints the daemon's verdict on an invalid document: one line per problem, with its path.
fn report_invalid(file: &Path, error: &ApiError) -> u8 {
    let diagnostics: Vec<Diagnostic> = error
        .details
        .as_ref()
        .and_then(|d| d.get("errors"))
        .and_then(|e| serde_json::from_value(e.clone()).ok())
        .unwrap_or_default();
    report_errors(file, &diagnostics)
}

/// One line per problem of an invalid document, with its path; exit 2.
pub(super) fn report_errors(file: &Path, diagnostics: &[Diagnostic]) -> u8 {
    let mut err = std::io::stderr().lock();
    let count = diagnostics.len();
    let _ = writeln!(
        err,
        "error: `{}` is not a valid workflow ({count} error{}):",
        file.display(),
        if count == 1 { "" } else { "s" }
    );
    for diagnostic in diagnostics {
        let _ = writeln!(
            err,
            "  {}",
            crate::program::localize(&diagnostic.to_string())
        );
    }
    USAGE
}

pub(super) fn print_warnings(file: &Path, warnings: &[Diagnostic]) {
    let mut err = std::io::stderr().lock();
    for warning in warnings {
        let warning = crate::program::localize(&warning.to_string());
        let _ = writeln!(err, "warning: {}: {warning}", file.display());
    }
}

/// Sends a document to the daemon; an invalid one is reported here and yields exit 2.
pub(super) fn submit<T: serde::de::DeserializeOwned>(
    ctx: &Context,
    file: &Path,
    request: impl FnOnce(CreateWorkflow) -> Request,
) -> anyhow::Result<Result<T, u8>> {
    let document = read_document(ctx, file)?;
    let mut client = ctx.client()?;
    match client.call::<T>(request(CreateWorkflow { document })) {
        Ok(data) => Ok(Ok(data)),
        Err(ClientError::Api(error)) if error.code == ErrorCode::InvalidDocument => {
            Ok(Err(report_invalid(file, &error)))
        }
        Err(other) => Err(other.into()),
    }
}
