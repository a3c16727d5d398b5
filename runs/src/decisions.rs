//! Calls waiting for a person, and the decisions on them: the part of the
//! store that several processes touch at once (the run's own, a
//! `codemode runs approve`, an MCP client's elicitation).
//!
//! A wait is keyed by (run, call, why it waits): a call can wait twice,
//! once for approval and, if its process dies while it is made, once more
//! in doubt. Each wait gets exactly one decision, ever: the decisions
//! table has the same key, a decision is inserted with `ON CONFLICT DO
//! NOTHING`, and whoever finds a decision already there gets that one
//! back. So two processes deciding at once see the same decision, and
//! deciding the same call twice is not an error.
//!
//! A person may decide on a call before the runtime records its wait, as
//! long as the journal shows it gated and not started: its `Call` entry is
//! ruled `approve`, and no `Started` entry follows. The runtime's wait then
//! finds the decision at once. A call in doubt can only be decided once
//! the resumed run has recorded its wait.

use std::time::SystemTime;

use codemode_runtime::{Action, Because, Decision, Entry, PendingCall, Waiting};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Failure, Result, StoreError};
use crate::sql::{Row, Tx, args};
use crate::store::{RunStore, Status, from_text, millis, now_millis, to_text};

/// A call's wait for a decision.
#[derive(Clone, Debug, Serialize)]
pub struct Wait {
    /// The run.
    pub run: String,
    /// The call's number in the run.
    pub call: u32,
    /// The connector's namespace.
    pub namespace: String,
    /// The method.
    pub method: String,
    /// The arguments.
    pub args: Value,
    /// Why it waits.
    pub waiting: Waiting,
    /// Why the policy gated it.
    pub because: Because,
    /// When it started waiting, in milliseconds since the Unix epoch.
    pub since: u64,
    /// When it expires, in milliseconds since the Unix epoch.
    pub expires: u64,
    /// When it was decided, if it was, in milliseconds since the Unix epoch.
    pub decided: Option<u64>,
}

impl Wait {
    /// `namespace.method`.
    pub fn name(&self) -> String {
        format!("{}.{}", self.namespace, self.method)
    }
}

/// A decision on one of a run's calls.
#[derive(Clone, Debug, Serialize)]
pub struct CallDecision {
    /// The call.
    pub call: u32,
    /// The wait it ended.
    pub waiting: Waiting,
    /// What was decided.
    pub decision: Decision,
    /// When, in milliseconds since the Unix epoch.
    pub at: u64,
}

/// What became of a decision given to [`RunStore::decide`].
#[derive(Clone, Debug, PartialEq)]
pub enum Decided {
    /// It was recorded: it stands.
    Recorded,
    /// The call had been decided before; this decision stands.
    Already(Decision),
}

impl Decided {
    /// The decision that stands, `proposed` having been given.
    pub fn standing(self, proposed: &Decision) -> Decision {
        match self {
            Self::Recorded => proposed.clone(),
            Self::Already(decision) => decision,
        }
    }
}

impl RunStore {
    /// Record that `call` waits for a decision. A call that waits again for
    /// the same reason (its run was resumed) keeps its first wait, and so
    /// the time it expires.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotDurable`] for a call of a run without a journal;
    /// [`StoreError::UnknownRun`].
    pub fn wait(&self, call: &PendingCall) -> Result<()> {
        self.record_wait(&CallWait::of(call)?).map(|_expires| ())
    }

    pub(crate) fn record_wait(&self, call: &CallWait<'_>) -> Result<u64> {
        self.write(|tx| {
            self.stored_status(tx, call.run)?;
            let (waiting, args, because) = (
                to_text(&call.waiting)?,
                call.args.to_string(),
                serde_json::to_string(call.because)?,
            );
            tx.execute(
                "INSERT INTO waits
                     (run, call, waiting, namespace, method, args, because, since, expires)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT DO NOTHING",
                args![
                    call.run,
                    call.call,
                    &waiting,
                    call.namespace,
                    call.method,
                    &args,
                    &because,
                    now_millis(),
                    millis(call.expires),
                ],
            )?;
            tx.one(
                "SELECT expires FROM waits WHERE run = ?1 AND call = ?2 AND waiting = ?3",
                args![call.run, call.call, &waiting],
            )?
            .get(0)
        })
    }

    /// The calls waiting for a decision, of `run` or of every run, oldest
    /// first. Only running runs wait: the waits of a run that ended are
    /// left out.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownRun`].
    pub fn pending(&self, run: Option<&str>) -> Result<Vec<Wait>> {
        self.with(|tx| {
            if let Some(run) = run {
                self.stored_status(tx, run)?;
            }
            waits(tx, run, true)
        })
    }

    /// Decide on `call` of `run`: record `decision` unless the call was
    /// decided before, and say which decision stands. The call must be
    /// waiting, or gated in the journal and not yet started (see the
    /// module's doc); a call that waits both in doubt and, from before,
    /// for approval gets the decision for the doubt.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownRun`]; [`StoreError::NotWaiting`], with the
    /// calls that are; [`StoreError::NotInDoubt`] for a
    /// [`Decision::Resolve`] of a call waiting for approval.
    pub fn decide(&self, run: &str, call: u32, decision: &Decision) -> Result<Decided> {
        self.write(|tx| {
            let running = self.stored_status(tx, run)? == Status::Running;
            let open: Option<String> = tx
                .optional(
                    "SELECT w.waiting FROM waits w
                     WHERE w.run = ?1 AND w.call = ?2 AND ?3 AND NOT EXISTS (
                         SELECT 1 FROM decisions d
                         WHERE d.run = w.run AND d.call = w.call AND d.waiting = w.waiting)
                     ORDER BY w.waiting = 'in-doubt' DESC LIMIT 1",
                    args![run, call, running],
                )?
                .map(|row| row.get(0))
                .transpose()?;
            let waiting = match open {
                Some(waiting) => from_text(&waiting)?,
                None => {
                    let latest: Option<String> = tx
                        .optional(
                            "SELECT decision FROM decisions WHERE run = ?1 AND call = ?2
                             ORDER BY waiting = 'in-doubt' DESC LIMIT 1",
                            args![run, call],
                        )?
                        .map(|row| row.get(0))
                        .transpose()?;
                    if let Some(latest) = latest {
                        return Ok(Decided::Already(serde_json::from_str(&latest)?));
                    }
                    if !(running && gated_not_started(tx, run, call)?) {
                        let waiting = waits(tx, Some(run), true)?;
                        return Err(StoreError::NotWaiting {
                            run: run.to_owned(),
                            call,
                            waiting: waiting.into_iter().map(|wait| wait.call).collect(),
                        }
                        .into());
                    }
                    Waiting::Approval
                }
            };
            record(tx, run, call, waiting, decision)
        })
    }

    /// The decision on `call` of `run` waiting for `waiting`, if one was
    /// made.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownRun`].
    pub fn decision(&self, run: &str, call: u32, waiting: Waiting) -> Result<Option<Decision>> {
        self.with(|tx| {
            let decision = stored_decision(tx, run, call, waiting)?;
            if decision.is_none() {
                self.stored_status(tx, run)?;
            }
            Ok(decision)
        })
    }

    /// Record `decision` on `call`'s wait unless one was made, and give the
    /// decision that stands.
    pub(crate) fn settle(&self, call: &CallWait<'_>, decision: &Decision) -> Result<Decision> {
        self.write(|tx| record(tx, call.run, call.call, call.waiting, decision))
            .map(|decided| decided.standing(decision))
    }
}

/// What the store keeps of a [`PendingCall`] of a durable run.
pub(crate) struct CallWait<'a> {
    pub(crate) run: &'a str,
    pub(crate) call: u32,
    pub(crate) namespace: &'a str,
    pub(crate) method: &'a str,
    pub(crate) args: &'a Value,
    pub(crate) waiting: Waiting,
    pub(crate) because: &'a Because,
    pub(crate) expires: SystemTime,
}

impl<'a> CallWait<'a> {
    /// `call`'s wait, when it belongs to a durable run.
    pub(crate) fn of(call: &'a PendingCall) -> Result<Self> {
        Ok(Self {
            run: call
                .run
                .as_deref()
                .ok_or(StoreError::NotDurable { call: call.call })?,
            call: call.call,
            namespace: &call.namespace,
            method: &call.method,
            args: &call.args,
            waiting: call.waiting,
            because: &call.because,
            expires: call.expires,
        })
    }
}

/// Insert `decision` unless the wait has one; say which stands.
fn record(
    tx: &mut dyn Tx,
    run: &str,
    call: u32,
    waiting: Waiting,
    decision: &Decision,
) -> Result<Decided, Failure> {
    if waiting == Waiting::Approval && matches!(decision, Decision::Resolve { .. }) {
        return Err(StoreError::NotInDoubt {
            run: run.to_owned(),
            call,
        }
        .into());
    }
    let inserted = tx.execute(
        "INSERT INTO decisions (run, call, waiting, decision, at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT DO NOTHING",
        args![
            run,
            call,
            &to_text(&waiting)?,
            &serde_json::to_string(decision)?,
            now_millis()
        ],
    )?;
    if inserted == 1 {
        tx.execute(
            "UPDATE runs SET updated = ?2 WHERE id = ?1",
            args![run, now_millis()],
        )?;
        return Ok(Decided::Recorded);
    }
    match stored_decision(tx, run, call, waiting)? {
        Some(existing) => Ok(Decided::Already(existing)),
        None => Err(Failure::Missing("the decision that stands".into())),
    }
}

fn stored_decision(
    tx: &mut dyn Tx,
    run: &str,
    call: u32,
    waiting: Waiting,
) -> Result<Option<Decision>, Failure> {
    let decision: Option<String> = tx
        .optional(
            "SELECT decision FROM decisions WHERE run = ?1 AND call = ?2 AND waiting = ?3",
            args![run, call, &to_text(&waiting)?],
        )?
        .map(|row| row.get(0))
        .transpose()?;
    Ok(decision.as_deref().map(serde_json::from_str).transpose()?)
}

/// Whether the journal of `run` has call `call` gated for approval and not
/// started.
fn gated_not_started(tx: &mut dyn Tx, run: &str, call: u32) -> Result<bool, Failure> {
    let rows = tx.query(
        "SELECT kind, entry FROM entries WHERE run = ?1 AND call = ?2 AND kind <> 'wait'",
        args![run, call],
    )?;
    let mut gated = false;
    for row in rows {
        let kind: String = row.get(0)?;
        if kind != "call" {
            return Ok(false);
        }
        let entry: Entry = serde_json::from_str(&row.get::<String>(1)?)?;
        gated = matches!(entry, Entry::Call { ruling, .. } if ruling.action == Action::Approve);
    }
    Ok(gated)
}

/// The waits of `run`, or of every run; only the undecided ones of running
/// runs when `open`. Oldest first.
pub(crate) fn waits(tx: &mut dyn Tx, run: Option<&str>, open: bool) -> Result<Vec<Wait>, Failure> {
    let rows = tx.query(
        "SELECT w.run, w.call, w.namespace, w.method, w.args, w.waiting, w.because,
                w.since, w.expires, d.at
         FROM waits w
         JOIN runs r ON r.id = w.run
         LEFT JOIN decisions d ON d.run = w.run AND d.call = w.call AND d.waiting = w.waiting
         WHERE (CAST(?1 AS TEXT) IS NULL OR w.run = ?1)
           AND NOT (?2 AND (d.at IS NOT NULL OR r.status <> 'running'))
         ORDER BY w.since, w.run, w.call",
        args![run, open],
    )?;
    rows.iter().map(wait_of).collect()
}

fn wait_of(row: &Row) -> Result<Wait, Failure> {
    Ok(Wait {
        run: row.get(0)?,
        call: row.get(1)?,
        namespace: row.get(2)?,
        method: row.get(3)?,
        args: serde_json::from_str(&row.get::<String>(4)?)?,
        waiting: from_text(&row.get::<String>(5)?)?,
        because: serde_json::from_str(&row.get::<String>(6)?)?,
        since: row.get(7)?,
        expires: row.get(8)?,
        decided: row.get(9)?,
    })
}

/// The decisions on the calls of `run`, by call.
pub(crate) fn decisions(tx: &mut dyn Tx, run: &str) -> Result<Vec<CallDecision>, Failure> {
    let rows = tx.query(
        "SELECT call, waiting, decision, at FROM decisions WHERE run = ?1 ORDER BY call, at",
        args![run],
    )?;
    let mut decisions = Vec::new();
    for row in rows {
        decisions.push(CallDecision {
            call: row.get(0)?,
            waiting: from_text(&row.get::<String>(1)?)?,
            decision: serde_json::from_str(&row.get::<String>(2)?)?,
            at: row.get(3)?,
        });
    }
    Ok(decisions)
}
