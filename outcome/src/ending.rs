//! How a guest's report becomes part of an [`Outcome`](crate::Outcome): the
//! result read back within its size and depth, and a failed script named by
//! its cause (the script, or a limit the guest itself enforced).

use crate::limits::Limits;
use crate::outcome::{ErrorKind, ExecutionError, LogEntry, Outcome, Stats};

/// How a guest's `run` ended, as every host reads it.
#[derive(Debug)]
pub enum Ending {
    /// It returned its result's JSON text, or `undefined`.
    Returned(Option<String>),
    /// The script failed; the guest reports how.
    Threw(ScriptFailure),
    /// The host stopped it (a limit), or the sandbox failed.
    Stopped(ExecutionError),
}

impl Outcome {
    /// The outcome of a run with `limits` that ended by `ending`, wrote
    /// `logs` and cost `stats`.
    pub fn of(ending: Ending, logs: Vec<LogEntry>, stats: Stats, limits: &Limits) -> Outcome {
        let mut outcome = Outcome {
            result: None,
            logs,
            error: None,
            stats,
        };
        match ending {
            Ending::Returned(None) => {}
            Ending::Returned(Some(json)) => match read_result(&json, limits) {
                Ok(value) => outcome.result = Some(value),
                Err(error) => outcome.error = Some(error),
            },
            Ending::Threw(failure) => outcome.error = Some(failure.into_error(limits)),
            Ending::Stopped(error) => outcome.error = Some(error),
        }
        outcome
    }
}

/// Why a run failed inside the guest: the WIT `failure` enum, as every host
/// reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Failure {
    Exception,
    Unsettled,
    Unserializable,
    ResultTooLarge,
    Rejected,
    Denied,
    /// The guest's own deadline passed.
    Deadline,
    /// The guest's QuickJS ran out of memory (its own cap, or a linear
    /// memory that could not grow).
    OutOfMemory,
}

/// The guest's report of a failed run: the WIT `script-error` record.
#[derive(Clone, Debug)]
#[allow(missing_docs)]
pub struct ScriptFailure {
    pub failure: Failure,
    pub name: String,
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
    pub stack: String,
}

impl ScriptFailure {
    /// The error of a run with `limits` that failed this way. A script's
    /// text is cut to `limits.result_bytes` in all: an error is output too,
    /// and may not carry more than a result.
    pub fn into_error(self, limits: &Limits) -> ExecutionError {
        let kind = match self.failure {
            Failure::Deadline => return timeout_error(limits),
            Failure::OutOfMemory => return out_of_memory_error(limits),
            Failure::ResultTooLarge => ErrorKind::Output,
            Failure::Exception | Failure::Unsettled | Failure::Unserializable => ErrorKind::Script,
            Failure::Rejected => ErrorKind::Rejected,
            Failure::Denied => ErrorKind::Denied,
        };
        let mut budget = limits.result_bytes;
        ExecutionError {
            kind,
            name: cut(self.name, &mut budget),
            message: cut(self.message, &mut budget),
            line: self.line,
            column: self.column,
            stack: cut(self.stack, &mut budget),
        }
    }
}

/// The run's deadline passed.
pub fn timeout_error(limits: &Limits) -> ExecutionError {
    ExecutionError::limit(
        ErrorKind::Timeout,
        format!(
            "the script ran past its deadline of {} ms",
            limits.timeout.as_millis()
        ),
    )
}

/// The run reached its memory cap.
pub fn memory_error(limits: &Limits) -> ExecutionError {
    ExecutionError::limit(
        ErrorKind::Memory,
        format!(
            "the script reached the memory cap of {} bytes",
            limits.memory_bytes
        ),
    )
}

/// The guest ran out of memory: its own cap, or a host's lower one.
fn out_of_memory_error(limits: &Limits) -> ExecutionError {
    ExecutionError::limit(
        ErrorKind::Memory,
        format!(
            "the script ran out of memory (the cap is {} bytes, and its host may set a lower one)",
            limits.memory_bytes
        ),
    )
}

/// The result's JSON text read back, within the result cap and
/// [`MAX_RESULT_DEPTH`].
///
/// # Errors
///
/// An output error past the cap; the script's error for a result nested
/// too deep; an internal error for text that is not JSON.
pub fn read_result(json: &str, limits: &Limits) -> Result<serde_json::Value, ExecutionError> {
    if json.len() > limits.result_bytes {
        return Err(ExecutionError::limit(
            ErrorKind::Output,
            format!(
                "the result is {} bytes of JSON; the limit is {} bytes",
                json.len(),
                limits.result_bytes
            ),
        ));
    }
    serde_json::from_str(json).map_err(|error| {
        if nests_deeper_than(json, MAX_RESULT_DEPTH) {
            too_deep_error()
        } else {
            ExecutionError::limit(
                ErrorKind::Internal,
                format!("the sandbox returned a result that is not JSON: {error}"),
            )
        }
    })
}

/// The deepest a result may nest arrays and objects: serde_json refuses
/// deeper JSON when the host reads it.
pub const MAX_RESULT_DEPTH: usize = 127;

/// A result nested deeper than [`MAX_RESULT_DEPTH`]: the script's error, as
/// for any other result JSON cannot hold.
fn too_deep_error() -> ExecutionError {
    ExecutionError {
        kind: ErrorKind::Script,
        name: "TypeError".into(),
        message: format!(
            "the result nests arrays and objects more than {MAX_RESULT_DEPTH} levels deep; \
             a result may nest at most {MAX_RESULT_DEPTH}"
        ),
        line: None,
        column: None,
        stack: String::new(),
    }
}

/// True when the JSON text `json` nests arrays and objects more than `max`
/// levels deep; found by counting brackets outside strings, without
/// recursion.
fn nests_deeper_than(json: &str, max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for byte in json.bytes() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            _ if in_string => {}
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// `text`, cut (with an ellipsis) to what is left of `budget`, which it uses.
fn cut(mut text: String, budget: &mut usize) -> String {
    const ELLIPSIS: &str = "…";
    if text.len() > *budget {
        let mut end = budget.saturating_sub(ELLIPSIS.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        if *budget >= ELLIPSIS.len() {
            text.push_str(ELLIPSIS);
        }
    }
    *budget -= text.len();
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_in_strings_do_not_count() {
        assert!(!nests_deeper_than(r#"["[[[", "\"[[[", {"{{": "]]"}]"#, 2));
        assert!(nests_deeper_than(r#"["\\", [[]]]"#, 2));
        assert!(!nests_deeper_than(r#"["\\", [[]]]"#, 3));
    }

    #[test]
    fn the_guests_own_limits_read_as_the_hosts() {
        let limits = Limits::default();
        let failure = |failure| ScriptFailure {
            failure,
            name: "InternalError".into(),
            message: "interrupted".into(),
            line: Some(1),
            column: Some(1),
            stack: String::new(),
        };
        let deadline = failure(Failure::Deadline).into_error(&limits);
        assert_eq!(deadline, timeout_error(&limits));
        let memory = failure(Failure::OutOfMemory).into_error(&limits);
        assert_eq!(memory.kind, ErrorKind::Memory);
        assert_eq!(
            memory.message,
            "the script ran out of memory (the cap is 67108864 bytes, and its host may set a lower one)"
        );
    }
}
