//! The codemode sandbox guest: QuickJS (through Javy) compiled to a
//! WebAssembly component.
//!
//! The build runs [`initialize`](Guest::initialize) once under wizer and
//! snapshots the result, so every `run` starts from a ready QuickJS context
//! with the JavaScript prelude (console, timers, web APIs, connector
//! plumbing) already evaluated. Each run happens in a fresh instance of that
//! snapshot; nothing a script does is visible to the next one.
//!
//! This file builds that context and exports the component's functions. The
//! rest is in one module per job:
//! - [`protocol`]: the boundary with the JavaScript (every native, every
//!   hook, the shared enums);
//! - [`request`] installs a run's request and [`event_loop`] drives it,
//!   within the [`limits`] the guest enforces itself;
//!   [`source`] prepares the agent's code, [`shape`] runs the shapes of
//!   code QuickJS would not, and [`report`] turns the outcome into the
//!   run's result or error;
//! - the natives: [`connectors`] (connector calls), [`clock`] (the run's
//!   clock and random source), [`documents`] (the host's documents as
//!   frozen data), [`web`] (the web APIs, one module per feature, each with
//!   its JavaScript);
//! - [`json`] and [`typescript`]: native fast paths for JSON and for
//!   TypeScript's types.
//!
//! The prelude's JavaScript is in `js/`. Policy (what is granted, how much is
//! allowed) lives in the host.

mod clock;
mod connectors;
mod documents;
mod event_loop;
mod json;
mod limits;
mod protocol;
mod report;
mod request;
mod shape;
mod source;
mod typescript;
mod web;

use std::cell::OnceCell;

use javy::quickjs::{Ctx, Object};

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

    pub(crate) use self::exports::codemode::sandbox::runner::{
        Failure, GuestLimits, Language, Request, ScriptError,
    };
}

use bindings::exports::codemode::sandbox::runner::Guest as Runner;
use bindings::{Guest, Request, ScriptError};
use protocol::Hooks;
use report::describe_failure;

/// What `initialize` builds and every run reuses from the snapshot.
struct State {
    runtime: javy::Runtime,
    /// The functions the prelude returned.
    hooks: Hooks,
}

thread_local! {
    /// Built once, and never dropped: it lives as long as the instance.
    static STATE: OnceCell<&'static State> = const { OnceCell::new() };
}

struct Sandbox;

impl Guest for Sandbox {
    fn initialize() {
        state();
    }
}

impl Runner for Sandbox {
    fn run(request: Request) -> Result<Option<String>, ScriptError> {
        clock::reseed();
        request::run(state(), request)
    }
}

/// The state `initialize` built; built now if it was not (a guest run
/// without wizer). A guest that cannot build it is broken: it panics, which
/// fails the build under wizer.
fn state() -> &'static State {
    STATE.with(|cell| {
        *cell.get_or_init(|| match build_state() {
            Ok(state) => Box::leak(Box::new(state)),
            Err(error) => panic!("the sandbox prelude failed: {error}"),
        })
    })
}

/// The hooks, for the natives that call back into the prelude.
pub(crate) fn hooks() -> &'static Hooks {
    &state().hooks
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
    limits::install(runtime.context().runtime());
    let hooks = runtime.context().with(|ctx| {
        let returned = evaluate_javascript(&ctx).map_err(|error| describe_failure(&ctx, error))?;
        let hooks = Hooks::resolve(&ctx, &returned)?;
        drop(returned);
        protocol::seal();
        // Collect the garbage of initialization now, so that it is not in the
        // snapshot and no run starts by collecting it.
        // SAFETY: the context is live and locked by `with`.
        #[allow(unsafe_code)]
        unsafe {
            javy::quickjs::qjs::JS_RunGC(javy::quickjs::qjs::JS_GetRuntime(ctx.as_raw().as_ptr()))
        };
        Ok::<_, String>(hooks)
    })?;
    Ok(State { runtime, hooks })
}

/// Evaluate the guest's JavaScript, in order: inspect.js, the web APIs,
/// prelude.js. Returns what the prelude returns, its hooks.
fn evaluate_javascript<'js>(ctx: &Ctx<'js>) -> javy::quickjs::Result<Object<'js>> {
    json::init(ctx)?;
    documents::init(ctx)?;
    let natives = protocol::natives(ctx)?;
    let internal = protocol::internal(ctx)?;
    let inspect = include_str!("js/inspect.js");
    protocol::evaluate(ctx, "inspect", inspect, &natives, &internal)?;
    for (name, source) in web::FEATURES {
        protocol::evaluate(ctx, name, source, &natives, &internal)?;
    }
    let prelude = include_str!("js/prelude.js");
    Object::from_value(protocol::evaluate(
        ctx, "prelude", prelude, &natives, &internal,
    )?)
}
