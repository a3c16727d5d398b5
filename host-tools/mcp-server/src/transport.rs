//! Serving the server: over stdio (the default for MCP clients that start
//! it), or over streamable HTTP at `/mcp`.
//!
//! On stdio, a message longer than [`MAX_STDIO_MESSAGE_BYTES`] is not
//! dropped in silence (rmcp's own transport would drop it and read on,
//! leaving its sender waiting forever for an answer): it is answered with a
//! JSON-RPC parse error and the connection closes, with the reason on
//! stderr.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::serve::ListenerExt;
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::transport::async_rw::{AsyncRwTransport, DEFAULT_MAX_LINE_LENGTH};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServiceExt};
use tokio::io::{AsyncRead, ReadBuf};
use tokio_util::sync::CancellationToken;

use crate::auth::{Access, Role};
use crate::server::CodeModeServer;

/// The longest message `serve_stdio` reads: one line, its newline
/// included (16 MiB, rmcp's limit).
pub const MAX_STDIO_MESSAGE_BYTES: usize = DEFAULT_MAX_LINE_LENGTH;

/// Serve one client on standard input and output until it closes them.
///
/// # Errors
///
/// When the MCP handshake fails or the connection breaks, and when the
/// client sent a message longer than [`MAX_STDIO_MESSAGE_BYTES`] (which is
/// answered with a JSON-RPC parse error before the connection closes).
pub async fn serve_stdio(server: CodeModeServer) -> io::Result<()> {
    let too_long = Arc::new(AtomicBool::new(false));
    let (stdin, stdout) = rmcp::transport::stdio();
    let transport = StdioTransport {
        inner: AsyncRwTransport::new_server(
            BoundedLines {
                inner: stdin,
                line: 0,
                too_long: Arc::clone(&too_long),
            },
            stdout,
        ),
        too_long: Arc::clone(&too_long),
        answered: false,
    };
    let served = match server.serve(transport).await {
        Ok(running) => running.waiting().await.map(drop).map_err(io::Error::other),
        Err(error) => Err(io::Error::other(error)),
    };
    if too_long.load(Ordering::Relaxed) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "a message on standard input is longer than {MAX_STDIO_MESSAGE_BYTES} bytes, the most one JSON-RPC message may take: it was answered with a parse error and the connection closed"
            ),
        ));
    }
    served
}

/// rmcp's stdio transport, answering a message that is too long (which
/// [`BoundedLines`] turns into the end of the input) with a parse error.
struct StdioTransport<R: AsyncRead, W: tokio::io::AsyncWrite> {
    inner: AsyncRwTransport<RoleServer, R, W>,
    too_long: Arc<AtomicBool>,
    /// Whether the parse error went out.
    answered: bool,
}

impl<R, W> Transport<RoleServer> for StdioTransport<R, W>
where
    R: AsyncRead + Send + Unpin,
    W: tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    type Error = io::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = io::Result<()>> + Send + 'static {
        self.inner.send(item)
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        let message = self.inner.receive().await;
        if message.is_none() && self.too_long.load(Ordering::Relaxed) && !self.answered {
            self.answered = true;
            let error = ErrorData::parse_error(
                format!(
                    "the message is longer than {MAX_STDIO_MESSAGE_BYTES} bytes, the most one JSON-RPC message may take; the connection closes"
                ),
                None,
            );
            // The client may be gone already: it is closing anyway.
            let _ = self
                .inner
                .send(TxJsonRpcMessage::<RoleServer>::error(error, None))
                .await;
        }
        message
    }

    async fn close(&mut self) -> io::Result<()> {
        self.inner.close().await
    }
}

/// A reader of lines that fails (and keeps failing) at the first line
/// longer than [`MAX_STDIO_MESSAGE_BYTES`], newline included, instead of
/// handing it on; the lines before it are handed on whole.
struct BoundedLines<R> {
    inner: R,
    /// The bytes of the current line read so far.
    line: usize,
    too_long: Arc<AtomicBool>,
}

impl<R: AsyncRead + Unpin> AsyncRead for BoundedLines<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let too_long = || io::Error::new(io::ErrorKind::InvalidData, "a message is too long");
        if this.too_long.load(Ordering::Relaxed) {
            return Poll::Ready(Err(too_long()));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        let mut kept = before;
        for segment in buf.filled()[before..].split_inclusive(|&byte| byte == b'\n') {
            this.line += segment.len();
            // Only a line with its newline in `MAX_STDIO_MESSAGE_BYTES`
            // passes: one that reaches the limit without it cannot.
            let ended = segment.last() == Some(&b'\n');
            if this.line > MAX_STDIO_MESSAGE_BYTES
                || (this.line == MAX_STDIO_MESSAGE_BYTES && !ended)
            {
                this.too_long.store(true, Ordering::Relaxed);
                break;
            }
            kept += segment.len();
            if ended {
                this.line = 0;
            }
        }
        if this.too_long.load(Ordering::Relaxed) {
            buf.set_filled(kept);
            if kept == before {
                return Poll::Ready(Err(too_long()));
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// The server on streamable HTTP, at `http://ADDR/mcp`, and its runs
/// console at `http://ADDR/runs`, both behind [`Access`].
pub struct HttpServer {
    address: SocketAddr,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl HttpServer {
    /// Bind `address` (port 0 picks a free port) and start serving, to the
    /// callers `access` admits: `/mcp` to agents, the console's API (see
    /// `console.rs`) to reviewers.
    ///
    /// A server bound to a loopback address answers only requests whose
    /// `Host` is a loopback name (DNS rebinding protection); one bound to
    /// any other address answers any `Host`.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub async fn start(
        server: CodeModeServer,
        address: SocketAddr,
        access: Access,
    ) -> std::io::Result<Self> {
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
                {
                    let server = server.clone();
                    move || Ok(server.clone())
                },
                Arc::new(LocalSessionManager::default()),
                config,
            );
        let access = Arc::new(access);
        let console = crate::console::router(
            server.clone(),
            Arc::clone(&access),
            address.ip().is_loopback(),
        );
        let mcp = axum::Router::new().nest_service("/mcp", service).layer(
            axum::middleware::from_fn_with_state((access, Role::Agent), crate::auth::require),
        );
        let router = mcp.merge(console);
        let shutdown = stop.clone().cancelled_owned();
        // A reply is a few small writes (headers, then the stream's events):
        // with Nagle's algorithm, the second waits for the client's delayed
        // ACK of the first, 40 ms on Linux, on every kept-alive request.
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
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

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    /// What `BoundedLines` hands on from `input`, and whether it failed.
    async fn read(input: &[u8]) -> (Vec<u8>, bool) {
        let too_long = Arc::new(AtomicBool::new(false));
        let mut lines = BoundedLines {
            inner: input,
            line: 0,
            too_long: Arc::clone(&too_long),
        };
        let mut out = Vec::new();
        let failed = lines.read_to_end(&mut out).await.is_err();
        assert_eq!(failed, too_long.load(Ordering::Relaxed));
        (out, failed)
    }

    fn line(bytes: usize) -> Vec<u8> {
        let mut line = vec![b'x'; bytes - 1];
        line.push(b'\n');
        line
    }

    #[tokio::test]
    async fn a_line_over_the_limit_ends_the_input_after_the_lines_before_it() {
        // A line of exactly the limit passes, newline included.
        let mut input = b"{}\n".to_vec();
        input.extend(line(MAX_STDIO_MESSAGE_BYTES));
        input.extend(b"{}\n");
        assert_eq!(read(&input).await, (input.clone(), false));

        // One byte more fails, with or without its newline, and what came
        // before it is handed on whole.
        let mut over = b"{}\n".to_vec();
        over.extend(line(MAX_STDIO_MESSAGE_BYTES + 1));
        let (out, failed) = read(&over).await;
        assert!(failed);
        assert!(
            out.starts_with(b"{}\n") && out.len() < MAX_STDIO_MESSAGE_BYTES + 3,
            "{}",
            out.len()
        );
        let (_, failed) = read(&over[..over.len() - 1]).await;
        assert!(failed);
    }
}
