//! GitHub's OpenAPI description (`@octokit/openapi`, installed by
//! `scripts/setup` into `tests/npm`): 13 MB, 1,223 operations. As text, as
//! a connector that only describes (its methods to search and describe;
//! its calls fail: the HTTP connector is another matter), and the scan
//! script that reads every operation of it.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use codemode_openapi::Spec;
use codemode_runtime::{CallContext, Connector, ConnectorError, MethodDescription};
use serde_json::Value;

use crate::files::npm;

/// The Cloudflare-style scan of the description under `spec.github`: every
/// operation of every path, kept when its summary or a tag mentions a word.
pub const SCAN: &str = include_str!("github_scan.js");

/// Where the description is installed.
pub fn description_path() -> PathBuf {
    npm("node_modules/@octokit/openapi/generated/api.github.com.json")
}

/// The description as JSON text.
///
/// # Panics
///
/// When it is not installed, saying what to run.
pub fn description_text() -> String {
    let path = description_path();
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; run `scripts/setup` to install the test packages",
            path.display()
        )
    })
}

/// The description as a catalog of methods.
pub struct GithubCatalog {
    spec: Spec,
    methods: Vec<MethodDescription>,
}

impl GithubCatalog {
    /// Load the description from `tests/npm`.
    ///
    /// # Panics
    ///
    /// When it is not installed or does not parse.
    pub fn load() -> Arc<Self> {
        let spec = Spec::parse(&description_text()).expect("GitHub's description parses");
        let methods = spec.operations().iter().map(|op| op.method()).collect();
        Arc::new(Self { spec, methods })
    }
}

#[async_trait]
impl Connector for GithubCatalog {
    fn methods(&self) -> &[MethodDescription] {
        &self.methods
    }

    async fn call(&self, call: &CallContext, _args: Value) -> Result<Value, ConnectorError> {
        let method: &str = &call.method;
        Err(ConnectorError::new(format!(
            "`{method}` is only described here, not callable"
        )))
    }

    fn declaration(&self, namespace: &str, methods: &[&str]) -> Option<String> {
        let operations: Vec<_> = methods
            .iter()
            .map(|method| self.spec.operation(method))
            .collect::<Option<_>>()?;
        Some(self.spec.declaration(namespace, &operations, false))
    }
}
