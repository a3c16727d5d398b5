//! TypeScript declarations for Code Mode connectors.
//!
//! An agent in Code Mode writes JavaScript against the connectors it was
//! granted; it writes that code well when it sees a typed API. This crate
//! turns what connectors say about themselves into TypeScript:
//!
//! ```
//! use codemode_typescript::openapi::Spec;
//!
//! let spec = Spec::parse(r##"
//! openapi: 3.1.0
//! info: {title: notes, version: "1"}
//! paths:
//!   /notes/{id}:
//!     get:
//!       operationId: notes/get
//!       summary: Read a note
//!       parameters: [{name: id, in: path, schema: {type: string}}]
//!       responses:
//!         "200": {description: The note, content: {application/json: {schema: {$ref: "#/components/schemas/note"}}}}
//! components:
//!   schemas:
//!     note: {type: object, required: [text], properties: {text: {type: string}}}
//! "##)?;
//! assert_eq!(spec.operations()[0].name, "notes_get");
//! let ts = spec.typescript("notes");
//! assert!(ts.contains("type Note = {\n        text: string;\n    };"));
//! assert!(ts.contains("function notes_get(args: {\n        id: string;\n    }): Promise<HttpResponse<Note>>;"));
//! # Ok::<(), codemode_typescript::Error>(())
//! ```
//!
//! The modules:
//!
//! - [`schema`]: JSON Schema to type expressions and named types;
//! - [`names`]: method and type names as identifiers, reversibly;
//! - [`declare`]: `declare namespace` blocks for connector methods described
//!   with JSON Schema;
//! - [`openapi`]: the same for OpenAPI 3.0 and 3.1 descriptions;
//! - [`catalog`]: several namespaces together, rendered as TypeScript, JSON or
//!   a compact markdown summary, optionally filtered.

pub mod catalog;
pub mod declare;
pub mod names;
pub mod openapi;
pub mod schema;

/// What can go wrong reading an OpenAPI description.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text looked like JSON but does not parse.
    #[error("the description is not valid JSON at line {line}, column {column}")]
    Json {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser said.
        #[source]
        source: serde_json::Error,
    },
    /// The text is not valid YAML (nor JSON).
    #[error("the description is not valid YAML at line {line}, column {column}")]
    Yaml {
        /// 1-based line of the error (0 if unknown).
        line: usize,
        /// 1-based column of the error (0 if unknown).
        column: usize,
        /// What the parser said.
        #[source]
        source: serde_norway::Error,
    },
    /// A Swagger 2.0 description: only OpenAPI 3 is read.
    #[error(
        "Swagger {version} descriptions are not supported: convert it to OpenAPI 3 first, for example with `npx swagger2openapi swagger.json -o openapi.json`"
    )]
    Swagger {
        /// The `swagger` field.
        version: String,
    },
    /// No `openapi` field.
    #[error("the description has no `openapi` field: expected an OpenAPI 3.0 or 3.1 description")]
    MissingVersion,
    /// An `openapi` field that is not 3.0.x or 3.1.x.
    #[error("unsupported OpenAPI version `{version}`: expected 3.0.x or 3.1.x")]
    UnsupportedVersion {
        /// The `openapi` field.
        version: String,
    },
    /// The description is not a JSON object.
    #[error("the description must be an object, found {found}")]
    NotAnObject {
        /// What it is instead (`an array`, `a string`, ...).
        found: &'static str,
    },
}

/// What kind of JSON value `value` is, for messages: `null`, `a boolean`,
/// `a number`, `a string`, `an array` or `an object`.
pub fn json_kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
