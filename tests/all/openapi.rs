//! The OpenAPI connector against real HTTP servers on loopback: a recording
//! server that checks the credentials the host injects (and echoes them
//! back, to show they never reach the sandbox), a second origin that must
//! never be reached, and Prism mocking GitHub's description.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use codemode_mcp_server::{CodeModeServer, ServerOptions, TokenCounter, tool_list_tokens};
use codemode_openapi::Spec;
use codemode_openapi::{ApiConfig, ApiLimits, ApiTimeouts, Auth, OpenApiConnector, Secret};
use codemode_runtime::{Connector, Execution, Grants, Outcome};
use codemode_test_support::github::description_path;
use codemode_test_support::openapi::RECORDER;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::support::deadline::{self, bounded_by};
use crate::support::mcp::{
    Progress, call, client, free_port, http_server, tokens_row, tokens_table,
};
use crate::support::{BINARY, RUNTIME, bounded_test, npm, result, run_granted};

/// A request a server saw.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    /// Path and query as sent, still encoded.
    target: String,
    headers: HeaderMap,
}

/// What a server shares with its handler.
#[derive(Default)]
struct Record {
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    /// Where `/v1/redirect-away` sends the client.
    elsewhere: Mutex<String>,
    /// How long `/v1/wait` waits.
    wait: Mutex<Duration>,
}

impl Record {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("not poisoned").clone()
    }
}

/// The recording API at `/v1`, and another origin that records whatever
/// reaches it.
struct Servers {
    api: SocketAddr,
    record: Arc<Record>,
    elsewhere: Arc<Record>,
}

async fn start(record: Arc<Record>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let address = listener.local_addr().expect("an address");
    let app = axum::Router::new().fallback(handle).with_state(record);
    tokio::spawn(async move { axum::serve(listener, app).await });
    address
}

impl Servers {
    async fn start() -> Self {
        let elsewhere = Arc::new(Record::default());
        let other = start(Arc::clone(&elsewhere)).await;
        let record = Arc::new(Record::default());
        *record.elsewhere.lock().expect("not poisoned") = format!("http://{other}/stolen");
        *record.wait.lock().expect("not poisoned") = Duration::from_millis(150);
        let api = start(Arc::clone(&record)).await;
        Self {
            api,
            record,
            elsewhere,
        }
    }

    fn base_url(&self) -> String {
        format!("http://{}/v1", self.api)
    }

    fn config(&self, auth: Auth) -> ApiConfig {
        ApiConfig::new("unused")
            .base_url(self.base_url())
            .auth(auth)
    }
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Routes of the recording server, by hand so that the raw target is seen.
async fn handle(State(record): State<Arc<Record>>, request: Request) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let method = request.method().to_string();
    let headers = request.headers().clone();
    record.seen.lock().expect("not poisoned").push(Seen {
        method: method.clone(),
        target: target.clone(),
        headers: headers.clone(),
    });
    let running = record.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    record.most_in_flight.fetch_max(running, Ordering::SeqCst);
    let path = request.uri().path().to_owned();
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let header_map: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), json!(v.to_str().unwrap_or_default())))
        .collect();
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let response = match (method.as_str(), path.as_str()) {
        ("GET", "/v1/echo") => {
            let mut response = json_response(
                StatusCode::OK,
                json!({ "target": target, "headers": header_map }),
            );
            if let Ok(value) = authorization.parse() {
                response.headers_mut().insert("x-echo-authorization", value);
            }
            response
        }
        ("POST", "/v1/items") => {
            let item: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            json_response(StatusCode::CREATED, item)
        }
        ("GET", "/v1/redirect-away") => {
            let to = record.elsewhere.lock().expect("not poisoned").clone();
            (StatusCode::FOUND, [(header::LOCATION, to)]).into_response()
        }
        ("GET", "/v1/redirect-home") => (
            StatusCode::FOUND,
            [(header::LOCATION, "/v1/echo?from=redirect".to_owned())],
        )
            .into_response(),
        ("GET", "/v1/big") => json_response(StatusCode::OK, json!("x".repeat(2 << 20))),
        ("GET", "/v1/deep") => (
            [(header::CONTENT_TYPE, "application/json")],
            format!("{}{}", "[".repeat(100), "]".repeat(100)),
        )
            .into_response(),
        ("GET", "/v1/binary") => {
            // Whatever carried the credential, echoed in a binary body.
            let mut bytes = vec![0xff, 0xfe];
            bytes.extend_from_slice(authorization.as_bytes());
            bytes.push(0);
            bytes.extend_from_slice(headers.get("x-api-key").map_or(&[][..], |v| v.as_bytes()));
            bytes.push(0);
            let query = url_decode(target.split_once('?').map_or("", |(_, q)| q));
            bytes.extend_from_slice(query.as_bytes());
            (
                [(header::CONTENT_TYPE, "application/octet-stream")],
                Body::from(bytes),
            )
                .into_response()
        }
        ("GET", "/v1/wait") => {
            let wait = *record.wait.lock().expect("not poisoned");
            tokio::time::sleep(wait).await;
            json_response(StatusCode::OK, json!({ "waited": wait.as_millis() as u64 }))
        }
        ("GET", p) if p.starts_with("/v1/items/") => json_response(
            StatusCode::OK,
            json!({ "name": p.trim_start_matches("/v1/items/") }),
        ),
        ("GET", p) if p.starts_with("/v1/count/") => {
            json_response(StatusCode::OK, json!(p.trim_start_matches("/v1/count/")))
        }
        ("GET", p) if p.starts_with("/v1/status/") => {
            let code = p
                .trim_start_matches("/v1/status/")
                .parse()
                .ok()
                .and_then(|c| StatusCode::from_u16(c).ok())
                .unwrap_or(StatusCode::BAD_REQUEST);
            json_response(
                code,
                json!({ "message": format!("you sent {authorization} to {target}") }),
            )
        }
        _ => json_response(StatusCode::NOT_FOUND, json!({ "message": "no route" })),
    };
    record.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

/// The connector over the recording server's description.
fn connector(config: &ApiConfig) -> Arc<OpenApiConnector> {
    let spec = Spec::parse(RECORDER).expect("the test description parses");
    Arc::new(OpenApiConnector::new("api", Arc::new(spec), config).expect("the API sets up"))
}

/// Run `code` with `connector` granted as `api`.
pub(crate) async fn run(code: &str, connector: &Arc<OpenApiConnector>) -> Outcome {
    run_granted(code, &[("api", Arc::clone(connector))]).await
}

/// A script that makes the API echo the credentials every way it can, and
/// hands everything it received back.
const ECHO_EVERYTHING: &str = r#"
const seen = [];
const keep = (label, p) => p.then(r => seen.push([label, r]), e => seen.push([label, String(e), e.message]));
await keep("typed", api.echo({ q: "hello", tags: ["a", "b"], "X-Trace": "t-1" }));
await keep("request", api.request({ method: "GET", path: "/echo", query: { q: "raw" } }));
await keep("error", api.status({ code: 500 }));
await keep("error-request", api.request({ method: "GET", path: "/status/{code}", pathParams: { code: 403 } }));
await keep("binary", api.request({ method: "GET", path: "/binary" }));
await keep("redirected", api.request({ method: "GET", path: "/redirect-home" }));
console.log(JSON.stringify(seen));
seen
"#;

/// Whether a request the server saw carried the expected credential.
type CarriesCredential = Box<dyn Fn(&Seen) -> bool>;

#[bounded_test(multi_thread)]
async fn credentials_are_added_by_the_host_and_never_reach_the_sandbox() -> Result<()> {
    let servers = Servers::start().await;
    // Each kind of credential, with what the server must receive, and the
    // forms that must never reach the sandbox.
    let cases: Vec<(Auth, CarriesCredential, Vec<&str>)> = vec![
        (
            Auth::Bearer {
                token: Secret::new("tok-SECRET-1"),
            },
            Box::new(|seen: &Seen| {
                seen.headers.get("authorization").map(|v| v.as_bytes())
                    == Some(b"Bearer tok-SECRET-1".as_slice())
            }),
            vec!["tok-SECRET-1"],
        ),
        (
            Auth::Header {
                name: "X-Api-Key".into(),
                value: Secret::new("key/SECRET+2"),
            },
            Box::new(|seen: &Seen| {
                seen.headers.get("x-api-key").map(|v| v.as_bytes())
                    == Some(b"key/SECRET+2".as_slice())
            }),
            vec!["key/SECRET+2", "key\\/SECRET+2"],
        ),
        (
            Auth::Query {
                name: "api_key".into(),
                value: Secret::new("q SECRET&3"),
            },
            Box::new(|seen: &Seen| seen.target.contains("api_key=q+SECRET%263")),
            vec!["q SECRET&3", "q+SECRET%263", "SECRET%263", "SECRET&3"],
        ),
        (
            Auth::Basic {
                username: "ann".into(),
                password: Secret::new("pw:SECRET4"),
            },
            // base64("ann:pw:SECRET4")
            Box::new(|seen: &Seen| {
                seen.headers.get("authorization").map(|v| v.as_bytes())
                    == Some(b"Basic YW5uOnB3OlNFQ1JFVDQ=".as_slice())
            }),
            vec!["pw:SECRET4", "YW5uOnB3OlNFQ1JFVDQ="],
        ),
    ];
    for (auth, carries_credential, forms) in cases {
        let before = servers.record.seen().len();
        let api = connector(&servers.config(auth.clone()));
        let outcome = run(ECHO_EVERYTHING, &api).await;
        let seen = result(&outcome);
        let labels: Vec<&str> = seen
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|entry| entry[0].as_str())
            .collect();
        assert_eq!(
            labels,
            [
                "typed",
                "request",
                "error",
                "error-request",
                "binary",
                "redirected"
            ],
            "{auth:?}"
        );
        // The script saw the API work: the echo, the statuses, the redirect.
        assert_eq!(seen[0][1]["status"], 200, "{seen}");
        // A typed operation's reply is `{ data, status, headers }`.
        let target = seen[0][1]["data"]["target"].as_str().unwrap_or_default();
        assert!(
            target.starts_with("/v1/echo?q=hello&tags=a&tags=b"),
            "{target}"
        );
        assert_eq!(seen[0][1]["data"]["headers"]["x-trace"], "t-1");
        assert_eq!(
            seen[2][2].as_str().map(|m| m.contains("answered 500")),
            Some(true),
            "{seen}"
        );
        assert_eq!(seen[3][1]["status"], 403, "{seen}");
        assert_eq!(seen[4][1]["encoding"], "base64", "{seen}");
        let redirected = seen[5][1]["body"]["target"].as_str().unwrap_or_default();
        assert!(redirected.starts_with("/v1/echo?from=redirect"), "{seen}");

        // Every request reached the server with the credential...
        let requests = &servers.record.seen()[before..];
        assert_eq!(requests.len(), 7, "{requests:?}");
        for request in requests {
            assert!(carries_credential(request), "{auth:?}: {request:?}");
        }
        // ...and no form of it is anywhere in what the sandbox produced: the
        // result, the logs, and the base64 body decoded.
        let everything = serde_json::to_string(&outcome)?;
        let binary = seen[4][1]["body"].as_str().unwrap_or_default();
        let decoded = String::from_utf8_lossy(&base64_decode(binary)).into_owned();
        assert!(decoded.contains("[redacted]"), "{decoded}");
        for form in forms {
            assert!(!everything.contains(form), "{form} leaked: {everything}");
            assert!(!decoded.contains(form), "{form} leaked in the binary body");
        }
        assert!(everything.contains("[redacted]"), "{everything}");
    }
    assert!(servers.elsewhere.seen().is_empty());
    Ok(())
}

/// A query string with `+` and `%XX` decoded.
fn url_decode(text: &str) -> String {
    percent_decode(&text.replace('+', " "))
}

/// `%XX` decoded, either case (`+` left alone: the canary holds one).
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut index = 0;
    while index < bytes.len() {
        let hex = bytes
            .get(index + 1..index + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[index], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                index += 3;
            }
            (byte, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Standard base64, decoded by hand: the test must not trust the crate it
/// checks.
pub(crate) fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes().filter(|b| *b != b'=') {
        let Some(value) = ALPHABET.iter().position(|a| *a == byte) else {
            continue;
        };
        bits = (bits << 6) | value as u32;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

#[bounded_test(multi_thread)]
async fn requests_stay_on_allowed_origins_and_under_the_base_path() -> Result<()> {
    let servers = Servers::start().await;
    let api = connector(&servers.config(Auth::Bearer {
        token: Secret::new("tok-SECRET-5"),
    }));
    let code = r#"
const attempt = async (p) => { try { const r = await p; return r.body; } catch (e) { return e.message; } };
({
  encoded: await attempt(api.items_get({ id: "a/b c?d#e" })),
  dotdot: await attempt(api.items_get({ id: ".." })),
  hidden: await attempt(api.items_get({ id: "x/../../admin" })),
  rawDotdot: await attempt(api.request({ method: "GET", path: "/items/../../admin" })),
  encodedDotdot: await attempt(api.request({ method: "GET", path: "/items/%2E%2e/x" })),
  away: await attempt(api.request({ method: "GET", path: "/redirect-away" })),
  absolute: await attempt(api.request({ method: "GET", path: "https://elsewhere.example/x" })),
  crlf: await attempt(api.echo({ "X-Trace": "a\r\nX-Injected: 1" })),
  ownAuth: await attempt(api.request({ method: "GET", path: "/echo", headers: { Authorization: "Bearer mine" } })),
  relative: await attempt(api.request({ method: "GET", path: "echo" })),
})
"#;
    let outcome = run(code, &api).await;
    let got = result(&outcome);
    assert_eq!(got["encoded"]["name"], "a%2Fb%20c%3Fd%23e", "{got}");
    for (key, expected) in [
        ("dotdot", "would step outside its path segment"),
        ("hidden", "would step outside its path segment"),
        ("rawDotdot", "holds a `.` or `..` segment"),
        ("encodedDotdot", "holds a `.` or `..` segment"),
        ("away", "redirected elsewhere, refused"),
        (
            "absolute",
            "https://elsewhere.example is not an origin this API may reach",
        ),
        ("crlf", "the header `X-Trace` holds a CR or LF"),
        ("ownAuth", "the header `Authorization` is set by the host"),
        ("relative", "must start with `/`"),
    ] {
        let message = got[key].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{key}: {message}");
        assert!(message.starts_with("`api."), "{key}: {message}");
    }
    // Only the encoded item and the redirect reached the API; nothing
    // reached the other origin.
    let targets: Vec<String> = servers
        .record
        .seen()
        .iter()
        .map(|s| s.target.clone())
        .collect();
    assert_eq!(
        targets,
        ["/v1/items/a%2Fb%20c%3Fd%23e", "/v1/redirect-away"]
    );
    assert!(servers.elsewhere.seen().is_empty());

    // An origin the configuration allows is reached, without the
    // credentials; so is a redirect to it.
    let other = servers
        .record
        .elsewhere
        .lock()
        .expect("not poisoned")
        .clone();
    let origin = other.trim_end_matches("/stolen").to_owned();
    let api = connector(
        &servers
            .config(Auth::Bearer {
                token: Secret::new("tok-SECRET-5"),
            })
            .origin(&origin),
    );
    let code = format!(
        r#"[(await api.request({{ method: "GET", path: "/redirect-away" }})).status,
            (await api.request({{ method: "GET", path: "{origin}/direct" }})).status]"#
    );
    let outcome = run(&code, &api).await;
    assert_eq!(result(&outcome), json!([404, 404]));
    let reached = servers.elsewhere.seen();
    let targets: Vec<&str> = reached.iter().map(|s| s.target.as_str()).collect();
    assert_eq!(targets, ["/stolen", "/direct"]);
    assert!(
        reached
            .iter()
            .all(|s| s.headers.get("authorization").is_none())
    );
    Ok(())
}

#[bounded_test(multi_thread)]
async fn responses_are_capped_before_they_reach_the_sandbox() -> Result<()> {
    let servers = Servers::start().await;
    let mut limits = ApiLimits::default();
    limits.response_bytes = 1 << 20;
    limits.json_depth = 64;
    let api = connector(
        &servers
            .config(Auth::Bearer {
                token: Secret::new("tok-SECRET-6"),
            })
            .limits(limits),
    );
    let code = r#"
const attempt = async (p) => { try { return (await p).status; } catch (e) { return e.message; } };
({ big: await attempt(api.request({ method: "GET", path: "/big" })),
   deep: await attempt(api.request({ method: "GET", path: "/deep" })) })
"#;
    let outcome = run(code, &api).await;
    let got = result(&outcome);
    let big = got["big"].as_str().unwrap_or_default();
    assert!(big.contains("larger than 1048576 bytes"), "{big}");
    assert!(big.contains("limits.responseBytes"), "{big}");
    let deep = got["deep"].as_str().unwrap_or_default();
    assert!(deep.contains("nests deeper than 64 levels"), "{deep}");
    Ok(())
}

#[bounded_test(multi_thread)]
async fn requests_per_run_concurrency_and_time_are_capped() -> Result<()> {
    let servers = Servers::start().await;
    let mut limits = ApiLimits::default();
    limits.requests_per_run = 6;
    limits.concurrent_requests = 2;
    let api = connector(
        &servers
            .config(Auth::Bearer {
                token: Secret::new("tok-SECRET-7"),
            })
            .limits(limits),
    );
    let code = r#"
const six = await Promise.all([1, 2, 3, 4, 5, 6].map(() => api.wait()));
let seventh; try { await api.wait(); } catch (e) { seventh = e.message; }
({ six: six.map(r => r.status), seventh })
"#;
    for _ in 0..2 {
        let outcome = run(code, &api).await;
        let got = result(&outcome);
        // Each run has its own budget.
        assert_eq!(got["six"], json!([200, 200, 200, 200, 200, 200]));
        let seventh = got["seventh"].as_str().unwrap_or_default();
        assert!(seventh.contains("made its 6 requests"), "{seventh}");
    }
    assert_eq!(servers.record.most_in_flight.load(Ordering::SeqCst), 2);

    *servers.record.wait.lock().expect("not poisoned") = Duration::from_secs(5);
    let mut timeouts = ApiTimeouts::default();
    timeouts.request = Duration::from_millis(200);
    let api = connector(
        &servers
            .config(Auth::Bearer {
                token: Secret::new("tok-SECRET-7"),
            })
            .timeouts(timeouts),
    );
    let started = Instant::now();
    let outcome = run("try { await api.wait(); } catch (e) { e.message }", &api).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let message = result(&outcome).as_str().unwrap_or_default().to_owned();
    assert!(
        message.contains("no complete response within 200 ms"),
        "{message}"
    );
    Ok(())
}

#[bounded_test(multi_thread)]
async fn bad_arguments_and_forbidden_methods_are_clear_errors() -> Result<()> {
    let servers = Servers::start().await;
    let api = connector(
        &servers
            .config(Auth::Bearer {
                token: Secret::new("tok-SECRET-8"),
            })
            .methods(["GET"]),
    );
    let code = r#"
const attempt = async (f) => { try { const r = await f(); return r.status; } catch (e) { return e.message; } };
({
  count: await attempt(() => api.count({ n: 3 })),
  wrongType: await attempt(() => api.count({ n: "three" })),
  fraction: await attempt(() => api.count({ n: 1.5 })),
  missing: await attempt(() => api.count({})),
  unknown: await attempt(() => api.count({ n: 1, m: 2 })),
  query: await attempt(() => api.echo({ tags: "not-a-list" })),
  notAnObject: await attempt(() => api.count(7)),
  post: await attempt(() => api.request({ method: "POST", path: "/items", body: { name: "x" } })),
  typo: await attempt(() => api.request({ method: "GET", pth: "/echo" })),
  noOperation: await attempt(() => api.items_create({ body: { name: "x" } })),
})
"#;
    let outcome = run(code, &api).await;
    let got = result(&outcome);
    assert_eq!(got["count"], 200, "{got}");
    for (key, expected) in [
        (
            "wrongType",
            "`api.count`: `n` must be an integer, got the string \"three\"",
        ),
        (
            "fraction",
            "`api.count`: `n` must be an integer, got the number 1.5",
        ),
        ("missing", "`api.count`: needs `n` (path parameter)"),
        ("unknown", "`api.count`: has no argument `m`; it takes `n`"),
        (
            "query",
            "`api.echo`: `tags` must be an array, got the string \"not-a-list\"",
        ),
        (
            "notAnObject",
            "`api.count`: expects an object, got a number",
        ),
        ("post", "`api.request`: this API allows only GET, not POST"),
        ("typo", "`api.request`: unknown field `pth`"),
        // POST operations are not in a read-only namespace at all.
        ("noOperation", "not a function"),
    ] {
        let message = got[key].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{key}: {message}");
    }
    // Only the one good call reached the server.
    assert_eq!(servers.record.seen().len(), 1);
    // Uncaught, calling an operation the namespace does not have names it,
    // with the operations a typo may have meant.
    let outcome = run("const made = await api.items_create({});", &api).await;
    let error = outcome.error.as_ref().context("the run should fail")?;
    // At the name, `items_create`.
    assert_eq!((error.line, error.column), (Some(1), Some(24)));
    assert!(
        error.message.starts_with(
            "`api.items_create` is not a function: no method is named `api.items_create`"
        ),
        "{error:?}"
    );
    let outcome = run("await api.cuont({ n: 1 })", &api).await;
    let error = outcome.error.as_ref().context("the run should fail")?;
    assert!(
        error.message.contains("close matches: `api.count`"),
        "{error:?}"
    );

    // With POST allowed, the body is checked against the description (and
    // its cyclic schema) and sent as JSON.
    let api = connector(&servers.config(Auth::Bearer {
        token: Secret::new("tok-SECRET-8"),
    }));
    let code = r#"
const made = await api.items_create({ body: { name: "child", parent: { name: "root" } } });
const flat = await api.items_create({ name: "flat", parent: { name: "root" } });
let noBody; try { await api.items_create({}); } catch (e) { noBody = e.message; }
let wrongBody; try { await api.items_create({ body: ["x"] }); } catch (e) { wrongBody = e.message; }
let wrongField; try { await api.items_create({ name: 7 }); } catch (e) { wrongField = e.message; }
let both; try { await api.items_create({ name: "a", body: { name: "b" } }); } catch (e) { both = e.message; }
({ status: made.status, made: made.body, flat: flat.data, noBody, wrongBody, wrongField, both })
"#;
    let outcome = run(code, &api).await;
    let got = result(&outcome);
    assert_eq!(got["status"], 201);
    assert_eq!(
        got["made"],
        json!({ "name": "child", "parent": { "name": "root" } })
    );
    // The body's fields may sit beside the parameters, as with Octokit.
    assert_eq!(
        got["flat"],
        json!({ "name": "flat", "parent": { "name": "root" } })
    );
    assert_eq!(
        got["noBody"],
        "`api.items_create`: needs `name` (a field of the request body)"
    );
    assert_eq!(
        got["wrongBody"],
        "`api.items_create`: the request body must be an object, got an array"
    );
    assert_eq!(
        got["wrongField"],
        "`api.items_create`: `name` must be a string, got the number 7"
    );
    assert_eq!(
        got["both"],
        "`api.items_create`: give the request body whole under `body` or field by field, not both (`name` is a field)"
    );
    let posted = servers
        .record
        .seen()
        .into_iter()
        .last()
        .context("a request")?;
    assert_eq!(posted.method, "POST");
    assert_eq!(
        posted.headers.get("content-type").map(|v| v.as_bytes()),
        Some(b"application/json".as_slice())
    );
    Ok(())
}

/// Prism, mocking GitHub's description; killed when dropped.
pub(crate) struct Prism {
    _child: Child,
    pub(crate) port: u16,
}

/// How long Prism may take to listen: it reads GitHub's 10 MB description
/// first, in about 15 s on an idle two-core machine.
impl Prism {
    /// GitHub's API at this Prism, with a bearer `token`.
    pub(crate) fn github(&self, token: &str) -> ApiConfig {
        ApiConfig::new(description_path())
            .base_url(format!("http://127.0.0.1:{}", self.port))
            .auth(Auth::Bearer {
                token: Secret::new(token),
            })
    }
}

pub(crate) const PRISM_STARTUP: Duration = Duration::from_secs(120);

pub(crate) async fn start_prism() -> Result<Prism> {
    let port = free_port();
    let child = deadline::spawn(
        Command::new(npm("node_modules/.bin/prism"))
            .args(["mock", "--host", "127.0.0.1", "--port", &port.to_string()])
            .arg(description_path())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
    .context("run `scripts/setup` to install the test packages")?;
    let prism = Prism {
        _child: child,
        port,
    };
    let deadline = Instant::now() + PRISM_STARTUP;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "Prism did not listen within {} s",
            PRISM_STARTUP.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(prism)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_through_prism() -> Result<()> {
    bounded_by(PRISM_STARTUP + deadline::TEST_DEADLINE, async {
        let prism = start_prism().await?;
        let config = prism.github("ghp_SECRET_9");
        let github = Arc::new(OpenApiConnector::load("github", &config)?);
        assert_eq!(github.methods().len(), 1 + 1223);
        let code = r#"
const repo = await github.repos_get({ owner: "octocat", repo: "Hello-World" });
const issues = await github.issues_list_for_repo({ owner: "octocat", repo: "Hello-World", state: "open", per_page: 5 });
const raw = await github.request({ method: "GET", path: "/repos/{owner}/{repo}/pulls", pathParams: { owner: "octocat", repo: "Hello-World" } });
let wrongType; try { await github.issues_get({ owner: "octocat", repo: "Hello-World", issue_number: "one" }); } catch (e) { wrongType = e.message; }
const invalid = await github.request({ method: "GET", path: "/repos/octocat/Hello-World/issues/abc" });
const missing = await github.request({ method: "GET", path: "/repos/octocat/Hello-World", headers: { Prefer: "code=404" } });
({ status: repo.status, name: repo.body.full_name, owner: repo.body.owner.login,
   issues: Array.isArray(issues.body), pulls: raw.status, wrongType,
   invalid: [invalid.status, invalid.headers["content-type"]], missing: missing.status })
"#;
        let connector: Arc<dyn Connector> = github;
        let grants = Grants::new().grant("github", connector)?;
        let outcome = RUNTIME
            .execute(Execution::new(code).grants(Arc::new(grants)))
            .await?;
        let got = result(&outcome);
        assert_eq!(got["status"], 200, "{got}");
        assert_eq!(got["name"], "octocat/Hello-World");
        assert_eq!(got["owner"], "octocat");
        assert_eq!(got["issues"], true);
        assert_eq!(got["pulls"], 200);
        assert_eq!(
            got["wrongType"],
            "`github.issues_get`: `issue_number` must be an integer, got the string \"one\""
        );
        // Prism checks requests against the description: `request` sends
        // what typed functions would refuse, and resolves with Prism's 422.
        assert_eq!(got["invalid"], json!([422, "application/problem+json"]));
        assert_eq!(got["missing"], 404);
        assert!(!serde_json::to_string(&outcome)?.contains("ghp_SECRET_9"));

        // The bundled read-only example through the command line.
        let script = std::env::temp_dir().join(format!("codemode-github-{}.ts", std::process::id()));
        std::fs::write(
            &script,
            r#"const r = await github.repos_get({ owner: "octocat", repo: "Hello-World" });
           [r.body.full_name, typeof github.issues_create]"#,
        )?;
        let output = deadline::output(
            Command::new(BINARY)
                .args(["run", "--json", "--config"])
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/github.json"))
                .arg(&script)
                .env("GITHUB_TOKEN", "ghp_SECRET_10")
                .env("GITHUB_API_URL", format!("http://127.0.0.1:{}", prism.port)),
            b"",
        )
        .await?;
        let printed: Value = serde_json::from_slice(&output.stdout)?;
        assert_eq!(
            printed["result"],
            json!(["octocat/Hello-World", "undefined"]),
            "{printed}"
        );

        // Served: two tools at rest, one `execute` reaching the API.
        let github = Arc::new(OpenApiConnector::load("github", &config)?);
        let (http, url) = http_server(vec![("github", github)], ServerOptions::default()).await;
        let client = client(&url, Progress::default()).await;
        let tools = client.list_all_tools().await?;
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names, ["search", "execute"]);
        let tokens = tool_list_tokens(&TokenCounter::o200k(), &tools);
        assert!(tokens <= 1_000, "{tokens} tokens");
        let (failed, found) = call(
            &client,
            "search",
            r#"(await codemode.search("get a repository", { limit: 3 })).map(m => m.name)"#,
        )
        .await;
        assert!(!failed, "{found}");
        assert_eq!(found["result"][0], "github.repos_get", "{found}");
        assert!(
            tools[0]
                .description
                .as_deref()
                .is_some_and(|d| d.contains("`spec.github.paths[")),
            "{:?}",
            tools[0].description
        );
        // The description itself, read lazily: a Cloudflare-style scan, and a
        // schema reached through `$ref`s.
        let (failed, found) = call(
            &client,
            "search",
            r#"const ops = [];
for (const [path, item] of Object.entries(spec.github.paths))
  for (const [method, op] of Object.entries(item))
    if (op.tags?.includes("gists") && method === "get") ops.push(`${method} ${path}`);
const schema = spec.github.paths["/repos/{owner}/{repo}"].get.responses["200"].content["application/json"].schema;
({ ops: ops.length, first: ops[0], owner: schema.properties.owner.properties.login.type })"#,
        )
        .await;
        assert!(!failed, "{found}");
        assert_eq!(found["result"]["first"], "get /gists", "{found}");
        assert!(
            found["result"]["ops"].as_u64().is_some_and(|n| n > 5),
            "{found}"
        );
        assert_eq!(found["result"]["owner"], "string", "{found}");
        let (failed, value) = call(
            &client,
            "execute",
            r#"const r = await github.repos_get({ owner: "octocat", repo: "Hello-World" }); r.body.full_name"#,
        )
        .await;
        assert!(!failed, "{value}");
        assert_eq!(value["result"], "octocat/Hello-World");
        let _ = client.cancel().await;
        http.stop().await?;
        anyhow::Ok(())
    })
    .await
}

#[bounded_test(multi_thread)]
async fn search_code_reads_the_description_with_cycles_marked() -> Result<()> {
    let api = connector(&ApiConfig::new("unused").base_url("http://127.0.0.1:9/v1"));
    let (http, url) = http_server(vec![("api", api)], ServerOptions::default()).await;
    let client = client(&url, Progress::default()).await;
    let (failed, found) = call(
            &client,
            "search",
            r#"const created = spec.api.paths["/items"].post.requestBody.content["application/json"].schema;
({ text: JSON.stringify(created), keys: Object.keys(spec.api.paths),
   frozen: Object.isFrozen(spec.api.paths) })"#,
        )
        .await;
    assert!(!failed, "{found}");
    let result = &found["result"];
    // `item.parent` is an `item`: the walk ends where the cycle starts.
    assert_eq!(
        result["text"],
        r##"{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"parent":{"$ref":"#/components/schemas/item","$circular":true}}}"##,
        "{found}"
    );
    assert_eq!(
        result["keys"],
        json!([
            "/echo",
            "/items/{id}",
            "/items",
            "/count/{n}",
            "/status/{code}",
            "/wait"
        ])
    );
    assert_eq!(result["frozen"], true);
    let _ = client.cancel().await;
    http.stop().await?;

    // `spec` and `tools` are taken by search code: a server refuses them as
    // namespaces when it starts, not at every search.
    let runtime = Arc::new(codemode_runtime::Runtime::new()?);
    for (names, refused) in [
        (
            ["spec", "other"],
            Some("`spec` cannot name a server or API here"),
        ),
        (
            ["api", "tools"],
            Some("`tools` cannot name a server or API here"),
        ),
        (["api", "other"], None),
    ] {
        let connectors = names
            .into_iter()
            .map(|name| {
                let api = connector(&ApiConfig::new("unused").base_url("http://127.0.0.1:9/v1"));
                (name.to_owned(), api as Arc<dyn Connector>)
            })
            .collect();
        let started =
            CodeModeServer::new(Arc::clone(&runtime), connectors, ServerOptions::default());
        match (started, refused) {
            (Ok(_), None) => {}
            (Err(error), Some(expected)) => {
                assert!(error.to_string().starts_with(expected), "{error}");
            }
            (Ok(_), Some(expected)) => anyhow::bail!("started, though {expected}"),
            (Err(error), None) => return Err(error.into()),
        }
    }
    Ok(())
}

#[bounded_test]
async fn codemode_tokens_weighs_an_api_against_one_tool_per_operation() -> Result<()> {
    let config = json!({ "openapi": { "github": {
        "spec": description_path(),
        "auth": { "type": "bearer", "token": "${GITHUB_TOKEN:-unused-token}" } } } });
    let rows = tokens_table("openapi-tokens", &config).await?;
    let (operations, native) = tokens_row(&rows, "github")?;
    let (tools, tokens) = tokens_row(&rows, "codemode")?;
    assert_eq!((operations, tools), (1223, 2), "{rows:?}");
    assert!(tokens <= 1_000, "{rows:?}");
    assert!(native > 1_000 * tokens, "{rows:?}");
    Ok(())
}

#[tokio::test]
async fn describe_is_brief_and_expands_the_types_it_leaves_named() -> Result<()> {
    // Nothing is sent: describing reads the description only.
    let config = ApiConfig::new(description_path()).base_url("https://api.github.com");
    let github: Arc<dyn Connector> = Arc::new(OpenApiConnector::load("github", &config)?);
    let grants = Arc::new(Grants::new().grant("github", github)?);
    let code = r#"
const brief = codemode.describe("github.issues_list_for_repo");
const expanded = codemode.describe("github.issues_list_for_repo", { expand: ["SimpleUser", "Label"] });
const alone = codemode.describe("github.SimpleUser");
let unknown; try { codemode.describe("github.NoSuchType"); } catch (e) { unknown = e.message; }
let badExpand; try { codemode.describe("github.repos_get", { expand: "SimpleUser" }); } catch (e) { badExpand = e.message; }
({ brief: brief.declaration, expanded: expanded.declaration, alone, unknown, badExpand })
"#;
    let outcome = RUNTIME.execute(Execution::new(code).grants(grants)).await?;
    let got = result(&outcome);
    let brief = got["brief"].as_str().unwrap_or_default();
    assert!(brief.contains("type Issue = {"), "{brief}");
    assert!(!brief.contains("type SimpleUser = {"), "{brief}");
    assert!(
        brief.contains("// Not declared here: NullableSimpleUser, SimpleUser,"),
        "{brief}"
    );
    assert!(!brief.contains("@example"), "{brief}");
    let expanded = got["expanded"].as_str().unwrap_or_default();
    assert!(expanded.starts_with(brief), "{expanded}");
    assert!(
        expanded.contains("type SimpleUser = {") && expanded.contains("type Label = {"),
        "{expanded}"
    );
    assert_eq!(got["alone"]["name"], "github.SimpleUser");
    assert!(
        got["alone"]["declaration"]
            .as_str()
            .is_some_and(|d| d.starts_with(
                "declare namespace github {\n    /** A GitHub user. */\n    type SimpleUser = {"
            )),
        "{}",
        got["alone"]
    );
    assert!(
        got["unknown"]
            .as_str()
            .is_some_and(|m| m.contains("no method is named `github.NoSuchType`")),
        "{}",
        got["unknown"]
    );
    assert!(
        got["badExpand"]
            .as_str()
            .is_some_and(|m| m.contains("`expand` must be an array")),
        "{}",
        got["badExpand"]
    );
    Ok(())
}
