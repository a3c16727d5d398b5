//! Integration tests of `codemode-openapi` that need no sandbox: the
//! reader and its TypeScript over GitHub's description and hard cases,
//! type-checked with `tsc --strict` from `tests/npm` (installed by
//! `scripts/setup`), and configurations refused when the connector is made.

mod config;
mod github;
mod openapi;
