//! The journal of a durable run, as the runtime writes and replays it.
//!
//! A durable run is replayed, not restored: QuickJS's state is a function
//! of the code, the seed, and what the host answered, so the runtime
//! journals every answer that could differ between two runs of the same
//! code (each clock read, which call each wait delivered, each call's
//! reply) and, to resume, runs the code again from the start against the
//! journal: journaled calls are answered from it, never made again, and the
//! run carries on live where the journal ends.
//!
//! Calls are matched to the journal by identity (namespace, method,
//! canonical arguments, and occurrence among calls with the same three),
//! never by position, so code that starts calls in another order (or a
//! `Promise.all`) still finds its replies. Clock reads and waits are
//! answered in journal order while the code reads them in that order; the
//! first that does not fit ends the replay, and the run goes on live.
//!
//! Storage is the embedder's: a [`Journal`] commits entries, the runtime
//! says when. An entry that records an effect is committed before the
//! effect: a call is journaled as started before its connector sees it.
//! Replies, clock reads, waits and console lines are buffered and committed
//! with the next call (whatever the script does with them reaches the world
//! only through one), before a call waits for a person, and at the end of
//! the run: one commit per call. A reply lost with its process leaves its
//! call in doubt, for a person to settle.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::policy::Ruling;
use codemode_outcome::LogLevel;

/// Which clock a journaled read was of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClockKind {
    /// The wall clock: `Date.now()`, `new Date()`.
    Wall,
    /// The monotonic clock: timers.
    Monotonic,
}

/// Why a call failed, as the script saw it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallFailure {
    /// The error's code (`connector`, `rejected`, …).
    pub code: String,
    /// Its message, redacted.
    pub message: String,
}

/// One entry of a run's journal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "entry")]
#[non_exhaustive]
pub enum Entry {
    /// The code read a clock.
    Clock {
        /// Which one.
        clock: ClockKind,
        /// What it read: nanoseconds since the Unix epoch for the wall
        /// clock, since the run's start for the monotonic one.
        nanos: u64,
    },
    /// The code waited, and was woken by the end of call `call`, or by a
    /// timer when `call` is `None`.
    Wait {
        /// The call whose end woke it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call: Option<u32>,
    },
    /// The code asked for a call, and the policy ruled on it. Committed
    /// before anything is done about the call.
    Call {
        /// The call's number in the run: 1 for the first.
        call: u32,
        /// Its namespace.
        namespace: String,
        /// Its method, as the script calls it.
        method: String,
        /// Its arguments, canonical: object keys sorted.
        args: String,
        /// Which call with the same namespace, method and arguments it is:
        /// 1 for the first.
        occurrence: u32,
        /// The policy's ruling.
        ruling: Ruling,
        /// When, in milliseconds since the Unix epoch.
        at: u64,
    },
    /// The call is about to reach its connector. Committed before it does:
    /// a call started and never finished is in doubt.
    Started {
        /// The call.
        call: u32,
        /// When, in milliseconds since the Unix epoch.
        at: u64,
    },
    /// The call ended.
    Finished {
        /// The call.
        call: u32,
        /// Whether the reply was there at once (the script's promise was
        /// settled when the call returned it).
        ready: bool,
        /// The reply's JSON as the script got it (redacted), or why the
        /// call failed.
        reply: Result<String, CallFailure>,
        /// When, in milliseconds since the Unix epoch.
        at: u64,
    },
    /// A console line.
    Log {
        /// Its level.
        level: LogLevel,
        /// Its text.
        text: String,
    },
    /// The resumed code did not do what the journal says it did. Never
    /// fatal: the run goes on live.
    Diverged {
        /// What differed.
        what: String,
        /// The journaled call it concerns, if one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call: Option<u32>,
    },
}

/// A journal failed to commit.
#[derive(Debug, thiserror::Error)]
#[error("the run's journal failed: {0}")]
pub struct JournalError(pub String);

/// Where one durable run's journal is kept.
pub trait Journal: Send + Sync + 'static {
    /// The run's id.
    fn run(&self) -> &str;

    /// Commit `entries`, in order, after those committed before. When this
    /// returns `Ok`, they survive the process being killed.
    ///
    /// # Errors
    ///
    /// [`JournalError`] when they could not be committed; the runtime then
    /// makes no call that depends on them.
    fn append(&self, entries: &[Entry]) -> Result<(), JournalError>;
}

/// What a durable run starts from: the seed of its random sources and the
/// journal of its earlier attempts (empty for a new run).
#[derive(Clone, Debug, Default)]
pub struct Replay {
    /// The seed of `Math.random` and `crypto`.
    pub seed: [u8; 32],
    /// The entries journaled so far, in order.
    pub entries: Vec<Entry>,
}

/// JSON text of `value` with every object's keys sorted: the same arguments
/// give the same text however the script ordered them.
pub fn canonical_json(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let a = serde_json::json!({ "b": 1, "a": { "y": [ { "q": 1, "p": 2 } ], "x": null } });
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"x":null,"y":[{"p":2,"q":1}]},"b":1}"#
        );
    }

    #[test]
    fn entries_read_back_as_written() {
        let entries = vec![
            Entry::Clock {
                clock: ClockKind::Wall,
                nanos: 5,
            },
            Entry::Wait { call: Some(2) },
            Entry::Finished {
                call: 2,
                ready: false,
                reply: Err(CallFailure {
                    code: "rejected".into(),
                    message: "no".into(),
                }),
                at: 9,
            },
        ];
        let json = serde_json::to_string(&entries).expect("entries serialize");
        let back: Vec<Entry> = serde_json::from_str(&json).expect("entries read back");
        assert_eq!(back, entries);
    }
}
