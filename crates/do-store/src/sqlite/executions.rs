//! Executions and what they accumulate: steps, attempts, outputs and the event log; the queue
//! and the duration statistics the estimates are made from.

use super::columns::{Columns, expect_one_row, nullable_json, to_json, where_clause};
use super::{SqliteStore, SqliteTx};
use crate::seam::{ExecutionReads, ExecutionWrites};
use crate::{
    AttemptRecord, EventRecord, ExecutionFilter, ExecutionRecord, ScheduleRef, StepRecord,
    StoreError,
};
use do_core::model::{ExecutionStatus, Priority};
use rusqlite::{OptionalExtension, Row, ToSql, params};

macro_rules! execution_select {
    () => {
        "SELECT id, workflow_id, workflow_version, workflow_name, status, priority, input, \
         notifications, current_step, steps_completed, steps_total, error, cancel_reason, \
         created_at, started_at, completed_at, schedule_id, schedule_name, scheduled_at \
         FROM executions"
    };
}

impl ExecutionReads for SqliteStore {
    fn execution(&self, id: &str) -> Result<Option<ExecutionRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(concat!(execution_select!(), " WHERE id = ?1"))?;
        let mut rows = stmt.query([id])?;
        rows.next()?.map(execution_from_row).transpose()
    }

    /// Newest first (by `created_at`, then id), filtered, paginated.
    fn list_executions(
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
    fn queue(&self) -> Result<Vec<String>, StoreError> {
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
    fn step_durations(
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
    fn agent_durations(&self, agent: &str, limit: u32) -> Result<Vec<i64>, StoreError> {
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
    fn executions_with_status(
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
    fn steps(&self, execution_id: &str) -> Result<Vec<StepRecord>, StoreError> {
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
    fn attempts(&self, execution_id: &str) -> Result<Vec<AttemptRecord>, StoreError> {
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
    /// values, ordered by name. A step's output under its id is in its row ([`SqliteStore::steps`]);
    /// databases written by earlier builds also have it here.
    fn outputs(&self, execution_id: &str) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
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
    fn events(&self, execution_id: &str, after: u64) -> Result<Vec<EventRecord>, StoreError> {
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

impl ExecutionWrites for SqliteTx<'_> {
    /// Inserts a new execution; fails with [`StoreError::Conflict`] if the id exists.
    fn insert_execution(&mut self, record: &ExecutionRecord) -> Result<(), StoreError> {
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
    fn update_execution(&mut self, record: &ExecutionRecord) -> Result<(), StoreError> {
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
    /// in the order of [`SqliteStore::steps`].
    fn put_step(&mut self, record: &StepRecord) -> Result<(), StoreError> {
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
    fn put_attempt(&mut self, record: &AttemptRecord) -> Result<(), StoreError> {
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
    fn put_output(
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
    fn append_event(
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
}

impl SqliteTx<'_> {
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
