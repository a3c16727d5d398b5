//! `codemode runs`: the durable runs of a state directory, for a person at
//! a shell: list them, read one's journal, and approve or reject the calls
//! that wait, from any process while the run's own waits. Every command
//! reads and writes the state directory's `runs.sqlite3` through
//! [`RunStore`]; a decision is recorded once whoever makes it, so
//! approving twice, or from two shells at once, is not an error.
//!
//! Also the helpers `codemode run --state` shares with these commands: the
//! default state directory, a call as a line of text, and the command that
//! decides on a call.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};
use codemode_runs::{Decided, RunRecord, RunStore, Status, Undo, cut, outcome_line};
use codemode_runtime::{CallFailure, Decision, Entry, LogLevel, Ruling, Runtime, Waiting};
use serde_json::Value;

use crate::config::Config;
use crate::prompt::user_or;
use crate::serve::Connectors;

/// How much of a call's arguments, a reply or a console line `runs show`
/// shows.
const SHOWN_CHARS: usize = 200;

/// How many lines of a run's code `runs show` shows.
const SHOWN_CODE_LINES: usize = 10;

/// The state directory when `--state` is not given:
/// `$XDG_STATE_HOME/codemode`, or `~/.local/state/codemode`.
///
/// # Errors
///
/// When neither `$XDG_STATE_HOME` nor `$HOME` is set.
pub(crate) fn default_state_dir() -> Result<PathBuf> {
    let set = |name| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|path| path.is_absolute())
    };
    if let Some(state) = set("XDG_STATE_HOME") {
        return Ok(state.join("codemode"));
    }
    let home = set("HOME").context(
        "no state directory: neither `$XDG_STATE_HOME` nor `$HOME` is set; give `--state DIR`",
    )?;
    Ok(home.join(".local/state/codemode"))
}

/// `--state`, for every `runs` command.
#[derive(Args)]
struct StateArg {
    /// The state directory, which holds `runs.sqlite3`, or the PostgreSQL
    /// database `postgres://USER:PASSWORD@HOST/DB` that `serve --state`
    /// keeps its runs in. Default: `$XDG_STATE_HOME/codemode`, or
    /// `~/.local/state/codemode`.
    #[arg(long, value_name = "DIR|URL")]
    state: Option<PathBuf>,
}

impl StateArg {
    /// The state directory: the one given, or the default.
    fn dir(&self) -> Result<PathBuf> {
        match &self.state {
            Some(dir) => Ok(dir.clone()),
            None => default_state_dir(),
        }
    }

    /// The runs database of the state directory (created if missing).
    fn open(&self) -> Result<RunStore> {
        Ok(RunStore::at(&self.dir()?)?)
    }
}

/// `codemode runs`.
#[derive(Parser)]
pub(crate) struct RunsArgs {
    #[command(subcommand)]
    command: RunsCommand,
}

#[derive(Subcommand)]
enum RunsCommand {
    /// List the runs, newest first.
    ///
    /// A table with the columns ID, STATUS,
    /// WAITING (how many calls wait for a decision), ORIGIN (what started
    /// the run: `run`, `serve`) and CREATED (UTC, ISO 8601, to the second).
    ///
    /// With `--json`: one JSON array of `{ id, origin, status, waiting,
    /// created, updated }`, times in milliseconds since the Unix epoch.
    List(ListArgs),
    /// Show a run's journal.
    ///
    /// Its code (the first lines), each call with its
    /// number, `namespace.method(args)`, the policy's ruling, the decisions
    /// on it (who, why), its reply or error and times; the calls waiting;
    /// what a resumed run did differently (divergences); the console; the
    /// outcome; the undos of a rollback. Arguments, replies and console
    /// lines are cut to 200 characters, marked `…`.
    ///
    /// With `--json`: the whole record as one JSON object: `id`, `code`,
    /// `language`, `grants`, `limits`, `seed`, `origin`, `status`,
    /// `outcome`, `created`, `updated`, `entries`, `waits`, `decisions`,
    /// `undos`.
    Show(ShowArgs),
    /// Approve calls waiting for a decision.
    ///
    /// The given calls, or all those of the run that wait. Prints a line a
    /// call: `approved r_…#3
    /// memory.delete_entities`, or, for a call decided before (which is
    /// not an error), `already approved by ana: r_…#3 …` or `already
    /// rejected by ana (reason): r_…#3 …`. An unknown run, or a call that
    /// is not waiting, exits 2.
    Approve(DecideArgs),
    /// Reject calls waiting for a decision.
    ///
    /// The given calls, or all those of the run that wait. The script sees an `ApprovalRejectedError` with the reason.
    /// Prints a line a call: `rejected r_…#3 memory.delete_entities
    /// (reason)`, or `already …` as `approve` does. An unknown run, or a
    /// call that is not waiting, exits 2.
    Reject(RejectArgs),
    /// Resume a run left unfinished by a process that died, to its end.
    ///
    /// The run is replayed from its journal with the config's connectors
    /// and approvals: calls already made are not made again, a call in
    /// doubt waits for a decision, and gated calls are asked about as `run`
    /// asks. Prints as `run` prints, and exits as `run` exits. A run
    /// another process runs, or that has finished, exits 2.
    Resume(WithConfigArgs),
    /// Undo a finished run's calls, newest effect first.
    ///
    /// Each call with an `undo` in the config's `codemode.undo` is undone
    /// by running that undo in a fresh sandbox with the config's
    /// connectors (each undo is itself a durable run); calls without one
    /// are listed as cannot be undone. A failed undo stops the rollback and
    /// exits 1; running it again goes on from there and never undoes a call
    /// twice. Prints a line a call: `undone r_…#3 memory.create_entities`,
    /// `already undone …`, `cannot be undone …` or `failed …: error`.
    /// With `--json`: the report as one JSON object.
    Rollback(WithConfigArgs),
}

/// A run, and the config whose connectors act on it (`resume`,
/// `rollback`).
#[derive(Args)]
struct WithConfigArgs {
    #[command(flatten)]
    state: StateArg,
    /// The run's id (`r_…`).
    id: String,
    /// The configuration whose connectors to use, with its approvals
    /// (`resume`) or its `codemode.undo` (`rollback`).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Print the outcome (as `run --json` does) or the report as one JSON
    /// object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ListArgs {
    #[command(flatten)]
    state: StateArg,
    /// Only the runs with this status: running, waiting, succeeded, failed
    /// or rolled-back.
    #[arg(long, value_name = "STATUS")]
    status: Option<Status>,
    /// Print one JSON array.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ShowArgs {
    #[command(flatten)]
    state: StateArg,
    /// The run's id (`r_…`).
    id: String,
    /// Print the record as one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct DecideArgs {
    #[command(flatten)]
    state: StateArg,
    /// The run's id (`r_…`).
    id: String,
    /// The calls' numbers, as `runs show` gives them. Default: every call
    /// of the run that waits.
    calls: Vec<u32>,
    /// Who decides, as the journal records it. Default: `$USER`, else
    /// `cli`.
    #[arg(long = "as", value_name = "NAME")]
    by: Option<String>,
}

#[derive(Args)]
struct RejectArgs {
    #[command(flatten)]
    decide: DecideArgs,
    /// Why, for the script and the journal.
    #[arg(long, value_name = "TEXT", default_value = "rejected")]
    reason: String,
}

/// Run `codemode runs …`.
pub(crate) fn runs(args: RunsArgs) -> Result<ExitCode> {
    match args.command {
        RunsCommand::Rollback(args) => return rollback(&args),
        RunsCommand::Resume(args) => {
            let state = args.state.dir()?;
            return crate::resume(&state, &args.id, &args.config, args.json);
        }
        RunsCommand::List(args) => list(&args),
        RunsCommand::Show(args) => show(&args),
        RunsCommand::Approve(args) => {
            let by = args.by.clone().unwrap_or_else(|| user_or("cli"));
            decide(&args, &Decision::Approve { by })
        }
        RunsCommand::Reject(RejectArgs {
            decide: args,
            reason,
        }) => {
            let by = args.by.clone().unwrap_or_else(|| user_or("cli"));
            decide(&args, &Decision::Reject { by, reason })
        }
    }?;
    Ok(ExitCode::SUCCESS)
}

fn list(args: &ListArgs) -> Result<()> {
    let runs = args.state.open()?.list(args.status)?;
    if args.json {
        println!("{}", serde_json::to_string(&runs)?);
        return Ok(());
    }
    let origin_width = runs
        .iter()
        .map(|run| run.origin.chars().count())
        .chain(["ORIGIN".len()])
        .max()
        .unwrap_or_default();
    println!(
        "{:<14}  {:<11}  {:>7}  {:<origin_width$}  CREATED",
        "ID", "STATUS", "WAITING", "ORIGIN"
    );
    for run in runs {
        println!(
            "{:<14}  {:<11}  {:>7}  {:<origin_width$}  {}",
            run.id,
            run.status.as_str(),
            run.waiting,
            run.origin,
            utc(run.created)
        );
    }
    Ok(())
}

fn show(args: &ShowArgs) -> Result<()> {
    let record = args.state.open()?.load(&args.id)?;
    if args.json {
        println!("{}", serde_json::to_string(&record)?);
    } else {
        print!("{}", journal_text(&record));
    }
    Ok(())
}

/// Record `decision` on each call of `args`, and say which decision stands.
fn decide(args: &DecideArgs, decision: &Decision) -> Result<()> {
    let store = args.state.open()?;
    let record = store.load(&args.id)?;
    let mut calls = args.calls.clone();
    if calls.is_empty() {
        calls = store
            .pending(Some(&args.id))?
            .into_iter()
            .map(|wait| wait.call)
            .collect();
        calls.sort_unstable();
        calls.dedup();
        if calls.is_empty() {
            eprintln!("codemode: no call of {} is waiting", args.id);
        }
    }
    for call in calls {
        let decided = store.decide(&args.id, call, decision)?;
        let what = format!("{}#{call} {}", args.id, call_name(&record, call));
        match decided {
            Decided::Recorded => match decision {
                Decision::Reject { reason, .. } => println!("rejected {what} ({reason})"),
                _ => println!("approved {what}"),
            },
            Decided::Already(standing) => println!("already {}: {what}", decided_text(&standing)),
        }
    }
    Ok(())
}

/// `namespace.method` of `call` in `record`, from its journal or its waits.
fn call_name(record: &RunRecord, number: u32) -> String {
    let journaled = record.entries.iter().find_map(|entry| match entry {
        Entry::Call {
            call,
            namespace,
            method,
            ..
        } if *call == number => Some(format!("{namespace}.{method}")),
        _ => None,
    });
    journaled
        .or_else(|| {
            record
                .waits
                .iter()
                .find(|wait| wait.call == number)
                .map(codemode_runs::Wait::name)
        })
        .unwrap_or_else(|| "(unknown call)".into())
}

/// `approved by ana`, `rejected by ana (reason)`, `resolved by ana`.
fn decided_text(decision: &Decision) -> String {
    match decision {
        Decision::Approve { by } => format!("approved by {by}"),
        Decision::Reject { by, reason } => format!("rejected by {by} ({reason})"),
        Decision::Resolve { by, .. } => format!("resolved by {by}"),
    }
}

/// `namespace.method(args)`, the arguments (JSON text) cut to `max`
/// characters.
pub(crate) fn call_text(name: &str, args: &str, max: usize) -> String {
    format!("{name}({})", cut(args, max))
}

/// The command a person at another shell decides on `call` of `run` with:
/// `codemode runs approve r_… 3`, with `--state` unless `state` is the
/// default.
pub(crate) fn decide_command(verb: &str, state: &str, run: &str, call: u32) -> String {
    let default = default_state_dir()
        .ok()
        .is_some_and(|default| default.as_os_str() == state);
    let state = if default {
        String::new()
    } else {
        format!(" --state {}", shell_word(state))
    };
    format!("codemode runs {verb}{state} {run} {call}")
}

/// `word`, quoted for a POSIX shell when it needs to be.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@,~".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `millis` since the Unix epoch, in UTC, ISO 8601, to the second.
fn utc(millis: u64) -> String {
    i64::try_from(millis)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(
            || format!("{millis} ms"),
            |time| time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        )
}

/// What the journal says of one call.
#[derive(Default)]
struct CallView<'a> {
    name: String,
    args: &'a str,
    ruling: Option<&'a Ruling>,
    asked: u64,
    started: Option<u64>,
    finished: Option<(u64, &'a Result<String, CallFailure>)>,
}

/// `runs show`'s text for `record`.
fn journal_text(record: &RunRecord) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "run {}: {}, started by {}, created {}, updated {}",
        record.id,
        record.status,
        record.origin,
        utc(record.created),
        utc(record.updated)
    );
    let grants: Vec<String> = record
        .grants
        .iter()
        .map(|(namespace, methods)| format!("{namespace} ({} methods)", methods.len()))
        .collect();
    if !grants.is_empty() {
        let _ = writeln!(out, "grants: {}", grants.join(", "));
    }
    code_text(&mut out, record);
    calls_text(&mut out, record);
    waits_text(&mut out, record);
    let diverged: Vec<String> = record
        .entries
        .iter()
        .filter_map(|entry| match entry {
            Entry::Diverged {
                what,
                call: Some(call),
            } => Some(format!("#{call}: {what}")),
            Entry::Diverged { what, call: None } => Some(what.clone()),
            _ => None,
        })
        .collect();
    section(&mut out, "diverged", &diverged);
    let console: Vec<String> = record
        .entries
        .iter()
        .filter_map(|entry| match entry {
            Entry::Log { level, text } => Some(match level {
                LogLevel::Warn | LogLevel::Error => format!(
                    "{}: {}",
                    serde_json::to_value(level)
                        .ok()
                        .and_then(|level| level.as_str().map(str::to_owned))
                        .unwrap_or_default(),
                    cut(text, SHOWN_CHARS)
                ),
                _ => cut(text, SHOWN_CHARS),
            }),
            _ => None,
        })
        .collect();
    section(&mut out, "console", &console);
    outcome_text(&mut out, record.outcome.as_ref());
    let undos: Vec<String> = record
        .undos
        .iter()
        .map(|step| match &step.result {
            Ok(()) => format!("#{} undone at {}", step.call, utc(step.at)),
            Err(error) => format!("#{} failed at {}: {error}", step.call, utc(step.at)),
        })
        .collect();
    section(&mut out, "undo", &undos);
    out
}

/// `title:` and `lines` indented, when there are any.
fn section(out: &mut String, title: &str, lines: &[String]) {
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "{title}:");
    for line in lines {
        let _ = writeln!(out, "  {line}");
    }
}

fn code_text(out: &mut String, record: &RunRecord) {
    let lines: Vec<&str> = record.code.lines().collect();
    let language = match record.language {
        codemode_runtime::Language::JavaScript => "javascript",
        _ => "typescript",
    };
    let _ = writeln!(out, "code ({language}, {} lines):", lines.len());
    for line in lines.iter().take(SHOWN_CODE_LINES) {
        let _ = writeln!(out, "  | {}", cut(line, SHOWN_CHARS));
    }
    if lines.len() > SHOWN_CODE_LINES {
        let _ = writeln!(out, "  | … {} more lines", lines.len() - SHOWN_CODE_LINES);
    }
}

fn calls_text(out: &mut String, record: &RunRecord) {
    let mut calls: BTreeMap<u32, CallView<'_>> = BTreeMap::new();
    for entry in &record.entries {
        match entry {
            Entry::Call {
                call,
                namespace,
                method,
                args,
                ruling,
                at,
                ..
            } => {
                let view = calls.entry(*call).or_default();
                view.name = format!("{namespace}.{method}");
                view.args = args;
                view.ruling = Some(ruling);
                view.asked = *at;
            }
            Entry::Started { call, at } => calls.entry(*call).or_default().started = Some(*at),
            Entry::Finished {
                call, reply, at, ..
            } => calls.entry(*call).or_default().finished = Some((*at, reply)),
            _ => {}
        }
    }
    if calls.is_empty() {
        return;
    }
    let _ = writeln!(out, "calls:");
    for (number, view) in &calls {
        let _ = writeln!(
            out,
            "  #{number} {}",
            call_text(&view.name, view.args, SHOWN_CHARS)
        );
        if let Some(ruling) = view.ruling {
            let action = serde_json::to_value(ruling.action)
                .ok()
                .and_then(|action| action.as_str().map(str::to_owned))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "     {action} ({}), asked {}",
                ruling.because,
                utc(view.asked)
            );
        }
        for decided in record.decisions.iter().filter(|d| d.call == *number) {
            let doubt = match decided.waiting {
                Waiting::InDoubt => " (in doubt)",
                Waiting::Approval => "",
            };
            let _ = writeln!(
                out,
                "     {}{doubt} at {}",
                decided_text(&decided.decision),
                utc(decided.at)
            );
        }
        let _ = match (view.started, view.finished) {
            (_, Some((at, Ok(reply)))) => writeln!(
                out,
                "     reply {}: {}",
                timing(view.started, at),
                cut(reply, SHOWN_CHARS)
            ),
            (_, Some((at, Err(failure)))) => writeln!(
                out,
                "     error {}: {}: {}",
                timing(view.started, at),
                failure.code,
                cut(&failure.message, SHOWN_CHARS)
            ),
            (Some(started), None) => {
                writeln!(out, "     started {}, no result journaled", utc(started))
            }
            (None, None) => writeln!(out, "     not made"),
        };
    }
}

/// `at 2025-…Z, after 12 ms`, or only when it finished.
fn timing(started: Option<u64>, finished: u64) -> String {
    match started {
        Some(started) => format!(
            "at {}, after {} ms",
            utc(finished),
            finished.saturating_sub(started)
        ),
        None => format!("at {}", utc(finished)),
    }
}

fn waits_text(out: &mut String, record: &RunRecord) {
    let open: Vec<String> = record
        .waits
        .iter()
        .filter(|wait| wait.decided.is_none())
        .map(|wait| {
            let why = match wait.waiting {
                Waiting::Approval => "for approval",
                Waiting::InDoubt => "in doubt",
            };
            format!(
                "#{} {} {why} since {}, expires {}",
                wait.call,
                call_text(&wait.name(), &wait.args.to_string(), SHOWN_CHARS),
                utc(wait.since),
                utc(wait.expires)
            )
        })
        .collect();
    section(out, "waiting", &open);
}

/// The outcome as `runs show` gives it.
fn outcome_text(out: &mut String, outcome: Option<&Value>) {
    let line = outcome.map_or_else(
        || "none yet".to_owned(),
        |outcome| outcome_line(outcome, SHOWN_CHARS),
    );
    let _ = writeln!(out, "outcome: {line}");
}

/// `codemode runs rollback`.
fn rollback(args: &WithConfigArgs) -> Result<ExitCode> {
    let store = args.state.open()?;
    let config = Config::load(&args.config)?;
    crate::tokio_runtime()?.block_on(async {
        let runtime = Runtime::new().context("starting the sandbox runtime")?;
        config.check_undo(&runtime).await?;
        let grants = Arc::new(Connectors::connect(&config).await?.grants()?);
        let report = codemode_runs::rollback(
            &store,
            &runtime,
            grants,
            config.undo(),
            &args.id,
            &config.limits(),
        )
        .await?;
        if args.json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            for step in &report.steps {
                let call = format!("{}#{} {}", report.run, step.call, step.operation);
                match &step.undo {
                    Undo::Applied { .. } => println!("undone {call}"),
                    Undo::AlreadyApplied => println!("already undone {call}"),
                    Undo::CannotBeUndone => println!("cannot be undone {call}"),
                    Undo::Failed { error, .. } => println!("failed {call}: {error}"),
                }
            }
        }
        Ok(if report.failure().is_some() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_at_a_character_with_a_mark() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(
            outcome_line(&serde_json::json!({ "result": "abcd" }), 3),
            r#"succeeded: "ab…"#
        );
        assert_eq!(cut("abcd", 3), "abc…");
        assert_eq!(cut("ééé", 2), "éé…");
        assert_eq!(
            call_text("memory.delete_entities", r#"{"entityNames":["x"]}"#, 200),
            r#"memory.delete_entities({"entityNames":["x"]})"#
        );
    }

    #[test]
    fn times_are_utc_to_the_second() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(1_700_000_000_999), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn state_directories_are_quoted_for_the_shell_when_they_need_it() {
        assert_eq!(
            decide_command("approve", "/tmp/state", "r_x", 3),
            "codemode runs approve --state /tmp/state r_x 3"
        );
        assert_eq!(
            decide_command("reject", "/tmp/my state's", "r_x", 1),
            r"codemode runs reject --state '/tmp/my state'\''s' r_x 1"
        );
    }
}
