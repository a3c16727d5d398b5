//! The native functions the JavaScript prelude captures at initialization.
//!
//! The prelude takes them as one object and removes every trace of it from
//! the global scope, so agent code reaches the host only through the
//! connector namespaces and console the prelude builds on top of these.
//!
//! Randomness is per run: [`reseed`] draws a fresh seed from the host's
//! `wasi:random` at the start of every run, so the snapshot taken at build
//! time never fixes a sequence.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::Instant;

use javy::quickjs::function::Opt;
use javy::quickjs::{
    ArrayBuffer, Ctx, Exception, Function, Object, Persistent, Promise, Result, Value,
};

use crate::bindings::codemode::sandbox::catalog;
use crate::bindings::codemode::sandbox::host::{self, CallError, CallStart, Completion, LogLevel};

thread_local! {
    static PENDING: RefCell<HashMap<u32, PendingCall>> = RefCell::new(HashMap::new());
    static CONNECTORS: RefCell<Vec<(String, Vec<String>)>> = const { RefCell::new(Vec::new()) };
    static HELPERS: RefCell<Option<Persistent<Object<'static>>>> = const { RefCell::new(None) };
    static RANDOM_STATE: Cell<u64> = const { Cell::new(0x9E37_79B9_7F4A_7C15) };
    static CLOCK_ORIGIN: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Draw this run's seed for `Math.random` and restart the timer clock.
pub(crate) fn reseed() {
    let mut seed = [0u8; 8];
    // A failure leaves the previous state; the host's random source does not fail.
    if getrandom::fill(&mut seed).is_ok() {
        // xorshift must not start from zero.
        RANDOM_STATE.with(|s| s.set(u64::from_le_bytes(seed) | 1));
    }
    CLOCK_ORIGIN.with(|c| c.set(Some(Instant::now())));
}

/// `Math.random`: xorshift64* over the per-run seed, 53 bits of mantissa.
fn next_random() -> f64 {
    RANDOM_STATE.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    })
}

/// Milliseconds since this run started, from the monotonic clock.
fn now_ms() -> f64 {
    CLOCK_ORIGIN.with(|c| {
        let origin = c.get().unwrap_or_else(|| {
            let now = Instant::now();
            c.set(Some(now));
            now
        });
        origin.elapsed().as_secs_f64() * 1000.0
    })
}

/// Build the object of natives handed to the prelude.
pub(crate) fn create<'js>(ctx: &Ctx<'js>) -> Result<Object<'js>> {
    let natives = Object::new(ctx.clone())?;
    natives.set(
        "call",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, connector: u32, method: u32, args: Opt<Value<'js>>| {
                call(&ctx, connector, method, args.0)
            },
        )?,
    )?;
    natives.set(
        "setHelpers",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, helpers: Object<'js>| {
            HELPERS.with(|h| *h.borrow_mut() = Some(Persistent::save(&ctx, helpers)));
        })?,
    )?;
    natives.set(
        "log",
        Function::new(ctx.clone(), |level: u32, text: String| {
            let level = match level {
                0 => LogLevel::Debug,
                1 => LogLevel::Info,
                2 => LogLevel::Log,
                3 => LogLevel::Warn,
                _ => LogLevel::Error,
            };
            host::log(level, &text)
        })?,
    )?;
    natives.set("methodIndex", Function::new(ctx.clone(), method_index)?)?;
    natives.set("methodNames", Function::new(ctx.clone(), method_names)?)?;
    natives.set(
        "search",
        Function::new(ctx.clone(), |query: String, limit: u32| {
            catalog::search(&query, limit)
        })?,
    )?;
    // An unknown name throws a TypeError naming close matches.
    natives.set(
        "describe",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, name: String| -> Result<String> {
                catalog::describe(&name)
                    .map_err(|message| javy::quickjs::Exception::throw_type(&ctx, &message))
            },
        )?,
    )?;
    // The getter of a document's root, for the global that holds it.
    natives.set(
        "documentRoot",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, document: u32| {
            crate::documents::root_getter(&ctx, document)
        })?,
    )?;
    natives.set("random", Function::new(ctx.clone(), next_random)?)?;
    natives.set("now", Function::new(ctx.clone(), now_ms)?)?;
    natives.set(
        "randomBytes",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, length: usize| -> Result<ArrayBuffer<'js>> {
                let mut bytes = vec![0u8; length];
                getrandom::fill(&mut bytes).map_err(|e| {
                    javy::quickjs::Exception::throw_internal(
                        &ctx,
                        &format!("no random source: {e}"),
                    )
                })?;
                ArrayBuffer::new(ctx, bytes)
            },
        )?,
    )?;
    natives.set(
        "urlParse",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, input: String, base: Option<String>| {
                url_parse(&ctx, &input, base.as_deref())
            },
        )?,
    )?;
    natives.set(
        "urlSet",
        Function::new(
            ctx.clone(),
            |ctx: Ctx<'js>, href: String, part: String, value: String| {
                url_set(&ctx, &href, &part, &value)
            },
        )?,
    )?;
    Ok(natives)
}

/// The granted connectors of this run and their methods, as the request
/// named them. Namespace methods are bound to indices into it, so that a
/// call passes two numbers instead of two strings.
pub(crate) fn set_connectors(connectors: Vec<(String, Vec<String>)>) {
    CONNECTORS.with(|c| *c.borrow_mut() = connectors);
}

/// The index of `connector`'s method `name`, or -1 when it has none: how a
/// large connector's namespace finds a method the first time it is used.
fn method_index(connector: u32, name: String) -> i32 {
    CONNECTORS.with(|c| {
        c.borrow()
            .get(connector as usize)
            .and_then(|(_, methods)| methods.iter().position(|m| *m == name))
            .and_then(|index| i32::try_from(index).ok())
            .unwrap_or(-1)
    })
}

/// Whether the granted connector `connector` has a method `method`; `None`
/// when no granted connector has that name.
pub(crate) fn connector_has_method(connector: &str, method: &str) -> Option<bool> {
    CONNECTORS.with(|c| {
        c.borrow()
            .iter()
            .find(|(name, _)| name == connector)
            .map(|(_, methods)| methods.iter().any(|m| m == method))
    })
}

/// Every method name of `connector`, for enumerating its namespace.
fn method_names(connector: u32) -> Vec<String> {
    CONNECTORS.with(|c| {
        c.borrow()
            .get(connector as usize)
            .map(|(_, methods)| methods.clone())
            .unwrap_or_default()
    })
}

/// Run `f` with the names of a connector and one of its methods, by index
/// (empty when out of range: the host refuses such a call).
fn with_names<R>(connector: u32, method: u32, f: impl FnOnce(&str, &str) -> R) -> R {
    CONNECTORS.with(|c| {
        let c = c.borrow();
        let (name, methods) = c
            .get(connector as usize)
            .map_or(("", None), |(n, m)| (n.as_str(), Some(m)));
        let method = methods
            .and_then(|m| m.get(method as usize))
            .map_or("", String::as_str);
        f(name, method)
    })
}

/// The names of a connector and one of its methods, owned, for errors.
fn names(connector: u32, method: u32) -> (String, String) {
    with_names(connector, method, |c, m| (c.to_owned(), m.to_owned()))
}

/// A call the host is still running, and how to settle its promise.
struct PendingCall {
    resolve: Persistent<Function<'static>>,
    reject: Persistent<Function<'static>>,
    connector: u32,
    method: u32,
}

/// Start a connector call and return its promise. The arguments become JSON
/// natively when they are plain data, else through `JSON.stringify`; a reply
/// that is ready at once settles the promise before it is returned.
fn call<'js>(
    ctx: &Ctx<'js>,
    connector: u32,
    method: u32,
    args: Option<Value<'js>>,
) -> Result<Promise<'js>> {
    let (promise, resolve, reject) = ctx.promise()?;
    let json = match args.filter(|a| !a.is_undefined()) {
        None => Ok("{}".to_owned()),
        Some(args) => encode_arguments(ctx, &args)?,
    };
    match json {
        Err(reason) => {
            let (connector, method) = names(connector, method);
            let error: Value = helper(ctx, "argumentsError")?.call((connector, method, reason))?;
            reject.call::<_, ()>((error,))?;
        }
        Ok(json) => match with_names(connector, method, |c, m| host::start_call(c, m, &json)) {
            CallStart::Pending(handle) => {
                let call = PendingCall {
                    resolve: Persistent::save(ctx, resolve),
                    reject: Persistent::save(ctx, reject),
                    connector,
                    method,
                };
                PENDING.with(|p| p.borrow_mut().insert(handle, call));
            }
            CallStart::Ready(reply) => settle(ctx, reply, &resolve, &reject, connector, method)?,
        },
    }
    Ok(promise)
}

/// JSON text of a call's arguments, or why they have none.
fn encode_arguments<'js>(
    ctx: &Ctx<'js>,
    args: &Value<'js>,
) -> Result<std::result::Result<String, String>> {
    let mut json = Vec::with_capacity(64);
    if crate::json::write(ctx, args, &mut json)? {
        // `json::write` writes UTF-8 only.
        return Ok(Ok(String::from_utf8(json).unwrap_or_default()));
    }
    match helper(ctx, "stringify")?.call::<_, Value>((args.clone(),)) {
        Ok(text) => Ok(match text.as_string() {
            Some(text) => Ok(text.to_string()?),
            None => Err(format!("they are {}", text.type_name())),
        }),
        Err(error) if error.is_exception() => Ok(Err(exception_message(ctx))),
        Err(error) => Err(error),
    }
}

/// Settle a call's promise with its reply.
fn settle<'js>(
    ctx: &Ctx<'js>,
    reply: std::result::Result<String, CallError>,
    resolve: &Function<'js>,
    reject: &Function<'js>,
    connector: u32,
    method: u32,
) -> Result<()> {
    match reply {
        Ok(json) => {
            let parsed = match crate::json::parse(ctx, &json)? {
                Some(value) => Ok(value),
                None => match helper(ctx, "parse")?.call::<_, Value>((json,)) {
                    Ok(value) => Ok(value),
                    Err(error) if error.is_exception() => Err(ctx.catch()),
                    Err(error) => return Err(error),
                },
            };
            match parsed {
                Ok(value) => resolve.call::<_, ()>((value,)),
                Err(error) => reject.call::<_, ()>((error,)),
            }
        }
        Err(failure) => {
            let (connector, method) = names(connector, method);
            let error: Value = helper(ctx, "connectorError")?.call((
                failure.code,
                failure.message,
                connector,
                method,
            ))?;
            reject.call::<_, ()>((error,))
        }
    }
}

/// Settle the promise of a pending call that finished.
pub(crate) fn complete<'js>(ctx: &Ctx<'js>, completion: Completion) -> Result<()> {
    let Some(call) = PENDING.with(|p| p.borrow_mut().remove(&completion.handle)) else {
        return Ok(());
    };
    let resolve = call.resolve.restore(ctx)?;
    let reject = call.reject.restore(ctx)?;
    settle(
        ctx,
        completion.reply,
        &resolve,
        &reject,
        call.connector,
        call.method,
    )
}

/// Calls still running on the host.
pub(crate) fn pending_calls() -> usize {
    PENDING.with(|p| p.borrow().len())
}

/// A function the prelude handed over with `setHelpers`.
fn helper<'js>(ctx: &Ctx<'js>, name: &str) -> Result<Function<'js>> {
    let helpers = HELPERS.with(|h| h.borrow().clone());
    let Some(helpers) = helpers else {
        return Err(Exception::throw_internal(
            ctx,
            "the sandbox prelude did not install its helpers",
        ));
    };
    helpers.restore(ctx)?.get(name)
}

/// The message of the pending exception, which is taken.
fn exception_message(ctx: &Ctx<'_>) -> String {
    let exception = ctx.catch();
    exception
        .as_object()
        .and_then(|o| o.get::<_, String>("message").ok())
        .unwrap_or_else(|| "they cannot be serialized".to_owned())
}

fn url_parse<'js>(ctx: &Ctx<'js>, input: &str, base: Option<&str>) -> Result<Value<'js>> {
    let parsed = match base {
        Some(base) => url::Url::parse(base).and_then(|b| b.join(input)),
        None => url::Url::parse(input),
    };
    match parsed {
        Ok(url) => url_parts(ctx, &url),
        Err(_) => Ok(Value::new_null(ctx.clone())),
    }
}

fn url_set<'js>(ctx: &Ctx<'js>, href: &str, part: &str, value: &str) -> Result<Value<'js>> {
    let Ok(mut url) = url::Url::parse(href) else {
        return Ok(Value::new_null(ctx.clone()));
    };
    // Setters that reject a value leave the URL unchanged, as the URL standard says.
    match part {
        "href" => match url::Url::parse(value) {
            Ok(parsed) => url = parsed,
            Err(_) => return Ok(Value::new_null(ctx.clone())),
        },
        "protocol" => {
            let _ = url::quirks::set_protocol(&mut url, value);
        }
        "username" => {
            let _ = url.set_username(value);
        }
        "password" => {
            let _ = url.set_password(Some(value).filter(|v| !v.is_empty()));
        }
        "host" => {
            let _ = url::quirks::set_host(&mut url, value);
        }
        "hostname" => {
            let _ = url::quirks::set_hostname(&mut url, value);
        }
        "port" => {
            let _ = url::quirks::set_port(&mut url, value);
        }
        "pathname" => url::quirks::set_pathname(&mut url, value),
        "search" => url::quirks::set_search(&mut url, value),
        "hash" => url::quirks::set_hash(&mut url, value),
        _ => {}
    }
    url_parts(ctx, &url)
}

fn url_parts<'js>(ctx: &Ctx<'js>, url: &url::Url) -> Result<Value<'js>> {
    let parts = Object::new(ctx.clone())?;
    parts.set("href", url::quirks::href(url))?;
    parts.set("origin", url::quirks::origin(url))?;
    parts.set("protocol", url::quirks::protocol(url))?;
    parts.set("username", url::quirks::username(url))?;
    parts.set("password", url::quirks::password(url))?;
    parts.set("host", url::quirks::host(url))?;
    parts.set("hostname", url::quirks::hostname(url))?;
    parts.set("port", url::quirks::port(url))?;
    parts.set("pathname", url::quirks::pathname(url))?;
    parts.set("search", url::quirks::search(url))?;
    parts.set("hash", url::quirks::hash(url))?;
    Ok(parts.into_value())
}
