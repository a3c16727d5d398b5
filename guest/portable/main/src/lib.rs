//! The driver of the portable sandbox: the component that a host calls.
//! With the `cli` feature it exports `wasi:cli/run` (the script on standard
//! input, printed as `codemode run` prints it); with `http`, it exports
//! `wasi:http/incoming-handler` (`POST /execute`). Either way it runs the
//! guest through `codemode:sandbox/runner`, with the host component's
//! connectors granted and the guest's own limits set, and builds the
//! outcome with the runtime's own [`codemode_outcome`], so that a script's
//! JSON is the same under every host.

#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "http")]
mod http;

use std::time::Instant;

use codemode_outcome::{Ending, Limits, LogEntry, Outcome, Stats};

/// The bindings of `portable.wit`'s `main` world.
// SAFETY: the glue wit-bindgen generates (lifting and lowering values across
// the component boundary) is unsafe code that upholds the canonical ABI;
// nothing else in this module is.
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        world: "codemode:portable/main",
        path: ["../../../wit", "../wit"],
        generate_all,
    });
}

use bindings::codemode::portable::session;
use bindings::codemode::sandbox::runner;

/// The language a script is written in.
#[derive(Clone, Copy)]
pub(crate) enum Language {
    TypeScript,
    JavaScript,
}

impl Language {
    /// `ts` or `js`, as `codemode run --lang` names them.
    pub(crate) fn named(name: &str) -> Option<Self> {
        match name {
            "ts" => Some(Self::TypeScript),
            "js" => Some(Self::JavaScript),
            _ => None,
        }
    }
}

/// Run `code` in the guest under `limits`, with the connectors the
/// connector component declares, printing console lines as they are
/// written when `print` is set. `Err`: the connectors' configuration is
/// wrong, and nothing ran.
pub(crate) fn execute(
    code: String,
    language: Language,
    limits: &Limits,
    print: bool,
) -> Result<Outcome, String> {
    let connectors = session::connectors()?
        .into_iter()
        .map(|(name, methods)| runner::Connector { name, methods })
        .collect();
    let timeout_ms = u64::try_from(limits.timeout.as_millis()).unwrap_or(u64::MAX);
    let request = runner::Request {
        code,
        language: match language {
            Language::TypeScript => runner::Language::Typescript,
            Language::JavaScript => runner::Language::Javascript,
        },
        connectors,
        globals: Vec::new(),
        documents: Vec::new(),
        max_result_bytes: u32::try_from(limits.result_bytes).unwrap_or(u32::MAX),
        limits: runner::GuestLimits {
            memory_bytes: Some(limits.memory_bytes),
            deadline_ms: Some(timeout_ms),
        },
    };
    session::begin(
        u32::try_from(limits.log_bytes).unwrap_or(u32::MAX),
        timeout_ms,
        print,
    );
    let started = Instant::now();
    let ran = runner::run(&request);
    let wall_time = started.elapsed();
    let (lines, calls) = session::end();

    let ending = match ran {
        Ok(json) => Ending::Returned(json),
        Err(error) => Ending::Threw(codemode_outcome::script_failure!(error, runner::Failure)),
    };
    let logs = lines
        .into_iter()
        .map(|line| {
            LogEntry::new(
                codemode_outcome::log_level!(line.level, session::Level),
                line.text,
            )
        })
        .collect();
    // Fuel and memory are the host's to measure: 0 here.
    let mut stats = Stats::default();
    stats.wall_time = wall_time;
    stats.connector_calls = calls;
    Ok(Outcome::of(ending, logs, stats, limits))
}
