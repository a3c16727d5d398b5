//! The limits the guest enforces by itself, for hosts that meter nothing
//! (jco in Node.js or a browser): a cap on the linear memory's size and a
//! deadline on the WASI monotonic clock, both checked by QuickJS's
//! interrupt handler, and the deadline by the event loop before it waits.
//!
//! QuickJS's own memory limit does not work here: it counts each
//! allocation's usable size, which QuickJS cannot learn from wasi-libc (it
//! counts 0), so it never trips. The linear memory is what a host pays
//! for anyway. The interrupt handler runs every few thousand bytecode
//! branches, so a script that allocates in native code between two checks
//! (`new Array(1e5).fill(1)` in a loop) can overshoot the cap by what it
//! allocates meanwhile, hundreds of megabytes at worst; a host's own limit
//! (`wasmtime run -W max-memory-size`) is exact. Both come with each request; a
//! host that leaves them out (wasmtime, with fuel, epochs and a memory
//! limiter of its own) pays one thread-local read per QuickJS interrupt
//! check.
//!
//! Once a limit is reached, every interrupt check answers yes: QuickJS
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
    /// The most bytes of linear memory the run may grow to; none without a
    /// cap.
    static MEMORY_CAP: Cell<Option<usize>> = const { Cell::new(None) };
    /// The limit an interrupt check (or a wait) found reached in this run.
    static STOPPED: Cell<Option<Failure>> = const { Cell::new(None) };
}

/// Install the interrupt handler, once, at initialization: it stays in the
/// snapshot, and reads the limits each run sets.
pub(crate) fn install(runtime: &Runtime) {
    runtime.set_interrupt_handler(Some(Box::new(interrupt)));
}

/// Start a run under `limits`: the memory cap set, the deadline counted
/// from now.
pub(crate) fn start(limits: &GuestLimits) {
    let cap = limits
        .memory_bytes
        .map(|bytes| usize::try_from(bytes).unwrap_or(usize::MAX));
    MEMORY_CAP.with(|c| c.set(cap));
    STOPPED.with(|s| s.set(None));
    let deadline = limits
        .deadline_ms
        .map(|ms| Instant::now() + Duration::from_millis(ms));
    DEADLINE.with(|d| d.set(deadline));
}

/// True once the run's deadline has passed or its linear memory has grown
/// past the cap (and from then on, until the run ends). QuickJS's
/// interrupt handler.
fn interrupt() -> bool {
    if STOPPED.with(Cell::get).is_some() {
        return true;
    }
    let stopped = if DEADLINE
        .with(Cell::get)
        .is_some_and(|d| Instant::now() >= d)
    {
        Some(Failure::Deadline)
    } else if MEMORY_CAP
        .with(Cell::get)
        .is_some_and(|cap| linear_memory_bytes() > cap)
    {
        Some(Failure::OutOfMemory)
    } else {
        None
    };
    STOPPED.with(|s| s.set(stopped));
    stopped.is_some()
}

/// The size of the guest's linear memory, in bytes.
fn linear_memory_bytes() -> usize {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_size(0) * 65_536
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0
    }
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
        STOPPED.with(|s| s.set(Some(Failure::Deadline)));
        return Err(());
    }
    let left = u64::try_from(left.as_nanos()).unwrap_or(u64::MAX);
    Ok(Some(timeout_ns.map_or(left, |t| t.min(left))))
}

/// End the run: the handler silenced (the report runs JavaScript), and
/// `ran` named by the limit that ended it, if one did.
pub(crate) fn finish(
    ran: Result<Option<String>, ScriptError>,
) -> Result<Option<String>, ScriptError> {
    DEADLINE.with(|d| d.set(None));
    MEMORY_CAP.with(|c| c.set(None));
    match (STOPPED.with(Cell::take), ran) {
        (Some(Failure::Deadline), _) => Err(stopped(
            Failure::Deadline,
            "the script ran past its deadline",
        )),
        (Some(_), _) => Err(stopped(
            Failure::OutOfMemory,
            "the script ran out of memory",
        )),
        (None, Err(error)) if out_of_memory(&error) || internal_without_memory(&error) => Err(
            stopped(Failure::OutOfMemory, "the script ran out of memory"),
        ),
        (None, ran) => ran,
    }
}

/// QuickJS's error for an allocation that failed (the linear memory could
/// not grow), uncaught; or the sandbox's own failure to report because of
/// one.
fn out_of_memory(error: &ScriptError) -> bool {
    error.name == "InternalError" && error.message.contains("out of memory")
}

/// The sandbox's own failure (QuickJS throwing `null` where it could not
/// even allocate its out-of-memory error) in a linear memory that cannot
/// grow: the host's memory limit was reached.
fn internal_without_memory(error: &ScriptError) -> bool {
    error.name == "InternalError"
        && error.message.starts_with("the sandbox failed:")
        && !linear_memory_can_grow()
}

/// Whether the linear memory can grow by a page (it then has: the instance
/// ends with the run).
fn linear_memory_can_grow() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        core::arch::wasm32::memory_grow(0, 1) != usize::MAX
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        true
    }
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
