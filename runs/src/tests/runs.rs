//! A run's life: created, journaled, read back, listed, finished, rolled
//! back; and a store of an older schema, migrated with its runs.

use anyhow::Result;
use codemode_runtime::{Action, CallFailure, Entry, Journal, Language, LogLevel, Waiting};
use serde_json::json;

use super::{Backend, call_entry, call_wait, new_run, on_both_backends, store};
use crate::sql::args;
use crate::{RunStore, Status, StoreError};

fn a_run_reads_back_as_created_and_journaled(backend: Backend) -> Result<()> {
    let (store, _place) = store(backend, "round-trip");
    let id = store.create(&new_run("await memory.create_entities({ entities: [] })"))?;
    assert!(id.starts_with("r_") && id.len() == 14, "{id}");
    assert_ne!(store.create(&new_run("1"))?, id);

    let journal = store.journal(&id)?;
    assert_eq!(journal.run(), id);
    let first = vec![
        call_entry(1, Action::Allow),
        Entry::Started { call: 1, at: 2 },
    ];
    let second = vec![
        Entry::Finished {
            call: 1,
            ready: false,
            reply: Err(CallFailure {
                code: "connector".into(),
                message: "down".into(),
            }),
            at: 3,
        },
        Entry::Log {
            level: LogLevel::Warn,
            text: "it failed".into(),
        },
    ];
    journal.append(&first)?;
    journal.append(&second)?;
    store.finish(&id, false, &json!({ "error": { "kind": "connector" } }))?;

    let record = store.load(&id)?;
    assert_eq!(
        record.code,
        "await memory.create_entities({ entities: [] })"
    );
    assert_eq!(record.language, Language::JavaScript);
    assert_eq!(
        record.grants,
        vec![("memory".to_owned(), vec!["create_entities".to_owned()])]
    );
    assert_eq!(record.limits, json!({ "timeoutMs": 5000 }));
    assert_eq!(record.seed, [9; 32]);
    assert_eq!(record.origin, "run");
    assert_eq!(record.status, Status::Failed);
    assert_eq!(
        record.outcome,
        Some(json!({ "error": { "kind": "connector" } }))
    );
    assert!(record.created <= record.updated);
    let all: Vec<Entry> = first.into_iter().chain(second).collect();
    assert_eq!(record.entries, all);

    let replay = store.replay(&id)?;
    assert_eq!(replay.seed, [9; 32]);
    assert_eq!(replay.entries, all);
    Ok(())
}
on_both_backends!(fn a_run_reads_back_as_created_and_journaled);

fn runs_are_listed_newest_first_and_by_status(backend: Backend) -> Result<()> {
    let (store, _place) = store(backend, "list");
    let ids: Vec<String> = (0..5)
        .map(|i| store.create(&new_run(&i.to_string())))
        .collect::<Result<_, _>>()?;
    store.finish(&ids[0], true, &json!(1))?;
    store.finish(&ids[1], false, &json!(2))?;
    store.set_status(&ids[2], Status::RolledBack)?;
    let (args, because) = (json!({}), codemode_runtime::Because::Default);
    store.record_wait(&call_wait(&ids[3], 1, Waiting::Approval, &args, &because))?;

    let listed = |status| -> Result<Vec<String>> {
        Ok(store.list(status)?.into_iter().map(|run| run.id).collect())
    };
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(listed(None)?, newest_first);
    assert_eq!(listed(Some(Status::Succeeded))?, [ids[0].clone()]);
    assert_eq!(listed(Some(Status::Failed))?, [ids[1].clone()]);
    assert_eq!(listed(Some(Status::RolledBack))?, [ids[2].clone()]);
    assert_eq!(listed(Some(Status::Waiting))?, [ids[3].clone()]);
    assert_eq!(listed(Some(Status::Running))?, [ids[4].clone()]);
    assert_eq!(store.list(Some(Status::Waiting))?[0].waiting, 1);
    assert_eq!(store.load(&ids[3])?.status, Status::Waiting);

    assert!(matches!(
        store.set_status(&ids[4], Status::Waiting),
        Err(StoreError::DerivedStatus)
    ));
    Ok(())
}
on_both_backends!(fn runs_are_listed_newest_first_and_by_status);

fn an_unknown_run_is_named_with_the_file(backend: Backend) -> Result<()> {
    let (store, _place) = store(backend, "unknown-run");
    let expected = format!("no run `r_nope` in {}", store.file().display());
    let message = |error: StoreError| error.to_string();
    assert_eq!(
        store.load("r_nope").map(drop).map_err(message),
        Err(expected.clone())
    );
    assert_eq!(
        store.journal("r_nope").map(drop).map_err(message),
        Err(expected.clone())
    );
    assert_eq!(
        store.replay("r_nope").map(drop).map_err(message),
        Err(expected.clone())
    );
    assert_eq!(
        store
            .decide(
                "r_nope",
                1,
                &codemode_runtime::Decision::Approve { by: "ana".into() }
            )
            .map(drop)
            .map_err(message),
        Err(expected.clone())
    );
    assert_eq!(
        store.finish("r_nope", true, &json!(null)).map_err(message),
        Err(expected.clone())
    );
    assert_eq!(
        store.pending(Some("r_nope")).map(drop).map_err(message),
        Err(expected)
    );
    Ok(())
}
on_both_backends!(fn an_unknown_run_is_named_with_the_file);

fn a_store_reopened_has_its_runs(backend: Backend) -> Result<()> {
    let (store, place) = store(backend, "reopen");
    let id = store.create(&new_run("1"))?;
    store
        .journal(&id)?
        .append(&[call_entry(1, Action::Allow)])?;
    drop(store);
    let again = RunStore::at(&place.state)?;
    assert_eq!(again.load(&id)?.entries, [call_entry(1, Action::Allow)]);
    Ok(())
}
on_both_backends!(fn a_store_reopened_has_its_runs);

fn an_applied_undo_stays_applied_and_a_failed_one_can_be_retried(backend: Backend) -> Result<()> {
    let (store, _place) = store(backend, "undo");
    let id = store.create(&new_run("1"))?;
    assert!(!store.undo_done(&id, 2)?);
    store.record_undo(&id, 2, None, Err("upstream down".into()))?;
    assert!(!store.undo_done(&id, 2)?);
    assert_eq!(
        store.load(&id)?.undos[0].result,
        Err("upstream down".to_owned())
    );
    store.record_undo(&id, 2, Some("r_undo"), Ok(()))?;
    assert!(store.undo_done(&id, 2)?);
    store.record_undo(&id, 2, None, Err("again".into()))?;
    let undo = &store.load(&id)?.undos[0];
    assert_eq!(
        (undo.call, &undo.result, undo.undo_run.as_deref()),
        (2, &Ok(()), Some("r_undo"))
    );
    assert!(matches!(
        store.undo_done("r_nope", 2),
        Err(StoreError::UnknownRun { .. })
    ));
    Ok(())
}
on_both_backends!(fn an_applied_undo_stays_applied_and_a_failed_one_can_be_retried);

/// Take `store` back to schema version 1, as a codemode of that version
/// left it: without the index version 2 adds.
fn back_to_version_1(backend: Backend, store: &RunStore) -> Result<()> {
    let undo: &[&str] = match backend {
        Backend::Sqlite => &["DROP INDEX runs_by_status", "PRAGMA user_version = 1"],
        Backend::Postgres => &[
            "DROP INDEX runs_by_status",
            "DELETE FROM codemode_schema WHERE version = 2",
        ],
    };
    store.write(|tx| {
        for sql in undo {
            tx.query(sql, args![])?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Whether `store` has the index version 2 adds.
fn has_status_index(backend: Backend, store: &RunStore) -> Result<bool> {
    let sql = match backend {
        Backend::Sqlite => "SELECT count(*) FROM sqlite_schema WHERE name = 'runs_by_status'",
        Backend::Postgres => "SELECT count(*) FROM pg_indexes WHERE indexname = 'runs_by_status'",
    };
    Ok(store.with(|tx| tx.one(sql, args![])?.get::<u64>(0))? == 1)
}

fn an_older_schema_is_migrated_and_keeps_its_runs(backend: Backend) -> Result<()> {
    let (store, place) = store(backend, "migrate");
    let id = store.create(&new_run("1"))?;
    assert!(has_status_index(backend, &store)?);
    back_to_version_1(backend, &store)?;
    assert!(!has_status_index(backend, &store)?);
    drop(store);
    let store = RunStore::at(&place.state)?;
    assert!(has_status_index(backend, &store)?, "migrated to version 2");
    assert_eq!(store.load(&id)?.code, "1");
    assert_eq!(store.unfinished()?, [id]);
    Ok(())
}
on_both_backends!(fn an_older_schema_is_migrated_and_keeps_its_runs);

#[test]
fn a_postgres_store_whose_lock_connection_ends_stops_writing() -> Result<()> {
    let (store, place) = store(Backend::Postgres, "lock-connection");
    let id = store.create(&new_run("1"))?;
    let lock = crate::lock::RunLock::take(&store, &id).ok();
    assert!(lock.is_some(), "the run's lock is taken");
    // The server ends the connection that holds the run's lock (and only
    // it: the store's others go on), as a broken network would.
    let url = place.state.display().to_string();
    let ended = std::process::Command::new("psql")
        .args([url.as_str(), "-qAtc"])
        .arg(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .output()?;
    assert!(
        ended.status.success(),
        "{}",
        String::from_utf8_lossy(&ended.stderr)
    );
    let started = std::time::Instant::now();
    let refusal = loop {
        let error = match store.create(&new_run("2")) {
            Err(error) if error.to_string().contains("so that no call is made twice") => {
                break error.to_string();
            }
            Err(error) => error.to_string(),
            Ok(_) => "it wrote".to_owned(),
        };
        anyhow::ensure!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "the store does not refuse to write after its lock connection ended: {error}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(
        refusal.contains("so that no call is made twice"),
        "{refusal}"
    );
    // The lock went with the connection: another process may take the run.
    let other = RunStore::at(&place.state)?;
    assert!(crate::lock::RunLock::take(&other, &id).is_ok());
    drop(lock);
    Ok(())
}
