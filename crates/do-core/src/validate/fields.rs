//! Field-level checks used by the walk: error handling, unknown fields, names, counts,
//! durations, expressions and step inputs.

use super::schema::*;
use super::walk::Validator;
use super::*;

impl Validator {
    /// Validates an `errorHandling` object of the workflow (`owner` is `None`) or of a step.
    pub(super) fn error_handling(
        &mut self,
        value: &Value,
        path: String,
        owner: Option<usize>,
        depth: usize,
    ) -> Option<ErrorHandlingNode> {
        let Some(obj) = value.as_object() else {
            self.error(
                path,
                format!(
                    "`errorHandling` must be an object, found {}",
                    json_type(value)
                ),
            );
            return None;
        };
        self.unknown_fields(obj, &path, ERROR_HANDLING_FIELDS, None);
        let mut node = ErrorHandlingNode::default();

        if let Some(strategy) = self.one_of(obj, &path, "strategy", STRATEGIES) {
            if strategy == "fallback" && get(obj, "fallback").is_none() {
                self.error(
                    &path,
                    "strategy `fallback` needs a `fallback` step to run when the step fails",
                );
            }
            node.fields
                .insert("strategy".into(), Value::String(strategy));
        }
        if let Some(n) = self.count(obj, &path, "maxRetries", 0, MAX_RETRIES) {
            node.fields.insert("maxRetries".into(), n.into());
        }
        if let Some(backoff) = self.one_of(obj, &path, "backoff", BACKOFFS) {
            node.fields.insert("backoff".into(), Value::String(backoff));
        }
        let initial = self.delay(obj, &path, "initialDelay");
        let max = self.delay(obj, &path, "maxDelay");
        if let (Some(initial), Some(max)) = (initial, max)
            && max < initial
        {
            self.error(
                join(&path, "maxDelay"),
                format!("`maxDelay` ({max}) must not be less than `initialDelay` ({initial})"),
            );
        }
        for (field, delay) in [("initialDelay", initial), ("maxDelay", max)] {
            if let Some(seconds) = delay.and_then(serde_json::Number::from_f64) {
                node.fields.insert(field.into(), Value::Number(seconds));
            }
        }
        for field in ["jitter", "escalateOnFailure", "notifyOnError"] {
            match get(obj, field) {
                None => {}
                Some(Value::Bool(flag)) => {
                    node.fields.insert(field.into(), Value::Bool(*flag));
                }
                Some(other) => self.error(
                    join(&path, field),
                    format!("`{field}` must be a boolean, found {}", json_type(other)),
                ),
            }
        }
        if let Some(step) = get(obj, "fallback") {
            let relation = if owner.is_some() {
                Relation::Fallback
            } else {
                Relation::WorkflowFallback
            };
            node.fallback = self.step(step, join(&path, "fallback"), owner, relation, depth);
        }
        Some(node)
    }

    /// Warns about each field of `obj` not in `allowed` (plus the fields of `kind`, for a step).
    pub(super) fn unknown_fields(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        allowed: &[&'static str],
        kind: Option<Kind>,
    ) {
        let kind_fields = kind.map(Kind::fields).unwrap_or_default();
        for key in obj.keys() {
            if allowed.contains(&key.as_str()) || kind_fields.contains(&key.as_str()) {
                continue;
            }
            let mut message = format!("unknown field `{}` is ignored", show(key));
            if let Some(close) = did_you_mean(key, allowed.iter().chain(kind_fields).copied()) {
                message.push_str(&format!(" (did you mean `{close}`?)"));
            } else if let Some(kind) = kind {
                let owners: Vec<&str> = Kind::ALL
                    .into_iter()
                    .filter(|other| other.fields().contains(&key.as_str()))
                    .map(Kind::name)
                    .collect();
                if !owners.is_empty() {
                    message.push_str(&format!(
                        " (`{key}` is a field of {} steps, not of {} steps)",
                        owners.join(" and "),
                        kind.name()
                    ));
                }
            }
            self.warning(join(path, &show(key)), message);
        }
    }

    /// Checks a required string field; `what` ends the "missing" message (" for a task step").
    pub(super) fn required_string(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        field: &str,
        what: &str,
        non_empty: bool,
    ) -> Option<String> {
        match get(obj, field) {
            None => {
                self.error(path, format!("missing required field `{field}`{what}"));
                None
            }
            Some(Value::String(text)) if non_empty && text.trim().is_empty() => {
                self.error(join(path, field), format!("`{field}` must not be empty"));
                None
            }
            Some(Value::String(text)) => Some(text.clone()),
            Some(other) => {
                self.error(
                    join(path, field),
                    format!("`{field}` must be a string, found {}", json_type(other)),
                );
                None
            }
        }
    }

    pub(super) fn optional_string(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        field: &str,
    ) -> Option<String> {
        match get(obj, field)? {
            Value::String(text) => Some(text.clone()),
            other => {
                self.error(
                    join(path, field),
                    format!("`{field}` must be a string, found {}", json_type(other)),
                );
                None
            }
        }
    }

    /// Checks an optional name field (`output`): a string following the id rule.
    pub(super) fn optional_name(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        field: &str,
    ) -> Option<String> {
        let text = self.optional_string(obj, path, field)?;
        if is_valid_name(&text) {
            Some(text)
        } else {
            self.error(
                join(path, field),
                format!("`{field}` must be {NAME_RULE}, found `{}`", show(&text)),
            );
            None
        }
    }

    /// Checks an optional string field that must be one of `allowed`.
    pub(super) fn one_of(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        field: &str,
        allowed: &[&str],
    ) -> Option<String> {
        let text = self.optional_string(obj, path, field)?;
        if allowed.contains(&text.as_str()) {
            Some(text)
        } else {
            self.error(
                join(path, field),
                format!(
                    "unknown {field} `{}`; expected one of {}{}",
                    show(&text),
                    allowed.join(", "),
                    suggest(&text, allowed.iter().copied())
                ),
            );
            None
        }
    }

    /// Checks an optional integer field in `min..=max`.
    pub(super) fn count(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        field: &str,
        min: u64,
        max: u64,
    ) -> Option<u64> {
        let value = get(obj, field)?;
        let found = match value {
            Value::Number(n) => match n.as_u64() {
                Some(n) if (min..=max).contains(&n) => return Some(n),
                _ => n.to_string(),
            },
            other => json_type(other).to_owned(),
        };
        self.error(
            join(path, field),
            format!("`{field}` must be an integer from {min} to {max}, found {found}"),
        );
        None
    }

    /// Checks an optional `timeout`: seconds, more than 0 and at most one year.
    pub(super) fn timeout(&mut self, obj: &Map<String, Value>, path: &str) -> Option<Value> {
        let value = get(obj, "timeout")?;
        let found = match value {
            Value::Number(n) => match n.as_f64() {
                Some(seconds)
                    if seconds.is_finite() && seconds > 0.0 && seconds <= MAX_TIMEOUT_SECONDS =>
                {
                    return Some(value.clone());
                }
                _ => n.to_string(),
            },
            other => json_type(other).to_owned(),
        };
        self.error(
            join(path, "timeout"),
            format!(
                "`timeout` must be a number of seconds greater than 0 and at most 31536000 (one \
                 year), found {found}"
            ),
        );
        None
    }

    /// Checks an optional delay in seconds: a number, at least 0.
    pub(super) fn delay(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        field: &str,
    ) -> Option<f64> {
        let value = get(obj, field)?;
        let found = match value {
            Value::Number(n) => match n.as_f64() {
                Some(seconds) if seconds.is_finite() && seconds >= 0.0 => return Some(seconds),
                _ => n.to_string(),
            },
            other => json_type(other).to_owned(),
        };
        self.error(
            join(path, field),
            format!("`{field}` must be a number of seconds, at least 0, found {found}"),
        );
        None
    }

    /// Reports an expression's or template's parse error at `path`, with its column.
    pub(super) fn parsed<T>(
        &mut self,
        text: &str,
        parsed: Result<T, crate::expr::ParseError>,
        path: &str,
    ) -> Result<T, ()> {
        parsed.map_err(|e| self.error(path, format!("cannot parse `{}`: {e}", show(text))))
    }

    /// Records the root names an expression reads as references to check (`input` is always
    /// there).
    pub(super) fn expression_refs(&mut self, names: Vec<String>, path: &str, refs: &mut Vec<Ref>) {
        for name in names.into_iter().filter(|n| n != "input") {
            let tick = self.next_tick();
            refs.push(Ref {
                name,
                path: path.to_owned(),
                tick,
                items: false,
            });
        }
    }

    /// Checks a step's `input` (a name or an array of names) and records each name as a
    /// reference; returns the normalized value.
    pub(super) fn inputs(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        refs: &mut Vec<Ref>,
    ) -> Option<Value> {
        let value = get(obj, "input")?;
        let input_path = join(path, "input");
        match value {
            Value::String(name) => {
                let tick = self.next_tick();
                refs.push(Ref {
                    name: name.clone(),
                    path: input_path,
                    tick,
                    items: false,
                });
                Some(Value::String(name.clone()))
            }
            Value::Array(names) => {
                let mut normalized = Vec::with_capacity(names.len());
                for (i, name) in names.iter().enumerate() {
                    let name_path = format!("{input_path}[{i}]");
                    match name {
                        Value::String(name) => {
                            let tick = self.next_tick();
                            refs.push(Ref {
                                name: name.clone(),
                                path: name_path,
                                tick,
                                items: false,
                            });
                            normalized.push(Value::String(name.clone()));
                        }
                        other => self.error(
                            name_path,
                            format!(
                                "each name in `input` must be a string, found {}",
                                json_type(other)
                            ),
                        ),
                    }
                }
                (normalized.len() == names.len()).then_some(Value::Array(normalized))
            }
            other => {
                self.error(
                    input_path,
                    format!(
                        "`input` must be a name or an array of names, found {}",
                        json_type(other)
                    ),
                );
                None
            }
        }
    }

    /// Collects the ids and outputs of the steps inside a step that could not be walked, without
    /// recursion.
    pub(super) fn hide_names_inside(&mut self, step: &Map<String, Value>) {
        let mut stack: Vec<&Map<String, Value>> = vec![step];
        while let Some(obj) = stack.pop() {
            for field in ["id", "output"] {
                if let Some(Value::String(name)) = obj.get(field) {
                    self.hidden_names.insert(name.clone());
                }
            }
            for field in ["steps", "then", "else", "step", "errorHandling", "fallback"] {
                match obj.get(field) {
                    Some(Value::Object(child)) => stack.push(child),
                    Some(Value::Array(children)) => {
                        stack.extend(children.iter().filter_map(Value::as_object));
                    }
                    _ => {}
                }
            }
        }
    }
}
