//! Integration tests of `codemode-typescript`: golden files for a corpus of
//! hard schemas, and `tsc --strict` over them, from `tests/npm` (installed
//! by `scripts/setup`).

mod corpus;
