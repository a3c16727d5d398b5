//! The two tools as a client lists them. Their descriptions teach the
//! workflow (search, then execute) and name the namespaces; they are fitted
//! to [`TOOL_LIST_BUDGET`](crate::TOOL_LIST_BUDGET) tokens whatever the
//! number of connectors and operations behind them.

use std::sync::Arc;

use codemode_runtime::Limits;
use rmcp::model::{JsonObject, Tool};
use serde_json::json;

use crate::tokens::TokenCounter;

/// One namespace, as the descriptions name it.
pub(crate) struct Namespace {
    pub(crate) name: String,
    pub(crate) methods: usize,
    /// Whether `search` code gets its description as `spec.<name>` (an
    /// HTTP API's).
    pub(crate) spec: bool,
}

/// The tools' names.
pub(crate) const SEARCH: &str = "search";
pub(crate) const EXECUTE: &str = "execute";

/// `search` and `execute`, with the namespaces listed in full when that
/// fits the budget, else as many as fit and a count of the rest.
pub(crate) fn tools(
    namespaces: &[Namespace],
    limits: &Limits,
    max_output_tokens: usize,
    budget: usize,
    counter: &TokenCounter,
    durable: bool,
) -> Vec<Tool> {
    let mut listed = namespaces.len();
    loop {
        let tools = [
            Tool::new(
                SEARCH,
                search_description(namespaces, listed),
                code_schema(SEARCH, durable),
            ),
            Tool::new(
                EXECUTE,
                execute_description(namespaces, listed, limits, max_output_tokens),
                code_schema(EXECUTE, durable),
            ),
        ];
        if listed == 0 || tool_list_tokens(counter, &tools) <= budget {
            return tools.into();
        }
        listed = listed.saturating_sub(listed.div_ceil(4).max(1));
    }
}

/// The o200k tokens of a `tools/list` result holding `tools`, as a client
/// receives it: what a tool list costs an agent's context.
pub fn tool_list_tokens(counter: &TokenCounter, tools: &[impl serde::Serialize]) -> usize {
    counter.count(&serde_json::to_string(&json!({ "tools": tools })).unwrap_or_default())
}

/// `{ code: string }`, described for `tool`; for a durable `execute`,
/// `{ code } | { run }`.
fn code_schema(tool: &str, durable: bool) -> Arc<JsonObject> {
    let description = if tool == SEARCH {
        "TypeScript or JavaScript that looks through `tools` and returns what you need"
    } else {
        "TypeScript or JavaScript that calls the namespaces and returns the result"
    };
    let schema = if durable && tool == EXECUTE {
        json!({
            "type": "object",
            "properties": {
                "code": { "type": "string", "description": description },
                "run": { "type": "string", "description": "A pending run's id: wait for its result instead" },
            },
            "additionalProperties": false,
        })
    } else {
        json!({
            "type": "object",
            "properties": { "code": { "type": "string", "description": description } },
            "required": ["code"],
            "additionalProperties": false,
        })
    };
    match schema {
        serde_json::Value::Object(object) => Arc::new(object),
        _ => Arc::default(),
    }
}

/// `memory (9 operations), files (14 operations)`, the first `listed` of
/// them, then how many more there are.
fn namespace_list(namespaces: &[Namespace], listed: usize) -> String {
    if namespaces.is_empty() {
        return "none (no connectors are configured)".into();
    }
    let mut text = namespaces
        .iter()
        .take(listed)
        .map(|n| {
            let plural = if n.methods == 1 { "" } else { "s" };
            format!("`{}` ({} operation{plural})", n.name, n.methods)
        })
        .collect::<Vec<_>>()
        .join(", ");
    let rest = namespaces.len() - listed.min(namespaces.len());
    if rest > 0 {
        if !text.is_empty() {
            text.push_str(", and ");
        }
        text.push_str(&format!(
            "{rest} more (list them with `[...new Set(tools.map((t) => t.name.split('.')[0]))]`)"
        ));
    }
    text
}

fn search_description(namespaces: &[Namespace], listed: usize) -> String {
    let total: usize = namespaces.iter().map(|n| n.methods).sum();
    let spec = match namespaces.iter().find(|n| n.spec) {
        Some(api) => format!(
            "\n- `spec`: each HTTP API's OpenAPI description by namespace \
(`spec.{}.paths[\"/path\"].get`), `$ref`s resolved as you read them, cycles marked `$circular`.",
            api.name
        ),
        None => String::new(),
    };
    format!(
        "Find the operations to use before writing `execute` code. Your code (TypeScript or \
JavaScript: an async arrow function, or statements whose last expression is the result) runs in a \
sandbox holding a catalog of all {total} operations, and returns what you pick from it:
- `tools`: an array of `{{ name, description, declaration, inputSchema, outputSchema }}`, where \
`name` is `namespace.method` and `declaration` is its TypeScript signature with the types it uses.{spec}
- `codemode.search(query, {{ limit }})`: the operations that best match some words, best first \
(`[{{ name, description }}]`, at most 50).
- `codemode.describe(name, {{ expand }})`: one operation, with its declaration and schemas; \
named types it leaves undeclared are declared when listed in `expand`.
Return only what you need, e.g. the declarations of a few operations:
`async () => codemode.search(\"create issue\", {{ limit: 3 }}).map((t) => codemode.describe(t.name).declaration)`
Namespaces: {}.",
        namespace_list(namespaces, listed)
    )
}

fn execute_description(
    namespaces: &[Namespace],
    listed: usize,
    limits: &Limits,
    max_output_tokens: usize,
) -> String {
    let http = match namespaces.iter().find(|n| n.spec) {
        Some(api) => format!(
            " An HTTP API's operations take path, query and body fields in one object and \
resolve to `{{ data, status, headers }}` (`const {{ data }} = await …`); \
`{}.request({{ method, path, query, body }})` sends any other request and resolves to \
`{{ status, headers, body }}`.",
            api.name
        ),
        None => String::new(),
    };
    format!(
        "Run code that calls the operations `search` found. Each namespace is a global object \
whose methods take one argument object and return a promise: \
`const graph = await memory.read_graph({{}})`.{http} Write the whole task as one program (TypeScript or \
JavaScript; an async arrow function or statements with top-level await): loop, branch, run \
independent calls together with `Promise.all`, and return only what is needed, filtered and \
summarized in code. A failed call throws an Error with the server's message; catch it to carry on. \
`console.log` output comes back with the result. Each run starts fresh (nothing persists between \
runs), may take {} s, and its output is cut beyond about {max_output_tokens} tokens.
Namespaces: {}.",
        limits.timeout.as_secs(),
        namespace_list(namespaces, listed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn namespaces(count: usize) -> Vec<Namespace> {
        (0..count)
            .map(|i| Namespace {
                name: format!("server_number_{i}"),
                methods: 10 + i,
                spec: i % 2 == 1,
            })
            .collect()
    }

    #[test]
    fn the_tool_list_fits_its_budget_for_any_number_of_namespaces() {
        let counter = TokenCounter::o200k();
        let limits = Limits::default();
        for count in [0, 1, 3, 30, 300, 3_000] {
            let tools = tools(&namespaces(count), &limits, 6_000, 1_000, &counter, false);
            let used = tool_list_tokens(&counter, &tools);
            assert!(used <= 1_000, "{count} namespaces: {used} tokens");
            let execute = tools[1].description.as_deref().unwrap_or_default();
            if count == 3 {
                assert!(
                    execute.contains("`server_number_2` (12 operations)"),
                    "{execute}"
                );
            }
            if count == 3_000 {
                assert!(execute.contains("more (list them with"), "{execute}");
            }
        }
    }
}
