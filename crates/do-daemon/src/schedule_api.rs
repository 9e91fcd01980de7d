//! The `schedules.*` methods, and the schedules a workflow document declares.

use crate::answers::{Answer, internal, to_data};
use crate::schedule_task::{cadence_of, fire};
use crate::submit::load_workflow;
use crate::{Shared, ids, time};
use do_core::model::{FireTrigger, WorkflowStatus};
use do_core::schedule::{ScheduleSpec, check_name, check_spec};
use do_core::validate::did_you_mean;
use do_proto::{
    ApiError, CreateSchedule, ErrorCode, FireData, GetSchedule, ListSchedules, RemovedSchedule,
    ScheduleData,
};
use do_store::prelude::*;
use do_store::{FireRecord, ScheduleRecord, StoreError, WorkflowRecord};
use serde_json::{Value, json};
use std::sync::Arc;

pub(crate) fn create(shared: &Shared, params: CreateSchedule) -> Answer {
    let workflow = load_workflow(shared, &params.workflow_id)?;
    if workflow.status == WorkflowStatus::Archived {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "workflow `{}` is archived and cannot be scheduled; store it again with \
                 `do workflow create FILE`",
                workflow.id
            ),
        ));
    }
    let mut spec = params.schedule;
    crate::submit::execution_input(shared, spec.input.clone().map(Value::Object))?;
    let now = time::now_ms();
    let record = shared
        .store()
        .write(|w| {
            if spec.name.is_empty() {
                spec.name = free_name(w, &workflow.document.name)?;
            }
            let problems = check_spec(&spec, "");
            if !problems.is_empty() {
                return Ok(Err(invalid(problems)));
            }
            let record = ScheduleRecord {
                id: ids::new_id("sched"),
                workflow_id: workflow.id.clone(),
                spec: spec.clone(),
                from_document: false,
                cursor: now,
                created_at: now,
                updated_at: now,
            };
            w.insert_schedule(&record)?;
            Ok(Ok(record))
        })
        .map_err(conflict)??;
    shared.schedules_changed.notify_one();
    tracing::info!(schedule = %record.id, name = %record.spec.name, workflow = %record.workflow_id, "schedule created");
    to_data(&schedule_data(&record, None))
}

/// The workflow's name, or `NAME-2`, `NAME-3`… when it is taken.
fn free_name(w: &mut dyn Tx, workflow_name: &str) -> Result<String, StoreError> {
    let base: String = workflow_name
        .chars()
        .take(do_core::schedule::MAX_NAME_CHARS - 8)
        .collect();
    let base = if check_name(&base).is_ok() {
        base
    } else {
        "schedule".to_owned()
    };
    let mut name = base.clone();
    let mut n = 1;
    while w.schedule(&name)?.is_some() {
        n += 1;
        name = format!("{base}-{n}");
    }
    Ok(name)
}

fn invalid(problems: Vec<do_core::validate::Diagnostic>) -> ApiError {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    ApiError::new(ErrorCode::InvalidRequest, lines.join("; "))
        .with_details(json!({ "errors": problems }))
}

/// A taken schedule name as the error a person can act on.
pub(crate) fn conflict(error: StoreError) -> ApiError {
    match error {
        StoreError::Conflict {
            what: "schedule",
            id: name,
        } => ApiError::new(
            ErrorCode::Conflict,
            format!(
                "a schedule named `{name}` exists already; choose another name (`--name`, or \
                 `name` in the document's `schedules`), or remove it with `do schedule remove \
                 {name}`"
            ),
        ),
        other => internal(other),
    }
}

pub(crate) fn list(shared: &Shared, params: ListSchedules) -> Answer {
    if let Some(id) = &params.workflow_id {
        load_workflow(shared, id)?;
    }
    let schedules = shared
        .store()
        .list_schedules(params.workflow_id.as_deref())
        .map_err(internal)?;
    to_data(
        &schedules
            .iter()
            .map(|s| schedule_data(s, None))
            .collect::<Vec<_>>(),
    )
}

pub(crate) fn get(shared: &Shared, params: GetSchedule) -> Answer {
    let schedule = load(shared, &params.id)?;
    let store = shared.store();
    let fires = store
        .schedule_fires(&schedule.id, params.history)
        .map_err(internal)?;
    let mut history = Vec::with_capacity(fires.len());
    for fire in fires {
        let status = match &fire.execution_id {
            Some(id) => store.execution(id).map_err(internal)?.map(|e| e.status),
            None => None,
        };
        history.push(fire_data(fire, status));
    }
    to_data(&schedule_data(&schedule, Some(history)))
}

pub(crate) fn set_paused(shared: &Shared, id: &str, paused: bool) -> Answer {
    let now = time::now_ms();
    let updated = shared
        .store()
        .write(|w| {
            let Some(mut record) = w.schedule(id)? else {
                return Ok(None);
            };
            if record.spec.paused != paused {
                record.spec.paused = paused;
                record.updated_at = now;
                // Ticks while it was paused are not owed: it resumes from now.
                record.cursor = record.cursor.max(now);
                w.update_schedule(&record)?;
            }
            Ok(Some(record))
        })
        .map_err(internal)?;
    // Not in the statement above: its store guard lives to the statement's end, and
    // `not_found` locks the store again.
    let record = updated.ok_or_else(|| not_found(shared, id))?;
    shared.schedules_changed.notify_one();
    tracing::info!(schedule = %record.id, paused, "schedule paused or resumed");
    to_data(&schedule_data(&record, None))
}

pub(crate) fn remove(shared: &Shared, id: &str) -> Answer {
    let schedule = load(shared, id)?;
    let removed = shared
        .store()
        .write(|w| w.remove_schedule(&schedule.id))
        .map_err(internal)?;
    if !removed {
        return Err(not_found(shared, id));
    }
    shared.schedules_changed.notify_one();
    tracing::info!(schedule = %schedule.id, "schedule removed");
    to_data(&RemovedSchedule {
        schedule_id: schedule.id,
        name: schedule.spec.name,
        removed: true,
    })
}

/// Fires the schedule now, as a tick would (its `overlap` applies), paused or not.
pub(crate) async fn trigger(shared: &Arc<Shared>, id: &str) -> Answer {
    let schedule = load(shared, id)?;
    let fired = fire(shared, &schedule, time::now_ms(), FireTrigger::Manual).await?;
    let fire = fired.ok_or_else(|| {
        ApiError::new(
            ErrorCode::Conflict,
            format!(
                "schedule `{}` fired this very millisecond already; try again",
                schedule.spec.name
            ),
        )
    })?;
    let status = match &fire.execution_id {
        Some(execution) => shared
            .store()
            .execution(execution)
            .map_err(internal)?
            .map(|e| e.status),
        None => None,
    };
    to_data(&fire_data(fire, status))
}

fn load(shared: &Shared, id: &str) -> Result<ScheduleRecord, ApiError> {
    let found = shared.store().schedule(id).map_err(internal)?;
    found.ok_or_else(|| not_found(shared, id))
}

fn not_found(shared: &Shared, id: &str) -> ApiError {
    let schedules = shared.store().list_schedules(None).unwrap_or_default();
    let hint = match did_you_mean(id, schedules.iter().map(|s| s.spec.name.as_str())) {
        Some(name) => format!("; did you mean `{name}`?"),
        None => "; `do schedule list` shows them".to_owned(),
    };
    ApiError::new(
        ErrorCode::NotFound,
        format!("no schedule with the id or name `{id}`{hint}"),
    )
}

fn schedule_data(record: &ScheduleRecord, history: Option<Vec<FireData>>) -> ScheduleData {
    let next_fire_at = if record.spec.paused {
        None
    } else {
        cadence_of(record)
            .ok()
            .and_then(|c| c.next_after(record.cursor.max(time::now_ms())))
            .map(time::rfc3339)
    };
    ScheduleData {
        schedule_id: record.id.clone(),
        workflow_id: record.workflow_id.clone(),
        spec: record.spec.clone(),
        from_document: record.from_document,
        next_fire_at,
        created_at: time::rfc3339(record.created_at),
        updated_at: time::rfc3339(record.updated_at),
        history,
    }
}

fn fire_data(fire: FireRecord, status: Option<do_core::model::ExecutionStatus>) -> FireData {
    FireData {
        scheduled_at: time::rfc3339(fire.scheduled_at),
        fired_at: time::rfc3339(fire.fired_at),
        trigger: fire.trigger,
        outcome: fire.outcome,
        execution_id: fire.execution_id,
        execution_status: status,
        detail: fire.detail,
    }
}

/// Makes the workflow's schedules match its document's `schedules`, by name: new ones are
/// created, changed ones take the document's spec, ones the document made and no longer
/// has are removed. Schedules made with `do schedule add` are left alone, and a schedule
/// whose spec did not change keeps its state (paused or not). A name taken by another
/// workflow's schedule is [`StoreError::Conflict`] (see [`conflict`]).
pub(crate) fn sync_document(
    w: &mut dyn Tx,
    workflow: &WorkflowRecord,
    now: i64,
) -> Result<(), StoreError> {
    let existing = w.workflow_schedules(&workflow.id)?;
    let wanted = &workflow.document.schedules;
    for spec in wanted {
        match existing.iter().find(|s| s.spec.name == spec.name) {
            Some(current) if current.from_document && same_ignoring_paused(&current.spec, spec) => {
            }
            Some(current) => {
                let resumed = current.spec.paused && !spec.paused;
                w.update_schedule(&ScheduleRecord {
                    spec: spec.clone(),
                    from_document: true,
                    cursor: if resumed {
                        current.cursor.max(now)
                    } else {
                        current.cursor
                    },
                    updated_at: now,
                    ..current.clone()
                })?;
            }
            None => w.insert_schedule(&ScheduleRecord {
                id: ids::new_id("sched"),
                workflow_id: workflow.id.clone(),
                spec: spec.clone(),
                from_document: true,
                cursor: now,
                created_at: now,
                updated_at: now,
            })?,
        }
    }
    for gone in existing
        .iter()
        .filter(|s| s.from_document && !wanted.iter().any(|spec| spec.name == s.spec.name))
    {
        w.remove_schedule(&gone.id)?;
    }
    Ok(())
}

fn same_ignoring_paused(stored: &ScheduleSpec, document: &ScheduleSpec) -> bool {
    ScheduleSpec {
        paused: document.paused,
        ..stored.clone()
    } == *document
}
