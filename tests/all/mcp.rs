//! The Code Mode MCP server and its upstream connectors, end to end with real
//! components from npm (pinned in `tests/npm`): the reference servers
//! `server-memory`, `server-filesystem` and `server-everything` as
//! upstreams (stdio, and streamable HTTP), our server driven by
//! `@modelcontextprotocol/inspector-cli` and by an rmcp client in-process,
//! and misbehaving upstreams (`tests/npm/fixtures`) for the failure paths.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use codemode_mcp_client::{McpConnector, Timeouts, UpstreamConfig};
use codemode_mcp_server::{MAX_STDIO_MESSAGE_BYTES, ServerOptions, TokenCounter, tool_list_tokens};
use codemode_runtime::{Connector, Limits};
use serde_json::{Value, json};
use tokio::process::Command;

use crate::support::deadline;
use crate::support::mcp::{
    Progress, call, client, connect_once_listening, connect_with, everything_over_http, free_port,
    http_server, stdio_client, timeouts, tokens_row, tokens_table,
};
use crate::support::{BINARY, bounded_test, mcp_server, npm, result, run_granted, scratch};

/// A server on stdio: `node <script> <args>`.
fn node(script: PathBuf, args: &[&str], env: Value) -> UpstreamConfig {
    let mut argv = vec![script.display().to_string()];
    argv.extend(args.iter().map(|a| a.to_string()));
    serde_json::from_value(json!({ "command": "node", "args": argv, "env": env }))
        .expect("a stdio server")
}

fn memory(dir: &Path) -> UpstreamConfig {
    let file = dir.join("memory.jsonl").display().to_string();
    node(
        mcp_server("memory"),
        &[],
        json!({ "MEMORY_FILE_PATH": file }),
    )
}

fn everything(args: &[&str]) -> UpstreamConfig {
    node(mcp_server("everything"), args, json!({}))
}

async fn connect(name: &str, config: UpstreamConfig) -> Arc<McpConnector> {
    connect_with(name, config, Timeouts::default())
        .await
        .unwrap_or_else(|error| panic!("{name}: {error}"))
}

#[bounded_test(multi_thread)]
async fn upstream_tools_are_methods_with_json_replies() {
    let dir = scratch("upstreams");
    std::fs::write(dir.join("notes.txt"), "first line\nsecond line\n").expect("a file");
    let files = node(
        mcp_server("filesystem"),
        &[&dir.display().to_string()],
        json!({}),
    );
    let (memory, files, everything) = tokio::join!(
        connect("memory", memory(&dir)),
        connect("files", files),
        connect("everything", everything(&["stdio"])),
    );
    // Tool names that are not identifiers are sanitized (`get-sum`).
    assert!(everything.methods().iter().any(|m| m.name == "get-sum"));
    let code = format!(
        r#"
        const created = await memory.create_entities({{ entities: [{{ name: "Ada", entityType: "person", observations: ["wrote the first program"] }}] }});
        const notes = await files.read_text_file({{ path: {notes:?} }});
        const sum = await everything.get_sum({{ a: 2, b: 40 }});
        const echo = await everything.echo({{ message: "hi" }});
        let denied;
        try {{ await files.read_text_file({{ path: "/etc/hostname" }}); }} catch (e) {{ denied = `${{e.name}}: ${{e.message}}`; }}
        ({{ created, notes, sum, echo, denied }})
        "#,
        notes = dir.join("notes.txt").display().to_string()
    );
    let outcome = run_granted(
        &code,
        &[
            ("memory", memory),
            ("files", files),
            ("everything", everything),
        ],
    )
    .await;
    let value = result(&outcome);
    // server-memory answers with structuredContent.
    assert_eq!(value["created"]["entities"][0]["name"], "Ada", "{value}");
    assert_eq!(
        value["notes"]["content"], "first line\nsecond line\n",
        "{value}"
    );
    // A text reply that is not JSON stays text.
    assert_eq!(value["echo"], "Echo: hi", "{value}");
    assert!(value["sum"].to_string().contains("42"), "{value}");
    // An `isError` result is thrown with the server's own message.
    let denied = value["denied"].as_str().unwrap_or_default();
    assert!(
        denied.starts_with("ConnectorError") && denied.contains("Access denied"),
        "{denied}"
    );
}

#[bounded_test(multi_thread)]
async fn tools_hinted_read_only_are_read_only_methods() {
    let dir = scratch("read-only-hints");
    let memory = connect("memory", memory(&dir)).await;
    let read_only: Vec<&str> = memory
        .methods()
        .iter()
        .filter(|m| m.read_only)
        .map(|m| m.name.as_str())
        .collect();
    // server-memory hints its three readers, and none of its writers.
    assert_eq!(read_only, ["read_graph", "search_nodes", "open_nodes"]);
    assert!(memory.methods().len() > read_only.len());
}

#[bounded_test(multi_thread)]
async fn an_upstream_over_streamable_http() {
    let port = free_port();
    let _server = everything_over_http(port);
    let config: UpstreamConfig = serde_json::from_value(json!({
        "type": "http",
        "url": format!("http://127.0.0.1:{port}/mcp"),
        "headers": { "X-Test": "yes" },
    }))
    .expect("an HTTP server");
    let everything = connect_once_listening("everything", &config, timeouts(5_000, 10_000)).await;
    let outcome = run_granted(
            r#"const [echo, sum] = await Promise.all([everything.echo({ message: "over http" }), everything.get_sum({ a: 1, b: 2 })]); ({ echo, sum })"#,
            &[("everything", everything)],
        )
        .await;
    let value = result(&outcome);
    assert_eq!(value["echo"], "Echo: over http");
    assert!(value["sum"].to_string().contains('3'), "{value}");
}

#[bounded_test(multi_thread)]
async fn an_upstream_killed_mid_call_is_an_error_and_restarts_on_the_next_call() {
    let marker = format!("codemode-test-{}", std::process::id());
    let everything = connect("everything", everything(&["stdio", &marker])).await;
    let killer = tokio::spawn({
        let marker = marker.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            deadline::output(Command::new("pkill").args(["-9", "-f", &marker]), b"").await
        }
    });
    let started = Instant::now();
    let outcome = run_granted(
        r#"
        let failed;
        try { await everything.trigger_long_running_operation({ duration: 20, steps: 4 }); }
        catch (e) { failed = e.message; }
        const after = await everything.echo({ message: "back again" });
        ({ failed, after })
        "#,
        &[("everything", everything)],
    )
    .await;
    let killed = killer.await.expect("joined").expect("pkill ran");
    assert!(killed.status.success(), "{killed:?}");
    let value = result(&outcome);
    let failed = value["failed"].as_str().unwrap_or_default();
    assert!(
        failed.contains("closed the connection") && failed.contains("restarted on the next call"),
        "{failed}"
    );
    assert_eq!(value["after"], "Echo: back again");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
}

#[bounded_test(multi_thread)]
async fn upstreams_that_never_answer_or_break_the_protocol_give_bounded_errors() {
    let misbehaving = |mode: &str| node(npm("fixtures/misbehaving.mjs"), &[mode], json!({}));

    // Never answers the handshake: the startup timeout.
    let started = Instant::now();
    let error = connect_with("silent", misbehaving("silent"), timeouts(500, 500))
        .await
        .err()
        .expect("a server that never answers cannot connect");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        error
            .to_string()
            .contains("`silent` did not list its tools within 500 ms"),
        "{error}"
    );

    // Answers the handshake, never a call; a non-JSON line and a reply
    // that is not a tool result; exits mid-call.
    let hang = connect_with("hang", misbehaving("hang"), timeouts(10_000, 300)).await;
    let malformed =
        connect_with("malformed", misbehaving("malformed"), timeouts(10_000, 300)).await;
    let crash = connect_with("crash", misbehaving("crash"), timeouts(10_000, 5_000)).await;
    let started = Instant::now();
    let outcome = run_granted(
        r#"
        const attempt = (f) => f().then(() => "answered", (e) => e.message);
        ({
          hang: [await attempt(() => hang.work({})), await attempt(() => hang.work({}))],
          malformed: await attempt(() => malformed.work({})),
          crash: await attempt(() => crash.work({})),
        })
        "#,
        &[
            ("hang", hang.expect("hang connects")),
            ("malformed", malformed.expect("malformed connects")),
            ("crash", crash.expect("crash connects")),
        ],
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let value = result(&outcome);
    for attempt in value["hang"].as_array().expect("two attempts") {
        assert!(
            attempt
                .as_str()
                .unwrap_or_default()
                .contains("did not answer `work` within 300 ms"),
            "{value}"
        );
    }
    let malformed = value["malformed"].as_str().unwrap_or_default();
    assert!(
        malformed.contains("`malformed` answered with something that is not a tool result"),
        "{value}"
    );
    let crash = value["crash"].as_str().unwrap_or_default();
    assert!(
        crash.contains("closed the connection") && crash.contains("crashing on purpose"),
        "{value}"
    );
}

/// The workflow: 15 entities and 14 relations, one native call each, then
/// the graph read back.
pub const KNOWLEDGE_GRAPH: &str = r#"
const names = ["Ada", "Alan", "Barbara", "Claude", "Donald", "Edsger", "Frances", "Grace",
               "John", "Ken", "Leslie", "Margaret", "Niklaus", "Radia", "Tony"];
for (const [i, name] of names.entries()) {
  await memory.create_entities({ entities: [{ name, entityType: "scientist", observations: [`pioneer number ${i + 1}`] }] });
}
for (let i = 1; i < names.length; i++) {
  await memory.create_relations({ relations: [{ from: names[i], to: names[i - 1], relationType: "learned from" }] });
}
const graph = await memory.read_graph({});
console.log(`read ${graph.entities.length} entities`);
({ entities: graph.entities.length, relations: graph.relations.length,
   last: graph.relations.at(-1) })
"#;

#[bounded_test(multi_thread)]
async fn one_execute_builds_and_reads_a_knowledge_graph_with_live_progress() {
    let dir = scratch("workflow");
    let memory = connect("memory", memory(&dir)).await;
    let (http, url) = http_server(vec![("memory", memory)], ServerOptions::default()).await;
    let progress = Progress::default();
    let client = client(&url, progress.clone()).await;

    let tools = client.list_all_tools().await.expect("tools");
    let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    assert_eq!(names, ["search", "execute"]);

    let (failed, value) = call(&client, "execute", KNOWLEDGE_GRAPH).await;
    assert!(!failed, "{value}");
    assert_eq!(value["result"]["entities"], 15, "{value}");
    assert_eq!(value["result"]["relations"], 14, "{value}");
    assert_eq!(value["result"]["last"]["from"], "Tony", "{value}");
    assert_eq!(value["logs"], json!(["read 15 entities"]));

    // Every call and the console line went out as progress, in order. The
    // client handles notifications in tasks of their own, so the last may
    // be handled just after the reply: wait for it a little.
    let deadline = Instant::now() + Duration::from_secs(5);
    let seen = loop {
        let seen = progress.0.lock().expect("not poisoned").clone();
        if seen.len() >= 31 || Instant::now() > deadline {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let calls = seen
        .iter()
        .filter(|m| m.starts_with("call memory."))
        .count();
    assert_eq!(calls, 30, "{seen:?}");
    assert_eq!(
        seen.first().map(String::as_str),
        Some("call memory.create_entities")
    );
    assert_eq!(
        seen.last().map(String::as_str),
        Some("log: read 15 entities")
    );

    let _ = client.cancel().await;
    http.stop().await.expect("stops");
}

#[bounded_test(multi_thread)]
async fn search_finds_operations_among_hundreds_and_the_tool_list_stays_small() {
    let dir = scratch("search");
    let (many, memory) = tokio::join!(
        connect(
            "many",
            node(npm("fixtures/many-tools.mjs"), &["500"], json!({}))
        ),
        connect("memory", memory(&dir)),
    );
    let counter = TokenCounter::o200k();
    let upstream_tokens = tool_list_tokens(&counter, many.tools());
    let (http, url) = http_server(
        vec![("many", many), ("memory", memory)],
        ServerOptions::default(),
    )
    .await;
    let client = client(&url, Progress::default()).await;

    let tools = client.list_all_tools().await.expect("tools");
    let tokens = tool_list_tokens(&counter, &tools);
    assert!(tokens <= 1_000, "the tool list is {tokens} tokens");
    assert!(
        upstream_tokens > 40 * tokens,
        "{upstream_tokens} against {tokens}"
    );

    let (failed, value) = call(
            &client,
            "search",
            r#"async () => {
          const hits = codemode.search("area 3 operation 7", { limit: 3 });
          const listed = tools.filter((t) => t.name.startsWith("many.area_3_")).length;
          return { first: hits[0].name, declaration: codemode.describe(hits[0].name).declaration, listed, total: tools.length };
        }"#,
        )
        .await;
    assert!(!failed, "{value}");
    assert_eq!(value["result"]["first"], "many.area_3_op_7", "{value}");
    assert_eq!(value["result"]["listed"], 10);
    assert_eq!(value["result"]["total"], 509);
    let declaration = value["result"]["declaration"].as_str().unwrap_or_default();
    assert!(
        declaration.contains("function area_3_op_7(args: {"),
        "{declaration}"
    );

    // Search code cannot call; execute can.
    let (failed, value) = call(&client, "search", "await memory.read_graph({})").await;
    assert!(failed, "{value}");
    assert!(
        value["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("from the `execute` tool"),
        "{value}"
    );
    let (failed, value) = call(
        &client,
        "execute",
        "(await many.area_3_op_7({ a: 2, b: 3 })).sum",
    )
    .await;
    assert!(!failed, "{value}");
    assert_eq!(value["result"], 5);

    // An unknown global names the namespaces; a big result is cut, still JSON.
    let (failed, value) = call(
        &client,
        "execute",
        "const x = 1;\nawait github.repos_get({})",
    )
    .await;
    assert!(failed);
    let error = &value["error"];
    assert_eq!(
        (error["line"].as_u64(), error["name"].as_str()),
        (Some(2), Some("ReferenceError")),
        "{value}"
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("many, memory"),
        "{value}"
    );
    let (failed, value) = call(
        &client,
        "execute",
        "Array.from({ length: 20000 }, (_, i) => ({ i, text: `item ${i}` }))",
    )
    .await;
    assert!(!failed);
    assert!(
        value["truncated"]
            .as_str()
            .unwrap_or_default()
            .starts_with("This output was cut"),
        "{value}"
    );
    assert!(
        value["result"]
            .as_array()
            .is_some_and(|items| items.len() > 10),
        "{value}"
    );

    let _ = client.cancel().await;
    http.stop().await.expect("stops");
}

#[bounded_test(multi_thread)]
async fn a_client_that_goes_away_mid_execute_does_not_hold_the_server() {
    let dir = scratch("disconnect");
    let memory = connect("memory", memory(&dir)).await;
    let (http, url) = http_server(vec![("memory", memory)], ServerOptions::default()).await;

    // Over HTTP: one client leaves in the middle of a long run ...
    let leaving = client(&url, Progress::default()).await;
    let long = tokio::spawn(async move {
        let running = call(
            &leaving,
            "execute",
            "await new Promise((r) => setTimeout(r, 25000)); 1",
        );
        let _ = tokio::time::timeout(Duration::from_millis(300), running).await;
        let _ = leaving.cancel().await;
    });
    long.await.expect("joined");
    // ... and another is served at once.
    let staying = client(&url, Progress::default()).await;
    let started = Instant::now();
    let (failed, value) = call(
        &staying,
        "execute",
        "(await memory.read_graph({})).entities.length",
    )
    .await;
    assert!(!failed && value["result"] == 0, "{value}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let _ = staying.cancel().await;
    http.stop().await.expect("stops");

    // Over stdio: the server process ends soon after its client closes the
    // connection mid-run, instead of running on for 25 s.
    let mut process = deadline::spawn(
        Command::new(BINARY)
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )
    .expect("codemode serve starts");
    let client = stdio_client(&mut process).await;
    let running = call(
        &client,
        "execute",
        "await new Promise((r) => setTimeout(r, 25000)); 1",
    );
    let _ = tokio::time::timeout(Duration::from_millis(300), running).await;
    let started = Instant::now();
    let _ = client.cancel().await;
    let status = tokio::time::timeout(Duration::from_secs(10), process.wait()).await;
    assert!(
        status.is_ok(),
        "codemode serve still runs {:?} after its client left",
        started.elapsed()
    );
}

/// Run the inspector's CLI (from its own directory, which it needs) with
/// `args` and the variables `env`; its stdout as JSON.
async fn inspector(args: &[&str], env: &[(&str, &str)]) -> Result<Value> {
    let dir = npm("node_modules/@modelcontextprotocol/inspector-cli/build");
    let output = deadline::output(
        Command::new("node")
            .current_dir(&dir)
            .arg("index.js")
            .args(args)
            .envs(env.iter().copied()),
        b"",
    )
    .await?;
    anyhow::ensure!(
        output.status.success(),
        "the inspector failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(serde_json::from_slice(&output.stdout)?)
}

/// The `text` of a tool result the inspector printed, as JSON.
fn inspector_text(result: &Value) -> Value {
    let text = result["content"][0]["text"].as_str().unwrap_or_default();
    serde_json::from_str(text).unwrap_or(Value::String(text.to_owned()))
}

#[bounded_test]
async fn the_inspector_drives_codemode_serve_over_stdio_and_http() -> Result<()> {
    let dir = scratch("inspector");
    let config = dir.join("servers.json");
    let memory_file = dir.join("memory.jsonl").display().to_string();
    let server_memory = mcp_server("memory");
    std::fs::write(
        &config,
        json!({ "mcpServers": { "memory": {
                "command": "node",
                "args": [server_memory.display().to_string()],
                "env": { "MEMORY_FILE_PATH": "${CODEMODE_TEST_MEMORY}" },
            } } })
        .to_string(),
    )?;
    // `codemode serve` reads the variable from the environment it is
    // given: the inspector hands its own on over stdio.
    let env = [("CODEMODE_TEST_MEMORY", memory_file.as_str())];
    let config = config.display().to_string();

    // stdio: the inspector starts `codemode serve` itself.
    let listed = inspector(
        &[
            BINARY,
            "serve",
            "--config",
            &config,
            "--method",
            "tools/list",
        ],
        &env,
    )
    .await?;
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .context("tools")?
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["search", "execute"]);
    let code = "code=await memory.create_entities({ entities: [{ name: 'Inspector', entityType: 'tool', observations: [] }] }); (await memory.read_graph({})).entities.map((e) => e.name)";
    let called = inspector(
        &[
            BINARY,
            "serve",
            "--config",
            &config,
            "--method",
            "tools/call",
            "--tool-name",
            "execute",
            "--tool-arg",
            code,
        ],
        &env,
    )
    .await?;
    assert_eq!(called["isError"], false, "{called}");
    assert_eq!(
        inspector_text(&called)["result"],
        json!(["Inspector"]),
        "{called}"
    );

    // HTTP: `codemode serve --http` on a free port.
    let port = free_port();
    let address = format!("127.0.0.1:{port}");
    let _server = deadline::spawn(
        Command::new(BINARY)
            .args(["serve", "--config", &config, "--http", &address])
            .envs(env)
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )?;
    let url = format!("http://{address}/mcp");
    let call_over_http = async |tool: &str, code: &str| {
        let code = format!("code={code}");
        let args = [
            "--transport",
            "http",
            "--method",
            "tools/call",
            "--tool-name",
            tool,
        ];
        let mut argv = vec![url.as_str()];
        argv.extend(args);
        argv.extend(["--tool-arg", code.as_str()]);
        inspector(&argv, &[]).await
    };
    let started = Instant::now();
    let searched = loop {
        match call_over_http(
            "search",
            "codemode.search('read graph', { limit: 1 })[0].name",
        )
        .await
        {
            Ok(result) => break result,
            Err(_) if started.elapsed() < Duration::from_secs(30) => {
                tokio::time::sleep(Duration::from_millis(300)).await
            }
            Err(error) => return Err(error),
        }
    };
    assert_eq!(
        inspector_text(&searched)["result"],
        "memory.read_graph",
        "{searched}"
    );
    // The entity the stdio run made persisted in server-memory's file.
    let called = call_over_http(
        "execute",
        "(await memory.open_nodes({ names: ['Inspector'] })).entities.length",
    )
    .await?;
    assert_eq!(inspector_text(&called)["result"], 1, "{called}");
    Ok(())
}

#[bounded_test]
async fn bad_configs_are_named_by_file_and_field() -> Result<()> {
    let dir = scratch("configs");
    for (name, config, expected) in [
        (
            "typo",
            json!({ "mcpServers": { "m": { "command": "node", "argz": [] } } }),
            "at `mcpServers.m`: unknown field `argz`",
        ),
        (
            "secret",
            json!({ "mcpServers": { "m": { "url": "http://h/mcp", "headers": { "Authorization": "Bearer ${CODEMODE_TEST_UNSET}" } } } }),
            "at `mcpServers.m.headers.Authorization`: the environment variable `CODEMODE_TEST_UNSET` is not set",
        ),
        (
            "missing",
            json!({ "mcpServers": { "m": { "command": "/nonexistent/server" } } }),
            "upstream MCP server `m`: could not start `/nonexistent/server`",
        ),
    ] {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, config.to_string())?;
        let output = deadline::output(
            Command::new(BINARY).args(["serve", "--config"]).arg(&path),
            b"",
        )
        .await?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(expected), "{name}: {stderr}");
        if name != "missing" {
            assert!(
                stderr.contains(&path.display().to_string()),
                "{name}: {stderr}"
            );
        }
    }
    Ok(())
}

#[bounded_test]
async fn codemode_tokens_compares_the_tool_lists() -> Result<()> {
    let script = npm("fixtures/many-tools.mjs").display().to_string();
    let config =
        json!({ "mcpServers": { "many": { "command": "node", "args": [script, "200"] } } });
    let rows = tokens_table("mcp-tokens", &config).await?;
    let (tools, upstream) = tokens_row(&rows, "many")?;
    let (ours, tokens) = tokens_row(&rows, "codemode")?;
    assert_eq!((tools, ours), (200, 2), "{rows:?}");
    assert!(tokens <= 1_000 && upstream > 10 * tokens, "{rows:?}");
    Ok(())
}

#[bounded_test(multi_thread)]
async fn limits_from_the_server_options_apply_to_each_run() {
    let mut limits = Limits::default();
    limits.timeout = Duration::from_millis(200);
    let (http, url) =
        http_server::<McpConnector>(vec![], ServerOptions::default().limits(limits)).await;
    let client = client(&url, Progress::default()).await;
    let (failed, value) = call(&client, "execute", "while (true) {}").await;
    assert!(failed);
    assert_eq!(value["error"]["kind"], "timeout", "{value}");
    let _ = client.cancel().await;
    http.stop().await.expect("stops");
}

#[bounded_test(multi_thread)]
async fn a_run_that_logs_in_a_loop_sends_a_bounded_number_of_progress_notifications() {
    let (http, url) = http_server::<McpConnector>(vec![], ServerOptions::default()).await;
    let progress = Progress::default();
    let client = client(&url, progress.clone()).await;
    let started = Instant::now();
    let (failed, value) = call(
        &client,
        "execute",
        "for (let i = 0; i < 5000; i++) console.log(i); 'done'",
    )
    .await;
    assert!(!failed, "{value}");
    // The last notification may be handled just after the result.
    let seen = loop {
        let seen = progress.0.lock().expect("not poisoned").clone();
        let finished = seen
            .last()
            .is_some_and(|last| last.starts_with("codemode:"));
        if finished || started.elapsed() > Duration::from_secs(10) {
            break seen;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(seen.len(), 1_001, "{:?}", seen.last());
    assert_eq!(seen[999], "log: 999");
    assert_eq!(
        seen[1_000],
        "codemode: 4000 more console lines and calls were not sent as progress (a run sends at most 1000)"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let _ = client.cancel().await;
    http.stop().await.expect("stops");
}

#[bounded_test(multi_thread)]
async fn a_message_over_the_stdio_limit_is_answered_and_the_connection_closes() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let mut process = deadline::spawn(
        Command::new(BINARY)
            .arg("serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )
    .expect("codemode serve starts");
    let mut stdin = process.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(process.stdout.take().expect("stdout")).lines();
    let mut stderr = process.stderr.take().expect("stderr");

    // The handshake, then one line a byte over the limit, its newline
    // included. stdin stays open: the answer must not wait for its end.
    let initialize = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": { "name": "test", "version": "1" } } });
    let initialized = json!({ "jsonrpc": "2.0", "method": "notifications/initialized" });
    let (prefix, suffix) = (
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"execute","arguments":{"code":""#,
        "\"}}}\n",
    );
    let mut line = format!("{initialize}\n{initialized}\n{prefix}").into_bytes();
    let handshake = line.len() - prefix.len();
    line.resize(handshake + MAX_STDIO_MESSAGE_BYTES + 1 - suffix.len(), b'x');
    line.extend_from_slice(suffix.as_bytes());
    let writer = tokio::spawn(async move {
        let written = stdin.write_all(&line).await;
        (stdin, written)
    });

    let answers = tokio::time::timeout(Duration::from_secs(30), async {
        let mut answers = Vec::new();
        while let Ok(Some(answer)) = stdout.next_line().await {
            answers.push(serde_json::from_str::<Value>(&answer).expect("JSON"));
        }
        answers
    })
    .await
    .expect("an answer and the end of the output, not silence");
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert_eq!(answers[0]["id"], 1, "{answers:?}");
    assert_eq!(answers[1]["id"], Value::Null, "{answers:?}");
    assert_eq!(answers[1]["error"]["code"], -32700, "{answers:?}");
    let status = tokio::time::timeout(Duration::from_secs(10), process.wait())
        .await
        .expect("the server exits")
        .expect("a status");
    assert_eq!(status.code(), Some(2));
    let mut message = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut stderr, &mut message)
        .await
        .expect("stderr");
    assert!(
        message.contains(&format!(
            "a message on standard input is longer than {MAX_STDIO_MESSAGE_BYTES} bytes"
        )),
        "{message}"
    );
    drop(writer);
}

#[bounded_test]
async fn the_bundled_example_runs_against_the_bundled_servers() -> Result<()> {
    let dir = scratch("example");
    let root = env!("CARGO_MANIFEST_DIR");
    let output = deadline::output(
        Command::new(BINARY)
            .current_dir(root)
            .args([
                "run",
                "--json",
                "--config",
                "examples/servers.json",
                "examples/knowledge-graph.ts",
            ])
            .env("CODEMODE_MEMORY_FILE", dir.join("memory.jsonl")),
        b"",
    )
    .await?;
    let outcome: Value = serde_json::from_slice(&output.stdout)
        .with_context(|| String::from_utf8_lossy(&output.stderr).into_owned())?;
    assert_eq!(outcome["ok"], true, "{outcome}");
    assert_eq!(outcome["result"]["entities"], 15, "{outcome}");
    assert_eq!(outcome["result"]["relations"], 14, "{outcome}");
    assert_eq!(outcome["stats"]["connectorCalls"], 30, "{outcome}");
    Ok(())
}
