//! The agent's code on its way into QuickJS: Markdown fences blanked, a NUL
//! refused, TypeScript's types blanked, and the choice between evaluating it
//! as an ES module or as a script.
//!
//! Every step keeps each line and column where the agent wrote it, so errors
//! and stack traces point into the agent's own text.

use javy::quickjs::context::EvalOptions;
use javy::quickjs::{Ctx, Module, Object, Value};

use crate::bindings::{Language, ScriptError};
use crate::report::syntax_error;
use crate::typescript;

/// The file name agent code is compiled under; stack frames name it.
const AGENT_FILE: &str = "agent.js";

/// The JavaScript QuickJS runs for `code` written in `language`, or the
/// syntax error that stops it before QuickJS sees it.
pub(crate) fn prepare(code: &str, language: Language) -> Result<String, ScriptError> {
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
    Ok(code)
}

/// Evaluate the agent's code: as an ES module when it uses module syntax, else
/// as a global script with top-level `await`. Returns the promise of its
/// evaluation, and the module's namespace when it is a module.
pub(crate) fn start<'js>(
    ctx: &Ctx<'js>,
    code: &str,
) -> javy::quickjs::Result<(Value<'js>, Option<Object<'js>>)> {
    if looks_like_module(code) {
        let module = Module::declare(ctx.clone(), AGENT_FILE, code)?;
        let (module, promise) = module.eval()?;
        Ok((promise.into_value(), Some(module.namespace()?)))
    } else {
        let mut options = EvalOptions::default();
        options.global = true;
        options.strict = false;
        options.promise = true;
        options.backtrace_barrier = true;
        options.filename = Some(AGENT_FILE.into());
        let promise: Value = ctx.eval_with_options(code, options)?;
        Ok((promise, None))
    }
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
