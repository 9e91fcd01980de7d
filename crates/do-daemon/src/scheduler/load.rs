//! Loading an execution into memory, and the timers that wake it: retry backoff and the
//! workflow's `timeout`.

use super::commit::commit;
use super::{Active, Message, Scheduler};
use crate::time;
use do_core::engine::{ExecutionState, NodeId, Plan};
use do_core::model::{ExecutionStatus, StepStatus};
use do_store::prelude::*;
use do_store::transition::Summary;
use do_store::{StepRecord, StoreError};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

impl Scheduler {
    pub(super) fn load(&mut self, store: &mut dyn Store, id: &str) -> Result<(), StoreError> {
        if self.active.contains_key(id) {
            return Ok(());
        }
        let Some(record) = store.execution(id)? else {
            return Ok(());
        };
        let document = store
            .workflow_version(&record.workflow_id, record.workflow_version)?
            .ok_or_else(|| StoreError::Corrupt {
                what: "workflow version",
                detail: record.workflow_id.clone(),
            })?;
        let plan = Plan::new(&document);
        let rows_by_id: HashMap<String, StepRecord> = store
            .steps(id)?
            .into_iter()
            .map(|s| (s.step_id.clone(), s))
            .collect();
        let statuses: BTreeMap<String, (StepStatus, u32)> = rows_by_id
            .iter()
            .map(|(k, v)| (k.clone(), (v.status, v.attempts)))
            .collect();
        // A step's output is in its row; `output` names and loops' items have rows of their
        // own in `outputs` (where earlier builds also stored each step's output).
        let mut outputs: BTreeMap<String, Value> = store.outputs(id)?.into_iter().collect();
        for row in rows_by_id.values() {
            if let Some(output) = &row.output {
                outputs.insert(row.step_id.clone(), output.clone());
            }
        }
        let mut state = ExecutionState::restore(plan, record.input.clone(), &statuses, outputs);
        // Rows are matched after the restore, which has added loops' iterations to the plan.
        let rows: HashMap<NodeId, StepRecord> = state
            .plan()
            .nodes()
            .filter_map(|(node, n)| rows_by_id.get(&n.step_id).map(|row| (node, row.clone())))
            .collect();
        for (&node, row) in &rows {
            if let (Some(at), StepStatus::Pending) = (row.retry_at, row.status) {
                state.wait(node);
                self.arm_wake(id, node, at);
            }
        }
        if let Some(seconds) = document.timeout
            && !record.status.is_terminal()
        {
            // Wall-clock time since the execution started, across daemon restarts.
            let start = record.started_at.unwrap_or_else(time::now_ms);
            self.arm_timeout(id, start + (seconds * 1000.0) as i64);
        }
        self.active.insert(
            id.to_owned(),
            Active {
                written: Summary::of(&record),
                input_json: record.input.to_string().into(),
                record,
                state,
                rows,
                running: HashMap::new(),
                dirs_ready: false,
                cancel_reply: None,
            },
        );
        Ok(())
    }

    pub(super) fn arm_wake(&self, id: &str, node: NodeId, at: i64) {
        let sender = self.shared.scheduler.clone();
        let execution_id = id.to_owned();
        tokio::spawn(async move {
            sleep_until_ms(at).await;
            let _ = sender.send(Message::Wake { execution_id, node });
        });
    }

    pub(super) fn arm_timeout(&self, id: &str, at: i64) {
        let sender = self.shared.scheduler.clone();
        let execution_id = id.to_owned();
        tokio::spawn(async move {
            sleep_until_ms(at).await;
            let _ = sender.send(Message::Timeout(execution_id));
        });
    }

    pub(super) fn time_out(&mut self, store: &mut dyn Store, id: &str) -> Result<(), StoreError> {
        let Some(active) = self.active.get_mut(id) else {
            return Ok(());
        };
        if active.record.status.is_terminal() {
            return Ok(());
        }
        let reason = "the workflow's `timeout` passed".to_owned();
        let changes = active.state.cancel(ExecutionStatus::TimedOut, reason);
        let effects = store.write(|w| commit(w, active, changes, time::now_ms()))?;
        self.after_commit(id, effects);
        Ok(())
    }
}

pub(super) async fn sleep_until_ms(at: i64) {
    let wait = u64::try_from(at - time::now_ms()).unwrap_or(0);
    tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
}
