//! One live connection to an upstream server: how it is started, and what
//! is known when it ends (the exit status and the last lines of stderr of a
//! server on stdio).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{Peer, RoleClient, ServiceExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};

use crate::config::{HttpServer, StdioServer, UpstreamConfig};

/// The variables a server on stdio inherits from the host, as the MCP
/// SDKs' default environment has them; everything else comes from `env`.
const INHERITED_VARIABLES: &[&str] = &["HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER"];

/// How much of a server's stderr is kept, for error messages.
const STDERR_TAIL_BYTES: usize = 2048;

/// Why a session could not start.
#[derive(Debug)]
pub(crate) enum StartFailure {
    /// The process could not be spawned.
    Spawn(std::io::Error),
    /// A header in the configuration cannot be sent.
    Header(String),
    /// The MCP handshake (or the tool list) failed.
    Handshake {
        /// What failed.
        detail: String,
        /// The end of the server's stderr (empty over HTTP).
        stderr: String,
    },
}

/// A live connection.
pub(crate) struct Session {
    client: RunningService<RoleClient, ()>,
    /// The server process, killed when the session is dropped.
    child: Option<Mutex<Child>>,
    stderr: StderrTail,
}

impl Session {
    /// Start the server (or connect to it) and complete the handshake. The
    /// caller bounds the time this takes.
    pub(crate) async fn start(config: &UpstreamConfig) -> Result<Self, StartFailure> {
        match config {
            UpstreamConfig::Stdio(server) => Self::start_stdio(server).await,
            UpstreamConfig::Http(server) => Self::start_http(server).await,
        }
    }

    async fn start_stdio(server: &StdioServer) -> Result<Self, StartFailure> {
        let mut command = Command::new(&server.command);
        command
            .args(&server.args)
            .env_clear()
            .envs(
                INHERITED_VARIABLES
                    .iter()
                    .filter_map(|name| std::env::var_os(name).map(|value| (name, value))),
            )
            .envs(&server.env)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(cwd) = &server.cwd {
            command.current_dir(cwd);
        }
        let mut child = command.spawn().map_err(StartFailure::Spawn)?;
        let stderr = StderrTail::default();
        if let Some(pipe) = child.stderr.take() {
            stderr.follow(pipe);
        }
        let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
            return Err(StartFailure::Spawn(std::io::Error::other(
                "no pipes to the process",
            )));
        };
        match ().serve((stdout, stdin)).await {
            Ok(client) => Ok(Self {
                client,
                child: Some(Mutex::new(child)),
                stderr,
            }),
            Err(error) => {
                // Give the process a moment to finish writing why it failed.
                let _ =
                    tokio::time::timeout(std::time::Duration::from_millis(200), child.wait()).await;
                Err(StartFailure::Handshake {
                    detail: error.to_string(),
                    stderr: stderr.text(),
                })
            }
        }
    }

    async fn start_http(server: &HttpServer) -> Result<Self, StartFailure> {
        let headers = headers(&server.headers)?;
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(server.url.as_str())
                .custom_headers(headers),
        );
        let client =
            ().serve(transport)
                .await
                .map_err(|error| StartFailure::Handshake {
                    detail: error.to_string(),
                    stderr: String::new(),
                })?;
        Ok(Self {
            client,
            child: None,
            stderr: StderrTail::default(),
        })
    }

    /// The client's side of the connection.
    pub(crate) fn peer(&self) -> &Peer<RoleClient> {
        self.client.peer()
    }

    /// True once the connection is gone (for a server on stdio: it exited
    /// or closed its output).
    pub(crate) fn is_closed(&self) -> bool {
        self.client.peer().is_transport_closed()
    }

    /// The end of the server's stderr (empty over HTTP).
    pub(crate) fn stderr(&self) -> String {
        self.stderr.text()
    }

    /// What is known of why the server went away: its exit status and the
    /// end of its stderr, as a clause to append to a message (or empty).
    pub(crate) fn epitaph(&self) -> String {
        let status = self
            .child
            .as_ref()
            .and_then(|child| child.lock().ok()?.try_wait().ok().flatten())
            .map(|status| format!(" (the process {status})"));
        let mut text = status.unwrap_or_default();
        text.push_str(&stderr_clause(&self.stderr()));
        text
    }
}

/// `; its stderr ended with: ...` for non-empty stderr.
pub(crate) fn stderr_clause(stderr: &str) -> String {
    let stderr = stderr.trim();
    if stderr.is_empty() {
        String::new()
    } else {
        format!("; its stderr ended with: {stderr}")
    }
}

/// The configured headers, checked.
fn headers(
    configured: &BTreeMap<String, String>,
) -> Result<HashMap<http::HeaderName, http::HeaderValue>, StartFailure> {
    configured
        .iter()
        .map(|(name, value)| {
            let header = http::HeaderName::try_from(name.as_str()).map_err(|_| {
                StartFailure::Header(format!("`{name}` is not a valid header name"))
            })?;
            let value = http::HeaderValue::try_from(value.as_str()).map_err(|_| {
                StartFailure::Header(format!(
                    "the value of header `{name}` has characters a header cannot carry"
                ))
            })?;
            Ok((header, value))
        })
        .collect()
}

/// The last [`STDERR_TAIL_BYTES`] of a process's stderr.
#[derive(Clone, Default)]
struct StderrTail(Arc<Mutex<VecDeque<String>>>);

impl StderrTail {
    /// Keep reading `pipe` in the background until it closes.
    fn follow(&self, pipe: ChildStderr) {
        let lines = Arc::clone(&self.0);
        tokio::spawn(async move {
            let mut reader = BufReader::new(pipe).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                let Ok(mut lines) = lines.lock() else { return };
                lines.push_back(line);
                let mut bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
                while bytes > STDERR_TAIL_BYTES && lines.len() > 1 {
                    bytes -= lines.pop_front().map_or(0, |l| l.len() + 1);
                }
            }
        });
    }

    fn text(&self) -> String {
        let Ok(lines) = self.0.lock() else {
            return String::new();
        };
        let text = lines.iter().cloned().collect::<Vec<_>>().join("\n");
        let start = text.len().saturating_sub(STDERR_TAIL_BYTES);
        let start = (start..=text.len())
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(text.len());
        text[start..].to_owned()
    }
}
