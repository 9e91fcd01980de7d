//! The walk over the raw document: the workflow's root fields and every step, in document
//! order, recording what was validated as [`Node`]s and every problem as a diagnostic.

use super::schema::*;
use super::*;

#[derive(Default)]
pub(super) struct Validator {
    /// Errors, each with the tick of the walk it belongs to.
    pub(super) errors: Vec<(u64, Diagnostic)>,
    pub(super) warnings: Vec<Diagnostic>,
    pub(super) tick: u64,
    pub(super) nodes: Vec<Node>,
    /// Explicit step id → path of the first step that has it.
    pub(super) ids: HashMap<String, String>,
    /// Steps without an id, in document order.
    pub(super) missing_ids: Vec<usize>,
    pub(super) root_fields: Map<String, Value>,
    pub(super) top: Vec<usize>,
    pub(super) root_error_handling: Option<ErrorHandlingNode>,
    /// Some steps were nested too deeply to be walked: a name nobody seems to produce may come
    /// from them, so such names are not reported.
    pub(super) incomplete: bool,
    /// Ids and outputs found inside steps of an unknown type, which were not walked: references
    /// to them are not reported, the type error is enough.
    pub(super) hidden_names: HashSet<String>,
}

impl Validator {
    pub(super) fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    pub(super) fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let tick = self.next_tick();
        self.errors.push((
            tick,
            Diagnostic {
                path: path.into(),
                message: message.into(),
            },
        ));
    }

    pub(super) fn warning(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Diagnostic {
            path: path.into(),
            message: message.into(),
        });
    }

    pub(super) fn workflow(&mut self, value: &Value) {
        let Some(obj) = value.as_object() else {
            self.error(
                "",
                format!(
                    "a workflow document must be a JSON object, found {}",
                    json_type(value)
                ),
            );
            return;
        };
        self.unknown_fields(obj, "", ROOT_FIELDS, None);

        let mut fields = Map::new();
        if let Some(name) = self.required_string(obj, "", "name", "", true) {
            fields.insert("name".into(), Value::String(name));
        }
        for field in ["description", "category"] {
            if let Some(text) = self.optional_string(obj, "", field) {
                fields.insert(field.into(), Value::String(text));
            }
        }
        match get(obj, "steps") {
            None => self.error("", "missing required field `steps`"),
            Some(Value::Array(steps)) if steps.is_empty() => {
                self.error("steps", "`steps` must contain at least one step")
            }
            Some(Value::Array(steps)) => {
                for (i, step) in steps.iter().enumerate() {
                    if let Some(idx) =
                        self.step(step, format!("steps[{i}]"), None, Relation::Top, 1)
                    {
                        self.top.push(idx);
                    }
                }
            }
            Some(other) => self.error(
                "steps",
                format!(
                    "`steps` must be an array of steps, found {}",
                    json_type(other)
                ),
            ),
        }
        if let Some(value) = get(obj, "errorHandling") {
            self.root_error_handling = self.error_handling(value, "errorHandling".into(), None, 1);
        }
        if let Some(timeout) = self.timeout(obj, "") {
            fields.insert("timeout".into(), timeout);
        }
        if let Some(value) = get(obj, "schedules") {
            let workflow_name = fields.get("name").and_then(Value::as_str).unwrap_or("");
            match crate::schedule::parse_schedules(value, workflow_name) {
                Ok(specs) => {
                    fields.insert("schedules".into(), serde_json::json!(specs));
                }
                Err(problems) => {
                    for problem in problems {
                        self.error(problem.path, problem.message);
                    }
                }
            }
        }
        self.root_fields = fields;
    }

    /// Validates one step and everything under it; returns its node unless it is not an object
    /// or nested too deeply.
    pub(super) fn step(
        &mut self,
        value: &Value,
        path: String,
        parent: Option<usize>,
        relation: Relation,
        depth: usize,
    ) -> Option<usize> {
        if depth > MAX_STEP_DEPTH {
            self.incomplete = true;
            self.error(
                path,
                format!(
                    "steps are nested more than {MAX_STEP_DEPTH} levels deep; flatten the \
                     workflow or split it into several workflows"
                ),
            );
            return None;
        }
        let Some(obj) = value.as_object() else {
            self.error(
                path,
                format!("a step must be a JSON object, found {}", json_type(value)),
            );
            return None;
        };
        let idx = self.nodes.len();
        self.nodes.push(Node::new(path.clone(), parent, relation));

        // id
        let mut id = None;
        match get(obj, "id") {
            None => self.missing_ids.push(idx),
            Some(Value::String(text)) => {
                let id_path = join(&path, "id");
                if !is_valid_name(text) {
                    self.error(
                        id_path,
                        format!("`id` must be {NAME_RULE}, found `{}`", show(text)),
                    );
                } else if let Some(first) = self.ids.get(text) {
                    let message = format!(
                        "duplicate step id `{}`: the step at `{first}` already has it; step \
                         ids must be unique in the whole workflow",
                        show(text)
                    );
                    self.error(id_path, message);
                } else {
                    self.ids.insert(text.clone(), path.clone());
                }
                id = Some(text.clone());
            }
            Some(other) => self.error(
                join(&path, "id"),
                format!("`id` must be a string, found {}", json_type(other)),
            ),
        }

        // type
        let type_given = get(obj, "type").is_some();
        let kind = match get(obj, "type") {
            None => Some(Kind::Task),
            Some(Value::String(name)) => match Kind::from_name(name) {
                Some(kind) => Some(kind),
                None => {
                    self.error(
                        join(&path, "type"),
                        format!(
                            "unknown step type `{}`; expected one of {}{}",
                            show(name),
                            STEP_TYPES.join(", "),
                            suggest(name, STEP_TYPES)
                        ),
                    );
                    None
                }
            },
            Some(other) => {
                self.error(
                    join(&path, "type"),
                    format!("`type` must be a string, found {}", json_type(other)),
                );
                None
            }
        };
        let Some(kind) = kind else {
            self.hide_names_inside(obj);
            // Without a type the other fields cannot be judged; keep the names the step would
            // produce so that later steps using them get no confusing extra errors.
            if let Some(node) = self.nodes.get_mut(idx) {
                node.id = id;
                node.output = obj
                    .get("output")
                    .and_then(Value::as_str)
                    .filter(|name| is_valid_name(name))
                    .map(str::to_owned);
            }
            return Some(idx);
        };

        self.unknown_fields(obj, &path, COMMON_STEP_FIELDS, Some(kind));

        let owner = kind.described();
        // A step without `type` but with another type's fields most likely lacks its `type`.
        let hint = if type_given {
            String::new()
        } else {
            match infer_type(obj) {
                Some(other) => format!(
                    " (a step without `type` is a task; did you mean `\"type\": \"{}\"`?)",
                    other.name()
                ),
                None => String::new(),
            }
        };
        let what = format!(" for {owner}{hint}");

        let mut fields = Map::new();
        let mut refs = Vec::new();
        let mut output = None;
        let mut children = Vec::new();
        let mut then = None;
        let mut otherwise = None;
        let mut body = None;
        match kind {
            Kind::Task | Kind::Team => {
                let main = if kind == Kind::Task {
                    "agent"
                } else {
                    "teamId"
                };
                if let Some(text) = self.required_string(obj, &path, main, &what, true) {
                    fields.insert(main.into(), Value::String(text));
                }
                if let Some(text) = self.required_string(obj, &path, "task", &what, false) {
                    if let Ok(template) =
                        self.parsed(&text, crate::template::parse(&text), &join(&path, "task"))
                    {
                        self.expression_refs(template.names(), &join(&path, "task"), &mut refs);
                    }
                    fields.insert("task".into(), Value::String(text));
                }
                if let Some(input) = self.inputs(obj, &path, &mut refs) {
                    fields.insert("input".into(), input);
                }
                output = self.optional_name(obj, &path, "output");
            }
            Kind::Parallel => {
                match get(obj, "steps") {
                    None => self.error(&path, format!("missing required field `steps`{what}")),
                    Some(Value::Array(steps)) if steps.is_empty() => self.error(
                        join(&path, "steps"),
                        "`steps` of a parallel step must contain at least one step",
                    ),
                    Some(Value::Array(steps)) => {
                        for (i, step) in steps.iter().enumerate() {
                            let child_path = format!("{path}.steps[{i}]");
                            if let Some(child) = self.step(
                                step,
                                child_path,
                                Some(idx),
                                Relation::ParallelChild,
                                depth + 1,
                            ) {
                                children.push(child);
                            }
                        }
                    }
                    Some(other) => self.error(
                        join(&path, "steps"),
                        format!(
                            "`steps` must be an array of steps, found {}",
                            json_type(other)
                        ),
                    ),
                }
                if let Some(n) = self.count(obj, &path, "maxConcurrency", 1, u64::from(u32::MAX)) {
                    fields.insert("maxConcurrency".into(), n.into());
                }
            }
            Kind::Conditional => {
                if let Some(text) = self.required_string(obj, &path, "condition", &what, true) {
                    if let Ok(condition) =
                        self.parsed(&text, crate::expr::parse(&text), &join(&path, "condition"))
                    {
                        self.expression_refs(
                            condition.names(),
                            &join(&path, "condition"),
                            &mut refs,
                        );
                    }
                    fields.insert("condition".into(), Value::String(text));
                }
                then = self.branch(obj, &path, "then", idx, depth, Some(&what));
                otherwise = self.branch(obj, &path, "else", idx, depth, None);
            }
            Kind::Loop => {
                if let Some(items) = self.required_string(obj, &path, "items", &what, true) {
                    if is_plain_items(&items) {
                        let tick = self.next_tick();
                        refs.push(Ref {
                            name: items.clone(),
                            path: join(&path, "items"),
                            tick,
                            items: true,
                        });
                    } else if let Ok(expression) =
                        self.parsed(&items, crate::expr::parse(&items), &join(&path, "items"))
                    {
                        self.expression_refs(expression.names(), &join(&path, "items"), &mut refs);
                    }
                    fields.insert("items".into(), Value::String(items));
                }
                match get(obj, "step") {
                    None => self.error(&path, format!("missing required field `step`{what}")),
                    Some(step @ Value::Object(_)) => {
                        body = self.step(
                            step,
                            join(&path, "step"),
                            Some(idx),
                            Relation::LoopBody,
                            depth + 1,
                        );
                    }
                    Some(other) => self.error(
                        join(&path, "step"),
                        format!(
                            "`step` of a loop must be one step object, found {}",
                            json_type(other)
                        ),
                    ),
                }
                if let Some(n) = self.count(obj, &path, "maxConcurrency", 1, u64::from(u32::MAX)) {
                    fields.insert("maxConcurrency".into(), n.into());
                }
                output = self.optional_name(obj, &path, "output");
            }
        }
        if let Some(name) = &output {
            fields.insert("output".into(), Value::String(name.clone()));
        }
        if let Some(timeout) = self.timeout(obj, &path) {
            fields.insert("timeout".into(), timeout);
        }
        let error_handling = match get(obj, "errorHandling") {
            Some(value) => {
                self.error_handling(value, join(&path, "errorHandling"), Some(idx), depth + 1)
            }
            None => None,
        };

        if let Some(node) = self.nodes.get_mut(idx) {
            node.id = id;
            node.kind = Some(kind);
            node.output = output;
            node.fields = fields;
            node.children = children;
            node.then = then;
            node.otherwise = otherwise;
            node.body = body;
            node.error_handling = error_handling;
            node.refs = refs;
        }
        Some(idx)
    }

    /// Validates a conditional's `then` or `else`: one step object or a non-empty array of steps.
    pub(super) fn branch(
        &mut self,
        obj: &Map<String, Value>,
        path: &str,
        field: &str,
        idx: usize,
        depth: usize,
        required: Option<&str>,
    ) -> Option<BranchNode> {
        let relation = if field == "then" {
            Relation::Then
        } else {
            Relation::Else
        };
        let field_path = join(path, field);
        match get(obj, field) {
            None => {
                if let Some(what) = required {
                    self.error(path, format!("missing required field `{field}`{what}"));
                }
                None
            }
            Some(step @ Value::Object(_)) => self
                .step(step, field_path, Some(idx), relation, depth + 1)
                .map(BranchNode::One),
            Some(Value::Array(steps)) if steps.is_empty() => {
                self.error(
                    field_path,
                    format!("`{field}` must be a step object or a non-empty array of steps"),
                );
                None
            }
            Some(Value::Array(steps)) => {
                let mut list = Vec::new();
                for (i, step) in steps.iter().enumerate() {
                    let step_path = format!("{field_path}[{i}]");
                    if let Some(child) = self.step(step, step_path, Some(idx), relation, depth + 1)
                    {
                        list.push(child);
                    }
                }
                Some(BranchNode::Many(list))
            }
            Some(other) => {
                self.error(
                    field_path,
                    format!(
                        "`{field}` must be a step object or a non-empty array of steps, found {}",
                        json_type(other)
                    ),
                );
                None
            }
        }
    }
}
