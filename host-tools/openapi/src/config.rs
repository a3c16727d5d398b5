//! How one HTTP API is configured: its description, where it lives, the
//! credentials the host adds, and what a script may do with it.
//!
//! ```json
//! { "spec": "specs/api.github.com.json",
//!   "baseUrl": "https://api.github.com",
//!   "auth": { "type": "bearer", "token": "${GITHUB_TOKEN}" },
//!   "headers": { "X-GitHub-Api-Version": "2022-11-28" },
//!   "methods": ["GET", "HEAD"],
//!   "origins": ["https://uploads.github.com"],
//!   "timeouts": { "connectMs": 10000, "requestMs": 30000 },
//!   "limits": { "responseBytes": 1048576, "requestsPerRun": 100,
//!               "concurrentRequests": 8, "jsonDepth": 64 } }
//! ```
//!
//! Only `spec` is required. Credentials are [`Secret`]s: they never appear in
//! `Debug` output, and the connector removes them from everything it hands
//! the sandbox.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// One HTTP API.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApiConfig {
    /// The OpenAPI 3.0 or 3.1 description, JSON or YAML.
    pub spec: PathBuf,
    /// Where the API lives (`https://api.github.com`). Default: the
    /// description's first absolute `servers` URL.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The credentials the host adds to each request to the base URL's
    /// origin.
    #[serde(default)]
    pub auth: Option<Auth>,
    /// Headers sent with every request (not secret: use `auth` for
    /// credentials). A script may override them.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The HTTP methods a script may use, upper case. Default: all.
    /// `["GET", "HEAD"]` makes the API read-only.
    #[serde(default)]
    pub methods: Option<Vec<String>>,
    /// Origins besides the base URL's that requests and redirects may reach
    /// (`https://uploads.github.com`). They never receive the credentials.
    #[serde(default)]
    pub origins: Vec<String>,
    /// How long to wait.
    #[serde(default)]
    pub timeouts: ApiTimeouts,
    /// Caps on what a script may make the connector do.
    #[serde(default)]
    pub limits: ApiLimits,
}

impl ApiConfig {
    /// A configuration with only a description, everything else default.
    pub fn new(spec: impl Into<PathBuf>) -> Self {
        Self {
            spec: spec.into(),
            base_url: None,
            auth: None,
            headers: BTreeMap::new(),
            methods: None,
            origins: Vec::new(),
            timeouts: ApiTimeouts::default(),
            limits: ApiLimits::default(),
        }
    }

    /// Set the base URL.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Set the credentials.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = Some(auth);
        self
    }

    /// Add a header sent with every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Allow only these methods.
    pub fn methods(mut self, methods: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.methods = Some(methods.into_iter().map(Into::into).collect());
        self
    }

    /// Allow another origin.
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.origins.push(origin.into());
        self
    }

    /// Set the timeouts.
    pub fn timeouts(mut self, timeouts: ApiTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Set the limits.
    pub fn limits(mut self, limits: ApiLimits) -> Self {
        self.limits = limits;
        self
    }
}

/// Credentials, added by the host to requests to the base URL's origin.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
#[non_exhaustive]
pub enum Auth {
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// The token.
        token: Secret,
    },
    /// A header of the API's choosing (`X-Api-Key: <value>`).
    Header {
        /// The header's name.
        name: String,
        /// Its value.
        value: Secret,
    },
    /// A query parameter (`?api_key=<value>`).
    Query {
        /// The parameter's name.
        name: String,
        /// Its value.
        value: Secret,
    },
    /// `Authorization: Basic base64(<username>:<password>)`.
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: Secret,
    },
}

/// A credential: its `Debug` output is `Secret(..)`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wrap a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The credential itself.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// How long to wait on the API.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct ApiTimeouts {
    /// To open a connection (`connectMs`, default 10 s).
    #[serde(
        rename = "connectMs",
        deserialize_with = "codemode_runtime::deserialize_millis"
    )]
    pub connect: Duration,
    /// For a whole request: connecting, redirects and reading the body
    /// (`requestMs`, default 30 s).
    #[serde(
        rename = "requestMs",
        deserialize_with = "codemode_runtime::deserialize_millis"
    )]
    pub request: Duration,
}

impl Default for ApiTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(30),
        }
    }
}

/// Caps on what a script may make the connector do.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct ApiLimits {
    /// The largest response body read, in bytes (default 1 MiB); a larger
    /// one fails the call before any of it reaches the sandbox.
    pub response_bytes: usize,
    /// Requests one run may make (default 100).
    pub requests_per_run: u32,
    /// Requests in flight at once, across all runs (default 8); more wait
    /// their turn.
    pub concurrent_requests: u32,
    /// How deeply a JSON response may nest (default 64, at most 128).
    pub json_depth: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            response_bytes: 1 << 20,
            requests_per_run: 100,
            concurrent_requests: 8,
            json_depth: 64,
        }
    }
}
