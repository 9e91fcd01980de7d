//! The store against a real database file.

use do_core::model::{
    AgentKind, AgentSpec, AttemptStatus, ExecutionStatus, FireOutcome, FireTrigger, Priority,
    StepStatus, WorkflowStatus,
};
use do_core::workflow::WorkflowDocument;
use do_store::prelude::*;
use do_store::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

fn temp_db() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("do.db");
    (dir, path)
}

fn open(path: &Path) -> Box<dyn Store> {
    Box::new(sqlite::SqliteStore::open(path).expect("open store"))
}

fn document(name: &str, category: Option<&str>) -> WorkflowDocument {
    let mut doc = json!({
        "name": name,
        "description": format!("the {name} workflow"),
        "steps": [{"id": "a", "type": "task", "agent": "x", "task": "t"}],
    });
    if let Some(category) = category {
        doc["category"] = json!(category);
    }
    serde_json::from_value(doc).expect("document")
}

fn workflow(
    id: &str,
    created_at: i64,
    status: WorkflowStatus,
    category: Option<&str>,
) -> WorkflowRecord {
    WorkflowRecord {
        id: id.to_owned(),
        version: 1,
        status,
        document: document(id, category),
        created_at,
        updated_at: created_at,
    }
}

fn execution(
    id: &str,
    workflow_id: &str,
    created_at: i64,
    status: ExecutionStatus,
) -> ExecutionRecord {
    ExecutionRecord {
        id: id.to_owned(),
        workflow_id: workflow_id.to_owned(),
        workflow_version: 1,
        workflow_name: workflow_id.to_owned(),
        status,
        priority: Priority::Normal,
        input: json!({}),
        notifications: serde_json::Value::Null,
        current_step: None,
        steps_completed: 0,
        steps_total: 5,
        error: None,
        cancel_reason: None,
        created_at,
        started_at: None,
        completed_at: None,
        schedule: None,
    }
}

fn step(execution_id: &str, step_id: &str, status: StepStatus) -> StepRecord {
    StepRecord {
        execution_id: execution_id.to_owned(),
        step_id: step_id.to_owned(),
        status,
        agent: None,
        started_at: None,
        completed_at: None,
        output: None,
        error: None,
        progress: None,
        attempts: 0,
        retry_at: None,
    }
}

fn attempt(execution_id: &str, step_id: &str, number: u32) -> AttemptRecord {
    AttemptRecord {
        execution_id: execution_id.to_owned(),
        step_id: step_id.to_owned(),
        attempt: number,
        status: AttemptStatus::Running,
        agent: "x".to_owned(),
        started_at: 100 + i64::from(number),
        completed_at: None,
        exit_code: None,
        error: None,
        pgid: None,
        pgid_start: None,
        log_path: None,
    }
}

fn agent(name: &str, created_at: i64) -> AgentRecord {
    AgentRecord {
        spec: AgentSpec {
            name: name.to_owned(),
            kind: AgentKind::Command,
            command: vec!["echo".to_owned(), name.to_owned()],
            env: BTreeMap::new(),
            cwd: None,
            description: None,
            concurrency: Some(2),
            secret_env: Vec::new(),
        },
        created_at,
    }
}

/// A store with workflow `w` and execution `e1` of it.
fn store_with_execution(path: &Path) -> Box<dyn Store> {
    let mut store = open(path);
    store
        .write(|w| {
            w.insert_workflow(&workflow("w", 1, WorkflowStatus::Active, None))?;
            w.insert_execution(&execution("e1", "w", 10, ExecutionStatus::Running))
        })
        .expect("write");
    store
}

fn ids<T>(records: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    records.iter().map(|r| id(r).to_owned()).collect()
}

/// The kinds of an execution's events, in order.
fn event_kinds(store: &dyn Store, execution_id: &str) -> Vec<String> {
    store
        .events(execution_id, 0)
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

fn raw(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("raw connection")
}

// ---- opening ----

#[test]
fn open_uses_wal_and_current_schema_version() {
    let (_dir, path) = temp_db();
    let _store = open(&path);
    let conn = raw(&path);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
    let version: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("user_version");
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn reopening_keeps_data_and_does_not_migrate_again() {
    let (_dir, path) = temp_db();
    {
        let mut store = store_with_execution(&path);
        store
            .write(|w| w.append_event("e1", 11, "started", &json!({})))
            .expect("event");
    }
    for _ in 0..2 {
        let store = open(&path);
        assert!(store.workflow("w").expect("read").is_some());
        assert!(store.execution("e1").expect("read").is_some());
        assert_eq!(store.events("e1", 0).expect("events").len(), 1);
    }
    let version: u32 = raw(&path)
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("user_version");
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn newer_database_is_refused_and_left_unchanged() {
    let (dir, path) = temp_db();
    {
        let conn = raw(&path);
        conn.execute_batch("CREATE TABLE future (x INTEGER); INSERT INTO future VALUES (42);")
            .expect("setup");
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("user_version");
    }
    let before = std::fs::read(&path).expect("read db");

    match sqlite::SqliteStore::open(&path) {
        Err(StoreError::TooNew {
            found, supported, ..
        }) => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(supported, SCHEMA_VERSION);
        }
        Err(other) => panic!("expected TooNew, got {other}"),
        Ok(_) => panic!("expected TooNew, the database was opened"),
    }

    assert_eq!(std::fs::read(&path).expect("read db"), before);
    assert!(!dir.path().join("do.db-wal").exists());
    let conn = raw(&path);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "delete");
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .expect("tables");
    assert_eq!(tables, 1);
}

#[test]
fn foreign_keys_are_enforced() {
    let (_dir, path) = temp_db();
    let mut store = open(&path);
    let result =
        store.write(|w| w.insert_execution(&execution("e", "missing", 1, ExecutionStatus::Queued)));
    assert!(matches!(result, Err(StoreError::Sqlite(_))), "{result:?}");
    assert!(store.execution("e").expect("read").is_none());
}

// ---- transactions ----

#[test]
fn write_rolls_back_everything_on_error() {
    let (_dir, path) = temp_db();
    let mut store = store_with_execution(&path);
    let result: Result<(), StoreError> = store.write(|w| {
        w.insert_workflow(&workflow("w2", 2, WorkflowStatus::Draft, None))?;
        w.put_agent(&agent("a", 1))?;
        let mut e = execution("e1", "w", 10, ExecutionStatus::Failed);
        e.error = Some("boom".to_owned());
        w.update_execution(&e)?;
        w.put_step(&step("e1", "a", StepStatus::Running))?;
        w.put_output("e1", "out", &json!(1))?;
        w.append_event("e1", 12, "failed", &json!({}))?;
        Err(StoreError::Corrupt {
            what: "test",
            detail: "abort".to_owned(),
        })
    });
    assert!(matches!(
        result,
        Err(StoreError::Corrupt { what: "test", .. })
    ));

    assert!(store.workflow("w2").expect("read").is_none());
    assert!(store.agent("a").expect("read").is_none());
    let e = store.execution("e1").expect("read").expect("e1");
    assert_eq!(e.status, ExecutionStatus::Running);
    assert_eq!(e.error, None);
    assert!(store.steps("e1").expect("steps").is_empty());
    assert!(store.outputs("e1").expect("outputs").is_empty());
    assert!(store.events("e1", 0).expect("events").is_empty());

    // The store is usable again afterwards.
    store
        .write(|w| w.put_agent(&agent("a", 1)))
        .expect("write after rollback");
    assert!(store.agent("a").expect("read").is_some());
}

#[test]
fn write_returns_the_closure_value() {
    let (_dir, path) = temp_db();
    let mut store = store_with_execution(&path);
    let seqs = store
        .write(|w| {
            let first = w.append_event("e1", 1, "a", &json!(null))?;
            let second = w.append_event("e1", 2, "b", &json!(null))?;
            Ok((first, second))
        })
        .expect("write");
    assert_eq!(seqs, (1, 2));
}

#[test]
fn a_batch_commits_its_writes_at_its_end_and_leaves_out_a_failed_one() {
    let (_dir, path) = temp_db();
    let mut store = store_with_execution(&path);
    let other = raw(&path);
    let agents_seen_by_other = || -> i64 {
        other
            .query_row("SELECT COUNT(*) FROM agents", [], |row| row.get(0))
            .expect("count")
    };
    let (seqs, committed) = store.batch(|store| {
        store
            .write(|w| w.put_agent(&agent("a", 1)))
            .expect("first write");
        let failed: Result<(), StoreError> = store.write(|w| {
            w.put_agent(&agent("b", 2))?;
            w.append_event("e1", 3, "lost", &json!({}))?;
            Err(StoreError::Corrupt {
                what: "test",
                detail: "abort".to_owned(),
            })
        });
        assert!(failed.is_err());
        let seq = store
            .write(|w| w.append_event("e1", 4, "kept", &json!({})))
            .expect("third write");
        // The batch's own reads see its writes; another connection does not, yet.
        assert!(store.agent("a").expect("read").is_some());
        assert_eq!(agents_seen_by_other(), 0);
        seq
    });
    committed.expect("commit");
    assert_eq!(seqs, 1, "the failed write's event number is taken again");
    assert_eq!(agents_seen_by_other(), 1);
    assert!(store.agent("b").expect("read").is_none());
    let kinds = event_kinds(&*store, "e1");
    assert_eq!(kinds, ["kept"]);

    // Outside a batch, each write commits on its own again.
    store
        .write(|w| w.put_agent(&agent("c", 3)))
        .expect("write after the batch");
    assert_eq!(agents_seen_by_other(), 2);
}

#[test]
fn a_batch_that_only_reads_takes_no_write_lock() {
    let (_dir, path) = temp_db();
    let mut store = store_with_execution(&path);
    let other = raw(&path);
    other.execute_batch("BEGIN IMMEDIATE").expect("lock");
    // Were the batch to begin a write transaction, it would wait for the lock and fail.
    let (status, committed) =
        store.batch(|store| store.execution("e1").expect("read").map(|e| e.status));
    committed.expect("nothing to commit");
    assert_eq!(status, Some(ExecutionStatus::Running));
    other.execute_batch("ROLLBACK").expect("unlock");
}

#[test]
fn the_wal_stays_bounded_under_a_stream_of_commits() {
    let (_dir, path) = temp_db();
    let mut store = store_with_execution(&path);
    let wal = path.with_file_name("do.db-wal");
    let value = json!("x".repeat(16 * 1024));
    let mut largest = 0;
    // About 50 MB of WAL if it were never checkpointed and started over.
    for i in 0..1600 {
        store
            .write(|w| w.put_output("e1", &format!("o{i}"), &value))
            .expect("write");
        largest = largest.max(std::fs::metadata(&wal).expect("the WAL").len());
    }
    assert!(
        largest < 16 << 20,
        "the WAL grew to {largest} bytes: checkpoints do not keep up"
    );
    assert_eq!(store.outputs("e1").expect("outputs").len(), 1600);
}

#[test]
fn duplicate_ids_conflict() {
    let (_dir, path) = temp_db();
    let mut store = store_with_execution(&path);

    let mut other = workflow("w", 5, WorkflowStatus::Draft, Some("c"));
    other.document = document("other", Some("c"));
    match store.write(|w| w.insert_workflow(&other)) {
        Err(StoreError::Conflict { what, id }) => {
            assert_eq!((what, id.as_str()), ("workflow", "w"));
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    match store.write(|w| w.insert_execution(&execution("e1", "w", 99, ExecutionStatus::Queued))) {
        Err(StoreError::Conflict { what, id }) => {
            assert_eq!((what, id.as_str()), ("execution", "e1"));
        }
        other => panic!("expected Conflict, got {other:?}"),
    }

    // The originals are untouched.
    let w = store.workflow("w").expect("read").expect("w");
    assert_eq!(w, workflow("w", 1, WorkflowStatus::Active, None));
    let e = store.execution("e1").expect("read").expect("e1");
    assert_eq!(e, execution("e1", "w", 10, ExecutionStatus::Running));
}

// ---- workflows ----

#[test]
fn workflow_round_trip() {
    let (_dir, path) = temp_db();
    let mut store = open(&path);
    let record = workflow("w", 1_700_000_000_000, WorkflowStatus::Draft, Some("ops"));
    store.write(|w| w.insert_workflow(&record)).expect("insert");

    assert_eq!(store.workflow("w").expect("read"), Some(record.clone()));
    assert_eq!(store.workflow("nope").expect("read"), None);
    assert_eq!(
        store.workflow_version("w", 1).expect("read").as_deref(),
        Some(&record.document)
    );
    assert_eq!(store.workflow_version("w", 2).expect("read"), None);

    store
        .write(|w| w.set_workflow_status("w", WorkflowStatus::Archived, 1_700_000_000_500))
        .expect("status");
    let updated = store.workflow("w").expect("read").expect("w");
    assert_eq!(updated.status, WorkflowStatus::Archived);
    assert_eq!(updated.updated_at, 1_700_000_000_500);
    assert_eq!(updated.created_at, record.created_at);

    let missing = store.write(|w| w.set_workflow_status("nope", WorkflowStatus::Active, 1));
    assert!(missing.is_err());
}

#[test]
fn workflow_document_keeps_every_field() {
    let (_dir, path) = temp_db();
    let mut store = open(&path);
    let document: WorkflowDocument = serde_json::from_value(json!({
        "name": "full",
        "category": "ci",
        "timeout": 12.5,
        "errorHandling": {"strategy": "retry", "maxRetries": 3, "backoff": "exponential"},
        "steps": [
            {"id": "a", "type": "task", "agent": "x", "task": "t", "input": ["input.k"], "output": "o"},
            {"id": "p", "type": "parallel", "maxConcurrency": 2, "steps": [
                {"id": "b", "type": "task", "agent": "y", "task": "u"}
            ]},
            {"id": "c", "type": "conditional", "condition": "o.ok", "then": {"id": "d", "type": "task", "agent": "x", "task": "v"}}
        ]
    }))
    .expect("document");
    let record = WorkflowRecord {
        id: "full".to_owned(),
        version: 1,
        status: WorkflowStatus::Active,
        document,
        created_at: 1,
        updated_at: 2,
    };
    store.write(|w| w.insert_workflow(&record)).expect("insert");
    assert_eq!(store.workflow("full").expect("read"), Some(record));
}

#[test]
fn list_workflows_filters_and_paginates_newest_first() {
    let (_dir, path) = temp_db();
    let mut store = open(&path);
    store
        .write(|w| {
            w.insert_workflow(&workflow("w1", 100, WorkflowStatus::Active, Some("ci")))?;
            w.insert_workflow(&workflow("w2", 200, WorkflowStatus::Draft, Some("ci")))?;
            w.insert_workflow(&workflow("w3", 300, WorkflowStatus::Active, Some("ops")))?;
            w.insert_workflow(&workflow("w4", 300, WorkflowStatus::Active, None))?;
            w.insert_workflow(&workflow("w5", 50, WorkflowStatus::Archived, Some("ci")))
        })
        .expect("insert");

    let list =
        |filter: WorkflowFilter| ids(&store.list_workflows(&filter).expect("list"), |w| &w.id);
    let all = WorkflowFilter {
        limit: 50,
        ..Default::default()
    };
    // Same created_at: higher id first.
    assert_eq!(list(all.clone()), ["w4", "w3", "w2", "w1", "w5"]);
    assert_eq!(
        list(WorkflowFilter {
            limit: 2,
            ..all.clone()
        }),
        ["w4", "w3"]
    );
    assert_eq!(
        list(WorkflowFilter {
            limit: 2,
            offset: 2,
            ..all.clone()
        }),
        ["w2", "w1"]
    );
    assert_eq!(
        list(WorkflowFilter {
            limit: 2,
            offset: 4,
            ..all.clone()
        }),
        ["w5"]
    );
    assert!(
        list(WorkflowFilter {
            limit: 2,
            offset: 10,
            ..all.clone()
        })
        .is_empty()
    );
    assert_eq!(
        list(WorkflowFilter {
            status: Some(WorkflowStatus::Active),
            ..all.clone()
        }),
        ["w4", "w3", "w1"]
    );
    assert_eq!(
        list(WorkflowFilter {
            category: Some("ci".to_owned()),
            ..all.clone()
        }),
        ["w2", "w1", "w5"]
    );
    assert_eq!(
        list(WorkflowFilter {
            status: Some(WorkflowStatus::Active),
            category: Some("ci".to_owned()),
            ..all.clone()
        }),
        ["w1"]
    );
    assert!(
        list(WorkflowFilter {
            category: Some("none".to_owned()),
            ..all
        })
        .is_empty()
    );

    let first = store
        .list_workflows(&WorkflowFilter {
            limit: 1,
            ..Default::default()
        })
        .expect("list");
    assert_eq!(
        first,
        vec![workflow("w4", 300, WorkflowStatus::Active, None)]
    );
}

#[test]
fn a_new_version_keeps_the_old_ones_and_live_lookup_skips_archived() {
    let (_dir, path) = temp_db();
    let mut store = open(&path);
    let v1 = workflow("w1", 100, WorkflowStatus::Active, None);
    let v2_doc = document("renamed", Some("ci"));
    store
        .write(|w| {
            w.insert_workflow(&v1)?;
            w.insert_workflow(&workflow("w0", 50, WorkflowStatus::Archived, None))
        })
        .expect("insert");
    let version = store
        .write(|w| w.add_workflow_version("w1", &v2_doc, 200))
        .expect("add a version");
    assert_eq!(version, 2);
    let current = store.workflow("w1").expect("read").expect("w1");
    assert_eq!((current.version, current.updated_at), (2, 200));
    assert_eq!(current.document, v2_doc);
    assert_eq!(current.created_at, 100);
    assert_eq!(
        store.workflow_version("w1", 1).expect("read").as_deref(),
        Some(&v1.document)
    );
    assert!(
        store
            .write(|w| w.add_workflow_version("nope", &v2_doc, 200))
            .is_err()
    );

    store
        .write(|w| {
            assert_eq!(
                w.live_workflow_named("renamed")?.map(|r| r.id),
                Some("w1".to_owned())
            );
            // `w0`'s document is named `w0`, but it is archived.
            assert_eq!(w.live_workflow_named("w0")?, None);
            Ok(())
        })
        .expect("look up");
    let hidden = store
        .list_workflows(&WorkflowFilter {
            hide_archived: true,
            limit: 50,
            ..Default::default()
        })
        .expect("list");
    assert_eq!(ids(&hidden, |w| &w.id), ["w1"]);
}

#[test]
fn deleting_a_workflow_deletes_its_versions_and_executions() {
    let (_dir, path) = temp_db();
    let mut store = open(&path);
    store
        .write(|w| {
            w.insert_workflow(&workflow("w1", 100, WorkflowStatus::Active, None))?;
            w.add_workflow_version("w1", &document("w1", None), 150)?;
            w.insert_execution(&execution("e1", "w1", 200, ExecutionStatus::Completed))?;
            w.insert_execution(&execution("e2", "w1", 300, ExecutionStatus::Paused))?;
            w.put_step(&step("e1", "a", StepStatus::Completed))?;
            w.append_event("e1", 200, "execution.queued", &json!({}))?;
            Ok(())
        })
        .expect("insert");
    let counts = store
        .write(|w| w.workflow_execution_counts("w1"))
        .expect("count");
    assert_eq!(counts, (1, 2), "e2 is paused: not ended");
    // Read (and so kept parsed) before the deletion: the deletion must drop it.
    assert!(store.workflow_version("w1", 2).expect("read").is_some());

    let mut deleted = store
        .write(|w| w.delete_workflow("w1"))
        .expect("delete")
        .expect("w1 existed");
    deleted.sort();
    assert_eq!(deleted, ["e1", "e2"]);
    assert_eq!(store.workflow("w1").expect("read"), None);
    assert_eq!(store.workflow_version("w1", 1).expect("read"), None);
    assert_eq!(store.workflow_version("w1", 2).expect("read"), None);
    assert_eq!(store.execution("e1").expect("read"), None);
    assert!(store.steps("e1").expect("read").is_empty());
    assert!(store.events("e1", 0).expect("read").is_empty());
    assert_eq!(
        store.write(|w| w.delete_workflow("w1")).expect("delete"),
        None
    );
}

// ---- agents ----

#[test]
fn agent_round_trip_replace_and_remove() {
    let (_dir, path) = temp_db();
    let mut store = open(&path);
    let mut shell = agent("b-shell", 5);
    shell.spec.kind = AgentKind::Shell;
    shell.spec.command = vec!["sh".into(), "-c".into(), "echo hi".into()];
    shell.spec.env.insert("K".into(), "V".into());
    shell.spec.cwd = Some("/tmp".into());
    shell.spec.description = Some("says hi".into());
    store
        .write(|w| {
            w.put_agent(&shell)?;
            w.put_agent(&agent("a-cmd", 6))
        })
        .expect("put");

    assert_eq!(store.agent("b-shell").expect("read"), Some(shell.clone()));
    assert_eq!(store.agent("nope").expect("read"), None);
    assert_eq!(
        store.list_agents().expect("list"),
        vec![agent("a-cmd", 6), shell]
    );

    let mut replaced = agent("a-cmd", 7);
    replaced.spec.command = vec!["true".into()];
    store.write(|w| w.put_agent(&replaced)).expect("replace");
    assert_eq!(store.agent("a-cmd").expect("read"), Some(replaced));
    assert_eq!(store.list_agents().expect("list").len(), 2);

    assert!(store.write(|w| w.remove_agent("a-cmd")).expect("remove"));
    assert!(
        !store
            .write(|w| w.remove_agent("a-cmd"))
            .expect("remove again")
    );
    assert_eq!(store.agent("a-cmd").expect("read"), None);
}

// ---- executions ----

#[test]
fn execution_round_trip_and_update() {
    let (_dir, path) = temp_db();
    let mut store = open(&path);
    let full = ExecutionRecord {
        id: "e-full".into(),
        workflow_id: "w".into(),
        workflow_version: 1,
        workflow_name: "Workflow W".into(),
        status: ExecutionStatus::Paused,
        priority: Priority::Urgent,
        input: json!({"k": "v", "n": [1, 2, {"x": null}]}),
        notifications: json!({"webhook": "http://localhost/x", "on": ["failed"]}),
        current_step: Some("a".into()),
        steps_completed: 2,
        steps_total: 5,
        error: Some("err".into()),
        cancel_reason: Some("why".into()),
        created_at: 1_700_000_000_000,
        started_at: Some(1_700_000_000_001),
        completed_at: Some(1_700_000_000_002),
        schedule: Some(ScheduleRef {
            id: "sched_1".into(),
            name: "nightly".into(),
            scheduled_at: 1_699_999_999_000,
        }),
    };
    let bare = execution("e-bare", "w", 3, ExecutionStatus::Queued);
    store
        .write(|w| {
            w.insert_workflow(&workflow("w", 1, WorkflowStatus::Active, None))?;
            w.insert_execution(&full)?;
            w.insert_execution(&bare)
        })
        .expect("insert");

    assert_eq!(store.execution("e-full").expect("read"), Some(full.clone()));
    assert_eq!(store.execution("e-bare").expect("read"), Some(bare.clone()));
    assert_eq!(store.execution("nope").expect("read"), None);

    let mut updated = bare.clone();
    updated.status = ExecutionStatus::TimedOut;
    updated.current_step = Some("b".into());
    updated.error = Some("too slow".into());
    updated.cancel_reason = Some("timeout".into());
    updated.started_at = Some(4);
    updated.completed_at = Some(5);
    store
        .write(|w| w.update_execution(&updated))
        .expect("update");
    assert_eq!(
        store.execution("e-bare").expect("read"),
        Some(updated.clone())
    );

    // Back to no optional values.
    store.write(|w| w.update_execution(&bare)).expect("update");
    assert_eq!(store.execution("e-bare").expect("read"), Some(bare));

    let missing =
        store.write(|w| w.update_execution(&execution("nope", "w", 1, ExecutionStatus::Queued)));
    assert!(missing.is_err());
}

#[test]
fn list_executions_filters_and_paginates_newest_first() {
    let (_dir, path) = temp_db();
    let mut store = open(&path);
    store
        .write(|w| {
            w.insert_workflow(&workflow("wa", 1, WorkflowStatus::Active, None))?;
            w.insert_workflow(&workflow("wb", 1, WorkflowStatus::Active, None))?;
            w.insert_execution(&execution("e1", "wa", 10, ExecutionStatus::Completed))?;
            w.insert_execution(&execution("e2", "wb", 20, ExecutionStatus::Running))?;
            w.insert_execution(&execution("e3", "wa", 30, ExecutionStatus::Running))?;
            w.insert_execution(&execution("e4", "wa", 30, ExecutionStatus::Queued))?;
            w.insert_execution(&execution("e5", "wb", 5, ExecutionStatus::Paused))
        })
        .expect("insert");

    let list =
        |filter: ExecutionFilter| ids(&store.list_executions(&filter).expect("list"), |e| &e.id);
    let all = ExecutionFilter {
        limit: 50,
        ..Default::default()
    };
    assert_eq!(list(all.clone()), ["e4", "e3", "e2", "e1", "e5"]);
    assert_eq!(
        list(ExecutionFilter {
            limit: 3,
            ..all.clone()
        }),
        ["e4", "e3", "e2"]
    );
    assert_eq!(
        list(ExecutionFilter {
            limit: 3,
            offset: 3,
            ..all.clone()
        }),
        ["e1", "e5"]
    );
    assert_eq!(
        list(ExecutionFilter {
            workflow_id: Some("wa".into()),
            ..all.clone()
        }),
        ["e4", "e3", "e1"]
    );
    assert_eq!(
        list(ExecutionFilter {
            status: Some(ExecutionStatus::Running),
            ..all.clone()
        }),
        ["e3", "e2"]
    );
    assert_eq!(
        list(ExecutionFilter {
            workflow_id: Some("wa".into()),
            status: Some(ExecutionStatus::Running),
            limit: 1,
            offset: 0,
        }),
        ["e3"]
    );
    assert!(
        list(ExecutionFilter {
            workflow_id: Some("zz".into()),
            ..all
        })
        .is_empty()
    );

    // Recovery: oldest first, only the asked statuses.
    let recovering = store
        .executions_with_status(&[
            ExecutionStatus::Running,
            ExecutionStatus::Paused,
            ExecutionStatus::Queued,
        ])
        .expect("with status");
    assert_eq!(ids(&recovering, |e| &e.id), ["e5", "e2", "e3", "e4"]);
    let done = store
        .executions_with_status(&[ExecutionStatus::Completed])
        .expect("with status");
    assert_eq!(
        done,
        vec![execution("e1", "wa", 10, ExecutionStatus::Completed)]
    );
    assert!(
        store
            .executions_with_status(&[])
            .expect("with status")
            .is_empty()
    );
    assert!(
        store
            .executions_with_status(&[ExecutionStatus::Failed])
            .expect("with status")
            .is_empty()
    );
}

// ---- steps and attempts ----

#[test]
fn steps_round_trip_in_first_written_order() {
    let (_dir, path) = temp_db();
    let mut store = store_with_execution(&path);
    let full = StepRecord {
        execution_id: "e1".into(),
        step_id: "z-first".into(),
        status: StepStatus::Completed,
        agent: Some("x".into()),
        started_at: Some(11),
        completed_at: Some(12),
        output: Some(json!({"passed": 3})),
        error: Some("warning".into()),
        progress: Some(100),
        attempts: 2,
        retry_at: Some(5),
    };
    let mut null_output = step("e1", "m-second", StepStatus::Skipped);
    null_output.output = Some(serde_json::Value::Null);
    store
        .write(|w| {
            w.put_step(&full)?;
            w.put_step(&null_output)?;
            w.put_step(&step("e1", "a-third", StepStatus::Pending))
        })
        .expect("put");

    let steps = store.steps("e1").expect("steps");
    assert_eq!(
        ids(&steps, |s| &s.step_id),
        ["z-first", "m-second", "a-third"]
    );
    assert_eq!(steps[0], full);
    assert_eq!(steps[1], null_output);
    assert_eq!(steps[2], step("e1", "a-third", StepStatus::Pending));

    // Replacing a step keeps its place.
    let mut running = step("e1", "z-first", StepStatus::Running);
    running.progress = Some(40);
    store.write(|w| w.put_step(&running)).expect("replace");
    let steps = store.steps("e1").expect("steps");
    assert_eq!(
        ids(&steps, |s| &s.step_id),
        ["z-first", "m-second", "a-third"]
    );
    assert_eq!(steps[0], running);

    assert!(store.steps("nope").expect("steps").is_empty());
}

#[test]
fn attempts_round_trip_ordered_by_step_id_then_number() {
    let (_dir, path) = temp_db();
    let mut store = store_with_execution(&path);
    let full = AttemptRecord {
        execution_id: "e1".into(),
        step_id: "b".into(),
        attempt: 1,
        status: AttemptStatus::Failed,
        agent: "x".into(),
        started_at: 20,
        completed_at: Some(21),
        exit_code: Some(-1),
        error: Some("exit 255".into()),
        pgid: Some(4242),
        pgid_start: Some(99),
        log_path: Some("/var/log/do/e1-b-1.log".into()),
    };
    store
        .write(|w| {
            w.put_step(&step("e1", "b", StepStatus::Running))?;
            w.put_step(&step("e1", "a", StepStatus::Running))?;
            w.put_attempt(&attempt("e1", "a", 2))?;
            w.put_attempt(&attempt("e1", "b", 2))?;
            w.put_attempt(&full)?;
            w.put_attempt(&attempt("e1", "a", 1))
        })
        .expect("put");

    let attempts = store.attempts("e1").expect("attempts");
    let keys: Vec<(&str, u32)> = attempts
        .iter()
        .map(|a| (a.step_id.as_str(), a.attempt))
        .collect();
    assert_eq!(keys, [("a", 1), ("a", 2), ("b", 1), ("b", 2)]);
    assert_eq!(attempts[2], full);

    let mut finished = attempt("e1", "a", 2);
    finished.status = AttemptStatus::Succeeded;
    finished.completed_at = Some(30);
    finished.exit_code = Some(0);
    store.write(|w| w.put_attempt(&finished)).expect("replace");
    let attempts = store.attempts("e1").expect("attempts");
    assert_eq!(attempts.len(), 4);
    assert_eq!(attempts[1], finished);
}

// ---- outputs and events ----

#[test]
fn put_output_twice_keeps_one_row_with_the_second_value() {
    let (_dir, path) = temp_db();
    let mut store = store_with_execution(&path);
    store
        .write(|w| {
            w.put_output("e1", "result", &json!({"v": 1}))?;
            w.put_output("e1", "a", &json!([1, "two", null]))
        })
        .expect("put");
    store
        .write(|w| w.put_output("e1", "result", &json!("second")))
        .expect("put again");

    assert_eq!(
        store.outputs("e1").expect("outputs"),
        vec![
            ("a".to_owned(), json!([1, "two", null])),
            ("result".to_owned(), json!("second")),
        ]
    );
    let rows: i64 = raw(&path)
        .query_row(
            "SELECT count(*) FROM outputs WHERE execution_id = 'e1' AND name = 'result'",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(rows, 1);
}

#[test]
fn event_numbers_go_on_after_a_rollback_and_after_reopening() {
    let (_dir, path) = temp_db();
    let mut store = store_with_execution(&path);
    let first = store
        .write(|w| w.append_event("e1", 1, "a", &json!(null)))
        .expect("append");
    assert_eq!(first, 1);
    // A rolled-back transaction's numbers are taken again by the next one.
    let rolled_back: Result<u64, StoreError> = store.write(|w| {
        w.append_event("e1", 2, "b", &json!(null))?;
        Err(StoreError::Corrupt {
            what: "test",
            detail: "abort".to_owned(),
        })
    });
    assert!(rolled_back.is_err());
    let second = store
        .write(|w| w.append_event("e1", 3, "c", &json!(null)))
        .expect("append");
    assert_eq!(second, 2);
    drop(store);

    let mut store = open(&path);
    let third = store
        .write(|w| w.append_event("e1", 4, "d", &json!(null)))
        .expect("append after reopening");
    assert_eq!(third, 3);
    let kinds = event_kinds(&*store, "e1");
    assert_eq!(kinds, ["a", "c", "d"]);
}

#[test]
fn events_are_numbered_per_execution() {
    let (_dir, path) = temp_db();
    let mut store = store_with_execution(&path);
    store
        .write(|w| w.insert_execution(&execution("e2", "w", 20, ExecutionStatus::Queued)))
        .expect("insert");

    let seqs = store
        .write(|w| {
            Ok(vec![
                w.append_event("e1", 100, "execution.started", &json!({"a": 1}))?,
                w.append_event("e2", 101, "execution.started", &json!(null))?,
                w.append_event("e1", 102, "step.started", &json!({"step": "a"}))?,
            ])
        })
        .expect("append");
    assert_eq!(seqs, [1, 1, 2]);
    let third = store
        .write(|w| w.append_event("e1", 103, "step.completed", &json!([])))
        .expect("append");
    assert_eq!(third, 3);

    let events = store.events("e1", 0).expect("events");
    assert_eq!(
        events,
        vec![
            EventRecord {
                execution_id: "e1".into(),
                seq: 1,
                at: 100,
                kind: "execution.started".into(),
                data: json!({"a": 1}),
            },
            EventRecord {
                execution_id: "e1".into(),
                seq: 2,
                at: 102,
                kind: "step.started".into(),
                data: json!({"step": "a"}),
            },
            EventRecord {
                execution_id: "e1".into(),
                seq: 3,
                at: 103,
                kind: "step.completed".into(),
                data: json!([]),
            },
        ]
    );
    let after: Vec<u64> = store
        .events("e1", 1)
        .expect("events")
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(after, [2, 3]);
    assert!(store.events("e1", 3).expect("events").is_empty());
    assert!(store.events("e1", u64::MAX).expect("events").is_empty());
    assert_eq!(store.events("e2", 0).expect("events").len(), 1);
    assert!(store.events("nope", 0).expect("events").is_empty());
}

// ---- unreadable rows ----

#[test]
fn unreadable_values_are_corrupt() {
    let (_dir, path) = temp_db();
    let mut store = store_with_execution(&path);
    store
        .write(|w| w.put_step(&step("e1", "a", StepStatus::Running)))
        .expect("put");
    let conn = raw(&path);

    conn.execute("UPDATE executions SET status = 'bogus' WHERE id = 'e1'", [])
        .expect("corrupt status");
    assert!(matches!(
        store.execution("e1"),
        Err(StoreError::Corrupt {
            what: "execution",
            ..
        })
    ));
    assert!(matches!(
        store.list_executions(&ExecutionFilter {
            limit: 10,
            ..Default::default()
        }),
        Err(StoreError::Corrupt { .. })
    ));

    conn.execute("UPDATE steps SET attempts = -1 WHERE step_id = 'a'", [])
        .expect("corrupt attempts");
    assert!(matches!(
        store.steps("e1"),
        Err(StoreError::Corrupt { what: "step", .. })
    ));

    conn.execute(
        "UPDATE workflow_versions SET document = '{\"name\": 1}'",
        [],
    )
    .expect("corrupt document");
    assert!(matches!(
        store.workflow("w"),
        Err(StoreError::Corrupt {
            what: "workflow",
            ..
        })
    ));
    assert!(matches!(
        store.workflow_version("w", 1),
        Err(StoreError::Corrupt { .. })
    ));
}

// ---- schedules ----

fn schedule(id: &str, name: &str, workflow_id: &str) -> ScheduleRecord {
    ScheduleRecord {
        id: id.into(),
        workflow_id: workflow_id.into(),
        spec: serde_json::from_value(json!({"name": name, "cron": "* * * * * *"})).expect("spec"),
        from_document: false,
        cursor: 1_000,
        created_at: 1_000,
        updated_at: 1_000,
    }
}

fn fire(schedule_id: &str, scheduled_at: i64, execution_id: Option<&str>) -> FireRecord {
    FireRecord {
        schedule_id: schedule_id.into(),
        scheduled_at,
        fired_at: scheduled_at + 3,
        trigger: FireTrigger::Tick,
        outcome: FireOutcome::Started,
        execution_id: execution_id.map(str::to_owned),
        detail: None,
    }
}

#[test]
fn a_tick_is_recorded_once_and_its_second_fire_queues_nothing() {
    let (_dir, path) = temp_db();
    let mut store = open(&path);
    store
        .write(|w| {
            w.insert_workflow(&workflow("w", 1, WorkflowStatus::Active, None))?;
            w.insert_schedule(&schedule("sched_a", "every second", "w"))
        })
        .expect("setup");
    // What the daemon does for each tick: the fire and its execution in one transaction.
    let fire_once = |store: &mut dyn Store, execution_id: &str| {
        store
            .write(|w| {
                if !w.insert_fire(&fire("sched_a", 2_000, Some(execution_id)))? {
                    return Ok(false);
                }
                let mut record = execution(execution_id, "w", 2_000, ExecutionStatus::Queued);
                record.schedule = Some(ScheduleRef {
                    id: "sched_a".into(),
                    name: "every second".into(),
                    scheduled_at: 2_000,
                });
                w.insert_execution(&record)?;
                w.advance_schedule_cursor("sched_a", 2_000)?;
                Ok(true)
            })
            .expect("fire")
    };
    assert!(fire_once(&mut *store, "e1"));
    assert!(!fire_once(&mut *store, "e2"), "the same tick fired twice");
    let executions = store
        .list_executions(&ExecutionFilter {
            limit: 10,
            ..ExecutionFilter::default()
        })
        .expect("list");
    assert_eq!(executions.len(), 1);
    assert_eq!(
        executions[0].schedule.as_ref().map(|s| s.name.as_str()),
        Some("every second")
    );
    let fires = store.schedule_fires("sched_a", 10).expect("fires");
    assert_eq!(fires, vec![fire("sched_a", 2_000, Some("e1"))]);
    assert_eq!(
        store.live_schedule_executions("sched_a").expect("live"),
        vec!["e1".to_owned()]
    );
    let found = store
        .schedule("every second")
        .expect("by name")
        .expect("found");
    assert_eq!(found.cursor, 2_000);
    assert_eq!(store.schedule("sched_a").expect("by id"), Some(found));
}

#[test]
fn a_schedule_name_is_unique_and_a_removed_schedule_takes_its_fires_along() {
    let (_dir, path) = temp_db();
    let mut store = open(&path);
    store
        .write(|w| {
            w.insert_workflow(&workflow("w", 1, WorkflowStatus::Active, None))?;
            w.insert_schedule(&schedule("sched_a", "nightly", "w"))?;
            w.insert_fire(&fire("sched_a", 2_000, None)).map(drop)
        })
        .expect("setup");
    let taken = store.write(|w| w.insert_schedule(&schedule("sched_b", "nightly", "w")));
    assert!(
        matches!(taken, Err(StoreError::Conflict { .. })),
        "{taken:?}"
    );
    assert!(
        store
            .write(|w| w.remove_schedule("sched_a"))
            .expect("remove")
    );
    assert!(store.schedule("nightly").expect("read").is_none());
    assert!(
        store
            .schedule_fires("sched_a", 10)
            .expect("fires")
            .is_empty()
    );
}
