//! The execution state machine: given the state of an execution and an event (a step started,
//! succeeded or failed), it computes the new state and the changes the daemon must make durable
//! and act on. It does no I/O: the daemon persists every [`Change`] before acting on it.

use crate::model::{ExecutionStatus, StepStatus};
use crate::workflow::{Step, StepKind, WorkflowDocument};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Index of a node in a [`Plan`].
pub type NodeId = usize;

/// The step tree of a workflow, flattened into nodes the scheduler can address by index.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    nodes: Vec<Node>,
    roots: Vec<NodeId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub step_id: String,
    pub parent: Option<NodeId>,
    pub children: Vec<NodeId>,
    pub kind: NodeKind,
    /// The step's `output` name, if it has one.
    pub output: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    Task {
        agent: String,
        task: String,
        inputs: Vec<String>,
    },
    Parallel {
        max_concurrency: Option<u32>,
    },
}

impl Node {
    /// Returns the agent of a task node.
    pub fn agent(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Task { agent, .. } => Some(agent),
            NodeKind::Parallel { .. } => None,
        }
    }

    /// Returns the `type` of the step this node runs.
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            NodeKind::Task { .. } => "task",
            NodeKind::Parallel { .. } => "parallel",
        }
    }
}

/// A step whose type the engine cannot execute yet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("step `{step_id}` is a `{step_type}` step, which this version of `do` cannot execute yet")]
pub struct UnsupportedStep {
    pub step_id: String,
    pub step_type: &'static str,
}

impl Plan {
    /// Flattens a validated document into a plan.
    pub fn new(document: &WorkflowDocument) -> Result<Plan, UnsupportedStep> {
        let mut plan = Plan {
            nodes: Vec::new(),
            roots: Vec::new(),
        };
        for step in &document.steps {
            let id = plan.add(step, None)?;
            plan.roots.push(id);
        }
        Ok(plan)
    }

    fn add(&mut self, step: &Step, parent: Option<NodeId>) -> Result<NodeId, UnsupportedStep> {
        let (kind, output, children) = match &step.kind {
            StepKind::Task(task) => (
                NodeKind::Task {
                    agent: task.agent.clone(),
                    task: task.task.clone(),
                    inputs: task
                        .input
                        .as_ref()
                        .map(|i| i.names().to_vec())
                        .unwrap_or_default(),
                },
                task.output.clone(),
                &[][..],
            ),
            StepKind::Parallel(parallel) => (
                NodeKind::Parallel {
                    max_concurrency: parallel.max_concurrency,
                },
                None,
                &parallel.steps[..],
            ),
            other => {
                return Err(UnsupportedStep {
                    step_id: step.id.clone(),
                    step_type: other.type_name(),
                });
            }
        };
        let id = self.nodes.len();
        self.nodes.push(Node {
            step_id: step.id.clone(),
            parent,
            children: Vec::new(),
            kind,
            output,
        });
        for child in children {
            let child_id = self.add(child, Some(id))?;
            self.nodes[id].children.push(child_id);
        }
        Ok(id)
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub fn nodes(&self) -> impl Iterator<Item = (NodeId, &Node)> {
        self.nodes.iter().enumerate()
    }

    /// The top-level steps, in order.
    pub fn roots(&self) -> &[NodeId] {
        &self.roots
    }

    /// Finds the node of a step id.
    pub fn find(&self, step_id: &str) -> Option<NodeId> {
        self.nodes.iter().position(|n| n.step_id == step_id)
    }
}

/// A durable effect the daemon must record (and then act on) after an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// The step's status changed.
    Step {
        node: NodeId,
        status: StepStatus,
        error: Option<String>,
    },
    /// The step produced its result, stored under its id and its `output` name.
    Output { node: NodeId, value: Value },
    /// A running task must be ended (its process group signalled).
    Kill { node: NodeId },
    /// The execution ended.
    Finished {
        status: ExecutionStatus,
        error: Option<String>,
    },
}

/// The state of one execution: every step's status and every stored output.
#[derive(Debug, Clone)]
pub struct ExecutionState {
    plan: Plan,
    status: Vec<StepStatus>,
    /// Tasks asked to end because the execution is ending.
    killing: Vec<bool>,
    input: Value,
    outputs: BTreeMap<String, Value>,
    /// Set once a step failed with strategy `fail`: nothing new starts, and the execution ends
    /// as failed when the last running task has reported.
    failure: Option<String>,
    finished: Option<ExecutionStatus>,
}

impl ExecutionState {
    /// A fresh execution: every step pending, `input` the execution input.
    pub fn new(plan: Plan, input: Value) -> ExecutionState {
        let n = plan.nodes.len();
        ExecutionState {
            plan,
            status: vec![StepStatus::Pending; n],
            killing: vec![false; n],
            input,
            outputs: BTreeMap::new(),
            failure: None,
            finished: None,
        }
    }

    /// Rebuilds the state of an execution from what the store holds. A task recorded as running
    /// must be passed as pending: its attempt was interrupted and it will run again.
    pub fn restore(
        plan: Plan,
        input: Value,
        statuses: &BTreeMap<String, StepStatus>,
        outputs: BTreeMap<String, Value>,
    ) -> ExecutionState {
        let mut state = ExecutionState::new(plan, input);
        for (id, node) in state.plan.nodes.iter().enumerate() {
            if let Some(status) = statuses.get(&node.step_id) {
                state.status[id] = *status;
            }
        }
        state.outputs = outputs;
        state
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    pub fn status(&self, node: NodeId) -> StepStatus {
        self.status[node]
    }

    /// The execution's end, once it has one.
    pub fn finished(&self) -> Option<ExecutionStatus> {
        self.finished
    }

    /// Returns the task nodes that may start now, in document order.
    pub fn ready(&self) -> Vec<NodeId> {
        let mut ready = Vec::new();
        if self.failure.is_none() && self.finished.is_none() {
            self.ready_in_sequence(&self.plan.roots, &mut ready);
        }
        ready
    }

    fn ready_in_sequence(&self, children: &[NodeId], ready: &mut Vec<NodeId>) {
        for &child in children {
            match self.status[child] {
                StepStatus::Completed | StepStatus::Skipped => continue,
                StepStatus::Pending | StepStatus::Running => {
                    self.ready_in_node(child, ready);
                }
                StepStatus::Failed | StepStatus::Cancelled => {}
            }
            return;
        }
    }

    /// Adds the ready tasks under `node`; returns whether `node` has anything running or ready.
    fn ready_in_node(&self, node: NodeId, ready: &mut Vec<NodeId>) -> bool {
        match &self.plan.nodes[node].kind {
            NodeKind::Task { .. } => match self.status[node] {
                StepStatus::Pending => {
                    ready.push(node);
                    true
                }
                status => status == StepStatus::Running,
            },
            NodeKind::Parallel { max_concurrency } => {
                let limit = max_concurrency.map_or(usize::MAX, |m| m as usize);
                let children = &self.plan.nodes[node].children;
                let mut active = children
                    .iter()
                    .filter(|&&c| self.status[c] == StepStatus::Running)
                    .count();
                for &child in children {
                    if active >= limit {
                        break;
                    }
                    if self.status[child] == StepStatus::Pending && self.ready_in_node(child, ready)
                    {
                        active += 1;
                    }
                }
                active > 0
            }
        }
    }

    /// Records that a ready task started; its pending ancestors start with it (listed first,
    /// outermost first, so that events read top-down).
    pub fn start(&mut self, node: NodeId) -> Vec<Change> {
        let mut changes = Vec::new();
        let mut current = Some(node);
        while let Some(id) = current {
            if self.status[id] != StepStatus::Pending {
                break;
            }
            self.status[id] = StepStatus::Running;
            changes.push(Change::Step {
                node: id,
                status: StepStatus::Running,
                error: None,
            });
            current = self.plan.nodes[id].parent;
        }
        changes.reverse();
        changes
    }

    /// Records a task's success and whatever that completes in turn.
    pub fn succeed(&mut self, node: NodeId, value: Value) -> Vec<Change> {
        let mut changes = Vec::new();
        self.complete(node, value, &mut changes);
        self.settle(node, &mut changes);
        changes
    }

    /// Records a task's failure. With the default strategy (`fail`) the execution stops: running
    /// tasks are ended, nothing new starts, and it fails once they have all reported.
    pub fn fail(&mut self, node: NodeId, error: String) -> Vec<Change> {
        let mut changes = Vec::new();
        let status = if self.killing[node] {
            StepStatus::Cancelled
        } else {
            StepStatus::Failed
        };
        self.set(node, status, Some(error.clone()), &mut changes);
        if status == StepStatus::Failed && self.failure.is_none() {
            let step_id = &self.plan.nodes[node].step_id;
            self.failure = Some(format!("step `{step_id}` failed: {error}"));
            for id in 0..self.plan.nodes.len() {
                if self.status[id] == StepStatus::Running && self.is_task(id) && !self.killing[id] {
                    self.killing[id] = true;
                    changes.push(Change::Kill { node: id });
                }
            }
        }
        self.settle(node, &mut changes);
        changes
    }

    fn is_task(&self, node: NodeId) -> bool {
        matches!(self.plan.nodes[node].kind, NodeKind::Task { .. })
    }

    fn set(
        &mut self,
        node: NodeId,
        status: StepStatus,
        error: Option<String>,
        changes: &mut Vec<Change>,
    ) {
        self.status[node] = status;
        changes.push(Change::Step {
            node,
            status,
            error,
        });
    }

    fn complete(&mut self, node: NodeId, value: Value, changes: &mut Vec<Change>) {
        let step = &self.plan.nodes[node];
        self.outputs.insert(step.step_id.clone(), value.clone());
        if let Some(name) = &step.output {
            self.outputs.insert(name.clone(), value.clone());
        }
        changes.push(Change::Output { node, value });
        self.set(node, StepStatus::Completed, None, changes);
    }

    /// After `node` finished: finishes the composites above it whose children are all done,
    /// and the execution when nothing is left.
    fn settle(&mut self, node: NodeId, changes: &mut Vec<Change>) {
        let mut current = self.plan.nodes[node].parent;
        while let Some(parent) = current {
            let children = self.plan.nodes[parent].children.clone();
            if children.iter().any(|&c| !self.status[c].is_finished()) {
                if self.failure.is_none() {
                    return;
                }
                // A failing execution leaves pending children unstarted: the parent ends as soon
                // as nothing under it is running.
                if children
                    .iter()
                    .any(|&c| self.status[c] == StepStatus::Running)
                {
                    return;
                }
            }
            let failed = children
                .iter()
                .find(|&&c| self.status[c] == StepStatus::Failed);
            if let Some(&failed) = failed {
                let error = format!("step `{}` failed", self.plan.nodes[failed].step_id);
                self.set(parent, StepStatus::Failed, Some(error), changes);
            } else if children
                .iter()
                .all(|&c| self.status[c] == StepStatus::Completed)
            {
                let value = self.composite_output(&children);
                self.complete(parent, value, changes);
            } else {
                self.set(parent, StepStatus::Cancelled, None, changes);
            }
            current = self.plan.nodes[parent].parent;
        }
        self.finish_if_done(changes);
    }

    /// A parallel step's result: its children's results by output name (or id).
    fn composite_output(&self, children: &[NodeId]) -> Value {
        let mut map = Map::new();
        for &child in children {
            let node = &self.plan.nodes[child];
            let value = self
                .outputs
                .get(&node.step_id)
                .cloned()
                .unwrap_or(Value::Null);
            map.insert(
                node.output.clone().unwrap_or_else(|| node.step_id.clone()),
                value,
            );
        }
        Value::Object(map)
    }

    fn finish_if_done(&mut self, changes: &mut Vec<Change>) {
        if self.finished.is_some() {
            return;
        }
        let running = self.status.contains(&StepStatus::Running);
        let status = if let Some(error) = &self.failure {
            if running {
                return;
            }
            changes.push(Change::Finished {
                status: ExecutionStatus::Failed,
                error: Some(error.clone()),
            });
            ExecutionStatus::Failed
        } else if self
            .plan
            .roots
            .iter()
            .all(|&r| self.status[r] == StepStatus::Completed)
        {
            changes.push(Change::Finished {
                status: ExecutionStatus::Completed,
                error: None,
            });
            ExecutionStatus::Completed
        } else {
            return;
        };
        self.finished = Some(status);
    }

    /// The values a task receives: each `input` name mapped to its value (`input.KEY` from the
    /// execution input; an output not produced, e.g. by a skipped branch, is `null`).
    pub fn inputs_for(&self, node: NodeId) -> Map<String, Value> {
        let mut map = Map::new();
        if let NodeKind::Task { inputs, .. } = &self.plan.nodes[node].kind {
            for name in inputs {
                let value = match name.strip_prefix("input.") {
                    Some(key) => self.input.get(key).cloned(),
                    None => self.outputs.get(name).cloned(),
                };
                map.insert(name.clone(), value.unwrap_or(Value::Null));
            }
        }
        map
    }

    /// Completed top-level steps, for `progress`.
    pub fn completed_roots(&self) -> usize {
        self.plan
            .roots
            .iter()
            .filter(|&&r| self.status[r] == StepStatus::Completed)
            .count()
    }

    /// The first top-level step that has not finished: the API's `currentStep`.
    pub fn current_step(&self) -> Option<&str> {
        self.plan
            .roots
            .iter()
            .find(|&&r| !self.status[r].is_finished())
            .map(|&r| self.plan.nodes[r].step_id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(doc: Value) -> Plan {
        let document: WorkflowDocument = serde_json::from_value(doc).expect("test document");
        Plan::new(&document).expect("supported")
    }

    fn task(id: &str, input: Value, output: Option<&str>) -> Value {
        let mut step = json!({"id": id, "type": "task", "agent": "a", "task": format!("do {id}")});
        if !input.is_null() {
            step["input"] = input;
        }
        if let Some(output) = output {
            step["output"] = json!(output);
        }
        step
    }

    fn parallel(id: &str, steps: Vec<Value>) -> Value {
        json!({"id": id, "type": "parallel", "steps": steps})
    }

    /// The API document's SaaS launch workflow, reduced to its shape.
    fn saas() -> ExecutionState {
        let doc = json!({"name": "saas", "steps": [
            task("market-research", Value::Null, Some("research-data")),
            task("product-strategy", json!("research-data"), Some("strategy-doc")),
            parallel("parallel-development", vec![
                task("backend-dev", json!("strategy-doc"), Some("backend-code")),
                task("frontend-dev", json!("strategy-doc"), Some("frontend-code")),
            ]),
            task("testing", json!(["backend-code", "frontend-code"]), Some("test-results")),
            task("deploy", json!(["backend-code", "frontend-code", "test-results"]), Some("deployment-url")),
        ]});
        ExecutionState::new(plan(doc), json!({"productName": "CloudSync Pro"}))
    }

    fn ids(state: &ExecutionState, nodes: &[NodeId]) -> Vec<String> {
        nodes
            .iter()
            .map(|&n| state.plan().node(n).step_id.clone())
            .collect()
    }

    fn node(state: &ExecutionState, id: &str) -> NodeId {
        state.plan().find(id).expect("step exists")
    }

    fn run_ok(state: &mut ExecutionState, id: &str, value: Value) -> Vec<Change> {
        let n = node(state, id);
        state.start(n);
        state.succeed(n, value)
    }

    #[test]
    fn sequence_runs_one_step_at_a_time_in_order() {
        let mut state = saas();
        assert_eq!(ids(&state, &state.ready()), ["market-research"]);
        let n = node(&state, "market-research");
        state.start(n);
        assert!(
            state.ready().is_empty(),
            "nothing else starts while the first step runs"
        );
        assert_eq!(state.current_step(), Some("market-research"));
        state.succeed(n, json!("r"));
        assert_eq!(ids(&state, &state.ready()), ["product-strategy"]);
        assert_eq!(state.completed_roots(), 1);
    }

    #[test]
    fn parallel_children_are_ready_together_and_complete_the_parent() {
        let mut state = saas();
        run_ok(&mut state, "market-research", json!("r"));
        run_ok(&mut state, "product-strategy", json!("s"));
        assert_eq!(ids(&state, &state.ready()), ["backend-dev", "frontend-dev"]);
        let backend = node(&state, "backend-dev");
        let changes = state.start(backend);
        let parent = node(&state, "parallel-development");
        assert!(changes.contains(&Change::Step {
            node: parent,
            status: StepStatus::Running,
            error: None
        }));
        assert_eq!(
            ids(&state, &state.ready()),
            ["frontend-dev"],
            "the sibling is still ready"
        );
        assert_eq!(state.current_step(), Some("parallel-development"));
        state.succeed(backend, json!("b"));
        assert_eq!(state.status(parent), StepStatus::Running);
        let changes = run_ok(&mut state, "frontend-dev", json!("f"));
        assert!(changes.contains(&Change::Step {
            node: parent,
            status: StepStatus::Completed,
            error: None
        }));
        assert!(changes.contains(&Change::Output {
            node: parent,
            value: json!({"backend-code": "b", "frontend-code": "f"})
        }));
        assert_eq!(ids(&state, &state.ready()), ["testing"]);
    }

    #[test]
    fn inputs_resolve_outputs_step_ids_and_execution_input() {
        let mut state = saas();
        run_ok(&mut state, "market-research", json!({"pages": 3}));
        let strategy = node(&state, "product-strategy");
        assert_eq!(
            Value::Object(state.inputs_for(strategy)),
            json!({"research-data": {"pages": 3}})
        );
        run_ok(&mut state, "product-strategy", json!("s"));
        run_ok(&mut state, "backend-dev", json!("b"));
        run_ok(&mut state, "frontend-dev", json!("f"));
        let testing = node(&state, "testing");
        assert_eq!(
            Value::Object(state.inputs_for(testing)),
            json!({"backend-code": "b", "frontend-code": "f"})
        );

        let doc = json!({"name": "w", "steps": [
            task("a", Value::Null, None),
            task("b", json!(["a", "input.productName", "input.missing"]), None),
        ]});
        let mut state = ExecutionState::new(plan(doc), json!({"productName": "CloudSync Pro"}));
        run_ok(&mut state, "a", json!(1));
        let b = node(&state, "b");
        assert_eq!(
            Value::Object(state.inputs_for(b)),
            json!({"a": 1, "input.productName": "CloudSync Pro", "input.missing": null})
        );
    }

    #[test]
    fn the_whole_saas_workflow_completes_with_full_progress() {
        let mut state = saas();
        for id in [
            "market-research",
            "product-strategy",
            "backend-dev",
            "frontend-dev",
            "testing",
        ] {
            run_ok(&mut state, id, json!(id));
            assert_eq!(state.finished(), None);
        }
        let changes = run_ok(&mut state, "deploy", json!("https://example.test"));
        assert_eq!(
            changes.last(),
            Some(&Change::Finished {
                status: ExecutionStatus::Completed,
                error: None
            })
        );
        assert_eq!(state.finished(), Some(ExecutionStatus::Completed));
        assert_eq!(state.completed_roots(), 5);
        assert_eq!(state.current_step(), None);
        assert!(state.ready().is_empty());
    }

    #[test]
    fn a_failed_step_fails_the_execution_and_later_steps_never_start() {
        let mut state = saas();
        run_ok(&mut state, "market-research", json!("r"));
        let n = node(&state, "product-strategy");
        state.start(n);
        let changes = state.fail(n, "exit status 3".into());
        assert_eq!(
            changes.last(),
            Some(&Change::Finished {
                status: ExecutionStatus::Failed,
                error: Some("step `product-strategy` failed: exit status 3".into())
            })
        );
        assert!(state.ready().is_empty());
        for later in ["parallel-development", "backend-dev", "testing", "deploy"] {
            assert_eq!(
                state.status(node(&state, later)),
                StepStatus::Pending,
                "{later}"
            );
        }
    }

    #[test]
    fn a_failing_parallel_child_kills_its_running_sibling_and_waits_for_it() {
        let mut state = saas();
        run_ok(&mut state, "market-research", json!("r"));
        run_ok(&mut state, "product-strategy", json!("s"));
        let (backend, frontend) = (node(&state, "backend-dev"), node(&state, "frontend-dev"));
        state.start(backend);
        state.start(frontend);
        let changes = state.fail(backend, "exit status 1".into());
        assert!(changes.contains(&Change::Kill { node: frontend }));
        assert!(
            !changes.iter().any(|c| matches!(c, Change::Finished { .. })),
            "frontend still runs"
        );
        assert!(state.ready().is_empty());
        let changes = state.fail(frontend, "killed by SIGTERM".into());
        assert_eq!(state.status(frontend), StepStatus::Cancelled);
        let parent = node(&state, "parallel-development");
        assert_eq!(state.status(parent), StepStatus::Failed);
        assert!(matches!(
            changes.last(),
            Some(Change::Finished {
                status: ExecutionStatus::Failed,
                ..
            })
        ));
    }

    #[test]
    fn a_killed_task_that_succeeded_anyway_keeps_its_output() {
        let mut state = saas();
        run_ok(&mut state, "market-research", json!("r"));
        run_ok(&mut state, "product-strategy", json!("s"));
        let (backend, frontend) = (node(&state, "backend-dev"), node(&state, "frontend-dev"));
        state.start(backend);
        state.start(frontend);
        state.fail(backend, "boom".into());
        let changes = state.succeed(frontend, json!("f"));
        assert_eq!(state.status(frontend), StepStatus::Completed);
        assert!(changes.contains(&Change::Output {
            node: frontend,
            value: json!("f")
        }));
        assert!(matches!(
            changes.last(),
            Some(Change::Finished {
                status: ExecutionStatus::Failed,
                ..
            })
        ));
    }

    #[test]
    fn max_concurrency_limits_parallel_children() {
        let mut doc = json!({"name": "w", "steps": [parallel("p", vec![
            task("a", Value::Null, None), task("b", Value::Null, None), task("c", Value::Null, None),
        ])]});
        doc["steps"][0]["maxConcurrency"] = json!(2);
        let mut state = ExecutionState::new(plan(doc), json!({}));
        assert_eq!(ids(&state, &state.ready()), ["a", "b"]);
        state.start(node(&state, "a"));
        assert_eq!(ids(&state, &state.ready()), ["b"]);
        state.start(node(&state, "b"));
        assert!(state.ready().is_empty());
        state.succeed(node(&state, "a"), json!(null));
        assert_eq!(ids(&state, &state.ready()), ["c"]);
    }

    #[test]
    fn nested_parallel_and_sequence_inside_parallel() {
        let doc = json!({"name": "w", "steps": [
            parallel("outer", vec![
                parallel("inner", vec![task("x", Value::Null, None), task("y", Value::Null, None)]),
                task("z", Value::Null, Some("zed")),
            ]),
            task("after", json!(["x", "zed"]), None),
        ]});
        let mut state = ExecutionState::new(plan(doc), json!({}));
        assert_eq!(ids(&state, &state.ready()), ["x", "y", "z"]);
        let x = node(&state, "x");
        let changes = state.start(x);
        let (inner, outer) = (node(&state, "inner"), node(&state, "outer"));
        assert_eq!(
            changes,
            vec![
                Change::Step {
                    node: outer,
                    status: StepStatus::Running,
                    error: None
                },
                Change::Step {
                    node: inner,
                    status: StepStatus::Running,
                    error: None
                },
                Change::Step {
                    node: x,
                    status: StepStatus::Running,
                    error: None
                },
            ]
        );
        run_ok(&mut state, "y", json!("y"));
        state.succeed(x, json!("x"));
        assert_eq!(state.status(inner), StepStatus::Completed);
        assert_eq!(state.status(outer), StepStatus::Running);
        run_ok(&mut state, "z", json!("z"));
        assert_eq!(state.status(outer), StepStatus::Completed);
        let after = node(&state, "after");
        assert_eq!(
            Value::Object(state.inputs_for(after)),
            json!({"x": "x", "zed": "z"})
        );
        assert_eq!(ids(&state, &state.ready()), ["after"]);
    }

    #[test]
    fn restore_continues_where_the_store_left_off() {
        let mut state = saas();
        run_ok(&mut state, "market-research", json!("r"));
        run_ok(&mut state, "product-strategy", json!("s"));
        run_ok(&mut state, "backend-dev", json!("b"));
        let statuses: BTreeMap<String, StepStatus> = state
            .plan()
            .nodes()
            .map(|(id, n)| (n.step_id.clone(), state.status(id)))
            .collect();
        let mut outputs = BTreeMap::new();
        for name in [
            "market-research",
            "research-data",
            "product-strategy",
            "strategy-doc",
            "backend-dev",
            "backend-code",
        ] {
            outputs.insert(name.to_owned(), json!(name));
        }
        let restored = ExecutionState::restore(state.plan().clone(), json!({}), &statuses, outputs);
        assert_eq!(ids(&restored, &restored.ready()), ["frontend-dev"]);
        assert_eq!(restored.completed_roots(), 2);
        let testing = node(&restored, "testing");
        assert_eq!(
            Value::Object(restored.inputs_for(testing)),
            json!({"backend-code": "backend-code", "frontend-code": null})
        );
    }

    #[test]
    fn unsupported_step_types_are_named() {
        let document: WorkflowDocument = serde_json::from_value(json!({"name": "w", "steps": [
            {"id": "l", "type": "loop", "items": "xs", "step": task("s", Value::Null, None)}
        ]}))
        .expect("document");
        assert_eq!(
            Plan::new(&document),
            Err(UnsupportedStep {
                step_id: "l".into(),
                step_type: "loop"
            })
        );
    }
}
