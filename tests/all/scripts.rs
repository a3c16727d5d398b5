//! What a script can do, through the embedding API: the shapes of code,
//! results, errors with positions, console, timers, the web globals, and
//! connectors (including running their calls concurrently).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use codemode_runtime::{
    Error, ErrorKind, Execution, GUEST_COMPONENT, Grants, LogEntry, LogLevel, Outcome, Runtime,
};
use serde_json::json;

use crate::support::{TestConnector, assert_ok, limits, run, run_with, test_grants};

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
async fn an_unknown_global_lists_the_granted_connectors() {
    let connector = TestConnector::new();
    let outcome =
        run_with(Execution::new("await gihub.get()").grants(test_grants(&connector))).await;
    let error = outcome.error.expect("a ReferenceError");
    assert_eq!(error.name, "ReferenceError");
    assert!(error.message.contains("gihub"), "{error:#?}");
    assert!(
        error.message.contains("the granted connectors are: test"),
        "{error:#?}"
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
async fn connectors_are_global_namespaces() {
    let connector = TestConnector::new();
    let code =
        "const r = await test.echo({ owner: 'o', n: 1 });\n({ r, keys: Object.keys(test).sort() })";
    let outcome = run_with(Execution::new(code).grants(test_grants(&connector))).await;
    assert_ok(&outcome);
    assert_eq!(
        outcome.result,
        Some(
            json!({ "r": { "owner": "o", "n": 1 }, "keys": ["big", "deep", "echo", "fail", "never", "sleep"] })
        )
    );
    assert_eq!(outcome.stats.connector_calls, 1);
    assert_eq!(connector.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promise_all_runs_connector_calls_concurrently() {
    let connector = TestConnector::new();
    let code = r#"
        const t = Date.now();
        const values = await Promise.all(
            Array.from({ length: 10 }, (_, i) => test.sleep({ ms: 100, value: i })),
        );
        ({ values, elapsed: Date.now() - t })
    "#;
    let started = Instant::now();
    let outcome = run_with(Execution::new(code).grants(test_grants(&connector))).await;
    let elapsed = started.elapsed();
    assert_ok(&outcome);
    let result = outcome.result.expect("a result");
    assert_eq!(result["values"], json!([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    assert!(
        elapsed < Duration::from_millis(300),
        "ten 100 ms calls took {elapsed:?}"
    );
    assert_eq!(connector.max_running.load(Ordering::SeqCst), 10);
}

/// One thread, 20 sandboxes each waiting 200 ms on a connector: they wait
/// together, which they could not if a waiting sandbox held its thread.
#[tokio::test(flavor = "current_thread")]
async fn a_waiting_sandbox_holds_no_thread() {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    let started = Instant::now();
    let runs = (0..20).map(|i| {
        let code = format!("await test.sleep({{ ms: 200, value: {i} }})");
        run_with(Execution::new(code).grants(Arc::clone(&grants)))
    });
    let outcomes = futures_join_all(runs).await;
    let elapsed = started.elapsed();
    for (i, outcome) in outcomes.iter().enumerate() {
        assert_eq!(outcome.result, Some(json!(i)), "{outcome:#?}");
    }
    assert_eq!(connector.max_running.load(Ordering::SeqCst), 20);
    assert!(
        elapsed < Duration::from_millis(1000),
        "20 waits of 200 ms on one thread took {elapsed:?}"
    );
}

/// Poll futures together on the current task, in order of their results.
async fn futures_join_all<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

#[tokio::test]
async fn a_connector_failure_rejects_with_a_connector_error() {
    let connector = TestConnector::new();
    let code = r#"
        try {
            await test.fail({ message: "upstream said no" });
        } catch (e) {
            ({ name: e.name, code: e.code, message: e.message, connector: e.connector, method: e.method, isError: e instanceof Error })
        }
    "#;
    let outcome = run_with(Execution::new(code).grants(test_grants(&connector))).await;
    assert_ok(&outcome);
    assert_eq!(
        outcome.result,
        Some(json!({
            "name": "ConnectorError", "code": "connector", "message": "upstream said no",
            "connector": "test", "method": "fail", "isError": true
        }))
    );

    let outcome = run_with(
        Execution::new("await test.fail({ message: 'nope' })").grants(test_grants(&connector)),
    )
    .await;
    let error = outcome.error.expect("uncaught");
    assert_eq!(
        (error.kind, error.name.as_str(), error.message.as_str()),
        (ErrorKind::Script, "ConnectorError", "nope")
    );
}

#[tokio::test]
async fn stats_report_what_the_run_cost() {
    let connector = TestConnector::new();
    let code = "const big = new Array(100000).fill('x'); await test.echo({}); await test.echo({}); big.length";
    let outcome = run_with(Execution::new(code).grants(test_grants(&connector))).await;
    assert_ok(&outcome);
    assert_eq!(outcome.result, Some(json!(100000)));
    assert_eq!(outcome.stats.connector_calls, 2);
    assert!(outcome.stats.fuel_used > 0);
    assert!(
        outcome.stats.peak_memory_bytes >= 1 << 20,
        "{:?}",
        outcome.stats
    );
    assert!(outcome.stats.wall_time > Duration::ZERO);
}

#[test]
fn grants_refuse_names_a_script_cannot_use() {
    let connector = TestConnector::new();
    for name in ["1abc", "my-api", "class", "console", "Math", ""] {
        let result = Grants::new().grant(name, connector.clone());
        assert!(
            matches!(result, Err(Error::ConnectorName { .. })),
            "`{name}` was accepted"
        );
    }
    let twice = Grants::new()
        .grant("a", connector.clone())
        .and_then(|g| g.grant("a", connector.clone()));
    assert!(
        matches!(twice, Err(Error::ConnectorName { reason, .. }) if reason.contains("already"))
    );
}

#[tokio::test]
async fn no_connector_may_shadow_a_global_of_the_sandbox() {
    let outcome = run("Object.getOwnPropertyNames(globalThis)").await;
    let globals: Vec<String> =
        serde_json::from_value(outcome.result.expect("a list")).expect("strings");
    assert!(globals.len() > 50, "{globals:?}");
    let connector = TestConnector::new();
    for global in globals.iter().filter(|g| g.as_str() != "test") {
        let result = Grants::new().grant(global, connector.clone());
        assert!(
            matches!(result, Err(Error::ConnectorName { .. })),
            "a connector may shadow `{global}`"
        );
    }
}

#[tokio::test]
async fn a_memory_cap_above_the_runtime_maximum_is_refused() {
    let execution = Execution::new("1").limits(limits(|l| l.memory_bytes = 64 << 30));
    let error = crate::support::RUNTIME
        .execute(execution)
        .await
        .expect_err("too much memory");
    assert!(
        matches!(
            error,
            Error::LimitTooHigh {
                limit: "memory_bytes",
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn a_memory_cap_below_the_initial_heap_is_a_memory_error() {
    let outcome = run_with(Execution::new("1").limits(limits(|l| l.memory_bytes = 1 << 20))).await;
    assert_eq!(
        outcome.error_kind(),
        Some(ErrorKind::Memory),
        "{outcome:#?}"
    );
}

#[tokio::test]
async fn a_full_pool_refuses_to_start_a_run() -> Result<()> {
    let runtime = Runtime::with_config(&{
        let mut config = codemode_runtime::RuntimeConfig::default();
        config.max_sandboxes = 1;
        config
    })?;
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    let holder = runtime.execute(Execution::new("await test.sleep({ ms: 300 })").grants(grants));
    let second = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        runtime.execute(Execution::new("1")).await
    };
    let (held, refused) = tokio::join!(holder, second);
    assert!(held?.ok());
    assert!(matches!(refused, Err(Error::Instantiate(_))), "{refused:?}");
    Ok(())
}

#[test]
fn the_runtime_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Runtime>();
}

#[test]
fn the_guest_component_imports_no_sockets_filesystem_or_http() -> Result<()> {
    let mut imports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(GUEST_COMPONENT) {
        if let wasmparser::Payload::ComponentImportSection(section) = payload? {
            for import in section {
                // Interfaces (`ns:pkg/iface`) are capabilities; plain names
                // are the world's own types.
                let name = import?.name.name;
                if name.contains(':') {
                    imports.push(name.to_owned());
                }
            }
        }
    }
    for expected in ["codemode:sandbox/host@", "codemode:sandbox/documents@"] {
        assert!(
            imports.iter().any(|i| i.starts_with(expected)),
            "{expected} not imported: {imports:?}"
        );
    }
    let allowed = [
        "codemode:sandbox/host@",
        "codemode:sandbox/catalog@",
        "codemode:sandbox/documents@",
        "wasi:clocks/",
        "wasi:random/",
        "wasi:io/",
        "wasi:cli/",
    ];
    for import in &imports {
        assert!(
            allowed.iter().any(|prefix| import.starts_with(prefix)),
            "unexpected import `{import}`"
        );
    }
    for forbidden in ["wasi:sockets", "wasi:filesystem", "wasi:http"] {
        assert!(
            !imports.iter().any(|i| i.starts_with(forbidden)),
            "{forbidden} imported: {imports:?}"
        );
    }
    Ok(())
}

fn raw(value: serde_json::Value) -> Arc<serde_json::value::RawValue> {
    Arc::from(serde_json::value::to_raw_value(&value).expect("serializable"))
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
        match crate::support::RUNTIME.execute(execution).await {
            Err(Error::GlobalName {
                name: refused,
                reason: why,
            }) => {
                assert_eq!(refused, name);
                assert!(why.starts_with(reason), "{name}: {why}");
            }
            other => panic!("{name} was not refused: {other:?}"),
        }
    }
}
