//! The limits the guest enforces by itself, for hosts that meter nothing
//! (jco in Node.js or a browser): QuickJS's own memory cap, and a deadline
//! checked by QuickJS's interrupt handler on the WASI monotonic clock and
//! by the event loop before it waits. Both come with each request; a host
//! that leaves them out (wasmtime, with fuel, epochs and a memory limiter
//! of its own) pays one thread-local read per QuickJS interrupt check.
//!
//! Once the deadline has passed, every interrupt check answers yes: QuickJS
//! raises an uncatchable `InternalError`, so nothing the script does
//! (`try`/`finally`, a handler that loops) keeps it running. The handler is
//! silenced again before the run is reported, so that the report itself,
//! which runs the prelude's JavaScript, is not interrupted.

use std::cell::Cell;
use std::time::{Duration, Instant};

use javy::quickjs::Runtime;

use crate::bindings::{Failure, GuestLimits, ScriptError};

thread_local! {
    /// When the running request's deadline passes; none without one, or
    /// once the run is being reported.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Whether an interrupt check found the deadline passed in this run.
    static INTERRUPTED: Cell<bool> = const { Cell::new(false) };
}

/// Install the interrupt handler, once, at initialization: it stays in the
/// snapshot, and reads the deadline each run sets.
pub(crate) fn install(runtime: &Runtime) {
    runtime.set_interrupt_handler(Some(Box::new(deadline_passed)));
}

/// Start a run under `limits`: the memory cap set, the deadline counted
/// from now.
pub(crate) fn start(runtime: &Runtime, limits: &GuestLimits) {
    // 0 is QuickJS's "no limit".
    let memory = limits
        .memory_bytes
        .map_or(0, |bytes| usize::try_from(bytes).unwrap_or(usize::MAX).max(1));
    runtime.set_memory_limit(memory);
    INTERRUPTED.with(|i| i.set(false));
    let deadline = limits
        .deadline_ms
        .map(|ms| Instant::now() + Duration::from_millis(ms));
    DEADLINE.with(|d| d.set(deadline));
}

/// True once the run's deadline has passed (and from then on, until the
/// run ends). QuickJS's interrupt handler.
fn deadline_passed() -> bool {
    let passed = DEADLINE.with(Cell::get).is_some_and(|d| Instant::now() >= d);
    if passed {
        INTERRUPTED.with(|i| i.set(true));
    }
    passed
}

/// How long the event loop may wait: `timeout_ns` (none: until a call
/// finishes), cut to what is left before the deadline. `Err` when it has
/// passed.
pub(crate) fn bound_wait(timeout_ns: Option<u64>) -> Result<Option<u64>, ()> {
    let Some(deadline) = DEADLINE.with(Cell::get) else {
        return Ok(timeout_ns);
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        INTERRUPTED.with(|i| i.set(true));
        return Err(());
    }
    let left = u64::try_from(left.as_nanos()).unwrap_or(u64::MAX);
    Ok(Some(timeout_ns.map_or(left, |t| t.min(left))))
}

/// End the run: the handler silenced and the memory cap lifted (the report
/// must be able to allocate), and `ran` named by the limit that ended it,
/// if one did.
pub(crate) fn finish(
    runtime: &Runtime,
    ran: Result<Option<String>, ScriptError>,
) -> Result<Option<String>, ScriptError> {
    DEADLINE.with(|d| d.set(None));
    runtime.set_memory_limit(0);
    if INTERRUPTED.with(Cell::get) {
        return Err(stopped(Failure::Deadline, "the script ran past its deadline"));
    }
    match ran {
        Err(error) if out_of_memory(&error) => {
            Err(stopped(Failure::OutOfMemory, "the script ran out of memory"))
        }
        ran => ran,
    }
}

/// QuickJS's error for an allocation that failed, uncaught; or the
/// sandbox's own failure to report because of one.
fn out_of_memory(error: &ScriptError) -> bool {
    error.name == "InternalError" && error.message.contains("out of memory")
}

fn stopped(failure: Failure, message: &str) -> ScriptError {
    ScriptError {
        failure,
        name: "InternalError".into(),
        message: message.into(),
        line: None,
        column: None,
        stack: String::new(),
    }
}
