//! Integration tests of the OpenAPI reader and its TypeScript: GitHub's
//! description and hard cases, type-checked with `tsc --strict` from
//! `tests/npm` (installed by `scripts/setup`).

mod github;
mod openapi;
#[path = "../../../../typescript/tests/all/tsc.rs"]
mod tsc;
