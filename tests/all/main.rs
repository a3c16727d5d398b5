//! End-to-end tests of the sandbox: through the embedding API and through
//! the `codemode` binary. One binary, a module per topic; what the modules
//! share is in `support`.

mod cli;
mod connectors;
mod discovery;
mod documents;
mod escape;
mod mcp;
mod mutation;
mod openapi;
mod openapi_attacks;
mod scripts;
mod secrets;
mod support;
mod typescript;
