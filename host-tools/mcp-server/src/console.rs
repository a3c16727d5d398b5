//! The runs console, served beside `/mcp` by `codemode serve --http`: a
//! page at `/runs` (one HTML file with its script and style, built into
//! the binary, no build step) and the API it reads, under `/runs/api`, for
//! reviewers:
//!
//! - `GET /runs/api/runs`: the newest runs (status, age, calls, outcome)
//!   and every call waiting for a decision, with its run's code and the
//!   lines where the code names the call's operation;
//! - `GET /runs/api/runs/{id}`: a run's whole record, the lines of its
//!   code that name a waiting call's operation, and what rolling it back
//!   would do, call by call;
//! - `POST /runs/api/runs/{id}/calls/{call}/approve` and `…/reject` (with
//!   `{ "reason": … }`): the decision, recorded once whoever decides, in the
//!   name of the caller's token;
//! - `POST /runs/api/runs/{id}/rollback`: the rollback's report;
//! - `GET /runs/api/events`: server-sent events as runs go on: `run` (a
//!   run's summary, whenever it changes) and `progress` (a run's console
//!   lines and connector calls, the messages MCP progress carries). They
//!   are read from the store, so a console on one instance sees the runs
//!   of every instance that shares it; at most 32 are open at once.
//!
//! The page is static and holds no run data: it asks for a token and reads
//! everything through the API, which [`Access`] guards like `/mcp`. It puts
//! run data on the page only as text, never as HTML.
//!
//! Browsers: a console bound to loopback answers only requests whose `Host`
//! is a loopback name (DNS rebinding), and a request that changes anything
//! must be JSON, with no `Origin` or the console's own, so that another
//! site's page cannot post a form to it (which matters on a server without
//! tokens, where the browser's request needs no secret).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, HOST, ORIGIN, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use base64::Engine as _;
use codemode_runs::{Decided, RollbackError, RunStore, RunSummary, StoreError, now_millis};
use codemode_runtime::{Decision, Entry};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, mpsc};
use tokio_stream::wrappers::ReceiverStream;

use crate::auth::{Access, Caller, Role};
use crate::server::{CodeModeServer, started_by};

/// The page, with its script and style.
const PAGE: &str = include_str!("console/page.html");

/// How many runs the overview lists, newest first.
const LISTED_RUNS: usize = 200;

/// How often the event stream reads the store.
const POLL: Duration = Duration::from_millis(250);

/// How far back, before its last read, the event stream looks for runs
/// updated since: room for the clocks of instances sharing a store.
const CLOCK_SLACK_MS: u64 = 5_000;

/// The most journal entries one `progress` read takes of a run; the rest
/// follow at the next read.
const PROGRESS_BATCH: usize = 200;

/// The most event streams open at once: each reads the store every
/// [`POLL`].
const MAX_EVENT_STREAMS: usize = 32;

/// The console's routes, `/runs` and `/runs/api/…`, for `server`'s runs,
/// to the reviewers `access` admits; `loopback` when the server is bound to
/// a loopback address.
pub(crate) fn router(server: CodeModeServer, access: Arc<Access>, loopback: bool) -> Router {
    let api = Router::new()
        .route("/runs/api/runs", get(overview))
        .route("/runs/api/runs/{id}", get(run))
        .route("/runs/api/runs/{id}/calls/{call}/approve", post(approve))
        .route("/runs/api/runs/{id}/calls/{call}/reject", post(reject))
        .route("/runs/api/runs/{id}/rollback", post(rollback))
        .route("/runs/api/events", get(events))
        .layer(Extension(Arc::new(Semaphore::new(MAX_EVENT_STREAMS))))
        .layer(axum::middleware::from_fn_with_state(
            (access, Role::Reviewer),
            crate::auth::require,
        ))
        .with_state(server);
    let policy = page_policy();
    Router::new()
        .route(
            "/runs",
            get(move || async move {
                (
                    [
                        (CONTENT_SECURITY_POLICY, policy),
                        (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
                        (REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
                    ],
                    Html(PAGE),
                )
            }),
        )
        .merge(api)
        .layer(axum::middleware::from_fn_with_state(loopback, browsers))
}

/// The page's Content-Security-Policy: its one inline script may run, by
/// its SHA-256, and nothing else; it may fetch only from this server, and
/// may not be framed (a framed console could be clicked through).
fn page_policy() -> HeaderValue {
    let script = PAGE
        .split_once("<script>")
        .and_then(|(_, rest)| rest.split_once("</script>"))
        .map_or("", |(script, _)| script);
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
    let policy = format!(
        "default-src 'none'; script-src 'sha256-{hash}'; style-src 'unsafe-inline'; \
         connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy)
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"))
}

/// Refuse what a browser must not do: reach a loopback console under
/// another host name, or change anything from another site's page.
async fn browsers(State(loopback): State<bool>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if loopback && !is_loopback_host(host) {
        return refuse(
            StatusCode::FORBIDDEN,
            "this console answers only at a loopback address (localhost, 127.0.0.1, [::1])",
        )
        .into_response();
    }
    if request.method() == Method::POST {
        let json = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json {
            return refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send JSON (`Content-Type: application/json`)",
            )
            .into_response();
        }
        if let Some(origin) = headers.get(ORIGIN) {
            let same = origin.to_str().ok().is_some_and(|origin| {
                origin
                    .strip_prefix("http://")
                    .or(origin.strip_prefix("https://"))
                    == Some(host)
            });
            if !same {
                return refuse(
                    StatusCode::FORBIDDEN,
                    "a request from another site's page is refused",
                )
                .into_response();
            }
        }
    }
    next.run(request).await
}

/// Whether `host` (a `Host` header: name and port) names this machine.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "[::1]"
    )
}

/// An error reply: `{ "error": message }` with its status.
struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn refuse(status: StatusCode, message: &str) -> Refused {
    Refused(status, message.to_owned())
}

/// The store, or the reply for a server that keeps no runs.
fn store(server: &CodeModeServer) -> Result<RunStore, Refused> {
    server.store().cloned().ok_or_else(|| {
        refuse(
            StatusCode::NOT_FOUND,
            "this server keeps no runs: start it with `--state DIR` or with approvals configured",
        )
    })
}

/// The reply for a store error.
fn store_error(error: &StoreError) -> Refused {
    let status = match error {
        StoreError::UnknownRun { .. } => StatusCode::NOT_FOUND,
        StoreError::NotWaiting { .. } | StoreError::NotInDoubt { .. } => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    refuse(status, &error.to_string())
}

/// Run `read` on the store off the async threads.
async fn blocking<T: Send + 'static>(
    read: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Refused> {
    match tokio::task::spawn_blocking(read).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(store_error(&error)),
        Err(_) => Err(refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the store could not be read",
        )),
    }
}

/// `GET /runs/api/runs`.
async fn overview(State(server): State<CodeModeServer>) -> Result<Json<Value>, Refused> {
    let store = store(&server)?;
    let (runs, pending) = blocking(move || {
        let mut runs = store.list(None)?;
        runs.truncate(LISTED_RUNS);
        let mut pending = Vec::new();
        let mut code: HashMap<String, String> = HashMap::new();
        for wait in store.pending(None)? {
            if !code.contains_key(&wait.run) {
                code.insert(wait.run.clone(), store.load(&wait.run)?.code);
            }
            let source = &code[&wait.run];
            pending.push(json!({
                "run": wait.run,
                "call": wait.call,
                "operation": wait.name(),
                "args": wait.args,
                "waiting": wait.waiting,
                "because": wait.because,
                "since": wait.since,
                "expires": wait.expires,
                "code": source,
                "lines": lines_naming(source, &wait.name()),
            }));
        }
        Ok((runs, pending))
    })
    .await?;
    Ok(Json(json!({ "runs": runs, "pending": pending })))
}

/// The numbers (from 1) of the lines of `code` that name `operation`
/// (`namespace.method`) as a whole word: where the code makes the call.
fn lines_naming(code: &str, operation: &str) -> Vec<usize> {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    (1..)
        .zip(code.lines())
        .filter(|(_, line)| {
            line.match_indices(operation).any(|(at, _)| {
                let before = line[..at].chars().next_back();
                let after = line[at + operation.len()..].chars().next();
                !before.is_some_and(|c| word(c) || c == '.') && !after.is_some_and(word)
            })
        })
        .map(|(number, _)| number)
        .collect()
}

/// `GET /runs/api/runs/{id}`.
async fn run(
    State(server): State<CodeModeServer>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Refused> {
    let store = store(&server)?;
    let record = blocking(move || store.load(&id)).await?;
    let plan = server.rollback_plan(&record);
    let mut marked: Vec<usize> = record
        .waits
        .iter()
        .filter(|wait| wait.decided.is_none())
        .flat_map(|wait| lines_naming(&record.code, &wait.name()))
        .collect();
    marked.sort_unstable();
    marked.dedup();
    Ok(Json(
        json!({ "run": record, "rollback": plan, "marked": marked }),
    ))
}

/// The body of a rejection.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Reason {
    #[serde(default)]
    reason: String,
}

/// `POST …/approve`.
async fn approve(
    State(server): State<CodeModeServer>,
    Extension(caller): Extension<Caller>,
    Path((id, call)): Path<(String, u32)>,
) -> Result<Json<Value>, Refused> {
    let decision = Decision::Approve {
        by: caller.name.clone(),
    };
    decide(&server, &caller, id, call, decision).await
}

/// `POST …/reject`.
async fn reject(
    State(server): State<CodeModeServer>,
    Extension(caller): Extension<Caller>,
    Path((id, call)): Path<(String, u32)>,
    body: Option<Json<Reason>>,
) -> Result<Json<Value>, Refused> {
    let reason = body.map(|Json(body)| body.reason).unwrap_or_default();
    let reason = match reason.trim() {
        "" => "rejected".to_owned(),
        reason => reason.to_owned(),
    };
    let decision = Decision::Reject {
        by: caller.name.clone(),
        reason,
    };
    decide(&server, &caller, id, call, decision).await
}

/// Record `decision` on `call` of run `id`, and say which decision stands.
/// A reviewer may not decide the calls of a run their own token started;
/// an admin may.
async fn decide(
    server: &CodeModeServer,
    caller: &Caller,
    id: String,
    call: u32,
    decision: Decision,
) -> Result<Json<Value>, Refused> {
    let store = store(server)?;
    let proposed = decision.clone();
    let own = started_by(caller);
    let separated = caller.role < Role::Admin;
    let decided = blocking(move || {
        if separated && store.load(&id)?.origin == own {
            return Ok(None);
        }
        store.decide(&id, call, &decision).map(Some)
    })
    .await?;
    let Some(decided) = decided else {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            &format!(
                "`{}` started this run: a reviewer may not decide the calls of their own runs; another reviewer or an admin may",
                caller.name
            ),
        ));
    };
    Ok(Json(match decided {
        Decided::Recorded => json!({ "recorded": true, "decision": proposed }),
        Decided::Already(standing) => json!({ "recorded": false, "decision": standing }),
    }))
}

/// `POST …/rollback`.
async fn rollback(
    State(server): State<CodeModeServer>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Refused> {
    let store = store(&server)?;
    match server.rollback(&store, &id).await {
        Ok(report) => Ok(Json(json!(report))),
        Err(RollbackError::Store(error)) => Err(store_error(&error)),
        Err(error @ (RollbackError::NotFinished { .. } | RollbackError::Busy(_))) => {
            Err(refuse(StatusCode::CONFLICT, &error.to_string()))
        }
        Err(error) => Err(refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            &error.to_string(),
        )),
    }
}

/// `GET /runs/api/events`: `run` and `progress` events, read from the
/// store every [`POLL`], until the client goes away.
async fn events(
    State(server): State<CodeModeServer>,
    Extension(streams): Extension<Arc<Semaphore>>,
) -> Result<Response, Refused> {
    let store = store(&server)?;
    let Ok(stream) = streams.try_acquire_owned() else {
        return Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "{MAX_EVENT_STREAMS} event streams are open, the most this server keeps; close one"
            ),
        ));
    };
    let (sender, receiver) = mpsc::channel(64);
    tokio::spawn(async move {
        // Held while the stream is open.
        let _stream = stream;
        let mut watch = Watch::new(now_millis());
        let mut ticks = tokio::time::interval(POLL);
        loop {
            ticks.tick().await;
            let store = store.clone();
            let read = tokio::task::spawn_blocking(move || {
                let events = watch.read(&store);
                (events, watch)
            });
            let Ok((events, read)) = read.await else {
                return;
            };
            watch = read;
            // A store that fails now may not at the next read.
            for event in events.unwrap_or_default() {
                if sender.send(Ok(event)).await.is_err() {
                    return;
                }
            }
            if sender.is_closed() {
                return;
            }
        }
    });
    let stream: ReceiverStream<Result<Event, Infallible>> = ReceiverStream::new(receiver);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// What the event stream has told its client so far.
struct Watch {
    /// When the stream started, in milliseconds since the Unix epoch: the
    /// runs created since then have their whole journal told as progress.
    opened: u64,
    /// When the last read started.
    last_read: u64,
    /// Each run told of, as last told, with how many of its journal's
    /// entries were told as progress.
    told: HashMap<String, (RunSummary, u64)>,
    /// Whether a read was made: the first only sets where runs stand.
    started: bool,
}

impl Watch {
    fn new(opened: u64) -> Self {
        Self {
            opened,
            last_read: opened,
            told: HashMap::new(),
            started: false,
        }
    }

    /// Read the runs changed since the last read: the events to send, and
    /// what has then been told.
    fn read(&mut self, store: &RunStore) -> Result<Vec<Event>, StoreError> {
        let now = now_millis();
        let changed = store.changed(self.last_read.saturating_sub(CLOCK_SLACK_MS))?;
        let mut events = Vec::new();
        for run in changed {
            let known = self.told.get(&run.id);
            if known.is_some_and(|(told, _)| *told == run) {
                continue;
            }
            // Progress is told from the start of a run created since the
            // stream opened, and from where the stream found the others.
            let mut progress = match known {
                Some((_, progress)) => *progress,
                None if self.started && run.created >= self.opened => 0,
                None => run.entries,
            };
            for (seq, entry) in store
                .entries_after(&run.id, progress)?
                .into_iter()
                .take(PROGRESS_BATCH)
            {
                progress = seq;
                if let Some(message) = progress_message(&entry) {
                    let data = json!({ "run": run.id, "message": message });
                    events.push(Event::default().event("progress").data(data.to_string()));
                }
            }
            let data = serde_json::to_string(&run).unwrap_or_default();
            events.push(Event::default().event("run").data(data));
            let mut told = run;
            if progress < told.entries {
                // The rest of the journal is told at the next read.
                told.entries = progress;
            }
            self.told.insert(told.id.clone(), (told, progress));
        }
        self.started = true;
        self.last_read = now;
        Ok(events)
    }
}

/// The progress message of a journal entry, as MCP progress words it: a
/// connector call as it is asked for, a console line.
fn progress_message(entry: &Entry) -> Option<String> {
    match entry {
        Entry::Call {
            namespace, method, ..
        } => Some(format!("call {namespace}.{method}")),
        Entry::Log { level, text } => Some(format!("{}: {text}", level.as_str())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_naming_an_operation_are_found_as_whole_words() {
        let code = "const a = await memory.create_entities({});\n\
                    // memory.create_entities_later is another\n\
                    await xmemory.create_entities();\n\
                    await Promise.all([memory.create_entities({}), 1]);";
        assert_eq!(lines_naming(code, "memory.create_entities"), [1, 4]);
        assert!(lines_naming(code, "memory.delete").is_empty());
    }

    #[test]
    fn only_loopback_names_are_loopback_hosts() {
        for host in ["localhost", "127.0.0.1:8080", "[::1]:80", "LOCALHOST:1"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["evil.example", "127.0.0.1.evil.example:80", "", "[::2]:80"] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
