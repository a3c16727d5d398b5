//! GitHub's OpenAPI description (`@octokit/openapi`, installed by
//! `scripts/setup` into `tests/npm`) as a connector that only describes:
//! 1,223 operations to search and describe. Its calls fail; the HTTP
//! connector is another matter.

use std::sync::Arc;

use async_trait::async_trait;
use codemode_openapi::Spec;
use codemode_runtime::{CallContext, Connector, ConnectorError, MethodDescription};
use serde_json::Value;

/// GitHub's description as a catalog of methods.
pub struct GithubCatalog {
    spec: Spec,
    methods: Vec<MethodDescription>,
}

impl GithubCatalog {
    /// Load the description from `tests/npm`.
    pub fn load() -> Arc<Self> {
        let spec =
            Spec::parse(&crate::descriptions::github_text()).expect("GitHub's description parses");
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
