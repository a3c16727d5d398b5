//! `codemode serve --http` under load, from real MCP clients over
//! streamable HTTP, in front of the reference `server-memory`.
//!
//! 1. Latency: one client at a time, `execute` of `1 + 1`, one call after
//!    another on a kept-alive connection: p50 and p99, from rmcp's client
//!    and from the MCP TypeScript SDK's (`benches/http_latency.mjs`).
//! 2. Load: 32 clients at once, each calling `execute` (code that asks
//!    `server-memory` for a search) one call after another, for SECONDS.
//!    Halfway through, the upstream `server-memory` process is killed with
//!    SIGKILL; the server restarts it on the next call. Reported: calls,
//!    throughput, p50/p99, the errors before the kill (must be none), the
//!    calls in flight that failed with the upstream's death (each must say
//!    so, and that it will be restarted), how long after the kill the last
//!    of them ended, and the calls after that (all must succeed).
//!
//! Each part runs on three setups, one after another, so that their figures
//! stand side by side: `open` (no tokens, no state: every `execute` a
//! plain run), `sqlite` (a bearer token on every request, every `execute`
//! a durable run in a SQLite file) and `postgres` (the same, the runs in
//! PostgreSQL, on a server `scripts/test-postgres` starts).
//!
//! ```sh
//! scripts/setup && cargo bench --bench serve_load -- 60 [--setup open|sqlite|postgres]
//! ```
//!
//! Exits non-zero when a call fails before the kill, fails with anything but
//! the upstream's death, or fails after the restart.

#![allow(missing_docs)]

use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use codemode_test_support::files::{mcp_server, scratch};
use codemode_test_support::mcp::tool_call;
use codemode_test_support::runs::two_workers;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

const CLIENTS: usize = 32;

/// The bearer token of the `sqlite` and `postgres` setups.
const TOKEN: &str = "bench-token-0123456789abcdef0123456789abcdef";

/// How `codemode serve` is set up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// No tokens, no state.
    Open,
    /// A token; durable runs in a SQLite file.
    Sqlite,
    /// A token; durable runs in PostgreSQL.
    Postgres,
}

impl Setup {
    const ALL: [Self; 3] = [Self::Open, Self::Sqlite, Self::Postgres];

    fn name(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }

    fn token(self) -> Option<&'static str> {
        (self != Self::Open).then_some(TOKEN)
    }
}

/// One `execute` call: when it started (since the load began), how long it
/// took, and why it failed if it did.
struct Call {
    at: Duration,
    took: Duration,
    error: Option<String>,
}

/// What a call in flight when the upstream dies must fail with.
const UPSTREAM_DIED: &str = "will be restarted on the next call";

/// One `execute` of `code`; the error's text when it failed.
async fn execute(client: &RunningService<RoleClient, ()>, code: &str) -> Result<(), String> {
    match client
        .call_tool(tool_call("execute", json!({ "code": code })))
        .await
    {
        Ok(result) if result.is_error != Some(true) => Ok(()),
        Ok(result) => Err(format!("{:?}", result.content)),
        Err(error) => Err(error.to_string()),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The processes whose parent is `parent`.
fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            // `pid (comm) state ppid ...`; comm may hold spaces.
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                == Some(parent)
        })
        .collect()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: u64 = args
        .iter()
        .find(|arg| !arg.starts_with("--") && arg.parse::<u64>().is_ok())
        .map_or(60, |arg| arg.parse().unwrap_or(60));
    let chosen: Vec<Setup> = args
        .windows(2)
        .filter(|pair| pair[0] == "--setup")
        .filter_map(|pair| Setup::ALL.into_iter().find(|setup| setup.name() == pair[1]))
        .collect();
    let setups = if chosen.is_empty() {
        Setup::ALL.to_vec()
    } else {
        chosen
    };
    let mut ok = true;
    for setup in setups {
        println!("== {}", setup.name());
        ok &= load(setup, seconds);
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Both parts on `setup`, the load for `seconds`: whether every call went
/// as it must.
fn load(setup: Setup, seconds: u64) -> bool {
    let root = env!("CARGO_MANIFEST_DIR");
    let server_memory = mcp_server("memory");
    let dir = scratch(&format!("load-{}", setup.name()));
    let config = dir.join("servers.json");
    let mut codemode = json!({});
    if setup.token().is_some() {
        codemode["tokens"] =
            json!({ "bench": { "role": "agent", "token": "${CODEMODE_BENCH_TOKEN}" } });
    }
    std::fs::write(
        &config,
        json!({ "mcpServers": { "memory": {
            "command": "node", "args": [server_memory],
            "env": { "MEMORY_FILE_PATH": dir.join("memory.jsonl").display().to_string() },
        } }, "codemode": codemode })
        .to_string(),
    )
    .expect("the config is written");
    let state = match setup {
        Setup::Open => None,
        Setup::Sqlite => Some(dir.join("state").display().to_string()),
        Setup::Postgres => Some(codemode_test_support::postgres::database("load")),
    };

    let tokio = two_workers();
    let ok = tokio.block_on(async {
        let mut serve = Command::new(env!("CARGO_BIN_EXE_codemode"));
        serve
            .args(["serve", "--http", "127.0.0.1:0", "--config"])
            .arg(&config)
            .env("CODEMODE_BENCH_TOKEN", TOKEN);
        if let Some(state) = &state {
            serve.args(["--state", state]);
        }
        let mut serve = serve
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("codemode serve starts");
        let serve_pid = serve.id().expect("a pid");
        let mut stderr = BufReader::new(serve.stderr.take().expect("stderr")).lines();
        let url = loop {
            let line = stderr
                .next_line()
                .await
                .expect("stderr")
                .expect("codemode serve printed its address (run scripts/setup)");
            if let Some(rest) = line.split("serving MCP at ").nth(1) {
                break rest.split(';').next().unwrap_or_default().to_owned();
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = stderr.next_line().await {} });
        let connect = || async {
            let mut transport = StreamableHttpClientTransportConfig::with_uri(url.as_str());
            if let Some(token) = setup.token() {
                transport = transport.auth_header(token);
            }
            ().serve(StreamableHttpClientTransport::from_config(transport))
                .await
                .expect("the client connects")
        };

        // 1. Latency, one client at a time.
        let client = connect().await;
        for _ in 0..20 {
            execute(&client, "1 + 1").await.expect("`1 + 1` runs");
        }
        let mut latencies = Vec::new();
        for _ in 0..300 {
            let started = Instant::now();
            execute(&client, "1 + 1").await.expect("`1 + 1` runs");
            latencies.push(started.elapsed());
        }
        latencies.sort();
        println!(
            "latency: execute `1 + 1`, one rmcp client over HTTP, 300 calls: p50 {:.2} ms, p99 {:.2} ms",
            ms(percentile(&latencies, 0.5)),
            ms(percentile(&latencies, 0.99))
        );
        drop(client);
        // The same from the MCP TypeScript SDK's client.
        let sdk = Command::new("node")
            .arg(format!("{root}/benches/http_latency.mjs"))
            .args([url.as_str(), "300", setup.token().unwrap_or("")])
            .status()
            .await;
        assert!(
            sdk.is_ok_and(|status| status.success()),
            "the TypeScript SDK's client failed"
        );

        // 2. Load, with the upstream killed halfway.
        let code = "const found = await memory.search_nodes({ query: 'pioneer' }); found.entities.length";
        let calls = Arc::new(Mutex::new(Vec::new()));
        let unexpected = Arc::new(AtomicUsize::new(0));
        let mut clients = Vec::with_capacity(CLIENTS);
        for _ in 0..CLIENTS {
            clients.push(connect().await);
        }
        let started = Instant::now();
        let end = started + Duration::from_secs(seconds);
        let tasks: Vec<_> = clients
            .into_iter()
            .map(|client| {
                let calls = Arc::clone(&calls);
                let unexpected = Arc::clone(&unexpected);
                tokio::spawn(async move {
                    while Instant::now() < end {
                        let at = started.elapsed();
                        let error = execute(&client, code).await.err();
                        if let Some(error) = &error
                            && !error.contains(UPSTREAM_DIED)
                            && unexpected.fetch_add(1, Ordering::Relaxed) < 5
                        {
                            eprintln!("at {:.1} s: {error}", at.as_secs_f64());
                        }
                        let call = Call { at, took: started.elapsed() - at, error };
                        calls.lock().expect("calls").push(call);
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(seconds) / 2).await;
        let upstream = children(serve_pid);
        for pid in &upstream {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status().await;
        }
        let killed_at = started.elapsed();
        for task in tasks {
            task.await.expect("a client's task panicked");
        }
        let calls = std::mem::take(&mut *calls.lock().expect("calls"));
        let elapsed = started.elapsed();
        let failed: Vec<&Call> = calls.iter().filter(|c| c.error.is_some()).collect();
        let before = failed.iter().filter(|c| c.at + c.took < killed_at).count();
        let unexpected = failed
            .iter()
            .filter(|c| c.error.as_deref().is_some_and(|e| !e.contains(UPSTREAM_DIED)))
            .count();
        let window_end = failed.iter().map(|c| c.at + c.took).max().unwrap_or(killed_at);
        let after = calls.iter().filter(|c| c.at > window_end).count();
        let mut took: Vec<Duration> = calls
            .iter()
            .filter(|c| c.error.is_none())
            .map(|c| c.took)
            .collect();
        took.sort();
        println!(
            "load: {CLIENTS} clients for {:.1} s: {} calls ({:.0}/s), p50 {:.2} ms, p99 {:.2} ms",
            elapsed.as_secs_f64(),
            calls.len(),
            calls.len() as f64 / elapsed.as_secs_f64(),
            ms(percentile(&took, 0.5)),
            ms(percentile(&took, 0.99))
        );
        println!(
            "upstream killed (SIGKILL, {} process) at {:.1} s: {before} errors before it; {} calls in flight failed with the upstream's death ({unexpected} with another error), the last {:.0} ms after the kill; {after} calls after that, all answered",
            upstream.len(),
            killed_at.as_secs_f64(),
            failed.len() - before,
            ms(window_end.saturating_sub(killed_at)),
        );
        let _ = serve.kill().await;
        before == 0 && unexpected == 0 && after > 0 && !upstream.is_empty()
    });
    let _ = std::fs::remove_dir_all(&dir);
    ok
}
