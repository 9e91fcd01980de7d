use crate::common::{TestEnv, find_step, ms, process_ends};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

/// `execute --wait` in the background; returns it with its execution id once `until` lines
/// (substrings of its progress lines on stderr) have all appeared.
pub(crate) fn execute_until(
    env: &TestEnv,
    workflow: &str,
    until: &[&str],
) -> (Child, String, impl Iterator<Item = String>) {
    let mut child = env
        .command()
        .args(["workflow", "execute", workflow, "--wait"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr"))
        .lines()
        .map(|l| l.expect("line"));
    let mut execution = String::new();
    let mut missing: Vec<&str> = until.to_vec();
    for line in lines.by_ref() {
        if let Some(id) = line.strip_prefix("Started execution ") {
            execution = id.trim_end_matches('.').to_owned();
        }
        missing.retain(|wanted| !line.contains(wanted));
        if missing.is_empty() {
            break;
        }
    }
    assert!(missing.is_empty(), "the execution ended before {missing:?}");
    (child, execution, lines)
}

#[test]
fn a_flaky_agent_is_retried_with_growing_delays_until_it_succeeds() {
    let env = TestEnv::new();
    let flaky = env.script(
        "flaky.sh",
        r#"n=$(cat "$DO_WORKSPACE/count" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$DO_WORKSPACE/count"
if [ "$n" -lt 3 ]; then echo "attempt $n failed" >&2; exit 1; fi
echo "ok on attempt $DO_ATTEMPT""#,
    );
    env.run(&[
        "agent",
        "add",
        "flaky",
        "--",
        flaky.to_str().expect("utf-8"),
    ])
    .ok();
    let workflow = env.create(&json!({"name": "retry", "steps": [{"id": "flaky", "agent": "flaky", "task": "t"}],
        "errorHandling": {"strategy": "retry", "maxRetries": 3, "backoff": "exponential", "initialDelay": 0.2}}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let step = find_step(&status["steps"], "flaky").expect("flaky");
    assert_eq!(step["output"]["flaky"], "ok on attempt 3");
    let attempts = step["attempts"].as_array().expect("attempts");
    assert_eq!(attempts.len(), 3, "{step}");
    assert_eq!(attempts[0]["status"], "failed");
    assert!(
        attempts[0]["error"]
            .as_str()
            .expect("error")
            .contains("attempt 1 failed")
    );
    assert_eq!(attempts[2]["status"], "succeeded");
    let gap = |i: usize| ms(&attempts[i + 1]["startedAt"]) - ms(&attempts[i]["completedAt"]);
    // 0.2 s then 0.4 s, with tolerance for scheduling: the second wait is clearly longer.
    assert!(gap(0) >= 190, "first delay {} ms", gap(0));
    assert!(gap(1) >= 390, "second delay {} ms", gap(1));
    assert!(
        gap(1) > gap(0) + 100,
        "delays grow: {} then {} ms",
        gap(0),
        gap(1)
    );
}

/// Registers the agents of a workflow with a fallback: `broken` fails, `plan-b` prints
/// `from-plan-b` and `echo` prints its input.
pub(crate) fn fallback_agents(env: &TestEnv) {
    env.run(&["agent", "add", "broken", "--shell", "echo nope >&2; exit 1"])
        .ok();
    env.run(&[
        "agent",
        "add",
        "echo",
        "--shell",
        r#"printf '%s' "$DO_INPUT""#,
    ])
    .ok();
    env.run(&["agent", "add", "plan-b", "--shell", "echo from-plan-b"])
        .ok();
}

#[test]
fn exhausted_retries_run_the_fallback_and_continue_goes_on_with_null() {
    let env = TestEnv::new();
    fallback_agents(&env);
    let workflow = env.create(&json!({"name": "fallback", "steps": [
        {"id": "primary", "agent": "broken", "task": "t", "output": "result",
         "errorHandling": {"strategy": "fallback", "maxRetries": 1, "initialDelay": 0,
            "fallback": {"id": "backup", "agent": "plan-b", "task": "t"}}},
        {"id": "optional", "agent": "broken", "task": "t", "output": "extra",
         "errorHandling": {"strategy": "continue"}},
        {"id": "use", "agent": "echo", "task": "t", "input": ["result", "extra"]}
    ]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(status["status"], "completed");
    let primary = find_step(&status["steps"], "primary").expect("primary");
    assert_eq!(primary["output"]["result"], "from-plan-b");
    assert_eq!(primary["attempts"].as_array().map(Vec::len), Some(2));
    let optional = find_step(&status["steps"], "optional").expect("optional");
    assert_eq!(optional["status"], "failed");
    assert_eq!(optional["output"]["extra"], Value::Null);
    let used = find_step(&status["steps"], "use").expect("use");
    assert_eq!(
        used["output"]["use"],
        json!({"result": "from-plan-b", "extra": null})
    );
}

/// Registers agent `name`, which fails saying "not fixed yet" until the file whose path this
/// returns exists, then prints "fixed".
pub(crate) fn fixable_agent(env: &TestEnv, name: &str) -> std::path::PathBuf {
    let fixed = env.path(&format!("{name}-fixed"));
    env.run(&[
        "agent",
        "add",
        name,
        "--shell",
        &format!(
            "test -e '{}' || {{ echo 'not fixed yet' >&2; exit 1; }}; echo fixed",
            fixed.display()
        ),
    ])
    .ok();
    fixed
}

#[test]
fn an_escalated_failure_waits_for_a_retry_after_the_fix() {
    let env = TestEnv::new();
    let gate = fixable_agent(&env, "gate");
    env.run(&["agent", "add", "ok", "--shell", "echo after"])
        .ok();
    let workflow = env.create(&json!({"name": "escalate", "steps": [
        {"id": "gated", "agent": "gate", "task": "t"}, {"id": "after", "agent": "ok", "task": "t"}],
        "errorHandling": {"strategy": "retry", "maxRetries": 1, "initialDelay": 0, "escalateOnFailure": true}}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 1, "--wait ends at the escalation: {}", run.stderr);
    assert_eq!(status["status"], "escalated");
    assert!(
        status["error"]
            .as_str()
            .expect("error")
            .contains("not fixed yet"),
        "{status}"
    );
    let execution = status["executionId"].as_str().expect("id");
    let refused = env.run(&["workflow", "retry", execution, "after"]);
    assert_eq!(
        refused.code, 2,
        "only a failed step can be retried: {}",
        refused.stderr
    );
    std::fs::write(&gate, "").expect("fix");
    let retried = env
        .run(&["--json", "workflow", "retry", execution, "gated", "--wait"])
        .json();
    assert_eq!(retried["status"], "completed");
    let gated = find_step(&retried["steps"], "gated").expect("gated");
    assert_eq!(
        gated["attempts"].as_array().map(Vec::len),
        Some(3),
        "the attempt counter goes on"
    );
    assert_eq!(
        find_step(&retried["steps"], "after").expect("after")["status"],
        "completed"
    );
}

#[test]
fn a_step_timeout_ends_the_whole_process_group() {
    let env = TestEnv::new();
    let sleeper = env.script(
        "sleeper.sh",
        r#"sleep 30 &
echo $! > "$DO_WORKSPACE/grandchild"
sleep 30"#,
    );
    env.run(&[
        "agent",
        "add",
        "sleeper",
        "--",
        sleeper.to_str().expect("utf-8"),
    ])
    .ok();
    let workflow = env.create(&json!({"name": "timeout", "steps": [{"id": "slow", "agent": "sleeper", "task": "t", "timeout": 1}]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 1);
    let slow = find_step(&status["steps"], "slow").expect("slow");
    assert_eq!(slow["status"], "failed");
    assert!(
        slow["error"]
            .as_str()
            .expect("error")
            .contains("timed out after 1 s"),
        "{slow}"
    );
    assert!(
        slow["durationMs"].as_u64().expect("duration") < 3000,
        "{slow}"
    );
    let pid = std::fs::read_to_string(env.path(&format!(
        "data/workspaces/{}/grandchild",
        status["executionId"].as_str().expect("id")
    )))
    .expect("grandchild pid");
    // Killed with the group, it ends at once; surviving, it would sleep for 30 s.
    assert!(
        process_ends(&pid, std::time::Duration::from_secs(10)),
        "the grandchild {} survived",
        pid.trim()
    );
}

#[test]
fn cancel_during_a_parallel_step_ends_every_child_and_keeps_the_reason() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "slow", "--", "/bin/sleep", "30"])
        .ok();
    let workflow = env.create(&json!({"name": "cancel", "steps": [{"id": "both", "type": "parallel", "steps": [
        {"id": "left", "agent": "slow", "task": "t"}, {"id": "right", "agent": "slow", "task": "t"}]}]}));
    let (mut waiting, execution, _) =
        execute_until(&env, &workflow, &["started   left", "started   right"]);
    let cancelled = env
        .run(&[
            "--json",
            "workflow",
            "cancel",
            &execution,
            "--reason",
            "Requirements changed",
        ])
        .json();
    assert_eq!(cancelled["cancelReason"], "Requirements changed");
    assert_eq!(waiting.wait().expect("wait").code(), Some(1));
    let status = env.json(&["workflow", "execution", &execution]);
    assert_eq!(status["status"], "cancelled");
    assert_eq!(status["cancelReason"], "Requirements changed");
    for id in ["left", "right", "both"] {
        assert_eq!(
            find_step(&status["steps"], id).expect("step")["status"],
            "cancelled",
            "{id}"
        );
    }
    for args in [
        vec!["workflow", "cancel", execution.as_str()],
        vec!["workflow", "pause", &execution],
        vec!["workflow", "resume", &execution],
    ] {
        let run = env.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("is cancelled"), "{}", run.stderr);
    }
}

#[test]
fn a_paused_execution_starts_nothing_new_until_resumed() {
    let env = TestEnv::new();
    let gate = env.gated_agent("gated", "echo first");
    env.run(&["agent", "add", "ok", "--shell", "echo second"])
        .ok();
    let workflow = env.create(&json!({"name": "pause", "steps": [
        {"id": "first", "agent": "gated", "task": "t"}, {"id": "second", "agent": "ok", "task": "t"}]}));
    let (mut waiting, execution, mut lines) = execute_until(&env, &workflow, &["started   first"]);
    let resumed_too_early = env.run(&["workflow", "resume", &execution]);
    assert_eq!(
        resumed_too_early.code, 2,
        "a running execution cannot be resumed"
    );
    let paused = env.json(&["workflow", "pause", &execution]);
    assert_eq!(paused["status"], "paused");
    std::fs::write(&gate, "").expect("open the gate");
    assert!(
        lines.any(|line| line.contains("completed first")),
        "the running step finishes"
    );
    let status = env.json(&["workflow", "execution", &execution]);
    assert_eq!(status["status"], "paused");
    assert_eq!(
        find_step(&status["steps"], "second").expect("second")["status"],
        "pending"
    );
    env.run(&["workflow", "resume", &execution]).ok();
    assert_eq!(waiting.wait().expect("wait").code(), Some(0));
    assert_eq!(
        env.json(&["workflow", "execution", &execution])["status"],
        "completed"
    );
}

/// A one-shot HTTP server: answers every request with `status` and hands over the bodies.
pub(crate) fn webhook_server(status: u16) -> (String, std::sync::mpsc::Receiver<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            let _ = tx.send(String::from_utf8_lossy(&body).into_owned());
        }
    });
    (url, rx)
}

#[test]
fn webhooks_receive_the_event_and_a_dead_one_does_not_fail_the_execution() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "ok", "--shell", "echo done"])
        .ok();
    let workflow = env
        .create(&json!({"name": "notify", "steps": [{"id": "only", "agent": "ok", "task": "t"}]}));
    let (url, bodies) = webhook_server(200);
    let (run, status) = env.execute_wait(&workflow, &["--notify-webhook", &url]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let body: Value = serde_json::from_str(
        &bodies
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("a POST"),
    )
    .expect("JSON");
    assert_eq!(body["type"], "execution.finished");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["executionId"], status["executionId"]);
    assert_eq!(body["workflowName"], "notify");

    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/gone", listener.local_addr().expect("addr"))
    };
    let (run, status) = env.execute_wait(&workflow, &["--notify-webhook", &dead]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(status["status"], "completed");
    let execution = status["executionId"].as_str().expect("id").to_owned();
    // The delivery is recorded once it has given up: follow the stream through it.
    let events = watch_through_notifications(&env, &execution);
    let delivery = events
        .iter()
        .find(|e| e["type"] == "notification")
        .unwrap_or_else(|| panic!("no delivery in {events:#?}"));
    assert_eq!(delivery["data"]["ok"], false, "{delivery}");
    assert_eq!(delivery["data"]["channel"], "webhook");
    assert!(
        delivery["data"]["error"]
            .as_str()
            .expect("error")
            .contains("/gone"),
        "{delivery}"
    );
    assert_eq!(
        env.json(&["workflow", "execution", &execution])["status"],
        "completed"
    );
}

/// The execution's events, as `executions.watch` with `notifications: true` streams them.
fn watch_through_notifications(env: &TestEnv, execution: &str) -> Vec<Value> {
    use std::io::Write;
    let mut client = std::os::unix::net::UnixStream::connect(env.socket()).expect("connect");
    writeln!(
        client,
        r#"{{"id":"1","method":"hello","params":{{"protocolVersion":{}}}}}"#,
        do_proto::PROTOCOL_VERSION
    )
    .expect("hello");
    writeln!(
        client,
        r#"{{"id":"2","method":"executions.watch","params":{{"id":"{execution}","notifications":true}}}}"#
    )
    .expect("watch");
    let mut reader = BufReader::new(client);
    let mut events = Vec::new();
    let mut line = String::new();
    reader.read_line(&mut line).expect("hello answer");
    loop {
        line.clear();
        assert!(
            reader.read_line(&mut line).expect("event") > 0,
            "the stream ended early: {events:#?}"
        );
        let envelope: Value = serde_json::from_str(&line).expect("envelope");
        let event = envelope["data"].clone();
        let done = event["type"] == "notifications.done";
        events.push(event);
        if done {
            return events;
        }
    }
}

#[test]
fn slack_channels_and_sendmail_come_from_the_config_file_and_commands_get_the_event() {
    let env = TestEnv::new();
    let (url, bodies) = webhook_server(200);
    let mail = env.path("mail.txt");
    env.write_config(&format!(
            "[daemon]\nkill_grace = 1\n\n[notifications]\nsendmail = [\"sh\", \"-c\", \"cat > '{}'\"]\n\n[notifications.slack]\n\"#launches\" = \"{url}\"\n",
            mail.display()
        ));
    env.run(&["agent", "add", "broken", "--shell", "exit 4"])
        .ok();
    let workflow = env.create(
        &json!({"name": "notify", "steps": [{"id": "only", "agent": "broken", "task": "t"}]}),
    );
    let event_file = env.path("event.json");
    let command = format!("cat > '{}'", event_file.display());
    let (run, status) = env.execute_wait(
        &workflow,
        &[
            "--notify-slack",
            "#launches",
            "--notify-command",
            &command,
            "--notify-email",
            "ops@example.com",
        ],
    );
    assert_eq!(run.code, 1);
    let execution = status["executionId"].as_str().expect("id");
    let events = watch_through_notifications(&env, execution);
    let deliveries: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "notification")
        .collect();
    assert_eq!(deliveries.len(), 3, "{deliveries:#?}");
    assert!(
        deliveries.iter().all(|d| d["data"]["ok"] == true),
        "{deliveries:#?}"
    );
    let slack: Value = serde_json::from_str(
        &bodies
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("slack post"),
    )
    .expect("json");
    assert!(
        slack["text"].as_str().expect("text").contains(execution),
        "{slack}"
    );
    let event: Value =
        serde_json::from_str(&std::fs::read_to_string(&event_file).expect("event file"))
            .expect("json");
    assert_eq!(event["type"], "execution.finished");
    assert_eq!(event["status"], "failed");
    assert!(
        std::fs::read_to_string(&mail)
            .expect("mail")
            .contains("To: ops@example.com")
    );
}

#[test]
fn an_invalid_config_file_is_named_in_the_error() {
    let env = TestEnv::new();
    env.write_config("[daemon]\nmax_paralel = 2\n");
    let run = env.run(&["workflow", "list"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("config.toml") && run.stderr.contains("max_paralel"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_workflow_timeout_ends_the_execution_as_timed_out() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "slow", "--", "/bin/sleep", "30"])
        .ok();
    let workflow = env.create(&json!({"name": "slow", "timeout": 1, "steps": [{"id": "nap", "agent": "slow", "task": "t"}]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(status["status"], "timed_out");
    assert_eq!(
        find_step(&status["steps"], "nap").expect("nap")["status"],
        "cancelled"
    );
    assert!(
        status["durationMs"].as_u64().expect("duration") < 5000,
        "{status}"
    );
}

#[test]
fn a_running_execution_estimates_its_end_from_earlier_ones() {
    let env = TestEnv::new();
    let gate = env.gated_agent("gated", "echo ok");
    let workflow = env.create(
        &json!({"name": "estimate", "steps": [{"id": "wait", "agent": "gated", "task": "t"}]}),
    );
    let (mut first, first_id, _) = execute_until(&env, &workflow, &["started   wait"]);
    let unknown = env.json(&["workflow", "execution", &first_id]);
    assert!(
        unknown.get("estimatedCompletion").is_none(),
        "no history, no estimate: {unknown}"
    );
    std::fs::write(&gate, "").expect("open");
    assert_eq!(first.wait().expect("wait").code(), Some(0));
    let took = env.json(&["workflow", "execution", &first_id])["steps"][0]["durationMs"]
        .as_u64()
        .expect("durationMs");
    std::fs::remove_file(&gate).expect("close");
    let (mut second, second_id, _) = execute_until(&env, &workflow, &["started   wait"]);
    let running = env.json(&["workflow", "execution", &second_id]);
    let estimate = ms(&running["estimatedCompletion"]);
    assert!(estimate >= ms(&running["startedAt"]), "{running}");
    // The running step is expected to take as long as it did last time.
    let step = &running["steps"][0];
    assert_eq!(
        ms(&step["estimatedCompletion"]),
        ms(&step["startedAt"]) + u128::from(took),
        "{running}"
    );
    // Another workflow's new step on the same agent is estimated from the agent's history.
    let other = env.create(
        &json!({"name": "other", "steps": [{"id": "elsewhere", "agent": "gated", "task": "t"}]}),
    );
    let third = env.json(&["workflow", "execute", &other])["executionId"]
        .as_str()
        .expect("id")
        .to_owned();
    let queued = env.json(&["workflow", "execution", &third]);
    assert!(
        queued.get("estimatedCompletion").is_some(),
        "estimated from the agent: {queued}"
    );
    std::fs::write(&gate, "").expect("open");
    assert_eq!(second.wait().expect("wait").code(), Some(0));
    assert_eq!(
        env.run(&["workflow", "execution", &third, "--wait"]).code,
        0
    );
    let done = env.json(&["workflow", "execution", &second_id]);
    assert!(
        done.get("estimatedCompletion").is_none(),
        "an ended execution has no estimate"
    );
}

/// With one step at a time, the failing step runs while its sibling branch has been chosen but
/// not started: the execution must still end as failed, naming the step.
#[test]
fn a_failure_ends_the_execution_while_a_sibling_branch_waits_to_start() {
    let env = TestEnv::new();
    env.write_config("[daemon]\nmax_parallel = 1\n");
    env.run(&["agent", "add", "ok", "--", "/bin/echo", "done"])
        .ok();
    env.run(&["agent", "add", "broken", "--", "/bin/false"])
        .ok();
    // The timeout turns a hang into a timed-out execution, not a hung test.
    let workflow = env.create(&json!({"name": "half", "timeout": 60, "steps": [
        {"id": "both", "type": "parallel", "steps": [
            {"id": "breaks", "agent": "broken", "task": "t"},
            {"id": "branch", "type": "conditional", "condition": "true", "then": [
                {"id": "later", "agent": "ok", "task": "t"}
            ]}
        ]}
    ]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(status["status"], "failed", "{}", run.stderr);
    assert!(
        status["error"]
            .as_str()
            .is_some_and(|e| e.contains("`breaks`")),
        "{status}"
    );
    let branch = find_step(&status["steps"], "branch").expect("branch");
    assert_eq!(branch["status"], "cancelled", "{status}");
    let later = find_step(&status["steps"], "later").expect("later");
    assert_eq!(later["status"], "pending", "{status}");
}

/// Retrying the parallel a failed step sits in runs that step again; a step the workflow went
/// on past is not one to retry.
#[test]
fn retrying_a_composite_step_reruns_what_failed_under_it() {
    let env = TestEnv::new();
    let fixed = fixable_agent(&env, "gate");
    env.run(&["agent", "add", "ok", "--", "/bin/echo", "done"])
        .ok();
    env.run(&["agent", "add", "broken", "--", "/bin/false"])
        .ok();
    // The timeout turns a hang into a timed-out execution, not a hung test.
    let workflow = env.create(&json!({"name": "retry-parallel", "timeout": 60, "steps": [
        {"id": "soft", "agent": "broken", "task": "t", "errorHandling": {"strategy": "continue"}},
        {"id": "both", "type": "parallel", "steps": [
            {"id": "gated", "agent": "gate", "task": "t"},
            {"id": "fine", "agent": "ok", "task": "t"}
        ]}
    ]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(status["status"], "failed", "{}", run.stderr);
    let execution = status["executionId"].as_str().expect("id");

    let refused = env.run(&["workflow", "retry", execution, "soft"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("went on past it"),
        "{}",
        refused.stderr
    );

    std::fs::write(&fixed, "").expect("fix");
    let retried = env
        .run(&["--json", "workflow", "retry", execution, "both", "--wait"])
        .json();
    assert_eq!(retried["status"], "completed", "{retried}");
    let gated = find_step(&retried["steps"], "gated").expect("gated");
    assert_eq!(gated["status"], "completed");
    assert_eq!(gated["attempts"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        find_step(&retried["steps"], "soft").expect("soft")["status"],
        "failed",
        "a step passed by `continue` stays as it was"
    );
}
