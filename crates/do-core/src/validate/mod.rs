//! Validation of raw workflow documents.
//!
//! [`parse_document`] checks a raw JSON document against the rules of the Workflows API and of
//! `DESIGN.md` ("Step semantics"), reports every problem at once with its JSON path
//! (`steps[2].steps[1].input`), and on success returns the normalized, typed document: every
//! step has its `type` (a step without one is a `task`) and an `id` (`step-N` when the author
//! left it out).
//!
//! The walk works on a copy of the tree that holds only what was validated, so user data is
//! never cloned or recursed into beyond [`MAX_STEP_DEPTH`] levels of steps, and no input makes
//! it panic or overflow the stack.

pub use crate::suggest::did_you_mean;
use crate::workflow::{STEP_TYPES, WorkflowDocument};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// How deep steps may be nested (a top-level step is at level 1).
pub const MAX_STEP_DEPTH: usize = 64;

/// The largest `timeout` a workflow or a step may have, in seconds (one year).
pub const MAX_TIMEOUT_SECONDS: f64 = 31_536_000.0;

/// The largest `maxRetries` of an `errorHandling`.
pub const MAX_RETRIES: u64 = 100;

/// The longest id or output name, in characters.
const MAX_NAME_LEN: usize = 128;

/// How many characters of a user-supplied string a message quotes.
const MAX_QUOTED: usize = 64;

/// One problem with a document, located by its JSON path (`steps[2].steps[1].input`; `` (empty)
/// for the root).
#[derive(
    Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Diagnostic {
    pub path: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for Diagnostic {}

/// A document that passed validation, with what is worth telling its author anyway.
#[derive(Debug, Clone, PartialEq)]
pub struct Validated {
    pub document: WorkflowDocument,
    pub warnings: Vec<Diagnostic>,
}

/// Parses and validates a raw JSON document, reporting every error at once.
pub fn parse_document(value: &Value) -> Result<Validated, Vec<Diagnostic>> {
    let mut validator = Validator::default();
    validator.workflow(value);
    validator.assign_generated_ids();
    validator.check_references();
    if !validator.errors.is_empty() {
        // Reference errors are found after the walk; each carries the tick of its field.
        validator.errors.sort_by_key(|(tick, _)| *tick);
        return Err(validator.errors.into_iter().map(|(_, d)| d).collect());
    }
    let normalized = validator.assemble();
    match serde_json::from_value::<WorkflowDocument>(normalized) {
        Ok(document) => Ok(Validated {
            document,
            warnings: validator.warnings,
        }),
        Err(err) => Err(vec![Diagnostic {
            path: String::new(),
            message: format!(
                "internal error: the validated document does not fit the workflow types: {err}"
            ),
        }]),
    }
}

/// Same as [`parse_document`], from text; a JSON syntax error is one [`Diagnostic`] whose path
/// is `line L, column C`.
pub fn parse_document_str(text: &str) -> Result<Validated, Vec<Diagnostic>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match serde_json::from_str::<Value>(text) {
        Ok(value) => parse_document(&value),
        Err(err) => Err(vec![syntax_diagnostic(&err)]),
    }
}

/// Turns a serde_json error into a diagnostic located by line and column.
fn syntax_diagnostic(err: &serde_json::Error) -> Diagnostic {
    let (line, column) = (err.line(), err.column());
    let full = err.to_string();
    let suffix = format!(" at line {line} column {column}");
    let bare = full.strip_suffix(&suffix).unwrap_or(&full);
    let message = if bare.starts_with("recursion limit exceeded") {
        "the document is nested too deeply: JSON text may nest arrays and objects at most 128 \
         levels deep"
            .to_owned()
    } else {
        format!("invalid JSON: {bare}")
    };
    Diagnostic {
        path: format!("line {line}, column {column}"),
        message,
    }
}

// ---------------------------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------------------------

const ROOT_FIELDS: &[&str] = &[
    "name",
    "description",
    "category",
    "steps",
    "errorHandling",
    "timeout",
    "schedules",
];

const COMMON_STEP_FIELDS: &[&str] = &["id", "type", "timeout", "errorHandling"];

const ERROR_HANDLING_FIELDS: &[&str] = &[
    "strategy",
    "maxRetries",
    "backoff",
    "initialDelay",
    "maxDelay",
    "jitter",
    "fallback",
    "escalateOnFailure",
    "notifyOnError",
];

const STRATEGIES: &[&str] = &["retry", "fallback", "continue", "fail"];

const BACKOFFS: &[&str] = &["exponential", "linear", "fixed"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Task,
    Parallel,
    Conditional,
    Loop,
    Team,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::Task,
        Kind::Parallel,
        Kind::Conditional,
        Kind::Loop,
        Kind::Team,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Task => "task",
            Kind::Parallel => "parallel",
            Kind::Conditional => "conditional",
            Kind::Loop => "loop",
            Kind::Team => "team",
        }
    }

    fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The fields a step of this type has besides [`COMMON_STEP_FIELDS`].
    fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Task => &["agent", "task", "input", "output"],
            Kind::Parallel => &["steps", "maxConcurrency"],
            Kind::Conditional => &["condition", "then", "else"],
            Kind::Loop => &["items", "step", "maxConcurrency", "output"],
            Kind::Team => &["teamId", "task", "input", "output"],
        }
    }

    /// Returns how messages name a step of this type: "a task step" (every type name starts
    /// with a consonant).
    fn described(self) -> String {
        format!("a {} step", self.name())
    }
}

/// How a step hangs from its parent in the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relation {
    /// In the workflow's `steps`.
    Top,
    /// In a parallel step's `steps`.
    ParallelChild,
    /// In a conditional's `then`.
    Then,
    /// In a conditional's `else`.
    Else,
    /// A loop's `step`.
    LoopBody,
    /// The `errorHandling.fallback` of a step.
    Fallback,
    /// The `errorHandling.fallback` of the workflow.
    WorkflowFallback,
}

/// A conditional's `then` or `else` as the author wrote it.
#[derive(Debug)]
enum BranchNode {
    One(usize),
    Many(Vec<usize>),
}

impl BranchNode {
    fn steps(&self) -> &[usize] {
        match self {
            BranchNode::One(step) => std::slice::from_ref(step),
            BranchNode::Many(steps) => steps,
        }
    }
}

/// A name a step uses: one of its `input` names, or a loop's `items`.
#[derive(Debug)]
struct Ref {
    name: String,
    path: String,
    /// Where the reference sits in the walk, to report it in document order.
    tick: u64,
    /// A loop's `items`, which may also access a field of a visible name (`data.rows`).
    items: bool,
}

/// A validated `errorHandling`: its plain fields, normalized, and its fallback step.
#[derive(Debug, Default)]
struct ErrorHandlingNode {
    fields: Map<String, Value>,
    fallback: Option<usize>,
}

/// One step object of the document, reduced to what was validated.
#[derive(Debug)]
struct Node {
    path: String,
    parent: Option<usize>,
    relation: Relation,
    id: Option<String>,
    id_generated: bool,
    /// `None` when the `type` is invalid; such a node has no fields or children.
    kind: Option<Kind>,
    output: Option<String>,
    /// Normalized plain fields (`agent`, `task`, `input`, `timeout`, …).
    fields: Map<String, Value>,
    children: Vec<usize>,
    then: Option<BranchNode>,
    otherwise: Option<BranchNode>,
    body: Option<usize>,
    error_handling: Option<ErrorHandlingNode>,
    refs: Vec<Ref>,
}

impl Node {
    fn new(path: String, parent: Option<usize>, relation: Relation) -> Node {
        Node {
            path,
            parent,
            relation,
            id: None,
            id_generated: false,
            kind: None,
            output: None,
            fields: Map::new(),
            children: Vec::new(),
            then: None,
            otherwise: None,
            body: None,
            error_handling: None,
            refs: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/// Returns a field's value, treating `null` as absent.
fn get<'v>(obj: &'v Map<String, Value>, field: &str) -> Option<&'v Value> {
    obj.get(field).filter(|value| !value.is_null())
}

/// Returns the JSON type of a value, as messages name it.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Returns the path of a field of the object at `path`.
fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_owned()
    } else {
        format!("{path}.{field}")
    }
}

/// Shortens a user-supplied string for a message.
fn show(text: &str) -> String {
    if text.chars().count() <= MAX_QUOTED {
        text.to_owned()
    } else {
        let mut short: String = text.chars().take(MAX_QUOTED).collect();
        short.push('…');
        short
    }
}

/// Appends ` (did you mean `x`?)` when a candidate is close.
fn suggest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match did_you_mean(wanted, candidates) {
        Some(candidate) => format!(" (did you mean `{}`?)", show(candidate)),
        None => String::new(),
    }
}

/// Returns whether `name` is a valid step id or output name:
/// `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`.
fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && name.len() <= MAX_NAME_LEN
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

const NAME_RULE: &str =
    "1 to 128 letters, digits, `_`, `.` or `-`, starting with a letter or digit";

/// Returns whether a loop's `items` is a plain name to check now rather than an expression to
/// check later (anything with spaces, operators, brackets or parentheses is an expression).
fn is_plain_items(items: &str) -> bool {
    is_valid_name(items)
        || items
            .strip_prefix("input.")
            .is_some_and(|key| !key.is_empty() && !key.contains(is_expression_char))
}

fn is_expression_char(c: char) -> bool {
    c.is_whitespace() || "()[]{}!=<>&|+*/%?:,'\"`".contains(c)
}

// ---------------------------------------------------------------------------------------------
// The walk
// ---------------------------------------------------------------------------------------------

#[derive(Default)]
struct Validator {
    /// Errors, each with the tick of the walk it belongs to.
    errors: Vec<(u64, Diagnostic)>,
    warnings: Vec<Diagnostic>,
    tick: u64,
    nodes: Vec<Node>,
    /// Explicit step id → path of the first step that has it.
    ids: HashMap<String, String>,
    /// Steps without an id, in document order.
    missing_ids: Vec<usize>,
    root_fields: Map<String, Value>,
    top: Vec<usize>,
    root_error_handling: Option<ErrorHandlingNode>,
    /// Some steps were nested too deeply to be walked: a name nobody seems to produce may come
    /// from them, so such names are not reported.
    incomplete: bool,
    /// Ids and outputs found inside steps of an unknown type, which were not walked: references
    /// to them are not reported, the type error is enough.
    hidden_names: HashSet<String>,
}

impl Validator {
    fn next_tick(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let tick = self.next_tick();
        self.errors.push((
            tick,
            Diagnostic {
                path: path.into(),
                message: message.into(),
            },
        ));
    }

    fn warning(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.warnings.push(Diagnostic {
            path: path.into(),
            message: message.into(),
        });
    }

    fn workflow(&mut self, value: &Value) {
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
    fn step(
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
    fn branch(
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

    /// Validates an `errorHandling` object of the workflow (`owner` is `None`) or of a step.
    fn error_handling(
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
    fn unknown_fields(
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
    fn required_string(
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

    fn optional_string(
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
    fn optional_name(
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
    fn one_of(
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
    fn count(
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
    fn timeout(&mut self, obj: &Map<String, Value>, path: &str) -> Option<Value> {
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
    fn delay(&mut self, obj: &Map<String, Value>, path: &str, field: &str) -> Option<f64> {
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
    fn parsed<T>(
        &mut self,
        text: &str,
        parsed: Result<T, crate::expr::ParseError>,
        path: &str,
    ) -> Result<T, ()> {
        parsed.map_err(|e| self.error(path, format!("cannot parse `{}`: {e}", show(text))))
    }

    /// Records the root names an expression reads as references to check (`input` is always
    /// there).
    fn expression_refs(&mut self, names: Vec<String>, path: &str, refs: &mut Vec<Ref>) {
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
    fn inputs(
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
    fn hide_names_inside(&mut self, step: &Map<String, Value>) {
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

    /// Gives `step-N` ids to the steps without one, in document order, skipping taken ids.
    fn assign_generated_ids(&mut self) {
        let mut n = 1u64;
        for idx in std::mem::take(&mut self.missing_ids) {
            let id = loop {
                let candidate = format!("step-{n}");
                n += 1;
                if !self.ids.contains_key(&candidate) {
                    break candidate;
                }
            };
            if let Some(node) = self.nodes.get_mut(idx) {
                node.id = Some(id);
                node.id_generated = true;
            }
        }
    }

    fn check_references(&mut self) {
        let mut checker = RefChecker::new(&self.nodes, self.incomplete, &self.hidden_names);
        checker.list(&self.top);
        if let Some(fallback) = self.root_error_handling.as_ref().and_then(|eh| eh.fallback) {
            // The workflow's fallback may stand in for any step; it sees what a step after the
            // last one would see (a name whose step has not run yet is null at run time).
            let mark = checker.scope.mark();
            for &step in &self.top {
                checker.export(step);
            }
            checker.step(fallback);
            checker.scope.reset(mark);
        }
        let found = checker.out;
        self.errors.extend(found);
    }

    /// Builds the normalized document as JSON.
    fn assemble(&self) -> Value {
        let mut root = self.root_fields.clone();
        let steps = self
            .top
            .iter()
            .map(|&idx| self.assemble_step(idx))
            .collect();
        root.insert("steps".into(), Value::Array(steps));
        if let Some(eh) = &self.root_error_handling {
            root.insert("errorHandling".into(), self.assemble_error_handling(eh));
        }
        Value::Object(root)
    }

    fn assemble_step(&self, idx: usize) -> Value {
        let Some(node) = self.nodes.get(idx) else {
            return Value::Null;
        };
        let mut step = Map::new();
        if let Some(id) = &node.id {
            step.insert("id".into(), Value::String(id.clone()));
        }
        if let Some(kind) = node.kind {
            step.insert("type".into(), Value::String(kind.name().into()));
        }
        step.extend(node.fields.clone());
        let list =
            |steps: &[usize]| Value::Array(steps.iter().map(|&s| self.assemble_step(s)).collect());
        let branch = |branch: &BranchNode| match branch {
            BranchNode::One(s) => self.assemble_step(*s),
            BranchNode::Many(steps) => list(steps),
        };
        match node.kind {
            Some(Kind::Parallel) => {
                step.insert("steps".into(), list(&node.children));
            }
            Some(Kind::Conditional) => {
                if let Some(then) = &node.then {
                    step.insert("then".into(), branch(then));
                }
                if let Some(otherwise) = &node.otherwise {
                    step.insert("else".into(), branch(otherwise));
                }
            }
            Some(Kind::Loop) => {
                if let Some(body) = node.body {
                    step.insert("step".into(), self.assemble_step(body));
                }
            }
            Some(Kind::Task | Kind::Team) | None => {}
        }
        if let Some(eh) = &node.error_handling {
            step.insert("errorHandling".into(), self.assemble_error_handling(eh));
        }
        Value::Object(step)
    }

    fn assemble_error_handling(&self, eh: &ErrorHandlingNode) -> Value {
        let mut fields = eh.fields.clone();
        if let Some(fallback) = eh.fallback {
            fields.insert("fallback".into(), self.assemble_step(fallback));
        }
        Value::Object(fields)
    }
}

/// Guesses the type a step without `type` was meant to have from its fields.
fn infer_type(obj: &Map<String, Value>) -> Option<Kind> {
    [
        ("steps", Kind::Parallel),
        ("condition", Kind::Conditional),
        ("then", Kind::Conditional),
        ("items", Kind::Loop),
        ("step", Kind::Loop),
        ("teamId", Kind::Team),
    ]
    .into_iter()
    .find(|(field, _)| obj.contains_key(*field))
    .map(|(_, kind)| kind)
}

// ---------------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------------

/// The names visible at one point of the walk, with an undo log so that leaving a list of steps
/// forgets what it produced.
#[derive(Default)]
struct Scope<'a> {
    counts: HashMap<&'a str, usize>,
    log: Vec<&'a str>,
    /// How many loops enclose the point (`item` and `index` exist inside one).
    loops: usize,
}

impl<'a> Scope<'a> {
    fn add(&mut self, name: &'a str) {
        *self.counts.entry(name).or_default() += 1;
        self.log.push(name);
    }

    fn mark(&self) -> usize {
        self.log.len()
    }

    fn reset(&mut self, mark: usize) {
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

    fn contains(&self, name: &str) -> bool {
        self.counts.contains_key(name)
    }

    /// The visible names in the order they became visible, for suggestions.
    fn names(&self) -> impl Iterator<Item = &'a str> + '_ {
        let extra: &[&'a str] = if self.loops > 0 {
            &["item", "index"]
        } else {
            &[]
        };
        self.log.iter().copied().chain(extra.iter().copied())
    }
}

struct RefChecker<'a> {
    nodes: &'a [Node],
    /// Every name some step produces (its id or its output) → those steps, in document order.
    producers: HashMap<&'a str, Vec<usize>>,
    scope: Scope<'a>,
    /// Some steps were not walked: names without a known producer are not reported.
    incomplete: bool,
    hidden_names: &'a HashSet<String>,
    out: Vec<(u64, Diagnostic)>,
}

impl<'a> RefChecker<'a> {
    fn new(
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
    fn list(&mut self, steps: &[usize]) {
        let mark = self.scope.mark();
        for &step in steps {
            self.step(step);
            self.export(step);
        }
        self.scope.reset(mark);
    }

    /// Makes visible what a finished step provides to the steps after it.
    fn export(&mut self, idx: usize) {
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
    fn step(&mut self, idx: usize) {
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

    fn reference(&mut self, consumer: usize, reference: &Ref) {
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
    fn is_visible(&self, name: &str, allow_field: bool) -> bool {
        self.scope.contains(name)
            || (self.scope.loops > 0 && is_loop_name(name))
            || (allow_field
                && name
                    .match_indices('.')
                    .filter_map(|(at, _)| name.get(..at))
                    .any(|prefix| self.scope.contains(prefix)))
    }

    /// Explains why `name` is not visible to step `consumer`.
    fn diagnose(&self, consumer: usize, name: &str) -> String {
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
    fn chain(&self, idx: usize) -> Vec<usize> {
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
    fn describe(&self, idx: usize) -> String {
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
fn is_loop_name(name: &str) -> bool {
    name == "item"
        || name == "index"
        || name
            .strip_prefix("item.")
            .is_some_and(|field| !field.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::{Backoff, Branch, Inputs, Step, StepKind, Strategy};
    use serde_json::json;

    /// The body of the "Create Workflow" example of the Workflows API document, as
    /// `examples/` keeps it verbatim.
    const SAAS_EXAMPLE: &str = include_str!("../../../examples/saas-launch.json");

    fn saas() -> Value {
        serde_json::from_str(SAAS_EXAMPLE).expect("the example is JSON")
    }

    fn ok(doc: &Value) -> Validated {
        match parse_document(doc) {
            Ok(validated) => validated,
            Err(errors) => panic!("unexpected errors: {errors:#?}"),
        }
    }

    fn expect_errors(doc: &Value) -> Vec<Diagnostic> {
        match parse_document(doc) {
            Ok(validated) => panic!("expected errors, got {:#?}", validated.document),
            Err(errors) => errors,
        }
    }

    fn one_error(doc: &Value) -> Diagnostic {
        let errors = expect_errors(doc);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        errors.into_iter().next().expect("one error")
    }

    fn paths(diagnostics: &[Diagnostic]) -> Vec<&str> {
        diagnostics.iter().map(|d| d.path.as_str()).collect()
    }

    /// Builds an object without `json!`, which would copy (and recurse into) its values.
    fn object(fields: Vec<(&str, Value)>) -> Value {
        Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    fn wf(steps: Value) -> Value {
        object(vec![("name", json!("test")), ("steps", steps)])
    }

    fn task(id: &str) -> Value {
        json!({"id": id, "agent": "amy", "task": "do it"})
    }

    fn task_io(id: &str, input: Value, output: &str) -> Value {
        json!({"id": id, "agent": "amy", "task": "do it", "input": input, "output": output})
    }

    /// Tears a value down without recursion, so that dropping a very deep one cannot overflow.
    fn dismantle(value: Value) {
        let mut stack = vec![value];
        while let Some(mut value) = stack.pop() {
            match &mut value {
                Value::Array(items) => stack.append(items),
                Value::Object(fields) => {
                    stack.extend(std::mem::take(fields).into_iter().map(|(_, v)| v));
                }
                _ => {}
            }
        }
    }

    /// A workflow whose one top-level step is `parallels` parallel steps nested in each other
    /// around a task, built without recursion.
    fn nested_parallels(parallels: usize) -> Value {
        let mut step = task("leaf");
        for level in (0..parallels).rev() {
            step = object(vec![
                ("id", json!(format!("p{level}"))),
                ("type", json!("parallel")),
                ("steps", Value::Array(vec![step])),
            ]);
        }
        wf(Value::Array(vec![step]))
    }

    // --- The API example -------------------------------------------------------------------

    #[test]
    fn saas_example_validates() {
        let validated = ok(&saas());
        assert!(validated.warnings.is_empty(), "{:#?}", validated.warnings);
        let doc = &validated.document;
        assert_eq!(doc.name, "SaaS Product Launch Workflow");
        assert_eq!(doc.steps.len(), 5);
        assert_eq!(doc.timeout, Some(604_800.0));
        let eh = doc.error_handling.as_ref().expect("errorHandling");
        assert_eq!(eh.strategy, Some(Strategy::Retry));
        assert_eq!(eh.max_retries, Some(3));
        assert_eq!(eh.escalate_on_failure, Some(true));
        let StepKind::Parallel(parallel) = &doc.steps[2].kind else {
            panic!("steps[2] is not parallel: {:?}", doc.steps[2]);
        };
        assert_eq!(parallel.steps.len(), 2);
        let StepKind::Task(backend) = &parallel.steps[0].kind else {
            panic!("a step without type must be a task");
        };
        assert_eq!(backend.input, Some(Inputs::One("strategy-doc".into())));
        let StepKind::Task(deploy) = &doc.steps[4].kind else {
            panic!("deploy is a task");
        };
        assert_eq!(
            deploy.input.as_ref().map(Inputs::names),
            Some(
                &[
                    "backend-code".to_owned(),
                    "frontend-code".into(),
                    "test-results".into()
                ][..]
            )
        );
    }

    #[test]
    fn saas_example_round_trips_with_types_filled_in() {
        let validated = ok(&saas());
        let mut expected = saas();
        for child in expected["steps"][2]["steps"]
            .as_array_mut()
            .expect("parallel steps")
        {
            child["type"] = json!("task");
        }
        // `timeout` is an f64.
        expected["timeout"] = json!(604_800.0);
        let actual = serde_json::to_value(&validated.document).expect("serializes");
        assert_eq!(actual, expected);
    }

    #[test]
    fn saas_example_parses_from_text() {
        let validated = parse_document_str(SAAS_EXAMPLE).expect("valid");
        assert_eq!(validated.document.steps.len(), 5);
        let with_bom = format!("\u{feff}{SAAS_EXAMPLE}");
        assert!(parse_document_str(&with_bom).is_ok());
    }

    // --- Rule 1: the root ------------------------------------------------------------------

    #[test]
    fn root_must_be_an_object() {
        let error = one_error(&json!([1, 2]));
        assert_eq!(error.path, "");
        assert_eq!(
            error.message,
            "a workflow document must be a JSON object, found array"
        );
        assert_eq!(error.to_string(), error.message);
    }

    #[test]
    fn name_is_a_required_non_empty_string() {
        let error = one_error(&json!({"steps": [task("a")]}));
        assert_eq!(
            (error.path.as_str(), error.message.as_str()),
            ("", "missing required field `name`")
        );
        let error = one_error(&json!({"name": "  ", "steps": [task("a")]}));
        assert_eq!(error.path, "name");
        assert!(error.message.contains("must not be empty"), "{error}");
        let error = one_error(&json!({"name": 3, "steps": [task("a")]}));
        assert_eq!(
            error.to_string(),
            "name: `name` must be a string, found number"
        );
    }

    #[test]
    fn description_and_category_are_optional_strings() {
        let doc = json!({"name": "n", "description": "d", "category": "c", "steps": [task("a")]});
        let validated = ok(&doc);
        assert_eq!(validated.document.description.as_deref(), Some("d"));
        assert_eq!(validated.document.category.as_deref(), Some("c"));
        let doc = json!({"name": "n", "description": 1, "category": [], "steps": [task("a")]});
        let errors = expect_errors(&doc);
        assert_eq!(paths(&errors), ["description", "category"]);
        assert_eq!(
            errors[1].message,
            "`category` must be a string, found array"
        );
    }

    #[test]
    fn steps_is_a_required_non_empty_array() {
        let error = one_error(&json!({"name": "n"}));
        assert_eq!(
            (error.path.as_str(), error.message.as_str()),
            ("", "missing required field `steps`")
        );
        let error = one_error(&json!({"name": "n", "steps": []}));
        assert_eq!(error.path, "steps");
        assert!(error.message.contains("at least one step"));
        let error = one_error(&json!({"name": "n", "steps": {"id": "a"}}));
        assert_eq!(error.path, "steps");
        assert!(error.message.contains("found object"));
    }

    #[test]
    fn workflow_timeout_range() {
        for good in [json!(1), json!(0.5), json!(31_536_000), json!(604_800)] {
            let doc = json!({"name": "n", "steps": [task("a")], "timeout": good});
            assert!(parse_document(&doc).is_ok(), "{doc}");
        }
        for bad in [json!(0), json!(-5), json!(31_536_001), json!(1e300)] {
            let doc = json!({"name": "n", "steps": [task("a")], "timeout": bad});
            let error = one_error(&doc);
            assert_eq!(error.path, "timeout");
            assert!(error.message.starts_with("`timeout` must be"), "{error}");
            assert!(error.message.contains("greater than 0"), "{error}");
            assert!(error.message.contains("31536000"), "{error}");
        }
        let doc = json!({"name": "n", "steps": [task("a")], "timeout": "1h"});
        assert!(one_error(&doc).message.ends_with("found string"));
    }

    #[test]
    fn workflow_error_handling_must_be_an_object() {
        let doc = json!({"name": "n", "steps": [task("a")], "errorHandling": "retry"});
        let error = one_error(&doc);
        assert_eq!(error.path, "errorHandling");
        assert_eq!(
            error.message,
            "`errorHandling` must be an object, found string"
        );
    }

    #[test]
    fn null_optional_fields_are_absent() {
        let doc = json!({
            "name": "n", "description": null, "timeout": null,
            "steps": [{"id": null, "type": null, "agent": "a", "task": "t", "output": null}]
        });
        let validated = ok(&doc);
        assert_eq!(validated.document.description, None);
        assert_eq!(validated.document.steps[0].id, "step-1");
        assert!(matches!(
            validated.document.steps[0].kind,
            StepKind::Task(_)
        ));
    }

    // --- Rule 2: step objects and types ----------------------------------------------------

    #[test]
    fn a_step_must_be_an_object() {
        let error = one_error(&wf(json!([task("a"), "b"])));
        assert_eq!(error.path, "steps[1]");
        assert_eq!(error.message, "a step must be a JSON object, found string");
    }

    #[test]
    fn unknown_type_suggests_the_closest() {
        let mut step = task("a");
        step["type"] = json!("paralel");
        let error = one_error(&wf(json!([step])));
        assert_eq!(error.path, "steps[0].type");
        assert_eq!(
            error.message,
            "unknown step type `paralel`; expected one of task, parallel, conditional, loop, team \
             (did you mean `parallel`?)"
        );
        let mut step = task("a");
        step["type"] = json!("workflow");
        let error = one_error(&wf(json!([step])));
        assert!(!error.message.contains("did you mean"), "{error}");
        let mut step = task("a");
        step["type"] = json!(["task"]);
        let error = one_error(&wf(json!([step])));
        assert_eq!(error.message, "`type` must be a string, found array");
    }

    #[test]
    fn a_step_without_type_is_a_task() {
        let validated = ok(&wf(json!([{"id": "a", "agent": "amy", "task": "t"}])));
        let StepKind::Task(step) = &validated.document.steps[0].kind else {
            panic!("not a task");
        };
        assert_eq!(step.agent, "amy");
        let value = serde_json::to_value(&validated.document.steps[0]).expect("serializes");
        assert_eq!(value["type"], "task");
    }

    #[test]
    fn every_type_is_accepted() {
        let doc = wf(json!([
            {"id": "t", "type": "task", "agent": "a", "task": "x", "output": "out"},
            {"id": "p", "type": "parallel", "steps": [task("p1")]},
            {"id": "c", "type": "conditional", "condition": "out === 1", "then": task("c1")},
            {"id": "l", "type": "loop", "items": "out", "step": task("l1")},
            {"id": "m", "type": "team", "teamId": "eng", "task": "x"}
        ]));
        let validated = ok(&doc);
        let types: Vec<&str> = validated
            .document
            .steps
            .iter()
            .map(|s| s.kind.type_name())
            .collect();
        assert_eq!(types, STEP_TYPES);
    }

    // --- Rule 3: ids -----------------------------------------------------------------------

    #[test]
    fn id_pattern() {
        let long_ok = "a".repeat(128);
        let doc = wf(json!([
            task("a"),
            task("A.b_c-9"),
            task("9lives"),
            task(&long_ok)
        ]));
        assert!(parse_document(&doc).is_ok());
        for bad in [
            "has space",
            "-dash-first",
            "_under",
            "",
            "é",
            &"a".repeat(129),
        ] {
            let error = one_error(&wf(json!([task(bad)])));
            assert_eq!(error.path, "steps[0].id", "{bad}");
            assert!(
                error.message.contains("letters, digits, `_`, `.` or `-`"),
                "{error}"
            );
        }
        let error = one_error(&wf(json!([{"id": 7, "agent": "a", "task": "t"}])));
        assert_eq!(
            error.to_string(),
            "steps[0].id: `id` must be a string, found number"
        );
    }

    #[test]
    fn generated_ids_count_in_document_order_and_skip_taken_ones() {
        let doc = wf(json!([
            {"agent": "a", "task": "t"},
            task("step-1"),
            {"type": "parallel", "steps": [{"agent": "a", "task": "t"}, task("step-4")]},
            {"agent": "a", "task": "t", "input": "step-5"}
        ]));
        let validated = ok(&doc);
        let mut ids = Vec::new();
        validated.document.walk(&mut |path, step: &Step| {
            ids.push(format!("{path}={}", step.id));
        });
        assert_eq!(
            ids,
            [
                "steps[0]=step-2",
                "steps[1]=step-1",
                "steps[2]=step-3",
                "steps[2].steps[0]=step-5",
                "steps[2].steps[1]=step-4",
                "steps[3]=step-6",
            ]
        );
    }

    #[test]
    fn duplicate_ids_anywhere_in_the_tree() {
        let doc = wf(json!([
            task("x"),
            {"id": "p", "type": "parallel", "steps": [task("x")]},
            {"id": "c", "type": "conditional", "condition": "true", "then": [task("x")],
             "else": task("x")},
            {"id": "l", "type": "loop", "items": "x", "step": task("x")},
            {"id": "f", "agent": "a", "task": "t",
             "errorHandling": {"strategy": "fallback", "fallback": task("x")}},
            task("p")
        ]));
        let errors = expect_errors(&doc);
        assert_eq!(
            paths(&errors),
            [
                "steps[1].steps[0].id",
                "steps[2].then[0].id",
                "steps[2].else.id",
                "steps[3].step.id",
                "steps[4].errorHandling.fallback.id",
                "steps[5].id",
            ]
        );
        assert!(
            errors[0].message.starts_with("duplicate step id `x`"),
            "{}",
            errors[0]
        );
        assert!(errors[0].message.contains("`steps[0]`"), "{}", errors[0]);
        assert!(errors[5].message.contains("`steps[1]`"), "{}", errors[5]);
    }

    // --- Rules 4 and 5: fields per type ----------------------------------------------------

    #[test]
    fn task_required_fields() {
        let error = one_error(&wf(json!([{"id": "a", "task": "t"}])));
        assert_eq!(error.path, "steps[0]");
        assert_eq!(
            error.message,
            "missing required field `agent` for a task step"
        );
        let error = one_error(&wf(json!([{"id": "a", "agent": "amy"}])));
        assert_eq!(
            error.message,
            "missing required field `task` for a task step"
        );
        let error = one_error(&wf(json!([{"id": "a", "agent": 5, "task": "t"}])));
        assert_eq!(error.path, "steps[0].agent");
        assert_eq!(error.message, "`agent` must be a string, found number");
        let error = one_error(&wf(json!([{"id": "a", "agent": "", "task": "t"}])));
        assert_eq!(error.path, "steps[0].agent");
        let error = one_error(&wf(json!([{"id": "a", "agent": "x", "task": false}])));
        assert_eq!(error.path, "steps[0].task");
        // An empty task text is allowed.
        assert!(parse_document(&wf(json!([{"id": "a", "agent": "x", "task": ""}]))).is_ok());
    }

    #[test]
    fn task_input_and_output_types() {
        let doc = wf(json!([
            task_io("a", json!([]), "out-a"),
            task_io("b", json!(["out-a", "input.k"]), "out-b"),
        ]));
        assert!(parse_document(&doc).is_ok());
        let errors = expect_errors(&wf(json!([
            task_io("a", json!(5), "out"),
            task_io("b", json!(["out", 3, null]), "has space"),
        ])));
        assert_eq!(
            paths(&errors),
            [
                "steps[0].input",
                "steps[1].input[1]",
                "steps[1].input[2]",
                "steps[1].output"
            ]
        );
        assert_eq!(
            errors[0].message,
            "`input` must be a name or an array of names, found number"
        );
        assert_eq!(
            errors[1].message,
            "each name in `input` must be a string, found number"
        );
        let mut step = task("a");
        step["output"] = json!(1);
        assert_eq!(
            one_error(&wf(json!([step]))).message,
            "`output` must be a string, found number"
        );
    }

    #[test]
    fn parallel_fields() {
        let error = one_error(&wf(json!([{"id": "p", "type": "parallel"}])));
        assert_eq!(
            (error.path.as_str(), error.message.as_str()),
            (
                "steps[0]",
                "missing required field `steps` for a parallel step"
            )
        );
        let error = one_error(&wf(json!([{"id": "p", "type": "parallel", "steps": []}])));
        assert_eq!(error.path, "steps[0].steps");
        let error = one_error(&wf(json!([{"id": "p", "type": "parallel", "steps": "a"}])));
        assert_eq!(error.path, "steps[0].steps");
        let error = one_error(&wf(
            json!([{"id": "p", "type": "parallel", "steps": [{"id": "c", "task": "t"}]}]),
        ));
        assert_eq!(error.path, "steps[0].steps[0]");
        for bad in [
            json!(0),
            json!(-1),
            json!(1.5),
            json!("2"),
            json!(4_294_967_296_u64),
        ] {
            let doc =
                wf(json!([{"type": "parallel", "steps": [task("a")], "maxConcurrency": bad}]));
            let error = one_error(&doc);
            assert_eq!(error.path, "steps[0].maxConcurrency");
            assert!(
                error.message.contains("must be an integer from 1"),
                "{error}"
            );
        }
        let doc = wf(json!([{"type": "parallel", "steps": [task("a")], "maxConcurrency": 2}]));
        let StepKind::Parallel(parallel) = &ok(&doc).document.steps[0].kind else {
            panic!("not parallel");
        };
        assert_eq!(parallel.max_concurrency, Some(2));
    }

    #[test]
    fn conditional_fields() {
        let error = one_error(&wf(json!([{"type": "conditional", "then": task("a")}])));
        assert_eq!(
            error.message,
            "missing required field `condition` for a conditional step"
        );
        let error = one_error(&wf(
            json!([{"type": "conditional", "condition": "", "then": task("a")}]),
        ));
        assert_eq!(error.path, "steps[0].condition");
        let error = one_error(&wf(json!([{"type": "conditional", "condition": "true"}])));
        assert_eq!(
            (error.path.as_str(), error.message.as_str()),
            (
                "steps[0]",
                "missing required field `then` for a conditional step"
            )
        );
        let error = one_error(&wf(
            json!([{"type": "conditional", "condition": "true", "then": []}]),
        ));
        assert_eq!(error.path, "steps[0].then");
        let error = one_error(&wf(json!([
            {"type": "conditional", "condition": "true", "then": task("a"), "else": "nope"}
        ])));
        assert_eq!(error.path, "steps[0].else");
        assert!(error.message.ends_with("found string"), "{error}");
        let error = one_error(&wf(json!([
            {"type": "conditional", "condition": "true", "then": [task("a"), {"id": "b", "agent": "x"}]}
        ])));
        assert_eq!(error.path, "steps[0].then[1]");

        let doc = wf(json!([
            {"id": "c", "type": "conditional", "condition": "true", "then": task("a"),
             "else": [task("b"), task("d")]}
        ]));
        let StepKind::Conditional(conditional) = &ok(&doc).document.steps[0].kind else {
            panic!("not conditional");
        };
        assert!(matches!(&conditional.then, Branch::One(step) if step.id == "a"));
        assert!(matches!(&conditional.otherwise, Some(Branch::Many(steps)) if steps.len() == 2));
    }

    #[test]
    fn loop_fields() {
        let error = one_error(&wf(json!([{"type": "loop", "step": task("a")}])));
        assert_eq!(
            error.message,
            "missing required field `items` for a loop step"
        );
        let error = one_error(&wf(
            json!([{"type": "loop", "items": " ", "step": task("a")}]),
        ));
        assert_eq!(error.path, "steps[0].items");
        let error = one_error(&wf(json!([{"type": "loop", "items": "input.xs"}])));
        assert_eq!(
            error.message,
            "missing required field `step` for a loop step"
        );
        let error = one_error(&wf(
            json!([{"type": "loop", "items": "input.xs", "step": [task("a")]}]),
        ));
        assert_eq!(error.path, "steps[0].step");
        assert!(error.message.ends_with("found array"), "{error}");
        let error = one_error(&wf(json!([
            {"type": "loop", "items": "input.xs", "step": task("a"), "maxConcurrency": 0}
        ])));
        assert_eq!(error.path, "steps[0].maxConcurrency");
        let error = one_error(&wf(json!([
            {"type": "loop", "items": "input.xs", "step": task("a"), "output": "a b"}
        ])));
        assert_eq!(error.path, "steps[0].output");

        let doc = wf(json!([
            {"id": "l", "type": "loop", "items": "input.xs", "step": task("a"),
             "maxConcurrency": 3, "output": "results"}
        ]));
        let StepKind::Loop(step) = &ok(&doc).document.steps[0].kind else {
            panic!("not a loop");
        };
        assert_eq!(step.items, "input.xs");
        assert_eq!(step.step.id, "a");
        assert_eq!(step.max_concurrency, Some(3));
        assert_eq!(step.output.as_deref(), Some("results"));
    }

    #[test]
    fn team_fields() {
        let error = one_error(&wf(json!([{"type": "team", "task": "t"}])));
        assert_eq!(
            error.message,
            "missing required field `teamId` for a team step"
        );
        let error = one_error(&wf(json!([{"type": "team", "teamId": 3, "task": "t"}])));
        assert_eq!(
            error.to_string(),
            "steps[0].teamId: `teamId` must be a string, found number"
        );
        let error = one_error(&wf(json!([{"type": "team", "teamId": "eng"}])));
        assert_eq!(
            error.message,
            "missing required field `task` for a team step"
        );
        let doc = wf(json!([
            task_io("a", json!([]), "req"),
            {"id": "t", "type": "team", "teamId": "eng", "task": "Build", "input": "req",
             "output": "feature"}
        ]));
        let StepKind::Team(team) = &ok(&doc).document.steps[1].kind else {
            panic!("not a team step");
        };
        assert_eq!(team.team_id, "eng");
        assert_eq!(team.output.as_deref(), Some("feature"));
    }

    #[test]
    fn missing_field_hints_at_a_forgotten_type() {
        let error = one_error(&wf(json!([{"id": "p", "task": "t", "steps": [task("a")]}])));
        assert_eq!(
            error.message,
            "missing required field `agent` for a task step (a step without `type` is a task; \
             did you mean `\"type\": \"parallel\"`?)"
        );
    }

    #[test]
    fn step_timeout() {
        let mut step = task("a");
        step["timeout"] = json!(-5);
        let error = one_error(&wf(json!([step])));
        assert_eq!(error.path, "steps[0].timeout");
        assert!(error.message.contains("found -5"), "{error}");
        let mut step = task("a");
        step["timeout"] = json!(30);
        assert_eq!(ok(&wf(json!([step]))).document.steps[0].timeout, Some(30.0));
    }

    // --- Rule 6: errorHandling -------------------------------------------------------------

    #[test]
    fn error_handling_valid_fields() {
        let mut step = task("a");
        step["errorHandling"] = json!({
            "strategy": "fallback", "maxRetries": 0, "backoff": "exponential",
            "initialDelay": 1, "maxDelay": 30.5, "jitter": true,
            "escalateOnFailure": false, "notifyOnError": true,
            "fallback": {"agent": "b", "task": "t"}
        });
        let doc = json!({"name": "n", "steps": [step], "errorHandling": {"maxRetries": 100}});
        let validated = ok(&doc);
        let eh = validated.document.steps[0]
            .error_handling
            .as_ref()
            .expect("errorHandling");
        assert_eq!(eh.strategy, Some(Strategy::Fallback));
        assert_eq!(eh.max_retries, Some(0));
        assert_eq!(eh.backoff, Some(Backoff::Exponential));
        assert_eq!((eh.initial_delay, eh.max_delay), (Some(1.0), Some(30.5)));
        assert_eq!(eh.jitter, Some(true));
        assert_eq!(eh.escalate_on_failure, Some(false));
        assert_eq!(eh.notify_on_error, Some(true));
        let fallback = eh.fallback.as_ref().expect("fallback");
        assert_eq!(fallback.id, "step-1");
        assert!(matches!(fallback.kind, StepKind::Task(_)));
        assert_eq!(
            validated
                .document
                .error_handling
                .and_then(|eh| eh.max_retries),
            Some(100)
        );
    }

    #[test]
    fn error_handling_invalid_fields() {
        let mut step = task("a");
        step["errorHandling"] = json!({
            "strategy": "retri", "maxRetries": 101, "backoff": "exp",
            "initialDelay": -1, "jitter": "yes", "escalateOnFailure": 1, "notifyOnError": "no"
        });
        let errors = expect_errors(&wf(json!([step])));
        assert_eq!(
            paths(&errors),
            [
                "steps[0].errorHandling.strategy",
                "steps[0].errorHandling.maxRetries",
                "steps[0].errorHandling.backoff",
                "steps[0].errorHandling.initialDelay",
                "steps[0].errorHandling.jitter",
                "steps[0].errorHandling.escalateOnFailure",
                "steps[0].errorHandling.notifyOnError",
            ]
        );
        assert_eq!(
            errors[0].message,
            "unknown strategy `retri`; expected one of retry, fallback, continue, fail (did you \
             mean `retry`?)"
        );
        assert_eq!(
            errors[1].message,
            "`maxRetries` must be an integer from 0 to 100, found 101"
        );
        assert_eq!(
            errors[4].message,
            "`jitter` must be a boolean, found string"
        );
        for bad in [json!(-1), json!(2.5), json!("3")] {
            let doc =
                json!({"name": "n", "steps": [task("a")], "errorHandling": {"maxRetries": bad}});
            assert_eq!(one_error(&doc).path, "errorHandling.maxRetries");
        }
    }

    #[test]
    fn max_delay_must_not_be_less_than_initial_delay() {
        let doc = json!({"name": "n", "steps": [task("a")],
                         "errorHandling": {"initialDelay": 10, "maxDelay": 5}});
        let error = one_error(&doc);
        assert_eq!(error.path, "errorHandling.maxDelay");
        assert!(error.message.contains("must not be less than"), "{error}");
        let doc = json!({"name": "n", "steps": [task("a")],
                         "errorHandling": {"initialDelay": 5, "maxDelay": 5}});
        assert!(parse_document(&doc).is_ok());
    }

    #[test]
    fn fallback_strategy_needs_a_fallback_step() {
        let mut step = task("a");
        step["errorHandling"] = json!({"strategy": "fallback"});
        let error = one_error(&wf(json!([step])));
        assert_eq!(error.path, "steps[0].errorHandling");
        assert!(error.message.contains("needs a `fallback` step"), "{error}");
    }

    #[test]
    fn fallback_step_is_validated_like_any_step() {
        let mut step = task("a");
        step["errorHandling"] = json!({"fallback": {"id": "f", "task": "t"}});
        let error = one_error(&wf(json!([step])));
        assert_eq!(error.path, "steps[0].errorHandling.fallback");
        assert_eq!(
            error.message,
            "missing required field `agent` for a task step"
        );
        let mut step = task("a");
        step["errorHandling"] = json!({"fallback": "f"});
        let error = one_error(&wf(json!([step])));
        assert_eq!(error.path, "steps[0].errorHandling.fallback");
        let doc = json!({"name": "n", "steps": [task("a")],
                         "errorHandling": {"fallback": {"id": "f", "agent": "x", "task": 1}}});
        assert_eq!(one_error(&doc).path, "errorHandling.fallback.task");
    }

    // --- Rules 7 and 9: unknown fields are warnings ------------------------------------------

    #[test]
    fn unknown_fields_are_warnings() {
        let doc = json!({
            "name": "n", "descripton": "d",
            "steps": [
                {"id": "a", "agent": "x", "task": "t", "ouput": "o", "color": "red"},
                {"id": "b", "agent": "x", "task": "t", "steps": []},
                {"id": "p", "type": "parallel", "step": [task("c")], "steps": [task("d")]}
            ],
            "errorHandling": {"maxRetires": 3}
        });
        let validated = ok(&doc);
        let warnings: Vec<String> = validated.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            [
                "descripton: unknown field `descripton` is ignored (did you mean `description`?)",
                "steps[0].color: unknown field `color` is ignored",
                "steps[0].ouput: unknown field `ouput` is ignored (did you mean `output`?)",
                "steps[1].steps: unknown field `steps` is ignored (`steps` is a field of parallel \
                 steps, not of task steps)",
                "steps[2].step: unknown field `step` is ignored (did you mean `steps`?)",
                "errorHandling.maxRetires: unknown field `maxRetires` is ignored (did you mean \
                 `maxRetries`?)",
            ]
        );
        // Unknown fields are dropped from the normalized document.
        let value = serde_json::to_value(&validated.document).expect("serializes");
        assert!(value.get("descripton").is_none());
        assert!(value["steps"][0].get("ouput").is_none());
    }

    #[test]
    fn no_warnings_for_a_clean_document() {
        assert!(ok(&wf(json!([task("a")]))).warnings.is_empty());
    }

    // --- Rule 8: references ------------------------------------------------------------------

    #[test]
    fn execution_input_references() {
        let doc = wf(json!([task_io(
            "a",
            json!(["input.productName", "input.x.y"]),
            "o"
        )]));
        assert!(parse_document(&doc).is_ok());
        let error = one_error(&wf(json!([task_io("a", json!("input."), "o")])));
        assert_eq!(error.path, "steps[0].input");
        assert!(
            error.message.contains("must be followed by a key"),
            "{error}"
        );
        let error = one_error(&wf(json!([task_io("a", json!(["input.k", ""]), "o")])));
        assert_eq!(error.path, "steps[0].input[1]");
    }

    #[test]
    fn earlier_outputs_and_ids_are_visible() {
        let doc = wf(json!([
            task_io("a", json!([]), "out-a"),
            task_io("b", json!(["out-a", "a"]), "out-b"),
        ]));
        assert!(parse_document(&doc).is_ok());
    }

    #[test]
    fn a_reference_to_a_later_step() {
        let doc = wf(json!([
            task_io("a", json!("out-b"), "out-a"),
            task_io("b", json!([]), "out-b"),
        ]));
        let error = one_error(&doc);
        assert_eq!(error.path, "steps[0].input");
        assert_eq!(
            error.message,
            "`out-b` is produced later by step `b`; a step can only use what steps before it \
             produced"
        );
    }

    #[test]
    fn a_step_cannot_use_its_own_output() {
        let error = one_error(&wf(json!([task_io("a", json!("out"), "out")])));
        assert!(error.message.contains("this step itself"), "{error}");
    }

    #[test]
    fn sibling_of_a_parallel_step() {
        let mut doc = saas();
        doc["steps"][2]["steps"][1]["input"] = json!("backend-code");
        let error = one_error(&doc);
        assert_eq!(error.path, "steps[2].steps[1].input");
        assert_eq!(
            error.message,
            "`backend-code` is produced by sibling `backend-dev` of the same parallel step; \
             siblings run at the same time, so move the consumer after `parallel-development`"
        );
        // The same when the producer is the earlier sibling's descendant, or a later sibling.
        let doc = wf(json!([{"id": "p", "type": "parallel", "steps": [
            task_io("a", json!("late"), "x"),
            {"id": "q", "type": "parallel", "steps": [task_io("b", json!([]), "late")]}
        ]}]));
        let error = one_error(&doc);
        assert_eq!(error.path, "steps[0].steps[0].input");
        assert!(
            error
                .message
                .starts_with("`late` is produced by `b` inside sibling `q`"),
            "{error}"
        );
    }

    #[test]
    fn a_finished_parallel_step_exposes_all_its_descendants() {
        let doc = wf(json!([
            {"id": "p", "type": "parallel", "steps": [
                task_io("a", json!([]), "out-a"),
                {"id": "q", "type": "parallel", "steps": [task_io("b", json!([]), "out-b")]},
                {"id": "l", "type": "loop", "items": "input.xs", "output": "results",
                 "step": task_io("each", json!("item"), "per-item")}
            ]},
            task_io("after", json!(["p", "q", "a", "out-a", "b", "out-b", "l", "results"]), "o")
        ]));
        assert!(
            parse_document(&doc).is_ok(),
            "{:#?}",
            parse_document(&doc).err()
        );
    }

    #[test]
    fn conditional_scoping() {
        let doc = wf(json!([
            task_io("tests", json!([]), "test-results"),
            {"id": "check", "type": "conditional", "condition": "test-results.passed === true",
             "then": [task_io("deploy", json!("test-results"), "url"),
                      task_io("announce", json!("url"), "note")],
             "else": task_io("fix", json!("test-results"), "patch")},
            task_io("report", json!(["check", "url", "note", "patch", "deploy", "fix"]), "r")
        ]));
        assert!(
            parse_document(&doc).is_ok(),
            "{:#?}",
            parse_document(&doc).err()
        );

        let doc = wf(json!([
            {"id": "check", "type": "conditional", "condition": "true",
             "then": task_io("deploy", json!([]), "url"),
             "else": task_io("fix", json!("url"), "patch")}
        ]));
        let error = one_error(&doc);
        assert_eq!(error.path, "steps[0].else.input");
        assert_eq!(
            error.message,
            "`url` is produced by `deploy` in the other branch of conditional `check`; only one \
             branch runs"
        );

        // Inside a branch, the conditional itself has not finished.
        let doc = wf(json!([
            {"id": "check", "type": "conditional", "condition": "true",
             "then": task_io("deploy", json!("check"), "url")}
        ]));
        let error = one_error(&doc);
        assert_eq!(error.path, "steps[0].then.input");
        assert!(error.message.contains("contains this step"), "{error}");
    }

    #[test]
    fn loop_scoping() {
        let doc = wf(json!([
            task_io("fetch", json!([]), "rows"),
            {"id": "each", "type": "loop", "items": "rows", "output": "results",
             "step": {"id": "body", "type": "parallel", "steps": [
                 task_io("one", json!(["item", "index", "item.name", "rows"]), "per-item")
             ]}},
            task_io("after", json!(["each", "results"]), "o")
        ]));
        assert!(
            parse_document(&doc).is_ok(),
            "{:#?}",
            parse_document(&doc).err()
        );

        let doc = wf(json!([
            {"id": "each", "type": "loop", "items": "input.xs",
             "step": task_io("one", json!("item"), "per-item")},
            task_io("after", json!("per-item"), "o")
        ]));
        let error = one_error(&doc);
        assert_eq!(error.path, "steps[1].input");
        assert_eq!(
            error.message,
            "`per-item` is produced by `one` inside loop `each`, and a loop's body is not \
             visible outside the loop; give the loop an `output` and use that"
        );

        let error = one_error(&wf(json!([task_io("a", json!("item"), "o")])));
        assert!(
            error
                .message
                .contains("only available inside the `step` of a loop")
        );

        // The body cannot use the loop's own output: the loop finishes after it.
        let doc = wf(json!([
            {"id": "each", "type": "loop", "items": "input.xs", "output": "results",
             "step": task_io("one", json!("results"), "per-item")}
        ]));
        assert!(one_error(&doc).message.contains("finishes only after it"));
    }

    #[test]
    fn loop_items_references() {
        let good = [
            "input.xs",
            "rows",
            "fetch",
            "rows.data",
            "len(rows) > 0",
            "[1, 2]",
        ];
        for items in good {
            let doc = wf(json!([
                task_io("fetch", json!([]), "rows"),
                {"type": "loop", "items": items, "step": task("one")}
            ]));
            assert!(
                parse_document(&doc).is_ok(),
                "{items}: {:#?}",
                parse_document(&doc).err()
            );
        }
        let doc = wf(json!([
            task_io("fetch", json!([]), "rows"),
            {"type": "loop", "items": "row", "step": task("one")}
        ]));
        let error = one_error(&doc);
        assert_eq!(error.path, "steps[1].items");
        assert_eq!(
            error.message,
            "`row` is not produced by any earlier step (did you mean `rows`?)"
        );
        // The loop's own body is not available to its `items`.
        let doc = wf(json!([
            {"type": "loop", "items": "inner", "step": task_io("one", json!([]), "inner")}
        ]));
        assert_eq!(one_error(&doc).path, "steps[0].items");
    }

    #[test]
    fn unknown_reference_with_and_without_suggestion() {
        let mut doc = saas();
        doc["steps"][2]["steps"][0]["input"] = json!("strategy-docs");
        let error = one_error(&doc);
        assert_eq!(error.path, "steps[2].steps[0].input");
        assert_eq!(
            error.message,
            "`strategy-docs` is not produced by any earlier step (did you mean `strategy-doc`?)"
        );
        let mut doc = saas();
        doc["steps"][3]["input"] = json!(["backend-code", "Frontend-Code"]);
        let error = one_error(&doc);
        assert_eq!(error.path, "steps[3].input[1]");
        assert!(
            error.message.ends_with("(did you mean `frontend-code`?)"),
            "{error}"
        );
        let mut doc = saas();
        doc["steps"][1]["input"] = json!("competitors");
        assert_eq!(
            one_error(&doc).message,
            "`competitors` is not produced by any earlier step"
        );
    }

    #[test]
    fn fallback_scoping() {
        let doc = json!({"name": "n", "steps": [
            task_io("a", json!([]), "out-a"),
            {"id": "b", "agent": "x", "task": "t", "input": "out-a", "output": "out-b",
             "errorHandling": {"strategy": "fallback",
                               "fallback": task_io("b-fallback", json!("out-a"), "out-bf")}},
            task_io("c", json!(["out-b", "out-bf"]), "out-c")
        ], "errorHandling": {"fallback": task_io("wf-fallback", json!(["out-c", "input.k"]), "z")}});
        assert!(
            parse_document(&doc).is_ok(),
            "{:#?}",
            parse_document(&doc).err()
        );

        let doc = wf(json!([
            {"id": "b", "agent": "x", "task": "t", "output": "out-b",
             "errorHandling": {"fallback": task_io("f", json!("out-b"), "o")}}
        ]));
        let error = one_error(&doc);
        assert_eq!(error.path, "steps[0].errorHandling.fallback.input");
        assert!(error.message.contains("contains this step"), "{error}");
    }

    #[test]
    fn a_generated_id_can_be_referenced() {
        let doc = wf(json!([
            {"agent": "a", "task": "t"},
            task_io("b", json!("step-1"), "o")
        ]));
        assert!(parse_document(&doc).is_ok());
    }

    #[test]
    fn conditions_items_and_templates_are_parsed_and_their_names_checked() {
        let doc = wf(json!([
            {"id": "a", "agent": "x", "task": "t", "output": "test-results"},
            {"type": "conditional", "condition": "test-results.passed === true && len(input.k) > 0", "then": task("b")},
            {"type": "conditional", "condition": "nothing.here ===", "then": task("c")},
            {"type": "conditional", "condition": "tests-results.passed", "then": task("d")},
            {"id": "e", "agent": "x", "task": "Deploy {{ test-results.url }} for {{ input.who }}"},
            {"id": "f", "agent": "x", "task": "Use {{ missing }}"},
            {"id": "g", "agent": "x", "task": "Broken {{ a + }}"},
            {"id": "l", "type": "loop", "items": "[1, 2, len(test-results)]", "step": {"id": "s", "agent": "x", "task": "{{ item }} #{{ index }}"}},
            {"id": "m", "agent": "x", "task": "{{ item }}"}
        ]));
        let errors = expect_errors(&doc);
        let paths: Vec<&str> = errors.iter().map(|d| d.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "steps[2].condition",
                "steps[3].condition",
                "steps[5].task",
                "steps[6].task",
                "steps[8].task"
            ],
            "{errors:#?}"
        );
        assert!(
            errors[0].message.contains("column"),
            "{}",
            errors[0].message
        );
        assert!(
            errors[1].message.contains("did you mean `test-results`"),
            "{}",
            errors[1].message
        );
        assert!(
            errors[2].message.contains("`missing`"),
            "{}",
            errors[2].message
        );
        assert!(
            errors[3].message.contains("column 15"),
            "{}",
            errors[3].message
        );
        assert!(errors[4].message.contains("loop"), "{}", errors[4].message);
    }

    // --- Rules 10 and 11: all errors at once, in document order -----------------------------

    #[test]
    fn all_errors_at_once_in_document_order() {
        let doc = json!({
            "name": "n",
            "timeout": -1,
            "steps": [
                {"id": "a", "type": "paralel", "steps": []},
                {"id": "b", "task": "t", "input": "nowhere"},
                task_io("c", json!(["b", "nowhere-either"]), "o")
            ]
        });
        let errors = expect_errors(&doc);
        assert_eq!(
            paths(&errors),
            [
                "steps[0].type",
                "steps[1]",
                "steps[1].input",
                "steps[2].input[1]",
                "timeout"
            ]
        );
    }

    #[test]
    fn three_distinct_errors_yield_three_diagnostics() {
        let doc = json!({
            "name": "n",
            "steps": [
                {"id": "a", "agent": 3, "task": "t"},
                {"id": "b", "type": "parallel", "steps": [task_io("c", json!("later"), "x")]},
                task_io("d", json!([]), "later")
            ],
            "errorHandling": {"maxRetries": 1000}
        });
        let errors = expect_errors(&doc);
        assert_eq!(
            paths(&errors),
            [
                "steps[0].agent",
                "steps[1].steps[0].input",
                "errorHandling.maxRetries"
            ]
        );
        assert!(
            errors[1].message.contains("produced later by step `d`"),
            "{}",
            errors[1]
        );
    }

    #[test]
    fn a_bad_type_does_not_cascade_into_reference_errors() {
        let doc = wf(json!([
            {"id": "p", "type": "paralell", "steps": [task_io("a", json!([]), "inner")]},
            task_io("b", json!(["inner", "p"]), "o")
        ]));
        assert_eq!(paths(&expect_errors(&doc)), ["steps[0].type"]);
    }

    // --- Depth ------------------------------------------------------------------------------

    #[test]
    fn sixty_four_levels_are_allowed() {
        let doc = nested_parallels(MAX_STEP_DEPTH - 1);
        let validated = ok(&doc);
        let mut depth = 0;
        validated.document.walk(&mut |_, _| depth += 1);
        assert_eq!(depth, MAX_STEP_DEPTH);
        dismantle(doc);
    }

    #[test]
    fn sixty_five_levels_are_an_error() {
        let doc = nested_parallels(MAX_STEP_DEPTH);
        let error = one_error(&doc);
        let expected_path = format!("steps[0]{}", ".steps[0]".repeat(MAX_STEP_DEPTH));
        assert_eq!(error.path, expected_path);
        assert!(error.message.contains("more than 64 levels"), "{error}");
        dismantle(doc);
    }

    #[test]
    fn ten_thousand_levels_do_not_overflow_the_stack() {
        let doc = nested_parallels(10_000);
        let errors = expect_errors(&doc);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        assert!(errors[0].message.contains("nested more than 64 levels"));
        dismantle(doc);

        // Deep fallbacks and deep values in fields are no problem either.
        let mut fallback = task("f");
        for level in 0..10_000 {
            fallback = object(vec![
                ("id", json!(format!("f{level}"))),
                ("agent", json!("a")),
                ("task", json!("t")),
                ("errorHandling", object(vec![("fallback", fallback)])),
            ]);
        }
        let deep_array = || {
            let mut junk = json!(1);
            for _ in 0..10_000 {
                junk = Value::Array(vec![junk]);
            }
            junk
        };
        let other = object(vec![
            ("agent", deep_array()),
            ("task", json!("t")),
            ("extra", deep_array()),
        ]);
        let doc = wf(Value::Array(vec![fallback, other]));
        let errors = expect_errors(&doc);
        assert_eq!(errors.len(), 2, "{errors:#?}");
        assert!(errors[0].message.contains("nested more than 64 levels"));
        assert_eq!(errors[1].path, "steps[1].agent");
        dismantle(doc);
    }

    #[test]
    fn deep_text_is_a_diagnostic() {
        let depth = 10_000;
        let mut text = String::from(r#"{"name": "n", "steps": ["#);
        for _ in 0..depth {
            text.push_str(r#"{"type": "parallel", "steps": ["#);
        }
        text.push_str(r#"{"agent": "a", "task": "t"}"#);
        for _ in 0..depth {
            text.push_str("]}");
        }
        text.push_str("]}");
        let errors = parse_document_str(&text).expect_err("too deep");
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].path.starts_with("line 1, column "),
            "{}",
            errors[0]
        );
        assert!(
            errors[0].message.contains("nested too deeply"),
            "{}",
            errors[0]
        );
    }

    // --- Text parsing -------------------------------------------------------------------------

    #[test]
    fn syntax_errors_are_located_by_line_and_column() {
        let errors =
            parse_document_str("{\n  \"name\": \"n\",\n  \"steps\": [,]\n}").expect_err("bad");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, "line 3, column 13");
        assert_eq!(errors[0].message, "invalid JSON: expected value");
        assert_eq!(
            errors[0].to_string(),
            "line 3, column 13: invalid JSON: expected value"
        );
        let errors = parse_document_str("").expect_err("empty");
        assert!(
            errors[0].message.starts_with("invalid JSON: EOF"),
            "{}",
            errors[0]
        );
    }

    #[test]
    fn text_is_validated_like_a_value() {
        let errors =
            parse_document_str(r#"{"name": "n", "steps": [{"agent": "a"}]}"#).expect_err("invalid");
        assert_eq!(errors[0].path, "steps[0]");
    }

    // --- Diagnostics ------------------------------------------------------------------------

    #[test]
    fn diagnostic_display_and_serde() {
        let diagnostic = Diagnostic {
            path: "steps[2].input".into(),
            message: "`strategy-docs` is not produced by any earlier step".into(),
        };
        assert_eq!(
            diagnostic.to_string(),
            "steps[2].input: `strategy-docs` is not produced by any earlier step"
        );
        let value = serde_json::to_value(&diagnostic).expect("serializes");
        assert_eq!(
            value,
            json!({"path": "steps[2].input", "message": diagnostic.message})
        );
        let root = Diagnostic {
            path: String::new(),
            message: "m".into(),
        };
        assert_eq!(root.to_string(), "m");
    }
}
