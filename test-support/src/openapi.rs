//! The description of the recording API that the HTTP connector's end-to-end
//! tests serve (`tests/all/openapi.rs`), and whose configurations
//! `codemode-openapi`'s own tests check.

/// The recording API's OpenAPI description (YAML): echo, items with a
/// recursive schema, counts, status codes and a slow endpoint.
pub const RECORDER: &str = include_str!("recorder.yaml");
