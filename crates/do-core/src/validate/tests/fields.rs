use super::*;

// --- Rules 4 and 5: fields per type ----------------------------------------------------

#[test]
fn task_required_fields() {
    let error = one_error(&wf(json!([{"id": "a", "task": "t"}])));
    assert_eq!(error.path, "steps[0]");
    assert_eq!(
        error.message,
        "missing required field `agent` for a task step"
    );
    let error = one_error(&wf(json!([{"id": "a", "agent": "amy"}])));
    assert_eq!(
        error.message,
        "missing required field `task` for a task step"
    );
    let error = one_error(&wf(json!([{"id": "a", "agent": 5, "task": "t"}])));
    assert_eq!(error.path, "steps[0].agent");
    assert_eq!(error.message, "`agent` must be a string, found number");
    let error = one_error(&wf(json!([{"id": "a", "agent": "", "task": "t"}])));
    assert_eq!(error.path, "steps[0].agent");
    let error = one_error(&wf(json!([{"id": "a", "agent": "x", "task": false}])));
    assert_eq!(error.path, "steps[0].task");
    // An empty task text is allowed.
    assert!(parse_document(&wf(json!([{"id": "a", "agent": "x", "task": ""}]))).is_ok());
}

#[test]
fn task_input_and_output_types() {
    let doc = wf(json!([
        task_io("a", json!([]), "out-a"),
        task_io("b", json!(["out-a", "input.k"]), "out-b"),
    ]));
    assert!(parse_document(&doc).is_ok());
    let errors = expect_errors(&wf(json!([
        task_io("a", json!(5), "out"),
        task_io("b", json!(["out", 3, null]), "has space"),
    ])));
    assert_eq!(
        paths(&errors),
        [
            "steps[0].input",
            "steps[1].input[1]",
            "steps[1].input[2]",
            "steps[1].output"
        ]
    );
    assert_eq!(
        errors[0].message,
        "`input` must be a name or an array of names, found number"
    );
    assert_eq!(
        errors[1].message,
        "each name in `input` must be a string, found number"
    );
    let mut step = task("a");
    step["output"] = json!(1);
    assert_eq!(
        one_error(&wf(json!([step]))).message,
        "`output` must be a string, found number"
    );
}

#[test]
fn parallel_fields() {
    let error = one_error(&wf(json!([{"id": "p", "type": "parallel"}])));
    assert_eq!(
        (error.path.as_str(), error.message.as_str()),
        (
            "steps[0]",
            "missing required field `steps` for a parallel step"
        )
    );
    let error = one_error(&wf(json!([{"id": "p", "type": "parallel", "steps": []}])));
    assert_eq!(error.path, "steps[0].steps");
    let error = one_error(&wf(json!([{"id": "p", "type": "parallel", "steps": "a"}])));
    assert_eq!(error.path, "steps[0].steps");
    let error = one_error(&wf(
        json!([{"id": "p", "type": "parallel", "steps": [{"id": "c", "task": "t"}]}]),
    ));
    assert_eq!(error.path, "steps[0].steps[0]");
    for bad in [
        json!(0),
        json!(-1),
        json!(1.5),
        json!("2"),
        json!(4_294_967_296_u64),
    ] {
        let doc = wf(json!([{"type": "parallel", "steps": [task("a")], "maxConcurrency": bad}]));
        let error = one_error(&doc);
        assert_eq!(error.path, "steps[0].maxConcurrency");
        assert!(
            error.message.contains("must be an integer from 1"),
            "{error}"
        );
    }
    let doc = wf(json!([{"type": "parallel", "steps": [task("a")], "maxConcurrency": 2}]));
    let StepKind::Parallel(parallel) = &ok(&doc).document.steps[0].kind else {
        panic!("not parallel");
    };
    assert_eq!(parallel.max_concurrency, Some(2));
}

#[test]
fn conditional_fields() {
    let error = one_error(&wf(json!([{"type": "conditional", "then": task("a")}])));
    assert_eq!(
        error.message,
        "missing required field `condition` for a conditional step"
    );
    let error = one_error(&wf(
        json!([{"type": "conditional", "condition": "", "then": task("a")}]),
    ));
    assert_eq!(error.path, "steps[0].condition");
    let error = one_error(&wf(json!([{"type": "conditional", "condition": "true"}])));
    assert_eq!(
        (error.path.as_str(), error.message.as_str()),
        (
            "steps[0]",
            "missing required field `then` for a conditional step"
        )
    );
    let error = one_error(&wf(
        json!([{"type": "conditional", "condition": "true", "then": []}]),
    ));
    assert_eq!(error.path, "steps[0].then");
    let error = one_error(&wf(json!([
        {"type": "conditional", "condition": "true", "then": task("a"), "else": "nope"}
    ])));
    assert_eq!(error.path, "steps[0].else");
    assert!(error.message.ends_with("found string"), "{error}");
    let error = one_error(&wf(json!([
        {"type": "conditional", "condition": "true", "then": [task("a"), {"id": "b", "agent": "x"}]}
    ])));
    assert_eq!(error.path, "steps[0].then[1]");

    let doc = wf(json!([
        {"id": "c", "type": "conditional", "condition": "true", "then": task("a"),
         "else": [task("b"), task("d")]}
    ]));
    let StepKind::Conditional(conditional) = &ok(&doc).document.steps[0].kind else {
        panic!("not conditional");
    };
    assert!(matches!(&conditional.then, Branch::One(step) if step.id == "a"));
    assert!(matches!(&conditional.otherwise, Some(Branch::Many(steps)) if steps.len() == 2));
}

#[test]
fn loop_fields() {
    let error = one_error(&wf(json!([{"type": "loop", "step": task("a")}])));
    assert_eq!(
        error.message,
        "missing required field `items` for a loop step"
    );
    let error = one_error(&wf(
        json!([{"type": "loop", "items": " ", "step": task("a")}]),
    ));
    assert_eq!(error.path, "steps[0].items");
    let error = one_error(&wf(json!([{"type": "loop", "items": "input.xs"}])));
    assert_eq!(
        error.message,
        "missing required field `step` for a loop step"
    );
    let error = one_error(&wf(
        json!([{"type": "loop", "items": "input.xs", "step": [task("a")]}]),
    ));
    assert_eq!(error.path, "steps[0].step");
    assert!(error.message.ends_with("found array"), "{error}");
    let error = one_error(&wf(json!([
        {"type": "loop", "items": "input.xs", "step": task("a"), "maxConcurrency": 0}
    ])));
    assert_eq!(error.path, "steps[0].maxConcurrency");
    let error = one_error(&wf(json!([
        {"type": "loop", "items": "input.xs", "step": task("a"), "output": "a b"}
    ])));
    assert_eq!(error.path, "steps[0].output");

    let doc = wf(json!([
        {"id": "l", "type": "loop", "items": "input.xs", "step": task("a"),
         "maxConcurrency": 3, "output": "results"}
    ]));
    let StepKind::Loop(step) = &ok(&doc).document.steps[0].kind else {
        panic!("not a loop");
    };
    assert_eq!(step.items, "input.xs");
    assert_eq!(step.step.id, "a");
    assert_eq!(step.max_concurrency, Some(3));
    assert_eq!(step.output.as_deref(), Some("results"));
}

#[test]
fn team_fields() {
    let error = one_error(&wf(json!([{"type": "team", "task": "t"}])));
    assert_eq!(
        error.message,
        "missing required field `teamId` for a team step"
    );
    let error = one_error(&wf(json!([{"type": "team", "teamId": 3, "task": "t"}])));
    assert_eq!(
        error.to_string(),
        "steps[0].teamId: `teamId` must be a string, found number"
    );
    let error = one_error(&wf(json!([{"type": "team", "teamId": "eng"}])));
    assert_eq!(
        error.message,
        "missing required field `task` for a team step"
    );
    let doc = wf(json!([
        task_io("a", json!([]), "req"),
        {"id": "t", "type": "team", "teamId": "eng", "task": "Build", "input": "req",
         "output": "feature"}
    ]));
    let StepKind::Team(team) = &ok(&doc).document.steps[1].kind else {
        panic!("not a team step");
    };
    assert_eq!(team.team_id, "eng");
    assert_eq!(team.output.as_deref(), Some("feature"));
}

#[test]
fn missing_field_hints_at_a_forgotten_type() {
    let error = one_error(&wf(json!([{"id": "p", "task": "t", "steps": [task("a")]}])));
    assert_eq!(
        error.message,
        "missing required field `agent` for a task step (a step without `type` is a task; \
         did you mean `\"type\": \"parallel\"`?)"
    );
}

#[test]
fn step_timeout() {
    let mut step = task("a");
    step["timeout"] = json!(-5);
    let error = one_error(&wf(json!([step])));
    assert_eq!(error.path, "steps[0].timeout");
    assert!(error.message.contains("found -5"), "{error}");
    let mut step = task("a");
    step["timeout"] = json!(30);
    assert_eq!(ok(&wf(json!([step]))).document.steps[0].timeout, Some(30.0));
}

// --- Rules 7 and 9: unknown fields are warnings ------------------------------------------

#[test]
fn unknown_fields_are_warnings() {
    let doc = json!({
        "name": "n", "descripton": "d",
        "steps": [
            {"id": "a", "agent": "x", "task": "t", "ouput": "o", "color": "red"},
            {"id": "b", "agent": "x", "task": "t", "steps": []},
            {"id": "p", "type": "parallel", "step": [task("c")], "steps": [task("d")]}
        ],
        "errorHandling": {"maxRetires": 3}
    });
    let validated = ok(&doc);
    let warnings: Vec<String> = validated.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        [
            "descripton: unknown field `descripton` is ignored (did you mean `description`?)",
            "steps[0].color: unknown field `color` is ignored",
            "steps[0].ouput: unknown field `ouput` is ignored (did you mean `output`?)",
            "steps[1].steps: unknown field `steps` is ignored (`steps` is a field of parallel \
             steps, not of task steps)",
            "steps[2].step: unknown field `step` is ignored (did you mean `steps`?)",
            "errorHandling.maxRetires: unknown field `maxRetires` is ignored (did you mean \
             `maxRetries`?)",
        ]
    );
    // Unknown fields are dropped from the normalized document.
    let value = serde_json::to_value(&validated.document).expect("serializes");
    assert!(value.get("descripton").is_none());
    assert!(value["steps"][0].get("ouput").is_none());
}

#[test]
fn no_warnings_for_a_clean_document() {
    assert!(ok(&wf(json!([task("a")]))).warnings.is_empty());
}
