use crate::envelope::{ApiError, ErrorCode};
use do_core::model::{AgentSpec, ExecutionStatus, Priority, TeamSpec, WorkflowStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Every method of the socket protocol with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", content = "params")]
pub enum Request {
    #[serde(rename = "hello")]
    Hello(Hello),
    /// `POST /agents/workflows`
    #[serde(rename = "workflows.create")]
    CreateWorkflow(CreateWorkflow),
    /// Validation without storing (`do workflow validate`).
    #[serde(rename = "workflows.validate")]
    ValidateWorkflow(CreateWorkflow),
    /// `GET /agents/workflows`
    #[serde(rename = "workflows.list")]
    ListWorkflows(ListWorkflows),
    /// `GET /agents/workflows/:id`
    #[serde(rename = "workflows.get")]
    GetWorkflow(ById),
    /// One stored version of a workflow's document.
    #[serde(rename = "workflows.getVersion")]
    GetWorkflowVersion(WorkflowVersion),
    /// Stores a new version of a workflow's document (`PUT /agents/workflows/:id`).
    #[serde(rename = "workflows.update")]
    UpdateWorkflow(UpdateWorkflow),
    /// `DELETE /agents/workflows/:id`
    #[serde(rename = "workflows.delete")]
    DeleteWorkflow(DeleteWorkflow),
    /// Hides a workflow from lists and refuses new executions of it; its executions stay.
    #[serde(rename = "workflows.archive")]
    ArchiveWorkflow(ById),
    /// Creates, reuses or updates the workflow named in the document, then executes it, in one
    /// transaction (`do workflow run`).
    #[serde(rename = "workflows.run")]
    RunWorkflow(RunWorkflow),
    /// `POST /agents/workflows/:id/execute`
    #[serde(rename = "workflows.execute")]
    ExecuteWorkflow(ExecuteWorkflow),
    /// `GET /agents/workflows/executions/:id`
    #[serde(rename = "executions.get")]
    GetExecution(ById),
    #[serde(rename = "executions.list")]
    ListExecutions(ListExecutions),
    /// `POST /agents/workflows/executions/:id/cancel`
    #[serde(rename = "executions.cancel")]
    CancelExecution(CancelExecution),
    /// `POST /agents/workflows/executions/:id/pause`
    #[serde(rename = "executions.pause")]
    PauseExecution(ById),
    /// `POST /agents/workflows/executions/:id/resume`
    #[serde(rename = "executions.resume")]
    ResumeExecution(ById),
    /// `POST /agents/workflows/executions/:id/steps/:stepId/retry`
    #[serde(rename = "executions.retryStep")]
    RetryStep(RetryStep),
    /// Streams the execution's events until it ends.
    #[serde(rename = "executions.watch")]
    WatchExecution(Watch),
    /// Streams what an execution's agents wrote on stderr, as [`crate::LogEntry`]s ending with
    /// `end`; with `follow`, live until the step (or the execution) ends.
    #[serde(rename = "executions.logs")]
    ExecutionLogs(Logs),
    #[serde(rename = "agents.add")]
    AddAgent(AddAgent),
    #[serde(rename = "agents.list")]
    ListAgents(Empty),
    #[serde(rename = "agents.get")]
    GetAgent(ByName),
    #[serde(rename = "agents.remove")]
    RemoveAgent(ByName),
    #[serde(rename = "teams.create")]
    CreateTeam(CreateTeam),
    #[serde(rename = "teams.list")]
    ListTeams(Empty),
    #[serde(rename = "teams.get")]
    GetTeam(ById),
    #[serde(rename = "teams.remove")]
    RemoveTeam(ById),
    /// `POST /agents/workflows/:id/schedules`
    #[serde(rename = "schedules.create")]
    CreateSchedule(crate::CreateSchedule),
    /// `GET /agents/schedules`
    #[serde(rename = "schedules.list")]
    ListSchedules(crate::ListSchedules),
    /// `GET /agents/schedules/:id`, with the schedule's latest fires.
    #[serde(rename = "schedules.get")]
    GetSchedule(crate::GetSchedule),
    /// `POST /agents/schedules/:id/pause`
    #[serde(rename = "schedules.pause")]
    PauseSchedule(ById),
    /// `POST /agents/schedules/:id/resume`
    #[serde(rename = "schedules.resume")]
    ResumeSchedule(ById),
    /// `DELETE /agents/schedules/:id`
    #[serde(rename = "schedules.remove")]
    RemoveSchedule(ById),
    /// `POST /agents/schedules/:id/trigger`: fires now, as a tick would.
    #[serde(rename = "schedules.trigger")]
    TriggerSchedule(ById),
    #[serde(rename = "daemon.status")]
    DaemonStatus(Empty),
    #[serde(rename = "daemon.stop")]
    StopDaemon(Stop),
    /// The HTTP API's key, created on first use; `rotate` replaces it with a new one.
    #[serde(rename = "daemon.apiKey")]
    DaemonApiKey(ApiKey),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    #[serde(default)]
    pub rotate: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hello {
    pub protocol_version: u32,
    #[serde(default)]
    pub client_version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ById {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ByName {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateWorkflow {
    /// The raw workflow document; the daemon validates it.
    pub document: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListWorkflows {
    #[serde(default)]
    pub status: Option<WorkflowStatus>,
    #[serde(default)]
    pub category: Option<String>,
    /// Archived workflows too (they are left out unless `status` asks for them).
    #[serde(default)]
    pub all: bool,
    #[serde(default = "default_limit")]
    pub limit: u32,
    #[serde(default)]
    pub offset: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowVersion {
    pub id: String,
    pub version: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateWorkflow {
    pub id: String,
    /// The raw workflow document; the daemon validates it.
    pub document: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeleteWorkflow {
    pub id: String,
    /// Delete the workflow's ended executions too; without it, a workflow that has any is kept.
    #[serde(default)]
    pub force: bool,
}

/// `workflows.execute` with the document instead of a stored workflow's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunWorkflow {
    /// The raw workflow document; the daemon validates it.
    pub document: Value,
    #[serde(default)]
    pub input: Option<Value>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub notifications: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListExecutions {
    #[serde(default)]
    pub workflow_id: Option<String>,
    #[serde(default)]
    pub status: Option<ExecutionStatus>,
    #[serde(default = "default_limit")]
    pub limit: u32,
    #[serde(default)]
    pub offset: u32,
}

/// The API's default page size.
pub fn default_limit() -> u32 {
    50
}

/// The largest page a list answers (`limit`).
pub const MAX_LIMIT: u32 = 1000;

/// The largest `offset` of a list.
pub const MAX_OFFSET: u32 = 1_000_000_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteWorkflow {
    pub workflow_id: String,
    #[serde(default)]
    pub input: Option<Value>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub notifications: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddAgent {
    pub agent: AgentSpec,
    /// Replace an agent of the same name instead of refusing.
    #[serde(default)]
    pub replace: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    /// End running steps now (they run again at the next start) instead of waiting for them.
    #[serde(default)]
    pub now: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Watch {
    pub id: String,
    /// Go on past the end until the end's notifications are delivered (or given up on), so that
    /// their outcomes are part of the stream.
    #[serde(default)]
    pub notifications: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Logs {
    pub id: String,
    /// Only this step's attempts (inside a loop: `process[2]`).
    #[serde(default)]
    pub step_id: Option<String>,
    /// Only this attempt of the step(s).
    #[serde(default)]
    pub attempt: Option<u32>,
    /// Go on with the lines written from now on, until the step (without `stepId`: the
    /// execution) ends or escalates.
    #[serde(default)]
    pub follow: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelExecution {
    pub id: String,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryStep {
    pub id: String,
    pub step_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateTeam {
    pub team: TeamSpec,
    /// Replace a team of the same id instead of refusing.
    #[serde(default)]
    pub replace: bool,
}

/// Serializes a request as one protocol line (without the newline).
pub fn encode_request(id: &str, request: &Request) -> String {
    let mut value = serde_json::to_value(request).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("id".into(), Value::String(id.to_owned()));
    }
    value.to_string()
}

/// Parses one protocol line into its request id and request. The id is returned even when the
/// request itself is invalid, so the error can be addressed to it.
pub fn decode_request(line: &str) -> (String, Result<Request, ApiError>) {
    let mut value: Value = match serde_json::from_str(line) {
        Ok(value) => value,
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => {
            return (
                String::new(),
                Err(invalid(format!(
                    "request nests arrays or objects more than 128 deep (at column {})",
                    e.column()
                ))),
            );
        }
        Err(e) => {
            return (
                String::new(),
                Err(invalid(format!("request is not valid JSON: {e}"))),
            );
        }
    };
    let Some(map) = value.as_object_mut() else {
        return (
            String::new(),
            Err(invalid("request must be a JSON object".into())),
        );
    };
    let id = match map.remove("id") {
        Some(Value::String(id)) => id,
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    if !map.contains_key("params") || map.get("params") == Some(&Value::Null) {
        map.insert("params".into(), Value::Object(Default::default()));
    }
    let request =
        serde_json::from_value(value).map_err(|e| invalid(format!("invalid request: {e}")));
    (id, request)
}

fn invalid(message: String) -> ApiError {
    ApiError::new(ErrorCode::InvalidRequest, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_round_trip_through_a_line() {
        let request = Request::ListWorkflows(ListWorkflows {
            status: Some(WorkflowStatus::Draft),
            category: None,
            all: false,
            limit: 10,
            offset: 0,
        });
        let line = encode_request("7", &request);
        assert_eq!(decode_request(&line), ("7".to_owned(), Ok(request)));
    }

    #[test]
    fn params_may_be_left_out_and_defaults_apply() {
        let (id, request) = decode_request(r#"{"id":"1","method":"workflows.list"}"#);
        assert_eq!(id, "1");
        assert_eq!(
            request,
            Ok(Request::ListWorkflows(ListWorkflows {
                status: None,
                category: None,
                all: false,
                limit: 50,
                offset: 0
            }))
        );
        let (_, request) = decode_request(r#"{"id":"2","method":"agents.list","params":null}"#);
        assert_eq!(request, Ok(Request::ListAgents(Empty {})));
    }

    #[test]
    fn bad_lines_are_errors_with_the_request_id() {
        let (id, request) = decode_request(r#"{"id":"9","method":"workflows.destroy"}"#);
        assert_eq!(id, "9");
        let error = request.expect_err("unknown method");
        assert_eq!(error.code, ErrorCode::InvalidRequest);
        assert!(
            error.message.contains("workflows.destroy"),
            "{}",
            error.message
        );
        for line in ["", "{", "[]", "42", "{\"method\":3}", "\u{0}"] {
            assert!(decode_request(line).1.is_err(), "{line:?}");
        }
    }

    #[test]
    fn a_too_deep_request_is_refused_in_words() {
        let line = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let (_, decoded) = decode_request(&line);
        let error = decoded.expect_err("refused");
        assert!(
            error.message.contains("more than 128 deep"),
            "{}",
            error.message
        );
    }
}
