//! Runs the TypeScript compiler from `tests/npm` over generated declarations.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};

/// `tests/npm` at the root of the repository.
pub fn npm_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/npm")
}

/// A file installed under `tests/npm/node_modules`, or an error saying how to
/// install it.
pub fn installed(relative: &str) -> Result<PathBuf> {
    let path = npm_dir().join("node_modules").join(relative);
    ensure!(
        path.exists(),
        "`{}` is missing: run `scripts/setup` (it runs `npm ci --prefix tests/npm`)",
        path.display()
    );
    Ok(path)
}

/// Checks `files` (name, contents) with `tsc --noEmit --strict` in a fresh
/// directory named after `label`, failing with tsc's output.
pub fn check(label: &str, files: &[(String, String)]) -> Result<()> {
    let tsc = installed(".bin/tsc")?;
    let dir = std::env::temp_dir().join(format!(
        "codemode-typescript-{label}-{}",
        std::process::id()
    ));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    let mut paths = Vec::new();
    for (name, contents) in files {
        let path = dir.join(name);
        std::fs::write(&path, contents).with_context(|| format!("writing `{}`", path.display()))?;
        paths.push(path);
    }
    let start = Instant::now();
    let output = Command::new(&tsc)
        .args([
            "--noEmit", "--strict", "--target", "es2022", "--lib", "es2022", "--types", "",
        ])
        .args(&paths)
        .current_dir(&dir)
        .output()
        .with_context(|| format!("running `{}`", tsc.display()))?;
    println!(
        "tsc {label}: {} files in {:?}",
        files.len(),
        start.elapsed()
    );
    if !output.status.success() {
        bail!(
            "tsc failed on {} (files kept in {}):\n{}{}",
            label,
            dir.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
