//! Several connectors' APIs together, rendered for an agent or a program.
//!
//! A [`Catalog`] holds one namespace per connector, each described by methods
//! with JSON Schemas or by an OpenAPI description, and renders them in one of
//! three [`Format`]s: TypeScript declarations, a JSON listing, or a compact
//! markdown summary (one line per method). Every renderer takes an optional
//! filter, a case-insensitive substring of a method's qualified name
//! (`github.repos_get`), original name, description, path or tags, so a
//! `describe`/`search` tool can show just what matches.
//!
//! Method identifiers come from the whole namespace, not the filtered part,
//! so a filter never renames a method.
//!
//! ```
//! use codemode_typescript::catalog::{Catalog, Format};
//! use codemode_typescript::declare::Method;
//! use serde_json::json;
//!
//! let mut catalog = Catalog::new();
//! catalog.add_methods("memory", vec![Method::new(
//!     "get-note",
//!     "Reads a note. Notes are text.",
//!     json!({"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}}}),
//!     None,
//! )]);
//! assert_eq!(
//!     catalog.render(Format::Summary, Some("NOTE")),
//!     "## memory\n\n- `memory.get_note({ key })` — Reads a note.\n"
//! );
//! ```

use std::fmt::Write as _;
use std::str::FromStr;

use serde_json::{Map, Value, json};

use crate::declare::{Method, declare_methods, wrap};
use crate::names::{Names, sanitize};
use crate::openapi::{Operation, REQUEST, Spec};

/// How to render a catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// `declare namespace` blocks ([`Catalog::typescript`]).
    Typescript,
    /// A JSON listing ([`Catalog::json`]).
    Json,
    /// Compact markdown ([`Catalog::summary`]).
    Summary,
}

impl FromStr for Format {
    type Err = String;

    /// `typescript` (or `ts`), `json` or `summary`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "typescript" | "ts" => Ok(Self::Typescript),
            "json" => Ok(Self::Json),
            "summary" => Ok(Self::Summary),
            other => Err(format!(
                "unknown format `{other}`: expected `typescript`, `json` or `summary`"
            )),
        }
    }
}

/// Connectors' APIs by namespace, in the order added.
#[derive(Debug, Default)]
pub struct Catalog {
    namespaces: Vec<Namespace>,
}

#[derive(Debug)]
struct Namespace {
    /// The namespace as an identifier.
    name: String,
    source: Source,
}

#[derive(Debug)]
enum Source {
    Methods { methods: Vec<Method>, names: Names },
    OpenApi(Box<Spec>),
}

/// One method or operation as the summary and JSON listings show it.
struct Entry<'a> {
    name: &'a str,
    original: &'a str,
    description: &'a str,
    input: Value,
    output: Option<&'a Value>,
    operation: Option<&'a Operation>,
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a namespace of methods described with JSON Schema. The namespace
    /// name is made an identifier (`my-api` → `my_api`).
    pub fn add_methods(&mut self, namespace: &str, methods: Vec<Method>) -> &mut Self {
        let names = Names::new(methods.iter().map(|m| m.name.as_str()));
        self.namespaces.push(Namespace {
            name: sanitize(namespace),
            source: Source::Methods { methods, names },
        });
        self
    }

    /// Adds a namespace described by an OpenAPI description.
    pub fn add_openapi(&mut self, namespace: &str, spec: Spec) -> &mut Self {
        self.namespaces.push(Namespace {
            name: sanitize(namespace),
            source: Source::OpenApi(Box::new(spec)),
        });
        self
    }

    /// Renders in `format` what matches `filter` (all of it when `None`).
    pub fn render(&self, format: Format, filter: Option<&str>) -> String {
        match format {
            Format::Typescript => self.typescript(filter),
            Format::Summary => self.summary(filter),
            Format::Json => {
                let mut text = self.json(filter).to_string();
                text.push('\n');
                text
            }
        }
    }

    /// One `declare namespace` block per namespace with a match. Unfiltered,
    /// an OpenAPI namespace declares all its component schemas; filtered, only
    /// those the matching operations need.
    pub fn typescript(&self, filter: Option<&str>) -> String {
        let filter = filter.map(str::to_lowercase);
        let blocks: Vec<String> = self
            .namespaces
            .iter()
            .filter_map(|namespace| namespace.typescript(filter.as_deref()))
            .collect();
        blocks.join("\n")
    }

    /// Markdown: a `## namespace` heading per namespace with a match, then
    /// one line per method: `` - `ns.method({ a, b, … })` — `` and the first
    /// sentence of its description (for an operation, `` `METHOD /path` ``
    /// and its summary). Arguments listed are the required ones; `…` stands
    /// for optional ones.
    pub fn summary(&self, filter: Option<&str>) -> String {
        let filter = filter.map(str::to_lowercase);
        let mut out = String::new();
        for namespace in &self.namespaces {
            let entries = namespace.entries(filter.as_deref());
            if entries.is_empty() {
                continue;
            }
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = writeln!(out, "## {}\n", namespace.name);
            for entry in entries {
                let _ = write!(
                    out,
                    "- `{}.{}{}`",
                    namespace.name,
                    entry.name,
                    arguments(&entry.input)
                );
                if let Some(op) = entry.operation {
                    let _ = write!(out, " — `{} {}`", op.method, op.path);
                }
                let sentence = first_sentence(entry.description, SUMMARY_CHARS);
                if !sentence.is_empty() {
                    let _ = write!(out, " — {sentence}");
                }
                if entry.operation.is_some_and(|op| op.deprecated) {
                    out.push_str(" (deprecated)");
                }
                out.push('\n');
            }
        }
        out
    }

    /// A JSON listing:
    /// `{"namespaces": [{"name", "declaration", "methods": [...], "schemas"}]}`
    /// where each method has `name` (the identifier), `original`,
    /// `description`, `inputSchema`, `outputSchema` (or `null`), and for an
    /// operation `http` (`method`, `path`, `operationId`, `tags`,
    /// `deprecated`); `declaration` is the namespace's TypeScript; an OpenAPI
    /// namespace's `schemas` holds the `components.schemas` entries the listed
    /// methods need, which their `$ref`s point at.
    pub fn json(&self, filter: Option<&str>) -> Value {
        let lowered = filter.map(str::to_lowercase);
        let mut namespaces = Vec::new();
        for namespace in &self.namespaces {
            let entries = namespace.entries(lowered.as_deref());
            if entries.is_empty() {
                continue;
            }
            let methods: Vec<Value> = entries
                .into_iter()
                .map(|entry| {
                    let mut method = json!({
                        "name": entry.name,
                        "original": entry.original,
                        "description": entry.description,
                        "inputSchema": entry.input,
                        "outputSchema": entry.output,
                    });
                    if let Some(op) = entry.operation {
                        method["http"] = json!({
                            "method": op.method,
                            "path": op.path,
                            "operationId": op.operation_id,
                            "tags": op.tags,
                            "deprecated": op.deprecated,
                        });
                    }
                    method
                })
                .collect();
            let mut listing = json!({
                "name": namespace.name,
                "declaration": namespace.typescript(lowered.as_deref()),
                "methods": methods,
            });
            if let Source::OpenApi(spec) = &namespace.source {
                let chosen = namespace.operations(spec, lowered.as_deref());
                let schemas: Map<String, Value> = spec
                    .schemas_for(&chosen)
                    .into_iter()
                    .map(|(key, schema)| (key.to_owned(), schema.clone()))
                    .collect();
                listing["schemas"] = Value::Object(schemas);
            }
            namespaces.push(listing);
        }
        json!({ "namespaces": namespaces })
    }
}

impl Namespace {
    /// The `declare namespace` block for what matches `filter` (lower case),
    /// or `None` if nothing does.
    fn typescript(&self, filter: Option<&str>) -> Option<String> {
        let body = match &self.source {
            Source::Methods { methods, names } => {
                let chosen = self.methods(methods, names, filter);
                if chosen.is_empty() {
                    return None;
                }
                declare_methods(names, &chosen)
                    .into_iter()
                    .flat_map(|d| [d.types, d.function])
                    .collect()
            }
            Source::OpenApi(spec) => {
                let chosen = self.operations(spec, filter);
                let request = filter.is_none_or(|f| self.qualified(REQUEST).contains(f));
                if chosen.is_empty() && !request {
                    return None;
                }
                let (types, functions) = spec.declare_operations(&chosen, filter.is_some());
                let request = if request {
                    Spec::request_declarations()
                } else {
                    String::new()
                };
                request + &types + &functions.concat()
            }
        };
        Some(wrap(&self.name, &body))
    }

    fn methods<'m>(
        &self,
        methods: &'m [Method],
        names: &Names,
        filter: Option<&str>,
    ) -> Vec<&'m Method> {
        methods
            .iter()
            .filter(|m| {
                let identifier = names.identifier(&m.name).unwrap_or(&m.name);
                filter.is_none_or(|f| {
                    self.qualified(identifier).contains(f)
                        || [&m.name, &m.description]
                            .iter()
                            .any(|t| t.to_lowercase().contains(f))
                })
            })
            .collect()
    }

    fn operations<'s>(&self, spec: &'s Spec, filter: Option<&str>) -> Vec<&'s Operation> {
        spec.operations()
            .iter()
            .filter(|op| {
                filter.is_none_or(|f| self.qualified(&op.name).contains(f) || op.matches(f))
            })
            .collect()
    }

    /// `namespace.identifier`, lower case, for filtering.
    fn qualified(&self, identifier: &str) -> String {
        format!("{}.{identifier}", self.name).to_lowercase()
    }

    fn entries(&self, filter: Option<&str>) -> Vec<Entry<'_>> {
        match &self.source {
            Source::Methods { methods, names } => self
                .methods(methods, names, filter)
                .into_iter()
                .map(|m| Entry {
                    name: names.identifier(&m.name).unwrap_or(&m.name),
                    original: &m.name,
                    description: &m.description,
                    input: m.input_schema.clone(),
                    output: m.output_schema.as_ref(),
                    operation: None,
                })
                .collect(),
            Source::OpenApi(spec) => self
                .operations(spec, filter)
                .into_iter()
                .map(|op| Entry {
                    name: &op.name,
                    original: op.operation_id.as_deref().unwrap_or(&op.name),
                    description: op
                        .summary
                        .as_deref()
                        .or(op.description.as_deref())
                        .unwrap_or_default(),
                    input: op.input_schema(),
                    output: op.output_schema(),
                    operation: Some(op),
                })
                .collect(),
        }
    }
}

/// `({ a, b, … })` from the top level of an input schema: required
/// properties by name, `…` if there are optional ones; `()` with none;
/// `(args)` when the schema is not a plain object.
fn arguments(schema: &Value) -> String {
    let Some(Value::Object(properties)) = schema.get("properties") else {
        return if schema.get("type").and_then(Value::as_str) == Some("object") {
            "(args?)".to_owned()
        } else {
            "(args)".to_owned()
        };
    };
    let required: Vec<&str> = match schema.get("required") {
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut shown: Vec<String> = properties
        .keys()
        .filter(|k| required.contains(&k.as_str()))
        .map(|k| crate::schema::property_key(k))
        .collect();
    if properties.len() > shown.len() {
        shown.push("…".to_owned());
    }
    if shown.is_empty() {
        "()".to_owned()
    } else {
        format!("({{ {} }})", shown.join(", "))
    }
}

/// Summary lines keep at most this many characters of a description.
const SUMMARY_CHARS: usize = 160;

/// The first sentence of `text`'s first line, cut to at most `max_chars`
/// characters (an ellipsis included) for a one-line listing.
///
/// ```
/// use codemode_typescript::catalog::first_sentence;
/// assert_eq!(first_sentence("Gets a repo. Needs a token.", 80), "Gets a repo.");
/// assert_eq!(first_sentence("abcdef", 4), "abc…");
/// ```
pub fn first_sentence(text: &str, max_chars: usize) -> String {
    let line = text.trim().lines().next().unwrap_or_default().trim();
    let end = line.find(". ").map_or(line.len(), |i| i + 1);
    let sentence = &line[..end];
    if sentence.chars().count() > max_chars {
        let cut: String = sentence.chars().take(max_chars.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    } else {
        sentence.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> anyhow::Result<Catalog> {
        let spec = Spec::parse(
            r##"{"openapi": "3.0.3", "paths": {"/repos/{owner}": {"get": {
                "operationId": "repos/list", "summary": "List repositories. More.", "tags": ["repos"],
                "parameters": [{"name": "owner", "in": "path", "schema": {"type": "string"}},
                               {"name": "page", "in": "query", "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json":
                    {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/repo"}}}}}}}}},
             "components": {"schemas": {"repo": {"type": "object"}, "unused": {"type": "string"}}}}"##,
        )?;
        let mut catalog = Catalog::new();
        catalog
            .add_methods(
                "my-memory",
                vec![
                    Method::new(
                        "get",
                        "Reads a value.\nMore.",
                        json!({"type": "object"}),
                        None,
                    ),
                    Method::new(
                        "set-it",
                        "",
                        json!({"type": "string"}),
                        Some(json!({"type": "null"})),
                    ),
                ],
            )
            .add_openapi("github", spec);
        Ok(catalog)
    }

    #[test]
    fn summary() -> anyhow::Result<()> {
        let catalog = catalog()?;
        assert_eq!(
            catalog.summary(None),
            "## my_memory\n\n\
             - `my_memory.get(args?)` — Reads a value.\n\
             - `my_memory.set_it(args)`\n\
             \n## github\n\n\
             - `github.repos_list({ owner, … })` — `GET /repos/{owner}` — List repositories.\n"
        );
        assert_eq!(
            catalog.summary(Some("SET_IT")),
            "## my_memory\n\n- `my_memory.set_it(args)`\n"
        );
        assert_eq!(catalog.summary(Some("github.")).lines().count(), 3);
        assert_eq!(catalog.summary(Some("/repos")).lines().count(), 3);
        assert_eq!(catalog.summary(Some("nothing like it")), "");
        Ok(())
    }

    #[test]
    fn typescript_filtered_keeps_names_and_needed_types() -> anyhow::Result<()> {
        let catalog = catalog()?;
        let all = catalog.typescript(None);
        assert!(all.contains("type Unused = string;"), "{all}");
        let some = catalog.render(Format::Typescript, Some("repos"));
        assert!(
            some.starts_with("declare namespace github {\n    /**\n     * What a call resolves to"),
            "{some}"
        );
        assert!(some.contains("    type Repo = {"), "{some}");
        assert!(!some.contains("Unused"), "{some}");
        assert!(!some.contains("function request("), "{some}");
        let request = catalog.render(Format::Typescript, Some("github.request"));
        assert!(
            request.contains("function request(args: HttpRequest)"),
            "{request}"
        );
        assert!(!request.contains("type Repo"), "{request}");
        assert!(
            catalog
                .typescript(Some("set"))
                .contains("function set_it(args: string): Promise<null>;")
        );
        Ok(())
    }

    #[test]
    fn json_listing() -> anyhow::Result<()> {
        let catalog = catalog()?;
        let listing = catalog.json(Some("repos"));
        let namespace = &listing["namespaces"][0];
        assert_eq!(namespace["name"], "github");
        assert_eq!(namespace["methods"][0]["name"], "repos_list");
        assert_eq!(namespace["methods"][0]["original"], "repos/list");
        assert_eq!(namespace["methods"][0]["http"]["path"], "/repos/{owner}");
        assert_eq!(
            namespace["methods"][0]["inputSchema"]["required"],
            json!(["owner"])
        );
        assert_eq!(namespace["schemas"], json!({"repo": {"type": "object"}}));
        assert!(
            namespace["declaration"]
                .as_str()
                .is_some_and(|d| d.contains("function repos_list("))
        );
        let text = catalog.render(Format::Json, None);
        assert_eq!(
            serde_json::from_str::<Value>(&text)?["namespaces"][0]["methods"][1]["outputSchema"],
            json!({"type": "null"})
        );
        Ok(())
    }

    #[test]
    fn formats_parse() {
        assert_eq!("ts".parse(), Ok(Format::Typescript));
        assert_eq!("summary".parse(), Ok(Format::Summary));
        assert!(
            "yaml"
                .parse::<Format>()
                .is_err_and(|e| e.contains("`yaml`"))
        );
    }

    #[test]
    fn sentences() {
        assert_eq!(first_sentence("One. Two.", SUMMARY_CHARS), "One.");
        assert_eq!(
            first_sentence("  First line\nnext", SUMMARY_CHARS),
            "First line"
        );
        assert_eq!(
            first_sentence(&"x".repeat(200), SUMMARY_CHARS)
                .chars()
                .count(),
            160
        );
    }
}
