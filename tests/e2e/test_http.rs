//! The HTTP API (`daemon start --http`): the API document's paths, envelope, status codes and
//! bearer key, against a real daemon listening on a free port.

use crate::common::{TestEnv, repo_root};
use crate::http_api::{Api, Events, SAAS_AGENTS, assert_envelope, register_agents};
use serde_json::{Value, json};
use std::io::{Read, Write};

#[test]
fn the_api_documents_examples_run_over_http_and_the_cli_sees_the_same_objects() {
    let env = TestEnv::new();
    let api = Api::start(&env);
    register_agents(&env, &SAAS_AGENTS);
    let example: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("examples/saas-launch.json")).expect("example"),
    )
    .expect("example JSON");

    let created = api.post("/agents/workflows", &example);
    assert_envelope(&created, 201, true);
    assert_eq!(created.body["data"]["status"], "draft");
    let workflow = created.body["data"]["workflowId"]
        .as_str()
        .expect("workflowId")
        .to_owned();

    // The CLI lists what HTTP created, and HTTP lists what the CLI created.
    let cli_list = env.json(&["workflow", "list"]);
    assert!(cli_list.to_string().contains(&workflow), "{cli_list}");
    let from_cli = env.create(&json!({"name": "from the cli", "steps": [
        {"id": "only", "agent": "mira", "task": "t"}
    ]}));
    let listed = api.get("/agents/workflows?limit=10&offset=0");
    assert_envelope(&listed, 200, true);
    let ids: Vec<&str> = listed.body["data"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|w| w["workflowId"].as_str())
        .collect();
    assert!(
        ids.contains(&workflow.as_str()) && ids.contains(&from_cli.as_str()),
        "{ids:?}"
    );
    let drafts = api.get("/agents/workflows?status=draft&limit=1");
    assert_envelope(&drafts, 200, true);
    assert_eq!(drafts.body["data"].as_array().expect("list").len(), 1);
    let bad_status = api.get("/agents/workflows?status=sleeping");
    assert_envelope(&bad_status, 400, false);

    let fetched = api.get(&format!("/agents/workflows/{workflow}"));
    assert_envelope(&fetched, 200, true);
    assert_eq!(fetched.body["data"]["workflowId"], workflow.as_str());

    let executed = api.post(
        &format!("/agents/workflows/{workflow}/execute"),
        &json!({
            "input": {"productName": "CloudSync Pro", "targetMarket": "SMB businesses", "budget": 100000},
            "priority": "high"
        }),
    );
    assert_envelope(&executed, 202, true);
    let execution = executed.body["data"]["executionId"]
        .as_str()
        .expect("executionId")
        .to_owned();
    assert!(executed.body["data"]["progress"].is_object());

    // The event stream delivers the run in order and closes at its end: no polling.
    let events = api.events(&execution);
    assert!(events.iter().all(|e| e["success"] == true), "{events:?}");
    let seqs: Vec<u64> = events
        .iter()
        .map(|e| e["data"]["seq"].as_u64().expect("seq"))
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["data"]["type"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds.last(), Some(&"execution.finished"), "{kinds:?}");
    let research_started = events
        .iter()
        .position(|e| e["data"]["stepId"] == "market-research")
        .expect("market-research events");
    let strategy_started = events
        .iter()
        .position(|e| e["data"]["stepId"] == "product-strategy")
        .expect("product-strategy events");
    assert!(research_started < strategy_started, "{kinds:?}");

    let status = api.get(&format!("/agents/workflows/executions/{execution}"));
    assert_envelope(&status, 200, true);
    assert_eq!(status.body["data"]["status"], "completed");
    assert_eq!(status.body["data"]["progress"]["percentage"], 100);
    assert!(status.body["data"]["steps"].is_array());

    // The CLI sees the execution HTTP started.
    let cli_status = env.json(&["workflow", "execution", &execution]);
    assert_eq!(cli_status["status"], "completed");

    // Transitions that make no sense on a finished execution: 409.
    for action in ["resume", "pause", "cancel"] {
        let reply = api.post(
            &format!("/agents/workflows/executions/{execution}/{action}"),
            &json!({}),
        );
        assert_envelope(&reply, 409, false);
        assert_eq!(reply.body["error"]["code"], "conflict");
    }
}

#[test]
fn errors_answer_with_the_envelope_and_the_right_status() {
    let env = TestEnv::new();
    let api = Api::start(&env);

    // 401: no key, a wrong key, a key of the right length but wrong.
    let wrong = "0".repeat(64);
    for key in [None, Some("nope"), Some(wrong.as_str())] {
        let reply = api.send("GET", "/agents/workflows", key, None);
        assert_envelope(&reply, 401, false);
        assert_eq!(reply.body["error"]["code"], "unauthorized");
    }

    // 404: unknown ids on every route that takes one.
    for path in [
        "/agents/workflows/wf_missing",
        "/agents/workflows/executions/exec_missing",
        "/agents/workflows/executions/exec_missing/events",
    ] {
        let reply = api.get(path);
        assert_envelope(&reply, 404, false);
        assert_eq!(reply.body["error"]["code"], "not_found");
    }
    for path in [
        "/agents/workflows/wf_missing/execute",
        "/agents/workflows/executions/exec_missing/cancel",
        "/agents/workflows/executions/exec_missing/pause",
        "/agents/workflows/executions/exec_missing/resume",
        "/agents/workflows/executions/exec_missing/steps/a/retry",
    ] {
        let reply = api.post(path, &json!({}));
        assert_envelope(&reply, 404, false);
    }

    // 400: an invalid document names the JSON path of each error.
    let invalid = api.post(
        "/agents/workflows",
        &json!({"name": "bad", "steps": [{"id": 7, "agent": "a", "task": "t"}]}),
    );
    assert_envelope(&invalid, 400, false);
    assert_eq!(invalid.body["error"]["code"], "invalid_document");
    let paths: Vec<&str> = invalid.body["error"]["details"]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert!(paths.contains(&"steps[0].id"), "{paths:?}");

    // 400: a body that is not JSON gets the envelope, not a plain-text rejection.
    let garbage = api.send(
        "POST",
        "/agents/workflows",
        Some(&api.key.clone()),
        Some("{not json"),
    );
    assert_envelope(&garbage, 400, false);

    // 400: a wrong type in the execute body names the field.
    env.run(&["agent", "add", "ok", "--shell", "echo ok"]).ok();
    let workflow = env.create(&json!({"name": "w", "steps": [
        {"id": "s", "agent": "ok", "task": "t"}
    ]}));
    let bad_priority = api.post(
        &format!("/agents/workflows/{workflow}/execute"),
        &json!({"priority": 3}),
    );
    assert_envelope(&bad_priority, 400, false);
    assert_eq!(
        bad_priority.body["error"]["details"]["errors"][0]["path"],
        "priority"
    );

    // 413: a body over 16 MiB is refused from its declared length, with the envelope.
    let addr = api.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "POST /agents/workflows HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        api.key,
        17 * 1024 * 1024
    )
    .expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"success\":false"), "{answer}");

    // A rotated key replaces the old one at once.
    let old = api.key.clone();
    let new = env
        .run(&["daemon", "api-key", "--rotate"])
        .ok()
        .trim()
        .to_owned();
    assert_ne!(old, new);
    assert_envelope(
        &api.send("GET", "/agents/workflows", Some(&old), None),
        401,
        false,
    );
    assert_envelope(
        &api.send("GET", "/agents/workflows", Some(&new), None),
        200,
        true,
    );
}

#[test]
fn pause_resume_cancel_and_retry_over_http() {
    let env = TestEnv::new();
    let api = Api::start(&env);
    let gate = env.gated_agent("gated", "echo first");
    env.run(&["agent", "add", "ok", "--shell", "echo ok"]).ok();
    let fixed = env.path("fixed");
    env.run(&[
        "agent",
        "add",
        "flaky",
        "--shell",
        &format!(
            "test -e '{}' || {{ echo broken >&2; exit 3; }}; echo fixed",
            fixed.display()
        ),
    ])
    .ok();
    let execute = |workflow: &str| -> String {
        let reply = api.post(&format!("/agents/workflows/{workflow}/execute"), &json!({}));
        assert_envelope(&reply, 202, true);
        reply.body["data"]["executionId"]
            .as_str()
            .expect("executionId")
            .to_owned()
    };
    let exec_path = |execution: &str, action: &str| {
        format!("/agents/workflows/executions/{execution}/{action}")
    };

    // Pause and resume.
    let workflow = env.create(&json!({"name": "pause", "steps": [
        {"id": "first", "agent": "gated", "task": "t"}, {"id": "second", "agent": "ok", "task": "t"}]}));
    let execution = execute(&workflow);
    let mut events = Events::open(&api, &execution);
    events.until("step.started", Some("first"));
    let early = api.post(&exec_path(&execution, "resume"), &json!({}));
    assert_envelope(&early, 409, false);
    let paused = api.post(&exec_path(&execution, "pause"), &json!({}));
    assert_envelope(&paused, 200, true);
    assert_eq!(paused.body["data"]["status"], "paused");
    std::fs::write(&gate, "").expect("open the gate");
    events.until("step.completed", Some("first"));
    let resumed = api.post(&exec_path(&execution, "resume"), &json!({}));
    assert_envelope(&resumed, 200, true);
    events.ends();
    let done = api.get(&format!("/agents/workflows/executions/{execution}"));
    assert_eq!(done.body["data"]["status"], "completed", "{}", done.body);

    // Retry a failed step once the cause is fixed.
    let workflow = env.create(&json!({"name": "retry", "steps": [
        {"id": "flaky", "agent": "flaky", "task": "t"}]}));
    let execution = execute(&workflow);
    Events::open(&api, &execution).ends();
    let failed = api.get(&format!("/agents/workflows/executions/{execution}"));
    assert_eq!(failed.body["data"]["status"], "failed", "{}", failed.body);
    let unknown_step = api.post(&exec_path(&execution, "steps/nope/retry"), &json!({}));
    assert_eq!(unknown_step.body["success"], false, "{}", unknown_step.body);
    assert!(
        (400..500).contains(&unknown_step.status),
        "{}",
        unknown_step.status
    );
    std::fs::write(&fixed, "").expect("fix");
    let retried = api.post(&exec_path(&execution, "steps/flaky/retry"), &json!({}));
    assert_envelope(&retried, 200, true);
    Events::open(&api, &execution).ends();
    let done = api.get(&format!("/agents/workflows/executions/{execution}"));
    assert_eq!(done.body["data"]["status"], "completed", "{}", done.body);

    // Cancel with a reason.
    std::fs::remove_file(&gate).expect("close the gate");
    let workflow = env.create(&json!({"name": "cancel", "steps": [
        {"id": "first", "agent": "gated", "task": "t"}]}));
    let execution = execute(&workflow);
    let mut events = Events::open(&api, &execution);
    events.until("step.started", Some("first"));
    let cancelled = api.post(
        &exec_path(&execution, "cancel"),
        &json!({"reason": "launch postponed"}),
    );
    assert_envelope(&cancelled, 200, true);
    events.ends();
    let done = api.get(&format!("/agents/workflows/executions/{execution}"));
    assert_eq!(done.body["data"]["status"], "cancelled", "{}", done.body);
    assert_eq!(done.body["data"]["cancelReason"], "launch postponed");
    let again = api.post(&exec_path(&execution, "cancel"), &json!({}));
    assert_envelope(&again, 409, false);
}

#[test]
fn config_toml_turns_the_http_api_on_and_status_shows_its_address() {
    let env = TestEnv::new();
    env.write_config("[daemon]\nhttp = \"127.0.0.1:0\"\n");
    env.run(&["daemon", "start"]).ok();
    let status = env.json(&["daemon", "status"]);
    let addr = status["http"].as_str().expect("http address").to_owned();
    assert_eq!(
        std::fs::read_to_string(env.path("data/http.addr"))
            .expect("http.addr")
            .trim(),
        addr
    );
    let key = env.run(&["daemon", "api-key"]).ok().trim().to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let response = agent
        .get(&format!("http://{addr}/agents/workflows"))
        .header("Authorization", &format!("Bearer {key}"))
        .call()
        .expect("GET");
    assert_eq!(response.status().as_u16(), 200);
    env.run(&["daemon", "stop"]).ok();
    assert!(
        !env.path("data/http.addr").exists(),
        "the address file goes with the daemon"
    );

    env.write_config("[daemon]\nhttp = \"not an address\"\n");
    let refused = env.run(&["daemon", "start"]);
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("daemon.http"), "{}", refused.stderr);
}

/// The API document's curl examples (`../shared/api/workflows-api.md`, "Example Request"),
/// copied verbatim; tests change only the base URL, the key and the ids they name.
const DOC_CREATE: &str = r##"curl -X POST "https://api.do/agents/workflows" \
-H "Authorization: Bearer YOUR_API_KEY" \
-H "Content-Type: application/json" \
-d '{
"name": "SaaS Product Launch Workflow",
"description": "End-to-end workflow for launching a new SaaS product",
"steps": [
{
"id": "market-research",
"type": "task",
"agent": "mira",
"task": "Conduct market research for SaaS product",
"output": "research-data"
},
{
"id": "product-strategy",
"type": "task",
"agent": "priya",
"task": "Define product strategy",
"input": "research-data",
"output": "strategy-doc"
},
{
"id": "parallel-development",
"type": "parallel",
"steps": [
{
"id": "backend-dev",
"agent": "tom",
"task": "Develop backend",
"input": "strategy-doc",
"output": "backend-code"
},
{
"id": "frontend-dev",
"agent": "rae",
"task": "Develop frontend",
"input": "strategy-doc",
"output": "frontend-code"
}
]
},
{
"id": "testing",
"type": "task",
"agent": "quinn",
"task": "Run comprehensive tests",
"input": ["backend-code", "frontend-code"],
"output": "test-results"
},
{
"id": "deploy",
"type": "task",
"agent": "dev",
"task": "Deploy to production",
"input": ["backend-code", "frontend-code", "test-results"],
"output": "deployment-url"
}
],
"errorHandling": {
"strategy": "retry",
"maxRetries": 3,
"escalateOnFailure": true
},
"timeout": 604800
}'"##;
const DOC_EXECUTE: &str = r##"curl -X POST "https://api.do/agents/workflows/wf_abc123/execute" \
-H "Authorization: Bearer YOUR_API_KEY" \
-H "Content-Type: application/json" \
-d '{
"input": {
"productName": "CloudSync Pro",
"targetMarket": "SMB businesses",
"budget": 100000
},
"priority": "high",
"notifications": {
"email": "[email protected]",
"slack": "#product-launches"
}
}'"##;
const DOC_GET: &str = r##"curl -X GET "https://api.do/agents/workflows/executions/exec_xyz789" \
-H "Authorization: Bearer YOUR_API_KEY""##;
const DOC_CANCEL: &str = r##"curl -X POST "https://api.do/agents/workflows/executions/exec_xyz789/cancel" \
-H "Authorization: Bearer YOUR_API_KEY" \
-H "Content-Type: application/json" \
-d '{
"reason": "Requirements changed"
}'"##;

/// Runs one of the document's curl commands with `sh`, pointed at this daemon.
fn run_doc_curl(api: &Api, command: &str, ids: &[(&str, &str)]) -> Value {
    let mut command = command
        .replace("https://api.do", &api.base)
        .replace("YOUR_API_KEY", &api.key)
        // The published page's email is a web-scraping artefact (an obfuscated address),
        // not an address: give it one so that validation of `notifications` passes.
        .replace("[email protected]", "team@example.com");
    for (from, to) in ids {
        command = command.replace(from, to);
    }
    // The status on a last line of its own, to check the answer against docs/openapi.json.
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{command} -s -w '\\n%{{http_code}}'"))
        .output()
        .expect("run curl (is it installed?)");
    assert!(output.status.success(), "curl failed: {output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let (body, status) = stdout.rsplit_once('\n').expect("the status line");
    let body: Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("curl printed no JSON ({e}): {stdout}"));
    let method = command
        .split_once("-X ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .expect("-X METHOD");
    let url = command
        .split('"')
        .find(|part| part.starts_with(&api.base))
        .expect("the URL");
    let status = status.trim().parse().expect("the status");
    crate::contract::check(method, &url[api.base.len()..], status, &body);
    body
}

#[test]
fn the_api_documents_curl_examples_run_verbatim() {
    let env = TestEnv::new();
    // The example names a Slack channel: config.toml must map it to an incoming webhook.
    env.write_config("[notifications.slack]\n\"#product-launches\" = \"http://127.0.0.1:9/\"\n");
    let api = Api::start(&env);
    register_agents(&env, &SAAS_AGENTS);

    let created = run_doc_curl(&api, DOC_CREATE, &[]);
    assert_eq!(created["success"], true, "{created}");
    assert_eq!(created["data"]["status"], "draft");
    assert!(created["metadata"]["requestId"].is_string());
    let workflow = created["data"]["workflowId"]
        .as_str()
        .expect("workflowId")
        .to_owned();

    let executed = run_doc_curl(&api, DOC_EXECUTE, &[("wf_abc123", &workflow)]);
    assert_eq!(executed["success"], true, "{executed}");
    assert_eq!(executed["data"]["priority"], "high");
    let execution = executed["data"]["executionId"]
        .as_str()
        .expect("executionId")
        .to_owned();
    assert_eq!(executed["data"]["progress"]["total"], 5);
    Events::open(&api, &execution).ends();

    let status = run_doc_curl(&api, DOC_GET, &[("exec_xyz789", &execution)]);
    assert_eq!(status["success"], true, "{status}");
    assert_eq!(status["data"]["status"], "completed");
    assert_eq!(status["data"]["progress"]["percentage"], 100);
    assert_eq!(status["data"]["steps"].as_array().map(Vec::len), Some(5));
    assert!(status["metadata"]["requestId"].is_string());

    // Cancel a second run while its first step runs.
    let gate = env.path("never");
    env.run(&[
        "agent",
        "add",
        "mira",
        "--replace",
        "--shell",
        &format!("while [ ! -e '{}' ]; do sleep 0.05; done", gate.display()),
    ])
    .ok();
    let second = api.post(&format!("/agents/workflows/{workflow}/execute"), &json!({}));
    let second = second.body["data"]["executionId"]
        .as_str()
        .expect("executionId")
        .to_owned();
    let mut events = Events::open(&api, &second);
    events.until("step.started", Some("market-research"));
    let cancelled = run_doc_curl(&api, DOC_CANCEL, &[("exec_xyz789", &second)]);
    assert_eq!(cancelled["success"], true, "{cancelled}");
    events.ends();
    let status = api.get(&format!("/agents/workflows/executions/{second}"));
    assert_eq!(status.body["data"]["status"], "cancelled");
    assert_eq!(status.body["data"]["cancelReason"], "Requirements changed");
}

/// `docs/openapi.json` is checked against the daemon: every operation it lists is routed (no
/// fallback 404, no 405), and the status documents it describes have the fields the daemon
/// sends, no more and no fewer.
#[test]
fn the_openapi_document_matches_the_daemon() {
    let env = TestEnv::new();
    let api = Api::start(&env);
    let openapi: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("docs/openapi.json")).expect("openapi.json"),
    )
    .expect("openapi.json is JSON");
    let mut operations = 0;
    for (path, item) in openapi["paths"].as_object().expect("paths") {
        let concrete = path
            .replace("{id}", "x_missing")
            .replace("{stepId}", "s")
            .replace("{name}", "x_missing");
        for method in item.as_object().expect("path item").keys() {
            operations += 1;
            let reply = match method.as_str() {
                "get" => api.get(&concrete),
                "post" => api.post(&concrete, &json!({"name": "n", "steps": []})),
                "put" => api.send(
                    "PUT",
                    &concrete,
                    Some(&api.key),
                    Some(r#"{"name": "n", "steps": []}"#),
                ),
                "delete" => api.send("DELETE", &concrete, Some(&api.key), None),
                other => panic!("unexpected method {other}"),
            };
            let message = reply.body["error"]["message"].as_str().unwrap_or_default();
            assert!(
                !message.starts_with("no such endpoint") && reply.status != 405,
                "{method} {path} is not routed: {}",
                reply.body
            );
            let documented = item[method]["responses"].as_object().expect("responses");
            assert!(
                documented.contains_key(&reply.status.to_string()),
                "{method} {path} answered {}, which the document does not list",
                reply.status
            );
        }
    }
    assert_eq!(operations, 30, "the router serves 30 operations");

    let schemas = &openapi["components"]["schemas"];
    let declared = |schema: &str| -> Vec<String> {
        let mut keys: Vec<String> = schemas[schema]["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    };
    env.run(&["agent", "add", "ok", "--shell", "echo ok"]).ok();
    let created = api.post(
        "/agents/workflows",
        &json!({"name": "w", "steps": [{"id": "s", "agent": "ok", "task": "t"}]}),
    );
    let workflow = created.body["data"]["workflowId"]
        .as_str()
        .expect("id")
        .to_owned();
    let workflow_keys: Vec<String> = created.body["data"]
        .as_object()
        .expect("workflow")
        .keys()
        .cloned()
        .collect();
    for key in schemas["Workflow"]["required"]
        .as_array()
        .expect("required")
    {
        let key = key.as_str().expect("name").to_owned();
        assert!(workflow_keys.contains(&key), "Workflow.{key} is not sent");
    }
    let executed = api.post(
        &format!("/agents/workflows/{workflow}/execute"),
        &json!({"input": {}}),
    );
    let execution = executed.body["data"]["executionId"]
        .as_str()
        .expect("id")
        .to_owned();
    Events::open(&api, &execution).ends();
    let status = api.get(&format!("/agents/workflows/executions/{execution}"));
    let execution_fields = declared("Execution");
    for key in status.body["data"].as_object().expect("status").keys() {
        assert!(
            execution_fields.contains(key),
            "the status document's `{key}` is missing from the Execution schema"
        );
    }
    for key in schemas["Execution"]["required"]
        .as_array()
        .expect("required")
    {
        assert!(
            status.body["data"]
                .get(key.as_str().expect("name"))
                .is_some(),
            "required {key} not sent"
        );
    }
}

#[test]
fn put_stores_a_version_and_delete_keeps_history_unless_forced() {
    let env = TestEnv::new();
    let api = Api::start(&env);
    env.run(&["agent", "add", "ok", "--shell", "echo ok"]).ok();
    let doc =
        |task: &str| json!({"name": "w", "steps": [{"id": "s", "agent": "ok", "task": task}]});
    let created = api.post("/agents/workflows", &doc("one"));
    let workflow = created.body["data"]["workflowId"]
        .as_str()
        .expect("id")
        .to_owned();
    let path = format!("/agents/workflows/{workflow}");
    let put = |body: &Value| api.send("PUT", &path, Some(&api.key), Some(&body.to_string()));

    let updated = put(&doc("two"));
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["data"]["version"], 2);
    assert_eq!(updated.body["data"]["steps"][0]["task"], "two");
    let invalid = put(&json!({"name": "w", "steps": [{"id": "s", "agent": "ok"}]}));
    assert_eq!(invalid.status, 400);
    assert_eq!(
        invalid.body["error"]["details"]["errors"][0]["path"],
        "steps[0]"
    );
    assert_eq!(api.get(&path).body["data"]["version"], 2);

    let executed = api.post(&format!("{path}/execute"), &json!({}));
    let execution = executed.body["data"]["executionId"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(executed.body["data"]["workflowVersion"], 2);
    Events::open(&api, &execution).ends();
    let refused = api.send("DELETE", &path, Some(&api.key), None);
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(refused.body["error"]["code"], "conflict");
    let message = refused.body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("?force=true") && !message.contains("--force"),
        "{message}"
    );
    let deleted = api.send(
        "DELETE",
        &format!("{path}?force=true"),
        Some(&api.key),
        None,
    );
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(
        deleted.body["data"]["executionsDeleted"],
        json!([execution])
    );
    assert_eq!(api.get(&path).status, 404);
    assert_eq!(
        api.get(&format!("/agents/workflows/executions/{execution}"))
            .status,
        404
    );
}

#[test]
fn step_logs_are_served_as_server_sent_events() {
    let env = TestEnv::new();
    let api = Api::start(&env);
    env.run(&[
        "agent",
        "add",
        "chatty",
        "--shell",
        "echo \"working on $DO_STEP_ID\" >&2; echo 'second line' >&2; echo done",
    ])
    .ok();
    let workflow = env.create(&json!({"name": "logs", "steps": [
        {"id": "one", "agent": "chatty", "task": "t"}, {"id": "two", "agent": "chatty", "task": "t"}]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let id = status["executionId"].as_str().expect("id");
    for follow in ["", "&follow=true"] {
        let entries: Vec<Value> = api
            .sse(&format!(
                "/agents/workflows/executions/{id}/logs?stepId=two{follow}"
            ))
            .into_iter()
            .map(|envelope| envelope["data"].clone())
            .collect();
        assert_eq!(
            entries,
            [
                json!({"type": "attempt", "stepId": "two", "attempt": 1, "status": "succeeded"}),
                json!({"type": "lines", "stepId": "two", "attempt": 1,
                       "lines": ["working on two", "second line"]}),
                json!({"type": "end"}),
            ]
        );
    }
    let missing = api.get(&format!(
        "/agents/workflows/executions/{id}/logs?stepId=three"
    ));
    assert_envelope(&missing, 400, false);
    assert!(
        missing.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no step `three`")),
        "{}",
        missing.body
    );
}

/// The daemon keeps the API key: `daemon api-key` asks it over the socket (starting one if none
/// runs), and `daemon status` reports the HTTP address from the daemon, null when it serves none.
#[test]
fn the_api_key_and_the_http_address_come_from_the_daemon() {
    let env = TestEnv::new();
    let answer = env.json(&["daemon", "api-key"]);
    let key = answer["apiKey"].as_str().expect("apiKey");
    assert_eq!(key.len(), 64, "{answer}");
    let path = answer["path"].as_str().expect("path");
    assert!(path.ends_with("api-key"), "{answer}");
    let status = env.json(&["daemon", "status"]);
    assert!(status["pid"].is_u64(), "a daemon answers: {status}");
    assert_eq!(status["http"], Value::Null, "{status}");
    let rotated = env.json(&["daemon", "api-key", "--rotate"]);
    assert_ne!(rotated["apiKey"], answer["apiKey"], "{rotated}");
    assert_eq!(rotated["path"], answer["path"], "{rotated}");
}
