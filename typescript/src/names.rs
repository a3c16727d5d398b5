//! Identifiers for names that come from outside: connector method names,
//! `operationId`s and schema keys.
//!
//! A connector may call a method `get-issue`, `2fa` or `delete`, and a schema
//! may be keyed `repository-advisory`; none of them can be written as a
//! JavaScript identifier. [`Names`] maps each original name to an identifier
//! and back, so the host can turn `github.get_issue(...)` into a call of the
//! connector's `get-issue`.
//!
//! The mapping is deterministic: an original that already is a valid
//! identifier keeps it, whatever comes before it; the others are sanitized in
//! input order, and a sanitized name that is taken gets `_2`, `_3`, ...
//!
//! Identifiers here are ASCII (`[A-Za-z_$][A-Za-z0-9_$]*`, not a reserved
//! word): JavaScript allows more, but ASCII names are the ones an agent types
//! reliably.

use std::collections::{HashMap, HashSet};

/// Words that cannot name a function or variable in strict-mode JavaScript or
/// in a TypeScript `declare namespace`.
const RESERVED: &[&str] = &[
    "arguments",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "eval",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// Type names the generated declarations use themselves, so a schema must not
/// shadow them inside the namespace.
const RESERVED_TYPES: &[&str] = &["Promise", "HttpResponse", "HttpRequest"];

/// Whether `name` is an ASCII JavaScript identifier that is not a reserved
/// word, so it can name a function in a `declare namespace` block.
pub fn is_identifier(name: &str) -> bool {
    is_identifier_name(name) && !RESERVED.contains(&name)
}

/// Whether `name` can be written bare as a property name (`{ delete: 1 }` is
/// fine: reserved words are allowed there).
pub(crate) fn is_identifier_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// `name` as an identifier: each run of other characters becomes one `_`, a
/// leading digit gets a `_` before it, a reserved word a `_` after it, and
/// the empty name becomes `_`.
///
/// ```
/// use codemode_typescript::names::sanitize;
/// assert_eq!(sanitize("get-issue"), "get_issue");
/// assert_eq!(sanitize("2fa"), "_2fa");
/// assert_eq!(sanitize("delete"), "delete_");
/// ```
pub fn sanitize(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    let mut replaced = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '$' {
            out.push(c);
            replaced = false;
        } else if !replaced {
            out.push('_');
            replaced = true;
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if RESERVED.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// `name` as a PascalCase type name: words split at characters that cannot be
/// in an identifier, each word's first letter capitalized, the rest kept.
///
/// ```
/// use codemode_typescript::names::pascal_case;
/// assert_eq!(pascal_case("repository-advisory"), "RepositoryAdvisory");
/// assert_eq!(pascal_case("issueComment"), "IssueComment");
/// assert_eq!(pascal_case("2fa"), "_2fa");
/// ```
pub fn pascal_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    for word in name.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if RESERVED_TYPES.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// A set of identifiers already given out, which hands out new ones with a
/// numeric suffix when the wanted one is taken.
#[derive(Debug, Default, Clone)]
pub struct Taken(HashSet<String>);

impl Taken {
    /// Claims `wanted`, or `wanted_2`, `wanted_3`, ... if it is taken.
    pub fn claim(&mut self, wanted: String) -> String {
        if self.0.insert(wanted.clone()) {
            return wanted;
        }
        let mut n = 2;
        loop {
            let candidate = format!("{wanted}_{n}");
            if self.0.insert(candidate.clone()) {
                return candidate;
            }
            n += 1;
        }
    }

    /// Whether `name` is taken.
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains(name)
    }

    /// Claims `name` exactly; false if it was taken.
    fn claim_exact(&mut self, name: &str) -> bool {
        self.0.insert(name.to_owned())
    }
}

/// A reversible map from original names to unique identifiers.
///
/// ```
/// use codemode_typescript::names::Names;
/// let names = Names::new(["get-issue", "a-b", "a_b", "delete"]);
/// assert_eq!(names.identifier("get-issue"), Some("get_issue"));
/// assert_eq!(names.identifier("a_b"), Some("a_b"));
/// assert_eq!(names.identifier("a-b"), Some("a_b_2"));
/// assert_eq!(names.original("delete_"), Some("delete"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// `(original, identifier)` in input order, without repeats.
    pairs: Vec<(String, String)>,
    by_original: HashMap<String, usize>,
    by_identifier: HashMap<String, usize>,
}

impl Names {
    /// Identifiers for method names ([`sanitize`]d), in input order; a name
    /// that is listed twice maps to one identifier.
    pub fn new<I, S>(originals: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::build(&[], originals, sanitize)
    }

    /// Like [`new`](Self::new), but no original gets an identifier in
    /// `reserved` (names the caller declares itself).
    ///
    /// ```
    /// use codemode_typescript::names::Names;
    /// let names = Names::avoiding(&["request"], ["request", "get"]);
    /// assert_eq!(names.identifier("request"), Some("request_2"));
    /// assert_eq!(names.original("request_2"), Some("request"));
    /// ```
    pub fn avoiding<I, S>(reserved: &[&str], originals: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::build(reserved, originals, sanitize)
    }

    /// PascalCase type names for schema keys ([`pascal_case`]), in input order.
    pub fn types<I, S>(originals: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Self::build(&[], originals, pascal_case)
    }

    fn build<I, S>(reserved: &[&str], originals: I, convert: fn(&str) -> String) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut unique: Vec<String> = Vec::new();
        let mut seen = HashSet::new();
        for original in originals {
            let original = original.as_ref();
            if seen.insert(original.to_owned()) {
                unique.push(original.to_owned());
            }
        }
        let converted: Vec<String> = unique.iter().map(|o| convert(o)).collect();
        let mut taken = Taken::default();
        for name in reserved {
            taken.claim_exact(name);
        }
        let mut identifiers: Vec<Option<String>> = vec![None; unique.len()];
        // Originals that need no change win over sanitized ones.
        for (i, (original, ident)) in unique.iter().zip(&converted).enumerate() {
            if original == ident && taken.claim_exact(ident) {
                identifiers[i] = Some(ident.clone());
            }
        }
        let mut names = Self::default();
        for ((original, ident), fixed) in unique.into_iter().zip(converted).zip(identifiers) {
            let identifier = fixed.unwrap_or_else(|| taken.claim(ident));
            let index = names.pairs.len();
            names.by_original.insert(original.clone(), index);
            names.by_identifier.insert(identifier.clone(), index);
            names.pairs.push((original, identifier));
        }
        names
    }

    /// The identifier for `original`, or `None` if it was not in the list.
    pub fn identifier(&self, original: &str) -> Option<&str> {
        self.by_original
            .get(original)
            .map(|&i| self.pairs[i].1.as_str())
    }

    /// The original name behind `identifier`, or `None` if no name maps to it.
    pub fn original(&self, identifier: &str) -> Option<&str> {
        self.by_identifier
            .get(identifier)
            .map(|&i| self.pairs[i].0.as_str())
    }

    /// `(original, identifier)` pairs in input order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(o, i)| (o.as_str(), i.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        for good in ["a", "_", "$", "getIssue", "a1", "$x_y"] {
            assert!(is_identifier(good), "{good}");
        }
        for bad in ["", "1a", "a-b", "a.b", "a b", "delete", "class", "é", "a/b"] {
            assert!(!is_identifier(bad), "{bad}");
        }
        assert!(is_identifier_name("delete"));
    }

    #[test]
    fn sanitizing() {
        assert_eq!(sanitize("get-issue"), "get_issue");
        assert_eq!(sanitize("repos/get-content"), "repos_get_content");
        assert_eq!(sanitize("a..b"), "a_b");
        assert_eq!(sanitize("a b c"), "a_b_c");
        assert_eq!(sanitize("2fa"), "_2fa");
        assert_eq!(sanitize(""), "_");
        assert_eq!(sanitize("-"), "_");
        assert_eq!(sanitize("class"), "class_");
        assert_eq!(sanitize("café"), "caf_");
        for name in ["get-issue", "2fa", "", "class", "x.y/z", "日本"] {
            assert!(is_identifier(&sanitize(name)), "{name}");
        }
    }

    #[test]
    fn pascal() {
        assert_eq!(pascal_case("simple-user"), "SimpleUser");
        assert_eq!(pascal_case("webhook.config url"), "WebhookConfigUrl");
        assert_eq!(pascal_case("snake_case"), "Snake_case");
        assert_eq!(pascal_case(""), "_");
        assert_eq!(pascal_case("Promise"), "Promise_");
        assert_eq!(pascal_case("delete"), "Delete");
    }

    #[test]
    fn table_is_reversible_and_collision_free() {
        let originals = ["a-b", "a_b", "a.b", "delete", "delete_", "2fa", "ok", "a-b"];
        let names = Names::new(originals);
        let pairs: Vec<_> = names.iter().collect();
        assert_eq!(
            pairs,
            [
                ("a-b", "a_b_2"),
                ("a_b", "a_b"),
                ("a.b", "a_b_3"),
                ("delete", "delete__2"),
                ("delete_", "delete_"),
                ("2fa", "_2fa"),
                ("ok", "ok"),
            ]
        );
        for (original, identifier) in names.iter() {
            assert!(is_identifier(identifier));
            assert_eq!(names.original(identifier), Some(original));
            assert_eq!(names.identifier(original), Some(identifier));
        }
        assert_eq!(names.identifier("missing"), None);
        assert_eq!(names.original("missing"), None);
    }

    #[test]
    fn type_table() {
        let names = Names::types(["repository-advisory", "RepositoryAdvisory", "user"]);
        assert_eq!(
            names.identifier("RepositoryAdvisory"),
            Some("RepositoryAdvisory")
        );
        assert_eq!(
            names.identifier("repository-advisory"),
            Some("RepositoryAdvisory_2")
        );
        assert_eq!(names.identifier("user"), Some("User"));
    }
}
