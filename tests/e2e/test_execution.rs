use crate::common::{TestEnv, all_steps, find_step, repo_root};
use serde_json::{Value, json};

/// Registers stand-ins for the agents of the API document's SaaS example. `tom` and `rae`
/// each wait for the other to have started, so the run only succeeds if they overlap.
fn register_saas_agents(env: &TestEnv) {
    env.run(&[
        "agent",
        "add",
        "mira",
        "--shell",
        r#"echo "research on: $DO_TASK""#,
    ])
    .ok();
    env.run(&[
        "agent",
        "add",
        "priya",
        "--shell",
        r#"printf 'strategy from %s\n' "$DO_INPUT""#,
    ])
    .ok();
    let rendezvous = env.script(
        "rendezvous.sh",
        r#"set -eu
touch "$DO_WORKSPACE/$1.started"
i=0
while [ ! -e "$DO_WORKSPACE/$2.started" ]; do
    i=$((i + 1))
    if [ "$i" -gt 2000 ]; then echo "$2 never started while $1 ran" >&2; exit 1; fi
    sleep 0.01
done
printf '{"kind":"%s","inputs":%s}\n' "$1" "$DO_INPUT""#,
    );
    let rendezvous = rendezvous.to_str().expect("utf-8");
    env.run(&[
        "agent", "add", "tom", "--", rendezvous, "backend", "frontend",
    ])
    .ok();
    env.run(&[
        "agent", "add", "rae", "--", rendezvous, "frontend", "backend",
    ])
    .ok();
    let echo_inputs = env.script(
        "echo-inputs.sh",
        r#"printf '{"passed":true,"received":%s}\n' "$DO_INPUT""#,
    );
    env.run(&[
        "agent",
        "add",
        "quinn",
        "--",
        echo_inputs.to_str().expect("utf-8"),
    ])
    .ok();
    env.run(&[
        "agent",
        "add",
        "dev",
        "--shell",
        r#"echo "https://deploy.example/$DO_EXECUTION_ID""#,
    ])
    .ok();
}

#[test]
fn the_api_documents_saas_workflow_runs_end_to_end() {
    let env = TestEnv::new();
    register_saas_agents(&env);
    let example = repo_root().join("examples/saas-launch.json");
    let created = env.json(&["workflow", "create", example.to_str().expect("utf-8")]);
    let workflow = created["workflowId"].as_str().expect("workflowId");
    assert!(workflow.starts_with("wf_"), "{workflow}");
    assert_eq!(created["status"], "draft");
    assert!(
        created.get("warnings").is_none(),
        "all agents are registered: {created}"
    );

    let (run, status) = env.execute_wait(
        workflow,
        &[
            "--input",
            r#"{"productName":"CloudSync Pro","targetMarket":"SMB"}"#,
            "--priority",
            "high",
        ],
    );
    assert_eq!(run.code, 0, "stderr:\n{}", run.stderr);
    assert_eq!(status["status"], "completed");
    assert_eq!(status["priority"], "high");
    assert_eq!(
        status["progress"],
        json!({"completed": 5, "total": 5, "percentage": 100})
    );
    for step in all_steps(&status["steps"]) {
        assert_eq!(step["status"], "completed", "{step}");
        assert!(
            step["startedAt"].is_string() && step["completedAt"].is_string(),
            "{step}"
        );
    }

    // `testing` received both codes as inputs, as its agent echoes.
    let testing = find_step(&status["steps"], "testing").expect("testing");
    let received = &testing["output"]["test-results"]["received"];
    assert_eq!(received["backend-code"]["kind"], "backend", "{testing}");
    assert_eq!(received["frontend-code"]["kind"], "frontend", "{testing}");
    let research = find_step(&status["steps"], "market-research").expect("research");
    assert_eq!(
        research["output"]["research-data"],
        "research on: Conduct market research for SaaS product"
    );
    assert_eq!(research["agent"], "mira");

    // backend-dev and frontend-dev overlapped in time.
    let backend = find_step(&status["steps"], "backend-dev").expect("backend");
    let frontend = find_step(&status["steps"], "frontend-dev").expect("frontend");
    let at = |step: &Value, field: &str| step[field].as_str().expect("time").to_owned();
    assert!(
        at(backend, "startedAt") <= at(frontend, "completedAt"),
        "{backend}\n{frontend}"
    );
    assert!(
        at(frontend, "startedAt") <= at(backend, "completedAt"),
        "{backend}\n{frontend}"
    );
    let parallel = find_step(&status["steps"], "parallel-development").expect("parallel");
    assert_eq!(parallel["type"], "parallel");
    assert_eq!(parallel["steps"].as_array().map(Vec::len), Some(2));

    // The same document through the other commands.
    let execution = status["executionId"].as_str().expect("executionId");
    let again = env.json(&["workflow", "execution", execution]);
    assert_eq!(again["steps"], status["steps"]);
    let table = env.run(&["workflow", "execution", execution]);
    for word in [
        "market-research",
        "backend-dev",
        "completed",
        "mira",
        "research on:",
    ] {
        assert!(
            table.ok().contains(word),
            "{word} missing from:\n{}",
            table.stdout
        );
    }
    let executions = env.json(&["workflow", "executions"]);
    assert_eq!(executions[0]["executionId"], execution);
    assert!(executions[0].get("steps").is_none());
    let workflows = env.json(&["workflow", "list"]);
    assert_eq!(workflows[0]["workflowId"], workflow);
    assert_eq!(
        workflows[0]["status"], "active",
        "executing a draft makes it active"
    );
    let listed = env.run(&["workflow", "list"]);
    assert!(
        listed.ok().contains("SaaS Product Launch Workflow"),
        "{}",
        listed.stdout
    );
}

#[test]
fn a_failing_agent_fails_the_execution_and_later_steps_never_start() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "ok", "--shell", "echo fine"])
        .ok();
    let failing = env.script(
        "fail.sh",
        "echo 'compiling…' >&2\necho 'boom: disk on fire' >&2\nexit 3",
    );
    env.run(&[
        "agent",
        "add",
        "broken",
        "--",
        failing.to_str().expect("utf-8"),
    ])
    .ok();
    let workflow = env.create(&json!({"name": "fails", "steps": [
        {"id": "first", "agent": "ok", "task": "t"},
        {"id": "explode", "agent": "broken", "task": "t"},
        {"id": "never", "agent": "ok", "task": "t"},
    ]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(status["status"], "failed");
    let explode = find_step(&status["steps"], "explode").expect("explode");
    assert_eq!(explode["status"], "failed");
    let error = explode["error"].as_str().expect("error");
    assert!(error.contains("exited with status 3"), "{error}");
    assert!(error.contains("boom: disk on fire"), "{error}");
    let never = find_step(&status["steps"], "never").expect("never");
    assert_eq!(never["status"], "pending");
    assert!(never.get("startedAt").is_none(), "{never}");
    assert_eq!(
        status["progress"],
        json!({"completed": 1, "total": 3, "percentage": 33})
    );
    assert!(
        status["error"].as_str().expect("error").contains("explode"),
        "{status}"
    );

    // People see the error too.
    let table = env.run(&[
        "workflow",
        "execution",
        status["executionId"].as_str().expect("id"),
    ]);
    assert!(
        table.ok().contains("boom: disk on fire"),
        "{}",
        table.stdout
    );
}

#[test]
fn a_failing_parallel_child_ends_its_running_sibling() {
    let env = TestEnv::new();
    let slow = env.script("slow.sh", "sleep 60 &\nwait");
    env.run(&["agent", "add", "slow", "--", slow.to_str().expect("utf-8")])
        .ok();
    env.run(&["agent", "add", "broken", "--shell", "echo nope >&2; exit 2"])
        .ok();
    let workflow = env.create(&json!({"name": "par", "steps": [
        {"id": "both", "type": "parallel", "steps": [
            {"id": "long", "agent": "slow", "task": "t"},
            {"id": "short", "agent": "broken", "task": "t"},
        ]},
        {"id": "after", "agent": "broken", "task": "t"},
    ]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 1);
    assert_eq!(status["status"], "failed");
    assert_eq!(
        find_step(&status["steps"], "short").expect("short")["status"],
        "failed"
    );
    assert_eq!(
        find_step(&status["steps"], "long").expect("long")["status"],
        "cancelled"
    );
    assert_eq!(
        find_step(&status["steps"], "both").expect("both")["status"],
        "failed"
    );
    assert_eq!(
        find_step(&status["steps"], "after").expect("after")["status"],
        "pending"
    );
}

#[test]
fn task_text_and_inputs_reach_agents_verbatim_and_run_nothing() {
    let env = TestEnv::new();
    let hostile = r#"$(touch SOMEFILE) `touch OTHERFILE`; rm -rf "$HOME/keep" && echo pwned | sh"#;
    std::fs::create_dir_all(env.path("home/keep")).expect("keep");
    env.run(&[
        "agent",
        "add",
        "shell-echo",
        "--shell",
        r#"printf '%s' "$DO_TASK""#,
    ])
    .ok();
    let stdin_echo = env.script("stdin-echo.sh", "cat");
    env.run(&[
        "agent",
        "add",
        "argv-echo",
        "--",
        stdin_echo.to_str().expect("utf-8"),
    ])
    .ok();
    env.run(&[
        "agent",
        "add",
        "inputs",
        "--shell",
        r#"printf '%s' "$DO_INPUT""#,
    ])
    .ok();
    // Past one page, stdin is written while the agent reads it rather than before it starts.
    let long = format!("{hostile}\n").repeat(200);
    let workflow = env.create(&json!({"name": "hostile", "steps": [
        {"id": "via-shell", "agent": "shell-echo", "task": hostile, "output": "a"},
        {"id": "via-argv", "agent": "argv-echo", "task": hostile, "output": "b"},
        {"id": "via-input", "agent": "inputs", "task": "x", "input": ["input.evil"]},
        {"id": "long", "agent": "argv-echo", "task": long},
    ]}));
    let input = json!({"evil": hostile}).to_string();
    let (run, status) = env.execute_wait(&workflow, &["--input", &input]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        find_step(&status["steps"], "via-shell").expect("s")["output"]["a"],
        hostile
    );
    assert_eq!(
        find_step(&status["steps"], "via-argv").expect("a")["output"]["b"],
        hostile
    );
    assert_eq!(
        find_step(&status["steps"], "via-input").expect("i")["output"]["via-input"]["input.evil"],
        hostile
    );
    // The output keeps all but the final newline.
    assert_eq!(
        find_step(&status["steps"], "long").expect("long")["output"]["long"],
        long.trim_end_matches('\n')
    );
    let created: Vec<String> = walk(env.root.path())
        .into_iter()
        .filter(|p| p.ends_with("SOMEFILE") || p.ends_with("OTHERFILE"))
        .collect();
    assert!(
        created.is_empty(),
        "the task text was executed: {created:?}"
    );
    assert!(env.path("home/keep").is_dir());
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        }
        found.push(path.display().to_string());
    }
    found
}

#[test]
fn agents_get_the_documented_environment_and_workspace() {
    let env = TestEnv::new();
    env.run(&[
        "agent",
        "add",
        "env",
        "--shell",
        r#"printf '{"exec":"%s","step":"%s","attempt":"%s","task":"%s","pwd":"%s","ws":"%s","input":%s,"file":%s,"xin":%s,"xfile":%s}\n' "$DO_EXECUTION_ID" "$DO_STEP_ID" "$DO_ATTEMPT" "$DO_TASK" "$PWD" "$DO_WORKSPACE" "$DO_INPUT" "$(cat "$DO_INPUT_FILE")" "$DO_EXECUTION_INPUT" "$(cat "$DO_EXECUTION_INPUT_FILE")""#,
    ])
    .ok();
    env.run(&["agent", "add", "first", "--shell", "echo 41"])
        .ok();
    let workflow = env.create(&json!({"name": "env", "steps": [
        {"id": "one", "agent": "first", "task": "t", "output": "n"},
        {"id": "two", "agent": "env", "task": "hello", "input": ["n", "one", "input.k"]},
    ]}));
    let (run, status) = env.execute_wait(&workflow, &["--input", r#"{"k":[1,2]}"#]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &find_step(&status["steps"], "two").expect("two")["output"]["two"];
    assert_eq!(out["exec"], status["executionId"]);
    assert_eq!(out["step"], "two");
    assert_eq!(out["attempt"], "1");
    assert_eq!(out["task"], "hello");
    assert_eq!(out["input"], json!({"n": 41, "one": 41, "input.k": [1, 2]}));
    assert_eq!(out["file"], out["input"]);
    assert_eq!(out["xin"], json!({"k": [1, 2]}));
    assert_eq!(out["xfile"], out["xin"]);
    assert_eq!(
        out["pwd"], out["ws"],
        "agents run in the execution's workspace"
    );
    assert!(std::path::Path::new(out["ws"].as_str().expect("ws")).is_dir());
}

#[test]
fn an_execution_input_too_long_for_the_environment_comes_in_its_file_only() {
    let env = TestEnv::new();
    env.run(&[
        "agent",
        "add",
        "size",
        "--shell",
        r#"[ -n "${DO_EXECUTION_INPUT+x}" ] && set=true || set=false; printf '{"set":%s,"bytes":%s}\n' "$set" "$(wc -c < "$DO_EXECUTION_INPUT_FILE")""#,
    ])
    .ok();
    let workflow = env.create(&json!({"name": "big", "steps": [
        {"id": "a", "agent": "size", "task": "t"},
    ]}));
    // Far above the kernel's 128 KiB limit on one variable, which made every step fail.
    let input = json!({"items": (0..30_000).collect::<Vec<_>>()}).to_string();
    assert!(input.len() > 128 * 1024);
    let file = env.path("work").join("input.json");
    std::fs::write(&file, &input).expect("write the input");
    let (run, status) = env.execute_wait(&workflow, &["--input-file", &file.to_string_lossy()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &find_step(&status["steps"], "a").expect("a")["output"]["a"];
    assert_eq!(out["set"], false, "DO_EXECUTION_INPUT is left out: {out}");
    assert_eq!(out["bytes"], input.len());
}

#[test]
fn a_megabyte_task_and_loop_item_come_in_their_files_and_the_step_starts() {
    let env = TestEnv::new();
    env.run(&[
        "agent",
        "add",
        "size",
        "--shell",
        r#"cat > "$DO_WORKSPACE/stdin.$DO_STEP_ID"; cmp -s "$DO_WORKSPACE/stdin.$DO_STEP_ID" "$DO_TASK_FILE" && same=true || same=false; [ -n "${DO_TASK+x}" ] && t=true || t=false; [ -n "${DO_ITEM+x}" ] && i=true || i=false; [ -n "${DO_ITEM_FILE+x}" ] && n=$(wc -c < "$DO_ITEM_FILE") || n=0; printf '{"task_env":%s,"task_file":%s,"stdin_is_task_file":%s,"item_env":%s,"item_file":%s}\n' $t "$(wc -c < "$DO_TASK_FILE")" $same $i $n"#,
    ])
    .ok();
    // Each far above the kernel's 128 KiB limit on one variable, which made the exec fail.
    let task = "t".repeat(1_000_000);
    let item = "i".repeat(1_000_000);
    let workflow = env.create(&json!({"name": "big", "steps": [
        {"id": "long-task", "agent": "size", "task": task},
        {"id": "each", "type": "loop", "items": "input.items", "output": "sizes",
         "step": {"id": "one", "agent": "size", "task": "short"}},
    ]}));
    let file = env.path("work").join("input.json");
    std::fs::write(&file, json!({"items": [item, "small"]}).to_string()).expect("the input");
    let (run, status) = env.execute_wait(&workflow, &["--input-file", &file.to_string_lossy()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let out = &find_step(&status["steps"], "long-task").expect("long-task")["output"]["long-task"];
    assert_eq!(
        *out,
        json!({"task_env": false, "task_file": 1_000_000, "stdin_is_task_file": true,
               "item_env": false, "item_file": 0})
    );
    let sizes = &find_step(&status["steps"], "each").expect("each")["output"]["sizes"];
    assert_eq!(
        *sizes,
        json!([
            {"task_env": true, "task_file": 5, "stdin_is_task_file": true,
             "item_env": false, "item_file": 1_000_002},
            {"task_env": true, "task_file": 5, "stdin_is_task_file": true,
             "item_env": true, "item_file": 7},
        ]),
        "DO_ITEM is left out above 64 KiB, DO_ITEM_FILE holds the item as JSON"
    );
}

#[test]
fn a_task_file_an_agent_overwrote_does_not_reach_a_later_step_with_the_same_task() {
    let env = TestEnv::new();
    // Steps with the same task text share one file: the first step writes into its copy.
    env.run(&[
        "agent",
        "add",
        "scribble",
        "--shell",
        r#"cat "$DO_TASK_FILE"; printf 'changed' > "$DO_TASK_FILE""#,
    ])
    .ok();
    let workflow = env.create(&json!({"name": "same-task", "steps": [
        {"id": "first", "agent": "scribble", "task": "the task"},
        {"id": "second", "agent": "scribble", "task": "the task"},
        {"id": "each", "type": "loop", "items": "input.items", "output": "items",
         "step": {"id": "one", "agent": "scribble", "task": "the task"}},
    ]}));
    let file = env.path("work").join("input.json");
    std::fs::write(&file, json!({"items": [1, 1]}).to_string()).expect("the input");
    let (run, status) = env.execute_wait(&workflow, &["--input-file", &file.to_string_lossy()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for step in ["first", "second"] {
        let output = &find_step(&status["steps"], step).expect(step)["output"][step];
        assert_eq!(*output, json!("the task"), "{step}");
    }
    let items = &find_step(&status["steps"], "each").expect("each")["output"]["items"];
    assert_eq!(*items, json!(["the task", "the task"]));
}

#[test]
fn two_clients_execute_at_the_same_time() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "echo", "--shell", "cat"]).ok();
    let workflow = env.create(&json!({"name": "w", "steps": [
        {"id": "a", "agent": "echo", "task": "one"},
        {"id": "b", "agent": "echo", "task": "two", "input": "a"},
    ]}));
    let children: Vec<_> = (0..2)
        .map(|_| {
            env.command()
                .args(["--json", "workflow", "execute", &workflow, "--wait"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    let mut ids = Vec::new();
    for child in children {
        let output = child.wait_with_output().expect("wait");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let status: Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(status["status"], "completed");
        ids.push(status["executionId"].as_str().expect("id").to_owned());
    }
    assert_ne!(ids[0], ids[1]);
    let executions = env.json(&["workflow", "executions", "--workflow", &workflow]);
    assert_eq!(executions.as_array().map(Vec::len), Some(2));
}

#[test]
fn executing_with_an_unregistered_agent_is_refused_with_its_name() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "mira", "--shell", "true"]).ok();
    let file = env.file(
        "w.json",
        &json!({"name": "w", "steps": [{"id": "a", "agent": "mirra", "task": "t"}]}).to_string(),
    );
    let created = env.run(&[
        "--json",
        "workflow",
        "create",
        file.to_str().expect("utf-8"),
    ]);
    let workflow = created.json()["workflowId"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(
        created
            .stderr
            .contains("agent `mirra` is not registered; did you mean `mira`?"),
        "{}",
        created.stderr
    );
    let run = env.run(&["workflow", "execute", &workflow]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("mirra"), "{}", run.stderr);
    assert_eq!(env.json(&["workflow", "executions"]), json!([]));
}

#[test]
fn bad_execute_arguments_exit_2_and_unknown_ids_exit_4() {
    let env = TestEnv::new();
    let run = env.run(&["workflow", "execute", "wf_nothere"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    assert!(run.stderr.contains("wf_nothere"), "{}", run.stderr);
    let run = env.run(&["workflow", "execution", "exec_nothere"]);
    assert_eq!(run.code, 4, "{}", run.stderr);
    let run = env.run(&["workflow", "execute", "wf_x", "--input", "{nope"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("--input is not valid JSON"),
        "{}",
        run.stderr
    );
    let run = env.run(&["workflow", "execute", "wf_x", "--input", "[1]"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("must be a JSON object"),
        "{}",
        run.stderr
    );
    let run = env.run(&["workflow", "execute", "wf_x", "--priority", "asap"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("urgent"), "{}", run.stderr);
}

#[test]
fn logs_show_what_each_attempt_wrote_on_stderr() {
    let env = TestEnv::new();
    env.run(&[
        "agent",
        "add",
        "chatty",
        "--shell",
        "echo \"working on $DO_STEP_ID\" >&2; echo done",
    ])
    .ok();
    env.run(&["agent", "add", "quiet", "--shell", "echo done"])
        .ok();
    let workflow = env.create(&json!({"name": "logs", "steps": [
        {"id": "one", "agent": "chatty", "task": "t"}, {"id": "two", "agent": "quiet", "task": "t"}]}));
    let (run, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(run.code, 0);
    let execution = status["executionId"].as_str().expect("id");
    let all = env.run(&["workflow", "logs", execution]);
    assert!(
        all.ok()
            .contains("==> one attempt 1 (succeeded) <==\nworking on one\n"),
        "{}",
        all.stdout
    );
    assert!(
        all.stdout
            .contains("==> two attempt 1 (succeeded) <==\n(nothing on stderr)"),
        "{}",
        all.stdout
    );
    let one = env.run(&["workflow", "logs", execution, "one"]);
    assert!(!one.ok().contains("two"), "{}", one.stdout);
    let missing = env.run(&["workflow", "logs", execution, "three"]);
    assert_eq!(missing.code, 2);
    assert!(
        missing.stderr.contains("no step `three`"),
        "{}",
        missing.stderr
    );
}

#[test]
fn a_dry_run_prints_the_plan_and_runs_nothing() {
    let env = TestEnv::new();
    let example = crate::common::repo_root().join("examples/saas-launch.json");
    let workflow =
        env.json(&["workflow", "create", example.to_str().expect("utf-8")])["workflowId"]
            .as_str()
            .expect("id")
            .to_owned();
    let plan = env.run(&["workflow", "execute", &workflow, "--dry-run"]);
    let text = plan.ok();
    assert!(
        text.contains("3. parallel-development runs 2 steps at once"),
        "{text}"
    );
    assert!(
        text.contains("   3a. backend-dev runs agent tom with strategy-doc"),
        "{text}"
    );
    assert!(
        text.contains("4. testing runs agent quinn with backend-code, frontend-code"),
        "{text}"
    );
    assert_eq!(env.json(&["workflow", "executions"]), json!([]));
}

#[test]
fn a_high_priority_execution_overtakes_queued_low_ones() {
    let env = TestEnv::new();
    env.write_config("[daemon]\nmax_parallel = 1\n");
    let ledger = env.path("ledger");
    let gate = env.gated_agent(
        "step",
        &format!(
            "echo \"$DO_EXECUTION_ID $DO_STEP_ID\" >> '{}'",
            ledger.display()
        ),
    );
    let workflow = env.create(&json!({"name": "two", "steps": [
        {"id": "first", "agent": "step", "task": "t"}, {"id": "second", "agent": "step", "task": "t"}]}));
    let start = |priority: &str| {
        env.json(&["workflow", "execute", &workflow, "--priority", priority])["executionId"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    let lows: Vec<String> = (0..3).map(|_| start("low")).collect();
    let high = start("high");
    // The queue: the high one first, then the lows not yet started, oldest first (whether the
    // first low has started by now is up to the scheduler).
    let listed = env.json(&["workflow", "executions"]);
    let mut queued: Vec<(u64, String)> = listed
        .as_array()
        .expect("list")
        .iter()
        .filter(|e| e["status"] == "queued")
        .map(|e| {
            let position = e["queuePosition"]
                .as_u64()
                .unwrap_or_else(|| panic!("no queuePosition: {e}"));
            (position, e["executionId"].as_str().expect("id").to_owned())
        })
        .collect();
    queued.sort();
    let expected: Vec<String> = std::iter::once(high.clone())
        .chain(
            lows.iter()
                .filter(|l| queued.iter().any(|(_, q)| q == *l))
                .cloned(),
        )
        .collect();
    assert_eq!(
        queued,
        expected
            .iter()
            .enumerate()
            .map(|(i, id)| (i as u64 + 1, id.clone()))
            .collect::<Vec<_>>()
    );
    let shown = env.json(&["workflow", "execution", &high]);
    assert_eq!(shown["queuePosition"], 1, "{shown}");
    let table = env.run(&["workflow", "executions"]);
    assert!(table.ok().contains("queued #1"), "{}", table.stdout);
    std::fs::write(&gate, "").expect("open the gate");
    for id in lows.iter().chain([&high]) {
        assert_eq!(env.run(&["workflow", "execution", id, "--wait"]).code, 0);
    }
    let ledger = std::fs::read_to_string(&ledger).expect("ledger");
    let order: Vec<&str> = ledger.lines().collect();
    let position = |id: &str, step: &str| {
        order
            .iter()
            .position(|l| *l == format!("{id} {step}"))
            .expect("ran")
    };
    let high_first = position(&high, "first");
    for low in &lows[1..] {
        assert!(
            high_first < position(low, "second"),
            "high started before the lows' second steps:\n{ledger}"
        );
    }
}

#[test]
fn quiet_prints_only_ids_and_status_words_and_color_is_on_request() {
    let env = TestEnv::new();
    env.run(&["agent", "add", "ok", "--", "/bin/echo", "done"])
        .ok();
    let file = env.file(
        "quiet.json",
        &json!({"name": "quiet", "steps": [{"id": "only", "agent": "ok", "task": "t"}]})
            .to_string(),
    );
    let created = env.run(&["workflow", "create", "-q", file.to_str().expect("path")]);
    let workflow = created.ok().trim().to_owned();
    assert!(
        workflow.starts_with("wf_") && !workflow.contains(' '),
        "{workflow}"
    );
    let waited = env.run(&["-q", "workflow", "execute", &workflow, "--wait"]);
    assert_eq!((waited.ok(), waited.stderr.as_str()), ("", ""));
    let watched = env.run(&["-q", "workflow", "execute", &workflow, "--watch"]);
    assert_eq!((watched.ok(), watched.stderr.as_str()), ("", ""));
    let started = env.run(&["workflow", "execute", &workflow, "--quiet"]);
    let execution = started.ok().trim().to_owned();
    assert!(execution.starts_with("exec_"), "{execution}");
    env.run(&["workflow", "execution", &execution, "--wait", "-q"])
        .ok();
    assert_eq!(
        env.run(&["workflow", "execution", &execution, "-q"]).ok(),
        "completed\n"
    );
    let ids = env.run(&["workflow", "executions", "-q"]).ok().to_owned();
    assert_eq!(ids.lines().count(), 3, "{ids}");
    assert!(ids.lines().all(|l| l.starts_with("exec_")), "{ids}");
    assert_eq!(env.run(&["workflow", "list", "-q"]).ok().trim(), workflow);
    assert_eq!(env.run(&["-q", "--json", "workflow", "list"]).code, 2);

    // In a pipe, colours only when asked for; `--color always` wins over NO_COLOR.
    let plain = env.run(&["workflow", "executions"]);
    assert!(!plain.ok().contains('\u{1b}'), "{}", plain.stdout);
    let colored = env
        .command()
        .env("NO_COLOR", "1")
        .args(["workflow", "execution", &execution, "--color", "always"])
        .output()
        .expect("do");
    let text = String::from_utf8_lossy(&colored.stdout);
    assert!(text.contains("\u{1b}[32mcompleted"), "{text}");
    let never = env.run(&["workflow", "execution", &execution, "--color", "never"]);
    assert!(!never.ok().contains('\u{1b}'), "{}", never.stdout);
}
