//! Deadlines for the tests that start processes or servers, so that a hang
//! fails its test with a message naming what hung instead of stalling CI.
//!
//! Such a test runs its body under [`bounded`] (as `#[bounded_test]`, from
//! `codemode-test-macros`, makes it do); the processes it starts go
//! through [`spawn`] or [`output`], which kill them when they are dropped, so
//! a test that fails at its deadline (or panics) leaves no process behind
//! holding CI's pipes. Steps that wait on something outside the test (a
//! process, a server's answer) may be named with [`step`], whose deadline is
//! shorter than the test's, so that the message says which step hung.

use std::fmt::Display;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

/// How long a test that starts processes or servers may take. Each takes
/// seconds; this leaves room for a loaded two-core CI machine.
pub const TEST_DEADLINE: Duration = Duration::from_secs(120);

/// How long one named step may take: a process run to its end, a server's
/// answer.
pub const STEP_DEADLINE: Duration = Duration::from_secs(60);

/// Run a test's body, failing the test if it has not finished within
/// [`TEST_DEADLINE`]. What the body started is dropped with it.
pub async fn bounded<T>(body: impl Future<Output = T>) -> T {
    bounded_by(TEST_DEADLINE, body).await
}

/// [`bounded`] with a deadline of `limit`, for a test that needs longer.
pub async fn bounded_by<T>(limit: Duration, body: impl Future<Output = T>) -> T {
    // The test harness names a test's thread after the test; the body is
    // polled on that thread first.
    let test = match std::thread::current().name() {
        Some(name) if name != "main" => format!("the test `{name}`"),
        _ => "the test".to_owned(),
    };
    within(limit, test, body).await
}

/// `future`'s output, or a panic saying that `what` hung if it has not
/// finished within [`STEP_DEADLINE`].
pub async fn step<T>(what: impl Display, future: impl Future<Output = T>) -> T {
    within(STEP_DEADLINE, what, future).await
}

async fn within<T>(limit: Duration, what: impl Display, future: impl Future<Output = T>) -> T {
    // Bound first, so that `future` and what it started are dropped before
    // the panic.
    let finished = tokio::time::timeout(limit, future).await;
    match finished {
        Ok(output) => output,
        Err(_) => panic!(
            "{what} hung: it did not finish within {} s, and what it started was stopped",
            limit.as_secs()
        ),
    }
}

/// Start `command`, to be killed when the returned child is dropped.
pub fn spawn(command: &mut Command) -> Result<Child> {
    command
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", describe(command)))
}

/// Run `command` to its end with `stdin` as its standard input, its output
/// captured; a run past [`STEP_DEADLINE`] is killed and fails the test.
pub async fn output(command: &mut Command, stdin: &[u8]) -> Result<Output> {
    let what = describe(command);
    let mut child = spawn(
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )?;
    let mut input = child.stdin.take().context("no pipe to standard input")?;
    let write = async move {
        let written = input.write_all(stdin).await;
        drop(input);
        written
    };
    let (written, output) = step(&what, async {
        tokio::join!(write, child.wait_with_output())
    })
    .await;
    // A process that exits without reading (a usage error) closes the pipe
    // first: that is not a failure of the test.
    if let Err(error) = written
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(error).with_context(|| format!("writing to {what}"));
    }
    output.with_context(|| format!("waiting for {what}"))
}

/// `command` as a message shows it: the program's file name and the
/// arguments, long ones cut.
fn describe(command: &Command) -> String {
    const WORD_CHARS: usize = 60;
    let command = command.as_std();
    let program = Path::new(command.get_program())
        .file_name()
        .unwrap_or(command.get_program());
    let words: Vec<String> = std::iter::once(program)
        .chain(command.get_args())
        .map(|word| {
            let word = word.to_string_lossy();
            match word.char_indices().nth(WORD_CHARS) {
                Some((cut, _)) => format!("{}…", &word[..cut]),
                None => word.into_owned(),
            }
        })
        .collect();
    format!("`{}`", words.join(" "))
}
