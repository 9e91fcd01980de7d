//! The SQLite backend: one file in WAL mode, the embedded default.
//!
//! All writes of one state transition go through one `write`: one transaction, or one
//! savepoint of the transaction of a `batch`, which groups the transitions the daemon's
//! scheduler makes in one turn into one commit.

mod agents;
mod columns;
mod executions;
mod migrations;
mod schedules;
mod tx;
mod workflows;

use crate::StoreError;

use columns::with_path;
use do_core::workflow::WorkflowDocument;
use rusqlite::Connection;
use rusqlite::config::DbConfig;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tx::Scope;

/// The schema version this build writes; see `migrations.rs`.
pub use migrations::SCHEMA_VERSION;

/// How long a statement waits for a lock held by another connection.
const BUSY_TIMEOUT: Duration = Duration::from_millis(5000);

/// Enough for every statement of this crate, including each combination of list filters.
const STATEMENT_CACHE_CAPACITY: usize = 80;

/// An open SQLite database. One writer: the daemon owns exactly one store.
pub struct SqliteStore {
    conn: Connection,
    /// The next event sequence number of executions that had events appended, so that an
    /// append needs no lookup of the last one. Only this store writes events while it is open.
    next_seq: HashMap<String, u64>,
    /// Workflow versions already parsed, by workflow id and version: a version never changes,
    /// and every execution reads its own at least twice (to run it, and for its status).
    documents: RefCell<HashMap<(String, u32), Arc<WorkflowDocument>>>,
    /// Where a batch stands: outside one, asked for, or with its transaction open.
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

/// One write transaction (or savepoint) of a [`SqliteStore`].
pub struct SqliteTx<'a> {
    tx: Scope<'a>,
    next_seq: &'a HashMap<String, u64>,
    /// Sequence numbers taken in this transaction; they join `next_seq` if it commits.
    taken_seq: HashMap<String, u64>,
    /// Whether a workflow was deleted in this transaction: the parsed versions are dropped
    /// if it commits.
    deleted_workflow: bool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`: WAL mode, `synchronous=NORMAL`,
    /// foreign keys on, migrations applied. Refuses a database whose schema version is newer
    /// than [`SCHEMA_VERSION`] with [`StoreError::TooNew`].
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
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
        Ok(SqliteStore {
            conn,
            next_seq: HashMap::new(),
            documents: RefCell::new(HashMap::new()),
            batch: Batch::None,
        })
    }
}
