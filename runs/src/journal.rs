//! [`RunJournal`]: the runtime's [`Journal`] seam, writing a run's entries
//! into the store.
//!
//! Each entry is one row: its JSON, its kind (the JSON's `entry` tag) and
//! its call number where it has one. The call number is not indexed: an
//! index costs every connector call a B-tree write (about a third of a
//! commit), and only a person's decision looks a call up, in one run's
//! journal.

use codemode_runtime::{Entry, Journal, JournalError};
use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use crate::error::Failure;
use crate::store::RunStore;

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
        if entries.is_empty() {
            return Ok(());
        }
        self.store
            .write(|tx| {
                let last: Option<u64> = tx
                    .prepare_cached(
                        "SELECT (SELECT max(seq) FROM entries WHERE run = ?1)
                         FROM runs WHERE id = ?1",
                    )?
                    .query_row([&self.run], |row| row.get(0))
                    .optional()?
                    .ok_or_else(|| self.store.unknown(&self.run))?;
                let last = last.unwrap_or(0);
                let mut insert = tx.prepare_cached(
                    "INSERT INTO entries (run, seq, kind, call, entry) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for (seq, entry) in (last + 1..).zip(entries) {
                    let json = serde_json::to_value(entry)?;
                    let kind = json.get("entry").and_then(Value::as_str).unwrap_or("");
                    let call = json.get("call").and_then(Value::as_u64);
                    insert.execute(params![self.run, seq, kind, call, json.to_string()])?;
                }
                Ok::<_, Failure>(())
            })
            .map_err(|error| JournalError(with_causes(&error)))
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
