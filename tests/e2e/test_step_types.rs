use crate::common::{TestEnv, find_step};
use serde_json::{Value, json};

/// The API document's conditional step, verbatim, after a `testing` step whose result comes
/// from the execution input.
fn conditional_workflow(env: &TestEnv) -> String {
    env.run(&["agent", "add", "quinn", "--shell", r#"printf '{"passed":%s}\n' "$(printf '%s' "$DO_EXECUTION_INPUT" | sed 's/.*"passed":\([a-z]*\).*/\1/')""#]).ok();
    env.run(&[
        "agent",
        "add",
        "dev",
        "--shell",
        r#"echo "deployed: $DO_TASK""#,
    ])
    .ok();
    env.run(&[
        "agent",
        "add",
        "tom",
        "--shell",
        r#"echo "fixing: $DO_TASK""#,
    ])
    .ok();
    env.create(&json!({"name": "conditional", "steps": [
        {"id": "testing", "type": "task", "agent": "quinn", "task": "Run tests", "output": "test-results"},
        {
            "id": "conditional",
            "type": "conditional",
            "condition": "test-results.passed === true",
            "then": {"id": "deploy", "agent": "dev", "task": "Deploy to production"},
            "else": {"id": "fix", "agent": "tom", "task": "Fix failing tests"}
        }
    ]}))
}

#[test]
fn the_api_documents_conditional_takes_the_branch_its_condition_picks() {
    let env = TestEnv::new();
    let workflow = conditional_workflow(&env);
    for (passed, ran, skipped, output) in [
        ("true", "deploy", "fix", "deployed: Deploy to production"),
        ("false", "fix", "deploy", "fixing: Fix failing tests"),
    ] {
        let input = format!(r#"{{"passed":{passed}}}"#);
        let (run, status) = env.execute_wait(&workflow, &["--input", &input]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(
            find_step(&status["steps"], "testing").expect("t")["output"]["test-results"]["passed"],
            passed == "true"
        );
        let taken = find_step(&status["steps"], ran).expect("taken");
        assert_eq!(taken["status"], "completed", "{status}");
        assert_eq!(taken["output"][ran], output);
        assert_eq!(
            find_step(&status["steps"], skipped).expect("skipped")["status"],
            "skipped"
        );
        let conditional = find_step(&status["steps"], "conditional").expect("conditional");
        assert_eq!(conditional["status"], "completed");
        assert_eq!(conditional["type"], "conditional");
        assert_eq!(
            status["progress"],
            json!({"completed": 2, "total": 2, "percentage": 100})
        );
    }
}

#[test]
fn a_loop_runs_its_items_at_most_max_concurrency_at_a_time_in_item_order() {
    let env = TestEnv::new();
    env.run(&[
        "agent",
        "add",
        "source",
        "--shell",
        r#"echo '["a","b","c","d","e"]'"#,
    ])
    .ok();
    let worker = env.script(
        "worker.sh",
        r#"echo "start $DO_INDEX" >> "$DO_WORKSPACE/ledger"
sleep 0.3
echo "end $DO_INDEX" >> "$DO_WORKSPACE/ledger"
printf '{"item":%s,"index":%s,"task":"%s"}\n' "$DO_ITEM" "$DO_INDEX" "$DO_TASK""#,
    );
    env.run(&["agent", "add", "amy", "--", worker.to_str().expect("utf-8")])
        .ok();
    let workflow = env.create(&json!({"name": "loop", "steps": [
        {"id": "load", "agent": "source", "task": "t", "output": "data-array"},
        {"id": "process-items", "type": "loop", "items": "data-array", "maxConcurrency": 2, "output": "processed",
         "step": {"id": "process", "agent": "amy", "task": "Process {{ item }} ({{ index }})"}},
        {"id": "report", "type": "task", "agent": "source", "task": "{{ len(processed) }} done", "input": "processed"}
    ]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lp = find_step(&status["steps"], "process-items").expect("loop");
    let results = lp["output"]["processed"].as_array().expect("array");
    assert_eq!(results.len(), 5);
    for (i, (result, item)) in results.iter().zip(["a", "b", "c", "d", "e"]).enumerate() {
        assert_eq!(result["item"], item, "{result}");
        assert_eq!(result["index"], i);
        assert_eq!(result["task"], format!("Process {item} ({i})"));
        let iteration = &lp["steps"][i];
        assert_eq!(iteration["id"], format!("process[{i}]"));
        assert_eq!(iteration["status"], "completed");
    }
    let ledger = std::fs::read_to_string(env.path(&format!(
        "data/workspaces/{}/ledger",
        status["executionId"].as_str().expect("id")
    )))
    .expect("ledger");
    let (mut running, mut most) = (0, 0);
    for line in ledger.lines() {
        running += if line.starts_with("start") { 1 } else { -1 };
        most = most.max(running);
    }
    assert_eq!(
        most, 2,
        "at most two at once, and two did overlap:\n{ledger}"
    );
}

#[test]
fn a_loop_over_something_not_an_array_fails_with_a_clear_message() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "source", "--shell", "echo '{\"a\":1}'"])
        .ok();
    let workflow = env.create(&json!({"name": "loop", "steps": [
        {"id": "load", "agent": "source", "task": "t", "output": "rows"},
        {"id": "each", "type": "loop", "items": "rows", "step": {"id": "one", "agent": "source", "task": "t"}}
    ]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 1);
    let each = find_step(&status["steps"], "each").expect("each");
    assert_eq!(each["status"], "failed");
    assert!(
        each["error"]
            .as_str()
            .expect("error")
            .contains("must be an array, found an object"),
        "{each}"
    );
}

#[test]
fn a_round_robin_team_gives_each_of_three_members_two_of_six_steps() {
    let env = TestEnv::new();
    for member in ["ann", "bob", "cy"] {
        env.run(&["agent", "add", member, "--shell", r#"echo "$DO_AGENT""#])
            .ok();
    }
    env.run(&[
        "team",
        "create",
        "engineering",
        "--members",
        "ann,bob,cy",
        "--strategy",
        "round-robin",
    ])
    .ok();
    let shown = env.json(&["team", "show", "engineering"]);
    assert_eq!(shown["members"], json!(["ann", "bob", "cy"]));
    assert_eq!(shown["strategy"], "round-robin");
    let steps: Vec<Value> = (0..6)
        .map(|i| json!({"id": format!("job-{i}"), "type": "team", "teamId": "engineering", "task": "Build feature"}))
        .collect();
    let workflow = env.create(&json!({"name": "team", "steps": steps}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut counts = std::collections::BTreeMap::new();
    for i in 0..6 {
        let step = find_step(&status["steps"], &format!("job-{i}")).expect("job");
        assert_eq!(step["type"], "team");
        let agent = step["agent"]
            .as_str()
            .expect("the member that ran it")
            .to_owned();
        assert_eq!(step["output"][format!("job-{i}")], agent.as_str());
        *counts.entry(agent).or_insert(0) += 1;
    }
    assert_eq!(
        counts.into_iter().collect::<Vec<_>>(),
        [
            ("ann".to_owned(), 2),
            ("bob".to_owned(), 2),
            ("cy".to_owned(), 2)
        ]
    );

    let bad = env.run(&["team", "create", "ops", "--members", "ann,zed"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("zed"), "{}", bad.stderr);
    env.run(&["team", "remove", "engineering"]).ok();
    assert_eq!(env.run(&["team", "show", "engineering"]).code, 4);
    let refused = env.run(&["workflow", "execute", &workflow]);
    assert_eq!(
        refused.code, 2,
        "a workflow whose team is gone cannot start: {}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("team `engineering` is not defined"),
        "{}",
        refused.stderr
    );
}

/// Parses the subset of Mermaid flowchart syntax `--graph mermaid` writes, strictly: a header,
/// node definitions with balanced, quoted labels, and edges between defined nodes.
fn parse_mermaid(text: &str) -> Result<(usize, usize), String> {
    let mut lines = text.lines();
    if lines.next() != Some("flowchart TD") {
        return Err("first line must be `flowchart TD`".into());
    }
    let mut nodes = std::collections::BTreeSet::new();
    let mut edges = Vec::new();
    for line in lines {
        let line = line.trim();
        if let Some((from, rest)) = line.split_once(" -->") {
            let to = match rest.strip_prefix('|') {
                Some(labelled) => {
                    labelled
                        .split_once("| ")
                        .ok_or(format!("bad edge label: {line}"))?
                        .1
                }
                None => rest.trim_start(),
            };
            edges.push((from.to_owned(), to.to_owned()));
            continue;
        }
        let id_end = line
            .find(|c: char| !c.is_ascii_alphanumeric())
            .ok_or(format!("no shape: {line}"))?;
        let (id, shape) = line.split_at(id_end);
        let ok = [
            ("[\"", "\"]"),
            ("([\"", "\"])"),
            ("{\"", "\"}"),
            ("[[\"", "\"]]"),
        ]
        .iter()
        .any(|(open, close)| {
            shape.starts_with(open)
                && shape.ends_with(close)
                && !shape[open.len()..shape.len() - close.len()].contains('"')
        });
        if !ok {
            return Err(format!("bad node: {line}"));
        }
        nodes.insert(id.to_owned());
    }
    for (from, to) in &edges {
        if !nodes.contains(from) || !nodes.contains(to) {
            return Err(format!("edge between undefined nodes: {from} --> {to}"));
        }
    }
    Ok((nodes.len(), edges.len()))
}

#[test]
fn workflows_draw_as_tree_mermaid_and_dot() {
    let env = TestEnv::new();
    let example = crate::common::repo_root().join("examples/saas-launch.json");
    let workflow =
        env.json(&["workflow", "create", example.to_str().expect("utf-8")])["workflowId"]
            .as_str()
            .expect("id")
            .to_owned();
    let mermaid = env
        .run(&["workflow", "show", &workflow, "--graph", "mermaid"])
        .ok()
        .to_owned();
    let (nodes, edges) = parse_mermaid(&mermaid).unwrap_or_else(|e| panic!("{e}\n{mermaid}"));
    // start, 6 steps (incl. the parallel), 2 parallel children, end.
    assert_eq!(nodes, 9, "{mermaid}");
    // start→research→strategy→parallel, parallel→backend, parallel→frontend, both→testing, testing→deploy→end
    assert_eq!(edges, 9, "{mermaid}");
    assert!(mermaid.contains("backend-dev<br/>agent: tom"), "{mermaid}");

    let dot = env
        .run(&["workflow", "show", &workflow, "--graph", "dot"])
        .ok()
        .to_owned();
    assert!(
        dot.starts_with("digraph workflow {") && dot.trim_end().ends_with('}'),
        "{dot}"
    );
    assert_eq!(dot.matches(" -> ").count(), 9, "{dot}");

    let tree = env
        .run(&["workflow", "show", &workflow, "--graph", "tree"])
        .ok()
        .to_owned();
    assert!(
        tree.contains("├── parallel-development (parallel)"),
        "{tree}"
    );
    assert!(
        tree.contains("│   ├── backend-dev (task · agent tom)"),
        "{tree}"
    );

    let conditional = conditional_workflow(&env);
    let mermaid = env
        .run(&["workflow", "show", &conditional, "--graph", "mermaid"])
        .ok()
        .to_owned();
    parse_mermaid(&mermaid).unwrap_or_else(|e| panic!("{e}\n{mermaid}"));
    assert!(
        mermaid.contains("-->|then|") && mermaid.contains("-->|else|"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("test-results.passed === true"),
        "{mermaid}"
    );
}

/// A conditional, a loop and a parallel nested in a parallel, and a loop of conditionals:
/// each goes on once it is running, whether the daemon runs one step at a time or many.
#[test]
fn steps_nested_in_parallels_and_loops_run_to_the_end_at_any_limit() {
    for max_parallel in [1, 8] {
        let env = TestEnv::new();
        env.write_config(&format!("[daemon]\nmax_parallel = {max_parallel}\n"));
        env.run(&["agent", "add", "e", "--", "/bin/echo", "done"])
            .ok();
        let task = |id: &str| json!({"id": id, "agent": "e", "task": "t"});
        // The timeout turns a step that never starts into a failed execution, not a hung test.
        let workflow = env.create(&json!({"name": "nested", "timeout": 60, "steps": [
            {"id": "outer", "type": "parallel", "steps": [
                {"id": "inner", "type": "parallel", "steps": [task("x"), task("y")]},
                {"id": "cond", "type": "conditional", "condition": "true", "then": [task("a"), task("b")]},
                {"id": "each", "type": "loop", "items": "[1, 2]", "step": task("it")},
                task("z")
            ]},
            {"id": "checks", "type": "loop", "items": "[1, 2, 3]", "maxConcurrency": 2,
             "step": {"id": "check", "type": "conditional", "condition": "item > 1",
                      "then": [task("p"), task("q")]}}
        ]}));
        let (run, status) = env.execute_wait(&workflow, &[]);
        assert_eq!(
            status["status"], "completed",
            "max_parallel {max_parallel}: {}",
            run.stderr
        );
        assert_eq!(
            status["progress"]["completed"], status["progress"]["total"],
            "max_parallel {max_parallel}: {status}"
        );
    }
}
