//! Waits and decisions: recorded once, whoever decides and however often.

use std::sync::{Arc, Barrier};

use anyhow::Result;
use codemode_runtime::{Action, Because, Decision, Entry, Journal, Waiting};
use serde_json::json;

use super::{Backend, call_entry, call_wait, new_run, on_both_backends, store};
use crate::{Decided, RunStore, StoreError};

fn approve(by: &str) -> Decision {
    Decision::Approve { by: by.into() }
}

fn deciding_twice_keeps_the_first_decision(backend: Backend) -> Result<()> {
    let (store, _place) = store(backend, "decide-twice");
    let id = store.create(&new_run("1"))?;
    let (args, because) = (json!({ "entities": [] }), Because::Rule("memory.*".into()));
    let wait = call_wait(&id, 2, Waiting::Approval, &args, &because);
    store.record_wait(&wait)?;
    store.record_wait(&wait)?;
    let pending = store.pending(Some(&id))?;
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (
            pending[0].call,
            pending[0].name(),
            &pending[0].args,
            &pending[0].because
        ),
        (2, "memory.create_entities".to_owned(), &args, &because)
    );

    assert_eq!(store.decide(&id, 2, &approve("ana"))?, Decided::Recorded);
    let reject = Decision::Reject {
        by: "bob".into(),
        reason: "no".into(),
    };
    assert_eq!(
        store.decide(&id, 2, &reject)?,
        Decided::Already(approve("ana"))
    );
    assert_eq!(
        store.decide(&id, 2, &approve("ana"))?,
        Decided::Already(approve("ana"))
    );
    assert_eq!(
        store.decision(&id, 2, Waiting::Approval)?,
        Some(approve("ana"))
    );
    assert!(store.pending(None)?.is_empty());
    let record = store.load(&id)?;
    assert_eq!(record.decisions.len(), 1);
    assert_eq!(record.decisions[0].decision, approve("ana"));
    assert!(record.waits[0].decided.is_some());
    Ok(())
}
on_both_backends!(fn deciding_twice_keeps_the_first_decision);

fn a_call_that_does_not_wait_is_refused_with_the_calls_that_do(backend: Backend) -> Result<()> {
    let (store, _place) = store(backend, "not-waiting");
    let id = store.create(&new_run("1"))?;
    let (args, because) = (json!({}), Because::Default);
    let refusal = |store: &RunStore| {
        store
            .decide(&id, 3, &approve("ana"))
            .map_err(|e| e.to_string())
    };
    assert_eq!(
        refusal(&store),
        Err(format!(
            "call 3 of run `{id}` is not waiting for a decision (none of its calls is waiting)"
        ))
    );
    for call in [2, 5] {
        store.record_wait(&call_wait(&id, call, Waiting::Approval, &args, &because))?;
    }
    assert_eq!(
        refusal(&store),
        Err(format!(
            "call 3 of run `{id}` is not waiting for a decision (waiting: 2, 5)"
        ))
    );
    store.finish(&id, false, &json!({}))?;
    assert!(
        store.pending(None)?.is_empty(),
        "an ended run waits no more"
    );
    assert!(matches!(
        store.decide(&id, 2, &approve("ana")),
        Err(StoreError::NotWaiting { waiting, .. }) if waiting.is_empty()
    ));
    Ok(())
}
on_both_backends!(fn a_call_that_does_not_wait_is_refused_with_the_calls_that_do);

fn a_gated_call_in_the_journal_can_be_decided_before_it_waits(backend: Backend) -> Result<()> {
    let (store, _place) = store(backend, "decide-early");
    let id = store.create(&new_run("1"))?;
    let journal = store.journal(&id)?;
    journal.append(&[
        call_entry(1, Action::Approve),
        call_entry(2, Action::Allow),
        call_entry(3, Action::Approve),
        Entry::Started { call: 3, at: 4 },
    ])?;
    assert_eq!(store.decide(&id, 1, &approve("ana"))?, Decided::Recorded);
    for call in [2, 3] {
        assert!(matches!(
            store.decide(&id, call, &approve("ana")),
            Err(StoreError::NotWaiting { .. })
        ));
    }
    let (args, because) = (json!({}), Because::Default);
    store.record_wait(&call_wait(&id, 1, Waiting::Approval, &args, &because))?;
    assert_eq!(
        store.decision(&id, 1, Waiting::Approval)?,
        Some(approve("ana"))
    );
    assert!(store.pending(Some(&id))?.is_empty());
    Ok(())
}
on_both_backends!(fn a_gated_call_in_the_journal_can_be_decided_before_it_waits);

fn a_call_in_doubt_is_decided_apart_from_its_approval(backend: Backend) -> Result<()> {
    let (store, _place) = store(backend, "in-doubt");
    let id = store.create(&new_run("1"))?;
    let (args, because) = (json!({}), Because::Default);
    store.record_wait(&call_wait(&id, 1, Waiting::Approval, &args, &because))?;
    store.decide(&id, 1, &approve("ana"))?;
    store.record_wait(&call_wait(&id, 1, Waiting::InDoubt, &args, &because))?;
    assert_eq!(store.pending(Some(&id))?[0].waiting, Waiting::InDoubt);
    let resolve = Decision::Resolve {
        by: "bob".into(),
        result: json!({ "created": 1 }),
    };
    assert_eq!(store.decide(&id, 1, &resolve)?, Decided::Recorded);
    assert_eq!(
        store.decision(&id, 1, Waiting::InDoubt)?,
        Some(resolve.clone())
    );
    assert_eq!(
        store.decision(&id, 1, Waiting::Approval)?,
        Some(approve("ana"))
    );
    assert_eq!(
        store.decide(&id, 1, &approve("cy"))?,
        Decided::Already(resolve)
    );

    store.record_wait(&call_wait(&id, 2, Waiting::Approval, &args, &because))?;
    let resolved = store.decide(
        &id,
        2,
        &Decision::Resolve {
            by: "bob".into(),
            result: json!(1),
        },
    );
    assert_eq!(
        resolved.map_err(|e| e.to_string()),
        Err(format!(
            "call 2 of run `{id}` waits for approval, not in doubt: approve or reject it"
        ))
    );
    Ok(())
}
on_both_backends!(fn a_call_in_doubt_is_decided_apart_from_its_approval);

/// Two deciders at once on each of `calls` calls, `decide` being how each
/// decides: exactly one decision is recorded, and both see it.
fn race(
    store: &RunStore,
    calls: u32,
    decide: impl Fn(usize, &str, u32) -> crate::Result<Decided> + Send + Sync + 'static,
) -> Result<()> {
    let id = store.create(&new_run("1"))?;
    let (args, because) = (json!({}), Because::Default);
    for call in 1..=calls {
        store.record_wait(&call_wait(&id, call, Waiting::Approval, &args, &because))?;
    }
    let decide = Arc::new(decide);
    let barrier = Arc::new(Barrier::new(2));
    let deciders: Vec<_> = (0..2)
        .map(|decider| {
            let (decide, barrier, id) = (decide.clone(), barrier.clone(), id.clone());
            std::thread::spawn(move || {
                (1..=calls)
                    .map(|call| {
                        barrier.wait();
                        decide(decider, &id, call)
                    })
                    .collect::<crate::Result<Vec<Decided>>>()
            })
        })
        .collect();
    let outcomes: Vec<Vec<Decided>> = deciders
        .into_iter()
        .map(|decider| decider.join().expect("a decider thread"))
        .collect::<Result<_, _>>()?;
    for call in 1..=calls {
        let index = usize::try_from(call - 1)?;
        let (first, second) = (&outcomes[0][index], &outcomes[1][index]);
        let stands = store.decision(&id, call, Waiting::Approval)?;
        let standing = |decider: usize, decided: &Decided| {
            decided.clone().standing(&approve(&decider.to_string()))
        };
        assert_eq!(
            [first, second]
                .iter()
                .filter(|decided| ***decided == Decided::Recorded)
                .count(),
            1,
            "call {call}: {first:?} {second:?}"
        );
        assert_eq!(Some(standing(0, first)), stands);
        assert_eq!(Some(standing(1, second)), stands);
    }
    Ok(())
}

fn two_threads_deciding_at_once_record_one_decision(backend: Backend) -> Result<()> {
    let (store, _place) = store(backend, "race-threads");
    let shared = store.clone();
    race(&store, 50, move |decider, run, call| {
        shared.decide(run, call, &approve(&decider.to_string()))
    })
}
on_both_backends!(fn two_threads_deciding_at_once_record_one_decision);

fn two_stores_on_one_file_deciding_at_once_record_one_decision(backend: Backend) -> Result<()> {
    let (store, place) = store(backend, "race-stores");
    let stores = [RunStore::at(&place.state)?, RunStore::at(&place.state)?];
    race(&store, 50, move |decider, run, call| {
        stores[decider].decide(run, call, &approve(&decider.to_string()))
    })
}
on_both_backends!(fn two_stores_on_one_file_deciding_at_once_record_one_decision);
