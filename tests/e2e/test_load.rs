//! Many clients at once while executions run: every request is answered successfully (no
//! `database is locked` ever reaches a client), and every execution completes.
//! `scripts/load-test.sh` runs this with 50 clients of 100 requests and prints the latencies;
//! by default it is smaller (DO_LOAD_CLIENTS, DO_LOAD_REQUESTS).

use crate::common::TestEnv;
use do_proto::{ById, Client, CreateWorkflow, ExecuteWorkflow, ListExecutions, Request};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One client's run: the latency of each request, the failures, the executions it started.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    failures: Vec<String>,
    executions: Vec<String>,
}

fn client_run(socket: &std::path::Path, client_no: usize, requests: usize) -> Tally {
    let mut tally = Tally::default();
    let mut client = Client::connect(socket).expect("connect");
    let mut workflow = None::<String>;
    for i in 0..requests {
        let request = match (i % 4, &workflow, tally.executions.last()) {
            (1, Some(id), _) => Request::ExecuteWorkflow(ExecuteWorkflow {
                workflow_id: id.clone(),
                input: Some(json!({"client": client_no, "request": i})),
                priority: None,
                notifications: None,
            }),
            (2, _, Some(execution)) => Request::GetExecution(ById {
                id: execution.clone(),
            }),
            (3, _, _) => Request::ListExecutions(ListExecutions {
                workflow_id: None,
                status: None,
                limit: 20,
                offset: 0,
            }),
            _ => Request::CreateWorkflow(CreateWorkflow {
                document: json!({"name": format!("load {client_no}.{i}"), "steps": [
                    {"id": "a", "agent": "echo", "task": "step a of {{ input.request }}"},
                    {"id": "b", "agent": "echo", "task": "step b", "input": "a"}
                ]}),
            }),
        };
        let kind = match &request {
            Request::CreateWorkflow(_) => "create",
            Request::ExecuteWorkflow(_) => "execute",
            Request::GetExecution(_) => "status",
            _ => "list",
        };
        let started = Instant::now();
        let answer = client.call::<Value>(request);
        tally.latencies.push(started.elapsed());
        match answer {
            Ok(data) => match kind {
                "create" => workflow = data["workflowId"].as_str().map(str::to_owned),
                "execute" => tally
                    .executions
                    .extend(data["executionId"].as_str().map(str::to_owned)),
                _ => {}
            },
            Err(e) => tally
                .failures
                .push(format!("client {client_no} {kind}: {e}")),
        }
    }
    tally
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

#[test]
fn concurrent_clients_are_all_answered_while_executions_run() {
    let clients = setting("DO_LOAD_CLIENTS", 10);
    let requests = setting("DO_LOAD_REQUESTS", 20);
    let env = TestEnv::new();
    env.run(&["agent", "add", "echo", "--shell", "cat"]).ok();
    let socket = env.socket();
    let started = Instant::now();
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|n| {
                let socket = socket.clone();
                scope.spawn(move || client_run(&socket, n, requests))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("client thread"))
            .collect()
    });
    let elapsed = started.elapsed();
    let failures: Vec<&String> = tallies.iter().flat_map(|t| &t.failures).collect();
    assert!(
        failures.is_empty(),
        "{} failures: {failures:#?}",
        failures.len()
    );
    let mut latencies: Vec<Duration> = tallies.iter().flat_map(|t| t.latencies.clone()).collect();
    assert_eq!(latencies.len(), clients * requests);
    latencies.sort();
    println!(
        "{clients} clients x {requests} requests in {:.1} s: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
        latencies.last().expect("latencies").as_secs_f64() * 1000.0,
    );

    // Every execution started under load runs to its end.
    let mut watcher = Client::connect(&socket).expect("connect");
    let executions: Vec<&String> = tallies.iter().flat_map(|t| &t.executions).collect();
    assert_eq!(executions.len(), clients * requests.div_ceil(4));
    for execution in executions {
        let end = watcher.watch(execution, |_| {}).expect("watch");
        assert_eq!(
            end.data["status"], "completed",
            "{execution}: {:?}",
            end.data
        );
    }
    let log = std::fs::read_to_string(env.path("data/daemon.log")).expect("daemon log");
    assert!(!log.contains("database is locked"), "{log}");
}
