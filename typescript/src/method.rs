//! The one model of a connector method: what the script calls, what the
//! generated TypeScript declares and what `codemode.search` finds.
//!
//! It lives here, below the runtime, because both the runtime (which calls
//! and indexes methods) and the declaration generator (which types them)
//! read it; each connector builds its methods once, in this shape.

use serde::Serialize;
use serde_json::Value;

/// One method of a connector. A name that is not a JavaScript identifier
/// (`get-issue`) is called by its sanitized form (`get_issue`).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct MethodDescription {
    /// The name the connector knows the method by (any text).
    pub name: String,
    /// What the method does, for the agent (markdown).
    pub description: String,
    /// JSON Schema of the argument object.
    pub input_schema: Value,
    /// JSON Schema of the reply, when known.
    pub output_schema: Option<Value>,
    /// Where the method lives, for search: `GET /repos/{owner}/{repo}` for
    /// an HTTP operation.
    pub path: Option<String>,
    /// Tags that group methods, for search.
    pub tags: Vec<String>,
    /// Whether the method is deprecated.
    pub deprecated: bool,
    /// The method changes nothing: an HTTP `GET`, `HEAD` or `OPTIONS`, an
    /// MCP tool with `readOnlyHint`. An approval policy lets such calls
    /// through when no rule names them. Serialized only when true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

impl MethodDescription {
    /// A method with a name and description, taking any object and returning
    /// an unknown reply.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            input_schema: serde_json::json!({ "type": "object" }),
            ..Self::default()
        }
    }

    /// Set the JSON Schema of the arguments.
    pub fn input_schema(mut self, schema: Value) -> Self {
        self.input_schema = schema;
        self
    }

    /// Set the JSON Schema of the reply.
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.output_schema = Some(schema);
        self
    }

    /// Set where the method lives (`GET /repos/{owner}/{repo}`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// Set the tags that group the method.
    pub fn tags(mut self, tags: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// Mark the method deprecated (or not).
    pub fn deprecated(mut self, deprecated: bool) -> Self {
        self.deprecated = deprecated;
        self
    }

    /// Mark the method read-only (or not): it changes nothing.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }
}
