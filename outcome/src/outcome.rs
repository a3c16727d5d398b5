//! What an execution produces: a result or an error, the console output in
//! order, and what the run cost.

use std::time::Duration;

use serde::{Serialize, Serializer};
use serde_json::Value;

/// The end of one execution. Produced for every run that started, whether
/// the script succeeded, threw, or was stopped by a limit.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Outcome {
    /// The script's result as JSON; `None` when it failed or returned
    /// `undefined`.
    pub result: Option<Value>,
    /// Console output, in the order it was written.
    pub logs: Vec<LogEntry>,
    /// Why the run failed, if it did.
    pub error: Option<ExecutionError>,
    /// What the run cost.
    pub stats: Stats,
}

impl Outcome {
    /// True when the script ran to completion.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// The error's kind, if the run failed.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        self.error.as_ref().map(|e| e.kind)
    }
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            ok: bool,
            result: &'a Option<Value>,
            logs: &'a [LogEntry],
            error: &'a Option<ExecutionError>,
            stats: &'a Stats,
        }
        Wire {
            ok: self.ok(),
            result: &self.result,
            logs: &self.logs,
            error: &self.error,
            stats: &self.stats,
        }
        .serialize(serializer)
    }
}

/// One console line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct LogEntry {
    /// The console method that wrote it.
    pub level: LogLevel,
    /// The formatted text, as Node's `console` would print it.
    pub text: String,
}

impl LogEntry {
    /// A line written by `level`.
    pub fn new(level: LogLevel, text: String) -> Self {
        Self { level, text }
    }
}

/// Console levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum LogLevel {
    Debug,
    Info,
    Log,
    Warn,
    Error,
}

impl LogLevel {
    /// The console method's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Debug => "debug",
            Self::Info => "info",
            Self::Log => "log",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// Why a run failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ExecutionError {
    /// What stopped the run.
    pub kind: ErrorKind,
    /// The JavaScript error's name (`TypeError`, ...), or the limit's.
    pub name: String,
    /// What went wrong, for the agent.
    pub message: String,
    /// Line in the agent's code (1-based), where known.
    pub line: Option<u32>,
    /// Column in the agent's code (1-based), where known.
    pub column: Option<u32>,
    /// The JavaScript stack, where there is one.
    pub stack: String,
}

impl ExecutionError {
    /// The error of a run stopped by `kind`, a limit (or the sandbox's own
    /// failure), with the limit's error name.
    pub fn limit(kind: ErrorKind, message: impl Into<String>) -> Self {
        let name = match kind {
            ErrorKind::Timeout => "TimeoutError",
            ErrorKind::Fuel => "FuelExhaustedError",
            ErrorKind::Memory => "MemoryLimitError",
            ErrorKind::Output => "OutputLimitError",
            ErrorKind::Calls => "CallLimitError",
            ErrorKind::Stack => "StackOverflowError",
            ErrorKind::Rejected => "ApprovalRejectedError",
            ErrorKind::Denied => "CallDeniedError",
            ErrorKind::Unloaded => "UnloadedError",
            ErrorKind::Script | ErrorKind::Internal => "InternalError",
        };
        Self {
            kind,
            name: name.into(),
            message: message.into(),
            line: None,
            column: None,
            stack: String::new(),
        }
    }
}

/// What stopped a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The script failed: a syntax error, an uncaught exception, a rejected
    /// promise, a promise that can never settle, or a result JSON cannot hold.
    Script,
    /// The wall-clock deadline passed.
    Timeout,
    /// The fuel ran out.
    Fuel,
    /// The memory cap was reached.
    Memory,
    /// The result was larger than its cap.
    Output,
    /// The script made more connector calls than a run may.
    Calls,
    /// The WebAssembly stack overflowed.
    Stack,
    /// The sandbox itself failed; a bug, not the script's fault.
    Internal,
    /// A call was rejected (by a person, or as expired) and the script did
    /// not catch its `ApprovalRejectedError`.
    Rejected,
    /// The approval policy denied a call and the script did not catch its
    /// `CallDeniedError`.
    Denied,
    /// Not an end: the durable run was unloaded while it waited for people
    /// (see [`Unload`](crate::Unload)), and resumes from its journal
    /// when executed again.
    Unloaded,
}

impl ErrorKind {
    /// True for the kinds that mean a limit stopped the run.
    pub fn is_limit(self) -> bool {
        matches!(
            self,
            Self::Timeout | Self::Fuel | Self::Memory | Self::Output | Self::Calls | Self::Stack
        )
    }
}

/// What a run cost.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Stats {
    /// Wall time from instantiation to the end, in microseconds.
    #[serde(rename = "wallTimeUs", serialize_with = "micros")]
    pub wall_time: Duration,
    /// Fuel consumed.
    pub fuel_used: u64,
    /// The largest linear memory reached, in bytes.
    pub peak_memory_bytes: u64,
    /// Connector calls started.
    pub connector_calls: u32,
    /// Reads of [`Document`](crate::Document) nodes: one for each node the
    /// script touched that did not come inline in its parent.
    pub document_reads: u32,
}

fn micros<S: Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_micros().try_into().unwrap_or(u64::MAX))
}
