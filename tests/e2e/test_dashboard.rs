//! The web dashboard in a real headless Chromium, driven over WebDriver (chromedriver), against
//! a real daemon with its HTTP listener: log in, watch a step finish live, read a failed
//! step's log, retry, cancel; and the refusals (wrong key, a POST without the session's
//! anti-forgery token).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); without them
//! the browser tests say so and pass. With `DO_SCREENSHOTS=DIR` they save the README's
//! screenshots into DIR.

use crate::browser::Browser;
use crate::common::{TestEnv, repo_root};
use crate::http_api::{Api, SAAS_AGENTS, register_agents};
use crate::test_failures::fixable_agent;
use serde_json::{Value, json};

/// The daemon with its HTTP listener, and a browser on it; `None` (the test passes) where
/// there is no browser to drive.
fn start_with_browser(env: &TestEnv) -> Option<(Api, Browser)> {
    let daemon = Api::start(env);
    let browser = Browser::start(&daemon.base)?;
    Some((daemon, browser))
}

fn saas_example() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("examples/saas-launch.json")).expect("example"),
    )
    .expect("example JSON")
}

fn execute(env: &TestEnv, workflow: &str) -> String {
    let queued = env.json(&["workflow", "execute", workflow]);
    queued["executionId"]
        .as_str()
        .expect("executionId")
        .to_owned()
}

#[test]
fn a_running_step_turns_completed_on_the_page_without_a_reload() {
    let env = TestEnv::new();
    let Some((daemon, browser)) = start_with_browser(&env) else {
        return;
    };
    let gate = env.gated_agent(
        "mira",
        "echo 'researching' >&2; echo '{\"market\": \"SMB\"}'",
    );
    // The example's other agents.
    register_agents(&env, &SAAS_AGENTS[1..]);
    let workflow = env.create(&saas_example());
    let execution = execute(&env, &workflow);

    browser.goto(&format!("/executions/{execution}"));
    assert_eq!(browser.path(), "/login", "a page needs a session");
    browser.login(&daemon.key);
    assert_eq!(browser.path(), format!("/executions/{execution}"));
    browser.wait_step("market-research", "running");
    browser.screenshot("execution-running.png");
    // A mark on this very document: a reload would lose it.
    browser.script("window.notReloaded = true; return null;");
    std::fs::write(&gate, "").expect("open the gate");
    browser.wait_step("market-research", "completed");
    browser.wait_execution("completed");
    assert_eq!(
        browser.script("return window.notReloaded === true;"),
        Value::Bool(true),
        "the page changed in place"
    );
    let text = browser.script("return document.getElementById('live').innerText;");
    assert!(
        text.as_str().expect("text").contains("deploy"),
        "the whole step tree is shown: {text}"
    );

    if Browser::screenshots_wanted() {
        // A list worth a picture: a few more runs, one of them urgent.
        env.execute_wait(&workflow, &["--priority", "urgent"]);
        env.execute_wait(&workflow, &[]);
    }
    browser.goto("/");
    browser.wait_until(
        "the execution in the list",
        &format!("return !!document.querySelector('tr[data-execution=\"{execution}\"]');"),
    );
    browser.screenshot("executions.png");
    if Browser::screenshots_wanted() {
        browser.set_size(390, 844);
        browser.goto(&format!("/executions/{execution}"));
        browser.wait_execution("completed");
        browser.screenshot("execution-phone.png");
    }
}

#[test]
fn a_running_attempts_log_is_followed_on_its_page() {
    let env = TestEnv::new();
    let Some((daemon, browser)) = start_with_browser(&env) else {
        return;
    };
    let gate = env.path("gate-talker");
    let script = format!(
        "echo 'first line' >&2; while [ ! -e '{}' ]; do sleep 0.02; done; echo 'second line' >&2",
        gate.display()
    );
    env.run(&["agent", "add", "talker", "--shell", &script])
        .ok();
    let workflow = env.create(&json!({"name": "talk", "steps": [
        {"id": "talk", "agent": "talker", "task": "t"}]}));
    let execution = execute(&env, &workflow);
    browser.goto("/login");
    browser.login(&daemon.key);
    browser.goto(&format!("/executions/{execution}"));
    browser.wait_step("talk", "running");
    browser.click("[data-step='talk'] a.log-link");
    browser.wait_until(
        "the first line",
        "var l = document.getElementById('log'); return !!l && l.textContent.includes('first line');",
    );
    browser.script("window.notReloaded = true; return null;");
    std::fs::write(&gate, "").expect("open the gate");
    browser.wait_until(
        "the second line, appended",
        "var l = document.getElementById('log'); \
         return !!l && l.textContent.includes('second line') && window.notReloaded === true;",
    );
}

#[test]
fn a_failed_steps_log_opens_and_retry_completes_an_escalated_execution() {
    let env = TestEnv::new();
    let Some((daemon, browser)) = start_with_browser(&env) else {
        return;
    };
    let fixed = fixable_agent(&env, "build");
    env.run(&["agent", "add", "ship", "--shell", "echo shipped"])
        .ok();
    let workflow = env.create(&json!({"name": "build and ship", "steps": [
        {"id": "build", "agent": "build", "task": "build it"},
        {"id": "ship", "agent": "ship", "task": "ship it"}],
        "errorHandling": {"strategy": "retry", "maxRetries": 1, "initialDelay": 0, "escalateOnFailure": true}}));
    let (_, status) = env.execute_wait(&workflow, &[]);
    assert_eq!(status["status"], "escalated", "{status}");
    let execution = status["executionId"].as_str().expect("id");

    browser.goto("/login");
    browser.login(&daemon.key);
    browser.goto(&format!("/executions/{execution}"));
    browser.wait_step("build", "failed");
    browser.wait_execution("escalated");
    browser.screenshot("execution-failed.png");

    browser.click("[data-step='build'] a.log-link");
    browser.wait_until(
        "the failed attempt's log",
        "var l = document.getElementById('log'); return !!l && l.textContent.includes('not fixed yet');",
    );

    std::fs::write(&fixed, "").expect("fix");
    browser.goto(&format!("/executions/{execution}"));
    browser.click("[data-step='build'] form[action$='/steps/build/retry'] button");
    browser.confirm();
    browser.wait_execution("completed");
    browser.wait_step("ship", "completed");
    let cli = env.json(&["workflow", "execution", execution]);
    assert_eq!(cli["status"], "completed", "{cli}");
}

#[test]
fn cancel_with_a_reason_and_a_wrong_key_is_refused() {
    let env = TestEnv::new();
    let Some((daemon, browser)) = start_with_browser(&env) else {
        return;
    };
    browser.goto("/login");
    browser.type_into("#key", "not-the-key");
    browser.click("form[action='/login'] button[type=submit]");
    browser.wait_until(
        "the refusal",
        "return document.body.innerText.includes('wrong API key');",
    );
    browser.goto("/");
    assert_eq!(browser.path(), "/login", "still not logged in");

    let _gate = env.gated_agent("slow", "echo done");
    let workflow = env.create(&json!({"name": "slow", "steps": [
        {"id": "wait", "agent": "slow", "task": "t"}]}));
    browser.goto("/login");
    browser.login(&daemon.key);
    // Executed from the workflow's page, with an input and a priority.
    browser.goto(&format!("/workflows/{workflow}"));
    browser.script(
        "document.getElementById('input').value = '{\"ticket\": 42}'; \
         document.getElementById('priority').value = 'high'; return null;",
    );
    browser.click("form.execute button[type=submit]");
    browser.confirm();
    browser.wait_until(
        "the new execution's page",
        "return location.pathname.startsWith('/executions/exec_');",
    );
    let execution = browser.path().trim_start_matches("/executions/").to_owned();
    let queued = env.json(&["workflow", "execution", &execution]);
    assert_eq!(queued["priority"], "high", "{queued}");
    assert_eq!(queued["input"], json!({"ticket": 42}), "{queued}");
    browser.wait_step("wait", "running");
    browser.type_into("#cancel-reason-input", "wrong branch");
    browser.click("form.cancel button[type=submit]");
    browser.confirm();
    browser.wait_execution("cancelled");
    browser.wait_until(
        "the reason on the page",
        "var r = document.getElementById('cancel-reason'); return !!r && r.textContent.includes('wrong branch');",
    );
    let cli = env.json(&["workflow", "execution", &execution]);
    assert_eq!(cli["cancelReason"], "wrong branch", "{cli}");
}

/// A login over plain HTTP: the session cookie and the page's anti-forgery token.
fn http_login(agent: &ureq::Agent, daemon: &Api) -> (String, String) {
    let mut response = agent
        .post(&format!("{}/login", daemon.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(format!("key={}&next=/", daemon.key))
        .expect("login");
    assert_eq!(response.status().as_u16(), 303);
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(!cookie.contains(&daemon.key), "the cookie is not the key");
    let session = cookie.split(';').next().expect("name=value").to_owned();
    let _ = response.body_mut().read_to_string();
    let mut page = agent
        .get(&format!("{}/", daemon.base))
        .header("Cookie", &session)
        .call()
        .expect("list page");
    assert_eq!(page.status().as_u16(), 200);
    let html = page.body_mut().read_to_string().expect("page");
    let csrf = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page carries the anti-forgery token")
        .to_owned();
    (session, csrf)
}

/// An HTTP client that returns redirects and error statuses as answers, for the test to read,
/// instead of following them or failing.
fn unredirected_client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .build()
        .into()
}

#[test]
fn a_post_without_the_sessions_anti_forgery_token_is_refused() {
    let env = TestEnv::new();
    let daemon = Api::start(&env);
    let _gate = env.gated_agent("slow", "echo done");
    let workflow = env.create(&json!({"name": "slow", "steps": [
        {"id": "wait", "agent": "slow", "task": "t"}]}));
    let execution = execute(&env, &workflow);
    let agent = unredirected_client();
    let (session, csrf) = http_login(&agent, &daemon);
    let cancel = format!("{}/executions/{execution}/cancel", daemon.base);
    let post = |body: String| {
        agent
            .post(&cancel)
            .header("Cookie", &session)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .send(body)
            .expect("post")
            .status()
            .as_u16()
    };
    assert_eq!(post("reason=forged".to_owned()), 403, "no token");
    assert_eq!(
        post("reason=forged&csrf=0000".to_owned()),
        403,
        "a wrong token"
    );
    let status = env.json(&["workflow", "execution", &execution]);
    assert_ne!(status["status"], "cancelled", "{status}");
    // No session at all: refused too, and the bearer key still works for programs.
    let anonymous = agent
        .post(&cancel)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(format!("reason=x&csrf={csrf}"))
        .expect("post")
        .status()
        .as_u16();
    assert_eq!(anonymous, 401);
    let api = agent
        .get(&format!(
            "{}/agents/workflows/executions/{execution}",
            daemon.base
        ))
        .header("Authorization", &format!("Bearer {}", daemon.key))
        .call()
        .expect("api")
        .status()
        .as_u16();
    assert_eq!(api, 200);
    // With the session's token the same form goes through.
    assert_eq!(post(format!("reason=genuine&csrf={csrf}")), 303);
    let status = env.json(&["workflow", "execution", &execution]);
    assert_eq!(status["status"], "cancelled", "{status}");
    assert_eq!(status["cancelReason"], "genuine", "{status}");

    // Logging out ends the session: its cookie opens nothing any more.
    let logout = agent
        .post(&format!("{}/logout", daemon.base))
        .header("Cookie", &session)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(format!("csrf={csrf}"))
        .expect("logout");
    assert_eq!(logout.status().as_u16(), 303);
    let after = agent
        .get(&format!("{}/", daemon.base))
        .header("Cookie", &session)
        .call()
        .expect("list page");
    assert_eq!(after.status().as_u16(), 303, "sent to the login page");
    assert!(
        after
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|l| l.starts_with("/login")),
        "{:?}",
        after.headers()
    );
}

/// A page fetched with the bearer key, as a program would: (status, HTML).
fn page(daemon: &Api, path: &str) -> (u16, String) {
    let agent = unredirected_client();
    let mut response = agent
        .get(&format!("{}{path}", daemon.base))
        .header("Authorization", &format!("Bearer {}", daemon.key))
        .call()
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().expect("page"))
}

#[test]
fn the_pages_show_branches_iterations_team_members_workflows_and_agents() {
    let env = TestEnv::new();
    let daemon = Api::start(&env);
    for name in ["tom", "rae", "checker"] {
        env.run(&["agent", "add", name, "--shell", &format!("echo {name}-out")])
            .ok();
    }
    env.run(&[
        "agent",
        "add",
        "solo",
        "--concurrency",
        "2",
        "--shell",
        "echo solo",
    ])
    .ok();
    env.run(&["team", "create", "eng", "--members", "tom,rae"])
        .ok();
    let workflow = env.create(&json!({"name": "shapes", "steps": [
        {"id": "check", "agent": "checker", "task": "t", "output": "checked"},
        {"id": "decide", "type": "conditional", "condition": "input.go === true",
         "then": {"id": "yes", "agent": "solo", "task": "t"},
         "else": {"id": "no", "agent": "solo", "task": "t"}},
        {"id": "each", "type": "loop", "items": "input.items",
         "step": {"id": "one", "agent": "solo", "task": "{{ item }}"}},
        {"id": "build", "type": "team", "teamId": "eng", "task": "t"}]}));
    let (_, status) = env.execute_wait(
        &workflow,
        &["--input", r#"{"go": true, "items": ["a", "b"]}"#],
    );
    assert_eq!(status["status"], "completed", "{status}");
    let execution = status["executionId"].as_str().expect("id");
    let member = find_member(&status);

    let (code, html) = page(&daemon, &format!("/executions/{execution}"));
    assert_eq!(code, 200, "{html}");
    assert!(html.len() < 150 * 1024, "page weight {} bytes", html.len());
    for expected in [
        r#"<span class="branch">then</span><code class="step-id">yes</code>"#,
        r#"<span class="branch">else</span><code class="step-id">no</code>"#,
        "if <code>input.go === true</code>",
        r#"<span class="branch">item 1</span><code class="step-id">one[0]</code>"#,
        r#"<span class="branch">item 2</span><code class="step-id">one[1]</code>"#,
        &format!(r#"team <code>eng</code> → <code>{member}</code>"#),
        "checker-out",
    ] {
        assert!(html.contains(expected), "missing {expected}:\n{html}");
    }

    let (code, list) = page(&daemon, "/?status=completed");
    assert_eq!(code, 200);
    assert!(list.contains(execution), "{list}");
    let (_, none) = page(&daemon, "/?status=failed");
    assert!(!none.contains(execution), "filtered by status");
    let (_, other) = page(&daemon, "/?workflow=wf_none");
    assert!(!other.contains(execution), "filtered by workflow");
    let (code, _) = page(&daemon, "/?status=sleeping");
    assert_eq!(code, 400, "an unknown status is refused");

    let (code, workflows) = page(&daemon, "/workflows");
    assert_eq!(code, 200);
    assert!(
        workflows.contains(&format!("/workflows/{workflow}")),
        "{workflows}"
    );
    let (code, one) = page(&daemon, &format!("/workflows/{workflow}"));
    assert_eq!(code, 200);
    for expected in [
        "Recent executions",
        execution,
        r#"name="priority""#,
        r#"<label for="input">"#,
        "for each of <code>input.items</code>",
    ] {
        assert!(one.contains(expected), "missing {expected}:\n{one}");
    }
    let (code, runners) = page(&daemon, "/runners");
    assert_eq!(code, 200);
    for expected in [
        "<code>solo</code>",
        "2 at once",
        "round-robin",
        "<code>eng</code>",
    ] {
        assert!(runners.contains(expected), "missing {expected}:\n{runners}");
    }
    let (code, _) = page(&daemon, "/executions/exec_missing");
    assert_eq!(code, 404);
}

/// The team member that ran the team step.
fn find_member(status: &Value) -> String {
    crate::common::find_step(&status["steps"], "build").expect("build")["agent"]
        .as_str()
        .expect("member")
        .to_owned()
}
