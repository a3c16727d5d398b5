//! The natives of `URL` and `URLSearchParams` (url.js): parsing and the
//! setters, by the Rust `url` crate, a WHATWG URL implementation.

use javy::quickjs::{Ctx, Object, Result, Value};

/// `native.urlParse(input, base)`: the parts of `input` (resolved against
/// `base` when given), or null when it is not a valid URL.
pub(crate) fn parse<'js>(ctx: &Ctx<'js>, input: &str, base: Option<&str>) -> Result<Value<'js>> {
    let parsed = match base {
        Some(base) => url::Url::parse(base).and_then(|b| b.join(input)),
        None => url::Url::parse(input),
    };
    match parsed {
        Ok(url) => parts(ctx, &url),
        Err(_) => Ok(Value::new_null(ctx.clone())),
    }
}

/// A part of a URL that url.js sets natively.
#[derive(Clone, Copy)]
pub(crate) enum Part {
    Protocol,
    Username,
    Password,
    Host,
    Hostname,
    Port,
    Pathname,
    Search,
    Hash,
}

/// The parts by the name url.js gives them; `native.urlPart` numbers them in
/// this order.
pub(crate) const PARTS: [(&str, Part); 9] = [
    ("protocol", Part::Protocol),
    ("username", Part::Username),
    ("password", Part::Password),
    ("host", Part::Host),
    ("hostname", Part::Hostname),
    ("port", Part::Port),
    ("pathname", Part::Pathname),
    ("search", Part::Search),
    ("hash", Part::Hash),
];

/// `native.urlSet(href, part, value)`: the parts of `href` after setting its
/// `part`, a number of `native.urlPart`, to `value`; null when `href` is not
/// a valid URL.
pub(crate) fn set<'js>(ctx: &Ctx<'js>, href: &str, part: u32, value: &str) -> Result<Value<'js>> {
    let Ok(mut url) = url::Url::parse(href) else {
        return Ok(Value::new_null(ctx.clone()));
    };
    let part = usize::try_from(part).ok().and_then(|part| PARTS.get(part));
    // Setters that reject a value leave the URL unchanged, as the URL standard says.
    match part.map(|&(_, part)| part) {
        Some(Part::Protocol) => {
            let _ = url::quirks::set_protocol(&mut url, value);
        }
        Some(Part::Username) => {
            let _ = url.set_username(value);
        }
        Some(Part::Password) => {
            let _ = url.set_password(Some(value).filter(|v| !v.is_empty()));
        }
        Some(Part::Host) => {
            let _ = url::quirks::set_host(&mut url, value);
        }
        Some(Part::Hostname) => {
            let _ = url::quirks::set_hostname(&mut url, value);
        }
        Some(Part::Port) => {
            let _ = url::quirks::set_port(&mut url, value);
        }
        Some(Part::Pathname) => url::quirks::set_pathname(&mut url, value),
        Some(Part::Search) => url::quirks::set_search(&mut url, value),
        Some(Part::Hash) => url::quirks::set_hash(&mut url, value),
        None => {}
    }
    parts(ctx, &url)
}

/// A URL's parts, as url.js keeps them.
fn parts<'js>(ctx: &Ctx<'js>, url: &url::Url) -> Result<Value<'js>> {
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
