//! Clients of an MCP server on a process's stdio (`codemode serve`, the
//! reference servers), and the tool calls they make.

use std::borrow::Cow;
use std::process::Stdio;

use rmcp::model::CallToolRequestParams;
use rmcp::service::{ClientInitializeError, RunningService};
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::Value;
use tokio::process::{Child, Command};

/// A call of `tool` with `arguments`, a JSON object (anything else is no
/// arguments).
pub fn tool_call(tool: impl Into<Cow<'static, str>>, arguments: Value) -> CallToolRequestParams {
    let arguments = match arguments {
        Value::Object(object) => object,
        _ => serde_json::Map::new(),
    };
    CallToolRequestParams::new(tool).with_arguments(arguments)
}

/// A client with `handler` of the server running as `process`, over the
/// process's stdin and stdout, which must be piped.
///
/// # Errors
///
/// When the handshake fails.
///
/// # Panics
///
/// When stdin or stdout is not piped.
pub async fn stdio_client<H: ClientHandler>(
    process: &mut Child,
    handler: H,
) -> Result<RunningService<RoleClient, H>, ClientInitializeError> {
    let (stdin, stdout) = (
        process.stdin.take().expect("stdin is piped"),
        process.stdout.take().expect("stdout is piped"),
    );
    handler.serve((stdout, stdin)).await
}

/// Start `command`, an MCP server on stdio (killed when the returned child
/// is dropped, its stderr dropped), and a client of it.
///
/// # Panics
///
/// When the server does not start or the handshake fails.
pub async fn start_stdio_server(command: &mut Command) -> (RunningService<RoleClient, ()>, Child) {
    let mut process = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts (run scripts/setup)");
    let client = stdio_client(&mut process, ())
        .await
        .expect("the handshake with the server");
    (client, process)
}
