//! Transactions: one per [`Store::write`], or one savepoint each inside the transaction of a
//! [`Store::batch`], which groups a scheduler turn's writes into one commit.

use crate::{Batch, NEXT_SEQ_CAPACITY, Store, StoreError, Writer};
use rusqlite::{Connection, Transaction, TransactionBehavior};
use std::collections::HashMap;
use std::ops::Deref;

/// A write's own transaction, or its savepoint inside a batch's transaction. The savepoint is
/// made and ended by cached statements: rusqlite's `Savepoint` prepares its statements anew
/// each time, which costs about as much as the commits a batch saves. A write that panics
/// leaves its savepoint to [`Store::batch`], which then rolls back the whole batch.
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

impl Store {
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
}
