//! JSON Schema to TypeScript type expressions.
//!
//! Connectors describe their methods with JSON Schema; an agent writes code
//! against TypeScript. A [`Scope`] turns one schema document (a method's input
//! schema, or a whole OpenAPI description) into type expressions and named
//! type declarations.
//!
//! How it works:
//!
//! - The caller [`define`](Scope::define)s a type name for each `$ref` target
//!   that should become a named type (`#/$defs/User` → `User`). A `$ref` to a
//!   defined target is written as that name, never inlined, so cycles work and
//!   a large description such as GitHub's does not expand exponentially.
//!   Other local references (`#/properties/a`) are inlined, guarded against
//!   cycles (an inlined cycle becomes `unknown`).
//! - TypeScript allows a type alias to refer to itself only through an object
//!   member, an array element or a tuple element. References that would close
//!   a cycle through unions and intersections alone (`A = B | string`,
//!   `B = A`) become `unknown` instead of a `tsc` error.
//! - Object members carry JSDoc from `title`, `description` and the
//!   validation keywords (`@format`, `@minimum`, ...); `*/` in text is
//!   escaped so it cannot end the comment.
//! - An index signature from `additionalProperties` or `patternProperties`
//!   is widened with the named properties' types (or to `unknown`), because
//!   `tsc --strict` requires every named property to fit it.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::names::is_identifier_name;
use crate::pointer::{self, decode};

/// One level of indentation in generated code.
pub(crate) const INDENT: &str = "    ";

/// Validation and annotation keywords shown as JSDoc tags, in this order.
const TAGS: &[&str] = &[
    "format",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "contentMediaType",
    "contentEncoding",
    "readOnly",
    "writeOnly",
    "default",
];

/// Where a schema document's `$ref`s lead: the document they resolve against
/// and the named types defined for some of their targets.
#[derive(Debug)]
pub struct Scope<'a> {
    root: &'a Value,
    names: HashMap<String, String>,
    /// Whether JSDoc is brief: see [`brief`](Scope::brief).
    brief: bool,
    /// For each named reference on a cycle of unions and intersections, the
    /// number of its cycle (computed on first use).
    cycles: OnceCell<HashMap<String, usize>>,
}

/// How tightly a type expression binds, to know where it needs parentheses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    Union,
    Intersection,
    Primary,
}

#[derive(Debug)]
struct Expr {
    text: String,
    prec: Prec,
}

impl Expr {
    fn primary(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            prec: Prec::Primary,
        }
    }

    fn unknown() -> Self {
        Self::primary("unknown")
    }

    /// The text, parenthesized unless it binds at least as tightly as `prec`.
    fn at(self, prec: Prec) -> String {
        if self.prec >= prec {
            self.text
        } else {
            format!("({})", self.text)
        }
    }
}

/// Where an expression is being written.
#[derive(Debug, Clone, Copy)]
struct At {
    /// Indentation level of the line the expression starts on.
    indent: usize,
    /// Not inside an object member or array element: a reference here is
    /// needed eagerly by TypeScript.
    immediate: bool,
}

impl At {
    fn member(self) -> Self {
        Self {
            indent: self.indent + 1,
            immediate: false,
        }
    }

    fn element(self) -> Self {
        Self {
            immediate: false,
            ..self
        }
    }
}

/// State while writing one declaration.
#[derive(Debug, Default)]
struct State {
    /// The cycle of the named type being declared, if it is on one.
    cycle: Option<usize>,
    /// References being inlined, to stop inlining cycles.
    inlining: Vec<String>,
}

impl<'a> Scope<'a> {
    /// A scope whose `$ref`s resolve against `root`, with no named types yet.
    pub fn new(root: &'a Value) -> Self {
        Self {
            root,
            names: HashMap::new(),
            brief: false,
            cycles: OnceCell::new(),
        }
    }

    /// Makes JSDoc brief from now on: each description cut to its first
    /// sentence, and no validation tags or examples (`@deprecated` and
    /// `@default` stay). What an agent reads while it looks for an
    /// operation, where every token counts.
    pub fn brief(&mut self) {
        self.brief = true;
    }

    /// Writes references to `reference` (such as `#/$defs/User`) as the type
    /// name `name` from now on; declare it with [`declaration`](Self::declaration).
    pub fn define(&mut self, reference: impl Into<String>, name: impl Into<String>) {
        self.names
            .insert(decode(&reference.into()).into_owned(), name.into());
        self.cycles = OnceCell::new();
    }

    /// The name defined for `reference`, if any.
    pub fn name(&self, reference: &str) -> Option<&str> {
        self.names
            .get(decode(reference).as_ref())
            .map(String::as_str)
    }

    /// The schema `reference` points at inside the root document, if it is a
    /// local reference (`#`, `#/...`) that leads somewhere.
    pub fn resolve(&self, reference: &str) -> Option<&'a Value> {
        pointer::resolve(self.root, reference)
    }

    /// The type expression for `schema`, laid out for a line at indentation
    /// level `indent`.
    pub fn type_expression(&self, schema: &Value, indent: usize) -> String {
        let at = At {
            indent,
            immediate: true,
        };
        self.expr(schema, at, &mut State::default()).text
    }

    /// `type Name = ...;` for a defined reference, with a JSDoc comment from
    /// its schema, indented by `indent` levels; `None` if `reference` has no
    /// name or does not resolve.
    pub fn declaration(&self, reference: &str, indent: usize) -> Option<String> {
        let key = decode(reference).into_owned();
        let name = self.names.get(&key)?;
        let schema = self.resolve(&key)?;
        let mut state = State {
            cycle: self.cycles().get(&key).copied(),
            inlining: Vec::new(),
        };
        let at = At {
            indent,
            immediate: true,
        };
        let expr = self.expr(schema, at, &mut state).text;
        let mut out = jsdoc(&doc_lines(schema, self.brief), indent);
        let pad = INDENT.repeat(indent);
        let _ = writeln!(out, "{pad}type {name} = {expr};");
        Some(out)
    }

    /// The defined references `schema` names itself (not through other
    /// defined types), in the order first met.
    pub fn named_references(&self, schema: &Value) -> Vec<String> {
        let mut refs = Vec::new();
        collect_refs(schema, &mut refs);
        let mut named: Vec<String> = Vec::new();
        for reference in refs {
            let key = decode(reference).into_owned();
            if self.names.contains_key(&key) && !named.contains(&key) {
                named.push(key);
            }
        }
        named
    }

    /// Every defined reference that `schema` leads to, directly or through
    /// other defined types, in the order first met. Used to declare just the
    /// types one method needs.
    pub fn closure<'s>(&self, schemas: impl IntoIterator<Item = &'s Value>) -> Vec<String> {
        let mut found: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack: Vec<&Value> = schemas.into_iter().collect();
        stack.reverse();
        while let Some(schema) = stack.pop() {
            let mut refs = Vec::new();
            collect_refs(schema, &mut refs);
            // Visit in document order: push in reverse.
            let mut next = Vec::new();
            for reference in refs {
                let key = decode(reference).into_owned();
                if !seen.insert(key.clone()) {
                    continue;
                }
                if let Some(target) = self.resolve(&key) {
                    next.push(target);
                }
                if self.names.contains_key(&key) {
                    found.push(key);
                }
            }
            stack.extend(next.into_iter().rev());
        }
        found
    }

    fn cycles(&self) -> &HashMap<String, usize> {
        self.cycles.get_or_init(|| {
            let mut keys: Vec<&String> = self.names.keys().collect();
            keys.sort();
            let index: HashMap<&str, usize> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| (k.as_str(), i))
                .collect();
            let edges: Vec<Vec<usize>> = keys
                .iter()
                .map(|key| {
                    let mut refs = Vec::new();
                    if let Some(schema) = self.resolve(key) {
                        self.immediate_refs(schema, &mut refs, &mut Vec::new());
                    }
                    refs.iter()
                        .filter_map(|r| index.get(r.as_str()).copied())
                        .collect()
                })
                .collect();
            strongly_connected(&edges)
                .into_iter()
                .enumerate()
                .filter(|(_, component)| {
                    component.len() > 1 || component.iter().any(|&n| edges[n].contains(&n))
                })
                .flat_map(|(id, component)| {
                    let keys = &keys;
                    component.into_iter().map(move |n| (keys[n].clone(), id))
                })
                .collect()
        })
    }

    /// The defined references `schema` needs eagerly: through `$ref`,
    /// `anyOf`, `oneOf` and `allOf`, not inside members or elements.
    fn immediate_refs(&self, schema: &Value, out: &mut Vec<String>, inlining: &mut Vec<String>) {
        let Value::Object(map) = schema else { return };
        if let Some(Value::String(reference)) = map.get("$ref") {
            let key = decode(reference).into_owned();
            if self.names.contains_key(&key) {
                out.push(key);
            } else if !inlining.contains(&key)
                && let Some(target) = self.resolve(&key)
            {
                inlining.push(key);
                self.immediate_refs(target, out, inlining);
                inlining.pop();
            }
            return;
        }
        for keyword in ["anyOf", "oneOf", "allOf"] {
            if let Some(Value::Array(items)) = map.get(keyword) {
                for item in items {
                    self.immediate_refs(item, out, inlining);
                }
            }
        }
    }

    fn expr(&self, schema: &Value, at: At, state: &mut State) -> Expr {
        let map = match schema {
            Value::Object(map) => map,
            Value::Bool(false) => return Expr::primary("never"),
            _ => return Expr::unknown(),
        };
        if let Some(Value::String(reference)) = map.get("$ref") {
            let expr = self.reference(reference, at, state);
            return nullable(map, expr);
        }
        let mut parts = Vec::new();
        if let Some(base) = self.base(map, at, state) {
            parts.push(base);
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(Value::Array(items)) = map.get(keyword) {
                let members = items.iter().map(|s| self.expr(s, at, state)).collect();
                parts.push(union(members));
            }
        }
        if let Some(Value::Array(items)) = map.get("allOf") {
            parts.extend(items.iter().map(|s| self.expr(s, at, state)));
        }
        nullable(map, intersection(parts))
    }

    fn reference(&self, reference: &str, at: At, state: &mut State) -> Expr {
        let key = decode(reference).into_owned();
        if let Some(name) = self.names.get(&key) {
            let same_cycle =
                state.cycle.is_some() && self.cycles().get(&key) == state.cycle.as_ref();
            return if at.immediate && same_cycle {
                Expr::unknown()
            } else {
                Expr::primary(name.clone())
            };
        }
        if state.inlining.contains(&key) {
            return Expr::unknown();
        }
        let Some(target) = self.resolve(&key) else {
            return Expr::unknown();
        };
        state.inlining.push(key);
        let expr = self.expr(target, at, state);
        state.inlining.pop();
        expr
    }

    /// The type from `const`, `enum`, `type` or the structural keywords;
    /// `None` when only composition keywords say what the value is.
    fn base(&self, map: &Map<String, Value>, at: At, state: &mut State) -> Option<Expr> {
        if let Some(value) = map.get("const") {
            return Some(Expr::primary(literal(value)));
        }
        if let Some(Value::Array(values)) = map.get("enum") {
            return Some(union(
                values.iter().map(|v| Expr::primary(literal(v))).collect(),
            ));
        }
        let composed = ["anyOf", "oneOf", "allOf"]
            .iter()
            .any(|k| map.contains_key(*k));
        let object = OBJECT_KEYWORDS.iter().any(|k| map.contains_key(*k));
        let array = ARRAY_KEYWORDS.iter().any(|k| map.contains_key(*k));
        match map.get("type") {
            Some(Value::String(name)) => {
                // `{"type": "object", "anyOf": [...]}`: the branches say it all.
                if composed && ((name == "object" && !object) || (name == "array" && !array)) {
                    return None;
                }
                Some(self.named_type(name, map, at, state))
            }
            Some(Value::Array(names)) => {
                let members = names
                    .iter()
                    .map(|name| match name {
                        Value::String(name) => self.named_type(name, map, at, state),
                        _ => Expr::unknown(),
                    })
                    .collect();
                Some(union(members))
            }
            _ if object => Some(self.object(map, at, state)),
            _ if array => Some(self.array(map, at, state)),
            _ if composed => None,
            _ => Some(Expr::unknown()),
        }
    }

    fn named_type(&self, name: &str, map: &Map<String, Value>, at: At, state: &mut State) -> Expr {
        match name {
            "string" => Expr::primary("string"),
            "number" | "integer" => Expr::primary("number"),
            "boolean" => Expr::primary("boolean"),
            "null" => Expr::primary("null"),
            "object" => self.object(map, at, state),
            "array" => self.array(map, at, state),
            _ => Expr::unknown(),
        }
    }

    fn object(&self, map: &Map<String, Value>, at: At, state: &mut State) -> Expr {
        let inner = at.member();
        let pad = INDENT.repeat(inner.indent);
        let empty = Map::new();
        let properties = match map.get("properties") {
            Some(Value::Object(properties)) => properties,
            _ => &empty,
        };
        let required: Vec<&str> = match map.get("required") {
            Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let mut body = String::new();
        let mut member_types: Vec<Expr> = Vec::new();
        let mut optional = false;
        let mut member =
            |body: &mut String, name: &str, schema: &Value, expr: Expr, is_required| {
                let key = property_key(name);
                let mark = if is_required { "" } else { "?" };
                body.push_str(&jsdoc(&doc_lines(schema, self.brief), inner.indent));
                let _ = writeln!(body, "{pad}{key}{mark}: {};", expr.text);
                optional |= !is_required;
                member_types.push(expr);
            };
        for (name, schema) in properties {
            let expr = self.expr(schema, inner, state);
            member(
                &mut body,
                name,
                schema,
                expr,
                required.contains(&name.as_str()),
            );
        }
        for name in required.iter().filter(|n| !properties.contains_key(**n)) {
            member(&mut body, name, &Value::Bool(true), Expr::unknown(), true);
        }

        let mut extra: Vec<Expr> = Vec::new();
        let mut patterns: Vec<String> = Vec::new();
        match map.get("additionalProperties") {
            None | Some(Value::Bool(false)) => {}
            Some(schema) => extra.push(self.expr(schema, inner, state)),
        }
        if let Some(Value::Object(by_pattern)) = map.get("patternProperties") {
            for (pattern, schema) in by_pattern {
                patterns.push(format!("Keys matching `{pattern}`."));
                extra.push(self.expr(schema, inner, state));
            }
        }
        let open = !map.contains_key("additionalProperties")
            && !map.contains_key("patternProperties")
            && properties.is_empty()
            && required.is_empty();
        let index = if open {
            Some(Expr::unknown())
        } else if extra.is_empty() {
            (body.is_empty()).then(|| Expr::primary("never"))
        } else if member_types.iter().any(|e| e.text.contains('\n')) {
            Some(Expr::unknown())
        } else {
            if optional {
                member_types.push(Expr::primary("undefined"));
            }
            extra.extend(member_types);
            let index = union(extra);
            Some(if index.text.contains('\n') {
                Expr::unknown()
            } else {
                index
            })
        };
        if let Some(index) = index {
            body.push_str(&jsdoc(&patterns, inner.indent));
            let _ = writeln!(body, "{pad}[key: string]: {};", index.text);
        }
        let close = INDENT.repeat(at.indent);
        Expr::primary(format!("{{\n{body}{close}}}"))
    }

    fn array(&self, map: &Map<String, Value>, at: At, state: &mut State) -> Expr {
        let at = at.element();
        let (prefix, rest) = match (map.get("prefixItems"), map.get("items")) {
            (Some(Value::Array(prefix)), items) => (Some(prefix), items),
            (_, Some(Value::Array(prefix))) => (Some(prefix), map.get("additionalItems")),
            (_, items) => (None, items),
        };
        let Some(prefix) = prefix else {
            return match rest {
                Some(Value::Bool(false)) => Expr::primary("[]"),
                Some(schema) => Expr::primary(format!(
                    "{}[]",
                    self.expr(schema, at, state).at(Prec::Primary)
                )),
                None => Expr::primary("unknown[]"),
            };
        };
        let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(0);
        let mut elements: Vec<String> = prefix
            .iter()
            .zip(0u64..)
            .map(|(schema, i)| {
                let expr = self.expr(schema, at, state);
                if i < min {
                    expr.text
                } else {
                    format!("{}?", expr.at(Prec::Primary))
                }
            })
            .collect();
        match rest {
            Some(Value::Bool(false)) => {}
            None | Some(Value::Bool(true)) => elements.push("...unknown[]".to_owned()),
            Some(schema) => {
                let expr = self.expr(schema, at, state);
                elements.push(format!("...{}[]", expr.at(Prec::Primary)));
            }
        }
        Expr::primary(format!("[{}]", elements.join(", ")))
    }
}

const OBJECT_KEYWORDS: &[&str] = &[
    "properties",
    "additionalProperties",
    "patternProperties",
    "required",
];
const ARRAY_KEYWORDS: &[&str] = &["items", "prefixItems", "additionalItems"];

/// `expr | null` when OpenAPI 3.0's `nullable: true` is set.
fn nullable(map: &Map<String, Value>, expr: Expr) -> Expr {
    if map.get("nullable") == Some(&Value::Bool(true)) {
        union(vec![expr, Expr::primary("null")])
    } else {
        expr
    }
}

fn union(members: Vec<Expr>) -> Expr {
    let mut kept: Vec<Expr> = Vec::new();
    for member in members {
        if member.text == "unknown" {
            return Expr::unknown();
        }
        if member.text != "never" && !kept.iter().any(|k| k.text == member.text) {
            kept.push(member);
        }
    }
    join(kept, Prec::Union, " | ", "never")
}

fn intersection(members: Vec<Expr>) -> Expr {
    let mut kept: Vec<Expr> = Vec::new();
    for member in members {
        if member.text == "never" {
            return Expr::primary("never");
        }
        if member.text != "unknown" && !kept.iter().any(|k| k.text == member.text) {
            kept.push(member);
        }
    }
    join(kept, Prec::Intersection, " & ", "unknown")
}

/// `members` joined by `operator`, or the one member, or `empty`.
fn join(mut members: Vec<Expr>, prec: Prec, operator: &str, empty: &str) -> Expr {
    match members.len() {
        0 => Expr::primary(empty),
        1 => members.remove(0),
        _ => Expr {
            text: members
                .into_iter()
                .map(|m| m.at(prec))
                .collect::<Vec<_>>()
                .join(operator),
            prec,
        },
    }
}

/// A JSON value as a TypeScript literal type.
fn literal(value: &Value) -> String {
    match value {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(literal).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let members: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", property_key(k), literal(v)))
                .collect();
            format!("{{ {} }}", members.join("; "))
        }
        other => other.to_string(),
    }
}

/// A property name as written in an object type: bare when it can be,
/// otherwise a string literal.
pub fn property_key(name: &str) -> String {
    if is_identifier_name(name) {
        name.to_owned()
    } else {
        Value::String(name.to_owned()).to_string()
    }
}

/// Every `$ref` string inside `schema`, in document order.
pub(crate) fn collect_refs<'v>(schema: &'v Value, out: &mut Vec<&'v str>) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => out.push(reference),
                    // Values, not schemas: a `$ref` in them is data.
                    ("const" | "enum" | "default" | "examples" | "example", _) => {}
                    (
                        "properties" | "patternProperties" | "$defs" | "definitions",
                        Value::Object(m),
                    ) => {
                        m.values().for_each(|v| collect_refs(v, out));
                    }
                    _ => collect_refs(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The most of a description's first sentence a brief JSDoc keeps.
const BRIEF_CHARS: usize = 160;

/// JSDoc lines for a schema: title, description, then tags. When `brief`,
/// the description's first sentence only (no title when there is one), and
/// of the tags only `@deprecated` and `@default`.
pub fn doc_lines(schema: &Value, brief: bool) -> Vec<String> {
    let Value::Object(map) = schema else {
        return Vec::new();
    };
    let text = |key| {
        map.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let mut lines: Vec<String> = Vec::new();
    let title = text("title");
    let description = text("description");
    if brief {
        if let Some(sentence) = description.or(title).map(first_sentence) {
            lines.push(sentence);
        }
        if map.get("deprecated") == Some(&Value::Bool(true)) {
            lines.push("@deprecated".to_owned());
        }
        if let Some(value) = map.get("default") {
            lines.push(format!("@default {}", tag_value(value)));
        }
        return lines;
    }
    if let Some(title) = title
        && description.is_none_or(|d| !d.starts_with(title))
    {
        lines.push(title.to_owned());
    }
    if let Some(description) = description {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.extend(description.lines().map(str::to_owned));
    }
    let text_lines = lines.len();
    if map.get("deprecated") == Some(&Value::Bool(true)) {
        lines.push("@deprecated".to_owned());
    }
    for tag in TAGS {
        if let Some(value) = map.get(*tag) {
            lines.push(format!("@{tag} {}", tag_value(value)));
        }
    }
    if let Some(Value::Array(examples)) = map.get("examples") {
        lines.extend(
            examples
                .iter()
                .map(|e| format!("@example {}", tag_value(e))),
        );
    }
    if let Some(example) = map.get("example") {
        lines.push(format!("@example {}", tag_value(example)));
    }
    if text_lines > 0 && lines.len() > text_lines {
        lines.insert(text_lines, String::new());
    }
    lines
}

/// The first sentence of `text` (up to a `. ` or a line break), cut at
/// [`BRIEF_CHARS`] characters.
fn first_sentence(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    let sentence = match line.find(". ") {
        Some(end) => &line[..=end],
        None => line,
    };
    match sentence.char_indices().nth(BRIEF_CHARS) {
        Some((cut, _)) => format!("{}…", sentence[..cut].trim_end()),
        None => sentence.to_owned(),
    }
}

/// A keyword's value in a tag: strings bare, anything else as JSON.
fn tag_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A JSDoc comment from `lines` (empty when there are none), indented by
/// `indent` levels, with `*/` escaped.
pub fn jsdoc(lines: &[String], indent: usize) -> String {
    let pad = INDENT.repeat(indent);
    let lines: Vec<String> = lines
        .iter()
        .map(|line| line.trim_end().replace("*/", "*\\/"))
        .collect();
    match lines.as_slice() {
        [] => String::new(),
        [line] if !line.is_empty() && line.len() < 100 => format!("{pad}/** {line} */\n"),
        _ => {
            let mut out = format!("{pad}/**\n");
            for line in &lines {
                if line.is_empty() {
                    let _ = writeln!(out, "{pad} *");
                } else {
                    let _ = writeln!(out, "{pad} * {line}");
                }
            }
            let _ = writeln!(out, "{pad} */");
            out
        }
    }
}

/// Tarjan's strongly connected components of a graph given as adjacency
/// lists.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    struct Tarjan<'e> {
        edges: &'e [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        components: Vec<Vec<usize>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for &w in &self.edges[v] {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(index) if self.on_stack[w] => self.low[v] = self.low[v].min(index),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                self.components.push(component);
            }
        }
    }
    let n = edges.len();
    let mut tarjan = Tarjan {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        components: Vec::new(),
    };
    for v in 0..n {
        if tarjan.index[v].is_none() {
            tarjan.visit(v);
        }
    }
    tarjan.components
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ts(schema: Value) -> String {
        Scope::new(&schema).type_expression(&schema, 0)
    }

    #[test]
    fn primitives_and_literals() {
        assert_eq!(ts(json!(true)), "unknown");
        assert_eq!(ts(json!(false)), "never");
        assert_eq!(ts(json!({})), "unknown");
        assert_eq!(ts(json!({"type": "integer"})), "number");
        assert_eq!(ts(json!({"type": ["string", "null"]})), "string | null");
        assert_eq!(
            ts(json!({"type": "string", "nullable": true})),
            "string | null"
        );
        assert_eq!(
            ts(json!({"enum": ["a", 1, null, "it's \"q\""]})),
            r#""a" | 1 | null | "it's \"q\"""#
        );
        assert_eq!(ts(json!({"const": -1.5})), "-1.5");
        assert_eq!(ts(json!({"enum": []})), "never");
    }

    #[test]
    fn arrays_and_tuples() {
        assert_eq!(ts(json!({"type": "array"})), "unknown[]");
        assert_eq!(
            ts(json!({"items": {"type": ["string", "number"]}})),
            "(string | number)[]"
        );
        assert_eq!(
            ts(
                json!({"prefixItems": [{"type": "string"}, {"type": "number"}], "items": false, "minItems": 1})
            ),
            "[string, number?]"
        );
        assert_eq!(
            ts(
                json!({"items": [{"type": "string"}], "additionalItems": {"type": "boolean"}, "minItems": 1})
            ),
            "[string, ...boolean[]]"
        );
        assert_eq!(
            ts(json!({"prefixItems": [{}], "minItems": 1})),
            "[unknown, ...unknown[]]"
        );
    }

    #[test]
    fn objects() {
        let out = ts(json!({
            "type": "object",
            "required": ["a", "missing"],
            "properties": {"a": {"type": "string", "description": "A */ thing"}, "b-c": {"type": "number"}},
            "additionalProperties": {"type": "boolean"}
        }));
        assert_eq!(
            out,
            "{\n    /** A *\\/ thing */\n    a: string;\n    \"b-c\"?: number;\n    missing: unknown;\n    [key: string]: unknown;\n}"
        );
        let closed = ts(
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "number"}}),
        );
        assert!(
            closed.contains("[key: string]: number | string | undefined;"),
            "{closed}"
        );
        assert_eq!(
            ts(json!({"type": "object"})),
            "{\n    [key: string]: unknown;\n}"
        );
        assert_eq!(
            ts(json!({"type": "object", "additionalProperties": false})),
            "{\n    [key: string]: never;\n}"
        );
    }

    #[test]
    fn composition() {
        assert_eq!(
            ts(json!({"anyOf": [{"type": "string"}, {"type": "number"}]})),
            "string | number"
        );
        assert_eq!(
            ts(
                json!({"allOf": [{"anyOf": [{"type": "string"}, {"type": "number"}]}, {"type": "string"}]})
            ),
            "(string | number) & string"
        );
        assert_eq!(
            ts(json!({"type": "array", "items": {"oneOf": [{"const": 1}, {"const": 2}]}})),
            "(1 | 2)[]"
        );
        assert_eq!(ts(json!({"anyOf": [{"type": "string"}, {}]})), "unknown");
    }

    #[test]
    fn references() {
        let doc = json!({
            "$defs": {
                "node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/node"}}},
                "a": {"anyOf": [{"$ref": "#/$defs/b"}, {"type": "string"}]},
                "b": {"$ref": "#/$defs/a"}
            },
            "properties": {"x": {"$ref": "#/properties/y"}, "y": {"$ref": "#/properties/x"}}
        });
        let mut scope = Scope::new(&doc);
        for key in ["node", "a", "b"] {
            scope.define(pointer::child("#/$defs", key), key.to_uppercase());
        }
        assert_eq!(
            scope.declaration("#/$defs/node", 0).as_deref(),
            Some("type NODE = {\n    next?: NODE;\n};\n")
        );
        // A cycle through unions alone is broken with `unknown`.
        assert_eq!(
            scope.declaration("#/$defs/a", 0).as_deref(),
            Some("type A = unknown;\n")
        );
        assert_eq!(scope.type_expression(&json!({"$ref": "#/$defs/a"}), 0), "A");
        assert_eq!(
            scope.type_expression(&json!({"$ref": "#/properties/x"}), 0),
            "unknown"
        );
        assert_eq!(
            scope.type_expression(&json!({"$ref": "other.json#/a"}), 0),
            "unknown"
        );
        assert_eq!(
            scope.closure([&json!({"$ref": "#/$defs/b"})]),
            ["#/$defs/b", "#/$defs/a"]
        );
    }

    #[test]
    fn percent_encoded_references() {
        assert_eq!(decode("#/a%7Bb%7D"), "#/a{b}");
        assert_eq!(decode("#/100%"), "#/100%");
    }

    #[test]
    fn docs() {
        let schema = json!({
            "title": "T", "description": "D\nsecond", "deprecated": true,
            "format": "uri", "minimum": 1, "default": "x", "examples": [1, "two"]
        });
        let lines = doc_lines(&schema, false);
        assert_eq!(
            lines,
            [
                "T",
                "",
                "D",
                "second",
                "",
                "@deprecated",
                "@format uri",
                "@minimum 1",
                "@default x",
                "@example 1",
                "@example two"
            ]
        );
        // Brief: the first sentence, `@deprecated` and `@default` only.
        assert_eq!(doc_lines(&schema, true), ["D", "@deprecated", "@default x"]);
        let long = json!({ "description": format!("{}. More.", "word ".repeat(50)) });
        let brief = doc_lines(&long, true);
        assert!(
            brief[0].ends_with('…') && brief[0].chars().count() <= BRIEF_CHARS + 1,
            "{brief:?}"
        );
        let sentences = json!({ "title": "Ignored", "description": "One thing. Another thing." });
        assert_eq!(doc_lines(&sentences, true), ["One thing."]);
        assert_eq!(jsdoc(&["a */ b".to_owned()], 1), "    /** a *\\/ b */\n");
        assert_eq!(jsdoc(&[], 0), "");
    }
}
