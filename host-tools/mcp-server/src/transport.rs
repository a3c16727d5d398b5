//! Serving the server: over stdio (the default for MCP clients that start
//! it), or over streamable HTTP at `/mcp`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use crate::server::CodeModeServer;

/// Serve one client on standard input and output until it closes them.
///
/// # Errors
///
/// When the MCP handshake fails or the connection breaks.
pub async fn serve_stdio(server: CodeModeServer) -> std::io::Result<()> {
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}

/// The server on streamable HTTP, at `http://ADDR/mcp`.
pub struct HttpServer {
    address: SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl HttpServer {
    /// Bind `address` (port 0 picks a free port) and start serving.
    ///
    /// A server bound to a loopback address answers only requests whose
    /// `Host` is a loopback name (DNS rebinding protection); one bound to
    /// any other address answers any `Host`.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub async fn start(server: CodeModeServer, address: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let stop = CancellationToken::new();
        let mut config = StreamableHttpServerConfig::default()
            .with_sse_keep_alive(Some(Duration::from_secs(15)))
            .with_cancellation_token(stop.child_token());
        if !address.ip().is_loopback() {
            config = config.disable_allowed_hosts();
        }
        let service: StreamableHttpService<CodeModeServer, LocalSessionManager> =
            StreamableHttpService::new(
                move || Ok(server.clone()),
                Arc::new(LocalSessionManager::default()),
                config,
            );
        let router = axum::Router::new().nest_service("/mcp", service);
        let shutdown = stop.clone().cancelled_owned();
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
        });
        Ok(Self {
            address,
            stop,
            task,
        })
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serve until the task ends (it ends only on an I/O error or `stop`).
    ///
    /// # Errors
    ///
    /// When serving fails.
    pub async fn wait(self) -> std::io::Result<()> {
        self.task.await.map_err(std::io::Error::other)?
    }

    /// Stop serving: open sessions end and running code is stopped.
    ///
    /// # Errors
    ///
    /// When serving had failed.
    pub async fn stop(self) -> std::io::Result<()> {
        self.stop.cancel();
        self.wait().await
    }
}
