//! What a run reports back: its result, or a [`ScriptError`] that says what
//! failed and where, in the agent's terms.
//!
//! A failure of the script (an exception, a promise that can never settle,
//! a result that is not JSON or too large) is told apart from a failure of
//! the sandbox's own machinery, which reads as an `InternalError`.

use javy::quickjs::Ctx;

use crate::bindings::{Failure, ScriptError};
use crate::connectors;
use crate::protocol::Report;
use crate::shape::Program;

/// How much of an unknown method's name an error message repeats.
const QUOTED_NAME_CHARS: usize = 80;

/// The run's result from what the `report` hook said: the JSON of its
/// result, or why it failed, placed in the agent's code. `program` is what
/// ran, for those places and for naming an unknown connector method.
pub(crate) fn read(
    report: Report,
    max_result_bytes: u32,
    program: &Program,
) -> Result<Option<String>, ScriptError> {
    match report {
        Report::Value(Some(json)) if json.len() > max_result_bytes as usize => Err(ScriptError {
            failure: Failure::ResultTooLarge,
            name: "RangeError".into(),
            message: format!(
                "the result is {} bytes of JSON; the limit is {max_result_bytes} bytes: return less, or summarize it in the script",
                json.len()
            ),
            line: None,
            column: None,
            stack: String::new(),
        }),
        Report::Value(json) => Ok(json),
        Report::Failed(mut error) => {
            program.restore(&mut error);
            if let Some(message) = unknown_method(&program.js, &error) {
                error.message = message;
            }
            Err(error)
        }
    }
}

/// For QuickJS's bare `not a function` where the script calls a method a
/// granted connector does not have (`github.repos_gett(…)`, a typo, or an
/// operation the host left out): a message that names it and the methods
/// it may have meant. QuickJS places the error at the called name.
fn unknown_method(code: &str, error: &ScriptError) -> Option<String> {
    if error.failure != Failure::Exception
        || error.name != "TypeError"
        || error.message != "not a function"
    {
        return None;
    }
    let line: Vec<char> = code
        .split('\n')
        .nth(usize::try_from(error.line?).ok()?.checked_sub(1)?)?
        .chars()
        .collect();
    // QuickJS places it at the `.` (or `?.`) before the name, or at the name.
    let mut at = usize::try_from(error.column?).ok()?.checked_sub(1)?;
    let is_part = |c: &char| c.is_alphanumeric() || *c == '_' || *c == '$';
    let mut dot = None;
    if line.get(at) == Some(&'?') && line.get(at + 1) == Some(&'.') {
        (dot, at) = (Some(at), at + 2);
    } else if line.get(at) == Some(&'.') {
        let optional = at > 0 && line.get(at - 1) == Some(&'?');
        (dot, at) = (Some(at - usize::from(optional)), at + 1);
    }
    let after = line.get(at..)?.iter().skip_while(|c| c.is_whitespace());
    let method: String = after.take_while(|c| is_part(c)).collect();
    // Back over the `.` or `?.` and spaces around it, to the namespace.
    let mut before = line.get(..dot.unwrap_or(at))?.iter().rev().peekable();
    if dot.is_none() {
        while before.next_if(|c| c.is_whitespace()).is_some() {}
        before.next_if_eq(&&'.')?;
        before.next_if_eq(&&'?');
    }
    while before.next_if(|c| c.is_whitespace()).is_some() {}
    let mut namespace: Vec<char> = Vec::new();
    while let Some(c) = before.next_if(|c| is_part(c)) {
        namespace.push(*c);
    }
    // A property of something else (`a.github.x`) is not the namespace.
    if method.is_empty() || namespace.is_empty() || before.peek() == Some(&&'.') {
        return None;
    }
    let namespace: String = namespace.into_iter().rev().collect();
    if connectors::connector_has_method(&namespace, &method)? {
        return None;
    }
    let unknown =
        crate::bindings::codemode::sandbox::catalog::describe(&format!("{namespace}.{method}"))
            .err()?;
    // The host's message quotes only the start of a huge name; so does this.
    let quoted = match method.char_indices().nth(QUOTED_NAME_CHARS) {
        Some((end, _)) => format!("{}…", &method[..end]),
        None => method,
    };
    Some(format!(
        "`{namespace}.{quoted}` is not a function: {unknown}"
    ))
}

/// The text of a QuickJS error, with the pending exception's message and
/// stack when it is one.
pub(crate) fn describe_failure(ctx: &Ctx<'_>, error: javy::quickjs::Error) -> String {
    if !error.is_exception() {
        return error.to_string();
    }
    let exception = ctx.catch();
    let field = |name: &str| {
        exception
            .as_object()
            .and_then(|o| o.get::<_, String>(name).ok())
    };
    match (field("message"), field("stack")) {
        (Some(message), Some(stack)) => format!("{message}\n{stack}"),
        (Some(message), None) => message,
        _ => match exception.as_string().and_then(|text| text.to_string().ok()) {
            Some(text) => text,
            None => format!("a thrown {}", exception.type_name()),
        },
    }
}

/// A failure of the guest's own machinery, not of the script.
pub(crate) fn internal_error(ctx: &Ctx<'_>, error: javy::quickjs::Error) -> ScriptError {
    internal_message(describe_failure(ctx, error))
}

/// A failure of the sandbox itself, not of the script.
pub(crate) fn internal_message(detail: String) -> ScriptError {
    ScriptError {
        failure: Failure::Exception,
        name: "InternalError".into(),
        message: format!("the sandbox failed: {detail}"),
        line: None,
        column: None,
        stack: String::new(),
    }
}

/// A syntax error at byte `at` of `code`, with its line and column (in
/// bytes, from 1) the way QuickJS counts them.
pub(crate) fn syntax_error(code: &str, at: usize, message: String) -> ScriptError {
    let before = code.get(..at).unwrap_or(code);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, str::len) + 1;
    ScriptError {
        failure: Failure::Exception,
        name: "SyntaxError".into(),
        message,
        line: u32::try_from(line).ok(),
        column: u32::try_from(column).ok(),
        stack: String::new(),
    }
}
