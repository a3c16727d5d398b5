//! The codemode sandbox guest: QuickJS (through Javy) compiled to a
//! WebAssembly component.
//!
//! The build runs [`initialize`](Guest::initialize) once under wizer and
//! snapshots the result, so every `run` starts from a ready QuickJS context
//! with the JavaScript prelude (console, timers, URL, connector plumbing)
//! already evaluated. Each run happens in a fresh instance of that snapshot;
//! nothing a script does is visible to the next one.
//!
//! This file holds the parts that must be native: the natives the prelude
//! captures (host calls, document reads, randomness, URL parsing), and the
//! event loop that drains QuickJS's job queue and waits on the host for
//! connector calls and timers. Policy (what is granted, how much is allowed) lives in the host.

mod documents;
mod json;
mod natives;
mod typescript;

use std::cell::OnceCell;

use javy::quickjs::context::EvalOptions;
use javy::quickjs::{Ctx, Function, Module, Object, Persistent, Value};

/// The bindings of `wit/`. The generated export glue passes the `request`
/// record's fields as separate parameters, more than clippy allows.
// SAFETY: the glue wit-bindgen generates (lifting and lowering values across
// the component boundary, exporting `run`) is unsafe code that upholds the
// canonical ABI; nothing else in this module is.
#[allow(clippy::too_many_arguments, unsafe_code)]
mod bindings {
    wit_bindgen::generate!({ world: "guest", path: "../wit" });

    use super::Sandbox;
    export!(Sandbox with_types_in self);
}

use bindings::codemode::sandbox::host;
use bindings::{Failure, Guest, Language, Request, ScriptError};

/// Connectors with at most this many methods get a frozen namespace with
/// every method in place; larger ones a namespace that finds a method on
/// first use, so that granting 1,223 operations costs a run almost nothing.
const EAGER_METHODS: usize = 64;

/// How much of an unknown method's name an error message repeats.
const QUOTED_NAME_CHARS: usize = 80;

/// The file name agent code is compiled under; stack frames name it.
const AGENT_FILE: &str = "agent.js";

/// What `initialize` builds and every run reuses from the snapshot.
struct State {
    runtime: javy::Runtime,
    /// The object the prelude returns: the hooks this loop drives.
    hooks: Persistent<Object<'static>>,
}

thread_local! {
    static STATE: OnceCell<State> = const { OnceCell::new() };
}

struct Sandbox;

impl Guest for Sandbox {
    fn initialize() {
        STATE.with(|cell| {
            cell.get_or_init(|| {
                build_state().unwrap_or_else(|error| panic!("the sandbox prelude failed: {error}"))
            });
        });
    }

    fn run(request: Request) -> Result<Option<String>, ScriptError> {
        natives::reseed();
        STATE.with(|cell| {
            let state = cell.get_or_init(|| {
                build_state().unwrap_or_else(|error| panic!("the sandbox prelude failed: {error}"))
            });
            run_request(state, request)
        })
    }
}

fn build_state() -> Result<State, String> {
    let mut config = javy::Config::default();
    config
        .text_encoding(true)
        .weak_ref(true)
        .javy_stream_io(false)
        .gc_threshold(1 << 20)
        .max_stack_size(256 * 1024);
    let runtime = javy::Runtime::new(config).map_err(|e| e.to_string())?;
    let hooks = runtime.context().with(|ctx| {
        json::init(&ctx)?;
        documents::init(&ctx)?;
        let natives = natives::create(&ctx)?;
        let internal = Object::new(ctx.clone())?;
        let evaluate = |name: &str, source: &str| -> javy::quickjs::Result<Function> {
            let mut options = EvalOptions::default();
            options.global = true;
            options.strict = true;
            options.filename = Some(format!("codemode:{name}"));
            ctx.eval_with_options(source, options)
        };
        evaluate("inspect", include_str!("js/inspect.js"))?.call::<_, ()>((internal.clone(),))?;
        evaluate("web", include_str!("js/web.js"))?
            .call::<_, ()>((natives.clone(), internal.clone()))?;
        let hooks: Object =
            evaluate("prelude", include_str!("js/prelude.js"))?.call((natives, internal))?;
        // Collect the garbage of initialization now, so that it is not in the
        // snapshot and no run starts by collecting it.
        // SAFETY: the context is live and locked by `with`.
        #[allow(unsafe_code)]
        unsafe {
            javy::quickjs::qjs::JS_RunGC(javy::quickjs::qjs::JS_GetRuntime(ctx.as_raw().as_ptr()))
        };
        Ok::<_, javy::quickjs::Error>(Persistent::save(&ctx, hooks))
    });
    let hooks =
        hooks.map_err(|error| runtime.context().with(|ctx| describe_failure(&ctx, error)))?;
    Ok(State { runtime, hooks })
}

fn run_request(state: &State, request: Request) -> Result<Option<String>, ScriptError> {
    let context = state.runtime.context();
    context.with(|ctx| {
        let hooks = state
            .hooks
            .clone()
            .restore(&ctx)
            .map_err(|e| internal_error(&ctx, e))?;
        for (index, connector) in request.connectors.iter().enumerate() {
            let (index, name) = (index as u32, connector.name.as_str());
            let installed = if connector.methods.len() <= EAGER_METHODS {
                call_hook::<()>(
                    &hooks,
                    "installConnector",
                    (index, name, connector.methods.as_slice()),
                )
            } else {
                call_hook::<()>(&hooks, "installLazyConnector", (index, name))
            };
            installed.map_err(|e| internal_error(&ctx, e))?;
        }
        for data in &request.globals {
            let value = match json::parse(&ctx, &data.json) {
                Ok(Some(value)) => value,
                Ok(None) => {
                    return Err(internal_message(format!(
                        "the host's value for the global `{}` is not JSON or is nested too deeply",
                        data.name
                    )));
                }
                Err(error) => return Err(internal_error(&ctx, error)),
            };
            call_hook::<()>(&hooks, "installGlobal", (data.name.as_str(), value))
                .map_err(|e| internal_error(&ctx, e))?;
        }
        // Documents by global, in the order the request first names each.
        let mut holders: Vec<(&str, Vec<&str>, Vec<u32>)> = Vec::new();
        for (index, document) in request.documents.iter().enumerate() {
            let index = index as u32;
            let Some(key) = &document.key else {
                call_hook::<()>(&hooks, "installDocument", (document.global.as_str(), index))
                    .map_err(|e| internal_error(&ctx, e))?;
                continue;
            };
            match holders
                .iter_mut()
                .find(|(name, ..)| *name == document.global)
            {
                Some((_, keys, indices)) => {
                    keys.push(key);
                    indices.push(index);
                }
                None => holders.push((&document.global, vec![key], vec![index])),
            }
        }
        for (name, keys, indices) in holders {
            call_hook::<()>(&hooks, "installDocuments", (name, keys, indices))
                .map_err(|e| internal_error(&ctx, e))?;
        }
        natives::set_connectors(
            request
                .connectors
                .into_iter()
                .map(|c| (c.name, c.methods))
                .collect(),
        );

        let mut code = blank_code_fences(&request.code);
        // QuickJS takes source text as a C string: a NUL would end it early.
        if let Some(at) = code.find('\0') {
            let message = "the code contains a NUL character; write it as \\0 inside a string";
            return Err(syntax_error(&code, at, message.into()));
        }
        if request.language == Language::Typescript {
            code = typescript::strip(&code)
                .map_err(|error| syntax_error(&code, error.offset, error.message))?;
        }
        let started = start(&ctx, &code);
        let settled: Value = match started {
            Ok((promise, namespace)) => call_hook(&hooks, "finish", (promise, namespace)),
            Err(error) if error.is_exception() => call_hook(&hooks, "fail", (ctx.catch(),)),
            Err(error) => Err(error),
        }
        .map_err(|e| internal_error(&ctx, e))?;
        drop(settled);

        event_loop(&ctx, &hooks)?;

        let report: Object =
            call_hook(&hooks, "report", ()).map_err(|e| internal_error(&ctx, e))?;
        read_report(&ctx, &report, request.max_result_bytes).map_err(|mut error| {
            if let Some(message) = unknown_method(&code, &error) {
                error.message = message;
            }
            error
        })
    })
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
    if natives::connector_has_method(&namespace, &method)? {
        return None;
    }
    let unknown =
        bindings::codemode::sandbox::catalog::describe(&format!("{namespace}.{method}")).err()?;
    // The host's message quotes only the start of a huge name; so does this.
    let quoted = match method.char_indices().nth(QUOTED_NAME_CHARS) {
        Some((end, _)) => format!("{}…", &method[..end]),
        None => method,
    };
    Some(format!(
        "`{namespace}.{quoted}` is not a function: {unknown}"
    ))
}

/// Evaluate the agent's code: as an ES module when it uses module syntax, else
/// as a global script with top-level `await`. Returns the promise of its
/// evaluation, and the module's namespace when it is a module.
fn start<'js>(
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

/// Drain the job queue, fire timers and wait on the host until the run's
/// top-level promise settles or nothing is left that could settle it.
fn event_loop<'js>(ctx: &Ctx<'js>, hooks: &Object<'js>) -> Result<(), ScriptError> {
    loop {
        while ctx.execute_pending_job() {
            // A job that throws (a `queueMicrotask` callback, say) is an
            // uncaught exception of the script.
            if ctx.has_exception() {
                let exception = ctx.catch();
                call_hook::<()>(hooks, "fail", (exception,)).map_err(|e| internal_error(ctx, e))?;
            }
        }
        let settled: bool = call_hook(hooks, "settled", ()).map_err(|e| internal_error(ctx, e))?;
        if settled {
            return Ok(());
        }
        let delay_ms: f64 =
            call_hook(hooks, "nextTimer", ()).map_err(|e| internal_error(ctx, e))?;
        if delay_ms == 0.0 {
            call_hook::<()>(hooks, "fireTimers", ()).map_err(|e| internal_error(ctx, e))?;
            continue;
        }
        if natives::pending_calls() == 0 && delay_ms < 0.0 {
            call_hook::<()>(hooks, "unsettled", ()).map_err(|e| internal_error(ctx, e))?;
            return Ok(());
        }
        let timeout_ns = (delay_ms >= 0.0).then(|| (delay_ms * 1_000_000.0).ceil() as u64);
        match host::wait_next(timeout_ns) {
            Some(completion) => {
                natives::complete(ctx, completion).map_err(|e| internal_error(ctx, e))?
            }
            None => call_hook::<()>(hooks, "fireTimers", ()).map_err(|e| internal_error(ctx, e))?,
        }
    }
}

fn read_report(
    ctx: &Ctx<'_>,
    report: &Object<'_>,
    max_result_bytes: u32,
) -> Result<Option<String>, ScriptError> {
    let get_string = |key: &str| -> String {
        report
            .get::<_, Option<String>>(key)
            .ok()
            .flatten()
            .unwrap_or_default()
    };
    let failure = get_string("failure");
    if failure.is_empty() {
        let json: Option<String> = report.get("json").map_err(|e| internal_error(ctx, e))?;
        if let Some(json) = &json
            && json.len() > max_result_bytes as usize
        {
            return Err(ScriptError {
                failure: Failure::ResultTooLarge,
                name: "RangeError".into(),
                message: format!(
                    "the result is {} bytes of JSON; the limit is {max_result_bytes} bytes: return less, or summarize it in the script",
                    json.len()
                ),
                line: None,
                column: None,
                stack: String::new(),
            });
        }
        return Ok(json);
    }
    let position = |key: &str| report.get::<_, Option<u32>>(key).ok().flatten();
    Err(ScriptError {
        failure: match failure.as_str() {
            "unsettled" => Failure::Unsettled,
            "unserializable" => Failure::Unserializable,
            _ => Failure::Exception,
        },
        name: get_string("name"),
        message: get_string("message"),
        line: position("line"),
        column: position("column"),
        stack: get_string("stack"),
    })
}

fn call_hook<'js, R: javy::quickjs::FromJs<'js>>(
    hooks: &Object<'js>,
    name: &str,
    args: impl javy::quickjs::function::IntoArgs<'js>,
) -> javy::quickjs::Result<R> {
    let hook: Function = hooks.get(name)?;
    hook.call(args)
}

/// The text of a QuickJS error, with the pending exception's message and
/// stack when it is one.
fn describe_failure(ctx: &Ctx<'_>, error: javy::quickjs::Error) -> String {
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
fn internal_error(ctx: &Ctx<'_>, error: javy::quickjs::Error) -> ScriptError {
    internal_message(describe_failure(ctx, error))
}

/// A failure of the sandbox itself, not of the script.
fn internal_message(detail: String) -> ScriptError {
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
/// characters, from 1) the way QuickJS counts them.
fn syntax_error(code: &str, at: usize, message: String) -> ScriptError {
    let before = code.get(..at).unwrap_or(code);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    ScriptError {
        failure: Failure::Exception,
        name: "SyntaxError".into(),
        message,
        line: u32::try_from(line).ok(),
        column: u32::try_from(column).ok(),
        stack: String::new(),
    }
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
