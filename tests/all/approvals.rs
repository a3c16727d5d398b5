//! Approval gates and durable runs, through the embedding API: the policy's
//! rulings as a script sees them (allowed, denied, rejected, expired), the
//! deadline standing still while a person decides, and a durable run
//! resumed from its journal: no call made twice, replies matched by
//! identity whatever the completion order, and the clocks and random
//! sources reading as they did.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use async_trait::async_trait;
use codemode_runtime::{
    Action, Approver, ConnectorError, Decision, Entry, ErrorKind, Execution, Grants, Journal,
    JournalError, LogEntry, MethodDescription, Outcome, PendingCall, Policy, Replay, Rule, Waiting,
};
use codemode_test_support::connector::{FnConnector, grant};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::support::outcome::{assert_kind, assert_result, show};
use crate::support::{assert_ok, bounded_test, limits, result, run_with};

/// Counts the calls of each method, answers `{ method, args }` after a
/// short pause (so calls complete in another order than they started).
pub(crate) fn counted() -> (Arc<Grants>, Arc<Mutex<HashMap<String, u32>>>) {
    let counts: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
    let seen = Arc::clone(&counts);
    let methods = ["read", "create", "delete_all", "echo"]
        .map(|name| MethodDescription::new(name, "a test method").read_only(name == "read"))
        .to_vec();
    let connector = FnConnector::new(methods, move |method: &str, args: Value| {
        *seen
            .lock()
            .expect("not poisoned")
            .entry(method.to_owned())
            .or_default() += 1;
        let method = method.to_owned();
        async move {
            let pause = args.get("pause").and_then(Value::as_u64).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            Ok::<_, ConnectorError>(json!({ "method": method, "args": args }))
        }
    });
    (grant("test", connector), counts)
}

pub(crate) fn policy(rules: &[(&str, Action)], default: Action) -> Arc<Policy> {
    let rules = rules
        .iter()
        .map(|&(pattern, action)| Rule {
            pattern: pattern.into(),
            action,
        })
        .collect();
    Arc::new(Policy::new(rules, default).expect("valid patterns"))
}

type Decide = dyn Fn(PendingCall) -> Pin<Box<dyn Future<Output = Decision> + Send>> + Send + Sync;

/// An approver made of one async function.
struct FnApprover(Box<Decide>);

impl FnApprover {
    fn new<F, Fut>(decide: F) -> Arc<Self>
    where
        F: Fn(PendingCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Decision> + Send + 'static,
    {
        Arc::new(Self(Box::new(move |call| Box::pin(decide(call)))))
    }
}

#[async_trait]
impl Approver for FnApprover {
    async fn decide(&self, call: &PendingCall) -> Decision {
        (self.0)(call.clone()).await
    }
}

fn approve() -> Decision {
    Decision::Approve {
        by: "tester".into(),
    }
}

fn reject(reason: &str) -> Decision {
    Decision::Reject {
        by: "tester".into(),
        reason: reason.into(),
    }
}

#[bounded_test]
async fn a_denied_call_fails_at_once_with_a_call_denied_error() -> Result<()> {
    let (grants, counts) = counted();
    let policy = policy(&[("*.delete_*", Action::Deny)], Action::Allow);
    let caught = "async () => { try { await test.delete_all({}); return 'made' } \
                  catch (e) { return [e instanceof CallDeniedError, e instanceof ConnectorError, e.code, e.call, e.message] } }";
    let outcome = run_with(
        Execution::new(caught)
            .grants(Arc::clone(&grants))
            .policy(Arc::clone(&policy)),
    )
    .await;
    assert_result(
        &outcome,
        json!([
            true,
            true,
            "policy-denied",
            "test.delete_all",
            "`test.delete_all` is denied by the rule `*.delete_*`"
        ]),
    );
    let uncaught = run_with(
        Execution::new("await test.delete_all({})")
            .grants(grants)
            .policy(policy),
    )
    .await;
    assert_kind(&uncaught, ErrorKind::Denied);
    assert_eq!(counts.lock().expect("not poisoned").get("delete_all"), None);
    Ok(())
}

#[bounded_test]
async fn a_rejected_call_rejects_its_promise_and_uncaught_ends_the_run_rejected() -> Result<()> {
    let (grants, counts) = counted();
    let approver = FnApprover::new(|_| async { reject("not on a Friday") });
    let run = |code: &str| {
        run_with(
            Execution::new(code)
                .grants(Arc::clone(&grants))
                .policy(policy(&[], Action::Approve))
                .approver(approver.clone()),
        )
    };
    let caught = run("async () => { try { await test.create({ name: 'x' }) } \
         catch (e) { return [e instanceof ApprovalRejectedError, e.reason, e.call, e.code] } }")
    .await;
    assert_result(
        &caught,
        json!([true, "not on a Friday", "test.create", "approval-rejected"]),
    );
    let uncaught = run("await test.create({ name: 'x' })").await;
    let error = assert_kind(&uncaught, ErrorKind::Rejected);
    assert!(
        error.message.contains("not on a Friday"),
        "{}",
        show(&uncaught)
    );
    // Read-only methods pass a default of `approve` with no rule.
    let read = run("(await test.read({})).method").await;
    assert_result(&read, json!("read"));
    assert_eq!(counts.lock().expect("not poisoned").get("create"), None);
    Ok(())
}

#[bounded_test]
async fn without_an_approver_a_gated_call_is_rejected() -> Result<()> {
    let (grants, _) = counted();
    let outcome = run_with(
        Execution::new(
            "async () => { try { await test.create({}) } catch (e) { return e.reason } }",
        )
        .grants(grants)
        .policy(policy(&[], Action::Approve)),
    )
    .await;
    let reason = result(&outcome);
    assert!(
        reason.as_str().is_some_and(|r| r.contains("no approver")),
        "{reason}"
    );
    Ok(())
}

#[bounded_test]
async fn waiting_for_a_person_does_not_count_against_the_deadline() -> Result<()> {
    let (grants, _) = counted();
    let slow = FnApprover::new(|_| async {
        tokio::time::sleep(Duration::from_millis(600)).await;
        approve()
    });
    let outcome = run_with(
        Execution::new("(await test.create({ n: 1 })).method")
            .grants(grants)
            .limits(limits(|l| l.timeout = Duration::from_millis(300)))
            .policy(policy(&[], Action::Approve))
            .approver(slow),
    )
    .await;
    assert_result(&outcome, json!("create"));
    Ok(())
}

#[bounded_test]
async fn a_wait_past_the_approval_timeout_is_rejected_as_expired() -> Result<()> {
    let (grants, counts) = counted();
    let never = FnApprover::new(|_| std::future::pending());
    let policy =
        Policy::new(Vec::new(), Action::Approve)?.approval_timeout(Duration::from_millis(100));
    let outcome = run_with(
        Execution::new(
            "async () => { try { await test.create({}) } catch (e) { return [e.name, e.reason] } }",
        )
        .grants(grants)
        .policy(Arc::new(policy))
        .approver(never),
    )
    .await;
    assert_result(&outcome, json!(["ApprovalRejectedError", "expired"]));
    assert_eq!(counts.lock().expect("not poisoned").get("create"), None);
    Ok(())
}

/// A journal in memory: what a store would commit, for replaying.
struct MemoryJournal(Mutex<Vec<Entry>>);

impl Journal for MemoryJournal {
    fn run(&self) -> &str {
        "r_test"
    }

    fn append(&self, entries: &[Entry]) -> Result<(), JournalError> {
        self.0
            .lock()
            .expect("not poisoned")
            .extend_from_slice(entries);
        Ok(())
    }
}

impl MemoryJournal {
    fn entries(&self) -> Vec<Entry> {
        self.0.lock().expect("not poisoned").clone()
    }
}

const SEED: [u8; 32] = [7; 32];

/// Run `code` durably from `entries`, logging to `logs`.
fn durable(
    code: &str,
    grants: &Arc<Grants>,
    journal: &Arc<MemoryJournal>,
    approver: Arc<dyn Approver>,
    logs: &Arc<Mutex<Vec<String>>>,
) -> Execution {
    let logs = Arc::clone(logs);
    Execution::new(code)
        .grants(Arc::clone(grants))
        .policy(policy(&[("test.echo", Action::Allow)], Action::Approve))
        .approver(approver)
        .durable(
            Arc::clone(journal) as Arc<dyn Journal>,
            Replay {
                seed: SEED,
                entries: journal.entries(),
            },
        )
        .on_log(move |line: &LogEntry| logs.lock().expect("not poisoned").push(line.text.clone()))
}

/// Five gated calls and five allowed ones in one `Promise.all`, with the
/// clocks and random sources read before and after.
const MIXED: &str = r#"async () => {
const before = { random: Math.random(), now: Date.now(), uuid: crypto.randomUUID() };
console.log(JSON.stringify(before));
await new Promise((resolve) => setTimeout(resolve, 5));
const calls = [];
for (let i = 0; i < 5; i++) {
  calls.push(test.create({ i, pause: 5 * (5 - i) }));
  calls.push(test.echo({ i, pause: 3 * i }));
}
const replies = await Promise.all(calls);
const after = { random: Math.random(), uuid: crypto.randomUUID() };
return { before, after, replies };
}"#;

/// Approves each gated call once all five wait, in reverse order.
fn reverse_order_approver(released: Arc<Notify>) -> Arc<dyn Approver> {
    let waiting = Arc::new(Mutex::new(0u32));
    FnApprover::new(move |call: PendingCall| {
        let waiting = Arc::clone(&waiting);
        let released = Arc::clone(&released);
        async move {
            assert_eq!(call.waiting, Waiting::Approval);
            let i = call.args["i"].as_u64().unwrap_or(0);
            let notified = released.notified();
            let last = {
                let mut waiting = waiting.lock().expect("not poisoned");
                *waiting += 1;
                *waiting == 5
            };
            if last {
                released.notify_waiters();
            } else {
                notified.await;
            }
            tokio::time::sleep(Duration::from_millis(10 * (5 - i))).await;
            approve()
        }
    })
}

#[bounded_test]
async fn a_durable_run_resumed_after_its_process_died_makes_no_call_twice() -> Result<()> {
    let (grants, counts) = counted();
    let journal = Arc::new(MemoryJournal(Mutex::new(Vec::new())));
    let logs = Arc::default();

    // The first attempt dies while every gated call waits: its store is
    // dropped, as with kill -9 (nothing after the journal's last commit
    // survives).
    let never = FnApprover::new(|_| std::future::pending());
    let first = durable(MIXED, &grants, &journal, never, &logs);
    let died = tokio::time::timeout(Duration::from_millis(500), run_with(first)).await;
    assert!(
        died.is_err(),
        "the first attempt ended: {:?}",
        died.map(|o| show(&o))
    );
    assert_eq!(counts.lock().expect("not poisoned").get("echo"), Some(&5));
    assert_eq!(counts.lock().expect("not poisoned").get("create"), None);

    // The resumed run: approved in reverse order.
    let released = Arc::new(Notify::new());
    let resumed = durable(
        MIXED,
        &grants,
        &journal,
        reverse_order_approver(released),
        &logs,
    );
    let outcome: Outcome = run_with(resumed).await;
    let resumed = result(&outcome);
    let counts = counts.lock().expect("not poisoned").clone();
    assert_eq!(
        counts.get("echo"),
        Some(&5),
        "an allowed call was made again"
    );
    assert_eq!(counts.get("create"), Some(&5));

    // The clocks and random sources read as before the pause. The line
    // written before it is in the outcome, and went to the sink once: not
    // again as the resumed run replayed it.
    let logs = logs.lock().expect("not poisoned").clone();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let lines: Vec<&str> = outcome.logs.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        lines,
        [logs[0].as_str()],
        "the resumed run logged other values"
    );
    let before: Value = serde_json::from_str(&logs[0])?;
    assert_eq!(resumed["before"], before);

    // The same as an ungated run of the same code with the same seed.
    let plain = run_with(Execution::new(MIXED).grants(counted().0)).await;
    assert_eq!(resumed["replies"], result(&plain)["replies"]);
    let journaled = journal.entries();
    assert!(
        !journaled
            .iter()
            .any(|e| matches!(e, Entry::Diverged { .. })),
        "{journaled:?}"
    );
    Ok(())
}

#[bounded_test]
async fn a_call_in_doubt_waits_for_a_person_who_may_give_its_result() -> Result<()> {
    let (grants, counts) = counted();
    let journal = Arc::new(MemoryJournal(Mutex::new(Vec::new())));
    let logs = Arc::default();
    // A call journaled as started, whose process died before its reply.
    let code = "(await test.echo({ pause: 2000 })).note";
    let first = durable(
        code,
        &grants,
        &journal,
        FnApprover::new(|_| async { approve() }),
        &logs,
    );
    assert!(
        tokio::time::timeout(Duration::from_millis(300), run_with(first))
            .await
            .is_err()
    );
    assert_eq!(counts.lock().expect("not poisoned").get("echo"), Some(&1));

    let asked: Arc<Mutex<Vec<Waiting>>> = Arc::default();
    let seen = Arc::clone(&asked);
    let resolver = FnApprover::new(move |call: PendingCall| {
        seen.lock().expect("not poisoned").push(call.waiting);
        async {
            Decision::Resolve {
                by: "tester".into(),
                result: json!({ "note": "it had happened" }),
            }
        }
    });
    let outcome = run_with(durable(code, &grants, &journal, resolver, &logs)).await;
    assert_result(&outcome, json!("it had happened"));
    assert_eq!(*asked.lock().expect("not poisoned"), [Waiting::InDoubt]);
    assert_eq!(
        counts.lock().expect("not poisoned").get("echo"),
        Some(&1),
        "retried silently"
    );
    Ok(())
}

#[bounded_test]
async fn resumed_code_that_diverges_is_recorded_and_goes_on_live() -> Result<()> {
    let (grants, counts) = counted();
    let journal = Arc::new(MemoryJournal(Mutex::new(Vec::new())));
    let logs = Arc::default();
    let allow = FnApprover::new(|_| async { approve() });
    let first = durable(
        "await test.echo({ a: 1 }); 1",
        &grants,
        &journal,
        allow.clone(),
        &logs,
    );
    assert_ok(&run_with(first).await);
    let changed = durable(
        "await test.echo({ a: 2 }); 2",
        &grants,
        &journal,
        allow,
        &logs,
    );
    assert_result(&run_with(changed).await, json!(2));
    assert_eq!(counts.lock().expect("not poisoned").get("echo"), Some(&2));
    let diverged: Vec<_> = journal
        .entries()
        .into_iter()
        .filter_map(|e| match e {
            Entry::Diverged { what, call } => Some((what, call)),
            _ => None,
        })
        .collect();
    assert!(
        diverged
            .iter()
            .any(|(what, _)| what.contains("new call of `test.echo`")),
        "{diverged:?}"
    );
    assert!(
        diverged
            .iter()
            .any(|(what, call)| *call == Some(1) && what.contains("never made again")),
        "{diverged:?}"
    );
    Ok(())
}
