//! What the MCP benchmarks share: an async runtime, and a client of a
//! server started over stdio.

use std::process::Stdio;

use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Map, Value};
use tokio::process::Command;

/// The async runtime a benchmark drives its client on.
pub fn tokio() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio")
}

/// The object of a JSON object value.
pub fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

/// A client of `command`, started over stdio.
pub async fn client(
    command: &mut Command,
) -> (RunningService<RoleClient, ()>, tokio::process::Child) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts (run scripts/setup)");
    let (stdin, stdout) = (
        child.stdin.take().expect("stdin"),
        child.stdout.take().expect("stdout"),
    );
    let client = ().serve((stdout, stdin)).await.expect("initialized");
    (client, child)
}
