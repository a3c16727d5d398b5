//! Runs waiting for people give up their sandbox (issue 15's "a paused run
//! holds no wasmtime store for hours"): past the bound of `WaitingStores`
//! a durable run idle at its gate is unloaded, holds nothing while it
//! waits, and resumes from its journal once decided, with nothing made
//! twice. A run is never unloaded while a connector call of it is running
//! or a timer of it is due, which would change what it does. A run
//! resumed keeps the limits it was started with.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use codemode_runs::{
    DurableError, DurableRuns, NewDurableRun, NewRun, RunStore, StoreError, WaitingStores,
};
use codemode_runtime::{
    Action, Decision, Entry, ErrorKind, Grants, Language, Outcome, Runtime, RuntimeConfig, Waiting,
};
use serde_json::json;
use tokio::task::JoinHandle;

use crate::approvals::{counted, policy};
use crate::support::outcome::assert_kind;
use crate::support::{bounded_test, limits, scratch};

/// Durable runs in a fresh store, `test.create` gated, at most `kept`
/// waiting runs keeping their sandbox (for an hour), on `runtime`.
fn durable_runs(
    name: &str,
    runtime: Runtime,
    grants: Arc<Grants>,
    kept: usize,
    approval_timeout: Duration,
) -> Result<DurableRuns> {
    let store = RunStore::open(&scratch(name))?;
    let policy = policy(&[("test.create", Action::Approve)], Action::Allow);
    let policy = Arc::new((*policy).clone().approval_timeout(approval_timeout));
    Ok(DurableRuns::new(
        store,
        Arc::new(runtime),
        grants,
        limits(|limits| limits.timeout = Duration::from_secs(5)),
        "test",
    )
    .policy(Some(policy))
    .unload(Some(Arc::new(WaitingStores::new(
        kept,
        Duration::from_secs(3600),
    )))))
}

type Running = JoinHandle<Result<Outcome, DurableError>>;

fn start(runs: &DurableRuns, new: &NewDurableRun) -> Running {
    let (runs, new) = (runs.clone(), new.clone());
    tokio::spawn(async move { runs.start(new, None).await })
}

/// The calls of `run` waiting for a decision, once there are `count` (a
/// new run is recorded with its first call).
async fn waiting(runs: &DurableRuns, run: &str, count: usize) -> Result<Vec<u32>> {
    for _ in 0..400 {
        let pending = match runs.store().pending(Some(run)) {
            Err(StoreError::UnknownRun { .. }) => Vec::new(),
            pending => pending?,
        };
        if pending.len() >= count {
            return Ok(pending.into_iter().map(|wait| wait.call).collect());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    bail!("run {run} never had {count} calls waiting")
}

fn approve(runs: &DurableRuns, run: &str, call: u32) -> Result<()> {
    let approve = Decision::Approve {
        by: "tester".into(),
    };
    runs.store().decide(run, call, &approve)?;
    Ok(())
}

async fn outcome(running: Running) -> Result<Outcome> {
    let ended = tokio::time::timeout(Duration::from_secs(10), running)
        .await
        .context("the run ends once decided")?;
    Ok(ended??)
}

fn count(counts: &Mutex<HashMap<String, u32>>, method: &str) -> u32 {
    counts
        .lock()
        .expect("not poisoned")
        .get(method)
        .copied()
        .unwrap_or(0)
}

fn diverged(runs: &DurableRuns, run: &str) -> Result<Vec<Entry>> {
    Ok(runs
        .store()
        .replay(run)?
        .entries
        .into_iter()
        .filter(|entry| matches!(entry, Entry::Diverged { .. }))
        .collect())
}

/// Start `run`, again while it finds no free sandbox (a run that does
/// fails to start), until its first call waits.
async fn start_until_waiting(runs: &DurableRuns, new: &NewDurableRun) -> Result<Running> {
    let run = new.id();
    for _ in 0..100 {
        let mut running = start(runs, new);
        tokio::select! {
            ended = &mut running => match ended? {
                Err(DurableError::Runtime(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
                other => bail!("run {run} ended before its gate: {other:?}"),
            },
            waits = waiting(runs, run, 1) => {
                waits?;
                return Ok(running);
            }
        }
    }
    bail!("run {run} never found a free sandbox: the waiting runs kept theirs")
}

/// Six runs wait at once in a runtime with sandboxes for two: only
/// possible because waiting runs beyond the bound (one) give theirs up.
/// Each, approved, finishes as if it had never stopped, and no call is
/// made twice.
#[bounded_test(multi_thread)]
async fn runs_waiting_beyond_the_bound_give_up_their_sandbox_and_finish_once_approved() -> Result<()>
{
    let mut config = RuntimeConfig::default();
    config.max_sandboxes = 2;
    let runtime = Runtime::with_config(&config)?;
    let (grants, counts) = counted();
    let runs = durable_runs(
        "unload-bound",
        runtime,
        grants,
        1,
        Duration::from_secs(3600),
    )?;
    let code = "async () => {
        const before = { random: Math.random(), now: Date.now(), id: crypto.randomUUID() };
        const echoed = await test.echo({ i: INDEX });
        const created = await test.create({ i: INDEX });
        return { before, echoed: echoed.args.i, created: created.args.i };
    }";
    let mut started = Vec::new();
    for index in 0..6 {
        let new = runs.create(
            &code.replace("INDEX", &index.to_string()),
            Language::JavaScript,
        );
        let running = start_until_waiting(&runs, &new).await?;
        started.push((index, new.id().to_owned(), running));
    }
    for (index, run, running) in started {
        assert!(!running.is_finished(), "run {index} waits");
        assert!(
            runs.busy(&run),
            "run {index} is still this process's, unloaded or not: no other resumes it"
        );
        let calls = waiting(&runs, &run, 1).await?;
        approve(&runs, &run, calls[0])?;
        let outcome = outcome(running).await?;
        assert!(outcome.ok(), "run {index}: {:?}", outcome.error);
        let result = outcome.result.context("a result")?;
        assert_eq!(result["echoed"], json!(index), "{result}");
        assert_eq!(result["created"], json!(index), "{result}");
        assert!(result["before"]["random"].is_number(), "{result}");
        assert_eq!(diverged(&runs, &run)?, [], "run {index} replayed as it ran");
    }
    assert_eq!(count(&counts, "echo"), 6, "no call was made twice");
    assert_eq!(count(&counts, "create"), 6, "no call was made twice");
    let locks = runs.store().file().with_file_name("locks");
    let left: Vec<_> = std::fs::read_dir(&locks)?.collect::<Result<_, _>>()?;
    assert!(
        left.is_empty(),
        "the runs ended, their lock files went: {left:?}"
    );
    Ok(())
}

/// A run decided while unloaded, when every sandbox is in use, waits for
/// one, as it waited for the decision, and then finishes.
#[bounded_test(multi_thread)]
async fn a_run_decided_while_every_sandbox_is_in_use_waits_for_one() -> Result<()> {
    let mut config = RuntimeConfig::default();
    config.max_sandboxes = 1;
    let (grants, counts) = counted();
    let runs = durable_runs(
        "unload-full",
        Runtime::with_config(&config)?,
        grants,
        0,
        Duration::from_secs(3600),
    )?;
    let gated = runs.create(
        "async () => (await test.create({ n: 1 })).args.n",
        Language::JavaScript,
    );
    let waiting_run = start_until_waiting(&runs, &gated).await?;
    let calls = waiting(&runs, gated.id(), 1).await?;
    // Unloaded, it left the one sandbox to a run that holds it a while.
    let holding = runs.create(
        "async () => { await new Promise((r) => setTimeout(r, 1500)); return 'held'; }",
        Language::JavaScript,
    );
    let holding_run = loop {
        let mut running = start(&runs, &holding);
        tokio::select! {
            ended = &mut running => match ended? {
                Err(DurableError::Runtime(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
                other => bail!("the holding run ended at once: {other:?}"),
            },
            () = tokio::time::sleep(Duration::from_millis(300)) => break running,
        }
    };
    approve(&runs, gated.id(), calls[0])?;
    let decided = outcome(waiting_run).await?;
    assert_eq!(decided.result, Some(json!(1)), "{:?}", decided.error);
    let held = outcome(holding_run).await?;
    assert_eq!(held.result, Some(json!("held")), "{:?}", held.error);
    assert_eq!(count(&counts, "create"), 1);
    Ok(())
}

/// A run resumed by a process with other limits keeps the ones it was
/// started with: its second call is over its limit of one.
#[bounded_test(multi_thread)]
async fn a_resumed_run_keeps_the_limits_it_was_started_with() -> Result<()> {
    let (grants, counts) = counted();
    let runs = durable_runs(
        "resume-limits",
        Runtime::new()?,
        grants,
        1,
        Duration::from_secs(3600),
    )?;
    let started_with = limits(|limits| limits.connector_calls = 1);
    let run = runs.store().create(&NewRun {
        code: "async () => { await test.echo({}); await test.echo({}); return 'both'; }".into(),
        language: Language::JavaScript,
        grants: vec![("test".into(), vec!["echo".into()])],
        limits: serde_json::to_value(&started_with)?,
        seed: [1; 32],
        origin: "test".into(),
    })?;
    let outcome = runs.run(&run, None).await?;
    assert_kind(&outcome, ErrorKind::Calls);
    assert_eq!(count(&counts, "echo"), 1);
    Ok(())
}

/// A run with a timer due is not idle: unloading it would hold the timer
/// until a decision came. Here the timer wins the race with the gated call
/// and the run ends on its own, no decision ever made.
#[bounded_test(multi_thread)]
async fn a_run_with_a_timer_due_keeps_its_sandbox() -> Result<()> {
    let (grants, counts) = counted();
    let runs = durable_runs(
        "unload-timer",
        Runtime::new()?,
        grants,
        0,
        Duration::from_secs(3600),
    )?;
    let new = runs.create(
        "async () => await Promise.race([
            test.create({}),
            new Promise((resolve) => setTimeout(() => resolve('timer'), 500)),
        ])",
        Language::JavaScript,
    );
    let outcome = outcome(start(&runs, &new)).await?;
    assert_eq!(outcome.result, Some(json!("timer")), "{:?}", outcome.error);
    assert_eq!(count(&counts, "create"), 0);
    Ok(())
}

/// A run with a call running on a connector is not idle: unloaded, the
/// call would be "in doubt" when it resumed. It is unloaded once the call
/// has finished, and resumes with its reply from the journal.
#[bounded_test(multi_thread)]
async fn a_run_with_a_call_running_is_unloaded_only_once_it_finished() -> Result<()> {
    let (grants, counts) = counted();
    let runs = durable_runs(
        "unload-running",
        Runtime::new()?,
        grants,
        0,
        Duration::from_secs(3600),
    )?;
    let new = runs.create(
        "async () => {
            const [created, echoed] = await Promise.all([
                test.create({ n: 1 }),
                test.echo({ pause: 600 }),
            ]);
            return [created.args.n, echoed.args.pause];
        }",
        Language::JavaScript,
    );
    let running = start(&runs, &new);
    let run = new.id();
    let calls = waiting(&runs, run, 1).await?;
    // Long enough for the echo to finish and the run to be unloaded.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    approve(&runs, run, calls[0])?;
    let outcome = outcome(running).await?;
    assert_eq!(outcome.result, Some(json!([1, 600])), "{:?}", outcome.error);
    let waits = runs.store().load(run)?.waits;
    assert!(
        waits.iter().all(|wait| wait.waiting == Waiting::Approval),
        "no call was left in doubt: {waits:?}"
    );
    assert_eq!(count(&counts, "echo"), 1, "the echo was made once");
    assert_eq!(count(&counts, "create"), 1);
    Ok(())
}

/// An unloaded run still expires: it is resumed when its wait does, and
/// the wait ends when it was first recorded to, not a timeout later.
#[bounded_test(multi_thread)]
async fn an_unloaded_run_expires_when_its_wait_was_recorded_to() -> Result<()> {
    let (grants, counts) = counted();
    let runs = durable_runs(
        "unload-expiry",
        Runtime::new()?,
        grants,
        0,
        Duration::from_millis(1500),
    )?;
    let new = runs.create("async () => await test.create({})", Language::JavaScript);
    let run = new.id();
    let outcome = outcome(start(&runs, &new)).await?;
    assert_kind(&outcome, ErrorKind::Rejected);
    let record = runs.store().load(run)?;
    let [wait] = &record.waits[..] else {
        bail!("one wait: {:?}", record.waits);
    };
    let [decision] = &record.decisions[..] else {
        bail!("one decision: {:?}", record.decisions);
    };
    assert!(
        matches!(&decision.decision, Decision::Reject { reason, .. } if reason == Decision::EXPIRED),
        "{decision:?}"
    );
    assert!(
        decision.at < wait.expires + 1000,
        "expired at {}, recorded to expire at {}",
        decision.at,
        wait.expires
    );
    assert_eq!(count(&counts, "create"), 0);
    Ok(())
}
