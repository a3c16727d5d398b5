//! What the tests of limits ask of an outcome: that a run was stopped with
//! a given kind of error (and, for a deadline, neither early nor late),
//! succeeded with a given result, and left the host able to run the next
//! script. Shared by the escape suite and the fuel, deadline and isolation
//! tests.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use codemode_runtime::{ErrorKind, Execution, ExecutionError, Grants, Limits, Outcome};
use serde_json::{Value, json};

use super::limits;
use super::sandbox::{RUNTIME, run, run_with};

/// Fuel that cannot run out before a deadline of a few hundred
/// milliseconds, so that the deadline, not fuel, is what a test exercises.
pub const ENDLESS_FUEL: u64 = u64::MAX / 2;

/// How far past its deadline a spinning script may still be running.
pub const DEADLINE_SLACK: Duration = Duration::from_millis(50);

/// Limits with a deadline of `ms` and fuel that outlasts it.
pub fn deadline(ms: u64) -> Limits {
    limits(|l| {
        l.timeout = Duration::from_millis(ms);
        l.fuel = ENDLESS_FUEL;
    })
}

/// The outcome for a failure message, cut so that a runaway log or a huge
/// error does not drown the report.
pub fn show(outcome: &Outcome) -> String {
    const MAX: usize = 4000;
    let text = format!("{outcome:#?}");
    if text.len() <= MAX {
        return text;
    }
    let cut: String = text.chars().take(MAX).collect();
    format!("{cut}\n... ({} more bytes)", text.len() - cut.len())
}

/// The error of a run that must have been stopped with `kind`.
#[track_caller]
pub fn assert_kind(outcome: &Outcome, kind: ErrorKind) -> &ExecutionError {
    match &outcome.error {
        Some(error) if error.kind == kind => error,
        _ => panic!(
            "expected the run to fail with {kind:?}; the outcome was {}",
            show(outcome)
        ),
    }
}

/// The error of a run that must have failed with a script error named
/// `name` whose message contains `message`.
#[track_caller]
pub fn assert_script_error<'a>(
    outcome: &'a Outcome,
    name: &str,
    message: &str,
) -> &'a ExecutionError {
    let error = assert_kind(outcome, ErrorKind::Script);
    assert!(
        error.name == name && error.message.contains(message),
        "expected a {name} whose message contains {message:?}; the outcome was {}",
        show(outcome)
    );
    error
}

/// A run that must have succeeded with `expected` as its result.
#[track_caller]
pub fn assert_result(outcome: &Outcome, expected: Value) {
    assert!(
        outcome.error.is_none() && outcome.result.as_ref() == Some(&expected),
        "expected the run to succeed with {expected}; the outcome was {}",
        show(outcome)
    );
}

/// Build the shared runtime now, so that a test timing a run does not time
/// the engine's start.
pub fn warm_up() {
    LazyLock::force(&RUNTIME);
}

/// Run `code` with `limits` and no connectors.
pub async fn run_limited(code: &str, limits: Limits) -> Outcome {
    run_with(Execution::new(code).limits(limits)).await
}

/// Run `code` with `grants` and `limits`.
pub async fn run_limited_granted(code: &str, grants: &Arc<Grants>, limits: Limits) -> Outcome {
    run_with(
        Execution::new(code)
            .grants(Arc::clone(grants))
            .limits(limits),
    )
    .await
}

/// After an attack, the runtime still runs an ordinary script.
pub async fn assert_host_survives() {
    assert_result(&run("6 * 7").await, json!(42));
}

/// Run `code`, which never ends by itself, under a deadline of `ms`, and
/// check that it is stopped with `Timeout` no sooner than the deadline and
/// no later than the deadline plus [`DEADLINE_SLACK`].
pub async fn assert_stopped_at_the_deadline(code: &str, ms: u64) -> Outcome {
    assert_granted_stopped_at_the_deadline(code, &Arc::new(Grants::new()), ms).await
}

/// [`assert_stopped_at_the_deadline`] with `grants`.
pub async fn assert_granted_stopped_at_the_deadline(
    code: &str,
    grants: &Arc<Grants>,
    ms: u64,
) -> Outcome {
    warm_up();
    let timeout = Duration::from_millis(ms);
    let started = Instant::now();
    let outcome = run_limited_granted(code, grants, deadline(ms)).await;
    let elapsed = started.elapsed();
    assert_kind(&outcome, ErrorKind::Timeout);
    assert!(
        elapsed >= timeout,
        "the run was stopped after {elapsed:?}, before its deadline of {timeout:?}"
    );
    assert!(
        elapsed < timeout + DEADLINE_SLACK,
        "the run went on for {elapsed:?}, past its deadline of {timeout:?} plus {DEADLINE_SLACK:?}"
    );
    outcome
}
