//! The sandbox as portable components, under the stock wasmtime CLI, as a
//! user runs them: `codemode component cli|http --out FILE`, then
//! `wasmtime run FILE < script` and `wasmtime serve FILE`.
//!
//! - The CLI component gives `codemode run`'s JSON (and plain output) for
//!   every case of `tests/portable/cases.json`, and imports nothing but WASI.
//! - Its own limits stop `while (true)` and a memory bomb, and so do
//!   wasmtime's (`-W timeout`, `-W max-memory-size`).
//! - The HTTP component answers 50 concurrent requests under `wasmtime
//!   serve`, calls a local HTTP API with a credential that no reply or log
//!   carries, and refuses a connector outside the allowed hosts; its
//!   interpreter imports nothing but the host component and WASI's basics.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::cli::{codemode, text};
use crate::support::deadline::{self, step};
use crate::support::mcp::free_port;
use crate::support::{bounded_test, npm, scratch};
use codemode_components::Source;
use codemode_test_support::files::{portable_cases, wasmtime};

/// `codemode component KIND --out DIR/KIND.wasm`: the component's path.
async fn component(kind: &str, dir: &Path) -> Result<PathBuf> {
    let path = dir.join(format!("{kind}.wasm"));
    let out = path.display().to_string();
    let written = codemode(&["component", kind, "--out", &out], "").await?;
    ensure!(written.status.success(), "{}", text(&written.stderr));
    Ok(path)
}

/// `wasmtime run [flags] COMPONENT [args] < code`.
async fn wasmtime_run(
    flags: &[&str],
    component: &Path,
    args: &[&str],
    code: &str,
) -> Result<Output> {
    let mut command = Command::new(wasmtime());
    command.arg("run").args(flags).arg(component).args(args);
    deadline::output(&mut command, code.as_bytes()).await
}

/// An outcome's JSON with its stats' values (which differ by host and by
/// run) zeroed, their names kept.
fn comparable(stdout: &[u8]) -> Result<Value> {
    let mut outcome: Value = serde_json::from_slice(stdout)
        .with_context(|| format!("not one JSON object: {}", text(stdout)))?;
    let stats = outcome
        .get_mut("stats")
        .and_then(Value::as_object_mut)
        .context("no stats")?;
    for value in stats.values_mut() {
        *value = json!(0);
    }
    Ok(outcome)
}

#[bounded_test]
async fn the_cli_component_prints_what_codemode_run_prints_for_every_case() -> Result<()> {
    let dir = scratch("portable-cases");
    let cli = component("cli", &dir).await?;
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(portable_cases())?)?;
    ensure!(
        cases.len() >= 12,
        "the case table has {} cases",
        cases.len()
    );
    for case in &cases {
        let name = case["name"].as_str().context("a name")?;
        let code = case["code"].as_str().context("code")?;
        let lang = case["lang"].as_str().unwrap_or("ts");
        for json in [true, false] {
            let mut args = vec!["--lang", lang];
            if json {
                args.push("--json");
            }
            let ours = codemode(&[&["run"], &args[..], &["-"]].concat(), code).await?;
            let theirs = step(
                format!("`{name}` under wasmtime run"),
                wasmtime_run(&[], &cli, &args, code),
            )
            .await?;
            if json {
                assert_eq!(
                    comparable(&theirs.stdout)?,
                    comparable(&ours.stdout)?,
                    "case `{name}`: wasmtime run's JSON differs from codemode run's"
                );
            } else {
                assert_eq!(
                    text(&theirs.stdout),
                    text(&ours.stdout),
                    "case `{name}`: standard output"
                );
                assert_eq!(
                    text(&theirs.stderr),
                    text(&ours.stderr),
                    "case `{name}`: standard error"
                );
            }
            assert_eq!(
                theirs.status.code(),
                ours.status.code(),
                "case `{name}`: exit statuses"
            );
        }
    }
    Ok(())
}

#[bounded_test]
async fn the_cli_component_imports_nothing_but_wasi() -> Result<()> {
    let mut imports: Vec<String> = Vec::new();
    for instance in codemode_components::wiring(codemode_components::CLI)? {
        for argument in instance.arguments {
            if let Source::Import(name) = argument.source {
                imports.push(name);
            }
        }
    }
    imports.sort();
    imports.dedup();
    ensure!(!imports.is_empty());
    for import in &imports {
        let interface = import.split('@').next().unwrap_or(import);
        ensure!(
            interface.starts_with("wasi:")
                && !["wasi:http/", "wasi:sockets/", "wasi:filesystem/"]
                    .iter()
                    .any(|denied| interface.starts_with(denied)),
            "the CLI component imports `{import}`; all: {imports:?}"
        );
    }
    Ok(())
}

#[bounded_test]
async fn while_true_is_stopped_by_the_guests_deadline_and_by_wasmtimes_timeout() -> Result<()> {
    let dir = scratch("portable-loop");
    let cli = component("cli", &dir).await?;
    let spin = "let i = 0;\nwhile (true) { i++; }";

    let started = Instant::now();
    let own = wasmtime_run(&[], &cli, &["--json", "--timeout-ms", "300"], spin).await?;
    let outcome = comparable(&own.stdout)?;
    assert_eq!(outcome["error"]["kind"], "timeout", "{outcome}");
    assert_eq!(
        outcome["error"]["message"],
        "the script ran past its deadline of 300 ms"
    );
    assert_eq!(
        own.status.code(),
        Some(3),
        "a limit's exit status, as codemode run's"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    // The guest's deadline is the default 30 s; wasmtime's comes first.
    let started = Instant::now();
    let theirs = wasmtime_run(&["-W", "timeout=300ms"], &cli, &["--json"], spin).await?;
    assert!(!theirs.status.success());
    assert!(
        text(&theirs.stderr).contains("interrupt"),
        "{}",
        text(&theirs.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    // And a timer that would wait past the deadline does not.
    let wait = "await new Promise((r) => setTimeout(r, 60000)); 1";
    let waited = wasmtime_run(&[], &cli, &["--json", "--timeout-ms", "300"], wait).await?;
    assert_eq!(comparable(&waited.stdout)?["error"]["kind"], "timeout");
    Ok(())
}

#[bounded_test]
async fn a_memory_bomb_is_stopped_by_the_guests_cap_and_by_wasmtimes() -> Result<()> {
    let dir = scratch("portable-memory");
    let cli = component("cli", &dir).await?;
    let bomb = "const a = [];\nwhile (true) a.push({ i: a.length, s: \"x\" + a.length });";

    let own = wasmtime_run(&[], &cli, &["--json", "--memory-mib", "32"], bomb).await?;
    let outcome = comparable(&own.stdout)?;
    assert_eq!(outcome["error"]["kind"], "memory", "{outcome}");
    assert_eq!(outcome["error"]["name"], "MemoryLimitError");

    let capped = wasmtime_run(&["-W", "max-memory-size=33554432"], &cli, &["--json"], bomb).await?;
    let outcome = comparable(&capped.stdout)?;
    assert_eq!(outcome["error"]["kind"], "memory", "{outcome}");
    Ok(())
}

#[bounded_test]
async fn the_http_components_interpreter_reaches_only_the_host_component() -> Result<()> {
    let wiring = codemode_components::wiring(codemode_components::HTTP)?;
    let interpreter = wiring
        .iter()
        .find(|instance| instance.name == "interpreter")
        .context("no interpreter instance")?;
    for argument in &interpreter.arguments {
        let interface = argument.import.split('@').next().unwrap_or_default();
        match &argument.source {
            Source::Export { instance, .. } => {
                assert_eq!(
                    instance, "host",
                    "{} comes from {}",
                    argument.import, argument.source
                )
            }
            Source::Import(name) => assert!(
                [
                    "wasi:io/",
                    "wasi:clocks/",
                    "wasi:random/",
                    "wasi:cli/std",
                    "wasi:cli/exit",
                    "wasi:cli/terminal-"
                ]
                .iter()
                .any(|allowed| name.starts_with(allowed)),
                "the interpreter imports the host's `{name}`"
            ),
            Source::Other => {}
        }
        assert!(!interface.starts_with("wasi:http"), "{}", argument.import);
    }
    let from_host = |import: &str| {
        interpreter.arguments.iter().any(|a| {
            a.import.starts_with(import)
                && matches!(&a.source, Source::Export { instance, .. } if instance == "host")
        })
    };
    assert!(from_host("codemode:sandbox/host@"));
    // The real environment (where the credential is) is not the interpreter's.
    assert!(from_host("wasi:cli/environment@"));
    // The connector component is the one that reaches the network.
    let connectors = wiring
        .iter()
        .find(|i| i.name == "connectors")
        .context("no connectors")?;
    assert!(
        connectors
            .arguments
            .iter()
            .any(|a| a.import.starts_with("wasi:http/outgoing-handler@"))
    );
    Ok(())
}

/// The credential the local API requires.
const TOKEN: &str = "portable-credential-5f1e2d3c4b5a";

/// A local HTTP API: `GET /v1/items/{id}` answers the item, the query and
/// the `authorization` header it was sent (so a reply carries the
/// credential unless it is redacted); without the credential, 401.
async fn local_api() -> Result<u16> {
    use axum::extract::{Path as UrlPath, RawQuery};
    use axum::http::{HeaderMap, StatusCode};
    let app = axum::Router::new().route(
        "/v1/items/{id}",
        axum::routing::get(
            |UrlPath(id): UrlPath<String>, RawQuery(query): RawQuery, headers: HeaderMap| async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                if auth != format!("Bearer {TOKEN}") {
                    return (StatusCode::UNAUTHORIZED, axum::Json(json!({ "error": "no credential" })));
                }
                (StatusCode::OK, axum::Json(json!({ "id": id, "query": query, "auth": auth })))
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(port)
}

/// `wasmtime serve` of the HTTP component on a free port, with `api` (the
/// local API, allowed) and `elsewhere` (a port not allowed) declared.
struct Served {
    process: Child,
    base: String,
}

impl Served {
    async fn start(dir: &Path, api_port: u16) -> Result<Self> {
        let connectors = json!({
            "api": {
                "url": format!("http://127.0.0.1:{api_port}/v1"),
                "headers": { "authorization": "Bearer ${API_TOKEN}" },
                "methods": { "item": "GET /items/{id}" },
            },
            "elsewhere": {
                "url": format!("http://127.0.0.1:{}/v1", api_port.wrapping_add(1)),
                "methods": { "item": "GET /items/{id}" },
            },
        });
        Self::start_with(dir, &connectors, api_port, TOKEN).await
    }

    /// The server with `connectors` declared, `api_port`'s origin allowed
    /// and `API_TOKEN` set to `token` in its environment.
    async fn start_with(
        dir: &Path,
        connectors: &Value,
        api_port: u16,
        token: &str,
    ) -> Result<Self> {
        let http = component("http", dir).await?;
        let port = free_port();
        let mut command = Command::new(wasmtime());
        command
            .args(["serve", "-S", "cli", "--addr", &format!("127.0.0.1:{port}")])
            .args(["--env", "API_TOKEN"])
            .args(["--env", &format!("CODEMODE_CONNECTORS={connectors}")])
            .args([
                "--env",
                &format!("CODEMODE_ALLOWED_HOSTS=http://127.0.0.1:{api_port}"),
            ])
            .arg(&http)
            .env("API_TOKEN", token)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let process = command.spawn().context("starting wasmtime serve")?;
        let base = format!("http://127.0.0.1:{port}");
        step("wasmtime serve to listen", async {
            while tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_err()
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        Ok(Self { process, base })
    }

    /// `POST /execute` with `body`: the status and the JSON answer.
    async fn execute(&self, client: &reqwest::Client, body: &Value) -> Result<(u16, Value)> {
        let response = client
            .post(format!("{}/execute", self.base))
            .json(body)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.json().await?))
    }

    /// Stop the server: what it printed, both streams.
    async fn stop(mut self) -> Result<String> {
        self.process.start_kill()?;
        let output = self.process.wait_with_output().await?;
        Ok(format!("{}{}", text(&output.stdout), text(&output.stderr)))
    }
}

#[bounded_test]
async fn wasmtime_serve_answers_fifty_concurrent_requests_and_keeps_the_credential_out()
-> Result<()> {
    let dir = scratch("portable-serve");
    let api_port = local_api().await?;
    let served = Served::start(&dir, api_port).await?;
    let client = reqwest::Client::new();

    let requests = (0..50).map(|n| {
        let (served, client) = (&served, &client);
        async move {
            // Half call the API, half compute.
            let code = if n % 2 == 0 {
                format!("const r = await api.item({{ id: \"n{n}\", page: 2 }});\nconsole.log(r.data.auth);\n({{ status: r.status, id: r.data.id, query: r.data.query, auth: r.data.auth }})")
            } else {
                format!("const xs: number[] = [{n}, 1];\nxs.reduce((a, b) => a + b, 0)")
            };
            let answer = served.execute(client, &json!({ "code": code })).await?;
            anyhow::Ok((n, answer))
        }
    });
    let answers = step(
        "50 concurrent requests",
        futures::future::join_all(requests),
    )
    .await;
    for answer in answers {
        let (n, (status, outcome)) = answer?;
        assert_eq!(status, 200, "{outcome}");
        assert_eq!(outcome["ok"], true, "request {n}: {outcome}");
        if n % 2 == 0 {
            assert_eq!(
                outcome["result"],
                json!({ "status": 200, "id": format!("n{n}"), "query": "page=2", "auth": "Bearer [redacted]" })
            );
            assert_eq!(outcome["logs"][0]["text"], "Bearer [redacted]");
            assert_eq!(outcome["stats"]["connectorCalls"], 1);
        } else {
            assert_eq!(outcome["result"], json!(n + 1));
        }
        assert!(
            !outcome.to_string().contains(TOKEN),
            "request {n} carries the credential: {outcome}"
        );
    }

    // A connector outside the allowed hosts.
    let (status, refused) = served
        .execute(
            &client,
            &json!({ "code": "await elsewhere.item({ id: \"1\" })" }),
        )
        .await?;
    assert_eq!(status, 200);
    assert_eq!(refused["error"]["name"], "ConnectorError", "{refused}");
    let message = refused["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!(
            "may not reach `http://127.0.0.1:{}`",
            api_port.wrapping_add(1)
        )) && message.contains("not an allowed host"),
        "{message}"
    );

    // Requests that are not `{ code }`.
    for (body, expected) in [
        (json!({ "code": 1 }), "`code` must be a string"),
        (json!({ "script": "1" }), "unknown field `script`"),
        (
            json!({ "code": "1", "lang": "py" }),
            "`lang` is `ts` or `js`",
        ),
    ] {
        let (status, answer) = served.execute(&client, &body).await?;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer["error"]
                .as_str()
                .unwrap_or_default()
                .contains(expected),
            "{answer}"
        );
    }
    let missing = client
        .get(format!("{}/nothing", served.base))
        .send()
        .await?;
    assert_eq!(missing.status().as_u16(), 404);

    let printed = served.stop().await?;
    if printed.contains(TOKEN) {
        bail!("wasmtime serve printed the credential: {printed}");
    }
    Ok(())
}

/// The CLI component transpiled by jco into `DIR/OUT` (`--name sandbox`,
/// with `extra` flags), its imports of preview2-shim resolved from
/// `tests/npm`.
async fn jco_transpile(dir: &Path, out: &str, extra: &[&str]) -> Result<PathBuf> {
    let cli = component("cli", dir).await?;
    let output = dir.join(out);
    let mut command = Command::new("node");
    command
        .arg(npm("node_modules/@bytecodealliance/jco/dist/jco.js"))
        .arg("transpile")
        .arg(&cli)
        .args(["--name", "sandbox", "-o"])
        .arg(&output)
        .args(extra);
    let transpiled = deadline::output(&mut command, b"").await?;
    ensure!(
        transpiled.status.success(),
        "jco transpile: {}",
        text(&transpiled.stderr)
    );
    let modules = dir.join("node_modules");
    if !modules.exists() {
        std::os::unix::fs::symlink(npm("node_modules"), &modules)?;
    }
    Ok(output)
}

#[bounded_test]
async fn the_cli_component_under_jco_in_node_prints_what_codemode_run_prints() -> Result<()> {
    let dir = scratch("portable-jco");
    let transpiled = jco_transpile(&dir, "node", &[]).await?;
    let module = transpiled.join("sandbox.js");
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(portable_cases())?)?;
    for case in &cases {
        let name = case["name"].as_str().context("a name")?;
        let code = case["code"].as_str().context("code")?;
        let args = ["--lang", case["lang"].as_str().unwrap_or("ts"), "--json"];
        let ours = codemode(&[&["run"], &args[..], &["-"]].concat(), code).await?;
        let mut command = Command::new("node");
        command
            .arg(npm("fixtures/jco-run.mjs"))
            .arg(&module)
            .args(args);
        let theirs = step(
            format!("`{name}` under jco"),
            deadline::output(&mut command, code.as_bytes()),
        )
        .await?;
        assert_eq!(
            comparable(&theirs.stdout)?,
            comparable(&ours.stdout)?,
            "case `{name}`: jco's JSON differs from codemode run's ({})",
            text(&theirs.stderr)
        );
        assert_eq!(
            theirs.status.code(),
            ours.status.code(),
            "case `{name}`: exit statuses"
        );
    }
    // Node meters nothing: the guest's own deadline stops a loop.
    let mut command = Command::new("node");
    command
        .arg(npm("fixtures/jco-run.mjs"))
        .arg(&module)
        .args(["--json", "--timeout-ms", "300"]);
    let stopped = deadline::output(&mut command, b"while (true) {}").await?;
    assert_eq!(comparable(&stopped.stdout)?["error"]["kind"], "timeout");
    Ok(())
}

/// `examples/browser`'s page, with the CLI component transpiled for the
/// browser (JSPI, so that the guest's waits suspend instead of spinning)
/// and preview2-shim beside it, in headless Chromium.
#[bounded_test]
async fn the_browser_page_runs_typescript_and_stops_while_true() -> Result<()> {
    let dir = scratch("portable-browser");
    let web = dir.join("web");
    std::fs::create_dir_all(&web)?;
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/browser");
    for file in ["index.html", "page.js"] {
        std::fs::copy(page.join(file), web.join(file))?;
    }
    let browser_flags = [
        "--instantiation",
        "async",
        "--async-mode",
        "jspi",
        "--async-wasi-imports",
        "--async-wasi-exports",
    ];
    jco_transpile(&dir, "web/sandbox", &browser_flags).await?;
    copy_dir(
        &npm("node_modules/@bytecodealliance/preview2-shim/dist"),
        &web.join("preview2-shim"),
    )?;

    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("artifacts/portable");
    std::fs::create_dir_all(&shots)?;
    let mut command = Command::new("node");
    command
        .arg(npm("fixtures/portable-browser.mjs"))
        .arg(&web)
        .arg(&shots);
    let shown = step("the page in Chromium", deadline::output(&mut command, b"")).await?;
    ensure!(shown.status.success(), "{}", text(&shown.stderr));
    let seen: Value = serde_json::from_slice(&shown.stdout)
        .with_context(|| format!("the fixture printed {}", text(&shown.stdout)))?;
    assert_eq!(seen["errors"], json!([]), "{seen}");
    assert_eq!(seen["typescript"]["outcome"]["result"], json!(8), "{seen}");
    assert_eq!(seen["typescript"]["outcome"]["logs"][0]["text"], "items: 2");
    assert_eq!(seen["typescript"]["shown"], "[log] items: 2\nresult: 8");
    assert_eq!(
        seen["loop"]["outcome"]["error"]["kind"], "timeout",
        "{seen}"
    );
    assert!(
        seen["loop"]["shown"]
            .as_str()
            .unwrap_or_default()
            .contains("the script ran past its deadline of 2000 ms"),
        "{seen}"
    );
    assert!(
        seen["loop"]["ms"].as_u64().unwrap_or(u64::MAX) < 10_000,
        "{seen}"
    );
    for shot in ["1-typescript.png", "2-while-true.png"] {
        ensure!(shots.join(shot).is_file(), "no screenshot {shot}");
    }
    Ok(())
}

#[bounded_test]
async fn a_credential_too_short_to_redact_is_a_configuration_error() -> Result<()> {
    let dir = scratch("portable-short-credential");
    let connectors = json!({ "api": {
        "url": "http://127.0.0.1:9/v1",
        "headers": { "authorization": "Bearer ${API_TOKEN}" },
        "methods": { "item": "GET /items/{id}" },
    } });
    let served = Served::start_with(&dir, &connectors, 9, "t").await?;
    let client = reqwest::Client::new();
    let (status, answer) = served.execute(&client, &json!({ "code": "1" })).await?;
    assert_eq!(status, 500, "{answer}");
    assert_eq!(
        answer["error"],
        "`CODEMODE_CONNECTORS`: connector `api`: header `authorization`: `${API_TOKEN}` is 1 bytes; \
         a credential must be at least 8 bytes, to be redacted safely"
    );
    served.stop().await?;
    Ok(())
}

/// Copy the directory `from` (files and directories) to `to`.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
