//! The page shell (navigation, assets, logout) and the small pieces every page shares.

use do_proto::ApiError;
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

/// Which navigation entry is the current page.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nav {
    Executions,
    Workflows,
    Runners,
    None,
}

/// A whole page: `csrf` is the session's anti-forgery token (for the logout form), absent on
/// the login page and for bearer-key requests.
pub(crate) fn page(title: &str, csrf: Option<&str>, nav: Nav, body: Markup) -> Markup {
    let link = |href: &str, label: &str, this: Nav| {
        html! {
            @if nav == this {
                a href=(href) aria-current="page" { (label) }
            } @else {
                a href=(href) { (label) }
            }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · do" }
                link rel="stylesheet" href="/assets/dashboard.css";
                script src="/assets/dashboard.js" defer {}
            }
            body {
                a class="skip" href="#main" { "Skip to content" }
                header class="top" {
                    a class="brand" href="/" { "do" }
                    @if nav != Nav::None {
                        nav aria-label="Main" {
                            (link("/", "Executions", Nav::Executions))
                            (link("/workflows", "Workflows", Nav::Workflows))
                            (link("/runners", "Agents & teams", Nav::Runners))
                        }
                    }
                    @if let Some(csrf) = csrf {
                        form class="logout" method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(csrf);
                            button type="submit" { "Log out" }
                        }
                    }
                }
                main id="main" { (body) }
            }
        }
    }
}

/// A status word, coloured by its class and readable without the colour.
pub(crate) fn status(word: &str) -> Markup {
    html! { span class={ "status status-" (word) } { (word.replace('_', " ")) } }
}

pub(crate) fn error_box(error: &ApiError) -> Markup {
    html! {
        section class="problem" role="alert" {
            h1 { "The daemon refused" }
            pre { (error.message) }
            p { a href="/" { "Executions" } " · " a href="/workflows" { "Workflows" } }
        }
    }
}

/// An RFC 3339 time shown as `YYYY-MM-DD HH:MM:SS` (UTC), the full value on hover.
pub(crate) fn time(at: Option<&str>) -> Markup {
    match at {
        Some(at) => {
            let short = at.get(..19).unwrap_or(at).replace('T', " ");
            html! { time datetime=(at) title=(at) { (short) } }
        }
        None => html! { span class="none" { "—" } },
    }
}

/// Values shown on a page are cut here; the API has them whole.
const SHOWN_BYTES: usize = 8 * 1024;

/// A JSON value, pretty-printed and cut at a size that keeps a page light.
pub(crate) fn json(value: &Value) -> Markup {
    let text = serde_json::to_string_pretty(value).unwrap_or_default();
    clipped(&text)
}

pub(crate) fn clipped(text: &str) -> Markup {
    if text.len() <= SHOWN_BYTES {
        return html! { pre { (text) } };
    }
    let mut end = SHOWN_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    html! {
        pre { (&text[..end]) }
        p class="note" { "… " (text.len() - end) " more bytes; the API's status document has it all." }
    }
}

/// Links to the previous and next page of a list.
pub(crate) fn pager(previous: Option<String>, next: Option<String>, page: u32) -> Markup {
    html! {
        nav class="pager" aria-label="Pages" {
            @if let Some(previous) = previous {
                a href=(previous) rel="prev" { "← Newer" }
            }
            span { "Page " (page) }
            @if let Some(next) = next {
                a href=(next) rel="next" { "Older →" }
            }
        }
    }
}

/// Percent-encodes a value for a URL's path or query (`/` is kept).
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
