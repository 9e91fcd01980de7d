//! The HTTP client of the e2e tests: a daemon with the HTTP listener on a free port, and
//! requests that return the status and the JSON body of each answer.

use crate::common::TestEnv;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};

pub(crate) struct Api {
    pub(crate) base: String,
    pub(crate) key: String,
    pub(crate) agent: ureq::Agent,
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) body: Value,
}

impl Api {
    /// Starts the daemon with the HTTP API on a free port and reads its address and key.
    pub(crate) fn start(env: &TestEnv) -> Api {
        env.run(&["daemon", "start", "--http", "127.0.0.1:0"]).ok();
        Api::connect(env)
    }

    /// Starts the daemon with the HTTP address of its config.toml.
    pub(crate) fn start_configured(env: &TestEnv) -> Api {
        env.run(&["daemon", "start"]).ok();
        Api::connect(env)
    }

    fn connect(env: &TestEnv) -> Api {
        let addr = std::fs::read_to_string(env.path("data/http.addr")).expect("http.addr");
        let key = env.run(&["daemon", "api-key"]).ok().trim().to_owned();
        assert_eq!(key.len(), 64, "a 32-byte hex key: {key}");
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        Api {
            base: format!("http://{}", addr.trim()),
            key,
            agent,
        }
    }

    pub(crate) fn send(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        let auth = key.map(|k| format!("Bearer {k}"));
        let mut headers = Vec::new();
        if let Some(auth) = &auth {
            headers.push(("Authorization", auth.as_str()));
        }
        if matches!(method, "POST" | "PUT") {
            headers.push(("Content-Type", "application/json"));
        }
        self.request(method, path, &headers, body)
    }

    /// Sends exactly these headers (and body) and reads the JSON answer.
    pub(crate) fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Reply {
        let run = || {
            let mut builder = ureq::http::Request::builder()
                .method(method)
                .uri(format!("{}{path}", self.base));
            for (name, value) in headers {
                builder = builder.header(*name, *value);
            }
            match body {
                Some(body) => self
                    .agent
                    .run(builder.body(body.to_owned()).expect("request")),
                None => self.agent.run(builder.body(()).expect("request")),
            }
        };
        let mut response = match run() {
            // A server may close an idle kept-alive connection just as a request is sent on
            // it; a GET is then sent again on a new one, as HTTP clients do (RFC 9112, 9.3.1).
            Err(ureq::Error::Io(e)) if method == "GET" => {
                eprintln!("{method} {path}: {e}; sent again on a new connection");
                run()
            }
            other => other,
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response.body_mut().read_to_string().expect("body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{method} {path}: {status} body is not JSON ({e}): {text}"));
        crate::contract::check(method, path, status, &body);
        Reply {
            status,
            content_type,
            body,
        }
    }

    pub(crate) fn get(&self, path: &str) -> Reply {
        self.send("GET", path, Some(&self.key.clone()), None)
    }

    pub(crate) fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(
            "POST",
            path,
            Some(&self.key.clone()),
            Some(&body.to_string()),
        )
    }

    /// Follows an execution's Server-Sent Events to their end; returns the envelopes.
    pub(crate) fn events(&self, execution: &str) -> Vec<Value> {
        self.sse(&format!("/agents/workflows/executions/{execution}/events"))
    }

    /// Reads the Server-Sent Events of `GET path` to their end; returns the envelopes of their
    /// `data:` lines, each checked against the stream's schema in docs/openapi.json.
    pub(crate) fn sse(&self, path: &str) -> Vec<Value> {
        let mut response = self
            .agent
            .get(&format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {}", self.key))
            .call()
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert_eq!(response.status().as_u16(), 200, "GET {path}");
        let reader = BufReader::new(response.body_mut().as_reader());
        let mut envelopes = Vec::new();
        for line in reader.lines() {
            let line = line.expect("SSE line");
            if let Some(data) = line.strip_prefix("data: ") {
                let envelope = serde_json::from_str::<Value>(data).expect("SSE data is JSON");
                crate::contract::check_stream_data(path, &envelope);
                envelopes.push(envelope);
            }
        }
        envelopes
    }
}

#[track_caller]
pub(crate) fn assert_envelope(reply: &Reply, status: u16, success: bool) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["success"], success, "{}", reply.body);
    assert!(
        reply.body["metadata"]["requestId"].is_string(),
        "{}",
        reply.body
    );
    assert!(
        reply.body["metadata"]["timestamp"].is_string(),
        "{}",
        reply.body
    );
}

/// The agents examples/saas-launch.json names.
pub(crate) const SAAS_AGENTS: [&str; 6] = ["mira", "priya", "tom", "rae", "quinn", "dev"];

/// Registers each of `names` as an agent that prints `NAME-done`.
pub(crate) fn register_agents(env: &TestEnv, names: &[&str]) {
    for name in names {
        env.run(&[
            "agent",
            "add",
            name,
            "--shell",
            &format!("echo {name}-done"),
        ])
        .ok();
    }
}

/// An execution's SSE stream, read one envelope at a time.
pub(crate) struct Events {
    pub(crate) lines: std::io::Lines<BufReader<Box<dyn Read + Send>>>,
}

impl Events {
    pub(crate) fn open(api: &Api, execution: &str) -> Events {
        let url = format!(
            "{}/agents/workflows/executions/{execution}/events",
            api.base
        );
        let response = api
            .agent
            .get(&url)
            .header("Authorization", &format!("Bearer {}", api.key))
            .call()
            .expect("events");
        assert_eq!(response.status().as_u16(), 200);
        let reader: Box<dyn Read + Send> = Box::new(response.into_body().into_reader());
        Events {
            lines: BufReader::new(reader).lines(),
        }
    }

    /// Reads until an event of `kind` (for `step`, if given); panics if the stream ends first.
    pub(crate) fn until(&mut self, kind: &str, step: Option<&str>) -> Value {
        for line in self.lines.by_ref() {
            let line = line.expect("SSE line");
            let Some(data) = line.strip_prefix("data: ") else {
                continue;
            };
            let envelope: Value = serde_json::from_str(data).expect("SSE data is JSON");
            crate::contract::check_event(&envelope);
            let event = &envelope["data"];
            if event["type"] == kind && step.is_none_or(|s| event["stepId"] == s) {
                return event.clone();
            }
        }
        panic!("the stream ended before {kind} {step:?}");
    }

    pub(crate) fn ends(mut self) {
        self.until("execution.finished", None);
        // Only the event's blank terminator (or a keep-alive comment) may follow: then EOF.
        for line in self.lines {
            let line = line.expect("SSE line");
            assert!(!line.starts_with("data:"), "an event after the end: {line}");
        }
    }
}
