//! Durable runs through `codemode serve --state`, as a user meets them: a
//! gated call answers "pending", the server is killed with SIGKILL while
//! the run waits, a new server resumes it, a person approves from another
//! process, and the upstream server ends up with every effect exactly once;
//! and a client that declared elicitation (the TypeScript SDK's `Client`)
//! is asked instead, inside the same `execute`.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result};
use codemode_runs::RunStore;
use codemode_runtime::Decision;
use codemode_test_support::mcp::tool_call;
use serde_json::{Value, json};
use tokio::process::Command;

use crate::support::mcp::{call, stdio_client};
use crate::support::{BINARY, bounded_test, deadline, mcp_server, npm, scratch};

/// A config with the reference memory server writing to `memory`, whose
/// `create_relations` waits for a person.
fn gated_config(dir: &Path, memory: &Path) -> Result<std::path::PathBuf> {
    let config = json!({
        "mcpServers": {
            "memory": {
                "command": "node",
                "args": [mcp_server("memory")],
                "env": { "MEMORY_FILE_PATH": memory },
            }
        },
        "codemode": {
            "approvals": {
                "default": "approve",
                "rules": [
                    { "match": "memory.create_relations", "action": "approve" },
                    { "match": "memory.create_*", "action": "allow" },
                ],
            },
        },
    });
    let path = dir.join("config.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&config)?)?;
    Ok(path)
}

fn serve(config: &Path, state: &Path, more: &[&str]) -> Result<tokio::process::Child> {
    deadline::spawn(
        Command::new(BINARY)
            .args(["serve", "--config"])
            .arg(config)
            .arg("--state")
            .arg(state)
            .args(more)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )
    .context("codemode serve starts")
}

/// The entities in the memory server's file, by name, with how often each
/// is there.
fn entities(memory: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(memory).unwrap_or_default();
    let mut names = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let item: Value = serde_json::from_str(line)?;
        if item["type"] == "entity" {
            names.push(item["name"].as_str().unwrap_or_default().to_owned());
        }
    }
    Ok(names)
}

#[bounded_test(multi_thread)]
async fn a_run_waiting_for_approval_survives_kill_9_and_completes_once_approved() -> Result<()> {
    let dir = scratch("durable-kill");
    let memory = dir.join("memory.jsonl");
    let state = dir.join("state");
    let config = gated_config(&dir, &memory)?;
    let code = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/knowledge-graph.ts"),
    )?;

    // The first server builds the 15 entities and answers "pending" at the
    // first relation.
    let mut first = serve(&config, &state, &[])?;
    let client = stdio_client(&mut first).await;
    let (failed, pending) = call(&client, "execute", &code).await;
    assert!(!failed, "{pending}");
    assert_eq!(pending["status"], "pending", "{pending}");
    assert_eq!(
        pending["waiting"][0]["call"], "memory.create_relations",
        "{pending}"
    );
    let run = pending["run"].as_str().context("a run id")?.to_owned();
    assert_eq!(entities(&memory)?.len(), 15);

    // Killed while it waits.
    first.kill().await?;
    drop(client);

    // A new server resumes it; a person approves each relation from
    // another process (this one) as it comes. This server keeps no waiting
    // run's sandbox: the run is unloaded at each relation's gate and
    // resumed from its journal once approved.
    let mut second = serve(&config, &state, &["--waiting-stores", "0"])?;
    let client = stdio_client(&mut second).await;
    let store = RunStore::open(&state)?;
    let mut approved = 0;
    for _ in 0..600 {
        // Each wait is left long enough for the run to be unloaded.
        let now = u64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_millis(),
        )?;
        for wait in store.pending(Some(&run))? {
            if wait.since + 300 <= now {
                store.decide(&run, wait.call, &Decision::Approve { by: "ana".into() })?;
                approved += 1;
            }
        }
        if store.load(&run)?.outcome.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(approved, 14, "one approval per relation");
    let waited = client
        .call_tool(tool_call("execute", json!({ "run": run })))
        .await?;
    let text = waited.content[0]
        .as_text()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    let outcome: Value = serde_json::from_str(&text)?;
    assert_eq!(outcome["result"]["entities"], 15, "{outcome}");
    assert_eq!(outcome["result"]["relations"], 14, "{outcome}");

    // Every entity exactly once: no call was made twice.
    let mut names = entities(&memory)?;
    names.sort();
    let count = names.len();
    names.dedup();
    assert_eq!((count, names.len()), (15, 15), "{names:?}");
    drop(client);
    second.kill().await?;
    Ok(())
}

/// Run `code` through `codemode serve --state` from the TypeScript SDK's
/// `Client`, answering each elicitation with `action`: what it was asked,
/// and the tool result.
async fn elicited(action: &str, code: &str) -> Result<(Vec<String>, Value)> {
    let dir = scratch(&format!("durable-elicit-{action}"));
    let memory = dir.join("memory.jsonl");
    let config = gated_config(&dir, &memory)?;
    let state = dir.join("state");
    let output = deadline::output(
        Command::new("node")
            .arg(npm("fixtures/elicit-client.mjs"))
            .args([action, code, "--", BINARY, "serve", "--config"])
            .arg(&config)
            .arg("--state")
            .arg(&state),
        b"",
    )
    .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let answer: Value = serde_json::from_str(stdout.trim())
        .with_context(|| format!("the client's answer: {stdout}"))?;
    let asked = answer["asked"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let text = answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_default();
    let result = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()));
    Ok((asked, result))
}

#[bounded_test(multi_thread)]
async fn a_client_that_can_be_asked_approves_or_declines_inside_one_execute() -> Result<()> {
    let code = "await memory.create_relations({ relations: [{ from: 'a', to: 'b', relationType: 'knows' }] }); \
                (await memory.read_graph({})).relations.length";
    let (asked, accepted) = elicited("accept", code).await?;
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(
        asked[0].starts_with("Approve memory.create_relations?") && asked[0].contains("\"knows\""),
        "{asked:?}"
    );
    assert_eq!(accepted["result"], 1, "{accepted}");

    let (_, declined) = elicited("decline", code).await?;
    assert_eq!(
        declined["error"]["name"], "ApprovalRejectedError",
        "{declined}"
    );
    assert!(
        declined["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("declined")),
        "{declined}"
    );
    Ok(())
}
