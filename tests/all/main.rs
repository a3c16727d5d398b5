//! End-to-end tests of the sandbox: through the embedding API and through
//! the `codemode` binary. One binary, a module per topic; what the modules
//! share is in `support`.
//!
//! The sandbox's mechanisms each have a module (`scripts`, `connectors`,
//! `limits`, `pool`, `documents`, `discovery`, `typescript`), beside the
//! threat-oriented `escape` (hostile scripts, one attack a test) and
//! `mutation`; the connectors and front ends theirs (`openapi`,
//! `openapi_attacks`, `mcp`, `secrets`, `cli`, `runs_cli` for durable
//! runs through the binary, `team` for `serve --http` with tokens and its
//! runs console, and `portable` for the sandbox as a component under the
//! stock wasmtime CLI and jco).

mod approvals;
mod cli;
mod connectors;
mod deadline;
mod discovery;
mod documents;
mod durable;
mod escape;
mod files;
mod fuel;
mod isolation;
mod limits;
mod mcp;
mod mutation;
mod octokit;
mod openapi;
mod openapi_attacks;
mod pool;
mod portable;
mod runs_cli;
mod scripts;
mod secrets;
mod shapes;
mod support;
mod team;
mod typescript;
mod unloading;
