//! Read-only documents that the host holds once, prepared, and that scripts
//! read part by part.
//!
//! Some data is too large to hand a run whole: GitHub's OpenAPI description
//! is 13 MB of JSON, and QuickJS parses JSON at about 80 MB/s in the
//! sandbox, so even its 2.3 MB of `paths` would cost every run some 30 ms.
//! A [`Document`] is prepared once on the host and shared by every run; the
//! guest reads it one node at a time (the WIT function `documents.read`),
//! only where the script looks, and builds read-only objects from the
//! replies (see the guest's `documents.rs`, which also resolves `$ref`s).
//!
//! # One read
//! The document's large nodes are numbered, the root 0, and a read names
//! one by its number. It gets the node one level deep: its children whose
//! JSON is at most [`INLINE_BYTES`] come whole; larger children are *lazy*,
//! given by the number of the node to read for them, and whether that node
//! is an object with no `$ref` member (the guest can stand in an object for
//! it and read it when the script looks inside). A `$ref` member that is a
//! string always comes whole, so that the guest knows a Reference Object as
//! soon as it reads it. The reply is laid out so that the guest finds each
//! key and value without parsing: a table of where each ends in one text
//! (see the WIT record `node`). A `$ref` names a node by JSON Pointer
//! instead: `find` walks it to a number, or to a small value's JSON.
//!
//! # Bounds, and what a read costs
//! [`Document::new`] prepares every reply once, bottom-up: a small node is
//! written out as JSON, and a node with a large part, or whose JSON would
//! pass the bound, gets a number and its reply. So a read only copies a
//! reply, and no large node is ever serialized. Children are inlined only
//! while the reply is shorter than [`INLINE_BUDGET`] (later small ones are
//! numbered too), and no reply is larger than [`MAX_REPLY_BYTES`]: a node
//! whose keys alone, or a string, would pass it cannot be read.

use codemode_typescript::pointer::{self, unescape};
use serde_json::Value;

use crate::bindings::codemode::sandbox::documents::{Found, Kind, Node as Reply};

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
///
/// The host can read it too: [`get`](Self::get) rebuilds the value at a
/// JSON Pointer, so a connector need not keep its own copy of what it
/// hands scripts.
pub struct Document {
    /// Every numbered node's reply text, end to end.
    text: String,
    /// Every numbered node's parts (offsets into its own text), end to end.
    parts: Vec<u32>,
    /// For each object node, its members' indices sorted by key, end to
    /// end: how a pointer finds a member.
    sorted: Vec<u32>,
    /// The numbered nodes, by number; the root is first.
    nodes: Vec<Node>,
    /// Why each node too large to read cannot be read, sorted by number.
    /// Its reply is kept all the same, for [`get`](Self::get).
    unreadable: Vec<(u32, String)>,
}

/// Where a numbered node's reply lies in the document's tables. Each range
/// ends where the next one (in the order nodes were prepared) starts.
#[derive(Clone, Copy)]
struct Node {
    kind: Kind,
    text: usize,
    text_end: usize,
    parts: usize,
    parts_end: usize,
    /// Where its members' sorted indices start in `sorted` (an object's;
    /// as many as it has members).
    sorted: usize,
}

/// A child, as its parent's reply gives it.
enum Child {
    /// Small: its JSON.
    Small(String),
    /// Numbered: its number, and whether it is an object that reads as
    /// itself (no `$ref` member).
    Numbered(u32, bool),
}

impl Document {
    /// A document holding `root`. This walks all of it once, preparing
    /// every reply (see the module documentation): for GitHub's
    /// description, a fraction of the time `serde_json` takes to parse it.
    pub fn new(root: Value) -> Self {
        let mut preparing = Preparing {
            document: Self {
                text: String::new(),
                parts: Vec::new(),
                sorted: Vec::new(),
                nodes: Vec::new(),
                unreadable: Vec::new(),
            },
            pointer: String::new(),
        };
        // Slot 0 is kept for the root.
        preparing.number(Kind::Value, "", Vec::new());
        match preparing.child(root) {
            Child::Numbered(..) => {
                // Numbered after all its parts, the root is the last node.
                let nodes = &mut preparing.document.nodes;
                if let Some(root) = nodes.pop() {
                    nodes[0] = root;
                }
                let last = u32::try_from(nodes.len()).unwrap_or(u32::MAX);
                for (number, _) in &mut preparing.document.unreadable {
                    if *number == last {
                        *number = 0;
                    }
                }
            }
            Child::Small(json) => {
                preparing.document.nodes.clear();
                preparing.number(Kind::Value, &json, Vec::new());
            }
        }
        let mut document = preparing.document;
        document
            .unreadable
            .sort_unstable_by_key(|(number, _)| *number);
        document.text.shrink_to_fit();
        document.parts.shrink_to_fit();
        document.sorted.shrink_to_fit();
        document.nodes.shrink_to_fit();
        document
    }

    /// Node `node`, one level deep.
    ///
    /// # Errors
    ///
    /// A message for the guest when there is no such node, or when the node
    /// is too large for one reply.
    pub(crate) fn read(&self, node: u32) -> Result<Reply, String> {
        let at = self.node(node)?;
        self.readable(node)?;
        Ok(Reply {
            kind: at.kind,
            parts: self.parts[at.parts..at.parts_end].to_vec(),
            text: self.text[at.text..at.text_end].to_owned(),
        })
    }

    /// What `pointer` names: a node to read, or a small value's JSON.
    ///
    /// # Errors
    ///
    /// A message for the guest when `pointer` is not a JSON Pointer or
    /// names nothing.
    pub(crate) fn find(&self, pointer: &str) -> Result<Found, String> {
        if pointer.is_empty() {
            return Ok(Found::Node(0));
        }
        let Some(tokens) = pointer.strip_prefix('/') else {
            return Err(format!(
                "`{pointer}` is not a JSON Pointer: it must be empty or start with `/`"
            ));
        };
        let mut found = Walk::Node(0);
        // The length of the pointer to `found`.
        let mut walked = 0;
        for escaped in tokens.split('/') {
            let step = Step {
                pointer,
                parent: &pointer[..walked],
                token: &unescape(escaped),
            };
            found = match found {
                Walk::Node(number) => self.step(number, &step)?,
                Walk::Inside(value) => Walk::Inside(step.inside(value)?),
            };
            walked += 1 + escaped.len();
        }
        Ok(match found {
            Walk::Node(number) => Found::Node(number),
            Walk::Inside(value) => Found::Value(value.to_string()),
        })
    }

    /// The value `pointer` (a JSON Pointer) names, rebuilt from the prepared
    /// replies, however large; `None` when it names nothing.
    pub fn get(&self, pointer: &str) -> Option<Value> {
        match self.find(pointer).ok()? {
            Found::Node(number) => self.value(number),
            Found::Value(json) => serde_json::from_str(&json).ok(),
        }
    }

    /// Node `number`'s place in the tables.
    fn node(&self, number: u32) -> Result<Node, String> {
        usize::try_from(number)
            .ok()
            .and_then(|index| self.nodes.get(index))
            .copied()
            .ok_or_else(|| {
                format!(
                    "there is no node {number}: the document has {}",
                    self.nodes.len()
                )
            })
    }

    /// Why node `number` cannot be read, if it cannot.
    fn readable(&self, number: u32) -> Result<(), String> {
        match self
            .unreadable
            .binary_search_by_key(&number, |(number, _)| *number)
        {
            Ok(at) => Err(self.unreadable[at].1.clone()),
            Err(_) => Ok(()),
        }
    }

    /// Node `number`, whole.
    fn value(&self, number: u32) -> Option<Value> {
        let node = self.node(number).ok()?;
        let text = &self.text[node.text..node.text_end];
        if node.kind == Kind::Value {
            return serde_json::from_str(text).ok();
        }
        let mut members = serde_json::Map::new();
        let mut items = Vec::new();
        let mut start = 0;
        for part in self.parts[node.parts..node.parts_end].chunks_exact(3) {
            let [key_end, value_end, child] = [part[0], part[1], part[2]];
            let (key_end, value_end) = (key_end as usize, value_end as usize);
            let value = match child {
                0 => serde_json::from_str(text.get(key_end..value_end)?).ok()?,
                child => self.value(child >> 1)?,
            };
            match node.kind {
                Kind::Object => {
                    members.insert(text.get(start..key_end)?.to_owned(), value);
                }
                _ => items.push(value),
            }
            start = value_end;
        }
        Some(match node.kind {
            Kind::Object => Value::Object(members),
            _ => Value::Array(items),
        })
    }

    /// Where `step` leads from node `number`.
    fn step(&self, number: u32, step: &Step<'_>) -> Result<Walk, String> {
        let node = self.node(number)?;
        self.readable(number)?;
        let text = &self.text[node.text..node.text_end];
        let parts = &self.parts[node.parts..node.parts_end];
        let part = match node.kind {
            Kind::Object => {
                let key = |member: usize| {
                    let start = match member {
                        0 => 0,
                        _ => parts[3 * member - 2] as usize,
                    };
                    &text[start..parts[3 * member] as usize]
                };
                let sorted = &self.sorted[node.sorted..node.sorted + parts.len() / 3];
                let at = sorted
                    .binary_search_by(|&member| key(member as usize).cmp(step.token))
                    .map_err(|_| step.no_key())?;
                sorted[at] as usize
            }
            Kind::Array => step.item(parts.len() / 3)?,
            Kind::Value if text.starts_with(['{', '[']) => {
                // A small node numbered for want of room: walked into
                // seldom, only by a `$ref`.
                let value = serde_json::from_str(text).map_err(|e| e.to_string())?;
                return Ok(Walk::Inside(step.inside(value)?));
            }
            Kind::Value => return Err(step.not_a_container()),
        };
        let [key_end, value_end, child] = [0, 1, 2].map(|at| parts[3 * part + at]);
        if child != 0 {
            return Ok(Walk::Node(child >> 1));
        }
        let json = &text[key_end as usize..value_end as usize];
        serde_json::from_str(json)
            .map(Walk::Inside)
            .map_err(|e| e.to_string())
    }
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("nodes", &self.nodes.len())
            .finish_non_exhaustive()
    }
}

/// Where a pointer leads: a node, or a value inside a small one.
enum Walk {
    Node(u32),
    Inside(Value),
}

/// The state of [`Document::new`].
struct Preparing {
    /// The document so far: the nodes numbered yet.
    document: Document,
    /// The pointer to the node being prepared, for messages.
    pointer: String,
}

impl Preparing {
    /// `value` as its parent's reply gives it, numbering it (and preparing
    /// its reply) when it is large.
    fn child(&mut self, value: Value) -> Child {
        match value {
            Value::Array(items) => {
                let children: Vec<(Option<String>, Child)> = items
                    .into_iter()
                    .enumerate()
                    .map(|(index, item)| {
                        let mark = self.enter(&index.to_string());
                        let child = self.child(item);
                        self.pointer.truncate(mark);
                        (None, child)
                    })
                    .collect();
                self.container(Kind::Array, children, false)
            }
            Value::Object(members) => {
                let is_reference = members.contains_key("$ref");
                let children: Vec<(Option<String>, Child)> = members
                    .into_iter()
                    .map(|(key, member)| {
                        let mark = self.enter(&key);
                        let child = self.child(member);
                        self.pointer.truncate(mark);
                        (Some(key), child)
                    })
                    .collect();
                self.container(Kind::Object, children, !is_reference)
            }
            Value::String(text) => {
                // A long string is numbered, its JSON its reply.
                let json = serde_json::to_string(&text).unwrap_or_default();
                if json.len() <= INLINE_BYTES {
                    return Child::Small(json);
                }
                let number = self.number(Kind::Value, &json, Vec::new());
                if json.len() > MAX_REPLY_BYTES {
                    let why = format!(
                        "the value at `{}` is larger than a reply may be ({MAX_REPLY_BYTES} bytes)",
                        self.pointer
                    );
                    self.document.unreadable.push((number, why));
                }
                Child::Numbered(number, false)
            }
            primitive => Child::Small(primitive.to_string()),
        }
    }

    /// Extend the pointer by `key`, escaped; return where it ended.
    fn enter(&mut self, key: &str) -> usize {
        let mark = self.pointer.len();
        self.pointer.push('/');
        self.pointer.push_str(&pointer::escape(key));
        mark
    }

    /// A container of `children`: small when they all are and so is its
    /// JSON, else numbered with its reply.
    fn container(
        &mut self,
        kind: Kind,
        children: Vec<(Option<String>, Child)>,
        reads_as_itself: bool,
    ) -> Child {
        if let Some(json) = small_container(&kind, &children) {
            return Child::Small(json);
        }
        let mut text = String::new();
        let mut parts = Vec::with_capacity(children.len() * 3);
        for (key, child) in children {
            let is_reference = key.as_deref() == Some("$ref");
            if let Some(key) = key {
                text.push_str(&key);
            }
            parts.push(offset(&text));
            let child = match child {
                Child::Small(json) if text.len() < INLINE_BUDGET || is_reference => {
                    text.push_str(&json);
                    0
                }
                Child::Numbered(number, _) if is_reference && self.is_string(number) => {
                    let node = self.document.nodes[number as usize];
                    text.push_str(&self.document.text[node.text..node.text_end]);
                    0
                }
                Child::Small(json) => {
                    // Out of room: numbered after all.
                    let reads_as_itself = json.starts_with('{') && !json.contains("\"$ref\"");
                    let number = self.number(Kind::Value, &json, Vec::new());
                    number << 1 | u32::from(reads_as_itself)
                }
                Child::Numbered(number, reads_as_itself) => {
                    number << 1 | u32::from(reads_as_itself)
                }
            };
            parts.push(offset(&text));
            parts.push(child);
        }
        let too_large = text.len() + 4 * parts.len() > MAX_REPLY_BYTES;
        let number = self.number(kind, &text, parts);
        if too_large {
            let why = format!(
                "the node at `{}` has too many members to list in a reply of at most \
                 {MAX_REPLY_BYTES} bytes",
                self.pointer
            );
            self.document.unreadable.push((number, why));
        }
        Child::Numbered(number, reads_as_itself)
    }

    /// True when node `number` is a long string (a `$ref` is always whole).
    fn is_string(&self, number: u32) -> bool {
        let node = self.document.nodes[number as usize];
        node.kind == Kind::Value && self.document.text[node.text..].starts_with('"')
    }

    /// Number a node of `kind` whose reply has `text` and `parts`.
    fn number(&mut self, kind: Kind, text: &str, parts: Vec<u32>) -> u32 {
        let document = &mut self.document;
        let node = Node {
            kind,
            text: document.text.len(),
            text_end: document.text.len() + text.len(),
            parts: document.parts.len(),
            parts_end: document.parts.len() + parts.len(),
            sorted: document.sorted.len(),
        };
        document.text.push_str(text);
        if kind == Kind::Object {
            let key = |member: usize| {
                let start = match member {
                    0 => 0,
                    _ => parts[3 * member - 2] as usize,
                };
                &text[start..parts[3 * member] as usize]
            };
            let mut sorted: Vec<u32> =
                (0..u32::try_from(parts.len() / 3).unwrap_or(u32::MAX)).collect();
            sorted.sort_unstable_by(|&a, &b| key(a as usize).cmp(key(b as usize)));
            document.sorted.extend(sorted);
        }
        document.parts.extend(parts);
        document.nodes.push(node);
        // A document of four billion nodes does not fit a JSON text anyone
        // parses first.
        u32::try_from(document.nodes.len() - 1).unwrap_or(u32::MAX)
    }
}

/// The length of `text` as a part's end.
fn offset(text: &str) -> u32 {
    u32::try_from(text.len()).unwrap_or(u32::MAX)
}

/// The JSON of a container of `children` when they are all small and so is
/// it.
fn small_container(kind: &Kind, children: &[(Option<String>, Child)]) -> Option<String> {
    let (open, close) = if *kind == Kind::Array {
        ('[', ']')
    } else {
        ('{', '}')
    };
    let mut json = String::from(open);
    for (index, (key, child)) in children.iter().enumerate() {
        let Child::Small(text) = child else {
            return None;
        };
        if index > 0 {
            json.push(',');
        }
        if let Some(key) = key {
            json.push_str(&serde_json::to_string(key).unwrap_or_default());
            json.push(':');
        }
        json.push_str(text);
        if json.len() >= INLINE_BYTES {
            return None;
        }
    }
    json.push(close);
    Some(json)
}

/// One step of a pointer: its token, and where it is looked up.
struct Step<'a> {
    pointer: &'a str,
    /// The pointer to the node the token is looked up in.
    parent: &'a str,
    token: &'a str,
}

impl Step<'_> {
    /// The index the token names in an array of `length` items.
    fn item(&self, length: usize) -> Result<usize, String> {
        array_index(self.token)
            .filter(|index| *index < length)
            .ok_or_else(|| {
                format!(
                    "`{}` names nothing: {} is an array of {length} items, and `{}` is not one of \
                     its indices",
                    self.pointer,
                    self.place(),
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
            Value::Array(mut items) => {
                let index = self.item(items.len())?;
                Ok(items.swap_remove(index))
            }
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
    use serde_json::{Map, Value, json};

    use super::*;

    /// What `pointer` names, read, as JSON one level deep: `[node, lazy]`,
    /// each lazy child written `{}` (an object that reads as itself) or
    /// `null`, and `lazy` their keys or indices.
    fn view(document: &Document, pointer: &str) -> Result<Value, String> {
        let number = match document.find(pointer)? {
            Found::Node(number) => number,
            Found::Value(json) => {
                let value: Value = serde_json::from_str(&json).expect("the value is JSON");
                return Ok(json!([value, []]));
            }
        };
        let reply = document.read(number)?;
        let mut lazy = Vec::new();
        let mut members = Map::new();
        let mut items = Vec::new();
        let mut start = 0;
        for part in reply.parts.chunks(3) {
            let [key_end, value_end, child] = [part[0], part[1], part[2]].map(|n| n as usize);
            let key = &reply.text[start..key_end];
            start = value_end;
            let value = if child == 0 {
                serde_json::from_str(&reply.text[key_end..value_end])
                    .expect("a whole value is JSON")
            } else {
                assert_eq!(key_end, value_end, "a lazy child has no value");
                let read = document.read(u32::try_from(child >> 1).expect("a number"));
                assert!(read.is_ok() || child & 1 == 0, "{read:?}");
                if reply.kind == Kind::Object {
                    lazy.push(json!(key));
                } else {
                    lazy.push(json!(items.len()));
                }
                if child & 1 == 1 {
                    json!({})
                } else {
                    Value::Null
                }
            };
            match reply.kind {
                Kind::Object => {
                    members.insert(key.to_owned(), value);
                }
                _ => items.push(value),
            }
        }
        let node = match reply.kind {
            Kind::Object => Value::Object(members),
            Kind::Array => Value::Array(items),
            Kind::Value => serde_json::from_str(&reply.text).expect("a value is JSON"),
        };
        Ok(json!([node, lazy]))
    }

    fn read(document: &Document, pointer: &str) -> Value {
        view(document, pointer).expect("the pointer names a node")
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
        assert_eq!(read(&document, "/big/description"), json!([long, []]));
    }

    #[test]
    fn keys_come_as_they_are_and_values_as_json() {
        let long = "x".repeat(INLINE_BYTES);
        let document = Document::new(json!({ "a\"é/~": "v\"\n", "pad": long }));
        let reply = document.read(0).expect("readable");
        assert_eq!(reply.kind, Kind::Object);
        assert_eq!(&reply.text[..reply.parts[0] as usize], "a\"é/~");
        assert_eq!(
            &reply.text[reply.parts[0] as usize..reply.parts[1] as usize],
            r#""v\"\n""#
        );
        assert_eq!(reply.parts[2], 0);
        assert_eq!(read(&document, "/a\"é~1~0"), json!(["v\"\n", []]));
    }

    #[test]
    fn small_nodes_are_found_as_their_json_and_can_be_walked_into() {
        let values = [
            json!(null),
            json!([]),
            json!({}),
            json!([1, 2.5, -3, true, "a\"b\u{1}", { "é": ["ü"] }]),
        ];
        for value in values {
            let document =
                Document::new(json!({ "small": value, "pad": "p".repeat(INLINE_BYTES) }));
            assert!(
                matches!(document.find("/small"), Ok(Found::Value(json)) if *json == *value.to_string())
            );
        }
        let document =
            Document::new(json!({ "a": { "b": [{ "c": "d" }] }, "pad": "p".repeat(INLINE_BYTES) }));
        assert_eq!(read(&document, "/a/b/0/c"), json!(["d", []]));
        assert_eq!(
            view(&document, "/a/b/1"),
            Err("`/a/b/1` names nothing: the node at `/a/b` is an array of 1 items, and `1` is not \
                 one of its indices"
                .to_owned())
        );
        assert_eq!(
            view(&document, "/a/b/0/c/d"),
            Err("`/a/b/0/c/d` names nothing: the node at `/a/b/0/c` is neither an object nor an array".to_owned())
        );
        // A small document is one value, whole.
        let document = Document::new(json!({ "a": [1] }));
        let reply = document.read(0).expect("readable");
        assert_eq!(
            (reply.kind, reply.text.as_str()),
            (Kind::Value, r#"{"a":[1]}"#)
        );
        assert_eq!(read(&document, "/a/0"), json!([1, []]));
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
        let members: Map<String, Value> = (0..INLINE_BUDGET / 16)
            .map(|n| (format!("k{n}"), json!("0123456789abcdef")))
            .collect();
        let document = Document::new(Value::Object(members));
        let reply = document.read(0).expect("readable");
        assert!(reply.text.len() < 2 * INLINE_BUDGET, "{}", reply.text.len());
        let [node, lazy] = serde_json::from_value::<[Value; 2]>(read(&document, "")).expect("two");
        let lazy = lazy.as_array().expect("a list");
        assert!(!lazy.is_empty());
        for key in lazy {
            let key = key.as_str().expect("a key");
            assert_eq!(node[key], Value::Null);
            assert_eq!(
                read(&document, &format!("/{key}")),
                json!(["0123456789abcdef", []])
            );
        }
        // Small objects left out for the budget are plain objects, and say so.
        let members: Map<String, Value> = (0..INLINE_BUDGET / 16)
            .map(|n| (format!("k{n}"), json!({ "v": "0123456789" })))
            .collect();
        let document = Document::new(Value::Object(members));
        let [node, lazy] = serde_json::from_value::<[Value; 2]>(read(&document, "")).expect("two");
        let lazy = lazy.as_array().expect("a list");
        assert!(!lazy.is_empty());
        for key in lazy {
            let key = key.as_str().expect("a key");
            assert_eq!(node[key], json!({}));
            assert_eq!(
                read(&document, &format!("/{key}/v")),
                json!(["0123456789", []])
            );
        }
    }

    #[test]
    fn a_pointer_that_names_nothing_is_an_error_saying_where() {
        let document = Document::new(
            json!({ "a": { "b": [10, 20], "pad": "p".repeat(INLINE_BYTES) }, "s": "text" }),
        );
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
            assert_eq!(
                view(&document, pointer),
                Err(message.to_owned()),
                "{pointer}"
            );
        }
        assert_eq!(read(&document, "/a/b/1"), json!([20, []]));
        assert_eq!(
            document.read(99).err(),
            Some(format!(
                "there is no node 99: the document has {}",
                document.nodes.len()
            ))
        );
    }

    #[test]
    fn the_host_gets_back_any_value_whole() {
        let long = "x".repeat(INLINE_BYTES);
        let wide: Map<String, Value> = (0..INLINE_BUDGET / 16)
            .map(|n| (format!("k{n}"), json!({ "v": "0123456789" })))
            .collect();
        let many: Map<String, Value> = (0..MAX_REPLY_BYTES / 8)
            .map(|n| (format!("m{n}"), json!(n)))
            .collect();
        let original = json!({
            "paths": { "/repos/{owner}": { "get": { "summary": long, "tags": ["a"], "n": [1, 2.5, null, true] } } },
            "a~b": { "$ref": format!("#/{long}"), "description": long },
            "wide": wide,
            "many": many,
            "huge": "h".repeat(MAX_REPLY_BYTES),
            "items": [long, { "deep": [[long]] }, 3],
            "small": { "s": 1 },
        });
        let document = Document::new(original.clone());
        assert_eq!(document.get(""), Some(original.clone()));
        for (pointer, expected) in [
            (
                "/paths/~1repos~1{owner}/get",
                &original["paths"]["/repos/{owner}"]["get"],
            ),
            (
                "/paths/~1repos~1{owner}/get/n",
                &original["paths"]["/repos/{owner}"]["get"]["n"],
            ),
            ("/a~0b", &original["a~b"]),
            ("/wide", &original["wide"]),
            ("/wide/k7/v", &original["wide"]["k7"]["v"]),
            ("/many", &original["many"]),
            ("/huge", &original["huge"]),
            ("/items/1/deep/0/0", &original["items"][1]["deep"][0][0]),
            ("/small/s", &original["small"]["s"]),
        ] {
            assert_eq!(document.get(pointer).as_ref(), Some(expected), "{pointer}");
        }
        // What the guest may not read, the host still gets.
        assert!(view(&document, "/many").is_err());
        assert!(view(&document, "/huge").is_err());
        for pointer in ["/nothing", "/items/3", "/small/s/t", "wide"] {
            assert_eq!(document.get(pointer), None, "{pointer}");
        }
        // A small document is one value.
        assert_eq!(Document::new(json!([1])).get("/0"), Some(json!(1)));
    }

    #[test]
    fn no_reply_passes_the_cap() {
        let huge = "x".repeat(MAX_REPLY_BYTES);
        let document = Document::new(json!({ "huge": huge }));
        assert_eq!(read(&document, ""), json!([{ "huge": null }, ["huge"]]));
        assert_eq!(
            view(&document, "/huge"),
            Err(format!(
                "the value at `/huge` is larger than a reply may be ({MAX_REPLY_BYTES} bytes)"
            ))
        );
    }
}
