//! One live connection to an upstream server: how it is started, and what
//! is known when it ends (the exit status and the end of stderr of a
//! server on stdio, without secrets).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use codemode_runtime::Secrets;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{Peer, RoleClient, ServiceExt};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, ChildStderr, Command};

use crate::config::{HttpServer, StdioServer, UpstreamConfig};
use crate::scrub::without_url_secrets;

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
    /// Start the server (or connect to it) and complete the handshake; its
    /// stderr is shown without `secrets`. The caller bounds the time this
    /// takes.
    pub(crate) async fn start(
        config: &UpstreamConfig,
        secrets: &Secrets,
    ) -> Result<Self, StartFailure> {
        match config {
            UpstreamConfig::Stdio(server) => Self::start_stdio(server, secrets).await,
            UpstreamConfig::Http(server) => Self::start_http(server, secrets).await,
        }
    }

    async fn start_stdio(server: &StdioServer, secrets: &Secrets) -> Result<Self, StartFailure> {
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
        let stderr = StderrTail::new(secrets);
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
                    detail: without_url_secrets(&error.to_string()).into_owned(),
                    stderr: stderr.text(),
                })
            }
        }
    }

    async fn start_http(server: &HttpServer, secrets: &Secrets) -> Result<Self, StartFailure> {
        let headers = headers(&server.headers)?;
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(server.url.as_str())
                .custom_headers(headers),
        );
        let client =
            ().serve(transport)
                .await
                .map_err(|error| StartFailure::Handshake {
                    detail: without_url_secrets(&error.to_string()).into_owned(),
                    stderr: String::new(),
                })?;
        Ok(Self {
            client,
            child: None,
            stderr: StderrTail::new(secrets),
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

/// The end of a process's stderr, to quote in errors: its last bytes, kept
/// as they arrive, and shown with URLs' secret parts and `secrets` redacted.
#[derive(Clone)]
struct StderrTail {
    kept: Arc<Mutex<Kept>>,
    secrets: Secrets,
}

/// The bytes a [`StderrTail`] keeps.
#[derive(Default)]
struct Kept {
    bytes: VecDeque<u8>,
    /// Whether earlier bytes were dropped, so that the first ones may be the
    /// end of a secret.
    dropped: bool,
}

impl StderrTail {
    fn new(secrets: &Secrets) -> Self {
        Self {
            kept: Arc::default(),
            secrets: secrets.clone(),
        }
    }

    /// Keep reading `pipe` in the background until it closes, keeping
    /// [`STDERR_TAIL_BYTES`] and enough more to see whole any secret that
    /// ends in them.
    fn follow(&self, mut pipe: ChildStderr) {
        let tail = self.clone();
        tokio::spawn(async move {
            let mut chunk = [0; 4096];
            while let Ok(read @ 1..) = pipe.read(&mut chunk).await {
                tail.push(&chunk[..read]);
            }
        });
    }

    /// Keep `chunk`, the next bytes of the stream.
    fn push(&self, chunk: &[u8]) {
        let capacity = STDERR_TAIL_BYTES + self.secrets.longest();
        let Ok(mut kept) = self.kept.lock() else {
            return;
        };
        kept.bytes.extend(chunk);
        let excess = kept.bytes.len().saturating_sub(capacity);
        if excess > 0 {
            kept.bytes.drain(..excess);
            // Start on a character boundary.
            while kept.bytes.front().is_some_and(|&byte| byte & 0xC0 == 0x80) {
                kept.bytes.pop_front();
            }
            kept.dropped = true;
        }
    }

    /// At most the last [`STDERR_TAIL_BYTES`], with no secret in them.
    fn text(&self) -> String {
        let Ok(kept) = self.kept.lock() else {
            return String::new();
        };
        let bytes: Vec<u8> = kept.bytes.iter().copied().collect();
        let dropped = kept.dropped;
        drop(kept);
        let text = String::from_utf8_lossy(&bytes);
        // The end of a secret or of a URL whose start was dropped matches
        // neither: leave out the first `longest()` bytes, and the rest of
        // the word there.
        let skip = if dropped {
            let mut from = self.secrets.longest().min(text.len());
            while !text.is_char_boundary(from) {
                from += 1;
            }
            text[from..]
                .find(char::is_whitespace)
                .map_or(text.len(), |at| from + at)
        } else {
            0
        };
        let text = self.secrets.redact_skipping(&text, skip);
        let text = without_url_secrets(&text);
        let mut start = text.len().saturating_sub(STDERR_TAIL_BYTES);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        text[start..].to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "tok-3f9a/c1e+5b2d=4086_x";

    /// Every 6-byte piece of `SECRET` that `text` shows.
    fn pieces_shown(text: &str) -> Vec<&'static str> {
        (0..=SECRET.len() - 6)
            .map(|at| &SECRET[at..at + 6])
            .filter(|piece| text.contains(piece))
            .collect()
    }

    #[test]
    fn the_tail_shows_no_secret_whatever_the_cut() {
        let secrets = Secrets::new([SECRET]).expect("secrets");
        // The secret lands at every offset from the start of what is kept
        // and of what is shown.
        for padding in 0..STDERR_TAIL_BYTES + 2 * secrets.longest() {
            let tail = StderrTail::new(&secrets);
            tail.push(format!("start {SECRET} é").as_bytes());
            tail.push("x".repeat(padding).as_bytes());
            tail.push(format!(" then {SECRET} at https://u:pw@h/p?k=v").as_bytes());
            tail.push(".".repeat(padding).as_bytes());
            let text = tail.text();
            assert!(pieces_shown(&text).is_empty(), "{padding}: {text}");
            assert!(
                !text.contains("pw@") && !text.contains("k=v"),
                "{padding}: {text}"
            );
            assert!(text.len() <= STDERR_TAIL_BYTES, "{padding}");
        }
        // Without secrets, the last bytes as they came, from a word's start.
        let tail = StderrTail::new(&Secrets::default());
        for line in 0..1000 {
            tail.push(format!("line {line}\n").as_bytes());
        }
        let text = tail.text();
        assert!(text.ends_with("line 998\nline 999\n"), "{text}");
        assert!(text.len() > STDERR_TAIL_BYTES - 20, "{text}");
    }
}
