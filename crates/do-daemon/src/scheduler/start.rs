//! Starting ready steps: the order (priority, then age), the concurrency limits, the choice
//! of a team's member, and the launch of an attempt's agent.

use super::commit::{commit, row_mut};
use super::{Deferred, Message, Running, Scheduler, Started};
use crate::runner::{self, RunSpec};
use crate::time;
use do_core::engine::{NodeId, NodeKind, Runner};
use do_core::model::{AttemptStatus, ExecutionStatus, TeamStrategy};
use do_store::prelude::*;
use do_store::{AttemptRecord, StoreError};
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use tokio::sync::oneshot;

impl Scheduler {
    /// Starts ready steps, highest priority and oldest execution first, up to the limit.
    pub(super) fn pump(&mut self, store: &mut dyn Store) {
        let mut order: Vec<(std::cmp::Reverse<_>, i64, String)> = self
            .active
            .values()
            .map(|a| {
                (
                    std::cmp::Reverse(a.record.priority),
                    a.record.created_at,
                    a.record.id.clone(),
                )
            })
            .collect();
        order.sort();
        for (_, _, id) in order {
            let waiting = self.stale.contains(&id)
                || self.active.get(&id).is_none_or(|a| {
                    matches!(
                        a.record.status,
                        ExecutionStatus::Paused | ExecutionStatus::Escalated
                    )
                });
            if waiting {
                continue;
            }
            if let Err(e) = self.advance(store, &id) {
                tracing::error!(execution = %id, error = %e, "cannot record a decision");
                self.stale.insert(id);
                continue;
            }
            // Only as many ready steps as there are free slots are asked for, and more when
            // some of them wait for their agent.
            let mut waiting_for_agent = HashSet::new();
            loop {
                let free = self.shared.config.max_parallel.saturating_sub(self.running);
                if free == 0 {
                    return;
                }
                let wanted = waiting_for_agent.len() + free;
                let ready = match self.active.get(&id) {
                    Some(active) => active.state.ready_up_to(wanted),
                    None => break,
                };
                let exhausted = ready.len() < wanted;
                let mut progress = false;
                for node in ready {
                    if waiting_for_agent.contains(&node) {
                        continue;
                    }
                    if self.running >= self.shared.config.max_parallel {
                        return;
                    }
                    match self.start(store, &id, node) {
                        Ok(Started::Yes) => {}
                        Ok(Started::AgentBusy) => {
                            waiting_for_agent.insert(node);
                        }
                        Err(e) => {
                            tracing::error!(execution = %id, error = %e, "cannot start a step");
                            self.stale.insert(id);
                            return;
                        }
                    }
                    progress = true;
                }
                if exhausted || !progress {
                    break;
                }
            }
        }
    }

    /// Lets the engine take the decisions within reach (conditions, loop items) and commits them.
    pub(super) fn advance(&mut self, store: &mut dyn Store, id: &str) -> Result<(), StoreError> {
        let Some(active) = self.active.get_mut(id) else {
            return Ok(());
        };
        let changes = active.state.advance();
        if changes.is_empty() {
            return Ok(());
        }
        let now = time::now_ms();
        let effects = store.write(|w| commit(w, active, changes, now))?;
        self.after_commit(id, effects);
        Ok(())
    }

    /// Chooses the member of a team that runs a team step, by the team's strategy.
    pub(super) fn pick_member(
        &self,
        store: &mut dyn Store,
        team_id: &str,
    ) -> Result<String, StoreError> {
        let Some(team) = store.team(team_id)? else {
            return Err(StoreError::Corrupt {
                what: "team",
                detail: format!("team `{team_id}` is not defined"),
            });
        };
        let member = match team.spec.strategy {
            TeamStrategy::RoundRobin => {
                let index = team.next as usize % team.spec.members.len().max(1);
                store.write(|w| w.set_team_cursor(team_id, team.next.wrapping_add(1)))?;
                team.spec.members.get(index).cloned()
            }
            TeamStrategy::LeastBusy => {
                let busy = |member: &String| {
                    self.active
                        .values()
                        .flat_map(|a| a.running.values())
                        .filter(|r| &r.attempt.agent == member)
                        .count()
                };
                team.spec.members.iter().min_by_key(|m| busy(m)).cloned()
            }
            TeamStrategy::Random => team
                .spec
                .members
                .get(fastrand::usize(..team.spec.members.len().max(1)))
                .cloned(),
        };
        member.ok_or_else(|| StoreError::Corrupt {
            what: "team",
            detail: format!("team `{team_id}` has no members"),
        })
    }

    /// Fails a step that cannot start (its agent or team is gone, its task text does not render).
    pub(super) fn refuse(
        &mut self,
        store: &mut dyn Store,
        id: &str,
        node: NodeId,
        error: String,
    ) -> Result<(), StoreError> {
        let Some(active) = self.active.get_mut(id) else {
            return Ok(());
        };
        let mut changes = active.state.start(node);
        changes.extend(active.state.fail(node, error));
        let effects = store.write(|w| commit(w, active, changes, time::now_ms()))?;
        self.after_commit(id, effects);
        Ok(())
    }

    pub(super) fn start(
        &mut self,
        store: &mut dyn Store,
        id: &str,
        node: NodeId,
    ) -> Result<Started, StoreError> {
        let shared = self.shared.clone();
        let Some(runner) =
            self.active
                .get(id)
                .and_then(|a| match &a.state.plan().node(node).kind {
                    NodeKind::Task { runner, .. } => Some(runner.clone()),
                    _ => None,
                })
        else {
            return Ok(Started::Yes);
        };
        let agent_name = match runner {
            Runner::Agent(name) => name,
            Runner::Team(team) => match self.pick_member(store, &team) {
                Ok(member) => member,
                Err(StoreError::Corrupt { detail, .. }) => {
                    let error =
                        format!("{detail}; define it with `do team create {team} --members a,b`");
                    return self.refuse(store, id, node, error).map(|()| Started::Yes);
                }
                Err(other) => return Err(other),
            },
        };
        let Some(agent) = shared.agent(&agent_name) else {
            let error = format!(
                "agent `{agent_name}` is not registered (was it removed?); add it with `do agent add {agent_name} -- COMMAND…`"
            );
            return self.refuse(store, id, node, error).map(|()| Started::Yes);
        };
        if let Some(limit) = agent.concurrency {
            let busy = self
                .active
                .values()
                .flat_map(|a| a.running.values())
                .filter(|r| r.attempt.agent == agent_name)
                .count();
            if busy >= limit as usize {
                // Stays ready; it starts when one of the agent's steps ends.
                return Ok(Started::AgentBusy);
            }
        }
        let Some(active) = self.active.get_mut(id) else {
            return Ok(Started::Yes);
        };
        let task = match active.state.task_text(node) {
            Ok(task) => task,
            Err(error) => return self.refuse(store, id, node, error).map(|()| Started::Yes),
        };
        let step_id = active.state.plan().node(node).step_id.clone();
        let step_timeout = active
            .state
            .plan()
            .node(node)
            .timeout
            .map(std::time::Duration::from_secs_f64);
        let now = time::now_ms();
        let changes = active.state.start(node);
        let attempt_no = active.rows.get(&node).map_or(0, |r| r.attempts) + 1;
        let workspace = shared.config.data_dir.join("workspaces").join(id);
        let run_dir = shared.config.data_dir.join("runs").join(id);
        if !active.dirs_ready {
            // On failure the runner tries again and fails the step with the reason.
            active.dirs_ready = runner::prepare_dirs(&run_dir, &workspace).is_ok();
        }
        let spec = RunSpec {
            execution_id: id.to_owned(),
            step_id: step_id.clone(),
            attempt: attempt_no,
            agent,
            task,
            inputs: active.state.inputs_for(node),
            item: active.state.item_of(node),
            execution_input: active.input_json.clone(),
            workspace,
            run_dir,
            dirs_ready: active.dirs_ready,
            kill_grace: shared.config.kill_grace,
            timeout: step_timeout,
            limits: shared.config.limits,
            spawned: None,
            progress: None,
            log_tap: Some(crate::logs::LogTap::new(
                &shared.log_lines,
                id,
                &step_id,
                attempt_no,
            )),
            secret_names: shared.secret_names(),
        };
        let attempt = AttemptRecord {
            execution_id: id.to_owned(),
            step_id,
            attempt: attempt_no,
            status: AttemptStatus::Running,
            agent: agent_name.clone(),
            started_at: now,
            completed_at: None,
            exit_code: None,
            error: None,
            pgid: None,
            pgid_start: None,
            // Set when the attempt ends, if its stderr produced a log.
            log_path: None,
        };
        let effects = store.write(|w| {
            w.put_attempt(&attempt)?;
            let row = row_mut(active, node, id);
            row.attempts = attempt_no;
            row.agent = Some(agent_name.clone());
            // A new attempt starts from nothing; a percentage of the last one would mislead.
            row.progress = None;
            commit(w, active, changes, now)
        })?;
        let (kill_tx, kill_rx) = oneshot::channel();
        active.running.insert(
            node,
            Running {
                attempt,
                kill: Some(kill_tx),
                ended: false,
            },
        );
        self.running += 1;
        shared.running_steps.fetch_add(1, Ordering::Relaxed);
        let sender = shared.scheduler.clone();
        let execution_id = id.to_owned();
        let mut spec = spec;
        let (spawned_sender, spawned_id) = (sender.clone(), execution_id.clone());
        spec.spawned = Some(Box::new(move |pgid| {
            let _ = spawned_sender.send(Message::Spawned {
                execution_id: spawned_id,
                node,
                pgid,
            });
        }));
        let (progress_sender, progress_id) = (sender.clone(), execution_id.clone());
        spec.progress = Some(Box::new(move |percentage| {
            let _ = progress_sender.send(Message::Progress {
                execution_id: progress_id.clone(),
                node,
                attempt: attempt_no,
                percentage,
            });
        }));
        self.deferred.push(Deferred::Spawn(Box::pin(async move {
            let ended = runner::run(spec, kill_rx).await;
            let _ = sender.send(Message::Finished {
                execution_id,
                node,
                outcome: ended.outcome,
                log_path: ended.log_path.map(|p| p.display().to_string()),
            });
        })));
        self.after_commit(id, effects);
        Ok(Started::Yes)
    }
}
