use super::*;

// --- Rule 2: step objects and types ----------------------------------------------------

#[test]
fn a_step_must_be_an_object() {
    let error = one_error(&wf(json!([task("a"), "b"])));
    assert_eq!(error.path, "steps[1]");
    assert_eq!(error.message, "a step must be a JSON object, found string");
}

#[test]
fn unknown_type_suggests_the_closest() {
    let mut step = task("a");
    step["type"] = json!("paralel");
    let error = one_error(&wf(json!([step])));
    assert_eq!(error.path, "steps[0].type");
    assert_eq!(
        error.message,
        "unknown step type `paralel`; expected one of task, parallel, conditional, loop, team \
         (did you mean `parallel`?)"
    );
    let mut step = task("a");
    step["type"] = json!("workflow");
    let error = one_error(&wf(json!([step])));
    assert!(!error.message.contains("did you mean"), "{error}");
    let mut step = task("a");
    step["type"] = json!(["task"]);
    let error = one_error(&wf(json!([step])));
    assert_eq!(error.message, "`type` must be a string, found array");
}

#[test]
fn a_step_without_type_is_a_task() {
    let validated = ok(&wf(json!([{"id": "a", "agent": "amy", "task": "t"}])));
    let StepKind::Task(step) = &validated.document.steps[0].kind else {
        panic!("not a task");
    };
    assert_eq!(step.agent, "amy");
    let value = serde_json::to_value(&validated.document.steps[0]).expect("serializes");
    assert_eq!(value["type"], "task");
}

#[test]
fn every_type_is_accepted() {
    let doc = wf(json!([
        {"id": "t", "type": "task", "agent": "a", "task": "x", "output": "out"},
        {"id": "p", "type": "parallel", "steps": [task("p1")]},
        {"id": "c", "type": "conditional", "condition": "out === 1", "then": task("c1")},
        {"id": "l", "type": "loop", "items": "out", "step": task("l1")},
        {"id": "m", "type": "team", "teamId": "eng", "task": "x"}
    ]));
    let validated = ok(&doc);
    let types: Vec<&str> = validated
        .document
        .steps
        .iter()
        .map(|s| s.kind.type_name())
        .collect();
    assert_eq!(types, STEP_TYPES);
}

// --- Rule 3: ids -----------------------------------------------------------------------

#[test]
fn id_pattern() {
    let long_ok = "a".repeat(128);
    let doc = wf(json!([
        task("a"),
        task("A.b_c-9"),
        task("9lives"),
        task(&long_ok)
    ]));
    assert!(parse_document(&doc).is_ok());
    for bad in [
        "has space",
        "-dash-first",
        "_under",
        "",
        "é",
        &"a".repeat(129),
    ] {
        let error = one_error(&wf(json!([task(bad)])));
        assert_eq!(error.path, "steps[0].id", "{bad}");
        assert!(
            error.message.contains("letters, digits, `_`, `.` or `-`"),
            "{error}"
        );
    }
    let error = one_error(&wf(json!([{"id": 7, "agent": "a", "task": "t"}])));
    assert_eq!(
        error.to_string(),
        "steps[0].id: `id` must be a string, found number"
    );
}

#[test]
fn generated_ids_count_in_document_order_and_skip_taken_ones() {
    let doc = wf(json!([
        {"agent": "a", "task": "t"},
        task("step-1"),
        {"type": "parallel", "steps": [{"agent": "a", "task": "t"}, task("step-4")]},
        {"agent": "a", "task": "t", "input": "step-5"}
    ]));
    let validated = ok(&doc);
    let mut ids = Vec::new();
    validated.document.walk(&mut |path, step: &Step| {
        ids.push(format!("{path}={}", step.id));
    });
    assert_eq!(
        ids,
        [
            "steps[0]=step-2",
            "steps[1]=step-1",
            "steps[2]=step-3",
            "steps[2].steps[0]=step-5",
            "steps[2].steps[1]=step-4",
            "steps[3]=step-6",
        ]
    );
}

#[test]
fn duplicate_ids_anywhere_in_the_tree() {
    let doc = wf(json!([
        task("x"),
        {"id": "p", "type": "parallel", "steps": [task("x")]},
        {"id": "c", "type": "conditional", "condition": "true", "then": [task("x")],
         "else": task("x")},
        {"id": "l", "type": "loop", "items": "x", "step": task("x")},
        {"id": "f", "agent": "a", "task": "t",
         "errorHandling": {"strategy": "fallback", "fallback": task("x")}},
        task("p")
    ]));
    let errors = expect_errors(&doc);
    assert_eq!(
        paths(&errors),
        [
            "steps[1].steps[0].id",
            "steps[2].then[0].id",
            "steps[2].else.id",
            "steps[3].step.id",
            "steps[4].errorHandling.fallback.id",
            "steps[5].id",
        ]
    );
    assert!(
        errors[0].message.starts_with("duplicate step id `x`"),
        "{}",
        errors[0]
    );
    assert!(errors[0].message.contains("`steps[0]`"), "{}", errors[0]);
    assert!(errors[5].message.contains("`steps[1]`"), "{}", errors[5]);
}

// --- Depth ------------------------------------------------------------------------------

#[test]
fn sixty_four_levels_are_allowed() {
    let doc = nested_parallels(MAX_STEP_DEPTH - 1);
    let validated = ok(&doc);
    let mut depth = 0;
    validated.document.walk(&mut |_, _| depth += 1);
    assert_eq!(depth, MAX_STEP_DEPTH);
    dismantle(doc);
}

#[test]
fn sixty_five_levels_are_an_error() {
    let doc = nested_parallels(MAX_STEP_DEPTH);
    let error = one_error(&doc);
    let expected_path = format!("steps[0]{}", ".steps[0]".repeat(MAX_STEP_DEPTH));
    assert_eq!(error.path, expected_path);
    assert!(error.message.contains("more than 64 levels"), "{error}");
    dismantle(doc);
}

#[test]
fn ten_thousand_levels_do_not_overflow_the_stack() {
    let doc = nested_parallels(10_000);
    let errors = expect_errors(&doc);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].message.contains("nested more than 64 levels"));
    dismantle(doc);

    // Deep fallbacks and deep values in fields are no problem either.
    let mut fallback = task("f");
    for level in 0..10_000 {
        fallback = object(vec![
            ("id", json!(format!("f{level}"))),
            ("agent", json!("a")),
            ("task", json!("t")),
            ("errorHandling", object(vec![("fallback", fallback)])),
        ]);
    }
    let deep_array = || {
        let mut junk = json!(1);
        for _ in 0..10_000 {
            junk = Value::Array(vec![junk]);
        }
        junk
    };
    let other = object(vec![
        ("agent", deep_array()),
        ("task", json!("t")),
        ("extra", deep_array()),
    ]);
    let doc = wf(Value::Array(vec![fallback, other]));
    let errors = expect_errors(&doc);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors[0].message.contains("nested more than 64 levels"));
    assert_eq!(errors[1].path, "steps[1].agent");
    dismantle(doc);
}

#[test]
fn deep_text_is_a_diagnostic() {
    let depth = 10_000;
    let mut text = String::from(r#"{"name": "n", "steps": ["#);
    for _ in 0..depth {
        text.push_str(r#"{"type": "parallel", "steps": ["#);
    }
    text.push_str(r#"{"agent": "a", "task": "t"}"#);
    for _ in 0..depth {
        text.push_str("]}");
    }
    text.push_str("]}");
    let errors = parse_document_str(&text).expect_err("too deep");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].path.starts_with("line 1, column "),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].message.contains("nested too deeply"),
        "{}",
        errors[0]
    );
}
