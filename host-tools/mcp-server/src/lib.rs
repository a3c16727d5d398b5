//! The Code Mode MCP server: two tools, `search` and `execute`, in front of
//! any set of connectors (upstream MCP servers, HTTP APIs), so that an
//! agent's tool list stays about 1,000 tokens however many operations sit
//! behind it, and one `execute` runs a whole multi-step workflow.
//!
//! - `search` runs the agent's code against a catalog of every operation
//!   (the global `tools`, with `codemode.search` and `codemode.describe`);
//!   it cannot call them.
//! - `execute` runs the agent's code with each connector as a global
//!   namespace.
//!
//! Both run in a fresh sandbox per call. What comes back is the result and
//! the console output as JSON, cut to a token budget so that it stays valid
//! JSON; a failed script is an `isError` result with the error's line,
//! column and a hint. While code runs, console lines and connector calls are
//! sent as progress notifications to a client that asked for them (at most
//! 1,000 a run, then one saying how many more there were).
//!
//! With a state directory (`ServerOptions::state`), every `execute` is a
//! durable run: a call the approval policy gates asks the person through
//! the client (MCP elicitation) when it can, else `execute` answers
//! `{ status: "pending", run, waiting }` and `execute { run }` later waits
//! for the outcome (see `durable.rs`).

mod auth;
mod catalog;
mod console;
mod describe;
mod durable;
mod o200k;
mod o200k_hash;
mod output;
mod progress;
mod reply;
mod server;
mod tokens;
mod transport;

pub use auth::{Access, AccessError, Caller, MIN_TOKEN_BYTES, Refusal, Role};
pub use describe::tool_list_tokens;
pub use output::{Fitted, fit};
pub use server::{
    CodeModeServer, DEFAULT_KEEP_WAITING, DEFAULT_WAITING_STORES, ServerError, ServerOptions,
};
pub use tokens::TokenCounter;
pub use transport::{HttpServer, MAX_STDIO_MESSAGE_BYTES, serve_stdio};

/// The default budget of one tool result, in o200k tokens: about what
/// Cloudflare's Code Mode server allows.
pub const DEFAULT_MAX_OUTPUT_TOKENS: usize = 6_000;

/// The budget of the whole tool list (both tools' names, descriptions and
/// input schemas), in o200k tokens.
pub const TOOL_LIST_BUDGET: usize = 1_000;
