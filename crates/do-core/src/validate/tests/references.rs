use super::*;

// --- Rule 8: references ------------------------------------------------------------------

#[test]
fn execution_input_references() {
    let doc = wf(json!([task_io(
        "a",
        json!(["input.productName", "input.x.y"]),
        "o"
    )]));
    assert!(parse_document(&doc).is_ok());
    let error = one_error(&wf(json!([task_io("a", json!("input."), "o")])));
    assert_eq!(error.path, "steps[0].input");
    assert!(
        error.message.contains("must be followed by a key"),
        "{error}"
    );
    let error = one_error(&wf(json!([task_io("a", json!(["input.k", ""]), "o")])));
    assert_eq!(error.path, "steps[0].input[1]");
}

#[test]
fn earlier_outputs_and_ids_are_visible() {
    let doc = wf(json!([
        task_io("a", json!([]), "out-a"),
        task_io("b", json!(["out-a", "a"]), "out-b"),
    ]));
    assert!(parse_document(&doc).is_ok());
}

#[test]
fn a_reference_to_a_later_step() {
    let doc = wf(json!([
        task_io("a", json!("out-b"), "out-a"),
        task_io("b", json!([]), "out-b"),
    ]));
    let error = one_error(&doc);
    assert_eq!(error.path, "steps[0].input");
    assert_eq!(
        error.message,
        "`out-b` is produced later by step `b`; a step can only use what steps before it \
         produced"
    );
}

#[test]
fn a_step_cannot_use_its_own_output() {
    let error = one_error(&wf(json!([task_io("a", json!("out"), "out")])));
    assert!(error.message.contains("this step itself"), "{error}");
}

#[test]
fn sibling_of_a_parallel_step() {
    let mut doc = saas();
    doc["steps"][2]["steps"][1]["input"] = json!("backend-code");
    let error = one_error(&doc);
    assert_eq!(error.path, "steps[2].steps[1].input");
    assert_eq!(
        error.message,
        "`backend-code` is produced by sibling `backend-dev` of the same parallel step; \
         siblings run at the same time, so move the consumer after `parallel-development`"
    );
    // The same when the producer is the earlier sibling's descendant, or a later sibling.
    let doc = wf(json!([{"id": "p", "type": "parallel", "steps": [
        task_io("a", json!("late"), "x"),
        {"id": "q", "type": "parallel", "steps": [task_io("b", json!([]), "late")]}
    ]}]));
    let error = one_error(&doc);
    assert_eq!(error.path, "steps[0].steps[0].input");
    assert!(
        error
            .message
            .starts_with("`late` is produced by `b` inside sibling `q`"),
        "{error}"
    );
}

#[test]
fn a_finished_parallel_step_exposes_all_its_descendants() {
    let doc = wf(json!([
        {"id": "p", "type": "parallel", "steps": [
            task_io("a", json!([]), "out-a"),
            {"id": "q", "type": "parallel", "steps": [task_io("b", json!([]), "out-b")]},
            {"id": "l", "type": "loop", "items": "input.xs", "output": "results",
             "step": task_io("each", json!("item"), "per-item")}
        ]},
        task_io("after", json!(["p", "q", "a", "out-a", "b", "out-b", "l", "results"]), "o")
    ]));
    assert!(
        parse_document(&doc).is_ok(),
        "{:#?}",
        parse_document(&doc).err()
    );
}

#[test]
fn conditional_scoping() {
    let doc = wf(json!([
        task_io("tests", json!([]), "test-results"),
        {"id": "check", "type": "conditional", "condition": "test-results.passed === true",
         "then": [task_io("deploy", json!("test-results"), "url"),
                  task_io("announce", json!("url"), "note")],
         "else": task_io("fix", json!("test-results"), "patch")},
        task_io("report", json!(["check", "url", "note", "patch", "deploy", "fix"]), "r")
    ]));
    assert!(
        parse_document(&doc).is_ok(),
        "{:#?}",
        parse_document(&doc).err()
    );

    let doc = wf(json!([
        {"id": "check", "type": "conditional", "condition": "true",
         "then": task_io("deploy", json!([]), "url"),
         "else": task_io("fix", json!("url"), "patch")}
    ]));
    let error = one_error(&doc);
    assert_eq!(error.path, "steps[0].else.input");
    assert_eq!(
        error.message,
        "`url` is produced by `deploy` in the other branch of conditional `check`; only one \
         branch runs"
    );

    // Inside a branch, the conditional itself has not finished.
    let doc = wf(json!([
        {"id": "check", "type": "conditional", "condition": "true",
         "then": task_io("deploy", json!("check"), "url")}
    ]));
    let error = one_error(&doc);
    assert_eq!(error.path, "steps[0].then.input");
    assert!(error.message.contains("contains this step"), "{error}");
}

#[test]
fn loop_scoping() {
    let doc = wf(json!([
        task_io("fetch", json!([]), "rows"),
        {"id": "each", "type": "loop", "items": "rows", "output": "results",
         "step": {"id": "body", "type": "parallel", "steps": [
             task_io("one", json!(["item", "index", "item.name", "rows"]), "per-item")
         ]}},
        task_io("after", json!(["each", "results"]), "o")
    ]));
    assert!(
        parse_document(&doc).is_ok(),
        "{:#?}",
        parse_document(&doc).err()
    );

    let doc = wf(json!([
        {"id": "each", "type": "loop", "items": "input.xs",
         "step": task_io("one", json!("item"), "per-item")},
        task_io("after", json!("per-item"), "o")
    ]));
    let error = one_error(&doc);
    assert_eq!(error.path, "steps[1].input");
    assert_eq!(
        error.message,
        "`per-item` is produced by `one` inside loop `each`, and a loop's body is not \
         visible outside the loop; give the loop an `output` and use that"
    );

    let error = one_error(&wf(json!([task_io("a", json!("item"), "o")])));
    assert!(
        error
            .message
            .contains("only available inside the `step` of a loop")
    );

    // The body cannot use the loop's own output: the loop finishes after it.
    let doc = wf(json!([
        {"id": "each", "type": "loop", "items": "input.xs", "output": "results",
         "step": task_io("one", json!("results"), "per-item")}
    ]));
    assert!(one_error(&doc).message.contains("finishes only after it"));
}

#[test]
fn loop_items_references() {
    let good = [
        "input.xs",
        "rows",
        "fetch",
        "rows.data",
        "len(rows) > 0",
        "[1, 2]",
    ];
    for items in good {
        let doc = wf(json!([
            task_io("fetch", json!([]), "rows"),
            {"type": "loop", "items": items, "step": task("one")}
        ]));
        assert!(
            parse_document(&doc).is_ok(),
            "{items}: {:#?}",
            parse_document(&doc).err()
        );
    }
    let doc = wf(json!([
        task_io("fetch", json!([]), "rows"),
        {"type": "loop", "items": "row", "step": task("one")}
    ]));
    let error = one_error(&doc);
    assert_eq!(error.path, "steps[1].items");
    assert_eq!(
        error.message,
        "`row` is not produced by any earlier step (did you mean `rows`?)"
    );
    // The loop's own body is not available to its `items`.
    let doc = wf(json!([
        {"type": "loop", "items": "inner", "step": task_io("one", json!([]), "inner")}
    ]));
    assert_eq!(one_error(&doc).path, "steps[0].items");
}

#[test]
fn unknown_reference_with_and_without_suggestion() {
    let mut doc = saas();
    doc["steps"][2]["steps"][0]["input"] = json!("strategy-docs");
    let error = one_error(&doc);
    assert_eq!(error.path, "steps[2].steps[0].input");
    assert_eq!(
        error.message,
        "`strategy-docs` is not produced by any earlier step (did you mean `strategy-doc`?)"
    );
    let mut doc = saas();
    doc["steps"][3]["input"] = json!(["backend-code", "Frontend-Code"]);
    let error = one_error(&doc);
    assert_eq!(error.path, "steps[3].input[1]");
    assert!(
        error.message.ends_with("(did you mean `frontend-code`?)"),
        "{error}"
    );
    let mut doc = saas();
    doc["steps"][1]["input"] = json!("competitors");
    assert_eq!(
        one_error(&doc).message,
        "`competitors` is not produced by any earlier step"
    );
}

#[test]
fn fallback_scoping() {
    let doc = json!({"name": "n", "steps": [
        task_io("a", json!([]), "out-a"),
        {"id": "b", "agent": "x", "task": "t", "input": "out-a", "output": "out-b",
         "errorHandling": {"strategy": "fallback",
                           "fallback": task_io("b-fallback", json!("out-a"), "out-bf")}},
        task_io("c", json!(["out-b", "out-bf"]), "out-c")
    ], "errorHandling": {"fallback": task_io("wf-fallback", json!(["out-c", "input.k"]), "z")}});
    assert!(
        parse_document(&doc).is_ok(),
        "{:#?}",
        parse_document(&doc).err()
    );

    let doc = wf(json!([
        {"id": "b", "agent": "x", "task": "t", "output": "out-b",
         "errorHandling": {"fallback": task_io("f", json!("out-b"), "o")}}
    ]));
    let error = one_error(&doc);
    assert_eq!(error.path, "steps[0].errorHandling.fallback.input");
    assert!(error.message.contains("contains this step"), "{error}");
}

#[test]
fn a_generated_id_can_be_referenced() {
    let doc = wf(json!([
        {"agent": "a", "task": "t"},
        task_io("b", json!("step-1"), "o")
    ]));
    assert!(parse_document(&doc).is_ok());
}

#[test]
fn conditions_items_and_templates_are_parsed_and_their_names_checked() {
    let doc = wf(json!([
        {"id": "a", "agent": "x", "task": "t", "output": "test-results"},
        {"type": "conditional", "condition": "test-results.passed === true && len(input.k) > 0", "then": task("b")},
        {"type": "conditional", "condition": "nothing.here ===", "then": task("c")},
        {"type": "conditional", "condition": "tests-results.passed", "then": task("d")},
        {"id": "e", "agent": "x", "task": "Deploy {{ test-results.url }} for {{ input.who }}"},
        {"id": "f", "agent": "x", "task": "Use {{ missing }}"},
        {"id": "g", "agent": "x", "task": "Broken {{ a + }}"},
        {"id": "l", "type": "loop", "items": "[1, 2, len(test-results)]", "step": {"id": "s", "agent": "x", "task": "{{ item }} #{{ index }}"}},
        {"id": "m", "agent": "x", "task": "{{ item }}"}
    ]));
    let errors = expect_errors(&doc);
    let paths: Vec<&str> = errors.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "steps[2].condition",
            "steps[3].condition",
            "steps[5].task",
            "steps[6].task",
            "steps[8].task"
        ],
        "{errors:#?}"
    );
    assert!(
        errors[0].message.contains("column"),
        "{}",
        errors[0].message
    );
    assert!(
        errors[1].message.contains("did you mean `test-results`"),
        "{}",
        errors[1].message
    );
    assert!(
        errors[2].message.contains("`missing`"),
        "{}",
        errors[2].message
    );
    assert!(
        errors[3].message.contains("column 15"),
        "{}",
        errors[3].message
    );
    assert!(errors[4].message.contains("loop"), "{}", errors[4].message);
}
