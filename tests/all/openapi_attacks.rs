//! The attacks of a hostile script on the OpenAPI connector's credential,
//! replayed against a real echo server on loopback: asking for compressed,
//! partial or re-encoded replies, servers that compress or re-encode
//! anyway, and requests that try to leave the base path or supply the
//! query credential themselves. Each test looks for the canary credential
//! in every form a script could decode from what it got.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Result;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use codemode_openapi::Spec;
use codemode_openapi::{ApiConfig, Auth, OpenApiConnector, Secret};
use codemode_runtime::Outcome;
use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};
use serde_json::{Map, Value, json};

use crate::openapi::{base64_decode, percent_decode, run};
use crate::support::{bounded_test, result};

/// The credential: a separator, a plus and letters, so that every escape
/// and encoding of it differs from it.
const CANARY: &str = "canary/Secret+Tok3n";

/// The echo server's description.
const SPEC: &str = r##"
openapi: 3.1.0
info: {title: echo, version: "1"}
paths:
  /echo:
    get:
      operationId: echo
      parameters:
        - {name: q, in: query, schema: {type: string}}
        - {name: api_key, in: query, schema: {type: string}}
        - {name: _method, in: query, schema: {type: string}}
      responses: {"200": {description: ok}}
"##;

/// A request the server saw.
#[derive(Clone, Debug)]
struct Seen {
    /// Path and query as sent, still encoded.
    target: String,
    headers: HeaderMap,
}

/// Every request the echo server saw.
#[derive(Default)]
struct Record(Mutex<Vec<Seen>>);

impl Record {
    fn seen(&self) -> Vec<Seen> {
        self.0.lock().expect("not poisoned").clone()
    }
}

/// The echo server, its API under `/api`.
struct EchoServer {
    address: SocketAddr,
    record: Arc<Record>,
}

impl EchoServer {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds");
        let address = listener.local_addr().expect("an address");
        let record = Arc::new(Record::default());
        let app = axum::Router::new()
            .fallback(echo)
            .with_state(Arc::clone(&record));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { address, record }
    }

    /// The API's configuration, with `auth`.
    fn config(&self, auth: Auth) -> ApiConfig {
        ApiConfig::new("unused")
            .base_url(format!("http://{}/api", self.address))
            .auth(auth)
    }
}

/// The connector over the echo server's description.
fn connector(config: &ApiConfig) -> Arc<OpenApiConnector> {
    let spec = Spec::parse(SPEC).expect("the test description parses");
    Arc::new(OpenApiConnector::new("api", Arc::new(spec), config).expect("the API sets up"))
}

/// A kind of credential carrying the canary, the forms a server receives
/// it in (what a leak would show), and whether a request the server saw
/// carried it.
type Credential = (Auth, Vec<String>, fn(&Seen) -> bool);

/// Every kind of credential.
fn credentials() -> Vec<Credential> {
    let basic = base64_encode(format!("ann:{CANARY}").as_bytes());
    vec![
        (
            Auth::Bearer {
                token: Secret::new(CANARY),
            },
            vec![CANARY.to_owned()],
            |seen: &Seen| header_is(seen, "authorization", &format!("Bearer {CANARY}")),
        ),
        (
            Auth::Header {
                name: "X-Api-Key".into(),
                value: Secret::new(CANARY),
            },
            vec![CANARY.to_owned()],
            |seen: &Seen| header_is(seen, "x-api-key", CANARY),
        ),
        (
            Auth::Query {
                name: "api_key".into(),
                value: Secret::new(CANARY),
            },
            vec![CANARY.to_owned()],
            |seen: &Seen| seen.target.contains("api_key=canary%2FSecret%2BTok3n"),
        ),
        (
            Auth::Basic {
                username: "ann".into(),
                password: Secret::new(CANARY),
            },
            vec![CANARY.to_owned(), basic],
            |seen: &Seen| {
                let expected = base64_encode(format!("ann:{CANARY}").as_bytes());
                header_is(seen, "authorization", &format!("Basic {expected}"))
            },
        ),
    ]
}

fn header_is(seen: &Seen, name: &str, value: &str) -> bool {
    seen.headers.get(name).map(|v| v.as_bytes()) == Some(value.as_bytes())
}

/// The request as JSON: method, target, headers and body.
fn echoed(method: &str, target: &str, headers: &HeaderMap, body: &[u8]) -> Value {
    let headers: Map<String, Value> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), json!(String::from_utf8_lossy(v.as_bytes()))))
        .collect();
    json!({
        "method": method,
        "target": target,
        "headers": headers,
        "body": String::from_utf8_lossy(body),
    })
}

/// The echo server: each route re-encodes the echo its own way.
async fn echo(State(record): State<Arc<Record>>, request: Request) -> Response {
    let target = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let path = request.uri().path().to_owned();
    let method = request.method().to_string();
    let headers = request.headers().clone();
    record.0.lock().expect("not poisoned").push(Seen {
        target: target.clone(),
        headers: headers.clone(),
    });
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let echo = echoed(&method, &target, &headers, &body);
    let text = echo.to_string();
    let asked = |name: &str| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let reply = |content_type: &str, bytes: Vec<u8>| {
        (
            [(header::CONTENT_TYPE, content_type.to_owned())],
            Body::from(bytes),
        )
            .into_response()
    };
    let encoded = |coding: &str, content_type: &str, bytes: Vec<u8>| {
        (
            [
                (header::CONTENT_TYPE, content_type.to_owned()),
                (header::CONTENT_ENCODING, coding.to_owned()),
            ],
            Body::from(bytes),
        )
            .into_response()
    };
    match path.trim_start_matches("/api") {
        // Gzipped when asked, as most servers do.
        "/echo" if asked("accept-encoding").is_some_and(|a| a.contains("gzip")) => {
            encoded("gzip", "application/json", gzip(text.as_bytes()))
        }
        // A slice when asked, as most servers do.
        "/echo" if asked("range").is_some() => {
            let cut = text.len() / 2;
            (
                StatusCode::PARTIAL_CONTENT,
                [(header::CONTENT_TYPE, "application/json")],
                text[cut..].to_owned(),
            )
                .into_response()
        }
        "/echo" => reply("application/json", text.into_bytes()),
        "/echo/gzip" => encoded("gzip", "application/json", gzip(text.as_bytes())),
        "/echo/gzip-text" => encoded("x-gzip", "text/plain", gzip(text.as_bytes())),
        "/echo/deflate" => {
            let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(text.as_bytes()).expect("writes");
            encoded(
                "deflate",
                "application/json",
                encoder.finish().expect("finishes"),
            )
        }
        "/echo/utf16" => reply(
            "application/json; charset=utf-16le",
            text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        ),
        "/echo/utf16-undeclared" => {
            let mut bytes = vec![0xfe, 0xff];
            bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
            reply("application/octet-stream", bytes)
        }
        "/echo/utf32" => reply(
            "application/octet-stream",
            text.chars()
                .flat_map(|c| u32::from(c).to_le_bytes())
                .collect(),
        ),
        "/echo/escaped" => reply("text/plain", escaped_json(&echo).into_bytes()),
        "/echo/escaped-json" => reply("application/json", escaped_json(&echo).into_bytes()),
        "/echo/percent" => reply(
            "text/plain",
            text.bytes()
                .map(|b| format!("%{b:02x}"))
                .collect::<String>()
                .into_bytes(),
        ),
        "/echo/html" => reply(
            "text/html",
            text.chars()
                .map(|c| match c {
                    c if c.is_ascii_alphanumeric() => c.to_string(),
                    '&' => "&amp;".to_owned(),
                    c if u32::from(c) % 2 == 0 => format!("&#{};", u32::from(c)),
                    c => format!("&#x{:X};", u32::from(c)),
                })
                .collect::<String>()
                .into_bytes(),
        ),
        "/bomb" => encoded("gzip", "application/json", bomb().to_vec()),
        "/brotli" => encoded("br", "application/json", vec![0x1b, 0x2d, 0x00, 0x00]),
        _ => (StatusCode::NOT_FOUND, echo.to_string()).into_response(),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).expect("writes");
    encoder.finish().expect("finishes")
}

/// 64 MiB of zeros, gzipped: about 64 KiB.
fn bomb() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut encoder =
            flate2::read::GzEncoder::new(std::io::repeat(0).take(64 << 20), Compression::best());
        let mut bytes = Vec::new();
        encoder.read_to_end(&mut bytes).expect("compresses");
        bytes
    })
}

/// `value` as JSON text with `/` as `\/` and every other character of its
/// strings that is not a letter or digit as `\u00XX` (hex in either case).
fn escaped_json(value: &Value) -> String {
    match value {
        Value::String(text) => {
            let mut out = String::from("\"");
            for (index, c) in text.chars().enumerate() {
                match c {
                    '/' => out.push_str("\\/"),
                    c if c.is_ascii_alphanumeric() => out.push(c),
                    c if index % 2 == 0 => out.push_str(&format!("\\u{:04X}", u32::from(c))),
                    c => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                }
            }
            out.push('"');
            out
        }
        Value::Object(fields) => {
            let members: Vec<String> = fields
                .iter()
                .map(|(key, v)| {
                    format!(
                        "{}:{}",
                        escaped_json(&Value::String(key.clone())),
                        escaped_json(v)
                    )
                })
                .collect();
            format!("{{{}}}", members.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(escaped_json).collect();
            format!("[{}]", items.join(","))
        }
        other => other.to_string(),
    }
}

/// Standard base64, by hand: the test must not trust the crate it checks.
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let bits = chunk
            .iter()
            .enumerate()
            .fold(0u32, |bits, (i, b)| bits | u32::from(*b) << (16 - 8 * i));
        for index in 0..4 {
            if index <= chunk.len() {
                out.push(char::from(
                    ALPHABET[(bits >> (18 - 6 * index) & 63) as usize],
                ));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every text a script could decode from `text`: as it is, with JSON or
/// JavaScript escapes undone, percent-decoded, HTML references undone,
/// without NULs (UTF-16 or UTF-32 of ASCII), and, when it is base64, what
/// it decodes to (inflated too, as UTF-8, UTF-16 or UTF-32), each of them
/// decoded again the same ways.
fn readings(text: &str) -> Vec<String> {
    let mut texts = vec![text.to_owned()];
    let bytes = base64_decode(text);
    if text.len() >= 8 && !bytes.is_empty() {
        let mut blobs = vec![bytes.clone()];
        for inflated in [
            read_all(flate2::read::MultiGzDecoder::new(bytes.as_slice())),
            read_all(flate2::read::ZlibDecoder::new(bytes.as_slice())),
            read_all(flate2::read::DeflateDecoder::new(bytes.as_slice())),
        ]
        .into_iter()
        .flatten()
        {
            blobs.push(inflated);
        }
        for blob in blobs {
            texts.push(String::from_utf8_lossy(&blob).into_owned());
            for odd in [0, 1] {
                let units: Vec<u16> = blob[odd..]
                    .chunks_exact(2)
                    .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                    .collect();
                texts.push(String::from_utf16_lossy(&units));
                let swapped: Vec<u16> = units.iter().map(|u| u.swap_bytes()).collect();
                texts.push(String::from_utf16_lossy(&swapped));
            }
        }
    }
    let mut readings = Vec::new();
    for text in texts {
        let plain = text.replace('\0', "");
        for once in [text, plain] {
            for reading in [
                unescape(&once),
                percent_decode(&once),
                html_decode(&once),
                percent_decode(&unescape(&once)),
                once,
            ] {
                readings.push(reading);
            }
        }
    }
    readings
}

fn read_all(mut reader: impl Read) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    reader.by_ref().take(1 << 24).read_to_end(&mut out).ok()?;
    Some(out)
}

/// JSON and JavaScript escapes undone (`\/`, `\uXXXX`, `\xXX`).
fn unescape(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut units: Vec<u16> = Vec::new();
    let mut index = 0;
    let hex = |from: usize, digits: usize| {
        let digits: String = chars.get(from..from + digits)?.iter().collect();
        u16::from_str_radix(&digits, 16).ok()
    };
    while index < chars.len() {
        match (chars[index], chars.get(index + 1)) {
            ('\\', Some('u')) if hex(index + 2, 4).is_some() => {
                units.extend(hex(index + 2, 4));
                index += 6;
            }
            ('\\', Some('x')) if hex(index + 2, 2).is_some() => {
                units.extend(hex(index + 2, 2));
                index += 4;
            }
            ('\\', Some(&next)) => {
                units.extend(next.encode_utf16(&mut [0; 2]).iter());
                index += 2;
            }
            (c, _) => {
                units.extend(c.encode_utf16(&mut [0; 2]).iter());
                index += 1;
            }
        }
    }
    String::from_utf16_lossy(&units)
}

/// HTML character references undone (`&#47;`, `&#x2F;`, `&amp;`).
fn html_decode(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').and_then(|end| {
            let name = &rest[1..end];
            let code = if let Some(hex) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                u32::from_str_radix(hex, 16).ok()
            } else if let Some(digits) = name.strip_prefix('#') {
                digits.parse().ok()
            } else {
                (name == "amp").then_some(u32::from('&'))
            };
            Some((char::from_u32(code?)?, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Each string of `value`, keys included.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Object(fields) => {
            for (key, item) in fields {
                out.push(key.clone());
                strings(item, out);
            }
        }
        _ => {}
    }
}

/// Fails when any reading of anything in `outcome` (result, logs, error)
/// holds any of `forms`.
fn assert_no_leak(outcome: &Outcome, forms: &[String]) -> Result<()> {
    let whole = serde_json::to_value(outcome)?;
    let mut texts = vec![whole.to_string()];
    strings(&whole, &mut texts);
    for text in &texts {
        for reading in readings(text) {
            for form in forms {
                assert!(
                    !reading.contains(form.as_str()),
                    "{form} leaked, in {reading:?}, from {text:?}"
                );
            }
        }
    }
    Ok(())
}

/// A script that asks the server, every way it can, to hand back the
/// request compressed, partial or re-encoded, and returns all it got.
const ASK_FOR_EVERY_ENCODING: &str = r#"
const got = {};
const attempt = async (label, path, headers) => {
  try { got[label] = await api.request({ method: "GET", path, headers }); }
  catch (e) { got[label] = { error: e.message }; }
};
await attempt("echo", "/echo");
await attempt("askGzip", "/echo", { "Accept-Encoding": "gzip" });
await attempt("askGzipLower", "/echo", { "accept-encoding": "gzip, deflate, br" });
await attempt("te", "/echo", { TE: "gzip" });
await attempt("range", "/echo", { Range: "bytes=0-40" });
await attempt("ifRange", "/echo", { "If-Range": "\"x\"" });
await attempt("charset", "/echo", { "Accept-Charset": "utf-16" });
await attempt("override", "/echo", { "X-HTTP-Method-Override": "DELETE" });
await attempt("method", "/echo", { "X-HTTP-Method": "DELETE" });
await attempt("methodOverride", "/echo", { "X-Method-Override": "DELETE" });
for (const route of ["gzip", "gzip-text", "deflate", "utf16", "utf16-undeclared", "utf32",
                     "escaped", "escaped-json", "percent", "html"]) {
  await attempt(route, "/echo/" + route);
}
await attempt("bomb", "/bomb");
await attempt("brotli", "/brotli");
console.log(JSON.stringify(got));
got
"#;

#[bounded_test(multi_thread)]
async fn no_encoding_of_an_echo_hands_the_script_the_credential() -> Result<()> {
    let server = EchoServer::start().await;
    for (auth, forms, carries_credential) in credentials() {
        let before = server.record.seen().len();
        let api = connector(&server.config(auth.clone()));
        let outcome = run(ASK_FOR_EVERY_ENCODING, &api).await;
        let got = result(&outcome);

        // Asking for a reshaped reply is refused, naming the header.
        for (label, expected) in [
            ("askGzip", "the header `Accept-Encoding` is set by the host"),
            (
                "askGzipLower",
                "the header `accept-encoding` is set by the host",
            ),
            ("te", "the header `TE` is set by the host"),
            ("range", "the header `Range` is refused"),
            ("ifRange", "the header `If-Range` is refused"),
            ("charset", "the header `Accept-Charset` is refused"),
            ("override", "the header `X-HTTP-Method-Override` is refused"),
            ("method", "the header `X-HTTP-Method` is refused"),
            (
                "methodOverride",
                "the header `X-Method-Override` is refused",
            ),
        ] {
            let message = got[label]["error"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("`api.request`: ") && message.contains(expected),
                "{label}: {got}"
            );
        }
        // The host asks for the body as it is.
        assert_eq!(
            got["echo"]["body"]["headers"]["accept-encoding"], "identity",
            "{got}"
        );
        // Bodies compressed anyway, or in another charset, reach the
        // script decoded and redacted.
        for label in ["echo", "gzip", "deflate", "utf16", "escaped-json"] {
            let reply = &got[label];
            assert_eq!(reply["status"], 200, "{label}: {got}");
            assert_eq!(reply["body"]["method"], "GET", "{label}: {got}");
            assert!(
                reply["headers"].get("content-encoding").is_none(),
                "{label}"
            );
            assert!(
                reply["body"].to_string().contains("[redacted]"),
                "{label}: {got}"
            );
        }
        for label in ["gzip-text", "escaped", "percent", "html"] {
            let body = got[label]["body"].as_str().unwrap_or_default();
            assert!(body.contains("[redacted]"), "{label}: {body}");
        }
        // Undeclared UTF-16 (with a byte-order mark that is not UTF-8)
        // comes as base64, UTF-32 of ASCII as text with NULs: redacted
        // either way.
        assert_eq!(got["utf16-undeclared"]["encoding"], "base64", "{got}");
        for label in ["utf16-undeclared", "utf32"] {
            let body = got[label]["body"].as_str().unwrap_or_default();
            let redacted = readings(body).iter().any(|r| r.contains("[redacted]"));
            assert!(redacted, "{label}: {got}");
        }
        let bomb = got["bomb"]["error"].as_str().unwrap_or_default();
        assert!(
            bomb.contains("larger than 1048576 bytes once decompressed"),
            "{bomb}"
        );
        let brotli = got["brotli"]["error"].as_str().unwrap_or_default();
        assert!(
            brotli.contains("encoded with `br`, which the host does not decode"),
            "{brotli}"
        );

        // What was sent reached the server with the credential, and with
        // none of the refused headers...
        let seen = &server.record.seen()[before..];
        assert_eq!(seen.len(), 13, "{auth:?}: {seen:?}");
        for request in seen {
            assert!(carries_credential(request), "{auth:?}: {request:?}");
            assert_eq!(
                request.headers.get("accept-encoding").map(|v| v.as_bytes()),
                Some(b"identity".as_slice())
            );
            assert!(request.headers.get("range").is_none());
        }
        // ...and no reading of anything the script got holds it.
        assert_no_leak(&outcome, &forms)?;
    }
    Ok(())
}

#[test]
fn the_leak_check_finds_every_encoding_it_looks_through() {
    // The check must see what the script could: else a passing test above
    // proves nothing.
    let echo = echoed("GET", "/x", &HeaderMap::new(), CANARY.as_bytes());
    let utf16: Vec<u8> = CANARY.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for leaked in [
        escaped_json(&echo),
        base64_encode(&gzip(CANARY.as_bytes())),
        base64_encode(&utf16),
        "canary%2fSecret%2BTok3n".to_owned(),
        "canary&#x2F;Secret&#43;Tok3n".to_owned(),
        CANARY.chars().flat_map(|c| [c, '\0']).collect(),
    ] {
        let found = readings(&leaked)
            .iter()
            .any(|reading| reading.contains(CANARY));
        assert!(found, "{leaked:?}");
    }
}

#[bounded_test(multi_thread)]
async fn no_path_leaves_the_base_path_with_the_credential() -> Result<()> {
    let server = EchoServer::start().await;
    let api = connector(&server.config(Auth::Bearer {
        token: Secret::new(CANARY),
    }));
    let origin = format!("http://{}", server.address);
    let code = format!(
        r#"
const got = {{}};
const attempt = async (label, path) => {{
  try {{ got[label] = (await api.request({{ method: "GET", path }})).body; }}
  catch (e) {{ got[label] = e.message; }}
}};
await attempt("fullUrl", "{origin}/admin/secret");
await attempt("fullUrlDotdot", "{origin}/api/../admin/secret");
await attempt("fullUrlMatrix", "{origin}/api/x/..;/..;/admin/secret");
await attempt("fullUrlEncoded", "{origin}/api/x%2F..%2F..%2Fadmin%2Fsecret");
await attempt("encoded", "/x%2F..%2F..%2Fsecret.txt");
await attempt("encodedLower", "/x%2f..%2f..%2fsecret.txt");
await attempt("encodedTwice", "/x%252F..%252F..%252Fsecret.txt");
await attempt("backslashEncoded", "/x%5C..%5C..%5Csecret.txt");
await attempt("matrix", "/..;/admin/secret");
await attempt("matrixDeeper", "/x/..;jsessionid=1/..;/admin/secret");
await attempt("inside", "{origin}/api/echo");
got
"#
    );
    let outcome = run(&code, &api).await;
    let got = result(&outcome);
    for (label, expected) in [
        (
            "fullUrl",
            "the path `/admin/secret` leaves the API's base URL",
        ),
        (
            "fullUrlDotdot",
            "the path `/admin/secret` leaves the API's base URL",
        ),
        ("fullUrlMatrix", "holds a `.` or `..` segment"),
        (
            "fullUrlEncoded",
            "holds an encoded separator (`%2F` or `%5C`)",
        ),
        ("encoded", "holds an encoded separator (`%2F` or `%5C`)"),
        (
            "encodedLower",
            "holds an encoded separator (`%2F` or `%5C`)",
        ),
        (
            "encodedTwice",
            "holds an encoded separator (`%2F` or `%5C`)",
        ),
        (
            "backslashEncoded",
            "holds an encoded separator (`%2F` or `%5C`)",
        ),
        ("matrix", "holds a `.` or `..` segment"),
        ("matrixDeeper", "holds a `.` or `..` segment"),
    ] {
        let message = got[label].as_str().unwrap_or_default();
        assert!(
            message.starts_with("`api.request`: ") && message.contains(expected),
            "{label}: {message}"
        );
    }
    // A full URL under the base path is fine; only it reached the server.
    assert_eq!(got["inside"]["target"], "/api/echo", "{got}");
    let targets: Vec<String> = server.record.seen().into_iter().map(|s| s.target).collect();
    assert_eq!(targets, ["/api/echo"]);
    assert_no_leak(&outcome, &[CANARY.to_owned()])?;
    Ok(())
}

#[bounded_test(multi_thread)]
async fn the_script_cannot_supply_the_query_credential() -> Result<()> {
    let server = EchoServer::start().await;
    let api = connector(&server.config(Auth::Query {
        name: "api_key".into(),
        value: Secret::new(CANARY),
    }));
    let origin = format!("http://{}", server.address);
    let code = format!(
        r#"
const got = {{}};
const attempt = async (label, call) => {{
  try {{ got[label] = (await call()).body; }} catch (e) {{ got[label] = e.message; }}
}};
const get = (path, query) => () => api.request({{ method: "GET", path, query }});
await attempt("query", get("/echo", {{ api_key: "mine" }}));
await attempt("queryEncoded", get("/echo", {{ "api%5Fkey": "mine" }}));
await attempt("queryCase", get("/echo", {{ API_KEY: "mine" }}));
await attempt("inPath", get("/echo?api_key=mine"));
await attempt("inPathEncoded", get("/echo?x=1&api%5fkey=mine"));
await attempt("inPathSemicolon", get("/echo?x=1;api_key=mine"));
await attempt("fullUrl", get("{origin}/api/echo?api_key=mine"));
await attempt("typed", () => api.echo({{ api_key: "mine" }}));
await attempt("fine", () => api.echo({{ q: "x" }}));
got
"#
    );
    let outcome = run(&code, &api).await;
    let got = result(&outcome);
    for (label, name) in [
        ("query", "api_key"),
        ("queryEncoded", "api%5Fkey"),
        ("queryCase", "API_KEY"),
        ("inPath", "api_key"),
        ("inPathEncoded", "api%5fkey"),
        ("inPathSemicolon", "api_key"),
        ("fullUrl", "api_key"),
        ("typed", "api_key"),
    ] {
        let message = got[label].as_str().unwrap_or_default();
        let expected = format!("the query parameter `{name}` is set by the host");
        assert!(
            message.starts_with("`api.") && message.contains(&expected),
            "{label}: {message}"
        );
    }
    // Only the call without one reached the server, with the host's
    // credential alone.
    let targets: Vec<String> = server.record.seen().into_iter().map(|s| s.target).collect();
    assert_eq!(targets, ["/api/echo?q=x&api_key=canary%2FSecret%2BTok3n"]);
    assert_eq!(got["fine"]["target"], "/api/echo?q=x&api_key=[redacted]");
    assert_no_leak(&outcome, &[CANARY.to_owned()])?;
    Ok(())
}

#[bounded_test(multi_thread)]
async fn a_read_only_api_refuses_method_overrides() -> Result<()> {
    let server = EchoServer::start().await;
    let token = || Auth::Bearer {
        token: Secret::new(CANARY),
    };
    let code = r#"
const got = {};
const attempt = async (label, call) => {
  try { got[label] = (await call()).body; } catch (e) { got[label] = e.message; }
};
const get = (path, query, headers) => () => api.request({ method: "GET", path, query, headers });
await attempt("header", get("/echo", {}, { "X-HTTP-Method-Override": "DELETE" }));
await attempt("query", get("/echo", { _method: "DELETE" }));
await attempt("inPath", get("/echo?_method=DELETE"));
await attempt("typed", () => api.echo({ _method: "DELETE" }));
got
"#;
    let read_only = connector(&server.config(token()).methods(["GET", "HEAD"]));
    let outcome = run(code, &read_only).await;
    let got = result(&outcome);
    for (label, expected) in [
        ("header", "the header `X-HTTP-Method-Override` is refused"),
        ("query", "the query parameter `_method` is refused"),
        ("inPath", "the query parameter `_method` is refused"),
        ("typed", "the query parameter `_method` is refused"),
    ] {
        let message = got[label].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{label}: {message}");
        assert!(
            message.contains("it would change the request's method behind the API's `methods`"),
            "{label}: {message}"
        );
    }
    assert!(server.record.seen().is_empty());

    // Where every method is allowed, `_method` is the API's business (the
    // header stays refused).
    let outcome = run(code, &connector(&server.config(token()))).await;
    let got = result(&outcome);
    assert!(
        got["header"]
            .as_str()
            .is_some_and(|m| m.contains("is refused"))
    );
    for label in ["query", "inPath", "typed"] {
        let target = got[label]["target"].as_str().unwrap_or_default();
        assert!(target.contains("_method=DELETE"), "{label}: {got}");
    }
    Ok(())
}
