//! Rolling a finished durable run back: [`rollback`] applies the undo the
//! configuration gives each of the run's applied calls, newest effect
//! first, each undo a durable run of its own.
//!
//! How it works, and why:
//!
//! - **Only applied calls.** A call took effect when its `Finished` entry
//!   holds a reply; a call that failed, was denied or rejected, or never
//!   ended (in doubt, for a person to settle) is not undone. Nor is a call
//!   of a read-only method (an HTTP `GET`, an MCP tool hinted read-only):
//!   it changed nothing.
//! - **Reverse order of effect.** Calls are undone in the reverse order of
//!   their `Finished` entries, the order the world saw them take effect,
//!   not the order they were started: under `Promise.all` the two differ,
//!   and a relation must go before the entities it joins.
//! - **An undo is code, run as the agent's code is.** The configuration's
//!   `codemode.undo` gives, for `namespace.method`, the source of an arrow
//!   function `(call) => …` that gets the applied call's `{ args, result }`.
//!   It runs in a fresh sandbox with the same grants, as
//!   `const undo = (SOURCE); await undo(call)`.
//! - **Journaled.** Each undo runs as a durable run in the same store, its
//!   origin `undo of r_…#N`, so its own calls are journaled like any
//!   run's. An undo run left unfinished by a process that died is resumed,
//!   not started again: the calls it made are answered from its journal.
//! - **No approval gate.** Undo runs get no policy: their code is the
//!   operator's own configuration, and asking for the rollback is the
//!   decision to apply it. (Gating them with the agent's policy would stop
//!   a rollback at every `*.delete_*` rule the agent was held to.) So a
//!   call in doubt in a resumed undo run (its process died during the call)
//!   has nobody to settle it: it is rejected, which fails that undo, and the
//!   report says so; the next rollback starts that undo afresh, so check
//!   first whether the call took effect.
//! - **Resumable, and never twice.** Each undo is recorded in the store as
//!   applied or failed. A failed undo stops the rollback, which reports the
//!   call and why; rolling back again skips the undos recorded as applied
//!   and tries the failed one again.
//! - Calls of an operation with no undo configured are listed as "cannot be
//!   undone" and passed over: they do not stop the rollback. When every
//!   other call's undo is applied, the run's status becomes `rolled-back`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use codemode_runtime::{Entry, Execution, Grants, Language, Limits, Outcome, Runtime};
use serde::Serialize;
use serde_json::json;
use serde_json::value::RawValue;

use crate::error::StoreError;
use crate::lock::{LockError, RunLock};
use crate::store::{NewRun, RunRecord, RunStore, Status};

/// Why a rollback could not go on. A failed undo is no error: it is in the
/// [`RollbackReport`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RollbackError {
    /// The store failed, or has no such run ([`StoreError::UnknownRun`]).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The run has not finished: its calls may still take effect.
    #[error(
        "run `{run}` is {status}: only a finished run (succeeded or failed) can be rolled back; let it finish, or reject its waiting calls"
    )]
    NotFinished {
        /// The run.
        run: String,
        /// Where it is.
        status: Status,
    },
    /// Another process rolls it back (or runs it) now.
    #[error("run `{0}` is being rolled back by another process; let that one finish")]
    Busy(String),
    /// Its lock file could not be made.
    #[error("the lock of run `{run}` could not be taken: {source}")]
    Lock {
        /// The run.
        run: String,
        /// Why.
        source: std::io::Error,
    },
    /// A call's journaled arguments or reply are not JSON.
    #[error("call {call} of run `{run}` has arguments or a reply in its journal that are not JSON")]
    Unreadable {
        /// The run.
        run: String,
        /// The call.
        call: u32,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// What one rollback did, call by call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RollbackReport {
    /// The run rolled back.
    pub run: String,
    /// Its applied calls but the read-only ones, in the order their undos were considered (the
    /// reverse of the order they took effect), up to the one whose undo
    /// failed, if one did.
    pub steps: Vec<RollbackStep>,
    /// Whether the run is now rolled back: every undo applied.
    pub rolled_back: bool,
}

impl RollbackReport {
    /// The step whose undo failed and stopped the rollback.
    pub fn failure(&self) -> Option<&RollbackStep> {
        self.steps
            .iter()
            .find(|step| matches!(step.undo, Undo::Failed { .. }))
    }
}

/// One applied call, and what became of its undo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RollbackStep {
    /// The call's number in its run.
    pub call: u32,
    /// `namespace.method`.
    pub operation: String,
    /// What became of its undo.
    pub undo: Undo,
}

/// What became of one call's undo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "undo")]
pub enum Undo {
    /// Applied now, by the run `undo_run`.
    Applied {
        /// The undo's run.
        undo_run: String,
    },
    /// Applied by an earlier rollback.
    AlreadyApplied,
    /// No undo is configured for the operation: the call stays.
    CannotBeUndone,
    /// The undo failed, which stopped the rollback.
    Failed {
        /// The undo's run.
        undo_run: String,
        /// Why: the error's name and message.
        error: String,
    },
}

/// Roll back the finished run `run` of `store`: apply the undo that
/// `undos` gives (by `namespace.method`) for each of its applied calls,
/// newest effect first, each in a fresh sandbox of `runtime` with `grants`
/// and `limits`, as a durable run of `store`. See the [module](self) for
/// the order, the bookkeeping and why undos are not gated.
///
/// Calling it again after a failed undo goes on from that undo; undos
/// already applied are never applied again. One rollback of a run goes on
/// at a time: it holds the run's lock, and a second is refused.
///
/// # Errors
///
/// [`RollbackError::NotFinished`] for a run still running or waiting;
/// [`RollbackError::Busy`] while another process rolls it back;
/// [`RollbackError::Store`] when the store fails or has no such run;
/// [`RollbackError::Unreadable`] for a journal whose call is not JSON.
/// A failed undo is not an error: [`RollbackReport::failure`] says which
/// call's undo failed and why.
///
/// # Cancel safety
///
/// Dropping the future stops the undo being applied; its undo run stays
/// unfinished, and the next rollback resumes it from its journal.
pub async fn rollback(
    store: &RunStore,
    runtime: &Runtime,
    grants: Arc<Grants>,
    undos: &BTreeMap<String, String>,
    run: &str,
    limits: &Limits,
) -> Result<RollbackReport, RollbackError> {
    store.status(run)?;
    let lock = RunLock::take(store, run).map_err(|error| match error {
        LockError::Busy => RollbackError::Busy(run.to_owned()),
        LockError::File(source) => RollbackError::Lock {
            run: run.to_owned(),
            source,
        },
    })?;
    let record = store.load(run)?;
    if matches!(record.status, Status::Running | Status::Waiting) {
        return Err(RollbackError::NotFinished {
            run: run.to_owned(),
            status: record.status,
        });
    }
    let undoing = Undoing {
        store,
        runtime,
        grants,
        limits,
        record: &record,
    };
    let mut steps = Vec::new();
    for applied in effects(&record, &undoing.grants) {
        let operation = format!("{}.{}", applied.namespace, applied.method);
        let undo = if store.undo_done(run, applied.call)? {
            Undo::AlreadyApplied
        } else if let Some(source) = undos.get(&operation) {
            undoing.apply(&applied, source).await?
        } else {
            Undo::CannotBeUndone
        };
        let failed = matches!(undo, Undo::Failed { .. });
        steps.push(RollbackStep {
            call: applied.call,
            operation,
            undo,
        });
        if failed {
            return Ok(RollbackReport {
                run: run.to_owned(),
                steps,
                rolled_back: false,
            });
        }
    }
    store.set_status(run, Status::RolledBack)?;
    lock.remove();
    Ok(RollbackReport {
        run: run.to_owned(),
        steps,
        rolled_back: true,
    })
}

/// One call a rollback of a run would undo, as seen before it starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedUndo {
    /// The call's number in its run.
    pub call: u32,
    /// `namespace.method`.
    pub operation: String,
    /// Whether the configuration has an undo for it; a call without one
    /// stays as it is.
    pub undoable: bool,
    /// Whether an earlier rollback applied its undo.
    pub undone: bool,
}

/// What rolling `record` back would do, call by call in the order a
/// rollback takes them: the applied calls but the read-only ones (a method
/// `grants` says is read-only), each with whether `undos` has an undo for
/// it, and whether its undo was applied already.
pub fn plan(
    record: &RunRecord,
    grants: &Grants,
    undos: &BTreeMap<String, String>,
) -> Vec<PlannedUndo> {
    effects(record, grants)
        .into_iter()
        .map(|applied| {
            let operation = format!("{}.{}", applied.namespace, applied.method);
            PlannedUndo {
                call: applied.call,
                undoable: undos.contains_key(&operation),
                undone: record
                    .undos
                    .iter()
                    .any(|step| step.call == applied.call && step.result.is_ok()),
                operation,
            }
        })
        .collect()
}

/// The calls of `record` that changed something: applied, of a method
/// `grants` does not say is read-only; newest effect first.
fn effects<'a>(record: &'a RunRecord, grants: &Grants) -> Vec<Applied<'a>> {
    applied_calls(&record.entries)
        .into_iter()
        .filter(|applied| !grants.read_only(applied.namespace, applied.method))
        .collect()
}

/// A call that took effect, as its journal has it.
struct Applied<'a> {
    call: u32,
    namespace: &'a str,
    method: &'a str,
    /// Canonical JSON.
    args: &'a str,
    /// JSON, as the script got it.
    reply: &'a str,
}

/// The calls of `entries` that finished with a reply, newest `Finished`
/// entry first.
fn applied_calls(entries: &[Entry]) -> Vec<Applied<'_>> {
    let mut started = HashMap::new();
    for entry in entries {
        if let Entry::Call {
            call,
            namespace,
            method,
            args,
            ..
        } = entry
        {
            started.insert(*call, (namespace, method, args));
        }
    }
    let mut seen = HashSet::new();
    entries
        .iter()
        .rev()
        .filter_map(|entry| match entry {
            Entry::Finished {
                call,
                reply: Ok(reply),
                ..
            } if seen.insert(*call) => {
                let (namespace, method, args) = started.get(call)?;
                Some(Applied {
                    call: *call,
                    namespace,
                    method,
                    args,
                    reply,
                })
            }
            _ => None,
        })
        .collect()
}

/// What applying one undo needs.
struct Undoing<'a> {
    store: &'a RunStore,
    runtime: &'a Runtime,
    grants: Arc<Grants>,
    limits: &'a Limits,
    record: &'a RunRecord,
}

impl Undoing<'_> {
    /// Apply the undo `source` of `applied` as a durable run, resuming the
    /// one an earlier rollback left unfinished, and record how it went.
    async fn apply(&self, applied: &Applied<'_>, source: &str) -> Result<Undo, RollbackError> {
        let (store, run) = (self.store, &self.record.id);
        let call = RawValue::from_string(format!(
            r#"{{"args":{},"result":{}}}"#,
            applied.args, applied.reply
        ))
        .map_err(|source| RollbackError::Unreadable {
            run: run.clone(),
            call: applied.call,
            source,
        })?;
        // The source on lines of its own, as `codemode.undo` is checked.
        let code = format!("const undo = (\n{source}\n);\nawait undo(call)");
        let origin = format!("undo of {run}#{}", applied.call);
        let undo_run = match unfinished(store, &origin)? {
            Some(id) => id,
            None => store.create(&NewRun {
                code: code.clone(),
                language: Language::TypeScript,
                grants: self.record.grants.clone(),
                limits: serde_json::to_value(self.limits).unwrap_or_default(),
                seed: crate::durable::fresh_seed(),
                origin,
            })?,
        };
        let execution = Execution::new(code)
            .language(Language::TypeScript)
            .grants(Arc::clone(&self.grants))
            .limits(self.limits.clone())
            .global("call", Arc::from(call));
        let failure = match execute_durably(store, self.runtime, &undo_run, execution).await? {
            Ok(outcome) => outcome
                .error
                .map(|error| format!("{}: {}", error.name, error.message)),
            Err(error) => Some(error.to_string()),
        };
        store.record_undo(
            run,
            applied.call,
            Some(&undo_run),
            failure.clone().map_or(Ok(()), Err),
        )?;
        Ok(match failure {
            None => Undo::Applied { undo_run },
            Some(error) => Undo::Failed { undo_run, error },
        })
    }
}

/// Run `execution` as the durable run `run` of `store`: journaled there,
/// resumed from what it journaled before, and finished with its outcome
/// (or, when it could not start, with why).
///
/// # Errors
///
/// [`StoreError`] when the store fails; the runtime's error, inside, when
/// the run could not start.
pub(crate) async fn execute_durably(
    store: &RunStore,
    runtime: &Runtime,
    run: &str,
    execution: Execution,
) -> Result<Result<Outcome, codemode_runtime::Error>, StoreError> {
    let journal = Arc::new(store.journal(run)?);
    let execution = execution.durable(journal, store.replay(run)?);
    let result = runtime.execute(execution).await;
    match &result {
        // An outcome is JSON values and strings: it always serializes.
        Ok(outcome) => store.finish(
            run,
            outcome.ok(),
            &serde_json::to_value(outcome).unwrap_or_default(),
        )?,
        Err(error) => store.finish(
            run,
            false,
            &json!({ "ok": false, "error": { "message": error.to_string() } }),
        )?,
    }
    Ok(result)
}

/// The unfinished run whose origin is `origin`, if there is one.
fn unfinished(store: &RunStore, origin: &str) -> Result<Option<String>, StoreError> {
    Ok(store
        .list(None)?
        .into_iter()
        .find(|run| run.origin == origin && matches!(run.status, Status::Running | Status::Waiting))
        .map(|run| run.id))
}
