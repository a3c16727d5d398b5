//! Upstream MCP servers as codemode connectors: each server's tools become
//! the methods of one namespace (`memory.create_entities({...})`).
//!
//! A server is started (stdio) or reached (streamable HTTP) with the rmcp
//! client, initialized, and its tool list read page by page. Each tool call
//! is bounded by a timeout; a server that dies, hangs or cannot be reached
//! gives the script a clear error, and the next call starts a fresh session.
//!
//! Replies become JSON for the script: the tool's `structuredContent` when
//! it has one, else its text parsed as JSON when it is JSON, else the text
//! itself. A result flagged `isError` is thrown in the script with the
//! server's own message.
//!
//! Errors about a failed connection or a server gone quote no URL's
//! userinfo, query or fragment, and the end of the server's stderr they
//! quote is shown without the secrets given to [`McpConnector::connect`].

mod config;
mod connector;
mod reply;
mod scrub;
mod session;

pub use config::{HttpServer, StdioServer, Timeouts, UpstreamConfig};
pub use connector::{ConnectError, McpConnector};
