//! TypeScript declarations for Code Mode connectors, and the one model of a
//! connector method they are made from.
//!
//! An agent in Code Mode writes JavaScript against the connectors it was
//! granted; it writes that code well when it sees a typed API. This crate
//! turns a connector's methods, described with JSON Schema, into
//! TypeScript. It sits below the runtime, which indexes and describes
//! methods with it, and reads no description format itself: the OpenAPI
//! reader (and its YAML) lives in `codemode-openapi`.
//!
//! ```
//! use codemode_typescript::MethodDescription;
//! use codemode_typescript::declare::method_declaration;
//! use serde_json::json;
//!
//! let note = MethodDescription::new("notes/get", "Reads a note.").input_schema(json!({
//!     "type": "object",
//!     "required": ["id"],
//!     "properties": {"id": {"type": "string"}}
//! }));
//! let ts = method_declaration("notes", "notes_get", &note);
//! assert!(ts.contains("function notes_get(args: {\n        id: string;\n    }): Promise<unknown>;"));
//! ```
//!
//! The modules:
//!
//! - [`method`]: [`MethodDescription`], a method's name, description and
//!   schemas;
//! - [`schema`]: JSON Schema to type expressions and named types;
//! - [`names`]: method and type names as identifiers, reversibly;
//! - [`declare`]: `declare namespace` blocks for methods;
//! - [`pointer`]: JSON Pointers and local `$ref`s.

pub mod declare;
pub mod method;
pub mod names;
pub mod pointer;
pub mod schema;

pub use method::MethodDescription;
