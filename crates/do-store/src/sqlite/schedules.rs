//! Schedules and their fires.
//!
//! A fire's key is its schedule and scheduled time. [`SqliteTx::insert_fire`] inserts it or
//! finds it there already (`ON CONFLICT DO NOTHING`), in the transaction that queues its
//! execution: a tick fired before a crash is found at the next start and never fired again,
//! and one whose transaction did not commit left nothing, so it is still due. The same unique
//! key is what would make several daemons on one shared database fire each tick once.

use super::columns::{Columns, expect_one_row, to_json};
use super::{SqliteStore, SqliteTx};
use crate::seam::{ScheduleReads, ScheduleWrites};
use crate::{FireRecord, ScheduleRecord, StoreError};
use rusqlite::{Connection, Row, params};

macro_rules! schedule_select {
    () => {
        "SELECT id, workflow_id, spec, from_document, cursor, created_at, updated_at \
         FROM schedules"
    };
}

const FIRE_SELECT: &str = "SELECT schedule_id, scheduled_at, fired_at, trigger, outcome, \
     execution_id, detail FROM schedule_fires";

/// The statuses of an execution that has not ended (`queued` counts: it will run).
const LIVE: &str = "('queued', 'running', 'paused', 'escalated')";

impl ScheduleReads for SqliteStore {
    /// The schedule of this id, or else of this name.
    fn schedule(&self, id_or_name: &str) -> Result<Option<ScheduleRecord>, StoreError> {
        schedule_by(&self.conn, id_or_name)
    }

    /// Every schedule (of one workflow, when given), by name.
    fn list_schedules(&self, workflow_id: Option<&str>) -> Result<Vec<ScheduleRecord>, StoreError> {
        schedules_of(&self.conn, workflow_id)
    }

    /// The schedule's latest `limit` fires, newest first.
    fn schedule_fires(&self, schedule_id: &str, limit: u32) -> Result<Vec<FireRecord>, StoreError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{FIRE_SELECT} WHERE schedule_id = ?1 ORDER BY scheduled_at DESC LIMIT ?2"
        ))?;
        let mut rows = stmt.query(params![schedule_id, limit])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(fire_from_row(row)?);
        }
        Ok(out)
    }

    /// Ids of the schedule's executions that have not ended, oldest first.
    fn live_schedule_executions(&self, schedule_id: &str) -> Result<Vec<String>, StoreError> {
        live_executions(&self.conn, schedule_id)
    }
}

impl ScheduleWrites for SqliteTx<'_> {
    /// Inserts a new schedule; fails with [`StoreError::Conflict`] if its name is taken.
    fn insert_schedule(&mut self, record: &ScheduleRecord) -> Result<(), StoreError> {
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO schedules (id, name, workflow_id, spec, from_document, cursor, \
                 created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                record.id,
                record.spec.name,
                record.workflow_id,
                to_json(&record.spec)?,
                record.from_document,
                record.cursor,
                record.created_at,
                record.updated_at,
            ])?;
        if inserted == 0 {
            return Err(StoreError::Conflict {
                what: "schedule",
                id: record.spec.name.clone(),
            });
        }
        Ok(())
    }

    /// Writes a schedule's spec, name, cursor and `updated_at`. An unknown id is an error
    /// ([`rusqlite::Error::QueryReturnedNoRows`]); a name taken by another schedule is
    /// [`StoreError::Conflict`].
    fn update_schedule(&mut self, record: &ScheduleRecord) -> Result<(), StoreError> {
        let taken = self
            .tx
            .prepare_cached("SELECT 1 FROM schedules WHERE name = ?1 AND id <> ?2")?
            .exists(params![record.spec.name, record.id])?;
        if taken {
            return Err(StoreError::Conflict {
                what: "schedule",
                id: record.spec.name.clone(),
            });
        }
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE schedules SET name = ?2, spec = ?3, from_document = ?4, cursor = ?5, \
                 updated_at = ?6 WHERE id = ?1",
            )?
            .execute(params![
                record.id,
                record.spec.name,
                to_json(&record.spec)?,
                record.from_document,
                record.cursor,
                record.updated_at,
            ])?;
        expect_one_row(changed)
    }

    /// Reads a schedule inside the transaction, so a decision on it holds until commit.
    fn schedule(&mut self, id_or_name: &str) -> Result<Option<ScheduleRecord>, StoreError> {
        schedule_by(&self.tx, id_or_name)
    }

    /// The workflow's schedules, by name.
    fn workflow_schedules(&mut self, workflow_id: &str) -> Result<Vec<ScheduleRecord>, StoreError> {
        schedules_of(&self.tx, Some(workflow_id))
    }

    /// Moves a schedule's cursor forward (never back).
    fn advance_schedule_cursor(&mut self, id: &str, cursor: i64) -> Result<(), StoreError> {
        self.tx
            .prepare_cached("UPDATE schedules SET cursor = MAX(cursor, ?2) WHERE id = ?1")?
            .execute(params![id, cursor])?;
        Ok(())
    }

    /// Returns whether a schedule was removed (its fires go with it; its executions stay).
    fn remove_schedule(&mut self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .tx
            .prepare_cached("DELETE FROM schedules WHERE id = ?1")?
            .execute([id])?
            > 0)
    }

    /// Records a fire unless its (schedule, scheduled time) is recorded already; returns
    /// whether it was inserted. A fire not inserted must not queue an execution.
    fn insert_fire(&mut self, fire: &FireRecord) -> Result<bool, StoreError> {
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO schedule_fires (schedule_id, scheduled_at, fired_at, trigger, \
                 outcome, execution_id, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (schedule_id, scheduled_at) DO NOTHING",
            )?
            .execute(params![
                fire.schedule_id,
                fire.scheduled_at,
                fire.fired_at,
                fire.trigger.as_str(),
                fire.outcome.as_str(),
                fire.execution_id,
                fire.detail,
            ])?;
        Ok(inserted > 0)
    }

    /// Writes what became of a waiting fire.
    fn update_fire(&mut self, fire: &FireRecord) -> Result<(), StoreError> {
        let changed = self
            .tx
            .prepare_cached(
                "UPDATE schedule_fires SET outcome = ?3, execution_id = ?4, detail = ?5 \
                 WHERE schedule_id = ?1 AND scheduled_at = ?2",
            )?
            .execute(params![
                fire.schedule_id,
                fire.scheduled_at,
                fire.outcome.as_str(),
                fire.execution_id,
                fire.detail,
            ])?;
        expect_one_row(changed)
    }

    /// The schedule's fires still waiting for its running execution to end, oldest first.
    fn waiting_fires(&mut self, schedule_id: &str) -> Result<Vec<FireRecord>, StoreError> {
        let mut stmt = self.tx.prepare_cached(&format!(
            "{FIRE_SELECT} WHERE schedule_id = ?1 AND outcome = 'waiting' ORDER BY scheduled_at"
        ))?;
        let mut rows = stmt.query([schedule_id])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(fire_from_row(row)?);
        }
        Ok(out)
    }

    /// Ids of the schedule's executions that have not ended, oldest first.
    fn live_schedule_executions(&mut self, schedule_id: &str) -> Result<Vec<String>, StoreError> {
        live_executions(&self.tx, schedule_id)
    }
}

fn schedule_by(conn: &Connection, id_or_name: &str) -> Result<Option<ScheduleRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(concat!(
        schedule_select!(),
        " WHERE id = ?1 OR name = ?1 ORDER BY id = ?1 DESC LIMIT 1"
    ))?;
    let mut rows = stmt.query([id_or_name])?;
    rows.next()?.map(schedule_from_row).transpose()
}

fn schedules_of(
    conn: &Connection,
    workflow_id: Option<&str>,
) -> Result<Vec<ScheduleRecord>, StoreError> {
    let mut stmt = conn.prepare_cached(concat!(
        schedule_select!(),
        " WHERE ?1 IS NULL OR workflow_id = ?1 ORDER BY name"
    ))?;
    let mut rows = stmt.query([workflow_id])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(schedule_from_row(row)?);
    }
    Ok(out)
}

fn live_executions(conn: &Connection, schedule_id: &str) -> Result<Vec<String>, StoreError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT id FROM executions WHERE schedule_id = ?1 AND status IN {LIVE} \
         ORDER BY created_at, id"
    ))?;
    let rows = stmt.query_map([schedule_id], |row| row.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

fn schedule_from_row(row: &Row<'_>) -> Result<ScheduleRecord, StoreError> {
    let mut c = Columns::new(row, "schedule");
    Ok(ScheduleRecord {
        id: c.get("id")?,
        workflow_id: c.get("workflow_id")?,
        spec: c.json("spec")?,
        from_document: c.get("from_document")?,
        cursor: c.get("cursor")?,
        created_at: c.get("created_at")?,
        updated_at: c.get("updated_at")?,
    })
}

fn fire_from_row(row: &Row<'_>) -> Result<FireRecord, StoreError> {
    let mut c = Columns::new(row, "schedule fire");
    Ok(FireRecord {
        schedule_id: c.get("schedule_id")?,
        scheduled_at: c.get("scheduled_at")?,
        fired_at: c.get("fired_at")?,
        trigger: c.parsed("trigger")?,
        outcome: c.parsed("outcome")?,
        execution_id: c.get("execution_id")?,
        detail: c.get("detail")?,
    })
}
