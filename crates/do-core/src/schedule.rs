//! Schedules: when a workflow runs by itself, as pure computation on times.
//!
//! A schedule's cron expression (5 fields, or 6 with seconds first; `@daily`-style names) is
//! read by `croner` in a time zone of the IANA database (`chrono-tz`), so daylight-saving
//! changes move the ticks as the zone's clocks move. Times are milliseconds since the Unix
//! epoch, as everywhere in `do`. The daemon decides *when* to look; this module says which
//! ticks are due then.

use crate::model::{CatchUp, Overlap, Priority};
use crate::validate::Diagnostic;
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// At most this many missed ticks fire when a schedule catches up with `all`; older ones are
/// dropped (and the daemon's log says so). It also bounds the ticks that wait for a running
/// execution under `overlap: queue`: past it, ticks are skipped.
pub const CATCH_UP_LIMIT: usize = 100;

/// The fields of a schedule, as written.
const FIELDS: &[&str] = &[
    "name", "cron", "timezone", "input", "priority", "overlap", "catchUp", "paused",
];

/// The longest schedule name, in characters.
pub const MAX_NAME_CHARS: usize = 128;

/// A schedule as a person writes it: in a workflow document's `schedules`, or with
/// `do schedule add`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleSpec {
    /// Unique among all schedules; in a document it defaults to the workflow's name (then
    /// `NAME-2`, `NAME-3` for the next ones).
    #[serde(default)]
    pub name: String,
    /// `*/5 * * * *` (minute hour day-of-month month day-of-week), a 6th leading field for
    /// seconds (`*/10 * * * * *`), or `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`.
    pub cron: String,
    /// An IANA time zone (`Europe/Berlin`) the expression is read in; UTC when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The input of each execution it starts (`input.KEY`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Priority>,
    /// What a tick does while the schedule's previous execution still runs: `skip` it
    /// (default), `queue` it until that one ends, or `cancel-previous`.
    #[serde(default)]
    pub overlap: Overlap,
    /// Which ticks missed while the daemon was not running fire when it starts: `none`,
    /// `latest` (default) or `all` (at most 100, the latest ones).
    #[serde(default)]
    pub catch_up: CatchUp,
    /// A paused schedule fires nothing until it is resumed.
    #[serde(default)]
    pub paused: bool,
}

/// A cron expression read in a time zone: the ticks of a schedule.
#[derive(Debug, Clone)]
pub struct Cadence {
    cron: Cron,
    zone: Tz,
}

/// Why an expression or a time zone cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CadenceError {
    #[error(
        "invalid cron expression `{expression}`: {reason}; write 5 fields (`30 2 * * *`), 6 \
         with seconds first (`*/10 * * * * *`), or `@hourly`, `@daily`, `@weekly`, `@monthly`"
    )]
    Expression { expression: String, reason: String },
    #[error(
        "unknown time zone `{0}`; use a name of the IANA database such as `Europe/Berlin`, \
         `America/New_York` or `UTC`"
    )]
    Zone(String),
    #[error("cron expression `{0}` never matches a time")]
    Never(String),
}

impl Cadence {
    /// Reads `expression` in `timezone` (UTC when `None`).
    pub fn new(expression: &str, timezone: Option<&str>) -> Result<Cadence, CadenceError> {
        let zone = match timezone {
            None => Tz::UTC,
            Some(name) => name
                .parse::<Tz>()
                .map_err(|_| CadenceError::Zone(name.to_owned()))?,
        };
        let cron = CronParser::builder()
            .seconds(Seconds::Optional)
            .build()
            .parse(expression)
            .map_err(|e| CadenceError::Expression {
                expression: expression.to_owned(),
                reason: e.to_string(),
            })?;
        let cadence = Cadence { cron, zone };
        // A pattern such as `0 0 30 2 *` parses but never matches: refuse it now rather than
        // at every wake-up.
        if cadence.next_after(0).is_none() {
            return Err(CadenceError::Never(expression.to_owned()));
        }
        Ok(cadence)
    }

    /// The first tick strictly after `after_ms`.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        let start = self.at(after_ms.div_euclid(1000) * 1000)?;
        let next = self.cron.find_next_occurrence(&start, false).ok()?;
        Some(next.timestamp_millis())
    }

    /// The last tick at or before `until_ms`.
    pub fn latest_until(&self, until_ms: i64) -> Option<i64> {
        let start = self.at(until_ms.div_euclid(1000) * 1000)?;
        let previous = self.cron.find_previous_occurrence(&start, true).ok()?;
        Some(previous.timestamp_millis())
    }

    /// The ticks in `(after_ms, until_ms]`, oldest first: the latest `limit` of them, and
    /// whether older ones were left out.
    pub fn ticks_between(&self, after_ms: i64, until_ms: i64, limit: usize) -> Ticks {
        let mut ticks = Vec::new();
        let mut cursor = until_ms;
        let mut more = false;
        while let Some(tick) = self.latest_until(cursor) {
            if tick <= after_ms {
                break;
            }
            if ticks.len() == limit {
                more = true;
                break;
            }
            ticks.push(tick);
            cursor = tick - 1;
        }
        ticks.reverse();
        Ticks { ticks, more }
    }

    fn at(&self, ms: i64) -> Option<DateTime<Tz>> {
        Utc.timestamp_millis_opt(ms)
            .single()
            .map(|utc| utc.with_timezone(&self.zone))
    }
}

/// Some of the ticks of a span of time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticks {
    /// Oldest first.
    pub ticks: Vec<i64>,
    /// Older ticks of the span were left out.
    pub more: bool,
}

/// Which ticks in `(cursor_ms, now_ms]` fire, by the schedule's catch-up rule. `running` says
/// whether the daemon was running all along (it woke up late): then the latest tick is on
/// time and fires whatever the rule, and the rule decides about the older ones. After a start
/// every tick of the span was missed while the daemon was down.
pub fn due_ticks(
    cadence: &Cadence,
    catch_up: CatchUp,
    cursor_ms: i64,
    now_ms: i64,
    running: bool,
) -> Ticks {
    let latest_only = |cadence: &Cadence| Ticks {
        ticks: cadence
            .latest_until(now_ms)
            .filter(|&t| t > cursor_ms)
            .into_iter()
            .collect(),
        more: false,
    };
    match catch_up {
        CatchUp::All => cadence.ticks_between(cursor_ms, now_ms, CATCH_UP_LIMIT),
        CatchUp::Latest => latest_only(cadence),
        CatchUp::None if running => latest_only(cadence),
        CatchUp::None => Ticks {
            ticks: Vec::new(),
            more: false,
        },
    }
}

/// Checks a schedule's fields that serde does not: the name, the expression, the zone.
/// Paths are under `path` (`schedules[0]`, or empty for a request).
pub fn check_spec(spec: &ScheduleSpec, path: &str) -> Vec<Diagnostic> {
    let at = |field: &str| {
        if path.is_empty() {
            field.to_owned()
        } else {
            format!("{path}.{field}")
        }
    };
    let mut problems = Vec::new();
    if let Err(message) = check_name(&spec.name) {
        problems.push(Diagnostic {
            path: at("name"),
            message,
        });
    }
    match Cadence::new(&spec.cron, spec.timezone.as_deref()) {
        Ok(_) => {}
        Err(error @ CadenceError::Zone(_)) => problems.push(Diagnostic {
            path: at("timezone"),
            message: error.to_string(),
        }),
        Err(error) => problems.push(Diagnostic {
            path: at("cron"),
            message: error.to_string(),
        }),
    }
    problems
}

/// A schedule name: 1 to 128 characters, no control characters, not shaped like an id.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("a schedule needs a name that is not blank".to_owned());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "a schedule name has at most {MAX_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("a schedule name cannot contain control characters".to_owned());
    }
    if name.starts_with("sched_") {
        return Err(format!(
            "`{name}` looks like a schedule id; choose a name that does not start with `sched_`"
        ));
    }
    Ok(())
}

/// Reads a document's `schedules` (`value`), naming unnamed ones after the workflow. Returns
/// the schedules as the document stores them, or the problems, each with its JSON path.
pub fn parse_schedules(
    value: &Value,
    workflow_name: &str,
) -> Result<Vec<ScheduleSpec>, Vec<Diagnostic>> {
    let Some(items) = value.as_array() else {
        return Err(vec![Diagnostic {
            path: "schedules".to_owned(),
            message: format!(
                "`schedules` must be an array of schedules, found {}",
                crate::model::json_type(value)
            ),
        }]);
    };
    let mut specs = Vec::new();
    let mut problems = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("schedules[{i}]");
        for field in item.as_object().into_iter().flat_map(|o| o.keys()) {
            if !FIELDS.contains(&field.as_str()) {
                let hint = match crate::suggest::did_you_mean(field, FIELDS.iter().copied()) {
                    Some(known) => format!("did you mean `{known}`?"),
                    None => format!("a schedule has {}", FIELDS.join(", ")),
                };
                problems.push(Diagnostic {
                    path: format!("{path}.{field}"),
                    message: format!("unknown field `{field}`; {hint}"),
                });
            }
        }
        // As everywhere in a document, a field that is `null` is a field left out.
        let item = match item {
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .filter(|(_, value)| !value.is_null())
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect(),
            ),
            other => other.clone(),
        };
        match serde_json::from_value::<ScheduleSpec>(item) {
            Ok(mut spec) => {
                if spec.name.is_empty() {
                    spec.name = default_name(workflow_name, i);
                }
                problems.extend(check_spec(&spec, &path));
                if specs.iter().any(|s: &ScheduleSpec| s.name == spec.name) {
                    problems.push(Diagnostic {
                        path: format!("{path}.name"),
                        message: format!(
                            "two schedules are named `{}`; give each its own `name`",
                            spec.name
                        ),
                    });
                }
                specs.push(spec);
            }
            Err(error) => problems.push(Diagnostic {
                path,
                message: format!("invalid schedule: {error}"),
            }),
        }
    }
    if problems.is_empty() {
        Ok(specs)
    } else {
        Err(problems)
    }
}

/// The name of the `index`th (0-based) unnamed schedule of a document.
fn default_name(workflow_name: &str, index: usize) -> String {
    let base: String = workflow_name.chars().take(MAX_NAME_CHARS - 8).collect();
    if index == 0 {
        base
    } else {
        format!("{base}-{}", index + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Milliseconds of an RFC 3339 time.
    fn ms(text: &str) -> i64 {
        DateTime::parse_from_rfc3339(text)
            .expect("test time")
            .timestamp_millis()
    }

    fn cadence(expression: &str, zone: Option<&str>) -> Cadence {
        Cadence::new(expression, zone).expect("valid cadence")
    }

    #[test]
    fn six_fields_tick_every_second() {
        let every_second = cadence("* * * * * *", None);
        let start = ms("2025-01-01T00:00:00.250Z");
        assert_eq!(
            every_second.next_after(start),
            Some(ms("2025-01-01T00:00:01Z"))
        );
        let every_ten = cadence("*/10 * * * * *", None);
        assert_eq!(
            every_ten.next_after(start),
            Some(ms("2025-01-01T00:00:10Z"))
        );
        assert_eq!(
            every_ten.next_after(ms("2025-01-01T00:00:10Z")),
            Some(ms("2025-01-01T00:00:20Z")),
            "strictly after"
        );
    }

    #[test]
    fn five_fields_and_names_tick_on_whole_minutes() {
        let start = ms("2025-03-14T15:09:26.535Z");
        assert_eq!(
            cadence("*/5 * * * *", None).next_after(start),
            Some(ms("2025-03-14T15:10:00Z"))
        );
        assert_eq!(
            cadence("@daily", None).next_after(start),
            Some(ms("2025-03-15T00:00:00Z"))
        );
        assert_eq!(
            cadence("@hourly", None).next_after(start),
            Some(ms("2025-03-14T16:00:00Z"))
        );
    }

    #[test]
    fn a_zone_moves_the_ticks_with_its_daylight_saving_changes() {
        // 09:00 in New York is 13:00 UTC in summer time, 14:00 after the change of
        // 2024-11-03.
        let nine = cadence("0 9 * * *", Some("America/New_York"));
        let saturday = nine.next_after(ms("2024-11-02T00:00:00Z"));
        assert_eq!(saturday, Some(ms("2024-11-02T13:00:00Z")));
        let sunday = nine.next_after(saturday.expect("tick"));
        assert_eq!(sunday, Some(ms("2024-11-03T14:00:00Z")));

        // 02:30 does not exist in Berlin on 2024-03-31 (02:00 becomes 03:00): that day's tick
        // is the first minute after the gap, and the next day's is 02:30 summer time.
        let half_past_two = cadence("30 2 * * *", Some("Europe/Berlin"));
        let spring = half_past_two.next_after(ms("2024-03-30T12:00:00Z"));
        assert_eq!(spring, Some(ms("2024-03-31T01:00:00Z")));
        assert_eq!(
            half_past_two.next_after(spring.expect("tick")),
            Some(ms("2024-04-01T00:30:00Z"))
        );

        // 02:30 happens twice on 2024-10-27 (03:00 becomes 02:00 again): one tick, the first.
        let autumn = half_past_two.ticks_between(
            ms("2024-10-26T12:00:00Z"),
            ms("2024-10-27T12:00:00Z"),
            CATCH_UP_LIMIT,
        );
        assert_eq!(autumn.ticks, vec![ms("2024-10-27T00:30:00Z")]);
    }

    #[test]
    fn bad_expressions_and_zones_are_refused_in_words() {
        let error = Cadence::new("61 * * * *", None).expect_err("minute 61");
        assert!(matches!(error, CadenceError::Expression { .. }), "{error}");
        assert!(error.to_string().contains("`61 * * * *`"), "{error}");
        let error = Cadence::new("* * * *", None).expect_err("four fields");
        assert!(error.to_string().contains("5 fields"), "{error}");
        let error = Cadence::new("@daily", Some("Mars/Olympus")).expect_err("no such zone");
        assert_eq!(error, CadenceError::Zone("Mars/Olympus".into()));
        let error = Cadence::new("0 0 30 2 *", None).expect_err("30 February");
        assert_eq!(error, CadenceError::Never("0 0 30 2 *".into()));
    }

    #[test]
    fn catch_up_fires_nothing_the_latest_or_every_missed_tick() {
        let every_second = cadence("* * * * * *", None);
        let cursor = ms("2025-01-01T00:00:00Z");
        let now = ms("2025-01-01T00:00:05.500Z");
        let after_start = |rule| due_ticks(&every_second, rule, cursor, now, false).ticks;
        assert_eq!(after_start(CatchUp::None), Vec::<i64>::new());
        assert_eq!(
            after_start(CatchUp::Latest),
            vec![ms("2025-01-01T00:00:05Z")]
        );
        assert_eq!(
            after_start(CatchUp::All),
            (1..=5).map(|s| cursor + s * 1000).collect::<Vec<_>>()
        );
        // A running daemon that woke up late still fires the tick it woke up for.
        assert_eq!(
            due_ticks(&every_second, CatchUp::None, cursor, now, true).ticks,
            vec![ms("2025-01-01T00:00:05Z")]
        );
        // Nothing is due twice: the cursor is past it.
        assert!(
            due_ticks(&every_second, CatchUp::All, now, now, false)
                .ticks
                .is_empty()
        );
    }

    #[test]
    fn catching_up_with_all_is_bounded_to_the_latest_ticks() {
        let every_second = cadence("* * * * * *", None);
        let cursor = ms("2025-01-01T00:00:00Z");
        let now = cursor + 3_600_000;
        let due = due_ticks(&every_second, CatchUp::All, cursor, now, false);
        assert_eq!(due.ticks.len(), CATCH_UP_LIMIT);
        assert!(due.more);
        assert_eq!(due.ticks.last(), Some(&now));
        assert_eq!(due.ticks[0], now - (CATCH_UP_LIMIT as i64 - 1) * 1000);
    }

    #[test]
    fn a_document_names_its_schedules_and_checks_them_with_paths() {
        let value = serde_json::json!([
            {"cron": "@daily"},
            {"cron": "0 9 * * MON-FRI", "timezone": "Europe/Paris", "overlap": "queue"},
            {"name": "bad", "cron": "every day", "timezone": "Nowhere/Land"},
        ]);
        let problems = parse_schedules(&value, "digest").expect_err("two problems");
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["schedules[2].timezone"], "{problems:?}");
        let value = serde_json::json!([
            {"cron": "@daily"},
            {"cron": "0 9 * * MON-FRI", "overlap": "queue", "catchUp": "all"},
            {"name": "digest", "cron": "@hourly"},
            {"cron": "@daily", "catchup": "all"},
        ]);
        let problems = parse_schedules(&value, "digest").expect_err("problems");
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            ["schedules[2].name", "schedules[3].catchup"],
            "{problems:?}"
        );
        assert!(problems[1].message.contains("did you mean `catchUp`?"));
        let specs = parse_schedules(
            &serde_json::json!([{"cron": "@daily"}, {"cron": "@hourly", "name": null, "overlap": null}]),
            "digest",
        )
        .expect("valid");
        assert_eq!(specs[0].name, "digest");
        assert_eq!(specs[1].name, "digest-2");
        assert_eq!(specs[1].overlap, Overlap::Skip);
        assert_eq!(specs[1].catch_up, CatchUp::Latest);
    }
}
