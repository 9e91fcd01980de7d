//! The reference check: every name a step reads is produced by an earlier step it can see,
//! or is the execution's input, or a loop's `item`/`index`; otherwise an error that says why.

use super::schema::*;
use super::*;

/// The names visible at one point of the walk, with an undo log so that leaving a list of steps
/// forgets what it produced.
#[derive(Default)]
pub(super) struct Scope<'a> {
    pub(super) counts: HashMap<&'a str, usize>,
    pub(super) log: Vec<&'a str>,
    /// How many loops enclose the point (`item` and `index` exist inside one).
    pub(super) loops: usize,
}

impl<'a> Scope<'a> {
    pub(super) fn add(&mut self, name: &'a str) {
        *self.counts.entry(name).or_default() += 1;
        self.log.push(name);
    }

    pub(super) fn mark(&self) -> usize {
        self.log.len()
    }

    pub(super) fn reset(&mut self, mark: usize) {
        while self.log.len() > mark {
            let Some(name) = self.log.pop() else { break };
            if let Some(count) = self.counts.get_mut(name) {
                *count -= 1;
                if *count == 0 {
                    self.counts.remove(name);
                }
            }
        }
    }

    pub(super) fn contains(&self, name: &str) -> bool {
        self.counts.contains_key(name)
    }

    /// The visible names in the order they became visible, for suggestions.
    pub(super) fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        let extra: &[&'a str] = if self.loops > 0 {
            &["item", "index"]
        } else {
            &[]
        };
        self.log.iter().copied().chain(extra.iter().copied())
    }
}

pub(super) struct RefChecker<'a> {
    pub(super) nodes: &'a [Node],
    /// Every name some step produces (its id or its output) → those steps, in document order.
    pub(super) producers: HashMap<&'a str, Vec<usize>>,
    pub(super) scope: Scope<'a>,
    /// Some steps were not walked: names without a known producer are not reported.
    pub(super) incomplete: bool,
    pub(super) hidden_names: &'a HashSet<String>,
    pub(super) out: Vec<(u64, Diagnostic)>,
}

impl<'a> RefChecker<'a> {
    pub(super) fn new(
        nodes: &'a [Node],
        incomplete: bool,
        hidden_names: &'a HashSet<String>,
    ) -> RefChecker<'a> {
        let mut producers: HashMap<&'a str, Vec<usize>> = HashMap::new();
        for (idx, node) in nodes.iter().enumerate() {
            if let Some(id) = &node.id {
                producers.entry(id).or_default().push(idx);
            }
            if let Some(output) = &node.output
                && node.id.as_ref() != Some(output)
            {
                producers.entry(output).or_default().push(idx);
            }
        }
        RefChecker {
            nodes,
            producers,
            scope: Scope::default(),
            incomplete,
            hidden_names,
            out: Vec::new(),
        }
    }

    /// Checks a list of steps that run in order; each sees what the earlier ones produced.
    pub(super) fn list(&mut self, steps: &[usize]) {
        let mark = self.scope.mark();
        for &step in steps {
            self.step(step);
            self.export(step);
        }
        self.scope.reset(mark);
    }

    /// Makes visible what a finished step provides to the steps after it.
    pub(super) fn export(&mut self, idx: usize) {
        let nodes = self.nodes;
        let Some(node) = nodes.get(idx) else { return };
        if let Some(id) = &node.id {
            self.scope.add(id);
        }
        if let Some(output) = &node.output {
            self.scope.add(output);
        }
        match node.kind {
            Some(Kind::Parallel) => {
                for &child in &node.children {
                    self.export(child);
                }
            }
            Some(Kind::Conditional) => {
                for branch in [&node.then, &node.otherwise].into_iter().flatten() {
                    for &child in branch.steps() {
                        self.export(child);
                    }
                }
            }
            // A loop's body runs once per item: only the loop's own `output` is visible.
            Some(Kind::Loop | Kind::Task | Kind::Team) | None => {}
        }
        // A fallback stands in for the step; its results are null when it did not run.
        if let Some(fallback) = node.error_handling.as_ref().and_then(|eh| eh.fallback) {
            self.export(fallback);
        }
    }

    /// Checks a step's references and those of the steps inside it.
    pub(super) fn step(&mut self, idx: usize) {
        let nodes = self.nodes;
        let Some(node) = nodes.get(idx) else { return };
        for reference in &node.refs {
            self.reference(idx, reference);
        }
        match node.kind {
            // Children of a parallel step run at the same time: none sees another's results.
            Some(Kind::Parallel) => {
                for &child in &node.children {
                    self.step(child);
                }
            }
            Some(Kind::Conditional) => {
                for branch in [&node.then, &node.otherwise].into_iter().flatten() {
                    self.list(branch.steps());
                }
            }
            Some(Kind::Loop) => {
                if let Some(body) = node.body {
                    self.scope.loops += 1;
                    self.step(body);
                    self.scope.loops -= 1;
                }
            }
            Some(Kind::Task | Kind::Team) | None => {}
        }
        if let Some(fallback) = node.error_handling.as_ref().and_then(|eh| eh.fallback) {
            self.step(fallback);
        }
    }

    pub(super) fn reference(&mut self, consumer: usize, reference: &Ref) {
        let name = reference.name.as_str();
        let message = if name.is_empty() {
            "an input name must not be empty".to_owned()
        } else if let Some(key) = name.strip_prefix("input.") {
            if !key.is_empty() {
                return;
            }
            "`input.` must be followed by a key of the execution input, as in \
             `input.productName`"
                .to_owned()
        } else if self.is_visible(name, reference.items)
            || (self.incomplete && !self.producers.contains_key(name))
            || self.hidden_names.contains(name)
        {
            return;
        } else {
            self.diagnose(consumer, name)
        };
        self.out.push((
            reference.tick,
            Diagnostic {
                path: reference.path.clone(),
                message,
            },
        ));
    }

    /// Returns whether `name` is visible here: produced earlier, or `item`/`index` inside a loop,
    /// or (for a loop's `items`) a field of a visible name, as in `data.rows`.
    pub(super) fn is_visible(&self, name: &str, allow_field: bool) -> bool {
        self.scope.contains(name)
            || (self.scope.loops > 0 && is_loop_name(name))
            || (allow_field
                && name
                    .match_indices('.')
                    .filter_map(|(at, _)| name.get(..at))
                    .any(|prefix| self.scope.contains(prefix)))
    }

    /// Explains why `name` is not visible to step `consumer`.
    pub(super) fn diagnose(&self, consumer: usize, name: &str) -> String {
        let producer = self
            .producers
            .get(name)
            .and_then(|steps| steps.first().copied());
        let Some(producer) = producer else {
            if is_loop_name(name) {
                return format!(
                    "`{name}` is only available inside the `step` of a loop, where it names the \
                     current item"
                );
            }
            return format!(
                "`{}` is not produced by any earlier step{}",
                show(name),
                suggest(name, self.scope.names())
            );
        };
        let name = show(name);
        let p = self.describe(producer);
        if producer == consumer {
            return format!(
                "`{name}` is produced by this step itself; a step cannot use its own result"
            );
        }
        let producer_chain = self.chain(producer);
        let consumer_chain = self.chain(consumer);
        if consumer_chain.contains(&producer) {
            return format!(
                "`{name}` is produced by {p}, which contains this step and finishes only after it"
            );
        }
        if producer_chain.contains(&consumer) {
            return format!(
                "`{name}` is produced by {p} inside this step, so it does not exist yet when this \
                 step starts"
            );
        }
        let common = producer_chain
            .iter()
            .zip(&consumer_chain)
            .take_while(|(a, b)| a == b)
            .count();
        let ancestor_idx = common
            .checked_sub(1)
            .and_then(|i| producer_chain.get(i))
            .copied();
        let ancestor = ancestor_idx.and_then(|i| self.nodes.get(i));
        let producer_side = producer_chain.get(common).and_then(|&i| self.nodes.get(i));
        let consumer_side = consumer_chain.get(common).and_then(|&i| self.nodes.get(i));
        if let (Some(ancestor), Some(p_side), Some(c_side)) =
            (ancestor, producer_side, consumer_side)
        {
            let relations = (p_side.relation, c_side.relation);
            if ancestor.kind == Some(Kind::Parallel)
                && relations == (Relation::ParallelChild, Relation::ParallelChild)
            {
                let sibling_idx = producer_chain.get(common).copied();
                let parallel = ancestor_idx.unwrap_or(producer);
                let by = if sibling_idx == Some(producer) {
                    format!("sibling {p}")
                } else {
                    format!(
                        "{p} inside sibling {}",
                        self.describe(sibling_idx.unwrap_or(producer))
                    )
                };
                return format!(
                    "`{name}` is produced by {by} of the same parallel step; siblings run at the \
                     same time, so move the consumer after {}",
                    self.describe(parallel)
                );
            }
            if ancestor.kind == Some(Kind::Conditional)
                && matches!(
                    relations,
                    (Relation::Then, Relation::Else) | (Relation::Else, Relation::Then)
                )
            {
                let conditional = ancestor_idx.unwrap_or(producer);
                return format!(
                    "`{name}` is produced by {p} in the other branch of conditional {}; only one \
                     branch runs",
                    self.describe(conditional)
                );
            }
        }
        if producer > consumer {
            return format!(
                "`{name}` is produced later by step {p}; a step can only use what steps before it \
                 produced"
            );
        }
        let hidden_in_loop = producer_chain
            .iter()
            .skip(common)
            .filter_map(|&i| self.nodes.get(i))
            .find(|node| node.relation == Relation::LoopBody)
            .and_then(|node| node.parent);
        if let Some(loop_idx) = hidden_in_loop {
            return format!(
                "`{name}` is produced by {p} inside loop {}, and a loop's body is not visible \
                 outside the loop; give the loop an `output` and use that",
                self.describe(loop_idx)
            );
        }
        format!(
            "`{name}` is not produced by any earlier step{}",
            suggest(name.as_str(), self.scope.names())
        )
    }

    /// Returns the steps from the top of the tree down to `idx`, included.
    pub(super) fn chain(&self, idx: usize) -> Vec<usize> {
        let mut chain = vec![idx];
        let mut current = idx;
        while let Some(parent) = self.nodes.get(current).and_then(|node| node.parent) {
            if chain.len() > self.nodes.len() {
                break;
            }
            chain.push(parent);
            current = parent;
        }
        chain.reverse();
        chain
    }

    /// Names a step in a message: by its id, and by its path when the id was generated.
    pub(super) fn describe(&self, idx: usize) -> String {
        match self.nodes.get(idx) {
            Some(Node {
                id: Some(id),
                id_generated: false,
                ..
            }) => format!("`{}`", show(id)),
            Some(Node {
                id: Some(id), path, ..
            }) => format!("`{id}` (at `{path}`)"),
            Some(node) => format!("at `{}`", node.path),
            None => "?".to_owned(),
        }
    }
}

/// Returns whether `name` is one of the names a loop's body gets (`item`, `index`, `item.FIELD`).
pub(super) fn is_loop_name(name: &str) -> bool {
    name == "item"
        || name == "index"
        || name
            .strip_prefix("item.")
            .is_some_and(|field| !field.is_empty())
}
