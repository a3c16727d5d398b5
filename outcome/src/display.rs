//! How the command line shows an outcome: the result as pretty JSON on
//! standard output, the error on standard error (one line, then the code
//! frame and the stack of a script error), and the exit status. `codemode run` and the portable CLI component print through
//! these, so that both read the same.
//!
//! Exit status: 0 success; 1 the script failed (syntax error, uncaught
//! exception, rejected promise, a call rejected or denied and not caught);
//! 2 a usage or configuration error ([`EXIT_USAGE`], which each command
//! reports itself); 3 a limit stopped it (timeout, fuel, memory, output,
//! calls, stack).

use std::io::Write;

use crate::frame;
use crate::outcome::{LogLevel, Outcome};

/// A usage or configuration error: nothing ran.
pub const EXIT_USAGE: u8 = 2;
/// The script failed.
const EXIT_SCRIPT_FAILED: u8 = 1;
/// A limit stopped the script.
const EXIT_LIMIT: u8 = 3;

/// The exit status of a command that ran a script to `outcome`.
pub fn exit_status(outcome: &Outcome) -> u8 {
    match outcome.error_kind() {
        None => 0,
        Some(kind) if kind.is_limit() => EXIT_LIMIT,
        Some(_) => EXIT_SCRIPT_FAILED,
    }
}

/// The result as the command line prints it: pretty JSON; none when the
/// script returned `undefined` or failed.
pub fn plain_result(outcome: &Outcome) -> Option<String> {
    let result = outcome.result.as_ref()?;
    Some(serde_json::to_string_pretty(result).unwrap_or_else(|_| result.to_string()))
}

/// The error as the command line prints it; none when the run succeeded.
/// A line that says what and where, e.g. `script error at line 4, column 3:
/// TypeError: cannot read property 'x' of null`; then, for an error in the
/// script's `code` (when it is known), the lines around it with a caret
/// under the column, and the stack's frames in the agent's code.
pub fn plain_error(outcome: &Outcome, code: Option<&str>) -> Option<String> {
    let error = outcome.error.as_ref()?;
    let position = match (error.line, error.column) {
        (Some(line), Some(column)) => format!(" at line {line}, column {column}"),
        (Some(line), None) => format!(" at line {line}"),
        _ => String::new(),
    };
    let kind = serde_json::to_value(error.kind)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mut shown = format!("{kind} error{position}: {}: {}", error.name, error.message);
    let source = code
        .zip(error.line)
        .and_then(|(code, line)| frame::source_frame(code, line, error.column));
    for part in [source, frame::agent_frames(&error.stack)]
        .into_iter()
        .flatten()
    {
        shown.push_str("\n\n");
        shown.push_str(&part);
    }
    Some(shown)
}

/// Print a console line as the command line does as it is written:
/// warnings and errors to standard error, the rest to standard output.
pub fn print_log(level: LogLevel, text: &str) {
    match level {
        LogLevel::Warn | LogLevel::Error => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{text}");
        }
        _ => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }
}
