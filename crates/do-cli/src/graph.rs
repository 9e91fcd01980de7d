//! `do workflow show --graph`: the step tree as an indented tree, a Mermaid flowchart or a
//! Graphviz digraph. Sequences chain, parallel steps fork and join, conditionals branch, loops
//! loop back.

use do_core::workflow::{Step, StepKind, WorkflowDocument};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum GraphFormat {
    Tree,
    Mermaid,
    Dot,
}

#[derive(Clone, Copy)]
enum Shape {
    Box,
    Fork,
    Decision,
    Loop,
}

struct Graph {
    nodes: Vec<(String, Shape)>,
    edges: Vec<(usize, usize, Option<&'static str>)>,
}

impl Graph {
    fn node(&mut self, label: String, shape: Shape) -> usize {
        self.nodes.push((label, shape));
        self.nodes.len() - 1
    }

    /// Adds a list of steps run in order after `entries`; returns the nodes it ends on.
    fn sequence(
        &mut self,
        steps: &[Step],
        mut entries: Vec<usize>,
        label: Option<&'static str>,
    ) -> Vec<usize> {
        let mut first_label = label;
        for step in steps {
            entries = self.step(step, &entries, first_label.take());
        }
        entries
    }

    fn step(&mut self, step: &Step, entries: &[usize], label: Option<&'static str>) -> Vec<usize> {
        let (text, shape) = match &step.kind {
            StepKind::Task(task) => (format!("{}\\nagent: {}", step.id, task.agent), Shape::Box),
            StepKind::Team(team) => (format!("{}\\nteam: {}", step.id, team.team_id), Shape::Box),
            StepKind::Parallel(_) => (format!("{} (parallel)", step.id), Shape::Fork),
            StepKind::Conditional(c) => (format!("{}: {}", step.id, c.condition), Shape::Decision),
            StepKind::Loop(l) => (format!("{}: for each in {}", step.id, l.items), Shape::Loop),
        };
        let node = self.node(text, shape);
        for &entry in entries {
            self.edges.push((entry, node, label));
        }
        match &step.kind {
            StepKind::Task(_) | StepKind::Team(_) => vec![node],
            StepKind::Parallel(p) => p
                .steps
                .iter()
                .flat_map(|child| self.step(child, &[node], None))
                .collect(),
            StepKind::Conditional(c) => {
                let mut exits = self.sequence(c.then.steps(), vec![node], Some("then"));
                match &c.otherwise {
                    Some(otherwise) => {
                        exits.extend(self.sequence(otherwise.steps(), vec![node], Some("else")))
                    }
                    None => exits.push(node),
                }
                exits
            }
            StepKind::Loop(l) => {
                for exit in self.step(&l.step, &[node], Some("item")) {
                    self.edges.push((exit, node, Some("next")));
                }
                vec![node]
            }
        }
    }
}

fn build(document: &WorkflowDocument) -> Graph {
    let mut graph = Graph {
        nodes: Vec::new(),
        edges: Vec::new(),
    };
    let start = graph.node("start".to_owned(), Shape::Fork);
    let exits = graph.sequence(&document.steps, vec![start], None);
    let end = graph.node("end".to_owned(), Shape::Fork);
    for exit in exits {
        graph.edges.push((exit, end, None));
    }
    graph
}

pub(crate) fn render(document: &WorkflowDocument, format: GraphFormat) -> String {
    match format {
        GraphFormat::Tree => tree(document),
        GraphFormat::Mermaid => mermaid(&build(document)),
        GraphFormat::Dot => dot(&build(document)),
    }
}

fn mermaid(graph: &Graph) -> String {
    let mut out = String::from("flowchart TD\n");
    for (i, (label, shape)) in graph.nodes.iter().enumerate() {
        let label = label.replace('"', "#quot;").replace("\\n", "<br/>");
        let node = match shape {
            Shape::Box => format!("    n{i}[\"{label}\"]\n"),
            Shape::Fork => format!("    n{i}([\"{label}\"])\n"),
            Shape::Decision => format!("    n{i}{{\"{label}\"}}\n"),
            Shape::Loop => format!("    n{i}[[\"{label}\"]]\n"),
        };
        out.push_str(&node);
    }
    for (from, to, label) in &graph.edges {
        match label {
            Some(label) => out.push_str(&format!("    n{from} -->|{label}| n{to}\n")),
            None => out.push_str(&format!("    n{from} --> n{to}\n")),
        }
    }
    out
}

fn dot(graph: &Graph) -> String {
    let mut out =
        String::from("digraph workflow {\n    rankdir=TB;\n    node [fontname=\"Helvetica\"];\n");
    for (i, (label, shape)) in graph.nodes.iter().enumerate() {
        let shape = match shape {
            Shape::Box => "box",
            Shape::Fork => "oval",
            Shape::Decision => "diamond",
            Shape::Loop => "box3d",
        };
        let label = label
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace("\\\\n", "\\n");
        out.push_str(&format!("    n{i} [label=\"{label}\", shape={shape}];\n"));
    }
    for (from, to, label) in &graph.edges {
        match label {
            Some(label) => out.push_str(&format!("    n{from} -> n{to} [label=\"{label}\"];\n")),
            None => out.push_str(&format!("    n{from} -> n{to};\n")),
        }
    }
    out.push_str("}\n");
    out
}

fn tree(document: &WorkflowDocument) -> String {
    fn lines(steps: &[Step], prefix: &str, out: &mut String) {
        for (i, step) in steps.iter().enumerate() {
            let last = i + 1 == steps.len();
            let (branch, more) = if last {
                ("└── ", "    ")
            } else {
                ("├── ", "│   ")
            };
            let what = match &step.kind {
                StepKind::Task(t) => format!("task · agent {}", t.agent),
                StepKind::Team(t) => format!("team · {}", t.team_id),
                StepKind::Parallel(_) => "parallel".to_owned(),
                StepKind::Conditional(c) => format!("conditional · if {}", c.condition),
                StepKind::Loop(l) => format!("loop · for each in {}", l.items),
            };
            out.push_str(&format!("{prefix}{branch}{} ({what})\n", step.id));
            let inner = format!("{prefix}{more}");
            match &step.kind {
                StepKind::Parallel(p) => lines(&p.steps, &inner, out),
                StepKind::Conditional(c) => {
                    out.push_str(&format!("{inner}then:\n"));
                    lines(c.then.steps(), &inner, out);
                    if let Some(otherwise) = &c.otherwise {
                        out.push_str(&format!("{inner}else:\n"));
                        lines(otherwise.steps(), &inner, out);
                    }
                }
                StepKind::Loop(l) => lines(std::slice::from_ref(&l.step), &inner, out),
                StepKind::Task(_) | StepKind::Team(_) => {}
            }
        }
    }
    let mut out = format!("{}\n", document.name);
    lines(&document.steps, "", &mut out);
    out
}
