//! GitHub's OpenAPI description (`@octokit/openapi`, installed by
//! `scripts/setup` into `tests/npm`) as a connector that only describes:
//! 1,223 operations to search and describe. Its calls fail; the HTTP
//! connector is another matter.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use codemode_runtime::{Connector, ConnectorError, MethodDescription};
use codemode_typescript::openapi::Spec;
use serde_json::Value;

/// GitHub's description as a catalog of methods.
pub struct GithubCatalog {
    spec: Spec,
    methods: Vec<MethodDescription>,
}

impl GithubCatalog {
    /// Load the description from `tests/npm`; panics with what to run when
    /// it is not installed.
    pub fn load() -> Arc<Self> {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/npm/node_modules/@octokit/openapi/generated/api.github.com.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
            panic!(
                "{}: {error}; run `scripts/setup` to install the test packages",
                path.display()
            )
        });
        let spec = Spec::parse(&text).expect("GitHub's description parses");
        let methods = spec
            .operations()
            .iter()
            .map(|operation| {
                let text = [&operation.summary, &operation.description];
                let description: Vec<&str> = text.iter().filter_map(|t| t.as_deref()).collect();
                let mut method = MethodDescription::new(&operation.name, description.join("\n\n"))
                    .input_schema(operation.input_schema())
                    .path(format!("{} {}", operation.method, operation.path))
                    .tags(operation.tags.iter().cloned());
                if let Some(output) = operation.output_schema() {
                    method = method.output_schema(output.clone());
                }
                method
            })
            .collect();
        Arc::new(Self { spec, methods })
    }
}

#[async_trait]
impl Connector for GithubCatalog {
    fn methods(&self) -> &[MethodDescription] {
        &self.methods
    }

    async fn call(&self, method: &str, _args: Value) -> Result<Value, ConnectorError> {
        Err(ConnectorError::new(format!(
            "`{method}` is only described here, not callable"
        )))
    }

    fn declaration(&self, namespace: &str, method: &str) -> Option<String> {
        let operation = self.spec.operation(method)?;
        Some(self.spec.operation_declaration(namespace, operation))
    }
}
