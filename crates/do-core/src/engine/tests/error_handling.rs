use super::*;

fn with_handling(handling: Value) -> ExecutionState {
    let mut flaky = task("flaky", Value::Null, Some("result"));
    flaky["errorHandling"] = handling;
    let doc = json!({"name": "eh", "steps": [flaky, task("after", json!("result"), None)]});
    ExecutionState::new(plan(doc), json!({}))
}

fn fail_once(state: &mut ExecutionState, id: &str) -> Vec<Change> {
    let n = node(state, id);
    state.start(n);
    state.fail(n, "boom".into())
}

#[test]
fn retries_wait_a_growing_backoff_then_the_step_can_succeed() {
    let mut state = with_handling(
        json!({"strategy": "retry", "maxRetries": 3, "backoff": "exponential", "initialDelay": 0.2}),
    );
    let flaky = node(&state, "flaky");
    for (retry, delay) in [(1, 0.2), (2, 0.4)] {
        let changes = fail_once(&mut state, "flaky");
        assert_eq!(
            changes,
            vec![Change::Retry {
                node: flaky,
                delay,
                jitter: false,
                error: "boom".into()
            }],
            "retry {retry}"
        );
        assert!(state.ready().is_empty(), "waits for its delay");
        state.wake(flaky);
        assert_eq!(ids(&state, &state.ready()), ["flaky"]);
    }
    run_ok(&mut state, "flaky", json!("ok"));
    assert_eq!(state.attempts(flaky), 3);
    assert_eq!(ids(&state, &state.ready()), ["after"]);
}

#[test]
fn backoff_delays_follow_their_kind_and_stop_at_max_delay() {
    let handling = |backoff: &str| -> ErrorHandling {
        serde_json::from_value(json!({"backoff": backoff, "initialDelay": 1.0, "maxDelay": 5.0}))
            .expect("eh")
    };
    let delays = |h: &ErrorHandling| (1..=5).map(|n| backoff_delay(h, n)).collect::<Vec<_>>();
    assert_eq!(delays(&handling("exponential")), [1.0, 2.0, 4.0, 5.0, 5.0]);
    assert_eq!(delays(&handling("linear")), [1.0, 2.0, 3.0, 4.0, 5.0]);
    assert_eq!(delays(&handling("fixed")), [1.0; 5]);
}

#[test]
fn exhausted_retries_fail_the_execution_by_default() {
    let mut state = with_handling(json!({"maxRetries": 1, "initialDelay": 0}));
    fail_once(&mut state, "flaky");
    state.wake(node(&state, "flaky"));
    let changes = fail_once(&mut state, "flaky");
    assert!(matches!(
        changes.last(),
        Some(Change::Finished {
            status: ExecutionStatus::Failed,
            ..
        })
    ));
}

#[test]
fn a_fallback_runs_in_place_of_the_failed_step_and_its_output_replaces_it() {
    let mut state = with_handling(json!({"strategy": "fallback",
        "fallback": {"id": "plan-b", "type": "task", "agent": "b", "task": "t"}}));
    let changes = fail_once(&mut state, "flaky");
    let flaky = node(&state, "flaky");
    assert!(
        matches!(&changes[..], [Change::Step { node, status: StepStatus::Running, error: Some(e) }] if *node == flaky && e.contains("plan-b"))
    );
    assert_eq!(ids(&state, &state.ready()), ["plan-b"]);
    let changes = run_ok(&mut state, "plan-b", json!("from b"));
    assert!(changes.contains(&Change::Output {
        node: flaky,
        value: json!("from b")
    }));
    assert_eq!(state.status(flaky), StepStatus::Completed);
    let after = node(&state, "after");
    assert_eq!(
        Value::Object(state.inputs_for(after)),
        json!({"result": "from b"})
    );
}

#[test]
fn the_workflows_fallback_stands_in_for_each_step_without_its_own() {
    let mut own = task("own", Value::Null, None);
    own["errorHandling"] =
        json!({"fallback": {"id": "own-b", "type": "task", "agent": "b", "task": "t"}});
    let doc = json!({"name": "wf", "steps": [
            task("first", Value::Null, Some("result")),
            task("second", Value::Null, None),
            own,
        ],
        "errorHandling": {"maxRetries": 1,
            "fallback": {"id": "page", "type": "task", "agent": "b", "task": "t"}}});
    let mut state = ExecutionState::new(plan(doc), json!({}));
    let first = node(&state, "first");
    let changes = fail_once(&mut state, "first");
    assert!(
        matches!(&changes[..], [Change::Retry { .. }]),
        "{changes:?}"
    );
    state.wake(first);
    let changes = fail_once(&mut state, "first");
    assert!(
        matches!(&changes[..], [Change::Step { error: Some(e), .. }] if e.contains("page@first")),
        "{changes:?}"
    );
    assert_eq!(ids(&state, &state.ready()), ["page@first"]);
    let changes = run_ok(&mut state, "page@first", json!("paged"));
    assert!(changes.contains(&Change::Output {
        node: first,
        value: json!("paged")
    }));
    assert_eq!(state.status(first), StepStatus::Completed);
    // Each step has its own copy, under its own ids; a step's own fallback wins.
    let second = node(&state, "second");
    assert_eq!(
        state
            .plan()
            .node(state.plan().node(second).fallback.expect("copy"))
            .step_id,
        "page@second"
    );
    let own = node(&state, "own");
    assert_eq!(
        state
            .plan()
            .node(state.plan().node(own).fallback.expect("own"))
            .step_id,
        "own-b"
    );
    let page = node(&state, "page@first");
    assert_eq!(
        state.plan().node(page).fallback,
        None,
        "no fallback in a fallback"
    );
}

#[test]
fn a_failing_fallback_fails_the_step() {
    let mut state = with_handling(json!({"strategy": "fallback",
        "fallback": {"id": "plan-b", "type": "task", "agent": "b", "task": "t"}}));
    fail_once(&mut state, "flaky");
    let changes = fail_once(&mut state, "plan-b");
    assert_eq!(state.status(node(&state, "flaky")), StepStatus::Failed);
    assert!(
        matches!(changes.last(), Some(Change::Finished { status: ExecutionStatus::Failed, error: Some(e) }) if e.contains("plan-b"))
    );
}

#[test]
fn continue_goes_on_with_a_null_output_and_the_step_failed() {
    let mut state = with_handling(json!({"strategy": "continue"}));
    fail_once(&mut state, "flaky");
    let flaky = node(&state, "flaky");
    assert_eq!(state.status(flaky), StepStatus::Failed);
    assert_eq!(ids(&state, &state.ready()), ["after"]);
    let after = node(&state, "after");
    assert_eq!(
        Value::Object(state.inputs_for(after)),
        json!({"result": null})
    );
    let changes = run_ok(&mut state, "after", json!(1));
    assert!(matches!(
        changes.last(),
        Some(Change::Finished {
            status: ExecutionStatus::Completed,
            ..
        })
    ));
    assert_eq!(state.completed_roots(), 2);
}

#[test]
fn escalation_waits_for_a_retry_that_continues_the_workflow() {
    let mut state =
        with_handling(json!({"strategy": "retry", "maxRetries": 0, "escalateOnFailure": true}));
    let changes = fail_once(&mut state, "flaky");
    assert!(
        matches!(changes.last(), Some(Change::Escalated { error, .. }) if error.contains("flaky"))
    );
    assert!(state.ready().is_empty());
    assert_eq!(state.finished(), None);
    assert_eq!(
        state.current_step(),
        Some("flaky"),
        "the failed step waits, not the one after it"
    );
    let flaky = node(&state, "flaky");
    let changes = state.retry_step(flaky).expect("retry");
    assert!(changes.contains(&Change::Step {
        node: flaky,
        status: StepStatus::Pending,
        error: None
    }));
    assert_eq!(ids(&state, &state.ready()), ["flaky"]);
    run_ok(&mut state, "flaky", json!("fixed"));
    assert_eq!(state.attempts(flaky), 2, "the attempt counter goes on");
    assert_eq!(ids(&state, &state.ready()), ["after"]);
}

#[test]
fn retry_step_reruns_a_failed_parallel_child_and_its_cut_short_sibling() {
    let mut state = saas();
    run_ok(&mut state, "market-research", json!("r"));
    run_ok(&mut state, "product-strategy", json!("s"));
    let (backend, frontend) = (node(&state, "backend-dev"), node(&state, "frontend-dev"));
    state.start(backend);
    state.start(frontend);
    state.fail(backend, "boom".into());
    state.fail(frontend, "killed".into());
    assert_eq!(state.finished(), Some(ExecutionStatus::Failed));
    assert!(
        state.retry_step(node(&state, "market-research")).is_err(),
        "a completed step is not retried"
    );
    state.retry_step(backend).expect("retry");
    assert_eq!(ids(&state, &state.ready()), ["backend-dev", "frontend-dev"]);
    run_ok(&mut state, "backend-dev", json!("b"));
    run_ok(&mut state, "frontend-dev", json!("f"));
    assert_eq!(
        state.status(node(&state, "parallel-development")),
        StepStatus::Completed
    );
    assert_eq!(ids(&state, &state.ready()), ["testing"]);
}

#[test]
fn cancel_ends_running_tasks_then_the_execution() {
    let mut state = saas();
    let research = node(&state, "market-research");
    state.start(research);
    let changes = state.cancel(ExecutionStatus::Cancelled, "Requirements changed".into());
    assert_eq!(changes, vec![Change::Kill { node: research }]);
    assert!(state.ready().is_empty());
    let changes = state.fail(research, "killed by SIGTERM".into());
    assert_eq!(state.status(research), StepStatus::Cancelled);
    assert_eq!(
        changes.last(),
        Some(&Change::Finished {
            status: ExecutionStatus::Cancelled,
            error: Some("Requirements changed".into())
        })
    );
    let mut idle = saas();
    let changes = idle.cancel(ExecutionStatus::TimedOut, "timed out".into());
    assert!(matches!(
        changes.last(),
        Some(Change::Finished {
            status: ExecutionStatus::TimedOut,
            ..
        })
    ));
}
