//! Many sandboxes on one runtime: a sandbox waiting on a connector holds
//! no thread, and a full pool of instances refuses a run rather than
//! queueing it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Result;
use codemode_runtime::{Error, Execution, Runtime};
use serde_json::json;

use crate::support::{TestConnector, run_with, test_grants};

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
