//! What a run may cost: the stats that report it, and the memory cap,
//! checked against the runtime's maximum before a run starts and enforced
//! from its first page. (Attacks on each limit are in `escape`.)

use std::time::Duration;

use codemode_runtime::{Error, ErrorKind, Execution};
use serde_json::json;

use crate::support::{TestConnector, assert_ok, limits, run_with, test_grants};

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
