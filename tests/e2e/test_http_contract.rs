//! The HTTP API's answers against its contract (docs/http-api.md, docs/openapi.json): errors
//! the HTTP layer makes itself, paging, the execute answer's fields, executions, agents and
//! teams over HTTP, and notifications delivered end to end.

use crate::common::TestEnv;
use crate::http_api::{Api, Events, assert_envelope};
use crate::test_failures::{fallback_agents, webhook_server};
use serde_json::{Value, json};
use std::time::Duration;

fn error_paths(reply: &crate::http_api::Reply) -> Vec<String> {
    reply.body["error"]["details"]["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["path"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_http_layers_own_errors_are_json_envelopes() {
    let env = TestEnv::new();
    let api = Api::start(&env);
    let key = format!("Bearer {}", api.key);

    // 405 with the envelope, a JSON content type and the allowed methods.
    let patch = api.request(
        "PATCH",
        "/agents/workflows",
        &[("Authorization", &key)],
        None,
    );
    assert_envelope(&patch, 405, false);
    assert!(
        patch.content_type.starts_with("application/json"),
        "{}",
        patch.content_type
    );
    let message = patch.body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("GET") && message.contains("POST"),
        "{message}"
    );

    // The scheme is case-insensitive; a missing or wrong key is `unauthorized`.
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let auth = format!("{scheme} {}", api.key);
        let reply = api.request(
            "GET",
            "/agents/workflows",
            &[("Authorization", &auth)],
            None,
        );
        assert_envelope(&reply, 200, true);
    }
    let refused = api.request("GET", "/agents/workflows", &[], None);
    assert_envelope(&refused, 401, false);
    assert_eq!(refused.body["error"]["code"], "unauthorized");

    // A body that is not declared JSON is refused, not parsed.
    let document = r#"{"name": "w", "steps": [{"id": "s", "agent": "a", "task": "t"}]}"#;
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        None,
    ] {
        let mut headers = vec![("Authorization", key.as_str())];
        headers.extend(content_type.map(|c| ("Content-Type", c)));
        let reply = api.request("POST", "/agents/workflows", &headers, Some(document));
        assert_envelope(&reply, 415, false);
    }
    let charset = api.request(
        "POST",
        "/agents/workflows",
        &[
            ("Authorization", &key),
            ("Content-Type", "application/json; charset=utf-8"),
        ],
        Some(document),
    );
    assert_envelope(&charset, 201, true);

    // Paging bounds name the maximum.
    for (query, needle) in [
        ("limit=1001", "1000"),
        ("limit=99999999999999999999", "1000"),
        ("offset=1000000001", "1000000000"),
        ("limit=-1", "whole number"),
    ] {
        let reply = api.get(&format!("/agents/workflows?{query}"));
        assert_envelope(&reply, 400, false);
        let message = reply.body["error"]["message"].as_str().expect("message");
        assert!(message.contains(needle), "{query}: {message}");
        assert_eq!(error_paths(&reply).len(), 1, "{}", reply.body);
    }
    assert_envelope(
        &api.get("/agents/workflows?limit=1000&offset=1000000000"),
        200,
        true,
    );
}

#[test]
fn execute_errors_name_their_fields_and_unmapped_slack_channels_are_refused() {
    let env = TestEnv::new();
    env.write_config("[notifications.slack]\n\"#launches\" = \"http://127.0.0.1:9/hook\"\n");
    let api = Api::start(&env);
    env.run(&["agent", "add", "ok", "--shell", "echo ok"]).ok();
    let workflow = env.create(&json!({"name": "w", "steps": [
        {"id": "s", "agent": "ok", "task": "t"}]}));
    let execute = format!("/agents/workflows/{workflow}/execute");
    for (body, path) in [
        (json!({"input": [1]}), "input"),
        (
            json!({"notifications": {"webhook": "ftp://x"}}),
            "notifications.webhook",
        ),
        (
            json!({"notifications": {"email": 3}}),
            "notifications.email",
        ),
        (
            json!({"notifications": {"pager": "x"}}),
            "notifications.pager",
        ),
        (
            json!({"notifications": {"slack": "#nowhere"}}),
            "notifications.slack",
        ),
        (json!({"notifications": "#launches"}), "notifications"),
    ] {
        let reply = api.post(&execute, &body);
        assert_envelope(&reply, 400, false);
        assert_eq!(error_paths(&reply), [path], "{body}: {}", reply.body);
    }
    let unmapped = api.post(&execute, &json!({"notifications": {"slack": "#nowhere"}}));
    let message = unmapped.body["error"]["message"].as_str().expect("message");
    assert!(message.contains("[notifications.slack]"), "{message}");
    let mapped = api.post(&execute, &json!({"notifications": {"slack": "#launches"}}));
    assert_envelope(&mapped, 202, true);
}

#[test]
fn the_execute_answer_has_its_start_its_estimate_and_its_tracking_url() {
    let env = TestEnv::new();
    let api = Api::start(&env);
    let gate = env.gated_agent("slow", "echo slow-done");
    env.run(&["agent", "add", "fresh", "--shell", "echo fresh"])
        .ok();

    // The agent's duration is known from another workflow only.
    let other = env.create(&json!({"name": "other", "steps": [
        {"id": "warm-up", "agent": "slow", "task": "t"}]}));
    std::fs::write(&gate, "").expect("open the gate");
    let warm = api.post(&format!("/agents/workflows/{other}/execute"), &json!({}));
    Events::open(&api, warm.body["data"]["executionId"].as_str().expect("id")).ends();
    std::fs::remove_file(&gate).expect("close the gate");

    let workflow = env.create(&json!({"name": "first run", "steps": [
        {"id": "build", "agent": "slow", "task": "t"}]}));
    let executed = api.post(&format!("/agents/workflows/{workflow}/execute"), &json!({}));
    assert_envelope(&executed, 202, true);
    let data = &executed.body["data"];
    let execution = data["executionId"].as_str().expect("id").to_owned();
    assert_eq!(data["status"], "running", "{data}");
    assert_eq!(data["currentStep"], "build", "{data}");
    assert!(data["startedAt"].is_string(), "{data}");
    assert!(data["estimatedCompletion"].is_string(), "{data}");
    let url = data["trackingUrl"].as_str().expect("trackingUrl");
    assert_eq!(url, format!("{}/executions/{execution}", api.base));
    // The dashboard's page of the execution (HTML; a browser logs in, a program sends the key).
    let mut page = api
        .agent
        .get(url)
        .header("Authorization", &format!("Bearer {}", api.key))
        .call()
        .expect("tracking page");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.body_mut().read_to_string().expect("page");
    assert!(
        html.contains(&format!("Execution <code>{execution}</code>")),
        "{html}"
    );
    std::fs::write(&gate, "").expect("open the gate");
    Events::open(&api, &execution).ends();

    // Nothing is known of `fresh`: no estimate rather than a made-up one.
    let unknown = env.create(&json!({"name": "unknown", "steps": [
        {"id": "s", "agent": "fresh", "task": "t"}]}));
    let executed = api.post(&format!("/agents/workflows/{unknown}/execute"), &json!({}));
    assert_envelope(&executed, 202, true);
    assert!(
        executed.body["data"].get("estimatedCompletion").is_none(),
        "{}",
        executed.body
    );
    assert!(executed.body["data"]["trackingUrl"].is_string());
}

#[test]
fn executions_are_listed_by_workflow_and_status_a_page_at_a_time() {
    let env = TestEnv::new();
    let api = Api::start(&env);
    env.run(&["agent", "add", "ok", "--shell", "echo ok"]).ok();
    env.run(&["agent", "add", "bad", "--shell", "exit 1"]).ok();
    let good =
        env.create(&json!({"name": "good", "steps": [{"id": "s", "agent": "ok", "task": "t"}]}));
    let bad =
        env.create(&json!({"name": "bad", "steps": [{"id": "s", "agent": "bad", "task": "t"}]}));
    let mut goods = Vec::new();
    for workflow in [&good, &good, &good, &bad] {
        let reply = api.post(&format!("/agents/workflows/{workflow}/execute"), &json!({}));
        let id = reply.body["data"]["executionId"]
            .as_str()
            .expect("id")
            .to_owned();
        Events::open(&api, &id).ends();
        if workflow == &good {
            goods.push(id);
        }
    }
    let ids = |reply: &crate::http_api::Reply| -> Vec<String> {
        reply.body["data"]
            .as_array()
            .expect("list")
            .iter()
            .map(|e| e["executionId"].as_str().expect("id").to_owned())
            .collect()
    };
    let first = api.get(&format!(
        "/agents/workflows/executions?workflowId={good}&limit=2"
    ));
    assert_envelope(&first, 200, true);
    assert_eq!(first.body["metadata"]["nextOffset"], 2, "{}", first.body);
    let second = api.get(&format!(
        "/agents/workflows/executions?workflowId={good}&limit=2&offset=2"
    ));
    assert!(
        second.body["metadata"].get("nextOffset").is_none(),
        "{}",
        second.body
    );
    let mut listed = [ids(&first), ids(&second)].concat();
    listed.reverse();
    assert_eq!(listed, goods, "newest first, every one once");
    let failed = api.get("/agents/workflows/executions?status=failed");
    assert_eq!(ids(&failed).len(), 1, "{}", failed.body);
    assert_eq!(failed.body["data"][0]["workflowId"], bad.as_str());
    assert_envelope(
        &api.get("/agents/workflows/executions?status=sleeping"),
        400,
        false,
    );

    let workflows = api.get("/agents/workflows?limit=1");
    assert_eq!(
        workflows.body["metadata"]["nextOffset"], 1,
        "{}",
        workflows.body
    );
}

#[test]
fn agents_and_teams_are_listed_added_and_removed_over_http() {
    let env = TestEnv::new();
    let api = Api::start(&env);
    let agent = json!({"name": "echoer", "kind": "shell", "command": ["sh", "-c", "echo hi"]});
    let added = api.post("/agents/registry", &agent);
    assert_envelope(&added, 201, true);
    assert_eq!(added.body["data"]["name"], "echoer");
    let again = api.post("/agents/registry", &agent);
    assert_envelope(&again, 409, false);
    let message = again.body["error"]["message"].as_str().expect("message");
    assert!(message.contains("?replace=true"), "{message}");
    assert_envelope(
        &api.post("/agents/registry?replace=true", &agent),
        201,
        true,
    );
    let bad = api.post("/agents/registry", &json!({"name": "x", "kind": "robot"}));
    assert_envelope(&bad, 400, false);
    let listed = api.get("/agents/registry");
    assert_eq!(listed.body["data"][0]["name"], "echoer", "{}", listed.body);
    assert_envelope(&api.get("/agents/registry/echoer"), 200, true);
    assert!(env.run(&["agent", "list"]).ok().contains("echoer"));

    let team = json!({"id": "crew", "members": ["echoer"], "strategy": "round-robin"});
    assert_envelope(&api.post("/agents/teams", &team), 201, true);
    assert_eq!(api.get("/agents/teams").body["data"][0]["id"], "crew");
    assert_envelope(&api.get("/agents/teams/crew"), 200, true);
    assert_envelope(
        &api.send("DELETE", "/agents/teams/crew", Some(&api.key), None),
        200,
        true,
    );
    assert_envelope(&api.get("/agents/teams/crew"), 404, false);
    assert_envelope(
        &api.send("DELETE", "/agents/registry/echoer", Some(&api.key), None),
        200,
        true,
    );
    assert_envelope(&api.get("/agents/registry/echoer"), 404, false);
}

#[test]
fn agents_are_registered_over_a_remote_listener_only_when_the_config_allows_it() {
    let agent = json!({"name": "echoer", "kind": "shell", "command": ["sh", "-c", "echo hi"]});
    let env = TestEnv::new();
    env.write_config("[daemon]\nhttp = \"0.0.0.0:0\"\n");
    let api = Api::start_configured(&env);
    let refused = api.post("/agents/registry", &agent);
    assert_envelope(&refused, 403, false);
    let message = refused.body["error"]["message"].as_str().expect("message");
    assert!(
        message.contains("allow_remote_agent_registration"),
        "{message}"
    );
    assert_envelope(&api.get("/agents/registry"), 200, true);

    let env = TestEnv::new();
    env.write_config("[daemon]\nhttp = \"0.0.0.0:0\"\nallow_remote_agent_registration = true\n");
    let api = Api::start_configured(&env);
    assert_envelope(&api.post("/agents/registry", &agent), 201, true);
}

/// Receives webhook bodies until one of each of `kinds` (their `type`) has come, in any order:
/// deliveries run concurrently.
fn webhook_until(received: &std::sync::mpsc::Receiver<String>, kinds: &[&str]) -> Vec<Value> {
    let mut seen: Vec<Value> = Vec::new();
    while !kinds
        .iter()
        .all(|kind| seen.iter().any(|n| n["type"] == *kind))
    {
        let body = received
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("not all of {kinds:?} notified; received {seen:?}"));
        seen.push(serde_json::from_str(&body).expect("webhook body is JSON"));
    }
    seen
}

#[test]
fn notify_on_error_and_the_escalation_reach_the_webhook() {
    let env = TestEnv::new();
    let api = Api::start(&env);
    env.run(&["agent", "add", "bad", "--shell", "echo broken >&2; exit 2"])
        .ok();
    let (url, received) = webhook_server(200);
    let workflow = env.create(&json!({"name": "noisy", "steps": [
        {"id": "fragile", "agent": "bad", "task": "t",
         "errorHandling": {"maxRetries": 0, "notifyOnError": true, "escalateOnFailure": true}}]}));
    let executed = api.post(
        &format!("/agents/workflows/{workflow}/execute"),
        &json!({"notifications": {"webhook": url}}),
    );
    assert_envelope(&executed, 202, true);
    let execution = executed.body["data"]["executionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let seen = webhook_until(&received, &["step.failed", "execution.escalated"]);
    let failed = seen
        .iter()
        .find(|n| n["type"] == "step.failed")
        .expect("step.failed");
    assert_eq!(failed["stepId"], "fragile");
    assert_eq!(failed["executionId"], execution.as_str());
    assert_eq!(failed["workflowName"], "noisy");
    let status = api.get(&format!("/agents/workflows/executions/{execution}"));
    assert_eq!(status.body["data"]["status"], "escalated");
}

#[test]
fn the_workflows_fallback_runs_for_each_step_that_exhausted_its_retries() {
    let env = TestEnv::new();
    let api = Api::start(&env);
    fallback_agents(&env);
    let workflow = env.create(&json!({"name": "fallback", "steps": [
            {"id": "first", "agent": "broken", "task": "t", "output": "one"},
            {"id": "second", "agent": "broken", "task": "t", "output": "two"},
            {"id": "use", "agent": "echo", "task": "t", "input": ["one", "two"]}],
        "errorHandling": {"maxRetries": 1, "initialDelay": 0,
            "fallback": {"id": "backup", "agent": "plan-b", "task": "t"}}}));
    let executed = api.post(&format!("/agents/workflows/{workflow}/execute"), &json!({}));
    let execution = executed.body["data"]["executionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let events = api.events(&execution);
    let completed: Vec<&str> = events
        .iter()
        .filter(|e| e["data"]["type"] == "step.completed")
        .filter_map(|e| e["data"]["stepId"].as_str())
        .collect();
    for step in ["backup@first", "backup@second", "first", "second", "use"] {
        assert!(completed.contains(&step), "{step} in {completed:?}");
    }
    let status = api.get(&format!("/agents/workflows/executions/{execution}"));
    assert_eq!(
        status.body["data"]["status"], "completed",
        "{}",
        status.body
    );
    let used = crate::common::find_step(&status.body["data"]["steps"], "use").expect("use");
    assert_eq!(
        used["output"]["use"],
        json!({"one": "from-plan-b", "two": "from-plan-b"})
    );
    let first = crate::common::find_step(&status.body["data"]["steps"], "first").expect("first");
    assert_eq!(
        first["attempts"].as_array().map(Vec::len),
        Some(2),
        "{first}"
    );
}

/// `docs/openapi.json` is what `do daemon openapi` prints, generated from the daemon's types;
/// regenerate it with `DO_UPDATE_SCHEMA=1 cargo test -p do-cli --test e2e openapi`.
#[test]
fn the_openapi_document_in_the_repository_is_up_to_date() {
    let env = TestEnv::new();
    let generated = env.run(&["daemon", "openapi"]).ok().to_owned();
    let path = crate::common::repo_root().join("docs/openapi.json");
    if std::env::var_os("DO_UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).expect("write docs/openapi.json");
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == generated,
        "docs/openapi.json is stale; run with DO_UPDATE_SCHEMA=1"
    );
}

/// The document is OpenAPI 3.1 whose every example matches its schema, and whose every
/// operation has an id, a tag and the statuses every route can answer.
#[test]
fn the_openapi_documents_examples_match_its_schemas() {
    let openapi: Value = serde_json::from_str(
        &std::fs::read_to_string(crate::common::repo_root().join("docs/openapi.json"))
            .expect("docs/openapi.json"),
    )
    .expect("JSON");
    assert_eq!(openapi["openapi"], "3.1.0");
    let mut examples = 0;
    for (path, item) in openapi["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let id = operation["operationId"].as_str().expect("operationId");
            assert!(operation["tags"][0].is_string(), "{id} has no tag");
            for status in ["401", "500", "503"] {
                assert!(
                    operation["responses"].get(status).is_some(),
                    "{id}: {status}"
                );
            }
            let mut media = vec![operation["requestBody"]["content"]["application/json"].clone()];
            for (_, response) in operation["responses"].as_object().expect("responses") {
                media.push(response["content"]["application/json"].clone());
            }
            for media in media.iter().filter(|m| m.get("example").is_some()) {
                examples += 1;
                let root = json!({
                    "$schema": "https://json-schema.org/draft/2020-12/schema",
                    "components": openapi["components"],
                    "allOf": [media["schema"]],
                });
                let validator = jsonschema::validator_for(&root).expect("schema");
                let errors: Vec<String> = validator
                    .iter_errors(&media["example"])
                    .map(|e| format!("{e} at {}", e.instance_path()))
                    .collect();
                assert!(errors.is_empty(), "{method} {path}: {errors:#?}");
            }
        }
    }
    assert!(examples >= 6, "{examples} examples");
}
