//! `codemode serve`: the Code Mode MCP server in front of the configured
//! upstream MCP servers, on stdio or streamable HTTP; `codemode tokens`:
//! what its tool list costs an agent beside theirs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Parser;
use codemode_mcp_client::McpConnector;
use codemode_mcp_server::{
    CodeModeServer, HttpServer, ServerOptions, TokenCounter, serve_stdio, tool_list_tokens,
};
use codemode_runtime::{Connector, Runtime};

use crate::config::Config;

#[derive(Parser)]
pub(crate) struct ServeArgs {
    /// A JSON configuration file with `mcpServers` (and `codemode`
    /// settings); without one, the server has no connectors.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve streamable HTTP at `http://ADDR:PORT/mcp` instead of stdio.
    #[arg(long, value_name = "ADDR:PORT")]
    http: Option<SocketAddr>,
}

#[derive(Parser)]
pub(crate) struct TokensArgs {
    /// The JSON configuration file whose `mcpServers` to measure.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
}

/// Start every configured upstream server at once; they come back in name
/// order.
pub(crate) async fn connect_upstreams(config: &Config) -> Result<Vec<(String, Arc<McpConnector>)>> {
    let timeouts = config.timeouts();
    let mut starting = tokio::task::JoinSet::new();
    for (index, (name, upstream)) in config.mcp_servers.iter().enumerate() {
        let (name, upstream) = (name.clone(), upstream.clone());
        starting.spawn(async move {
            let connected = McpConnector::connect(&name, upstream, timeouts).await;
            (index, name, connected)
        });
    }
    let mut connected = Vec::new();
    while let Some(started) = starting.join_next().await {
        let (index, name, connector) = started.context("starting an upstream server")?;
        connected.push((index, name, Arc::new(connector?)));
    }
    connected.sort_by_key(|(index, _, _)| *index);
    Ok(connected
        .into_iter()
        .map(|(_, name, connector)| (name, connector))
        .collect())
}

async fn build_server(
    config: &Config,
) -> Result<(CodeModeServer, Vec<(String, Arc<McpConnector>)>)> {
    let upstreams = connect_upstreams(config).await?;
    let runtime = Arc::new(Runtime::new().context("starting the sandbox runtime")?);
    let connectors = upstreams
        .iter()
        .map(|(name, connector)| (name.clone(), Arc::clone(connector) as Arc<dyn Connector>))
        .collect();
    let options = ServerOptions::default()
        .limits(config.limits())
        .max_output_tokens(config.max_output_tokens());
    let server = CodeModeServer::new(runtime, connectors, options)?;
    Ok((server, upstreams))
}

pub(crate) fn serve(args: ServeArgs) -> Result<ExitCode> {
    let config = Config::load_or_default(args.config.as_deref())?;
    crate::tokio_runtime()?.block_on(async {
        let (server, upstreams) = build_server(&config).await?;
        let names: Vec<String> = upstreams
            .iter()
            .map(|(name, c)| format!("{name} ({} tools)", c.tools().len()))
            .collect();
        let names = if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        };
        match args.http {
            None => {
                eprintln!("codemode: serving MCP on stdio; upstream servers: {names}");
                serve_stdio(server).await.context("serving on stdio")?;
            }
            Some(address) => {
                let http = HttpServer::start(server, address)
                    .await
                    .with_context(|| format!("binding {address}"))?;
                eprintln!(
                    "codemode: serving MCP at http://{}/mcp; upstream servers: {names}",
                    http.address()
                );
                tokio::select! {
                    served = http.wait() => served.context("serving HTTP")?,
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub(crate) fn tokens(args: TokensArgs) -> Result<ExitCode> {
    let config = Config::load(&args.config)?;
    crate::tokio_runtime()?.block_on(async {
        let (server, upstreams) = build_server(&config).await?;
        let counter = TokenCounter::o200k();
        let mut rows: Vec<(String, usize, usize)> = upstreams
            .iter()
            .map(|(name, c)| {
                (
                    name.clone(),
                    c.tools().len(),
                    tool_list_tokens(&counter, c.tools()),
                )
            })
            .collect();
        let total = rows
            .iter()
            .fold((0, 0), |(t, k), (_, tools, tokens)| (t + tools, k + tokens));
        rows.push(("all upstream servers".into(), total.0, total.1));
        rows.push((
            "codemode (search + execute)".into(),
            server.tools().len(),
            tool_list_tokens(&counter, server.tools()),
        ));
        let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(6);
        println!("{:<width$}  {:>6}  {:>9}", "server", "tools", "tokens");
        for (name, tools, tokens) in &rows {
            println!("{name:<width$}  {tools:>6}  {tokens:>9}");
        }
        Ok(ExitCode::SUCCESS)
    })
}
