//! Runs the TypeScript compiler from `tests/npm` over generated declarations,
//! each run under a deadline so that a hung `tsc` fails its test instead of
//! stalling CI.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

/// How long one `tsc` run may take: a second or two on an idle machine,
/// GitHub's 1,223 operations included; the rest is room for a loaded CI
/// machine.
const TSC_DEADLINE: Duration = Duration::from_secs(120);

/// A file installed under `tests/npm/node_modules`, or an error saying how to
/// install it.
pub fn installed(relative: &str) -> Result<PathBuf> {
    let path = crate::files::npm("node_modules").join(relative);
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
    // The pinned `typescript` package's own `tsc`: `.bin/tsc` may be
    // another package's (jco brings TypeScript 6 under an alias).
    let tsc = installed("typescript/bin/tsc")?;
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
    let output = output_within(
        Command::new(&tsc)
            .args([
                "--noEmit", "--strict", "--target", "es2022", "--lib", "es2022", "--types", "",
            ])
            .args(&paths)
            .current_dir(&dir),
        TSC_DEADLINE,
    )
    .with_context(|| format!("running `{}` on {label}", tsc.display()))?;
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

/// Run `command` to its end, its output captured, killing it if it is
/// still running after `limit`.
fn output_within(command: &mut Command, limit: Duration) -> Result<Output> {
    let mut child = KilledOnDrop(
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?,
    );
    // Drained on threads of their own, so that a full pipe cannot stall
    // the process.
    let stdout = drain(child.0.stdout.take());
    let stderr = drain(child.0.stderr.take());
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.0.try_wait()? {
            break status;
        }
        ensure!(
            Instant::now() < deadline,
            "it hung: it did not finish within {} s, and was killed",
            limit.as_secs()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    Ok(Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    })
}

/// Everything `pipe` yields until it closes, read on a thread.
fn drain(pipe: Option<impl Read + Send + 'static>) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// A child process, killed and reaped when dropped, so that a test that
/// fails or gives up on it leaves no process behind.
struct KilledOnDrop(Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
