//! Deciding on gated calls in `codemode run`: a person asked at the
//! terminal ([`TerminalApprover`]), the rejection when there is no terminal
//! to ask on ([`NoTerminal`]), and, for a durable run, the notice on
//! standard error that says how to decide from another shell
//! ([`Announcing`]).
//!
//! The terminal is asked only when standard input and standard error are
//! both terminals and the script did not come from standard input (its end
//! of file was read: nothing more can be).
//!
//! A line is read on a thread of its own, not on the async runtime: a
//! prompt can be dropped while the person has not answered (another
//! process decided, the run ended), and a blocking read cannot be
//! cancelled. The read carries on and answers the next prompt, if one
//! comes; a process that ends does not wait for it, as it would for a
//! `spawn_blocking` task.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use codemode_runtime::{Approver, Decision, PendingCall, Waiting};
use tokio::sync::oneshot::error::TryRecvError;
use tokio::sync::{Mutex, oneshot};

use crate::runs::{call_text, decide_command};

/// The reason a call is rejected with when nobody can be asked.
pub(crate) const NO_TERMINAL: &str = "no terminal to ask on";

/// The reason of a "no" (or anything but "y" or "yes") at the terminal.
const REJECTED_AT_THE_TERMINAL: &str = "rejected at the terminal";

/// How much of a call's arguments a prompt shows.
const PROMPT_ARGS_CHARS: usize = 200;

/// The user's name, from `$USER`, or `fallback`.
pub(crate) fn user_or(fallback: &str) -> String {
    std::env::var("USER")
        .ok()
        .filter(|user| !user.is_empty())
        .unwrap_or_else(|| fallback.to_owned())
}

/// Asks the person at the terminal about each call, one at a time:
/// `Approve memory.delete_entities({"entityNames":["x"]})? [y/N] ` on
/// standard error, or for a call in doubt `Retry memory.x(…)? It may have
/// happened already. [y/N] `. "y" or "yes" approves (as `$USER`, else
/// "terminal"); anything else, end of file included, rejects with the
/// reason "rejected at the terminal".
pub(crate) struct TerminalApprover {
    by: String,
    /// The line being read, if a read is under way: one prompt at a time.
    reading: Mutex<Option<oneshot::Receiver<String>>>,
}

impl TerminalApprover {
    /// The terminal's approver, when there is a terminal to ask on for the
    /// script `file` (`-` for standard input).
    pub(crate) fn if_terminal(file: &str) -> Option<Self> {
        let terminal =
            file != "-" && std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
        terminal.then(|| Self {
            by: user_or("terminal"),
            reading: Mutex::new(None),
        })
    }

    /// The next line the person types after `question`; empty at end of
    /// file or on error.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future says so under the question, and leaves the read
    /// under way for the next question; a line that arrives before that
    /// one is asked answered a question that no longer stands, and is
    /// dropped.
    async fn answer(&self, question: &str) -> String {
        let mut reading = self.reading.lock().await;
        if let Some(receiver) = reading.as_mut()
            && !matches!(receiver.try_recv(), Err(TryRecvError::Empty))
        {
            *reading = None;
        }
        let unanswered = Unanswered;
        {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "{question}");
            let _ = err.flush();
        }
        let line = reading.get_or_insert_with(|| {
            let (sender, receiver) = oneshot::channel();
            std::thread::spawn(move || {
                let mut line = String::new();
                let _ = std::io::stdin().lock().read_line(&mut line);
                let _ = sender.send(line);
            });
            receiver
        });
        let answer = (&mut *line).await.unwrap_or_default();
        *reading = None;
        std::mem::forget(unanswered);
        answer
    }
}

/// Says, when dropped, that the question on the line above no longer stands.
struct Unanswered;

impl Drop for Unanswered {
    fn drop(&mut self) {
        eprintln!("\ncodemode: decided elsewhere; an answer to the question above is ignored");
    }
}

#[async_trait]
impl Approver for TerminalApprover {
    /// # Cancel safety
    ///
    /// As [`TerminalApprover::answer`]'s.
    async fn decide(&self, call: &PendingCall) -> Decision {
        let shown = call_text(&call.name(), &call.args.to_string(), PROMPT_ARGS_CHARS);
        let question = match call.waiting {
            Waiting::Approval => format!("Approve {shown}? [y/N] "),
            Waiting::InDoubt => format!("Retry {shown}? It may have happened already. [y/N] "),
        };
        let answer = self.answer(&question).await;
        if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            Decision::Approve {
                by: self.by.clone(),
            }
        } else {
            Decision::Reject {
                by: self.by.clone(),
                reason: REJECTED_AT_THE_TERMINAL.into(),
            }
        }
    }
}

/// Rejects every gated call of a run with no terminal to ask on.
pub(crate) struct NoTerminal;

#[async_trait]
impl Approver for NoTerminal {
    async fn decide(&self, _call: &PendingCall) -> Decision {
        Decision::Reject {
            by: "codemode".into(),
            reason: NO_TERMINAL.into(),
        }
    }
}

/// For a durable run: says on standard error that a call waits and how to
/// decide on it from another shell, then asks the terminal if there is
/// one. Without one it never answers: the decision comes through the store.
pub(crate) struct Announcing {
    state: String,
    terminal: Option<Arc<TerminalApprover>>,
}

impl Announcing {
    /// Announce waits of runs in the state directory `state`.
    pub(crate) fn new(state: &Path, terminal: Option<Arc<TerminalApprover>>) -> Self {
        Self {
            state: codemode_runs::shown(state),
            terminal,
        }
    }
}

#[async_trait]
impl Approver for Announcing {
    async fn decide(&self, call: &PendingCall) -> Decision {
        let run = call.run.as_deref().unwrap_or_default();
        let approve = decide_command("approve", &self.state, run, call.call);
        let what = format!("{run}#{} {}", call.call, call.name());
        match call.waiting {
            Waiting::Approval => {
                eprintln!("codemode: waiting for approval of {what}; approve with: {approve}");
            }
            Waiting::InDoubt => eprintln!(
                "codemode: {what} is in doubt (it may have happened already); retry it with: {approve}, or reject it with: {}",
                decide_command("reject", &self.state, run, call.call)
            ),
        }
        match &self.terminal {
            Some(terminal) => terminal.decide(call).await,
            None => std::future::pending().await,
        }
    }
}
