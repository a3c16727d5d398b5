//! The exchange with the API: credentials added at the last moment and
//! only for the base URL's origin, redirects followed by hand (each checked
//! against the allowed origins), a deadline on the whole exchange, and a
//! response read under its caps (bytes, JSON depth), made plain
//! (decompressed, in UTF-8) and cleared of credentials before it becomes the
//! script's `{ status, headers, body }`.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{
    ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap,
    HeaderValue, LOCATION,
};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;
use url::Url;

use crate::body;
use crate::config::{ApiLimits, Auth};
use crate::redact::Redactor;
use crate::request::{Bounds, Outgoing};

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 10;

/// The HTTP side of one API, shared by every run.
pub(crate) struct Http {
    pub(crate) client: reqwest::Client,
    pub(crate) bounds: Bounds,
    pub(crate) auth: Option<Auth>,
    pub(crate) redactor: Arc<Redactor>,
    /// Sent with every request; the script's own headers replace these.
    pub(crate) headers: HeaderMap,
    pub(crate) limits: ApiLimits,
    pub(crate) deadline: Duration,
    pub(crate) slots: Semaphore,
}

/// A response as the script sees it.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    /// `{ status, headers, body }` (and `encoding`), credentials removed.
    pub(crate) value: Value,
}

impl Http {
    /// Send `outgoing`, following redirects, and read the response. An
    /// `Err` is a message fit for the script (credentials removed).
    pub(crate) async fn send(&self, outgoing: Outgoing) -> Result<Reply, String> {
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| "the connector is shutting down".to_owned())?;
        let exchange = tokio::time::timeout(self.deadline, self.exchange(outgoing)).await;
        let reply = match exchange {
            Ok(reply) => reply,
            Err(_) => Err(format!(
                "no complete response within {} ms (the API's `timeouts.requestMs`)",
                self.deadline.as_millis()
            )),
        };
        reply.map_err(|message| self.redactor.text(&message))
    }

    async fn exchange(&self, mut outgoing: Outgoing) -> Result<Reply, String> {
        for _ in 0..=MAX_REDIRECTS {
            let shown = format!("{} {}", outgoing.method, shown_url(&outgoing.url));
            let request = self.with_credentials(&outgoing)?;
            let response = self.client.execute(request).await.map_err(|error| {
                format!("{shown} failed: {}", error_chain(&error.without_url()))
            })?;
            let status = response.status();
            let location = response.headers().get(LOCATION).cloned();
            match location {
                Some(location) if status.is_redirection() && status != StatusCode::NOT_MODIFIED => {
                    let next = location
                        .to_str()
                        .ok()
                        .and_then(|text| outgoing.url.join(text).ok())
                        .ok_or_else(|| format!("{shown} redirected to an unreadable location"))?;
                    self.bounds.allowed(&next).map_err(|reason| {
                        format!("{shown} redirected elsewhere, refused: {reason}")
                    })?;
                    redirect(&mut outgoing, status, next);
                }
                _ => return self.read(response).await,
            }
        }
        Err(format!("more than {MAX_REDIRECTS} redirects"))
    }

    /// The request to send: the configured headers, the script's, and the
    /// credentials when `outgoing` goes to the base URL's origin.
    fn with_credentials(&self, outgoing: &Outgoing) -> Result<reqwest::Request, String> {
        let mut url = outgoing.url.clone();
        let mut headers = self.headers.clone();
        for name in outgoing.headers.keys() {
            headers.remove(name);
        }
        for (name, value) in &outgoing.headers {
            headers.append(name, value.clone());
        }
        // Only bodies the host can read whole, so that it can redact them.
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        if self.bounds.is_base_origin(&url) {
            match &self.auth {
                None => {}
                Some(Auth::Bearer { token }) => {
                    headers.insert(
                        AUTHORIZATION,
                        secret_header(&format!("Bearer {}", token.expose()))?,
                    );
                }
                Some(Auth::Basic { username, password }) => {
                    let pair = format!("{username}:{}", password.expose());
                    let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
                    headers.insert(AUTHORIZATION, secret_header(&format!("Basic {encoded}"))?);
                }
                Some(Auth::Header { name, value }) => {
                    let name = reqwest::header::HeaderName::from_bytes(name.as_bytes())
                        .map_err(|_| "the configured auth header name is invalid".to_owned())?;
                    headers.insert(name, secret_header(value.expose())?);
                }
                Some(Auth::Query { name, value }) => {
                    url.query_pairs_mut().append_pair(name, value.expose());
                }
            }
        }
        let mut request = reqwest::Request::new(outgoing.method.clone(), url);
        *request.headers_mut() = headers;
        if let Some(body) = &outgoing.body {
            *request.body_mut() = Some(body.clone().into());
        }
        Ok(request)
    }

    /// Read the response under the caps, and shape it for the script.
    async fn read(&self, mut response: reqwest::Response) -> Result<Reply, String> {
        let status = response.status();
        let cap = self.limits.response_bytes;
        let codings = body::codings(response.headers())?;
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|length| length > cap as u64) {
            return Err(body::too_large(cap, false));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|error| {
            format!(
                "reading the response failed: {}",
                error_chain(&error.without_url())
            )
        })? {
            if body.len() + chunk.len() > cap {
                return Err(body::too_large(cap, false));
            }
            body.extend_from_slice(&chunk);
        }
        let headers = response.headers().clone();
        let redactor = Arc::clone(&self.redactor);
        let limits = self.limits;
        // Bounded by the cap, but work all the same: off the threads that
        // serve every run's I/O.
        let value = tokio::task::spawn_blocking(move || {
            shape(&redactor, limits, status, &headers, &codings, body)
        })
        .await
        .map_err(|error| format!("reading the response failed: {error}"))??;
        Ok(Reply { status, value })
    }
}

/// The script's `{ status, headers, body }` (and `encoding`) from the
/// response's `body` as read, undoing its `codings`; credentials removed.
fn shape(
    redactor: &Redactor,
    limits: ApiLimits,
    status: StatusCode,
    headers: &HeaderMap,
    codings: &[String],
    body: Vec<u8>,
) -> Result<Value, String> {
    let media_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let body = body::undo_codings(body, codings, limits.response_bytes)?;
    let body = redactor.bytes(body::to_utf8(body, &media_type));

    let mut shown = Map::new();
    for (name, value) in headers {
        // The body the script gets is no longer in these.
        if !codings.is_empty() && (name == CONTENT_ENCODING || name == CONTENT_LENGTH) {
            continue;
        }
        let name = redactor.text(name.as_str());
        let text = redactor.text(&String::from_utf8_lossy(value.as_bytes()));
        match shown.get_mut(&name) {
            Some(Value::String(existing)) => {
                existing.push_str(", ");
                existing.push_str(&text);
            }
            _ => {
                shown.insert(name, Value::String(text));
            }
        }
    }
    let mut value = json!({ "status": status.as_u16(), "headers": shown });
    let (body, encoding) = decode(redactor, limits.json_depth, &media_type, body)?;
    value["body"] = body;
    if let Some(encoding) = encoding {
        value["encoding"] = json!(encoding);
    }
    Ok(value)
}

/// The body as JSON when it says it is JSON (nested at most `json_depth`
/// levels), else as text when it is UTF-8, else as base64.
fn decode(
    redactor: &Redactor,
    json_depth: usize,
    media_type: &str,
    body: Vec<u8>,
) -> Result<(Value, Option<&'static str>), String> {
    if body.is_empty() {
        return Ok((Value::Null, None));
    }
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    if essence.ends_with("/json") || essence.ends_with("+json") {
        if nesting(&body) > json_depth {
            return Err(format!(
                "the response's JSON nests deeper than {json_depth} levels (the API's `limits.jsonDepth`)"
            ));
        }
        if let Ok(value) = serde_json::from_slice::<Value>(&body) {
            return Ok((redactor.json(value), None));
        }
    }
    match String::from_utf8(body) {
        Ok(text) => Ok((Value::String(redactor.text(&text)), None)),
        Err(error) => Ok((
            Value::String(base64::engine::general_purpose::STANDARD.encode(error.into_bytes())),
            Some("base64"),
        )),
    }
}

/// A header value carrying a credential, marked sensitive so that the HTTP
/// stack never logs it.
fn secret_header(text: &str) -> Result<HeaderValue, String> {
    let mut value = HeaderValue::from_str(text).map_err(|_| {
        "the configured credential holds a character HTTP headers cannot carry".to_owned()
    })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Turn `outgoing` into the request a redirect with `status` asks for.
fn redirect(outgoing: &mut Outgoing, status: StatusCode, next: Url) {
    let becomes_get = status == StatusCode::SEE_OTHER && outgoing.method != Method::HEAD
        || matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND)
            && outgoing.method == Method::POST;
    if becomes_get {
        outgoing.method = Method::GET;
        outgoing.body = None;
        outgoing.headers.remove(CONTENT_TYPE);
    }
    outgoing.url = next;
}

/// A URL for messages: its path and query (the credentials are never in
/// it: they are added to a copy).
fn shown_url(url: &Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

/// An error and its causes, `: `-separated.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// How deeply the JSON text `bytes` nests (outside strings).
fn nesting(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for &byte in bytes {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::nesting;

    #[test]
    fn nesting_ignores_brackets_in_strings() {
        assert_eq!(nesting(br#"{"a": [1, {"b": "[[[{{{"}]}"#), 3);
        assert_eq!(nesting(br#""\"[""#), 0);
        assert_eq!(nesting(&[b'['; 500]), 500);
    }
}
