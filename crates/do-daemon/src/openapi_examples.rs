//! The examples of the OpenAPI document: the bodies of the Workflows API document
//! (`../shared/api/workflows-api.md`), with what this daemon adds to its answers
//! (`workflowVersion`, `priority`, `createdAt`, each step's `type`).

use serde_json::{Value, json};

pub(crate) struct Examples {
    /// The create request: `examples/saas-launch.json`, the document's example verbatim.
    pub(crate) create: Value,
    pub(crate) execute: Value,
    /// The execute answer's `data`.
    pub(crate) executed: Value,
    /// The status document's `data`.
    pub(crate) status: Value,
}

pub(crate) fn examples() -> Examples {
    let create = serde_json::from_str(include_str!("../../../examples/saas-launch.json"))
        .unwrap_or(Value::Null);
    let execute = json!({
        "input": {"productName": "CloudSync Pro", "targetMarket": "SMB businesses", "budget": 100000},
        "priority": "high",
        // The published page shows an obfuscated address here; any address will do.
        "notifications": {"email": "team@example.com", "slack": "#product-launches"},
    });
    let executed = json!({
        "executionId": "exec_xyz789",
        "workflowId": "wf_abc123",
        "workflowName": "SaaS Product Launch Workflow",
        "workflowVersion": 1,
        "status": "running",
        "priority": "high",
        "currentStep": "market-research",
        "progress": {"completed": 0, "total": 5, "percentage": 0},
        "createdAt": "2024-10-27T18:00:00Z",
        "startedAt": "2024-10-27T18:00:00Z",
        "estimatedCompletion": "2024-11-10T18:00:00Z",
        "trackingUrl": "http://127.0.0.1:7878/executions/exec_xyz789",
    });
    let task = |id: &str, status: &str, agent: Option<&str>| {
        let mut step = json!({"id": id, "type": "task", "status": status});
        if let Some(agent) = agent {
            step["agent"] = json!(agent);
        }
        step
    };
    let mut research = task("market-research", "completed", Some("mira"));
    research["startedAt"] = json!("2024-10-27T18:00:00Z");
    research["completedAt"] = json!("2024-10-28T14:30:00Z");
    research["duration"] = json!("20.5 hours");
    research["output"] = json!({"research-data": "https://storage.do/exec_xyz789/research.pdf"});
    let mut strategy = task("product-strategy", "completed", Some("priya"));
    strategy["startedAt"] = json!("2024-10-28T14:30:00Z");
    strategy["completedAt"] = json!("2024-10-29T16:00:00Z");
    strategy["duration"] = json!("25.5 hours");
    strategy["output"] = json!({"strategy-doc": "https://storage.do/exec_xyz789/strategy.pdf"});
    let mut backend = task("backend-dev", "running", Some("tom"));
    backend["startedAt"] = json!("2024-10-29T16:00:00Z");
    backend["progress"] = json!(65);
    let mut frontend = task("frontend-dev", "running", Some("rae"));
    frontend["startedAt"] = json!("2024-10-29T16:00:00Z");
    frontend["progress"] = json!(58);
    let status = json!({
        "executionId": "exec_xyz789",
        "workflowId": "wf_abc123",
        "workflowName": "SaaS Product Launch Workflow",
        "workflowVersion": 1,
        "status": "running",
        "priority": "high",
        "currentStep": "parallel-development",
        "progress": {"completed": 2, "total": 5, "percentage": 40},
        "steps": [
            research,
            strategy,
            {"id": "parallel-development", "type": "parallel", "status": "running",
             "steps": [backend, frontend]},
            task("testing", "pending", Some("quinn")),
            task("deploy", "pending", Some("dev")),
        ],
        "input": {"productName": "CloudSync Pro", "targetMarket": "SMB businesses", "budget": 100000},
        "createdAt": "2024-10-27T18:00:00Z",
        "startedAt": "2024-10-27T18:00:00Z",
        "estimatedCompletion": "2024-11-10T18:00:00Z",
    });
    Examples {
        create,
        execute,
        executed,
        status,
    }
}
