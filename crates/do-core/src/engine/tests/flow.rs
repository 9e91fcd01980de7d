use super::*;

#[test]
fn sequence_runs_one_step_at_a_time_in_order() {
    let mut state = saas();
    assert_eq!(ids(&state, &state.ready()), ["market-research"]);
    let n = node(&state, "market-research");
    state.start(n);
    assert!(
        state.ready().is_empty(),
        "nothing else starts while the first step runs"
    );
    assert_eq!(state.current_step(), Some("market-research"));
    state.succeed(n, json!("r"));
    assert_eq!(ids(&state, &state.ready()), ["product-strategy"]);
    assert_eq!(state.completed_roots(), 1);
}

#[test]
fn parallel_children_are_ready_together_and_complete_the_parent() {
    let mut state = saas();
    run_ok(&mut state, "market-research", json!("r"));
    run_ok(&mut state, "product-strategy", json!("s"));
    assert_eq!(ids(&state, &state.ready()), ["backend-dev", "frontend-dev"]);
    let backend = node(&state, "backend-dev");
    let changes = state.start(backend);
    let parent = node(&state, "parallel-development");
    assert!(changes.contains(&Change::Step {
        node: parent,
        status: StepStatus::Running,
        error: None
    }));
    assert_eq!(
        ids(&state, &state.ready()),
        ["frontend-dev"],
        "the sibling is still ready"
    );
    assert_eq!(state.current_step(), Some("parallel-development"));
    state.succeed(backend, json!("b"));
    assert_eq!(state.status(parent), StepStatus::Running);
    let changes = run_ok(&mut state, "frontend-dev", json!("f"));
    assert!(changes.contains(&Change::Step {
        node: parent,
        status: StepStatus::Completed,
        error: None
    }));
    assert!(changes.contains(&Change::Output {
        node: parent,
        value: json!({"backend-code": "b", "frontend-code": "f"})
    }));
    assert_eq!(ids(&state, &state.ready()), ["testing"]);
}

#[test]
fn inputs_resolve_outputs_step_ids_and_execution_input() {
    let mut state = saas();
    run_ok(&mut state, "market-research", json!({"pages": 3}));
    let strategy = node(&state, "product-strategy");
    assert_eq!(
        Value::Object(state.inputs_for(strategy)),
        json!({"research-data": {"pages": 3}})
    );
    run_ok(&mut state, "product-strategy", json!("s"));
    run_ok(&mut state, "backend-dev", json!("b"));
    run_ok(&mut state, "frontend-dev", json!("f"));
    let testing = node(&state, "testing");
    assert_eq!(
        Value::Object(state.inputs_for(testing)),
        json!({"backend-code": "b", "frontend-code": "f"})
    );

    let doc = json!({"name": "w", "steps": [
        task("a", Value::Null, None),
        task("b", json!(["a", "input.productName", "input.missing"]), None),
    ]});
    let mut state = ExecutionState::new(plan(doc), json!({"productName": "CloudSync Pro"}));
    run_ok(&mut state, "a", json!(1));
    let b = node(&state, "b");
    assert_eq!(
        Value::Object(state.inputs_for(b)),
        json!({"a": 1, "input.productName": "CloudSync Pro", "input.missing": null})
    );
}

#[test]
fn the_whole_saas_workflow_completes_with_full_progress() {
    let mut state = saas();
    for id in [
        "market-research",
        "product-strategy",
        "backend-dev",
        "frontend-dev",
        "testing",
    ] {
        run_ok(&mut state, id, json!(id));
        assert_eq!(state.finished(), None);
    }
    let changes = run_ok(&mut state, "deploy", json!("https://example.test"));
    assert_eq!(
        changes.last(),
        Some(&Change::Finished {
            status: ExecutionStatus::Completed,
            error: None
        })
    );
    assert_eq!(state.finished(), Some(ExecutionStatus::Completed));
    assert_eq!(state.completed_roots(), 5);
    assert_eq!(state.current_step(), None);
    assert!(state.ready().is_empty());
}

#[test]
fn a_failed_step_fails_the_execution_and_later_steps_never_start() {
    let mut state = saas();
    run_ok(&mut state, "market-research", json!("r"));
    let n = node(&state, "product-strategy");
    state.start(n);
    let changes = state.fail(n, "exit status 3".into());
    assert_eq!(
        changes.last(),
        Some(&Change::Finished {
            status: ExecutionStatus::Failed,
            error: Some("step `product-strategy` failed: exit status 3".into())
        })
    );
    assert!(state.ready().is_empty());
    for later in ["parallel-development", "backend-dev", "testing", "deploy"] {
        assert_eq!(
            state.status(node(&state, later)),
            StepStatus::Pending,
            "{later}"
        );
    }
}

#[test]
fn a_failing_parallel_child_kills_its_running_sibling_and_waits_for_it() {
    let mut state = saas();
    run_ok(&mut state, "market-research", json!("r"));
    run_ok(&mut state, "product-strategy", json!("s"));
    let (backend, frontend) = (node(&state, "backend-dev"), node(&state, "frontend-dev"));
    state.start(backend);
    state.start(frontend);
    let changes = state.fail(backend, "exit status 1".into());
    assert!(changes.contains(&Change::Kill { node: frontend }));
    assert!(
        !changes.iter().any(|c| matches!(c, Change::Finished { .. })),
        "frontend still runs"
    );
    assert!(state.ready().is_empty());
    let changes = state.fail(frontend, "killed by SIGTERM".into());
    assert_eq!(state.status(frontend), StepStatus::Cancelled);
    let parent = node(&state, "parallel-development");
    assert_eq!(state.status(parent), StepStatus::Failed);
    assert!(matches!(
        changes.last(),
        Some(Change::Finished {
            status: ExecutionStatus::Failed,
            ..
        })
    ));
}

#[test]
fn a_killed_task_that_succeeded_anyway_keeps_its_output() {
    let mut state = saas();
    run_ok(&mut state, "market-research", json!("r"));
    run_ok(&mut state, "product-strategy", json!("s"));
    let (backend, frontend) = (node(&state, "backend-dev"), node(&state, "frontend-dev"));
    state.start(backend);
    state.start(frontend);
    state.fail(backend, "boom".into());
    let changes = state.succeed(frontend, json!("f"));
    assert_eq!(state.status(frontend), StepStatus::Completed);
    assert!(changes.contains(&Change::Output {
        node: frontend,
        value: json!("f")
    }));
    assert!(matches!(
        changes.last(),
        Some(Change::Finished {
            status: ExecutionStatus::Failed,
            ..
        })
    ));
}

#[test]
fn ready_up_to_gives_the_first_ready_tasks_in_document_order() {
    let doc = json!({"name": "w", "steps": [
        parallel("p", (0..6).map(|i| task(&format!("t{i}"), Value::Null, None)).collect()),
    ]});
    let mut state = ExecutionState::new(plan(doc), json!({}));
    assert_eq!(ids(&state, &state.ready_up_to(2)), ["t0", "t1"]);
    state.start(node(&state, "t0"));
    run_ok(&mut state, "t1", json!(1));
    assert_eq!(ids(&state, &state.ready_up_to(3)), ["t2", "t3", "t4"]);
    assert_eq!(ids(&state, &state.ready_up_to(0)), Vec::<String>::new());
    assert_eq!(ids(&state, &state.ready()), ["t2", "t3", "t4", "t5"]);
}

#[test]
fn max_concurrency_limits_parallel_children() {
    let mut doc = json!({"name": "w", "steps": [parallel("p", vec![
        task("a", Value::Null, None), task("b", Value::Null, None), task("c", Value::Null, None),
    ])]});
    doc["steps"][0]["maxConcurrency"] = json!(2);
    let mut state = ExecutionState::new(plan(doc), json!({}));
    assert_eq!(ids(&state, &state.ready()), ["a", "b"]);
    state.start(node(&state, "a"));
    assert_eq!(ids(&state, &state.ready()), ["b"]);
    state.start(node(&state, "b"));
    assert!(state.ready().is_empty());
    state.succeed(node(&state, "a"), json!(null));
    assert_eq!(ids(&state, &state.ready()), ["c"]);
}

#[test]
fn nested_parallel_and_sequence_inside_parallel() {
    let doc = json!({"name": "w", "steps": [
        parallel("outer", vec![
            parallel("inner", vec![task("x", Value::Null, None), task("y", Value::Null, None)]),
            task("z", Value::Null, Some("zed")),
        ]),
        task("after", json!(["x", "zed"]), None),
    ]});
    let mut state = ExecutionState::new(plan(doc), json!({}));
    assert_eq!(ids(&state, &state.ready()), ["x", "y", "z"]);
    let x = node(&state, "x");
    let changes = state.start(x);
    let (inner, outer) = (node(&state, "inner"), node(&state, "outer"));
    assert_eq!(
        changes,
        vec![
            Change::Step {
                node: outer,
                status: StepStatus::Running,
                error: None
            },
            Change::Step {
                node: inner,
                status: StepStatus::Running,
                error: None
            },
            Change::Step {
                node: x,
                status: StepStatus::Running,
                error: None
            },
        ]
    );
    run_ok(&mut state, "y", json!("y"));
    state.succeed(x, json!("x"));
    assert_eq!(state.status(inner), StepStatus::Completed);
    assert_eq!(state.status(outer), StepStatus::Running);
    run_ok(&mut state, "z", json!("z"));
    assert_eq!(state.status(outer), StepStatus::Completed);
    let after = node(&state, "after");
    assert_eq!(
        Value::Object(state.inputs_for(after)),
        json!({"x": "x", "zed": "z"})
    );
    assert_eq!(ids(&state, &state.ready()), ["after"]);
}

/// Runs the execution one step at a time, as a daemon whose limit is one running step
/// does: advance, start the first ready task, let it succeed; returns the tasks in the
/// order they ran.
fn run_one_at_a_time(state: &mut ExecutionState) -> Vec<String> {
    let mut ran = Vec::new();
    loop {
        state.advance();
        let Some(&next) = state.ready().first() else {
            return ran;
        };
        ran.push(state.plan().node(next).step_id.clone());
        state.start(next);
        state.succeed(next, json!(ran.len()));
    }
}

#[test]
fn composite_steps_inside_a_parallel_go_on_once_they_are_running() {
    let doc = json!({"name": "w", "steps": [
        parallel("outer", vec![
            parallel("inner", vec![task("x", Value::Null, None), task("y", Value::Null, None)]),
            json!({"id": "cond", "type": "conditional", "condition": "true",
             "then": [task("a", Value::Null, None), task("b", Value::Null, None)]}),
            json!({"id": "lp", "type": "loop", "items": "[1, 2]",
             "step": {"id": "it", "type": "task", "agent": "a", "task": "t"}}),
            task("z", Value::Null, None),
        ]),
        task("after", Value::Null, None),
    ]});
    let mut state = ExecutionState::new(plan(doc), json!({}));
    let ran = run_one_at_a_time(&mut state);
    assert_eq!(ran, ["x", "y", "a", "b", "it[0]", "it[1]", "z", "after"]);
    assert_eq!(state.finished(), Some(ExecutionStatus::Completed));
}

#[test]
fn a_loop_of_conditionals_goes_on_one_step_at_a_time() {
    let doc = json!({"name": "w", "steps": [
        {"id": "lp", "type": "loop", "items": "[1, 2]", "maxConcurrency": 2,
         "step": {"id": "c", "type": "conditional", "condition": "true",
                  "then": [task("p", Value::Null, None), task("q", Value::Null, None)]}},
    ]});
    let mut state = ExecutionState::new(plan(doc), json!({}));
    let ran = run_one_at_a_time(&mut state);
    assert_eq!(ran.len(), 4, "{ran:?}");
    assert_eq!(state.finished(), Some(ExecutionStatus::Completed));
}

#[test]
fn restore_continues_where_the_store_left_off() {
    let mut state = saas();
    run_ok(&mut state, "market-research", json!("r"));
    run_ok(&mut state, "product-strategy", json!("s"));
    run_ok(&mut state, "backend-dev", json!("b"));
    let statuses: BTreeMap<String, (StepStatus, u32)> = state
        .plan()
        .nodes()
        .map(|(id, n)| (n.step_id.clone(), (state.status(id), state.attempts(id))))
        .collect();
    let mut outputs = BTreeMap::new();
    for name in [
        "market-research",
        "research-data",
        "product-strategy",
        "strategy-doc",
        "backend-dev",
        "backend-code",
    ] {
        outputs.insert(name.to_owned(), json!(name));
    }
    let restored = ExecutionState::restore(state.plan().clone(), json!({}), &statuses, outputs);
    assert_eq!(ids(&restored, &restored.ready()), ["frontend-dev"]);
    assert_eq!(restored.completed_roots(), 2);
    let testing = node(&restored, "testing");
    assert_eq!(
        Value::Object(restored.inputs_for(testing)),
        json!({"backend-code": "backend-code", "frontend-code": null})
    );
}

#[test]
fn a_second_stop_keeps_the_first_ones_status_and_reason() {
    let mut state = saas();
    let research = node(&state, "market-research");
    state.start(research);
    state.cancel(ExecutionStatus::Cancelled, "first".into());
    state.cancel(ExecutionStatus::TimedOut, "second".into());
    assert_eq!(
        state.stopping_as(),
        Some((ExecutionStatus::Cancelled, "first"))
    );
    let changes = state.fail(research, "killed".into());
    assert!(changes.iter().any(|c| matches!(c,
        Change::Finished { status: ExecutionStatus::Cancelled, error: Some(e) } if e == "first")));
}

#[test]
fn a_restored_execution_whose_step_failed_stops_and_ends_failed_once_nothing_runs() {
    let mut state = saas();
    run_ok(&mut state, "market-research", json!("r"));
    run_ok(&mut state, "product-strategy", json!("s"));
    let (backend, frontend) = (node(&state, "backend-dev"), node(&state, "frontend-dev"));
    state.start(backend);
    state.start(frontend);
    state.fail(backend, "broke".into());
    let statuses: BTreeMap<String, (StepStatus, u32)> = state
        .plan()
        .nodes()
        .map(|(id, n)| (n.step_id.clone(), (state.status(id), state.attempts(id))))
        .collect();
    let mut restored =
        ExecutionState::restore(state.plan().clone(), json!({}), &statuses, BTreeMap::new());
    let changes = restored.resume_failure(false, |step| (step == "backend-dev").then_some("broke"));
    assert!(
        matches!(&changes[..], [Change::Kill { node }] if *node == frontend),
        "{changes:?}"
    );
    assert!(restored.ready().is_empty());
    let changes = restored.fail(frontend, "killed".into());
    assert!(
        changes.iter().any(|c| matches!(c,
        Change::Finished { status: ExecutionStatus::Failed, error: Some(e) }
            if e == "step `backend-dev` failed: broke")),
        "{changes:?}"
    );
}
