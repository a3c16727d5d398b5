//! OpenAPI operations as TypeScript: the `declare namespace` block an
//! agent reads for an HTTP API.
//!
//! Each operation is a function taking one object (its parameters and
//! `body`) and resolving to `HttpResponse<T>`, `{ data: T, status, headers
//! }`, `T` the success response's type; `request` sends anything else. Every `components.schemas` entry an
//! operation needs becomes a named type, and `$ref`s to them stay names, so
//! a description as large as GitHub's (about 1,200 operations and 900
//! schemas) converts in well under a second.

use std::collections::HashSet;

use codemode_typescript::declare::{function, requires_value, wrap};
use codemode_typescript::schema::Scope;
use serde_json::{Map, Value};

use crate::contract::{http_response_declaration, request_declarations};
use crate::spec::{Operation, Spec};

impl Spec {
    /// `declare namespace <namespace> { ... }` with every
    /// `components.schemas` entry as a named type, `request` and every
    /// operation as a function.
    pub fn typescript(&self, namespace: &str) -> String {
        let operations: Vec<&Operation> = self.operations().iter().collect();
        let (types, functions) = self.declare_operations(&operations, false);
        wrap(
            namespace,
            &(request_declarations() + &types + &functions.concat()),
        )
    }

    /// `operations` (and `request`, when asked) together in one `declare
    /// namespace` block, with `HttpResponse` and the named types they need,
    /// directly or through other types: a listing of several operations
    /// that `tsc` can check on its own.
    pub fn declaration(&self, namespace: &str, operations: &[&Operation], request: bool) -> String {
        let (types, functions) = self.declare_operations(operations, true);
        let request = if request {
            request_declarations()
        } else {
            String::new()
        };
        wrap(namespace, &(request + &types + &functions.concat()))
    }

    /// What `describe` shows of `operation`: its function and the types it
    /// needs, brief. The types of its arguments in full (every named type
    /// they lead to); of its result, the named types it names itself, whose
    /// own named types are left as names. JSDoc is each description's first
    /// sentence, without examples or validation tags. A last line names
    /// the types left undeclared, and how to see them
    /// ([`types_declaration`](Self::types_declaration)).
    pub fn brief_declaration(&self, namespace: &str, operation: &Operation) -> String {
        let mut scope = self.scope();
        scope.brief();
        let input = operation.input_schema();
        let mut declared = scope.closure([&input]);
        if let Some(output) = operation.output_schema() {
            for reference in scope.named_references(output) {
                if !declared.contains(&reference) {
                    declared.push(reference);
                }
            }
        }
        let hint = |names: &[&str]| {
            format!(
                "codemode.describe(\"{namespace}.{}\", {{ expand: [\"{}\"] }}) adds one",
                operation.name,
                names.first().copied().unwrap_or_default()
            )
        };
        let body =
            self.declare_types(&scope, &declared, &hint) + &self.function(&scope, operation, true);
        wrap(namespace, &(http_response_declaration() + &body))
    }

    /// The named types called `names` (as declarations name them), brief,
    /// each with the named types it refers to left as names; `None` when
    /// one is not a type of the description.
    pub fn types_declaration(&self, namespace: &str, names: &[&str]) -> Option<String> {
        let mut scope = self.scope();
        scope.brief();
        let declared: Vec<String> = names
            .iter()
            .map(|name| {
                self.types
                    .iter()
                    .find(|(_, type_name)| type_name == name)
                    .map(|(reference, _)| reference.clone())
            })
            .collect::<Option<_>>()?;
        let hint = |names: &[&str]| {
            let first = names.first().copied().unwrap_or_default();
            format!("codemode.describe(\"{namespace}.{first}\") declares one")
        };
        Some(wrap(
            namespace,
            &self.declare_types(&scope, &declared, &hint),
        ))
    }

    /// The declarations of the named types at `declared` (references), in
    /// the description's order, then a comment naming those they refer to
    /// that are not among them, with `how` to see them.
    fn declare_types(
        &self,
        scope: &Scope,
        declared: &[String],
        how: &dyn Fn(&[&str]) -> String,
    ) -> String {
        let mut out = String::new();
        let mut undeclared: Vec<String> = Vec::new();
        for (reference, _) in self.types.iter().filter(|(r, _)| declared.contains(r)) {
            if let Some(declaration) = scope.declaration(reference, 1) {
                out.push_str(&declaration);
            }
            let Some(schema) = scope.resolve(reference) else {
                continue;
            };
            for named in scope.named_references(schema) {
                if !declared.contains(&named) && !undeclared.contains(&named) {
                    undeclared.push(named);
                }
            }
        }
        let names: Vec<&str> = undeclared
            .iter()
            .filter_map(|reference| scope.name(reference))
            .collect();
        if !names.is_empty() {
            out.push_str(&format!(
                "    // Not declared here: {}; {}.\n",
                names.join(", "),
                how(&names)
            ));
        }
        out
    }

    /// `HttpResponse` and the named types (all of them, or those
    /// `operations` need), and the function of each operation.
    fn declare_operations(
        &self,
        operations: &[&Operation],
        closure: bool,
    ) -> (String, Vec<String>) {
        let scope = self.scope();
        let inputs: Vec<Value> = operations.iter().map(|op| op.input_schema()).collect();
        let needed: Option<HashSet<String>> = closure.then(|| {
            let outputs = operations.iter().filter_map(|op| op.output_schema());
            scope
                .closure(inputs.iter().chain(outputs))
                .into_iter()
                .collect()
        });
        let types = self
            .types
            .iter()
            .filter(|(reference, _)| needed.as_ref().is_none_or(|n| n.contains(reference)))
            .filter_map(|(reference, _)| scope.declaration(reference, 1))
            .fold(http_response_declaration(), |all, one| all + &one);
        let functions = operations
            .iter()
            .map(|operation| self.function(&scope, operation, false))
            .collect();
        (types, functions)
    }

    /// The function of `operation`, its JSDoc brief or whole.
    fn function(&self, scope: &Scope, operation: &Operation, brief: bool) -> String {
        let input = operation.input_schema();
        let args = if input["properties"].as_object().is_some_and(Map::is_empty) {
            None
        } else {
            Some(scope.type_expression(&input, 1))
        };
        let required = requires_value(scope, &input);
        let body = match operation.output_schema() {
            Some(schema) => scope.type_expression(schema, 1),
            None => "null".to_owned(),
        };
        let output = format!("HttpResponse<{body}>");
        let args = args.as_deref().map(|a| (a, required));
        function(&doc(operation, brief), &operation.name, args, &output)
    }
}

/// `request` alone in a `declare namespace` block, with the types it needs.
pub(crate) fn request_declaration(namespace: &str) -> String {
    wrap(namespace, &request_declarations())
}

/// The JSDoc of an operation's function: summary, description, and tags
/// for its HTTP method and path, `operationId`, tags, deprecation and what
/// it returns. Brief: the summary (else the description's first line) and
/// the method and path, and deprecation.
fn doc(operation: &Operation, brief: bool) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    if brief {
        let said = operation
            .summary
            .as_deref()
            .or(operation.description.as_deref())
            .and_then(|text| text.lines().map(str::trim).find(|line| !line.is_empty()));
        lines.extend(said.map(str::to_owned));
        lines.push(format!("@see {} {}", operation.method, operation.path));
        if operation.deprecated {
            lines.push("@deprecated".to_owned());
        }
        return lines;
    }
    let paragraph = |lines: &mut Vec<String>, text: &str| {
        let text = text.trim();
        if !text.is_empty() {
            if !lines.is_empty() {
                lines.push(String::new());
            }
            lines.extend(text.lines().map(str::to_owned));
        }
    };
    if let Some(summary) = &operation.summary {
        paragraph(&mut lines, summary);
    }
    if let Some(description) = &operation.description {
        paragraph(&mut lines, description);
    }
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines.push(format!("@see {} {}", operation.method, operation.path));
    if let Some(id) = &operation.operation_id
        && *id != operation.name
    {
        lines.push(format!("@operationId {id}"));
    }
    if !operation.tags.is_empty() {
        lines.push(format!("@tags {}", operation.tags.join(", ")));
    }
    if operation.deprecated {
        lines.push("@deprecated".to_owned());
    }
    if let Some(description) = operation
        .response
        .as_ref()
        .and_then(|r| r.description.as_deref())
        && !description.trim().is_empty()
    {
        lines.push(format!("@returns {}", description.trim()));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::SpecError;
    use crate::spec::tests::PETS;

    #[test]
    fn declarations() -> Result<(), SpecError> {
        let spec = Spec::parse(PETS)?;
        let ts = spec.typescript("pets");
        assert!(
            ts.starts_with("declare namespace pets {\n    /** A request to any operation of the API. */\n    interface HttpRequest {"),
            "{ts}"
        );
        assert!(
            ts.contains("function request(args: HttpRequest): Promise<RequestResponse>;"),
            "{ts}"
        );
        assert!(ts.contains("    interface HttpResponse<T> {"), "{ts}");
        assert!(ts.contains("    type Pet = {\n"), "{ts}");
        assert!(ts.contains("friends?: Pet[];"), "{ts}");
        assert!(ts.contains("Sent as the `id` query parameter."), "{ts}");
        assert!(
            ts.contains("    function get_health(): Promise<HttpResponse<null>>;"),
            "{ts}"
        );
        assert!(
            ts.contains("@see DELETE /pets/{id}\n     * @deprecated"),
            "{ts}"
        );
        assert!(
            ts.contains("}): Promise<HttpResponse<string | null>>;"),
            "{ts}"
        );
        assert!(ts.contains("\"X-Trace\": string;"), "{ts}");
        let one = spec.declaration("pets", &[&spec.operations()[3]], false);
        assert!(!one.contains("type Pet"), "{one}");
        assert!(one.contains("interface HttpResponse<T>"), "{one}");
        assert!(!one.contains("interface HttpRequest"), "{one}");
        let one = spec.declaration("pets", &[&spec.operations()[2]], false);
        assert!(one.contains("type Pet"), "{one}");
        Ok(())
    }
}
