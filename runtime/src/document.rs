//! Read-only documents that the host holds once, parsed, and that scripts
//! read part by part.
//!
//! Some data is too large to hand a run whole: GitHub's OpenAPI description
//! is 13 MB of JSON, and QuickJS parses JSON at about 80 MB/s in the
//! sandbox, so even its 2.3 MB of `paths` would cost every run some 30 ms.
//! A [`Document`] is parsed once on the host and shared by every run; the
//! guest reads it one node at a time (the WIT function `documents.read`),
//! only where the script looks, and builds read-only objects from the
//! replies (see the guest's `documents.rs`, which also resolves `$ref`s).
//!
//! # One read
//! A read names a node by its JSON Pointer (RFC 6901) and gets it one level
//! deep: its children whose JSON is at most [`INLINE_BYTES`] come whole;
//! larger children are *lazy*, to be read by a call of their own. The reply
//! is the JSON array `[node, lazy]`: `node` with each lazy child written as
//! a placeholder, and `lazy` the keys (of an object) or indices (of an
//! array) of the lazy children, in order. The placeholder is `{}` for an
//! object with no `$ref` member (the guest can stand in an object for it
//! and read it when the script looks inside), else `null`. A real `{}` or
//! `null` is never in `lazy`, so the two cannot be confused. A `$ref`
//! member that is a string always comes whole, so that the guest knows a
//! Reference Object as soon as it reads it.
//!
//! # Bounds, and what a read costs
//! [`Document::new`] turns every node whose JSON is at most
//! [`INLINE_BYTES`] into that JSON text, bottom-up: a container's text is
//! made from its parts' texts, and a container with a large part, or whose
//! text would pass the bound, stays a container. So no large node is ever
//! serialized, and a read copies the texts of its node's small children and
//! lists the others: its cost is that of its reply. Children are inlined only
//! while the reply is shorter than [`INLINE_BUDGET`], and no reply is larger
//! than [`MAX_REPLY_BYTES`]: a node whose keys alone, or a string, would pass
//! it cannot be read.

use std::fmt::{self, Write as _};

use indexmap::IndexMap;
use serde_json::Value;

/// A child whose JSON is at most this many bytes comes whole in its
/// parent's reply: enough for a summary, a list of tags or a small
/// Reference Object, too little for an operation or a schema.
pub(crate) const INLINE_BYTES: usize = 256;

/// Children are inlined only while the reply is shorter than this; later
/// ones are lazy whatever their size.
pub(crate) const INLINE_BUDGET: usize = 64 << 10;

/// The largest reply of one read, in bytes.
pub(crate) const MAX_REPLY_BYTES: usize = 1 << 20;

/// A JSON document that scripts read lazily: prepared once, immutable, and
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
    root: Node,
}

impl Document {
    /// A document holding `root`. This walks all of it once, writing out
    /// its small nodes (see the module documentation): for GitHub's
    /// description, a fraction of the time `serde_json` takes to parse it.
    pub fn new(root: Value) -> Self {
        Self {
            root: Node::new(root),
        }
    }

    /// The node at `pointer`, one level deep, as the JSON text
    /// `[node, lazy]` that the module documentation describes.
    ///
    /// # Errors
    ///
    /// A message for the guest when `pointer` is not a JSON Pointer, names
    /// nothing, or names a node too large for one reply.
    pub(crate) fn read(&self, pointer: &str) -> Result<String, String> {
        let mut reply = String::with_capacity(1024);
        reply.push('[');
        let mut lazy = String::new();
        match self.find(pointer)? {
            Found::Node(Node::Small(json)) => reply.push_str(json),
            Found::Inside(value) => reply.push_str(&value.to_string()),
            Found::Node(Node::String(text)) => {
                let json = serde_json::to_string(text).map_err(|error| error.to_string())?;
                if json.len() > MAX_REPLY_BYTES {
                    return Err(format!(
                        "the value at `{pointer}` is larger than a reply may be ({MAX_REPLY_BYTES} bytes)"
                    ));
                }
                reply.push_str(&json);
            }
            Found::Node(Node::Array(items)) => {
                reply.push('[');
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        reply.push(',');
                    }
                    if !append_child(&mut reply, item, false) {
                        let _ = write!(lazy, "{}{index}", if lazy.is_empty() { "" } else { "," });
                    }
                }
                reply.push(']');
            }
            Found::Node(Node::Object(members)) => {
                reply.push('{');
                for (index, (key, member)) in members.iter().enumerate() {
                    if index > 0 {
                        reply.push(',');
                    }
                    reply.push_str(&member.key);
                    reply.push(':');
                    if !append_child(&mut reply, &member.node, key == "$ref") {
                        if !lazy.is_empty() {
                            lazy.push(',');
                        }
                        lazy.push_str(&member.key);
                    }
                }
                reply.push('}');
            }
        }
        reply.push_str(",[");
        reply.push_str(&lazy);
        reply.push_str("]]");
        if reply.len() > MAX_REPLY_BYTES {
            return Err(format!(
                "the node at `{pointer}` has too many members to list in a reply of at most \
                 {MAX_REPLY_BYTES} bytes"
            ));
        }
        Ok(reply)
    }

    /// The node `pointer` names.
    fn find(&self, pointer: &str) -> Result<Found<'_>, String> {
        if pointer.is_empty() {
            return Ok(Found::Node(&self.root));
        }
        let Some(tokens) = pointer.strip_prefix('/') else {
            return Err(format!(
                "`{pointer}` is not a JSON Pointer: it must be empty or start with `/`"
            ));
        };
        let mut found = Found::Node(&self.root);
        // The length of the pointer to `found`.
        let mut walked = 0;
        for escaped in tokens.split('/') {
            let step = Step {
                pointer,
                parent: &pointer[..walked],
                token: &unescape(escaped),
            };
            found = match found {
                Found::Node(Node::Object(members)) => {
                    let member = members.get(step.token).ok_or_else(|| step.no_key())?;
                    Found::Node(&member.node)
                }
                Found::Node(Node::Array(items)) => Found::Node(step.item(items)?),
                Found::Node(Node::String(_)) => return Err(step.not_a_container()),
                Found::Node(Node::Small(json)) => {
                    // Small nodes are walked into seldom: only by a `$ref`.
                    let value = serde_json::from_str(json).map_err(|error| error.to_string())?;
                    Found::Inside(step.inside(value)?)
                }
                Found::Inside(value) => Found::Inside(step.inside(value)?),
            };
            walked += 1 + escaped.len();
        }
        Ok(found)
    }
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document").finish_non_exhaustive()
    }
}

/// A node as reads need it: a small one as the JSON text a reply copies, a
/// large one as its parts.
enum Node {
    /// A node whose JSON is at most [`INLINE_BYTES`]: that JSON.
    Small(Box<str>),
    /// A longer string.
    String(String),
    Array(Vec<Node>),
    Object(IndexMap<String, Member>),
}

/// A member of a large object, with its key as JSON, ready for replies.
struct Member {
    key: Box<str>,
    node: Node,
}

impl Node {
    /// `value`, its small nodes written out bottom-up.
    fn new(value: Value) -> Self {
        match value {
            Value::Array(items) => {
                let items: Vec<Node> = items.into_iter().map(Node::new).collect();
                let parts = items.iter().map(|item| (None, item));
                small_container(b'[', parts, b']').map_or(Node::Array(items), Node::Small)
            }
            Value::Object(members) => {
                let members: IndexMap<String, Member> = members
                    .into_iter()
                    .map(|(key, member)| {
                        let member = Member {
                            key: Value::from(key.as_str()).to_string().into(),
                            node: Node::new(member),
                        };
                        (key, member)
                    })
                    .collect();
                let parts = members
                    .values()
                    .map(|member| (Some(&*member.key), &member.node));
                small_container(b'{', parts, b'}').map_or(Node::Object(members), Node::Small)
            }
            Value::String(text) => {
                // Escapes only lengthen a string: a long one is not written
                // out here.
                let json = (text.len() + 2 <= INLINE_BYTES)
                    .then(|| serde_json::to_string(&text).ok())
                    .flatten()
                    .filter(|json| json.len() <= INLINE_BYTES);
                json.map_or(Node::String(text), |json| Node::Small(json.into()))
            }
            primitive => Node::Small(primitive.to_string().into()),
        }
    }

    /// True for an object without a `$ref` member: one that reads as
    /// itself, not as what a reference points to.
    fn is_plain_object(&self) -> bool {
        match self {
            Node::Object(members) => !members.contains_key("$ref"),
            // A small object's JSON, left out of a full reply: its keys
            // are not looked at, so any `"$ref"` in it counts.
            Node::Small(json) => json.starts_with('{') && !json.contains("\"$ref\""),
            Node::String(_) | Node::Array(_) => false,
        }
    }
}

/// The JSON of a container of `parts` (with their keys as JSON, for an
/// object) when they are all small and so is it.
fn small_container<'a>(
    open: u8,
    parts: impl Iterator<Item = (Option<&'a str>, &'a Node)>,
    close: u8,
) -> Option<Box<str>> {
    let mut json = vec![open];
    for (index, (key, part)) in parts.enumerate() {
        let Node::Small(text) = part else {
            return None;
        };
        if index > 0 {
            json.push(b',');
        }
        if let Some(key) = key {
            json.extend_from_slice(key.as_bytes());
            json.push(b':');
        }
        json.extend_from_slice(text.as_bytes());
        if json.len() >= INLINE_BYTES {
            return None;
        }
    }
    json.push(close);
    String::from_utf8(json).ok().map(String::into_boxed_str)
}

/// Where a pointer leads: a node, or a value inside a small node.
enum Found<'a> {
    Node(&'a Node),
    Inside(Value),
}

/// Append `child` to a reply whole if it is small and the reply has room
/// (or `always`, for a string), else its placeholder (see the module
/// documentation); return whether it went whole.
fn append_child(reply: &mut String, child: &Node, always: bool) -> bool {
    match child {
        Node::Small(json) if always || reply.len() < INLINE_BUDGET => {
            reply.push_str(json);
            true
        }
        Node::String(text) if always => match serde_json::to_string(text) {
            Ok(json) => {
                reply.push_str(&json);
                true
            }
            Err(_) => false,
        },
        _ => {
            reply.push_str(if child.is_plain_object() {
                "{}"
            } else {
                "null"
            });
            false
        }
    }
}

/// One step of a pointer: its token, and where it is looked up.
struct Step<'a> {
    pointer: &'a str,
    /// The pointer to the node the token is looked up in.
    parent: &'a str,
    token: &'a str,
}

impl Step<'_> {
    /// The item of `items` the token names.
    fn item<'n, T>(&self, items: &'n [T]) -> Result<&'n T, String> {
        array_index(self.token)
            .and_then(|index| items.get(index))
            .ok_or_else(|| {
                format!(
                    "`{}` names nothing: {} is an array of {} items, and `{}` is not one of its \
                     indices",
                    self.pointer,
                    self.place(),
                    items.len(),
                    self.token
                )
            })
    }

    /// The member or item of `value` the token names.
    fn inside(&self, value: Value) -> Result<Value, String> {
        match value {
            Value::Object(mut members) => {
                members.swap_remove(self.token).ok_or_else(|| self.no_key())
            }
            Value::Array(items) => self.item(&items).cloned(),
            _ => Err(self.not_a_container()),
        }
    }

    fn no_key(&self) -> String {
        format!(
            "`{}` names nothing: {} has no key `{}`",
            self.pointer,
            self.place(),
            self.token
        )
    }

    fn not_a_container(&self) -> String {
        format!(
            "`{}` names nothing: {} is neither an object nor an array",
            self.pointer,
            self.place()
        )
    }

    /// The node the token is looked up in, for messages.
    fn place(&self) -> String {
        if self.parent.is_empty() {
            "the document's root".to_owned()
        } else {
            format!("the node at `{}`", self.parent)
        }
    }
}

/// A pointer token with `~1` and `~0` turned back into `/` and `~`.
fn unescape(token: &str) -> std::borrow::Cow<'_, str> {
    if !token.contains('~') {
        return token.into();
    }
    let mut unescaped = String::with_capacity(token.len());
    let mut rest = token;
    while let Some(at) = rest.find('~') {
        unescaped.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        match rest.as_bytes().first() {
            Some(b'0') => unescaped.push('~'),
            Some(b'1') => unescaped.push('/'),
            _ => {
                unescaped.push('~');
                continue;
            }
        }
        rest = &rest[1..];
    }
    unescaped.push_str(rest);
    unescaped.into()
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
    fn a_document_can_be_shared_across_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Document>();
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
                { "small": { "summary": "short" }, "long": null, "big": {}, "null": null, "tags": ["a", "b"], "items": null },
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
    fn small_nodes_read_as_their_json_and_can_be_walked_into() {
        let values = [
            json!(null),
            json!([]),
            json!({}),
            json!([1, 2.5, -3, true, "a\"b\u{1}", { "é": ["ü"] }]),
        ];
        for value in values {
            let document =
                Document::new(json!({ "small": value, "pad": "p".repeat(INLINE_BYTES) }));
            let reply = document.read("/small").expect("readable");
            assert_eq!(reply, format!("[{value},[]]"));
        }
        let document =
            Document::new(json!({ "a": { "b": [{ "c": "d" }] }, "pad": "p".repeat(INLINE_BYTES) }));
        assert_eq!(read(&document, "/a/b/0/c"), json!(["d", []]));
        assert_eq!(
            document.read("/a/b/1"),
            Err("`/a/b/1` names nothing: the node at `/a/b` is an array of 1 items, and `1` is not \
                 one of its indices"
                .to_owned())
        );
        assert_eq!(
            document.read("/a/b/0/c/d"),
            Err("`/a/b/0/c/d` names nothing: the node at `/a/b/0/c` is neither an object nor an array".to_owned())
        );
    }

    #[test]
    fn a_reference_comes_inline_however_long() {
        let target = format!("#/{}", "x".repeat(INLINE_BYTES));
        let document = Document::new(
            json!({ "schema": { "$ref": target, "description": target }, "pad": target }),
        );
        assert_eq!(
            read(&document, "/schema"),
            json!([{ "$ref": target, "description": null }, ["description"]])
        );
        // An object that is a reference is left out as `null`: the guest
        // cannot know what it reads as until it follows it.
        assert_eq!(
            read(&document, ""),
            json!([{ "schema": null, "pad": null }, ["schema", "pad"]])
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
        // Small objects left out for the budget are plain objects, and say so.
        let members: serde_json::Map<String, Value> = (0..INLINE_BUDGET / 16)
            .map(|n| (format!("k{n}"), json!({ "v": "0123456789" })))
            .collect();
        let document = Document::new(Value::Object(members));
        let [node, lazy] =
            serde_json::from_str::<[Value; 2]>(&document.read("").expect("readable"))
                .expect("JSON");
        let lazy = lazy.as_array().expect("a list");
        assert!(!lazy.is_empty());
        for key in lazy {
            assert_eq!(node[key.as_str().expect("a key")], json!({}));
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
