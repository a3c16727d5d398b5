//! What the model reads after a run: one JSON text with the result and the
//! console lines, or with the error (its kind, name, message, line, column
//! and a hint on what to do), cut to the token budget.

use codemode_runtime::{ErrorKind, ExecutionError, LogEntry, LogLevel, Outcome};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Map, Value, json};

use crate::output::fit;
use crate::tokens::TokenCounter;

/// The tool result for `outcome`: `isError` when the script failed.
pub(crate) fn tool_result(
    outcome: &Outcome,
    max_tokens: usize,
    counter: &TokenCounter,
) -> CallToolResult {
    let mut body = Map::new();
    match &outcome.error {
        None => {
            body.insert(
                "result".into(),
                outcome.result.clone().unwrap_or(Value::Null),
            );
        }
        Some(error) => {
            body.insert("error".into(), error_value(error));
        }
    }
    if !outcome.logs.is_empty() {
        body.insert("logs".into(), outcome.logs.iter().map(log_line).collect());
    }
    let fitted = fit(&Value::Object(body), max_tokens, counter);
    let content = vec![ContentBlock::text(fitted.text)];
    if outcome.error.is_some() {
        CallToolResult::error(content)
    } else {
        CallToolResult::success(content)
    }
}

/// A console line: its text, after `[warn]` and the like for any level but
/// `log` and `info`.
fn log_line(entry: &LogEntry) -> Value {
    match entry.level {
        LogLevel::Log | LogLevel::Info => Value::String(entry.text.clone()),
        level => Value::String(format!("[{}] {}", level.as_str(), entry.text)),
    }
}

fn error_value(error: &ExecutionError) -> Value {
    let mut value = json!({
        "kind": error.kind,
        "name": error.name,
        "message": error.message,
    });
    if let Some(line) = error.line {
        value["line"] = json!(line);
    }
    if let Some(column) = error.column {
        value["column"] = json!(column);
    }
    if let Some(hint) = hint(error) {
        value["hint"] = json!(hint);
    }
    value
}

/// What to do about `error`, when there is something useful to say.
fn hint(error: &ExecutionError) -> Option<&'static str> {
    Some(match error.kind {
        ErrorKind::Script if error.name == "SyntaxError" => {
            "The code did not run. Send TypeScript or JavaScript: an async arrow function, or statements whose last expression is the result."
        }
        ErrorKind::Script if error.name == "ReferenceError" => {
            "Only the namespaces listed in the tool description, `codemode` and the standard JavaScript globals exist; find operations with the `search` tool."
        }
        ErrorKind::Script if error.name == "ConnectorError" => {
            "An operation failed (the message is the server's). Check its arguments with `codemode.describe(name)` in `search`, or catch the error to carry on."
        }
        ErrorKind::Timeout => {
            "The code ran out of time. Run independent calls together with Promise.all, or do less per run."
        }
        ErrorKind::Fuel | ErrorKind::Stack => {
            "The code computed too much. Look for an endless loop or deep recursion."
        }
        ErrorKind::Memory => "The code used too much memory. Keep less data at once.",
        ErrorKind::Output => {
            "The result was too large. Return less: filter, slice or summarize it."
        }
        ErrorKind::Calls => {
            "The code made too many calls. Do the work in fewer runs or fewer calls."
        }
        ErrorKind::Rejected => {
            "A person rejected a call (the message gives their reason). Do not retry it as it was; catch ApprovalRejectedError to carry on without it."
        }
        ErrorKind::Denied => {
            "The approval policy forbids that operation. Do not retry it; catch CallDeniedError to carry on without it."
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use codemode_runtime::{Execution, Runtime};

    use super::*;

    fn text(result: &CallToolResult) -> Value {
        let text = result.content[0]
            .as_text()
            .map(|t| t.text.clone())
            .unwrap_or_default();
        serde_json::from_str(&text).expect("the text is JSON")
    }

    #[tokio::test]
    async fn a_success_has_the_result_and_the_logs_an_error_has_position_and_hint() {
        let runtime = Runtime::new().expect("runtime");
        let counter = TokenCounter::o200k();
        let run = |code: &'static str| runtime.execute(Execution::new(code));

        let outcome = run("console.log('step', 1); console.warn('careful'); ({ count: 15 })")
            .await
            .expect("runs");
        let result = tool_result(&outcome, 6_000, &counter);
        assert_eq!(result.is_error, Some(false));
        assert_eq!(
            text(&result),
            json!({ "result": { "count": 15 }, "logs": ["step 1", "[warn] careful"] })
        );

        let outcome = run("const a = 1;\nconst b = a +\n  github.x;")
            .await
            .expect("runs");
        let result = tool_result(&outcome, 6_000, &counter);
        assert_eq!(result.is_error, Some(true));
        let error = &text(&result)["error"];
        assert_eq!(error["kind"], "script");
        assert_eq!(error["name"], "ReferenceError");
        assert_eq!(error["line"], 3, "{error}");
        assert!(error["column"].is_u64(), "{error}");
        assert!(
            error["hint"]
                .as_str()
                .unwrap_or_default()
                .contains("`search`"),
            "{error}"
        );

        let mut limits = codemode_runtime::Limits::default();
        limits.timeout = std::time::Duration::from_millis(100);
        let outcome = runtime
            .execute(Execution::new("while (true) {}").limits(limits))
            .await;
        let result = tool_result(&outcome.expect("runs"), 6_000, &counter);
        let error = &text(&result)["error"];
        assert_eq!(error["kind"], "timeout", "{error}");
        assert!(
            error["hint"]
                .as_str()
                .unwrap_or_default()
                .contains("Promise.all"),
            "{error}"
        );
    }
}
