//! What a codemode run may use and what it produced, in one place for every
//! host that runs the sandbox: the [`Limits`], the [`Outcome`] (result,
//! console lines, error, stats) and its JSON, the console's byte cap, how a
//! guest's report becomes an outcome, and how the command line shows one.
//!
//! The runtime (wasmtime in-process) and the portable components (the
//! sandbox under `wasmtime run`, `wasmtime serve`, Spin or jco) both build
//! their outcomes here, so that a script gives the same JSON and the same
//! exit status whichever host runs it. [`script_failure!`] and
//! [`log_level!`] read the WIT enums of any host's bindings.
//!
//! ```
//! use codemode_outcome::{Console, LogLevel, Outcome};
//!
//! let mut console = Console::new(1024);
//! console.write(LogLevel::Log, "hello".into(), |_| {});
//! let mut outcome = Outcome::default();
//! outcome.logs = console.into_entries();
//! assert_eq!(codemode_outcome::exit_status(&outcome), 0);
//! assert_eq!(outcome.logs[0].text, "hello");
//! ```

mod console;
mod display;
mod ending;
mod frame;
mod limits;
mod outcome;
mod wit;

pub use console::Console;
pub use display::{EXIT_USAGE, exit_status, plain_error, plain_result, print_log};
pub use ending::{
    Ending, Failure, MAX_RESULT_DEPTH, ScriptFailure, memory_error, read_result, timeout_error,
};
pub use limits::{Limits, deserialize_millis};
pub use outcome::{ErrorKind, ExecutionError, LogEntry, LogLevel, Outcome, Stats};
