//! The sandbox under other hosts, side by side with ours, in one run: the
//! same script (`console.log("hi")`, `--json`) as
//!
//! - `in_process`: the runtime's cold start (a fresh store and instance),
//!   as `sandbox`'s `cold_start` measures it;
//! - `codemode_run`: `codemode run`, a whole process;
//! - `wasmtime_run`: the CLI component under the stock `wasmtime run`, a
//!   whole process (wasmtime's compilation cache, on by default, holds the
//!   compiled component: without it, each run compiles for about 1.3 s);
//! - `wasmtime_serve`: one `POST /execute` to the HTTP component under
//!   `wasmtime serve` (a fresh instance per request), over a kept-alive
//!   connection;
//! - `jco_node`: the CLI component transpiled by jco, a whole `node`
//!   process.
//!
//! `cargo bench --bench portable`.

// `criterion_group!` defines a public function it cannot document.
#![allow(missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use codemode_runtime::{Execution, Runtime};
use codemode_test_support::files::{npm, scratch, wasmtime};
use codemode_test_support::runs::current_thread;
use criterion::{Criterion, criterion_group, criterion_main};

const SCRIPT: &str = "console.log(\"hi\")";

/// Run `command` with the script on standard input; panics unless it
/// succeeds.
fn run(command: &mut Command) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(SCRIPT.as_bytes())
        .expect("the script is written");
    let output = child.wait_with_output().expect("the command ends");
    assert!(
        output.status.success() && output.stdout.starts_with(b"{\"ok\":true"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The portable components in a scratch directory, and the CLI one
/// transpiled by jco.
fn components() -> PathBuf {
    let dir = scratch("bench-portable");
    std::fs::write(dir.join("cli.wasm"), codemode_components::CLI).expect("written");
    std::fs::write(dir.join("http.wasm"), codemode_components::HTTP).expect("written");
    let transpiled = Command::new("node")
        .arg(npm("node_modules/@bytecodealliance/jco/dist/jco.js"))
        .args(["transpile", "cli.wasm", "--name", "sandbox", "-o", "node"])
        .current_dir(&dir)
        .output()
        .expect("jco runs");
    assert!(
        transpiled.status.success(),
        "{}",
        String::from_utf8_lossy(&transpiled.stderr)
    );
    std::os::unix::fs::symlink(npm("node_modules"), dir.join("node_modules")).expect("linked");
    dir
}

/// `wasmtime serve` of the HTTP component on a free port: the process and
/// its port.
fn serve(dir: &Path) -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let child = Command::new(wasmtime())
        .args(["serve", "-S", "cli", "--addr", &format!("127.0.0.1:{port}")])
        .arg(dir.join("http.wasm"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("wasmtime serve starts");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, port)
}

fn hosts(c: &mut Criterion) {
    let dir = components();
    let mut group = c.benchmark_group("portable");
    group.sample_size(20);

    let runtime = Runtime::new().expect("runtime");
    let tokio = current_thread();
    group.bench_function("in_process", |b| {
        b.iter(|| {
            let outcome = tokio
                .block_on(runtime.execute(Execution::new(SCRIPT)))
                .expect("runs");
            assert!(outcome.ok());
        })
    });
    group.bench_function("codemode_run", |b| {
        b.iter(|| run(Command::new(env!("CARGO_BIN_EXE_codemode")).args(["run", "--json", "-"])))
    });
    group.bench_function("wasmtime_run", |b| {
        b.iter(|| {
            run(Command::new(wasmtime())
                .arg("run")
                .arg(dir.join("cli.wasm"))
                .arg("--json"))
        })
    });
    let (mut server, port) = serve(&dir);
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/execute");
    group.bench_function("wasmtime_serve", |b| {
        b.iter(|| {
            tokio.block_on(async {
                let answer: serde_json::Value = client
                    .post(&url)
                    .json(&serde_json::json!({ "code": SCRIPT }))
                    .send()
                    .await
                    .expect("answered")
                    .json()
                    .await
                    .expect("JSON");
                assert_eq!(answer["ok"], true, "{answer}");
            })
        })
    });
    let _ = server.kill();
    group.bench_function("jco_node", |b| {
        b.iter(|| {
            run(Command::new("node")
                .arg(npm("fixtures/jco-run.mjs"))
                .arg(dir.join("node/sandbox.js"))
                .arg("--json"))
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    targets = hosts
}
criterion_main!(benches);
