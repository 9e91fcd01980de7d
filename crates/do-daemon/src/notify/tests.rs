use super::command::run_process;
use super::email::{base64, email_message, encode_header};
use super::http::post_json;
use super::*;
use serde_json::json;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;

/// One request as the test server saw it.
struct Received {
    head: String,
    body: Vec<u8>,
}

/// Serves one request per entry of `statuses` (in order) on 127.0.0.1, then stops.
/// Returns the URL and the channel of received requests.
fn server(statuses: Vec<u16>) -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for status in statuses {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let received = serve_one(stream, status);
            if tx.send(received).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

fn serve_one(stream: TcpStream, status: u16) -> Received {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let length = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let (reason, reply) = match status {
        200 => ("OK", "ok"),
        404 => ("Not Found", "no such hook"),
        _ => ("Internal Server Error", "boom"),
    };
    let mut stream = reader.into_inner();
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    )
    .unwrap();
    stream.flush().unwrap();
    Received { head, body }
}

fn event() -> Value {
    json!({
        "executionId": "exec_abc123",
        "type": "execution.finished",
        "status": "completed",
        "workflowName": "Launch",
        "at": "2024-10-27T18:00:00Z"
    })
}

#[tokio::test]
async fn webhook_receives_the_exact_event_json() {
    let (url, rx) = server(vec![200]);
    let targets = Notifications {
        webhook: Some(url.clone()),
        ..Notifications::default()
    };
    let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
    assert_eq!(
        deliveries,
        vec![Delivery {
            channel: "webhook",
            target: url,
            ok: true,
            attempts: 1,
            error: None
        }]
    );
    let received = rx.recv_timeout(Duration::from_secs(2)).unwrap();
    assert!(
        received.head.starts_with("POST /hook HTTP/1.1\r\n"),
        "{}",
        received.head
    );
    assert!(
        received
            .head
            .to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{}",
        received.head
    );
    let body: Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(body, event());
    assert_eq!(received.body, event().to_string().into_bytes());
}

#[tokio::test]
async fn webhook_retries_server_errors() {
    let (url, rx) = server(vec![500, 500, 200]);
    let targets = Notifications {
        webhook: Some(url),
        ..Notifications::default()
    };
    let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
    assert_eq!(deliveries.len(), 1);
    assert!(deliveries[0].ok, "{:?}", deliveries[0]);
    assert_eq!(deliveries[0].attempts, 3);
    assert_eq!(deliveries[0].error, None);
    for _ in 0..3 {
        let received = rx.recv_timeout(Duration::from_secs(2)).unwrap();
        assert_eq!(received.body, event().to_string().into_bytes());
    }
}

#[tokio::test]
async fn webhook_gives_up_after_three_server_errors() {
    let (url, _rx) = server(vec![500, 500, 500]);
    let targets = Notifications {
        webhook: Some(url.clone()),
        ..Notifications::default()
    };
    let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
    let d = &deliveries[0];
    assert!(!d.ok);
    assert_eq!(d.attempts, 3);
    let error = d.error.as_deref().unwrap();
    assert!(error.contains(&url) && error.contains("500"), "{error}");
}

#[tokio::test]
async fn webhook_to_a_dead_port_fails_after_three_attempts() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let targets = Notifications {
        webhook: Some(url.clone()),
        ..Notifications::default()
    };
    let started = std::time::Instant::now();
    let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
    let d = &deliveries[0];
    assert!(!d.ok);
    assert_eq!(d.attempts, 3);
    assert_eq!(d.target, url);
    let error = d.error.as_deref().unwrap();
    assert!(error.contains(&url), "{error}");
    // The backoff (0.5 s, then 1 s) was waited, and not much more.
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(1400), "{took:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
}

#[tokio::test]
async fn webhook_client_errors_are_not_retried() {
    let (url, _rx) = server(vec![404]);
    let (attempts, result) = post_json(&url, b"{}".to_vec(), DEFAULT_HTTP_TIMEOUT).await;
    assert_eq!(attempts, 1);
    assert!(result.unwrap_err().contains("404"));
}

#[tokio::test]
async fn command_gets_the_event_on_stdin_and_in_its_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("event.json");
    let env_file = dir.path().join("env.txt");
    let cmd = format!(
        "cat > '{}'; printf '%s %s' \"$DO_EVENT_TYPE\" \"$DO_EXECUTION_ID\" > '{}'",
        file.display(),
        env_file.display()
    );
    let targets = Notifications {
        command: Some(cmd.clone()),
        ..Notifications::default()
    };
    let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
    assert_eq!(
        deliveries,
        vec![Delivery {
            channel: "command",
            target: cmd,
            ok: true,
            attempts: 1,
            error: None
        }]
    );
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&written).unwrap(), event());
    assert_eq!(
        std::fs::read_to_string(&env_file).unwrap(),
        "execution.finished exec_abc123"
    );
}

#[tokio::test]
async fn failing_command_reports_its_status_and_last_stderr_line() {
    let targets = Notifications {
        command: Some("echo first >&2; echo 'no route to pager' >&2; exit 3".to_owned()),
        ..Notifications::default()
    };
    let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
    let d = &deliveries[0];
    assert!(!d.ok);
    assert_eq!(d.attempts, 1);
    let error = d.error.as_deref().unwrap();
    assert!(error.contains("exit status: 3"), "{error}");
    assert!(error.ends_with("no route to pager"), "{error}");
}

#[tokio::test]
async fn command_that_ignores_stdin_still_succeeds() {
    let big = json!({ "type": "x", "executionId": "exec_1", "pad": "y".repeat(300_000) });
    let argv = ["sh".to_owned(), "-c".to_owned(), "exit 0".to_owned()];
    let result = run_process(&argv, big.to_string().into_bytes(), &big, COMMAND_TIMEOUT).await;
    assert_eq!(result, Ok(()));
}

#[tokio::test]
async fn command_over_its_timeout_is_sent_sigterm_before_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("terminated");
    // The marker's path is the script's $0, never part of the shell string.
    let argv = [
        "sh".to_owned(),
        "-c".to_owned(),
        "trap 'echo term > \"$0\"; exit 1' TERM; while :; do sleep 0.05; done".to_owned(),
        marker.display().to_string(),
    ];
    let result = run_process(&argv, Vec::new(), &event(), Duration::from_millis(300)).await;
    let error = result.unwrap_err();
    assert!(error.contains("timed out"), "{error}");
    let written = std::fs::read_to_string(&marker).unwrap_or_default();
    assert_eq!(
        written.trim(),
        "term",
        "the command got no SIGTERM to clean up on"
    );
}

#[tokio::test]
async fn command_over_its_timeout_is_killed_with_its_children() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let argv = [
        "sh".to_owned(),
        "-c".to_owned(),
        format!("sleep 30 & echo $! > '{}'; sleep 30", pid_file.display()),
    ];
    let started = std::time::Instant::now();
    let result = run_process(&argv, Vec::new(), &event(), Duration::from_millis(300)).await;
    let error = result.unwrap_err();
    assert!(error.contains("timed out"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(3));
    // The background grandchild went with the group (gone, or a zombie awaiting its reaper).
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let stat = format!("/proc/{}/stat", pid.trim());
    let alive = || {
        std::fs::read_to_string(&stat).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| !r.trim_start().starts_with('Z'))
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while alive() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(), "the grandchild {} survived", pid.trim());
}

#[tokio::test]
async fn slack_unknown_channel_points_at_the_config_file() {
    let targets = Notifications {
        slack: Some("#unknown".to_owned()),
        ..Notifications::default()
    };
    let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
    let d = &deliveries[0];
    assert_eq!(
        (d.channel, d.target.as_str(), d.ok),
        ("slack", "#unknown", false)
    );
    let error = d.error.as_deref().unwrap();
    assert!(
        error.contains("config.toml") && error.contains("[notifications.slack]"),
        "{error}"
    );
}

#[tokio::test]
async fn slack_channel_is_posted_a_text_summary() {
    let (url, rx) = server(vec![200]);
    let config = NotifyConfig {
        slack_channels: BTreeMap::from([("#launches".to_owned(), url)]),
        ..NotifyConfig::default()
    };
    let targets = Notifications {
        slack: Some("#launches".to_owned()),
        ..Notifications::default()
    };
    let deliveries = deliver(&targets, &config, &event()).await;
    assert!(deliveries[0].ok, "{:?}", deliveries[0]);
    let received = rx.recv_timeout(Duration::from_secs(2)).unwrap();
    let body: Value = serde_json::from_slice(&received.body).unwrap();
    let object = body.as_object().unwrap();
    assert_eq!(object.len(), 1, "{body}");
    let text = object["text"].as_str().unwrap();
    assert!(!text.contains('\n'));
    assert!(
        text.contains("exec_abc123")
            && text.contains("execution.finished")
            && text.contains("completed")
            && text.contains("Launch"),
        "{text}"
    );
}

#[tokio::test]
async fn email_without_sendmail_fails_with_a_hint() {
    let targets = Notifications {
        email: Some("ops@example.com".to_owned()),
        ..Notifications::default()
    };
    let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
    let d = &deliveries[0];
    assert!(!d.ok);
    assert_eq!(
        d.error.as_deref(),
        Some("no sendmail command configured (set notifications.sendmail in config.toml)")
    );
}

#[tokio::test]
async fn email_goes_through_the_sendmail_command() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mail.txt");
    let config = NotifyConfig {
        sendmail: Some(vec![
            "sh".to_owned(),
            "-c".to_owned(),
            format!("cat > '{}'", file.display()),
        ]),
        ..NotifyConfig::default()
    };
    let targets = Notifications {
        email: Some("ops@example.com".to_owned()),
        ..Notifications::default()
    };
    let deliveries = deliver(&targets, &config, &event()).await;
    assert!(deliveries[0].ok, "{:?}", deliveries[0]);
    let mail = std::fs::read_to_string(&file).unwrap();
    assert!(mail.starts_with("To: ops@example.com\n"), "{mail}");
    assert!(
        mail.contains("\nSubject: [do] Launch execution.finished exec_abc123\n"),
        "{mail}"
    );
    let (_, body) = mail.split_once("\n\n").unwrap();
    assert_eq!(serde_json::from_str::<Value>(body).unwrap(), event());
}

#[tokio::test]
async fn all_channels_are_delivered_at_once_in_a_fixed_order() {
    let (url, _rx) = server(vec![200]);
    let targets = Notifications {
        webhook: Some(url),
        command: Some("cat > /dev/null".to_owned()),
        slack: Some("#nowhere".to_owned()),
        email: Some("a@b.c".to_owned()),
    };
    let deliveries = deliver(&targets, &NotifyConfig::default(), &event()).await;
    let summary: Vec<_> = deliveries.iter().map(|d| (d.channel, d.ok)).collect();
    assert_eq!(
        summary,
        [
            ("webhook", true),
            ("command", true),
            ("slack", false),
            ("email", false)
        ]
    );
    assert!(
        deliver(
            &Notifications::default(),
            &NotifyConfig::default(),
            &event()
        )
        .await
        .is_empty()
    );
}

#[test]
fn from_value_reads_and_checks_the_request_object() {
    assert_eq!(
        Notifications::from_value(&Value::Null),
        Ok(Notifications::default())
    );
    assert!(Notifications::from_value(&json!({})).unwrap().is_empty());
    let n = Notifications::from_value(&json!({
        "webhook": "https://example.com/hook",
        "command": "notify-send done",
        "slack": "#product-launches",
        "email": "team@example.com"
    }))
    .unwrap();
    assert_eq!(
        n,
        Notifications {
            webhook: Some("https://example.com/hook".to_owned()),
            command: Some("notify-send done".to_owned()),
            slack: Some("#product-launches".to_owned()),
            email: Some("team@example.com".to_owned()),
        }
    );
    assert!(!n.is_empty());
    let slack_url = Notifications::from_value(&json!({ "slack": "https://hooks.slack.com/x" }));
    assert!(slack_url.is_ok());
    for (bad, needle) in [
        (json!([]), "must be an object"),
        (json!({ "webhook": "ftp://x" }), "notifications.webhook"),
        (json!({ "webhook": 3 }), "must be a string"),
        (json!({ "command": "  " }), "notifications.command"),
        (
            json!({ "slack": "product-launches" }),
            "notifications.slack",
        ),
        (json!({ "slack": "#" }), "notifications.slack"),
        (json!({ "email": "nobody" }), "notifications.email"),
        (
            json!({ "email": "a@b.c\nBcc: x@y.z" }),
            "notifications.email",
        ),
        (
            json!({ "pager": "x" }),
            "unknown notification channel `pager`",
        ),
    ] {
        let error = Notifications::from_value(&bad).unwrap_err().to_string();
        assert!(error.contains(needle), "{bad}: {error}");
    }
}

#[test]
fn serialized_deliveries_leave_out_a_missing_error() {
    let d = Delivery::new("webhook", "http://x", 1, Ok(()));
    assert_eq!(
        serde_json::to_value(&d).unwrap(),
        json!({ "channel": "webhook", "target": "http://x", "ok": true, "attempts": 1 })
    );
}

#[test]
fn non_ascii_subjects_are_encoded() {
    assert_eq!(base64(b"Man"), "TWFu");
    assert_eq!(base64(b"Ma"), "TWE=");
    assert_eq!(base64(b"M"), "TQ==");
    assert_eq!(encode_header("[do] plain"), "[do] plain");
    assert_eq!(encode_header("é"), "=?UTF-8?B?w6k=?=");
    let mail = email_message("a@b.c", &json!({ "workflowName": "Lancement\nété" }));
    assert!(mail.contains("Subject: =?UTF-8?B?"), "{mail}");
}
