//! Connector calls: the natives behind every connector namespace's methods
//! (`native.call`, and `native.methodIndex` and `native.methodNames` for a
//! large connector's lazy namespace), and the calls still running on the
//! host.
//!
//! A namespace method is `native.call` bound to two numbers, the
//! connector's and the method's index in the run's request, so that a call
//! passes no names; the names are looked up here when the host is called.

use std::cell::RefCell;
use std::collections::HashMap;

use javy::quickjs::{Ctx, Function, Object, Persistent, Promise, Result, Value};

use crate::bindings::codemode::sandbox::host::{self, CallError, CallStart, Completion};

thread_local! {
    static PENDING: RefCell<HashMap<u32, PendingCall>> = RefCell::new(HashMap::new());
    static CONNECTORS: RefCell<Vec<(String, Vec<String>)>> = const { RefCell::new(Vec::new()) };
}

/// The granted connectors of this run and their methods, as the request
/// named them. Namespace methods are bound to indices into it, so that a
/// call passes two numbers instead of two strings.
pub(crate) fn set_connectors(connectors: Vec<(String, Vec<String>)>) {
    CONNECTORS.with(|c| *c.borrow_mut() = connectors);
}

/// The index of `connector`'s method `name`, or -1 when it has none: how a
/// large connector's namespace finds a method the first time it is used.
pub(crate) fn method_index(connector: u32, name: String) -> i32 {
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
pub(crate) fn method_names(connector: u32) -> Vec<String> {
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

/// `native.call(connector, method, args)`: start a connector call and
/// return its promise. The arguments become JSON natively when they are
/// plain data, else through `JSON.stringify`; a reply that is ready at once
/// settles the promise before it is returned.
pub(crate) fn call<'js>(
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
            let error = crate::hooks().arguments_error(ctx, connector, method, reason)?;
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
    match crate::hooks().stringify(ctx, args.clone()) {
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
                None => match crate::hooks().parse(ctx, json) {
                    Ok(value) => Ok(value),
                    Err(error) if error.is_exception() => Err(ctx.catch()),
                    Err(error) => return Err(error),
                },
            };
            match parsed {
                Ok(value) => {
                    if let Some(reply) = http_operation_reply(&value) {
                        crate::hooks().alias_body(ctx, reply)?;
                    }
                    resolve.call::<_, ()>((value,))
                }
                Err(error) => reject.call::<_, ()>((error,)),
            }
        }
        Err(failure) => {
            let (connector, method) = names(connector, method);
            let error = crate::hooks().connector_error(
                ctx,
                failure.code,
                failure.message,
                connector,
                method,
            )?;
            reject.call::<_, ()>((error,))
        }
    }
}

/// `value` when it is an HTTP API operation's reply: `{ data, status,
/// headers }` (and perhaps `encoding`), with no `body`.
fn http_operation_reply<'a, 'js>(value: &'a Value<'js>) -> Option<&'a Object<'js>> {
    let reply = value.as_object()?;
    let has = |key: &str| reply.contains_key(key).unwrap_or(false);
    (has("data") && has("status") && has("headers") && !has("body")).then_some(reply)
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

/// The message of the pending exception, which is taken.
fn exception_message(ctx: &Ctx<'_>) -> String {
    let exception = ctx.catch();
    exception
        .as_object()
        .and_then(|o| o.get::<_, String>("message").ok())
        .unwrap_or_else(|| "they cannot be serialized".to_owned())
}
