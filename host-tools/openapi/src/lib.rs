//! HTTP APIs described with OpenAPI as codemode connectors, with the
//! credentials kept in the host.
//!
//! A script calls one typed function per operation of the description
//! (`await github.repos_get({ owner, repo })`) or `request` for anything
//! else (`await github.request({ method, path, pathParams, query, headers,
//! body })`). An operation resolves to `{ data, status, headers }`, as
//! Octokit's calls do, the body (`data`) parsed when it is JSON, and rejects
//! when the status is 400 or more; `request` resolves to `{ status,
//! headers, body }` whatever the status.
//!
//! What the host guarantees, whatever the script sends:
//!
//! - the credentials ([`Auth`]) are added by the host, only to requests to
//!   the base URL's origin, and removed from every header, body and error
//!   the script receives, in every form an echo escapes or encodes them,
//!   once the body is decompressed and in UTF-8;
//! - the script cannot ask for a reshaped reply (`Accept-Encoding`, `TE`,
//!   `Range`, `If-Range`, `Accept-Charset` and method overrides are
//!   refused; the host asks for `identity`), nor override a restricted
//!   `methods` with `_method`;
//! - requests and redirects reach only the allowed origins; a path, or a
//!   full URL on the base URL's origin, stays under the base path (path
//!   parameters are percent-encoded; `.` and `..` refused, also encoded or
//!   before a `;`; a literal path holds no `%2F`, `%5C` or `\`); header values with CR or LF are refused, and so are
//!   headers the host sets itself;
//! - a response larger than `limits.responseBytes` or JSON nested deeper
//!   than `limits.jsonDepth` fails the call before any of it reaches the
//!   sandbox; each run makes at most `limits.requestsPerRun` requests, and
//!   at most `limits.concurrentRequests` are in flight at once.

mod body;
mod config;
mod connector;
pub mod contract;
mod description;
mod http;
mod redact;
mod request;
mod slice;
pub mod spec;
mod typescript;

pub use config::{ApiConfig, ApiLimits, ApiTimeouts, Auth, Secret};
pub use connector::{BuildError, OpenApiConnector};
pub use description::OpenApiDescription;
pub use spec::{Spec, SpecError};
