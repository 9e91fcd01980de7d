//! The OpenAPI 3.1 description of the HTTP API (`docs/openapi.json`), generated from the types
//! the daemon serves so that the two cannot drift: `do daemon openapi` prints it, and a test
//! compares it with the file. [`operations`] is the one list of operations; a new route adds
//! its entry there.

use crate::notify::Notifications;
use do_core::model::{AgentSpec, ExecutionStatus, Priority, TeamSpec, WorkflowStatus};
use do_core::workflow::WorkflowDocument;
use do_proto::{
    AgentData, ApiError, DeletedWorkflow, Event, ExecutionData, MAX_LIMIT, MAX_OFFSET, Metadata,
    TeamData, WorkflowData,
};
use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use schemars::transform::ReplaceBoolSchemas;
use serde_json::{Map, Value, json};

/// One operation: its route, what it takes and what it answers.
struct Operation {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    description: &'static str,
    parameters: Vec<Value>,
    /// The JSON request body's schema and example, if it takes one.
    body: Option<(Value, Option<Value>)>,
    /// Whether the body may be left out (it then means `{}`).
    body_optional: bool,
    /// The success status, its description and the schema of `data` (`None`: a stream).
    success: (u16, &'static str, Option<Value>),
    /// Example of the success answer's `data`.
    example: Option<Value>,
    /// The error statuses it can answer besides 401, 500 and 503.
    errors: &'static [u16],
}

const WORKFLOWS: &str = "workflows";
const EXECUTIONS: &str = "executions";
const AGENTS: &str = "agents";

fn schema_ref(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn path_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": {"type": "string"}})
}

fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "query", "description": description, "schema": schema})
}

fn paging() -> [Value; 2] {
    [
        query_param(
            "limit",
            "Largest number of items in the page",
            json!({"type": "integer", "minimum": 0, "maximum": MAX_LIMIT, "default": 50}),
        ),
        query_param(
            "offset",
            "Items skipped; `metadata.nextOffset` of a page is the next page's",
            json!({"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0}),
        ),
    ]
}

fn flag(name: &str, description: &str) -> Value {
    query_param(
        name,
        description,
        json!({"type": "boolean", "default": false}),
    )
}

fn list_of(name: &str) -> Value {
    json!({"type": "array", "items": schema_ref(name)})
}

/// `{name|id, removed}`: the answer of a removal.
fn removed(key: &str) -> Value {
    json!({"type": "object", "required": [key, "removed"],
           "properties": {key: {"type": "string"}, "removed": {"const": true}}})
}

/// Every operation the HTTP API serves.
fn operations(generator: &mut SchemaGenerator) -> Vec<Operation> {
    let workflow_id = || path_param("id", "Workflow id (`wf_…`)");
    let execution_id = || path_param("id", "Execution id (`exec_…`)");
    let document = generator.subschema_for::<WorkflowDocument>().to_value();
    let execute_body = json!({
        "type": "object",
        "properties": {
            "input": {"type": ["object", "null"], "description": "The execution's input (`input.KEY` in expressions); `{}` when absent"},
            "priority": {"anyOf": [generator.subschema_for::<Priority>().to_value(), {"type": "null"}]},
            "notifications": {"anyOf": [generator.subschema_for::<Notifications>().to_value(), {"type": "null"}]},
        },
    });
    let cancel_body =
        json!({"type": "object", "properties": {"reason": {"type": ["string", "null"]}}});
    let examples = crate::openapi_examples::examples();
    vec![
        Operation {
            method: "post",
            path: "/agents/workflows",
            id: "createWorkflow",
            tag: WORKFLOWS,
            summary: "Create a workflow",
            description: "The body is the workflow document; it is stored as a draft. 400 lists every problem with its JSON path in `error.details.errors`.",
            parameters: vec![],
            body: Some((document.clone(), Some(examples.create.clone()))),
            body_optional: false,
            success: (201, "The stored workflow", Some(schema_ref("Workflow"))),
            example: None,
            errors: &[400, 413, 415],
        },
        Operation {
            method: "get",
            path: "/agents/workflows",
            id: "listWorkflows",
            tag: WORKFLOWS,
            summary: "List workflows, newest first",
            description: "Archived workflows are left out unless `status=archived` asks for them.",
            parameters: [
                vec![
                    query_param(
                        "status",
                        "Only workflows with this status",
                        generator.subschema_for::<WorkflowStatus>().to_value(),
                    ),
                    query_param(
                        "category",
                        "Only workflows of this category",
                        json!({"type": "string"}),
                    ),
                ],
                paging().to_vec(),
            ]
            .concat(),
            body: None,
            body_optional: false,
            success: (200, "A page of workflows", Some(list_of("Workflow"))),
            example: None,
            errors: &[400],
        },
        Operation {
            method: "get",
            path: "/agents/workflows/{id}",
            id: "getWorkflow",
            tag: WORKFLOWS,
            summary: "Get a workflow",
            description: "",
            parameters: vec![workflow_id()],
            body: None,
            body_optional: false,
            success: (200, "The workflow", Some(schema_ref("Workflow"))),
            example: None,
            errors: &[404],
        },
        Operation {
            method: "put",
            path: "/agents/workflows/{id}",
            id: "updateWorkflow",
            tag: WORKFLOWS,
            summary: "Store a new version of a workflow",
            description: "Validated as for createWorkflow; nothing is stored when it has errors. Executions already started keep their version.",
            parameters: vec![workflow_id()],
            body: Some((document, None)),
            body_optional: false,
            success: (
                200,
                "The workflow at its new version",
                Some(schema_ref("Workflow")),
            ),
            example: None,
            errors: &[400, 404, 409, 413, 415],
        },
        Operation {
            method: "delete",
            path: "/agents/workflows/{id}",
            id: "deleteWorkflow",
            tag: WORKFLOWS,
            summary: "Delete a workflow",
            description: "409 while an execution of it has not ended, and while it has past executions unless `force=true`, which deletes them too.",
            parameters: vec![
                workflow_id(),
                flag("force", "Delete the workflow's past executions too"),
            ],
            body: None,
            body_optional: false,
            success: (200, "What was deleted", Some(schema_ref("DeletedWorkflow"))),
            example: None,
            errors: &[400, 404, 409],
        },
        Operation {
            method: "post",
            path: "/agents/workflows/{id}/execute",
            id: "executeWorkflow",
            tag: EXECUTIONS,
            summary: "Execute a workflow",
            description: "When the daemon has room, the answer comes once the execution has started (`startedAt`, `currentStep`, `estimatedCompletion`); else it is `queued`. `estimatedCompletion` is absent when the duration of a step is unknown (neither this step in earlier executions nor its agent elsewhere has run). An empty body is `{}`.",
            parameters: vec![workflow_id()],
            body: Some((execute_body, Some(examples.execute.clone()))),
            body_optional: true,
            success: (202, "The execution", Some(schema_ref("Execution"))),
            example: Some(examples.executed.clone()),
            errors: &[400, 404, 409, 413, 415],
        },
        Operation {
            method: "get",
            path: "/agents/workflows/executions",
            id: "listExecutions",
            tag: EXECUTIONS,
            summary: "List executions, newest first",
            description: "Without their steps and input.",
            parameters: [
                vec![
                    query_param(
                        "workflowId",
                        "Only executions of this workflow",
                        json!({"type": "string"}),
                    ),
                    query_param(
                        "status",
                        "Only executions with this status",
                        generator.subschema_for::<ExecutionStatus>().to_value(),
                    ),
                ],
                paging().to_vec(),
            ]
            .concat(),
            body: None,
            body_optional: false,
            success: (200, "A page of executions", Some(list_of("Execution"))),
            example: None,
            errors: &[400],
        },
        Operation {
            method: "get",
            path: "/agents/workflows/executions/{id}",
            id: "getExecution",
            tag: EXECUTIONS,
            summary: "Get an execution's status document",
            description: "With its steps (status, agent, times, output, attempts, progress) and input.",
            parameters: vec![execution_id()],
            body: None,
            body_optional: false,
            success: (200, "The status document", Some(schema_ref("Execution"))),
            example: Some(examples.status.clone()),
            errors: &[404],
        },
        Operation {
            method: "post",
            path: "/agents/workflows/executions/{id}/cancel",
            id: "cancelExecution",
            tag: EXECUTIONS,
            summary: "Cancel an execution",
            description: "Running steps are ended (their process groups). An empty body is `{}`.",
            parameters: vec![execution_id()],
            body: Some((cancel_body, Some(json!({"reason": "Requirements changed"})))),
            body_optional: true,
            success: (
                200,
                "The execution, cancelled or being cancelled",
                Some(schema_ref("CancelledExecution")),
            ),
            example: None,
            errors: &[400, 404, 409, 413, 415],
        },
        Operation {
            method: "post",
            path: "/agents/workflows/executions/{id}/pause",
            id: "pauseExecution",
            tag: EXECUTIONS,
            summary: "Pause an execution",
            description: "Running steps finish; nothing new starts until it is resumed.",
            parameters: vec![execution_id()],
            body: None,
            body_optional: false,
            success: (200, "The execution", Some(schema_ref("Execution"))),
            example: None,
            errors: &[404, 409],
        },
        Operation {
            method: "post",
            path: "/agents/workflows/executions/{id}/resume",
            id: "resumeExecution",
            tag: EXECUTIONS,
            summary: "Resume a paused execution",
            description: "",
            parameters: vec![execution_id()],
            body: None,
            body_optional: false,
            success: (200, "The execution", Some(schema_ref("Execution"))),
            example: None,
            errors: &[404, 409],
        },
        Operation {
            method: "post",
            path: "/agents/workflows/executions/{id}/steps/{stepId}/retry",
            id: "retryStep",
            tag: EXECUTIONS,
            summary: "Retry a failed step",
            description: "Runs a failed step of a failed or escalated execution again and continues from there.",
            parameters: vec![execution_id(), path_param("stepId", "The step's id")],
            body: None,
            body_optional: false,
            success: (200, "The execution", Some(schema_ref("Execution"))),
            example: None,
            errors: &[400, 404, 409],
        },
        Operation {
            method: "get",
            path: "/agents/workflows/executions/{id}/events",
            id: "streamExecutionEvents",
            tag: EXECUTIONS,
            summary: "Follow an execution's events (Server-Sent Events)",
            description: "The execution's events from the first, then live. Each SSE event is named after the event's `type`; its `data:` line is an `EventEnvelope` (JSON). The stream closes after `execution.finished` or `execution.escalated`.",
            parameters: vec![execution_id()],
            body: None,
            body_optional: false,
            success: (200, "A text/event-stream of EventEnvelope", None),
            example: None,
            errors: &[404],
        },
        Operation {
            method: "get",
            path: "/agents/registry",
            id: "listAgents",
            tag: AGENTS,
            summary: "List the registered agents",
            description: "",
            parameters: vec![],
            body: None,
            body_optional: false,
            success: (200, "The agents", Some(list_of("Agent"))),
            example: None,
            errors: &[],
        },
        Operation {
            method: "post",
            path: "/agents/registry",
            id: "addAgent",
            tag: AGENTS,
            summary: "Register an agent",
            description: "An agent is a command the daemon's user runs: on a listener beyond loopback this answers 403 unless config.toml has `allow_remote_agent_registration = true` under `[daemon]`.",
            parameters: vec![flag(
                "replace",
                "Replace an agent of the same name instead of answering 409",
            )],
            body: Some((
                generator.subschema_for::<AgentSpec>().to_value(),
                Some(
                    json!({"name": "researcher", "kind": "command", "command": ["/bin/echo", "done"]}),
                ),
            )),
            body_optional: false,
            success: (201, "The agent", Some(schema_ref("Agent"))),
            example: None,
            errors: &[400, 403, 409, 413, 415],
        },
        Operation {
            method: "get",
            path: "/agents/registry/{name}",
            id: "getAgent",
            tag: AGENTS,
            summary: "Get an agent",
            description: "",
            parameters: vec![path_param("name", "The agent's name")],
            body: None,
            body_optional: false,
            success: (200, "The agent", Some(schema_ref("Agent"))),
            example: None,
            errors: &[404],
        },
        Operation {
            method: "delete",
            path: "/agents/registry/{name}",
            id: "removeAgent",
            tag: AGENTS,
            summary: "Remove an agent",
            description: "",
            parameters: vec![path_param("name", "The agent's name")],
            body: None,
            body_optional: false,
            success: (200, "Removed", Some(removed("name"))),
            example: None,
            errors: &[404],
        },
        Operation {
            method: "get",
            path: "/agents/teams",
            id: "listTeams",
            tag: AGENTS,
            summary: "List the teams",
            description: "",
            parameters: vec![],
            body: None,
            body_optional: false,
            success: (200, "The teams", Some(list_of("Team"))),
            example: None,
            errors: &[],
        },
        Operation {
            method: "post",
            path: "/agents/teams",
            id: "createTeam",
            tag: AGENTS,
            summary: "Create a team",
            description: "Its members must be registered agents.",
            parameters: vec![flag(
                "replace",
                "Replace a team of the same id instead of answering 409",
            )],
            body: Some((
                generator.subschema_for::<TeamSpec>().to_value(),
                Some(
                    json!({"id": "engineering", "members": ["tom", "rae"], "strategy": "round-robin"}),
                ),
            )),
            body_optional: false,
            success: (201, "The team", Some(schema_ref("Team"))),
            example: None,
            errors: &[400, 409, 413, 415],
        },
        Operation {
            method: "get",
            path: "/agents/teams/{id}",
            id: "getTeam",
            tag: AGENTS,
            summary: "Get a team",
            description: "",
            parameters: vec![path_param("id", "The team's id")],
            body: None,
            body_optional: false,
            success: (200, "The team", Some(schema_ref("Team"))),
            example: None,
            errors: &[404],
        },
        Operation {
            method: "delete",
            path: "/agents/teams/{id}",
            id: "removeTeam",
            tag: AGENTS,
            summary: "Remove a team",
            description: "",
            parameters: vec![path_param("id", "The team's id")],
            body: None,
            body_optional: false,
            success: (200, "Removed", Some(removed("id"))),
            example: None,
            errors: &[404],
        },
    ]
}

/// What each error status means, for its response object.
fn error_description(status: u16) -> &'static str {
    match status {
        400 => {
            "Invalid request, document, parameter or body field (`details.errors[]` names each path)"
        }
        401 => "Missing or wrong API key (`unauthorized`)",
        403 => "Not allowed by this daemon's configuration (`forbidden`)",
        404 => "No such workflow, execution, step, agent or team (`not_found`)",
        409 => "Conflicts with the current state (`conflict`)",
        413 => "Body over `limits.request_bytes`",
        415 => "A body that is not `application/json`",
        500 => "Internal error",
        503 => "The daemon is stopping (`unavailable`)",
        _ => "Error",
    }
}

fn success_envelope(data: Value) -> Value {
    json!({"type": "object", "required": ["success", "data", "metadata"],
           "properties": {"success": {"const": true}, "data": data, "metadata": schema_ref("Metadata")}})
}

fn operation_object(op: Operation) -> Value {
    let (status, description, data) = op.success;
    let content = match data {
        Some(data) => {
            let mut media = json!({"schema": success_envelope(data)});
            if let Some(example) = op.example {
                media["example"] = json!({"success": true, "data": example,
                    "metadata": {"requestId": "req_wf124", "timestamp": "2024-10-27T18:00:00Z"}});
            }
            json!({"application/json": media})
        }
        // Before OpenAPI 3.2, the schema of an event stream describes one event.
        None => json!({"text/event-stream": {"schema": schema_ref("ServerSentEvent")}}),
    };
    let mut responses = Map::new();
    responses.insert(
        status.to_string(),
        json!({"description": description, "content": content}),
    );
    for error in op.errors.iter().chain(&[401, 500, 503]) {
        responses.insert(
            error.to_string(),
            json!({"description": error_description(*error), "content": {"application/json": {"schema": schema_ref("ErrorEnvelope")}}}),
        );
    }
    let mut object = json!({
        "operationId": op.id,
        "tags": [op.tag],
        "summary": op.summary,
        "parameters": op.parameters,
        "responses": responses,
    });
    if !op.description.is_empty() {
        object["description"] = json!(op.description);
    }
    if let Some((schema, example)) = op.body {
        let mut media = json!({"schema": schema});
        if let Some(example) = example {
            media["example"] = example;
        }
        object["requestBody"] =
            json!({"required": !op.body_optional, "content": {"application/json": media}});
    }
    object
}

/// The whole document.
pub fn document() -> Value {
    // `{}` rather than `true` for any value: client generators read only object schemas.
    let mut any_value = ReplaceBoolSchemas::default();
    any_value.skip_additional_properties = true;
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "/components/schemas".into())
        .with_transform(any_value)
        .into_generator();
    let mut paths = Map::new();
    for op in operations(&mut generator) {
        let (path, method) = (op.path, op.method);
        let item = paths.entry(path).or_insert_with(|| json!({}));
        item[method] = operation_object(op);
    }
    // Components every operation names by `schema_ref`.
    generator.subschema_for::<WorkflowData>();
    generator.subschema_for::<ExecutionData>();
    generator.subschema_for::<DeletedWorkflow>();
    generator.subschema_for::<AgentData>();
    generator.subschema_for::<TeamData>();
    generator.subschema_for::<Event>();
    generator.subschema_for::<Metadata>();
    generator.subschema_for::<ApiError>();
    let mut schemas = generator.take_definitions(true);
    // A component is named by its key; a title (the workflow document's, which `Workflow`
    // inherits by flattening it) would name two models alike in generated clients.
    for schema in schemas.values_mut() {
        if let Some(schema) = schema.as_object_mut() {
            schema.remove("title");
        }
    }
    schemas.insert(
        "ErrorEnvelope".into(),
        json!({"type": "object", "required": ["success", "error", "metadata"],
               "properties": {"success": {"const": false}, "error": schema_ref("ApiError"), "metadata": schema_ref("Metadata")}}),
    );
    schemas.insert(
        "EventEnvelope".into(),
        json!({"description": "The `data:` of a Server-Sent Event: an event, or an error that ends the stream",
               "oneOf": [success_envelope(schema_ref("ExecutionEvent")), schema_ref("ErrorEnvelope")]}),
    );
    schemas.insert(
        "ServerSentEvent".into(),
        json!({"description": "One event of the stream: `event` is the execution event's `type` (`error` for an error), `data` an EventEnvelope as JSON",
               "type": "object", "required": ["data"],
               "properties": {
                   "event": {"type": "string"},
                   "data": {"type": "string", "contentMediaType": "application/json", "contentSchema": schema_ref("EventEnvelope")},
               }}),
    );
    let mut cancelled = schemas.get("Execution").cloned().unwrap_or_default();
    let mut statuses: Vec<Value> = ExecutionStatus::ALL.iter().map(|s| json!(s)).collect();
    statuses.push(json!("cancelling"));
    cancelled["properties"]["status"] = json!({"enum": statuses});
    cancelled["description"] = json!(
        "The execution a cancel answers with: `cancelled`, or `cancelling` while its steps end"
    );
    schemas.insert("CancelledExecution".into(), cancelled);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "do HTTP API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The daemon's HTTP API (`do daemon start --http`): the REST paths of the Workflows API document, and the agent registry and teams. Every answer is the envelope `{success, data | error, metadata}`. Generated from the daemon's types by `do daemon openapi`; docs/http-api.md explains it.",
        },
        "servers": [{"url": format!("http://{}", crate::http::DEFAULT_HTTP_ADDR)}],
        "security": [{"bearer": []}],
        "tags": [
            {"name": WORKFLOWS, "description": "Workflow documents and their versions"},
            {"name": EXECUTIONS, "description": "Running workflows: status, control, events"},
            {"name": AGENTS, "description": "The agents and teams steps run on"},
        ],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "`do daemon api-key` prints the key"}},
            "schemas": schemas,
        },
    })
}
