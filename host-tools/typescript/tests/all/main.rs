//! Integration tests of `codemode-typescript`: golden files for a corpus of
//! hard schemas, GitHub's OpenAPI description, and `tsc --strict` over what
//! both produce. `tsc` and GitHub's description come from `tests/npm`
//! (installed by `scripts/setup`).

mod corpus;
mod github;
mod openapi;
mod tsc;
