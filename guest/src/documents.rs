//! Documents: the host's read-only JSON documents as frozen JavaScript data,
//! built node by node as the script touches them.
//!
//! The host holds each document parsed, and `documents.read` gives the node
//! at a JSON Pointer one level deep, as `[node, lazy]`: the node with its
//! small children whole and its large ones written as `null`, and `lazy` the
//! keys (or indices) of those, in the node's order. This module turns a node
//! into a frozen object or array whose primitive children are read-only data
//! properties and whose other children are enumerable getters: a child that
//! came whole keeps its JSON text until first access, a lazy child is read
//! from the host then, and either is built then and kept. So the script sees
//! plain frozen data (`Object.keys`, `for...in`, `in`, spread,
//! `JSON.stringify` and the array methods work as on parsed JSON), and no
//! more of it is built than it touches.
//!
//! This is native, and its getters are bare QuickJS functions rather than
//! closures, because it is the inner loop of a scan over a large document:
//! QuickJS takes far longer to interpret a loop that defines properties than
//! this code takes to define them. For the same reason a node is parsed only
//! one level deep, its children staying raw JSON text until they are built.
//!
//! # References
//! A local Reference Object (`{ "$ref": "#/components/schemas/user" }`, its
//! fragment a percent-encoded JSON Pointer into the same document) reads as
//! the node it points to, with the reference's other members laid over the
//! target's (an outer reference's over an inner one's). Each node knows the
//! `$ref`s resolved on the way to it from the document's root; meeting one
//! of them again gives `{ $ref, $circular: true }` instead, so that walking a
//! recursive schema ends. A `$ref` that points at nothing gives
//! `{ $ref, $missing: true }`. Any other `$ref` stays as written.

use std::borrow::Cow;
use std::cell::RefCell;
use std::ffi::c_int;
use std::fmt::{self, Write as _};
use std::ptr::NonNull;
use std::rc::Rc;

use javy::quickjs::{Array, Ctx, Error, Exception, Object, Result, Value, qjs};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::bindings::codemode::sandbox::documents;

thread_local! {
    /// What each getter of this run builds its child from, by the getter's
    /// `magic` number. A run's instance is dropped after it, and this list
    /// with it.
    static PENDING: RefCell<Vec<Rc<Pending>>> = const { RefCell::new(Vec::new()) };
}

/// The getter of document `document`'s root, for the global that holds it.
pub(crate) fn root_getter<'js>(ctx: &Ctx<'js>, document: u32) -> Result<Value<'js>> {
    let pending = Pending::Read {
        document,
        pointer: String::new(),
        resolving: None,
    };
    let getter = new_getter(ctx, pending)?;
    // SAFETY: `getter` is a new value of this context, which we own.
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

/// A child that is not built yet: what its getter builds it from.
enum Pending {
    /// A child the host left out, to be read at `pointer`.
    Read {
        document: u32,
        pointer: String,
        resolving: Resolving,
    },
    /// A child that came whole, as JSON text.
    Whole {
        document: u32,
        json: Box<str>,
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
                pointer,
                resolving,
            } => {
                let reply = documents::read(*document, pointer).map_err(|message| {
                    internal(
                        ctx,
                        format_args!("the sandbox could not read a document: {message}"),
                    )
                })?;
                let (node, lazy) = parse_reply(ctx, &reply)?;
                let place = Place {
                    document: *document,
                    pointer: Some(pointer),
                };
                builder.present(place, node, &lazy, resolving)
            }
            Pending::Whole {
                document,
                json,
                resolving,
            } => {
                let node = serde_json::from_str(json).map_err(|error| {
                    internal(ctx, format_args!("a document's node is not JSON: {error}"))
                })?;
                let place = Place {
                    document: *document,
                    pointer: None,
                };
                builder.present(place, node, &[], resolving)
            }
        }
    }
}

/// A new getter for `pending`: a QuickJS function whose `magic` number is
/// the index of `pending` in [`PENDING`], and whose one datum is the child
/// once built (`undefined` until then). Returned owned.
fn new_getter(ctx: &Ctx<'_>, pending: Pending) -> Result<qjs::JSValue> {
    let index = PENDING.with(|all| {
        let mut all = all.borrow_mut();
        all.push(Rc::new(pending));
        all.len() - 1
    });
    let magic = c_int::try_from(index)
        .map_err(|_| internal(ctx, format_args!("a document has too many parts to read")))?;
    let mut data = [qjs::JS_UNDEFINED];
    // SAFETY: the context is live (`Ctx` holds it); QuickJS copies `data`.
    let getter = unsafe {
        qjs::JS_NewCFunctionData(
            ctx.as_raw().as_ptr(),
            Some(call_getter),
            0,
            magic,
            1,
            data.as_mut_ptr(),
        )
    };
    // SAFETY: `getter` is a value just made.
    if unsafe { qjs::JS_IsException(getter) } {
        return Err(Error::Exception);
    }
    Ok(getter)
}

/// A getter's body: the child kept in `data[0]`, or built and kept there.
unsafe extern "C" fn call_getter(
    ctx: *mut qjs::JSContext,
    _this: qjs::JSValue,
    _argc: c_int,
    _argv: *mut qjs::JSValue,
    magic: c_int,
    data: *mut qjs::JSValue,
) -> qjs::JSValue {
    // SAFETY: QuickJS calls this with its live, locked context and the
    // getter's own data, one value long (see `new_getter`).
    unsafe {
        let built = *data;
        if !qjs::JS_IsUndefined(built) {
            return qjs::JS_DupValue(ctx, built);
        }
        let Some(raw) = NonNull::new(ctx) else {
            return qjs::JS_EXCEPTION;
        };
        let ctx = Ctx::from_raw(raw);
        let pending = usize::try_from(magic)
            .ok()
            .and_then(|index| PENDING.with(|all| all.borrow().get(index).cloned()));
        let built = match pending {
            Some(pending) => pending.build(&ctx),
            None => Err(internal(
                &ctx,
                format_args!("a document getter has no part to read"),
            )),
        };
        match built {
            Ok(value) => {
                *data = qjs::JS_DupValue(raw.as_ptr(), value.as_raw());
                qjs::JS_DupValue(raw.as_ptr(), value.as_raw())
            }
            Err(error) if error.is_exception() => qjs::JS_EXCEPTION,
            Err(error) => {
                let _ = Exception::throw_internal(&ctx, &error.to_string());
                qjs::JS_EXCEPTION
            }
        }
    }
}

/// An error of the sandbox's own machinery, as an exception.
fn internal(ctx: &Ctx<'_>, message: fmt::Arguments<'_>) -> Error {
    Exception::throw_internal(ctx, &message.to_string())
}

/// A reply of `documents.read`: the node, and its lazy children's keys.
fn parse_reply<'a>(ctx: &Ctx<'_>, reply: &'a str) -> Result<(&'a RawValue, Vec<Lazy<'a>>)> {
    serde_json::from_str(reply)
        .map_err(|error| internal(ctx, format_args!("a document's reply is not JSON: {error}")))
}

/// Where a node sits: its document, and its pointer while children of it
/// may still have to be read (never inside a child that came whole).
#[derive(Clone, Copy)]
struct Place<'a> {
    document: u32,
    pointer: Option<&'a str>,
}

/// A member's key: an array's index or an object's name.
#[derive(Clone, Copy)]
enum Key<'a> {
    Index(u32),
    Name(&'a str),
}

impl Key<'_> {
    /// The key as a QuickJS atom, owned.
    fn atom(self, ctx: &Ctx<'_>) -> Result<qjs::JSAtom> {
        let ctx = ctx.as_raw().as_ptr();
        // SAFETY: the context is live.
        let atom = unsafe {
            match self {
                Key::Index(index) => qjs::JS_NewAtomUInt32(ctx, index),
                Key::Name(name) => qjs::JS_NewAtomLen(ctx, name.as_ptr().cast(), name.len() as _),
            }
        };
        if atom == qjs::JS_ATOM_NULL {
            return Err(Error::Exception);
        }
        Ok(atom)
    }
}

/// A lazy child's key, as a reply lists it.
#[derive(PartialEq)]
enum Lazy<'a> {
    Index(u64),
    Name(Cow<'a, str>),
}

impl<'de> Deserialize<'de> for Lazy<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct LazyVisitor;
        impl<'de> Visitor<'de> for LazyVisitor {
            type Value = Lazy<'de>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a key or an index")
            }
            fn visit_u64<E>(self, index: u64) -> std::result::Result<Self::Value, E> {
                Ok(Lazy::Index(index))
            }
            fn visit_borrowed_str<E>(self, name: &'de str) -> std::result::Result<Self::Value, E> {
                Ok(Lazy::Name(Cow::Borrowed(name)))
            }
            fn visit_str<E>(self, name: &str) -> std::result::Result<Self::Value, E> {
                Ok(Lazy::Name(Cow::Owned(name.to_owned())))
            }
        }
        deserializer.deserialize_any(LazyVisitor)
    }
}

/// An object's members, their values raw JSON text, in order.
struct Members<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members<'de>;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(name) = map.next_key::<Lazy<'de>>()? {
                    let Lazy::Name(name) = name else {
                        return Err(serde::de::Error::custom("a key that is a number"));
                    };
                    members.push((name, map.next_value()?));
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

/// The members of an object being built, and what they are read with.
struct Source<'a> {
    place: Place<'a>,
    members: &'a [(Cow<'a, str>, &'a RawValue)],
    lazy: &'a [Lazy<'a>],
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

    /// Its members in order, the lazy ones marked, as from `sources[from]`.
    fn members(&self, from: usize) -> Vec<Member<'a>> {
        let mut lazy = self.lazy.iter().peekable();
        self.members
            .iter()
            .map(|(name, value)| {
                let is_lazy = value.get() == "null"
                    && lazy
                        .next_if(|key| matches!(key, Lazy::Name(key) if key == name))
                        .is_some();
                Member {
                    name,
                    value,
                    lazy: is_lazy,
                    from,
                }
            })
            .collect()
    }

    /// Its `$ref` if it is a local Reference Object.
    fn local_reference(&self) -> Option<String> {
        let (_, value) = self.members.iter().find(|(name, _)| name == "$ref")?;
        if !value.get().starts_with("\"#") {
            return None;
        }
        serde_json::from_str(value.get()).ok()
    }
}

/// One property of an object being built, and the source it comes from.
struct Member<'a> {
    name: &'a str,
    value: &'a RawValue,
    lazy: bool,
    from: usize,
}

/// Builds nodes.
struct Builder<'js> {
    ctx: Ctx<'js>,
}

impl<'js> Builder<'js> {
    /// What the script sees for `raw`, the JSON at `place`, whose lazy
    /// children are `lazy`.
    fn present(
        &self,
        place: Place<'_>,
        raw: &RawValue,
        lazy: &[Lazy<'_>],
        resolving: &Resolving,
    ) -> Result<Value<'js>> {
        match raw.get().as_bytes().first() {
            Some(b'{') => {
                let members = self.members(raw)?;
                let source = Source {
                    place,
                    members: &members.0,
                    lazy,
                    resolving: resolving.clone(),
                };
                match source.local_reference() {
                    Some(reference) => self.dereference(&reference, vec![source]),
                    None => {
                        let members = source.members(0);
                        self.object(&[source], members)
                    }
                }
            }
            Some(b'[') => self.array(place, raw, lazy, resolving),
            _ => self.primitive(raw),
        }
    }

    fn members<'a>(&self, raw: &'a RawValue) -> Result<Members<'a>> {
        serde_json::from_str(raw.get()).map_err(|error| {
            internal(
                &self.ctx,
                format_args!("a document's node is not an object: {error}"),
            )
        })
    }

    /// What a chain of references reads as: `references[0]` is the
    /// outermost, and `reference` is the `$ref` of the last.
    fn dereference(&self, reference: &str, references: Vec<Source<'_>>) -> Result<Value<'js>> {
        let innermost = &references[references.len() - 1];
        let (document, resolving) = (innermost.place.document, innermost.resolving.clone());
        let read = if is_resolving(&resolving, reference) {
            Err("$circular")
        } else {
            target_pointer(reference)
                .and_then(|pointer| Some((documents::read(document, &pointer).ok()?, pointer)))
                .ok_or("$missing")
        };
        let (reply, pointer) = match read {
            Ok(read) => read,
            Err(flag) => {
                let reference = serde_json::to_string(reference)
                    .ok()
                    .and_then(|json| RawValue::from_string(json).ok())
                    .ok_or_else(|| {
                        internal(&self.ctx, format_args!("a `$ref` cannot be written"))
                    })?;
                let members = [
                    (Cow::Borrowed("$ref"), &*reference),
                    (Cow::Borrowed(flag), RawValue::TRUE),
                ];
                let marker = Source {
                    place: Place {
                        document,
                        pointer: None,
                    },
                    members: &members,
                    lazy: &[],
                    resolving,
                };
                return self.overlaid(marker, &references);
            }
        };
        let (node, lazy) = parse_reply(&self.ctx, &reply)?;
        let place = Place {
            document,
            pointer: Some(&pointer),
        };
        let resolving = Some(Rc::new(Link {
            reference: reference.to_owned(),
            outer: resolving,
        }));
        if !node.get().starts_with('{') {
            // Only an object takes the references' other members.
            return self.present(place, node, &lazy, &resolving);
        }
        let members = self.members(node)?;
        let target = Source {
            place,
            members: &members.0,
            lazy: &lazy,
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
        let mut merged = sources[0].members(0);
        for from in (1..sources.len()).rev() {
            for member in sources[from].members(from) {
                if member.name == "$ref" {
                    continue;
                }
                match merged.iter_mut().find(|m| m.name == member.name) {
                    Some(existing) => *existing = member,
                    None => merged.push(member),
                }
            }
        }
        self.object(&sources, merged)
    }

    /// An object of `members`, each read with the source it comes from.
    fn object(&self, sources: &[Source<'_>], members: Vec<Member<'_>>) -> Result<Value<'js>> {
        let object = Object::new(self.ctx.clone())?;
        for member in members {
            let source = &sources[member.from];
            self.define(
                &object,
                source.place,
                Key::Name(member.name),
                member.value,
                member.lazy,
                &source.resolving,
            )?;
        }
        // Every property is already non-configurable, and read-only.
        // SAFETY: the context is live, and `object` is one of its values.
        if unsafe { qjs::JS_PreventExtensions(self.ctx.as_raw().as_ptr(), object.as_raw()) } < 0 {
            return Err(Error::Exception);
        }
        Ok(object.into_value())
    }

    fn array(
        &self,
        place: Place<'_>,
        raw: &RawValue,
        lazy: &[Lazy<'_>],
        resolving: &Resolving,
    ) -> Result<Value<'js>> {
        let items: Vec<&RawValue> = serde_json::from_str(raw.get()).map_err(|error| {
            internal(
                &self.ctx,
                format_args!("a document's node is not an array: {error}"),
            )
        })?;
        let array = Array::new(self.ctx.clone())?;
        let mut lazy = lazy.iter().peekable();
        for (index, item) in (0u32..).zip(items) {
            let is_lazy =
                item.get() == "null" && lazy.next_if_eq(&&Lazy::Index(u64::from(index))).is_some();
            let key = Key::Index(index);
            self.define(array.as_object(), place, key, item, is_lazy, resolving)?;
        }
        // SAFETY: the context is live, and `array` is one of its values.
        if unsafe { qjs::JS_FreezeObject(self.ctx.as_raw().as_ptr(), array.as_raw()) } < 0 {
            return Err(Error::Exception);
        }
        Ok(array.into_value())
    }

    /// Define the child `key` of `object`, whose JSON is `raw` (`null` when
    /// it is `lazy`): a primitive as a read-only value, anything else as a
    /// getter.
    fn define(
        &self,
        object: &Object<'js>,
        place: Place<'_>,
        key: Key<'_>,
        raw: &RawValue,
        lazy: bool,
        resolving: &Resolving,
    ) -> Result<()> {
        let json = raw.get();
        let pending = if lazy {
            Some(Pending::Read {
                document: place.document,
                pointer: child_pointer(place.pointer.unwrap_or_default(), key),
                resolving: resolving.clone(),
            })
        } else if json.starts_with(['{', '[']) {
            Some(Pending::Whole {
                document: place.document,
                json: json.into(),
                resolving: resolving.clone(),
            })
        } else {
            None
        };
        let ctx = self.ctx.as_raw().as_ptr();
        let atom = key.atom(&self.ctx)?;
        // SAFETY: the context is live, `object` and `atom` are its; the
        // define calls take the getter and the value they are given, and
        // `atom` is freed once.
        let defined = unsafe {
            let defined = match pending {
                Some(pending) => match new_getter(&self.ctx, pending) {
                    Ok(getter) => qjs::JS_DefinePropertyGetSet(
                        ctx,
                        object.as_raw(),
                        atom,
                        getter,
                        qjs::JS_UNDEFINED,
                        qjs::JS_PROP_ENUMERABLE as c_int,
                    ),
                    Err(_) => -1,
                },
                None => match self.primitive(raw) {
                    Ok(value) => qjs::JS_DefinePropertyValue(
                        ctx,
                        object.as_raw(),
                        atom,
                        qjs::JS_DupValue(ctx, value.as_raw()),
                        qjs::JS_PROP_ENUMERABLE as c_int,
                    ),
                    Err(_) => -1,
                },
            };
            qjs::JS_FreeAtom(ctx, atom);
            defined
        };
        if defined < 0 {
            return Err(Error::Exception);
        }
        Ok(())
    }

    /// A primitive's value.
    fn primitive(&self, raw: &RawValue) -> Result<Value<'js>> {
        crate::json::parse(&self.ctx, raw.get())?
            .ok_or_else(|| internal(&self.ctx, format_args!("a document's value is not JSON")))
    }
}

/// The JSON Pointer of the child `key` of the node at `parent`.
fn child_pointer(parent: &str, key: Key<'_>) -> String {
    let mut pointer = String::with_capacity(parent.len() + 16);
    pointer.push_str(parent);
    pointer.push('/');
    match key {
        Key::Index(index) => {
            let _ = write!(pointer, "{index}");
        }
        Key::Name(mut name) => {
            // `~` is written `~0` and `/` is written `~1`.
            while let Some(at) = name.find(['~', '/']) {
                pointer.push_str(&name[..at]);
                pointer.push_str(if name.as_bytes()[at] == b'~' {
                    "~0"
                } else {
                    "~1"
                });
                name = &name[at + 1..];
            }
            pointer.push_str(name);
        }
    }
    pointer
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
