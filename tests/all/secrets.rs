//! No secret of the host reaches a script through an upstream MCP server:
//! not a config's `${VAR}` value that a server echoes in a reply, quotes in
//! an error or prints on stderr before it dies, and not the query of a URL
//! that a failed connection quotes. Real servers: the `leaky.mjs` fixture
//! (built with the MCP TypeScript SDK) and `server-everything` over HTTP.

use std::process::Stdio;

use anyhow::{Context, Result};
use codemode_mcp_client::UpstreamConfig;
use serde_json::{Value, json};
use tokio::process::Command;

use crate::support::deadline;
use crate::support::mcp::{
    call, connect_once_listening, everything_over_http, free_port, stdio_client, timeouts,
};
use crate::support::{BINARY, bounded_test, npm, result, run_granted, scratch};

/// The secret, with characters that JSON and URLs encode.
const SECRET: &str = "tok-3f9a/c1e+5b2d=4086_x";

/// The environment variable the configs take it from.
const SECRET_VARIABLE: &str = "CODEMODE_TEST_SECRET";

/// Every 6-byte piece of the secret, as written and percent-encoded, that
/// `text` shows.
fn pieces_shown(text: &str) -> Vec<String> {
    let encoded = SECRET
        .replace('/', "%2F")
        .replace('+', "%2B")
        .replace('=', "%3D");
    [SECRET.to_owned(), encoded]
        .iter()
        .flat_map(|form| (0..=form.len() - 6).map(move |at| form[at..at + 6].to_owned()))
        .filter(|piece| text.contains(piece.as_str()))
        .collect()
}

/// A config with the fixture as `leaky`, given the secret as `${VAR}`.
fn leaky_config(name: &str) -> Result<std::path::PathBuf> {
    let path = scratch(name).join("leaky.json");
    let config = json!({ "mcpServers": { "leaky": {
        "command": "node",
        "args": [npm("fixtures/leaky.mjs").display().to_string()],
        "env": { "LEAKY_SECRET": format!("${{{SECRET_VARIABLE}}}") },
    } } });
    std::fs::write(&path, config.to_string())?;
    Ok(path)
}

#[bounded_test]
async fn an_upstream_cannot_hand_codemode_run_the_secret_it_was_given() -> Result<()> {
    let config = leaky_config("run")?;
    // The pads put the start of the stderr the error quotes inside the
    // secret (see leaky.mjs); 0 shows all of it.
    let code = r#"
        const attempt = (f) => f().then((value) => value, (e) => `${e.name}: ${e.message}`);
        const echo = await leaky.echo({});
        console.log(JSON.stringify(echo));
        const refused = await attempt(() => leaky.refuse({}));
        const crashes = [];
        for (const pad of [0, 2015, 2025, 2033]) crashes.push(await attempt(() => leaky.crash({ pad })));
        ({ echo, refused, crashes })
    "#;
    let output = deadline::output(
        Command::new(BINARY)
            .args(["run", "--json", "--lang", "js", "--config"])
            .arg(&config)
            .arg("-")
            .env(SECRET_VARIABLE, SECRET),
        code.as_bytes(),
    )
    .await?;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
    let shown = pieces_shown(&format!("{stdout}{stderr}"));
    assert!(shown.is_empty(), "{shown:?} in {stdout}{stderr}");

    let outcome: Value = serde_json::from_str(&stdout).with_context(|| stderr.to_string())?;
    assert_eq!(outcome["ok"], true, "{outcome}");
    let value = &outcome["result"];
    assert_eq!(
        value["echo"],
        json!({
            "token": "[redacted]",
            "[redacted]": "as a key",
            "sentence": "the token is [redacted], keep it safe",
            "escaped": "\"[redacted]\"",
            "encoded": "https://h/x?token=[redacted]",
            "nested": [{ "deeper": ["[redacted]"] }],
        }),
        "{value}"
    );
    assert_eq!(
        value["refused"], "ConnectorError: could not authenticate with [redacted]",
        "{value}"
    );
    let crashes: Vec<&str> = value["crashes"]
        .as_array()
        .context("crashes")?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(crashes.len(), 4, "{value}");
    assert!(
            crashes[0].contains(
                "its stderr ended with: starting with token [redacted] at https://[redacted]@h/x?[redacted]\nfatal: the token [redacted] was refused"
            ),
            "{}",
            crashes[0]
        );
    for crash in &crashes[1..] {
        // The end of stderr starts past the secret (none of which shows).
        assert!(
            crash.contains("its stderr ended with: ") && crash.contains(" was refused..."),
            "{crash}"
        );
    }
    Ok(())
}

#[bounded_test(multi_thread)]
async fn an_upstream_cannot_hand_codemode_serve_the_secret_it_was_given() -> Result<()> {
    let config = leaky_config("serve")?;
    let mut process = deadline::spawn(
        Command::new(BINARY)
            .args(["serve", "--config"])
            .arg(&config)
            .env(SECRET_VARIABLE, SECRET)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    )?;
    let client = stdio_client(&mut process).await;
    let (failed, value) = call(
        &client,
        "execute",
        r#"const echo = await leaky.echo({});
           const refused = await leaky.refuse({}).catch((e) => e.message);
           ({ token: echo.token, sentence: echo.sentence, refused })"#,
    )
    .await;
    let text = value.to_string();
    assert!(pieces_shown(&text).is_empty(), "{text}");
    assert!(!failed, "{value}");
    assert_eq!(
        value["result"],
        json!({
            "token": "[redacted]",
            "sentence": "the token is [redacted], keep it safe",
            "refused": "could not authenticate with [redacted]",
        }),
        "{value}"
    );
    let _ = client.cancel().await;
    Ok(())
}

#[bounded_test]
async fn an_unreachable_http_upstream_is_named_without_its_query() -> Result<()> {
    let path = scratch("unreachable").join("down.json");
    let url = format!(
        "http://127.0.0.1:{}/mcp?token=${{{SECRET_VARIABLE}}}",
        free_port()
    );
    std::fs::write(
        &path,
        json!({ "mcpServers": { "down": { "type": "http", "url": url } } }).to_string(),
    )?;
    let output = deadline::output(
        Command::new(BINARY)
            .args(["serve", "--config"])
            .arg(&path)
            .env(SECRET_VARIABLE, SECRET),
        b"",
    )
    .await?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("upstream MCP server `down`"), "{stderr}");
    assert!(stderr.contains("/mcp?[redacted]"), "{stderr}");
    assert!(
        pieces_shown(&stderr).is_empty() && !stderr.contains("token="),
        "{stderr}"
    );
    Ok(())
}

#[bounded_test(multi_thread)]
async fn an_http_upstream_gone_mid_run_is_named_without_its_query() {
    // An embedder without the CLI's config: the MCP client alone keeps the
    // URL's query out of what the script sees.
    let port = free_port();
    let server = everything_over_http(port);
    let config: UpstreamConfig = serde_json::from_value(json!({
        "type": "http",
        "url": format!("http://127.0.0.1:{port}/mcp?token={SECRET}"),
    }))
    .expect("an HTTP server");
    let everything = connect_once_listening("everything", &config, timeouts(5_000, 5_000)).await;
    drop(server);
    let outcome = run_granted(
            r#"
        const attempt = (f) => f().then(() => "answered", (e) => e.message);
        [await attempt(() => everything.echo({ message: "a" })), await attempt(() => everything.echo({ message: "b" }))]
        "#,
            &[("everything", everything)],
        )
        .await;
    let value = result(&outcome);
    let text = value.to_string();
    assert!(
        pieces_shown(&text).is_empty() && !text.contains("token="),
        "{text}"
    );
    // The call that finds it gone, then the restart that cannot reach it.
    assert!(
        text.contains(&format!("127.0.0.1:{port}/mcp?[redacted]")),
        "{text}"
    );
}
