//! The configuration file: JSON, with upstream MCP servers under
//! `mcpServers` (the shape Claude Desktop, Cursor and VS Code use), OpenAPI
//! descriptions under `openapi`, by namespace (a `spec` path is relative to
//! the file), and codemode's own settings under `codemode`.
//!
//! ```json
//! { "mcpServers": {
//!     "memory": { "command": "npx", "args": ["-y", "@modelcontextprotocol/server-memory"] },
//!     "docs": { "url": "https://example.com/mcp",
//!               "headers": { "Authorization": "Bearer ${DOCS_TOKEN}" } } },
//!   "codemode": { "limits": { "timeoutMs": 5000, "memoryBytes": 33554432 },
//!                 "upstream": { "startupMs": 30000, "callMs": 60000 },
//!                 "maxOutputTokens": 6000,
//!                 "approvals": { "default": "approve", "timeoutMs": 86400000,
//!                                "rules": [ { "match": "*.delete_*", "action": "deny" },
//!                                           { "match": "docs.*", "action": "allow" } ] },
//!                 "undo": { "memory.create_entities":
//!                   "({ args }) => memory.delete_entities({ entityNames: args.entities.map((e) => e.name) })" } },
//!   "openapi": { "github": { "spec": "specs/api.github.com.json",
//!                            "auth": { "type": "bearer", "token": "${GITHUB_TOKEN}" },
//!                            "methods": ["GET", "HEAD"] } } }
//! ```
//!
//! `codemode.approvals` gates connector calls (`codemode_runtime::Policy`):
//! each call, `namespace.method`, takes the action of the first rule whose
//! pattern matches it (`*` matches any characters): `allow`, `approve` (a
//! person decides first) or `deny`. A call no rule matches goes through
//! when its method is read-only (an HTTP `GET`, `HEAD` or `OPTIONS`, an MCP
//! tool with `readOnlyHint`), else takes `default` (`approve` unless said
//! otherwise). A call waits for a person at most `timeoutMs` (a day unless
//! said otherwise). Without the section nothing is gated, and `serve` says
//! so when it starts.
//!
//! `codemode.undo` says how to undo an operation, `namespace.method` of a
//! configured namespace: the source of an arrow function `(call) => …`,
//! TypeScript or JavaScript, given the applied call's `{ args, result }`;
//! it runs in a fresh sandbox with the same grants. `run` and `serve`
//! check that each one parses before they start anything.
//!
//! A `files` entry is a directory, by namespace:
//! `{ "root": "./", "mode": "read-only" | "read-write", "caps": { "readBytes",
//! "writtenBytesPerRun", "listEntries" } }` (`codemode_files::FilesConfig`;
//! the root is relative to the file).
//!
//! An `openapi` entry's other fields (base URL, allowed origins, timeouts,
//! caps) are `codemode_openapi::ApiConfig`'s. A stdio server's `cwd`, like a
//! `spec` path, is relative to the file.
//!
//! Secrets stay out of the file: `${VAR}` in any string under `mcpServers`,
//! `openapi` or `files` is replaced by the host's environment variable `VAR` (an
//! error when it is unset), `${VAR:-default}` by `default` when it is unset
//! or empty. Every value so filled in (of 8 bytes or more) is a secret:
//! `run` and `serve` redact it from every reply and error a script sees
//! (`Grants::redact`), and from the stderr of upstream servers. An API's
//! `auth` is kept from the sandbox besides, in each form it is sent in:
//! credentials belong there, not in its `headers`. A credential too short
//! to redact (under 8 bytes) is refused: an API's `auth`, and a `${VAR}` in
//! any `headers` value.
//!
//! Unknown fields are errors, and every error names the file, the field and
//! what was expected there.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use codemode_files::FilesConfig;
use codemode_mcp_client::{Timeouts, UpstreamConfig};
use codemode_mcp_server::Role;
use codemode_openapi::ApiConfig;
use codemode_runtime::{Execution, Language, Limits, MIN_SECRET_BYTES, Policy, Runtime, Secrets};
use serde::Deserialize;
use serde_json::Value;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// Upstream MCP servers, by the namespace they get.
    #[serde(default, rename = "mcpServers")]
    pub(crate) mcp_servers: BTreeMap<String, UpstreamConfig>,
    #[serde(default)]
    codemode: Section,
    /// HTTP APIs described with OpenAPI, by the namespace they get; each
    /// `spec` is relative to the config file once loaded.
    #[serde(default)]
    pub(crate) openapi: BTreeMap<String, ApiConfig>,
    /// Directories, by the namespace they get; each `root` is relative to
    /// the config file once loaded.
    #[serde(default)]
    pub(crate) files: BTreeMap<String, FilesConfig>,
    /// The value of every `${VAR}` filled in.
    #[serde(skip)]
    secrets: Secrets,
}

/// The `codemode` section.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct Section {
    limits: Limits,
    upstream: Timeouts,
    max_output_tokens: usize,
    /// Which calls go through, wait for a person or are refused; `None`:
    /// every call goes through.
    approvals: Option<Policy>,
    /// The source of each operation's undo, by `namespace.method`.
    undo: BTreeMap<String, String>,
    /// Who may use `serve --http`: each bearer token by its name.
    tokens: BTreeMap<String, TokenConfig>,
}

/// One bearer token of `codemode.tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenConfig {
    /// What its holder may do.
    pub(crate) role: Role,
    /// Its value, from the environment (`${VAR}`).
    pub(crate) token: String,
}

impl Default for Section {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            upstream: Timeouts::default(),
            max_output_tokens: codemode_mcp_server::DEFAULT_MAX_OUTPUT_TOKENS,
            approvals: None,
            undo: BTreeMap::new(),
            tokens: BTreeMap::new(),
        }
    }
}

impl Config {
    /// Read and check the file at `path`.
    pub(crate) fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the config file `{}`", path.display()))?;
        let mut config = Self::parse(&text)
            .with_context(|| format!("in the config file `{}`", path.display()))?;
        let base = path.parent().unwrap_or(Path::new(""));
        for entry in config.openapi.values_mut() {
            entry.spec = base.join(&entry.spec);
        }
        for entry in config.files.values_mut() {
            entry.root = base.join(&entry.root);
        }
        for server in config.mcp_servers.values_mut() {
            if let UpstreamConfig::Stdio(stdio) = server
                && let Some(cwd) = &mut stdio.cwd
            {
                *cwd = base.join(&*cwd);
            }
        }
        Ok(config)
    }

    /// The file at `path`, or the defaults when there is none.
    pub(crate) fn load_or_default(path: Option<&Path>) -> Result<Self> {
        path.map_or_else(|| Ok(Self::default()), Self::load)
    }

    fn parse(text: &str) -> Result<Self> {
        Self::parse_with(text, &|name| std::env::var(name).ok())
    }

    /// Parse `text`, taking `${VAR}`s from `environment`.
    fn parse_with(text: &str, environment: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let mut value: Value = serde_json::from_str(text).context("the file is not JSON")?;
        let mut expansion = Expansion {
            environment,
            values: Vec::new(),
        };
        for section in ["mcpServers", "openapi", "files"] {
            if let Some(entries) = value.get_mut(section) {
                expansion.expand(entries, section)?;
            }
        }
        if let Some(Value::Object(tokens)) = value.pointer_mut("/codemode/tokens") {
            for (name, token) in tokens.iter_mut() {
                if let Some(value) = token.get_mut("token") {
                    let path = format!("codemode.tokens.{name}.token");
                    expansion.token(value, &path)?;
                }
            }
        }
        let mut config: Self = serde_path_to_error::deserialize(value).map_err(|error| {
            let path = error.path().to_string();
            anyhow!("at `{path}`: {}", error.into_inner())
        })?;
        config.check_undo_keys()?;
        config.secrets = Secrets::new(&expansion.values)
            .context("preparing the `${VAR}` values for redaction")?;
        Ok(config)
    }

    /// What scripts must never see: the value of every `${VAR}` filled in
    /// (those shorter than 8 bytes are not redacted).
    pub(crate) fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// The limits, with defaults for what the file leaves out.
    pub(crate) fn limits(&self) -> Limits {
        self.codemode.limits.clone()
    }

    /// How long to wait on upstream servers.
    pub(crate) fn timeouts(&self) -> Timeouts {
        self.codemode.upstream
    }

    /// The most tokens one tool result may take.
    pub(crate) fn max_output_tokens(&self) -> usize {
        self.codemode.max_output_tokens
    }

    /// The approval policy; `None` when nothing is gated.
    pub(crate) fn approvals(&self) -> Option<&Policy> {
        self.codemode.approvals.as_ref()
    }

    /// The source of each operation's undo, by `namespace.method`.
    pub(crate) fn undo(&self) -> &BTreeMap<String, String> {
        &self.codemode.undo
    }

    /// Who may use `serve --http`: the bearer tokens, each by its name.
    pub(crate) fn tokens(&self) -> &BTreeMap<String, TokenConfig> {
        &self.codemode.tokens
    }

    /// Every undo's key names a method of a configured namespace.
    fn check_undo_keys(&self) -> Result<()> {
        for key in self.undo().keys() {
            let field = format!("codemode.undo.{key}");
            let namespace = match key.split_once('.') {
                Some((namespace, method)) if !namespace.is_empty() && !method.is_empty() => {
                    namespace
                }
                _ => bail!(
                    "at `{field}`: an undo's key is `namespace.method` (`memory.create_entities`), not `{key}`"
                ),
            };
            if !self.mcp_servers.contains_key(namespace)
                && !self.openapi.contains_key(namespace)
                && !self.files.contains_key(namespace)
            {
                let configured: Vec<&str> = self
                    .mcp_servers
                    .keys()
                    .chain(self.openapi.keys())
                    .chain(self.files.keys())
                    .map(String::as_str)
                    .collect();
                let configured = if configured.is_empty() {
                    "none".to_owned()
                } else {
                    configured.join(", ")
                };
                bail!(
                    "at `{field}`: no namespace `{namespace}` is configured under `mcpServers`, `openapi` or `files` (configured: {configured})"
                );
            }
        }
        Ok(())
    }

    /// Check that every undo parses as a function, by evaluating it in a
    /// sandbox of `runtime` with nothing granted (its body does not run).
    ///
    /// # Errors
    ///
    /// The first undo that does not parse, or is not a function, named by
    /// its field, with the line and column in its own source.
    pub(crate) async fn check_undo(&self, runtime: &Runtime) -> Result<()> {
        for (key, source) in self.undo() {
            // The source on lines of its own: its line N is the code's N + 1.
            let code = format!("const undo = (\n{source}\n);\ntypeof undo");
            let outcome = runtime
                .execute(Execution::new(code).language(Language::TypeScript))
                .await
                .with_context(|| format!("checking `codemode.undo.{key}`"))?;
            let field = format!("codemode.undo.{key}");
            if let Some(error) = &outcome.error {
                let source_lines = source.lines().count().max(1);
                let position = match (error.line, error.column) {
                    (Some(line), Some(column))
                        if (2..=source_lines + 1).contains(&(line as usize)) =>
                    {
                        format!(" (line {}, column {column})", line - 1)
                    }
                    (Some(_), _) => " (at its end)".to_owned(),
                    _ => String::new(),
                };
                bail!(
                    "at `{field}`: the undo does not parse: {}: {}{position}",
                    error.name,
                    error.message
                );
            }
            let kind = outcome.result.as_ref().and_then(|kind| kind.as_str());
            if kind != Some("function") {
                bail!(
                    "at `{field}`: the undo is of type `{}`, not a function `(call) => …`",
                    kind.unwrap_or("unknown")
                );
            }
        }
        Ok(())
    }
}

/// Whether the string at `path` is a header's value (`….headers.NAME`),
/// which carries credentials.
fn is_header(path: &str) -> bool {
    path.rsplit_once('.')
        .is_some_and(|(parent, _)| parent.ends_with(".headers"))
}

/// Filling in `${VAR}`s, recording each value filled in.
struct Expansion<'a> {
    environment: &'a dyn Fn(&str) -> Option<String>,
    values: Vec<String>,
}

impl Expansion<'_> {
    /// Replace the `${VAR}`s of every string in `value`, whose place in the
    /// file is `path`.
    fn expand(&mut self, value: &mut Value, path: &str) -> Result<()> {
        match value {
            Value::String(text) if text.contains("${") => {
                *text = self
                    .text(text, is_header(path))
                    .with_context(|| format!("at `{path}`"))?;
            }
            Value::Array(items) => {
                for (index, item) in items.iter_mut().enumerate() {
                    self.expand(item, &format!("{path}[{index}]"))?;
                }
            }
            Value::Object(fields) => {
                for (key, item) in fields.iter_mut() {
                    self.expand(item, &format!("{path}.{key}"))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Fill in a bearer token, at `path`: it must be one `${VAR}` and
    /// nothing else, so that no token is written in the file.
    fn token(&mut self, value: &mut Value, path: &str) -> Result<()> {
        let Value::String(text) = value else {
            bail!("at `{path}`: a token is a string, `${{VAR}}`");
        };
        let reference = text
            .strip_prefix("${")
            .and_then(|rest| rest.strip_suffix('}'))
            .filter(|name| !name.contains(['{', '}', ':']));
        if reference.is_none() {
            bail!(
                "at `{path}`: a token comes from the environment: write `${{VAR}}` and set VAR, not the token itself or a default"
            );
        }
        self.expand(value, path)
    }

    /// `text` with each `${VAR}` and `${VAR:-default}` replaced. In a
    /// header (`credential`), each value must be long enough to redact.
    fn text(&mut self, text: &str, credential: bool) -> Result<String> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                bail!("`${{` without a closing `}}` in {text:?}");
            };
            let reference = &after[..end];
            let (name, default) = match reference.split_once(":-") {
                Some((name, default)) => (name, Some(default)),
                None => (reference, None),
            };
            let valid = name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                bail!(
                    "`${{{reference}}}` does not name an environment variable (letters, digits and `_`)"
                );
            }
            let value = match (
                (self.environment)(name).filter(|v| !v.is_empty() || default.is_none()),
                default,
            ) {
                (Some(value), _) => value,
                (None, Some(default)) => default.to_owned(),
                (None, None) => bail!(
                    "the environment variable `{name}` is not set (write `${{{name}:-default}}` to give a default)"
                ),
            };
            if credential && value.len() < MIN_SECRET_BYTES {
                bail!(
                    "`${{{name}}}` is {} bytes; a credential in a header must be at least {MIN_SECRET_BYTES} bytes, so that it can be redacted from everything a script sees",
                    value.len()
                );
            }
            out.push_str(&value);
            self.values.push(value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::{Config, Role};
    use codemode_mcp_client::UpstreamConfig;
    use codemode_runtime::{Action, Runtime};

    #[test]
    fn reads_servers_and_fills_in_the_environment() {
        let environment = |name: &str| match name {
            "TOKEN" => Some("s3cret-value".to_owned()),
            "EMPTY" => Some(String::new()),
            "SHORT" => Some("t".to_owned()),
            _ => None,
        };
        let text = r#"{"mcpServers": {
            "memory": {"command": "node", "args": ["m.js", "${HOME_DIR:-/tmp}"], "env": {"K": "${EMPTY:-x}"}},
            "docs": {"type": "http", "url": "http://h/mcp", "headers": {"Authorization": "Bearer ${TOKEN}"}}
        }}"#;
        let config = Config::parse_with(text, &environment).expect("valid config");
        let UpstreamConfig::Stdio(memory) = &config.mcp_servers["memory"] else {
            panic!("memory is not stdio")
        };
        assert_eq!(memory.args, ["m.js", "/tmp"]);
        assert_eq!(memory.env["K"], "x");
        let UpstreamConfig::Http(docs) = &config.mcp_servers["docs"] else {
            panic!("docs is not http")
        };
        assert_eq!(docs.headers["Authorization"], "Bearer s3cret-value");

        for (text, expected) in [
            (
                r#"{"mcpServers": {"a": {"url": "http://h", "headers": {"X": "${MISSING}"}}}}"#,
                "at `mcpServers.a.headers.X`: the environment variable `MISSING` is not set",
            ),
            (
                r#"{"mcpServers": {"a": {"command": "x", "args": ["${OPEN"]}}}"#,
                "at `mcpServers.a.args[0]`: `${` without a closing `}`",
            ),
            // A header's credential too short to redact; the message names
            // the variable and its length, never its value.
            (
                r#"{"mcpServers": {"a": {"url": "http://h", "headers": {"Authorization": "Bearer ${SHORT}"}}}}"#,
                "at `mcpServers.a.headers.Authorization`: `${SHORT}` is 1 bytes; a credential in a header must be at least 8 bytes",
            ),
            (
                r#"{"mcpServers": {"a": {"command": "x", "args": ["${1X}"]}}}"#,
                "does not name an environment variable",
            ),
            (
                r#"{"mcpServers": {"a": {"command": "x", "argz": []}}}"#,
                "at `mcpServers.a`: unknown field `argz`",
            ),
            (r#"{"mcpServers": [1]}"#, "at `mcpServers`: invalid type"),
        ] {
            let error = Config::parse_with(text, &environment).expect_err(text);
            let error = format!("{error:#}");
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn every_value_filled_in_is_a_secret() {
        let environment = |name: &str| match name {
            "TOKEN" => Some("token-from-the-environment".to_owned()),
            "API_KEY" => Some("key-from-the-environment".to_owned()),
            "SHORT" => Some("1234567".to_owned()),
            _ => None,
        };
        let text = r#"{
            "mcpServers": {
                "docs": {"url": "http://h/mcp?token=${TOKEN}"},
                "local": {"command": "x", "env": {"D": "${DEFAULT:-default-written-in-the-file}", "S": "${SHORT}"}}
            },
            "openapi": {"api": {"spec": "a.json", "auth": {"type": "bearer", "token": "${API_KEY}"}}}
        }"#;
        let config = Config::parse_with(text, &environment).expect("valid config");
        let secrets = config.secrets();
        assert_eq!(
            secrets.redact(
                "token-from-the-environment key-from-the-environment default-written-in-the-file 1234567"
            ),
            "[redacted] [redacted] [redacted] 1234567"
        );
        assert!(Config::default().secrets().is_empty());
    }

    #[test]
    fn tokens_come_from_the_environment_and_are_secrets() {
        let environment = |name: &str| match name {
            "AGENT_TOKEN" => Some("agent-token-from-the-environment".to_owned()),
            _ => None,
        };
        let text =
            r#"{"codemode": {"tokens": {"ci": {"role": "agent", "token": "${AGENT_TOKEN}"}}}}"#;
        let config = Config::parse_with(text, &environment).expect("valid config");
        let ci = &config.tokens()["ci"];
        assert_eq!(
            (ci.role, ci.token.as_str()),
            (Role::Agent, "agent-token-from-the-environment")
        );
        assert_eq!(
            config.secrets().redact("agent-token-from-the-environment"),
            "[redacted]"
        );
        for (token, expected) in [
            (r#""written-in-the-file""#, "write `${VAR}` and set VAR"),
            (
                r#""${AGENT_TOKEN:-fallback}""#,
                "not the token itself or a default",
            ),
            (r#""Bearer ${AGENT_TOKEN}""#, "write `${VAR}` and set VAR"),
            (r#"7"#, "a token is a string"),
            (r#""${UNSET_TOKEN}""#, "`UNSET_TOKEN` is not set"),
        ] {
            let text = format!(
                r#"{{"codemode": {{"tokens": {{"ci": {{"role": "agent", "token": {token}}}}}}}}}"#
            );
            let error = format!(
                "{:#}",
                Config::parse_with(&text, &environment).expect_err(token)
            );
            assert!(
                error.contains("at `codemode.tokens.ci.token`") && error.contains(expected),
                "{token}: {error}"
            );
        }
        let text =
            r#"{"codemode": {"tokens": {"ci": {"role": "owner", "token": "${AGENT_TOKEN}"}}}}"#;
        let error = format!(
            "{:#}",
            Config::parse_with(text, &environment).expect_err("a role")
        );
        assert!(error.contains("at `codemode.tokens.ci.role`"), "{error}");
    }

    #[test]
    fn reads_limits_and_names_bad_fields() {
        let config = Config::parse(r#"{"codemode":{"limits":{"timeoutMs":1500,"fuel":7}}}"#)
            .expect("valid config");
        assert_eq!(config.limits().timeout.as_millis(), 1500);
        assert_eq!(config.limits().fuel, 7);

        let error = Config::parse(r#"{"codemode":{"limits":{"timeoutMs":"soon"}}}"#)
            .expect_err("a string timeout");
        let text = format!("{error:#}");
        assert!(text.contains("codemode.limits.timeoutMs"), "{text}");
        assert!(text.contains("expected u64"), "{text}");

        let config =
            Config::parse(r#"{"openapi":{"github":{"spec":"g.json"}}}"#).expect("valid config");
        assert_eq!(config.openapi["github"].spec.to_str(), Some("g.json"));
        let error = Config::parse(r#"{"openapi":{"github":{"spek":"g.json"}}}"#)
            .expect_err("a misspelt field");
        assert!(format!("{error:#}").contains("openapi.github"), "{error:#}");

        let environment = |name: &str| (name == "TOKEN").then(|| "s3cret-value".to_owned());
        let config = Config::parse_with(
            r#"{"openapi":{"github":{"spec":"g.json","baseUrl":"https://api.github.com",
                "auth":{"type":"bearer","token":"${TOKEN}"},"methods":["GET"],
                "limits":{"requestsPerRun":5},"timeouts":{"requestMs":1000}}}}"#,
            &environment,
        )
        .expect("valid config");
        let github = &config.openapi["github"];
        assert!(
            matches!(&github.auth, Some(codemode_openapi::Auth::Bearer { token }) if token.expose() == "s3cret-value")
        );
        assert_eq!(github.limits.requests_per_run, 5);
        assert_eq!(github.timeouts.request.as_millis(), 1000);
        for (text, expected) in [
            (
                r#"{"openapi":{"g":{"spec":"g.json","auth":{"type":"oauth"}}}}"#,
                "at `openapi.g.auth.type`: unknown variant `oauth`, expected one of `bearer`, `header`, `query`, `basic`",
            ),
            (
                r#"{"openapi":{"g":{"spec":"g.json","auth":{"type":"bearer","token":"${NOPE}"}}}}"#,
                "at `openapi.g.auth.token`: the environment variable `NOPE` is not set",
            ),
            (
                r#"{"openapi":{"g":{"spec":"g.json","limits":{"requestsPerRun":-1}}}}"#,
                "at `openapi.g.limits.requestsPerRun`",
            ),
        ] {
            let error = Config::parse_with(text, &environment).expect_err(text);
            assert!(format!("{error:#}").contains(expected), "{text}: {error:#}");
        }

        let error = Config::parse(r#"{"codemode":{"limitz":{}}}"#).expect_err("an unknown field");
        assert!(
            format!("{error:#}").contains("unknown field `limitz`"),
            "{error:#}"
        );
    }

    /// A config with the namespaces `memory` (an MCP server) and `github`
    /// (an API), and `codemode` as given.
    fn with_codemode(codemode: &str) -> anyhow::Result<Config> {
        Config::parse(&format!(
            r#"{{"mcpServers": {{"memory": {{"command": "node"}}}},
                "openapi": {{"github": {{"spec": "g.json"}}}},
                "codemode": {codemode}}}"#
        ))
    }

    #[test]
    fn reads_approvals_and_names_bad_rules() {
        assert!(Config::default().approvals().is_none());
        let config = with_codemode(
            r#"{"approvals": {"default": "deny", "timeoutMs": 60000,
                "rules": [{"match": "github.*", "action": "allow"}]}}"#,
        )
        .expect("valid config");
        let policy = config.approvals().expect("a policy");
        assert_eq!(policy.rules().len(), 1);
        assert_eq!(policy.default_action(), Action::Deny);
        assert_eq!(policy.timeout().as_millis(), 60000);
        assert_eq!(
            policy.decide("github", &["repos_get"], false).action,
            Action::Allow
        );

        for (codemode, expected) in [
            (
                r#"{"approvals": {"rules": [{"match": "github", "action": "allow"}]}}"#,
                "at `codemode.approvals.rules[0].match`: the pattern `github` has no `.`",
            ),
            (
                r#"{"approvals": {"rules": [{"match": "a.b", "action": "maybe"}]}}"#,
                "at `codemode.approvals.rules[0].action`: unknown variant `maybe`",
            ),
            (
                r#"{"approvals": {"timeoutMs": "soon"}}"#,
                "at `codemode.approvals.timeoutMs`",
            ),
            (
                r#"{"approvals": {"defualt": "allow"}}"#,
                "at `codemode.approvals.defualt`: unknown field `defualt`",
            ),
        ] {
            let error = with_codemode(codemode).expect_err(codemode);
            assert!(format!("{error:#}").contains(expected), "{error:#}");
        }
    }

    #[test]
    fn undo_keys_name_a_method_of_a_configured_namespace() {
        let config = with_codemode(
            r#"{"undo": {"memory.create_entities": "({ args }) => args", "github.issues_create": "() => 1"}}"#,
        )
        .expect("valid config");
        assert_eq!(
            config.undo().keys().collect::<Vec<_>>(),
            ["github.issues_create", "memory.create_entities"]
        );
        assert!(Config::default().undo().is_empty());

        for (codemode, expected) in [
            (
                r#"{"undo": {"create_entities": "() => 1"}}"#,
                "at `codemode.undo.create_entities`: an undo's key is `namespace.method` (`memory.create_entities`), not `create_entities`",
            ),
            (
                r#"{"undo": {"memory.": "() => 1"}}"#,
                "at `codemode.undo.memory.`: an undo's key is `namespace.method`",
            ),
            (
                r#"{"undo": {"files.write_file": "() => 1"}}"#,
                "at `codemode.undo.files.write_file`: no namespace `files` is configured under `mcpServers`, `openapi` or `files` (configured: memory, github)",
            ),
            (
                r#"{"undo": {"memory.create_entities": 7}}"#,
                "at `codemode.undo.memory.create_entities`: invalid type: integer `7`, expected a string",
            ),
        ] {
            let error = with_codemode(codemode).expect_err(codemode);
            assert!(format!("{error:#}").contains(expected), "{error:#}");
        }
    }

    #[test]
    fn an_undo_that_does_not_parse_is_named_by_its_field() -> anyhow::Result<()> {
        let runtime = Runtime::new()?;
        let check = |undo: &str| {
            let config = with_codemode(
                &serde_json::json!({ "undo": { "memory.create_entities": undo } }).to_string(),
            )?;
            crate::tokio_runtime()?.block_on(config.check_undo(&runtime))
        };
        // TypeScript or JavaScript, on any number of lines.
        check(
            "({ args }: { args: { entities: { name: string }[] } }) =>\n  memory.delete_entities({ entityNames: args.entities.map((e) => e.name) })",
        )?;
        check("async function (call) { return call.result; }")?;

        for (undo, expected) in [
            (
                "({ args }) =>\n  memory.delete_entities({ entityNames: args.entities.map(e => e.name) )",
                "at `codemode.undo.memory.create_entities`: the undo does not parse: SyntaxError: Expected `,` or `}` but found `)` (line 2, column 72)",
            ),
            (
                "(call) => {",
                "at `codemode.undo.memory.create_entities`: the undo does not parse: SyntaxError: Unexpected token (at its end)",
            ),
            (
                "(call: ) => call",
                "at `codemode.undo.memory.create_entities`: the undo does not parse: SyntaxError",
            ),
            (
                "42",
                "at `codemode.undo.memory.create_entities`: the undo is of type `number`, not a function `(call) => …`",
            ),
            (
                "missing",
                "at `codemode.undo.memory.create_entities`: the undo does not parse: ReferenceError",
            ),
        ] {
            let error = check(undo).expect_err(undo);
            assert!(format!("{error:#}").contains(expected), "{undo}: {error:#}");
        }
        Ok(())
    }

    #[test]
    fn the_bundled_example_gates_writes_but_lets_the_demo_through() -> anyhow::Result<()> {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/servers.json");
        let config = Config::load(&path)?;
        crate::tokio_runtime()?.block_on(config.check_undo(&Runtime::new()?))?;
        assert!(config.undo().contains_key("memory.create_entities"));
        let policy = config.approvals().expect("the example has approvals");
        // examples/knowledge-graph.ts, which scripts/demo runs unattended
        // (`read_graph` is hinted read-only).
        for (method, read_only) in [
            ("create_entities", false),
            ("create_relations", false),
            ("read_graph", true),
        ] {
            assert_eq!(
                policy.decide("memory", &[method], read_only).action,
                Action::Allow,
                "{method}"
            );
        }
        assert_eq!(
            policy.decide("memory", &["delete_entities"], false).action,
            Action::Approve
        );
        assert_eq!(
            policy.decide("files", &["write_file"], false).action,
            Action::Approve
        );
        Ok(())
    }
}
