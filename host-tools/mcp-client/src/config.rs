//! How to reach one upstream MCP server, in the `mcpServers` shape that
//! Claude Desktop, Cursor and VS Code configuration files use: a `command`
//! with `args` and `env` for a server on stdio, or a `url` with `headers`
//! for one on streamable HTTP.
//!
//! ```json
//! { "memory": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"] },
//!   "docs": { "type": "http", "url": "https://example.com/mcp",
//!             "headers": { "Authorization": "Bearer ..." } } }
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// One upstream server, as a configuration file describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpstreamConfig {
    /// A server the host starts as a child process and talks to over its
    /// standard input and output.
    Stdio(StdioServer),
    /// A server reached over streamable HTTP.
    Http(HttpServer),
}

/// A server on stdio. `"type": "stdio"` may be given.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StdioServer {
    /// The program to start (looked up on `PATH` when it has no `/`).
    pub command: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment variables set for it, on top of the few that every
    /// process needs (`PATH`, `HOME`, `USER`, `LOGNAME`, `SHELL`, `TERM`,
    /// as the MCP SDKs pass them) rather than the host's whole environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The directory it starts in (a configuration file makes a relative
    /// one relative to itself); the host's current directory otherwise.
    #[serde(default)]
    pub cwd: Option<PathBuf>,
}

/// A server on streamable HTTP. `"type": "http"` (or `"streamable-http"`)
/// may be given.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpServer {
    /// The endpoint, such as `http://localhost:3001/mcp`.
    pub url: String,
    /// Headers sent with every request, such as `Authorization`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl<'de> Deserialize<'de> for UpstreamConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        let kind = match fields.remove("type") {
            None => None,
            Some(Value::String(kind)) => Some(kind),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "`type` must be a string (\"stdio\" or \"http\"), not {other}"
                )));
            }
        };
        let (has_command, has_url) = (fields.contains_key("command"), fields.contains_key("url"));
        let fields = Value::Object(fields);
        let parsed = match kind.as_deref() {
            Some("sse") => {
                return Err(D::Error::custom(
                    "`type` \"sse\" (the deprecated HTTP+SSE transport) is not supported: give the server's streamable HTTP endpoint with `type` \"http\"",
                ));
            }
            Some("stdio") => StdioServer::deserialize(fields).map(Self::Stdio),
            Some("http" | "streamable-http" | "streamableHttp") => {
                HttpServer::deserialize(fields).map(Self::Http)
            }
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "unknown `type` \"{other}\": expected \"stdio\" or \"http\""
                )));
            }
            None if has_command => StdioServer::deserialize(fields).map(Self::Stdio),
            None if has_url => HttpServer::deserialize(fields).map(Self::Http),
            None => {
                return Err(D::Error::custom(
                    "expected `command` (a server on stdio) or `url` (a server on streamable HTTP)",
                ));
            }
        };
        parsed.map_err(D::Error::custom)
    }
}

/// How long the host waits on an upstream server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// From starting the server to its tool list, in milliseconds. Default
    /// 30,000.
    #[serde(
        rename = "startupMs",
        deserialize_with = "codemode_runtime::deserialize_millis"
    )]
    pub startup: Duration,
    /// One tool call, in milliseconds. Default 60,000 (the MCP TypeScript
    /// SDK's default request timeout). The script's own deadline still
    /// applies.
    #[serde(
        rename = "callMs",
        deserialize_with = "codemode_runtime::deserialize_millis"
    )]
    pub call: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            startup: Duration::from_secs(30),
            call: Duration::from_secs(60),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<UpstreamConfig, serde_json::Error> {
        serde_json::from_str(text)
    }

    #[test]
    fn reads_the_shapes_clients_use() {
        let stdio = parse(r#"{"command":"npx","args":["-y","pkg"],"env":{"K":"v"}}"#)
            .expect("a stdio server");
        let UpstreamConfig::Stdio(stdio) = stdio else {
            panic!("not stdio: {stdio:?}")
        };
        assert_eq!(stdio.command, "npx");
        assert_eq!(stdio.args, ["-y", "pkg"]);
        assert_eq!(stdio.env["K"], "v");

        for kind in [r#""type":"http","#, r#""type":"streamable-http","#, ""] {
            let text = format!(r#"{{{kind}"url":"http://h/mcp","headers":{{"A":"b"}}}}"#);
            let http = parse(&text).expect("an HTTP server");
            assert!(
                matches!(&http, UpstreamConfig::Http(h) if h.url == "http://h/mcp" && h.headers["A"] == "b"),
                "{http:?}"
            );
        }
    }

    #[test]
    fn refuses_what_it_cannot_run() {
        for (bad, expected) in [
            (r#"{"url":"http://h/sse","type":"sse"}"#, "not supported"),
            (r#"{"args":["x"]}"#, "expected `command`"),
            (r#"{"command":"x","argz":[]}"#, "unknown field `argz`"),
            (
                r#"{"command":"x","type":"http"}"#,
                "unknown field `command`",
            ),
            (r#"{"command":"x","type":"ws"}"#, "unknown `type` \"ws\""),
            (r#"{"command":"x","args":"-y"}"#, "expected a sequence"),
        ] {
            let error = parse(bad).expect_err(bad).to_string();
            assert!(error.contains(expected), "{bad}: {error}");
        }
    }
}
