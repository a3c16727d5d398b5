//! The configuration file: JSON, with the limits under `codemode.limits`.
//!
//! ```json
//! { "codemode": { "limits": { "timeoutMs": 5000, "memoryBytes": 33554432 } } }
//! ```
//!
//! Unknown fields are errors, and every error names the file, the field and
//! what was expected there.

use std::path::Path;

use anyhow::{Context, Result};
use codemode_runtime::Limits;
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    #[serde(default)]
    codemode: Section,
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
        Self::parse(&text).with_context(|| format!("in the config file `{}`", path.display()))
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

        let error = Config::parse(r#"{"codemode":{"limitz":{}}}"#).expect_err("an unknown field");
        assert!(
            format!("{error:#}").contains("unknown field `limitz`"),
            "{error:#}"
        );
    }
}
