//! How the host workspace's build scripts build crates of the guest
//! workspace (`runtime/build.rs` the guest, `host-tools/components/build.rs`
//! the portable components' pieces): `cargo build --release` for
//! `wasm32-wasip2`, in a target directory of its own so that it never
//! contends with the outer build's lock, with the outer build's flags (for
//! the host) kept out. Included by both with `#[path]`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `<target dir>/guest`, shared by every profile of the host workspace;
/// `out_dir` is a build script's `OUT_DIR`.
pub fn guest_target_dir(out_dir: &Path) -> PathBuf {
    // OUT_DIR is <target>/<profile>/build/<crate>-<hash>/out.
    out_dir
        .ancestors()
        .nth(4)
        .map(|target| target.join("guest"))
        .unwrap_or_else(|| out_dir.join("guest-target"))
}

/// Build the guest workspace at `guest_dir` with `args` (`-p NAME`,
/// `--features …`) into `target_dir`, and read the artifact `artifact`
/// (`codemode_guest.wasm`).
pub fn cargo_build(
    guest_dir: &Path,
    target_dir: &Path,
    args: &[&str],
    artifact: &str,
) -> Result<Vec<u8>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(guest_dir)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
        ])
        .args(args)
        .arg("--target-dir")
        .arg(target_dir);
    for variable in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "RUSTC_WORKSPACE_WRAPPER",
    ] {
        command.env_remove(variable);
    }
    let status = command
        .status()
        .map_err(|error| format!("running `cargo build` for the guest workspace: {error}"))?;
    if !status.success() {
        return Err(format!(
            "`cargo build {}` in the guest workspace failed ({status}); the guest needs clang, lld, \
             wasi-libc and the wasm32-wasip2 Rust target: run `scripts/setup` to install them",
            args.join(" ")
        ));
    }
    let path = target_dir.join("wasm32-wasip2/release").join(artifact);
    std::fs::read(&path).map_err(|error| format!("reading {}: {error}", path.display()))
}
