//! A person's retry of a step, tried against the step in every state it can be in: only a failed
//! step that stopped the execution is retried, and a refusal names the step and why.

use super::*;

#[test]
fn retry_step_is_allowed_only_for_a_failed_step_that_stopped_the_execution() {
    let two_steps = || {
        let doc = json!({"name": "r", "steps": [task("one", Value::Null, None), task("two", Value::Null, None)]});
        ExecutionState::new(plan(doc), json!({}))
    };
    let mut continued = task("one", Value::Null, None);
    continued["errorHandling"] = json!({"strategy": "continue"});
    let continued_doc = json!({"name": "c", "steps": [continued, task("two", Value::Null, None)]});

    let pending = two_steps();
    let mut running = two_steps();
    running.start(node(&running, "one"));
    let mut completed = two_steps();
    run_ok(&mut completed, "one", json!(1));
    let mut failed = two_steps();
    let one = node(&failed, "one");
    failed.start(one);
    failed.fail(one, "boom".into());
    let mut went_on = ExecutionState::new(plan(continued_doc), json!({}));
    let one = node(&went_on, "one");
    went_on.start(one);
    went_on.fail(one, "boom".into());

    let cases: [(&str, ExecutionState, Option<&str>); 5] = [
        (
            "pending",
            pending,
            Some("step `one` is pending, not failed; only a failed step can be retried"),
        ),
        (
            "running",
            running,
            Some("step `one` is running, not failed; only a failed step can be retried"),
        ),
        (
            "completed",
            completed,
            Some("step `one` is completed, not failed; only a failed step can be retried"),
        ),
        (
            "failed, continued",
            went_on,
            Some("the workflow went on past it (`strategy: continue`)"),
        ),
        ("failed", failed, None),
    ];
    for (what, mut state, refusal) in cases {
        let one = node(&state, "one");
        match (state.retry_step(one), refusal) {
            (Ok(_), None) => assert_eq!(ids(&state, &state.ready()), ["one"], "{what}"),
            (Err(error), Some(reason)) => assert!(error.contains(reason), "{what}: {error}"),
            (outcome, _) => panic!("{what}: unexpected {outcome:?}"),
        }
    }
}
