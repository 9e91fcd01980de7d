//! The schedule task: one timer on the next tick of all schedules, woken early when a
//! schedule changes and when an execution a queued tick waits for ends. No polling.
//!
//! Each tick is decided in one transaction that records its fire under the key (schedule,
//! scheduled time), moves the schedule's cursor past it and, when it starts a run, queues the
//! execution: a tick fired before a crash is found at the next start and not fired again, and
//! one whose transaction did not commit is still due. On start, the ticks missed while the
//! daemon was down fire as the schedule's `catchUp` says.

use crate::answers;
use crate::scheduler::Control;
use crate::scheduler::control;
use crate::submit;
use crate::{Shared, time};
use do_core::model::{FireOutcome, FireTrigger, Overlap};
use do_core::schedule::{CATCH_UP_LIMIT, Cadence, due_ticks};
use do_proto::{ApiError, ErrorCode, Event, EventKind};
use do_store::prelude::*;
use do_store::{ExecutionRecord, FireRecord, ScheduleRecord, ScheduleRef, StoreError};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// Runs until the daemon stops (the task is aborted then).
pub(crate) async fn run(shared: Arc<Shared>) {
    let mut events = shared.events.subscribe();
    catch_up(&shared).await;
    start_waiting(&shared, None).await;
    loop {
        // The next tick is computed again only when a tick fired or a schedule changed, not
        // at every event of the stream.
        let sleep = sleep_until(next_tick(&shared));
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                () = &mut sleep => {
                    fire_due(&shared).await;
                    break;
                }
                () = shared.schedules_changed.notified() => break,
                received = events.recv() => match received {
                    Ok(event) if event.kind == EventKind::ExecutionFinished => {
                        start_waiting(&shared, Some(&event)).await;
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => start_waiting(&shared, None).await,
                    Err(RecvError::Closed) => return,
                },
            }
        }
    }
}

async fn sleep_until(at: Option<i64>) {
    match at {
        Some(at) => {
            let wait = u64::try_from(at - time::now_ms()).unwrap_or(0);
            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
        }
        None => std::future::pending().await,
    }
}

/// Unpaused schedules with their cadence; one whose expression no longer reads (it was
/// valid when stored) is logged and left out.
fn active_schedules(shared: &Shared) -> Vec<(ScheduleRecord, Cadence)> {
    let schedules = match shared.store().list_schedules(None) {
        Ok(schedules) => schedules,
        Err(error) => {
            tracing::error!(%error, "cannot read the schedules");
            return Vec::new();
        }
    };
    schedules
        .into_iter()
        .filter(|s| !s.spec.paused)
        .filter_map(|s| match cadence_of(&s) {
            Ok(cadence) => Some((s, cadence)),
            Err(error) => {
                tracing::error!(schedule = %s.id, %error, "schedule cannot fire");
                None
            }
        })
        .collect()
}

pub(crate) fn cadence_of(
    schedule: &ScheduleRecord,
) -> Result<Cadence, do_core::schedule::CadenceError> {
    Cadence::new(&schedule.spec.cron, schedule.spec.timezone.as_deref())
}

/// The earliest next tick of all unpaused schedules.
fn next_tick(shared: &Shared) -> Option<i64> {
    active_schedules(shared)
        .iter()
        .filter_map(|(schedule, cadence)| cadence.next_after(schedule.cursor))
        .min()
}

/// After a start: the ticks each schedule missed while the daemon was down.
async fn catch_up(shared: &Arc<Shared>) {
    let now = time::now_ms();
    for (schedule, cadence) in active_schedules(shared) {
        let due = due_ticks(
            &cadence,
            schedule.spec.catch_up,
            schedule.cursor,
            now,
            false,
        );
        let missed_any = !cadence
            .ticks_between(schedule.cursor, now, 1)
            .ticks
            .is_empty();
        if missed_any {
            tracing::info!(
                schedule = %schedule.spec.name,
                catch_up = %schedule.spec.catch_up,
                firing = due.ticks.len(),
                older_dropped = due.more,
                "ticks were missed while the daemon was not running"
            );
        }
        for tick in due.ticks {
            fire_logged(shared, &schedule, tick, FireTrigger::CatchUp).await;
        }
        advance_cursor(shared, &schedule.id, now);
    }
}

/// The ticks that came due while the daemon ran.
async fn fire_due(shared: &Arc<Shared>) {
    let now = time::now_ms();
    for (schedule, cadence) in active_schedules(shared) {
        if cadence.next_after(schedule.cursor).is_none_or(|t| t > now) {
            continue;
        }
        let due = due_ticks(&cadence, schedule.spec.catch_up, schedule.cursor, now, true);
        let latest = due.ticks.last().copied();
        for tick in due.ticks {
            let trigger = if Some(tick) == latest {
                FireTrigger::Tick
            } else {
                FireTrigger::CatchUp
            };
            fire_logged(shared, &schedule, tick, trigger).await;
        }
        advance_cursor(shared, &schedule.id, now);
    }
}

fn advance_cursor(shared: &Shared, schedule_id: &str, to: i64) {
    if let Err(error) = shared
        .store()
        .write(|w| w.advance_schedule_cursor(schedule_id, to))
    {
        tracing::error!(schedule = %schedule_id, %error, "cannot store the schedule's progress");
    }
}

async fn fire_logged(
    shared: &Arc<Shared>,
    schedule: &ScheduleRecord,
    scheduled_at: i64,
    trigger: FireTrigger,
) {
    match fire(shared, schedule, scheduled_at, trigger).await {
        Ok(Some(fire)) => {
            tracing::info!(schedule = %schedule.spec.name, scheduled_at = %time::rfc3339(scheduled_at), %trigger, outcome = %fire.outcome, execution = ?fire.execution_id, "schedule fired");
        }
        Ok(None) => {
            tracing::info!(schedule = %schedule.spec.name, scheduled_at = %time::rfc3339(scheduled_at), "tick already fired");
        }
        Err(error) => {
            tracing::error!(schedule = %schedule.spec.name, scheduled_at = %time::rfc3339(scheduled_at), error = %error.message, "schedule could not fire");
        }
    }
}

/// Fires one tick of a schedule as its `overlap` says; `None` when the tick had fired
/// already (its key is taken).
pub(crate) async fn fire(
    shared: &Arc<Shared>,
    schedule: &ScheduleRecord,
    scheduled_at: i64,
    trigger: FireTrigger,
) -> Result<Option<FireRecord>, ApiError> {
    let live = shared
        .store()
        .live_schedule_executions(&schedule.id)
        .map_err(answers::internal)?;
    let mut fire = FireRecord {
        schedule_id: schedule.id.clone(),
        scheduled_at,
        fired_at: time::now_ms(),
        trigger,
        outcome: FireOutcome::Started,
        execution_id: None,
        detail: None,
    };
    if let Some(previous) = live.last() {
        match schedule.spec.overlap {
            Overlap::Skip => {
                fire.outcome = FireOutcome::Skipped;
                fire.detail = Some(format!("execution `{previous}` was still running"));
                return record_only(shared, fire);
            }
            Overlap::Queue => {
                let waiting = shared
                    .store()
                    .write(|w| w.waiting_fires(&schedule.id))
                    .map_err(answers::internal)?
                    .len();
                if waiting >= CATCH_UP_LIMIT {
                    fire.outcome = FireOutcome::Skipped;
                    fire.detail = Some(format!(
                        "{CATCH_UP_LIMIT} ticks wait already for execution `{previous}` to end"
                    ));
                } else {
                    fire.outcome = FireOutcome::Waiting;
                    fire.detail = Some(format!("waits for execution `{previous}` to end"));
                }
                return record_only(shared, fire);
            }
            Overlap::CancelPrevious => {
                let reason = format!(
                    "replaced by the tick of {} of schedule `{}`",
                    time::rfc3339(scheduled_at),
                    schedule.spec.name
                );
                for execution_id in live {
                    // One that ended meanwhile answers with a conflict: nothing to cancel.
                    let _ =
                        control(shared, execution_id, Control::Cancel(Some(reason.clone()))).await;
                }
            }
        }
    }
    start(shared, schedule, fire, false)
}

/// Records a fire that queues nothing, moving the cursor past it.
fn record_only(shared: &Shared, fire: FireRecord) -> Result<Option<FireRecord>, ApiError> {
    let inserted = shared
        .store()
        .write(|w| {
            let inserted = w.insert_fire(&fire)?;
            advance_past(w, &fire)?;
            Ok(inserted)
        })
        .map_err(answers::internal)?;
    Ok(inserted.then_some(fire))
}

/// Queues the execution of a fire, with the fire, in one transaction. A fire that cannot
/// (the workflow is archived, an agent is missing) is recorded as failed, with why. With
/// `waiting`, the fire is already recorded as waiting and is updated instead.
fn start(
    shared: &Shared,
    schedule: &ScheduleRecord,
    mut fire: FireRecord,
    waiting: bool,
) -> Result<Option<FireRecord>, ApiError> {
    let prepared = prepare(shared, schedule, fire.scheduled_at);
    let record = match prepared {
        Ok((workflow, record)) => Some((workflow, record)),
        Err(error) => {
            fire.outcome = FireOutcome::Failed;
            fire.detail = Some(error.message);
            None
        }
    };
    let now = time::now_ms();
    if let Some((_, record)) = &record {
        fire.outcome = FireOutcome::Started;
        fire.execution_id = Some(record.id.clone());
        fire.detail = None;
    }
    let committed = shared
        .store()
        .write(|w| {
            let recorded = if waiting {
                w.update_fire(&fire).map(|()| true)?
            } else {
                w.insert_fire(&fire)?
            };
            if !recorded {
                return Ok(None);
            }
            advance_past(w, &fire)?;
            match &record {
                Some((workflow, record)) => Ok(Some(Some(submit::queue_execution(
                    w, workflow, record, now,
                )?))),
                None => Ok(Some(None)),
            }
        })
        .map_err(answers::internal)?;
    match (committed, record) {
        (None, _) => Ok(None),
        (Some(Some(event)), Some((_, record))) => {
            submit::execution_queued(shared, event, &record)?;
            Ok(Some(fire))
        }
        (Some(_), _) => Ok(Some(fire)),
    }
}

/// The execution a tick queues, checked as `workflows.execute` checks one.
fn prepare(
    shared: &Shared,
    schedule: &ScheduleRecord,
    scheduled_at: i64,
) -> Result<(do_store::WorkflowRecord, ExecutionRecord), ApiError> {
    let workflow = submit::load_workflow(shared, &schedule.workflow_id)?;
    if workflow.status == do_core::model::WorkflowStatus::Archived {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            format!(
                "workflow `{}` is archived; remove the schedule (`do schedule remove {}`) or \
                 store the workflow again",
                workflow.id, schedule.spec.name
            ),
        ));
    }
    let input = submit::execution_input(
        shared,
        schedule.spec.input.clone().map(serde_json::Value::Object),
    )?;
    submit::check_runners(shared, &workflow.id, &workflow.document)?;
    let mut record = submit::new_execution(
        &workflow,
        input,
        schedule.spec.priority,
        None,
        time::now_ms(),
    );
    record.schedule = Some(ScheduleRef {
        id: schedule.id.clone(),
        name: schedule.spec.name.clone(),
        scheduled_at,
    });
    Ok((workflow, record))
}

/// Starts the oldest waiting fire of each schedule (of the finished execution's schedule, or
/// of all) that has no execution left running.
async fn start_waiting(shared: &Arc<Shared>, finished: Option<&Event>) {
    let schedules = match finished {
        Some(event) => {
            let execution = shared.store().execution(&event.execution_id);
            match execution {
                Ok(Some(ExecutionRecord {
                    schedule: Some(schedule),
                    ..
                })) => shared
                    .store()
                    .schedule(&schedule.id)
                    .ok()
                    .flatten()
                    .into_iter()
                    .collect(),
                _ => Vec::new(),
            }
        }
        None => shared.store().list_schedules(None).unwrap_or_default(),
    };
    for schedule in schedules {
        if let Err(error) = start_next_waiting(shared, &schedule) {
            tracing::error!(schedule = %schedule.spec.name, error = %error.message, "cannot start a waiting tick");
        }
    }
}

/// Starts the schedule's oldest waiting fire once none of its executions runs; a fire that
/// fails to start lets the next one try.
fn start_next_waiting(shared: &Shared, schedule: &ScheduleRecord) -> Result<(), ApiError> {
    loop {
        let (live, waiting) = shared
            .store()
            .write(|w| {
                Ok((
                    w.live_schedule_executions(&schedule.id)?,
                    next_waiting(w, &schedule.id)?,
                ))
            })
            .map_err(answers::internal)?;
        let (true, Some(fire)) = (live.is_empty(), waiting) else {
            return Ok(());
        };
        let Some(fire) = start(shared, schedule, fire, true)? else {
            return Ok(());
        };
        tracing::info!(schedule = %schedule.spec.name, scheduled_at = %time::rfc3339(fire.scheduled_at), outcome = %fire.outcome, execution = ?fire.execution_id, "waiting tick started");
        if fire.outcome == FireOutcome::Started {
            return Ok(());
        }
    }
}

fn next_waiting(w: &mut dyn Tx, schedule_id: &str) -> Result<Option<FireRecord>, StoreError> {
    Ok(w.waiting_fires(schedule_id)?.into_iter().next())
}

/// Moves the schedule's cursor past a tick. A manual fire is no tick: a tick due at the
/// same moment must still fire.
fn advance_past(w: &mut dyn Tx, fire: &FireRecord) -> Result<(), StoreError> {
    if fire.trigger == FireTrigger::Manual {
        return Ok(());
    }
    w.advance_schedule_cursor(&fire.schedule_id, fire.scheduled_at)
}
