//! Approval gates and durable runs through the `codemode` binary: `run`
//! with the config's approvals, `run --state` waiting for a decision made
//! by `codemode runs approve` or `reject` in another process, the
//! decisions idempotent and recorded once when two processes race, a run
//! whose process was killed finished by `codemode runs resume`, and
//! `runs list` and `show` on a real SQLite file, a damaged one included.
//! The connector is the reference MCP server `server-memory`, its graph in
//! a scratch file.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::cli::{codemode, text};
use crate::support::deadline::{self, step};
use crate::support::{BINARY, bounded_test, mcp_server, scratch};

/// A scratch directory with a config whose `memory` namespace is
/// server-memory, gated: `memory.delete_*` denied, `memory.create_entities`
/// to approve, the rest allowed. The state directory is `state` in it.
struct Gated {
    dir: PathBuf,
    config: PathBuf,
    /// The memory server's file, for a config that reads it from
    /// `CODEMODE_MEMORY_FILE`.
    memory: PathBuf,
}

impl Gated {
    fn new(name: &str) -> Result<Self> {
        let dir = scratch(name);
        let config = json!({
            "mcpServers": { "memory": {
                "command": "node",
                "args": [mcp_server("memory").display().to_string()],
                "env": { "MEMORY_FILE_PATH": dir.join("memory.jsonl").display().to_string() },
            } },
            "codemode": { "approvals": { "default": "allow", "rules": [
                { "match": "memory.delete_*", "action": "deny" },
                { "match": "memory.create_entities", "action": "approve" },
            ] } },
        });
        std::fs::write(dir.join("config.json"), config.to_string())?;
        Ok(Self {
            config: dir.join("config.json"),
            memory: dir.join("memory.jsonl"),
            dir,
        })
    }

    /// The bundled `examples/servers.json`, as the README uses it, its
    /// memory server's graph in a scratch directory.
    fn example(name: &str) -> Self {
        let dir = scratch(name);
        Self {
            config: Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/servers.json"),
            memory: dir.join("memory.jsonl"),
            dir,
        }
    }

    fn config(&self) -> String {
        self.config.display().to_string()
    }

    /// `codemode <args>`, the memory server's file given.
    async fn codemode(&self, args: &[&str]) -> Result<Output> {
        deadline::output(
            Command::new(BINARY)
                .args(args)
                .env("CODEMODE_MEMORY_FILE", &self.memory),
            b"",
        )
        .await
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).display().to_string()
    }

    fn state(&self) -> String {
        self.path("state")
    }

    /// `codemode runs <command> --state <state> <args>`.
    async fn runs(&self, command: &str, args: &[&str]) -> Result<Output> {
        let state = self.state();
        let mut all = vec!["runs", command, "--state", &state];
        all.extend_from_slice(args);
        self.codemode(&all).await
    }

    /// Start `codemode run --state` on `code`, standard input closed (no
    /// terminal), and wait until its run waits for a decision; the child
    /// and the run's id.
    async fn start_waiting(&self, code: &str) -> Result<(Child, String)> {
        let script = self.path("script.js");
        std::fs::write(&script, code)?;
        let child = deadline::spawn(
            Command::new(BINARY)
                .args(["run", "--state", &self.state(), "--config"])
                .args([self.config(), script])
                .env("CODEMODE_MEMORY_FILE", &self.memory)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )?;
        let id = step("the durable run waiting for approval", async {
            loop {
                let listed = self
                    .runs("list", &["--status", "waiting", "--json"])
                    .await?;
                anyhow::ensure!(
                    listed.status.success(),
                    "runs list: {}",
                    text(&listed.stderr)
                );
                let runs: Value = serde_json::from_slice(&listed.stdout)?;
                if let Some(id) = runs[0]["id"].as_str() {
                    assert_eq!(runs[0]["waiting"], json!(1), "{runs}");
                    return anyhow::Ok(id.to_owned());
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await?;
        Ok((child, id))
    }
}

/// The methods of the calls in the journal of `record` (`runs show
/// --json`), in order.
fn journaled_calls(record: &Value) -> Result<Vec<&str>> {
    Ok(record["entries"]
        .as_array()
        .context("entries")?
        .iter()
        .filter(|entry| entry["entry"] == json!("call"))
        .filter_map(|entry| entry["method"].as_str())
        .collect())
}

/// Create an entity, which waits for approval, then read the graph.
const CREATE_THEN_READ: &str = r#"console.log("before");
await memory.create_entities({ entities: [{ name: "Ada", entityType: "person", observations: [] }] });
(await memory.read_graph({})).entities.map((e) => e.name)"#;

async fn finished(child: Child) -> Result<Output> {
    step("the durable run", child.wait_with_output())
        .await
        .context("waiting for the durable run")
}

#[bounded_test]
async fn run_applies_the_configs_approvals_without_a_terminal() -> Result<()> {
    let gated = Gated::new("runs-cli-approvals")?;
    let config = gated.config();
    let caught = r#"const seen = [];
try { await memory.delete_entities({ entityNames: ["x"] }); } catch (e) { seen.push(e.name); }
try { await memory.create_entities({ entities: [{ name: "x", entityType: "t", observations: [] }] }); }
catch (e) { seen.push(e.name, e.message); }
seen"#;
    let output = codemode(&["run", "--config", &config, "-"], caught).await?;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let seen: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(
        seen,
        json!([
            "CallDeniedError",
            "ApprovalRejectedError",
            "memory.create_entities was rejected: no terminal to ask on"
        ])
    );

    // Uncaught, a denial fails the script: exit 1, kind `denied`.
    let output = codemode(
        &["run", "--config", &config, "-"],
        r#"await memory.delete_entities({ entityNames: ["x"] })"#,
    )
    .await?;
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("denied error"), "{stderr}");
    assert!(stderr.contains("CallDeniedError"), "{stderr}");
    Ok(())
}

#[bounded_test]
async fn a_durable_run_waits_until_another_process_approves() -> Result<()> {
    let gated = Gated::new("runs-cli-approve")?;
    let (mut child, id) = gated.start_waiting(CREATE_THEN_READ).await?;
    // The console streams as the run goes: its first line is out while it
    // waits.
    let mut stdout = BufReader::new(child.stdout.take().context("stdout")?);
    let mut first = String::new();
    step("the first console line", stdout.read_line(&mut first)).await?;
    assert_eq!(first, "before\n");

    // Two processes approve at once: both succeed, one decision stands.
    let (as_ana, as_bo) = ([&id, "1", "--as", "ana"], [&id, "1", "--as", "bo"]);
    let (ana, bo) = tokio::join!(
        gated.runs("approve", &as_ana),
        gated.runs("approve", &as_bo)
    );
    let (ana, bo) = (ana?, bo?);
    assert_eq!(ana.status.code(), Some(0), "{}", text(&ana.stderr));
    assert_eq!(bo.status.code(), Some(0), "{}", text(&bo.stderr));
    let approved = format!("approved {id}#1 memory.create_entities\n");
    let (winner, loser) = match (text(&ana.stdout), text(&bo.stdout)) {
        (a, b) if a == approved => ("ana", b),
        (a, b) if b == approved => ("bo", a),
        (a, b) => panic!("neither approved it: {a:?}, {b:?}"),
    };
    assert_eq!(
        loser,
        format!("already approved by {winner}: {id}#1 memory.create_entities\n")
    );

    let output = finished(child).await?;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let mut rest = String::new();
    step("the result", stdout.read_to_string(&mut rest)).await?;
    assert_eq!(rest, "[\n  \"Ada\"\n]\n", "the line is not printed twice");
    let state = gated.state();
    assert!(
        stderr.contains(&format!("codemode: run {id} (durable, in {state})\n")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "codemode: waiting for approval of {id}#1 memory.create_entities; approve with: codemode runs approve --state {state} {id} 1\n"
        )),
        "{stderr}"
    );

    // Approving again is not an error.
    let again = gated.runs("approve", &[&id, "1"]).await?;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(
        text(&again.stdout),
        format!("already approved by {winner}: {id}#1 memory.create_entities\n")
    );

    // The journal: JSON, and text.
    let shown = gated.runs("show", &[&id, "--json"]).await?;
    assert_eq!(shown.status.code(), Some(0), "{}", text(&shown.stderr));
    let record: Value = serde_json::from_slice(&shown.stdout)?;
    assert_eq!(record["id"], json!(id));
    assert_eq!(record["status"], json!("succeeded"));
    let calls = journaled_calls(&record)?;
    assert_eq!(calls, ["create_entities", "read_graph"]);
    assert_eq!(record["decisions"][0]["decision"]["by"], json!(winner));

    let shown = text(&gated.runs("show", &[&id]).await?.stdout);
    for line in [
        format!("run {id}: succeeded, started by run,"),
        r#"  #1 memory.create_entities({"entities":[{"entityType":"person","name":"Ada","observations":[]}]})"#.into(),
        "     approve (the rule `memory.create_entities`), asked ".into(),
        format!("     approved by {winner} at "),
        "  #2 memory.read_graph({})".into(),
        "     allow (the method is read-only), asked ".into(),
        "outcome: succeeded: [\"Ada\"]".into(),
    ] {
        assert!(
            shown.lines().any(|shown| shown.starts_with(&line)),
            "no line `{line}` in:\n{shown}"
        );
    }

    let listed = text(&gated.runs("list", &["--status", "succeeded"]).await?.stdout);
    let mut lines = listed.lines();
    assert_eq!(
        lines.next(),
        Some("ID              STATUS       WAITING  ORIGIN  CREATED")
    );
    let row = lines.next().unwrap_or_default();
    assert!(
        row.starts_with(&format!("{id}  succeeded          0  run     ")),
        "{listed}"
    );
    assert_eq!(lines.next(), None, "{listed}");
    Ok(())
}

#[bounded_test]
async fn a_rejected_call_fails_the_durable_run_and_bad_decisions_exit_2() -> Result<()> {
    let gated = Gated::new("runs-cli-reject")?;
    let (child, id) = gated.start_waiting(CREATE_THEN_READ).await?;

    // No call given: every waiting one.
    let rejected = gated
        .runs("reject", &[&id, "--reason", "not today", "--as", "ana"])
        .await?;
    assert_eq!(
        rejected.status.code(),
        Some(0),
        "{}",
        text(&rejected.stderr)
    );
    assert_eq!(
        text(&rejected.stdout),
        format!("rejected {id}#1 memory.create_entities (not today)\n")
    );
    let output = finished(child).await?;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "rejected error: ApprovalRejectedError: memory.create_entities was rejected: not today"
        ),
        "{stderr}"
    );

    let approved = gated.runs("approve", &[&id, "1"]).await?;
    assert_eq!(approved.status.code(), Some(0));
    assert_eq!(
        text(&approved.stdout),
        format!("already rejected by ana (not today): {id}#1 memory.create_entities\n")
    );

    let not_waiting = gated.runs("approve", &[&id, "2"]).await?;
    assert_eq!(not_waiting.status.code(), Some(2));
    assert!(
        text(&not_waiting.stderr).contains(&format!(
            "call 2 of run `{id}` is not waiting for a decision"
        )),
        "{}",
        text(&not_waiting.stderr)
    );

    let unknown = gated.runs("approve", &["r_nosuchrun000"]).await?;
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("no run `r_nosuchrun000` in "),
        "{}",
        text(&unknown.stderr)
    );
    Ok(())
}

#[bounded_test]
async fn runs_refuses_a_damaged_database_and_leaves_it_as_it_was() -> Result<()> {
    let dir = scratch("runs-cli-damaged");
    let file = dir.join("runs.sqlite3");
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7 + 13) as u8).collect();
    std::fs::write(&file, &garbage)?;
    let state = dir.display().to_string();
    let output = codemode(&["runs", "list", "--state", &state], "").await?;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!(
            "{} is not a codemode runs database",
            file.display()
        )),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&file)?, garbage);
    assert_eq!(listing(&dir)?, ["runs.sqlite3"], "nothing made beside it");
    Ok(())
}

/// The names in `dir`, sorted.
fn listing(dir: &Path) -> Result<Vec<String>> {
    let mut names = std::fs::read_dir(dir)?
        .map(|entry| Ok(entry?.file_name().to_string_lossy().into_owned()))
        .collect::<Result<Vec<_>>>()?;
    names.sort();
    Ok(names)
}

/// The README's worked example, as a user runs it with the bundled
/// `examples/servers.json`: the gated delete waits until `runs approve` in
/// another process, and `runs rollback` leaves the graph without the run's
/// entities and relations; rolling back again undoes nothing twice.
#[bounded_test]
async fn the_readmes_worked_example_runs_from_gate_to_rollback() -> Result<()> {
    let example = Gated::example("runs-cli-readme");
    let (child, id) = example
        .start_waiting(
            r#"await memory.create_entities({ entities: [
  { name: "Ada Lovelace", entityType: "person", observations: ["wrote the first program"] },
  { name: "Charles Babbage", entityType: "person", observations: ["designed the Analytical Engine"] } ] });
await memory.create_relations({ relations: [{ from: "Ada Lovelace", to: "Charles Babbage", relationType: "worked with" }] });
await memory.delete_entities({ entityNames: ["Charles Babbage"] });
(await memory.read_graph({})).entities.map((e) => e.name)"#,
        )
        .await?;
    let approved = example.runs("approve", &[&id]).await?;
    assert_eq!(
        text(&approved.stdout),
        format!("approved {id}#3 memory.delete_entities\n"),
        "{}",
        text(&approved.stderr)
    );
    let output = finished(child).await?;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "[\n  \"Ada Lovelace\"\n]\n");
    let graph = std::fs::read_to_string(&example.memory)?;
    assert!(graph.contains("Ada Lovelace"), "{graph}");

    let config = example.config();
    let rollback = example
        .runs("rollback", &[&id, "--config", &config])
        .await?;
    assert_eq!(
        rollback.status.code(),
        Some(0),
        "{}",
        text(&rollback.stderr)
    );
    assert_eq!(
        text(&rollback.stdout),
        format!(
            "cannot be undone {id}#3 memory.delete_entities\n\
             undone {id}#2 memory.create_relations\n\
             undone {id}#1 memory.create_entities\n"
        )
    );
    let graph = std::fs::read_to_string(&example.memory)?;
    assert!(
        graph.lines().all(|line| line.trim().is_empty()),
        "the run's entities and relations are gone: {graph}"
    );

    let again = example
        .runs("rollback", &[&id, "--config", &config])
        .await?;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(
        text(&again.stdout),
        format!(
            "cannot be undone {id}#3 memory.delete_entities\n\
             already undone {id}#2 memory.create_relations\n\
             already undone {id}#1 memory.create_entities\n"
        )
    );
    let shown = example.runs("show", &[&id, "--json"]).await?;
    let record: Value = serde_json::from_slice(&shown.stdout)?;
    assert_eq!(record["status"], json!("rolled-back"));
    Ok(())
}

/// A run whose process was killed (`kill -9`) while it waited is resumed by
/// `runs resume` once approved, to the result it would have had, its call
/// journaled once; a run another process runs, or one finished, is not resumed.
#[bounded_test]
async fn runs_resume_finishes_a_run_whose_process_was_killed() -> Result<()> {
    let gated = Gated::new("runs-cli-resume")?;
    let (mut child, id) = gated.start_waiting(CREATE_THEN_READ).await?;
    let config = gated.config();
    let resume = [id.as_str(), "--config", &config];

    let busy = gated.runs("resume", &resume).await?;
    assert_eq!(busy.status.code(), Some(2), "{}", text(&busy.stderr));
    assert!(
        text(&busy.stderr).contains(&format!("run `{id}` is being run by another process")),
        "{}",
        text(&busy.stderr)
    );

    child.kill().await?;
    let approved = gated.runs("approve", &[&id, "1"]).await?;
    assert_eq!(
        approved.status.code(),
        Some(0),
        "{}",
        text(&approved.stderr)
    );

    let resumed = gated.runs("resume", &resume).await?;
    let stderr = text(&resumed.stderr);
    assert_eq!(resumed.status.code(), Some(0), "{stderr}");
    assert_eq!(text(&resumed.stdout), "[\n  \"Ada\"\n]\n", "{stderr}");
    assert!(
        stderr.contains(&format!("codemode: resuming run {id} (durable, in ")),
        "{stderr}"
    );
    let shown = gated.runs("show", &[&id, "--json"]).await?;
    let record: Value = serde_json::from_slice(&shown.stdout)?;
    assert_eq!(record["status"], json!("succeeded"));
    let calls = journaled_calls(&record)?;
    assert_eq!(calls, ["create_entities", "read_graph"], "each made once");

    let finished = gated.runs("resume", &resume).await?;
    assert_eq!(finished.status.code(), Some(2));
    assert!(
        text(&finished.stderr).contains(&format!("run `{id}` has finished")),
        "{}",
        text(&finished.stderr)
    );
    Ok(())
}
