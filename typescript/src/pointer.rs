//! JSON Pointers (RFC 6901) and the local `$ref`s written with them
//! (`#/components/schemas/repo`), in one place for every crate that reads
//! schemas and descriptions: the declaration generator, the OpenAPI reader
//! and slicer, and the runtime's documents.
//!
//! A `$ref` is a URI fragment, so it may be percent-encoded
//! (`#/paths/~1repos~1%7Bowner%7D`); [`decode`] undoes that before the
//! pointer is read.

use std::borrow::Cow;

use serde_json::Value;

/// How many `$ref`s [`follow`] goes through before it gives up: a cycle of
/// references leads nowhere.
pub const MAX_HOPS: usize = 7;

/// `key` as a pointer token: `~` as `~0`, `/` as `~1`.
pub fn escape(key: &str) -> Cow<'_, str> {
    if key.contains(['~', '/']) {
        key.replace('~', "~0").replace('/', "~1").into()
    } else {
        key.into()
    }
}

/// A pointer token as the key it stands for: `~1` as `/`, `~0` as `~`,
/// left to right, so `~01` is `~1`. A `~` followed by anything else stays.
pub fn unescape(token: &str) -> Cow<'_, str> {
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

/// The pointer to `key` in the object at `parent`: `child("#/$defs", "a/b")`
/// is `#/$defs/a~1b`.
pub fn child(parent: &str, key: &str) -> String {
    format!("{parent}/{}", escape(key))
}

/// `reference` with its percent-encoding undone (invalid UTF-8 replaced),
/// as a reference is compared and read.
pub fn decode(reference: &str) -> Cow<'_, str> {
    if !reference.contains('%') {
        return reference.into();
    }
    let bytes = reference.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(hi), Some(lo)) = (
                bytes.get(i + 1).and_then(|b| hex(*b)),
                bytes.get(i + 2).and_then(|b| hex(*b)),
            )
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned().into()
}

/// What the local `reference` (`#`, `#/...`) points at inside `root`; `None`
/// for a reference to another document or to nothing.
pub fn resolve<'v>(root: &'v Value, reference: &str) -> Option<&'v Value> {
    root.pointer(decode(reference).strip_prefix('#')?)
}

/// `value`, or what its `$ref` leads to inside `root`, through at most
/// [`MAX_HOPS`] references; `None` when a reference leads nowhere or the
/// chain is longer.
pub fn follow<'v>(root: &'v Value, mut value: &'v Value) -> Option<&'v Value> {
    for _ in 0..=MAX_HOPS {
        match value.get("$ref").and_then(Value::as_str) {
            Some(reference) => value = resolve(root, reference)?,
            None => return Some(value),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_escape_and_unescape() {
        assert_eq!(escape("a/b~c"), "a~1b~0c");
        assert_eq!(child("#/$defs", "a/b~c"), "#/$defs/a~1b~0c");
        assert_eq!(unescape("a~1b~0c"), "a/b~c");
        assert_eq!(unescape("~01"), "~1");
        assert_eq!(unescape("~x~"), "~x~");
        assert!(matches!(escape("plain"), Cow::Borrowed(_)));
    }

    #[test]
    fn references_decode_resolve_and_follow() {
        let root = json!({
            "paths": {"/repos/{owner}": {"get": {"$ref": "#/components/x"}}},
            "components": {"x": {"$ref": "#/components/y"}, "y": {"type": "string"}, "loop": {"$ref": "#/components/loop"}}
        });
        assert_eq!(
            decode("#/paths/~1repos~1%7Bowner%7D"),
            "#/paths/~1repos~1{owner}"
        );
        let get = resolve(&root, "#/paths/~1repos~1%7Bowner%7D/get");
        assert_eq!(get, Some(&json!({"$ref": "#/components/x"})));
        assert_eq!(resolve(&root, "#"), Some(&root));
        assert_eq!(resolve(&root, "other.json#/a"), None);
        assert_eq!(
            get.and_then(|get| follow(&root, get)),
            Some(&json!({"type": "string"}))
        );
        assert_eq!(follow(&root, &json!({"$ref": "#/components/loop"})), None);
        assert_eq!(follow(&root, &json!({"$ref": "#/nowhere"})), None);
    }
}
