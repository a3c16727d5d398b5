//! What the end-to-end tests (`tests/all`) and the benchmarks (`benches/`)
//! share, in one dev-only crate both depend on, as wasmtime's
//! `crates/test-util` serves its tests and benches.
//!
//! - [`deadline`]: deadlines for the tests that start processes or
//!   servers (which `#[bounded_test]`, from `codemode-test-macros`, puts a
//!   test's body under), and the processes they start.
//! - [`files`]: the test packages `scripts/setup` installs into `tests/npm`
//!   (the reference MCP servers among them), and scratch directories.
//! - [`github`]: GitHub's OpenAPI description from `tests/npm`, as text and
//!   as a connector that only describes, and the scan script over it.
//! - [`connector`]: connectors made of one function, and grants of one.
//! - [`openapi`]: the description of the recording API the HTTP
//!   connector is tested against.
//! - [`mcp`]: clients of an MCP server on a process's stdio, and their
//!   tool calls.
//! - [`postgres`]: a PostgreSQL server for the test process, and a fresh
//!   database on it for each test.
//! - [`runs`]: the async runtimes a benchmark drives its runs on, and
//!   limits with one change.
//! - [`tsc`]: the TypeScript compiler from `tests/npm` over generated
//!   declarations.
//!
//! Helpers panic with what went wrong (and, for a missing package, what to
//! run): a fixture that cannot be set up fails its test or benchmark.

pub mod connector;
pub mod deadline;
pub mod files;
pub mod github;
pub mod mcp;
pub mod openapi;
pub mod postgres;
pub mod runs;
pub mod tsc;
