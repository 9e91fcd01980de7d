//! The execution state machine, tested by driving [`ExecutionState`] through the events the
//! daemon feeds it; one file per concern.

mod controls;
mod decisions;
mod error_handling;
mod flow;

use super::*;
use crate::model::{ExecutionStatus, StepStatus};
use crate::workflow::{ErrorHandling, WorkflowDocument};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn plan(doc: Value) -> Plan {
    let document: WorkflowDocument = serde_json::from_value(doc).expect("test document");
    Plan::new(&document)
}

fn task(id: &str, input: Value, output: Option<&str>) -> Value {
    let mut step = json!({"id": id, "type": "task", "agent": "a", "task": format!("do {id}")});
    if !input.is_null() {
        step["input"] = input;
    }
    if let Some(output) = output {
        step["output"] = json!(output);
    }
    step
}

fn parallel(id: &str, steps: Vec<Value>) -> Value {
    json!({"id": id, "type": "parallel", "steps": steps})
}

/// The API document's SaaS launch workflow, reduced to its shape.
fn saas() -> ExecutionState {
    let doc = json!({"name": "saas", "steps": [
        task("market-research", Value::Null, Some("research-data")),
        task("product-strategy", json!("research-data"), Some("strategy-doc")),
        parallel("parallel-development", vec![
            task("backend-dev", json!("strategy-doc"), Some("backend-code")),
            task("frontend-dev", json!("strategy-doc"), Some("frontend-code")),
        ]),
        task("testing", json!(["backend-code", "frontend-code"]), Some("test-results")),
        task("deploy", json!(["backend-code", "frontend-code", "test-results"]), Some("deployment-url")),
    ]});
    ExecutionState::new(plan(doc), json!({"productName": "CloudSync Pro"}))
}

fn ids(state: &ExecutionState, nodes: &[NodeId]) -> Vec<String> {
    nodes
        .iter()
        .map(|&n| state.plan().node(n).step_id.clone())
        .collect()
}

fn node(state: &ExecutionState, id: &str) -> NodeId {
    state.plan().find(id).expect("step exists")
}

fn run_ok(state: &mut ExecutionState, id: &str, value: Value) -> Vec<Change> {
    let n = node(state, id);
    state.start(n);
    state.succeed(n, value)
}
