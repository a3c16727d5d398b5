//! What the tests share, one module a job:
//!
//! - [`sandbox`]: the runtime every test shares, runs on it, and what a
//!   test asks of their outcomes (`assert_ok`, `result`).
//! - [`outcome`]: what the escape, fuel, deadline and isolation tests ask
//!   of an outcome (stopped with a kind, at the deadline, a result).
//! - [`connector`]: the test connector, whose methods behave as a test can
//!   count on.
//! - [`mcp`]: upstream MCP servers as connectors, our server over HTTP and
//!   stdio, its clients and their calls.
//! - [`BINARY`], and from `codemode-test-support` (shared with the
//!   benchmarks): [`deadline`]s for the tests that start processes or
//!   servers (`#[bounded_test]` puts a test's body under one), the packages
//!   in `tests/npm`, scratch directories, GitHub's description, and limits
//!   with one change.

pub mod connector;
pub mod mcp;
pub mod outcome;
pub mod sandbox;

pub use codemode_test_macros::bounded_test;
pub use codemode_test_support::deadline;
pub use codemode_test_support::files::{mcp_server, npm, scratch};
pub use codemode_test_support::runs::limits;
pub use connector::{TestConnector, test_grants};
pub use sandbox::{
    RUNTIME, assert_global_refused, assert_ok, raw, result, run, run_granted, run_with,
};

/// The `codemode` binary Cargo built for these tests.
pub const BINARY: &str = env!("CARGO_BIN_EXE_codemode");
