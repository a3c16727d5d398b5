//! The codemode runtime: agent-written JavaScript runs in a fresh WebAssembly
//! sandbox per call, and reaches the outside only through connectors the
//! host grants to that call.
//!
//! ```
//! use std::sync::Arc;
//!
//! use async_trait::async_trait;
//! use codemode_runtime::{
//!     CallContext, Connector, ConnectorError, Execution, Grants, MethodDescription, Runtime,
//! };
//! use serde_json::{Value, json};
//!
//! struct Weather(Vec<MethodDescription>);
//!
//! #[async_trait]
//! impl Connector for Weather {
//!     fn methods(&self) -> &[MethodDescription] {
//!         &self.0
//!     }
//!     async fn call(&self, _call: &CallContext, args: Value) -> Result<Value, ConnectorError> {
//!         Ok(json!({ "city": args["city"], "celsius": 21 }))
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let runtime = Runtime::new()?;
//! let weather = Arc::new(Weather(vec![MethodDescription::new("today", "Today's weather in a city")]));
//! let grants = Arc::new(Grants::new().grant("weather", weather)?);
//! let code = r#"
//!     const days = await Promise.all(["Oslo", "Lima"].map((city) => weather.today({ city })));
//!     days.map((d) => `${d.city}: ${d.celsius}°C`)
//! "#;
//! let outcome = runtime.execute(Execution::new(code).grants(grants)).await?;
//! assert_eq!(outcome.result, Some(json!(["Oslo: 21°C", "Lima: 21°C"])));
//! # Ok(()) })
//! # }
//! ```
//!
//! # Concepts
//! - [`Runtime`]: built once (engine, precompiled guest, pooling allocator);
//!   `Send + Sync`, runs many executions at once.
//! - [`Execution`]: the code, the [`Grants`] and the [`Limits`] of one run.
//! - [`Connector`]: a host capability with JSON-Schema-described methods;
//!   credentials stay inside it.
//! - [`Document`]: a large read-only JSON document (an OpenAPI description)
//!   held once on the host, which scripts read lazily, part by part.
//! - [`Outcome`]: result, logs, error (with its [`ErrorKind`], line and
//!   column) and [`Stats`].
//!
//! # The code a script may be
//! TypeScript or JavaScript (see [`Language`]), in one of these shapes:
//! - a script, with top-level `await`; its result is the value of its last
//!   expression statement;
//! - a script with a top-level `return`: the `return` that runs ends the
//!   run with its value (else the last expression statement's value is the
//!   result, as in any script);
//! - an async arrow function expression, `async () => { ... }`, whose
//!   resolved value is the result (a script whose last value is a function
//!   has that function called);
//! - a lone function declaration that is the whole program, `async function
//!   main() { ... }`: nothing calls it, so the run does, and its resolved
//!   value is the result;
//! - an ES module (it uses `export`); its result is its `default` export.
//!
//! Markdown code fences around the code are ignored, and line numbers still
//! count from the first line of the text as sent; through every shape, an
//! error's line and column (in bytes) and its stack's frames are where the
//! agent wrote them.
//!
//! # Results
//! The result is converted with `JSON.stringify`'s rules (`undefined`
//! properties are left out, `Date`s become strings, `Map` and `Set` become
//! `{}`), except that functions, symbols, `BigInt`s and circular references
//! are errors naming where in the result they sit.

mod approval;
mod bindings;
mod call;
mod catalog;
mod connector;
mod deadline;
mod discovery;
mod document;
mod durable;
mod engine_config;
mod error;
mod execution;
mod finish;
mod gate;
mod grants;
mod host;
mod journal;
mod nesting;
mod policy;
mod runtime;

pub use approval::{Approver, Decision, PendingCall, Unload, Waiting};
pub use call::{CallContext, CallFinished, Interceptor, RunId};
pub use catalog::CatalogFormat;
pub use codemode_outcome::{
    ErrorKind, ExecutionError, Limits, LogEntry, LogLevel, Outcome, Stats, deserialize_millis,
};
pub use codemode_redact::{MIN_SECRET_BYTES, REDACTED, Secrets, SecretsError};
pub use connector::{Connector, ConnectorError, MethodDescription};
pub use document::Document;
pub use error::{Error, Result};
pub use execution::{Execution, Language};
pub use grants::Grants;
pub use host::LogSink;
pub use journal::{CallFailure, ClockKind, Entry, Journal, JournalError, Replay, canonical_json};
pub use policy::{Action, Because, DEFAULT_APPROVAL_TIMEOUT, PatternError, Policy, Rule, Ruling};
pub use runtime::{Runtime, RuntimeConfig};

/// The pre-initialized guest component (WebAssembly component model), for
/// hosting it on wasmtime directly. It implements the world
/// `codemode:sandbox/sandbox` in the repository's `wit/`.
pub static GUEST_COMPONENT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/guest.wasm"));
