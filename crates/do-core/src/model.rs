//! Statuses, priorities and agents: the vocabulary shared by the store, the protocol and the CLI.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Declares a string enum with its wire names, `Display`, `FromStr` and the list of names,
/// so that CLI flags, SQL columns and JSON all spell a value the same way.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            schemars::JsonSchema,
        )]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Returns the name used on the wire, in the database and on the command line.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue {
                        what: stringify!($name),
                        value: s.to_owned(),
                        expected: vec![$($text),+],
                    }),
                }
            }
        }
    };
}

/// A string that names none of the values of an enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`; expected one of: {}", expected.join(", "))]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
    pub expected: Vec<&'static str>,
}

wire_enum!(
    /// Lifecycle of a workflow definition.
    WorkflowStatus { Draft = "draft", Active = "active", Archived = "archived" }
);

wire_enum!(
    /// Lifecycle of an execution.
    ExecutionStatus {
        Queued = "queued",
        Running = "running",
        Paused = "paused",
        Escalated = "escalated",
        Completed = "completed",
        Failed = "failed",
        Cancelled = "cancelled",
        TimedOut = "timed_out",
    }
);

impl ExecutionStatus {
    /// Returns whether the execution has ended and will not change again by itself.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ExecutionStatus::Completed
                | ExecutionStatus::Failed
                | ExecutionStatus::Cancelled
                | ExecutionStatus::TimedOut
        )
    }
}

wire_enum!(
    /// Lifecycle of one step of an execution.
    StepStatus {
        Pending = "pending",
        Running = "running",
        Completed = "completed",
        Failed = "failed",
        Skipped = "skipped",
        Cancelled = "cancelled",
        // Only in the status document: a task that failed and waits for its next attempt
        // (`retryAt`); the engine and the store keep it `pending`.
        Retrying = "retrying",
    }
);

impl StepStatus {
    /// Returns whether the step has ended.
    pub fn is_finished(self) -> bool {
        !matches!(
            self,
            StepStatus::Pending | StepStatus::Running | StepStatus::Retrying
        )
    }
}

wire_enum!(
    /// How one attempt of a step ended.
    AttemptStatus {
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        Interrupted = "interrupted",
        Cancelled = "cancelled",
    }
);

wire_enum!(
    /// Execution priority: ready steps of higher-priority executions start first.
    Priority { Low = "low", Normal = "normal", High = "high", Urgent = "urgent" }
);

wire_enum!(
    /// How a team step picks the member that runs it.
    TeamStrategy { RoundRobin = "round-robin", LeastBusy = "least-busy", Random = "random" }
);

wire_enum!(
    /// What a schedule's tick does while an execution it started is still running.
    #[derive(Default)]
    Overlap { #[default] Skip = "skip", Queue = "queue", CancelPrevious = "cancel-previous" }
);

wire_enum!(
    /// Which of the ticks a schedule missed while the daemon was not running fire when it
    /// starts again.
    #[derive(Default)]
    CatchUp { None = "none", #[default] Latest = "latest", All = "all" }
);

wire_enum!(
    /// What made a schedule fire.
    FireTrigger { Tick = "tick", CatchUp = "catch-up", Manual = "manual" }
);

wire_enum!(
    /// What became of one tick of a schedule.
    FireOutcome {
        /// An execution was queued for it.
        Started = "started",
        /// It waits for the schedule's running execution to end (`overlap: queue`).
        Waiting = "waiting",
        /// The schedule's previous execution was still running (`overlap: skip`).
        Skipped = "skipped",
        /// No execution could be queued (the workflow was archived, an agent is missing…).
        Failed = "failed",
    }
);

/// What an agent's name and a team's id look like (the daemon's rule).
pub const NAME_PATTERN: &str = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$";

/// A named group of agents; a `team` step runs on one member, chosen by the strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TeamSpec {
    #[schemars(regex(pattern = NAME_PATTERN))]
    pub id: String,
    /// Registered agents, each once.
    #[schemars(length(min = 1), extend("uniqueItems" = true))]
    pub members: Vec<String>,
    pub strategy: TeamStrategy,
}

wire_enum!(
    /// How an agent is started.
    AgentKind { Command = "command", Shell = "shell" }
);

/// A named executor on this machine: a program started with an argv (no shell), or a script run
/// by `sh -c`. Task text and inputs reach it through stdin and the environment, never through
/// the command line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentSpec {
    #[schemars(regex(pattern = NAME_PATTERN))]
    pub name: String,
    pub kind: AgentKind,
    /// For `command`: program and arguments. For `shell`: `["sh", "-c", SCRIPT]`.
    #[schemars(length(min = 1), extend("prefixItems" = [{"type": "string", "minLength": 1}]))]
    pub command: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Working directory; the execution's workspace when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Most steps this agent runs at once, across executions (none: only the daemon's limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = u32::MAX))]
    pub concurrency: Option<u32>,
    /// Variables whose values are secrets: only where to find each value is stored, and it is
    /// read when a step starts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_env: Vec<SecretEnv>,
}

/// A secret environment variable of an agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretEnv {
    /// The variable's name in the agent's environment.
    #[schemars(regex(pattern = "^[A-Za-z_][A-Za-z0-9_]*$"))]
    pub name: String,
    /// A file holding the value (its content, less one final newline); without it, the value
    /// is the daemon's own variable of the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = "^/"))]
    pub file: Option<String>,
}

/// Names a JSON value's type for messages: "found an object".
pub fn json_type(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
