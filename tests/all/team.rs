//! `codemode serve --http` for a team, through the binary: bearer tokens
//! and their roles on `/mcp`, on the runs console's API and on its event
//! stream; the refusal to serve a public address without tokens; and a
//! person at the console in headless Chromium (playwright-core), approving
//! a call an agent's run waits on and rolling the run back. The connector
//! is the reference MCP server `server-memory`, its graph in a scratch
//! file; the agents are the MCP inspector's CLI, the MCP TypeScript SDK's
//! client and rmcp's.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::{Context, Result};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::support::deadline::{self, step};
use codemode_test_support::mcp::tool_call;
use rmcp::RoleClient;
use rmcp::service::RunningService;

use crate::support::mcp::{Progress, call, client_with_token, free_port};
use crate::support::{BINARY, bounded_test, mcp_server, npm, scratch};

/// The tokens, by role, as the environment gives them to `serve`.
const AGENT: &str = "agent-token-0123456789abcdef0123456789";
const REVIEWER: &str = "reviewer-token-0123456789abcdef012345";
const ADMIN: &str = "admin-token-0123456789abcdef0123456789";

/// `codemode serve --http` on a free loopback port, with server-memory as
/// `memory` (`create_entities` gated, the rest allowed, creations
/// undoable), its runs in a scratch state directory, and the tokens `bot`
/// (agent), `ana` (reviewer) and `root` (admin).
struct Served {
    dir: PathBuf,
    base: String,
    process: Child,
}

impl Served {
    async fn start(name: &str) -> Result<Self> {
        let dir = scratch(name);
        let state = dir.join("state").display().to_string();
        Self::start_in(dir, &state).await
    }

    /// The server with its runs at `state` (a directory or a database
    /// URL), its memory server's graph in `dir`.
    async fn start_in(dir: PathBuf, state: &str) -> Result<Self> {
        let codemode = json!({
            "approvals": { "rules": [
                { "match": "memory.create_entities", "action": "approve" },
                { "match": "memory.*", "action": "allow" },
            ] },
            "undo": { "memory.create_entities":
                "({ args }) => memory.delete_entities({ entityNames: args.entities.map((e) => e.name) })" },
            "tokens": {
                "bot": { "role": "agent", "token": "${CODEMODE_TEST_AGENT}" },
                "ana": { "role": "reviewer", "token": "${CODEMODE_TEST_REVIEWER}" },
                "root": { "role": "admin", "token": "${CODEMODE_TEST_ADMIN}" },
            },
        });
        let config = json!({
            "mcpServers": { "memory": {
                "command": "node",
                "args": [mcp_server("memory").display().to_string()],
                "env": { "MEMORY_FILE_PATH": dir.join("memory.jsonl").display().to_string() },
            } },
            "codemode": codemode,
        });
        std::fs::write(dir.join("servers.json"), config.to_string())?;
        let address = format!("127.0.0.1:{}", free_port());
        let mut command = Command::new(BINARY);
        command
            .args(["serve", "--config"])
            .arg(dir.join("servers.json"))
            .args(["--state", state])
            .args(["--http", &address])
            .env("CODEMODE_TEST_AGENT", AGENT)
            .env("CODEMODE_TEST_REVIEWER", REVIEWER)
            .env("CODEMODE_TEST_ADMIN", ADMIN)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut process = deadline::spawn(&mut command)?;
        let stderr = process.stderr.take().context("stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let mut said = String::new();
        step("`codemode serve --http` starts", async {
            while let Some(line) = lines.next_line().await? {
                said.push_str(&line);
                said.push('\n');
                if line.contains("serving MCP at") {
                    return Ok(());
                }
            }
            anyhow::bail!("`codemode serve` ended: {said}")
        })
        .await?;
        // Keep reading, so that the server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Self {
            dir,
            base: format!("http://{address}"),
            process,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A request to `serve`, with `token` as bearer when given.
fn request(method: reqwest::Method, url: &str, token: Option<&str>) -> reqwest::RequestBuilder {
    let request = reqwest::Client::new().request(method, url);
    match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    }
}

/// The MCP `initialize` request, as a client's first POST to `/mcp`.
fn initialize() -> Value {
    json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": { "name": "team-test", "version": "1" } } })
}

/// The status of `method path` with `token`, and its body.
async fn status(
    served: &Served,
    method: reqwest::Method,
    path: &str,
    token: Option<&str>,
) -> Result<(StatusCode, String)> {
    let mut builder = request(method.clone(), &served.url(path), token)
        .header("accept", "application/json, text/event-stream");
    if method == reqwest::Method::POST {
        let body = if path == "/mcp" {
            initialize()
        } else {
            json!({})
        };
        builder = builder.json(&body);
    }
    let response = step(format!("{method} {path}"), builder.send()).await?;
    let status = response.status();
    // An event stream that was let in does not end: its status is enough.
    let body = if status.is_success() && path.ends_with("/events") {
        String::new()
    } else {
        step("the body", response.text()).await?
    };
    Ok((status, body))
}

#[bounded_test]
async fn tokens_and_roles_guard_mcp_the_console_and_its_events() -> Result<()> {
    let served = Served::start("team-auth").await?;
    use reqwest::Method as M;
    let routes = [
        (M::POST, "/mcp", "agent"),
        (M::GET, "/runs/api/runs", "reviewer"),
        (M::GET, "/runs/api/events", "reviewer"),
        (
            M::POST,
            "/runs/api/runs/r_unknown/calls/1/approve",
            "reviewer",
        ),
        (M::POST, "/runs/api/runs/r_unknown/rollback", "reviewer"),
    ];
    for (method, path, needs) in routes {
        for (token, expected) in [
            (None, StatusCode::UNAUTHORIZED),
            (Some("not-a-token"), StatusCode::UNAUTHORIZED),
            // A token's prefix is not the token.
            (Some(&AGENT[..AGENT.len() - 1]), StatusCode::UNAUTHORIZED),
        ] {
            let (got, body) = status(&served, method.clone(), path, token).await?;
            assert_eq!(got, expected, "{method} {path} with {token:?}: {body}");
            for secret in [AGENT, REVIEWER, ADMIN, "bot", "ana", "root"] {
                assert!(
                    !body.contains(secret),
                    "{path}: the refusal names `{secret}`: {body}"
                );
            }
        }
        let (agent, body) = status(&served, method.clone(), path, Some(AGENT)).await?;
        let (reviewer, _) = status(&served, method.clone(), path, Some(REVIEWER)).await?;
        if needs == "agent" {
            assert_eq!(
                (agent, reviewer),
                (StatusCode::OK, StatusCode::OK),
                "{path}"
            );
        } else {
            assert_eq!(agent, StatusCode::FORBIDDEN, "{path}: {body}");
            assert!(body.contains("needs the `reviewer` role"), "{path}: {body}");
            // Let in: an unknown run is the API's answer, not a refusal.
            assert!(
                matches!(reviewer, StatusCode::OK | StatusCode::NOT_FOUND),
                "{path}: {reviewer}"
            );
        }
    }
    let refused = request(M::GET, &served.url("/runs/api/runs"), None)
        .send()
        .await?;
    assert!(refused.headers().contains_key("www-authenticate"));

    // The page itself holds no data, and lets no script but its own run.
    let page = request(M::GET, &served.url("/runs"), None).send().await?;
    assert_eq!(page.status(), StatusCode::OK);
    let policy = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        policy.contains("script-src 'sha256-") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );

    // Browsers: another host name, another site's page, a form.
    let rebound = request(M::GET, &served.url("/runs/api/runs"), Some(REVIEWER))
        .header("host", "evil.example")
        .send()
        .await?;
    assert_eq!(rebound.status(), StatusCode::FORBIDDEN);
    let approve = served.url("/runs/api/runs/r_unknown/calls/1/approve");
    let cross_site = request(M::POST, &approve, Some(REVIEWER))
        .header("origin", "http://evil.example")
        .json(&json!({}))
        .send()
        .await?;
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let form = request(M::POST, &approve, Some(REVIEWER))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("reason=x")
        .send()
        .await?;
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // The inspector's CLI connects with the agent's token, not without.
    let inspect = async |headers: &[&str]| -> Result<std::process::Output> {
        let mut command = Command::new("node");
        command
            .current_dir(npm(
                "node_modules/@modelcontextprotocol/inspector-cli/build",
            ))
            .arg("index.js")
            .arg(served.url("/mcp"))
            .args(["--transport", "http", "--method", "tools/call"])
            .args(["--tool-name", "search", "--tool-arg"])
            .arg("code=codemode.search('open nodes', { limit: 1 })[0].name")
            .args(headers);
        deadline::output(&mut command, b"").await
    };
    let header = format!("Authorization: Bearer {AGENT}");
    let with = inspect(&["--header", &header]).await?;
    let stdout = String::from_utf8_lossy(&with.stdout);
    assert!(
        with.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&with.stderr)
    );
    assert!(stdout.contains("memory.open_nodes"), "{stdout}");
    let without = inspect(&[]).await?;
    assert!(
        !without.status.success(),
        "the inspector got in without a token"
    );

    // A reviewer may not decide the calls of a run their own token
    // started; an admin may.
    let client = client_with_token(&served.url("/mcp"), REVIEWER).await;
    let code = "await memory.create_entities({ entities: [{ name: 'Own', entityType: 't', observations: [] }] }); 1";
    let (failed, pending) = call(&client, "execute", code).await;
    assert!(!failed && pending["status"] == "pending", "{pending}");
    let run = pending["run"].as_str().context("a run id")?;
    let own = served.url(&format!("/runs/api/runs/{run}/calls/1/approve"));
    let by_reviewer = request(M::POST, &own, Some(REVIEWER))
        .json(&json!({}))
        .send()
        .await?;
    assert_eq!(by_reviewer.status(), StatusCode::FORBIDDEN);
    let body = by_reviewer.text().await?;
    assert!(body.contains("`ana` started this run"), "{body}");
    let by_admin = request(M::POST, &own, Some(ADMIN))
        .json(&json!({}))
        .send()
        .await?;
    assert_eq!(by_admin.status(), StatusCode::OK);
    let decided: Value = by_admin.json().await?;
    assert_eq!(decided["decision"]["by"], "root", "{decided}");
    let _ = client.cancel().await;
    Ok(())
}

#[bounded_test]
async fn the_event_stream_tells_how_runs_go_on_as_mcp_progress_words_it() -> Result<()> {
    let served = Served::start("team-events").await?;
    let mut stream = request(
        reqwest::Method::GET,
        &served.url("/runs/api/events"),
        Some(REVIEWER),
    )
    .send()
    .await?;
    assert_eq!(stream.status(), StatusCode::OK);
    let agent = client_with_token(&served.url("/mcp"), AGENT).await;
    let code = "console.log('hello from the run'); (await memory.read_graph({})).entities.length";
    let (failed, result) = call(&agent, "execute", code).await;
    assert!(!failed, "{result}");
    let mut said = String::new();
    let expected = [
        "event: progress",
        r#""message":"call memory.read_graph""#,
        r#""message":"log: hello from the run""#,
        r#""status":"succeeded""#,
    ];
    step("the events of the run", async {
        while !expected.iter().all(|event| said.contains(event)) {
            let chunk = stream.chunk().await?.context("the stream ended")?;
            said.push_str(&String::from_utf8_lossy(&chunk));
        }
        anyhow::Ok(())
    })
    .await
    .with_context(|| format!("the stream said: {said}"))?;
    let _ = agent.cancel().await;
    Ok(())
}

#[bounded_test]
async fn serve_refuses_a_public_address_without_tokens() -> Result<()> {
    let dir = scratch("team-public");
    let address = format!("0.0.0.0:{}", free_port());
    let output = deadline::output(
        Command::new(BINARY)
            .args(["serve", "--http", &address, "--state"])
            .arg(dir.join("state")),
        b"",
    )
    .await?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "refusing to serve {address} without authentication"
        )) && stderr.contains("--insecure-no-auth"),
        "{stderr}"
    );

    // Told to, it serves, and says what that means.
    let mut process = deadline::spawn(
        Command::new(BINARY)
            .args(["serve", "--insecure-no-auth", "--http", &address])
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    )?;
    let stderr = process.stderr.take().context("stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let mut said = String::new();
    step("`serve --insecure-no-auth` starts", async {
        while let Some(line) = lines.next_line().await? {
            said.push_str(&line);
            if line.contains("serving MCP at") {
                break;
            }
        }
        anyhow::Ok(())
    })
    .await?;
    assert!(
        said.contains(
            "serving without authentication, --insecure-no-auth: anyone who can reach it"
        ),
        "{said}"
    );
    Ok(())
}

/// Where the console test keeps its screenshots: kept after the test.
fn screenshots() -> Result<PathBuf> {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts/console");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[bounded_test]
async fn a_reviewer_approves_and_rolls_back_in_the_browser() -> Result<()> {
    let served = Served::start("team-browser").await?;
    let shots = screenshots()?;
    let output = deadline::output(
        Command::new("node")
            .arg(npm("fixtures/console-browser.mjs"))
            .args([&served.base, AGENT, REVIEWER])
            .arg(&shots),
        b"",
    )
    .await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.trim())?;

    // The call showed within a second of the agent being told it waits.
    let shown = seen["shownAfterMs"].as_u64().context("shownAfterMs")?;
    assert!(shown < 1_000, "the waiting call showed after {shown} ms");
    // The markup in its arguments showed as text, and ran nothing.
    assert_eq!(seen["operation"], "memory.create_entities", "{seen}");
    let args = seen["args"].as_str().unwrap_or_default();
    assert!(
        args.contains("Ada <script>alert(1)</script><img src=x onerror=alert(2)>"),
        "{args}"
    );
    assert_eq!(seen["dialogs"], json!([]), "{seen}");
    assert_eq!(seen["injected"], 0, "{seen}");
    assert!(seen.get("pageError").is_none(), "{seen}");
    // The gated call's line, and only it, is highlighted.
    let highlighted = seen["highlighted"].as_array().context("highlighted")?;
    assert_eq!(highlighted.len(), 1, "{seen}");
    assert!(
        highlighted[0]
            .as_str()
            .is_some_and(|line| line.starts_with("2await memory.create_entities"))
    );
    // Approved, the run finished with its result.
    assert_eq!(seen["result"]["result"], json!(["approved"]), "{seen}");
    assert!(
        seen["listedOutcome"]
            .as_str()
            .is_some_and(|o| o.starts_with("succeeded"))
    );
    // The rollback named the call it could not undo, and undid the other.
    assert_eq!(
        seen["plan"],
        json!([
            "#2 memory.add_observations · cannot be undone",
            "#1 memory.create_entities · will be undone"
        ]),
        "{seen}"
    );
    assert_eq!(seen["report"]["rolled_back"], true, "{seen}");
    let graph = std::fs::read_to_string(served.dir.join("memory.jsonl"))?;
    assert!(!graph.contains("Ada"), "the entity is still there: {graph}");
    for shot in ["1-pending.png", "2-approved.png", "3-rolled-back.png"] {
        assert!(shots.join(shot).metadata()?.len() > 1_000, "{shot}");
    }
    Ok(())
}

/// How many entries of kind `kind` (`started`, `finished`) call 1 of run
/// `run` has in its journal, as `served`'s console gives it.
async fn entries_of_call_1(served: &Served, run: &str, kind: &str) -> Result<usize> {
    let url = served.url(&format!("/runs/api/runs/{run}"));
    let record: Value = request(reqwest::Method::GET, &url, Some(REVIEWER))
        .send()
        .await?
        .json()
        .await?;
    let entries = record["run"]["entries"].as_array().context("entries")?;
    Ok(entries
        .iter()
        .filter(|entry| entry["entry"] == kind && entry["call"] == 1)
        .count())
}

/// Approve call 1 of run `run` at the console whose base URL is `base`.
async fn approve(base: String, run: String) -> Result<()> {
    let url = format!("{base}/runs/api/runs/{run}/calls/1/approve");
    let response = request(reqwest::Method::POST, &url, Some(REVIEWER))
        .json(&json!({}))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "approving {run}: {}",
        response.text().await?
    );
    Ok(())
}

/// How many entities named `name` the graphs in `dirs` hold, together.
fn made(dirs: &[&Path], name: &str) -> Result<usize> {
    let mut count = 0;
    for dir in dirs {
        let graph = std::fs::read_to_string(dir.join("memory.jsonl")).unwrap_or_default();
        for line in graph.lines() {
            let item: Value = serde_json::from_str(line)?;
            if item["type"] == "entity" && item["name"] == name {
                count += 1;
            }
        }
    }
    Ok(count)
}

/// The code of a run whose one call (gated) makes the entity `name`, and
/// whose result is `name`.
fn making(name: &str) -> String {
    format!(
        "await memory.create_entities({{ entities: [{{ name: '{name}', entityType: 't', observations: [] }}] }}); '{name}'"
    )
}

/// An agent's client of one instance.
type Client = RunningService<RoleClient, Progress>;

/// Start `code` through `client`: the id of its run, which waits.
async fn paused(client: &Client, code: &str) -> Result<String> {
    let (failed, pending) = call(client, "execute", code).await;
    anyhow::ensure!(!failed && pending["status"] == "pending", "{pending}");
    Ok(pending["run"].as_str().context("a run id")?.to_owned())
}

/// The outcome of run `run`, waited for through `client`.
async fn outcome(client: &Client, run: &str) -> Result<Value> {
    loop {
        let request = tool_call("execute", json!({ "run": run }));
        let result = step(
            format!("execute {{ run: {run} }}"),
            client.call_tool(request),
        )
        .await?;
        let text = result.content[0]
            .as_text()
            .map(|t| t.text.clone())
            .unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        if value["status"] != "pending" {
            return Ok(value);
        }
    }
}

#[bounded_test]
async fn two_instances_share_runs_in_postgresql_and_each_runs_exactly_once() -> Result<()> {
    let url = codemode_test_support::postgres::database("team_two");
    let mut a = Served::start_in(scratch("team-pg-a"), &url).await?;
    let b = Served::start_in(scratch("team-pg-b"), &url).await?;
    let on_a = client_with_token(&a.url("/mcp"), AGENT).await;
    let on_b = client_with_token(&b.url("/mcp"), AGENT).await;
    let graphs = [a.dir.as_path(), b.dir.as_path()];

    // Paused on A, approved through B: it completes, on A.
    let run = paused(&on_a, &making("Shared")).await?;
    approve(b.base.clone(), run.clone()).await?;
    assert_eq!(outcome(&on_a, &run).await?["result"], "Shared");
    assert_eq!(made(&graphs, "Shared")?, 1);

    // 20 runs, started on both, approved at once through the other one:
    // each made its call once, and none is lost.
    let mut runs = Vec::new();
    for i in 0..20 {
        let client = if i % 2 == 0 { &on_a } else { &on_b };
        runs.push(paused(client, &making(&format!("E{i}"))).await?);
    }
    let mut approving = tokio::task::JoinSet::new();
    for (i, run) in runs.iter().enumerate() {
        let other = if i % 2 == 0 { &b } else { &a };
        approving.spawn(approve(other.base.clone(), run.clone()));
    }
    while let Some(approved) = approving.join_next().await {
        approved??;
    }
    for (i, run) in runs.iter().enumerate() {
        let (client, served) = if i % 2 == 0 { (&on_a, &a) } else { (&on_b, &b) };
        let name = format!("E{i}");
        assert_eq!(
            outcome(client, run).await?["result"],
            name.as_str(),
            "{run}"
        );
        // The journal, not the graph: server-memory rewrites its whole
        // file for each call, and loses writes made at once.
        assert_eq!(entries_of_call_1(served, run, "started").await?, 1, "{run}");
        assert_eq!(
            entries_of_call_1(served, run, "finished").await?,
            1,
            "{run}"
        );
    }

    // Paused on A, A killed: approved through B, B resumes the run (A's
    // lock went with its connection), and it makes its call once.
    let run = paused(&on_a, &making("Orphan")).await?;
    a.process.start_kill()?;
    a.process.wait().await?;
    approve(b.base.clone(), run.clone()).await?;
    assert_eq!(outcome(&on_b, &run).await?["result"], "Orphan");
    assert_eq!(made(&graphs, "Orphan")?, 1);
    assert_eq!(entries_of_call_1(&b, &run, "started").await?, 1);
    let _ = on_b.cancel().await;
    Ok(())
}

#[bounded_test]
async fn an_instance_that_loses_its_lock_connection_stops() -> Result<()> {
    let url = codemode_test_support::postgres::database("team_lost");
    let mut a = Served::start_in(scratch("team-lost"), &url).await?;
    let agent = client_with_token(&a.url("/mcp"), AGENT).await;
    // A run waits, its lock held on the instance's lock connection.
    paused(&agent, &making("Held")).await?;
    let ended = Command::new("psql")
        .args([url.as_str(), "-qAtc"])
        .arg(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .output()
        .await?;
    assert_eq!(String::from_utf8_lossy(&ended.stdout).trim(), "1");
    let status = step("the instance stops", a.process.wait()).await?;
    assert_eq!(status.code(), Some(1));
    let _ = agent.cancel().await;
    Ok(())
}
