//! Agents and teams: what is registered, each agent's concurrency, and who is busy now.

use super::auth::Csrf;
use super::layout::{self, Nav};
use super::{Dashboard, ask, error_page, html};
use crate::answers;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::Response;
use do_core::model::{AttemptStatus, ExecutionStatus};
use do_proto::{AgentData, DaemonStatusData, Empty, Request, TeamData};
use maud::{Markup, html as markup};
use std::collections::BTreeMap;

/// The running attempts of each agent: (execution, step) pairs.
fn busy(
    dashboard: &Dashboard,
) -> Result<BTreeMap<String, Vec<(String, String)>>, do_proto::ApiError> {
    let store = dashboard.shared.store();
    let running = store
        .executions_with_status(&[ExecutionStatus::Running])
        .map_err(answers::internal)?;
    let mut busy: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for execution in running {
        for attempt in store.attempts(&execution.id).map_err(answers::internal)? {
            if attempt.status == AttemptStatus::Running {
                busy.entry(attempt.agent)
                    .or_default()
                    .push((execution.id.clone(), attempt.step_id));
            }
        }
    }
    Ok(busy)
}

fn running_list(running: Option<&Vec<(String, String)>>) -> Markup {
    markup! {
        @match running {
            None => { span class="none" { "idle" } }
            Some(running) => {
                strong { (running.len()) " running" }
                ul class="inline" {
                    @for (execution, step) in running {
                        li { a href={ "/executions/" (execution) } { code { (step) } } }
                    }
                }
            }
        }
    }
}

pub(crate) async fn page(
    State(dashboard): State<Dashboard>,
    Extension(Csrf(csrf)): Extension<Csrf>,
) -> Response {
    let csrf = csrf.as_deref();
    let agents: Vec<AgentData> = match ask(&dashboard.shared, Request::ListAgents(Empty {})).await {
        Ok(agents) => agents,
        Err(e) => return error_page(csrf, &e),
    };
    let teams: Vec<TeamData> = match ask(&dashboard.shared, Request::ListTeams(Empty {})).await {
        Ok(teams) => teams,
        Err(e) => return error_page(csrf, &e),
    };
    let daemon: DaemonStatusData =
        match ask(&dashboard.shared, Request::DaemonStatus(Empty {})).await {
            Ok(daemon) => daemon,
            Err(e) => return error_page(csrf, &e),
        };
    let busy = match busy(&dashboard) {
        Ok(busy) => busy,
        Err(e) => return error_page(csrf, &e),
    };
    let body = markup! {
        h1 { "Agents & teams" }
        p {
            (daemon.running_steps) " steps running of at most " (daemon.max_parallel)
            " at once (the daemon's " code { "max_parallel" } ")."
        }
        section {
            h2 { "Agents" }
            @if agents.is_empty() {
                p class="none" { "No agents. " code { "dowf agent add NAME -- COMMAND…" } " registers one." }
            } @else {
                div class="scroll" {
                    table {
                        thead { tr {
                            th scope="col" { "Name" } th scope="col" { "Runs" }
                            th scope="col" { "Concurrency" } th scope="col" { "Busy" }
                            th scope="col" { "Description" }
                        } }
                        tbody {
                            @for a in &agents {
                                tr data-agent=(a.spec.name) {
                                    td { code { (a.spec.name) } }
                                    td { code class="command" { (a.spec.command.join(" ")) } }
                                    td { @match a.spec.concurrency {
                                        Some(n) => { (n) " at once" }
                                        None => { span class="none" { "daemon's limit" } }
                                    } }
                                    td { (running_list(busy.get(&a.spec.name))) }
                                    td { (a.spec.description.as_deref().unwrap_or("")) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { "Teams" }
            @if teams.is_empty() {
                p class="none" { "No teams. " code { "dowf team create ID --members a,b" } " defines one." }
            } @else {
                div class="scroll" {
                    table {
                        thead { tr {
                            th scope="col" { "Team" } th scope="col" { "Strategy" } th scope="col" { "Members" }
                        } }
                        tbody {
                            @for t in &teams {
                                tr {
                                    td { code { (t.spec.id) } }
                                    td { (t.spec.strategy.as_str()) }
                                    td {
                                        ul class="inline" {
                                            @for m in &t.spec.members {
                                                li {
                                                    code { (m) } " "
                                                    @match busy.get(m) {
                                                        Some(r) => { "(" (r.len()) " running)" }
                                                        None => { span class="none" { "(idle)" } }
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    html(
        StatusCode::OK,
        layout::page("Agents & teams", csrf, Nav::Runners, body),
    )
}
