//! JSON values from fuzz input, and comparing JSON the way JavaScript
//! sees it.
//!
//! [`value`] reads the input as JSON text when it is that, and otherwise
//! builds a value from the bytes: keys that mean something to the runtime
//! (`$ref`, `__proto__`, array-index-like names), `$ref` pointers, numbers
//! at the edges of a double, long strings and deep nesting.

use arbitrary::{Result, Unstructured};
use serde::Deserialize;
use serde_json::{Map, Number, Value};

/// The deepest a generated value nests (deeper than the JSON parser's 128,
/// as a connector that builds its reply need not parse it).
const MAX_DEPTH: u32 = 160;

/// Keys with a meaning somewhere in the runtime or in JavaScript.
const KEYS: &[&str] = &[
    "$ref",
    "__proto__",
    "constructor",
    "prototype",
    "toJSON",
    "then",
    "length",
    "0",
    "1",
    "-1",
    "4294967295",
    "9007199254740993",
    "",
    "a",
    "b",
    "$circular",
    "$missing",
    "paths",
    "components",
    "schemas",
    "description",
    "type",
    "properties",
    "items",
    "~",
    "/",
    "%25",
    "\u{0}",
    "\u{FEFF}",
];

/// `$ref` values: local JSON Pointers, good and bad, and others.
const REFS: &[&str] = &[
    "#",
    "#/",
    "#/a",
    "#/a/b",
    "#/0",
    "#/1",
    "#/a~1b",
    "#/~0",
    "#/~2",
    "#/%25",
    "#/a/0/b",
    "#/components/schemas/a",
    "#/paths",
    "#/__proto__",
    "#/$ref",
    "a#/a",
    "http://x/#/a",
    "",
    "#/a/-",
    "#/a/00",
];

/// The fuzz input as a JSON value: parsed when it is JSON text, else built
/// from the bytes.
pub fn value(data: &[u8]) -> Result<Value> {
    if let Some(parsed) = std::str::from_utf8(data)
        .ok()
        .and_then(|text| serde_json::from_str(text).ok())
    {
        return Ok(parsed);
    }
    generate(&mut Unstructured::new(data), 0)
}

/// A value built from `u`, at most [`MAX_DEPTH`] deep.
pub fn generate(u: &mut Unstructured<'_>, depth: u32) -> Result<Value> {
    let choice = if depth >= MAX_DEPTH || u.is_empty() {
        u.int_in_range(0..=4)?
    } else {
        u.int_in_range(0..=8)?
    };
    Ok(match choice {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => match u.int_in_range(0..=3)? {
            0 => Value::from(u.arbitrary::<i64>()?),
            1 => Value::from(u.arbitrary::<u64>()?),
            2 => Number::from_f64(u.arbitrary()?).map_or(Value::Null, Value::Number),
            _ => Value::from(u.int_in_range(-3..=3)?),
        },
        3 => Value::String(string(u)?),
        4 => Value::String((*u.choose(REFS)?).to_owned()),
        5 => {
            let count = u.int_in_range(0..=6)?;
            let items = (0..count)
                .map(|_| generate(u, depth + 1))
                .collect::<Result<_>>()?;
            Value::Array(items)
        }
        6 => {
            let count = u.int_in_range(0..=6)?;
            let mut members = Map::new();
            for _ in 0..count {
                let key = if u.ratio(3, 4)? {
                    (*u.choose(KEYS)?).to_owned()
                } else {
                    string(u)?
                };
                members.insert(key, generate(u, depth + 1)?);
            }
            Value::Object(members)
        }
        7 => {
            // A Reference Object, with siblings laid over the target.
            let mut members = Map::new();
            members.insert("$ref".into(), Value::String((*u.choose(REFS)?).to_owned()));
            if u.arbitrary()? {
                members.insert((*u.choose(KEYS)?).to_owned(), generate(u, depth + 1)?);
            }
            Value::Object(members)
        }
        _ => {
            // A long run of nesting in one step, or a wide or long leaf.
            match u.int_in_range(0..=2)? {
                0 => {
                    let levels = u.int_in_range(1..=MAX_DEPTH.saturating_sub(depth).max(1))?;
                    let mut inner = generate(u, MAX_DEPTH)?;
                    for level in 0..levels {
                        inner = if level % 2 == 0 {
                            Value::Array(vec![inner])
                        } else {
                            let mut members = Map::new();
                            members.insert("a".into(), inner);
                            Value::Object(members)
                        };
                    }
                    inner
                }
                1 => {
                    let count = u.int_in_range(0..=4000)?;
                    Value::Object(
                        (0..count)
                            .map(|index| (format!("k{index}"), Value::from(index)))
                            .collect(),
                    )
                }
                _ => {
                    let length = u.int_in_range(0..=300_000)?;
                    let unit = string(u)?;
                    let unit = if unit.is_empty() {
                        "é".to_owned()
                    } else {
                        unit
                    };
                    Value::String(unit.repeat(length / unit.len() + 1))
                }
            }
        }
    })
}

fn string(u: &mut Unstructured<'_>) -> Result<String> {
    let length = u.int_in_range(0..=24)?;
    let mut text = String::new();
    for _ in 0..length {
        text.push(u.arbitrary()?);
    }
    Ok(text)
}

/// Where `a` and `b` first differ as JSON as JavaScript sees it (`None`
/// when they do not): numbers compare as doubles, and may differ in their
/// last bit (serde_json, without its `float_roundtrip` feature, parses the
/// last digit of some doubles one bit off); objects compare regardless of
/// the order of their members.
pub fn difference(a: &Value, b: &Value) -> Option<String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            let close = x == y || (x - y).abs() <= 2.0 * f64::EPSILON * x.abs().max(y.abs());
            (!close).then(|| format!(": {x:e} and {y:e}"))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(index, (x, y))| difference(x, y).map(|rest| format!("[{index}]{rest}"))),
        (Value::Object(x), Value::Object(y)) if x.len() == y.len() => {
            x.iter().find_map(|(key, x)| match y.get(key) {
                Some(y) => difference(x, y).map(|rest| format!("[{key:?}]{rest}")),
                None => Some(format!(": {key:?} is missing")),
            })
        }
        (x, y) => (x != y).then(|| format!(": {x} and {y}")),
    }
}

/// `text` as JSON, however deep it nests.
///
/// # Panics
///
/// When `text` is not JSON.
pub fn parse_unbounded(text: &str) -> Value {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.disable_recursion_limit();
    let value = Value::deserialize(&mut deserializer);
    value
        .and_then(|value| deserializer.end().map(|()| value))
        .unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
}

/// True when `value` has a member named `key` anywhere.
pub fn has_key(value: &Value, key: &str) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| has_key(item, key)),
        Value::Object(members) => members
            .iter()
            .any(|(name, item)| name == key || has_key(item, key)),
        _ => false,
    }
}
