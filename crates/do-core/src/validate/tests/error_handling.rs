use super::*;

// --- Rule 6: errorHandling -------------------------------------------------------------

#[test]
fn error_handling_valid_fields() {
    let mut step = task("a");
    step["errorHandling"] = json!({
        "strategy": "fallback", "maxRetries": 0, "backoff": "exponential",
        "initialDelay": 1, "maxDelay": 30.5, "jitter": true,
        "escalateOnFailure": false, "notifyOnError": true,
        "fallback": {"agent": "b", "task": "t"}
    });
    let doc = json!({"name": "n", "steps": [step], "errorHandling": {"maxRetries": 100}});
    let validated = ok(&doc);
    let eh = validated.document.steps[0]
        .error_handling
        .as_ref()
        .expect("errorHandling");
    assert_eq!(eh.strategy, Some(Strategy::Fallback));
    assert_eq!(eh.max_retries, Some(0));
    assert_eq!(eh.backoff, Some(Backoff::Exponential));
    assert_eq!((eh.initial_delay, eh.max_delay), (Some(1.0), Some(30.5)));
    assert_eq!(eh.jitter, Some(true));
    assert_eq!(eh.escalate_on_failure, Some(false));
    assert_eq!(eh.notify_on_error, Some(true));
    let fallback = eh.fallback.as_ref().expect("fallback");
    assert_eq!(fallback.id, "step-1");
    assert!(matches!(fallback.kind, StepKind::Task(_)));
    assert_eq!(
        validated
            .document
            .error_handling
            .and_then(|eh| eh.max_retries),
        Some(100)
    );
}

#[test]
fn error_handling_invalid_fields() {
    let mut step = task("a");
    step["errorHandling"] = json!({
        "strategy": "retri", "maxRetries": 101, "backoff": "exp",
        "initialDelay": -1, "jitter": "yes", "escalateOnFailure": 1, "notifyOnError": "no"
    });
    let errors = expect_errors(&wf(json!([step])));
    assert_eq!(
        paths(&errors),
        [
            "steps[0].errorHandling.strategy",
            "steps[0].errorHandling.maxRetries",
            "steps[0].errorHandling.backoff",
            "steps[0].errorHandling.initialDelay",
            "steps[0].errorHandling.jitter",
            "steps[0].errorHandling.escalateOnFailure",
            "steps[0].errorHandling.notifyOnError",
        ]
    );
    assert_eq!(
        errors[0].message,
        "unknown strategy `retri`; expected one of retry, fallback, continue, fail (did you \
         mean `retry`?)"
    );
    assert_eq!(
        errors[1].message,
        "`maxRetries` must be an integer from 0 to 100, found 101"
    );
    assert_eq!(
        errors[4].message,
        "`jitter` must be a boolean, found string"
    );
    for bad in [json!(-1), json!(2.5), json!("3")] {
        let doc = json!({"name": "n", "steps": [task("a")], "errorHandling": {"maxRetries": bad}});
        assert_eq!(one_error(&doc).path, "errorHandling.maxRetries");
    }
}

#[test]
fn max_delay_must_not_be_less_than_initial_delay() {
    let doc = json!({"name": "n", "steps": [task("a")],
                     "errorHandling": {"initialDelay": 10, "maxDelay": 5}});
    let error = one_error(&doc);
    assert_eq!(error.path, "errorHandling.maxDelay");
    assert!(error.message.contains("must not be less than"), "{error}");
    let doc = json!({"name": "n", "steps": [task("a")],
                     "errorHandling": {"initialDelay": 5, "maxDelay": 5}});
    assert!(parse_document(&doc).is_ok());
}

#[test]
fn fallback_strategy_needs_a_fallback_step() {
    let mut step = task("a");
    step["errorHandling"] = json!({"strategy": "fallback"});
    let error = one_error(&wf(json!([step])));
    assert_eq!(error.path, "steps[0].errorHandling");
    assert!(error.message.contains("needs a `fallback` step"), "{error}");
}

#[test]
fn fallback_step_is_validated_like_any_step() {
    let mut step = task("a");
    step["errorHandling"] = json!({"fallback": {"id": "f", "task": "t"}});
    let error = one_error(&wf(json!([step])));
    assert_eq!(error.path, "steps[0].errorHandling.fallback");
    assert_eq!(
        error.message,
        "missing required field `agent` for a task step"
    );
    let mut step = task("a");
    step["errorHandling"] = json!({"fallback": "f"});
    let error = one_error(&wf(json!([step])));
    assert_eq!(error.path, "steps[0].errorHandling.fallback");
    let doc = json!({"name": "n", "steps": [task("a")],
                     "errorHandling": {"fallback": {"id": "f", "agent": "x", "task": 1}}});
    assert_eq!(one_error(&doc).path, "errorHandling.fallback.task");
}
