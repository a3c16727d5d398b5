//! [`OpenApiDescription`]: an HTTP API's operations as methods, with
//! their declarations, and nothing to send requests with.
//!
//! It is what the API offers, apart from how it is reached: the
//! [`OpenApiConnector`](crate::OpenApiConnector) holds one beside its HTTP
//! client, and `codemode types` lists one without any configuration. It
//! keeps the description only as the [`Document`] scripts read
//! (`spec.<namespace>` in `search`), and takes some operations' part of it
//! again when it needs them (see [`crate::slice`]): GitHub's description
//! parsed is 50 MB, its document 9 MB.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use codemode_runtime::{CallContext, Connector, ConnectorError, Document, MethodDescription};
use serde_json::{Value, json};

use crate::contract::{REQUEST, request_method};
use crate::slice::{Located, Slice, Slicer};
use crate::spec::{Operation, Spec};
use crate::typescript::request_declaration;

/// An API's operations as methods: `request` first, then each operation
/// kept, in the order of the description.
pub struct OpenApiDescription {
    namespace: String,
    document: Arc<Document>,
    slicer: Slicer,
    methods: Vec<MethodDescription>,
    /// Where each operation kept is, by function name.
    operations: HashMap<String, Located>,
}

impl OpenApiDescription {
    /// Every operation of `spec` as a method of `namespace`.
    pub fn new(namespace: &str, spec: Spec) -> Self {
        Self::keeping(namespace, Arc::new(spec), |_| true)
    }

    /// The operations of `spec` whose HTTP method (upper case) `keep`
    /// accepts, as methods of `namespace`. The description is kept as a
    /// [`Document`], and the hold on `spec` dropped.
    pub(crate) fn keeping(namespace: &str, spec: Arc<Spec>, keep: impl Fn(&str) -> bool) -> Self {
        let mut methods = vec![request_method()];
        let mut operations = HashMap::new();
        for operation in spec.operations() {
            if !keep(&operation.method) {
                continue;
            }
            operations.insert(
                operation.name.clone(),
                Located {
                    name: operation.name.clone(),
                    path: operation.path.clone(),
                    method: operation.method.clone(),
                },
            );
            methods.push(operation.method());
        }
        let slicer = Slicer::new(&spec);
        let description = Arc::try_unwrap(spec)
            .map_or_else(|shared| shared.document().clone(), Spec::into_document);
        let document = Arc::new(Document::new(description));
        Self {
            namespace: namespace.to_owned(),
            document,
            slicer,
            methods,
            operations,
        }
    }

    /// The namespace the API is offered under.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The operation named `name`, taken from the description with what
    /// it needs; `None` for `request` or an operation not kept.
    pub(crate) fn operation(&self, name: &str) -> Option<Slice> {
        let located = self.operations.get(name)?;
        self.slicer.slice(&self.document, &[located])
    }

    /// Each operation kept as a native MCP tool would list it: `name`,
    /// `description` and an `inputSchema` carrying the component schemas
    /// it needs under `$defs`. What serving the API without Code Mode
    /// would put in an agent's context.
    ///
    /// This parses the whole description again: it is for reports
    /// (`codemode tokens`), not for serving.
    pub fn as_mcp_tools(&self) -> Vec<Value> {
        let Some(spec) = self
            .document
            .get("")
            .and_then(|description| Spec::from_value(description).ok())
        else {
            return Vec::new();
        };
        spec.operations()
            .iter()
            .filter(|operation| self.operations.contains_key(&operation.name))
            .map(|operation| {
                let method = operation.method();
                let mut schema = method.input_schema;
                let defs: serde_json::Map<String, Value> = spec
                    .schemas_for(&[operation])
                    .into_iter()
                    .map(|(key, schema)| (key.to_owned(), schema.clone()))
                    .collect();
                if !defs.is_empty() {
                    schema["$defs"] = Value::Object(defs);
                }
                let schema = schema
                    .to_string()
                    .replace("\"#/components/schemas/", "\"#/$defs/");
                json!({
                    "name": method.name,
                    "description": method.description,
                    "inputSchema": serde_json::from_str::<Value>(&schema).unwrap_or(Value::Null),
                })
            })
            .collect()
    }

    /// What `describe` shows of `method`: brief, its result's nested named
    /// types left as names (see [`Spec::brief_declaration`]).
    pub(crate) fn brief(&self, namespace: &str, method: &str) -> Option<String> {
        if method == REQUEST {
            return Some(request_declaration(namespace));
        }
        let located = self.operations.get(method)?;
        let Slice { spec, operations } = self.slicer.slice(&self.document, &[located])?;
        Some(spec.brief_declaration(namespace, operations.first()?))
    }

    /// The named types called `names`, brief (see
    /// [`Spec::types_declaration`]); `None` when one is not a type of the
    /// description.
    pub(crate) fn types(&self, namespace: &str, names: &[&str]) -> Option<String> {
        let spec = self.slicer.slice_types(&self.document, names)?;
        spec.types_declaration(namespace, names)
    }

    /// The declaration of `methods` (function names) together, or `None`
    /// when one is not an operation kept nor `request`.
    fn declare(&self, namespace: &str, methods: &[&str]) -> Option<String> {
        let request = methods.contains(&REQUEST);
        let located: Vec<&Located> = methods
            .iter()
            .filter(|method| **method != REQUEST)
            .map(|method| self.operations.get(*method))
            .collect::<Option<_>>()?;
        if located.is_empty() {
            return request.then(|| request_declaration(namespace));
        }
        let Slice { spec, operations } = self.slicer.slice(&self.document, &located)?;
        let operations: Vec<&Operation> = operations.iter().collect();
        Some(spec.declaration(namespace, &operations, request))
    }
}

#[async_trait]
impl Connector for OpenApiDescription {
    fn methods(&self) -> &[MethodDescription] {
        &self.methods
    }

    async fn call(&self, call: &CallContext, _args: Value) -> Result<Value, ConnectorError> {
        Err(ConnectorError::new(format!(
            "`{}.{}`: this API is described, not connected: nothing sends its requests",
            self.namespace, call.method
        )))
    }

    fn declaration(&self, namespace: &str, methods: &[&str]) -> Option<String> {
        self.declare(namespace, methods)
    }

    fn brief_declaration(&self, namespace: &str, method: &str) -> Option<String> {
        self.brief(namespace, method)
    }

    fn type_declaration(&self, namespace: &str, names: &[&str]) -> Option<String> {
        self.types(namespace, names)
    }

    fn document(&self) -> Option<Arc<Document>> {
        Some(Arc::clone(&self.document))
    }
}
