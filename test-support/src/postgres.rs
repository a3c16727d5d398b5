//! A PostgreSQL server for the tests that keep runs there: one a test
//! process, started by `scripts/test-postgres` (Debian's postgresql, its
//! data in a temporary directory, on a free port) the first time a test
//! asks, and stopped by that script once the process has ended; a fresh
//! database on it for each test.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// The server's port.
static SERVER: OnceLock<u16> = OnceLock::new();

/// The URL of a new, empty database `name` (letters, digits and `_`) on
/// this process's server, started if it is not.
///
/// # Panics
///
/// When the server cannot be started (is PostgreSQL installed? run
/// `scripts/setup`) or the database made.
pub fn database(name: &str) -> String {
    let port = *SERVER.get_or_init(start);
    let made = Command::new("createdb")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "codemode",
            name,
        ])
        .output()
        .expect("createdb runs (scripts/setup installs PostgreSQL)");
    assert!(
        made.status.success(),
        "createdb {name}: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    format!("postgres://codemode@127.0.0.1:{port}/{name}")
}

fn start() -> u16 {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port");
    let dir = std::env::temp_dir().join(format!("codemode-postgres-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/test-postgres");
    let started = Command::new(script)
        .arg(&dir)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .output()
        .expect("scripts/test-postgres runs");
    assert!(
        started.status.success(),
        "scripts/test-postgres failed: {}",
        String::from_utf8_lossy(&started.stderr)
    );
    port
}
