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
//!                 "maxOutputTokens": 6000 },
//!   "openapi": { "github": { "spec": "specs/api.github.com.json",
//!                            "auth": { "type": "bearer", "token": "${GITHUB_TOKEN}" },
//!                            "methods": ["GET", "HEAD"] } } }
//! ```
//!
//! An `openapi` entry's other fields (base URL, allowed origins, timeouts,
//! caps) are `codemode_openapi::ApiConfig`'s. A stdio server's `cwd`, like a
//! `spec` path, is relative to the file.
//!
//! Secrets stay out of the file: `${VAR}` in any string under `mcpServers`
//! or `openapi` is replaced by the host's environment variable `VAR` (an
//! error when it is unset), `${VAR:-default}` by `default` when it is unset
//! or empty. Every value so filled in (of 8 bytes or more) is a secret:
//! `run` and `serve` redact it from every reply and error a script sees
//! (`Grants::redact`), and from the stderr of upstream servers. An API's
//! `auth` is kept from the sandbox besides, in each form it is sent in:
//! credentials belong there, not in its `headers`.
//!
//! Unknown fields are errors, and every error names the file, the field and
//! what was expected there.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};
use codemode_mcp_client::{Timeouts, UpstreamConfig};
use codemode_openapi::ApiConfig;
use codemode_runtime::{Limits, Secrets};
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
}

impl Default for Section {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            upstream: Timeouts::default(),
            max_output_tokens: codemode_mcp_server::DEFAULT_MAX_OUTPUT_TOKENS,
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
        for section in ["mcpServers", "openapi"] {
            if let Some(entries) = value.get_mut(section) {
                expansion.expand(entries, section)?;
            }
        }
        let mut config: Self = serde_path_to_error::deserialize(value).map_err(|error| {
            let path = error.path().to_string();
            anyhow::anyhow!("at `{path}`: {}", error.into_inner())
        })?;
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
                *text = self.text(text).with_context(|| format!("at `{path}`"))?;
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

    /// `text` with each `${VAR}` and `${VAR:-default}` replaced.
    fn text(&mut self, text: &str) -> Result<String> {
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
    use super::Config;
    use codemode_mcp_client::UpstreamConfig;

    #[test]
    fn reads_servers_and_fills_in_the_environment() {
        let environment = |name: &str| match name {
            "TOKEN" => Some("s3cret".to_owned()),
            "EMPTY" => Some(String::new()),
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
        assert_eq!(docs.headers["Authorization"], "Bearer s3cret");

        for (text, expected) in [
            (
                r#"{"mcpServers": {"a": {"url": "http://h", "headers": {"X": "${MISSING}"}}}}"#,
                "at `mcpServers.a.headers.X`: the environment variable `MISSING` is not set",
            ),
            (
                r#"{"mcpServers": {"a": {"command": "x", "args": ["${OPEN"]}}}"#,
                "at `mcpServers.a.args[0]`: `${` without a closing `}`",
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
                "docs": {"url": "http://h/mcp?token=${TOKEN}", "headers": {"X": "${SHORT}"}},
                "local": {"command": "x", "env": {"D": "${DEFAULT:-default-written-in-the-file}"}}
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

        let environment = |name: &str| (name == "TOKEN").then(|| "s3cret".to_owned());
        let config = Config::parse_with(
            r#"{"openapi":{"github":{"spec":"g.json","baseUrl":"https://api.github.com",
                "auth":{"type":"bearer","token":"${TOKEN}"},"methods":["GET"],
                "limits":{"requestsPerRun":5},"timeouts":{"requestMs":1000}}}}"#,
            &environment,
        )
        .expect("valid config");
        let github = &config.openapi["github"];
        assert!(
            matches!(&github.auth, Some(codemode_openapi::Auth::Bearer { token }) if token.expose() == "s3cret")
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
}
