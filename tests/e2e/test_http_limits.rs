//! HTTP clients that have not shown the key cannot hold the daemon: a connection that is slow
//! to send its headers is closed, and past the connection cap a new one is answered 503 while
//! the owner's Unix socket keeps working.

use crate::common::TestEnv;
use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Starts the daemon with the HTTP API on a free port; its address.
fn start_http(env: &TestEnv, daemon_config: &str) -> String {
    env.write_config(&format!("[daemon]\n{daemon_config}"));
    env.run(&["daemon", "start", "--http", "127.0.0.1:0"]).ok();
    std::fs::read_to_string(env.path("data/http.addr"))
        .expect("http.addr")
        .trim()
        .to_owned()
}

/// Reads until the server closes the connection (or `limit` passes); what it sent, and whether
/// it closed.
fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    let deadline = Instant::now() + limit;
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (String::from_utf8_lossy(&received).into_owned(), false);
        }
        stream.set_read_timeout(Some(left)).expect("read timeout");
        match stream.read(&mut buffer) {
            Ok(0) => return (String::from_utf8_lossy(&received).into_owned(), true),
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            // A reset is a close too.
            Err(_) => return (String::from_utf8_lossy(&received).into_owned(), true),
        }
    }
}

#[test]
fn a_connection_slow_to_send_its_headers_is_closed() {
    let env = TestEnv::new();
    let addr = start_http(&env, "http_header_timeout = 1\n");
    let mut stream = TcpStream::connect(&addr).expect("connect");
    stream
        .write_all(b"GET /agents/workflows HTTP/1.1\r\nHost: x\r\n")
        .expect("write");
    // One header byte every 100 ms: each byte arrives well within any read timeout, the
    // headers never end.
    let mut trickle = stream.try_clone().expect("clone");
    let writer = std::thread::spawn(move || {
        for _ in 0..300 {
            if trickle.write_all(b"x").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(20));
    assert!(
        closed,
        "a connection trickling its headers was still open after 20 s (timeout 1 s)"
    );
    let _ = stream.shutdown(std::net::Shutdown::Both);
    writer.join().expect("writer");
    env.run(&["daemon", "status"]).ok();
}

#[test]
fn past_the_connection_cap_a_client_gets_503_and_the_socket_still_answers() {
    let env = TestEnv::new();
    let addr = start_http(&env, "http_connections = 3\nhttp_header_timeout = 60\n");
    let key = env.run(&["daemon", "api-key"]).ok().trim().to_owned();
    let request = format!(
        "GET /agents/workflows HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n\
         Connection: close\r\n\r\n"
    );
    // Three connections that never send a byte hold the three places.
    let mut idle: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(&addr).expect("connect"))
        .collect();
    let mut fourth = TcpStream::connect(&addr).expect("connect");
    fourth.write_all(request.as_bytes()).expect("write");
    let (answer, closed) = read_until_closed(&mut fourth, Duration::from_secs(20));
    assert!(closed, "the connection past the cap stays open: {answer}");
    assert!(answer.starts_with("HTTP/1.1 503 "), "{answer}");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).expect("a body"))
        .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {answer}"));
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["error"]["code"], "unavailable", "{body}");
    let message = body["error"]["message"].as_str().expect("message");
    assert!(message.contains("daemon.http_connections"), "{message}");

    // The owner's socket is served meanwhile.
    env.run(&["daemon", "status"]).ok();

    // Once a place is free, a keyed request is served again.
    drop(idle.pop());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut stream = TcpStream::connect(&addr).expect("connect");
        stream.write_all(request.as_bytes()).expect("write");
        let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(20));
        if answer.starts_with("HTTP/1.1 200 ") {
            break;
        }
        assert!(answer.starts_with("HTTP/1.1 503 "), "{answer}");
        assert!(
            Instant::now() < deadline,
            "still refused 20 s after a place was freed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
