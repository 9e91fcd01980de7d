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

mod attempt;
mod commit;
mod control;
mod load;
mod set_aside;
mod start;

use crate::answers::{Answer, to_data};
use crate::process;
use crate::runner::Outcome;
use crate::{Shared, status, time};
use do_core::engine::{ExecutionState, NodeId};
use do_core::model::{AttemptStatus, ExecutionStatus, StepStatus};
use do_proto::{ApiError, ErrorCode, Event};
use do_store::prelude::*;
use do_store::transition::Summary;
use do_store::{AttemptRecord, ExecutionRecord, StepRecord, StoreError};
use futures_core::future::BoxFuture;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
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
    written: Summary,
    /// The first cancel's answer, sent once the execution has ended.
    cancel_reply: Option<oneshot::Sender<Result<(), ApiError>>>,
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

/// Runs the scheduler until it is stopped. It runs on a thread of its own (the runtime's
/// blocking pool): a turn's commit waits for the disk, and the socket, the HTTP API and the
/// agents' output must not wait with it.
pub(crate) fn run(shared: Arc<Shared>, mut messages: mpsc::UnboundedReceiver<Message>) {
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
    while let Some(first) = messages.blocking_recv() {
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
                    && process::end_survivor(pgid, attempt.pgid_start)
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
        store: &mut dyn Store,
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
}

/// Hands a decision to the scheduler, which owns running executions, and answers with the
/// execution's status once it is committed.
pub(crate) async fn control(shared: &Arc<Shared>, execution_id: String, action: Control) -> Answer {
    let (reply, answer) = tokio::sync::oneshot::channel();
    let message = Message::Control {
        execution_id: execution_id.clone(),
        action,
        reply,
    };
    if shared.scheduler.send(message).is_err() {
        return Err(ApiError::new(
            ErrorCode::Unavailable,
            "the daemon is stopping",
        ));
    }
    answer
        .await
        .map_err(|_| ApiError::new(ErrorCode::Unavailable, "the daemon is stopping"))??;
    to_data(&status::execution_data(shared, &execution_id, true)?)
}
