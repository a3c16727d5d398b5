//! A new run's recording: nothing written until its first commit, then its
//! record, lock and entries together; one commit and no lock for a run
//! that commits nothing before its outcome; an id already taken refused
//! before anything is written.

use anyhow::Result;
use codemode_runtime::{Action, Journal};
use serde_json::json;

use super::{Backend, call_entry, new_run, on_both_backends, store};
use crate::journal::Recording;
use crate::lock::{LockError, RunLock};
use crate::store::fresh_id;
use crate::{Status, StoreError};

fn a_new_run_is_recorded_with_its_first_entries_and_locked_until_it_ends(
    backend: Backend,
) -> Result<()> {
    let (store, place) = store(backend, "recording-first");
    let id = fresh_id();
    let recording = Recording::new_run(store.clone(), id.clone(), new_run("1"), 5);
    assert_eq!(recording.replay()?.seed, [9; 32]);
    assert!(recording.replay()?.entries.is_empty());

    recording.append(&[])?;
    assert!(
        matches!(store.load(&id), Err(StoreError::UnknownRun { .. })),
        "nothing committed, nothing recorded"
    );
    recording.append(&[call_entry(1, Action::Allow)])?;
    let record = store.load(&id)?;
    assert_eq!(
        (record.status, record.created, record.entries.len()),
        (Status::Running, 5, 1)
    );
    assert!(
        matches!(RunLock::take(&store, &id), Err(LockError::Busy)),
        "recorded, it is locked: no other process resumes it"
    );
    recording.append(&[call_entry(2, Action::Allow)])?;
    assert_eq!(recording.replay()?.entries.len(), 2);

    recording.finish(true, &json!({ "ok": true }))?;
    let record = store.load(&id)?;
    assert_eq!(record.status, Status::Succeeded);
    assert_eq!(record.outcome, Some(json!({ "ok": true })));
    assert!(!place.lock_file(&id).exists(), "its lock file was removed");
    drop(
        RunLock::take(&store, &id)
            .ok()
            .expect("ended, it is unlocked"),
    );
    Ok(())
}
on_both_backends!(fn a_new_run_is_recorded_with_its_first_entries_and_locked_until_it_ends);

fn a_new_run_that_commits_nothing_is_recorded_once_with_its_outcome_and_no_lock(
    backend: Backend,
) -> Result<()> {
    let (store, place) = store(backend, "recording-outcome");
    let id = fresh_id();
    let recording = Recording::new_run(store.clone(), id.clone(), new_run("1 + 1"), 7);
    recording.finish(false, &json!({ "ok": false }))?;
    let record = store.load(&id)?;
    assert_eq!(
        (record.status, record.code.as_str(), record.created),
        (Status::Failed, "1 + 1", 7)
    );
    assert_eq!(record.outcome, Some(json!({ "ok": false })));
    assert!(record.entries.is_empty());
    assert!(!place.dir.join("locks").exists(), "no lock file was made");
    Ok(())
}
on_both_backends!(fn a_new_run_that_commits_nothing_is_recorded_once_with_its_outcome_and_no_lock);

fn a_new_run_whose_id_is_taken_is_refused_before_it_writes_anything(
    backend: Backend,
) -> Result<()> {
    let (store, _place) = store(backend, "recording-taken");
    let taken = store.create(&new_run("1"))?;
    store
        .journal(&taken)?
        .append(&[call_entry(1, Action::Allow)])?;

    let recording = Recording::new_run(store.clone(), taken.clone(), new_run("2"), 7);
    let error = recording
        .append(&[call_entry(1, Action::Deny)])
        .expect_err("the id is another run's");
    assert!(
        error
            .0
            .contains(&format!("the id `{taken}` drawn for a new run is taken")),
        "{}",
        error.0
    );
    let other = Recording::new_run(store.clone(), taken.clone(), new_run("3"), 7);
    let error = other
        .finish(true, &json!({ "ok": true }))
        .expect_err("the id is another run's");
    assert!(matches!(error, StoreError::IdTaken { .. }), "{error}");

    let record = store.load(&taken)?;
    assert_eq!((record.code.as_str(), record.entries.len()), ("1", 1));
    assert_eq!((record.status, record.outcome), (Status::Running, None));
    Ok(())
}
on_both_backends!(fn a_new_run_whose_id_is_taken_is_refused_before_it_writes_anything);
