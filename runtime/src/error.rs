//! Errors of the host: what keeps a run from starting at all. Everything that
//! happens once the script runs is reported in an [`Outcome`](crate::Outcome).

/// Why the runtime could not be built or a run could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The WebAssembly engine or the precompiled guest could not be loaded.
    #[error("the sandbox engine could not be set up")]
    Engine(#[source] wasmtime::Error),
    /// A connector was granted under a name a script cannot use.
    #[error("connector name `{name}` is not usable: {reason}")]
    ConnectorName {
        /// The name as granted.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A global value was given under a name a script cannot use.
    #[error("global name `{name}` is not usable: {reason}")]
    GlobalName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Two documents were given under the same key of one global.
    #[error("document key `{key}` is given twice under the global `{name}`")]
    DocumentKey {
        /// The global's name.
        name: String,
        /// The key given twice.
        key: String,
    },
    /// A limit is beyond what this runtime was built for.
    #[error("limit `{limit}` is {value}, above this runtime's maximum of {max}")]
    LimitTooHigh {
        /// The limit's name.
        limit: &'static str,
        /// The value asked for.
        value: u64,
        /// The most this runtime allows.
        max: u64,
    },
    /// The code is longer than [`Limits::code_bytes`](crate::Limits::code_bytes).
    #[error("the code is {bytes} bytes long; the limit is {limit} bytes")]
    CodeTooLarge {
        /// The code's length.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// No sandbox slot was free (all `max_sandboxes` in use), or the
    /// instance could not be created.
    #[error("a sandbox could not be instantiated")]
    Instantiate(#[source] wasmtime::Error),
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
