//! From each host's WIT bindings to the shared types. Every host generates
//! its own bindings of `wit/sandbox.wit` (wasmtime's `bindgen!` in the
//! runtime, wit-bindgen's in the portable components), so the same enums
//! arrive as different Rust types; these macros read any of them.

/// A [`ScriptFailure`](crate::ScriptFailure) from a binding's
/// `script-error` record `$error`, whose `failure` enum is the type
/// `$failure` (a path, e.g. `bindings::Failure`).
#[macro_export]
macro_rules! script_failure {
    ($error:expr, $($failure:ident)::+) => {{
        let error = $error;
        let failure = match error.failure {
            $($failure)::+::Exception => $crate::Failure::Exception,
            $($failure)::+::Unsettled => $crate::Failure::Unsettled,
            $($failure)::+::Unserializable => $crate::Failure::Unserializable,
            $($failure)::+::ResultTooLarge => $crate::Failure::ResultTooLarge,
            $($failure)::+::Rejected => $crate::Failure::Rejected,
            $($failure)::+::Denied => $crate::Failure::Denied,
            $($failure)::+::Deadline => $crate::Failure::Deadline,
            $($failure)::+::OutOfMemory => $crate::Failure::OutOfMemory,
        };
        $crate::ScriptFailure {
            failure,
            name: error.name,
            message: error.message,
            line: error.line,
            column: error.column,
            stack: error.stack,
        }
    }};
}

/// A [`LogLevel`](crate::LogLevel) from a binding's level enum `$level`, of
/// the type `$wit` (a path, e.g. `host::LogLevel`).
#[macro_export]
macro_rules! log_level {
    ($level:expr, $($wit:ident)::+) => {
        match $level {
            $($wit)::+::Debug => $crate::LogLevel::Debug,
            $($wit)::+::Info => $crate::LogLevel::Info,
            $($wit)::+::Log => $crate::LogLevel::Log,
            $($wit)::+::Warn => $crate::LogLevel::Warn,
            $($wit)::+::Error => $crate::LogLevel::Error,
        }
    };
}
