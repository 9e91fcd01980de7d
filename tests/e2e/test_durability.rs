//! A daemon killed at any moment resumes every execution and loses or doubles nothing.

use crate::common::{TestEnv, all_steps, find_step, kill_daemon, ms, process_ends};
use crate::test_failures::execute_until;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// A pseudo-random number from the clock: the moments of the kills must not be chosen.
fn random_below(n: u64) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .subsec_nanos();
    u64::from(nanos.wrapping_mul(2_654_435_761)) % n
}

#[test]
fn twenty_executions_survive_five_sigkills_without_losing_or_doubling_anything() {
    let env = TestEnv::new();
    let ledger = env.path("ledger");
    let work = format!(
        r#"sleep 0.02; echo "$DO_EXECUTION_ID $DO_STEP_ID $DO_ATTEMPT" >> '{}'; echo "$DO_STEP_ID""#,
        ledger.display()
    );
    env.run(&["agent", "add", "work", "--shell", &work]).ok();
    let items = format!(
        r#"echo "$DO_EXECUTION_ID items $DO_ATTEMPT" >> '{}'; echo '[1, 2, 3]'"#,
        ledger.display()
    );
    env.run(&["agent", "add", "items", "--shell", &items]).ok();
    let workflow = env.create(&json!({"name": "chaos", "steps": [
        {"id": "a", "agent": "work", "task": "t"},
        {"id": "par", "type": "parallel", "steps": [
            {"id": "b", "agent": "work", "task": "t"}, {"id": "c", "agent": "work", "task": "t"}]},
        {"id": "items", "agent": "items", "task": "t", "output": "list"},
        {"id": "each", "type": "loop", "items": "list", "maxConcurrency": 2,
         "step": {"id": "d", "agent": "work", "task": "{{ item }}"}},
        {"id": "e", "agent": "work", "task": "t"}
    ]}));
    let executions: Vec<String> = (0..20)
        .map(|_| {
            let started = env.json(&["workflow", "execute", &workflow]);
            started["executionId"].as_str().expect("id").to_owned()
        })
        .collect();
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(50 + random_below(300)));
        kill_daemon(&env);
        env.run(&["daemon", "start"]).ok();
    }

    let ledger_lines = |text: &str| -> BTreeMap<(String, String), usize> {
        let mut counts = BTreeMap::new();
        for line in text.lines() {
            let mut words = line.split(' ');
            let (Some(exec), Some(step)) = (words.next(), words.next()) else {
                continue;
            };
            *counts
                .entry((exec.to_owned(), step.to_owned()))
                .or_insert(0) += 1;
        }
        counts
    };
    let mut reruns = 0;
    for execution in &executions {
        let status = env
            .run(&["--json", "workflow", "execution", execution, "--wait"])
            .json();
        assert_eq!(status["status"], "completed", "{status}");
        let ledger = ledger_lines(&std::fs::read_to_string(&ledger).expect("ledger"));
        let tasks: Vec<&Value> = all_steps(&status["steps"])
            .into_iter()
            .filter(|s| s["type"] == "task")
            .collect();
        assert_eq!(tasks.len(), 8, "a, b, c, items, d[0], d[1], d[2], e");
        for step in tasks {
            let id = step["id"].as_str().expect("id");
            assert_eq!(step["status"], "completed", "{step}");
            let output = step["output"].as_object().expect("output");
            assert_eq!(output.len(), 1, "one output per step: {step}");
            let ran = ledger
                .get(&(execution.clone(), id.to_owned()))
                .copied()
                .unwrap_or(0);
            assert!(ran >= 1, "{execution} {id} never completed in the ledger");
            let attempts = step["attempts"].as_array().expect("attempts");
            assert!(
                ran <= attempts.len(),
                "{id} ran {ran} times in {} attempts",
                attempts.len()
            );
            let (last, earlier) = attempts.split_last().expect("an attempt");
            assert_eq!(last["status"], "succeeded");
            for attempt in earlier {
                assert_eq!(
                    attempt["status"], "interrupted",
                    "only interrupted steps run again: {step}"
                );
            }
            reruns += attempts.len() - 1;
        }
        let each = find_step(&status["steps"], "each").expect("loop");
        assert_eq!(each["output"]["each"], json!(["d[0]", "d[1]", "d[2]"]));
    }
    eprintln!("{reruns} step(s) re-run after kills");
}

#[test]
fn a_pending_backoff_timer_fires_after_a_restart() {
    let env = TestEnv::new();
    let count = env.path("count");
    let flaky = format!(
        r#"n=$(cat '{0}' 2>/dev/null || echo 0); echo $((n + 1)) > '{0}'; [ "$n" -ge 1 ] || {{ echo first >&2; exit 1; }}; echo ok"#,
        count.display()
    );
    env.run(&["agent", "add", "flaky", "--shell", &flaky]).ok();
    let workflow = env.create(&json!({"name": "timer", "steps": [{"id": "flaky", "agent": "flaky", "task": "t",
        "errorHandling": {"strategy": "retry", "maxRetries": 2, "backoff": "fixed", "initialDelay": 2}}]}));
    let (mut waiting, execution, _) = execute_until(&env, &workflow, &["retrying  flaky"]);
    kill_daemon(&env);
    let _ = waiting.wait();
    env.run(&["daemon", "start"]).ok();
    let status = env
        .run(&["--json", "workflow", "execution", &execution, "--wait"])
        .json();
    assert_eq!(status["status"], "completed", "{status}");
    let attempts = find_step(&status["steps"], "flaky").expect("flaky")["attempts"].clone();
    assert_eq!(attempts.as_array().map(Vec::len), Some(2), "{attempts}");
    let gap = ms(&attempts[1]["startedAt"]) - ms(&attempts[0]["completedAt"]);
    assert!(
        (1900..6000).contains(&gap),
        "the 2 s delay was kept across the restart: {gap} ms"
    );
}

#[test]
fn steps_after_a_restart_get_the_outputs_of_the_steps_before_it() {
    let env = TestEnv::new();
    let gate = env.path("gate");
    env.run(&["agent", "add", "say", "--shell", r#"echo "$DO_TASK""#])
        .ok();
    // Blocks until the gate exists; the daemon is killed meanwhile.
    let wait = format!(
        r#"test -e '{}' || exec sleep 30; echo "$DO_TASK""#,
        gate.display()
    );
    env.run(&["agent", "add", "wait", "--shell", &wait]).ok();
    let workflow = env.create(&json!({"name": "relay", "steps": [
        {"id": "plain", "agent": "say", "task": "from plain"},
        {"id": "named", "agent": "say", "task": "from named", "output": "greeting"},
        {"id": "continued", "agent": "wait", "task": "t", "timeout": 0.5,
         "errorHandling": {"strategy": "continue"}},
        {"id": "blocked", "agent": "wait", "task": "{{ plain }} / {{ greeting }} / {{ continued }}"},
        {"id": "after", "agent": "say", "task": "{{ plain }} / {{ named }} / {{ blocked }}"}
    ]}));
    let (mut waiting, execution, _) = execute_until(&env, &workflow, &["started   blocked"]);
    kill_daemon(&env);
    let _ = waiting.wait();
    std::fs::write(&gate, "").expect("gate");
    env.run(&["daemon", "start"]).ok();
    let status = env
        .run(&["--json", "workflow", "execution", &execution, "--wait"])
        .json();
    assert_eq!(status["status"], "completed", "{status}");
    let output =
        |id: &str, name: &str| find_step(&status["steps"], id).expect(id)["output"][name].clone();
    assert_eq!(output("plain", "plain"), "from plain");
    assert_eq!(output("named", "greeting"), "from named");
    assert_eq!(output("continued", "continued"), Value::Null);
    assert_eq!(
        output("blocked", "blocked"),
        "from plain / from named / null"
    );
    assert_eq!(
        output("after", "after"),
        "from plain / from named / from plain / from named / null"
    );
}

#[test]
fn the_workflow_timeout_counts_the_time_the_daemon_was_down() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "slow", "--", "/bin/sleep", "30"])
        .ok();
    let workflow = env.create(&json!({"name": "slow", "timeout": 5, "steps": [{"id": "nap", "agent": "slow", "task": "t"}]}));
    let (mut waiting, execution, _) = execute_until(&env, &workflow, &["started   nap"]);
    kill_daemon(&env);
    let _ = waiting.wait();
    // The scenario itself: the daemon stays down for 3 of the 5 seconds.
    std::thread::sleep(Duration::from_secs(3));
    env.run(&["daemon", "start"]).ok();
    let run = env.run(&["--json", "workflow", "execution", &execution, "--wait"]);
    assert_eq!(
        run.code, 1,
        "an execution that did not complete: {}",
        run.stderr
    );
    let status: Value = serde_json::from_str(&run.stdout).expect("status");
    assert_eq!(status["status"], "timed_out", "{status}");
    let took = ms(&status["completedAt"]) - ms(&status["startedAt"]);
    assert!(
        (4900..8000).contains(&took),
        "timed out {took} ms after it started"
    );
}

#[test]
fn a_surviving_agent_of_a_killed_daemon_is_ended_before_its_step_runs_again() {
    let env = TestEnv::new();
    env.run(&[
        "agent",
        "add",
        "slow",
        "--shell",
        r#"echo $$ > "$DO_WORKSPACE/pid.$DO_ATTEMPT"; exec sleep 30"#,
    ])
    .ok();
    let workflow = env.create(
        &json!({"name": "survivor", "steps": [{"id": "nap", "agent": "slow", "task": "t"}]}),
    );
    let (mut waiting, execution, _) = execute_until(&env, &workflow, &["started   nap"]);
    let pid_file = env.path(&format!("data/workspaces/{execution}/pid.1"));
    // The daemon stores a running agent's process group a few milliseconds after it starts;
    // no event says when, so the test reads the database until it is there.
    let db = rusqlite::Connection::open_with_flags(
        env.path("data/do.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open do.db");
    while db
        .query_row(
            "SELECT pgid_start FROM attempts WHERE execution_id = ?1",
            [&execution],
            |row| row.get::<_, Option<i64>>(0),
        )
        .ok()
        .flatten()
        .is_none()
    {
        std::thread::yield_now();
    }
    drop(db);
    kill_daemon(&env);
    let _ = waiting.wait();
    let pid = loop {
        // The agent writes its pid as its first act; it runs on while the daemon is dead.
        if let Ok(pid) = std::fs::read_to_string(&pid_file)
            && !pid.trim().is_empty()
        {
            break pid.trim().to_owned();
        }
        std::thread::yield_now();
    };
    let alive = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .is_ok_and(|s| !s.contains("State:\tZ"))
    };
    assert!(
        alive(&pid),
        "the agent outlived the daemon, as a process group of its own"
    );
    env.run(&["daemon", "start"]).ok();
    assert!(
        process_ends(&pid, std::time::Duration::from_secs(10)),
        "the restarted daemon did not end the survivor"
    );
    env.run(&["workflow", "cancel", &execution]).ok();
}
