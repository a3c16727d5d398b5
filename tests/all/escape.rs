//! The escape and limits suite: hostile scripts against the sandbox.
//!
//! Every test here is an attack an agent could write, deliberately or by
//! accident, and asserts the one safe outcome: the exact `ErrorKind` that
//! stops it (or the exact result when the attack must simply not work),
//! that nothing leaks from one run into the next, that nothing outside the
//! grants can be reached, and that the host survives to run the next script.
//! The sandbox's promises are only as good as this list; a new way in gets a
//! new test here.
//!
//! Tests assert behaviour, not speed, with one exception the runtime
//! promises: an infinite loop is stopped within its deadline plus 50 ms.

use std::sync::atomic::Ordering;
use std::time::Instant;

use anyhow::{Context, Result};
use codemode_runtime::{
    ConnectorError, ErrorKind, Execution, ExecutionError, Limits, LogLevel, MethodDescription,
    Outcome,
};
use codemode_test_support::connector::{FnConnector, grant};
use serde_json::json;

use crate::support::outcome::*;
use crate::support::*;

// ---------------------------------------------------------------------------
// Computation that never ends: the deadline and fuel.
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn infinite_loop_is_stopped_within_the_deadline() {
    assert_stopped_at_the_deadline("while (true) {}", 200).await;
    assert_host_survives().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn infinite_loop_after_an_await_is_stopped_by_the_deadline() {
    let code = "async function spin() { await null; while (true) {} }\nawait spin();";
    assert_stopped_at_the_deadline(code, 200).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn infinite_loop_in_a_timer_callback_is_stopped_by_the_deadline() {
    // The only thing the script waits for is a timer that spins when it fires.
    let code = "await new Promise(() => setTimeout(() => { while (true) {} }, 0));";
    let outcome = assert_stopped_at_the_deadline(code, 200).await;
    // It was stopped spinning, not waiting: the callback burned fuel.
    assert!(
        outcome.stats.fuel_used > 10_000_000,
        "the timer never spun: {}",
        show(&outcome)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn infinite_loop_in_a_connector_reply_handler_is_stopped_by_the_deadline() {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    // `echo` replies at once, `sleep` after a wait: both paths of a reply.
    for call in ["test.echo({})", "test.sleep({ ms: 5 })"] {
        let code = format!("await {call}.then(() => {{ while (true) {{}} }});");
        assert_granted_stopped_at_the_deadline(&code, &grants, 200).await;
    }
    assert_eq!(connector.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn infinite_loop_while_serializing_the_result_is_stopped_by_the_deadline() {
    assert_stopped_at_the_deadline("({ toJSON() { while (true) {} } })", 200).await;
}

#[tokio::test]
async fn code_past_its_limit_does_not_start() {
    let code = "x".repeat(1025);
    let started = RUNTIME
        .execute(Execution::new(code).limits(limits(|l| l.code_bytes = 1024)))
        .await;
    assert!(
        matches!(
            started,
            Err(codemode_runtime::Error::CodeTooLarge {
                bytes: 1025,
                limit: 1024
            })
        ),
        "{started:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn catastrophic_regex_backtracking_is_stopped_by_the_deadline() {
    assert_stopped_at_the_deadline("/^(a+)+$/.test('a'.repeat(40) + 'b')", 300).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn promise_job_flood_is_stopped_by_the_deadline() {
    // Each job queues the next: the job queue never drains.
    let code = "function again() { Promise.resolve().then(again) }\nagain();";
    assert_stopped_at_the_deadline(code, 300).await;
}

#[tokio::test]
async fn microtask_flood_is_stopped_by_fuel() {
    let code = "function again() { queueMicrotask(again) }\nagain();";
    let outcome = run_limited(code, limits(|l| l.fuel = 50_000_000)).await;
    assert_kind(&outcome, ErrorKind::Fuel);
}

// ---------------------------------------------------------------------------
// Waiting forever.
// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn a_connector_call_that_never_replies_is_stopped_by_the_deadline() {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    let outcome = assert_granted_stopped_at_the_deadline("await test.never();", &grants, 200).await;
    assert_eq!(outcome.stats.connector_calls, 1, "{}", show(&outcome));
}

// ---------------------------------------------------------------------------
// Memory and the stack.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn string_memory_bomb_is_stopped_at_the_cap() {
    let cap = 64 << 20;
    let code = "const hoard = [];\nwhile (true) hoard.push('x'.repeat(1 << 20) + hoard.length);";
    let outcome = run_limited(code, limits(|l| l.memory_bytes = cap)).await;
    assert_kind(&outcome, ErrorKind::Memory);
    // The peak is what the limiter let the memory grow to: the bomb filled
    // the memory up to the cap (its strings are 1 MiB each), and no further.
    let peak = outcome.stats.peak_memory_bytes;
    assert!(
        peak > cap - (4 << 20) && peak <= cap,
        "the peak was {peak} bytes under a cap of {cap}: {}",
        show(&outcome)
    );
    assert_host_survives().await;
}

#[tokio::test]
async fn the_memory_peak_counts_what_a_run_allocated() {
    let small = run("new Uint8Array(1 << 20).fill(1).length").await;
    let large = run("new Uint8Array(24 << 20).fill(1).length").await;
    assert_result(&large, json!(24 << 20));
    let (small, large) = (small.stats.peak_memory_bytes, large.stats.peak_memory_bytes);
    assert!(
        large >= small + (23 << 20),
        "24 MiB more raised the peak from {small} to {large} bytes only"
    );
}

#[tokio::test]
async fn array_buffer_bomb_is_stopped_at_the_cap_even_when_caught() {
    // A gigabyte ArrayBuffer does not throw a catchable RangeError: growing
    // the memory past the cap stops the run.
    let code =
        "try { new ArrayBuffer(2 ** 30); 'allocated' } catch (error) { 'caught ' + error.name }";
    let outcome = run_limited(code, limits(|l| l.memory_bytes = 64 << 20)).await;
    assert_kind(&outcome, ErrorKind::Memory);
    assert_host_survives().await;
}

#[tokio::test]
async fn timer_flood_is_stopped_at_the_memory_cap() {
    let code = "for (let i = 0; i < 1e7; i++) setTimeout(() => {}, 1e9);\n'scheduled'";
    let outcome = run_limited(code, limits(|l| l.memory_bytes = 64 << 20)).await;
    assert_kind(&outcome, ErrorKind::Memory);
    assert_host_survives().await;
}

#[tokio::test]
async fn an_impossible_string_is_a_catchable_range_error() {
    let code = "try { 'x'.repeat(2 ** 30).length } catch (error) { [error.name, error.message] }";
    assert_result(
        &run(code).await,
        json!(["RangeError", "invalid string length"]),
    );
}

#[tokio::test]
async fn unbounded_recursion_overflows_the_stack_cleanly() {
    // The WebAssembly stack overflows before QuickJS's own stack check, so
    // this is the `Stack` limit, which no `catch` can intercept.
    for code in [
        "function f() { return f() }\nf()",
        "function f() { return f() }\ntry { f() } catch (error) { 'caught ' + error.name }",
    ] {
        assert_kind(&run(code).await, ErrorKind::Stack);
        assert_host_survives().await;
    }
}

#[tokio::test]
async fn deeply_nested_json_overflows_the_stack_cleanly() {
    for code in [
        "JSON.parse('['.repeat(1e6))",
        // Well-formed, 100,000 levels deep.
        "JSON.parse('['.repeat(1e5) + ']'.repeat(1e5))",
        "try { JSON.parse('{\"a\":'.repeat(1e5) + '1' + '}'.repeat(1e5)) } catch (error) { error.name }",
    ] {
        assert_kind(&run(code).await, ErrorKind::Stack);
        assert_host_survives().await;
    }
}

#[tokio::test]
async fn a_deeply_nested_connector_reply_is_refused_on_the_host() {
    // Serializing (and dropping) a value 100,000 levels deep recurses as
    // deep on the host: a connector's reply that deep must be refused, not
    // overflow the host's stack.
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    let code = "const caught = [];\n\
                for (const depth of [100000, 300]) {\n\
                  try { await test.deep({ depth }); caught.push('delivered') }\n\
                  catch (error) { caught.push(error.code) }\n\
                }\n\
                const shallow = await test.deep({ depth: 50 });\n\
                [caught, JSON.stringify(shallow).length]";
    let outcome = run_limited_granted(code, &grants, Limits::default()).await;
    assert_result(
        &outcome,
        json!([["reply-too-large", "reply-too-large"], 101]),
    );
    assert_host_survives().await;
}

// ---------------------------------------------------------------------------
// Output: console, result, errors.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn console_flood_is_cut_at_the_cap_with_a_marker() {
    let cap = 4096;
    let code = "for (let i = 0; i < 10000; i++) console.log('line', i);\n'done'";
    let outcome = run_limited(code, limits(|l| l.log_bytes = cap)).await;
    assert_result(&outcome, json!("done"));
    let Some((marker, kept)) = outcome.logs.split_last() else {
        panic!("the flood left no logs: {}", show(&outcome));
    };
    assert!(
        marker.level == LogLevel::Warn && marker.text.contains("truncated"),
        "the last entry is not the truncation marker: {marker:?}"
    );
    assert!(
        marker.text.len() < 256,
        "the marker itself is a flood: {marker:?}"
    );
    // The cap bounds what the script wrote; the runtime's marker comes on
    // top of it, and is small.
    let kept_bytes: usize = kept.iter().map(|entry| entry.text.len()).sum();
    assert!(
        kept_bytes <= cap,
        "{kept_bytes} bytes of the script's lines were kept; the cap is {cap}"
    );
    // Every line is at least `line 0`: no more of them than fit in the cap.
    assert!(
        kept.len() <= cap / "line 0".len() + 1,
        "{} entries were kept",
        kept.len()
    );
    assert_eq!(
        kept.first().map(|entry| entry.text.as_str()),
        Some("line 0"),
        "{}",
        show(&outcome)
    );
}

#[tokio::test]
async fn empty_console_lines_are_charged_against_the_cap() {
    // An empty line costs the host an entry all the same: without a charge
    // per line, `for (;;) console.log()` kept millions of them.
    let cap = 4096;
    let code = "let n = 0; for (; n < 1e6; n++) console.log(); n";
    let outcome = run_limited(code, limits(|l| l.log_bytes = cap)).await;
    assert_result(&outcome, json!(1_000_000));
    let marker = outcome.logs.last().expect("no marker");
    assert!(marker.text.contains("truncated"), "{marker:?}");
    assert!(
        outcome.logs.len() <= cap / 32 + 1,
        "{} empty lines were kept under a cap of {cap} bytes",
        outcome.logs.len()
    );
}

#[tokio::test]
async fn a_fifty_megabyte_console_line_is_cut_at_the_cap() {
    let cap = 256 << 10;
    let code = "console.log('x'.repeat(50e6)); console.log('after'); 'done'";
    let outcome = run_limited(
        code,
        limits(|l| {
            l.log_bytes = cap;
            l.memory_bytes = 512 << 20;
        }),
    )
    .await;
    assert_result(&outcome, json!("done"));
    let texts: Vec<&str> = outcome.logs.iter().map(|e| e.text.as_str()).collect();
    assert!(
        texts.len() == 2
            && texts[0].len() <= cap
            && texts[0].len() > cap / 2
            && texts[1].contains("truncated"),
        "{} lines of {:?} bytes",
        texts.len(),
        texts.iter().map(|t| t.len()).collect::<Vec<_>>()
    );
    assert_host_survives().await;
}

#[tokio::test]
async fn a_lone_surrogate_in_a_log_line_is_logged() {
    // Half of an emoji, as `slice` leaves it: a log line, not an exception.
    let outcome = run("console.log('😀'.slice(0, 1));\n'logged'").await;
    assert_result(&outcome, json!("logged"));
    let texts: Vec<&str> = outcome
        .logs
        .iter()
        .map(|entry| entry.text.as_str())
        .collect();
    assert_eq!(texts, ["\u{FFFD}"], "{}", show(&outcome));
}

#[tokio::test]
async fn oversized_result_is_refused() {
    let outcome = run_limited("'x'.repeat(5000)", limits(|l| l.result_bytes = 1000)).await;
    let error = assert_kind(&outcome, ErrorKind::Output);
    assert!(error.message.contains("1000"), "{}", show(&outcome));
    assert_eq!(outcome.result, None);
}

#[tokio::test]
async fn an_error_cannot_smuggle_out_more_than_the_result_cap() {
    // The error is output too: a huge message must not bypass `result_bytes`.
    let cap = 1000;
    let outcome = run_limited(
        "throw new Error('x'.repeat(5000))",
        limits(|l| l.result_bytes = cap),
    )
    .await;
    let error = assert_kind(&outcome, ErrorKind::Script);
    let bytes = error.name.len() + error.message.len() + error.stack.len();
    assert!(
        bytes <= cap,
        "the error carried {bytes} bytes out; the result cap is {cap}"
    );
}

/// Run `code`, whose result holds something JSON cannot, and check the error
/// says what and where.
async fn assert_unserializable(code: &str, what_and_where: &str) {
    let outcome = run(code).await;
    assert_script_error(&outcome, "TypeError", what_and_where);
}

#[tokio::test]
async fn a_function_in_the_result_is_an_error_naming_where() {
    assert_unserializable("({ a: { b: () => 1 } })", "a function at $.a.b").await;
}

#[tokio::test]
async fn a_bigint_in_the_result_is_an_error_naming_where() {
    assert_unserializable("({ a: { b: 1n } })", "a BigInt at $.a.b").await;
}

#[tokio::test]
async fn a_cycle_in_the_result_is_an_error_naming_where() {
    assert_unserializable(
        "const o = { a: {} };\no.a.b = o;\no",
        "a circular reference at $.a.b",
    )
    .await;
}

#[tokio::test]
async fn a_symbol_in_the_result_is_an_error_naming_where() {
    assert_unserializable("({ a: { b: Symbol('s') } })", "a symbol at $.a.b").await;
}

#[tokio::test]
async fn a_lone_surrogate_in_the_result_becomes_a_replacement_character() {
    // JSON.stringify would escape it as `\ud800`, which no Rust string can
    // hold: like TextEncoder, the sandbox makes the string well-formed.
    let outcome = run(r"({ s: 'a\ud800b' })").await;
    assert_result(&outcome, json!({ "s": "a\u{FFFD}b" }));
}

#[tokio::test]
async fn a_result_getter_that_throws_is_a_script_error() {
    let outcome = run("({ get a() { throw new Error('boom') } })").await;
    let error = assert_kind(&outcome, ErrorKind::Script);
    assert!(error.message.contains("boom"), "{}", show(&outcome));
}

#[tokio::test]
async fn thrown_number_is_a_script_error() {
    assert_script_error(&run("throw 42").await, "Error", "42");
}

#[tokio::test]
async fn thrown_null_is_a_script_error() {
    assert_script_error(&run("throw null").await, "Error", "null");
}

#[tokio::test]
async fn rejection_with_undefined_is_a_script_error() {
    assert_script_error(
        &run("await Promise.reject(undefined)").await,
        "Error",
        "undefined",
    );
}

/// The error of a run whose script threw something hostile: the script's
/// own error, never reported as a failure of the sandbox.
#[track_caller]
fn assert_scripts_own_error(outcome: &Outcome) -> &ExecutionError {
    let error = assert_kind(outcome, ErrorKind::Script);
    assert!(
        error.name != "InternalError" && !error.message.contains("sandbox failed"),
        "a hostile thrown value was reported as a sandbox failure: {}",
        show(outcome)
    );
    error
}

#[tokio::test]
async fn an_error_whose_message_getter_throws_is_a_script_error() {
    let outcome = run("throw { get message() { throw new Error('gotcha') } }").await;
    let error = assert_scripts_own_error(&outcome);
    assert!(error.message.contains("gotcha"), "{}", show(&outcome));
    assert_host_survives().await;
}

#[tokio::test]
async fn hostile_thrown_values_are_the_scripts_own_errors() {
    let cases = [
        // A Proxy whose every trap throws, a number or an error.
        (
            "throw new Proxy(new Error('x'), { get() { throw 1 } })",
            "Error",
            "threw: 1",
        ),
        (
            "throw new Proxy({}, { get() { throw new Error('trap') }, getPrototypeOf() { throw 2 }, ownKeys() { throw 3 } })",
            "Error",
            "trap",
        ),
        // Getters for `name` and `stack` that throw.
        (
            "const e = new Error('m'); Object.defineProperty(e, 'stack', { get() { throw 2 } }); throw e",
            "Error",
            "m",
        ),
        (
            "throw { message: 'm2', get name() { throw 3 } }",
            "Error",
            "m2",
        ),
        // Values that are not errors, and one whose inspection throws.
        ("throw Symbol('s')", "Error", "Symbol(s)"),
        (
            "throw new Proxy(function () {}, { get() { throw 4 }, getPrototypeOf() { throw 5 } })",
            "Error",
            "Uncaught",
        ),
        // A result whose getter throws each time it is read.
        (
            "({ get a() { throw 6 } })",
            "TypeError",
            "cannot be represented as JSON",
        ),
        // Lone surrogates, made well-formed.
        (
            "const e = new Error('a\\uD800b'); e.name = 'X\\uDC00'; throw e",
            "X\u{FFFD}",
            "a\u{FFFD}b",
        ),
    ];
    for (code, name, message) in cases {
        let outcome = run(code).await;
        let error = assert_scripts_own_error(&outcome);
        assert!(
            error.name == name && error.message.contains(message),
            "`{code}`: expected {name} with {message:?}: {}",
            show(&outcome)
        );
    }
    assert_host_survives().await;
}

// ---------------------------------------------------------------------------
// The outside world: nothing but the grants.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn host_apis_are_undefined() {
    let code = "['fetch', 'require', 'process', 'Deno', 'Bun', 'WebAssembly', 'XMLHttpRequest', \
                'WebSocket', 'importScripts', 'std', 'os', 'module', 'exports']\n\
                .filter((name) => eval(`typeof ${name}`) !== 'undefined')";
    assert_result(&run(code).await, json!([]));
}

#[tokio::test]
async fn calling_fetch_is_a_reference_error() {
    assert_script_error(
        &run("fetch('http://example.com')").await,
        "ReferenceError",
        "fetch is not defined",
    );
}

#[tokio::test]
async fn process_env_is_a_reference_error() {
    assert_script_error(
        &run("process.env").await,
        "ReferenceError",
        "process is not defined",
    );
}

#[tokio::test]
async fn static_import_of_a_node_module_fails() {
    let outcome = run("import 'fs';").await;
    assert_script_error(&outcome, "ReferenceError", "could not load module 'fs'");
}

#[tokio::test]
async fn default_import_of_a_node_module_fails() {
    let code = "import fs from 'fs';\nexport default fs.readFileSync('/etc/passwd', 'utf8');";
    assert_script_error(
        &run(code).await,
        "ReferenceError",
        "could not load module 'fs'",
    );
}

#[tokio::test]
async fn dynamic_import_fails() {
    for module in ["fs", "std", "os"] {
        let outcome = run(&format!("await import('{module}')")).await;
        assert_script_error(
            &outcome,
            "ReferenceError",
            &format!("could not load module '{module}'"),
        );
    }
}

#[tokio::test]
async fn eval_and_function_constructor_reach_nothing_new() {
    let code = "const g = new Function('return this')();\n\
                [g === globalThis, (0, eval)('this') === globalThis, eval('6 * 7'),\n\
                 Function('return typeof native')(), Function('return typeof startCall')(),\n\
                 Object.getOwnPropertyNames(g).filter((n) => /native|startcall|^__|^hooks$|^internal$/i.test(n))]";
    assert_result(
        &run(code).await,
        json!([true, true, 42, "undefined", "undefined", []]),
    );
}

#[tokio::test]
async fn an_ungranted_connector_is_not_a_global() {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    let outcome =
        run_limited_granted("[typeof github, typeof test]", &grants, Limits::default()).await;
    assert_result(&outcome, json!(["undefined", "object"]));
    let outcome =
        run_limited_granted("await github.listIssues({})", &grants, Limits::default()).await;
    assert_script_error(
        &outcome,
        "ReferenceError",
        "github is not defined; the granted connectors are: test",
    );
}

#[tokio::test]
async fn no_global_leads_to_the_natives() {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    // Every global, and every own property of every global and of its
    // prototype: nothing that looks like the natives or sandbox plumbing.
    let code = r"
        const standard = new Set(['__proto__', '__defineGetter__', '__defineSetter__', '__lookupGetter__', '__lookupSetter__']);
        const suspicious = (name) => typeof name === 'string' && !standard.has(name) && /native|startcall|hook|^__/i.test(name);
        const found = [];
        const scan = (owner, label) => {
            for (const key of Reflect.ownKeys(owner)) {
                const name = typeof key === 'symbol' ? key.description : key;
                if (suspicious(name)) found.push(`${label}.${name}`);
            }
        };
        scan(globalThis, 'globalThis');
        for (const name of Object.getOwnPropertyNames(globalThis)) {
            const value = globalThis[name];
            if ((typeof value !== 'object' && typeof value !== 'function') || value === null) continue;
            scan(value, name);
            const proto = Object.getPrototypeOf(value);
            if (proto !== null) scan(proto, `${name}.[[Prototype]]`);
            if (typeof value === 'function' && value.prototype) scan(value.prototype, `${name}.prototype`);
        }
        found
    ";
    assert_result(
        &run_limited_granted(code, &grants, Limits::default()).await,
        json!([]),
    );
}

#[tokio::test]
async fn stack_frames_expose_no_sandbox_functions() {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    // QuickJS's V8-style `Error.prepareStackTrace` would hand the script
    // call sites whose `getFunction()` and `getThis()` are the sandbox's own
    // functions and objects; `fn.caller` would hand out the caller. `look`
    // tries each way in, from inside sandbox frames: under a connector
    // call's argument serialization, a timer callback and console
    // formatting. Each time it also reads the real stack, as text, and
    // records whether a sandbox frame (`codemode:…`) was on it, so that the
    // test knows the attempt had something to find. (A connector call's
    // arguments are serialized natively, with no sandbox JavaScript on the
    // stack.)
    let code = r"
        const leaked = [];
        const stacks = [];
        const take = (frames) => {
            for (const frame of Array.isArray(frames) ? frames : []) {
                const fn = frame.getFunction?.();
                const self = frame.getThis?.();
                if (frame.getFileName?.() === 'agent.js') continue;
                if (fn !== undefined || (self !== undefined && self !== globalThis)) {
                    leaked.push(`${frame.getFileName?.()}: ${frame.getFunctionName?.()}`);
                }
            }
        };
        function look() {
            const trace = new Error().stack;
            stacks.push(typeof trace === 'string' && trace.includes('codemode:'));
            try { Error.prepareStackTrace = (error, frames) => frames; } catch {}
            try { Object.defineProperty(Error, 'prepareStackTrace', { value: (error, frames) => frames }); } catch {}
            take(new Error().stack);
            const holder = {};
            try { Error.captureStackTrace?.(holder); take(holder.stack); } catch {}
            try { if (typeof look.caller === 'function') leaked.push('look.caller'); } catch {}
            try { if (typeof arguments.callee.caller === 'function') leaked.push('callee.caller'); } catch {}
        }
        await test.echo({ toJSON() { look(); return {}; } });
        await new Promise((resolve) => setTimeout(() => { look(); resolve(); }, 0));
        console.log({ [Symbol.for('nodejs.util.inspect.custom')]() { look(); return 'x'; } });
        ({ leaked, stacks, prepare: typeof Error.prepareStackTrace })
    ";
    assert_result(
        &run_limited_granted(code, &grants, Limits::default()).await,
        json!({ "leaked": [], "stacks": [false, true, true], "prepare": "undefined" }),
    );
}

#[tokio::test]
async fn the_connector_plumbing_is_out_of_reach() {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    // The prelude's `callConnector` takes any connector and method name; a
    // script that got hold of it (through stack frames, say) would be
    // stopped only by the host's own checks (tested in `runtime`'s
    // `host::tests`). It must stay out of reach.
    let code = r"
        let found = 'unreachable';
        await test.echo({ toJSON() {
            try { Error.prepareStackTrace = (error, frames) => frames; } catch {}
            const frames = new Error().stack;
            for (const frame of Array.isArray(frames) ? frames : []) {
                const fn = frame.getFunction?.();
                if (typeof fn === 'function') found = fn.name;
            }
            return {};
        } });
        found
    ";
    let outcome = run_limited_granted(code, &grants, Limits::default()).await;
    assert_result(&outcome, json!("unreachable"));
    // The connector only ever saw the one granted call.
    assert_eq!(connector.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn unknown_method_of_a_granted_connector_is_undefined() {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    let code = "'use strict';\n\
                const attempts = [];\n\
                try { test.nope = () => 1; attempts.push('assigned') } catch (error) { attempts.push(error.name) }\n\
                [typeof test.nope, Object.isFrozen(test), Object.getPrototypeOf(test), typeof test.constructor, attempts]";
    let outcome = run_limited_granted(code, &grants, Limits::default()).await;
    assert_result(
        &outcome,
        json!(["undefined", true, null, "undefined", ["TypeError"]]),
    );
    // Uncaught, the error names the method the connector does not have.
    let outcome = run_limited_granted("await test.nope({})", &grants, Limits::default()).await;
    let error = assert_script_error(
        &outcome,
        "TypeError",
        "`test.nope` is not a function: no method is named `test.nope`",
    );
    // At the name, `nope`.
    assert_eq!((error.line, error.column), (Some(1), Some(12)));
    let outcome = run_limited_granted("await test?.nope({})", &grants, Limits::default()).await;
    assert_script_error(&outcome, "TypeError", "`test.nope` is not a function");
    // A property of something else that happens to share the name is not
    // the connector: QuickJS's own message stays.
    let outcome = run_limited_granted(
        "const o = { test: {} };\no.test.nope({})",
        &grants,
        Limits::default(),
    )
    .await;
    let error = assert_script_error(&outcome, "TypeError", "not a function");
    assert_eq!(error.message, "not a function");
    assert_eq!(connector.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_method_name_costs_the_host_no_more_than_its_length() {
    // `codemode.describe` and the unknown-method message look names up on
    // the host, in synchronous code that no deadline can interrupt: the
    // work must be bounded by the name, whatever its length. An edit
    // distance between a name of 10⁶ characters and each of 1,223 methods
    // held a worker for a minute.
    warm_up();
    // As many methods as GitHub has operations, with names of GitHub's
    // lengths; none is called.
    let methods = (0..1223)
        .map(|i| MethodDescription::new(format!("repos_list_for_authenticated_user_{i}"), "lists"))
        .collect();
    let catalog = FnConnector::new(methods, |_, _| {
        std::future::ready(Err(ConnectorError::new("not called")))
    });
    let grants = grant("github", catalog);
    let limits = deadline(1000);
    let huge = "x".repeat(1_000_000);
    let cases = [
        "try { codemode.describe('x'.repeat(1e6)) } catch (error) { error.message.length }".to_owned(),
        "try { codemode.describe('github.' + 'repos_list_'.repeat(1e5)) } catch (error) { error.message.length }".to_owned(),
        // QuickJS's `not a function` is turned into a message naming close
        // matches by looking the called name up on the host.
        format!("github.{}()", &huge[..200_000]),
    ];
    for code in cases {
        let started = Instant::now();
        let outcome = run_limited_granted(&code, &grants, limits.clone()).await;
        let elapsed = started.elapsed();
        assert!(
            elapsed < limits.timeout + DEADLINE_SLACK,
            "a huge name took the host {elapsed:?}: {}",
            show(&outcome)
        );
        // The message repeats only the start of the name.
        let message = match (&outcome.result, &outcome.error) {
            (Some(length), None) => length.as_u64().unwrap_or(u64::MAX) as usize,
            (None, Some(error)) => error.message.len(),
            _ => usize::MAX,
        };
        assert!(
            message < 1000,
            "{message} bytes of message: {}",
            show(&outcome)
        );
    }
    assert_host_survives().await;
}

#[tokio::test]
async fn oversized_arguments_never_reach_the_connector() -> Result<()> {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    let code = "try { await test.echo({ s: 'x'.repeat(5000) }); 'sent' }\n\
                catch (error) { ({ name: error.name, code: error.code, message: error.message, typed: error instanceof ConnectorError }) }";
    let outcome = run_limited_granted(code, &grants, limits(|l| l.argument_bytes = 1024)).await;
    assert!(outcome.error.is_none(), "{}", show(&outcome));
    let result = outcome
        .result
        .as_ref()
        .context("the run returned nothing")?;
    assert_eq!(result["name"], "ConnectorError", "{}", show(&outcome));
    assert_eq!(result["code"], "arguments-too-large", "{}", show(&outcome));
    assert_eq!(result["typed"], true, "{}", show(&outcome));
    assert!(
        result["message"]
            .as_str()
            .is_some_and(|m| m.contains("1024")),
        "{}",
        show(&outcome)
    );
    assert_eq!(
        connector.calls.load(Ordering::SeqCst),
        0,
        "the connector was called with the oversized arguments"
    );
    Ok(())
}

#[tokio::test]
async fn oversized_replies_are_refused() -> Result<()> {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    let code = "try { await test.big({ bytes: 5000 }); 'received' }\n\
                catch (error) { ({ name: error.name, code: error.code, message: error.message }) }";
    let outcome = run_limited_granted(code, &grants, limits(|l| l.reply_bytes = 1024)).await;
    assert!(outcome.error.is_none(), "{}", show(&outcome));
    let result = outcome
        .result
        .as_ref()
        .context("the run returned nothing")?;
    assert_eq!(result["name"], "ConnectorError", "{}", show(&outcome));
    assert_eq!(result["code"], "reply-too-large", "{}", show(&outcome));
    assert!(
        result["message"]
            .as_str()
            .is_some_and(|m| m.contains("1024")),
        "{}",
        show(&outcome)
    );
    Ok(())
}

#[tokio::test]
async fn too_many_connector_calls_stop_the_run() {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    let code = "for (let i = 0; i < 6; i++) await test.echo({ i });\n'finished'";
    let outcome = run_limited_granted(code, &grants, limits(|l| l.connector_calls = 5)).await;
    assert_kind(&outcome, ErrorKind::Calls);
    assert_eq!(
        connector.calls.load(Ordering::SeqCst),
        5,
        "{}",
        show(&outcome)
    );
    assert_eq!(outcome.stats.connector_calls, 5, "{}", show(&outcome));
}

#[tokio::test]
async fn the_call_limit_cannot_be_caught() {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    let code = "const seen = [];\n\
                for (let i = 0; i < 6; i++) { try { await test.echo({ i }); seen.push(i) } catch (error) { seen.push(error.name) } }\n\
                seen";
    let outcome = run_limited_granted(code, &grants, limits(|l| l.connector_calls = 5)).await;
    assert_kind(&outcome, ErrorKind::Calls);
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_in_flight_are_capped() {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    let code =
        "await Promise.all(Array.from({ length: 10 }, (_, i) => test.sleep({ ms: 20, value: i })))";
    let outcome =
        run_limited_granted(code, &grants, limits(|l| l.connector_calls_in_flight = 2)).await;
    assert_result(&outcome, json!([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    assert_eq!(connector.calls.load(Ordering::SeqCst), 10);
    let most = connector.max_running.load(Ordering::SeqCst);
    assert!(most <= 2, "{most} calls ran at once; the cap is 2");
}

#[tokio::test]
async fn a_reply_cannot_pollute_prototypes() {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    let code = r#"
        const reply = await test.echo(JSON.parse('{"__proto__": {"polluted": true}}'));
        [({}).polluted === undefined, reply.polluted === undefined,
         Object.getPrototypeOf(reply) === Object.prototype, Object.keys(reply)]
    "#;
    let outcome = run_limited_granted(code, &grants, Limits::default()).await;
    assert_result(&outcome, json!([true, true, true, ["__proto__"]]));
}

// ---------------------------------------------------------------------------
// Sabotaging the sandbox's own machinery hurts only the saboteur.
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_forged_json_stringify_does_not_reach_the_sandbox() {
    // The sandbox took its own JSON.stringify before the script ran: the
    // script breaks only its own calls of it.
    let outcome = run("JSON.stringify = () => '{not json';\n({ still: JSON.stringify({}) })").await;
    assert_result(&outcome, json!({ "still": "{not json" }));
    assert_host_survives().await;
}

#[tokio::test]
async fn a_sabotaged_promise_then_is_a_script_error() {
    let outcome = run("Promise.prototype.then = function () {};\n1").await;
    assert_kind(&outcome, ErrorKind::Script);
    assert_host_survives().await;
}
