//! The bookkeeping of a rollback: which calls' undos were applied, and
//! which failed and why, so that a rollback retried after a failure goes on
//! from where it stopped and never undoes a call twice.

use crate::sql::{Tx, args};
use serde::Serialize;

use crate::error::{Failure, Result};
use crate::store::{RunStore, now_millis};

/// One call's undo, applied or failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UndoStep {
    /// The call it undoes.
    pub call: u32,
    /// `Ok` when it was applied; why it failed otherwise.
    pub result: Result<(), String>,
    /// The run that applied it, when it ran as one.
    pub undo_run: Option<String>,
    /// When, in milliseconds since the Unix epoch.
    pub at: u64,
}

impl RunStore {
    /// Whether the undo of `call` of `run` was applied.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownRun`](crate::StoreError::UnknownRun).
    pub fn undo_done(&self, run: &str, call: u32) -> Result<bool> {
        self.with(|tx| {
            self.stored_status(tx, run)?;
            tx.one(
                "SELECT EXISTS (SELECT 1 FROM undos WHERE run = ?1 AND call = ?2 AND state = 'applied')",
                args![run, call],
            )?
            .get(0)
        })
    }

    /// Record how the undo of `call` of `run` went, run as `undo_run` when
    /// it ran as a run of its own. An undo recorded as applied stays so.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownRun`](crate::StoreError::UnknownRun).
    pub fn record_undo(
        &self,
        run: &str,
        call: u32,
        undo_run: Option<&str>,
        result: Result<(), String>,
    ) -> Result<()> {
        let (state, error) = match result {
            Ok(()) => ("applied", None),
            Err(error) => ("failed", Some(error)),
        };
        self.write(|tx| {
            self.stored_status(tx, run)?;
            tx.execute(
                "INSERT INTO undos (run, call, state, error, undo_run, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (run, call) DO UPDATE
                 SET state = excluded.state, error = excluded.error,
                     undo_run = excluded.undo_run, at = excluded.at
                 WHERE undos.state <> 'applied'",
                args![run, call, state, error.as_ref(), undo_run, now_millis()],
            )?;
            Ok(())
        })
    }
}

/// The undo steps of `run`, by call.
pub(crate) fn undos(tx: &mut dyn Tx, run: &str) -> Result<Vec<UndoStep>, Failure> {
    let rows = tx.query(
        "SELECT call, state, error, undo_run, at FROM undos WHERE run = ?1 ORDER BY call",
        args![run],
    )?;
    let mut steps = Vec::new();
    for row in rows {
        let error: Option<String> = row.get(2)?;
        steps.push(UndoStep {
            call: row.get(0)?,
            result: match row.get::<String>(1)?.as_str() {
                "applied" => Ok(()),
                _ => Err(error.unwrap_or_default()),
            },
            undo_run: row.get(3)?,
            at: row.get(4)?,
        });
    }
    Ok(steps)
}
