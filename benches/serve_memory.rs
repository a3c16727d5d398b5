//! The resident memory of `codemode serve`, with GitHub's OpenAPI
//! description (`examples/github.json`, 1,223 operations) and without any
//! API, measured on the real binary from an rmcp client over stdio.
//!
//! Not a timed test: it prints the server's resident set (from
//! `/proc/PID/status`: all of it, its anonymous part and its file-backed
//! part, which is mostly the binary's own pages) after each step of a
//! session, and exits non-zero when the session with GitHub's description
//! ends above the bound (64 MiB, or the MiB given).
//!
//! ```sh
//! scripts/setup && cargo bench --bench serve_memory        # or `-- 80` for another bound
//! ```
//!
//! The session: start and list the tools; `search` ranking operations with
//! `codemode.search`; `search` reading the description
//! (`spec.github.paths[...]`); `execute` with `codemode.describe`; and
//! `execute` calling an operation, whose request goes to a closed loopback
//! port (nothing leaves the machine) and fails after its arguments were
//! checked against the description.

#![allow(missing_docs)]

use std::process::ExitCode;

use codemode_test_support::files::scratch;
use codemode_test_support::mcp::{start_stdio_server, tool_call};
use codemode_test_support::runs::two_workers;
use rmcp::RoleClient;
use rmcp::service::RunningService;
use serde_json::json;
use tokio::process::Command;

/// The bound on the session with GitHub's description, in MiB.
const DEFAULT_BOUND_MIB: f64 = 64.0;

/// A step of the session: its label, the tool, and the code.
const STEPS: &[(&str, &str, &str)] = &[
    (
        "after codemode.search",
        "search",
        r#"(await codemode.search("create a comment on an issue", { limit: 5 })).map(m => m.name)"#,
    ),
    (
        "after reading spec.github.paths",
        "search",
        r#"const op = spec.github.paths["/repos/{owner}/{repo}/issues"].get;
           [op.operationId, op.parameters.length, Object.keys(spec.github.paths).length]"#,
    ),
    (
        "after codemode.describe",
        "execute",
        r#"codemode.describe("github.issues_list_for_repo").declaration.length"#,
    ),
    (
        "after calling an operation",
        "execute",
        r#"try { await github.issues_list_for_repo({ owner: "o", repo: "r", per_page: 5 }); }
           catch (e) { e.name }"#,
    ),
];

/// A process's resident set from `/proc/PID/status`, in KiB: all of it,
/// anonymous and file-backed.
struct Resident {
    total: u64,
    anonymous: u64,
    file: u64,
}

impl Resident {
    fn of(pid: u32) -> Self {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0)
        };
        Self {
            total: field("VmRSS:"),
            anonymous: field("RssAnon:"),
            file: field("RssFile:"),
        }
    }

    fn total_mib(&self) -> f64 {
        self.total as f64 / 1024.0
    }

    fn print(&self, label: &str) {
        println!(
            "  {label:<34} {:>7.1} MiB  (anonymous {:.1}, file-backed {:.1})",
            self.total_mib(),
            self.anonymous as f64 / 1024.0,
            self.file as f64 / 1024.0
        );
    }
}

async fn call(codemode: &RunningService<RoleClient, ()>, tool: &str, code: &str) -> String {
    let result = codemode
        .call_tool(tool_call(tool.to_owned(), json!({ "code": code })))
        .await
        .expect("the server answers");
    let text = result
        .content
        .first()
        .and_then(|content| content.as_text())
        .map(|text| text.text.clone())
        .unwrap_or_default();
    assert_ne!(result.is_error, Some(true), "`{code}` failed: {text}");
    text
}

/// Start `codemode serve --config CONFIG`, run the session (all of it when
/// `with_api`, else only the start), print each step; the last resident set.
async fn session(config: &str, with_api: bool) -> Resident {
    let (codemode, server) = start_stdio_server(
        Command::new(env!("CARGO_BIN_EXE_codemode"))
            .args(["serve", "--config", config])
            // The token is never sent: requests go to a closed loopback port.
            .env("GITHUB_TOKEN", "memory-benchmark-token")
            .env("GITHUB_API_URL", "http://127.0.0.1:9"),
    )
    .await;
    let pid = server.id().expect("the server runs");
    codemode.list_all_tools().await.expect("tools/list");
    let mut resident = Resident::of(pid);
    resident.print("after start and tools/list");
    if with_api {
        for (label, tool, code) in STEPS {
            let text = call(&codemode, tool, code).await;
            resident = Resident::of(pid);
            resident.print(label);
            println!("      {}", text.chars().take(100).collect::<String>());
        }
    }
    let _ = codemode.cancel().await;
    resident
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; a number after `--` is the bound.
    let bound = std::env::args()
        .skip(1)
        .find(|arg| !arg.starts_with("--"))
        .map_or(Ok(DEFAULT_BOUND_MIB), |arg| arg.parse::<f64>());
    let Ok(bound) = bound else {
        eprintln!("usage: serve_memory [BOUND_MIB]");
        return ExitCode::from(2);
    };
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = scratch("serve-memory");
    let empty = dir.join("empty.json");
    std::fs::write(&empty, "{}").expect("the config is written");

    let tokio = two_workers();
    println!("codemode serve without any API:");
    tokio.block_on(session(&empty.to_string_lossy(), false));
    println!("codemode serve --config examples/github.json (1,223 operations):");
    let github = tokio.block_on(session(&format!("{root}/examples/github.json"), true));
    let _ = std::fs::remove_dir_all(&dir);

    if github.total_mib() > bound {
        eprintln!(
            "codemode serve holds {:.1} MiB with GitHub's description: more than {bound} MiB",
            github.total_mib()
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
