//! What a script can do, through the embedding API: the shapes of code,
//! results, errors with positions, console, timers, the web globals, and
//! the global values the host gives it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codemode_runtime::{ErrorKind, Execution, LogEntry, LogLevel, Outcome};
use serde_json::json;

use crate::support::{
    TestConnector, assert_global_refused, assert_ok, raw, run, run_with, test_grants,
};

fn texts(outcome: &Outcome) -> Vec<&str> {
    outcome
        .logs
        .iter()
        .map(|entry| entry.text.as_str())
        .collect()
}

#[tokio::test]
async fn a_script_returns_its_last_expression() {
    let outcome = run("const a = [1, 2, 3];\na.map((x) => x * 2)").await;
    assert_ok(&outcome);
    assert_eq!(outcome.result, Some(json!([2, 4, 6])));
}

#[tokio::test]
async fn a_script_may_await_at_top_level() {
    let outcome = run("const v = await Promise.resolve(20);\n({ v: v + 1 })").await;
    assert_ok(&outcome);
    assert_eq!(outcome.result, Some(json!({ "v": 21 })));
}

#[tokio::test]
async fn an_async_arrow_function_is_called_and_its_value_returned() {
    let outcome =
        run("async () => {\n  const x = await Promise.resolve('a');\n  return { x };\n}").await;
    assert_ok(&outcome);
    assert_eq!(outcome.result, Some(json!({ "x": "a" })));
}

#[tokio::test]
async fn a_module_returns_its_default_export() {
    let outcome = run("const n = await Promise.resolve(2);\nexport default { n };").await;
    assert_ok(&outcome);
    assert_eq!(outcome.result, Some(json!({ "n": 2 })));
}

#[tokio::test]
async fn only_import_and_export_statements_make_a_module() {
    // Words that merely start like the keywords do not.
    let outcome = run("const exported = 1; const important = 2;\nexported + important").await;
    assert_eq!(outcome.result, Some(json!(3)), "{outcome:#?}");
    // A script with top-level await keeps its last value (a module would not).
    let outcome = run("await null;\n'script'").await;
    assert_eq!(outcome.result, Some(json!("script")), "{outcome:#?}");
    let outcome = run("export const a = 1;\nexport default a + 1;").await;
    assert_eq!(outcome.result, Some(json!(2)), "{outcome:#?}");
}

#[tokio::test]
async fn results_keep_the_key_order_of_the_script() {
    let outcome = run("({ zebra: 1, apple: 2, mango: { y: 1, b: 2 } })").await;
    let text = serde_json::to_string(&outcome.result).expect("serializable");
    assert_eq!(text, r#"{"zebra":1,"apple":2,"mango":{"y":1,"b":2}}"#);
}

#[tokio::test]
async fn undefined_is_no_result() {
    let outcome = run("let x = 1;").await;
    assert_ok(&outcome);
    assert_eq!(outcome.result, None);
}

#[tokio::test]
async fn code_fences_are_ignored_and_lines_still_count_from_the_fence() {
    let outcome = run("```js\nconst a = 1;\nnull.boom;\n```").await;
    let error = outcome.error.expect("the script throws");
    assert_eq!(error.kind, ErrorKind::Script);
    assert_eq!(error.name, "TypeError");
    assert_eq!(error.line, Some(3), "{error:#?}");

    let outcome = run("```typescript\n40 + 2\n```\n").await;
    assert_eq!(outcome.result, Some(json!(42)));
}

#[tokio::test]
async fn a_syntax_error_names_its_line() {
    let outcome = run("const a = 1;\nconst b = ;\n").await;
    let error = outcome.error.expect("a syntax error");
    assert_eq!(
        (error.kind, error.name.as_str()),
        (ErrorKind::Script, "SyntaxError")
    );
    assert_eq!(
        (error.line, error.column),
        (Some(2), Some(11)),
        "{error:#?}"
    );
    assert!(
        error.message.to_lowercase().contains("unexpected token"),
        "{error:#?}"
    );
}

#[tokio::test]
async fn a_nul_character_in_the_code_is_a_syntax_error_naming_where() {
    let outcome = run("const a = 1;\nconst b = 'x\0';").await;
    let error = outcome.error.expect("refused");
    assert_eq!(
        (error.kind, error.name.as_str()),
        (ErrorKind::Script, "SyntaxError")
    );
    assert_eq!(
        (error.line, error.column),
        (Some(2), Some(13)),
        "{error:#?}"
    );
    assert!(error.message.contains("NUL"), "{error:#?}");
}

#[tokio::test]
async fn an_uncaught_error_names_its_line_and_column() {
    let outcome =
        run("const a = 1;\nfunction f() {\n  throw new RangeError('too far');\n}\nf();").await;
    let error = outcome.error.expect("the script throws");
    assert_eq!(
        (error.kind, error.name.as_str(), error.message.as_str()),
        (ErrorKind::Script, "RangeError", "too far")
    );
    // QuickJS places a `throw new X()` at the constructor's name.
    assert_eq!(
        (error.line, error.column),
        (Some(3), Some(13)),
        "{error:#?}"
    );
    assert!(error.stack.contains("agent.js:3:13"), "{error:#?}");
}

#[tokio::test]
async fn a_rejected_top_level_promise_is_a_script_error() {
    let outcome = run("await Promise.reject(new TypeError('no'))").await;
    let error = outcome.error.expect("the promise rejects");
    assert_eq!(
        (error.kind, error.name.as_str(), error.message.as_str()),
        (ErrorKind::Script, "TypeError", "no")
    );
}

#[tokio::test]
async fn console_levels_and_formatting_follow_node() {
    let code = r#"
        console.log("plain", 1, { a: [1, 2], b: "s" });
        console.info("%s is %d", "x", 42);
        console.warn(new Map([["k", 1]]));
        console.error([undefined, null]);
        console.debug(new Set([1]));
    "#;
    let outcome = run(code).await;
    assert_ok(&outcome);
    let levels: Vec<LogLevel> = outcome.logs.iter().map(|e| e.level).collect();
    assert_eq!(
        levels,
        [
            LogLevel::Log,
            LogLevel::Info,
            LogLevel::Warn,
            LogLevel::Error,
            LogLevel::Debug
        ]
    );
    assert_eq!(
        texts(&outcome),
        [
            "plain 1 { a: [ 1, 2 ], b: 's' }",
            "x is 42",
            "Map(1) { 'k' => 1 }",
            "[ undefined, null ]",
            "Set(1) { 1 }"
        ]
    );
}

#[tokio::test]
async fn console_lines_stream_to_the_sink_in_order() {
    let seen: Arc<Mutex<Vec<LogEntry>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let execution = Execution::new("for (let i = 0; i < 3; i++) console.log('line', i);")
        .on_log(move |entry| sink.lock().expect("not poisoned").push(entry.clone()));
    let outcome = run_with(execution).await;
    assert_ok(&outcome);
    let seen = seen.lock().expect("not poisoned");
    assert_eq!(
        seen.iter().map(|e| e.text.as_str()).collect::<Vec<_>>(),
        ["line 0", "line 1", "line 2"]
    );
    assert_eq!(*seen, outcome.logs);
}

#[tokio::test]
async fn timers_really_wait_and_can_be_cleared() {
    let code = r#"
        const start = Date.now();
        const order = [];
        const cancelled = setTimeout(() => order.push("cancelled"), 10);
        clearTimeout(cancelled);
        setTimeout(() => order.push("late"), 60);
        setTimeout(() => order.push("early"), 20);
        let ticks = 0;
        const interval = setInterval(() => { if (++ticks === 3) clearInterval(interval); }, 5);
        await new Promise((resolve) => setTimeout(resolve, 100));
        ({ order, ticks, waited: Date.now() - start >= 100 })
    "#;
    let started = Instant::now();
    let outcome = run(code).await;
    assert_ok(&outcome);
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(
        outcome.result,
        Some(json!({ "order": ["early", "late"], "ticks": 3, "waited": true }))
    );
}

#[tokio::test]
async fn web_globals_work() {
    let code = r#"
        const url = new URL("/a/b?x=1&y=two#h", "https://example.com:8080");
        url.searchParams.append("z", "3 4");
        const bytes = new TextEncoder().encode("héllo");
        const random = crypto.getRandomValues(new Uint8Array(16));
        const copy = structuredClone({ d: new Date(0), m: new Map([[1, 2]]) });
        ({
            href: url.href,
            host: url.host,
            y: url.searchParams.get("y"),
            bytes: bytes.length,
            text: new TextDecoder().decode(bytes),
            base64: btoa("hi!"),
            decoded: atob("aGkh"),
            uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(crypto.randomUUID()),
            random: random.length === 16 && random.some((b) => b !== 0),
            clone: [copy.d instanceof Date, copy.m.get(1)],
            params: new URLSearchParams({ a: "1", b: "x y" }).toString(),
        })
    "#;
    let outcome = run(code).await;
    assert_ok(&outcome);
    assert_eq!(
        outcome.result,
        Some(json!({
            "href": "https://example.com:8080/a/b?x=1&y=two&z=3+4#h",
            "host": "example.com:8080",
            "y": "two",
            "bytes": 6,
            "text": "héllo",
            "base64": "aGkh",
            "decoded": "hi!",
            "uuid": true,
            "random": true,
            "clone": [true, 2],
            "params": "a=1&b=x+y",
        }))
    );
}

#[tokio::test]
async fn a_global_value_is_readable_and_frozen_all_the_way_down() {
    let code = r#"
        "use strict";
        const changes = [];
        for (const attempt of [
            () => { catalog.tools[0].name = "changed"; },
            () => { catalog.tools.push({}); },
            () => { catalog = 1; },
            () => { delete globalThis.catalog; },
        ]) {
            try { attempt(); changes.push("allowed"); } catch (e) { changes.push(e.name); }
        }
        ({ names: catalog.tools.map((t) => t.name), count: catalog.count, changes })
    "#;
    let value = json!({ "tools": [{ "name": "a" }, { "name": "b" }], "count": 2 });
    let outcome = run_with(Execution::new(code).global("catalog", raw(value))).await;
    assert_ok(&outcome);
    assert_eq!(
        outcome.result,
        Some(json!({
            "names": ["a", "b"],
            "count": 2,
            "changes": ["TypeError", "TypeError", "TypeError", "TypeError"]
        }))
    );
}

#[tokio::test]
async fn a_global_cannot_take_a_used_or_invalid_name() {
    let connector = TestConnector::new();
    for (name, reason) in [
        ("test", "a connector is already granted under it"),
        ("JSON", "it would shadow a built-in global"),
        ("codemode", "it would shadow a built-in global"),
        ("not-a-name", "it must be a JavaScript identifier"),
        ("twice", "it is given twice"),
    ] {
        let mut execution = Execution::new("1")
            .grants(test_grants(&connector))
            .global(name, raw(json!(1)));
        if name == "twice" {
            execution = execution.global("twice", raw(json!(2)));
        }
        assert_global_refused(execution, name, reason).await;
    }
}
