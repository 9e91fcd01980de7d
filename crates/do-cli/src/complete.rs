//! Tab-completion of ids and names from the running daemon.
//!
//! `do completions SHELL` prints a small script that makes the shell call back
//! `COMPLETE=SHELL do -- WORDS…` on every TAB (clap_complete's engine, `CompleteEnv`); the
//! completers here answer with the ids the daemon holds. They never start a daemon and stay
//! silent when none runs, so a TAB is never slow or noisy.

use crate::cli::GlobalArgs;
use crate::context::Context;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use do_proto::{
    AgentData, ById, Client, Empty, ExecutionData, ListExecutions, ListWorkflows, Request,
    StepData, TeamData, WorkflowData,
};
use std::ffi::OsString;
use std::path::PathBuf;

/// Ids of stored workflows, with their names as help.
pub(crate) fn workflow_ids() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        let request = Request::ListWorkflows(ListWorkflows {
            status: None,
            category: None,
            all: false,
            limit: 200,
            offset: 0,
        });
        call::<Vec<WorkflowData>>(request)
            .into_iter()
            .flatten()
            .map(|w| CompletionCandidate::new(w.workflow_id).help(Some(w.document.name.into())))
            .collect()
    })
}

/// Ids of the latest executions, with their workflow and status as help.
pub(crate) fn execution_ids() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        let request = Request::ListExecutions(ListExecutions {
            workflow_id: None,
            status: None,
            limit: 200,
            offset: 0,
        });
        call::<Vec<ExecutionData>>(request)
            .into_iter()
            .flatten()
            .map(|e| {
                let help = format!("{} ({})", e.workflow_name, e.status);
                CompletionCandidate::new(e.execution_id).help(Some(help.into()))
            })
            .collect()
    })
}

/// Step ids of the execution named earlier on the command line (`do workflow retry EXEC <TAB>`,
/// or `--last <TAB>`).
pub(crate) fn step_ids() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        let words = words();
        let named = words.iter().find_map(|w| {
            w.to_str()
                .filter(|w| w.starts_with("exec_"))
                .map(str::to_owned)
        });
        let Some(execution) =
            named.or_else(|| words.iter().any(|w| w == "--last").then(latest_execution)?)
        else {
            return Vec::new();
        };
        let Some(status) = call::<ExecutionData>(Request::GetExecution(ById { id: execution }))
        else {
            return Vec::new();
        };
        let mut candidates = Vec::new();
        fn collect(steps: &[StepData], out: &mut Vec<CompletionCandidate>) {
            for step in steps {
                out.push(
                    CompletionCandidate::new(&step.id).help(Some(step.status.to_string().into())),
                );
                collect(&step.steps, out);
            }
        }
        collect(status.steps.as_deref().unwrap_or_default(), &mut candidates);
        candidates
    })
}

/// The id of the execution started last.
fn latest_execution() -> Option<String> {
    let request = Request::ListExecutions(ListExecutions {
        workflow_id: None,
        status: None,
        limit: 1,
        offset: 0,
    });
    call::<Vec<ExecutionData>>(request)?
        .into_iter()
        .next()
        .map(|e| e.execution_id)
}

/// Names of registered agents.
pub(crate) fn agent_names() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        call::<Vec<AgentData>>(Request::ListAgents(Empty {}))
            .into_iter()
            .flatten()
            .map(|a| CompletionCandidate::new(a.spec.name))
            .collect()
    })
}

/// Ids of defined teams.
pub(crate) fn team_ids() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        call::<Vec<TeamData>>(Request::ListTeams(Empty {}))
            .into_iter()
            .flatten()
            .map(|t| CompletionCandidate::new(t.spec.id))
            .collect()
    })
}

/// Names of schedules, with their workflow and cron expression as help.
pub(crate) fn schedule_names() -> ArgValueCandidates {
    ArgValueCandidates::new(|| {
        call::<Vec<do_proto::ScheduleData>>(Request::ListSchedules(Default::default()))
            .into_iter()
            .flatten()
            .map(|s| {
                let help = format!("{} ({})", s.workflow_id, s.spec.cron);
                CompletionCandidate::new(s.spec.name).help(Some(help.into()))
            })
            .collect()
    })
}

/// Asks the daemon, if one runs; any failure means no candidates.
fn call<T: serde::de::DeserializeOwned>(request: Request) -> Option<T> {
    let ctx = Context::new(&global_args()).ok()?;
    let mut client = Client::connect(&ctx.socket).ok()?;
    client.call(request).ok()
}

/// The words being completed: what follows `--` in this process's arguments.
fn words() -> Vec<OsString> {
    std::env::args_os()
        .skip_while(|a| a != "--")
        .skip(1)
        .collect()
}

/// `--socket` and `--data-dir` as typed on the line being completed; `Context` falls back to
/// the environment, as a normal run does.
fn global_args() -> GlobalArgs {
    let words = words();
    let value_of = |flag: &str| -> Option<PathBuf> {
        let prefix = format!("{flag}=");
        words.iter().enumerate().find_map(|(i, w)| {
            let w = w.to_str()?;
            if w == flag {
                words.get(i + 1).map(PathBuf::from)
            } else {
                w.strip_prefix(&prefix).map(PathBuf::from)
            }
        })
    };
    GlobalArgs {
        json: false,
        quiet: true,
        color: clap::ColorChoice::Never,
        socket: value_of("--socket"),
        data_dir: value_of("--data-dir"),
    }
}
