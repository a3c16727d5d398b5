//! Arbitrary JSON-RPC frames into the Code Mode MCP server, served in
//! process over an in-memory pipe, after a proper `initialize` handshake.
//! The input is split into lines, one frame each, as the stdio transport
//! reads them. No panic, and every request (a frame that is a JSON object
//! with a `method` and an `id`) gets an answer with its id, or an
//! `Invalid request` protocol error (which has no id), unless the client
//! cancelled it or used its id before (MCP forbids reusing an id; rmcp
//! drops such a request). `tools/call` runs the scripts, under the tiny fuzzing
//! limits, with the `echo` connector; no answer may carry a planted secret.
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use codemode_fuzz::sandbox::{self, HARNESS};
use codemode_mcp_server::{CodeModeServer, ServerOptions};
use codemode_runtime::Connector;
use libfuzzer_sys::fuzz_target;
use rmcp::ServiceExt;
use serde_json::Value;
use std::sync::Arc;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

/// The handshake sent before the fuzzed frames.
const HANDSHAKE: &str = concat!(
    r#"{"jsonrpc":"2.0","id":"handshake","method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"fuzz","version":"0"}}}"#,
    "\n",
    r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    "\n",
);

/// How long the server has to answer everything, beyond a run's deadline
/// plus slack for each request, and at most (below libFuzzer's timeout).
const ANSWER_TIME: Duration = Duration::from_secs(5);
const MAX_ANSWER_TIME: Duration = Duration::from_secs(15);

static SERVER: LazyLock<CodeModeServer> = LazyLock::new(|| {
    let echo: Arc<dyn Connector> = HARNESS.echo_connector();
    CodeModeServer::new(
        Arc::clone(&HARNESS.runtime),
        vec![("echo".to_owned(), echo)],
        ServerOptions::default().limits(sandbox::limits()),
    )
    .expect("the server starts")
});

fuzz_target!(|data: &[u8]| {
    let mut input = HANDSHAKE.as_bytes().to_vec();
    input.extend_from_slice(data);
    input.push(b'\n');
    HARNESS.tokio.block_on(exchange(input));
});

/// What the frames ask for: the ids that must be answered, in order.
fn requests(input: &[u8]) -> Vec<Value> {
    let frames: Vec<Value> = input
        .split(|byte| *byte == b'\n')
        .filter_map(|line| serde_json::from_slice(line.strip_suffix(b"\r").unwrap_or(line)).ok())
        .collect();
    let cancelled: Vec<&Value> = frames
        .iter()
        .filter(|frame| frame["method"] == "notifications/cancelled")
        .map(|frame| &frame["params"]["requestId"])
        .collect();
    frames
        .iter()
        .filter_map(|frame| {
            let fields = frame.as_object()?;
            fields.get("method")?;
            fields.get("id").cloned()
        })
        .filter(|id| !cancelled.contains(&id))
        .fold(Vec::new(), |mut ids, id| {
            if !ids.contains(&id) {
                ids.push(id);
            }
            ids
        })
}

async fn exchange(input: Vec<u8>) {
    let mut unanswered = requests(&input);
    let (client, server_side) = tokio::io::duplex(1 << 16);
    let server = SERVER.clone();
    let serving = tokio::spawn(async move {
        if let Ok(running) = server.serve(server_side).await {
            let _ = running.waiting().await;
        }
    });
    let (read, mut write) = tokio::io::split(client);
    let writing = tokio::spawn(async move {
        let _ = write.write_all(&input).await;
        write
    });

    let mut lines = BufReader::new(read).lines();
    let mut protocol_errors = 0;
    let deadline = (ANSWER_TIME
        + (sandbox::TIMEOUT + sandbox::DEADLINE_SLACK) * unanswered.len() as u32)
        .min(MAX_ANSWER_TIME);
    let answered = tokio::time::timeout(deadline, async {
        while unanswered.len() > protocol_errors {
            let Ok(Some(line)) = lines.next_line().await else {
                break;
            };
            sandbox::show(|| format!("answer: {line}"));
            HARNESS.canaries.assert_absent_from(&line);
            let answer: Value = serde_json::from_str(&line).expect("the server writes JSON");
            if answer.get("result").is_none() && answer.get("error").is_none() {
                continue;
            }
            match &answer["id"] {
                Value::Null => protocol_errors += 1,
                id => {
                    if let Some(index) = unanswered.iter().position(|request| request == id) {
                        unanswered.remove(index);
                    }
                }
            }
        }
    })
    .await;
    writing.abort();
    serving.abort();
    assert!(
        answered.is_ok() && unanswered.len() <= protocol_errors,
        "requests {unanswered:?} got no answer ({protocol_errors} protocol errors)"
    );
}
