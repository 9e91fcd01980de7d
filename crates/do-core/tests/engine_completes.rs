//! Whatever the shape of a workflow (parallels, conditionals and loops nested in each other,
//! with or without `maxConcurrency`) and whatever order its steps end in, an execution whose
//! tasks all succeed completes, and runs each task it should exactly once; one whose tasks
//! fail ends, failed exactly when a failure was not retried or continued past.

use do_core::engine::{Change, ExecutionState, Plan};
use do_core::model::ExecutionStatus;
use do_core::workflow::WorkflowDocument;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::HashSet;

/// A step's shape; ids are given when the document is built.
#[derive(Debug, Clone)]
enum Shape {
    Task(Handling),
    Parallel(Vec<Shape>, Option<u32>),
    Conditional(bool, Vec<Shape>, Option<Vec<Shape>>),
    Loop(usize, Option<u32>, Box<Shape>),
}

/// A task's `errorHandling`.
#[derive(Debug, Clone, Copy)]
enum Handling {
    /// None: a failure fails the execution.
    Fail,
    Continue,
    /// One retry.
    Retry,
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Handling::Fail),
        Just(Handling::Continue),
        Just(Handling::Retry)
    ]
    .prop_map(Shape::Task)
    .prop_recursive(4, 24, 4, |inner| {
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
        Shape::Task(handling) => {
            *tasks += times;
            let mut step = json!({"id": id, "type": "task", "agent": "a", "task": "t"});
            match handling {
                Handling::Fail => {}
                Handling::Continue => step["errorHandling"] = json!({"strategy": "continue"}),
                Handling::Retry => {
                    step["errorHandling"] = json!({"strategy": "retry", "maxRetries": 1})
                }
            }
            step
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

/// The handling of each task of `doc`, by step id (loop iterations are `id[i]`).
fn handlings(shapes: &[Shape]) -> Vec<Handling> {
    fn walk(shape: &Shape, out: &mut Vec<Handling>) {
        match shape {
            Shape::Task(h) => out.push(*h),
            Shape::Parallel(children, _) => children.iter().for_each(|c| walk(c, out)),
            Shape::Conditional(_, then, otherwise) => then
                .iter()
                .chain(otherwise.iter().flatten())
                .for_each(|c| walk(c, out)),
            Shape::Loop(_, _, body) => walk(body, out),
        }
    }
    let mut out = Vec::new();
    shapes.iter().for_each(|s| walk(s, &mut out));
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn failures_end_the_execution_as_their_handling_says(
        shapes in prop::collection::vec(shape(), 1..4),
        choices in prop::collection::vec(any::<u8>(), 64),
    ) {
        let (doc, _) = document(&shapes);
        // Ids are handed out depth-first, so the nth task's handling is the nth of the walk.
        let by_task: Vec<Handling> = handlings(&shapes);
        let document: WorkflowDocument = serde_json::from_value(doc.clone()).expect("document");
        let mut state = ExecutionState::new(Plan::new(&document), json!({}));
        let handling_of = |state: &ExecutionState, node| {
            let id = &state.plan().node(node).step_id;
            let base = id.split('[').next().unwrap_or(id);
            let n: usize = base.trim_start_matches('s').parse().expect("sN");
            n
        };
        let task_ids: Vec<usize> = {
            let mut ids = Vec::new();
            fn walk(v: &Value, ids: &mut Vec<usize>) {
                if v["type"] == "task" {
                    ids.push(v["id"].as_str().expect("id")[1..].parse().expect("n"));
                }
                for key in ["steps", "then", "else"] {
                    if let Some(children) = v[key].as_array() {
                        children.iter().for_each(|c| walk(c, ids));
                    }
                }
                if v["step"].is_object() {
                    walk(&v["step"], ids);
                }
            }
            walk(&doc, &mut ids);
            ids
        };
        let handling = |n: usize| by_task[task_ids.iter().position(|&t| t == n).expect("task")];
        let mut running = Vec::new();
        let mut fatal = false;
        let mut choice = choices.iter().cycle();
        let mut turns = 0;
        while state.finished().is_none() {
            turns += 1;
            prop_assert!(turns < 10_000, "no end in sight: {}", doc);
            state.advance();
            let slots = usize::from(*choice.next().expect("cycle") % 3);
            for node in state.ready().into_iter().take(slots.max(usize::from(running.is_empty()))) {
                state.start(node);
                running.push(node);
            }
            prop_assert!(!running.is_empty() || state.finished().is_some(),
                "nothing runs, nothing is ready, and the execution has not ended: {}", doc);
            if running.is_empty() {
                break;
            }
            let which = usize::from(*choice.next().expect("cycle")) % running.len();
            let node = running.swap_remove(which);
            let changes = if choice.next().expect("cycle") % 3 == 0 {
                let kept_going = match handling(handling_of(&state, node)) {
                    Handling::Fail => false,
                    Handling::Continue => true,
                    Handling::Retry => state.attempts(node) < 2,
                };
                fatal |= !kept_going && state.finished().is_none();
                state.fail(node, "boom".into())
            } else {
                state.succeed(node, json!(1))
            };
            for change in changes {
                match change {
                    Change::Retry { node, .. } => state.wake(node),
                    // The killed task reports its end at once.
                    Change::Kill { node } => {
                        running.retain(|&n| n != node);
                        state.fail(node, "killed".into());
                    }
                    _ => {}
                }
            }
        }
        let expected = if fatal { ExecutionStatus::Failed } else { ExecutionStatus::Completed };
        prop_assert_eq!(state.finished(), Some(expected), "{}", doc);
    }
}
