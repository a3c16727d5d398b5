//! TypeScript declarations for Code Mode connectors.
//!
//! An agent in Code Mode writes JavaScript against the connectors it was
//! granted; it writes that code well when it sees a typed API. This crate
//! turns what connectors say about themselves into TypeScript:
//!
//! - [`schema`]: JSON Schema to type expressions and named types;
//! - [`names`]: method and type names as identifiers, reversibly;
//! - [`declare`]: `declare namespace` blocks for connector methods described
//!   with JSON Schema;
//! - [`openapi`]: the same for OpenAPI 3.0 and 3.1 descriptions;
//! - [`catalog`]: several namespaces together, rendered as TypeScript, JSON or
//!   a compact markdown summary, optionally filtered.

pub mod names;
pub mod schema;
