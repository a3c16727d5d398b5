//! The configuration file: JSON, with the limits under `codemode.limits`
//! and OpenAPI descriptions under `openapi`, by namespace (a `spec` path is
//! relative to the file).
//!
//! ```json
//! { "codemode": { "limits": { "timeoutMs": 5000, "memoryBytes": 33554432 } },
//!   "openapi": { "github": { "spec": "specs/api.github.com.json" } } }
//! ```
//!
//! Unknown fields are errors, and every error names the file, the field and
//! what was expected there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use codemode_runtime::Limits;
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    #[serde(default)]
    codemode: Section,
    /// OpenAPI descriptions, by the namespace they get.
    #[serde(default)]
    pub(crate) openapi: BTreeMap<String, OpenApiEntry>,
}

/// One `openapi` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenApiEntry {
    /// The description (JSON or YAML); relative to the config file once
    /// loaded.
    pub(crate) spec: PathBuf,
}

/// The `codemode` section.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Section {
    #[serde(default)]
    limits: Limits,
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
        Ok(config)
    }

    fn parse(text: &str) -> Result<Self> {
        let deserializer = &mut serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(deserializer).map_err(|error| {
            let path = error.path().to_string();
            anyhow::anyhow!("at `{path}`: {}", error.into_inner())
        })
    }

    /// The limits, with defaults for what the file leaves out.
    pub(crate) fn limits(&self) -> Limits {
        self.codemode.limits.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::Config;

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

        let error = Config::parse(r#"{"codemode":{"limitz":{}}}"#).expect_err("an unknown field");
        assert!(
            format!("{error:#}").contains("unknown field `limitz`"),
            "{error:#}"
        );
    }
}
