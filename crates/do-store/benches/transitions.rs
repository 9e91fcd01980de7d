//! Durable step transitions per second: the engine's state machine and the store driven
//! directly, with no processes. A chain of 1,000 tasks; each step's start and its result are
//! committed the way the scheduler commits them: each transition is one `write` of the attempt
//! and `transition::apply` (the scheduler's own code: the step row with its output, an event per
//! step change and the execution's summary), and a step's end and the start of the next step
//! share the transaction of one scheduler turn (`batch`), as they do when an agent exits.
//!
//! `cargo bench -p do-store --bench transitions`

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use do_core::engine::{Change, ExecutionState, NodeId, Plan};
use do_core::model::{AttemptStatus, ExecutionStatus, Priority, WorkflowStatus};
use do_core::workflow::WorkflowDocument;
use do_store::prelude::*;
use do_store::transition::{self, Summary, Tracked};
use do_store::{AttemptRecord, ExecutionRecord, StepRecord, StoreError, WorkflowRecord};
use serde_json::{Value, json};
use std::collections::HashMap;
use tempfile::TempDir;

const STEPS: usize = 1000;

fn document() -> WorkflowDocument {
    let steps: Vec<Value> = (0..STEPS)
        .map(|i| json!({"id": format!("s{i}"), "type": "task", "agent": "t", "task": "go"}))
        .collect();
    serde_json::from_value(json!({"name": "chain", "steps": steps})).expect("document")
}

/// The scheduler's per-execution state.
struct Run {
    record: ExecutionRecord,
    state: ExecutionState,
    rows: HashMap<NodeId, StepRecord>,
    written: Summary,
}

fn setup(document: &WorkflowDocument) -> (TempDir, Box<dyn Store>, Run) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store =
        Box::new(do_store::sqlite::SqliteStore::open(&dir.path().join("do.db")).expect("open"))
            as Box<dyn Store>;
    let record = ExecutionRecord {
        id: "e1".into(),
        workflow_id: "chain".into(),
        workflow_version: 1,
        workflow_name: "chain".into(),
        status: ExecutionStatus::Running,
        priority: Priority::Normal,
        input: json!({}),
        notifications: Value::Null,
        current_step: None,
        steps_completed: 0,
        steps_total: STEPS as u32,
        error: None,
        cancel_reason: None,
        created_at: 1,
        started_at: Some(1),
        completed_at: None,
        schedule: None,
    };
    store
        .write(|w| {
            w.insert_workflow(&WorkflowRecord {
                id: "chain".into(),
                version: 1,
                status: WorkflowStatus::Active,
                document: document.clone(),
                created_at: 1,
                updated_at: 1,
            })?;
            w.insert_execution(&record)
        })
        .expect("insert");
    let state = ExecutionState::new(Plan::new(document), json!({}));
    let run = Run {
        written: Summary::of(&record),
        record,
        state,
        rows: HashMap::new(),
    };
    (dir, store, run)
}

/// The scheduler's commit of a transition: the same `transition::apply`.
fn commit(w: &mut dyn Tx, run: &mut Run, changes: Vec<Change>, now: i64) -> Result<(), StoreError> {
    let tracked = Tracked {
        record: &mut run.record,
        steps: &mut run.rows,
        written: &mut run.written,
        notifying: false,
    };
    transition::apply(w, tracked, &run.state, changes, now, &mut || 0.5).map(drop)
}

/// Runs the whole chain: 2 durable transitions per step, in one turn per step.
fn chain((dir, mut store, mut run): (TempDir, Box<dyn Store>, Run)) -> TempDir {
    let mut now = 2;
    let mut ended: Option<(AttemptRecord, Vec<Change>, i64)> = None;
    loop {
        run.state.advance();
        let next = run.state.ready().first().copied();
        let ((), committed) = store.batch(|store| {
            if let Some((attempt, changes, at)) = ended.take() {
                store
                    .write(|w| {
                        w.put_attempt(&attempt)?;
                        commit(w, &mut run, changes, at)
                    })
                    .expect("finish");
            }
            let Some(node) = next else {
                return;
            };
            now += 1;
            let attempt = AttemptRecord {
                execution_id: "e1".into(),
                step_id: run.state.plan().node(node).step_id.clone(),
                attempt: 1,
                status: AttemptStatus::Running,
                agent: "t".into(),
                started_at: now,
                completed_at: None,
                exit_code: None,
                error: None,
                pgid: None,
                pgid_start: None,
                log_path: None,
            };
            let changes = run.state.start(node);
            store
                .write(|w| {
                    w.put_attempt(&attempt)?;
                    let row = transition::step_row(&mut run.rows, run.state.plan(), node, "e1");
                    row.attempts = 1;
                    row.agent = Some("t".into());
                    commit(w, &mut run, changes, now)
                })
                .expect("start");
            // The agent runs and succeeds; its end is committed in the next turn.
            now += 1;
            let changes = run.state.succeed(node, json!({"ok": true}));
            ended = Some((
                AttemptRecord {
                    status: AttemptStatus::Succeeded,
                    completed_at: Some(now),
                    exit_code: Some(0),
                    ..attempt
                },
                changes,
                now,
            ));
        });
        committed.expect("commit");
        if next.is_none() {
            break;
        }
    }
    assert_eq!(run.state.finished(), Some(ExecutionStatus::Completed));
    dir
}

fn transitions(c: &mut Criterion) {
    let document = document();
    let mut group = c.benchmark_group("durable transitions");
    group.sample_size(10);
    group.throughput(Throughput::Elements(2 * STEPS as u64));
    group.bench_function("chain of 1000 tasks, start + result each", |b| {
        b.iter_batched(|| setup(&document), chain, BatchSize::PerIteration);
    });
    group.finish();
}

criterion_group!(benches, transitions);
criterion_main!(benches);
