//! Read-only documents that the host holds once, parsed, and that scripts
//! read part by part.
//!
//! Some data is too large to hand a run whole: GitHub's OpenAPI description
//! is 13 MB of JSON, and QuickJS parses JSON at about 80 MB/s in the
//! sandbox, so even its 2.3 MB of `paths` would cost every run some 30 ms.
//! A [`Document`] is parsed once on the host and shared by every run; the
//! guest reads it one node at a time (the WIT function `documents.read`),
//! only where the script looks, and builds read-only objects from the
//! replies (see the guest's prelude for how it resolves `$ref`s on top).
//!
//! # One read
//! A read names a node by its JSON Pointer (RFC 6901) and gets it one level
//! deep: its primitive children, and its children whose JSON is at most
//! [`INLINE_BYTES`], come whole; larger children are *lazy*, to be read by a
//! call of their own. The reply is the JSON array `[node, lazy]`: `node` with
//! each lazy child written as `null`, and `lazy` the keys (of an object) or
//! indices (of an array) of the lazy children. A real `null` is never in
//! `lazy`, so the two cannot be confused. A `$ref` member that is a string
//! always comes inline, so that the guest knows a Reference Object as soon as
//! it reads it.
//!
//! # Bounds
//! Deciding whether a child is small first adds up a lower bound of its
//! JSON's length, in a walk that stops as soon as that passes
//! [`INLINE_BYTES`]; a child that may be small is then serialized into the
//! reply with the same cap, which stops the serialization as soon as it is
//! passed. So a large child costs no more than a small one. Children are inlined
//! only while the reply is shorter than [`INLINE_BUDGET`], and
//! no reply is larger than [`MAX_REPLY_BYTES`]: a node whose keys alone, or a
//! string, would pass it cannot be read.

use std::borrow::Cow;
use std::fmt;

use serde_json::Value;

use crate::capped::append_json;

/// A child whose JSON is at most this many bytes comes inline in its
/// parent's reply: enough for a summary, a list of tags or a small
/// Reference Object, too little for an operation or a schema.
pub(crate) const INLINE_BYTES: usize = 256;

/// Children are inlined only while the reply is shorter than this; later
/// ones are lazy whatever their size.
pub(crate) const INLINE_BUDGET: usize = 64 << 10;

/// The largest reply of one read, in bytes.
pub(crate) const MAX_REPLY_BYTES: usize = 1 << 20;

/// A JSON document that scripts read lazily: parsed once, immutable, and
/// shared by any number of runs (it is `Send + Sync`; hand it around in an
/// `Arc`). [`Execution::documents`](crate::Execution::documents) gives a run
/// documents as properties of a global.
///
/// ```
/// use std::sync::Arc;
///
/// use codemode_runtime::{Document, Execution};
/// use serde_json::json;
///
/// let petstore = Arc::new(Document::new(json!({ "paths": { "/pets": { "get": { "summary": "List pets" } } } })));
/// let execution = Execution::new("spec.petstore.paths['/pets'].get.summary")
///     .documents("spec", vec![("petstore".to_owned(), petstore)]);
/// ```
pub struct Document {
    root: Value,
}

impl Document {
    /// A document holding `root`.
    pub fn new(root: Value) -> Self {
        Self { root }
    }

    /// The node at `pointer`, one level deep, as the JSON text
    /// `[node, lazy]` that the module documentation describes.
    ///
    /// # Errors
    ///
    /// A message for the guest when `pointer` is not a JSON Pointer, names
    /// nothing, or names a node too large for one reply.
    pub(crate) fn read(&self, pointer: &str) -> Result<String, String> {
        let node = self.find(pointer)?;
        let mut reply = Vec::with_capacity(256);
        reply.push(b'[');
        let lazy = match node {
            Value::Object(members) => {
                let mut lazy = Vec::new();
                reply.push(b'{');
                for (index, (key, child)) in members.iter().enumerate() {
                    if index > 0 {
                        reply.push(b',');
                    }
                    append_json(&mut reply, usize::MAX, key);
                    reply.push(b':');
                    let always = key == "$ref" && child.is_string();
                    if !append_child(&mut reply, child, always) {
                        lazy.push(Lazy::Key(key));
                    }
                }
                reply.push(b'}');
                lazy
            }
            Value::Array(items) => {
                let mut lazy = Vec::new();
                reply.push(b'[');
                for (index, child) in items.iter().enumerate() {
                    if index > 0 {
                        reply.push(b',');
                    }
                    if !append_child(&mut reply, child, false) {
                        lazy.push(Lazy::Index(index));
                    }
                }
                reply.push(b']');
                lazy
            }
            primitive => {
                if !append_json(&mut reply, MAX_REPLY_BYTES, primitive) {
                    return Err(format!(
                        "the value at `{pointer}` is larger than a reply may be ({MAX_REPLY_BYTES} bytes)"
                    ));
                }
                Vec::new()
            }
        };
        reply.push(b',');
        append_json(&mut reply, usize::MAX, &lazy);
        reply.push(b']');
        if reply.len() > MAX_REPLY_BYTES {
            return Err(format!(
                "the node at `{pointer}` has too many members to list in a reply of at most \
                 {MAX_REPLY_BYTES} bytes"
            ));
        }
        // serde_json writes valid UTF-8, and so does everything above.
        String::from_utf8(reply).map_err(|error| error.to_string())
    }

    /// The node `pointer` names.
    fn find(&self, pointer: &str) -> Result<&Value, String> {
        if pointer.is_empty() {
            return Ok(&self.root);
        }
        let Some(tokens) = pointer.strip_prefix('/') else {
            return Err(format!(
                "`{pointer}` is not a JSON Pointer: it must be empty or start with `/`"
            ));
        };
        let mut node = &self.root;
        // The length of the pointer to `node`.
        let mut walked = 0;
        for escaped in tokens.split('/') {
            let token = unescape(escaped);
            let parent = Parent(&pointer[..walked]);
            node = match node {
                Value::Object(members) => members.get(token.as_ref()).ok_or_else(|| {
                    format!("`{pointer}` names nothing: {parent} has no key `{token}`")
                })?,
                Value::Array(items) => array_index(&token)
                    .and_then(|index| items.get(index))
                    .ok_or_else(|| {
                        format!(
                            "`{pointer}` names nothing: {parent} is an array of {} items, and \
                             `{token}` is not one of its indices",
                            items.len()
                        )
                    })?,
                _ => {
                    return Err(format!(
                        "`{pointer}` names nothing: {parent} is neither an object nor an array"
                    ));
                }
            };
            walked += 1 + escaped.len();
        }
        Ok(node)
    }
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document").finish_non_exhaustive()
    }
}

/// A child left out of a reply: an object's key or an array's index.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum Lazy<'a> {
    Key(&'a str),
    Index(usize),
}

/// Append `child` to a reply whole if it is primitive, `always` is set, or
/// it is small and the reply has room; else append `null` and return false.
fn append_child(reply: &mut Vec<u8>, child: &Value, always: bool) -> bool {
    let small_enough = match child {
        Value::Null | Value::Bool(_) | Value::Number(_) => true,
        Value::String(_) | Value::Array(_) | Value::Object(_) => always,
    };
    let limit = if small_enough {
        MAX_REPLY_BYTES
    } else if reply.len() < INLINE_BUDGET && !longer_than(child, INLINE_BYTES) {
        reply.len() + INLINE_BYTES
    } else {
        0
    };
    if limit > 0 && append_json(reply, limit, child) {
        return true;
    }
    reply.extend_from_slice(b"null");
    false
}

/// True when `value`'s JSON is surely longer than `bound` bytes: a walk that
/// adds up a lower bound of its length (strings without their escapes,
/// numbers as one digit) and stops as soon as that passes `bound`.
fn longer_than(value: &Value, bound: usize) -> bool {
    fn add(value: &Value, length: &mut usize, bound: usize) -> bool {
        match value {
            Value::Null | Value::Bool(_) => *length += 4,
            Value::Number(_) => *length += 1,
            Value::String(text) => *length += text.len() + 2,
            // Brackets and commas first, then each item.
            Value::Array(items) => {
                *length += items.len().max(1) + 1;
                for item in items {
                    if add(item, length, bound) {
                        return true;
                    }
                }
            }
            // Braces, commas, colons and quotes first, then each member.
            Value::Object(members) => {
                *length += 4 * members.len() + 1;
                for (key, member) in members {
                    *length += key.len();
                    if add(member, length, bound) {
                        return true;
                    }
                }
            }
        }
        *length > bound
    }
    add(value, &mut 0, bound)
}

/// A pointer token with `~1` and `~0` turned back into `/` and `~`.
fn unescape(token: &str) -> Cow<'_, str> {
    if token.contains('~') {
        Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(token)
    }
}

/// An array index as RFC 6901 writes it: decimal digits, no leading zero.
fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    let canonical = token == "0" || !token.starts_with('0');
    if digits && canonical {
        token.parse().ok()
    } else {
        None
    }
}

/// The node a pointer token is looked up in, for messages.
struct Parent<'a>(&'a str);

impl fmt::Display for Parent<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("the document's root")
        } else {
            write!(f, "the node at `{}`", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    /// `read`'s reply, parsed.
    fn read(document: &Document, pointer: &str) -> Value {
        let reply = document.read(pointer).expect("the pointer names a node");
        serde_json::from_str(&reply).expect("the reply is JSON")
    }

    #[test]
    fn pointers_unescape_slashes_and_tildes() {
        let document = Document::new(json!({ "/repos/{owner}": { "a~b": 1, "~1": 2 } }));
        assert_eq!(read(&document, "/~1repos~1{owner}/a~0b"), json!([1, []]));
        assert_eq!(read(&document, "/~1repos~1{owner}/~01"), json!([2, []]));
        assert_eq!(
            read(&document, ""),
            json!([{ "/repos/{owner}": { "a~b": 1, "~1": 2 } }, []])
        );
    }

    #[test]
    fn large_children_are_lazy_and_small_ones_inline() {
        let long = "x".repeat(INLINE_BYTES);
        let document = Document::new(json!({
            "small": { "summary": "short" },
            "long": long,
            "big": { "description": long },
            "null": null,
            "tags": ["a", "b"],
            "items": [1, long, { "n": 2 }],
        }));
        assert_eq!(
            read(&document, ""),
            json!([
                { "small": { "summary": "short" }, "long": null, "big": null, "null": null, "tags": ["a", "b"], "items": null },
                ["long", "big", "items"]
            ])
        );
        assert_eq!(
            read(&document, "/items"),
            json!([[1, null, { "n": 2 }], [1]])
        );
        assert_eq!(read(&document, "/long"), json!([long, []]));
    }

    #[test]
    fn the_length_walk_never_overestimates() {
        let values = [
            json!(null),
            json!([]),
            json!({}),
            json!([1, 2.5, true, "a\"b"]),
            json!({ "k": [null, { "": "" }], "é": "ü" }),
        ];
        for value in values {
            let length = serde_json::to_string(&value).expect("JSON").len();
            assert!(!longer_than(&value, length), "{value}");
            assert!(longer_than(&value, 0), "{value}");
        }
    }

    #[test]
    fn a_reference_comes_inline_however_long() {
        let target = format!("#/{}", "x".repeat(INLINE_BYTES));
        let document =
            Document::new(json!({ "schema": { "$ref": target, "description": target } }));
        assert_eq!(
            read(&document, "/schema"),
            json!([{ "$ref": target, "description": null }, ["description"]])
        );
    }

    #[test]
    fn a_wide_node_inlines_only_within_the_budget() {
        let members: serde_json::Map<String, Value> = (0..INLINE_BUDGET / 16)
            .map(|n| (format!("k{n}"), json!("0123456789abcdef")))
            .collect();
        let document = Document::new(Value::Object(members));
        let reply = document.read("").expect("readable");
        assert!(reply.len() < 2 * INLINE_BUDGET, "{}", reply.len());
        let [node, lazy] = serde_json::from_str::<[Value; 2]>(&reply).expect("JSON");
        let lazy = lazy.as_array().expect("a list");
        assert!(!lazy.is_empty());
        for key in lazy {
            let key = key.as_str().expect("a key");
            assert_eq!(node[key], Value::Null);
        }
    }

    #[test]
    fn a_pointer_that_names_nothing_is_an_error_saying_where() {
        let document = Document::new(json!({ "a": { "b": [10, 20] }, "s": "text" }));
        for (pointer, message) in [
            (
                "a",
                "`a` is not a JSON Pointer: it must be empty or start with `/`",
            ),
            (
                "/x",
                "`/x` names nothing: the document's root has no key `x`",
            ),
            (
                "/a/c",
                "`/a/c` names nothing: the node at `/a` has no key `c`",
            ),
            (
                "/a/b/2",
                "`/a/b/2` names nothing: the node at `/a/b` is an array of 2 items, and `2` is not one of its indices",
            ),
            (
                "/a/b/01",
                "`/a/b/01` names nothing: the node at `/a/b` is an array of 2 items, and `01` is not one of its indices",
            ),
            (
                "/a/b/-",
                "`/a/b/-` names nothing: the node at `/a/b` is an array of 2 items, and `-` is not one of its indices",
            ),
            (
                "/s/0",
                "`/s/0` names nothing: the node at `/s` is neither an object nor an array",
            ),
        ] {
            assert_eq!(document.read(pointer), Err(message.to_owned()), "{pointer}");
        }
        assert_eq!(read(&document, "/a/b/1"), json!([20, []]));
    }

    #[test]
    fn no_reply_passes_the_cap() {
        let huge = "x".repeat(MAX_REPLY_BYTES);
        let document = Document::new(json!({ "huge": huge }));
        assert_eq!(read(&document, ""), json!([{ "huge": null }, ["huge"]]));
        assert_eq!(
            document.read("/huge"),
            Err(format!(
                "the value at `/huge` is larger than a reply may be ({MAX_REPLY_BYTES} bytes)"
            ))
        );
    }
}
