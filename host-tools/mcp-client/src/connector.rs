//! [`McpConnector`]: one upstream server as a codemode connector, with its
//! tools as methods, its calls bounded in time, and a fresh session started
//! whenever the last one ended. Its errors quote no URL's userinfo, query
//! or fragment, and no secret in the server's stderr.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use codemode_runtime::{CallContext, Connector, ConnectorError, MethodDescription, Secrets};
use rmcp::ServiceError;
use rmcp::model::{CallToolRequestParams, Tool};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::config::{Timeouts, UpstreamConfig};
use crate::reply::reply_value;
use crate::scrub::without_url_secrets;
use crate::session::{Session, StartFailure, stderr_clause};

/// Why an upstream server could not be started or listed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// Its process could not be spawned.
    #[error("upstream MCP server `{server}`: could not start `{command}`: {source}")]
    Spawn {
        /// The server's name in the configuration.
        server: String,
        /// The command that failed.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configuration holds a header that cannot be sent.
    #[error("upstream MCP server `{server}`: {reason}")]
    Header {
        /// The server's name in the configuration.
        server: String,
        /// What is wrong.
        reason: String,
    },
    /// The handshake or the tool list failed.
    #[error("upstream MCP server `{server}`: {detail}{stderr}", stderr = stderr_clause(stderr))]
    Protocol {
        /// The server's name in the configuration.
        server: String,
        /// What failed.
        detail: String,
        /// The end of its stderr, for a server on stdio.
        stderr: String,
    },
    /// It did not get as far as its tool list in time.
    #[error(
        "upstream MCP server `{server}` did not list its tools within {} ms of starting",
        after.as_millis()
    )]
    Timeout {
        /// The server's name in the configuration.
        server: String,
        /// The startup timeout.
        after: Duration,
    },
}

/// An upstream MCP server whose tools a script calls as methods.
///
/// Calls run concurrently over one session. A call that times out, or finds
/// the session gone (the server exited or the connection dropped), fails
/// with a message saying so, and the next call starts a fresh session.
pub struct McpConnector {
    server: String,
    config: UpstreamConfig,
    timeouts: Timeouts,
    tools: Vec<Tool>,
    methods: Vec<MethodDescription>,
    /// What the end of the server's stderr is shown without.
    secrets: Secrets,
    /// The live session, if any: replaced when it ends.
    session: Mutex<Option<Arc<Session>>>,
}

impl McpConnector {
    /// Start (or reach) the server named `server` in the configuration,
    /// and read its tools, all within `timeouts.startup`.
    ///
    /// The end of a stdio server's stderr, which errors quote, is shown
    /// without `secrets` (the values a configuration gives it, say):
    /// where it starts is chosen so that no secret shows in part, which the
    /// runtime's own redaction (`Grants::redact`) cannot see to. Pass
    /// `Secrets::default()` for none.
    ///
    /// # Errors
    ///
    /// [`ConnectError`], naming the server, when it cannot be started, does
    /// not complete the handshake or list its tools, or takes too long.
    pub async fn connect(
        server: &str,
        config: UpstreamConfig,
        timeouts: Timeouts,
        secrets: &Secrets,
    ) -> Result<Self, ConnectError> {
        let (session, tools) = start(server, &config, timeouts.startup, secrets).await?;
        let methods = tools.iter().map(method_description).collect();
        Ok(Self {
            server: server.to_owned(),
            config,
            timeouts,
            tools,
            methods,
            secrets: secrets.clone(),
            session: Mutex::new(Some(Arc::new(session))),
        })
    }

    /// The server's tools as it listed them (`tools/list`), for comparing
    /// its tool list with codemode's.
    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    /// The live session, started afresh when there is none or it ended.
    async fn session(&self) -> Result<Arc<Session>, ConnectorError> {
        let mut current = self.session.lock().await;
        if let Some(session) = current.as_ref().filter(|s| !s.is_closed()) {
            return Ok(Arc::clone(session));
        }
        current.take();
        let (session, _) = start(
            &self.server,
            &self.config,
            self.timeouts.startup,
            &self.secrets,
        )
        .await
        .map_err(|error| {
            ConnectorError::new(format!("{error}; it will be tried again on the next call"))
        })?;
        let session = Arc::new(session);
        *current = Some(Arc::clone(&session));
        Ok(session)
    }

    /// Forget `session` if it is still the current one.
    async fn end(&self, session: &Arc<Session>) {
        let mut current = self.session.lock().await;
        if current.as_ref().is_some_and(|c| Arc::ptr_eq(c, session)) {
            current.take();
        }
    }
}

#[async_trait]
impl Connector for McpConnector {
    fn methods(&self) -> &[MethodDescription] {
        &self.methods
    }

    async fn call(&self, call: &CallContext, args: Value) -> Result<Value, ConnectorError> {
        let method: &str = &call.method;
        let session = self.session().await?;
        let mut request = CallToolRequestParams::new(method.to_owned());
        match args {
            Value::Object(arguments) => request = request.with_arguments(arguments),
            Value::Null => {}
            _ => {
                return Err(ConnectorError::new(
                    "the arguments of an MCP tool are one object: `{ name: value, ... }`",
                ));
            }
        }
        let call = session.peer().call_tool(request);
        let outcome = tokio::time::timeout(self.timeouts.call, call).await;
        let server = &self.server;
        match outcome {
            Ok(Ok(result)) => reply_value(result),
            Ok(Err(ServiceError::McpError(error))) => Err(ConnectorError::new(format!(
                "the upstream server `{server}` refused the call: {} (JSON-RPC error {})",
                error.message, error.code.0
            ))),
            Ok(Err(error)) => {
                // The session is unusable: start a fresh one next time.
                self.end(&session).await;
                let detail = match error {
                    ServiceError::TransportClosed => "closed the connection".to_owned(),
                    ServiceError::UnexpectedResponse => {
                        "answered with something that is not a tool result".to_owned()
                    }
                    ServiceError::TransportSend(error) => format!(
                        "could not be reached ({})",
                        without_url_secrets(&error.to_string())
                    ),
                    other => format!("failed ({})", without_url_secrets(&other.to_string())),
                };
                Err(ConnectorError::new(format!(
                    "the upstream server `{server}` {detail} during `{method}`{}; it will be restarted on the next call",
                    session.epitaph()
                )))
            }
            Err(_elapsed) => {
                self.end(&session).await;
                Err(ConnectorError::new(format!(
                    "the upstream server `{server}` did not answer `{method}` within {} ms; it will be restarted on the next call",
                    self.timeouts.call.as_millis()
                )))
            }
        }
    }
}

/// Start a session and list its tools within `limit`.
async fn start(
    server: &str,
    config: &UpstreamConfig,
    limit: Duration,
    secrets: &Secrets,
) -> Result<(Session, Vec<Tool>), ConnectError> {
    let started = tokio::time::timeout(limit, async {
        let session = Session::start(config, secrets).await?;
        match session.peer().list_all_tools().await {
            Ok(tools) => Ok((session, tools)),
            Err(error) => Err(StartFailure::Handshake {
                detail: format!(
                    "listing its tools failed: {}",
                    without_url_secrets(&error.to_string())
                ),
                stderr: session.stderr(),
            }),
        }
    })
    .await;
    let server = server.to_owned();
    match started {
        Ok(Ok(started)) => Ok(started),
        Ok(Err(StartFailure::Spawn(source))) => Err(ConnectError::Spawn {
            server,
            command: match config {
                UpstreamConfig::Stdio(stdio) => stdio.command.clone(),
                UpstreamConfig::Http(http) => without_url_secrets(&http.url).into_owned(),
            },
            source,
        }),
        Ok(Err(StartFailure::Header(reason))) => Err(ConnectError::Header { server, reason }),
        Ok(Err(StartFailure::Handshake { detail, stderr })) => Err(ConnectError::Protocol {
            server,
            detail,
            stderr,
        }),
        Err(_elapsed) => Err(ConnectError::Timeout {
            server,
            after: limit,
        }),
    }
}

/// A tool as a method: its name, description and schemas, read-only when
/// its annotations say `readOnlyHint: true`.
fn method_description(tool: &Tool) -> MethodDescription {
    let mut description = tool.description.as_deref().unwrap_or_default().to_owned();
    if description.is_empty()
        && let Some(title) = &tool.title
    {
        description = title.clone();
    }
    let read_only = tool
        .annotations
        .as_ref()
        .and_then(|annotations| annotations.read_only_hint)
        == Some(true);
    let method = MethodDescription::new(tool.name.as_ref(), description)
        .input_schema(Value::Object((*tool.input_schema).clone()))
        .read_only(read_only);
    match &tool.output_schema {
        Some(schema) => method.output_schema(Value::Object((**schema).clone())),
        None => method,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rmcp::model::{Tool, ToolAnnotations};

    use super::method_description;

    #[test]
    fn only_a_tool_hinted_read_only_is_a_read_only_method() {
        let tool = Tool::new("t", "a tool", Arc::new(serde_json::Map::new()));
        let read_only = |annotations: ToolAnnotations| {
            method_description(&tool.clone().with_annotations(annotations)).read_only
        };
        assert!(read_only(ToolAnnotations::new().read_only(true)));
        assert!(!read_only(ToolAnnotations::new().read_only(false)));
        assert!(!read_only(ToolAnnotations::new()));
        assert!(!method_description(&tool).read_only);
    }
}
