//! A document's objects as exotic QuickJS objects whose members are built
//! the first time the script looks at them.
//!
//! Defining every member of every object a script passes through costs more
//! than the script's own work: a scan of GitHub's 1,223 operations reads two
//! members of each, and would build (or define getters for) all the others,
//! descriptions, parameters and responses, for nothing. An object node
//! instead keeps its members as slices of the host's reply and answers
//! QuickJS's own-property queries from them, building a member (and keeping
//! it) only when it is read.
//!
//! To the script it is a plain frozen object: its prototype is
//! `Object.prototype`; its members are enumerable, read-only and
//! non-configurable data properties, listed in JSON order with integer keys
//! first (as on any object); it cannot be extended, and a redefinition that
//! changes nothing is allowed, so `Object.freeze` works on it.
//!
//! A large object that the host left out of its parent's reply (see
//! [`Unread`]) becomes a node at once, read when the script first looks
//! inside it: listing the keys of `paths` reads no path item.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;
use std::ffi::c_int;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::ops::Range;
use std::ptr::NonNull;
use std::rc::Rc;

use javy::quickjs::{Ctx, Error, Exception, Object, Result, Value, qjs};

use super::{Builder, Child, Lazy, Member, Place, Resolving, Source, internal, read, throw};

thread_local! {
    /// The class of object nodes, registered by [`init`].
    static CLASS: Cell<qjs::JSClassID> = const { Cell::new(0) };
    /// Each object node, by the number its object carries. Like the
    /// getters' slots, it lives as long as the run's instance.
    static OBJECTS: RefCell<Vec<ObjectNode>> = const { RefCell::new(Vec::new()) };
}

/// How QuickJS asks an object node about its properties. `has_property`,
/// `get_property` and `set_property` are left to QuickJS, which derives
/// them from `get_own_property` and the prototype chain.
static EXOTIC: qjs::JSClassExoticMethods = qjs::JSClassExoticMethods {
    get_own_property: Some(get_own_property),
    get_own_property_names: Some(get_own_property_names),
    delete_property: Some(delete_property),
    define_own_property: Some(define_own_property),
    has_property: None,
    get_property: None,
    set_property: None,
};

/// Register the class of object nodes; called once at initialization.
pub(super) fn init(ctx: &Ctx<'_>) -> Result<()> {
    let definition = qjs::JSClassDef {
        class_name: c"Object".as_ptr(),
        finalizer: None,
        gc_mark: None,
        call: None,
        // QuickJS only reads through this pointer.
        exotic: (&raw const EXOTIC).cast_mut(),
    };
    let prototype: Object = ctx.globals().get::<_, Object>("Object")?.get("prototype")?;
    let class = super::register_class(ctx, &definition, &prototype)?;
    CLASS.with(|c| c.set(class));
    Ok(())
}

/// An object the host left out of its parent's reply, known to read as
/// itself (it has no `$ref`): read as node `node` when first looked inside.
pub(super) struct Unread {
    pub(super) document: u32,
    pub(super) node: u32,
    pub(super) resolving: Resolving,
}

/// What an object node knows of its members.
enum ObjectNode {
    Unread(Unread),
    /// Being read (a node cannot be reached while it is read).
    Reading,
    Read(Members),
}

/// An object node's members, as texts of the replies they came in.
struct Members {
    sources: Vec<SourceText>,
    members: Vec<MemberText>,
    /// For an object of more than [`SCANNED_MEMBERS`] members, the hash of
    /// each member's name with its index, by hash: made at the first look-up.
    by_hash: OnceCell<Vec<(u64, usize)>>,
    /// The members QuickJS has named by atom so far (an atom is a number
    /// that stands for one string while it lives; each here is kept alive),
    /// so that the next look-up by that atom compares no text.
    by_atom: HashMap<qjs::JSAtom, usize, BuildHasherDefault<QuickHasher>>,
}

/// Objects with at most this many members are searched member by member.
const SCANNED_MEMBERS: usize = 12;

/// A reply an object's members come from, and how to read their children.
struct SourceText {
    document: u32,
    text: Rc<String>,
    resolving: Resolving,
}

struct MemberText {
    name: Text,
    value: Text,
    lazy: Option<Lazy>,
    from: usize,
    /// The member's value, once built; owned by this node.
    built: Option<qjs::JSValue>,
    /// The atom QuickJS named the member by, once [`remember`]ed.
    atom: Option<qjs::JSAtom>,
}

/// A text: a slice of its source's reply, or (seldom: an unescaped key,
/// a `$circular` marker) its own.
#[derive(Clone)]
enum Text {
    Slice(Range<usize>),
    Owned(Box<str>),
}

impl Text {
    /// `part` as a slice of `reply` when it is one.
    fn of(part: &str, reply: &str) -> Self {
        let start = part.as_ptr().addr().wrapping_sub(reply.as_ptr().addr());
        if start <= reply.len() && part.len() <= reply.len() - start {
            Text::Slice(start..start + part.len())
        } else {
            Text::Owned(part.into())
        }
    }

    fn get<'a>(&'a self, reply: &'a str) -> &'a str {
        match self {
            Text::Slice(range) => reply.get(range.clone()).unwrap_or_default(),
            Text::Owned(text) => text,
        }
    }
}

impl Members {
    /// The members of `sources`, as their texts.
    fn new<'a>(sources: &[Source<'a>], members: impl Iterator<Item = Member<'a>>) -> Self {
        let members: Vec<MemberText> = members
            .map(|member| {
                let reply = sources[member.from].place.text.as_str();
                MemberText {
                    name: Text::of(&member.part.name, reply),
                    value: Text::of(member.part.json, reply),
                    lazy: member.part.lazy,
                    from: member.from,
                    built: None,
                    atom: None,
                }
            })
            .collect();
        let sources = sources
            .iter()
            .map(|source| SourceText {
                document: source.place.document,
                text: Rc::clone(source.place.text),
                resolving: source.resolving.clone(),
            })
            .collect();
        Members {
            sources,
            members,
            by_hash: OnceCell::new(),
            by_atom: HashMap::default(),
        }
    }

    fn name<'a>(&'a self, member: &'a MemberText) -> &'a str {
        member.name.get(&self.sources[member.from].text)
    }

    /// The index of the member called `name`.
    fn find(&self, name: &[u8]) -> Option<usize> {
        let is = |at: &usize| self.name(&self.members[*at]).as_bytes() == name;
        if self.members.len() <= SCANNED_MEMBERS {
            return (0..self.members.len()).find(is);
        }
        let by_hash = self.by_hash.get_or_init(|| {
            let mut by_hash: Vec<(u64, usize)> = (self.members.iter().enumerate())
                .map(|(at, member)| (hash(self.name(member).as_bytes()), at))
                .collect();
            by_hash.sort_unstable();
            by_hash
        });
        let wanted = hash(name);
        let first = by_hash.partition_point(|(hash, _)| *hash < wanted);
        by_hash[first..]
            .iter()
            .take_while(|(hash, _)| *hash == wanted)
            .map(|(_, at)| *at)
            .find(is)
    }
}

/// A new object node of `members`, each read with the source it comes from.
pub(super) fn new<'a, 'js>(
    ctx: &Ctx<'js>,
    sources: &[Source<'a>],
    members: impl Iterator<Item = Member<'a>>,
) -> Result<Value<'js>> {
    create(ctx, ObjectNode::Read(Members::new(sources, members)))
}

/// A new object node for an object not read yet.
pub(super) fn new_unread<'js>(ctx: &Ctx<'js>, unread: Unread) -> Result<Value<'js>> {
    create(ctx, ObjectNode::Unread(unread))
}

fn create<'js>(ctx: &Ctx<'js>, node: ObjectNode) -> Result<Value<'js>> {
    let index = OBJECTS.with(|objects| {
        let mut objects = objects.borrow_mut();
        objects.push(node);
        objects.len() - 1
    });
    let object = super::numbered_object(ctx, CLASS.with(Cell::get), index)?;
    let context = ctx.as_raw().as_ptr();
    // SAFETY: the context is live and `object` is its new value, owned here.
    unsafe {
        if qjs::JS_PreventExtensions(context, object) < 0 {
            qjs::JS_FreeValue(context, object);
            return Err(Error::Exception);
        }
        Ok(Value::from_raw(ctx.clone(), object))
    }
}

/// Read node `node` if it has not been read.
fn ensure_read(ctx: &Ctx<'_>, node: usize) -> Result<()> {
    let unread = OBJECTS.with(|objects| {
        let mut objects = objects.borrow_mut();
        match objects.get_mut(node) {
            Some(ObjectNode::Read(_)) | None => Ok(None),
            Some(ObjectNode::Reading) => Err(()),
            Some(slot) => match std::mem::replace(slot, ObjectNode::Reading) {
                ObjectNode::Unread(unread) => Ok(Some(unread)),
                _ => Err(()),
            },
        }
    });
    let unread = match unread {
        Ok(Some(unread)) => unread,
        Ok(None) => return Ok(()),
        Err(()) => {
            return Err(internal(
                ctx,
                format_args!("a document's object was looked at while it was read"),
            ));
        }
    };
    let (slot, read) = match read_members(ctx, &unread) {
        Ok(members) => (ObjectNode::Read(members), Ok(())),
        Err(error) => (ObjectNode::Unread(unread), Err(error)),
    };
    OBJECTS.with(|objects| {
        if let Some(place) = objects.borrow_mut().get_mut(node) {
            *place = slot;
        }
    });
    read
}

/// The members of the object `unread` stands for, read from the host.
fn read_members(ctx: &Ctx<'_>, unread: &Unread) -> Result<Members> {
    let reply = read(ctx, unread.document, unread.node)?;
    let super::Node::Object(members) = reply.node(ctx)? else {
        return Err(internal(
            ctx,
            format_args!(
                "the host said node {} is an object, and it is not",
                unread.node
            ),
        ));
    };
    let source = Source {
        place: Place {
            document: unread.document,
            text: &reply.text,
        },
        members: &members,
        resolving: unread.resolving.clone(),
    };
    Ok(Members::new(
        std::slice::from_ref(&source),
        source.members(0),
    ))
}

/// The index of the member of node `node` that `atom` names, if any.
fn find(ctx: &Ctx<'_>, node: usize, atom: qjs::JSAtom) -> Result<Option<usize>> {
    ensure_read(ctx, node)?;
    let known = OBJECTS.with(|objects| match objects.borrow().get(node) {
        Some(ObjectNode::Read(members)) => members.by_atom.get(&atom).copied(),
        _ => None,
    });
    if known.is_some() {
        return Ok(known);
    }
    let context = ctx.as_raw().as_ptr();
    // SAFETY: the context is live; the atom is the caller's; the value and
    // the C string are freed once, after the last use of the name.
    let found = unsafe {
        let key = qjs::JS_AtomToValue(context, atom);
        if qjs::JS_IsException(key) {
            return Err(Error::Exception);
        }
        if qjs::JS_IsSymbol(key) {
            qjs::JS_FreeValue(context, key);
            return Ok(None);
        }
        let mut length = 0;
        let name = qjs::JS_ToCStringLen(context, &mut length, key);
        qjs::JS_FreeValue(context, key);
        if name.is_null() {
            return Err(Error::Exception);
        }
        let bytes = std::slice::from_raw_parts(name.cast::<u8>(), length);
        let found = OBJECTS.with(|objects| match objects.borrow().get(node) {
            Some(ObjectNode::Read(members)) => members.find(bytes),
            _ => None,
        });
        qjs::JS_FreeCString(context, name);
        found
    };
    if let Some(member) = found {
        remember(ctx, node, atom, member);
    }
    Ok(found)
}

/// Note that `atom` names member `member` of node `node`.
fn remember(ctx: &Ctx<'_>, node: usize, atom: qjs::JSAtom, member: usize) {
    OBJECTS.with(|objects| {
        if let Some(ObjectNode::Read(members)) = objects.borrow_mut().get_mut(node)
            && !members.by_atom.contains_key(&atom)
        {
            // SAFETY: the context is live and `atom` one of its atoms; the
            // reference taken here is never given back, as nothing of a
            // run's nodes is freed before its instance is.
            unsafe { qjs::JS_DupAtom(ctx.as_raw().as_ptr(), atom) };
            members.by_atom.insert(atom, member);
            if let Some(named) = members.members.get_mut(member) {
                named.atom.get_or_insert(atom);
            }
        }
    });
}

/// The value of member `member` of node `node`, built the first time.
fn value<'js>(ctx: &Ctx<'js>, node: usize, member: usize) -> Result<Value<'js>> {
    let context = ctx.as_raw().as_ptr();
    let wanted = OBJECTS.with(|objects| {
        let objects = objects.borrow();
        let Some(ObjectNode::Read(members)) = objects.get(node) else {
            return None;
        };
        let found = members.members.get(member)?;
        if let Some(built) = found.built {
            // SAFETY: the node owns a reference to `built`; this is another.
            return Some(Ok(unsafe {
                Value::from_raw(ctx.clone(), qjs::JS_DupValue(context, built))
            }));
        }
        let source = &members.sources[found.from];
        Some(Err((
            found.value.clone(),
            found.lazy,
            source.document,
            Rc::clone(&source.text),
            source.resolving.clone(),
        )))
    });
    let (json, lazy, document, reply, resolving) = match wanted {
        Some(Ok(built)) => return Ok(built),
        Some(Err(wanted)) => wanted,
        None => return Err(internal(ctx, format_args!("a document's member is gone"))),
    };
    let place = Place {
        document,
        text: &reply,
    };
    let builder = Builder { ctx: ctx.clone() };
    let built = match builder.child(place, json.get(&reply), lazy, &resolving)? {
        Child::Value(value) => value,
        Child::Pending(pending) => pending.build(ctx)?,
    };
    OBJECTS.with(|objects| {
        if let Some(ObjectNode::Read(members)) = objects.borrow_mut().get_mut(node)
            && let Some(slot) = members.members.get_mut(member)
            && slot.built.is_none()
        {
            // SAFETY: the node keeps a reference of its own.
            slot.built = Some(unsafe { qjs::JS_DupValue(context, built.as_raw()) });
        }
    });
    Ok(built)
}

/// Run `hook` with the hook's context and the node `object` is, turning an
/// error into a pending exception and -1.
///
/// # Safety
/// QuickJS calls hooks with its live, locked context and one of the class's
/// objects.
unsafe fn hook(
    ctx: *mut qjs::JSContext,
    object: qjs::JSValue,
    hook: impl FnOnce(&Ctx<'_>, usize) -> Result<c_int>,
) -> c_int {
    let Some(raw) = NonNull::new(ctx) else {
        return -1;
    };
    // SAFETY: per the caller.
    let ctx = unsafe { Ctx::from_raw(raw) };
    // SAFETY: per the caller.
    let Some(node) = (unsafe { super::index_of(object, CLASS.with(Cell::get)) }) else {
        return 0;
    };
    match hook(&ctx, node) {
        Ok(answer) => answer,
        Err(error) => {
            throw(&ctx, error);
            -1
        }
    }
}

/// Whether `atom` names a member; and when `desc` is given, its descriptor,
/// which builds the member.
unsafe extern "C" fn get_own_property(
    ctx: *mut qjs::JSContext,
    desc: *mut qjs::JSPropertyDescriptor,
    object: qjs::JSValue,
    atom: qjs::JSAtom,
) -> c_int {
    // SAFETY: QuickJS calls this as `hook` requires; `desc`, when not null,
    // is the caller's to fill, and takes the value's reference.
    unsafe {
        hook(ctx, object, |ctx, node| {
            let Some(member) = find(ctx, node, atom)? else {
                return Ok(0);
            };
            if let Some(desc) = desc.as_mut() {
                let value = value(ctx, node, member)?;
                desc.flags = qjs::JS_PROP_ENUMERABLE as c_int;
                desc.value = qjs::JS_DupValue(ctx.as_raw().as_ptr(), value.as_raw());
                desc.getter = qjs::JS_UNDEFINED;
                desc.setter = qjs::JS_UNDEFINED;
            }
            Ok(1)
        })
    }
}

/// The members' names: integer keys first, ascending, then the others in
/// the order of the JSON, as an ordinary object lists them.
unsafe extern "C" fn get_own_property_names(
    ctx: *mut qjs::JSContext,
    table: *mut *mut qjs::JSPropertyEnum,
    length: *mut u32,
    object: qjs::JSValue,
) -> c_int {
    // SAFETY: QuickJS calls this as `hook` requires, with places for the
    // table (allocated with `js_malloc`, which QuickJS frees) and its length.
    unsafe {
        hook(ctx, object, |ctx, node| {
            ensure_read(ctx, node)?;
            let mut names: Vec<(Option<u32>, usize)> = OBJECTS.with(|objects| {
                let objects = objects.borrow();
                let Some(ObjectNode::Read(members)) = objects.get(node) else {
                    return Vec::new();
                };
                members
                    .members
                    .iter()
                    .enumerate()
                    .map(|(at, member)| (array_index(members.name(member)), at))
                    .collect()
            });
            // Stable: names that are not indices keep their order.
            names.sort_by_key(|(index, _)| index.map_or((1, 0), |index| (0, index)));
            let context = ctx.as_raw().as_ptr();
            let entries = qjs::js_malloc(
                context,
                (std::mem::size_of::<qjs::JSPropertyEnum>() * names.len().max(1)) as _,
            )
            .cast::<qjs::JSPropertyEnum>();
            if entries.is_null() {
                return Err(Error::Exception);
            }
            for (filled, (_, member)) in names.iter().enumerate() {
                let atom = member_atom(ctx, node, *member);
                if atom == qjs::JS_ATOM_NULL {
                    for entry in 0..filled {
                        qjs::JS_FreeAtom(context, (*entries.add(entry)).atom);
                    }
                    qjs::js_free(context, entries.cast());
                    return Err(Error::Exception);
                }
                entries.add(filled).write(qjs::JSPropertyEnum {
                    is_enumerable: true,
                    atom,
                });
            }
            *table = entries;
            *length = names.len() as u32;
            Ok(0)
        })
    }
}

/// An atom of member `member`'s name, for the caller to free: the atom it
/// was named by before, or a new one, remembered. `JS_ATOM_NULL` when
/// QuickJS cannot make one.
fn member_atom(ctx: &Ctx<'_>, node: usize, member: usize) -> qjs::JSAtom {
    let context = ctx.as_raw().as_ptr();
    // SAFETY: the context is live; a remembered atom is alive (the node
    // holds a reference), and the caller is given one of its own.
    let (atom, is_new) = OBJECTS.with(|objects| match objects.borrow().get(node) {
        Some(ObjectNode::Read(members)) => match &members.members[member] {
            MemberText {
                atom: Some(atom), ..
            } => (unsafe { qjs::JS_DupAtom(context, *atom) }, false),
            named => {
                let name = members.name(named);
                let atom =
                    unsafe { qjs::JS_NewAtomLen(context, name.as_ptr().cast(), name.len() as _) };
                (atom, true)
            }
        },
        _ => (qjs::JS_ATOM_NULL, false),
    });
    if is_new && atom != qjs::JS_ATOM_NULL {
        remember(ctx, node, atom, member);
    }
    atom
}

/// A member cannot be deleted; a name that is not one has nothing to delete.
unsafe extern "C" fn delete_property(
    ctx: *mut qjs::JSContext,
    object: qjs::JSValue,
    atom: qjs::JSAtom,
) -> c_int {
    // SAFETY: QuickJS calls this as `hook` requires.
    unsafe {
        hook(ctx, object, |ctx, node| {
            Ok(c_int::from(find(ctx, node, atom)?.is_none()))
        })
    }
}

/// Only a definition that changes nothing succeeds: the object is frozen.
unsafe extern "C" fn define_own_property(
    ctx: *mut qjs::JSContext,
    object: qjs::JSValue,
    atom: qjs::JSAtom,
    value: qjs::JSValue,
    _getter: qjs::JSValue,
    _setter: qjs::JSValue,
    flags: c_int,
) -> c_int {
    let has = |flag: u32| flags & flag as c_int != 0;
    // SAFETY: QuickJS calls this as `hook` requires; `value` is borrowed.
    unsafe {
        hook(ctx, object, |ctx, node| {
            let refuse = |message: &str| {
                if has(qjs::JS_PROP_THROW) {
                    Err(Exception::throw_type(ctx, message))
                } else {
                    Ok(0)
                }
            };
            let Some(member) = find(ctx, node, atom)? else {
                return refuse("object is not extensible");
            };
            let changes = (has(qjs::JS_PROP_HAS_CONFIGURABLE) && has(qjs::JS_PROP_CONFIGURABLE))
                || (has(qjs::JS_PROP_HAS_ENUMERABLE) && !has(qjs::JS_PROP_ENUMERABLE))
                || (has(qjs::JS_PROP_HAS_WRITABLE) && has(qjs::JS_PROP_WRITABLE))
                || has(qjs::JS_PROP_HAS_GET)
                || has(qjs::JS_PROP_HAS_SET);
            if changes {
                return refuse("property is not configurable");
            }
            if has(qjs::JS_PROP_HAS_VALUE) {
                let current = self::value(ctx, node, member)?;
                if !qjs::JS_IsSameValue(ctx.as_raw().as_ptr(), value, current.as_raw()) {
                    return refuse("property is read-only");
                }
            }
            Ok(1)
        })
    }
}

/// A hash of a member's name, the same in every run (the names are the
/// host's, not the script's, so no seed is needed against collisions).
fn hash(name: &[u8]) -> u64 {
    BuildHasherDefault::<QuickHasher>::default().hash_one(name)
}

/// A fast hash of member names and atoms, FxHash's: a rotate, an exclusive
/// or and a multiply per word. Not made to resist chosen collisions; the
/// tables it serves hold only the host's names and QuickJS's atoms.
#[derive(Default)]
struct QuickHasher(u64);

impl QuickHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for QuickHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut full = [0; 8];
            full.copy_from_slice(word);
            self.add(u64::from_le_bytes(full));
        }
        let mut rest = [0; 8];
        rest[..words.remainder().len()].copy_from_slice(words.remainder());
        self.add(u64::from_le_bytes(rest));
    }

    fn write_u32(&mut self, word: u32) {
        self.add(u64::from(word));
    }

    fn finish(&self) -> u64 {
        // hashbrown picks buckets with the low bits: fold the high ones in.
        self.0 ^ (self.0 >> 32)
    }
}

/// `name` as an array index, when it is one (canonical, below 2³² − 1).
fn array_index(name: &str) -> Option<u32> {
    let canonical = name == "0" || (!name.starts_with('0') && !name.is_empty());
    if !canonical || !name.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    name.parse::<u32>().ok().filter(|&index| index != u32::MAX)
}
