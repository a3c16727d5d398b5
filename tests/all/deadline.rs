//! The deadline: a run ends at its deadline (neither before nor more than
//! 50 ms after it) however long it is, and a run with nothing left that can
//! happen ends at once instead of waiting for it.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::outcome::{
    assert_result, assert_script_error, assert_stopped_at_the_deadline, run_limited,
    run_limited_granted, show, warm_up,
};
use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn a_longer_deadline_does_not_drift() {
    // The bound is the deadline plus 50 ms whatever the deadline: the
    // runtime's clock must not fall behind the wall clock as it runs.
    assert_stopped_at_the_deadline("while (true) {}", 2000).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interval_keeps_the_run_alive_only_until_the_deadline() {
    let code = "setInterval(() => {}, 1);\nawait new Promise(() => {});";
    assert_stopped_at_the_deadline(code, 200).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_promise_that_never_settles_fails_at_once() {
    warm_up();
    let timeout = Duration::from_secs(10);
    let started = Instant::now();
    let outcome = run_limited(
        "await new Promise(() => {});",
        limits(|l| l.timeout = timeout),
    )
    .await;
    let elapsed = started.elapsed();
    assert_script_error(&outcome, "UnsettledPromiseError", "can never settle");
    assert!(
        elapsed < timeout / 5,
        "an unsettled promise took {elapsed:?} to be reported"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_left_running_do_not_hold_the_run_open() {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    let code = "test.never();\ntest.sleep({ ms: 60000 });\n'done'";
    let outcome = run_limited_granted(
        code,
        &grants,
        limits(|l| l.timeout = Duration::from_secs(10)),
    )
    .await;
    assert_result(&outcome, json!("done"));
    assert_eq!(outcome.stats.connector_calls, 2, "{}", show(&outcome));
}
