//! Workflows and their versions: reads, and the writes of create, update, enable/disable and
//! delete.

use super::columns::{Columns, expect_one_row, out_of_range, to_json, where_clause};
use super::{DOCUMENT_CACHE_CAPACITY, SqliteStore, SqliteTx};
use crate::seam::{WorkflowReads, WorkflowWrites};
use crate::{StoreError, WorkflowFilter, WorkflowRecord};
use do_core::model::WorkflowStatus;
use do_core::workflow::WorkflowDocument;
use rusqlite::{Row, ToSql, params};
use std::sync::Arc;

macro_rules! workflow_select {
    () => {
        "SELECT w.id, w.version, w.status, w.created_at, w.updated_at, v.document \
         FROM workflows w \
         LEFT JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version"
    };
}

impl WorkflowReads for SqliteStore {
    fn workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(concat!(workflow_select!(), " WHERE w.id = ?1"))?;
        let mut rows = stmt.query([id])?;
        rows.next()?.map(workflow_from_row).transpose()
    }

    /// The document of one version of a workflow (executions pin the version they started with).
    fn workflow_version(
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
    fn list_workflows(&self, filter: &WorkflowFilter) -> Result<Vec<WorkflowRecord>, StoreError> {
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
}

impl WorkflowWrites for SqliteTx<'_> {
    /// Inserts a new workflow at version 1; fails with [`StoreError::Conflict`] if the id exists.
    ///
    /// The version row stored is `record.version` (1 for a new workflow), with the document.
    fn insert_workflow(&mut self, record: &WorkflowRecord) -> Result<(), StoreError> {
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
    fn workflow(&mut self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let mut stmt = self
            .tx
            .prepare_cached(concat!(workflow_select!(), " WHERE w.id = ?1"))?;
        let mut rows = stmt.query([id])?;
        rows.next()?.map(workflow_from_row).transpose()
    }

    /// The newest workflow named `name` that is not archived (what `workflow run` reuses).
    fn live_workflow_named(&mut self, name: &str) -> Result<Option<WorkflowRecord>, StoreError> {
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
    fn add_workflow_version(
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
    fn workflow_execution_counts(&mut self, id: &str) -> Result<(u64, u64), StoreError> {
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
    fn delete_workflow(&mut self, id: &str) -> Result<Option<Vec<String>>, StoreError> {
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
    fn set_workflow_status(
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
}

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
