//! HTTP APIs as connectors, declared in the component's environment and
//! called through `wasi:http/outgoing-handler`.
//!
//! `CODEMODE_CONNECTORS` holds a JSON object, one member per namespace:
//!
//! ```json
//! { "notes": {
//!     "url": "http://127.0.0.1:8080/api",
//!     "headers": { "authorization": "Bearer ${NOTES_TOKEN}" },
//!     "methods": { "list": "GET /notes", "get": "GET /notes/{id}", "create": "POST /notes" } } }
//! ```
//!
//! - A method is `VERB /path`; `{name}` in the path takes the argument of
//!   that name, percent-encoded. The other arguments go in the query string
//!   (`GET`, `HEAD`, `DELETE`) or as the JSON body (the other verbs).
//! - `${VAR}` in a URL or header is the variable's value in this
//!   component's environment; each such value is a credential, refused when
//!   shorter than [`MIN_SECRET_BYTES`], and redacted from every reply and
//!   error the script sees.
//! - `CODEMODE_ALLOWED_HOSTS` lists the origins calls may reach
//!   (`http://127.0.0.1:8080`, a `*` port for any port), separated by
//!   commas or spaces, as Spin's `allowed_outbound_hosts` does; a connector
//!   whose URL is not among them is refused. Unset, none is allowed. The
//!   host's own allow-list (Spin's) applies as well.
//!
//! A reply is `{ status, headers, data }`: `data` is the body parsed as
//! JSON when the response says it is JSON, else its text.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use codemode_outcome::Limits;
use codemode_redact::{MIN_SECRET_BYTES, Secrets};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    Fields, Method as Verb, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasip2::io::streams::StreamError;

use crate::bindings::exports::codemode::portable::connector::{Declared, Failure, Method};

/// The variable that declares the connectors.
const CONNECTORS: &str = "CODEMODE_CONNECTORS";
/// The variable that lists the origins calls may reach.
const ALLOWED_HOSTS: &str = "CODEMODE_ALLOWED_HOSTS";

/// What `encodeURIComponent` leaves as it is.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');

/// One declared API.
struct Api {
    name: String,
    scheme: Scheme,
    /// `host:port`.
    authority: String,
    /// The URL's origin, as the allow-list names origins.
    origin: String,
    /// The URL's path, without a trailing `/`.
    base_path: String,
    headers: Vec<(String, String)>,
    methods: Vec<Route>,
}

/// One method: `VERB /path/{param}`.
struct Route {
    name: String,
    verb: String,
    path: String,
}

/// The configuration, read once per instance.
struct Config {
    apis: Vec<Api>,
    allowed: Vec<String>,
    secrets: Secrets,
}

thread_local! {
    static CONFIG: OnceCell<Result<Config, String>> = const { OnceCell::new() };
}

fn with_config<T>(f: impl FnOnce(&Result<Config, String>) -> T) -> T {
    CONFIG.with(|cell| f(cell.get_or_init(read_config)))
}

/// The declared connectors.
pub(crate) fn declare() -> Result<Vec<Declared>, String> {
    with_config(|config| {
        let config = config.as_ref().map_err(Clone::clone)?;
        Ok(config
            .apis
            .iter()
            .map(|api| Declared {
                name: api.name.clone(),
                methods: api
                    .methods
                    .iter()
                    .map(|route| Method {
                        name: route.name.clone(),
                        description: format!("{} {}", route.verb, route.path),
                    })
                    .collect(),
            })
            .collect())
    })
}

/// Call `connector.method(args)` within `timeout_ms`; the reply and every
/// error redacted.
pub(crate) fn call(
    connector: &str,
    method: &str,
    args: &str,
    timeout_ms: u64,
) -> Result<String, Failure> {
    with_config(|config| {
        let config = config
            .as_ref()
            .map_err(|message| failure("connector", message.clone()))?;
        let redact = |failure: Failure| Failure {
            code: failure.code,
            message: config.secrets.redact(&failure.message).into_owned(),
        };
        let reply = send(config, connector, method, args, timeout_ms).map_err(redact)?;
        serde_json::to_string(&config.secrets.json(&reply)).map_err(|error| {
            failure(
                "connector",
                format!("the reply could not be written: {error}"),
            )
        })
    })
}

fn send(
    config: &Config,
    connector: &str,
    method: &str,
    args: &str,
    timeout_ms: u64,
) -> Result<Value, Failure> {
    let not_granted = || {
        failure(
            "not-granted",
            format!("`{connector}.{method}` is not a declared method"),
        )
    };
    let api = config
        .apis
        .iter()
        .find(|api| api.name == connector)
        .ok_or_else(not_granted)?;
    let route = api
        .methods
        .iter()
        .find(|r| r.name == method)
        .ok_or_else(not_granted)?;
    if !allowed(&config.allowed, &api.origin) {
        let allowed = if config.allowed.is_empty() {
            format!("`{ALLOWED_HOSTS}` is not set")
        } else {
            format!("`{ALLOWED_HOSTS}` allows {}", config.allowed.join(", "))
        };
        return Err(failure(
            "connector",
            format!(
                "`{connector}.{method}` may not reach `{}`: it is not an allowed host ({allowed})",
                api.origin
            ),
        ));
    }
    let mut args = match serde_json::from_str::<Value>(args) {
        Ok(Value::Object(map)) => map,
        Ok(Value::Null) => Map::new(),
        Ok(_) => {
            return Err(failure(
                "bad-arguments",
                format!("`{connector}.{method}` takes one object of arguments"),
            ));
        }
        Err(error) => {
            return Err(failure(
                "bad-arguments",
                format!("the arguments are not JSON: {error}"),
            ));
        }
    };
    let path = fill_path(&route.path, &mut args).map_err(|name| {
        failure(
            "bad-arguments",
            format!(
                "`{connector}.{method}` needs the argument `{name}` ({} {})",
                route.verb, route.path
            ),
        )
    })?;
    let in_query = matches!(route.verb.as_str(), "GET" | "HEAD" | "DELETE");
    let mut path_with_query = format!("{}{path}", api.base_path);
    let mut body = None;
    if in_query {
        let query: Vec<String> = args
            .iter()
            .map(|(key, value)| {
                let value = match value {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                format!(
                    "{}={}",
                    utf8_percent_encode(key, COMPONENT),
                    utf8_percent_encode(&value, COMPONENT)
                )
            })
            .collect();
        if !query.is_empty() {
            path_with_query = format!("{path_with_query}?{}", query.join("&"));
        }
    } else if !args.is_empty() {
        body = Some(Value::Object(args).to_string());
    }

    let mut headers: Vec<(String, Vec<u8>)> = api
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), value.clone().into_bytes()))
        .collect();
    if body.is_some() {
        headers.push(("content-type".into(), b"application/json".to_vec()));
    }
    let fields = Fields::from_list(&headers).map_err(|error| {
        failure(
            "connector",
            format!("connector `{connector}` has a header that HTTP refuses: {error:?}"),
        )
    })?;
    let request = OutgoingRequest::new(fields);
    let verb = match route.verb.as_str() {
        "GET" => Verb::Get,
        "HEAD" => Verb::Head,
        "POST" => Verb::Post,
        "PUT" => Verb::Put,
        "DELETE" => Verb::Delete,
        "PATCH" => Verb::Patch,
        other => Verb::Other(other.into()),
    };
    let refused = |what: &str| {
        failure(
            "connector",
            format!("`{connector}.{method}`: the request's {what} was refused"),
        )
    };
    request.set_method(&verb).map_err(|()| refused("method"))?;
    request
        .set_scheme(Some(&api.scheme))
        .map_err(|()| refused("scheme"))?;
    request
        .set_authority(Some(&api.authority))
        .map_err(|()| refused("authority"))?;
    request
        .set_path_with_query(Some(&path_with_query))
        .map_err(|()| refused("path"))?;
    let outgoing = request.body().map_err(|()| refused("body"))?;

    let options = RequestOptions::new();
    let timeout_ns = timeout_ms.saturating_mul(1_000_000);
    // A host that does not support a timeout keeps its own.
    let _ = options.set_connect_timeout(Some(timeout_ns));
    let _ = options.set_first_byte_timeout(Some(timeout_ns));
    let _ = options.set_between_bytes_timeout(Some(timeout_ns));
    let pending = outgoing_handler::handle(request, Some(options)).map_err(|error| {
        failure(
            "connector",
            format!("`{connector}.{method}` could not be sent: {error:?}"),
        )
    })?;
    if let Some(body) = body {
        let stream = outgoing.write().map_err(|()| refused("body"))?;
        for chunk in body.as_bytes().chunks(4096) {
            stream.blocking_write_and_flush(chunk).map_err(|error| {
                failure(
                    "connector",
                    format!("`{connector}.{method}`: sending the body failed: {error:?}"),
                )
            })?;
        }
        drop(stream);
    }
    OutgoingBody::finish(outgoing, None).map_err(|error| {
        failure(
            "connector",
            format!("`{connector}.{method}`: sending the body failed: {error:?}"),
        )
    })?;

    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(error))) => {
            return Err(failure(
                "connector",
                format!("`{connector}.{method}` failed: {error:?}"),
            ));
        }
        _ => {
            return Err(failure(
                "connector",
                format!("`{connector}.{method}` got no response"),
            ));
        }
    };
    let status = response.status();
    let mut reply_headers = BTreeMap::new();
    let mut json = false;
    for (name, value) in response.headers().entries() {
        let value = String::from_utf8_lossy(&value).into_owned();
        if name.eq_ignore_ascii_case("content-type") && value.contains("json") {
            json = true;
        }
        reply_headers.insert(name.to_ascii_lowercase(), Value::String(value));
    }
    let body = read_body(&response, connector, method)?;
    let data = match json {
        true if body.is_empty() => Value::Null,
        true => serde_json::from_slice(&body).map_err(|error| {
            failure(
                "connector",
                format!("`{connector}.{method}` answered with JSON that does not parse: {error}"),
            )
        })?,
        false => Value::String(String::from_utf8_lossy(&body).into_owned()),
    };
    Ok(serde_json::json!({ "status": status, "headers": reply_headers, "data": data }))
}

/// The response's body, refused past the reply cap.
fn read_body(
    response: &wasip2::http::types::IncomingResponse,
    connector: &str,
    method: &str,
) -> Result<Vec<u8>, Failure> {
    let cap = Limits::default().reply_bytes;
    let incoming = response.consume().map_err(|()| {
        failure(
            "connector",
            format!("`{connector}.{method}`: the response has no body"),
        )
    })?;
    let stream = incoming.stream().map_err(|()| {
        failure(
            "connector",
            format!("`{connector}.{method}`: the response has no body"),
        )
    })?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => body.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(StreamError::LastOperationFailed(error)) => {
                return Err(failure(
                    "connector",
                    format!(
                        "`{connector}.{method}`: reading the response failed: {}",
                        error.to_debug_string()
                    ),
                ));
            }
        }
        if body.len() > cap {
            return Err(failure(
                "reply-too-large",
                format!("the reply of `{method}` is larger than the limit of {cap} bytes"),
            ));
        }
    }
    Ok(body)
}

/// `path` with each `{name}` replaced by the argument `name` (taken out of
/// `args`), percent-encoded; `Err(name)` for one that is missing.
fn fill_path(path: &str, args: &mut Map<String, Value>) -> Result<String, String> {
    let mut filled = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        let value = match args.remove(name) {
            Some(Value::String(text)) => text,
            Some(Value::Null) | None => return Err(name.to_owned()),
            Some(other) => other.to_string(),
        };
        filled.push_str(&rest[..open]);
        filled.push_str(&utf8_percent_encode(&value, COMPONENT).to_string());
        rest = &rest[open + close + 1..];
    }
    filled.push_str(rest);
    Ok(filled)
}

/// Whether `origin` (`scheme://host:port`) is among `allowed`.
fn allowed(allowed: &[String], origin: &str) -> bool {
    allowed.iter().any(|entry| {
        entry == origin
            || entry.strip_suffix(":*").is_some_and(|prefix| {
                origin
                    .rsplit_once(':')
                    .is_some_and(|(head, _)| head == prefix)
            })
    })
}

fn failure(code: &str, message: String) -> Failure {
    Failure {
        code: code.into(),
        message,
    }
}

/// The configuration from the environment, or what is wrong with it (never
/// a credential's value).
fn read_config() -> Result<Config, String> {
    let environment: BTreeMap<String, String> = wasip2::cli::environment::get_environment()
        .into_iter()
        .collect();
    let allowed = environment
        .get(ALLOWED_HOSTS)
        .map(|list| {
            list.split([',', ' '])
                .filter(|entry| !entry.is_empty())
                .map(|entry| entry.trim_end_matches('/').to_owned())
                .collect()
        })
        .unwrap_or_default();
    let Some(declared) = environment.get(CONNECTORS) else {
        return Ok(Config {
            apis: Vec::new(),
            allowed,
            secrets: Secrets::default(),
        });
    };
    let declared: Map<String, Value> = serde_json::from_str(declared)
        .map_err(|error| format!("`{CONNECTORS}` is not a JSON object: {error}"))?;
    let mut secrets = Vec::new();
    let mut apis = Vec::new();
    for (name, api) in declared {
        apis.push(
            read_api(&name, &api, &environment, &mut secrets)
                .map_err(|error| format!("`{CONNECTORS}`: connector `{name}`: {error}"))?,
        );
    }
    let secrets = Secrets::new(&secrets).map_err(|error| error.to_string())?;
    Ok(Config {
        apis,
        allowed,
        secrets,
    })
}

fn read_api(
    name: &str,
    api: &Value,
    environment: &BTreeMap<String, String>,
    secrets: &mut Vec<String>,
) -> Result<Api, String> {
    let is_identifier = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_identifier {
        return Err("the name must be an identifier (letters, digits and `_`)".into());
    }
    let url = api
        .get("url")
        .and_then(Value::as_str)
        .ok_or("`url` (a string) is missing")?;
    let url = expand(url, environment, secrets).map_err(|error| format!("`url`: {error}"))?;
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("`url` must start with `http://` or `https://`")?;
    let (scheme, default_port) = match scheme {
        "http" => (Scheme::Http, 80),
        "https" => (Scheme::Https, 443),
        _ => return Err("`url` must start with `http://` or `https://`".into()),
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.is_empty() || authority.contains('@') {
        return Err(
            "`url` needs a host, and no user or password (put credentials in `headers`)".into(),
        );
    }
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
    {
        authority.to_owned()
    } else {
        format!("{authority}:{default_port}")
    };
    let origin = format!(
        "{}://{with_port}",
        if default_port == 80 { "http" } else { "https" }
    );
    let mut headers = Vec::new();
    if let Some(declared) = api.get("headers") {
        let declared = declared
            .as_object()
            .ok_or("`headers` must be an object of strings")?;
        for (header, value) in declared {
            let value = value
                .as_str()
                .ok_or_else(|| format!("header `{header}` must be a string"))?;
            let value = expand(value, environment, secrets)
                .map_err(|error| format!("header `{header}`: {error}"))?;
            headers.push((header.clone(), value));
        }
    }
    let declared = api
        .get("methods")
        .and_then(Value::as_object)
        .ok_or("`methods` (an object of `\"VERB /path\"`) is missing")?;
    let mut methods = Vec::new();
    for (method, route) in declared {
        let route = route
            .as_str()
            .ok_or_else(|| format!("method `{method}` must be a string `\"VERB /path\"`"))?;
        let (verb, path) = route
            .split_once(' ')
            .filter(|(verb, path)| !verb.is_empty() && verb.chars().all(|c| c.is_ascii_uppercase()) && path.starts_with('/'))
            .ok_or_else(|| format!("method `{method}` must be `\"VERB /path\"`, e.g. `\"GET /items/{{id}}\"`; it is `{route}`"))?;
        methods.push(Route {
            name: method.clone(),
            verb: verb.into(),
            path: path.into(),
        });
    }
    Ok(Api {
        name: name.into(),
        scheme,
        authority: authority.into(),
        origin,
        base_path: path.trim_end_matches('/').into(),
        headers,
        methods,
    })
}

/// `text` with each `${VAR}` replaced by its value, which is a credential
/// (kept in `secrets`, for redaction).
fn expand(
    text: &str,
    environment: &BTreeMap<String, String>,
    secrets: &mut Vec<String>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let end = rest[start..]
            .find('}')
            .ok_or("a `${` is not closed by `}`")?;
        let name = &rest[start + 2..start + end];
        let value = environment
            .get(name)
            .ok_or_else(|| format!("`${{{name}}}` is not set in the component's environment"))?;
        if value.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "`${{{name}}}` is {} bytes; a credential must be at least {MIN_SECRET_BYTES} bytes, to be redacted safely",
                value.len()
            ));
        }
        secrets.push(value.clone());
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}
