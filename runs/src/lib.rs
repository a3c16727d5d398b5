//! Durable runs in one SQLite file, `runs.sqlite3` in a state directory:
//! each run's code, grants, limits and seed; its journal, which the
//! runtime writes through [`RunJournal`]; the calls waiting for a person
//! and the decisions on them, which [`StoreApprover`] hands to the runtime;
//! and the rollback of a finished run, undo by undo ([`rollback()`]).
//!
//! ```no_run
//! use codemode_runs::{NewRun, RunStore, StoreApprover};
//! use codemode_runtime::{Decision, Language};
//!
//! # fn main() -> Result<(), codemode_runs::StoreError> {
//! let store = RunStore::open(std::path::Path::new("/var/lib/codemode"))?;
//! let run = store.create(&NewRun {
//!     code: "await github.issues_create({ title: 'hi' })".into(),
//!     language: Language::TypeScript,
//!     grants: vec![("github".into(), vec!["issues_create".into()])],
//!     limits: serde_json::json!({}),
//!     seed: [7; 32],
//!     origin: "run".into(),
//! })?;
//! let journal = store.journal(&run)?; // the runtime's `Journal`
//! let approver = StoreApprover::new(store.clone()); // the runtime's `Approver`
//! # let _ = (journal, approver);
//! // Another process, `codemode runs approve`:
//! for wait in store.pending(Some(&run))? {
//!     store.decide(&run, wait.call, &Decision::Approve { by: "ana".into() })?;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! - [`store`]: opening a store, a run's life in it;
//! - [`journal`]: the journal the runtime writes;
//! - [`decisions`]: waits and decisions, recorded once whoever decides;
//! - [`approver`]: the runtime's approver, answered from the store;
//! - [`undo`]: a rollback's steps, as recorded;
//! - [`rollback`](mod@rollback): rolling a finished run back, undo by undo;
//! - [`durable`]: running and resuming runs, one process at a time;
//! - [`waiting`]: how many waiting runs keep their sandbox, and how long;
//! - the file's identity, settings and tables are in `schema`.

pub mod approver;
pub mod decisions;
pub mod durable;
mod error;
pub mod journal;
mod lock;
mod postgres;
pub mod rollback;
mod schema;
mod sql;
mod sqlite;
pub mod store;
pub mod undo;
pub mod waiting;

pub use approver::StoreApprover;
pub use decisions::{CallDecision, Decided, Wait};
pub use durable::{DurableError, DurableRuns, NewDurableRun};
pub use error::{Result, StoreError};
pub use journal::RunJournal;
pub use rollback::{
    PlannedUndo, RollbackError, RollbackReport, RollbackStep, Undo, plan, rollback,
};
pub use store::{
    FILE_NAME, NewRun, RunRecord, RunStore, RunSummary, Status, UnknownStatus, cut,
    is_database_url, now_millis, outcome_line, shown,
};
pub use undo::UndoStep;
pub use waiting::WaitingStores;

#[cfg(test)]
mod tests;
