//! After the walk: generated ids, the reference check, and the normalized JSON document.

use super::refs::RefChecker;
use super::schema::*;
use super::walk::Validator;
use super::*;

impl Validator {
    /// Gives `step-N` ids to the steps without one, in document order, skipping taken ids.
    pub(super) fn assign_generated_ids(&mut self) {
        let mut n = 1u64;
        for idx in std::mem::take(&mut self.missing_ids) {
            let id = loop {
                let candidate = format!("step-{n}");
                n += 1;
                if !self.ids.contains_key(&candidate) {
                    break candidate;
                }
            };
            if let Some(node) = self.nodes.get_mut(idx) {
                node.id = Some(id);
                node.id_generated = true;
            }
        }
    }

    pub(super) fn check_references(&mut self) {
        let mut checker = RefChecker::new(&self.nodes, self.incomplete, &self.hidden_names);
        checker.list(&self.top);
        if let Some(fallback) = self.root_error_handling.as_ref().and_then(|eh| eh.fallback) {
            // The workflow's fallback may stand in for any step; it sees what a step after the
            // last one would see (a name whose step has not run yet is null at run time).
            let mark = checker.scope.mark();
            for &step in &self.top {
                checker.export(step);
            }
            checker.step(fallback);
            checker.scope.reset(mark);
        }
        let found = checker.out;
        self.errors.extend(found);
    }

    /// Builds the normalized document as JSON.
    pub(super) fn assemble(&self) -> Value {
        let mut root = self.root_fields.clone();
        let steps = self
            .top
            .iter()
            .map(|&idx| self.assemble_step(idx))
            .collect();
        root.insert("steps".into(), Value::Array(steps));
        if let Some(eh) = &self.root_error_handling {
            root.insert("errorHandling".into(), self.assemble_error_handling(eh));
        }
        Value::Object(root)
    }

    pub(super) fn assemble_step(&self, idx: usize) -> Value {
        let Some(node) = self.nodes.get(idx) else {
            return Value::Null;
        };
        let mut step = Map::new();
        if let Some(id) = &node.id {
            step.insert("id".into(), Value::String(id.clone()));
        }
        if let Some(kind) = node.kind {
            step.insert("type".into(), Value::String(kind.name().into()));
        }
        step.extend(node.fields.clone());
        let list =
            |steps: &[usize]| Value::Array(steps.iter().map(|&s| self.assemble_step(s)).collect());
        let branch = |branch: &BranchNode| match branch {
            BranchNode::One(s) => self.assemble_step(*s),
            BranchNode::Many(steps) => list(steps),
        };
        match node.kind {
            Some(Kind::Parallel) => {
                step.insert("steps".into(), list(&node.children));
            }
            Some(Kind::Conditional) => {
                if let Some(then) = &node.then {
                    step.insert("then".into(), branch(then));
                }
                if let Some(otherwise) = &node.otherwise {
                    step.insert("else".into(), branch(otherwise));
                }
            }
            Some(Kind::Loop) => {
                if let Some(body) = node.body {
                    step.insert("step".into(), self.assemble_step(body));
                }
            }
            Some(Kind::Task | Kind::Team) | None => {}
        }
        if let Some(eh) = &node.error_handling {
            step.insert("errorHandling".into(), self.assemble_error_handling(eh));
        }
        Value::Object(step)
    }

    pub(super) fn assemble_error_handling(&self, eh: &ErrorHandlingNode) -> Value {
        let mut fields = eh.fields.clone();
        if let Some(fallback) = eh.fallback {
            fields.insert("fallback".into(), self.assemble_step(fallback));
        }
        Value::Object(fields)
    }
}
