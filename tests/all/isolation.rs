//! Isolation: nothing a run does to its globals, prototypes or random
//! state outlives it, and runs at the same time keep their own values.

use std::sync::Arc;

use anyhow::{Context, Result};
use codemode_runtime::{Execution, Runtime, RuntimeConfig};
use serde_json::{Value, json};

use crate::support::outcome::{assert_result, show};
use crate::support::*;

#[tokio::test]
async fn global_and_prototype_changes_do_not_outlive_the_run() {
    // One sandbox slot: every run reuses the memory the previous one wrote,
    // so a slot that were not reset to the snapshot would show here.
    let mut config = RuntimeConfig::default();
    config.max_sandboxes = 1;
    let runtime = Runtime::with_config(&config).expect("a one-slot runtime");
    let run = |code: &'static str| {
        let runtime = &runtime;
        async move {
            runtime
                .execute(Execution::new(code))
                .await
                .expect("the run starts")
        }
    };
    let vandal = "globalThis.leak = 1;\n\
                  Array.prototype.evil = 1;\n\
                  Object.prototype.polluted = 1;\n\
                  JSON.parse = () => 42;\n\
                  Math.random = () => 4;\n\
                  console.log = null;\n\
                  'vandalized'";
    assert_result(&run(vandal).await, json!("vandalized"));
    let check = "console.log('still here');\n\
                 [typeof leak, [].evil === undefined, ({}).polluted === undefined, JSON.parse('[1]'), Math.random() !== 4]";
    for _ in 0..3 {
        let outcome = run(check).await;
        assert_result(&outcome, json!(["undefined", true, true, [1], true]));
        let texts: Vec<&str> = outcome
            .logs
            .iter()
            .map(|entry| entry.text.as_str())
            .collect();
        assert_eq!(texts, ["still here"]);
    }
}

#[tokio::test]
async fn math_random_differs_between_runs() {
    let code = "Array.from({ length: 5 }, () => Math.random())";
    let first = run(code).await;
    let second = run(code).await;
    for outcome in [&first, &second] {
        let values = outcome.result.as_ref().and_then(Value::as_array);
        assert!(
            values.is_some_and(|v| v.len() == 5
                && v.iter()
                    .all(|x| x.as_f64().is_some_and(|x| (0.0..1.0).contains(&x)))),
            "{}",
            show(outcome)
        );
    }
    assert_ne!(
        first.result, second.result,
        "two runs drew the same Math.random sequence"
    );
}

#[tokio::test]
async fn random_uuids_differ_between_runs() {
    let code = "crypto.randomUUID()";
    let first = run(code).await;
    let second = run(code).await;
    for outcome in [&first, &second] {
        let uuid = outcome.result.as_ref().and_then(Value::as_str);
        assert!(
            uuid.is_some_and(|u| u.len() == 36 && u.as_bytes()[14] == b'4'),
            "{}",
            show(outcome)
        );
    }
    assert_ne!(first.result, second.result, "two runs drew the same UUID");
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_runs_keep_their_own_values() -> Result<()> {
    let connector = TestConnector::new();
    let grants = test_grants(&connector);
    let runs: Vec<_> = (0..50)
        .map(|i| {
            let grants = Arc::clone(&grants);
            // Each run waits on a timer and a connector reply in between, so
            // that runs interleave while holding their values.
            let code = format!(
                "globalThis.mine = {i};\n\
                 await new Promise((resolve) => setTimeout(resolve, {delay}));\n\
                 const reply = await test.sleep({{ ms: {delay}, value: {i} }});\n\
                 [mine, reply, (await test.echo({{ i: {i} }})).i]",
                delay = i % 7
            );
            tokio::spawn(async move { (i, run_with(Execution::new(code).grants(grants)).await) })
        })
        .collect();
    for task in runs {
        let (i, outcome) = task.await.context("a run's task panicked")?;
        assert_result(&outcome, json!([i, i, i]));
    }
    Ok(())
}
