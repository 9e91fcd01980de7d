//! Whatever the shape of a workflow (parallels, conditionals and loops nested in each other,
//! with or without `maxConcurrency`) and whatever order its steps end in, an execution whose
//! tasks all succeed completes, and runs each task it should exactly once; one whose tasks
//! fail ends, failed exactly when a failure was not retried or continued past; and one whose
//! daemon dies at any moment and restores it from what it had recorded goes on to the same end
//! without running again a task that had completed.

use do_core::engine::{Change, ExecutionState, NodeId, NodeKind, Plan, loop_items_key};
use do_core::model::{ExecutionStatus, StepStatus};
use do_core::workflow::WorkflowDocument;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};

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
    /// A fallback task runs in its place.
    Fallback,
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Handling::Fail),
        Just(Handling::Continue),
        Just(Handling::Retry),
        Just(Handling::Fallback)
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
                Handling::Fallback => {
                    *next_id += 1;
                    let fallback = json!({"id": format!("s{next_id}"), "type": "task", "agent": "a", "task": "t"});
                    step["errorHandling"] = json!({"fallback": fallback});
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

/// Whether a task whose attempt failed goes on (retried, replaced by its fallback, or
/// continued past) by its handling.
fn keeps_going(state: &ExecutionState, node: NodeId) -> bool {
    let step = state.plan().node(node);
    let handling = &step.handling;
    if step.fallback_for.is_some() {
        false
    } else if step.fallback.is_some() {
        true
    } else if handling.max_retries == Some(1) {
        state.attempts(node) < 2
    } else {
        handling.strategy == Some(do_core::workflow::Strategy::Continue)
    }
}

/// What a daemon records of an execution, kept from the engine's changes as the scheduler
/// commits them: each step's status and attempts, and the outputs (loops' items among them).
#[derive(Default)]
struct Recorded {
    steps: BTreeMap<String, (StepStatus, u32)>,
    outputs: BTreeMap<String, Value>,
}

impl Recorded {
    fn record(&mut self, state: &ExecutionState, changes: &[Change]) {
        for change in changes {
            match change {
                Change::Step { node, status, .. } => {
                    let step = &state.plan().node(*node).step_id;
                    self.steps
                        .insert(step.clone(), (*status, state.attempts(*node)));
                }
                Change::Retry { node, .. } => {
                    let step = &state.plan().node(*node).step_id;
                    self.steps
                        .insert(step.clone(), (StepStatus::Pending, state.attempts(*node)));
                }
                Change::Output { node, value } => {
                    let step = &state.plan().node(*node).step_id;
                    self.outputs.insert(step.clone(), value.clone());
                }
                Change::Expanded { node, items } => {
                    let step = &state.plan().node(*node).step_id;
                    self.outputs.insert(loop_items_key(step), items.clone());
                }
                _ => {}
            }
        }
    }

    /// The execution as a restarted daemon loads it: what ran is run again.
    fn restore(&self, document: &WorkflowDocument) -> ExecutionState {
        let mut steps = self.steps.clone();
        for (status, _) in steps.values_mut() {
            if *status == StepStatus::Running {
                *status = StepStatus::Pending;
            }
        }
        ExecutionState::restore(Plan::new(document), json!({}), &steps, self.outputs.clone())
    }
}

/// What may happen besides tasks succeeding.
#[derive(Clone, Copy, Default)]
struct Events {
    failures: bool,
    crashes: bool,
    cancel: bool,
    /// Once the execution has failed, a person retries one of its failed steps and nothing
    /// fails any more.
    retry: bool,
}

/// Runs an execution of `doc` to its end under the schedule `choices`: free slots per turn,
/// which running task ends, and whether it fails, the daemon dies or a person cancels (as
/// far as `events` allows).
fn drive(doc: &Value, choices: &[u8], events: Events) -> Result<Run, TestCaseError> {
    let document: WorkflowDocument = serde_json::from_value(doc.clone()).expect("document");
    let mut state = ExecutionState::new(Plan::new(&document), json!({}));
    let mut recorded = Recorded::default();
    let mut running = Vec::new();
    let mut completed = HashSet::new();
    let mut fatal = false;
    let mut cancelled = false;
    let mut failures = events.failures;
    let mut retried = false;
    let mut starts = 0;
    let mut choice = choices.iter().copied().cycle();
    for _ in 0..10_000 {
        if events.retry && !retried && state.finished() == Some(ExecutionStatus::Failed) {
            let failed: Vec<NodeId> = state
                .plan()
                .nodes()
                .filter(|&(n, _)| state.status(n) == StepStatus::Failed)
                .map(|(n, _)| n)
                .collect();
            prop_assert!(!failed.is_empty(), "failed without a failed step: {}", doc);
            let node = failed[usize::from(choice.next().expect("cycle")) % failed.len()];
            let step = state.plan().node(node);
            let continued = matches!(step.kind, NodeKind::Task { .. })
                && step.fallback.is_none()
                && step.handling.strategy == Some(do_core::workflow::Strategy::Continue);
            if continued {
                // The workflow went on past it: not a step to retry.
                prop_assert!(state.retry_step(node).is_err(), "{}", doc);
                continue;
            }
            let changes = state.retry_step(node).map_err(TestCaseError::fail)?;
            retried = true;
            failures = false;
            fatal = false;
            recorded.record(&state, &changes);
        }
        if state.finished().is_some() {
            break;
        }
        if events.crashes && choice.next().expect("cycle") % 7 == 0 {
            state = recorded.restore(&document);
            running.clear();
        }
        if events.cancel && !cancelled && choice.next().expect("cycle") % 11 == 0 {
            cancelled = true;
            let changes = state.cancel(ExecutionStatus::Cancelled, "stop".into());
            recorded.record(&state, &changes);
            kill(&mut state, &mut recorded, &mut running, &changes);
        }
        let changes = state.advance();
        recorded.record(&state, &changes);
        let slots = usize::from(choice.next().expect("cycle") % 3);
        let ready = state.ready_up_to(slots.max(usize::from(running.is_empty())));
        prop_assert!(
            state.ready().starts_with(&ready),
            "ready_up_to is not the head of ready: {doc}"
        );
        for node in ready {
            let id = state.plan().node(node).step_id.clone();
            prop_assert!(
                !completed.contains(&id),
                "{id} ran again after completing: {doc}"
            );
            let changes = state.start(node);
            recorded.record(&state, &changes);
            running.push(node);
            starts += 1;
        }
        if let Some(over) = over_limit(&state) {
            return Err(TestCaseError::fail(format!("{over} in {doc}")));
        }
        // What the scheduler stores at every commit. Both are kept incrementally;
        // `completed_roots` recounts in debug builds and panics when its count is wrong.
        let first_unfinished = state
            .plan()
            .roots()
            .iter()
            .find(|&&r| {
                !state.status(r).is_finished()
                    || (state.status(r) == StepStatus::Failed && !state.continued(r))
            })
            .map(|&r| state.plan().node(r).step_id.as_str());
        prop_assert_eq!(state.current_step(), first_unfinished, "{}", doc);
        prop_assert!(state.completed_roots() <= state.plan().roots().len());
        prop_assert!(
            !running.is_empty() || state.finished().is_some(),
            "nothing runs, nothing is ready, and the execution has not ended: {doc}"
        );
        if running.is_empty() {
            break;
        }
        let which = usize::from(choice.next().expect("cycle")) % running.len();
        let node = running.swap_remove(which);
        let changes = if failures && choice.next().expect("cycle") % 3 == 0 {
            fatal |= !keeps_going(&state, node) && state.finished().is_none();
            state.fail(node, "boom".into())
        } else {
            completed.insert(state.plan().node(node).step_id.clone());
            state.succeed(node, json!(1))
        };
        recorded.record(&state, &changes);
        for change in &changes {
            if let Change::Retry { node, .. } = change {
                state.wake(*node);
            }
        }
        kill(&mut state, &mut recorded, &mut running, &changes);
    }
    Ok(Run {
        end: state.finished(),
        fatal,
        cancelled,
        starts,
    })
}

/// A parallel or loop with more steps running at once than its `maxConcurrency` (a loop's
/// default is one), if there is one.
fn over_limit(state: &ExecutionState) -> Option<String> {
    state.plan().nodes().find_map(|(_, step)| {
        let limit = match step.kind {
            NodeKind::Parallel { max_concurrency } => max_concurrency?,
            NodeKind::Loop {
                max_concurrency, ..
            } => max_concurrency.unwrap_or(1),
            _ => return None,
        };
        let running = step
            .children
            .iter()
            .filter(|&&c| state.status(c) == StepStatus::Running)
            .count();
        (running > limit as usize).then(|| {
            format!(
                "`{}` runs {running} steps at once, over {limit}",
                step.step_id
            )
        })
    })
}

/// Ends the tasks `changes` asks to kill: each reports its end at once.
fn kill(
    state: &mut ExecutionState,
    recorded: &mut Recorded,
    running: &mut Vec<NodeId>,
    changes: &[Change],
) {
    for change in changes {
        if let Change::Kill { node } = change {
            running.retain(|n| n != node);
            let changes = state.fail(*node, "killed".into());
            recorded.record(state, &changes);
        }
    }
}

struct Run {
    end: Option<ExecutionStatus>,
    /// Whether a failure was fatal by its handling: neither retried nor continued past.
    fatal: bool,
    /// Whether the execution was cancelled before it ended.
    cancelled: bool,
    /// Tasks started.
    starts: usize,
}

impl Run {
    fn expected(&self) -> Option<ExecutionStatus> {
        Some(if self.cancelled {
            ExecutionStatus::Cancelled
        } else if self.fatal {
            ExecutionStatus::Failed
        } else {
            ExecutionStatus::Completed
        })
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn every_shape_completes_in_any_order_running_each_task_once(
        shapes in prop::collection::vec(shape(), 1..4),
        choices in prop::collection::vec(any::<u8>(), 64),
    ) {
        let (doc, tasks) = document(&shapes);
        let run = drive(&doc, &choices, Events::default())?;
        prop_assert_eq!(run.end, Some(ExecutionStatus::Completed), "{}", doc);
        prop_assert_eq!(run.starts, tasks, "{}", doc);
    }

    #[test]
    fn failures_end_the_execution_as_their_handling_says(
        shapes in prop::collection::vec(shape(), 1..4),
        choices in prop::collection::vec(any::<u8>(), 64),
    ) {
        let (doc, _) = document(&shapes);
        let run = drive(&doc, &choices, Events { failures: true, ..Events::default() })?;
        prop_assert_eq!(run.end, run.expected(), "{}", doc);
    }

    #[test]
    fn a_restored_execution_goes_on_to_the_same_end_without_redoing_completed_tasks(
        shapes in prop::collection::vec(shape(), 1..4),
        choices in prop::collection::vec(any::<u8>(), 64),
        failures in any::<bool>(),
    ) {
        let (doc, _) = document(&shapes);
        let run = drive(&doc, &choices, Events { failures, crashes: true, ..Events::default() })?;
        prop_assert_eq!(run.end, run.expected(), "{}", doc);
    }

    #[test]
    fn a_cancel_at_any_moment_ends_the_execution_cancelled(
        shapes in prop::collection::vec(shape(), 1..4),
        choices in prop::collection::vec(any::<u8>(), 64),
        failures in any::<bool>(),
    ) {
        let (doc, _) = document(&shapes);
        let run = drive(&doc, &choices, Events { failures, cancel: true, ..Events::default() })?;
        prop_assert_eq!(run.end, run.expected(), "{}", doc);
    }

    #[test]
    fn retrying_any_failed_step_once_nothing_fails_completes_the_execution(
        shapes in prop::collection::vec(shape(), 1..4),
        choices in prop::collection::vec(any::<u8>(), 64),
        crashes in any::<bool>(),
    ) {
        let (doc, _) = document(&shapes);
        let run = drive(&doc, &choices, Events { failures: true, crashes, retry: true, ..Events::default() })?;
        prop_assert_eq!(run.end, Some(ExecutionStatus::Completed), "{}", doc);
    }
}
