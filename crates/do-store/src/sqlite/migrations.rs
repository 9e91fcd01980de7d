//! The schema, as an ordered list of migrations.
//!
//! Migration `n` (1-based) brings a database from `PRAGMA user_version = n - 1` to `n`, in one
//! transaction with the version bump. Never edit a released migration: append a new one.

use crate::StoreError;
use rusqlite::{Connection, TransactionBehavior};

/// The schema version this build writes: the number of migrations.
pub const SCHEMA_VERSION: u32 = 4;

/// Migration `i` (0-based) brings the schema from version `i` to `i + 1`. The array length is
/// tied to [`SCHEMA_VERSION`], so adding a migration without bumping it does not compile.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [
    // 1: the initial schema.
    r#"
CREATE TABLE workflows (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    description TEXT,
    category    TEXT,
    status      TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX workflows_by_created ON workflows (created_at DESC, id DESC);
CREATE INDEX workflows_by_status ON workflows (status, created_at DESC, id DESC);
CREATE INDEX workflows_by_category ON workflows (category, created_at DESC, id DESC);

CREATE TABLE workflow_versions (
    workflow_id TEXT    NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    document    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (workflow_id, version)
) STRICT;

CREATE TABLE agents (
    name       TEXT    NOT NULL PRIMARY KEY,
    spec       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE teams (
    id         TEXT    NOT NULL PRIMARY KEY,
    spec       TEXT    NOT NULL,
    next       INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE executions (
    id               TEXT    NOT NULL PRIMARY KEY,
    workflow_id      TEXT    NOT NULL REFERENCES workflows (id),
    workflow_version INTEGER NOT NULL,
    workflow_name    TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    priority         TEXT    NOT NULL,
    input            TEXT    NOT NULL,
    notifications    TEXT,
    current_step     TEXT,
    steps_completed  INTEGER NOT NULL DEFAULT 0,
    steps_total      INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    cancel_reason    TEXT,
    created_at       INTEGER NOT NULL,
    started_at       INTEGER,
    completed_at     INTEGER
) STRICT;
CREATE INDEX executions_by_created ON executions (created_at DESC, id DESC);
CREATE INDEX executions_by_workflow ON executions (workflow_id, created_at DESC, id DESC);
CREATE INDEX executions_by_status ON executions (status, created_at DESC, id DESC);

CREATE TABLE steps (
    execution_id TEXT    NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    step_id      TEXT    NOT NULL,
    ord          INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    agent        TEXT,
    started_at   INTEGER,
    completed_at INTEGER,
    output       TEXT,
    error        TEXT,
    progress     INTEGER,
    retry_at     INTEGER,
    attempts     INTEGER NOT NULL,
    PRIMARY KEY (execution_id, step_id)
) STRICT;
CREATE UNIQUE INDEX steps_by_order ON steps (execution_id, ord);

CREATE TABLE attempts (
    execution_id TEXT    NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    step_id      TEXT    NOT NULL,
    attempt      INTEGER NOT NULL,
    status       TEXT    NOT NULL,
    agent        TEXT    NOT NULL,
    started_at   INTEGER NOT NULL,
    completed_at INTEGER,
    exit_code    INTEGER,
    error        TEXT,
    pgid         INTEGER,
    pgid_start   INTEGER,
    log_path     TEXT,
    PRIMARY KEY (execution_id, step_id, attempt)
) STRICT, WITHOUT ROWID;

CREATE TABLE outputs (
    execution_id TEXT NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    value        TEXT NOT NULL,
    PRIMARY KEY (execution_id, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE events (
    execution_id TEXT    NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    kind         TEXT    NOT NULL,
    data         TEXT    NOT NULL,
    PRIMARY KEY (execution_id, seq)
) STRICT, WITHOUT ROWID;
"#,
    // 2: an agent's recent step durations, for estimatedCompletion.
    r#"
CREATE INDEX steps_by_agent ON steps (agent, completed_at DESC) WHERE status = 'completed';
"#,
    // 3: `workflow run` finds the live workflow of a name.
    r#"
CREATE INDEX workflows_by_name ON workflows (name, created_at DESC, id DESC);
"#,
    // 4: schedules. A fire is keyed by its schedule and scheduled time, and inserted (or
    // found already there) in the transaction that queues its execution: a tick fires once.
    r#"
CREATE TABLE schedules (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    workflow_id TEXT    NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    spec        TEXT    NOT NULL,
    from_document INTEGER NOT NULL,
    cursor      INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX schedules_by_workflow ON schedules (workflow_id, name);

CREATE TABLE schedule_fires (
    schedule_id  TEXT    NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    scheduled_at INTEGER NOT NULL,
    fired_at     INTEGER NOT NULL,
    trigger      TEXT    NOT NULL,
    outcome      TEXT    NOT NULL,
    execution_id TEXT,
    detail       TEXT,
    PRIMARY KEY (schedule_id, scheduled_at)
) STRICT, WITHOUT ROWID;

ALTER TABLE executions ADD COLUMN schedule_id TEXT;
ALTER TABLE executions ADD COLUMN schedule_name TEXT;
ALTER TABLE executions ADD COLUMN scheduled_at INTEGER;
CREATE INDEX executions_by_schedule ON executions (schedule_id, status)
    WHERE schedule_id IS NOT NULL;
"#,
];

/// Reads `PRAGMA user_version`.
pub(crate) fn user_version(conn: &Connection) -> Result<u32, StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    u32::try_from(found).map_err(|_| StoreError::Corrupt {
        what: "schema version",
        detail: format!("PRAGMA user_version is {found}"),
    })
}

/// Applies every migration past the database's version, each in its own transaction.
/// The caller has already refused a database newer than [`SCHEMA_VERSION`].
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let target = u32::try_from(index + 1).map_err(|_| StoreError::Corrupt {
            what: "schema version",
            detail: format!("migration number {} out of range", index + 1),
        })?;
        if user_version(conn)? >= target {
            continue;
        }
        // IMMEDIATE takes the write lock first, so re-reading the version inside the
        // transaction is race-free against another process migrating the same file.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if user_version(&tx)? >= target {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", target)?;
        tx.commit()?;
    }
    Ok(())
}
