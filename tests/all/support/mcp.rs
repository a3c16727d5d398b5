//! The MCP side of the tests: upstream MCP servers connected as
//! connectors, our server in this process over HTTP, its clients and their
//! calls, and `codemode tokens`' table.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use codemode_mcp_client::{McpConnector, Timeouts, UpstreamConfig};
use codemode_mcp_server::{Access, CodeModeServer, HttpServer, ServerOptions};
use codemode_runtime::{Connector, Secrets};
use codemode_test_support::deadline::{self, step};
use codemode_test_support::files::{mcp_server, scratch};
use codemode_test_support::mcp::{self, tool_call};
use rmcp::model::ProgressNotificationParam;
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use super::BINARY;

/// `name` at `config`, connected with `timeouts`.
pub async fn connect_with(
    name: &str,
    config: UpstreamConfig,
    timeouts: Timeouts,
) -> Result<Arc<McpConnector>, codemode_mcp_client::ConnectError> {
    McpConnector::connect(name, config, timeouts, &Secrets::default())
        .await
        .map(Arc::new)
}

/// Timeouts of `startup_ms` to list the tools and `call_ms` per call.
pub fn timeouts(startup_ms: u64, call_ms: u64) -> Timeouts {
    Timeouts {
        startup: Duration::from_millis(startup_ms),
        call: Duration::from_millis(call_ms),
    }
}

/// A free local port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `server-everything` serving streamable HTTP on `port`, stopped when
/// dropped.
pub fn everything_over_http(port: u16) -> Child {
    deadline::spawn(
        Command::new("node")
            .arg(mcp_server("everything"))
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .expect("server-everything starts")
}

/// `name` at `config`, a server over HTTP that was just started: connected
/// once it listens, which takes it a moment.
pub async fn connect_once_listening(
    name: &str,
    config: &UpstreamConfig,
    timeouts: Timeouts,
) -> Arc<McpConnector> {
    let started = Instant::now();
    loop {
        match connect_with(name, config.clone(), timeouts).await {
            Ok(connector) => break connector,
            Err(_) if started.elapsed() < Duration::from_secs(20) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(error) => panic!("`{name}` over HTTP: {error}"),
        }
    }
}

/// Collects progress messages.
#[derive(Clone, Default)]
pub struct Progress(pub Arc<Mutex<Vec<String>>>);

impl ClientHandler for Progress {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        if let (Ok(mut seen), Some(message)) = (self.0.lock(), params.message) {
            seen.push(message);
        }
    }
}

/// Our server on HTTP in this process, with `connectors`.
pub async fn http_server<C: Connector>(
    connectors: Vec<(&str, Arc<C>)>,
    options: ServerOptions,
) -> (HttpServer, String) {
    let connectors = connectors
        .into_iter()
        .map(|(name, c)| (name.to_owned(), c as Arc<dyn Connector>))
        .collect();
    let runtime = Arc::new(codemode_runtime::Runtime::new().expect("runtime"));
    let server = CodeModeServer::new(runtime, connectors, options).expect("a server");
    let address = "127.0.0.1:0".parse().expect("an address");
    let http = HttpServer::start(server, address, Access::open())
        .await
        .expect("binds");
    let url = format!("http://{}/mcp", http.address());
    (http, url)
}

/// A client with `handler` of our server at `url`, over HTTP.
pub async fn client(url: &str, handler: Progress) -> RunningService<RoleClient, Progress> {
    client_with(StreamableHttpClientTransportConfig::with_uri(url), handler).await
}

/// A client of our server at `url`, over HTTP, sending the bearer token
/// `token`.
pub async fn client_with_token(url: &str, token: &str) -> RunningService<RoleClient, Progress> {
    let config = StreamableHttpClientTransportConfig::with_uri(url).auth_header(token);
    client_with(config, Progress::default()).await
}

async fn client_with(
    config: StreamableHttpClientTransportConfig,
    handler: Progress,
) -> RunningService<RoleClient, Progress> {
    let url = config.uri.clone();
    step(
        format!("connecting to `{url}`"),
        handler.serve(StreamableHttpClientTransport::from_config(config)),
    )
    .await
    .expect("the client connects")
}

/// A client of `codemode serve` started as `process`, on its stdio.
pub async fn stdio_client(process: &mut Child) -> RunningService<RoleClient, Progress> {
    step(
        "the handshake with `codemode serve` on stdio",
        mcp::stdio_client(process, Progress::default()),
    )
    .await
    .expect("initialized")
}

/// Call `tool` (`search`, `execute`) with `code`: whether it failed, and
/// the text it answered, as JSON when it is.
pub async fn call(
    client: &RunningService<RoleClient, Progress>,
    tool: &'static str,
    code: &str,
) -> (bool, Value) {
    let result = step(
        format!("the `{tool}` call"),
        client.call_tool(tool_call(tool, json!({ "code": code }))),
    )
    .await
    .expect("the call is answered");
    let text = result.content[0]
        .as_text()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (result.is_error == Some(true), value)
}

/// `codemode tokens --config` over `config`, written to a scratch
/// directory of its own (`name`): the table's rows, as label, tools,
/// tokens.
pub async fn tokens_table(name: &str, config: &Value) -> Result<Vec<(String, u64, u64)>> {
    let path = scratch(name).join("config.json");
    std::fs::write(&path, config.to_string())?;
    let output = deadline::output(
        Command::new(BINARY).args(["tokens", "--config"]).arg(&path),
        b"",
    )
    .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    anyhow::ensure!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(stdout
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut words: Vec<&str> = line.split_whitespace().collect();
            let tokens = words.pop()?.parse().ok()?;
            let tools = words.pop()?.parse().ok()?;
            Some((words.join(" "), tools, tokens))
        })
        .collect())
}

/// The tools and tokens of the row of `rows` whose label starts with
/// `label`.
pub fn tokens_row(rows: &[(String, u64, u64)], label: &str) -> Result<(u64, u64)> {
    rows.iter()
        .find(|(l, ..)| l.starts_with(label))
        .map(|r| (r.1, r.2))
        .with_context(|| format!("no `{label}` row in {rows:?}"))
}
