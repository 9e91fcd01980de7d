//! What a task receives: its inputs, its task text rendered from the template, and its loop
//! item, resolved through the names the step can see.

use super::NodeId;
use super::plan::NodeKind;
use super::state::ExecutionState;
use crate::expr::{self, Scope};
use crate::template;
use serde_json::{Map, Value};

impl ExecutionState {
    /// The values a task receives: each `input` name mapped to its value (`input.KEY` from the
    /// execution input, `item`/`index` in a loop; an output not produced, e.g. by a skipped
    /// branch, is `null`).
    pub fn inputs_for(&self, node: NodeId) -> Map<String, Value> {
        let mut map = Map::new();
        if let NodeKind::Task { inputs, .. } = &self.plan.nodes[node].kind {
            let scope = NodeScope { state: self, node };
            for name in inputs {
                let value = expr::parse(name)
                    .ok()
                    .and_then(|e| e.eval(&scope).ok())
                    .unwrap_or(Value::Null);
                map.insert(name.clone(), value);
            }
        }
        map
    }

    /// The task text with its `{{ expr }}` placeholders filled in.
    pub fn task_text(&self, node: NodeId) -> Result<String, String> {
        let NodeKind::Task { task, .. } = &self.plan.nodes[node].kind else {
            return Ok(String::new());
        };
        let template = template::parse(task).map_err(|e| format!("task text: {e}"))?;
        template
            .render(&NodeScope { state: self, node })
            .map_err(|e| format!("task text: {e}"))
    }

    /// The loop item and position of a node inside a loop iteration.
    pub fn item_of(&self, node: NodeId) -> Option<(Value, usize)> {
        let (lp, index) = self.plan.iteration_of(node)?;
        Some((
            self.items
                .get(&lp)?
                .get(index)
                .cloned()
                .unwrap_or(Value::Null),
            index,
        ))
    }
}
/// Names as a step sees them: `input`, `item` and `index` inside a loop, outputs and step ids.
pub(super) struct NodeScope<'a> {
    pub(super) state: &'a ExecutionState,
    pub(super) node: NodeId,
}

impl Scope for NodeScope<'_> {
    fn lookup(&self, name: &str) -> Option<Value> {
        match name {
            "input" => Some(self.state.input.clone()),
            "item" => self.state.item_of(self.node).map(|(item, _)| item),
            "index" => self
                .state
                .item_of(self.node)
                .map(|(_, index)| Value::from(index)),
            _ => self.state.outputs.get(name).cloned(),
        }
    }
}
