//! The granted methods as a listing for a person or a program: what
//! `codemode types` prints, as TypeScript, JSON or a markdown summary.
//!
//! It is the catalog `codemode.search` ranks and `codemode.describe` reads
//! ([`discovery`](crate::discovery)), not a second one: a listing narrowed by
//! a query holds the methods `codemode.search` would find for it, in its
//! order, and a JSON listing holds entries of the shape `codemode.describe`
//! returns.

use std::fmt::Write as _;
use std::str::FromStr;

use codemode_typescript::schema::property_key;
use serde_json::Value;

use crate::connector::MethodDescription;
use crate::discovery::{Discovery, Entry, declaration, described};

/// How to render a catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CatalogFormat {
    /// One `declare namespace` block per namespace, with the named types
    /// its listed methods need.
    Typescript,
    /// A JSON array of methods, each as `codemode.describe` returns it.
    Json,
    /// Markdown: a `## namespace` heading per namespace, then one line per
    /// method.
    Summary,
}

impl FromStr for CatalogFormat {
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

/// Summary lines keep at most this many characters of a description.
const SUMMARY_CHARS: usize = 160;

/// A listed method with its grant.
type Listed<'d> = (&'d Entry, &'d MethodDescription);

impl Discovery {
    /// Every method in grant order, or the best `limit` for `query` in the
    /// order `codemode.search` gives them, rendered in `format`.
    pub(crate) fn render(
        &self,
        format: CatalogFormat,
        query: Option<&str>,
        limit: usize,
    ) -> String {
        let entries: Vec<&Entry> = match query {
            Some(query) => self.rank(query, limit),
            None => self.entries.iter().collect(),
        };
        let listed: Vec<Listed<'_>> = entries
            .into_iter()
            .filter_map(|entry| Some((entry, entry.method()?)))
            .collect();
        match format {
            CatalogFormat::Json => {
                let described: Vec<Value> = listed
                    .iter()
                    .map(|(entry, method)| described(entry, method))
                    .collect();
                Value::Array(described).to_string() + "\n"
            }
            CatalogFormat::Typescript => by_namespace(&listed)
                .iter()
                .map(|methods| declaration(methods))
                .collect::<Vec<_>>()
                .join("\n"),
            CatalogFormat::Summary => {
                let mut out = String::new();
                for methods in by_namespace(&listed) {
                    if !out.is_empty() {
                        out.push('\n');
                    }
                    let _ = writeln!(out, "## {}\n", methods[0].0.namespace);
                    for (entry, method) in methods {
                        out.push_str(&summary_line(entry, method));
                    }
                }
                out
            }
        }
    }
}

/// The listed methods grouped by namespace, namespaces in the order of
/// their first method.
fn by_namespace<'d>(listed: &[Listed<'d>]) -> Vec<Vec<Listed<'d>>> {
    let mut groups: Vec<Vec<Listed<'d>>> = Vec::new();
    for &(entry, method) in listed {
        match groups
            .iter_mut()
            .find(|group| group[0].0.namespace == entry.namespace)
        {
            Some(group) => group.push((entry, method)),
            None => groups.push(vec![(entry, method)]),
        }
    }
    groups
}

/// `` - `ns.method({ a, b, … })` — `METHOD /path` — `` the first sentence of
/// its description, and ` (deprecated)` when it is. Arguments listed are
/// the required ones; `…` stands for optional ones.
fn summary_line(entry: &Entry, method: &MethodDescription) -> String {
    let mut line = format!(
        "- `{}{}`",
        entry.qualified_name(),
        arguments(&method.input_schema)
    );
    if let Some(path) = &method.path {
        let _ = write!(line, " — `{path}`");
    }
    let sentence = first_sentence(&method.description, SUMMARY_CHARS);
    if !sentence.is_empty() {
        let _ = write!(line, " — {sentence}");
    }
    if method.deprecated {
        line.push_str(" (deprecated)");
    }
    line.push('\n');
    line
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
        .filter(|key| required.contains(&key.as_str()))
        .map(|key| property_key(key))
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

/// The first sentence of `text`'s first line, cut to at most `max_chars`
/// characters (an ellipsis included) for a one-line listing.
pub(crate) fn first_sentence(text: &str, max_chars: usize) -> String {
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
    use crate::discovery::tests::discovery;
    use serde_json::json;

    #[test]
    fn a_query_lists_what_search_ranks_in_every_format() {
        let catalog = discovery(&[
            ("list-notes", "Lists the notes. All of them."),
            ("delete_repo", "Deletes a repository."),
            ("get_note", "Reads a note."),
        ]);
        let summary = catalog.render(CatalogFormat::Summary, Some("read note"), 5);
        assert_eq!(
            summary,
            "## github\n\n- `github.get_note(args?)` — Reads a note.\n- `github.list-notes(args?)` — Lists the notes.\n"
        );
        let everything = catalog.render(CatalogFormat::Summary, None, 5);
        assert_eq!(
            everything.lines().filter(|l| l.starts_with("- ")).count(),
            3
        );
        let limited = catalog.render(CatalogFormat::Summary, Some("note"), 1);
        assert_eq!(limited.lines().filter(|l| l.starts_with("- ")).count(), 1);

        let typescript = catalog.render(CatalogFormat::Typescript, Some("note"), 5);
        assert_eq!(typescript.matches("declare namespace github {").count(), 1);
        assert!(
            typescript.contains("function get_note(args?: {"),
            "{typescript}"
        );
        assert!(!typescript.contains("delete_repo"), "{typescript}");

        let json: Value =
            serde_json::from_str(&catalog.render(CatalogFormat::Json, Some("delete"), 5))
                .expect("a JSON listing");
        assert_eq!(json[0]["name"], "github.delete_repo");
        assert_eq!(
            json[0],
            crate::discovery::described(
                &catalog.entries[1],
                catalog.entries[1].method().expect("a method")
            )
        );
    }

    #[test]
    fn formats_parse() {
        assert_eq!("ts".parse(), Ok(CatalogFormat::Typescript));
        assert_eq!("json".parse(), Ok(CatalogFormat::Json));
        assert_eq!("summary".parse(), Ok(CatalogFormat::Summary));
        assert!("yaml".parse::<CatalogFormat>().is_err());
    }

    #[test]
    fn arguments_show_required_properties() {
        let schema = json!({"type": "object", "required": ["key", "a-b"],
            "properties": {"key": {}, "a-b": {}, "more": {}}});
        assert_eq!(arguments(&schema), "({ key, \"a-b\", … })");
        assert_eq!(arguments(&json!({"type": "object"})), "(args?)");
        assert_eq!(arguments(&json!({"type": "string"})), "(args)");
        assert_eq!(arguments(&json!({"properties": {}})), "()");
    }

    #[test]
    fn sentences() {
        assert_eq!(
            first_sentence("Gets a repo. Needs a token.", 80),
            "Gets a repo."
        );
        assert_eq!(first_sentence("abcdef", 4), "abc…");
        assert_eq!(first_sentence("  One line\nanother", 80), "One line");
    }
}
