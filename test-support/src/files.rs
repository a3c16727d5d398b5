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

/// The stock `wasmtime` CLI that `scripts/setup` installs (with `cargo
/// install`, so in `~/.cargo/bin` when that is not on the `PATH`).
///
/// # Panics
///
/// When it is not installed: run `scripts/setup`.
pub fn wasmtime() -> PathBuf {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("wasmtime"))
            .find(|candidate| candidate.is_file())
    });
    let in_cargo = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .map(|home| home.join("bin/wasmtime"))
        .filter(|candidate| candidate.is_file());
    on_path
        .or(in_cargo)
        .expect("the wasmtime CLI is not installed: run scripts/setup")
}

/// The portable components' case table: scripts that must give the same
/// JSON under `codemode run` and under any host of the CLI component.
pub fn portable_cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/portable/cases.json")
}
