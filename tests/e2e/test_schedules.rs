//! Schedules: 1-second cron expressions (6 fields) against the real daemon, overlap, pause,
//! and a daemon killed for five ticks.

use crate::common::{TestEnv, kill_daemon, ms};
use crate::http_api::Api;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const EVERY_SECOND: &str = "* * * * * *";

/// Polls `check` every 20 ms until it gives a value, for at most `limit`.
#[track_caller]
fn wait_for<T>(limit: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(found) = check() {
            return found;
        }
        assert!(Instant::now() < deadline, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis()
}

/// Registers agent `quick`, a script that runs `body`.
fn quick_agent(env: &TestEnv, body: &str) {
    let script = env.script("quick", body);
    env.run(&[
        "agent",
        "add",
        "quick",
        "--",
        script.to_str().expect("utf-8"),
    ])
    .ok();
}

/// A workflow of one step run by `agent`.
fn workflow(env: &TestEnv, agent: &str) -> String {
    env.create(&json!({"name": "nightly", "steps": [{"id": "s", "agent": agent, "task": "go"}]}))
}

fn add(env: &TestEnv, workflow: &str, name: &str, extra: &[&str]) -> Value {
    let mut args = vec![
        "schedule",
        "add",
        workflow,
        "--cron",
        EVERY_SECOND,
        "--name",
        name,
    ];
    args.extend_from_slice(extra);
    env.json(&args)
}

/// The schedule's fires, newest first.
fn history(env: &TestEnv, name: &str) -> Vec<Value> {
    let shown = env.json(&["schedule", "show", name, "--history", "100"]);
    shown["history"].as_array().cloned().unwrap_or_default()
}

fn with_outcome<'a>(fires: &'a [Value], outcome: &str) -> Vec<&'a Value> {
    fires.iter().filter(|f| f["outcome"] == outcome).collect()
}

fn execution(env: &TestEnv, id: &Value) -> Value {
    env.json(&[
        "workflow",
        "execution",
        id.as_str().expect("an execution id"),
    ])
}

#[test]
fn a_one_second_schedule_fires_on_time_and_its_execution_carries_its_name() {
    let env = TestEnv::new();
    quick_agent(&env, "echo \"$DO_EXECUTION_INPUT\"");
    let workflow = workflow(&env, "quick");
    let created = add(
        &env,
        &workflow,
        "every-second",
        &["--input", r#"{"topic":"rust"}"#],
    );
    assert_eq!(created["cron"], EVERY_SECOND);
    assert!(created["nextFireAt"].is_string(), "{created}");
    let listed = env.json(&["schedule", "list"]);
    assert_eq!(listed[0]["name"], "every-second");

    let fire = wait_for(Duration::from_secs(3), "a completed run", || {
        history(&env, "every-second")
            .into_iter()
            .find(|f| f["executionStatus"] == "completed")
    });
    assert_eq!(fire["trigger"], "tick");
    let status = execution(&env, &fire["executionId"]);
    assert_eq!(status["schedule"]["name"], "every-second");
    assert_eq!(status["schedule"]["id"], created["scheduleId"]);
    assert_eq!(status["schedule"]["scheduledAt"], fire["scheduledAt"]);
    assert_eq!(status["input"], json!({"topic": "rust"}));
    let listed = env.json(&["workflow", "executions"]);
    let listed = listed
        .as_array()
        .expect("a list")
        .iter()
        .find(|e| e["executionId"] == fire["executionId"])
        .expect("listed")
        .clone();
    assert_eq!(listed["schedule"]["name"], "every-second");
    // The event stream says it too, from the first event on.
    let db = rusqlite::Connection::open(env.path("data/do.db")).expect("the database");
    let queued: String = db
        .query_row(
            "SELECT data FROM events WHERE execution_id = ?1 AND kind = 'execution.queued'",
            [fire["executionId"].as_str().expect("id")],
            |row| row.get(0),
        )
        .expect("the queued event");
    let queued: Value = serde_json::from_str(&queued).expect("JSON");
    assert_eq!(queued["schedule"]["name"], "every-second");
    assert_eq!(queued["schedule"]["scheduledAt"], fire["scheduledAt"]);
}

#[test]
fn overlap_skip_skips_ticks_while_the_previous_run_goes_on() {
    let env = TestEnv::new();
    let gate = env.gated_agent("slow", "echo done");
    let workflow = workflow(&env, "slow");
    add(&env, &workflow, "skipper", &["--overlap", "skip"]);
    let fires = wait_for(Duration::from_secs(4), "a skipped tick", || {
        let fires = history(&env, "skipper");
        (!with_outcome(&fires, "skipped").is_empty()).then_some(fires)
    });
    let started = with_outcome(&fires, "started");
    assert_eq!(started.len(), 1, "one run at a time: {fires:?}");
    let skipped = with_outcome(&fires, "skipped")[0];
    let running = started[0]["executionId"].as_str().expect("id");
    assert!(
        skipped["detail"]
            .as_str()
            .expect("detail")
            .contains(running),
        "{skipped}"
    );
    assert!(skipped["executionId"].is_null());

    std::fs::write(&gate, "").expect("open the gate");
    wait_for(Duration::from_secs(4), "a second run", || {
        let fires = history(&env, "skipper");
        (with_outcome(&fires, "started").len() >= 2).then_some(())
    });
}

#[test]
fn overlap_cancel_previous_cancels_the_running_execution() {
    let env = TestEnv::new();
    env.gated_agent("stuck", "echo never");
    let workflow = workflow(&env, "stuck");
    add(
        &env,
        &workflow,
        "replacer",
        &["--overlap", "cancel-previous"],
    );
    let fires = wait_for(Duration::from_secs(4), "two runs", || {
        let fires = history(&env, "replacer");
        (with_outcome(&fires, "started").len() >= 2).then_some(fires)
    });
    let started = with_outcome(&fires, "started");
    // Newest first: the older run was cancelled when the newer one's tick came.
    let older = execution(&env, &started[1]["executionId"]);
    assert_eq!(older["status"], "cancelled", "{older}");
    let reason = older["cancelReason"].as_str().expect("a reason");
    assert!(reason.contains("replacer"), "{reason}");
    assert!(reason.contains("replaced by the tick"), "{reason}");
}

#[test]
fn overlap_queue_holds_a_tick_until_the_previous_run_ends() {
    let env = TestEnv::new();
    let gate = env.gated_agent("slow", "echo done");
    let workflow = workflow(&env, "slow");
    add(&env, &workflow, "queuer", &["--overlap", "queue"]);
    let waiting = wait_for(Duration::from_secs(4), "a waiting tick", || {
        let fires = history(&env, "queuer");
        with_outcome(&fires, "waiting").last().map(|f| (*f).clone())
    });
    assert!(waiting["executionId"].is_null());
    std::fs::write(&gate, "").expect("open the gate");
    // The oldest waiting tick starts once the run before it ends.
    let started = wait_for(Duration::from_secs(4), "the waiting tick to start", || {
        history(&env, "queuer")
            .into_iter()
            .find(|f| f["scheduledAt"] == waiting["scheduledAt"] && f["outcome"] == "started")
    });
    let status = execution(&env, &started["executionId"]);
    assert_eq!(status["schedule"]["scheduledAt"], waiting["scheduledAt"]);
}

#[test]
fn a_paused_schedule_fires_only_when_triggered_and_a_removed_one_not_at_all() {
    let env = TestEnv::new();
    quick_agent(&env, "echo ok");
    let workflow = workflow(&env, "quick");
    let created = add(&env, &workflow, "held", &["--paused"]);
    assert!(created["nextFireAt"].is_null(), "{created}");
    // Nothing can be awaited to show that nothing fires: give it more than one tick.
    std::thread::sleep(Duration::from_millis(1300));
    assert!(history(&env, "held").is_empty());

    let fired = env.json(&["schedule", "trigger", "held"]);
    assert_eq!(fired["trigger"], "manual");
    assert_eq!(fired["outcome"], "started");
    assert_eq!(history(&env, "held").len(), 1);

    let resumed = env.json(&["schedule", "resume", "held"]);
    assert!(resumed["nextFireAt"].is_string(), "{resumed}");
    wait_for(Duration::from_secs(3), "a tick after resuming", || {
        history(&env, "held")
            .iter()
            .any(|f| f["trigger"] == "tick")
            .then_some(())
    });
    let paused = env.json(&["schedule", "pause", "held"]);
    assert_eq!(paused["paused"], true);

    env.run(&["schedule", "remove", "held"]).ok();
    let gone = env.run(&["schedule", "show", "held"]);
    assert_eq!(gone.code, 4, "{}", gone.stderr);
    assert!(gone.stderr.contains("no schedule"), "{}", gone.stderr);
    let runs = |env: &TestEnv| {
        env.json(&["workflow", "executions"])
            .as_array()
            .expect("a list")
            .len()
    };
    let before = runs(&env);
    std::thread::sleep(Duration::from_millis(1300));
    assert_eq!(runs(&env), before, "a removed schedule fired");
}

#[test]
fn a_bad_expression_or_zone_is_refused_with_what_to_write() {
    let env = TestEnv::new();
    quick_agent(&env, "echo ok");
    let workflow = workflow(&env, "quick");
    let bad = env.run(&["schedule", "add", &workflow, "--cron", "every day"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("5 fields"), "{}", bad.stderr);
    let bad = env.run(&[
        "schedule",
        "add",
        &workflow,
        "--cron",
        "@daily",
        "--timezone",
        "Europe/Atlantis",
    ]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("IANA"), "{}", bad.stderr);
}

#[test]
fn a_workflow_document_declares_its_schedules() {
    let env = TestEnv::new();
    quick_agent(&env, "echo ok");
    let mut document = json!({"name": "digest", "steps": [{"id": "s", "agent": "quick", "task": "go"}],
    "schedules": [
        {"cron": "0 7 * * MON-FRI", "timezone": "Europe/Berlin"},
        {"name": "weekly", "cron": "@weekly", "overlap": "queue", "catchUp": "all"}
    ]});
    let workflow = env.create(&document);
    let listed = env.json(&["schedule", "list", "--workflow", &workflow]);
    let names: Vec<&str> = listed
        .as_array()
        .expect("a list")
        .iter()
        .map(|s| s["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["digest", "weekly"]);
    assert_eq!(listed[0]["fromDocument"], true);
    assert_eq!(listed[0]["timezone"], "Europe/Berlin");

    document["schedules"] = json!([{"name": "weekly", "cron": "@monthly"}]);
    let file = env.file("digest.json", &document.to_string());
    env.run(&[
        "workflow",
        "update",
        &workflow,
        file.to_str().expect("utf-8"),
    ])
    .ok();
    let listed = env.json(&["schedule", "list"]);
    assert_eq!(listed.as_array().expect("a list").len(), 1, "{listed}");
    assert_eq!(listed[0]["cron"], "@monthly");

    document["schedules"] = json!([{"cron": "* * *"}]);
    let file = env.file("bad.json", &document.to_string());
    let bad = env.run(&["workflow", "validate", file.to_str().expect("utf-8")]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("schedules[0].cron"), "{}", bad.stderr);
}

// ---- a daemon killed for five ticks ----

/// Fires the daemon made of a 1-second schedule with `catch_up` that it was killed for five
/// ticks of; returns the fires (oldest first), when it was killed and when it started again.
fn killed_for_five_ticks(catch_up: &str) -> (Vec<Value>, u128, u128) {
    let env = TestEnv::new();
    quick_agent(&env, "echo ok");
    let workflow = workflow(&env, "quick");
    add(&env, &workflow, "ticker", &["--catch-up", catch_up]);
    wait_for(Duration::from_secs(3), "a first run", || {
        history(&env, "ticker")
            .iter()
            .any(|f| f["executionStatus"] == "completed")
            .then_some(())
    });
    let killed_at = now_ms();
    kill_daemon(&env);
    // The daemon's downtime is the point of the test: it cannot be awaited.
    std::thread::sleep(Duration::from_millis(5300));
    let restarted_at = now_ms();
    env.run(&["daemon", "start"]).ok();
    wait_for(Duration::from_secs(3), "a tick after the restart", || {
        history(&env, "ticker")
            .iter()
            .any(|f| f["trigger"] == "tick" && ms(&f["scheduledAt"]) > restarted_at + 1000)
            .then_some(())
    });
    let mut fires = history(&env, "ticker");
    fires.reverse();

    // No tick fired twice: each scheduled time once, each execution for one tick, and the
    // executions of the schedule are exactly those of its fires.
    let keys: BTreeSet<u128> = fires.iter().map(|f| ms(&f["scheduledAt"])).collect();
    assert_eq!(keys.len(), fires.len(), "{fires:?}");
    let from_fires: BTreeSet<String> = fires
        .iter()
        .filter_map(|f| f["executionId"].as_str().map(str::to_owned))
        .collect();
    let executions = env.json(&["workflow", "executions", "--limit", "200"]);
    let mut of_schedule: Vec<String> = Vec::new();
    for execution in executions.as_array().expect("a list") {
        assert_eq!(execution["schedule"]["name"], "ticker");
        assert!(keys.contains(&ms(&execution["schedule"]["scheduledAt"])));
        of_schedule.push(execution["executionId"].as_str().expect("id").to_owned());
    }
    assert_eq!(of_schedule.len(), from_fires.len(), "{of_schedule:?}");
    assert_eq!(of_schedule.into_iter().collect::<BTreeSet<_>>(), from_fires);
    (fires, killed_at, restarted_at)
}

fn in_gap(fires: &[Value], from: u128, to: u128) -> Vec<u128> {
    fires
        .iter()
        .map(|f| ms(&f["scheduledAt"]))
        .filter(|&t| t > from && t <= to)
        .collect()
}

#[test]
fn catch_up_none_fires_nothing_for_the_time_the_daemon_was_down() {
    let (fires, killed_at, restarted_at) = killed_for_five_ticks("none");
    assert_eq!(
        in_gap(&fires, killed_at + 1000, restarted_at),
        Vec::<u128>::new(),
        "{fires:?}"
    );
    assert!(fires.iter().all(|f| f["trigger"] == "tick"), "{fires:?}");
}

#[test]
fn catch_up_latest_fires_the_latest_missed_tick_once() {
    let (fires, killed_at, restarted_at) = killed_for_five_ticks("latest");
    let caught_up: Vec<&Value> = fires
        .iter()
        .filter(|f| f["trigger"] == "catch-up")
        .collect();
    assert_eq!(caught_up.len(), 1, "{fires:?}");
    // The latest tick before the daemon started again, not an older one.
    assert!(ms(&caught_up[0]["scheduledAt"]) + 1000 > restarted_at);
    assert_eq!(
        in_gap(&fires, killed_at + 1000, restarted_at - 1000),
        Vec::<u128>::new(),
        "{fires:?}"
    );
}

#[test]
fn catch_up_all_fires_every_missed_tick_once() {
    let (fires, killed_at, restarted_at) = killed_for_five_ticks("all");
    let caught_up = fires.iter().filter(|f| f["trigger"] == "catch-up").count();
    assert!(caught_up >= 5, "{caught_up} ticks caught up: {fires:?}");
    // Every second from the first fire to the last has its fire: none lost, none doubled.
    let times: Vec<u128> = fires.iter().map(|f| ms(&f["scheduledAt"])).collect();
    for pair in times.windows(2) {
        assert_eq!(pair[1] - pair[0], 1000, "{times:?}");
    }
    assert!(times[0] < killed_at && *times.last().expect("fires") > restarted_at);
}

/// The HTTP API: create, list, show, trigger, pause, resume and remove a schedule.
#[test]
fn the_http_api_manages_schedules() {
    let env = TestEnv::new();
    let api = Api::start(&env);
    let send = |method: &str, path: &str, body: Option<Value>| -> (u16, Value) {
        let body = body.map(|b| b.to_string());
        let reply = api.send(method, path, Some(&api.key), body.as_deref());
        (reply.status, reply.body)
    };
    quick_agent(&env, "echo ok");
    let workflow = workflow(&env, "quick");

    let (status, created) = send(
        "POST",
        &format!("/agents/workflows/{workflow}/schedules"),
        Some(json!({"name": "hourly", "cron": "@hourly", "overlap": "queue"})),
    );
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["data"]["overlap"], "queue");
    let (status, bad) = send(
        "POST",
        &format!("/agents/workflows/{workflow}/schedules"),
        Some(json!({"cron": "@hourly", "timezone": "Nowhere"})),
    );
    assert_eq!(status, 400, "{bad}");
    assert_eq!(bad["error"]["details"]["errors"][0]["path"], "timezone");

    let (_, listed) = send("GET", "/agents/schedules", None);
    assert_eq!(listed["data"][0]["name"], "hourly");
    let (_, listed) = send(
        "GET",
        &format!("/agents/workflows/{workflow}/schedules"),
        None,
    );
    assert_eq!(listed["data"].as_array().expect("list").len(), 1);

    let (status, fired) = send("POST", "/agents/schedules/hourly/trigger", None);
    assert_eq!(status, 202, "{fired}");
    assert_eq!(fired["data"]["outcome"], "started");
    let (_, shown) = send("GET", "/agents/schedules/hourly?history=5", None);
    assert_eq!(shown["data"]["history"][0]["trigger"], "manual");

    let (_, paused) = send("POST", "/agents/schedules/hourly/pause", None);
    assert_eq!(paused["data"]["paused"], true);
    let (_, resumed) = send("POST", "/agents/schedules/hourly/resume", None);
    assert_eq!(resumed["data"]["paused"], false);
    let (status, removed) = send("DELETE", "/agents/schedules/hourly", None);
    assert_eq!(status, 200, "{removed}");
    let (status, _) = send("GET", "/agents/schedules/hourly", None);
    assert_eq!(status, 404);
}
