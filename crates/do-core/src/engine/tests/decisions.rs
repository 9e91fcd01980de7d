use super::*;

fn conditional_doc() -> Value {
    json!({"name": "c", "steps": [
        task("testing", Value::Null, Some("test-results")),
        {"id": "conditional", "type": "conditional", "condition": "test-results.passed === true",
         "then": {"id": "deploy", "type": "task", "agent": "dev", "task": "Deploy to production"},
         "else": {"id": "fix", "type": "task", "agent": "tom", "task": "Fix failing tests"}},
    ]})
}

#[test]
fn a_conditional_runs_the_branch_its_condition_picks_and_skips_the_other() {
    for (passed, runs, skipped) in [(true, "deploy", "fix"), (false, "fix", "deploy")] {
        let mut state = ExecutionState::new(plan(conditional_doc()), json!({}));
        run_ok(&mut state, "testing", json!({"passed": passed}));
        assert!(
            state.ready().is_empty(),
            "the condition is not decided before advance"
        );
        let changes = state.advance();
        let skip = node(&state, skipped);
        assert!(changes.contains(&Change::Step {
            node: skip,
            status: StepStatus::Skipped,
            error: None
        }));
        assert_eq!(ids(&state, &state.ready()), [runs]);
        let changes = run_ok(&mut state, runs, json!("done"));
        let cond = node(&state, "conditional");
        assert!(changes.contains(&Change::Output {
            node: cond,
            value: json!("done")
        }));
        assert_eq!(state.finished(), Some(ExecutionStatus::Completed));
        assert_eq!(state.completed_roots(), 2);
    }
}

#[test]
fn a_false_condition_without_else_completes_with_null() {
    let mut doc = conditional_doc();
    doc["steps"][1]
        .as_object_mut()
        .expect("object")
        .remove("else");
    let mut state = ExecutionState::new(plan(doc), json!({}));
    run_ok(&mut state, "testing", json!({"passed": false}));
    state.advance();
    assert_eq!(
        state.status(node(&state, "conditional")),
        StepStatus::Completed
    );
    assert_eq!(state.finished(), Some(ExecutionStatus::Completed));
}

#[test]
fn a_condition_that_cannot_be_evaluated_fails_the_step_quoting_it() {
    let mut doc = conditional_doc();
    doc["steps"][1]["condition"] = json!("test-results.count * 2 > 1");
    let mut state = ExecutionState::new(plan(doc), json!({}));
    run_ok(&mut state, "testing", json!({"count": "many"}));
    let changes = state.advance();
    let cond = node(&state, "conditional");
    assert_eq!(state.status(cond), StepStatus::Failed);
    let Some(Change::Finished { status, error }) = changes.last() else {
        panic!("{changes:?}")
    };
    assert_eq!(*status, ExecutionStatus::Failed);
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.contains("test-results.count * 2 > 1")),
        "{error:?}"
    );
}

fn loop_doc(items: &str, max: Option<u32>) -> Value {
    let mut lp = json!({"id": "process-items", "type": "loop", "items": items, "output": "processed",
        "step": {"id": "process", "type": "task", "agent": "amy", "task": "Process {{ item }} at {{ index }}"}});
    if let Some(max) = max {
        lp["maxConcurrency"] = json!(max);
    }
    json!({"name": "l", "steps": [task("source", Value::Null, Some("data-array")), lp,
        task("after", json!("processed"), None)]})
}

#[test]
fn a_loop_runs_one_iteration_per_item_within_its_concurrency_and_collects_results_in_order() {
    let mut state = ExecutionState::new(plan(loop_doc("data-array", Some(2))), json!({}));
    run_ok(&mut state, "source", json!(["a", "b", "c"]));
    let changes = state.advance();
    let lp = node(&state, "process-items");
    assert!(changes.contains(&Change::Expanded {
        node: lp,
        items: json!(["a", "b", "c"])
    }));
    assert_eq!(ids(&state, &state.ready()), ["process[0]", "process[1]"]);
    let second = node(&state, "process[1]");
    assert_eq!(state.task_text(second), Ok("Process b at 1".to_owned()));
    assert_eq!(state.item_of(second), Some((json!("b"), 1)));
    state.start(node(&state, "process[0]"));
    state.start(second);
    assert!(state.ready().is_empty(), "two at a time");
    state.succeed(second, json!("B"));
    assert_eq!(ids(&state, &state.ready()), ["process[2]"]);
    run_ok(&mut state, "process[2]", json!("C"));
    let changes = state.succeed(node(&state, "process[0]"), json!("A"));
    assert!(changes.contains(&Change::Output {
        node: lp,
        value: json!(["A", "B", "C"])
    }));
    let after = node(&state, "after");
    assert_eq!(
        Value::Object(state.inputs_for(after)),
        json!({"processed": ["A", "B", "C"]})
    );
}

#[test]
fn a_loop_defaults_to_one_at_a_time_and_an_empty_array_completes_at_once() {
    let mut state = ExecutionState::new(plan(loop_doc("data-array", None)), json!({}));
    run_ok(&mut state, "source", json!([1, 2]));
    state.advance();
    assert_eq!(ids(&state, &state.ready()), ["process[0]"]);

    let mut state = ExecutionState::new(plan(loop_doc("data-array", None)), json!({}));
    run_ok(&mut state, "source", json!([]));
    let changes = state.advance();
    let lp = node(&state, "process-items");
    assert!(changes.contains(&Change::Output {
        node: lp,
        value: json!([])
    }));
    assert_eq!(ids(&state, &state.ready()), ["after"]);
}

#[test]
fn loop_items_may_be_execution_input_or_an_expression_and_must_be_an_array() {
    let mut state =
        ExecutionState::new(plan(loop_doc("input.files", None)), json!({"files": ["x"]}));
    run_ok(&mut state, "source", json!(null));
    state.advance();
    assert_eq!(ids(&state, &state.ready()), ["process[0]"]);

    let mut state = ExecutionState::new(
        plan(loop_doc("[1, 2, len(data-array)]", Some(5))),
        json!({}),
    );
    run_ok(&mut state, "source", json!("abcd"));
    state.advance();
    assert_eq!(
        state.item_of(node(&state, "process[2]")),
        Some((json!(4), 2))
    );

    let mut state = ExecutionState::new(plan(loop_doc("data-array", None)), json!({}));
    run_ok(&mut state, "source", json!({"not": "an array"}));
    let changes = state.advance();
    let lp = node(&state, "process-items");
    assert_eq!(state.status(lp), StepStatus::Failed);
    assert!(changes.iter().any(|c| matches!(c, Change::Step { error: Some(e), .. } if e.contains("must be an array, found an object"))), "{changes:?}");
    assert_eq!(state.finished(), Some(ExecutionStatus::Failed));
}

#[test]
fn restore_re_expands_loops_from_their_stored_items() {
    let mut state = ExecutionState::new(plan(loop_doc("data-array", Some(3))), json!({}));
    run_ok(&mut state, "source", json!(["a", "b"]));
    state.advance();
    run_ok(&mut state, "process[1]", json!("B"));
    let statuses: BTreeMap<String, (StepStatus, u32)> = state
        .plan()
        .nodes()
        .map(|(id, n)| (n.step_id.clone(), (state.status(id), state.attempts(id))))
        .collect();
    let mut outputs = BTreeMap::new();
    outputs.insert("data-array".to_owned(), json!(["a", "b"]));
    outputs.insert(loop_items_key("process-items"), json!(["a", "b"]));
    outputs.insert("process[1]".to_owned(), json!("B"));
    let mut restored = ExecutionState::restore(
        plan(loop_doc("data-array", Some(3))),
        json!({}),
        &statuses,
        outputs,
    );
    assert!(restored.advance().is_empty(), "already decided");
    assert_eq!(ids(&restored, &restored.ready()), ["process[0]"]);
    let changes = run_ok(&mut restored, "process[0]", json!("A"));
    let lp = node(&restored, "process-items");
    assert!(changes.contains(&Change::Output {
        node: lp,
        value: json!(["A", "B"])
    }));
}

#[test]
fn team_steps_are_tasks_whose_runner_is_the_team() {
    let doc = json!({"name": "t", "steps": [
        {"id": "team-project", "type": "team", "teamId": "engineering", "task": "Build {{ input.feature }}"}
    ]});
    let state = ExecutionState::new(plan(doc), json!({"feature": "search"}));
    let n = node(&state, "team-project");
    assert_eq!(ids(&state, &state.ready()), ["team-project"]);
    assert!(
        matches!(&state.plan().node(n).kind, NodeKind::Task { runner: Runner::Team(t), .. } if t == "engineering")
    );
    assert_eq!(state.plan().node(n).type_name(), "team");
    assert_eq!(state.task_text(n), Ok("Build search".to_owned()));
}
