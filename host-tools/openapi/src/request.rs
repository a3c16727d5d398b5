//! Turning a script's arguments into an HTTP request, before any
//! credential is added: the URL (path parameters percent-encoded, no way out
//! of the base path or onto an origin that is not allowed), the query, the
//! headers (no CR or LF, none of the names the host keeps for itself) and
//! the body.
//!
//! Arguments of typed operations are checked against the description:
//! unknown properties, missing required ones and values of the wrong type
//! are errors that name the property and what was expected. A JSON object
//! body's fields sit beside the parameters (`{ owner, repo, title }`), as
//! Octokit has them; the whole body under `body` works too.

use crate::spec::{Location, Operation, Parameter, RequestBody, json_kind as kind};
use codemode_typescript::schema::Scope;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

/// What a path parameter's value keeps unencoded: RFC 3986's unreserved
/// characters. Everything else, `/` included, is percent-encoded.
const PATH_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// What a literal path from `request` may hold unencoded besides
/// unreserved characters: sub-delimiters, `:`, `@`, `/` and `%` (it may be
/// encoded already).
const PATH_TEXT: &AsciiSet = &PATH_VALUE
    .remove(b'/')
    .remove(b'%')
    .remove(b':')
    .remove(b'@')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=');

/// Headers only the host sets: credentials, what the HTTP client manages
/// itself, and `Accept-Encoding` (the host asks for `identity`, so that
/// it reads every body whole).
const HOST_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "upgrade",
    "accept-encoding",
];

/// Headers a script may not send, and why: they would make the server
/// reshape its reply, where an echoed credential could hide from
/// redaction, or change the method past the API's `methods`.
const REFUSED_HEADERS: &[(&str, &str)] = &[
    ("range", PARTIAL_REPLY),
    ("if-range", PARTIAL_REPLY),
    (
        "accept-charset",
        "the host reads responses in the charset the server declares",
    ),
    ("x-http-method-override", METHOD_OVERRIDE),
    ("x-http-method", METHOD_OVERRIDE),
    ("x-method-override", METHOD_OVERRIDE),
];

const PARTIAL_REPLY: &str =
    "a part of a response could cut a credential where redaction cannot see it";
const METHOD_OVERRIDE: &str = "it would change the request's method behind the API's `methods`";

/// A request as the script asked for it, without credentials.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Vec<u8>>,
}

/// Where requests may go, and what the host keeps for itself.
#[derive(Debug)]
pub(crate) struct Bounds {
    /// The base URL, without a trailing `/`.
    pub(crate) base: Url,
    /// Origins requests may reach: the base URL's first.
    pub(crate) origins: Vec<url::Origin>,
    /// Methods a script may use, upper case; `None` for all.
    pub(crate) methods: Option<Vec<String>>,
    /// A header only the host sets (header auth), lower case.
    pub(crate) auth_header: Option<String>,
    /// A query parameter only the host sets (query auth).
    pub(crate) auth_query: Option<String>,
}

/// The arguments of `request`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RequestArgs {
    method: String,
    path: String,
    #[serde(default)]
    path_params: Map<String, Value>,
    #[serde(default)]
    query: Map<String, Value>,
    #[serde(default)]
    headers: Map<String, Value>,
    #[serde(default)]
    body: Option<Value>,
}

impl Bounds {
    /// The request `request(args)` asks for.
    pub(crate) fn request(&self, args: Value) -> Result<Outgoing, String> {
        let args: RequestArgs = serde_json::from_value(args).map_err(|error| {
            format!("{error}; expected {{ method, path, pathParams?, query?, headers?, body? }}")
        })?;
        let method = self.method(&args.method)?;
        let mut url = if args.path.starts_with("http://") || args.path.starts_with("https://") {
            if !args.path_params.is_empty() {
                return Err("`pathParams` fill a path's `{name}`s; this is a full URL".into());
            }
            let url = Url::parse(&args.path).map_err(|e| format!("`path` is not a URL: {e}"))?;
            self.allowed(&url)?;
            // Where the credentials go, a full URL keeps to the base path
            // like a relative one.
            if self.is_base_origin(&url) {
                self.inside_base(&url, url.path())?;
                literal_path(url.path())?;
            }
            url
        } else {
            literal_path(args.path.split('?').next().unwrap_or_default())?;
            let path = fill_template(&args.path, |name| {
                args.path_params
                    .get(name)
                    .map(|value| path_value(name, value))
            })?;
            if let Some(unused) = args
                .path_params
                .keys()
                .find(|name| !args.path.contains(&format!("{{{name}}}")))
            {
                return Err(format!(
                    "`pathParams.{unused}` has no `{{{unused}}}` in the path `{}`",
                    args.path
                ));
            }
            self.under_base(&path)?
        };
        // A query string written in the path or the full URL.
        if let Some(query) = url.query() {
            for pair in query.split(['&', ';']) {
                self.query_name(pair.split('=').next().unwrap_or_default())?;
            }
        }
        for (name, value) in &args.query {
            self.query_name(name)?;
            append_query(&mut url, name, value, true).map_err(|e| format!("`query.{name}` {e}"))?;
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &args.headers {
            let text = scalar(value)
                .ok_or_else(|| format!("`headers.{name}` must be a string, got {}", kind(value)))?;
            self.header(&mut headers, name, &text)?;
        }
        if let Some(body) = &args.body {
            self.body_fields(body, &headers)?;
        }
        let body = match args.body {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if headers.contains_key(CONTENT_TYPE) => {
                Some(text.into_bytes())
            }
            Some(value) => Some(json_body(&mut headers, &value, "application/json")),
        };
        Ok(Outgoing {
            method,
            url,
            headers,
            body,
        })
    }

    /// The request `operation(args)` asks for, checking `args` against the
    /// description (`document`).
    pub(crate) fn operation(
        &self,
        document: &Value,
        operation: &Operation,
        args: Value,
    ) -> Result<Outgoing, String> {
        let method = self.method(&operation.method)?;
        let args = match args {
            Value::Object(args) => args,
            Value::Null => Map::new(),
            other => return Err(format!("expects an object, got {}", kind(&other))),
        };
        let scope = Scope::new(document);
        let fields = operation
            .request_body
            .iter()
            .flat_map(|body| &body.fields)
            .filter(|field| field.property != "body");
        let properties: Vec<&str> = operation
            .parameters
            .iter()
            .filter_map(|p| p.property.as_deref())
            .chain(operation.request_body.as_ref().map(|_| "body"))
            .chain(fields.map(|field| field.property.as_str()))
            .collect();
        if let Some(unknown) = args.keys().find(|key| !properties.contains(&key.as_str())) {
            return Err(if properties.is_empty() {
                format!("takes no arguments, got `{unknown}`")
            } else {
                format!(
                    "has no argument `{unknown}`; it takes {}",
                    properties
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        }
        let given = |parameter: &Parameter| {
            let property = parameter.property.as_deref()?;
            args.get(property).filter(|value| !value.is_null())
        };
        for parameter in &operation.parameters {
            let Some(property) = &parameter.property else {
                continue;
            };
            match given(parameter) {
                None if parameter.required => {
                    return Err(format!(
                        "needs `{property}` ({} parameter)",
                        parameter.location
                    ));
                }
                None => {}
                Some(value) => {
                    check_type(&scope, &parameter.schema, value).map_err(|expected| {
                        format!("`{property}` must be {expected}, got {}", describe(value))
                    })?
                }
            }
        }
        let path = fill_template(&operation.path, |name| {
            let parameter = operation
                .parameters
                .iter()
                .find(|p| p.location == Location::Path && p.name == name)?;
            let property = parameter.property.as_deref().unwrap_or(name);
            given(parameter).map(|value| path_value(property, value))
        })?;
        let mut url = self.under_base(&path)?;
        let mut headers = HeaderMap::new();
        for parameter in &operation.parameters {
            let (Some(property), Some(value)) = (&parameter.property, given(parameter)) else {
                continue;
            };
            match parameter.location {
                Location::Query => {
                    self.query_name(&parameter.name)?;
                    append_query(&mut url, &parameter.name, value, parameter.explode)
                        .map_err(|e| format!("`{property}` {e}"))?
                }
                Location::Header => {
                    let text = match value {
                        Value::Array(items) => items
                            .iter()
                            .map(|item| scalar(item).unwrap_or_default())
                            .collect::<Vec<_>>()
                            .join(","),
                        other => scalar(other).unwrap_or_default(),
                    };
                    self.header(&mut headers, &parameter.name, &text)?;
                }
                _ => {}
            }
        }
        let flat = match &operation.request_body {
            Some(body) if !body.fields.is_empty() && !is_whole_body(&scope, body, &args)? => {
                Some(gather_fields(&scope, body, &args)?)
            }
            _ => None,
        };
        let given_body = flat.as_ref().or(args.get("body"));
        let body = match (&operation.request_body, given_body) {
            (Some(body), None | Some(Value::Null)) if body.required => {
                return Err("needs `body` (the request body)".into());
            }
            (Some(body), Some(value)) if !value.is_null() => {
                check_type(&scope, &body.schema, value).map_err(|expected| {
                    format!(
                        "the request body must be {expected}, got {}",
                        describe(value)
                    )
                })?;
                self.body_fields(value, &headers)?;
                Some(encode_body(&mut headers, &body.media_type, value))
            }
            _ => None,
        };
        Ok(Outgoing {
            method,
            url,
            headers,
            body,
        })
    }

    /// `method` upper case, if it is allowed.
    fn method(&self, method: &str) -> Result<Method, String> {
        let upper = method.to_ascii_uppercase();
        if let Some(allowed) = &self.methods
            && !allowed.contains(&upper)
        {
            return Err(format!(
                "this API allows only {}, not {upper}",
                allowed.join(", ")
            ));
        }
        Method::from_bytes(upper.as_bytes())
            .map_err(|_| format!("`{method}` is not an HTTP method"))
    }

    /// Whether `url` is on an allowed origin.
    pub(crate) fn allowed(&self, url: &Url) -> Result<(), String> {
        if self.origins.contains(&url.origin()) {
            return Ok(());
        }
        let allowed: Vec<String> = self
            .origins
            .iter()
            .map(|o| o.ascii_serialization())
            .collect();
        Err(format!(
            "{} is not an origin this API may reach (allowed: {})",
            url.origin().ascii_serialization(),
            allowed.join(", ")
        ))
    }

    /// Whether `url` is on the base URL's origin, where credentials go.
    pub(crate) fn is_base_origin(&self, url: &Url) -> bool {
        url.origin() == self.base.origin()
    }

    /// The URL of `path` (from `/`, with a query perhaps) under the base
    /// URL: refused if it would leave the base path.
    fn under_base(&self, path: &str) -> Result<Url, String> {
        if !path.starts_with('/') {
            return Err(format!(
                "the path `{path}` must start with `/` (or be a full URL)"
            ));
        }
        let (path_part, query) = match path.split_once('?') {
            Some((path_part, query)) => (path_part, Some(query)),
            None => (path, None),
        };
        if path_part.contains(['\\', '#']) || path_part.chars().any(char::is_control) {
            return Err(format!(
                "the path `{}` holds `\\`, `#` or a control character",
                path_part.escape_default()
            ));
        }
        no_dot_segment(path_part)?;
        let base_path = self.base.path().trim_end_matches('/');
        let mut url = self.base.clone();
        url.set_path(&format!(
            "{base_path}{}",
            utf8_percent_encode(path_part, PATH_TEXT)
        ));
        url.set_query(query);
        self.inside_base(&url, path_part)?;
        Ok(url)
    }

    /// Refuses `url` (whose path was written `shown`) unless it is on the
    /// base URL's origin, under its path.
    fn inside_base(&self, url: &Url, shown: &str) -> Result<(), String> {
        let base_path = self.base.path().trim_end_matches('/');
        let inside = url.path() == base_path
            || url
                .path()
                .strip_prefix(base_path)
                .is_some_and(|rest| rest.starts_with('/'));
        if !inside || url.origin() != self.base.origin() {
            return Err(format!("the path `{shown}` leaves the API's base URL"));
        }
        Ok(())
    }

    /// Refuses a query parameter that the host sets, however the script
    /// writes its name (see [`reads_as`]): the server would see two values.
    fn query_name(&self, name: &str) -> Result<(), String> {
        if let Some(auth) = &self.auth_query
            && reads_as(name, auth)
        {
            return Err(format!("the query parameter `{name}` is set by the host"));
        }
        self.method_field(name, "query parameter")
    }

    /// Refuses `_method`, the method override Rails, Laravel or Symfony
    /// read from the query or the body, on an API whose `methods` are
    /// restricted; `place` says where it was.
    fn method_field(&self, name: &str, place: &str) -> Result<(), String> {
        if self.methods.is_some() && reads_as(name, "_method") {
            return Err(format!(
                "the {place} `{name}` is refused: {METHOD_OVERRIDE}"
            ));
        }
        Ok(())
    }

    /// Refuses a `_method` field in `body` (a JSON object's members, or a
    /// form-encoded string's names), per [`method_field`](Self::method_field).
    fn body_fields(&self, body: &Value, headers: &HeaderMap) -> Result<(), String> {
        let form = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.to_ascii_lowercase()
                    .starts_with("application/x-www-form-urlencoded")
            });
        match body {
            Value::Object(fields) => fields
                .keys()
                .try_for_each(|name| self.method_field(name, "body field")),
            Value::String(text) if form => url::form_urlencoded::parse(text.as_bytes())
                .try_for_each(|(name, _)| self.method_field(&name, "body field")),
            _ => Ok(()),
        }
    }

    /// Add a header from the script, refusing what the host keeps and what
    /// HTTP cannot carry.
    fn header(&self, headers: &mut HeaderMap, name: &str, value: &str) -> Result<(), String> {
        let lower = name.to_ascii_lowercase();
        if HOST_HEADERS.contains(&lower.as_str())
            || lower.starts_with("proxy-")
            || self.auth_header.as_deref() == Some(lower.as_str())
        {
            return Err(format!("the header `{name}` is set by the host"));
        }
        if let Some((_, why)) = REFUSED_HEADERS
            .iter()
            .find(|(refused, _)| *refused == lower)
        {
            return Err(format!("the header `{name}` is refused: {why}"));
        }
        if value.contains(['\r', '\n']) {
            return Err(format!("the header `{name}` holds a CR or LF"));
        }
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("`{name}` is not a valid header name"))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("the header `{name}` holds a character HTTP cannot carry"))?;
        headers.append(header, value);
        Ok(())
    }
}

/// `template` with each `{name}` replaced by `fill(name)`, which is
/// already encoded.
fn fill_template(
    template: &str,
    fill: impl Fn(&str) -> Option<Result<String, String>>,
) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let Some(length) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 1..start + length];
        out.push_str(&rest[..start]);
        match fill(name) {
            Some(value) => out.push_str(&value?),
            None => return Err(format!("needs a value for `{{{name}}}` in `{template}`")),
        }
        rest = &rest[start + length + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// How many times a path segment is percent-decoded when looking for a
/// step up: some servers decode twice.
const DECODINGS: usize = 3;

/// `segment` (of a path, or a query parameter's name) as a server may read
/// it: as written, then percent-decoded
/// once, twice... (up to [`DECODINGS`] times, while that changes it).
fn readings(segment: &str) -> Vec<String> {
    let mut readings = vec![segment.to_owned()];
    for _ in 0..DECODINGS {
        let last = readings.last().map(String::as_str).unwrap_or_default();
        let decoded = percent_decode_str(last).decode_utf8_lossy().into_owned();
        if decoded == last {
            break;
        }
        readings.push(decoded);
    }
    readings
}

/// Whether a server may read the parameter name `name` as `wanted`:
/// percent-decoded (once or more), in any case.
fn reads_as(name: &str, wanted: &str) -> bool {
    readings(name)
        .iter()
        .any(|reading| reading.eq_ignore_ascii_case(wanted))
}

/// Refuses a path with a segment a server may read as `.` or `..`:
/// percent-decoded, split at a decoded separator, or [`steps_up`].
fn no_dot_segment(path: &str) -> Result<(), String> {
    let steps = |segment: &str| {
        readings(segment)
            .iter()
            .any(|reading| reading.split(['/', '\\']).any(steps_up))
    };
    if path.split('/').any(steps) {
        return Err(format!("the path `{path}` holds a `.` or `..` segment"));
    }
    Ok(())
}

/// Whether a server may read the segment `part` as `.` or `..`: stripped
/// of a `;` parameter (`..;x`, as Tomcat reads it).
fn steps_up(part: &str) -> bool {
    let part = part.split(';').next().unwrap_or_default();
    part == "." || part == ".."
}

/// Refuses what a literal path (not a path parameter's value) may not
/// hold: an encoded separator (`%2F`, `%5C`, in any case, encoded once or
/// more), which a server may decode into a step up, and a backslash.
fn literal_path(path: &str) -> Result<(), String> {
    if path.contains('\\') {
        return Err(format!("the path `{}` holds `\\`", path.escape_default()));
    }
    let encoded_separator = |segment: &str| {
        readings(segment)
            .iter()
            .skip(1)
            .any(|reading| reading.contains(['/', '\\']))
    };
    if path.split('/').any(encoded_separator) {
        return Err(format!(
            "the path `{path}` holds an encoded separator (`%2F` or `%5C`), which a server may read as `/`; a value that holds `/` goes in `pathParams`"
        ));
    }
    no_dot_segment(path)
}

/// A path parameter's value, percent-encoded; `.` and `..` (also as parts
/// between slashes, or before a `;`) are refused, since a server that
/// decodes `%2F` would read them as a step up.
fn path_value(name: &str, value: &Value) -> Result<String, String> {
    let text = scalar(value).ok_or_else(|| {
        format!(
            "the path parameter `{name}` must be a string or number, got {}",
            kind(value)
        )
    })?;
    if text.is_empty() {
        return Err(format!("the path parameter `{name}` is empty"));
    }
    if text.split(['/', '\\']).any(steps_up) {
        return Err(format!(
            "the path parameter `{name}` ({text:?}) would step outside its path segment"
        ));
    }
    Ok(utf8_percent_encode(&text, PATH_VALUE).to_string())
}

/// Add `name=value` to the query: an array as one pair per item
/// (`explode`) or one comma-separated value.
fn append_query(url: &mut Url, name: &str, value: &Value, explode: bool) -> Result<(), String> {
    let items: Vec<String> = match value {
        Value::Array(items) => items
            .iter()
            .map(|item| scalar(item).ok_or_else(|| format!("holds {}", kind(item))))
            .collect::<Result<_, _>>()?,
        Value::Null => return Ok(()),
        other => vec![scalar(other).ok_or_else(|| {
            format!(
                "must be a string, number, boolean or an array of them, got {}",
                kind(other)
            )
        })?],
    };
    let mut pairs = url.query_pairs_mut();
    if explode || !value.is_array() {
        for item in &items {
            pairs.append_pair(name, item);
        }
    } else {
        pairs.append_pair(name, &items.join(","));
    }
    Ok(())
}

/// A string, number or boolean as text.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Whether `args` give the request body whole, under `body`, rather than
/// field by field. A `body` is the whole body unless a field is itself
/// named `body` (GitHub's issues have one: `{ title, body: "text" }` is two
/// fields) and the value suits that field or other fields are given.
/// Giving the whole body and fields beside it is an error.
fn is_whole_body(
    scope: &Scope,
    body: &RequestBody,
    args: &Map<String, Value>,
) -> Result<bool, String> {
    let Some(given) = args.get("body").filter(|value| !value.is_null()) else {
        return Ok(false);
    };
    let other = body
        .fields
        .iter()
        .find(|field| field.property != "body" && args.contains_key(&field.property));
    let whole = match body.fields.iter().find(|field| field.property == "body") {
        None => true,
        Some(field) => other.is_none() && check_type(scope, &field.schema, given).is_err(),
    };
    match other {
        Some(field) if whole => Err(format!(
            "give the request body whole under `body` or field by field, not both (`{}` is a field)",
            field.property
        )),
        _ => Ok(whole),
    }
}

/// The request body from the fields `args` give beside the parameters; none
/// when they give none. A missing required field of a required body is
/// named, and so is a field of the wrong type.
fn gather_fields(
    scope: &Scope,
    body: &RequestBody,
    args: &Map<String, Value>,
) -> Result<Value, String> {
    let mut gathered = Map::new();
    for field in &body.fields {
        match args.get(&field.property).filter(|value| !value.is_null()) {
            Some(value) => {
                check_type(scope, &field.schema, value).map_err(|expected| {
                    format!(
                        "`{}` must be {expected}, got {}",
                        field.property,
                        describe(value)
                    )
                })?;
                gathered.insert(field.name.clone(), value.clone());
            }
            None if body.required && field.required => {
                return Err(format!(
                    "needs `{}` (a field of the request body)",
                    field.property
                ));
            }
            None => {}
        }
    }
    Ok(if gathered.is_empty() && !body.required {
        Value::Null
    } else {
        Value::Object(gathered)
    })
}

/// A request body in the description's media type: JSON for JSON types,
/// form encoding for an object sent as a form, a string as it is.
fn encode_body(headers: &mut HeaderMap, media_type: &str, value: &Value) -> Vec<u8> {
    let essence = media_type.split(';').next().unwrap_or(media_type).trim();
    let json = essence.ends_with("/json") || essence.ends_with("+json");
    match value {
        Value::Object(fields) if essence == "application/x-www-form-urlencoded" => {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in fields {
                form.append_pair(name, &scalar(value).unwrap_or_else(|| value.to_string()));
            }
            set_content_type(headers, essence);
            form.finish().into_bytes()
        }
        Value::String(text) if !json => {
            set_content_type(headers, media_type);
            text.clone().into_bytes()
        }
        other => json_body(
            headers,
            other,
            if json { media_type } else { "application/json" },
        ),
    }
}

fn json_body(headers: &mut HeaderMap, value: &Value, media_type: &str) -> Vec<u8> {
    set_content_type(headers, media_type);
    // A `Value` always serializes.
    serde_json::to_vec(value).unwrap_or_default()
}

fn set_content_type(headers: &mut HeaderMap, media_type: &str) {
    if !headers.contains_key(CONTENT_TYPE)
        && let Ok(value) = HeaderValue::from_str(media_type)
    {
        headers.insert(CONTENT_TYPE, value);
    }
}

/// Whether `value` has the type `schema` asks for, at the top level (and
/// for the items of an array of scalars). `Err` says what was expected.
fn check_type(scope: &Scope<'_>, schema: &Value, value: &Value) -> Result<(), String> {
    let mut schema = schema;
    for _ in 0..8 {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => match scope.resolve(reference) {
                Some(target) => schema = target,
                None => return Ok(()),
            },
            None => break,
        }
    }
    if let Some(Value::Array(allowed)) = schema.get("enum")
        && !allowed.is_empty()
        && !allowed.contains(value)
    {
        let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
        return Err(format!("one of {}", listed.join(", ")));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(name)) => vec![name.as_str()],
        Some(Value::Array(names)) => names.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    let fits = |name: &str| match (name, value) {
        ("string", Value::String(_))
        | ("number", Value::Number(_))
        | ("boolean", Value::Bool(_))
        | ("object", Value::Object(_))
        | ("array", Value::Array(_))
        | ("null", Value::Null) => true,
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
        _ => false,
    };
    if !types.iter().any(|name| fits(name)) {
        let names: Vec<String> = types.iter().map(|name| article(name)).collect();
        return Err(names.join(" or "));
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (index, item) in items.iter().enumerate() {
            check_type(scope, item_schema, item).map_err(|expected| {
                format!("an array whose items are {expected} (item {index} is not)")
            })?;
        }
    }
    Ok(())
}

fn article(type_name: &str) -> String {
    match type_name {
        "integer" | "object" | "array" => format!("an {type_name}"),
        "null" => "null".to_owned(),
        other => format!("a {other}"),
    }
}

/// `a string`, `the number 5`, ... for error messages.
fn describe(value: &Value) -> String {
    match value {
        Value::String(text) if text.len() <= 40 => {
            format!("the string {value}", value = Value::String(text.clone()))
        }
        Value::Number(number) => format!("the number {number}"),
        Value::Bool(flag) => format!("{flag}"),
        other => kind(other).to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use url::Url;

    use super::Bounds;

    /// Bounds under `http://h/api`, with a query credential `api_key`.
    fn bounds() -> Bounds {
        let base = Url::parse("http://h/api").expect("a URL");
        Bounds {
            origins: vec![base.origin()],
            base,
            methods: None,
            auth_header: None,
            auth_query: Some("api_key".into()),
        }
    }

    fn get(path: &str) -> Result<String, String> {
        let args = json!({ "method": "GET", "path": path, "pathParams": {} });
        bounds()
            .request(args)
            .map(|outgoing| outgoing.url.to_string())
    }

    #[test]
    fn a_path_stays_under_the_base_path_however_it_is_written() {
        for (path, expected) in [
            ("http://h/admin/secret", "leaves the API's base URL"),
            ("http://h/api/../admin", "leaves the API's base URL"),
            ("http://h/api/%2e%2E/admin", "leaves the API's base URL"),
            ("http://h/apix/secret", "leaves the API's base URL"),
            (
                "http://h/api/x/..;/..;/admin",
                "holds a `.` or `..` segment",
            ),
            (
                "http://h/api/x%2F..%2F..%2Fsecret",
                "holds an encoded separator",
            ),
            ("/x%2F..%2F..%2Fsecret.txt", "holds an encoded separator"),
            ("/x%2f..", "holds an encoded separator"),
            ("/x%5C..%5c..%5Csecret", "holds an encoded separator"),
            ("/x%252F..%252Fsecret", "holds an encoded separator"),
            ("/x\\..\\secret", "holds `\\`"),
            ("/..;/admin", "holds a `.` or `..` segment"),
            ("/x/..;jsessionid=1/y", "holds a `.` or `..` segment"),
            ("/x/%2e%2E;/y", "holds a `.` or `..` segment"),
            ("/x/.%252e/y", "holds a `.` or `..` segment"),
            ("/x/..%3B/y", "holds a `.` or `..` segment"),
        ] {
            let error = get(path).expect_err(path);
            assert!(error.contains(expected), "{path}: {error}");
        }
        for (path, url) in [
            ("http://h/api/items", "http://h/api/items"),
            ("http://h/api", "http://h/api"),
            ("/items/a;b=c", "http://h/api/items/a;b=c"),
            ("/files/a%20b/..x", "http://h/api/files/a%20b/..x"),
        ] {
            assert_eq!(get(path).as_deref(), Ok(url), "{path}");
        }
    }

    #[test]
    fn the_query_credential_cannot_come_from_the_script() {
        for path in [
            "/echo?api_key=mine",
            "/echo?x=1&API_KEY=mine",
            "/echo?x=1;api%5Fkey=mine",
            "/echo?api%255fkey=mine",
            "http://h/api/echo?api_key=mine",
        ] {
            let error = get(path).expect_err(path);
            assert!(error.contains("is set by the host"), "{path}: {error}");
        }
        let args = json!({ "method": "GET", "path": "/echo", "query": { "Api_Key": "mine" } });
        let error = bounds().request(args).expect_err("a query credential");
        assert_eq!(error, "the query parameter `Api_Key` is set by the host");
        assert!(get("/echo?api_keys=1&key=2").is_ok());
    }

    #[test]
    fn a_method_override_is_refused_where_methods_are_restricted() {
        let mut read_only = bounds();
        read_only.methods = Some(vec!["GET".into(), "POST".into()]);
        let attempts = [
            json!({ "method": "GET", "path": "/echo", "query": { "_method": "DELETE" } }),
            json!({ "method": "GET", "path": "/echo?_METHOD=DELETE" }),
            json!({ "method": "GET", "path": "/echo?%5Fmethod=DELETE" }),
            json!({ "method": "POST", "path": "/echo", "body": { "_method": "DELETE" } }),
            json!({ "method": "POST", "path": "/echo", "body": "a=1&_method=DELETE",
                    "headers": { "Content-Type": "application/x-www-form-urlencoded" } }),
        ];
        for args in attempts {
            let error = read_only.request(args.clone()).expect_err("refused");
            assert!(
                error.contains("is refused: it would change the request's method"),
                "{args}: {error}"
            );
            // Where every method is allowed, `_method` is the API's business.
            assert!(bounds().request(args).is_ok());
        }
    }

    #[test]
    fn a_path_parameter_may_hold_a_separator_but_not_a_step_up() {
        let fill = |id: &str| {
            let args =
                json!({ "method": "GET", "path": "/items/{id}", "pathParams": { "id": id } });
            bounds()
                .request(args)
                .map(|outgoing| outgoing.url.path().to_owned())
        };
        assert_eq!(fill("a/b").as_deref(), Ok("/api/items/a%2Fb"));
        for id in ["..;", "x/..;y/z", "%2e%2e", "..%3B"] {
            assert!(fill(id).is_err(), "{id}");
        }
    }
}
