//! How a finished run becomes an [`Outcome`]: the result read back (within
//! its size and depth), or the error that ended it, named by its cause
//! (the script, a limit, or the sandbox itself), with the run's stats.

use std::time::Instant;

use wasmtime::Trap;

use codemode_outcome::{
    Ending as Shared, ErrorKind, ExecutionError, Limits, Outcome, Stats, memory_error,
    timeout_error,
};

use crate::bindings;
use crate::host::RunState;

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
    let mut stats = Stats::default();
    stats.wall_time = started.elapsed();
    stats.fuel_used = limits.fuel.saturating_sub(fuel_left);
    stats.peak_memory_bytes = state.memory.peak;
    stats.connector_calls = state.calls.started;
    stats.document_reads = state.documents.reads;
    let ending = match ending {
        Ending::TimedOut => Shared::Stopped(timeout_error(limits)),
        Ending::Trapped(trap) => Shared::Stopped(classify_trap(&trap, &state, limits)),
        Ending::Threw(script) => {
            Shared::Threw(codemode_outcome::script_failure!(script, bindings::Failure))
        }
        Ending::Returned(json) => Shared::Returned(json),
    };
    Outcome::of(ending, state.console.kept.into_entries(), stats, limits)
}

fn classify_trap(trap: &wasmtime::Error, state: &RunState, limits: &Limits) -> ExecutionError {
    if let Some(error) = &state.stopped_by {
        return error.clone();
    }
    if state.memory.exceeded {
        return memory_error(limits);
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
        let outcome = run(&nested(codemode_outcome::MAX_RESULT_DEPTH)).await;
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        let mut value = outcome.result.expect("a result");
        for _ in 0..codemode_outcome::MAX_RESULT_DEPTH {
            value = value[0].take();
        }
        assert_eq!(value, serde_json::json!(1));
    }
}
