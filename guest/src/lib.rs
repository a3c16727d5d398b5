//! The codemode sandbox guest: QuickJS (through Javy) compiled to a
//! WebAssembly component.
//!
//! The build runs [`initialize`](Guest::initialize) once under wizer and
//! snapshots the result, so every `run` starts from a ready QuickJS context
//! with the JavaScript prelude (console, timers, URL, connector plumbing)
//! already evaluated. Each run happens in a fresh instance of that snapshot;
//! nothing a script does is visible to the next one.
//!
//! This file builds that context and exports the component's functions. The
//! rest is in one module per job: [`natives`] holds the native functions
//! the prelude captures (connector calls, console, discovery, document
//! roots, randomness, URL parsing); [`request`] installs a run's request and
//! [`event_loop`] drives it; [`source`] prepares the agent's code and
//! [`report`] turns the outcome into the run's result or error; [`json`],
//! [`documents`] and [`typescript`] are the native fast paths. Policy (what
//! is granted, how much is allowed) lives in the host.

mod documents;
mod event_loop;
mod json;
mod natives;
mod report;
mod request;
mod source;
mod typescript;

use std::cell::OnceCell;

use javy::quickjs::context::EvalOptions;
use javy::quickjs::{Function, Object, Persistent};

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

use bindings::{Guest, Request, ScriptError};
use report::describe_failure;

/// What `initialize` builds and every run reuses from the snapshot.
struct State {
    runtime: javy::Runtime,
    /// The object the prelude returns: the hooks a run drives.
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
            request::run(state, request)
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

pub(crate) fn call_hook<'js, R: javy::quickjs::FromJs<'js>>(
    hooks: &Object<'js>,
    name: &str,
    args: impl javy::quickjs::function::IntoArgs<'js>,
) -> javy::quickjs::Result<R> {
    let hook: Function = hooks.get(name)?;
    hook.call(args)
}
