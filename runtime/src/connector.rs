//! Connectors: what the host grants a script to reach.
//!
//! A connector is a named set of methods, each described with JSON Schema,
//! implemented on the host. Credentials and network access live inside the
//! connector; the guest only ever sends JSON arguments and receives JSON
//! replies, after the runtime has checked their sizes.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

pub use codemode_typescript::MethodDescription;

use crate::call::CallContext;
use crate::document::Document;

/// Why a connector call failed; the script receives it as a rejected
/// `ConnectorError` with this code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConnectorError {
    code: String,
    message: String,
}

impl ConnectorError {
    /// The code of an error that gives none: `connector`.
    pub const DEFAULT_CODE: &'static str = "connector";

    /// An error with a message for the agent, and the code
    /// [`DEFAULT_CODE`](Self::DEFAULT_CODE). It reaches the sandbox as is:
    /// never put a credential in it.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_code(Self::DEFAULT_CODE, message)
    }

    /// An error with a machine-readable `code` (`denied`, `rate-limited`)
    /// that a script can branch on, and a message for the agent.
    pub fn with_code(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }

    /// The code the script sees as `error.code`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message the script sees.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A host-side capability that a script can call once it is granted.
///
/// # Example
///
/// ```
/// use async_trait::async_trait;
/// use codemode_runtime::{CallContext, Connector, ConnectorError, MethodDescription};
/// use serde_json::Value;
///
/// struct Echo(Vec<MethodDescription>);
///
/// #[async_trait]
/// impl Connector for Echo {
///     fn methods(&self) -> &[MethodDescription] {
///         &self.0
///     }
///     async fn call(&self, _call: &CallContext, args: Value) -> Result<Value, ConnectorError> {
///         Ok(args)
///     }
/// }
/// ```
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// The methods a script may call.
    fn methods(&self) -> &[MethodDescription];

    /// Run `call.method` with `args` (the JSON the script passed; `{}` when
    /// it passed nothing). Only methods listed by [`Connector::methods`] are
    /// ever called. `call` says which run is calling, until when, and keeps
    /// state that lasts the run ([`CallContext::run_local`]).
    async fn call(&self, call: &CallContext, args: Value) -> Result<Value, ConnectorError>;

    /// The TypeScript declaration of `methods` (the connector's own names
    /// for them) under `namespace`, together in one `declare namespace`
    /// block with the named types they need, when the connector has a
    /// better one than the runtime generates from the methods' JSON
    /// Schemas: one from an OpenAPI description, say, whose schemas refer
    /// to named types elsewhere in the document. Asked when a script
    /// describes a method (one name) and when a catalog is rendered as
    /// TypeScript ([`Grants::render`](crate::Grants::render)).
    fn declaration(&self, namespace: &str, methods: &[&str]) -> Option<String> {
        let _ = (namespace, methods);
        None
    }

    /// The declaration `codemode.describe` shows of one method: by default
    /// [`Connector::declaration`]'s. A connector whose types are large may
    /// make it brief, leaving nested named types as names that
    /// [`Connector::type_declaration`] declares on request.
    fn brief_declaration(&self, namespace: &str, method: &str) -> Option<String> {
        self.declaration(namespace, &[method])
    }

    /// The declaration of the named types `names` (as the connector's
    /// declarations name them) under `namespace`, for
    /// `codemode.describe("namespace.TypeName")` and `codemode.describe(name,
    /// { expand: [...] })`; `None`, the default, when it has no such type.
    fn type_declaration(&self, namespace: &str, names: &[&str]) -> Option<String> {
        let _ = (namespace, names);
        None
    }

    /// The document the connector is built from (an HTTP API's OpenAPI
    /// description), held once, for code that explores it: an embedder
    /// hands it to a run with
    /// [`Execution::documents`](crate::Execution::documents). `None`, the
    /// default, for none.
    fn document(&self) -> Option<Arc<Document>> {
        None
    }
}
