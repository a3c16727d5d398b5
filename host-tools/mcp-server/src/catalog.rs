//! What `search` code runs against: the connectors' methods as data, and
//! the connectors themselves wrapped so that they can be described but not
//! called.

use std::sync::Arc;

use async_trait::async_trait;
use codemode_runtime::{CallContext, Connector, ConnectorError, MethodDescription};
use serde_json::Value;

/// A connector that `search` code can find and describe but not call.
pub(crate) struct CatalogOnly {
    namespace: String,
    inner: Arc<dyn Connector>,
}

impl CatalogOnly {
    pub(crate) fn new(namespace: &str, inner: Arc<dyn Connector>) -> Self {
        Self {
            namespace: namespace.to_owned(),
            inner,
        }
    }
}

#[async_trait]
impl Connector for CatalogOnly {
    fn methods(&self) -> &[MethodDescription] {
        self.inner.methods()
    }

    fn declaration(&self, namespace: &str, methods: &[&str]) -> Option<String> {
        self.inner.declaration(namespace, methods)
    }

    fn brief_declaration(&self, namespace: &str, method: &str) -> Option<String> {
        self.inner.brief_declaration(namespace, method)
    }

    fn type_declaration(&self, namespace: &str, names: &[&str]) -> Option<String> {
        self.inner.type_declaration(namespace, names)
    }

    async fn call(&self, call: &CallContext, _args: Value) -> Result<Value, ConnectorError> {
        let method: &str = &call.method;
        Err(ConnectorError::new(format!(
            "`search` code finds operations but cannot call them: call `{}.{method}` from the `execute` tool",
            self.namespace
        )))
    }
}
