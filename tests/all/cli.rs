//! The `codemode` binary as a user runs it: output, `--json`, exit statuses,
//! flags, configuration errors, and console lines streamed as they happen.
//! Each test runs under a deadline (`#[bounded_test]`), each process run
//! under its own.

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use codemode_test_support::github::description_path;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

use crate::support::deadline::{self, step};
use crate::support::{BINARY, bounded_test};

/// Run `codemode <args>` with `stdin` as standard input, under the step
/// deadline.
pub(crate) async fn codemode(args: &[&str], stdin: &str) -> Result<Output> {
    deadline::output(Command::new(BINARY).args(args), stdin.as_bytes()).await
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A file in a fresh temporary directory, removed with the directory.
struct TempFile {
    dir: std::path::PathBuf,
    path: std::path::PathBuf,
}

impl TempFile {
    fn new(name: &str, contents: &str) -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("codemode-cli-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(name);
        std::fs::write(&path, contents)?;
        Ok(Self { dir, path })
    }

    fn path(&self) -> &str {
        self.path.to_str().unwrap_or_default()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[bounded_test]
async fn run_prints_logs_then_the_result() -> Result<()> {
    let script = TempFile::new(
        "hello.js",
        "console.log('hello', { n: 1 });\n({ answer: 42 })",
    )?;
    let output = codemode(&["run", script.path()], "").await?;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "hello { n: 1 }\n{\n  \"answer\": 42\n}\n"
    );
    Ok(())
}

#[bounded_test]
async fn typescript_files_run_and_lang_chooses_the_language() -> Result<()> {
    let typed = "interface P { n: number }\nconst p: P = { n: 2 };\np.n * 21";
    let script = TempFile::new("typed.ts", typed)?;
    let output = codemode(&["run", script.path()], "").await?;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "42\n");

    // Standard input is TypeScript by default; `--lang js` hands the code to
    // QuickJS as it is, which refuses the type syntax.
    assert_eq!(text(&codemode(&["run"], typed).await?.stdout), "42\n");
    let output = codemode(&["run", "--lang", "js", script.path()], "").await?;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("SyntaxError"),
        "{}",
        text(&output.stderr)
    );

    // A `.js` file is JavaScript unless `--lang ts` says otherwise.
    let js = TempFile::new("typed.js", typed)?;
    assert_eq!(
        codemode(&["run", js.path()], "").await?.status.code(),
        Some(1)
    );
    let output = codemode(&["run", "--lang", "ts", js.path()], "").await?;
    assert_eq!(text(&output.stdout), "42\n");
    Ok(())
}

#[bounded_test]
async fn run_calls_a_lone_function_and_allows_a_top_level_return() -> Result<()> {
    let lone = "```ts\nasync function main(): Promise<number[]> {\n  const a: number[] = [1, 2];\n  return a.map((x) => x * 10);\n}\n```\n";
    let output = codemode(&["run"], lone).await?;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "[\n  10,\n  20\n]\n");
    let script = TempFile::new(
        "early.js",
        "const found = [3, 4].find((n) => n > 3);\nif (found) return { found };\n'none'",
    )?;
    let output = codemode(&["run", script.path()], "").await?;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "{\n  \"found\": 4\n}\n");
    Ok(())
}

#[bounded_test]
async fn run_shows_a_syntax_error_with_the_line_a_caret_and_its_neighbours() -> Result<()> {
    let script = TempFile::new("broken.ts", "const a = 1;\nconst b = (a + );\nb")?;
    let output = codemode(&["run", script.path()], "").await?;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "");
    assert_eq!(
        text(&output.stderr),
        "script error at line 2, column 16: SyntaxError: Unexpected token\n\
         \n  1 | const a = 1;\
         \n> 2 | const b = (a + );\
         \n    |                ^\
         \n  3 | b\n"
    );
    Ok(())
}

#[bounded_test]
async fn run_shows_a_runtime_error_with_its_frame_and_the_stack_in_the_agents_code() -> Result<()> {
    // Thrown three calls deep, in a fenced script whose fence is line 1.
    let code = "```js\nfunction a() { return b(); }\nfunction b() { return c(); }\nfunction c() {\n\tthrow new TypeError(\"deep\");\n}\na();\n```\n";
    let script = TempFile::new("deep.js", code)?;
    let output = codemode(&["run", script.path()], "").await?;
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stderr),
        "script error at line 5, column 12: TypeError: deep\n\
         \n  4 | function c() {\
         \n> 5 | \tthrow new TypeError(\"deep\");\
         \n    | \t          ^\
         \n  6 | }\n\
         \n    at c (agent.js:5:12)\
         \n    at b (agent.js:3:23)\
         \n    at a (agent.js:2:23)\
         \n    at <eval> (agent.js:7:1)\n"
    );
    // `--json` is as it was: the error's fields, no frame.
    let output = codemode(&["run", "--json", script.path()], "").await?;
    let outcome: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(
        outcome["error"],
        json!({
            "kind": "script", "name": "TypeError", "message": "deep", "line": 5, "column": 12,
            "stack": "    at c (agent.js:5:12)\n    at b (agent.js:3:23)\n    at a (agent.js:2:23)\n    at <eval> (agent.js:7:1)\n"
        })
    );
    // An error with no line (a limit) is the one line it was.
    let output = codemode(&["run", "--timeout-ms", "200"], "while (true) {}").await?;
    assert_eq!(output.status.code(), Some(3));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with("timeout error") && stderr.lines().count() == 1,
        "{stderr}"
    );
    Ok(())
}

#[bounded_test]
async fn types_renders_an_openapi_description_in_three_formats() -> Result<()> {
    let github = format!("github={}", description_path().display());
    let output = codemode(
        &["types", "--openapi", &github, "--filter", "repos/get"],
        "",
    )
    .await?;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let typescript = text(&output.stdout);
    assert!(
        typescript.starts_with("declare namespace github {"),
        "{typescript}"
    );
    assert!(
        typescript.contains("function repos_get(args: {"),
        "{typescript}"
    );
    assert!(
        !typescript.contains("function pulls_merge("),
        "the filter applies"
    );

    let output = codemode(
        &[
            "types",
            "--openapi",
            &github,
            "--format",
            "summary",
            "--filter",
            "pulls/merge",
        ],
        "",
    )
    .await?;
    let summary = text(&output.stdout);
    assert!(
            summary.contains("- `github.pulls_merge({ owner, repo, pull_number, … })` — `PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge` — Merge a pull request"),
            "{summary}"
        );

    // The config file's `openapi` entries, with paths relative to the file.
    let config = TempFile::new(
        "types-config.json",
        r#"{"openapi": {"pets": {"spec": "pets.json"}}}"#,
    )?;
    let pets = r#"{"openapi": "3.1.0", "info": {"title": "Pets", "version": "1"},
        "paths": {"/pets": {"get": {"operationId": "listPets", "summary": "List the pets",
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}}}}}}}}"#;
    std::fs::write(config.dir.join("pets.json"), pets)?;
    let output = codemode(
        &["types", "--config", config.path(), "--format", "summary"],
        "",
    )
    .await?;
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let summary = text(&output.stdout);
    assert!(
        summary.contains("`pets.listPets()`") && summary.contains("`GET /pets` — List the pets"),
        "{summary}"
    );

    let output = codemode(
        &[
            "types",
            "--openapi",
            &github,
            "--format",
            "json",
            "--filter",
            "pulls/merge",
        ],
        "",
    )
    .await?;
    // One catalog: the entries `codemode.describe` returns, best first.
    let listing: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(listing[0]["name"], "github.pulls_merge");
    assert_eq!(
        listing[0]["path"],
        "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge"
    );
    Ok(())
}

#[bounded_test]
async fn types_refuses_bad_descriptions_naming_the_file() -> Result<()> {
    let swagger = TempFile::new("swagger.json", r#"{"swagger": "2.0", "paths": {}}"#)?;
    let output = codemode(&["types", "--openapi", swagger.path()], "").await?;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(swagger.path()) && stderr.contains("Swagger 2.0"),
        "{stderr}"
    );

    let broken = TempFile::new(
        "broken.json",
        "{\n  \"openapi\": \"3.0.0\",\n  \"paths\": [\n",
    )?;
    let output = codemode(&["types", "--openapi", broken.path()], "").await?;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(broken.path()) && stderr.contains("line 4"),
        "{stderr}"
    );

    let output = codemode(&["types", "--openapi", "bad-name=x.json"], "").await?;
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("must be a JavaScript identifier"));
    Ok(())
}

#[bounded_test]
async fn run_reads_standard_input() -> Result<()> {
    let output = codemode(&["run"], "6 * 7").await?;
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(text(&output.stdout), "42\n");
    let output = codemode(&["run", "-"], "'dash'").await?;
    assert_eq!(text(&output.stdout), "\"dash\"\n");
    Ok(())
}

#[bounded_test]
async fn json_prints_exactly_one_object() -> Result<()> {
    let output = codemode(
        &["run", "--json"],
        "console.warn('w'); console.log('l'); [1]",
    )
    .await?;
    assert_eq!(output.status.code(), Some(0));
    let stdout = text(&output.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let value: Value = serde_json::from_str(&stdout)?;
    assert_eq!(value["ok"], json!(true));
    assert_eq!(value["result"], json!([1]));
    assert_eq!(
        value["logs"],
        json!([{ "level": "warn", "text": "w" }, { "level": "log", "text": "l" }])
    );
    assert_eq!(value["error"], Value::Null);
    for stat in [
        "wallTimeUs",
        "fuelUsed",
        "peakMemoryBytes",
        "connectorCalls",
    ] {
        assert!(
            value["stats"][stat].is_u64(),
            "stats.{stat} missing: {value}"
        );
    }
    assert!(output.stderr.is_empty(), "{}", text(&output.stderr));
    Ok(())
}

#[bounded_test]
async fn a_script_error_exits_1_with_its_position() -> Result<()> {
    let output = codemode(&["run"], "const a = 1;\nundefinedFunction();\n").await?;
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
    assert!(stderr.contains("ReferenceError"), "{stderr}");

    let output = codemode(&["run", "--json"], "let = ;").await?;
    assert_eq!(output.status.code(), Some(1));
    let value: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(value["ok"], json!(false));
    assert_eq!(value["error"]["kind"], json!("script"));
    assert_eq!(value["error"]["name"], json!("SyntaxError"));
    assert_eq!(value["error"]["line"], json!(1));
    Ok(())
}

#[bounded_test]
async fn limits_exit_3_and_flags_set_them() -> Result<()> {
    let started = Instant::now();
    let output = codemode(
        &[
            "run",
            "--json",
            "--timeout-ms",
            "200",
            "--fuel",
            "100000000000",
        ],
        "while (true) {}",
    )
    .await?;
    assert_eq!(output.status.code(), Some(3));
    assert!(started.elapsed() < Duration::from_secs(5));
    let value: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(value["error"]["kind"], json!("timeout"));

    let output = codemode(&["run", "--json", "--fuel", "1000000"], "for (;;) {}").await?;
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(
        serde_json::from_slice::<Value>(&output.stdout)?["error"]["kind"],
        json!("fuel")
    );

    let bomb = "const keep = []; for (;;) keep.push('x'.repeat(1 << 20) + keep.length);";
    let output = codemode(&["run", "--json", "--memory-mib", "16"], bomb).await?;
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(
        serde_json::from_slice::<Value>(&output.stdout)?["error"]["kind"],
        json!("memory")
    );
    Ok(())
}

#[bounded_test]
async fn usage_and_config_errors_exit_2() -> Result<()> {
    let output = codemode(&["run", "--no-such-flag"], "").await?;
    assert_eq!(output.status.code(), Some(2));

    let output = codemode(&["run", "/no/such/script.js"], "").await?;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("/no/such/script.js"),
        "{}",
        text(&output.stderr)
    );

    let config = TempFile::new(
        "bad.json",
        r#"{ "codemode": { "limits": { "fuel": "lots" } } }"#,
    )?;
    let output = codemode(&["run", "--config", config.path()], "1").await?;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(config.path()), "{stderr}");
    assert!(stderr.contains("codemode.limits.fuel"), "{stderr}");
    Ok(())
}

#[bounded_test]
async fn config_limits_apply_and_flags_override_them() -> Result<()> {
    let config = TempFile::new(
        "limits.json",
        r#"{ "codemode": { "limits": { "timeoutMs": 150, "fuel": 100000000000 } } }"#,
    )?;
    let output = codemode(
        &["run", "--json", "--config", config.path()],
        "while (true) {}",
    )
    .await?;
    assert_eq!(
        serde_json::from_slice::<Value>(&output.stdout)?["error"]["kind"],
        json!("timeout")
    );

    let output = codemode(
        &[
            "run",
            "--json",
            "--config",
            config.path(),
            "--timeout-ms",
            "5000",
        ],
        "await new Promise((r) => setTimeout(r, 300)); 'waited'",
    )
    .await?;
    let value: Value = serde_json::from_slice(&output.stdout)?;
    assert_eq!(value["result"], json!("waited"), "{value}");
    Ok(())
}

#[bounded_test]
async fn console_output_streams_while_the_script_runs() -> Result<()> {
    let mut child = deadline::spawn(
        Command::new(BINARY)
            .args(["run"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )?;
    let mut stdin = child.stdin.take().context("stdin")?;
    stdin
            .write_all(b"console.log('first'); await new Promise((r) => setTimeout(r, 1500)); console.log('second');")
            .await?;
    drop(stdin);
    let started = Instant::now();
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let first = step("the first line of `codemode run`", lines.next_line()).await?;
    let first_after = started.elapsed();
    assert_eq!(first.as_deref(), Some("first"));
    let second = step("the second line of `codemode run`", lines.next_line()).await?;
    let second_after = started.elapsed();
    assert_eq!(second.as_deref(), Some("second"));
    let status = step("the end of `codemode run`", child.wait()).await?;
    assert!(status.success(), "{status}");
    assert!(
        second_after - first_after >= Duration::from_millis(1000),
        "`first` came at {first_after:?} and `second` at {second_after:?}: not streamed"
    );
    Ok(())
}

#[bounded_test]
async fn serve_says_whether_calls_are_gated_and_refuses_an_undo_that_does_not_parse() -> Result<()>
{
    // Standard input closed at once: the server starts, then ends.
    let output = codemode(&["serve"], "").await?;
    let stderr = text(&output.stderr);
    assert!(
        stderr.lines().any(|line| line
            == "codemode: no approvals configured (codemode.approvals): every call goes through ungated"),
        "{stderr}"
    );

    let config = TempFile::new(
        "approvals.json",
        r#"{ "codemode": { "approvals": { "rules": [
            { "match": "*.delete_*", "action": "deny" },
            { "match": "github.*", "action": "allow" } ] } } }"#,
    )?;
    // Gated calls wait durably: in the per-user state directory unless
    // `--state` says otherwise.
    let home = crate::support::scratch("serve-default-state");
    let output = deadline::output(
        Command::new(BINARY)
            .args(["serve", "--config", config.path()])
            .env("XDG_STATE_HOME", &home),
        b"",
    )
    .await?;
    let stderr = text(&output.stderr);
    assert!(
        stderr
            .lines()
            .any(|line| line == "codemode: approvals: 2 rules, default approve, timeout 24h"),
        "{stderr}"
    );
    let state = home.join("codemode");
    assert!(
        stderr.contains(&format!("codemode: durable runs in {};", state.display())),
        "{stderr}"
    );
    assert!(state.join("runs.sqlite3").is_file(), "{stderr}");

    // The undo is checked before any upstream server starts.
    let config = TempFile::new(
        "undo.json",
        r#"{ "mcpServers": { "memory": { "command": "/no/such/server" } },
             "codemode": { "undo": { "memory.create_entities": "(call) => {" } } }"#,
    )?;
    let output = codemode(&["serve", "--config", config.path()], "").await?;
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(
            "at `codemode.undo.memory.create_entities`: the undo does not parse: SyntaxError"
        ),
        "{stderr}"
    );
    Ok(())
}
