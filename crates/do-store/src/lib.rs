//! The SQLite store of `do`.
//!
//! The daemon never writes SQL itself: this crate offers the operations it needs, so that another
//! backend can later offer the same ones. Times are milliseconds since the Unix epoch (UTC).
//! All writes of one state transition go through one [`Store::write`] call: one transaction,
//! or one savepoint of the transaction of a [`Store::batch`], which groups the transitions the
//! daemon's scheduler makes in one turn into one commit.

mod error;
mod migrations;
mod records;
mod schedules;

pub use error::StoreError;
pub use records::*;

use do_core::model::{ExecutionStatus, Priority, WorkflowStatus};
use do_core::workflow::WorkflowDocument;
use rusqlite::config::DbConfig;
use rusqlite::types::FromSql;
use rusqlite::{
    Connection, OptionalExtension, Row, ToSql, Transaction, TransactionBehavior, params,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Display;
use std::ops::Deref;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// The schema version this build writes; see `migrations.rs`.
pub use migrations::SCHEMA_VERSION;

/// How long a statement waits for a lock held by another connection.
const BUSY_TIMEOUT: Duration = Duration::from_millis(5000);

/// Enough for every statement of this crate, including each combination of list filters.
const STATEMENT_CACHE_CAPACITY: usize = 80;

/// An open database. One writer: the daemon owns exactly one `Store`.
pub struct Store {
    conn: Connection,
    /// The next event sequence number of executions that had events appended, so that an
    /// append needs no lookup of the last one. Only this store writes events while it is open.
    next_seq: HashMap<String, u64>,
    /// Workflow versions already parsed, by workflow id and version: a version never changes,
    /// and every execution reads its own at least twice (to run it, and for its status).
    documents: RefCell<HashMap<(String, u32), Arc<WorkflowDocument>>>,
    /// Where a [`Store::batch`] stands: outside one, asked for, or with its transaction open.
    batch: Batch,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Batch {
    None,
    /// Inside a batch whose first write has not come yet: a batch that writes nothing takes
    /// no lock and commits nothing.
    Waiting,
    Open,
    /// A failed write's savepoint could not be rolled back: committing would keep part of it,
    /// so the whole batch is rolled back at its end.
    Doomed,
}

/// At most this many parsed workflow versions are kept; past it the cache is emptied.
const DOCUMENT_CACHE_CAPACITY: usize = 32;

/// At most this many executions' next sequence numbers are remembered; past it the map is
/// emptied (and refilled from the database, one lookup per execution).
const NEXT_SEQ_CAPACITY: usize = 1024;

/// The operations of one write transaction, handed to the closure of [`Store::write`].
pub struct Writer<'a> {
    tx: Scope<'a>,
    next_seq: &'a HashMap<String, u64>,
    /// Sequence numbers taken in this transaction; they join `next_seq` if it commits.
    taken_seq: HashMap<String, u64>,
    /// Whether a workflow was deleted in this transaction: the parsed versions are dropped
    /// if it commits.
    deleted_workflow: bool,
}

/// A write's own transaction, or its savepoint inside a batch's transaction. The savepoint is
/// made and ended by cached statements: rusqlite's `Savepoint` prepares its statements anew
/// each time, which costs about as much as the commits a batch saves. A write that panics
/// leaves its savepoint to [`Store::batch`], which then rolls back the whole batch.
enum Scope<'a> {
    Transaction(Transaction<'a>),
    Savepoint(&'a Connection),
}

impl Scope<'_> {
    fn savepoint(conn: &Connection) -> rusqlite::Result<Scope<'_>> {
        conn.prepare_cached("SAVEPOINT write")?.execute([])?;
        Ok(Scope::Savepoint(conn))
    }

    fn commit(self) -> rusqlite::Result<()> {
        match self {
            Scope::Transaction(tx) => tx.commit(),
            Scope::Savepoint(conn) => conn.prepare_cached("RELEASE write")?.execute([]).map(drop),
        }
    }

    fn rollback(self) -> rusqlite::Result<()> {
        match self {
            Scope::Transaction(tx) => tx.rollback(),
            Scope::Savepoint(conn) => {
                conn.prepare_cached("ROLLBACK TO write")?.execute([])?;
                conn.prepare_cached("RELEASE write")?.execute([]).map(drop)
            }
        }
    }
}

impl Deref for Scope<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        match self {
            Scope::Transaction(tx) => tx,
            Scope::Savepoint(conn) => conn,
        }
    }
}

// ---- SQL shared by several queries ----

macro_rules! workflow_select {
    () => {
        "SELECT w.id, w.version, w.status, w.created_at, w.updated_at, v.document \
         FROM workflows w \
         LEFT JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version"
    };
}

macro_rules! execution_select {
    () => {
        "SELECT id, workflow_id, workflow_version, workflow_name, status, priority, input, \
         notifications, current_step, steps_completed, steps_total, error, cancel_reason, \
         created_at, started_at, completed_at, schedule_id, schedule_name, scheduled_at \
         FROM executions"
    };
}

impl Store {
    /// Opens (creating if needed) the database at `path`: WAL mode, `synchronous=NORMAL`,
    /// foreign keys on, migrations applied. Refuses a database whose schema version is newer
    /// than [`SCHEMA_VERSION`] with [`StoreError::TooNew`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let display = path.display().to_string();
        let open_error = |source: rusqlite::Error| StoreError::Open {
            path: display.clone(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_error)?;

        // Check the version before anything that writes (switching to WAL rewrites the
        // header), so that a newer database is left exactly as it was.
        let found = migrations::user_version(&conn).map_err(|e| with_path(e, &display))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path: display,
                found,
                supported: SCHEMA_VERSION,
            });
        }

        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(open_error)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(open_error(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!(
                    "cannot switch to WAL mode (journal mode is `{mode}`)"
                )),
            )));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_error)?;
        // 1 MiB of page cache instead of 2: the hot pages of a daemon's writes and lists fit,
        // and an idle daemon keeps its memory small.
        conn.pragma_update(None, "cache_size", -1024)
            .map_err(open_error)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        // The bundled SQLite has STAT4, which re-prepares (parses and plans again) a cached
        // statement every time a parameter it filters an index on is bound: most statements
        // here, on every transition. Plans that ignore parameter values are as good for these
        // queries.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
            .map_err(open_error)?;

        migrations::migrate(&mut conn).map_err(|e| with_path(e, &display))?;
        Ok(Store {
            conn,
            next_seq: HashMap::new(),
            documents: RefCell::new(HashMap::new()),
            batch: Batch::None,
        })
    }

    /// Runs `f` in one transaction; commits when it returns `Ok`, rolls back otherwise. Inside
    /// a [`Store::batch`], `f`'s writes are a savepoint of the batch's transaction instead: they
    /// are undone when `f` fails, and durable when the batch commits.
    pub fn write<T>(
        &mut self,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Store {
            conn,
            next_seq,
            documents,
            batch,
        } = self;
        let write = || {
            let tx = match *batch {
                Batch::None => Scope::Transaction(
                    conn.transaction_with_behavior(TransactionBehavior::Immediate)?,
                ),
                Batch::Waiting => {
                    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
                    *batch = Batch::Open;
                    Scope::savepoint(conn)?
                }
                Batch::Open | Batch::Doomed => Scope::savepoint(conn)?,
            };
            let mut writer = Writer {
                tx,
                next_seq,
                taken_seq: HashMap::new(),
                deleted_workflow: false,
            };
            match f(&mut writer) {
                Ok(value) => {
                    writer.tx.commit()?;
                    Ok((value, writer.taken_seq, writer.deleted_workflow))
                }
                Err(error) => {
                    // The closure's error is the one worth reporting. A transaction whose
                    // rollback fails commits nothing either; a batch would commit the savepoint.
                    if writer.tx.rollback().is_err() && *batch == Batch::Open {
                        *batch = Batch::Doomed;
                    }
                    Err(error)
                }
            }
        };
        // The file's name is looked up only for an error.
        let (value, taken_seq, deleted_workflow) = write().map_err(|e| e.at(conn.path()))?;
        if deleted_workflow {
            documents.get_mut().clear();
        }
        if next_seq.len() + taken_seq.len() > NEXT_SEQ_CAPACITY {
            next_seq.clear();
        }
        next_seq.extend(taken_seq);
        Ok(value)
    }

    /// Runs `f`, in which every [`Store::write`] joins one transaction, committed when `f`
    /// returns: the transitions of one turn of the scheduler cost one commit. Nothing `f` wrote
    /// is durable before this returns; a failed commit undoes all of it (and the error says
    /// so), while `f`'s own result is returned either way.
    pub fn batch<T>(&mut self, f: impl FnOnce(&mut Store) -> T) -> (T, Result<(), StoreError>) {
        debug_assert!(self.batch == Batch::None, "batches do not nest");
        self.batch = Batch::Waiting;
        // A panic must not leave the transaction open for the next writes to join unseen.
        let value = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self))) {
            Ok(value) => value,
            Err(panic) => {
                self.abandon_batch();
                std::panic::resume_unwind(panic);
            }
        };
        match self.batch {
            Batch::None | Batch::Waiting => {
                self.batch = Batch::None;
                return (value, Ok(()));
            }
            Batch::Doomed => {
                self.abandon_batch();
                return (value, Err(StoreError::BatchRolledBack));
            }
            Batch::Open => self.batch = Batch::None,
        }
        let committed = self
            .conn
            .prepare_cached("COMMIT")
            .and_then(|mut commit| commit.execute([]))
            .map(drop)
            .map_err(StoreError::from);
        if committed.is_err() {
            self.abandon_batch();
        }
        (value, committed.map_err(|e| e.at(self.conn.path())))
    }

    /// Undoes what a batch wrote (unless SQLite already has) and forgets the event numbers it
    /// took, which were never stored.
    fn abandon_batch(&mut self) {
        self.batch = Batch::None;
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.next_seq.clear();
    }

    // ---- workflows ----

    pub fn workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(concat!(workflow_select!(), " WHERE w.id = ?1"))?;
        let mut rows = stmt.query([id])?;
        rows.next()?.map(workflow_from_row).transpose()
    }

    /// The document of one version of a workflow (executions pin the version they started with).
    pub fn workflow_version(
        &self,
        id: &str,
        version: u32,
    ) -> Result<Option<Arc<WorkflowDocument>>, StoreError> {
        let key = (id.to_owned(), version);
        if let Some(document) = self.documents.borrow().get(&key) {
            return Ok(Some(document.clone()));
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT document FROM workflow_versions WHERE workflow_id = ?1 AND version = ?2",
        )?;
        let mut rows = stmt.query(params![id, version])?;
        let Some(row) = rows.next()? else {
            return Ok(None);
        };
        let document =
            Arc::new(Columns::new(row, "workflow version").json::<WorkflowDocument>("document")?);
        let mut documents = self.documents.borrow_mut();
        if documents.len() >= DOCUMENT_CACHE_CAPACITY {
            documents.clear();
        }
        documents.insert(key, document.clone());
        Ok(Some(document))
    }

    /// Newest first (by `created_at`, then id), filtered, paginated.
    pub fn list_workflows(
        &self,
        filter: &WorkflowFilter,
    ) -> Result<Vec<WorkflowRecord>, StoreError> {
        let status = filter.status.map(WorkflowStatus::as_str);
        let mut conditions = Vec::new();
        let mut values: Vec<&dyn ToSql> = Vec::new();
        if let Some(status) = &status {
            conditions.push("w.status = ?");
            values.push(status);
        }
        if filter.hide_archived {
            conditions.push("w.status <> 'archived'");
        }
        if let Some(category) = &filter.category {
            conditions.push("w.category = ?");
            values.push(category);
        }
        values.push(&filter.limit);
        values.push(&filter.offset);
        let sql = format!(
            "{}{} ORDER BY w.created_at DESC, w.id DESC LIMIT ? OFFSET ?",
            workflow_select!(),
            where_clause(&conditions),
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(values.as_slice())?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(workflow_from_row(row)?);
        }
        Ok(out)
    }

    // ---- agents ----

    pub fn agent(&self, name: &str) -> Result<Option<AgentRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT spec, created_at FROM agents WHERE name = ?1")?;
        let mut rows = stmt.query([name])?;
        rows.next()?.map(agent_from_row).transpose()
    }

    pub fn team(&self, id: &str) -> Result<Option<TeamRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT spec, next, created_at FROM teams WHERE id = ?1")?;
        let mut rows = stmt.query([id])?;
        rows.next()?.map(team_from_row).transpose()
    }

    /// All teams, by id.
    pub fn list_teams(&self) -> Result<Vec<TeamRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT spec, next, created_at FROM teams ORDER BY id")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(team_from_row(row)?);
        }
        Ok(out)
    }

    /// All agents, by name.
    pub fn list_agents(&self) -> Result<Vec<AgentRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT spec, created_at FROM agents ORDER BY name")?;
        let mut rows = stmt.query([])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(agent_from_row(row)?);
        }
        Ok(out)
    }

    // ---- executions ----

    pub fn execution(&self, id: &str) -> Result<Option<ExecutionRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(concat!(execution_select!(), " WHERE id = ?1"))?;
        let mut rows = stmt.query([id])?;
        rows.next()?.map(execution_from_row).transpose()
    }

    /// Newest first (by `created_at`, then id), filtered, paginated.
    pub fn list_executions(
        &self,
        filter: &ExecutionFilter,
    ) -> Result<Vec<ExecutionRecord>, StoreError> {
        let status = filter.status.map(ExecutionStatus::as_str);
        let mut conditions = Vec::new();
        let mut values: Vec<&dyn ToSql> = Vec::new();
        if let Some(workflow_id) = &filter.workflow_id {
            conditions.push("workflow_id = ?");
            values.push(workflow_id);
        }
        if let Some(status) = &status {
            conditions.push("status = ?");
            values.push(status);
        }
        values.push(&filter.limit);
        values.push(&filter.offset);
        let sql = format!(
            "{}{} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            execution_select!(),
            where_clause(&conditions),
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(values.as_slice())?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(execution_from_row(row)?);
        }
        Ok(out)
    }

    /// Queued executions in the order the scheduler starts them: highest priority first,
    /// then oldest.
    pub fn queue(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, priority, created_at FROM executions WHERE status = 'queued'",
        )?;
        let mut rows = stmt.query([])?;
        let mut queued: Vec<(std::cmp::Reverse<Priority>, i64, String)> = Vec::new();
        while let Some(row) = rows.next()? {
            let mut c = Columns::new(row, "execution");
            let id = c.get("id")?;
            queued.push((
                std::cmp::Reverse(c.parsed("priority")?),
                c.get("created_at")?,
                id,
            ));
        }
        queued.sort();
        Ok(queued.into_iter().map(|(_, _, id)| id).collect())
    }

    /// How long each step took (ms) in the workflow's latest `executions` completed
    /// executions, by step id.
    pub fn step_durations(
        &self,
        workflow_id: &str,
        executions: u32,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT s.step_id, s.completed_at - s.started_at AS took FROM steps s \
             JOIN (SELECT id FROM executions WHERE workflow_id = ?1 AND status = 'completed' \
                   ORDER BY created_at DESC, id DESC LIMIT ?2) e ON s.execution_id = e.id \
             WHERE s.status = 'completed' AND s.started_at IS NOT NULL \
               AND s.completed_at IS NOT NULL",
        )?;
        let mut rows = stmt.query(params![workflow_id, executions])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut c = Columns::new(row, "step");
            out.push((c.get("step_id")?, c.get("took")?));
        }
        Ok(out)
    }

    /// How long the agent's latest `limit` completed steps took (ms), in any workflow.
    pub fn agent_durations(&self, agent: &str, limit: u32) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT completed_at - started_at AS took FROM steps \
             WHERE agent = ?1 AND status = 'completed' AND started_at IS NOT NULL \
               AND completed_at IS NOT NULL \
             ORDER BY completed_at DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![agent, limit], |row| row.get::<_, i64>(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Executions whose status is one of `statuses`, oldest first (for recovery at start).
    pub fn executions_with_status(
        &self,
        statuses: &[ExecutionStatus],
    ) -> Result<Vec<ExecutionRecord>, StoreError> {
        if statuses.is_empty() {
            return Ok(Vec::new());
        }
        // One statement for any number of statuses: they are passed as a JSON array.
        let names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
        let names = to_json(&names)?;
        let mut stmt = self.conn.prepare_cached(concat!(
            execution_select!(),
            " WHERE status IN (SELECT value FROM json_each(?1)) ORDER BY created_at, id"
        ))?;
        let mut rows = stmt.query([names])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(execution_from_row(row)?);
        }
        Ok(out)
    }

    /// Every step row of an execution, in the order they were first written.
    pub fn steps(&self, execution_id: &str) -> Result<Vec<StepRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT execution_id, step_id, status, agent, started_at, completed_at, output, \
             error, progress, attempts, retry_at FROM steps WHERE execution_id = ?1 ORDER BY ord",
        )?;
        let mut rows = stmt.query([execution_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(step_from_row(row)?);
        }
        Ok(out)
    }

    /// Every attempt of an execution's steps, ordered by step id then attempt number (the
    /// table's own order: no sort).
    pub fn attempts(&self, execution_id: &str) -> Result<Vec<AttemptRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT execution_id, step_id, attempt, status, agent, started_at, completed_at, \
             exit_code, error, pgid, pgid_start, log_path \
             FROM attempts WHERE execution_id = ?1 ORDER BY step_id, attempt",
        )?;
        let mut rows = stmt.query([execution_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(attempt_from_row(row)?);
        }
        Ok(out)
    }

    /// The named outputs of an execution (a step's `output` name, a loop's items) with their
    /// values, ordered by name. A step's output under its id is in its row ([`Store::steps`]);
    /// databases written by earlier builds also have it here.
    pub fn outputs(
        &self,
        execution_id: &str,
    ) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, value FROM outputs WHERE execution_id = ?1 ORDER BY name",
        )?;
        let mut rows = stmt.query([execution_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut c = Columns::new(row, "output");
            let name: String = c.get("name")?;
            let value = c.json("value")?;
            out.push((name, value));
        }
        Ok(out)
    }

    /// Events of an execution with `seq > after`, in order.
    pub fn events(&self, execution_id: &str, after: u64) -> Result<Vec<EventRecord>, StoreError> {
        // Sequence numbers are stored as SQLite integers: none is above `i64::MAX`.
        let Ok(after) = i64::try_from(after) else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT execution_id, seq, at, kind, data FROM events \
             WHERE execution_id = ?1 AND seq > ?2 ORDER BY seq",
        )?;
        let mut rows = stmt.query(params![execution_id, after])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut c = Columns::new(row, "event");
            out.push(EventRecord {
                execution_id: c.get("execution_id")?,
                seq: c.int("seq")?,
                at: c.get("at")?,
                kind: c.get("kind")?,
                data: c.json("data")?,
            });
        }
        Ok(out)
    }
}

impl Writer<'_> {
    /// Inserts a new workflow at version 1; fails with [`StoreError::Conflict`] if the id exists.
    ///
    /// The version row stored is `record.version` (1 for a new workflow), with the document.
    pub fn insert_workflow(&mut self, record: &WorkflowRecord) -> Result<(), StoreError> {
        let doc = &record.document;
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO workflows \
                 (id, name, description, category, status, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![
                record.id,
                doc.name,
                doc.description,
                doc.category,
                record.status.as_str(),
                record.version,
                record.created_at,
                record.updated_at,
            ])?;
        if inserted == 0 {
            return Err(StoreError::Conflict {
                what: "workflow",
                id: record.id.clone(),
            });
        }
        self.tx
            .prepare_cached(
                "INSERT INTO workflow_versions (workflow_id, version, document, created_at) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                record.id,
                record.version,
                to_json(doc)?,
                record.created_at
            ])?;
        Ok(())
    }

    /// Reads a workflow inside the transaction, so a decision on it holds until commit.
    pub fn workflow(&mut self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached(concat!(workflow_select!(), " WHERE w.id = ?1"))?;
        let mut rows = stmt.query([id])?;
        rows.next()?.map(workflow_from_row).transpose()
    }

    /// The newest workflow named `name` that is not archived (what `workflow run` reuses).
    pub fn live_workflow_named(
        &mut self,
        name: &str,
    ) -> Result<Option<WorkflowRecord>, StoreError> {
        let mut stmt = self.tx.prepare_cached(concat!(
            workflow_select!(),
            " WHERE w.name = ?1 AND w.status <> 'archived' \
             ORDER BY w.created_at DESC, w.id DESC LIMIT 1"
        ))?;
        let mut rows = stmt.query([name])?;
        rows.next()?.map(workflow_from_row).transpose()
    }

    /// Stores `document` as the next version of workflow `id` and makes it the current one;
    /// returns the new version number. Older versions stay, for the executions that run them.
    /// An unknown id is an error ([`rusqlite::Error::QueryReturnedNoRows`]).
    pub fn add_workflow_version(
        &mut self,
        id: &str,
        document: &WorkflowDocument,
        now: i64,
    ) -> Result<u32, StoreError> {
        let version: i64 = self
            .tx
            .prepare_cached(
                "UPDATE workflows SET version = version + 1, name = ?2, description = ?3, \
                 category = ?4, updated_at = ?5 WHERE id = ?1 RETURNING version",
            )?
            .query_row(
                params![
                    id,
                    document.name,
                    document.description,
                    document.category,
                    now
                ],
                |row| row.get(0),
            )?;
        self.tx
            .prepare_cached(
                "INSERT INTO workflow_versions (workflow_id, version, document, created_at) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, version, to_json(document)?, now])?;
        u32::try_from(version).map_err(|_| out_of_range("version", "workflow", version))
    }

    /// How many executions of a workflow there are: `(not yet ended, all)`.
    pub fn workflow_execution_counts(&mut self, id: &str) -> Result<(u64, u64), StoreError> {
        let (live, all): (i64, i64) = self
            .tx
            .prepare_cached(
                "SELECT COUNT(*) FILTER (WHERE status IN \
                 ('queued', 'running', 'paused', 'escalated')), COUNT(*) \
                 FROM executions WHERE workflow_id = ?1",
            )?
            .query_row([id], |row| Ok((row.get(0)?, row.get(1)?)))?;
        let count = |n: i64| u64::try_from(n).map_err(|_| out_of_range("count", "workflow", n));
        Ok((count(live)?, count(all)?))
    }

    /// Deletes a workflow with all its versions and executions (their steps, attempts, outputs
    /// and events go with them); returns the ids of the executions deleted, or `None` when there
    /// is no such workflow.
    pub fn delete_workflow(&mut self, id: &str) -> Result<Option<Vec<String>>, StoreError> {
        self.deleted_workflow = true;
        let executions = {
            let mut stmt = self
                .tx
                .prepare_cached("DELETE FROM executions WHERE workflow_id = ?1 RETURNING id")?;
            let mut rows = stmt.query([id])?;
            let mut ids = Vec::new();
            while let Some(row) = rows.next()? {
                ids.push(Columns::new(row, "execution").get("id")?);
            }
            ids
        };
        let deleted = self
            .tx
            .prepare_cached("DELETE FROM workflows WHERE id = ?1")?
            .execute([id])?;
        Ok((deleted > 0).then_some(executions))
    }

    /// Sets the status of a workflow. An unknown id is an error
    /// ([`rusqlite::Error::QueryReturnedNoRows`]).
    pub fn set_workflow_status(
        &mut self,
        id: &str,
        status: WorkflowStatus,
        now: i64,
    ) -> Result<(), StoreError> {
        let changed = self
            .tx
            .prepare_cached("UPDATE workflows SET status = ?2, updated_at = ?3 WHERE id = ?1")?
            .execute(params![id, status.as_str(), now])?;
        expect_one_row(changed)
    }

    /// Inserts or replaces the agent with this name.
    pub fn put_agent(&mut self, record: &AgentRecord) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO agents (name, spec, created_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, created_at = excluded.created_at",
            )?
            .execute(params![
                record.spec.name,
                to_json(&record.spec)?,
                record.created_at
            ])?;
        Ok(())
    }

    /// Inserts or replaces a team (keeping the round-robin cursor of a replaced one).
    pub fn put_team(&mut self, record: &TeamRecord) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO teams (id, spec, next, created_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (id) DO UPDATE SET spec = excluded.spec",
            )?
            .execute(params![
                record.spec.id,
                to_json(&record.spec)?,
                record.next,
                record.created_at
            ])?;
        Ok(())
    }

    /// Returns whether a team of this id exists.
    pub fn team_exists(&mut self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached("SELECT 1 FROM teams WHERE id = ?1")?
            .exists([id])?)
    }

    pub fn set_team_cursor(&mut self, id: &str, next: u32) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE teams SET next = ?2 WHERE id = ?1")?
            .execute(params![id, next])?;
        Ok(())
    }

    /// Returns whether a team was removed.
    pub fn remove_team(&mut self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached("DELETE FROM teams WHERE id = ?1")?
            .execute([id])?
            > 0)
    }

    /// Returns whether an agent of this name exists.
    pub fn agent_exists(&mut self, name: &str) -> Result<bool, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached("SELECT 1 FROM agents WHERE name = ?1")?;
        Ok(stmt.exists([name])?)
    }

    /// Returns whether an agent was removed.
    pub fn remove_agent(&mut self, name: &str) -> Result<bool, StoreError> {
        let removed = self
            .tx
            .prepare_cached("DELETE FROM agents WHERE name = ?1")?
            .execute([name])?;
        Ok(removed > 0)
    }

    /// Inserts a new execution; fails with [`StoreError::Conflict`] if the id exists.
    pub fn insert_execution(&mut self, record: &ExecutionRecord) -> Result<(), StoreError> {
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO executions (id, workflow_id, workflow_version, workflow_name, status, \
                 priority, input, notifications, current_step, steps_completed, steps_total, error, \
                 cancel_reason, created_at, started_at, completed_at, schedule_id, schedule_name, \
                 scheduled_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, \
                 ?17, ?18, ?19) \
                 ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![
                record.id,
                record.workflow_id,
                record.workflow_version,
                record.workflow_name,
                record.status.as_str(),
                record.priority.as_str(),
                to_json(&record.input)?,
                nullable_json(&record.notifications)?,
                record.current_step,
                record.steps_completed,
                record.steps_total,
                record.error,
                record.cancel_reason,
                record.created_at,
                record.started_at,
                record.completed_at,
                record.schedule.as_ref().map(|s| &s.id),
                record.schedule.as_ref().map(|s| &s.name),
                record.schedule.as_ref().map(|s| s.scheduled_at),
            ])?;
        if inserted == 0 {
            return Err(StoreError::Conflict {
                what: "execution",
                id: record.id.clone(),
            });
        }
        Ok(())
    }

    /// Writes the mutable fields of an execution (status, current step, times, error, ...).
    /// An unknown id is an error ([`rusqlite::Error::QueryReturnedNoRows`]).
    pub fn update_execution(&mut self, record: &ExecutionRecord) -> Result<(), StoreError> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE executions SET status = ?2, current_step = ?3, error = ?4, \
                 cancel_reason = ?5, started_at = ?6, completed_at = ?7, steps_completed = ?8 \
                 WHERE id = ?1",
            )?
            .execute(params![
                record.id,
                record.status.as_str(),
                record.current_step,
                record.error,
                record.cancel_reason,
                record.started_at,
                record.completed_at,
                record.steps_completed,
            ])?;
        expect_one_row(changed)
    }

    /// Inserts or replaces the row of one step of an execution. A replaced row keeps its place
    /// in the order of [`Store::steps`].
    pub fn put_step(&mut self, record: &StepRecord) -> Result<(), StoreError> {
        let output = record.output.as_ref().map(to_json).transpose()?;
        self.tx
            .prepare_cached(
                "INSERT INTO steps (execution_id, step_id, ord, status, agent, started_at, \
                 completed_at, output, error, progress, attempts, retry_at) \
                 VALUES (?1, ?2, COALESCE((SELECT ord FROM steps WHERE execution_id = ?1 \
                 ORDER BY ord DESC LIMIT 1), 0) + 1, \
                 ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
                 ON CONFLICT (execution_id, step_id) DO UPDATE SET \
                 status = excluded.status, agent = excluded.agent, \
                 started_at = excluded.started_at, completed_at = excluded.completed_at, \
                 output = excluded.output, error = excluded.error, \
                 progress = excluded.progress, attempts = excluded.attempts, \
                 retry_at = excluded.retry_at",
            )?
            .execute(params![
                record.execution_id,
                record.step_id,
                record.status.as_str(),
                record.agent,
                record.started_at,
                record.completed_at,
                output,
                record.error,
                record.progress,
                record.attempts,
                record.retry_at,
            ])?;
        Ok(())
    }

    /// Inserts or replaces one attempt of a step.
    pub fn put_attempt(&mut self, record: &AttemptRecord) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO attempts (execution_id, step_id, attempt, status, agent, started_at, \
                 completed_at, exit_code, error, pgid, pgid_start, log_path) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
                 ON CONFLICT (execution_id, step_id, attempt) DO UPDATE SET \
                 status = excluded.status, agent = excluded.agent, \
                 started_at = excluded.started_at, completed_at = excluded.completed_at, \
                 exit_code = excluded.exit_code, error = excluded.error, \
                 pgid = excluded.pgid, pgid_start = excluded.pgid_start, log_path = excluded.log_path",
            )?
            .execute(params![
                record.execution_id,
                record.step_id,
                record.attempt,
                record.status.as_str(),
                record.agent,
                record.started_at,
                record.completed_at,
                record.exit_code,
                record.error,
                record.pgid,
                record.pgid_start,
                record.log_path,
            ])?;
        Ok(())
    }

    /// Stores a named output. Storing the same name twice for one execution replaces the value
    /// (a re-run after recovery), so each output is stored exactly once.
    pub fn put_output(
        &mut self,
        execution_id: &str,
        name: &str,
        value: &serde_json::Value,
    ) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO outputs (execution_id, name, value) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (execution_id, name) DO UPDATE SET value = excluded.value",
            )?
            .execute(params![execution_id, name, to_json(value)?])?;
        Ok(())
    }

    /// Appends an event to the execution's log and returns its sequence number (1, 2, ...).
    pub fn append_event(
        &mut self,
        execution_id: &str,
        at: i64,
        kind: &str,
        data: &serde_json::Value,
    ) -> Result<u64, StoreError> {
        let known = self
            .taken_seq
            .get(execution_id)
            .or_else(|| self.next_seq.get(execution_id));
        let seq = match known {
            Some(&seq) => seq,
            None => self.last_seq(execution_id)? + 1,
        };
        let stored = i64::try_from(seq).map_err(|_| StoreError::Corrupt {
            what: "event",
            detail: format!("sequence number {seq} of execution `{execution_id}`"),
        })?;
        self.tx
            .prepare_cached(
                "INSERT INTO events (execution_id, seq, at, kind, data) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![execution_id, stored, at, kind, to_json(data)?])?;
        self.taken_seq.insert(execution_id.to_owned(), seq + 1);
        Ok(seq)
    }

    /// The sequence number of the execution's last event, 0 when it has none.
    fn last_seq(&self, execution_id: &str) -> Result<u64, StoreError> {
        let last: Option<i64> = self
            .tx
            .prepare_cached(
                "SELECT seq FROM events WHERE execution_id = ?1 ORDER BY seq DESC LIMIT 1",
            )?
            .query_row([execution_id], |row| row.get(0))
            .optional()?;
        let last = last.unwrap_or(0);
        u64::try_from(last).map_err(|_| StoreError::Corrupt {
            what: "event",
            detail: format!("sequence number {last} of execution `{execution_id}`"),
        })
    }
}

// ---- rows to records ----

fn workflow_from_row(row: &Row<'_>) -> Result<WorkflowRecord, StoreError> {
    let mut c = Columns::new(row, "workflow");
    let id: String = c.get("id")?;
    let version = c.int("version")?;
    let status = c.parsed("status")?;
    let created_at = c.get("created_at")?;
    let updated_at = c.get("updated_at")?;
    let document: Option<String> = c.get("document")?;
    let Some(document) = document else {
        return Err(StoreError::Corrupt {
            what: "workflow",
            detail: format!("workflow `{id}` has no document for its current version"),
        });
    };
    let document = serde_json::from_str(&document).map_err(|e| StoreError::Corrupt {
        what: "workflow",
        detail: format!("document of workflow `{id}`: {e}"),
    })?;
    Ok(WorkflowRecord {
        version,
        status,
        document,
        created_at,
        updated_at,
        id,
    })
}

fn team_from_row(row: &Row<'_>) -> Result<TeamRecord, StoreError> {
    let mut c = Columns::new(row, "team");
    Ok(TeamRecord {
        spec: c.json("spec")?,
        next: c.int("next")?,
        created_at: c.get("created_at")?,
    })
}

fn agent_from_row(row: &Row<'_>) -> Result<AgentRecord, StoreError> {
    let mut c = Columns::new(row, "agent");
    Ok(AgentRecord {
        spec: c.json("spec")?,
        created_at: c.get("created_at")?,
    })
}

fn execution_from_row(row: &Row<'_>) -> Result<ExecutionRecord, StoreError> {
    let mut c = Columns::new(row, "execution");
    Ok(ExecutionRecord {
        id: c.get("id")?,
        workflow_id: c.get("workflow_id")?,
        workflow_version: c.int("workflow_version")?,
        workflow_name: c.get("workflow_name")?,
        status: c.parsed("status")?,
        priority: c.parsed("priority")?,
        input: c.json("input")?,
        notifications: c
            .opt_json("notifications")?
            .unwrap_or(serde_json::Value::Null),
        current_step: c.get("current_step")?,
        steps_completed: c.int("steps_completed")?,
        steps_total: c.int("steps_total")?,
        error: c.get("error")?,
        cancel_reason: c.get("cancel_reason")?,
        created_at: c.get("created_at")?,
        started_at: c.get("started_at")?,
        completed_at: c.get("completed_at")?,
        schedule: schedule_ref(&mut c)?,
    })
}

/// The three schedule columns of an execution: all set, or none.
fn schedule_ref(c: &mut Columns<'_, '_>) -> Result<Option<ScheduleRef>, StoreError> {
    let id: Option<String> = c.get("schedule_id")?;
    let name: Option<String> = c.get("schedule_name")?;
    let scheduled_at: Option<i64> = c.get("scheduled_at")?;
    Ok(match (id, name, scheduled_at) {
        (Some(id), Some(name), Some(scheduled_at)) => Some(ScheduleRef {
            id,
            name,
            scheduled_at,
        }),
        _ => None,
    })
}

fn step_from_row(row: &Row<'_>) -> Result<StepRecord, StoreError> {
    let mut c = Columns::new(row, "step");
    Ok(StepRecord {
        execution_id: c.get("execution_id")?,
        step_id: c.get("step_id")?,
        status: c.parsed("status")?,
        agent: c.get("agent")?,
        started_at: c.get("started_at")?,
        completed_at: c.get("completed_at")?,
        output: c.opt_json("output")?,
        error: c.get("error")?,
        progress: c.opt_int("progress")?,
        attempts: c.int("attempts")?,
        retry_at: c.get("retry_at")?,
    })
}

fn attempt_from_row(row: &Row<'_>) -> Result<AttemptRecord, StoreError> {
    let mut c = Columns::new(row, "attempt");
    Ok(AttemptRecord {
        execution_id: c.get("execution_id")?,
        step_id: c.get("step_id")?,
        attempt: c.int("attempt")?,
        status: c.parsed("status")?,
        agent: c.get("agent")?,
        started_at: c.get("started_at")?,
        completed_at: c.get("completed_at")?,
        exit_code: c.opt_int("exit_code")?,
        error: c.get("error")?,
        pgid: c.opt_int("pgid")?,
        pgid_start: c.get("pgid_start")?,
        log_path: c.get("log_path")?,
    })
}

// ---- column helpers: a value of the wrong type or out of range is `Corrupt` ----

/// Reads a row's columns one after the other, in the order of the `SELECT`. Looking a
/// column up by name costs a scan of the statement's column names per value (most of the
/// time of reading a 1,000-step status document); the names are kept for error messages,
/// and debug builds check them against the statement.
struct Columns<'a, 'r> {
    row: &'a Row<'r>,
    next: usize,
    what: &'static str,
}

impl<'a, 'r> Columns<'a, 'r> {
    fn new(row: &'a Row<'r>, what: &'static str) -> Self {
        Columns { row, next: 0, what }
    }

    fn get<T: FromSql>(&mut self, name: &str) -> Result<T, StoreError> {
        let index = self.next;
        self.next += 1;
        debug_assert_eq!(
            self.row.as_ref().column_name(index).ok(),
            Some(name),
            "column {index} of a {} query",
            self.what
        );
        self.row.get(index).map_err(|e| match e {
            rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => StoreError::Corrupt {
                what: self.what,
                detail: format!("column `{name}`: {e}"),
            },
            other => StoreError::Sqlite(other),
        })
    }

    fn int<T: TryFrom<i64>>(&mut self, name: &str) -> Result<T, StoreError> {
        let value: i64 = self.get(name)?;
        T::try_from(value).map_err(|_| out_of_range(name, self.what, value))
    }

    fn opt_int<T: TryFrom<i64>>(&mut self, name: &str) -> Result<Option<T>, StoreError> {
        let value: Option<i64> = self.get(name)?;
        value
            .map(|v| T::try_from(v).map_err(|_| out_of_range(name, self.what, v)))
            .transpose()
    }

    /// A text column parsed with `FromStr` (the enums).
    fn parsed<T>(&mut self, name: &str) -> Result<T, StoreError>
    where
        T: FromStr,
        T::Err: Display,
    {
        let text: String = self.get(name)?;
        text.parse().map_err(|e: T::Err| StoreError::Corrupt {
            what: self.what,
            detail: format!("column `{name}`: {e}"),
        })
    }

    fn json<T: DeserializeOwned>(&mut self, name: &str) -> Result<T, StoreError> {
        let text: String = self.get(name)?;
        parse_json(&text, name, self.what)
    }

    fn opt_json<T: DeserializeOwned>(&mut self, name: &str) -> Result<Option<T>, StoreError> {
        let text: Option<String> = self.get(name)?;
        text.map(|t| parse_json(&t, name, self.what)).transpose()
    }
}

fn out_of_range(name: &str, what: &'static str, value: i64) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: format!("column `{name}`: value {value} is out of range"),
    }
}

fn parse_json<T: DeserializeOwned>(
    text: &str,
    name: &str,
    what: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what,
        detail: format!("column `{name}`: {e}"),
    })
}

// ---- writing helpers ----

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Sqlite(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))
}

/// `Value::Null` is stored as SQL `NULL`.
fn nullable_json(value: &serde_json::Value) -> Result<Option<String>, StoreError> {
    if value.is_null() {
        Ok(None)
    } else {
        to_json(value).map(Some)
    }
}

fn expect_one_row(changed: usize) -> Result<(), StoreError> {
    if changed == 0 {
        Err(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    } else {
        Ok(())
    }
}

fn where_clause(conditions: &[&str]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// Puts the database path into errors raised while opening it.
fn with_path(error: StoreError, path: &str) -> StoreError {
    match error {
        StoreError::Sqlite(source) => StoreError::Open {
            path: path.to_owned(),
            source,
        },
        other => other,
    }
}
