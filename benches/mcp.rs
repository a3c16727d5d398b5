//! The Code Mode MCP server against native tool calls, measured.
//!
//! `workflow_15_steps`: the same 15 steps in `server-memory` (create one
//! entity per step), driven by one rmcp client over stdio in both arms:
//! - `native_tool_calls`: 15 `tools/call` requests straight to
//!   `server-memory`, one after another, as an agent without Code Mode
//!   makes them;
//! - `one_execute`: one `tools/call` of `execute` on `codemode serve`,
//!   whose code makes the 15 calls.
//!
//! The ratio of the two medians is the saving in wall time, before
//! counting the model turns each native call would also cost. Run
//! `scripts/setup` first: the servers come from `tests/npm`.

// `criterion_group!` defines a public function it cannot document.
#![allow(missing_docs)]

use std::time::Duration;

use codemode_test_support::files::{mcp_server, scratch};
use codemode_test_support::mcp::{start_stdio_server, tool_call};
use codemode_test_support::runs::two_workers;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use tokio::process::Command;

const STEPS: usize = 15;

fn workflow_15_steps(c: &mut Criterion) {
    let server_memory = mcp_server("memory");
    let dir = scratch("bench");
    let config = dir.join("servers.json");
    let memory_file = |arm: &str| dir.join(format!("{arm}.jsonl")).display().to_string();
    std::fs::write(
        &config,
        json!({ "mcpServers": { "memory": {
            "command": "node", "args": [server_memory],
            "env": { "MEMORY_FILE_PATH": memory_file("codemode") },
        } } })
        .to_string(),
    )
    .expect("the config is written");

    let tokio = two_workers();
    let (native, _memory) = tokio.block_on(start_stdio_server(
        Command::new("node")
            .arg(&server_memory)
            .env("MEMORY_FILE_PATH", memory_file("native")),
    ));
    let (codemode, _server) = tokio.block_on(start_stdio_server(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .arg("serve")
            .arg("--config")
            .arg(&config),
    ));
    let entity = |i: usize| json!({ "name": format!("entity {i}"), "entityType": "thing", "observations": [format!("step {i}")] });
    let code = format!(
        "for (let i = 0; i < {STEPS}; i++) await memory.create_entities({{ entities: [{{ name: `entity ${{i}}`, entityType: 'thing', observations: [`step ${{i}}`] }}] }}); 'done'"
    );

    let mut group = c.benchmark_group("workflow_15_steps");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(15));
    group.bench_function("native_tool_calls", |b| {
        b.iter(|| {
            tokio.block_on(async {
                for i in 0..STEPS {
                    let args = json!({ "entities": [entity(i)] });
                    let result = native
                        .call_tool(tool_call("create_entities", args))
                        .await
                        .expect("answered");
                    assert_ne!(result.is_error, Some(true));
                }
            })
        })
    });
    group.bench_function("one_execute", |b| {
        b.iter(|| {
            tokio.block_on(async {
                let result = codemode
                    .call_tool(tool_call("execute", json!({ "code": code })))
                    .await
                    .expect("answered");
                assert_ne!(result.is_error, Some(true), "{result:?}");
            })
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, workflow_15_steps);
criterion_main!(benches);
