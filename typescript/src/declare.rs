//! `declare namespace` blocks for connector methods described with JSON
//! Schema.
//!
//! Each method has an input schema and maybe an output schema, and each of
//! those is its own document: its `$defs` (or draft-07 `definitions`) and
//! `$ref`s belong to it. The named types of all documents share one namespace,
//! so a definition keeps its PascalCase key as its name when that is free, or
//! when an identical definition (same content, same definitions reachable from
//! it) already has it; otherwise it gets the method's name in front
//! (`GetIssueUser`), then a numeric suffix. A document that refers to itself
//! (`"$ref": "#"`) gets a name too (`GetIssueInput`, `GetIssueOutput`).

use std::fmt::Write as _;

use serde_json::Value;

use crate::MethodDescription;
use crate::names::{Taken, pascal_case, sanitize};
use crate::pointer;
use crate::schema::{INDENT, Scope, collect_refs, jsdoc};

/// `declare namespace <namespace> { ... }` with each method as a function
/// called by its identifier, and the named types of their schemas, shared
/// where they are the same. The caller gives the identifiers (from
/// [`Names`](crate::names::Names) over the whole namespace, so that a
/// partial listing never renames a method); the namespace is sanitized.
///
/// ```
/// use codemode_typescript::MethodDescription;
/// use codemode_typescript::declare::namespace_declaration;
/// use serde_json::json;
///
/// let method = MethodDescription::new("get-issue", "Gets an issue.").input_schema(
///     json!({"type": "object", "required": ["number"], "properties": {"number": {"type": "integer"}}}),
/// );
/// let ts = namespace_declaration("github", &[("get_issue", &method)]);
/// assert!(ts.contains("function get_issue(args: {\n        number: number;\n    }): Promise<unknown>;"));
/// ```
pub fn namespace_declaration(namespace: &str, methods: &[(&str, &MethodDescription)]) -> String {
    let mut plan = Plan::default();
    let body: String = methods
        .iter()
        .flat_map(|(identifier, method)| {
            let declared = plan.method(identifier, method);
            [declared.types, declared.function]
        })
        .collect();
    wrap(namespace, &body)
}

/// One method's part of a namespace: the named types it brings in, then its
/// function.
struct Declared {
    /// Declarations of named types first met in this method.
    types: String,
    /// The function with its JSDoc.
    function: String,
}

/// The declaration of one method, self-contained (with the named types it
/// needs) in its own `declare namespace` block, as `describe` shows it.
pub fn method_declaration(namespace: &str, identifier: &str, method: &MethodDescription) -> String {
    namespace_declaration(namespace, &[(identifier, method)])
}

/// `declare namespace <namespace> {` around `body`.
pub fn wrap(namespace: &str, body: &str) -> String {
    format!("declare namespace {} {{\n{body}}}\n", sanitize(namespace))
}

/// The `function` line for a method with its JSDoc, indented one level.
pub fn function(
    doc: &[String],
    identifier: &str,
    args: Option<(&str, bool)>,
    output: &str,
) -> String {
    let mut out = jsdoc(doc, 1);
    let params = match args {
        None => String::new(),
        Some((ty, true)) => format!("args: {ty}"),
        Some((ty, false)) => format!("args?: {ty}"),
    };
    let _ = writeln!(
        out,
        "{INDENT}function {identifier}({params}): Promise<{output}>;"
    );
    out
}

/// Whether a value must be passed for `schema`: it is not an object, or an
/// object with required properties.
pub fn requires_value(scope: &Scope<'_>, schema: &Value) -> bool {
    requires(scope, schema, 0)
}

fn requires(scope: &Scope<'_>, schema: &Value, depth: usize) -> bool {
    let Value::Object(map) = schema else {
        return false;
    };
    if depth > 16 {
        return false;
    }
    if let Some(Value::String(reference)) = map.get("$ref") {
        return scope
            .resolve(reference)
            .is_some_and(|t| requires(scope, t, depth + 1));
    }
    if map.get("nullable") == Some(&Value::Bool(true)) {
        return false;
    }
    let has_required = matches!(map.get("required"), Some(Value::Array(r)) if !r.is_empty());
    let branches = |key| match map.get(key) {
        Some(Value::Array(items)) if !items.is_empty() => Some(items),
        _ => None,
    };
    has_required
        || branches("allOf").is_some_and(|all| all.iter().any(|s| requires(scope, s, depth + 1)))
        || ["anyOf", "oneOf"].iter().any(|k| {
            branches(k).is_some_and(|any| any.iter().all(|s| requires(scope, s, depth + 1)))
        })
        || match map.get("type") {
            Some(Value::String(t)) => t != "object" && t != "null",
            Some(Value::Array(types)) => !types.iter().any(|t| t == "object" || t == "null"),
            _ => false,
        }
}

/// One schema document of a method, with the names given to its types.
struct Document<'m> {
    scope: Scope<'m>,
    /// References whose declarations this document writes, in order.
    declare: Vec<String>,
}

/// What makes two definitions the same: every definition reachable from it
/// (itself included), as `(reference, schema)` sorted by reference.
type Signature = Vec<(String, Value)>;

/// Type names handed out so far in a namespace, and which definitions they
/// stand for.
#[derive(Default)]
struct Plan {
    taken: Taken,
    /// `(reference, signature, name)` of every definition named so far.
    named: Vec<(String, Signature, String)>,
}

impl Plan {
    /// Types and function of one method.
    fn method(&mut self, identifier: &str, method: &MethodDescription) -> Declared {
        let prefix = pascal_case(&method.name);
        let input = self.document(&method.input_schema, &prefix, "Input");
        let output = method
            .output_schema
            .as_ref()
            .map(|schema| (schema, self.document(schema, &prefix, "Output")));
        let mut types = String::new();
        for doc in std::iter::once(&input).chain(output.as_ref().map(|(_, d)| d)) {
            for reference in &doc.declare {
                types.extend(doc.scope.declaration(reference, 1));
            }
        }
        let args = input.scope.type_expression(&method.input_schema, 1);
        let required = requires_value(&input.scope, &method.input_schema);
        let mut doc: Vec<String> = method
            .description
            .trim()
            .lines()
            .map(str::to_owned)
            .collect();
        let returns = output.as_ref().map_or_else(
            || "unknown".to_owned(),
            |(schema, document)| {
                if let Some(Value::String(text)) = schema.get("description") {
                    if !doc.is_empty() {
                        doc.push(String::new());
                    }
                    doc.push(format!("@returns {}", text.trim()));
                }
                document.scope.type_expression(schema, 1)
            },
        );
        Declared {
            types,
            function: function(&doc, identifier, Some((&args, required)), &returns),
        }
    }

    /// Names the definitions of one document (and the document itself, if it
    /// refers to itself).
    fn document<'m>(&mut self, root: &'m Value, prefix: &str, role: &str) -> Document<'m> {
        let mut definitions: Vec<(String, &str)> = Vec::new();
        for parent in ["$defs", "definitions"] {
            if let Some(Value::Object(defs)) = root.get(parent) {
                for key in defs.keys() {
                    definitions.push((pointer::child(&format!("#/{parent}"), key), key));
                }
            }
        }
        // Every definition under a placeholder name, to find what each
        // definition reaches.
        let mut all = Scope::new(root);
        for (reference, _) in &definitions {
            all.define(reference.clone(), reference.clone());
        }
        let mut scope = Scope::new(root);
        let mut declare = Vec::new();
        let mut refs = Vec::new();
        collect_refs(root, &mut refs);
        if refs.contains(&"#") {
            let name = self.taken.claim(format!("{prefix}{role}"));
            scope.define("#", name);
            declare.push("#".to_owned());
        }
        // Keys already in PascalCase keep their name before others are
        // converted to it, as in `Names`; declarations stay in input order.
        let mut order: Vec<usize> = (0..definitions.len()).collect();
        order.sort_by_key(|&i| pascal_case(definitions[i].1) != definitions[i].1);
        let mut names: Vec<Option<(String, bool)>> = vec![None; definitions.len()];
        for i in order {
            let (reference, key) = &definitions[i];
            let Some(schema) = all.resolve(reference) else {
                continue;
            };
            let mut signature: Signature = all
                .closure([schema])
                .into_iter()
                .chain([reference.clone()])
                .filter_map(|r| all.resolve(&r).map(|s| (r, s.clone())))
                .collect();
            signature.sort_by(|a, b| a.0.cmp(&b.0));
            signature.dedup_by(|a, b| a.0 == b.0);
            let same = self
                .named
                .iter()
                .find(|(k, s, _)| k == reference && *s == signature)
                .map(|(_, _, name)| (name.clone(), false));
            names[i] = Some(same.unwrap_or_else(|| {
                let mut wanted = pascal_case(key);
                if self.taken.contains(&wanted) {
                    wanted = format!("{prefix}{wanted}");
                }
                let name = self.taken.claim(wanted);
                self.named
                    .push((reference.clone(), signature, name.clone()));
                (name, true)
            }));
        }
        for ((reference, _), named) in definitions.iter().zip(names) {
            if let Some((name, new)) = named {
                if new {
                    declare.push(reference.clone());
                }
                scope.define(reference.clone(), name);
            }
        }
        Document { scope, declare }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shared_and_clashing_definitions() {
        let user = json!({"type": "object", "properties": {"login": {"type": "string"}}});
        let other_user = json!({"type": "object", "properties": {"id": {"type": "integer"}}});
        let method = |name: &str, user: &Value| {
            MethodDescription::new(name, "")
                .input_schema(json!({"$defs": {"user": user}, "$ref": "#/$defs/user"}))
        };
        let (a, b, c) = (
            method("a", &user),
            method("b", &user),
            method("c-d", &other_user),
        );
        let methods = [("a", &a), ("b", &b), ("c_d", &c)];
        let ts = namespace_declaration("ns", &methods);
        assert_eq!(ts.matches("type User = ").count(), 1, "{ts}");
        assert!(ts.contains("type CDUser = {"), "{ts}");
        assert!(
            ts.contains("function b(args?: User): Promise<unknown>;"),
            "{ts}"
        );
        assert!(
            ts.contains("function c_d(args?: CDUser): Promise<unknown>;"),
            "{ts}"
        );
    }

    #[test]
    fn self_reference_and_output() {
        let tree = json!({
            "description": "A tree",
            "type": "object",
            "required": ["children"],
            "properties": {"children": {"type": "array", "items": {"$ref": "#"}}}
        });
        let method = MethodDescription::new("delete", "Deletes.\nReally.")
            .input_schema(tree.clone())
            .output_schema(tree);
        let ts = method_declaration("my-ns", "delete_", &method);
        assert_eq!(
            ts,
            "declare namespace my_ns {
    /** A tree */
    type DeleteInput = {
        children: DeleteInput[];
    };
    /** A tree */
    type DeleteOutput = {
        children: DeleteOutput[];
    };
    /**
     * Deletes.
     * Really.
     *
     * @returns A tree
     */
    function delete_(args: {
        children: DeleteInput[];
    }): Promise<{
        children: DeleteOutput[];
    }>;
}
"
        );
    }

    #[test]
    fn optional_args() {
        let scope_doc = json!({"$defs": {"r": {"required": ["a"]}}});
        let scope = Scope::new(&scope_doc);
        for (schema, required) in [
            (json!({}), false),
            (json!({"type": "object"}), false),
            (json!({"required": ["a"]}), true),
            (json!({"type": "string"}), true),
            (json!({"type": ["string", "null"]}), false),
            (json!({"$ref": "#/$defs/r"}), true),
            (
                json!({"anyOf": [{"required": ["a"]}, {"required": ["b"]}]}),
                true,
            ),
            (json!({"anyOf": [{"required": ["a"]}, {}]}), false),
            (json!({"allOf": [{}, {"required": ["b"]}]}), true),
        ] {
            assert_eq!(requires_value(&scope, &schema), required, "{schema}");
        }
    }
}
