//! Connectors made of one function, for tests and benchmarks whose
//! connector only answers (echoes, records, waits), and grants of one
//! connector.

use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use codemode_runtime::{CallContext, Connector, ConnectorError, Grants, MethodDescription};
use serde_json::Value;

/// A connector with `methods` whose every call is answered by one function
/// of the method's name and the arguments.
///
/// ```
/// use codemode_runtime::MethodDescription;
/// use codemode_test_support::connector::FnConnector;
///
/// let echo = FnConnector::new(
///     vec![MethodDescription::new("echo", "returns its arguments")],
///     |_method, args| std::future::ready(Ok(args)),
/// );
/// ```
pub struct FnConnector<F> {
    methods: Vec<MethodDescription>,
    answer: F,
}

impl<F> FnConnector<F> {
    /// A connector listing `methods`, answering each call with
    /// `answer(method, args)`.
    pub fn new<Answer>(methods: Vec<MethodDescription>, answer: F) -> Arc<Self>
    where
        F: Fn(&str, Value) -> Answer,
        Answer: Future<Output = Result<Value, ConnectorError>>,
    {
        Arc::new(Self { methods, answer })
    }
}

#[async_trait]
impl<F, Answer> Connector for FnConnector<F>
where
    F: Fn(&str, Value) -> Answer + Send + Sync + 'static,
    Answer: Future<Output = Result<Value, ConnectorError>> + Send + 'static,
{
    fn methods(&self) -> &[MethodDescription] {
        &self.methods
    }

    async fn call(&self, call: &CallContext, args: Value) -> Result<Value, ConnectorError> {
        (self.answer)(&call.method, args).await
    }
}

/// Grants of `connector` alone, as `namespace`.
///
/// # Panics
///
/// When `namespace` is not a name a script can use.
pub fn grant(namespace: &str, connector: Arc<dyn Connector>) -> Arc<Grants> {
    Arc::new(
        Grants::new()
            .grant(namespace, connector)
            .expect("a valid connector name"),
    )
}
