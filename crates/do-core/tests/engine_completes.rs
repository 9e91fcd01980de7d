//! Whatever the shape of a workflow (parallels, conditionals and loops nested in each other,
//! with or without `maxConcurrency`) and whatever order its steps end in, an execution whose
//! tasks all succeed completes, and runs each task it should exactly once.

use do_core::engine::{ExecutionState, Plan};
use do_core::model::ExecutionStatus;
use do_core::workflow::WorkflowDocument;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::HashSet;

/// A step's shape; ids are given when the document is built.
#[derive(Debug, Clone)]
enum Shape {
    Task,
    Parallel(Vec<Shape>, Option<u32>),
    Conditional(bool, Vec<Shape>, Option<Vec<Shape>>),
    Loop(usize, Option<u32>, Box<Shape>),
}

fn shape() -> impl Strategy<Value = Shape> {
    Just(Shape::Task).prop_recursive(4, 24, 4, |inner| {
        let steps = prop::collection::vec(inner.clone(), 1..4);
        prop_oneof![
            (steps.clone(), prop::option::of(1u32..3)).prop_map(|(s, m)| Shape::Parallel(s, m)),
            (any::<bool>(), steps.clone(), prop::option::of(steps))
                .prop_map(|(c, t, e)| Shape::Conditional(c, t, e)),
            (0usize..4, prop::option::of(1u32..3), inner).prop_map(|(n, m, s)| Shape::Loop(
                n,
                m,
                Box::new(s)
            )),
        ]
    })
}

/// The document of `shapes`, and how many tasks its execution runs.
fn document(shapes: &[Shape]) -> (Value, usize) {
    let mut next_id = 0;
    let mut tasks = 0;
    let steps = steps(shapes, &mut next_id, &mut tasks, 1);
    (json!({"name": "w", "steps": steps}), tasks)
}

fn steps(shapes: &[Shape], next_id: &mut usize, tasks: &mut usize, times: usize) -> Vec<Value> {
    shapes
        .iter()
        .map(|s| step(s, next_id, tasks, times))
        .collect()
}

fn step(shape: &Shape, next_id: &mut usize, tasks: &mut usize, times: usize) -> Value {
    *next_id += 1;
    let id = format!("s{next_id}");
    let with_max = |mut step: Value, max: &Option<u32>| {
        if let Some(max) = max {
            step["maxConcurrency"] = json!(max);
        }
        step
    };
    match shape {
        Shape::Task => {
            *tasks += times;
            json!({"id": id, "type": "task", "agent": "a", "task": "t"})
        }
        Shape::Parallel(children, max) => with_max(
            json!({"id": id, "type": "parallel", "steps": steps(children, next_id, tasks, times)}),
            max,
        ),
        Shape::Conditional(condition, then, otherwise) => {
            let mut none = 0;
            let (then_tasks, else_tasks) = if *condition {
                (&mut *tasks, &mut none)
            } else {
                (&mut none, &mut *tasks)
            };
            let then = steps(then, next_id, then_tasks, times);
            let mut step = json!({"id": id, "type": "conditional", "condition": condition.to_string(), "then": then});
            if let Some(otherwise) = otherwise {
                step["else"] = json!(steps(otherwise, next_id, else_tasks, times));
            }
            step
        }
        Shape::Loop(items, max, body) => {
            let items: Vec<usize> = (0..*items).collect();
            let body = self::step(body, next_id, tasks, times * items.len());
            with_max(
                json!({"id": id, "type": "loop", "items": serde_json::to_string(&items).expect("json"), "step": body}),
                max,
            )
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn every_shape_completes_in_any_order(
        shapes in prop::collection::vec(shape(), 1..4),
        choices in prop::collection::vec(any::<u8>(), 64),
    ) {
        let (doc, expected) = document(&shapes);
        let document: WorkflowDocument = serde_json::from_value(doc.clone()).expect("document");
        let mut state = ExecutionState::new(Plan::new(&document), json!({}));
        let mut running = Vec::new();
        let mut ran = HashSet::new();
        let mut choice = choices.iter().cycle();
        // Each turn starts up to a chosen number of ready tasks (a daemon's free slots), then
        // ends one chosen running task.
        for _ in 0..10_000 {
            state.advance();
            let slots = usize::from(*choice.next().expect("cycle") % 3);
            for node in state.ready().into_iter().take(slots.max(usize::from(running.is_empty()))) {
                let id = state.plan().node(node).step_id.clone();
                prop_assert!(ran.insert(id.clone()), "{id} started twice in {doc}");
                state.start(node);
                running.push(node);
            }
            if running.is_empty() {
                break;
            }
            let which = usize::from(*choice.next().expect("cycle")) % running.len();
            let node = running.swap_remove(which);
            state.succeed(node, json!(1));
        }
        prop_assert_eq!(state.finished(), Some(ExecutionStatus::Completed), "{}", doc);
        prop_assert_eq!(ran.len(), expected, "{}", doc);
    }
}
