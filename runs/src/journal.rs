//! [`RunJournal`]: the runtime's [`Journal`] seam, writing a run's entries
//! into the store; and `Recording`, the journal of a run this process
//! runs, which records a new run with its first entries.
//!
//! Each entry is one row: its JSON, its kind (the JSON's `entry` tag) and
//! its call number where it has one. The call number is not indexed: an
//! index costs every connector call a B-tree write (about a third of a
//! commit), and only a person's decision looks a call up, in one run's
//! journal.
//!
//! A new run is not written when it is created: nothing it has done needs
//! recording until its first entry is committed, which is before its first
//! effect. Its record, its lock and its first entries then go in together,
//! and a run that commits nothing before it ends (`1 + 1`) is recorded once,
//! with its outcome: a durable run that touches nothing costs one commit
//! and no lock file.

use std::sync::{Mutex, PoisonError};

use codemode_runtime::{Entry, Journal, JournalError, Replay};
use serde_json::Value;

use crate::error::{Failure, Result, StoreError};
use crate::lock::{LockError, RunLock};
use crate::sql::{Tx, args};
use crate::store::{NewRun, RunStore, Status};

/// The journal of one run in a [`RunStore`].
#[derive(Clone, Debug)]
pub struct RunJournal {
    store: RunStore,
    run: String,
}

impl RunJournal {
    pub(crate) fn new(store: RunStore, run: String) -> Self {
        Self { store, run }
    }
}

impl Journal for RunJournal {
    fn run(&self) -> &str {
        &self.run
    }

    /// Commit `entries` in one transaction, numbered on from the last.
    fn append(&self, entries: &[Entry]) -> Result<(), JournalError> {
        commit(&self.store, &self.run, entries)
    }
}

/// Commit `entries` to the journal of `run` in one transaction (nothing
/// when there are none).
fn commit(store: &RunStore, run: &str, entries: &[Entry]) -> Result<(), JournalError> {
    if entries.is_empty() {
        return Ok(());
    }
    store
        .write(|tx| append_in(store, tx, run, entries))
        .map_err(|error| JournalError(with_causes(&error)))
}

/// Insert `entries` into the journal of `run` in `tx`, numbered on from
/// its last.
fn append_in(
    store: &RunStore,
    tx: &mut dyn Tx,
    run: &str,
    entries: &[Entry],
) -> Result<(), Failure> {
    let last: Option<u64> = tx
        .optional(
            "SELECT (SELECT max(seq) FROM entries WHERE run = ?1)
             FROM runs WHERE id = ?1",
            args![run],
        )?
        .ok_or_else(|| store.unknown(run))?
        .get(0)?;
    for (seq, entry) in (last.unwrap_or(0) + 1..).zip(entries) {
        let json = serde_json::to_value(entry)?;
        let kind = json.get("entry").and_then(Value::as_str).unwrap_or("");
        let call = json.get("call").and_then(Value::as_u64);
        tx.execute(
            "INSERT INTO entries (run, seq, kind, call, entry) VALUES (?1, ?2, ?3, ?4, ?5)",
            args![run, seq, kind, call, &json.to_string()],
        )?;
    }
    Ok(())
}

/// The journal of a run this process runs, holding the run's lock once
/// the run is recorded (see the module's doc).
pub(crate) struct Recording {
    store: RunStore,
    run: String,
    state: Mutex<State>,
}

enum State {
    /// A new run, created at `created` (Unix milliseconds), not recorded.
    New { run: Box<NewRun>, created: u64 },
    /// Recorded; this process holds its lock.
    Recorded(RunLock),
    /// Its outcome is recorded.
    Finished,
}

impl Recording {
    /// New run `id`, made of `run`, created at `created`: recorded with its
    /// first commit.
    pub(crate) fn new_run(store: RunStore, id: String, run: NewRun, created: u64) -> Self {
        let state = State::New {
            run: Box::new(run),
            created,
        };
        Self::with(store, id, state)
    }

    /// Run `id`, recorded, whose lock is `lock`.
    pub(crate) fn recorded(store: RunStore, id: String, lock: RunLock) -> Self {
        Self::with(store, id, State::Recorded(lock))
    }

    fn with(store: RunStore, run: String, state: State) -> Self {
        Self {
            store,
            run,
            state: Mutex::new(state),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What the run starts from: its seed, and its journal so far (none
    /// for a new run).
    pub(crate) fn replay(&self) -> Result<Replay> {
        match &*self.state() {
            State::New { run, .. } => Ok(Replay {
                seed: run.seed,
                entries: Vec::new(),
            }),
            State::Recorded(_) | State::Finished => self.store.replay(&self.run),
        }
    }

    /// Record the run's outcome (and the run itself, if it committed
    /// nothing before), then release its lock and remove its file.
    pub(crate) fn finish(&self, ok: bool, outcome: &Value) -> Result<()> {
        let mut state = self.state();
        match std::mem::replace(&mut *state, State::Finished) {
            State::New { run, created } => self.store.write(|tx| {
                self.record(tx, &run, created)?;
                let status = Status::finished(ok);
                self.store.update_in(tx, &self.run, status, Some(outcome))
            }),
            State::Recorded(lock) => {
                self.store.finish(&self.run, ok, outcome)?;
                lock.remove();
                Ok(())
            }
            State::Finished => Ok(()),
        }
    }

    /// Insert the new run in `tx`, or refuse its id if taken.
    fn record(&self, tx: &mut dyn Tx, run: &NewRun, created: u64) -> Result<(), Failure> {
        if self.store.insert(tx, &self.run, run, created)? {
            return Ok(());
        }
        Err(Failure::Store(StoreError::IdTaken {
            run: self.run.clone(),
            file: self.store.file().to_owned(),
        }))
    }
}

impl Journal for Recording {
    fn run(&self) -> &str {
        &self.run
    }

    /// Commit `entries` in one transaction; a new run's first take its
    /// lock and record it too.
    fn append(&self, entries: &[Entry]) -> Result<(), JournalError> {
        let mut state = self.state();
        let State::New { run, created } = &*state else {
            return commit(&self.store, &self.run, entries);
        };
        if entries.is_empty() {
            return Ok(());
        }
        let lock = RunLock::take(&self.store, &self.run).map_err(|error| match error {
            LockError::Busy => JournalError(format!(
                "the id `{}` drawn for a new run is another run's; the run was stopped before it did anything: run it again",
                self.run
            )),
            LockError::File(error) => JournalError(format!(
                "the lock of run `{}` could not be taken: {error}",
                self.run
            )),
        })?;
        self.store
            .write(|tx| {
                self.record(tx, run, *created)?;
                append_in(&self.store, tx, &self.run, entries)
            })
            .map_err(|error| JournalError(with_causes(&error)))?;
        *state = State::Recorded(lock);
        Ok(())
    }
}

/// `error`'s message followed by its causes', which a [`JournalError`]
/// carries as text.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        message.push_str(": ");
        message.push_str(&error.to_string());
        cause = error.source();
    }
    message
}
