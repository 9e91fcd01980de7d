//! Email deliveries: a minimal message handed to the configured sendmail command.

use super::command::run_process;
use super::{Delivery, NotifyConfig, one_line};
use serde_json::Value;
use std::time::Duration;

pub(super) async fn deliver_email(
    addr: &str,
    config: &NotifyConfig,
    event: &Value,
    timeout: Duration,
) -> Delivery {
    let Some(argv) = config.sendmail.as_deref() else {
        let error = "no sendmail command configured (set notifications.sendmail in config.toml)";
        return Delivery::new("email", addr, 0, Err(error.to_owned()));
    };
    if argv.is_empty() {
        let error = "the sendmail command in config.toml (notifications.sendmail) is empty";
        return Delivery::new("email", addr, 0, Err(error.to_owned()));
    }
    if let Err(e) = check_email(addr) {
        return Delivery::new("email", addr, 0, Err(e));
    }
    let message = email_message(addr, event);
    let result = run_process(argv, message.into_bytes(), event, timeout)
        .await
        .map_err(|e| format!("`{}` failed: {e}", argv.join(" ")));
    Delivery::new("email", addr, 1, result)
}

/// A minimal RFC 5322 message: To, Subject, a plain UTF-8 body holding the pretty event JSON.
pub(super) fn email_message(addr: &str, event: &Value) -> String {
    let field = |name: &str| event.get(name).and_then(Value::as_str).map(one_line);
    let mut subject = String::from("[do]");
    for part in [field("workflowName"), field("type"), field("executionId")]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
    {
        subject.push(' ');
        subject.push_str(&part);
    }
    let body = serde_json::to_string_pretty(event).unwrap_or_else(|_| event.to_string());
    format!(
        "To: {addr}\nSubject: {}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\
         Content-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n\n{body}\n",
        encode_header(&subject)
    )
}

/// An address, alone: something@something, no spaces, no list, nothing that could end a header.
pub(super) fn check_email(addr: &str) -> Result<(), String> {
    let bad = addr.is_empty()
        || addr
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | ';' | '<' | '>'))
        || addr.starts_with('-')
        || !addr
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    if bad {
        Err(format!("`{addr}` is not an email address"))
    } else {
        Ok(())
    }
}

/// A header value: ASCII as is, anything else as an RFC 2047 encoded word.
pub(super) fn encode_header(text: &str) -> String {
    if text.is_ascii() {
        text.to_owned()
    } else {
        format!("=?UTF-8?B?{}?=", base64(text.as_bytes()))
    }
}

pub(super) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
