//! Where the tests' and benchmarks' files are: the packages `scripts/setup`
//! installs into `tests/npm` (with the fixtures beside them), and scratch
//! directories for configs and data files.

use std::path::{Path, PathBuf};

/// `relative` under `tests/npm`, at the root of the repository.
pub fn npm(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/npm")
        .join(relative)
}

/// The entry point of the reference MCP server `server-<name>` (`memory`,
/// `everything`, `filesystem`), installed under `tests/npm`.
pub fn mcp_server(name: &str) -> PathBuf {
    npm(&format!(
        "node_modules/@modelcontextprotocol/server-{name}/dist/index.js"
    ))
}

/// A fresh, empty directory for `name` in this process.
///
/// # Panics
///
/// When the directory cannot be made.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("codemode-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}
