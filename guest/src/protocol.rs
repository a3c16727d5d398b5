//! The boundary between the guest's Rust and the JavaScript it evaluates at
//! initialization, in one place: every native the JavaScript takes, every
//! hook Rust calls, and the enums both sides use.
//!
//! - Natives ([`natives`]): one object, from which each JavaScript file
//!   takes what it uses, by destructuring, when it is evaluated. The object
//!   throws for a name it lacks, so a missing native fails initialization,
//!   and with it the build; once initialization ends it throws for every
//!   name, so no JavaScript looks a native up during a run. The `internal`
//!   object through which the JavaScript files share helpers ([`internal`])
//!   behaves the same way.
//! - Hooks ([`Hooks`]): the functions the prelude returns, each fetched once
//!   at initialization; a missing or unknown one fails the build. Runs call
//!   them through typed methods, with no lookup by name.
//! - Shared enums ([`LOG_LEVELS`], [`FAILURES`], and the URL parts of
//!   [`web::url::PARTS`]): console levels, the ways a script fails and the
//!   parts of a URL its setters change, defined in Rust and handed to the
//!   JavaScript as constants (`native.logLevel`, `native.failure`,
//!   `native.urlPart`), so that the two sides cannot drift.

use std::cell::Cell;

use javy::quickjs::context::EvalOptions;
use javy::quickjs::function::{IntoArgs, Opt};
use javy::quickjs::proxy::ProxyHandler;
use javy::quickjs::{
    Atom, Ctx, Exception, FromJs, Function, Object, Persistent, Proxy, Result, Value,
};

use crate::bindings::codemode::sandbox::catalog;
use crate::bindings::codemode::sandbox::host::{self, LogLevel};
use crate::bindings::{Failure, ScriptError};
use crate::{clock, connectors, documents, web};

/// Console levels by the name the prelude gives them; `native.logLevel`
/// numbers them in this order.
const LOG_LEVELS: [(&str, LogLevel); 5] = [
    ("debug", LogLevel::Debug),
    ("info", LogLevel::Info),
    ("log", LogLevel::Log),
    ("warn", LogLevel::Warn),
    ("error", LogLevel::Error),
];

/// The failures the `report` hook names; `native.failure` numbers them in
/// this order. (A result too large is found in Rust.)
const FAILURES: [(&str, Failure); 5] = [
    ("exception", Failure::Exception),
    ("unsettled", Failure::Unsettled),
    ("unserializable", Failure::Unserializable),
    ("rejected", Failure::Rejected),
    ("denied", Failure::Denied),
];

thread_local! {
    /// Set when initialization ends: from then on the natives and the
    /// `internal` object refuse every name.
    static SEALED: Cell<bool> = const { Cell::new(false) };
}

/// Every native, by the name the JavaScript takes it by, with the shared
/// enums.
pub(crate) fn natives<'js>(ctx: &Ctx<'js>) -> Result<Object<'js>> {
    let natives = Object::new(ctx.clone())?;
    // Connectors (connectors.rs).
    let call = |ctx: Ctx<'js>, connector: u32, method: u32, args: Opt<Value<'js>>| {
        connectors::call(&ctx, connector, method, args.0)
    };
    natives.set("call", Function::new(ctx.clone(), call)?)?;
    let method_index = Function::new(ctx.clone(), connectors::method_index)?;
    natives.set("methodIndex", method_index)?;
    let method_names = Function::new(ctx.clone(), connectors::method_names)?;
    natives.set("methodNames", method_names)?;
    // Console.
    natives.set("log", Function::new(ctx.clone(), log)?)?;
    natives.set("logLevel", numbered(ctx, "native.logLevel", &LOG_LEVELS)?)?;
    // Discovery: `codemode.search` and `codemode.describe`. An unknown name
    // throws a TypeError naming close matches.
    let search = |query: String, limit: u32| catalog::search(&query, limit);
    natives.set("search", Function::new(ctx.clone(), search)?)?;
    let describe = |ctx: Ctx<'js>, name: String| -> Result<String> {
        catalog::describe(&name).map_err(|message| Exception::throw_type(&ctx, &message))
    };
    natives.set("describe", Function::new(ctx.clone(), describe)?)?;
    // Documents (documents.rs): the getter of a document's root, for the
    // global that holds it.
    let document_root = |ctx: Ctx<'js>, document: u32| documents::root_getter(&ctx, document);
    natives.set("documentRoot", Function::new(ctx.clone(), document_root)?)?;
    // The run's clock and random source (clock.rs).
    natives.set("random", Function::new(ctx.clone(), clock::random)?)?;
    natives.set("now", Function::new(ctx.clone(), clock::now)?)?;
    // The outcome of a run.
    natives.set("failure", numbered(ctx, "native.failure", &FAILURES)?)?;
    // Web APIs (web/).
    let url_parse = |ctx: Ctx<'js>, input: String, base: Option<String>| {
        web::url::parse(&ctx, &input, base.as_deref())
    };
    natives.set("urlParse", Function::new(ctx.clone(), url_parse)?)?;
    let url_set = |ctx: Ctx<'js>, href: String, part: u32, value: String| {
        web::url::set(&ctx, &href, part, &value)
    };
    natives.set("urlSet", Function::new(ctx.clone(), url_set)?)?;
    natives.set(
        "urlPart",
        numbered(ctx, "native.urlPart", &web::url::PARTS)?,
    )?;
    let random_bytes = Function::new(ctx.clone(), web::crypto::random_bytes)?;
    natives.set("randomBytes", random_bytes)?;
    taken_at_initialization(ctx, natives, "native")
}

/// The object through which the JavaScript files share helpers: each file
/// adds what it shares and takes what earlier files added.
pub(crate) fn internal<'js>(ctx: &Ctx<'js>) -> Result<Object<'js>> {
    taken_at_initialization(ctx, Object::new(ctx.clone())?, "internal")
}

/// Evaluate one of the guest's JavaScript files, `name` in stack traces: a
/// function expression, called with the natives and the `internal` object.
/// Returns what it returns.
pub(crate) fn evaluate<'js>(
    ctx: &Ctx<'js>,
    name: &str,
    source: &str,
    natives: &Object<'js>,
    internal: &Object<'js>,
) -> Result<Value<'js>> {
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = true;
    options.filename = Some(format!("codemode:{name}"));
    let install: Function = ctx.eval_with_options(source, options)?;
    install.call((natives.clone(), internal.clone()))
}

/// End initialization: the natives and the `internal` object refuse every
/// name from now on.
pub(crate) fn seal() {
    SEALED.with(|sealed| sealed.set(true));
}

/// `native.log(level, text)`: one console line at `level`, a number of
/// `native.logLevel`. False once the host's log cap is reached.
fn log(level: u32, text: String) -> bool {
    let level = usize::try_from(level)
        .ok()
        .and_then(|level| LOG_LEVELS.get(level))
        .map_or(LogLevel::Error, |&(_, level)| level);
    host::log(level, &text)
}

/// A shared enum as the JavaScript takes it, `what`: each name, numbered in
/// order.
fn numbered<'js, T>(
    ctx: &Ctx<'js>,
    what: &'static str,
    names: &[(&str, T)],
) -> Result<Object<'js>> {
    let object = Object::new(ctx.clone())?;
    for (number, (name, _)) in (0u32..).zip(names) {
        object.set(*name, number)?;
    }
    taken_at_initialization(ctx, object, what)
}

/// `target`, with no prototype, behind a proxy whose `get` throws for a
/// name `target` lacks and, once initialization has ended, for every name:
/// the JavaScript takes from it while it is evaluated, and so finds out then
/// that something is missing. `what` names it in the error.
fn taken_at_initialization<'js>(
    ctx: &Ctx<'js>,
    target: Object<'js>,
    what: &'static str,
) -> Result<Object<'js>> {
    target.set_prototype(None)?;
    let get = move |ctx: Ctx<'js>, target: Object<'js>, key: Value<'js>| -> Result<Value<'js>> {
        let name = || {
            key.as_string()
                .and_then(|name| name.to_string().ok())
                .unwrap_or_else(|| format!("a {}", key.type_name()))
        };
        if SEALED.with(Cell::get) {
            let message = format!(
                "`{what}` was read for `{}` after initialization; take it when the file is evaluated",
                name()
            );
            return Err(Exception::throw_internal(&ctx, &message));
        }
        let atom = Atom::from_value(ctx.clone(), &key)?;
        if !target.contains_key(atom.clone())? {
            let message = format!("`{what}` has no `{}`", name());
            return Err(Exception::throw_reference(&ctx, &message));
        }
        target.get(atom)
    };
    let handler = Object::new(ctx.clone())?;
    handler.set("get", Function::new(ctx.clone(), get)?)?;
    let proxy = Proxy::new(ctx.clone(), target, ProxyHandler::from_object(handler)?)?;
    Ok(proxy.into_inner())
}

/// Declares [`Hooks`]: a field per hook, with the name the prelude gives it.
macro_rules! hooks {
    ($($(#[doc = $doc:literal])* $field:ident: $name:literal,)*) => {
        /// The functions the prelude returns, each fetched once at
        /// initialization and kept across runs.
        pub(crate) struct Hooks {
            $($(#[doc = $doc])* $field: Persistent<Function<'static>>,)*
        }

        impl Hooks {
            /// Fetch every hook from the object the prelude returned. A hook
            /// it lacks, or a member that is no hook, is an error.
            pub(crate) fn resolve<'js>(
                ctx: &Ctx<'js>,
                returned: &Object<'js>,
            ) -> std::result::Result<Self, String> {
                const NAMES: &[&str] = &[$($name),*];
                for key in returned.keys::<String>() {
                    let key = key.map_err(|error| error.to_string())?;
                    if !NAMES.contains(&key.as_str()) {
                        return Err(format!(
                            "the prelude returned `{key}`, which `protocol::Hooks` does not list"
                        ));
                    }
                }
                Ok(Self { $($field: fetch(ctx, returned, $name)?,)* })
            }
        }
    };
}

hooks! {
    /// `installConnector(index, name, methods)`: a frozen namespace with
    /// every method in place.
    install_connector: "installConnector",
    /// `installLazyConnector(index, name)`: a namespace that finds a method
    /// on first use.
    install_lazy_connector: "installLazyConnector",
    /// `installGlobal(name, value)`: a read-only value, deeply frozen.
    install_global: "installGlobal",
    /// `installDocument(name, document)`: the global `name` is the document.
    install_document: "installDocument",
    /// `installDocuments(name, keys, documents)`: the global `name` holds
    /// the documents as properties.
    install_documents: "installDocuments",
    /// `finish(promise, namespace)`: the script has started; settle the run
    /// when its evaluation does.
    finish: "finish",
    /// `fail(error)`: the script threw `error`.
    fail: "fail",
    /// `settled()`: whether the run has an outcome.
    settled: "settled",
    /// `unsettled()`: nothing is left that could settle the run.
    unsettled: "unsettled",
    /// `nextTimer()`: milliseconds until the next timer is due, -1 when none
    /// is.
    next_timer: "nextTimer",
    /// `fireTimers()`: run the timers that are due.
    fire_timers: "fireTimers",
    /// `report()`: the run's outcome, read by [`Hooks::report`].
    report: "report",
    /// `stringify(value)`: the `JSON.stringify` taken before any script
    /// ran, for arguments that are not plain data.
    stringify: "stringify",
    /// `parse(text)`: the `JSON.parse` taken before any script ran, for
    /// replies the native parser leaves.
    parse: "parse",
    /// `connectorError(code, message, connector, method)`: the
    /// `ConnectorError` a failed call rejects with.
    connector_error: "connectorError",
    /// `argumentsError(connector, method, reason)`: the `TypeError` a call
    /// whose arguments are not JSON rejects with.
    arguments_error: "argumentsError",
    /// `aliasBody(reply)`: an HTTP operation's reply `{ data, status,
    /// headers }` answers to `body` too (not enumerable).
    alias_body: "aliasBody",
}

/// The hook `name` of the object the prelude returned.
fn fetch<'js>(
    ctx: &Ctx<'js>,
    returned: &Object<'js>,
    name: &str,
) -> std::result::Result<Persistent<Function<'static>>, String> {
    match returned.get::<_, Value>(name) {
        Ok(value) if value.is_undefined() => Err(format!("the prelude returned no hook `{name}`")),
        Ok(value) => match value.into_function() {
            Some(hook) => Ok(Persistent::save(ctx, hook)),
            None => Err(format!("the prelude's hook `{name}` is not a function")),
        },
        Err(error) => Err(format!(
            "the prelude's hook `{name}` cannot be read: {error}"
        )),
    }
}

/// What the `report` hook says of a run.
pub(crate) enum Report {
    /// The run's result as JSON; none when it was `undefined`.
    Value(Option<String>),
    /// The script failed.
    Failed(ScriptError),
}

impl Hooks {
    pub(crate) fn install_connector(
        &self,
        ctx: &Ctx<'_>,
        index: u32,
        name: &str,
        methods: &[String],
    ) -> Result<()> {
        call(ctx, &self.install_connector, (index, name, methods))
    }

    pub(crate) fn install_lazy_connector(
        &self,
        ctx: &Ctx<'_>,
        index: u32,
        name: &str,
    ) -> Result<()> {
        call(ctx, &self.install_lazy_connector, (index, name))
    }

    pub(crate) fn install_global<'js>(
        &self,
        ctx: &Ctx<'js>,
        name: &str,
        value: Value<'js>,
    ) -> Result<()> {
        call(ctx, &self.install_global, (name, value))
    }

    pub(crate) fn install_document(&self, ctx: &Ctx<'_>, name: &str, document: u32) -> Result<()> {
        call(ctx, &self.install_document, (name, document))
    }

    pub(crate) fn install_documents(
        &self,
        ctx: &Ctx<'_>,
        name: &str,
        keys: Vec<&str>,
        documents: Vec<u32>,
    ) -> Result<()> {
        call(ctx, &self.install_documents, (name, keys, documents))
    }

    pub(crate) fn finish<'js>(
        &self,
        ctx: &Ctx<'js>,
        promise: Value<'js>,
        namespace: Option<Object<'js>>,
    ) -> Result<()> {
        call(ctx, &self.finish, (promise, namespace))
    }

    pub(crate) fn fail<'js>(&self, ctx: &Ctx<'js>, error: Value<'js>) -> Result<()> {
        call(ctx, &self.fail, (error,))
    }

    pub(crate) fn settled(&self, ctx: &Ctx<'_>) -> Result<bool> {
        call(ctx, &self.settled, ())
    }

    pub(crate) fn unsettled(&self, ctx: &Ctx<'_>) -> Result<()> {
        call(ctx, &self.unsettled, ())
    }

    pub(crate) fn next_timer(&self, ctx: &Ctx<'_>) -> Result<f64> {
        call(ctx, &self.next_timer, ())
    }

    pub(crate) fn fire_timers(&self, ctx: &Ctx<'_>) -> Result<()> {
        call(ctx, &self.fire_timers, ())
    }

    /// The run's outcome: `{ json? }` when it has a result, else
    /// `{ failure, name, message, stack, line?, column? }` with `failure` a
    /// number of `native.failure`.
    pub(crate) fn report(&self, ctx: &Ctx<'_>) -> Result<Report> {
        let report: Object = call(ctx, &self.report, ())?;
        let failure = report.get::<_, Option<u32>>("failure").ok().flatten();
        let Some(failure) = failure else {
            return Ok(Report::Value(report.get("json")?));
        };
        let string = |key: &str| -> String {
            report
                .get::<_, Option<String>>(key)
                .ok()
                .flatten()
                .unwrap_or_default()
        };
        let position = |key: &str| report.get::<_, Option<u32>>(key).ok().flatten();
        Ok(Report::Failed(ScriptError {
            failure: usize::try_from(failure)
                .ok()
                .and_then(|failure| FAILURES.get(failure))
                .map_or(Failure::Exception, |&(_, failure)| failure),
            name: string("name"),
            message: string("message"),
            line: position("line"),
            column: position("column"),
            stack: string("stack"),
        }))
    }

    pub(crate) fn stringify<'js>(&self, ctx: &Ctx<'js>, value: Value<'js>) -> Result<Value<'js>> {
        call(ctx, &self.stringify, (value,))
    }

    pub(crate) fn alias_body<'js>(&self, ctx: &Ctx<'js>, reply: &Object<'js>) -> Result<()> {
        call(ctx, &self.alias_body, (reply.clone(),))
    }

    pub(crate) fn parse<'js>(&self, ctx: &Ctx<'js>, text: String) -> Result<Value<'js>> {
        call(ctx, &self.parse, (text,))
    }

    pub(crate) fn connector_error<'js>(
        &self,
        ctx: &Ctx<'js>,
        code: String,
        message: String,
        connector: String,
        method: String,
    ) -> Result<Value<'js>> {
        call(
            ctx,
            &self.connector_error,
            (code, message, connector, method),
        )
    }

    pub(crate) fn arguments_error<'js>(
        &self,
        ctx: &Ctx<'js>,
        connector: String,
        method: String,
        reason: String,
    ) -> Result<Value<'js>> {
        call(ctx, &self.arguments_error, (connector, method, reason))
    }
}

/// Call a hook.
fn call<'js, R: FromJs<'js>>(
    ctx: &Ctx<'js>,
    hook: &Persistent<Function<'static>>,
    args: impl IntoArgs<'js>,
) -> Result<R> {
    hook.clone().restore(ctx)?.call(args)
}
