//! What `--dry-run` says a step does when it fails: the error handling it ends up with (its
//! own `errorHandling` over the workflow's), as the engine applies it.

use do_core::engine::{backoff_delay, retries};
use do_core::workflow::{Backoff, ErrorHandling, Step, StepKind, Strategy};

/// Retry delays listed before the rest is summed up as "…".
const DELAYS_SHOWN: u32 = 4;

/// One line for a step that runs an agent, or that has a timeout; `None` for the others.
pub(crate) fn describe(step: &Step, defaults: &ErrorHandling) -> Option<String> {
    let runs = matches!(step.kind, StepKind::Task(_) | StepKind::Team(_));
    let handling = step
        .error_handling
        .clone()
        .unwrap_or_default()
        .over(defaults);
    let mut parts = Vec::new();
    if runs {
        parts.push(format!("on failure: {}", on_failure(&handling)));
    }
    if let Some(timeout) = step.timeout {
        parts.push(format!("timeout {} per attempt", seconds(timeout)));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

fn on_failure(handling: &ErrorHandling) -> String {
    let mut then = Vec::new();
    let count = retries(handling);
    if count > 0 {
        let shown: Vec<String> = (1..=count.min(DELAYS_SHOWN))
            .map(|n| seconds(backoff_delay(handling, n)))
            .collect();
        let more = if count > DELAYS_SHOWN { ", …" } else { "" };
        let backoff = match handling.backoff.unwrap_or(Backoff::Exponential) {
            Backoff::Exponential => "exponential",
            Backoff::Linear => "linear",
            Backoff::Fixed => "fixed",
        };
        let jitter = if handling.jitter == Some(true) {
            ", with jitter"
        } else {
            ""
        };
        then.push(format!(
            "retry {count} time{} after {}{more} ({backoff} backoff{jitter})",
            if count == 1 { "" } else { "s" },
            shown.join(", ")
        ));
    }
    let last = if handling.strategy == Some(Strategy::Continue) {
        "go on (its output is null)"
    } else if handling.escalate_on_failure == Some(true) {
        "escalate: the execution waits for a person"
    } else {
        "the execution fails"
    };
    let mut text = then.join(", then ");
    if !text.is_empty() {
        text.push_str(", then ");
    }
    match &handling.fallback {
        Some(fallback) => text.push_str(&format!(
            "run fallback `{}` in its place; if that fails too, {last}",
            fallback.id
        )),
        None => text.push_str(last),
    }
    if handling.notify_on_error == Some(true) {
        text.push_str("; each failure is notified");
    }
    text
}

/// `0.5 s`, `2 s`, `300 s`.
fn seconds(value: f64) -> String {
    format!("{} s", (value * 1000.0).round() / 1000.0)
}
