//! `do schedule …`: run a workflow by itself on a cron expression.

use crate::cli::one_of;
use crate::context::Context;
use crate::exit::{SUCCESS, UsageError};
use crate::render::{
    Look, paint_status_in, print_json, print_list, short_time, status_cell, table,
};
use clap::{Args, Subcommand};
use comfy_table::Cell;
use do_core::model::{CatchUp, Overlap, Priority};
use do_core::schedule::ScheduleSpec;
use do_proto::{
    ById, CreateSchedule, FireData, GetSchedule, ListSchedules, RemovedSchedule, Request,
    ScheduleData,
};
use serde_json::Value;
use std::io::Write;

const SCHEDULE_HELP: &str =
    "Each tick queues an execution of the workflow, as `workflow execute` would; the
execution carries the schedule's name (`schedule` in its status document and in its
`execution.queued` event). A tick is recorded, with its scheduled time as a key, in the same
transaction that queues its execution: a daemon that crashes or restarts never fires a tick
twice and never forgets one.

Cron expressions have 5 fields (minute hour day-of-month month day-of-week), or 6 with
seconds first; `@hourly`, `@daily`, `@weekly`, `@monthly` and `@yearly` work too. They are
read in `--timezone` (an IANA name, UTC by default), daylight-saving changes included.

Examples:
  dowf schedule add wf_… --cron '0 7 * * MON-FRI' --timezone Europe/Berlin --name digest
  dowf schedule add wf_… --cron '*/15 * * * *' --overlap queue --catch-up all
  dowf schedule list
  dowf schedule show digest
  dowf schedule trigger digest";

#[derive(Debug, Subcommand)]
#[command(after_help = SCHEDULE_HELP)]
pub(crate) enum ScheduleCommand {
    /// Run a workflow on a cron expression.
    #[command(after_help = SCHEDULE_HELP)]
    Add(AddArgs),
    /// List schedules with their next fire times.
    List(ListArgs),
    /// Show a schedule and its latest fires (the executions it started, ticks it skipped).
    Show(ShowArgs),
    /// Stop a schedule from firing until it is resumed; its ticks meanwhile are not owed.
    Pause(NameArgs),
    /// Let a paused schedule fire again, from its next tick on.
    Resume(NameArgs),
    /// Remove a schedule and its history; the executions it started stay.
    Remove(NameArgs),
    /// Fire a schedule now, as a tick would (its `--overlap` applies), even when paused.
    Trigger(NameArgs),
}

pub(crate) fn run(ctx: &Context, command: ScheduleCommand) -> anyhow::Result<u8> {
    match command {
        ScheduleCommand::Add(args) => cmd_add(ctx, args),
        ScheduleCommand::List(args) => cmd_list(ctx, args),
        ScheduleCommand::Show(args) => cmd_show(ctx, &args),
        ScheduleCommand::Pause(args) => cmd_pause_resume(ctx, &args, true),
        ScheduleCommand::Resume(args) => cmd_pause_resume(ctx, &args, false),
        ScheduleCommand::Remove(args) => cmd_remove(ctx, &args),
        ScheduleCommand::Trigger(args) => cmd_trigger(ctx, &args),
    }
}

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// The workflow's id.
    #[arg(add = crate::complete::workflow_ids())]
    workflow: String,
    /// When it runs: `30 2 * * *`, `*/10 * * * * *` (seconds first), `@daily`…
    #[arg(long, value_name = "EXPR")]
    cron: String,
    /// The IANA time zone the expression is read in (`Europe/Berlin`) [default: UTC].
    #[arg(long, value_name = "TZ")]
    timezone: Option<String>,
    /// The input of each execution, a JSON object; steps read it as `input.KEY`.
    #[arg(long, value_name = "JSON")]
    input: Option<String>,
    /// The priority of each execution.
    #[arg(long, value_parser = one_of::<Priority>(Priority::ALL.iter().map(|v| v.as_str())))]
    priority: Option<Priority>,
    /// A tick while the schedule's previous execution still runs: skip it, queue it until
    /// that one ends, or cancel that one and start.
    #[arg(long, default_value = "skip", value_parser = one_of::<Overlap>(Overlap::ALL.iter().map(|v| v.as_str())))]
    overlap: Overlap,
    /// Ticks missed while the daemon was not running: fire none, only the latest, or all of
    /// them (at most the latest 100).
    #[arg(long, default_value = "latest", value_parser = one_of::<CatchUp>(CatchUp::ALL.iter().map(|v| v.as_str())))]
    catch_up: CatchUp,
    /// The schedule's name, unique [default: the workflow's name, then NAME-2, NAME-3…].
    #[arg(long)]
    name: Option<String>,
    /// Create it paused.
    #[arg(long)]
    paused: bool,
}

fn parse_input(text: &str) -> anyhow::Result<serde_json::Map<String, Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(UsageError(
            "--input must be a JSON object like '{\"topic\":\"rust\"}'".to_owned(),
        )
        .into()),
        Err(e) => Err(UsageError(format!("--input is not valid JSON: {e}")).into()),
    }
}

fn cmd_add(ctx: &Context, args: AddArgs) -> anyhow::Result<u8> {
    let input = args.input.as_deref().map(parse_input).transpose()?;
    let schedule = ScheduleSpec {
        name: args.name.unwrap_or_default(),
        cron: args.cron,
        timezone: args.timezone,
        input,
        priority: args.priority,
        overlap: args.overlap,
        catch_up: args.catch_up,
        paused: args.paused,
    };
    let created: ScheduleData = ctx.client()?.call(Request::CreateSchedule(CreateSchedule {
        workflow_id: args.workflow,
        schedule,
    }))?;
    if ctx.json {
        print_json(&created)?;
    } else if ctx.quiet {
        writeln!(std::io::stdout(), "{}", created.schedule_id)?;
    } else {
        writeln!(
            std::io::stdout(),
            "Created schedule {} ({}) of {}: `{}`{}; next fire {}.",
            created.spec.name,
            created.schedule_id,
            created.workflow_id,
            created.spec.cron,
            zone_suffix(&created),
            next_fire(&created)
        )?;
    }
    Ok(SUCCESS)
}

fn zone_suffix(schedule: &ScheduleData) -> String {
    schedule
        .spec
        .timezone
        .as_deref()
        .map_or_else(String::new, |zone| format!(" in {zone}"))
}

fn next_fire(schedule: &ScheduleData) -> String {
    match &schedule.next_fire_at {
        Some(at) => format!("{} UTC", short_time(at)),
        None if schedule.spec.paused => "none (paused)".to_owned(),
        None => "none".to_owned(),
    }
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// Only the schedules of this workflow.
    #[arg(long, value_name = "WF", add = crate::complete::workflow_ids())]
    workflow: Option<String>,
}

fn cmd_list(ctx: &Context, args: ListArgs) -> anyhow::Result<u8> {
    let schedules: Vec<ScheduleData> =
        ctx.client()?.call(Request::ListSchedules(ListSchedules {
            workflow_id: args.workflow,
        }))?;
    print_list(
        ctx,
        &schedules,
        "No schedules. Add one with `dowf schedule add WF --cron EXPR`.",
        &[
            "NAME",
            "WORKFLOW",
            "CRON",
            "STATUS",
            "NEXT FIRE (UTC)",
            "OVERLAP",
            "CATCH-UP",
        ],
        |s| {
            vec![
                s.spec.name.clone(),
                s.workflow_id.clone(),
                format!("{}{}", s.spec.cron, zone_suffix(s)),
                if s.spec.paused { "paused" } else { "active" }.to_owned(),
                s.next_fire_at
                    .as_deref()
                    .map(short_time)
                    .unwrap_or_default(),
                s.spec.overlap.to_string(),
                s.spec.catch_up.to_string(),
            ]
        },
    )
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// The schedule's name or id.
    #[arg(add = crate::complete::schedule_names())]
    schedule: String,
    /// How many of its latest fires to list.
    #[arg(long, default_value_t = do_proto::default_history(), value_name = "N")]
    history: u32,
}

fn cmd_show(ctx: &Context, args: &ShowArgs) -> anyhow::Result<u8> {
    let schedule: ScheduleData = ctx.client()?.call(Request::GetSchedule(GetSchedule {
        id: args.schedule.clone(),
        history: args.history,
    }))?;
    if ctx.json {
        print_json(&schedule)?;
        return Ok(SUCCESS);
    }
    let history = schedule.history.clone().unwrap_or_default();
    if ctx.quiet {
        let mut out = std::io::stdout().lock();
        for execution in history.iter().filter_map(|f| f.execution_id.as_deref()) {
            writeln!(out, "{execution}")?;
        }
        return Ok(SUCCESS);
    }
    let mut out = std::io::stdout().lock();
    let state = if schedule.spec.paused {
        "paused"
    } else {
        "active"
    };
    writeln!(
        out,
        "{}  ({}, {})",
        schedule.spec.name,
        schedule.schedule_id,
        paint_status_in(Look::of(ctx), state)
    )?;
    writeln!(out, "workflow:  {}", schedule.workflow_id)?;
    writeln!(
        out,
        "cron:      {}{}",
        schedule.spec.cron,
        zone_suffix(&schedule)
    )?;
    writeln!(out, "next fire: {}", next_fire(&schedule))?;
    writeln!(
        out,
        "overlap:   {}; catch-up: {}; priority: {}",
        schedule.spec.overlap,
        schedule.spec.catch_up,
        schedule.spec.priority.unwrap_or(Priority::Normal)
    )?;
    if let Some(input) = &schedule.spec.input {
        writeln!(out, "input:     {}", Value::Object(input.clone()))?;
    }
    if schedule.from_document {
        writeln!(out, "from:      the workflow document's `schedules`")?;
    }
    if history.is_empty() {
        writeln!(out, "\nNo fires yet.")?;
        return Ok(SUCCESS);
    }
    drop(out);
    writeln!(std::io::stdout(), "\nLatest fires (UTC):")?;
    let mut t = table(
        ctx,
        &[
            "SCHEDULED",
            "TRIGGER",
            "OUTCOME",
            "EXECUTION",
            "STATUS",
            "DETAIL",
        ],
    );
    for fire in &history {
        t.add_row(fire_row(ctx, fire));
    }
    crate::render::print_table(&t)?;
    Ok(SUCCESS)
}

fn fire_row(ctx: &Context, fire: &FireData) -> Vec<Cell> {
    let status = fire
        .execution_status
        .map(|s| s.to_string())
        .unwrap_or_default();
    vec![
        Cell::new(short_time(&fire.scheduled_at)),
        Cell::new(fire.trigger.to_string()),
        Cell::new(fire.outcome.to_string()),
        Cell::new(fire.execution_id.clone().unwrap_or_default()),
        status_cell(ctx, &status),
        Cell::new(fire.detail.clone().unwrap_or_default()),
    ]
}

#[derive(Debug, Args)]
pub(crate) struct NameArgs {
    /// The schedule's name or id.
    #[arg(add = crate::complete::schedule_names())]
    schedule: String,
}

fn cmd_pause_resume(ctx: &Context, args: &NameArgs, pause: bool) -> anyhow::Result<u8> {
    let id = ById {
        id: args.schedule.clone(),
    };
    let request = if pause {
        Request::PauseSchedule(id)
    } else {
        Request::ResumeSchedule(id)
    };
    let schedule: ScheduleData = ctx.client()?.call(request)?;
    if ctx.json {
        print_json(&schedule)?;
    } else if !ctx.quiet {
        let verb = if pause { "Paused" } else { "Resumed" };
        writeln!(
            std::io::stdout(),
            "{verb} schedule {}; next fire {}.",
            schedule.spec.name,
            next_fire(&schedule)
        )?;
    }
    Ok(SUCCESS)
}

fn cmd_remove(ctx: &Context, args: &NameArgs) -> anyhow::Result<u8> {
    let removed: RemovedSchedule = ctx.client()?.call(Request::RemoveSchedule(ById {
        id: args.schedule.clone(),
    }))?;
    if ctx.json {
        print_json(&removed)?;
    } else if !ctx.quiet {
        writeln!(
            std::io::stdout(),
            "Removed schedule {} ({}).",
            removed.name,
            removed.schedule_id
        )?;
    }
    Ok(SUCCESS)
}

fn cmd_trigger(ctx: &Context, args: &NameArgs) -> anyhow::Result<u8> {
    let fire: FireData = ctx.client()?.call(Request::TriggerSchedule(ById {
        id: args.schedule.clone(),
    }))?;
    if ctx.json {
        print_json(&fire)?;
    } else if ctx.quiet {
        if let Some(execution) = &fire.execution_id {
            writeln!(std::io::stdout(), "{execution}")?;
        }
    } else {
        let mut line = format!("Fired schedule {}: {}", args.schedule, fire.outcome);
        if let Some(execution) = &fire.execution_id {
            line.push_str(&format!(", execution {execution}"));
        }
        if let Some(detail) = &fire.detail {
            line.push_str(&format!(" ({detail})"));
        }
        writeln!(std::io::stdout(), "{line}.")?;
    }
    Ok(SUCCESS)
}
