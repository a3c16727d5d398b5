//! Connectors: the call path as the host sees it (interceptors watching
//! each call start and finish and refusing some, what a connector is told
//! about each call, state that lasts one run), and as a script sees it
//! (global namespaces under names that cannot shadow the sandbox's, calls
//! run concurrently, failures rejected as `ConnectorError`s).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use async_trait::async_trait;
use codemode_runtime::{
    CallContext, CallFinished, Connector, ConnectorError, Error, ErrorKind, Execution, Grants,
    Interceptor, MethodDescription, Outcome,
};
use serde_json::{Value, json};

use crate::support::{TestConnector, assert_ok, limits, run, run_with, test_grants};

/// Records every start and finish it sees, as text, and refuses the calls
/// whose arguments have `"refuse": true`.
#[derive(Default)]
struct Recorder {
    events: Mutex<Vec<String>>,
    runs: Mutex<Vec<u64>>,
}

impl Recorder {
    fn events(&self) -> Vec<String> {
        self.events.lock().expect("not poisoned").clone()
    }
}

#[async_trait]
impl Interceptor for Recorder {
    async fn start(&self, call: &CallContext, arguments: &Value) -> Result<(), ConnectorError> {
        self.runs.lock().expect("not poisoned").push(call.run.get());
        self.events.lock().expect("not poisoned").push(format!(
            "start {}.{} #{} {arguments}",
            call.namespace, call.method, call.occurrence
        ));
        if arguments["refuse"] == true {
            return Err(ConnectorError::with_code(
                "denied",
                format!("`{}.{}` is not allowed here", call.namespace, call.method),
            ));
        }
        Ok(())
    }

    fn finish(&self, call: &CallContext, finished: &CallFinished<'_>) {
        let result = match finished.result {
            Ok(bytes) => format!("{bytes} bytes"),
            Err(error) => format!("{}: {}", error.code(), error.message()),
        };
        self.events.lock().expect("not poisoned").push(format!(
            "finish {}.{} #{} {result}",
            call.namespace, call.method, call.occurrence
        ));
    }
}

/// Run `code` with the test connector and a [`Recorder`]; the run must
/// succeed.
async fn run_recorded(code: &str) -> (Arc<TestConnector>, Arc<Recorder>, Outcome) {
    let connector = TestConnector::new();
    let recorder = Arc::new(Recorder::default());
    let execution = Execution::new(code)
        .grants(test_grants(&connector))
        .intercept(recorder.clone());
    let outcome = run_with(execution).await;
    assert_ok(&outcome);
    (connector, recorder, outcome)
}

#[tokio::test]
async fn an_interceptor_refuses_a_call_and_the_script_sees_its_code() {
    let code = r#"
        try {
            await test.echo({ refuse: true });
            "the call went through";
        } catch (e) {
            [e instanceof ConnectorError, e.name, e.code, e.message, e.connector, e.method]
        }
    "#;
    let (connector, recorder, outcome) = run_recorded(code).await;
    assert_eq!(
        outcome.result,
        Some(json!([
            true,
            "ConnectorError",
            "denied",
            "`test.echo` is not allowed here",
            "test",
            "echo"
        ]))
    );
    assert_eq!(
        connector.calls.load(Ordering::SeqCst),
        0,
        "refused calls never reach the connector"
    );
    assert_eq!(
        recorder.events(),
        [
            r#"start test.echo #1 {"refuse":true}"#,
            "finish test.echo #1 denied: `test.echo` is not allowed here",
        ]
    );
}

#[tokio::test]
async fn every_call_of_a_promise_all_is_seen_starting_and_finishing() {
    let code = r#"
        const replies = await Promise.all([
            test.sleep({ ms: 30, value: "a" }),
            test.echo({ value: "b" }),
            test.sleep({ ms: 10, value: "c" }),
            test.fail({ message: "no", code: "not-found" }).catch((e) => e.code),
        ]);
        replies
    "#;
    let (_, recorder, outcome) = run_recorded(code).await;
    assert_eq!(
        outcome.result,
        Some(json!(["a", { "value": "b" }, "c", "not-found"]))
    );
    let events = recorder.events();
    let mut starts: Vec<_> = events.iter().filter(|e| e.starts_with("start")).collect();
    starts.sort();
    assert_eq!(
        starts,
        [
            r#"start test.echo #1 {"value":"b"}"#,
            r#"start test.fail #1 {"message":"no","code":"not-found"}"#,
            r#"start test.sleep #1 {"ms":30,"value":"a"}"#,
            r#"start test.sleep #2 {"ms":10,"value":"c"}"#,
        ]
    );
    let mut finishes: Vec<_> = events.iter().filter(|e| e.starts_with("finish")).collect();
    finishes.sort();
    assert_eq!(
        finishes,
        [
            r#"finish test.echo #1 13 bytes"#,
            "finish test.fail #1 not-found: no",
            r#"finish test.sleep #1 3 bytes"#,
            r#"finish test.sleep #2 3 bytes"#,
        ]
    );
    // They ran at once: all four started before either sleep finished.
    let last_start = events.iter().rposition(|e| e.starts_with("start"));
    let first_sleep_end = events
        .iter()
        .position(|e| e.starts_with("finish test.sleep"));
    assert!(last_start < first_sleep_end, "{events:#?}");
    let runs = recorder.runs.lock().expect("not poisoned").clone();
    assert!(
        runs.windows(2).all(|w| w[0] == w[1]),
        "one run id: {runs:?}"
    );
}

#[tokio::test]
async fn calls_refused_by_the_host_are_not_started() {
    let code = r#"
        await test.echo({ n: 1 });
        try { await test.echo({ big: "x".repeat(2_000_000) }); } catch {}
        await test.echo({ n: 2 });
        "done"
    "#;
    let (_, recorder, _) = run_recorded(code).await;
    // The oversized call was refused before it started, so it is not seen.
    assert_eq!(
        recorder.events(),
        [
            r#"start test.echo #1 {"n":1}"#,
            "finish test.echo #1 7 bytes",
            r#"start test.echo #2 {"n":2}"#,
            "finish test.echo #2 7 bytes",
        ]
    );
}

#[tokio::test]
async fn a_call_cut_off_by_the_end_of_its_run_finishes_cancelled() {
    // The run ends with the call still waiting.
    let code = "test.never(); 'done'";
    let (connector, recorder, _) = run_recorded(code).await;
    // The task is dropped on a worker thread; give it a moment.
    for _ in 0..200 {
        if recorder.events().len() == 2 && connector.cancelled.load(Ordering::SeqCst) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        recorder.events(),
        [
            "start test.never #1 {}",
            "finish test.never #1 cancelled: the run ended first",
        ]
    );
    assert_eq!(
        connector.cancelled.load(Ordering::SeqCst),
        1,
        "the connector heard through its token that the run ended"
    );
}

#[tokio::test]
async fn interceptors_see_calls_in_order_and_the_first_refusal_stops_it() {
    let connector = TestConnector::new();
    let (first, second) = (Arc::new(Recorder::default()), Arc::new(Recorder::default()));
    let code = "await test.echo({ n: 1 }); await test.echo({ refuse: true }).catch((e) => e.code)";
    let execution = Execution::new(code)
        .grants(test_grants(&connector))
        .intercept(first.clone())
        .intercept(second.clone());
    let outcome = run_with(execution).await;
    assert_ok(&outcome);
    assert_eq!(outcome.result, Some(json!("denied")));
    let starts = |recorder: &Recorder| {
        recorder
            .events()
            .into_iter()
            .filter(|e| e.starts_with("start"))
            .count()
    };
    assert_eq!((starts(&first), starts(&second)), (2, 1));
    // Both hear how each call ended.
    assert_eq!(first.events().len() - 2, second.events().len() - 1);
}

/// Holds every `sleep` call until an `echo` call has finished, as a
/// person's approval would hold a call.
#[derive(Default)]
struct HoldSleepUntilEcho(tokio::sync::Notify);

#[async_trait]
impl Interceptor for HoldSleepUntilEcho {
    async fn start(&self, call: &CallContext, _arguments: &Value) -> Result<(), ConnectorError> {
        if &*call.method == "sleep" {
            self.0.notified().await;
        }
        Ok(())
    }

    fn finish(&self, call: &CallContext, _finished: &CallFinished<'_>) {
        if &*call.method == "echo" {
            self.0.notify_one();
        }
    }
}

#[tokio::test]
async fn a_call_an_interceptor_holds_keeps_no_other_call_waiting() {
    // One call in flight at a time: were the held `sleep` to take the one
    // slot while it waits, `echo` could never run and release it.
    let connector = TestConnector::new();
    let execution = Execution::new(
        "const [slept, echoed] = await Promise.all([test.sleep({ ms: 0, value: 1 }), test.echo({ n: 2 })]);\n\
         [slept, echoed.n]",
    )
    .grants(test_grants(&connector))
    .limits(limits(|l| {
        l.connector_calls_in_flight = 1;
        l.timeout = Duration::from_secs(5);
    }))
    .intercept(Arc::new(HoldSleepUntilEcho::default()));
    let outcome = run_with(execution).await;
    assert_ok(&outcome);
    assert_eq!(outcome.result, Some(json!([1, 2])));
}

/// Counts, in each run, the calls made to it: state kept with
/// `CallContext::run_local`.
struct PerRun {
    methods: Vec<MethodDescription>,
    runs: AtomicUsize,
}

/// One run's count, and which run it was.
#[derive(Default)]
struct RunCount {
    run: std::sync::OnceLock<usize>,
    calls: AtomicUsize,
}

#[async_trait]
impl Connector for PerRun {
    fn methods(&self) -> &[MethodDescription] {
        &self.methods
    }
    async fn call(&self, call: &CallContext, _: Value) -> Result<Value, ConnectorError> {
        let count = call.run_local::<RunCount>();
        let run = *count
            .run
            .get_or_init(|| self.runs.fetch_add(1, Ordering::SeqCst) + 1);
        let calls = count.calls.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(json!({ "run": run, "call": calls }))
    }
}

#[tokio::test]
async fn a_connector_can_keep_state_for_one_run() -> Result<()> {
    let connector: Arc<dyn Connector> = Arc::new(PerRun {
        methods: vec![MethodDescription::new("count", "counts this run's calls")],
        runs: AtomicUsize::new(0),
    });
    // Under two namespaces, the same connector keeps two states a run.
    let grants = Arc::new(
        Grants::new()
            .grant("counter", Arc::clone(&connector))?
            .grant("other", connector)?,
    );
    let code = "const a = await counter.count(); const [b, c] = await Promise.all([counter.count(), counter.count()]); const d = await other.count(); [a, b, c, d]";
    for run in 1..=2 {
        let outcome = run_with(Execution::new(code).grants(Arc::clone(&grants))).await;
        assert_ok(&outcome);
        let replies = outcome.result.expect("a result");
        let mut calls: Vec<u64> = (0..3)
            .map(|i| {
                assert_eq!(replies[i]["run"], 2 * run - 1, "{replies}");
                replies[i]["call"].as_u64().unwrap_or(0)
            })
            .collect();
        calls.sort_unstable();
        assert_eq!(calls, [1, 2, 3], "run {run}");
        assert_eq!(replies[3], json!({ "run": 2 * run, "call": 1 }));
    }
    Ok(())
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
