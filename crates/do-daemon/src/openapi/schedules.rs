//! The schedules' operations: `/agents/workflows/{id}/schedules` and `/agents/schedules/…`.

use super::{Data, Operation, list_of, path_param, query_param, schema_ref};
use do_core::schedule::ScheduleSpec;
use do_proto::{RemovedSchedule, ScheduleData, default_history};
use schemars::SchemaGenerator;
use serde_json::json;

pub(super) const SCHEDULES: &str = "schedules";

/// Every schedule operation, in the order of the routes.
pub(super) fn operations(generator: &mut SchemaGenerator) -> Vec<Operation> {
    let workflow_id = || path_param("id", "Workflow id (`wf_…`)");
    let schedule_id = || path_param("id", "Schedule id (`sched_…`) or name");
    let schedule = schema_ref("Schedule");
    let removed = generator.subschema_for::<RemovedSchedule>().to_value();
    generator.subschema_for::<ScheduleData>();
    vec![
        Operation {
            method: "post",
            path: "/agents/workflows/{id}/schedules",
            id: "createSchedule",
            tag: SCHEDULES,
            summary: "Schedule a workflow",
            description: "Each tick of `cron` (read in `timezone`) starts an execution of the workflow with `input`. Without `name` the schedule takes the workflow's (then `NAME-2`, …). 400 lists every problem of the schedule (an invalid expression or time zone) with its path in `error.details.errors`; 409 when the name is taken or the workflow is archived.",
            parameters: vec![workflow_id()],
            body: Some((
                generator.subschema_for::<ScheduleSpec>().to_value(),
                Some(
                    json!({"name": "nightly-launch", "cron": "30 2 * * *", "timezone": "Europe/Berlin",
                            "input": {"productName": "CloudSync Pro"}, "overlap": "skip"}),
                ),
            )),
            body_optional: false,
            success: (201, "The schedule", Data::Json(schedule.clone())),
            example: None,
            errors: &[400, 404, 409, 413, 415],
        },
        Operation {
            method: "get",
            path: "/agents/workflows/{id}/schedules",
            id: "listWorkflowSchedules",
            tag: SCHEDULES,
            summary: "List a workflow's schedules",
            description: "",
            parameters: vec![workflow_id()],
            body: None,
            body_optional: false,
            success: (
                200,
                "The workflow's schedules",
                Data::Json(list_of("Schedule")),
            ),
            example: None,
            errors: &[404],
        },
        Operation {
            method: "get",
            path: "/agents/schedules",
            id: "listSchedules",
            tag: SCHEDULES,
            summary: "List the schedules",
            description: "404 when `workflowId` names no workflow.",
            parameters: vec![query_param(
                "workflowId",
                "Only this workflow's schedules",
                json!({"type": "string"}),
            )],
            body: None,
            body_optional: false,
            success: (200, "The schedules", Data::Json(list_of("Schedule"))),
            example: None,
            errors: &[400, 404],
        },
        Operation {
            method: "get",
            path: "/agents/schedules/{id}",
            id: "getSchedule",
            tag: SCHEDULES,
            summary: "Get a schedule and its latest fires",
            description: "`history` lists its latest fires, newest first, each with what became of it and its execution's status now.",
            parameters: vec![
                schedule_id(),
                query_param(
                    "history",
                    "How many of its latest fires to list",
                    json!({"type": "integer", "minimum": 0, "maximum": u32::MAX, "default": default_history()}),
                ),
            ],
            body: None,
            body_optional: false,
            success: (
                200,
                "The schedule with its `history`",
                Data::Json(schedule.clone()),
            ),
            example: None,
            errors: &[400, 404],
        },
        Operation {
            method: "delete",
            path: "/agents/schedules/{id}",
            id: "removeSchedule",
            tag: SCHEDULES,
            summary: "Remove a schedule",
            description: "Executions it started are left alone.",
            parameters: vec![schedule_id()],
            body: None,
            body_optional: false,
            success: (200, "Removed", Data::Json(removed)),
            example: None,
            errors: &[404],
        },
        Operation {
            method: "post",
            path: "/agents/schedules/{id}/pause",
            id: "pauseSchedule",
            tag: SCHEDULES,
            summary: "Pause a schedule",
            description: "It fires nothing until it is resumed; pausing a paused schedule changes nothing.",
            parameters: vec![schedule_id()],
            body: None,
            body_optional: false,
            success: (200, "The schedule", Data::Json(schedule.clone())),
            example: None,
            errors: &[404],
        },
        Operation {
            method: "post",
            path: "/agents/schedules/{id}/resume",
            id: "resumeSchedule",
            tag: SCHEDULES,
            summary: "Resume a schedule",
            description: "Ticks missed while it was paused are not owed: it fires from now on.",
            parameters: vec![schedule_id()],
            body: None,
            body_optional: false,
            success: (200, "The schedule", Data::Json(schedule)),
            example: None,
            errors: &[404],
        },
        Operation {
            method: "post",
            path: "/agents/schedules/{id}/trigger",
            id: "triggerSchedule",
            tag: SCHEDULES,
            summary: "Fire a schedule now",
            description: "As a tick would, paused or not: its `overlap` applies, so the fire may be skipped or queued (`outcome`). 409 when it fired this very millisecond already.",
            parameters: vec![schedule_id()],
            body: None,
            body_optional: false,
            success: (202, "The fire", Data::Json(schema_ref("ScheduleFire"))),
            example: None,
            errors: &[404, 409],
        },
    ]
}
