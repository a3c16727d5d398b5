//! [`OpenApiConnector`]: an HTTP API as a namespace of typed functions, one
//! per operation of its description, plus `request` for anything else.
//!
//! The connector is built once per API (the description parsed, the HTTP
//! client and its limits set up) and shared by every run; each run counts
//! its own requests against `requestsPerRun`, in state that lives in the run
//! ([`CallContext::run_local`]).
//!
//! What the API offers is an [`OpenApiDescription`]; the connector adds
//! the HTTP client that sends its requests.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use codemode_runtime::{
    CallContext, Connector, ConnectorError, Document, MIN_SECRET_BYTES, MethodDescription,
};
use reqwest::header::{ACCEPT_ENCODING, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use serde_json::Value;
use tokio::sync::Semaphore;
use url::Url;

use crate::config::{ApiConfig, Auth};
use crate::contract::{REJECTED_FROM, REQUEST};
use crate::description::OpenApiDescription;
use crate::http::Http;
use crate::redact::Redactor;
use crate::request::Bounds;
use crate::slice::Slice;
use crate::spec::{Spec, SpecError};

/// The deepest JSON `limits.jsonDepth` may allow: what the JSON parser
/// itself accepts.
const MAX_JSON_DEPTH: usize = 128;

/// Why an API could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The description could not be read.
    #[error("reading the OpenAPI description `{path}`: {source}")]
    ReadSpec {
        /// Where it was looked for.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// The description is not a usable OpenAPI 3 description.
    #[error("in the OpenAPI description `{path}`: {source}")]
    Spec {
        /// Where it is.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: SpecError,
    },
    /// Something in the configuration cannot work; the message names the
    /// field.
    #[error("{0}")]
    Config(String),
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built: {0}")]
    Client(#[source] reqwest::Error),
}

/// An HTTP API described with OpenAPI, as a connector.
pub struct OpenApiConnector {
    api: Arc<Api>,
}

/// The requests one run has made to one API.
#[derive(Default)]
struct RunRequests(AtomicU32);

/// What every run shares.
struct Api {
    description: OpenApiDescription,
    http: Http,
}

impl OpenApiConnector {
    /// Read the description `config.spec` and set up the API, whose
    /// namespace (for messages) is `namespace`.
    ///
    /// # Errors
    ///
    /// [`BuildError`] when the description cannot be read or parsed, or
    /// the configuration cannot work (no base URL, an origin that is not a
    /// URL, credentials over plain HTTP to another host, ...).
    pub fn load(namespace: &str, config: &ApiConfig) -> Result<Self, BuildError> {
        let text =
            std::fs::read_to_string(&config.spec).map_err(|source| BuildError::ReadSpec {
                path: config.spec.clone(),
                source,
            })?;
        let spec = Spec::parse(&text).map_err(|source| BuildError::Spec {
            path: config.spec.clone(),
            source,
        })?;
        drop(text);
        Self::new(namespace, Arc::new(spec), config)
    }

    /// Set up the API from a description already parsed (`config.spec` is
    /// not read). The connector keeps the description as a [`Document`]
    /// and drops its hold on `spec`.
    ///
    /// # Errors
    ///
    /// [`BuildError::Config`] as for [`load`](Self::load).
    pub fn new(namespace: &str, spec: Arc<Spec>, config: &ApiConfig) -> Result<Self, BuildError> {
        let bounds = bounds(&spec, config)?;
        let http = Http {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(config.timeouts.connect)
                .no_proxy()
                .build()
                .map_err(BuildError::Client)?,
            bounds,
            auth: config.auth.clone(),
            redactor: Arc::new(Redactor::new(config.auth.as_ref())),
            headers: fixed_headers(config)?,
            limits: config.limits,
            deadline: config.timeouts.request,
            slots: Semaphore::new(config.limits.concurrent_requests as usize),
        };
        let allowed = |method: &str| {
            http.bounds
                .methods
                .as_ref()
                .is_none_or(|allowed| allowed.iter().any(|m| m == method))
        };
        let description = OpenApiDescription::keeping(namespace, spec, allowed);
        Ok(Self {
            api: Arc::new(Api { description, http }),
        })
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &Url {
        &self.api.http.bounds.base
    }

    /// What the API offers: its operations as methods.
    pub fn description(&self) -> &OpenApiDescription {
        &self.api.description
    }
}

#[async_trait]
impl Connector for OpenApiConnector {
    fn methods(&self) -> &[MethodDescription] {
        self.api.description.methods()
    }

    async fn call(&self, call: &CallContext, args: Value) -> Result<Value, ConnectorError> {
        let method: &str = &call.method;
        let api = &self.api;
        let fail = |message: String| {
            ConnectorError::new(format!(
                "`{}.{method}`: {message}",
                api.description.namespace()
            ))
        };
        let cap = api.http.limits.requests_per_run;
        if call
            .run_local::<RunRequests>()
            .0
            .fetch_add(1, Ordering::SeqCst)
            >= cap
        {
            return Err(fail(format!(
                "this run has made its {cap} requests to `{}` (the API's `limits.requestsPerRun`)",
                api.description.namespace()
            )));
        }
        if method == REQUEST {
            let outgoing = api.http.bounds.request(args).map_err(fail)?;
            return Ok(api.http.send(outgoing).await.map_err(fail)?.value);
        }
        let Slice { spec, operations } = api
            .description
            .operation(method)
            .ok_or_else(|| fail("no such operation".into()))?;
        let [operation] = operations.as_slice() else {
            return Err(fail("no such operation".into()));
        };
        let outgoing = api
            .http
            .bounds
            .operation(spec.document(), operation, args)
            .map_err(fail)?;
        let shown = format!("{} {}", outgoing.method, outgoing.url.path());
        let reply = api.http.send(outgoing).await.map_err(fail)?;
        if reply.status.as_u16() >= REJECTED_FROM {
            let body = match &reply.value["body"] {
                Value::Null => String::new(),
                Value::String(text) => format!(": {}", clip(text)),
                other => format!(": {}", clip(&other.to_string())),
            };
            return Err(fail(format!("{shown} answered {}{body}", reply.status)));
        }
        Ok(operation_reply(reply.value))
    }

    fn declaration(&self, namespace: &str, methods: &[&str]) -> Option<String> {
        self.api.description.declaration(namespace, methods)
    }

    fn brief_declaration(&self, namespace: &str, method: &str) -> Option<String> {
        self.api.description.brief_declaration(namespace, method)
    }

    fn type_declaration(&self, namespace: &str, names: &[&str]) -> Option<String> {
        self.api.description.type_declaration(namespace, names)
    }

    fn document(&self) -> Option<Arc<Document>> {
        self.api.description.document()
    }
}

/// An operation's reply in the shape Octokit and most generated clients
/// give, `{ data, status, headers }` (and `encoding`), from `request`'s
/// `{ status, headers, body }`. (The sandbox lets `body` still read `data`,
/// for a release.)
fn operation_reply(reply: Value) -> Value {
    let Value::Object(mut fields) = reply else {
        return reply;
    };
    let mut shaped = serde_json::Map::with_capacity(fields.len());
    shaped.insert("data".into(), fields.remove("body").unwrap_or(Value::Null));
    shaped.extend(fields);
    Value::Object(shaped)
}

/// The first 500 characters of an error body.
fn clip(text: &str) -> String {
    match text.char_indices().nth(500) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Where requests may go, from the configuration and the description.
fn bounds(spec: &Spec, config: &ApiConfig) -> Result<Bounds, BuildError> {
    let bad = |message: String| BuildError::Config(message);
    let base_text = match &config.base_url {
        Some(url) => url.clone(),
        None => server_url(spec).ok_or_else(|| {
            bad("`baseUrl` is not set and the description's `servers` give no absolute http(s) URL: set `baseUrl`".into())
        })?,
    };
    let base = Url::parse(&base_text)
        .map_err(|e| bad(format!("`baseUrl` `{base_text}` is not a URL: {e}")))?;
    if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
        return Err(bad(format!(
            "`baseUrl` `{base_text}` must be an http or https URL"
        )));
    }
    if base.query().is_some()
        || base.fragment().is_some()
        || !base.username().is_empty()
        || base.password().is_some()
    {
        return Err(bad(format!(
            "`baseUrl` `{base_text}` must not hold a query, fragment or user info (credentials go in `auth`)"
        )));
    }
    if config.auth.is_some() && base.scheme() == "http" && !is_loopback(&base) {
        return Err(bad(format!(
            "`auth` would send credentials in clear text to `{base_text}`: use https (plain http is allowed only on loopback)"
        )));
    }
    let mut origins = vec![base.origin()];
    for origin in &config.origins {
        let url = Url::parse(origin)
            .map_err(|e| bad(format!("`origins`: `{origin}` is not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.path() != "/" || url.query().is_some() {
            return Err(bad(format!(
                "`origins`: `{origin}` must be a scheme, host and port only (`https://uploads.example.com`)"
            )));
        }
        origins.push(url.origin());
    }
    let methods = match &config.methods {
        None => None,
        Some(methods) => {
            let mut upper = Vec::new();
            for method in methods {
                let method = method.to_ascii_uppercase();
                if reqwest::Method::from_bytes(method.as_bytes()).is_err() || method.is_empty() {
                    return Err(bad(format!("`methods`: `{method}` is not an HTTP method")));
                }
                upper.push(method);
            }
            Some(upper)
        }
    };
    let (auth_header, auth_query) = match &config.auth {
        Some(Auth::Header { name, value }) => {
            HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| bad(format!("`auth.name`: `{name}` is not a header name")))?;
            redactable(value.expose(), "auth.value")?;
            (Some(name.to_ascii_lowercase()), None)
        }
        Some(Auth::Query { name, value }) => {
            if name.is_empty() {
                return Err(bad("`auth.name` is empty".into()));
            }
            redactable(value.expose(), "auth.value")?;
            (None, Some(name.clone()))
        }
        Some(Auth::Bearer { token }) => {
            redactable(token.expose(), "auth.token")?;
            (None, None)
        }
        Some(Auth::Basic { password, .. }) => {
            redactable(password.expose(), "auth.password")?;
            (None, None)
        }
        None => (None, None),
    };
    let limits = config.limits;
    if limits.json_depth == 0 || limits.json_depth > MAX_JSON_DEPTH {
        return Err(bad(format!(
            "`limits.jsonDepth` must be between 1 and {MAX_JSON_DEPTH}"
        )));
    }
    if limits.concurrent_requests == 0 || limits.response_bytes == 0 {
        return Err(bad(
            "`limits.concurrentRequests` and `limits.responseBytes` must be above 0".into(),
        ));
    }
    let mut base = base;
    let trimmed = base.path().trim_end_matches('/').to_owned();
    base.set_path(&trimmed);
    Ok(Bounds {
        base,
        origins,
        methods,
        auth_header,
        auth_query,
    })
}

/// Refuses a credential too short to redact: removing every occurrence of
/// a short one (`t`, say) from replies would garble them, and leaving it
/// would hand it to the script in any echo.
fn redactable(secret: &str, field: &str) -> Result<(), BuildError> {
    if secret.is_empty() {
        return Err(BuildError::Config(format!("`{field}` is empty")));
    }
    if secret.len() < MIN_SECRET_BYTES {
        return Err(BuildError::Config(format!(
            "`{field}` is {} bytes; a credential must be at least {MIN_SECRET_BYTES} bytes, so that it can be redacted from everything a script sees",
            secret.len()
        )));
    }
    Ok(())
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain == "localhost",
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// The description's first absolute http(s) server URL, its variables
/// filled with their defaults.
fn server_url(spec: &Spec) -> Option<String> {
    let servers = spec.document().get("servers")?.as_array()?;
    servers.iter().find_map(|server| {
        let mut url = server.get("url")?.as_str()?.to_owned();
        if let Some(variables) = server.get("variables").and_then(Value::as_object) {
            for (name, variable) in variables {
                let default = variable.get("default")?.as_str()?;
                url = url.replace(&format!("{{{name}}}"), default);
            }
        }
        (url.starts_with("https://") || url.starts_with("http://")).then_some(url)
    })
}

/// The configured headers, and a `User-Agent` unless they set one.
fn fixed_headers(config: &ApiConfig) -> Result<HeaderMap, BuildError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("codemode/", env!("CARGO_PKG_VERSION"))),
    );
    for (name, value) in &config.headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| BuildError::Config(format!("`headers`: `{name}` is not a header name")))?;
        if header == ACCEPT_ENCODING {
            return Err(BuildError::Config(format!(
                "`headers.{name}` is set by the host: it asks for `identity`, so that it reads every body whole"
            )));
        }
        let value = HeaderValue::from_str(value).map_err(|_| {
            BuildError::Config(format!(
                "`headers.{name}` holds a character HTTP headers cannot carry (CR, LF, ...)"
            ))
        })?;
        headers.insert(header, value);
    }
    Ok(headers)
}
