//! Transactions: one per write, or one savepoint each inside the transaction of a batch, which
//! groups a scheduler turn's writes into one commit.

use super::{Batch, NEXT_SEQ_CAPACITY, SqliteStore, SqliteTx};
use crate::StoreError;
use crate::seam::{Store, Tx};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::collections::HashMap;
use std::ops::Deref;

/// A write's own transaction, or its savepoint inside a batch's transaction. The savepoint is
/// made and ended by cached statements: rusqlite's `Savepoint` prepares its statements anew
/// each time, which costs about as much as the commits a batch saves. A write that panics
/// leaves its savepoint to [`SqliteStore::batch`], which then rolls back the whole batch.
pub(crate) enum Scope<'a> {
    Transaction(Transaction<'a>),
    Savepoint(&'a Connection),
}

impl Scope<'_> {
    pub(crate) fn savepoint(conn: &Connection) -> rusqlite::Result<Scope<'_>> {
        conn.prepare_cached("SAVEPOINT write")?.execute([])?;
        Ok(Scope::Savepoint(conn))
    }

    pub(crate) fn commit(self) -> rusqlite::Result<()> {
        match self {
            Scope::Transaction(tx) => tx.commit(),
            Scope::Savepoint(conn) => conn.prepare_cached("RELEASE write")?.execute([]).map(drop),
        }
    }

    pub(crate) fn rollback(self) -> rusqlite::Result<()> {
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

impl Store for SqliteStore {
    fn write_dyn(
        &mut self,
        f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let SqliteStore {
            conn,
            next_seq,
            documents,
            batch,
        } = self;
        let mut write = || {
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
            let mut writer = SqliteTx {
                tx,
                next_seq,
                taken_seq: HashMap::new(),
                deleted_workflow: false,
            };
            match f(&mut writer) {
                Ok(()) => {
                    writer.tx.commit()?;
                    Ok((writer.taken_seq, writer.deleted_workflow))
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
        let (taken_seq, deleted_workflow) = write().map_err(|e| e.at(conn.path()))?;
        if deleted_workflow {
            documents.get_mut().clear();
        }
        if next_seq.len() + taken_seq.len() > NEXT_SEQ_CAPACITY {
            next_seq.clear();
        }
        next_seq.extend(taken_seq);
        Ok(())
    }

    fn batch_dyn(&mut self, f: &mut dyn FnMut(&mut dyn Store)) -> Result<(), StoreError> {
        debug_assert!(self.batch == Batch::None, "batches do not nest");
        self.batch = Batch::Waiting;
        // A panic must not leave the transaction open for the next writes to join unseen.
        if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(self))) {
            self.abandon_batch();
            std::panic::resume_unwind(panic);
        }
        match self.batch {
            Batch::None | Batch::Waiting => {
                self.batch = Batch::None;
                return Ok(());
            }
            Batch::Doomed => {
                self.abandon_batch();
                return Err(StoreError::BatchRolledBack);
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
        committed.map_err(|e| e.at(self.conn.path()))
    }

    fn describe(&self) -> String {
        format!("SQLite `{}`", self.conn.path().unwrap_or("(in memory)"))
    }
}

impl SqliteStore {
    /// Undoes what a batch wrote (unless SQLite already has) and forgets the event numbers it
    /// took, which were never stored.
    fn abandon_batch(&mut self) {
        self.batch = Batch::None;
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.next_seq.clear();
    }
}
