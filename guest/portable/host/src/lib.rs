//! The host component of the portable sandbox: it plays, inside a
//! composition, the part our wasmtime host plays in-process. The guest's
//! imports (`codemode:sandbox/host`, `catalog`, `documents`, and its
//! `wasi:cli/environment`) are plugged into this component's exports, so
//! that the interpreter reaches nothing else.
//!
//! - Connector calls go to the connector component (`connector`), checked
//!   against what it declared and against the run's caps first, and are
//!   answered at once (`ready`): a portable host runs one call at a time.
//! - `wait-next` only ever waits for timers, on the WASI monotonic clock.
//! - Console lines are kept within the log cap by the same
//!   [`Console`](codemode_outcome::Console) as the runtime's, and printed as
//!   they are written when the driver asks (the CLI component without
//!   `--json`).
//! - `codemode.search` and `describe` look through the declared methods.
//! - There are no documents.
//!
//! One instance serves one run (`wasmtime run`), or one request (`wasmtime
//! serve` and Spin make a fresh instance for each).

use std::cell::RefCell;
use std::time::{Duration, Instant};

use codemode_outcome::{Console, Limits, LogLevel, print_log};

/// The bindings of `portable.wit`'s `host` world.
// SAFETY: the glue wit-bindgen generates (lifting and lowering values across
// the component boundary) is unsafe code that upholds the canonical ABI;
// nothing else in this module is.
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        world: "codemode:portable/host",
        path: ["../../../wit", "../wit"],
    });

    use super::Host;
    export!(Host with_types_in self);
}

use bindings::codemode::portable::connector::{self, Declared};
use bindings::exports::codemode::portable::{empty_environment, session};
use bindings::exports::codemode::sandbox::catalog;
use bindings::exports::codemode::sandbox::documents::{self, Found, Node};
use bindings::exports::codemode::sandbox::host::{self, CallError, CallStart, Completion};

/// The state of the instance's run.
struct Run {
    console: Console,
    /// Print lines as they are written.
    print: bool,
    /// When the run's deadline passes.
    deadline: Instant,
    /// Connector calls started.
    calls: u32,
    limits: Limits,
}

thread_local! {
    static RUN: RefCell<Option<Run>> = const { RefCell::new(None) };
    /// What the connector component declared, asked once.
    static DECLARED: RefCell<Option<Result<Vec<Declared>, String>>> = const { RefCell::new(None) };
}

/// The declared connectors, asked of the connector component once.
fn with_declared<T>(f: impl FnOnce(&Result<Vec<Declared>, String>) -> T) -> T {
    DECLARED.with(|cell| f(cell.borrow_mut().get_or_insert_with(connector::declare)))
}

/// `f` on the run; a guest that calls before `begin` gets a run with
/// default limits.
fn with_run<T>(f: impl FnOnce(&mut Run) -> T) -> T {
    RUN.with(|cell| {
        let mut run = cell.borrow_mut();
        f(run.get_or_insert_with(|| new_run(Limits::default(), false)))
    })
}

fn new_run(limits: Limits, print: bool) -> Run {
    Run {
        console: Console::new(limits.log_bytes),
        print,
        deadline: Instant::now() + limits.timeout,
        calls: 0,
        limits,
    }
}

struct Host;

impl session::Guest for Host {
    fn connectors() -> Result<Vec<(String, Vec<String>)>, String> {
        with_declared(|declared| {
            declared.clone().map(|list| {
                list.into_iter()
                    .map(|d| (d.name, d.methods.into_iter().map(|m| m.name).collect()))
                    .collect()
            })
        })
    }

    fn begin(log_bytes: u32, deadline_ms: u64, print: bool) {
        let mut limits = Limits::default();
        limits.log_bytes = log_bytes as usize;
        limits.timeout = Duration::from_millis(deadline_ms);
        RUN.with(|cell| *cell.borrow_mut() = Some(new_run(limits, print)));
    }

    fn end() -> (Vec<session::Line>, u32) {
        let Some(run) = RUN.with(|cell| cell.borrow_mut().take()) else {
            return (Vec::new(), 0);
        };
        let lines = run
            .console
            .into_entries()
            .into_iter()
            .map(|entry| session::Line {
                level: match entry.level {
                    LogLevel::Debug => session::Level::Debug,
                    LogLevel::Info => session::Level::Info,
                    LogLevel::Log => session::Level::Log,
                    LogLevel::Warn => session::Level::Warn,
                    LogLevel::Error => session::Level::Error,
                },
                text: entry.text,
            })
            .collect();
        (lines, run.calls)
    }
}

impl host::Guest for Host {
    fn start_call(connector: String, method: String, args: String) -> CallStart {
        CallStart::Ready(call(&connector, &method, args))
    }

    fn wait_next(timeout_ns: Option<u64>) -> Option<Completion> {
        // Every call was answered at once: only timers are waited for.
        if let Some(ns) = timeout_ns {
            wasip2::clocks::monotonic_clock::subscribe_duration(ns).block();
        }
        None
    }

    fn log(level: host::LogLevel, text: String) -> bool {
        let level = codemode_outcome::log_level!(level, host::LogLevel);
        with_run(|run| {
            let print = run.print;
            run.console.write(level, text, |entry| {
                if print {
                    print_log(entry.level, &entry.text);
                }
            })
        })
    }
}

/// One connector call, checked against the declarations and the run's caps.
fn call(connector: &str, method: &str, args: String) -> Result<String, CallError> {
    let declared = with_declared(|declared| {
        declared.as_ref().is_ok_and(|list| {
            list.iter()
                .any(|d| d.name == connector && d.methods.iter().any(|m| m.name == method))
        })
    });
    if !declared {
        return Err(refused(
            "not-granted",
            format!("`{connector}.{method}` is not a granted method"),
        ));
    }
    let (calls, timeout, limits) = with_run(|run| {
        run.calls += 1;
        let left = run.deadline.saturating_duration_since(Instant::now());
        (run.calls, left, run.limits.clone())
    });
    if calls > limits.connector_calls {
        return Err(refused(
            "connector",
            format!(
                "the run made more than {} connector calls, the most a run may make",
                limits.connector_calls
            ),
        ));
    }
    if args.len() > limits.argument_bytes {
        return Err(refused(
            "arguments-too-large",
            format!(
                "the arguments of `{connector}.{method}` are {} bytes of JSON; the limit is {} bytes",
                args.len(),
                limits.argument_bytes
            ),
        ));
    }
    if timeout.is_zero() {
        return Err(refused("connector", "the run's deadline has passed".into()));
    }
    let timeout_ms = u64::try_from(timeout.as_millis())
        .unwrap_or(u64::MAX)
        .max(1);
    let reply =
        connector::call(connector, method, &args, timeout_ms).map_err(|failure| CallError {
            code: failure.code,
            message: failure.message,
        })?;
    if reply.len() > limits.reply_bytes {
        return Err(refused(
            "reply-too-large",
            format!(
                "the reply of `{method}` is larger than the limit of {} bytes",
                limits.reply_bytes
            ),
        ));
    }
    Ok(reply)
}

fn refused(code: &str, message: String) -> CallError {
    CallError {
        code: code.into(),
        message,
    }
}

impl catalog::Guest for Host {
    fn search(query: String, limit: u32) -> String {
        let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
        let found: Vec<serde_json::Value> = with_declared(|declared| {
            let Ok(list) = declared else {
                return Vec::new();
            };
            list.iter()
                .flat_map(|d| d.methods.iter().map(move |m| (d, m)))
                .filter(|(d, m)| {
                    let text = format!("{}.{} {}", d.name, m.name, m.description).to_lowercase();
                    words.iter().any(|word| text.contains(word.as_str()))
                })
                .take(limit as usize)
                .map(|(d, m)| {
                    serde_json::json!({
                        "name": format!("{}.{}", d.name, m.name),
                        "description": m.description,
                    })
                })
                .collect()
        });
        serde_json::Value::Array(found).to_string()
    }

    fn describe(name: String) -> Result<String, String> {
        let (namespace, method) = name.split_once('.').unwrap_or(("", name.as_str()));
        with_declared(|declared| {
            let list = declared.as_ref().ok()?;
            list.iter()
                .filter(|d| namespace.is_empty() || d.name == namespace)
                .find_map(|d| {
                    let m = d.methods.iter().find(|m| m.name == method)?;
                    Some(
                        serde_json::json!({
                            "name": format!("{}.{}", d.name, m.name),
                            "description": m.description,
                            "declaration": format!(
                                "/** {} */\n{}(args?: Record<string, unknown>): Promise<{{ status: number; headers: Record<string, string>; data: unknown }}>;",
                                m.description, m.name
                            ),
                        })
                        .to_string(),
                    )
                })
        })
        .ok_or_else(|| format!("no method is named `{name}` (`codemode.search(query)` finds methods)"))
    }
}

impl documents::Guest for Host {
    fn read(_document: u32, _node: u32) -> Result<Node, String> {
        Err(NO_DOCUMENTS.into())
    }

    fn find(_document: u32, _pointer: String) -> Result<Found, String> {
        Err(NO_DOCUMENTS.into())
    }
}

/// A portable host grants no documents.
const NO_DOCUMENTS: &str = "this host holds no documents";

impl empty_environment::Guest for Host {
    fn get_environment() -> Vec<(String, String)> {
        Vec::new()
    }

    fn get_arguments() -> Vec<String> {
        Vec::new()
    }

    fn initial_cwd() -> Option<String> {
        None
    }
}
