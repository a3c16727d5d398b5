//! The files connector against the reference filesystem MCP server
//! (`server-filesystem`, a Node.js process over stdio), on the same task:
//! read 1,000 small JSON files and write one summary. Both arms are one
//! `execute` on the same `codemode serve`, whose config grants the
//! directory both ways (`files` entries `data` and `out`, and the server as
//! `fs`), so the only difference is the connector:
//!
//! - `codemode_files`: `data.list` once, `data.read` 1,000 times,
//!   `out.write` once;
//! - `server_filesystem`: `fs.list_directory` once, `fs.read_text_file`
//!   1,000 times, `fs.write_file` once.
//!
//! Before the measurements it prints the ratio of the two (medians of five
//! runs each) and, from `codemode tokens`, the tokens of the server's own
//! tool list beside codemode's. Run `scripts/setup` first: the server comes
//! from `tests/npm`.

// `criterion_group!` defines a public function it cannot document.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use codemode_test_support::files::{mcp_server, scratch};
use codemode_test_support::mcp::{start_stdio_server, tool_call};
use codemode_test_support::runs::two_workers;
use criterion::{Criterion, criterion_group, criterion_main};
use rmcp::RoleClient;
use rmcp::service::RunningService;
use serde_json::json;
use tokio::process::Command;

const FILES: usize = 1_000;

/// The script of each arm.
fn scripts(inputs: &str, outputs: &str) -> [(&'static str, String); 2] {
    let summarize = "const total = orders.reduce((sum, o) => sum + o.total, 0);\n\
                     const summary = `${orders.length} orders, ${total} in all\\n`;";
    [
        (
            "codemode_files",
            format!(
                "const {{ entries }} = await data.list({{ glob: '*.json' }});\n\
                 const orders = [];\n\
                 for (const e of entries) orders.push(JSON.parse((await data.read({{ path: e.path }})).content));\n\
                 {summarize}\n\
                 await out.write({{ path: 'summary-files.txt', content: summary }});\n\
                 orders.length"
            ),
        ),
        (
            "server_filesystem",
            format!(
                "const listing = (await fs.list_directory({{ path: '{inputs}' }})).content;\n\
                 const names = listing.split('\\n').filter((l) => l.startsWith('[FILE] ')).map((l) => l.slice(7));\n\
                 const orders = [];\n\
                 for (const name of names) orders.push(JSON.parse((await fs.read_text_file({{ path: `{inputs}/${{name}}` }})).content));\n\
                 {summarize}\n\
                 await fs.write_file({{ path: '{outputs}/summary-fs.txt', content: summary }});\n\
                 orders.length"
            ),
        ),
    ]
}

/// One `execute` of `code`: panics unless it read every file.
async fn execute(codemode: &RunningService<RoleClient, ()>, code: &str) {
    let result = codemode
        .call_tool(tool_call("execute", json!({ "code": code })))
        .await
        .expect("answered");
    let text = format!("{:?}", result.content);
    assert!(
        result.is_error != Some(true) && text.contains(&FILES.to_string()),
        "{text}"
    );
}

fn read_1000_files(c: &mut Criterion) {
    let dir = scratch("bench-files");
    let (inputs, outputs) = (dir.join("orders"), dir.join("reports"));
    std::fs::create_dir_all(&inputs).expect("a directory");
    std::fs::create_dir_all(&outputs).expect("a directory");
    for n in 0..FILES {
        let order = json!({ "customer": format!("c{}", n % 37), "total": n % 100 });
        std::fs::write(inputs.join(format!("{n:04}.json")), order.to_string()).expect("written");
    }
    let config = dir.join("files.json");
    std::fs::write(
        &config,
        json!({
            "files": {
                "data": { "root": "orders", "mode": "read-only" },
                "out": { "root": "reports", "mode": "read-write" },
            },
            // 1,002 calls a run: past the default of 1,000.
            "codemode": { "limits": { "connectorCalls": 2000 } },
            "mcpServers": { "fs": {
                "command": "node",
                "args": [mcp_server("filesystem"), inputs, outputs],
            } },
        })
        .to_string(),
    )
    .expect("the config is written");

    let tokens = std::process::Command::new(env!("CARGO_BIN_EXE_codemode"))
        .arg("tokens")
        .arg("--config")
        .arg(&config)
        .output()
        .expect("codemode tokens runs");
    eprintln!("tool lists:\n{}", String::from_utf8_lossy(&tokens.stdout));

    let tokio = two_workers();
    let (codemode, _server) = tokio.block_on(start_stdio_server(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .arg("serve")
            .arg("--config")
            .arg(&config),
    ));
    let arms = scripts(
        &inputs.display().to_string(),
        &outputs.display().to_string(),
    );
    let mut medians = Vec::new();
    for (_, code) in &arms {
        let mut times: Vec<Duration> = (0..5)
            .map(|_| {
                let started = Instant::now();
                tokio.block_on(execute(&codemode, code));
                started.elapsed()
            })
            .collect();
        times.sort();
        medians.push(times[2]);
    }
    eprintln!(
        "read {FILES} files and write one summary: codemode files {:?}, server-filesystem {:?}: \
         server-filesystem takes {:.1}x as long",
        medians[0],
        medians[1],
        medians[1].as_secs_f64() / medians[0].as_secs_f64()
    );

    let mut group = c.benchmark_group("read_1000_files");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    for (name, code) in &arms {
        group.bench_function(*name, |b| {
            b.iter(|| tokio.block_on(execute(&codemode, code)))
        });
    }
    group.finish();
}

criterion_group!(benches, read_1000_files);
criterion_main!(benches);
