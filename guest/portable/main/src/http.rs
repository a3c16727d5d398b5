//! `wasi:http/incoming-handler`: the HTTP component, for `wasmtime serve`
//! and Spin. `POST /execute` with `{ "code": "…", "lang": "ts" | "js" }`
//! runs the code and answers the outcome's JSON (200, whether the script
//! succeeded or not); a request that is not that gets a 4xx with
//! `{ "error": "…" }` saying what was wrong, and a connector configuration
//! that is wrong a 500 saying so.
//!
//! The limits are the runtime's defaults, or `CODEMODE_TIMEOUT_MS` and
//! `CODEMODE_MEMORY_MIB` from the component's environment.

use std::time::Duration;

use codemode_outcome::Limits;
use serde_json::{Map, Value, json};
use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wasip2::io::streams::StreamError;

use crate::{Language, execute};

struct Http;

wasip2::http::proxy::export!(Http);

impl Guest for Http {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let (status, body) = match respond(&request) {
            Ok(outcome) => (200, outcome),
            Err((status, message)) => (status, json!({ "error": message }).to_string()),
        };
        send(response_out, status, &body);
    }
}

/// The outcome's JSON, or a status and what was wrong.
fn respond(request: &IncomingRequest) -> Result<String, (u16, String)> {
    let path = request.path_with_query().unwrap_or_default();
    let path = path.split('?').next().unwrap_or_default();
    if path != "/execute" {
        return Err((
            404,
            format!("there is nothing at `{path}`: `POST /execute` runs a script"),
        ));
    }
    if !matches!(request.method(), Method::Post) {
        return Err((
            405,
            "`/execute` takes `POST`, with `{ \"code\": \"…\" }`".into(),
        ));
    }
    let limits = limits().map_err(|message| (500, message))?;
    // The code, with room for the JSON around it.
    let body = read_body(
        request,
        limits.code_bytes.saturating_mul(2).saturating_add(1024),
    )?;
    let (code, language) = read_request(&body)?;
    if code.len() > limits.code_bytes {
        return Err((
            413,
            format!(
                "`code` is longer than the limit of {} bytes",
                limits.code_bytes
            ),
        ));
    }
    let outcome = execute(code, language, &limits, false).map_err(|message| (500, message))?;
    serde_json::to_string(&outcome).map_err(|error| (500, error.to_string()))
}

/// `{ code, lang? }`, read strictly.
fn read_request(body: &[u8]) -> Result<(String, Language), (u16, String)> {
    let bad = |message: String| (400, message);
    let fields: Map<String, Value> = serde_json::from_slice(body).map_err(|error| {
        bad(format!(
            "the body must be a JSON object `{{ \"code\": \"…\", \"lang\": \"ts\" }}`: {error}"
        ))
    })?;
    let mut code = None;
    let mut language = Language::TypeScript;
    for (name, value) in fields {
        match (name.as_str(), value) {
            ("code", Value::String(text)) => code = Some(text),
            ("code", _) => return Err(bad("`code` must be a string".into())),
            ("lang", Value::String(lang)) => {
                language = Language::named(&lang)
                    .ok_or_else(|| bad(format!("`lang` is `ts` or `js`, not `{lang}`")))?;
            }
            ("lang", _) => return Err(bad("`lang` must be a string: `ts` or `js`".into())),
            (other, _) => {
                return Err(bad(format!(
                    "unknown field `{other}`: the body has `code` and `lang`"
                )));
            }
        }
    }
    let code = code.ok_or_else(|| bad("the body has no `code`".into()))?;
    Ok((code, language))
}

/// The limits: the defaults, or the environment's.
fn limits() -> Result<Limits, String> {
    let mut limits = Limits::default();
    let number = |name: &str| -> Result<Option<u64>, String> {
        std::env::var(name)
            .ok()
            .map(|text| {
                text.parse()
                    .map_err(|_| format!("`{name}` must be a whole number, not `{text}`"))
            })
            .transpose()
    };
    if let Some(ms) = number("CODEMODE_TIMEOUT_MS")? {
        limits.timeout = Duration::from_millis(ms);
    }
    if let Some(mib) = number("CODEMODE_MEMORY_MIB")? {
        limits.memory_bytes = mib
            .checked_mul(1 << 20)
            .ok_or("`CODEMODE_MEMORY_MIB` is too large")?;
    }
    Ok(limits)
}

/// The request's body, refused past `cap` bytes.
fn read_body(request: &IncomingRequest, cap: usize) -> Result<Vec<u8>, (u16, String)> {
    let unreadable = || (400, "the request's body could not be read".to_string());
    let incoming = request.consume().map_err(|()| unreadable())?;
    let stream = incoming.stream().map_err(|()| unreadable())?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(_)) => return Err(unreadable()),
        }
        if body.len() > cap {
            return Err((413, format!("the body is larger than {cap} bytes")));
        }
    }
    Ok(body)
}

/// Answer `status` with the JSON `body`.
fn send(response_out: ResponseOutparam, status: u16, body: &str) {
    let headers = Fields::from_list(&[("content-type".into(), b"application/json".to_vec())])
        .unwrap_or_else(|_| Fields::new());
    let response = OutgoingResponse::new(headers);
    let _ = response.set_status_code(status);
    let Ok(outgoing) = response.body() else {
        return;
    };
    ResponseOutparam::set(response_out, Ok(response));
    let Ok(stream) = outgoing.write() else {
        return;
    };
    for chunk in body.as_bytes().chunks(4096) {
        if stream.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
    drop(stream);
    let _ = OutgoingBody::finish(outgoing, None);
}
