//! The scheduler: one task that owns the state of every active execution, starts ready steps
//! within the concurrency limit (by priority, then age), and commits every transition to the
//! store before acting on it.
//!
//! It works in turns: a turn handles the messages that are waiting (up to
//! [`MESSAGES_PER_TURN`]) and starts what became ready, all in one transaction
//! ([`Store::batch`]). What the turn's transitions ask for (agents to start or end, events to
//! broadcast, answers) waits in [`Scheduler::deferred`] until that transaction has committed.
//! A step's end and the start of the step it unblocks thus cost one commit, and the next
//! agent starts one commit after the last one exited.
//!
//! A transition whose write fails (a full disk, a read-only database) leaves the execution's
//! memory ahead of its store: the execution is set aside ([`Scheduler::stale`]) and nothing of
//! it starts or ends; its messages wait in [`Scheduler::held`]. When the turn's commit fails,
//! every execution the turn changed is set aside, and nothing the turn asked for is carried
//! out. Every [`RETRY_AFTER`], the set-aside executions are read back from the store and their
//! messages handled again, so that once the store takes writes again everything goes on.

mod set_aside;

use crate::notify::{self, Notifications};
use crate::runner::{self, Outcome, RunSpec};
use crate::status::append_event;
use crate::{Shared, time};
use do_core::engine::{Change, ExecutionState, NodeId, NodeKind, Plan, Runner, loop_items_key};
use do_core::model::{AttemptStatus, ExecutionStatus, StepStatus, TeamStrategy};
use do_proto::{ApiError, ErrorCode, Event, EventKind};
use do_store::{AttemptRecord, ExecutionRecord, StepRecord, Store, StoreError, Writer};
use futures_core::future::BoxFuture;
use serde_json::{Value, json};
use set_aside::set_aside;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, oneshot};

/// How long a started agent's process group may wait to be stored (see
/// `Scheduler::spawned`).
const RECORD_SPAWNED_AFTER: std::time::Duration = std::time::Duration::from_millis(5);

/// At most this many waiting messages share one turn (one transaction): enough to group the
/// ends of a burst of short steps, few enough that the first of them waits little for its
/// commit.
const MESSAGES_PER_TURN: usize = 64;

/// How long a set-aside execution waits before it is read back and its messages retried.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(500);

pub(crate) enum Message {
    /// An execution was queued (or recovered): load it and start what is ready.
    Start(String),
    /// An attempt ended.
    Finished {
        execution_id: String,
        node: NodeId,
        outcome: Outcome,
        /// The attempt's stderr log, if it wrote any.
        log_path: Option<String>,
    },
    /// A failed step's backoff delay has passed.
    Wake { execution_id: String, node: NodeId },
    /// The workflow's `timeout` has passed.
    Timeout(String),
    /// A person's decision about an execution; answered once committed.
    Control {
        execution_id: String,
        action: Control,
        reply: oneshot::Sender<Result<(), ApiError>>,
    },
    /// An attempt's agent runs: record its process group.
    Spawned {
        execution_id: String,
        node: NodeId,
        pgid: i32,
    },
    /// Time to record the process groups of agents that started and still run.
    RecordSpawned,
    /// An attempt's agent reported how far along it is (`::progress N`).
    Progress {
        execution_id: String,
        node: NodeId,
        attempt: u32,
        percentage: u8,
    },
    /// Stop: start nothing new; with `now`, end running steps (they run again at the next
    /// start), else wait for them; then answer.
    Shutdown {
        now: bool,
        reply: oneshot::Sender<()>,
    },
    /// Time to read back the set-aside executions and retry their messages.
    Retry,
}

pub(crate) enum Control {
    Cancel(Option<String>),
    Pause,
    Resume,
    Retry(String),
}

struct Active {
    record: ExecutionRecord,
    state: ExecutionState,
    rows: HashMap<NodeId, StepRecord>,
    running: HashMap<NodeId, Running>,
    /// Whether the execution's run directory and workspace have been made (once, before its
    /// first step runs).
    dirs_ready: bool,
    /// The execution input as JSON, for every agent's `DO_EXECUTION_INPUT`: serialising it
    /// per step made a loop over the input's items quadratic.
    input_json: Arc<str>,
    /// The columns of the execution's row that its steps change, as the scheduler last wrote
    /// (or loaded) them.
    written: ExecutionRow,
    /// The first cancel's answer, sent once the execution has ended.
    cancel_reply: Option<oneshot::Sender<Result<(), ApiError>>>,
}

/// The columns of an execution's row that change while it runs. Most transitions of a
/// parallel step change none of them; their commits skip the row (one page less to write).
struct ExecutionRow {
    status: ExecutionStatus,
    current_step: Option<String>,
    steps_completed: u32,
    error: Option<String>,
    cancel_reason: Option<String>,
    started_at: Option<i64>,
    completed_at: Option<i64>,
}

impl ExecutionRow {
    fn of(record: &ExecutionRecord) -> Self {
        ExecutionRow {
            status: record.status,
            current_step: record.current_step.clone(),
            steps_completed: record.steps_completed,
            error: record.error.clone(),
            cancel_reason: record.cancel_reason.clone(),
            started_at: record.started_at,
            completed_at: record.completed_at,
        }
    }

    /// Writes the execution's row and remembers what was written.
    fn write(w: &mut Writer<'_>, active: &mut Active) -> Result<(), StoreError> {
        w.update_execution(&active.record)?;
        active.written = ExecutionRow::of(&active.record);
        Ok(())
    }

    fn matches(&self, record: &ExecutionRecord) -> bool {
        self.status == record.status
            && self.current_step == record.current_step
            && self.steps_completed == record.steps_completed
            && self.error == record.error
            && self.cancel_reason == record.cancel_reason
            && self.started_at == record.started_at
            && self.completed_at == record.completed_at
    }
}

struct Running {
    attempt: AttemptRecord,
    kill: Option<oneshot::Sender<()>>,
    /// Its agent has exited, but its end is not recorded yet: the execution was read back
    /// from the store, and its `Finished` message waits in [`Scheduler::held`].
    ended: bool,
}

struct Scheduler {
    shared: Arc<Shared>,
    active: HashMap<String, Active>,
    running: usize,
    stopping: bool,
    /// Attempts whose process group is known but not yet stored (see [`Scheduler::spawned`]).
    unrecorded_spawns: HashSet<(String, NodeId)>,
    /// Whether a `RecordSpawned` message is on its way.
    record_armed: bool,
    /// What this turn's transitions ask for, in order, carried out once they are durable.
    deferred: Vec<Deferred>,
    /// Executions that ended in this turn: forgotten once it has committed, if no step of
    /// theirs runs.
    ended: Vec<String>,
    /// Executions changed by this turn's transitions: set aside if it does not commit.
    touched: HashSet<String>,
    /// Executions whose memory may hold a decision the store does not: nothing of theirs
    /// starts, ends or is decided until they are read back from the store.
    stale: HashSet<String>,
    /// Messages of set-aside executions, and those of turns that did not commit, in order.
    held: Vec<Message>,
    /// Whether a `Retry` message is on its way.
    retry_armed: bool,
    /// Whether a `Retry` turn ran after the stop was asked for: the stop then waits no longer
    /// for what cannot be recorded.
    retried_while_stopping: bool,
}

/// Something a transition asks for that must wait until it has committed: nothing is started,
/// ended, announced or answered on the strength of a decision that could still be lost.
enum Deferred {
    Broadcast(Event),
    Kill(oneshot::Sender<()>),
    /// A step's agent, or the delivery of a notification.
    Spawn(BoxFuture<'static, ()>),
    Answer(oneshot::Sender<Result<(), ApiError>>, Result<(), ApiError>),
}

/// What became of a ready step the scheduler tried to start.
enum Started {
    /// It runs, or it could not and has failed: either way it is no longer ready.
    Yes,
    /// Its agent is at its `--concurrency` limit: it stays ready.
    AgentBusy,
}

pub(crate) async fn run(shared: Arc<Shared>, mut messages: mpsc::UnboundedReceiver<Message>) {
    let mut scheduler = Scheduler {
        shared,
        active: HashMap::new(),
        running: 0,
        stopping: false,
        unrecorded_spawns: HashSet::new(),
        record_armed: false,
        deferred: Vec::new(),
        ended: Vec::new(),
        touched: HashSet::new(),
        stale: HashSet::new(),
        held: Vec::new(),
        retry_armed: false,
        retried_while_stopping: false,
    };
    let mut shutdown_reply = None;
    while let Some(first) = messages.recv().await {
        let shared = scheduler.shared.clone();
        let mut store = shared.store();
        let (facts, committed) = store.batch(|store| {
            let mut facts = Vec::new();
            let mut next = Some(first);
            let mut handled = 0;
            while let Some(message) = next.take() {
                scheduler.turn(store, message, &mut facts, &mut shutdown_reply);
                handled += 1;
                if handled < MESSAGES_PER_TURN {
                    next = messages.try_recv().ok();
                }
            }
            if !scheduler.stopping {
                scheduler.pump(store);
            }
            facts
        });
        drop(store);
        match committed {
            Ok(()) => scheduler.carry_out(),
            Err(e) => {
                tracing::error!(error = %e, "cannot commit the scheduler's transitions; the executions they changed wait to be read back");
                scheduler.undo_turn(facts, &e);
            }
        }
        scheduler.arm_retry();
        let waits_for_the_store = !scheduler.held.is_empty() || !scheduler.stale.is_empty();
        if scheduler.stopping
            && scheduler.running == 0
            && (!waits_for_the_store || scheduler.retried_while_stopping)
        {
            break;
        }
    }
    if let Some(reply) = shutdown_reply {
        let _ = reply.send(());
    }
}

/// At start: every execution the last daemon left unfinished is resumed. Steps it left running
/// were interrupted; they run again (at-least-once).
pub(crate) fn recover(shared: &Shared) -> Result<(), StoreError> {
    let unfinished = shared.store().executions_with_status(&[
        ExecutionStatus::Queued,
        ExecutionStatus::Running,
        ExecutionStatus::Paused,
        ExecutionStatus::Escalated,
    ])?;
    let now = time::now_ms();
    for execution in unfinished {
        let steps = shared.store().steps(&execution.id)?;
        let attempts = shared.store().attempts(&execution.id)?;
        shared.store().write(|w| {
            for mut step in steps
                .into_iter()
                .filter(|s| s.status == StepStatus::Running)
            {
                step.status = StepStatus::Pending;
                w.put_step(&step)?;
            }
            for mut attempt in attempts
                .into_iter()
                .filter(|a| a.status == AttemptStatus::Running)
            {
                // The step runs again: what its last run left behind must not run beside it.
                if let Some(pgid) = attempt.pgid
                    && runner::end_survivor(pgid, attempt.pgid_start)
                {
                    tracing::info!(execution = %execution.id, step = %attempt.step_id, pgid, "ended a surviving process group");
                }
                attempt.status = AttemptStatus::Interrupted;
                attempt.completed_at = Some(now);
                attempt.error = Some("the daemon stopped while this attempt ran".into());
                w.put_attempt(&attempt)?;
            }
            Ok(())
        })?;
        tracing::info!(execution = %execution.id, "resuming execution");
        let _ = shared.scheduler.send(Message::Start(execution.id));
    }
    Ok(())
}

impl Scheduler {
    /// Handles one message; an error means that it must be handled again later.
    fn handle(
        &mut self,
        store: &mut Store,
        message: Message,
        facts: &mut Vec<Message>,
        shutdown_reply: &mut Option<oneshot::Sender<()>>,
    ) -> Result<(), StoreError> {
        match message {
            Message::Start(id) => {
                let loaded = self.load(store, &id);
                if let Err(e) = &loaded {
                    tracing::error!(execution = %id, error = %e, "cannot load execution");
                }
                loaded?;
                self.resume(store, &id);
            }
            Message::Finished {
                execution_id,
                node,
                outcome,
                log_path,
            } => {
                if let Err(e) = self.finished(store, &execution_id, node, outcome, log_path) {
                    tracing::error!(execution = %execution_id, error = %e, "cannot record a step's end");
                    self.stale.insert(execution_id);
                }
            }
            Message::Wake { execution_id, node } => {
                if let Some(active) = self.active.get_mut(&execution_id) {
                    active.state.wake(node);
                }
            }
            Message::Timeout(id) => {
                if let Err(e) = self.time_out(store, &id) {
                    tracing::error!(execution = %id, error = %e, "cannot time out an execution");
                    self.stale.insert(id);
                }
            }
            Message::Control {
                execution_id,
                action,
                reply,
            } => {
                let cancel = matches!(action, Control::Cancel(_));
                let answer = self.control(store, &execution_id, action);
                match self.active.get_mut(&execution_id) {
                    // A cancel is answered once the execution has ended, so that the answer
                    // says `cancelled`; its running steps are being ended until then.
                    Some(active)
                        if cancel && answer.is_ok() && active.state.finished().is_none() =>
                    {
                        active.cancel_reply = Some(reply);
                    }
                    _ => self.deferred.push(Deferred::Answer(reply, answer)),
                }
            }
            Message::Spawned {
                execution_id,
                node,
                pgid,
            } => self.spawned(&execution_id, node, pgid),
            Message::RecordSpawned => {
                if let Err(e) = self.record_spawned(store) {
                    tracing::error!(error = %e, "cannot record the steps' processes");
                }
            }
            Message::Progress {
                execution_id,
                node,
                attempt,
                percentage,
            } => {
                if let Err(e) = self.progress(store, &execution_id, node, attempt, percentage) {
                    tracing::error!(execution = %execution_id, error = %e, "cannot record a step's progress");
                }
            }
            Message::Shutdown { now, reply } => {
                self.stopping = true;
                if now {
                    self.kill_all();
                }
                *shutdown_reply = Some(reply);
            }
            Message::Retry => {
                self.retry_armed = false;
                self.retried_while_stopping = self.stopping;
                let mut stale: Vec<String> = self.stale.iter().cloned().collect();
                stale.sort_unstable();
                for id in stale {
                    if let Err(e) = self.reload(store, &id) {
                        tracing::error!(execution = %id, error = %e, "cannot read an execution back from the store");
                    }
                }
                for message in std::mem::take(&mut self.held) {
                    self.turn(store, message, facts, shutdown_reply);
                }
            }
        }
        Ok(())
    }

    /// Carries out what the turn's committed transitions asked for, then forgets the executions
    /// that have ended.
    fn carry_out(&mut self) {
        self.touched.clear();
        for deferred in std::mem::take(&mut self.deferred) {
            match deferred {
                Deferred::Broadcast(event) => {
                    let _ = self.shared.events.send(event);
                }
                Deferred::Kill(kill) => {
                    let _ = kill.send(());
                }
                Deferred::Spawn(task) => {
                    tokio::spawn(task);
                }
                Deferred::Answer(reply, answer) => {
                    let _ = reply.send(answer);
                }
            }
        }
        for id in std::mem::take(&mut self.ended) {
            let forget = self
                .active
                .get(&id)
                .is_some_and(|a| a.state.finished().is_some() && a.running.is_empty());
            if forget && let Some(active) = self.active.remove(&id) {
                tracing::info!(execution = %id, status = %active.record.status, "execution finished");
            }
        }
    }

    fn load(&mut self, store: &mut Store, id: &str) -> Result<(), StoreError> {
        if self.active.contains_key(id) {
            return Ok(());
        }
        let Some(record) = store.execution(id)? else {
            return Ok(());
        };
        let document = store
            .workflow_version(&record.workflow_id, record.workflow_version)?
            .ok_or_else(|| StoreError::Corrupt {
                what: "workflow version",
                detail: record.workflow_id.clone(),
            })?;
        let plan = Plan::new(&document);
        let rows_by_id: HashMap<String, StepRecord> = store
            .steps(id)?
            .into_iter()
            .map(|s| (s.step_id.clone(), s))
            .collect();
        let statuses: BTreeMap<String, (StepStatus, u32)> = rows_by_id
            .iter()
            .map(|(k, v)| (k.clone(), (v.status, v.attempts)))
            .collect();
        // A step's output is in its row; `output` names and loops' items have rows of their
        // own in `outputs` (where earlier builds also stored each step's output).
        let mut outputs: BTreeMap<String, Value> = store.outputs(id)?.into_iter().collect();
        for row in rows_by_id.values() {
            if let Some(output) = &row.output {
                outputs.insert(row.step_id.clone(), output.clone());
            }
        }
        let mut state = ExecutionState::restore(plan, record.input.clone(), &statuses, outputs);
        // Rows are matched after the restore, which has added loops' iterations to the plan.
        let rows: HashMap<NodeId, StepRecord> = state
            .plan()
            .nodes()
            .filter_map(|(node, n)| rows_by_id.get(&n.step_id).map(|row| (node, row.clone())))
            .collect();
        for (&node, row) in &rows {
            if let (Some(at), StepStatus::Pending) = (row.retry_at, row.status) {
                state.wait(node);
                self.arm_wake(id, node, at);
            }
        }
        if let Some(seconds) = document.timeout
            && !record.status.is_terminal()
        {
            // Wall-clock time since the execution started, across daemon restarts.
            let start = record.started_at.unwrap_or_else(time::now_ms);
            self.arm_timeout(id, start + (seconds * 1000.0) as i64);
        }
        self.active.insert(
            id.to_owned(),
            Active {
                written: ExecutionRow::of(&record),
                input_json: record.input.to_string().into(),
                record,
                state,
                rows,
                running: HashMap::new(),
                dirs_ready: false,
                cancel_reply: None,
            },
        );
        Ok(())
    }

    fn arm_wake(&self, id: &str, node: NodeId, at: i64) {
        let sender = self.shared.scheduler.clone();
        let execution_id = id.to_owned();
        tokio::spawn(async move {
            sleep_until_ms(at).await;
            let _ = sender.send(Message::Wake { execution_id, node });
        });
    }

    fn arm_timeout(&self, id: &str, at: i64) {
        let sender = self.shared.scheduler.clone();
        let execution_id = id.to_owned();
        tokio::spawn(async move {
            sleep_until_ms(at).await;
            let _ = sender.send(Message::Timeout(execution_id));
        });
    }

    fn time_out(&mut self, store: &mut Store, id: &str) -> Result<(), StoreError> {
        let Some(active) = self.active.get_mut(id) else {
            return Ok(());
        };
        if active.record.status.is_terminal() {
            return Ok(());
        }
        let reason = "the workflow's `timeout` passed".to_owned();
        let changes = active.state.cancel(ExecutionStatus::TimedOut, reason);
        let effects = store.write(|w| commit(w, active, changes, time::now_ms()))?;
        self.after_commit(id, effects);
        Ok(())
    }

    /// Carries out a person's decision: cancel, pause, resume, or retry a failed step.
    fn control(&mut self, store: &mut Store, id: &str, action: Control) -> Result<(), ApiError> {
        let internal = crate::handlers::internal;
        let record = match self.active.get(id) {
            Some(active) => active.record.clone(),
            None => store
                .execution(id)
                .map_err(internal)?
                .ok_or_else(|| crate::status::execution_not_found(id))?,
        };
        if !record.status.is_terminal() && !self.active.contains_key(id) {
            // Its loading failed when it was queued or recovered: it is loaded now.
            self.load(store, id).map_err(internal)?;
            self.resume(store, id);
        }
        let refuse = |what: &str| {
            Err(ApiError::new(
                ErrorCode::Conflict,
                format!("execution {id} is {}; {what}", record.status),
            ))
        };
        let now = time::now_ms();
        match action {
            Control::Cancel(reason) => {
                if record.status.is_terminal() {
                    return refuse("only an execution that has not ended can be cancelled");
                }
                let Some(active) = self.active.get_mut(id) else {
                    return refuse("it is not loaded");
                };
                // The first cancel wins: its reason stays, and the execution ends as it says.
                if let Some((status, first)) = active.state.stopping_as() {
                    let what = if status == ExecutionStatus::TimedOut {
                        "timing out"
                    } else {
                        "being cancelled"
                    };
                    return Err(ApiError::new(
                        ErrorCode::Conflict,
                        format!(
                            "execution {id} is already {what} ({first}); it ends once its running \
                             steps have ended (`do workflow execution {id} --wait` waits for it)"
                        ),
                    ));
                }
                // Stored even when no reason is given: it tells a daemon that reads the
                // execution back (after a restart) that a cancel is under way.
                let reason = reason.unwrap_or_else(|| "cancelled by the user".to_owned());
                active.record.cancel_reason = Some(reason.clone());
                let changes = active.state.cancel(ExecutionStatus::Cancelled, reason);
                let effects = store
                    .write(|w| commit(w, active, changes, now))
                    .map_err(|e| set_aside(&mut self.stale, id, e))?;
                self.after_commit(id, effects);
            }
            Control::Pause | Control::Resume => {
                let pause = matches!(action, Control::Pause);
                let allowed = if pause {
                    matches!(
                        record.status,
                        ExecutionStatus::Running | ExecutionStatus::Queued
                    )
                } else {
                    record.status == ExecutionStatus::Paused
                };
                if !allowed {
                    return refuse(if pause {
                        "only a running or queued execution can be paused"
                    } else {
                        "only a paused execution can be resumed"
                    });
                }
                let Some(active) = self.active.get_mut(id) else {
                    return refuse("it is not loaded");
                };
                let (status, kind) = if pause {
                    (ExecutionStatus::Paused, EventKind::ExecutionPaused)
                } else if active.record.started_at.is_some() {
                    (ExecutionStatus::Running, EventKind::ExecutionResumed)
                } else {
                    (ExecutionStatus::Queued, EventKind::ExecutionResumed)
                };
                if let Some((_, reason)) = active.state.stopping_as() {
                    return Err(ApiError::new(
                        ErrorCode::Conflict,
                        format!(
                            "execution {id} is being cancelled ({reason}); it cannot be paused or resumed"
                        ),
                    ));
                }
                active.record.status = status;
                let event = store
                    .write(|w| {
                        ExecutionRow::write(w, active)?;
                        append_event(w, id, now, kind, None, json!({"status": status}))
                    })
                    .map_err(|e| set_aside(&mut self.stale, id, e))?;
                self.touched.insert(id.to_owned());
                self.deferred.push(Deferred::Broadcast(event));
            }
            Control::Retry(step_id) => {
                if !matches!(
                    record.status,
                    ExecutionStatus::Failed | ExecutionStatus::Escalated
                ) {
                    return refuse("only a step of a failed or escalated execution can be retried");
                }
                self.load(store, id).map_err(internal)?;
                let Some(active) = self.active.get_mut(id) else {
                    return refuse("it cannot be loaded");
                };
                let Some(node) = active.state.plan().find(&step_id) else {
                    let ids: Vec<&str> = active
                        .state
                        .plan()
                        .nodes()
                        .map(|(_, n)| n.step_id.as_str())
                        .collect();
                    let hint = do_core::validate::did_you_mean(&step_id, ids.iter().copied())
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    return Err(ApiError::new(
                        ErrorCode::NotFound,
                        format!("execution {id} has no step `{step_id}`{hint}"),
                    ));
                };
                let changes = active
                    .state
                    .retry_step(node)
                    .map_err(|e| ApiError::new(ErrorCode::Conflict, e))?;
                active.record.status = ExecutionStatus::Running;
                active.record.completed_at = None;
                active.record.error = None;
                let effects = store
                    .write(|w| {
                        let resumed = append_event(
                            w,
                            id,
                            now,
                            EventKind::ExecutionResumed,
                            Some(&step_id),
                            json!({"retry": true}),
                        );
                        let mut effects = commit(w, active, changes, now)?;
                        effects.events.insert(0, resumed?);
                        Ok(effects)
                    })
                    .map_err(|e| set_aside(&mut self.stale, id, e))?;
                self.after_commit(id, effects);
            }
        }
        Ok(())
    }

    /// Starts ready steps, highest priority and oldest execution first, up to the limit.
    fn pump(&mut self, store: &mut Store) {
        let mut order: Vec<(std::cmp::Reverse<_>, i64, String)> = self
            .active
            .values()
            .map(|a| {
                (
                    std::cmp::Reverse(a.record.priority),
                    a.record.created_at,
                    a.record.id.clone(),
                )
            })
            .collect();
        order.sort();
        for (_, _, id) in order {
            let waiting = self.stale.contains(&id)
                || self.active.get(&id).is_none_or(|a| {
                    matches!(
                        a.record.status,
                        ExecutionStatus::Paused | ExecutionStatus::Escalated
                    )
                });
            if waiting {
                continue;
            }
            if let Err(e) = self.advance(store, &id) {
                tracing::error!(execution = %id, error = %e, "cannot record a decision");
                self.stale.insert(id);
                continue;
            }
            // Only as many ready steps as there are free slots are asked for, and more when
            // some of them wait for their agent.
            let mut waiting_for_agent = HashSet::new();
            loop {
                let free = self.shared.config.max_parallel.saturating_sub(self.running);
                if free == 0 {
                    return;
                }
                let wanted = waiting_for_agent.len() + free;
                let ready = match self.active.get(&id) {
                    Some(active) => active.state.ready_up_to(wanted),
                    None => break,
                };
                let exhausted = ready.len() < wanted;
                let mut progress = false;
                for node in ready {
                    if waiting_for_agent.contains(&node) {
                        continue;
                    }
                    if self.running >= self.shared.config.max_parallel {
                        return;
                    }
                    match self.start(store, &id, node) {
                        Ok(Started::Yes) => {}
                        Ok(Started::AgentBusy) => {
                            waiting_for_agent.insert(node);
                        }
                        Err(e) => {
                            tracing::error!(execution = %id, error = %e, "cannot start a step");
                            self.stale.insert(id);
                            return;
                        }
                    }
                    progress = true;
                }
                if exhausted || !progress {
                    break;
                }
            }
        }
    }

    /// Lets the engine take the decisions within reach (conditions, loop items) and commits them.
    fn advance(&mut self, store: &mut Store, id: &str) -> Result<(), StoreError> {
        let Some(active) = self.active.get_mut(id) else {
            return Ok(());
        };
        let changes = active.state.advance();
        if changes.is_empty() {
            return Ok(());
        }
        let now = time::now_ms();
        let effects = store.write(|w| commit(w, active, changes, now))?;
        self.after_commit(id, effects);
        Ok(())
    }

    /// Chooses the member of a team that runs a team step, by the team's strategy.
    fn pick_member(&self, store: &mut Store, team_id: &str) -> Result<String, StoreError> {
        let Some(team) = store.team(team_id)? else {
            return Err(StoreError::Corrupt {
                what: "team",
                detail: format!("team `{team_id}` is not defined"),
            });
        };
        let member = match team.spec.strategy {
            TeamStrategy::RoundRobin => {
                let index = team.next as usize % team.spec.members.len().max(1);
                store.write(|w| w.set_team_cursor(team_id, team.next.wrapping_add(1)))?;
                team.spec.members.get(index).cloned()
            }
            TeamStrategy::LeastBusy => {
                let busy = |member: &String| {
                    self.active
                        .values()
                        .flat_map(|a| a.running.values())
                        .filter(|r| &r.attempt.agent == member)
                        .count()
                };
                team.spec.members.iter().min_by_key(|m| busy(m)).cloned()
            }
            TeamStrategy::Random => team
                .spec
                .members
                .get(fastrand::usize(..team.spec.members.len().max(1)))
                .cloned(),
        };
        member.ok_or_else(|| StoreError::Corrupt {
            what: "team",
            detail: format!("team `{team_id}` has no members"),
        })
    }

    /// Fails a step that cannot start (its agent or team is gone, its task text does not render).
    fn refuse(
        &mut self,
        store: &mut Store,
        id: &str,
        node: NodeId,
        error: String,
    ) -> Result<(), StoreError> {
        let Some(active) = self.active.get_mut(id) else {
            return Ok(());
        };
        let mut changes = active.state.start(node);
        changes.extend(active.state.fail(node, error));
        let effects = store.write(|w| commit(w, active, changes, time::now_ms()))?;
        self.after_commit(id, effects);
        Ok(())
    }

    fn start(&mut self, store: &mut Store, id: &str, node: NodeId) -> Result<Started, StoreError> {
        let shared = self.shared.clone();
        let Some(runner) =
            self.active
                .get(id)
                .and_then(|a| match &a.state.plan().node(node).kind {
                    NodeKind::Task { runner, .. } => Some(runner.clone()),
                    _ => None,
                })
        else {
            return Ok(Started::Yes);
        };
        let agent_name = match runner {
            Runner::Agent(name) => name,
            Runner::Team(team) => match self.pick_member(store, &team) {
                Ok(member) => member,
                Err(StoreError::Corrupt { detail, .. }) => {
                    let error =
                        format!("{detail}; define it with `do team create {team} --members a,b`");
                    return self.refuse(store, id, node, error).map(|()| Started::Yes);
                }
                Err(other) => return Err(other),
            },
        };
        let Some(agent) = shared.agent(&agent_name) else {
            let error = format!(
                "agent `{agent_name}` is not registered (was it removed?); add it with `do agent add {agent_name} -- COMMAND…`"
            );
            return self.refuse(store, id, node, error).map(|()| Started::Yes);
        };
        if let Some(limit) = agent.concurrency {
            let busy = self
                .active
                .values()
                .flat_map(|a| a.running.values())
                .filter(|r| r.attempt.agent == agent_name)
                .count();
            if busy >= limit as usize {
                // Stays ready; it starts when one of the agent's steps ends.
                return Ok(Started::AgentBusy);
            }
        }
        let Some(active) = self.active.get_mut(id) else {
            return Ok(Started::Yes);
        };
        let task = match active.state.task_text(node) {
            Ok(task) => task,
            Err(error) => return self.refuse(store, id, node, error).map(|()| Started::Yes),
        };
        let step_id = active.state.plan().node(node).step_id.clone();
        let step_timeout = active
            .state
            .plan()
            .node(node)
            .timeout
            .map(std::time::Duration::from_secs_f64);
        let now = time::now_ms();
        let changes = active.state.start(node);
        let attempt_no = active.rows.get(&node).map_or(0, |r| r.attempts) + 1;
        let workspace = shared.config.data_dir.join("workspaces").join(id);
        let run_dir = shared.config.data_dir.join("runs").join(id);
        if !active.dirs_ready {
            // On failure the runner tries again and fails the step with the reason.
            active.dirs_ready = runner::prepare_dirs(&run_dir, &workspace).is_ok();
        }
        let spec = RunSpec {
            execution_id: id.to_owned(),
            step_id: step_id.clone(),
            attempt: attempt_no,
            agent,
            task,
            inputs: active.state.inputs_for(node),
            item: active.state.item_of(node),
            execution_input: active.input_json.clone(),
            workspace,
            run_dir,
            dirs_ready: active.dirs_ready,
            kill_grace: shared.config.kill_grace,
            timeout: step_timeout,
            limits: shared.config.limits,
            spawned: None,
            progress: None,
            log_tap: Some(crate::logs::LogTap::new(
                &shared.log_lines,
                id,
                &step_id,
                attempt_no,
            )),
            secret_names: shared.secret_names(),
        };
        let attempt = AttemptRecord {
            execution_id: id.to_owned(),
            step_id,
            attempt: attempt_no,
            status: AttemptStatus::Running,
            agent: agent_name.clone(),
            started_at: now,
            completed_at: None,
            exit_code: None,
            error: None,
            pgid: None,
            pgid_start: None,
            // Set when the attempt ends, if its stderr produced a log.
            log_path: None,
        };
        let effects = store.write(|w| {
            w.put_attempt(&attempt)?;
            let row = row_mut(active, node, id);
            row.attempts = attempt_no;
            row.agent = Some(agent_name.clone());
            // A new attempt starts from nothing; a percentage of the last one would mislead.
            row.progress = None;
            commit(w, active, changes, now)
        })?;
        let (kill_tx, kill_rx) = oneshot::channel();
        active.running.insert(
            node,
            Running {
                attempt,
                kill: Some(kill_tx),
                ended: false,
            },
        );
        self.running += 1;
        shared.running_steps.fetch_add(1, Ordering::Relaxed);
        let sender = shared.scheduler.clone();
        let execution_id = id.to_owned();
        let mut spec = spec;
        let (spawned_sender, spawned_id) = (sender.clone(), execution_id.clone());
        spec.spawned = Some(Box::new(move |pgid| {
            let _ = spawned_sender.send(Message::Spawned {
                execution_id: spawned_id,
                node,
                pgid,
            });
        }));
        let (progress_sender, progress_id) = (sender.clone(), execution_id.clone());
        spec.progress = Some(Box::new(move |percentage| {
            let _ = progress_sender.send(Message::Progress {
                execution_id: progress_id.clone(),
                node,
                attempt: attempt_no,
                percentage,
            });
        }));
        self.deferred.push(Deferred::Spawn(Box::pin(async move {
            let ended = runner::run(spec, kill_rx).await;
            let _ = sender.send(Message::Finished {
                execution_id,
                node,
                outcome: ended.outcome,
                log_path: ended.log_path.map(|p| p.display().to_string()),
            });
        })));
        self.after_commit(id, effects);
        Ok(Started::Yes)
    }

    fn finished(
        &mut self,
        store: &mut Store,
        id: &str,
        node: NodeId,
        outcome: Outcome,
        log_path: Option<String>,
    ) -> Result<(), StoreError> {
        let shared = self.shared.clone();
        let Some(active) = self.active.get_mut(id) else {
            return Ok(());
        };
        let Some(running) = active.running.remove(&node) else {
            return Ok(());
        };
        // The attempt's row, written below, is all an ended agent needs.
        self.unrecorded_spawns.remove(&(id.to_owned(), node));
        if !running.ended {
            self.running -= 1;
            shared.running_steps.fetch_sub(1, Ordering::Relaxed);
        }
        let now = time::now_ms();
        let mut attempt = running.attempt;
        attempt.completed_at = Some(now);
        attempt.log_path = log_path;
        let changes = match outcome {
            Outcome::Succeeded(value) => {
                attempt.status = AttemptStatus::Succeeded;
                active.state.succeed(node, value)
            }
            Outcome::Failed { error, exit_code } => {
                attempt.status = AttemptStatus::Failed;
                attempt.exit_code = exit_code;
                attempt.error = Some(error.clone());
                active.state.fail(node, error)
            }
            Outcome::Killed { error } if self.stopping => {
                // Not a failure of the step: it runs again when the daemon starts.
                attempt.status = AttemptStatus::Interrupted;
                attempt.error = Some(format!("interrupted by the daemon stopping ({error})"));
                store.write(|w| {
                    w.put_attempt(&attempt)?;
                    let row = row_mut(active, node, id);
                    row.status = StepStatus::Pending;
                    row.started_at = None;
                    w.put_step(row)
                })?;
                self.touched.insert(id.to_owned());
                return Ok(());
            }
            Outcome::Killed { error } => {
                attempt.status = AttemptStatus::Cancelled;
                attempt.error = Some(error.clone());
                active.state.fail(node, error)
            }
        };
        let effects = store.write(|w| {
            w.put_attempt(&attempt)?;
            commit(w, active, changes, now)
        })?;
        self.after_commit(id, effects);
        Ok(())
    }

    /// Queues what a transition asks for until the turn has committed: its events (and the
    /// notifications they warrant), the ends of tasks the engine cancelled, and forgetting an
    /// execution that has ended. Retry timers are armed at once: they only send a message.
    fn after_commit(&mut self, id: &str, effects: Effects) {
        self.touched.insert(id.to_owned());
        for event in effects.events {
            if let Some(active) = self.active.get(id)
                && let Some(delivery) = self.notify(active, &event)
            {
                self.deferred.push(Deferred::Spawn(delivery));
            }
            self.deferred.push(Deferred::Broadcast(event));
        }
        for (node, at) in effects.timers {
            self.arm_wake(id, node, at);
        }
        let Some(active) = self.active.get_mut(id) else {
            return;
        };
        for node in effects.kills {
            if let Some(kill) = active.running.get_mut(&node).and_then(|r| r.kill.take()) {
                self.deferred.push(Deferred::Kill(kill));
            }
        }
        if active.state.finished().is_some() {
            if let Some(reply) = active.cancel_reply.take() {
                self.deferred.push(Deferred::Answer(reply, Ok(())));
            }
            if active.running.is_empty() {
                self.ended.push(id.to_owned());
            }
        }
    }

    /// Notes an agent's process group, which recovery ends if this daemon dies while the
    /// agent runs. It is stored, with the leader's start time, a few milliseconds later rather
    /// than at once: most agents of a busy pipeline have ended by then, and the write that
    /// records their end is the only one they need. This saves a transaction and a read of
    /// `/proc` per step (about 13% of the daemon's CPU in a chain of short steps); only a
    /// crash inside that window leaves a process that recovery does not know of.
    fn spawned(&mut self, id: &str, node: NodeId, pgid: i32) {
        let Some(running) = self
            .active
            .get_mut(id)
            .and_then(|a| a.running.get_mut(&node))
        else {
            return;
        };
        running.attempt.pgid = Some(pgid);
        self.unrecorded_spawns.insert((id.to_owned(), node));
        if !self.record_armed {
            self.record_armed = true;
            let sender = self.shared.scheduler.clone();
            tokio::spawn(async move {
                tokio::time::sleep(RECORD_SPAWNED_AFTER).await;
                let _ = sender.send(Message::RecordSpawned);
            });
        }
    }

    /// Stores the process groups (and their leaders' start times) of the agents that still
    /// run, in one transaction.
    fn record_spawned(&mut self, store: &mut Store) -> Result<(), StoreError> {
        self.record_armed = false;
        let mut attempts = Vec::new();
        for (id, node) in std::mem::take(&mut self.unrecorded_spawns) {
            let Some(running) = self
                .active
                .get_mut(&id)
                .and_then(|a| a.running.get_mut(&node))
            else {
                continue;
            };
            // Still running, so its pid cannot have been reused yet. An agent that has exited
            // but whose end is not handled yet needs no record: once its leader is reaped,
            // recovery could not tell its group from another.
            let Some(start) = running.attempt.pgid.and_then(runner::running_process_start) else {
                continue;
            };
            running.attempt.pgid_start = Some(start);
            attempts.push(running.attempt.clone());
        }
        if attempts.is_empty() {
            return Ok(());
        }
        store.write(|w| {
            for attempt in &attempts {
                w.put_attempt(attempt)?;
            }
            Ok(())
        })
    }

    /// Records a running attempt's progress and tells the watchers; a report that changes
    /// nothing, or that comes from an attempt no longer running, writes nothing.
    fn progress(
        &mut self,
        store: &mut Store,
        id: &str,
        node: NodeId,
        attempt: u32,
        percentage: u8,
    ) -> Result<(), StoreError> {
        let Some(active) = self.active.get_mut(id) else {
            return Ok(());
        };
        if active
            .running
            .get(&node)
            .is_none_or(|r| r.attempt.attempt != attempt)
        {
            return Ok(());
        }
        let row = row_mut(active, node, id);
        if row.progress == Some(percentage) {
            return Ok(());
        }
        row.progress = Some(percentage);
        let step_id = row.step_id.clone();
        let event = store.write(|w| {
            w.put_step(row)?;
            append_event(
                w,
                id,
                time::now_ms(),
                EventKind::StepProgress,
                Some(&step_id),
                json!({"percentage": percentage}),
            )
        })?;
        self.after_commit(
            id,
            Effects {
                events: vec![event],
                ..Effects::default()
            },
        );
        Ok(())
    }

    /// The delivery of the execution's notifications for an event that warrants one (its end,
    /// an escalation, a step's failure under `notifyOnError`), to run in the background: a
    /// delivery never holds up or fails the execution, and its outcome joins the event log.
    fn notify(&self, active: &Active, event: &Event) -> Option<BoxFuture<'static, ()>> {
        let wanted = match event.kind {
            EventKind::ExecutionFinished | EventKind::ExecutionEscalated => true,
            EventKind::StepFailed => event
                .step_id
                .as_deref()
                .and_then(|step| active.state.plan().find(step))
                .is_some_and(|node| {
                    active.state.plan().node(node).handling.notify_on_error == Some(true)
                }),
            _ => false,
        };
        if !wanted {
            return None;
        }
        let targets = match Notifications::from_value(&active.record.notifications) {
            Ok(targets) if !targets.is_empty() => targets,
            _ => return None,
        };
        let mut payload = serde_json::to_value(event).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut payload {
            map.insert("workflowId".into(), json!(active.record.workflow_id));
            map.insert("workflowName".into(), json!(active.record.workflow_name));
            if let Some(status) = event.data.get("status") {
                map.insert("status".into(), status.clone());
            }
        }
        let shared = self.shared.clone();
        let execution_id = active.record.id.clone();
        let config = self.shared.config.notify.clone();
        let ends = matches!(
            event.kind,
            EventKind::ExecutionFinished | EventKind::ExecutionEscalated
        );
        Some(Box::pin(async move {
            let deliveries = notify::deliver(&targets, &config, &payload).await;
            for delivery in deliveries {
                if !delivery.ok {
                    tracing::warn!(execution = %execution_id, channel = delivery.channel, error = ?delivery.error, "notification not delivered");
                }
                let data = serde_json::to_value(&delivery).unwrap_or(Value::Null);
                let now = time::now_ms();
                let event = shared.store().write(|w| {
                    append_event(w, &execution_id, now, EventKind::Notification, None, data)
                });
                if let Ok(event) = event {
                    let _ = shared.events.send(event);
                }
            }
            if ends {
                let now = time::now_ms();
                let done = shared.store().write(|w| {
                    append_event(
                        w,
                        &execution_id,
                        now,
                        EventKind::NotificationsDone,
                        None,
                        json!({}),
                    )
                });
                if let Ok(event) = done {
                    let _ = shared.events.send(event);
                }
            }
        }))
    }

    fn kill_all(&mut self) {
        for active in self.active.values_mut() {
            for running in active.running.values_mut() {
                if let Some(kill) = running.kill.take() {
                    let _ = kill.send(());
                }
            }
        }
    }
}

fn row_mut<'a>(active: &'a mut Active, node: NodeId, execution_id: &str) -> &'a mut StepRecord {
    let step_id = active.state.plan().node(node).step_id.clone();
    active.rows.entry(node).or_insert_with(|| StepRecord {
        execution_id: execution_id.to_owned(),
        step_id,
        status: StepStatus::Pending,
        agent: None,
        started_at: None,
        completed_at: None,
        output: None,
        error: None,
        progress: None,
        attempts: 0,
        retry_at: None,
    })
}

/// What a committed transition asks for once it is durable.
#[derive(Default)]
struct Effects {
    events: Vec<Event>,
    kills: Vec<NodeId>,
    /// Retry timers to arm: the task and when it may run again.
    timers: Vec<(NodeId, i64)>,
}

/// Writes the engine's changes and the execution's new summary in the open transaction;
/// returns the events to broadcast and the tasks to end once it has committed. Each step row
/// that changed is written once, after all the changes: a step's status and its output often
/// come as two changes.
fn commit(
    w: &mut Writer<'_>,
    active: &mut Active,
    changes: Vec<Change>,
    now: i64,
) -> Result<Effects, StoreError> {
    let id = active.record.id.clone();
    let mut events = Vec::new();
    let mut kills = Vec::new();
    let mut timers = Vec::new();
    let mut changed_rows: Vec<NodeId> = Vec::new();
    let mut row_changed = |node: NodeId| {
        if !changed_rows.contains(&node) {
            changed_rows.push(node);
        }
    };
    if active.record.status == ExecutionStatus::Queued {
        active.record.status = ExecutionStatus::Running;
        active.record.started_at = Some(now);
        events.push(append_event(
            w,
            &id,
            now,
            EventKind::ExecutionStarted,
            None,
            json!({}),
        )?);
    }
    for change in changes {
        match change {
            Change::Step {
                node,
                status,
                error,
            } => {
                let row = row_mut(active, node, &id);
                row.status = status;
                row.retry_at = None;
                if status == StepStatus::Running {
                    row.started_at.get_or_insert(now);
                    row.completed_at = None;
                    if error.is_some() {
                        row.error = error.clone();
                    }
                } else if status == StepStatus::Pending {
                    row.started_at = None;
                    row.completed_at = None;
                    row.error = None;
                } else if status.is_finished() {
                    row.completed_at = Some(now);
                    row.error = error.clone();
                }
                row_changed(node);
                let kind = match status {
                    StepStatus::Running => EventKind::StepStarted,
                    StepStatus::Completed => EventKind::StepCompleted,
                    StepStatus::Failed => EventKind::StepFailed,
                    StepStatus::Cancelled => EventKind::StepCancelled,
                    StepStatus::Skipped => EventKind::StepSkipped,
                    StepStatus::Pending | StepStatus::Retrying => continue,
                };
                let step_id = row.step_id.clone();
                let mut data = json!({"status": status});
                // Who runs it and which attempt this is, so that a watcher knows without asking.
                if status == StepStatus::Running
                    && let Some(agent) = &row.agent
                {
                    data["agent"] = json!(agent);
                    data["attempt"] = json!(row.attempts);
                }
                if let Some(error) = error {
                    data["error"] = Value::String(error);
                }
                events.push(append_event(w, &id, now, kind, Some(&step_id), data)?);
            }
            Change::Output { node, value } => {
                // Under the step's id the output lives in its row; `Scheduler::load` reads it
                // from there. Only an `output` name needs a row of its own.
                if let Some(name) = &active.state.plan().node(node).output {
                    w.put_output(&id, name, &value)?;
                }
                row_mut(active, node, &id).output = Some(value);
                row_changed(node);
            }
            Change::Expanded { node, items } => {
                let step_id = active.state.plan().node(node).step_id.clone();
                w.put_output(&id, &loop_items_key(&step_id), &items)?;
            }
            Change::Kill { node } => kills.push(node),
            Change::Retry {
                node,
                delay,
                jitter,
                error,
            } => {
                // Full jitter keeps retries of many steps from arriving together.
                let delay = if jitter {
                    delay * (0.5 + fastrand::f64() / 2.0)
                } else {
                    delay
                };
                let at = now + (delay * 1000.0) as i64;
                let max_retries = active.state.plan().node(node).max_retries();
                let row = row_mut(active, node, &id);
                row.status = StepStatus::Pending;
                row.retry_at = Some(at);
                row.error = Some(error.clone());
                let step_id = row.step_id.clone();
                let data = json!({
                    "error": error,
                    "delay": delay,
                    "attempt": row.attempts,
                    "maxRetries": max_retries,
                    "retryAt": time::rfc3339(at),
                });
                row_changed(node);
                events.push(append_event(
                    w,
                    &id,
                    now,
                    EventKind::StepRetrying,
                    Some(&step_id),
                    data,
                )?);
                timers.push((node, at));
            }
            Change::Escalated { node, error } => {
                active.record.status = ExecutionStatus::Escalated;
                active.record.error = Some(error.clone());
                let data = json!({"status": ExecutionStatus::Escalated, "error": error, "notifying": notifying(&active.record)});
                // The failed step that waits: the one to retry.
                let step_id = active.state.plan().node(node).step_id.clone();
                events.push(append_event(
                    w,
                    &id,
                    now,
                    EventKind::ExecutionEscalated,
                    Some(&step_id),
                    data,
                )?);
            }
            Change::Finished { status, error } => {
                active.record.status = status;
                active.record.completed_at = Some(now);
                active.record.error = error.clone();
                events.push(append_event(
                    w,
                    &id,
                    now,
                    EventKind::ExecutionFinished,
                    None,
                    json!({"status": status, "error": error, "notifying": notifying(&active.record)}),
                )?);
            }
        }
    }
    for node in changed_rows {
        w.put_step(row_mut(active, node, &id))?;
    }
    active.record.current_step = active.state.current_step().map(str::to_owned);
    active.record.steps_completed =
        u32::try_from(active.state.completed_roots()).unwrap_or(u32::MAX);
    if !active.written.matches(&active.record) {
        ExecutionRow::write(w, active)?;
    }
    Ok(Effects {
        events,
        kills,
        timers,
    })
}

/// Whether the execution's end is announced to anyone.
fn notifying(record: &ExecutionRecord) -> bool {
    Notifications::from_value(&record.notifications).is_ok_and(|n| !n.is_empty())
}

async fn sleep_until_ms(at: i64) {
    let wait = u64::try_from(at - time::now_ms()).unwrap_or(0);
    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
}
