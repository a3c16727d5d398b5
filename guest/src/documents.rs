//! Documents: the host's read-only JSON documents as frozen JavaScript data,
//! built node by node as the script touches them.
//!
//! The host holds each document with its large nodes numbered, and
//! `documents.read` gives a node one level deep: its small children whole,
//! and for each large one the number of the node to read, and whether it is
//! an object that reads as itself (no `$ref`). The reply says where each key
//! and value ends in its text, so nothing of it is parsed to find them. This
//! module turns an object node into an object node of [`objects`]: a frozen
//! exotic object that keeps its members as slices of the reply and builds
//! each the first time the script looks at it. An array node becomes a
//! frozen array whose primitive items are values and whose other items are
//! enumerable getters. A child that came whole keeps its JSON text until it
//! is built; a lazy child is read from the host then, except a lazy object
//! that reads as itself, which becomes an object node at once and is read
//! when the script first looks inside it. So the script sees plain frozen
//! data (`Object.keys`, `for...in`, `in`, spread, `JSON.stringify` and the
//! array methods work as on parsed JSON), and no more of it is built, or
//! read, than it touches.
//!
//! This is native, because it is the inner loop of a scan over a large
//! document, and every step of it is chosen for that loop: a reply is not
//! parsed (a child that came whole is parsed, one level deep, when it is
//! built); an object's members are looked up by name in it, not defined;
//! and an array's getter is a bare object of a callable class,
//! [`GETTER_CLASS`], whose opaque number indexes [`SLOTS`], where what it
//! builds from and then what it built are kept. (A closure, or a QuickJS
//! function with data, costs several allocations and two properties more
//! per getter.)
//!
//! # References
//! A local Reference Object (`{ "$ref": "#/components/schemas/user" }`, its
//! fragment a percent-encoded JSON Pointer into the same document, which
//! `documents.find` walks) reads as the node it points to, with the
//! reference's other members laid over the target's (an outer reference's
//! over an inner one's). Each node knows the `$ref`s resolved on the way to
//! it from the document's root; meeting one of them again gives
//! `{ $ref, $circular: true }` instead, so that walking a recursive schema
//! ends. A `$ref` that points at nothing gives `{ $ref, $missing: true }`.
//! Any other `$ref` stays as written.

// Getters and object nodes are QuickJS classes defined through its C API,
// which rquickjs does not wrap: this module and `objects` hold the guest's
// unsafe code, each block with the SAFETY argument for it.
#![allow(unsafe_code)]

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::fmt;
use std::ops::Range;
use std::ptr::NonNull;
use std::rc::Rc;

use javy::quickjs::{Array, Ctx, Error, Exception, Object, Result, Value, qjs};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::bindings::codemode::sandbox::documents::{self, Found, Kind};

mod objects;

thread_local! {
    /// The class of getters, registered by [`init`].
    static GETTER_CLASS: Cell<qjs::JSClassID> = const { Cell::new(0) };
    /// Each getter's child, by the getter's number: what to build it from,
    /// then what was built. A run's instance is dropped after it, and this
    /// list with it (so the values in it are never freed).
    static SLOTS: RefCell<Vec<Slot>> = const { RefCell::new(Vec::new()) };
    /// The atom `length`, taken by [`init`].
    static LENGTH: Cell<qjs::JSAtom> = const { Cell::new(0) };
}

/// Register the classes of getters and object nodes; called once at
/// initialization.
pub(crate) fn init(ctx: &Ctx<'_>) -> Result<()> {
    let definition = qjs::JSClassDef {
        class_name: c"DocumentGetter".as_ptr(),
        finalizer: None,
        gc_mark: None,
        call: Some(call_getter),
        exotic: std::ptr::null_mut(),
    };
    let prototype: Object = ctx
        .globals()
        .get::<_, Object>("Function")?
        .get("prototype")?;
    let class = register_class(ctx, &definition, &prototype)?;
    GETTER_CLASS.with(|c| c.set(class));
    // SAFETY: the context is live; `length` names a predefined atom, which
    // lives as long as the runtime.
    let length = unsafe { qjs::JS_NewAtom(ctx.as_raw().as_ptr(), c"length".as_ptr()) };
    if length == qjs::JS_ATOM_NULL {
        return Err(Error::Exception);
    }
    LENGTH.with(|l| l.set(length));
    objects::init(ctx)
}

/// Register a class of `definition` whose objects have `prototype`.
fn register_class(
    ctx: &Ctx<'_>,
    definition: &qjs::JSClassDef,
    prototype: &Object<'_>,
) -> Result<qjs::JSClassID> {
    let context = ctx.as_raw().as_ptr();
    // SAFETY: the context is live and locked by the caller; QuickJS copies
    // the class definition (keeping its `exotic` pointer, which must be
    // static), and `JS_SetClassProto` takes the reference it is given.
    unsafe {
        let runtime = qjs::JS_GetRuntime(context);
        let mut class = 0;
        qjs::JS_NewClassID(runtime, &mut class);
        if qjs::JS_NewClass(runtime, class, definition) < 0 {
            return Err(Error::Exception);
        }
        let prototype = qjs::JS_DupValue(context, prototype.as_raw());
        qjs::JS_SetClassProto(context, class, prototype);
        Ok(class)
    }
}

/// The getter of document `document`'s root, for the global that holds it.
pub(crate) fn root_getter<'js>(ctx: &Ctx<'js>, document: u32) -> Result<Value<'js>> {
    let pending = Pending::Read {
        document,
        node: 0,
        resolving: None,
    };
    let getter = new_getter(ctx, pending)?;
    // SAFETY: `getter` is a new value of this context, and ours.
    Ok(unsafe { Value::from_raw(ctx.clone(), getter) })
}

/// The `$ref`s being resolved on the way to a node, innermost first.
type Resolving = Option<Rc<Link>>;

struct Link {
    reference: String,
    outer: Resolving,
}

/// True when `reference` is among those `resolving` lists.
fn is_resolving(resolving: &Resolving, reference: &str) -> bool {
    let mut link = resolving.as_deref();
    while let Some(current) = link {
        if current.reference == reference {
            return true;
        }
        link = current.outer.as_deref();
    }
    false
}

/// A getter's child.
enum Slot {
    /// Not built yet.
    Pending(Pending),
    /// Being built (a getter cannot be reached while its child is built).
    Building,
    /// Built: the value, owned by this slot.
    Built(qjs::JSValue),
}

/// What a getter builds its child from.
enum Pending {
    /// A child the host left out, to be read as node `node`.
    Read {
        document: u32,
        node: u32,
        resolving: Resolving,
    },
    /// A child that came whole: a slice of its parent's text.
    Whole {
        document: u32,
        text: Rc<String>,
        range: Range<usize>,
        resolving: Resolving,
    },
}

impl Pending {
    /// The child, built.
    fn build<'js>(&self, ctx: &Ctx<'js>) -> Result<Value<'js>> {
        let builder = Builder { ctx: ctx.clone() };
        match self {
            Pending::Read {
                document,
                node,
                resolving,
            } => {
                let reply = read(ctx, *document, *node)?;
                let place = Place {
                    document: *document,
                    text: &reply.text,
                };
                builder.present(place, reply.node(ctx)?, resolving)
            }
            Pending::Whole {
                document,
                text,
                range,
                resolving,
            } => {
                let json = text.get(range.clone()).unwrap_or_default();
                let place = Place {
                    document: *document,
                    text,
                };
                builder.present(place, whole(ctx, json)?, resolving)
            }
        }
    }
}

/// A reply of the host: a node one level deep, its text shared by what is
/// built from it.
struct Reply {
    kind: Kind,
    parts: Vec<u32>,
    text: Rc<String>,
}

impl Reply {
    /// The node, its keys and values slices of the text.
    fn node<'a>(&'a self, ctx: &Ctx<'_>) -> Result<Node<'a>> {
        let parts = match self.kind {
            Kind::Value => return whole(ctx, &self.text),
            Kind::Object | Kind::Array => self.parts.chunks_exact(3),
        };
        let mut start = 0;
        let mut found = Vec::with_capacity(parts.len());
        for part in parts {
            let (key_end, value_end) = (part[0] as usize, part[1] as usize);
            let (Some(name), Some(json)) = (
                self.text.get(start..key_end),
                self.text.get(key_end..value_end),
            ) else {
                return Err(internal(
                    ctx,
                    format_args!("a document's reply has a part out of place"),
                ));
            };
            start = value_end;
            let lazy = (part[2] != 0).then_some(Lazy {
                node: part[2] >> 1,
                reads_as_itself: part[2] & 1 == 1,
            });
            found.push(Part {
                name: Cow::Borrowed(name),
                json,
                lazy,
            });
        }
        Ok(match self.kind {
            Kind::Object => Node::Object(found),
            _ => Node::Array(found),
        })
    }
}

/// Node `node` of document `document`, read from the host.
fn read(ctx: &Ctx<'_>, document: u32, node: u32) -> Result<Reply> {
    documents::read(document, node)
        .map(|reply| Reply {
            kind: reply.kind,
            parts: reply.parts,
            text: Rc::new(reply.text),
        })
        .map_err(|message| {
            internal(
                ctx,
                format_args!("the sandbox could not read a document: {message}"),
            )
        })
}

/// A new getter for `pending`, owned.
fn new_getter(ctx: &Ctx<'_>, pending: Pending) -> Result<qjs::JSValue> {
    let index = SLOTS.with(|slots| {
        let mut slots = slots.borrow_mut();
        slots.push(Slot::Pending(pending));
        slots.len() - 1
    });
    numbered_object(ctx, GETTER_CLASS.with(Cell::get), index)
}

/// A new object of `class` (owned) that carries `index`: into the list of
/// getters' slots or of object nodes, by class.
fn numbered_object(ctx: &Ctx<'_>, class: qjs::JSClassID, index: usize) -> Result<qjs::JSValue> {
    let context = ctx.as_raw().as_ptr();
    // SAFETY: the context is live; the class is registered; the opaque
    // pointer only carries the index (plus one, never null), and is never
    // dereferenced.
    unsafe {
        let object = qjs::JS_NewObjectClass(context, class);
        if qjs::JS_IsException(object) {
            return Err(Error::Exception);
        }
        qjs::JS_SetOpaque(
            object,
            std::ptr::without_provenance_mut::<c_void>(index + 1),
        );
        Ok(object)
    }
}

/// The index `object` carries, if it is an object of `class`.
///
/// # Safety
/// `object` must be a value of the live context.
unsafe fn index_of(object: qjs::JSValue, class: qjs::JSClassID) -> Option<usize> {
    // SAFETY: per the caller; a value of another class has no opaque.
    let number = unsafe { qjs::JS_GetOpaque(object, class) }.addr();
    number.checked_sub(1)
}

/// A getter's call: its child, built on the first.
unsafe extern "C" fn call_getter(
    ctx: *mut qjs::JSContext,
    getter: qjs::JSValue,
    _this: qjs::JSValue,
    _argc: c_int,
    _argv: *mut qjs::JSValue,
    _flags: c_int,
) -> qjs::JSValue {
    // SAFETY: QuickJS calls this with its live, locked context and one of
    // the class's objects, whose opaque number `new_getter` set.
    unsafe {
        let Some(raw) = NonNull::new(ctx) else {
            return qjs::JS_EXCEPTION;
        };
        let ctx = Ctx::from_raw(raw);
        let Some(index) = index_of(getter, GETTER_CLASS.with(Cell::get)) else {
            return throw(
                &ctx,
                internal(&ctx, format_args!("a document getter has no slot")),
            );
        };
        let taken = SLOTS.with(|slots| {
            let mut slots = slots.borrow_mut();
            match slots.get_mut(index) {
                Some(Slot::Built(value)) => Err(qjs::JS_DupValue(raw.as_ptr(), *value)),
                Some(slot) => Ok(std::mem::replace(slot, Slot::Building)),
                None => Ok(Slot::Building),
            }
        });
        let pending = match taken {
            Err(built) => return built,
            Ok(Slot::Pending(pending)) => pending,
            Ok(_) => {
                let error = internal(
                    &ctx,
                    format_args!("a document getter was called while it built"),
                );
                return throw(&ctx, error);
            }
        };
        let built = pending.build(&ctx);
        SLOTS.with(|slots| {
            if let Some(slot) = slots.borrow_mut().get_mut(index) {
                *slot = match &built {
                    Ok(value) => Slot::Built(qjs::JS_DupValue(raw.as_ptr(), value.as_raw())),
                    Err(_) => Slot::Pending(pending),
                };
            }
        });
        match built {
            Ok(value) => qjs::JS_DupValue(raw.as_ptr(), value.as_raw()),
            Err(error) => throw(&ctx, error),
        }
    }
}

/// `error` as the pending exception.
fn throw(ctx: &Ctx<'_>, error: Error) -> qjs::JSValue {
    if !error.is_exception() {
        let _ = Exception::throw_internal(ctx, &error.to_string());
    }
    qjs::JS_EXCEPTION
}

/// An error of the sandbox's own machinery, as an exception.
fn internal(ctx: &Ctx<'_>, message: fmt::Arguments<'_>) -> Error {
    Exception::throw_internal(ctx, &message.to_string())
}

/// A node that came whole (all of it small), parsed one level deep.
fn whole<'a>(ctx: &Ctx<'_>, json: &'a str) -> Result<Node<'a>> {
    if !json.starts_with(['{', '[']) {
        return Ok(Node::Primitive(json));
    }
    serde_json::from_str(json)
        .map_err(|error| internal(ctx, format_args!("a document's node is not JSON: {error}")))
}

/// A node one level deep: its members' and items' values are slices of
/// the text, parsed only when they are built.
enum Node<'a> {
    Object(Vec<Part<'a>>),
    Array(Vec<Part<'a>>),
    /// A primitive, with its JSON.
    Primitive(&'a str),
}

/// A member or item of a node: its key (empty for an item), and its JSON,
/// or the node to read for it.
struct Part<'a> {
    name: Cow<'a, str>,
    json: &'a str,
    lazy: Option<Lazy>,
}

/// A child the host left out: the node to read for it.
#[derive(Clone, Copy)]
struct Lazy {
    node: u32,
    /// True for an object with no `$ref` member.
    reads_as_itself: bool,
}

/// A container parsed from its JSON: the parser reaches only `visit_map`
/// and `visit_seq` ([`whole`] sends primitives around it).
impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct NodeVisitor;
        impl<'de> Visitor<'de> for NodeVisitor {
            type Value = Node<'de>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an object or an array")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(Name(name)) = map.next_key()? {
                    let json: &RawValue = map.next_value()?;
                    members.push(Part {
                        name,
                        json: json.get(),
                        lazy: None,
                    });
                }
                Ok(Node::Object(members))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                while let Some(json) = seq.next_element::<&RawValue>()? {
                    items.push(Part {
                        name: Cow::Borrowed(""),
                        json: json.get(),
                        lazy: None,
                    });
                }
                Ok(Node::Array(items))
            }
        }
        deserializer.deserialize_any(NodeVisitor)
    }
}

/// An object's key, borrowed from the JSON unless it has escapes.
struct Name<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, name: &'de str) -> std::result::Result<Self::Value, E> {
                Ok(Name(Cow::Borrowed(name)))
            }
            fn visit_str<E>(self, name: &str) -> std::result::Result<Self::Value, E> {
                Ok(Name(Cow::Owned(name.to_owned())))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// Where a node sits: its document, and the text it was parsed from.
#[derive(Clone, Copy)]
struct Place<'a> {
    document: u32,
    text: &'a Rc<String>,
}

/// The members of an object being built, and what they are read with.
struct Source<'a> {
    place: Place<'a>,
    members: &'a [Part<'a>],
    resolving: Resolving,
}

impl<'a> Source<'a> {
    /// A copy, to extend a chain of references with.
    fn copy(&self) -> Self {
        Source {
            resolving: self.resolving.clone(),
            ..*self
        }
    }

    /// Its members in order, as from `sources[from]`.
    fn members(&self, from: usize) -> impl Iterator<Item = Member<'a>> + use<'a> {
        self.members.iter().map(move |part| Member { part, from })
    }

    /// Its `$ref` if it is a local Reference Object.
    fn local_reference(&self) -> Option<String> {
        let part = self.members.iter().find(|part| part.name == "$ref")?;
        if !part.json.starts_with("\"#") {
            return None;
        }
        serde_json::from_str(part.json).ok()
    }
}

/// One property of an object being built, and the source it comes from.
struct Member<'a> {
    part: &'a Part<'a>,
    from: usize,
}

/// Builds nodes.
struct Builder<'js> {
    ctx: Ctx<'js>,
}

impl<'js> Builder<'js> {
    /// What the script sees for `node`, the JSON at `place`.
    fn present(
        &self,
        place: Place<'_>,
        node: Node<'_>,
        resolving: &Resolving,
    ) -> Result<Value<'js>> {
        match node {
            Node::Object(members) => {
                let source = Source {
                    place,
                    members: &members,
                    resolving: resolving.clone(),
                };
                match source.local_reference() {
                    Some(reference) => self.dereference(&reference, vec![source]),
                    None => self.object(std::slice::from_ref(&source), source.members(0)),
                }
            }
            Node::Array(items) => self.array(place, &items, resolving),
            Node::Primitive(json) => self.primitive(json),
        }
    }

    /// What a chain of references reads as: `references[0]` is the
    /// outermost, and `reference` is the `$ref` of the last.
    fn dereference(&self, reference: &str, references: Vec<Source<'_>>) -> Result<Value<'js>> {
        let innermost = &references[references.len() - 1];
        let (document, resolving) = (innermost.place.document, innermost.resolving.clone());
        let found = if is_resolving(&resolving, reference) {
            Err("$circular")
        } else {
            target_pointer(reference)
                .and_then(|pointer| documents::find(document, &pointer).ok())
                .ok_or("$missing")
        };
        let reply = match found {
            Ok(Found::Node(node)) => read(&self.ctx, document, node)?,
            Ok(Found::Value(json)) => Reply {
                kind: Kind::Value,
                parts: Vec::new(),
                text: Rc::new(json),
            },
            Err(flag) => {
                // `{ $ref, [flag]: true }`, its members all primitives.
                let reference = serde_json::to_string(reference).map_err(|error| {
                    internal(
                        &self.ctx,
                        format_args!("a `$ref` cannot be written: {error}"),
                    )
                })?;
                let members = [
                    Part {
                        name: Cow::Borrowed("$ref"),
                        json: &reference,
                        lazy: None,
                    },
                    Part {
                        name: Cow::Borrowed(flag),
                        json: "true",
                        lazy: None,
                    },
                ];
                let no_text = Rc::new(String::new());
                let marker = Source {
                    place: Place {
                        document,
                        text: &no_text,
                    },
                    members: &members,
                    resolving,
                };
                return self.overlaid(marker, &references);
            }
        };
        let node = reply.node(&self.ctx)?;
        let place = Place {
            document,
            text: &reply.text,
        };
        let resolving = Some(Rc::new(Link {
            reference: reference.to_owned(),
            outer: resolving,
        }));
        let Node::Object(members) = node else {
            // Only an object takes the references' other members.
            return self.present(place, node, &resolving);
        };
        let target = Source {
            place,
            members: &members,
            resolving,
        };
        match target.local_reference() {
            Some(further) => {
                let mut chain: Vec<Source<'_>> = references.iter().map(Source::copy).collect();
                chain.push(target);
                self.dereference(&further, chain)
            }
            None => self.overlaid(target, &references),
        }
    }

    /// `target`'s members with each reference's (but `$ref`) laid over them
    /// in turn, from the innermost reference (the last) to the outermost.
    fn overlaid(&self, target: Source<'_>, references: &[Source<'_>]) -> Result<Value<'js>> {
        let mut sources = vec![target];
        sources.extend(references.iter().map(Source::copy));
        let mut merged: Vec<Member<'_>> = sources[0].members(0).collect();
        for from in (1..sources.len()).rev() {
            for member in sources[from].members(from) {
                if member.part.name == "$ref" {
                    continue;
                }
                match merged.iter_mut().find(|m| m.part.name == member.part.name) {
                    Some(existing) => *existing = member,
                    None => merged.push(member),
                }
            }
        }
        self.object(&sources, merged.into_iter())
    }

    /// An object of `members`, each read with the source it comes from
    /// when the script first looks at it.
    fn object<'a>(
        &self,
        sources: &[Source<'a>],
        members: impl Iterator<Item = Member<'a>>,
    ) -> Result<Value<'js>> {
        objects::new(&self.ctx, sources, members)
    }

    fn array(
        &self,
        place: Place<'_>,
        items: &[Part<'_>],
        resolving: &Resolving,
    ) -> Result<Value<'js>> {
        let array = Array::new(self.ctx.clone())?.into_value();
        for (index, item) in (0u32..).zip(items) {
            let child = match self.child(place, item.json, item.lazy, resolving)? {
                Child::Value(value) => Property::Value(value),
                Child::Pending(pending) => {
                    let getter = new_getter(&self.ctx, pending)?;
                    // SAFETY: `getter` is a new value of this context, and ours.
                    Property::Getter(unsafe { Value::from_raw(self.ctx.clone(), getter) })
                }
            };
            self.define(&array, index, child)?;
        }
        // Its items are read-only and not configurable already; freezing it
        // is left with refusing new items and making `length` read-only
        // (`Object.freeze` would define every item again).
        let context = self.ctx.as_raw().as_ptr();
        // SAFETY: the context is live, `array` is one of its values, and
        // `length` is a predefined atom, never freed.
        let frozen = unsafe {
            qjs::JS_PreventExtensions(context, array.as_raw()) >= 0
                && qjs::JS_DefineProperty(
                    context,
                    array.as_raw(),
                    LENGTH.with(Cell::get),
                    qjs::JS_UNDEFINED,
                    qjs::JS_UNDEFINED,
                    qjs::JS_UNDEFINED,
                    qjs::JS_PROP_HAS_WRITABLE as c_int,
                ) >= 0
        };
        if !frozen {
            return Err(Error::Exception);
        }
        Ok(array)
    }

    /// Define item `index` of `array` as `child`: a value read-only, a
    /// getter with no setter; enumerable, and not configurable either way.
    fn define(&self, array: &Value<'js>, index: u32, child: Property<'js>) -> Result<()> {
        let context = self.ctx.as_raw().as_ptr();
        let flags = qjs::JS_PROP_ENUMERABLE as c_int;
        // SAFETY: the context is live, `array` is its, an index's atom needs
        // no freeing, and the define calls take the references they are given.
        let defined = unsafe {
            let atom = qjs::JS_NewAtomUInt32(context, index);
            if atom == qjs::JS_ATOM_NULL {
                return Err(Error::Exception);
            }
            match child {
                Property::Getter(getter) => qjs::JS_DefinePropertyGetSet(
                    context,
                    array.as_raw(),
                    atom,
                    qjs::JS_DupValue(context, getter.as_raw()),
                    qjs::JS_UNDEFINED,
                    flags,
                ),
                Property::Value(value) => {
                    let value = qjs::JS_DupValue(context, value.as_raw());
                    qjs::JS_DefinePropertyValue(context, array.as_raw(), atom, value, flags)
                }
            }
        };
        if defined < 0 {
            return Err(Error::Exception);
        }
        Ok(())
    }

    /// A child of a node at `place`: its JSON, or the node to read for it
    /// when it is `lazy`. It is a primitive's value, an object node not
    /// read yet, or else what to build it from.
    fn child(
        &self,
        place: Place<'_>,
        json: &str,
        lazy: Option<Lazy>,
        resolving: &Resolving,
    ) -> Result<Child<'js>> {
        let pending = if let Some(lazy) = lazy {
            if lazy.reads_as_itself {
                let unread = objects::Unread {
                    document: place.document,
                    node: lazy.node,
                    resolving: resolving.clone(),
                };
                return Ok(Child::Value(objects::new_unread(&self.ctx, unread)?));
            }
            Pending::Read {
                document: place.document,
                node: lazy.node,
                resolving: resolving.clone(),
            }
        } else if json.starts_with(['{', '[']) {
            // `json` is a slice of `place.text`.
            let start = json.as_ptr().addr() - place.text.as_ptr().addr();
            Pending::Whole {
                document: place.document,
                text: Rc::clone(place.text),
                range: start..start + json.len(),
                resolving: resolving.clone(),
            }
        } else {
            return Ok(Child::Value(self.primitive(json)?));
        };
        Ok(Child::Pending(pending))
    }

    /// A primitive's value, from its JSON: the common cases directly, the
    /// others (numbers, strings with escapes) through the JSON parser.
    fn primitive(&self, json: &str) -> Result<Value<'js>> {
        let ctx = self.ctx.clone();
        let plain_string = json
            .strip_prefix('"')
            .and_then(|json| json.strip_suffix('"'))
            .filter(|text| !text.contains('\\'));
        match (json, plain_string) {
            (_, Some(text)) => Ok(javy::quickjs::String::from_str(ctx, text)?.into_value()),
            ("null", _) => Ok(Value::new_null(ctx)),
            ("true", _) => Ok(Value::new_bool(ctx, true)),
            ("false", _) => Ok(Value::new_bool(ctx, false)),
            _ => crate::json::parse(&self.ctx, json)?
                .ok_or_else(|| internal(&self.ctx, format_args!("a document's value is not JSON"))),
        }
    }
}

/// A child: its value, or what to build it from.
enum Child<'js> {
    Value(Value<'js>),
    Pending(Pending),
}

/// A property to define: a getter, or a value.
enum Property<'js> {
    Getter(Value<'js>),
    Value(Value<'js>),
}

/// The JSON Pointer a local `$ref` names: its fragment, percent-decoded;
/// `None` when that is not UTF-8.
fn target_pointer(reference: &str) -> Option<String> {
    let fragment = reference.strip_prefix('#')?;
    percent_encoding::percent_decode_str(fragment)
        .decode_utf8()
        .ok()
        .map(Cow::into_owned)
}
