//! The store as the runtime's approver: decisions from another store on
//! the same file, from a person asked in this process, and at expiry.

use std::time::Duration;

use anyhow::Result;
use codemode_runtime::{Because, Decision, Waiting};
use serde_json::json;

use super::{Backend, call_wait, new_run, on_both_backends, store};
use crate::{Decided, RunStore, StoreApprover};

/// An approver in this process that never answers.
fn silent() -> Option<std::future::Pending<Decision>> {
    None
}

async fn a_decision_from_another_store_reaches_the_waiting_run(backend: Backend) -> Result<()> {
    let (store, place) = store(backend, "approver-other");
    let id = store.create(&new_run("1"))?;
    let approver = StoreApprover::new(store.clone());
    let waiting = {
        let id = id.clone();
        tokio::spawn(async move {
            let (args, because) = (json!({}), Because::Default);
            approver
                .decision(
                    &call_wait(&id, 4, Waiting::Approval, &args, &because),
                    silent(),
                )
                .await
        })
    };
    let other = RunStore::at(&place.state)?;
    while other.pending(Some(&id))?.is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let approve = Decision::Approve { by: "ana".into() };
    assert_eq!(other.decide(&id, 4, &approve)?, Decided::Recorded);
    let decided = tokio::time::timeout(Duration::from_secs(5), waiting).await???;
    assert_eq!(decided, approve);
    Ok(())
}
on_both_backends!(async fn a_decision_from_another_store_reaches_the_waiting_run, #[tokio::test(flavor = "multi_thread", worker_threads = 2)]);

async fn the_person_asked_here_decides_when_first(backend: Backend) -> Result<()> {
    let (store, _place) = store(backend, "approver-asked");
    let id = store.create(&new_run("1"))?;
    let approver = StoreApprover::new(store.clone());
    let (args, because) = (json!({}), Because::Default);
    let call = call_wait(&id, 1, Waiting::Approval, &args, &because);
    let asked = Decision::Reject {
        by: "prompt".into(),
        reason: "not now".into(),
    };
    assert_eq!(
        approver
            .decision(&call, Some(async { asked.clone() }))
            .await?,
        asked
    );
    assert_eq!(store.decision(&id, 1, Waiting::Approval)?, Some(asked));
    Ok(())
}
on_both_backends!(async fn the_person_asked_here_decides_when_first, #[tokio::test]);

async fn a_decision_recorded_first_beats_the_person_asked_here(backend: Backend) -> Result<()> {
    let (store, _place) = store(backend, "approver-recorded");
    let id = store.create(&new_run("1"))?;
    let (args, because) = (json!({}), Because::Default);
    let call = call_wait(&id, 1, Waiting::Approval, &args, &because);
    store.record_wait(&call)?;
    let recorded = Decision::Approve { by: "ana".into() };
    store.decide(&id, 1, &recorded)?;
    let late = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Decision::Approve {
            by: "prompt".into(),
        }
    };
    let approver = StoreApprover::new(store.clone());
    assert_eq!(approver.decision(&call, Some(late)).await?, recorded);
    Ok(())
}
on_both_backends!(async fn a_decision_recorded_first_beats_the_person_asked_here, #[tokio::test]);

async fn expiry_and_an_approval_at_the_same_moment_agree(backend: Backend) -> Result<()> {
    let (store, place) = store(backend, "approver-expiry");
    let id = store.create(&new_run("1"))?;
    let other = RunStore::at(&place.state)?;
    let approver = StoreApprover::new(store.clone());
    let (args, because) = (json!({}), Because::Default);
    let mut outcomes = [0, 0];
    for call in 1..=30 {
        store.record_wait(&call_wait(&id, call, Waiting::Approval, &args, &because))?;
        let approving = {
            let (other, id) = (other.clone(), id.clone());
            tokio::task::spawn_blocking(move || {
                other.decide(&id, call, &Decision::Approve { by: "ana".into() })
            })
        };
        let expired = approver.expiry(&call_wait(&id, call, Waiting::Approval, &args, &because))?;
        let approved = approving.await??;
        let stands = store.decision(&id, call, Waiting::Approval)?;
        assert_eq!(Some(&expired), stands.as_ref());
        match approved {
            Decided::Recorded => {
                assert_eq!(expired, Decision::Approve { by: "ana".into() });
                outcomes[0] += 1;
            }
            Decided::Already(decision) => {
                assert_eq!(decision, expired);
                assert_eq!(expired.by(), "codemode");
                outcomes[1] += 1;
            }
        }
    }
    eprintln!(
        "approved first {} times, expired first {} times",
        outcomes[0], outcomes[1]
    );
    Ok(())
}
on_both_backends!(async fn expiry_and_an_approval_at_the_same_moment_agree, #[tokio::test(flavor = "multi_thread", worker_threads = 2)]);
