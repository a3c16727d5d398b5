//! The sandbox's speed and memory targets, measured.
//!
//! - `cold_start`: a fresh store and instance running `console.log("hi")`.
//! - `connector_roundtrip`: one connector call, guest to a host echo
//!   connector and back (per call, inside a run).
//! - `concurrent`: 100 executions at once on one runtime.
//!
//! The `concurrent` group also prints the resident memory each live sandbox
//! adds, measured with 100 sandboxes held open at once.

// `criterion_group!` defines a public function it cannot document.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use codemode_runtime::{ConnectorError, Execution, Grants, Limits, MethodDescription, Runtime};
use codemode_test_support::connector::{FnConnector, grant};
use codemode_test_support::runs::{current_thread, two_workers};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::Value;
use tokio::sync::Semaphore;

/// The connector `host`, whose `echo` replies with its arguments at once.
fn echo_grants() -> Arc<Grants> {
    let echo = FnConnector::new(
        vec![MethodDescription::new("echo", "returns its arguments")],
        |_, args| std::future::ready(Ok(args)),
    );
    grant("host", echo)
}

fn cold_start(c: &mut Criterion) {
    let runtime = Runtime::new().expect("runtime");
    let tokio = current_thread();
    c.bench_function("cold_start", |b| {
        b.iter(|| {
            let outcome = tokio
                .block_on(runtime.execute(Execution::new("console.log(\"hi\")")))
                .expect("runs");
            assert!(outcome.ok());
        })
    });
}

fn connector_roundtrip(c: &mut Criterion) {
    let runtime = Runtime::new().expect("runtime");
    let tokio = current_thread();
    let grants = echo_grants();
    let run = |calls: u64| {
        let code = format!(
            "async () => {{ for (let i = 0; i < {calls}; i++) await host.echo({{ i }}); }}"
        );
        let mut limits = Limits::default();
        limits.connector_calls = u32::MAX;
        limits.fuel = u64::MAX / 2;
        limits.timeout = Duration::from_secs(600);
        let execution = Execution::new(code)
            .grants(Arc::clone(&grants))
            .limits(limits);
        let started = Instant::now();
        let outcome = tokio.block_on(runtime.execute(execution)).expect("runs");
        assert!(outcome.ok(), "{:?}", outcome.error);
        started.elapsed()
    };
    // Per call: a run with N calls minus a run with none, over N.
    c.bench_function("connector_roundtrip", |b| {
        b.iter_custom(|iters| {
            let with_calls = run(iters);
            let without = run(0);
            with_calls.saturating_sub(without)
        })
    });
}

fn concurrent(c: &mut Criterion) {
    let runtime = Arc::new(Runtime::new().expect("runtime"));
    let tokio = two_workers();
    let mut group = c.benchmark_group("concurrent");
    group.bench_function("100_executions", |b| {
        b.iter(|| {
            tokio.block_on(async {
                let runs = (0..100).map(|i| {
                    let runtime = Arc::clone(&runtime);
                    tokio::spawn(async move {
                        runtime
                            .execute(Execution::new(format!("console.log('run', {i}); {i} * 2")))
                            .await
                    })
                });
                for run in runs.collect::<Vec<_>>() {
                    let outcome = run.await.expect("joined").expect("runs");
                    assert!(outcome.ok());
                }
            })
        })
    });
    group.finish();

    let per_sandbox = tokio.block_on(resident_per_live_sandbox(&runtime, 100));
    eprintln!(
        "concurrent/resident_per_live_sandbox: {:.2} MiB",
        per_sandbox / (1024.0 * 1024.0)
    );
}

/// Resident memory added per sandbox while `count` sandboxes are live (each
/// parked on a connector call), in bytes.
async fn resident_per_live_sandbox(runtime: &Arc<Runtime>, count: usize) -> f64 {
    // Holds every call until the gate opens, so sandboxes stay live.
    let gate = Arc::new(Semaphore::new(0));
    let held = Arc::clone(&gate);
    let connector = FnConnector::new(
        vec![MethodDescription::new("wait", "waits for the gate")],
        move |_, _| {
            let gate = Arc::clone(&held);
            async move {
                let _permit = gate
                    .acquire()
                    .await
                    .map_err(|_| ConnectorError::new("closed"))?;
                Ok(Value::Null)
            }
        },
    );
    let grants = grant("gate", connector);
    let before = resident_bytes();
    let runs: Vec<_> = (0..count)
        .map(|_| {
            let runtime = Arc::clone(runtime);
            let grants = Arc::clone(&grants);
            tokio::spawn(async move {
                let code = "const big = 'x'.repeat(1000); await gate.wait(); big.length";
                runtime.execute(Execution::new(code).grants(grants)).await
            })
        })
        .collect();
    // Wait until every sandbox is parked on its call.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during = resident_bytes();
    gate.add_permits(count);
    for run in runs {
        let outcome = run.await.expect("joined").expect("runs");
        assert!(outcome.ok(), "{:?}", outcome.error);
    }
    (during.saturating_sub(before)) as f64 / count as f64
}

/// This process's resident set, from /proc/self/statm.
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = cold_start, connector_roundtrip, concurrent
}
criterion_main!(benches);
