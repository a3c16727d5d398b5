//! GitHub's description (1,223 operations) served by `codemode serve`,
//! measured.
//!
//! - `github_search`: one `tools/call` of `search` on `codemode serve` (over
//!   stdio, from an rmcp client), a fresh sandbox each time: the script
//!   ranks operations with `codemode.search` (`codemode_search`), or walks
//!   every operation of `spec.github.paths` for a word, Cloudflare's way
//!   (`spec_scan`).
//! - Printed before the measurements: the `tools/list` tokens of the server
//!   beside those of one native MCP tool per operation.
//!
//! Run `scripts/setup` first: the description comes from `tests/npm`.

// `criterion_group!` defines a public function it cannot document.
#![allow(missing_docs)]

use std::time::Duration;

use codemode_mcp_server::{TokenCounter, tool_list_tokens};
use codemode_openapi::{ApiConfig, OpenApiConnector};
use codemode_test_support::files::scratch;
use codemode_test_support::github;
use codemode_test_support::mcp::{start_stdio_server, tool_call};
use codemode_test_support::runs::two_workers;
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use tokio::process::Command;

fn github_search(c: &mut Criterion) {
    let spec = github::description_path();
    let dir = scratch("bench-openapi");
    let config = dir.join("github.json");
    // No request is sent: `search` only reads the description.
    std::fs::write(
        &config,
        json!({ "openapi": { "github": { "spec": spec, "baseUrl": "https://api.github.com" } } })
            .to_string(),
    )
    .expect("the config is written");

    let tokio = two_workers();
    let (codemode, _server) = tokio.block_on(start_stdio_server(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .arg("serve")
            .arg("--config")
            .arg(&config),
    ));

    let counter = TokenCounter::o200k();
    let tools = tokio
        .block_on(codemode.list_all_tools())
        .expect("tools/list");
    let native = OpenApiConnector::load(
        "github",
        &ApiConfig::new(&spec).base_url("https://api.github.com"),
    )
    .expect("GitHub's description loads")
    .description()
    .as_mcp_tools();
    eprintln!(
        "tools/list for GitHub's {} operations: codemode {} tokens ({} tools); one native tool per operation {} tokens",
        native.len(),
        tool_list_tokens(&counter, &tools),
        tools.len(),
        tool_list_tokens(&counter, &native),
    );

    let mut group = c.benchmark_group("github_search");
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(10));
    let mut search = |name: &str, code: &str| {
        let call = tool_call("search", json!({ "code": code }));
        group.bench_function(name, |b| {
            b.iter(|| {
                tokio.block_on(async {
                    let result = codemode.call_tool(call.clone()).await.expect("answered");
                    assert_ne!(result.is_error, Some(true), "{result:?}");
                })
            })
        });
    };
    search(
        "codemode_search",
        r#"(await codemode.search("create a comment on an issue", { limit: 5 })).map(m => m.name)"#,
    );
    search("spec_scan", github::SCAN);
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, github_search);
criterion_main!(benches);
