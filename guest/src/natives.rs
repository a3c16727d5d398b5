//! The native functions the JavaScript prelude captures at initialization.
//!
//! The prelude takes them as one object and removes every trace of it from
//! the global scope, so agent code reaches the host only through the
//! connector namespaces and console the prelude builds on top of these.
//!
//! Randomness is per run: [`reseed`] draws a fresh seed from the host's
//! `wasi:random` at the start of every run, so the snapshot taken at build
//! time never fixes a sequence.

use std::cell::Cell;
use std::time::Instant;

use javy::quickjs::{ArrayBuffer, Ctx, Function, Object, Result, Value};

use crate::codemode::sandbox::host::{self, CallStart, LogLevel};

thread_local! {
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
        "startCall",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, connector: String, method: String, args: String| {
            start_call(&ctx, &connector, &method, &args)
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
    natives.set("random", Function::new(ctx.clone(), next_random)?)?;
    natives.set("now", Function::new(ctx.clone(), now_ms)?)?;
    natives.set(
        "randomBytes",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, length: usize| -> Result<ArrayBuffer<'js>> {
            let mut bytes = vec![0u8; length];
            getrandom::fill(&mut bytes).map_err(|e| {
                javy::quickjs::Exception::throw_internal(&ctx, &format!("no random source: {e}"))
            })?;
            ArrayBuffer::new(ctx, bytes)
        })?,
    )?;
    natives.set(
        "urlParse",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, input: String, base: Option<String>| {
            url_parse(&ctx, &input, base.as_deref())
        })?,
    )?;
    natives.set(
        "urlSet",
        Function::new(ctx.clone(), |ctx: Ctx<'js>, href: String, part: String, value: String| {
            url_set(&ctx, &href, &part, &value)
        })?,
    )?;
    Ok(natives)
}

/// Start a connector call: a number is a pending handle, a string the JSON
/// reply, and an array `[code, message]` a failure.
fn start_call<'js>(ctx: &Ctx<'js>, connector: &str, method: &str, args: &str) -> Result<Value<'js>> {
    match host::start_call(connector, method, args) {
        CallStart::Pending(handle) => Ok(Value::new_number(ctx.clone(), handle.into())),
        CallStart::Ready(Ok(json)) => Ok(javy::quickjs::String::from_str(ctx.clone(), &json)?.into_value()),
        CallStart::Ready(Err(error)) => {
            let array = javy::quickjs::Array::new(ctx.clone())?;
            array.set(0, error.code)?;
            array.set(1, error.message)?;
            Ok(array.into_value())
        }
    }
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
