//! The agent's code on its way into QuickJS: Markdown fences blanked, a NUL
//! refused, TypeScript's types blanked, its [shape](crate::shape) made
//! runnable, and the choice between evaluating it as an ES module or as a
//! script.
//!
//! Every step keeps each line and column where the agent wrote it (or moves
//! the positions of errors back to it), so errors and stack traces point
//! into the agent's own text.

use std::ffi::{CString, c_int};

use javy::quickjs::{Ctx, Module, Object, Value, qjs};

use crate::bindings::{Language, ScriptError};
use crate::report::syntax_error;
use crate::shape::{AGENT_FILE, Program};
use crate::typescript;

/// The program QuickJS runs for `code` written in `language`, or the
/// syntax error that stops it before QuickJS sees it.
pub(crate) fn prepare(code: &str, language: Language) -> Result<Program, ScriptError> {
    let mut code = blank_code_fences(code);
    // QuickJS takes source text as a C string: a NUL would end it early.
    if let Some(at) = code.find('\0') {
        let message = "the code contains a NUL character; write it as \\0 inside a string";
        return Err(syntax_error(&code, at, message.into()));
    }
    if language == Language::Typescript {
        code = typescript::strip(&code)
            .map_err(|error| syntax_error(&code, error.offset, error.message))?;
    }
    Ok(Program::new(code))
}

/// Evaluate the agent's program: as an ES module when it uses module syntax,
/// else as a global script with top-level `await` (and, when QuickJS
/// refuses a top-level `return`, as the body of an async function). Returns
/// the promise of its evaluation, and the module's namespace when it is a
/// module.
pub(crate) fn start<'js>(
    ctx: &Ctx<'js>,
    program: &mut Program,
) -> javy::quickjs::Result<(Value<'js>, Option<Object<'js>>)> {
    if looks_like_module(&program.js) {
        let module = Module::declare(ctx.clone(), AGENT_FILE.to_bytes(), program.js.as_str())?;
        let (module, promise) = module.eval()?;
        return Ok((promise.into_value(), Some(module.namespace()?)));
    }
    match evaluate_script(ctx, program.script()) {
        Err(error) if error.is_exception() => {
            let exception = ctx.catch();
            if let Some(message) = syntax_error_message(&exception)
                && program.allow_top_level_return(&message)
            {
                return evaluate_script(ctx, program.script()).map(|promise| (promise, None));
            }
            Err(ctx.throw(exception))
        }
        evaluated => evaluated.map(|promise| (promise, None)),
    }
}

/// The number of the script's first line; see [`evaluate_script`].
const FIRST_LINE: c_int = -1;

/// Evaluate `script` as a global script with top-level `await`: the promise
/// of its completion value.
///
/// On the first line it compiles, QuickJS counts columns from 0 (from 1 on
/// every other), so the agent's code never starts there: the script's first
/// line is numbered -1 and left empty, its next is line 0 (empty, or where
/// the shape puts something before the agent's code), and the agent's first
/// line is line 1.
fn evaluate_script<'js>(ctx: &Ctx<'js>, script: &str) -> javy::quickjs::Result<Value<'js>> {
    // `prepare` refused a NUL; the wrapping adds none.
    let source = CString::new(script)?;
    let flags =
        qjs::JS_EVAL_TYPE_GLOBAL | qjs::JS_EVAL_FLAG_ASYNC | qjs::JS_EVAL_FLAG_BACKTRACE_BARRIER;
    let mut options = qjs::JSEvalOptions {
        version: qjs::JS_EVAL_OPTIONS_VERSION as c_int,
        eval_flags: flags as c_int,
        filename: AGENT_FILE.as_ptr(),
        line_num: FIRST_LINE,
    };
    // SAFETY: the context is live and locked by the caller's `with`; the
    // source and the file name are NUL-terminated and outlive the call,
    // which copies what it keeps; the returned value is owned, and handed
    // to `Value` (which frees it) unless it is the exception marker.
    #[allow(unsafe_code)]
    unsafe {
        let value = qjs::JS_Eval2(
            ctx.as_raw().as_ptr(),
            source.as_ptr(),
            script.len() as _,
            &mut options,
        );
        if qjs::JS_IsException(value) {
            return Err(javy::quickjs::Error::Exception);
        }
        Ok(Value::from_raw(ctx.clone(), value))
    }
}

/// The message of `exception` when it is a SyntaxError.
fn syntax_error_message(exception: &Value<'_>) -> Option<String> {
    let error = exception.as_object()?;
    if error.get::<_, String>("name").ok()? != "SyntaxError" {
        return None;
    }
    error.get("message").ok()
}

/// True when the code has a top-level `import` or `export` statement.
/// (QuickJS's own detection also counts top-level `await`, which scripts
/// may use here.) Dynamic `import(...)` and `import.meta` do not count.
fn looks_like_module(code: &str) -> bool {
    code.lines().any(|line| {
        let line = line.trim_start();
        let after = |keyword: &str| line.strip_prefix(keyword).and_then(|rest| rest.chars().next());
        matches!(after("export"), Some(c) if c.is_whitespace() || c == '{' || c == '*')
            || matches!(after("import"), Some(c) if c.is_whitespace() || c == '{' || c == '*' || c == '"' || c == '\'')
    })
}

/// Replace Markdown code-fence lines (```js … ```) with blank lines, so that
/// line numbers in errors still match the text the agent wrote.
fn blank_code_fences(code: &str) -> String {
    let mut lines = code.split_inclusive('\n').collect::<Vec<_>>();
    let is_fence = |line: &str| line.trim_start().starts_with("```");
    let first = lines.iter().position(|l| !l.trim().is_empty());
    let last = lines.iter().rposition(|l| !l.trim().is_empty());
    if let (Some(first), Some(last)) = (first, last)
        && first < last
        && is_fence(lines[first])
        && lines[last].trim() == "```"
    {
        let newline = |l: &str| if l.ends_with('\n') { "\n" } else { "" };
        lines[first] = newline(lines[first]);
        lines[last] = newline(lines[last]);
    }
    lines.concat()
}
