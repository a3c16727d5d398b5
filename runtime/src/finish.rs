//! How a finished run becomes an [`Outcome`]: the result read back (within
//! its size and depth), or the error that ended it, named by its cause
//! (the script, a limit, or the sandbox itself), with the run's stats.

use std::time::Instant;

use wasmtime::Trap;

use crate::bindings::{self, Failure};
use crate::host::RunState;
use crate::limits::Limits;
use crate::outcome::{ErrorKind, ExecutionError, Outcome, Stats};

/// How the guest's `run` ended.
pub(crate) enum Ending {
    /// It returned a result (JSON text), or `undefined`.
    Returned(Option<String>),
    /// The script failed; the guest reports how.
    Threw(bindings::ScriptError),
    /// The store trapped: a limit, or the sandbox failed.
    Trapped(wasmtime::Error),
    /// The deadline passed while the run waited.
    TimedOut,
}

/// The outcome of a run that started at `started` with `limits`, ended by
/// `ending`, its store's data `state` and its unused fuel `fuel_left`.
pub(crate) fn outcome(
    ending: Ending,
    state: RunState,
    fuel_left: u64,
    limits: &Limits,
    started: Instant,
) -> Outcome {
    let mut outcome = Outcome {
        result: None,
        logs: Vec::new(),
        error: None,
        stats: Stats {
            wall_time: started.elapsed(),
            fuel_used: limits.fuel.saturating_sub(fuel_left),
            peak_memory_bytes: state.memory.peak,
            connector_calls: state.calls.started,
            document_reads: state.documents.reads,
        },
    };
    match ending {
        Ending::TimedOut => outcome.error = Some(timeout_error(limits)),
        Ending::Trapped(trap) => outcome.error = Some(classify_trap(&trap, &state, limits)),
        Ending::Threw(script) => outcome.error = Some(script_error(script, limits.result_bytes)),
        Ending::Returned(None) => {}
        Ending::Returned(Some(json)) => match read_result(&json, limits) {
            Ok(value) => outcome.result = Some(value),
            Err(error) => outcome.error = Some(error),
        },
    }
    outcome.logs = state.console.entries;
    outcome
}

/// The result's JSON text read back, within the result cap and
/// [`MAX_RESULT_DEPTH`].
fn read_result(json: &str, limits: &Limits) -> Result<serde_json::Value, ExecutionError> {
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
const MAX_RESULT_DEPTH: usize = 127;

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

/// The run's deadline passed.
fn timeout_error(limits: &Limits) -> ExecutionError {
    ExecutionError::limit(
        ErrorKind::Timeout,
        format!(
            "the script ran past its deadline of {} ms",
            limits.timeout.as_millis()
        ),
    )
}

fn classify_trap(trap: &wasmtime::Error, state: &RunState, limits: &Limits) -> ExecutionError {
    if let Some(error) = &state.stopped_by {
        return error.clone();
    }
    if state.memory.exceeded {
        return ExecutionError::limit(
            ErrorKind::Memory,
            format!(
                "the script reached the memory cap of {} bytes",
                limits.memory_bytes
            ),
        );
    }
    match trap.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => ExecutionError::limit(
            ErrorKind::Fuel,
            format!(
                "the script used all of its {} fuel: it computed for too long",
                limits.fuel
            ),
        ),
        Some(Trap::Interrupt) => timeout_error(limits),
        Some(Trap::StackOverflow) => ExecutionError::limit(
            ErrorKind::Stack,
            "the script overflowed the WebAssembly stack: recursion too deep",
        ),
        _ => {
            let stderr = state.stderr.contents();
            let detail = String::from_utf8_lossy(&stderr);
            ExecutionError::limit(
                ErrorKind::Internal,
                format!("the sandbox failed: {}: {trap:#}", detail.trim()),
            )
        }
    }
}

/// The guest's report of a failed script, its text cut to `cap` bytes in
/// all: an error is output too, and may not carry more than a result.
fn script_error(error: bindings::ScriptError, cap: usize) -> ExecutionError {
    let kind = match error.failure {
        Failure::ResultTooLarge => ErrorKind::Output,
        Failure::Exception | Failure::Unsettled | Failure::Unserializable => ErrorKind::Script,
        Failure::Rejected => ErrorKind::Rejected,
        Failure::Denied => ErrorKind::Denied,
    };
    let mut budget = cap;
    ExecutionError {
        kind,
        name: cut(error.name, &mut budget),
        message: cut(error.message, &mut budget),
        line: error.line,
        column: error.column,
        stack: cut(error.stack, &mut budget),
    }
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
    //! Results too deep for the host to read (found by the `js_source` fuzz
    //! target: they were reported as the sandbox's internal error).

    use super::*;
    use crate::{Execution, Runtime};

    /// `code` run with default limits.
    async fn run(code: &str) -> Outcome {
        let runtime = Runtime::new().expect("the runtime starts");
        runtime
            .execute(Execution::new(code))
            .await
            .expect("the run starts")
    }

    /// Arrays `depth` deep around `1`.
    fn nested(depth: usize) -> String {
        format!("let v = 1; for (let i = 0; i < {depth}; i++) v = [v]; v")
    }

    #[tokio::test]
    async fn a_result_nested_too_deep_is_the_scripts_error() {
        let outcome = run(&nested(200)).await;
        let error = outcome.error.expect("the run fails");
        assert_eq!(
            (error.kind, error.name.as_str()),
            (ErrorKind::Script, "TypeError"),
            "{error:?}"
        );
        assert!(
            error.message.contains("more than 127 levels deep"),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_result_nested_as_deep_as_allowed_is_the_result() {
        let outcome = run(&nested(MAX_RESULT_DEPTH)).await;
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        let mut value = outcome.result.expect("a result");
        for _ in 0..MAX_RESULT_DEPTH {
            value = value[0].take();
        }
        assert_eq!(value, serde_json::json!(1));
    }

    #[test]
    fn brackets_in_strings_do_not_count() {
        assert!(!nests_deeper_than(r#"["[[[", "\"[[[", {"{{": "]]"}]"#, 2));
        assert!(nests_deeper_than(r#"["\\", [[]]]"#, 2));
        assert!(!nests_deeper_than(r#"["\\", [[]]]"#, 3));
    }
}
