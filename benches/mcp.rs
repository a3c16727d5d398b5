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

use criterion::{Criterion, criterion_group, criterion_main};
use rmcp::model::CallToolRequestParams;
use serde_json::json;
use tokio::process::Command;

#[path = "support.rs"]
mod support;
use support::{client, object};

const STEPS: usize = 15;

fn workflow_15_steps(c: &mut Criterion) {
    let root = env!("CARGO_MANIFEST_DIR");
    let server_memory =
        format!("{root}/tests/npm/node_modules/@modelcontextprotocol/server-memory/dist/index.js");
    let dir = std::env::temp_dir().join(format!("codemode-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
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

    let tokio = support::tokio();
    let (native, _memory) = tokio.block_on(client(
        Command::new("node")
            .arg(&server_memory)
            .env("MEMORY_FILE_PATH", memory_file("native")),
    ));
    let (codemode, _server) = tokio.block_on(client(
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
                    let args = object(json!({ "entities": [entity(i)] }));
                    let result = native
                        .call_tool(
                            CallToolRequestParams::new("create_entities").with_arguments(args),
                        )
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
                let args = object(json!({ "code": code }));
                let result = codemode
                    .call_tool(CallToolRequestParams::new("execute").with_arguments(args))
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
