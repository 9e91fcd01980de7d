//! A workflow document as the CLI and the daemon read it: UTF-8 text, parsed as JSON or YAML
//! into one JSON value, then validated. Whatever the text, the answer is a document or
//! diagnostics, and a document that passed is one the store can keep and give back.

#![no_main]

use do_core::validate::{self, Validated};
use do_core::workflow::WorkflowDocument;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // The CLI refuses a file that is not UTF-8 before parsing it.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The daemon's path for JSON text (`do workflow validate`, `POST /agents/workflows`).
    if let Ok(validated) = validate::parse_document_str(text) {
        check_storable(&validated);
    }
    // The CLI's path for a `.yaml` file or YAML on standard input.
    if let Ok(value) = serde_norway::from_str::<Value>(text)
        && let Ok(validated) = validate::parse_document(&value)
    {
        check_storable(&validated);
    }
});

/// The store keeps a validated document as JSON and reads it back into the workflow types
/// (`do workflow get`, every execution); `do workflow create` of what `get` printed validates
/// it again. Neither may fail for a document that validation accepted.
fn check_storable(validated: &Validated) {
    let stored = serde_json::to_string(&validated.document).expect("a document serializes");
    let _: WorkflowDocument = serde_json::from_str(&stored).expect("a stored document reads back");
    let value: Value = serde_json::from_str(&stored).expect("stored JSON is JSON");
    if let Err(errors) = validate::parse_document(&value) {
        panic!("a normalized document no longer validates: {errors:?}\n{stored}");
    }
}
