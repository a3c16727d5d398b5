//! The OpenAPI descriptions that tests and benchmarks read, installed by
//! `scripts/setup` into `tests/npm`.

use std::path::PathBuf;

/// Where GitHub's description (`@octokit/openapi`) is installed.
pub fn github_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/npm/node_modules/@octokit/openapi/generated/api.github.com.json")
}

/// GitHub's description as JSON text: 13 MB, 1,223 operations. Panics
/// with what to run when it is not installed.
pub fn github_text() -> String {
    let path = github_path();
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; run `scripts/setup` to install the test packages",
            path.display()
        )
    })
}
