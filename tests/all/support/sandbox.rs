//! Runs on the runtime every test shares, and what a test asks of their
//! outcomes.

use std::sync::{Arc, LazyLock};

use codemode_runtime::{Connector, Error, Execution, Grants, Outcome, Runtime};
use serde_json::Value;
use serde_json::value::RawValue;

/// The runtime every test shares; building one per test would only cost time.
pub static RUNTIME: LazyLock<Runtime> =
    LazyLock::new(|| Runtime::new().expect("the runtime starts"));

/// Run `code` with no connectors and default limits.
pub async fn run(code: &str) -> Outcome {
    run_with(Execution::new(code)).await
}

/// Run an execution on the shared runtime.
pub async fn run_with(execution: Execution) -> Outcome {
    RUNTIME.execute(execution).await.expect("the run starts")
}

/// Fail the test, showing the outcome, unless the run succeeded.
#[track_caller]
pub fn assert_ok(outcome: &Outcome) {
    assert!(outcome.ok(), "the run failed: {outcome:#?}");
}

/// The result of a run that must have succeeded with one; fails the test,
/// showing the outcome, otherwise.
#[track_caller]
pub fn result(outcome: &Outcome) -> Value {
    assert_ok(outcome);
    outcome
        .result
        .clone()
        .unwrap_or_else(|| panic!("the run returned nothing: {outcome:#?}"))
}

/// Run `code` with each of `connectors` granted under its name.
pub async fn run_granted<C: Connector>(code: &str, connectors: &[(&str, Arc<C>)]) -> Outcome {
    let mut grants = Grants::new();
    for (name, connector) in connectors {
        grants = grants
            .grant(name, Arc::clone(connector) as Arc<dyn Connector>)
            .expect("a valid name");
    }
    run_with(Execution::new(code).grants(Arc::new(grants))).await
}

/// `value` as the JSON text a global is given as.
pub fn raw(value: Value) -> Arc<RawValue> {
    Arc::from(serde_json::value::to_raw_value(&value).expect("serializable"))
}

/// Fail the test unless `execution` is refused, before it runs, for its
/// global `name`, with a reason starting with `reason`.
pub async fn assert_global_refused(execution: Execution, name: &str, reason: &str) {
    match RUNTIME.execute(execution).await {
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
