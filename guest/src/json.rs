//! JSON between JavaScript values and the host, without going through
//! `JSON.stringify` and `JSON.parse`.
//!
//! Connector arguments and replies cross the WIT boundary as JSON text. In
//! QuickJS compiled to WebAssembly, `JSON.stringify` plus `JSON.parse` of a
//! small object costs more than the rest of a connector call together, so
//! this module writes plain data (null, booleans, numbers, strings, arrays
//! and plain objects) straight from the JavaScript value, and builds replies
//! straight from the text. Anything else (a `toJSON` method, a class
//! instance, a `Date`, a `BigInt`, nesting deeper than [`MAX_DEPTH`], a
//! `__proto__` key) is declined, and the prelude falls back to the real
//! `JSON.stringify`/`JSON.parse`, so the result is always what those give.

use std::cell::RefCell;
use std::fmt;

use javy::quickjs::{Array, Ctx, Object, Persistent, Result, String as JsString, Type, Value};
use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use serde_json::ser::{CompactFormatter, Formatter};

/// Deeper values go through the JavaScript fallback.
const MAX_DEPTH: u32 = 64;

thread_local! {
    /// `Object.prototype` as it was at initialization: objects with this
    /// prototype (or none) are plain data.
    static OBJECT_PROTOTYPE: RefCell<Option<Persistent<Object<'static>>>> = const { RefCell::new(None) };
}

/// Remember `Object.prototype`; called once at initialization.
pub(crate) fn init(ctx: &Ctx<'_>) -> Result<()> {
    let object: Object = ctx.globals().get("Object")?;
    let prototype: Object = object.get("prototype")?;
    OBJECT_PROTOTYPE.with(|p| *p.borrow_mut() = Some(Persistent::save(ctx, prototype)));
    Ok(())
}

fn is_plain<'js>(ctx: &Ctx<'js>, object: &Object<'js>) -> Result<bool> {
    let Some(prototype) = object.get_prototype() else {
        return Ok(true);
    };
    let plain = OBJECT_PROTOTYPE.with(|p| {
        p.borrow()
            .clone()
            .and_then(|saved| saved.restore(ctx).ok())
            .is_some_and(|saved| saved == prototype)
    });
    Ok(plain && object.get::<_, Value>("toJSON")?.is_undefined())
}

/// Write `value` as JSON into `out`. `Ok(false)`: declined, nothing
/// meaningful written; the caller must use `JSON.stringify`.
pub(crate) fn write<'js>(ctx: &Ctx<'js>, value: &Value<'js>, out: &mut Vec<u8>) -> Result<bool> {
    write_value(ctx, value, out, 0)
}

fn write_value<'js>(
    ctx: &Ctx<'js>,
    value: &Value<'js>,
    out: &mut Vec<u8>,
    depth: u32,
) -> Result<bool> {
    if depth > MAX_DEPTH {
        return Ok(false);
    }
    let mut formatter = CompactFormatter;
    match value.type_of() {
        Type::Null => out.extend_from_slice(b"null"),
        Type::Bool => out.extend_from_slice(if value.as_bool() == Some(true) {
            b"true"
        } else {
            b"false"
        }),
        Type::Int => {
            let _ = formatter.write_i32(out, value.as_int().unwrap_or(0));
        }
        Type::Float => write_number(out, value.as_float().unwrap_or(f64::NAN)),
        Type::String => {
            let Some(text) = value.as_string().and_then(|s| s.to_string().ok()) else {
                return Ok(false);
            };
            let _ = serde_json::to_writer(&mut *out, &text);
        }
        Type::Array => {
            let Some(array) = value.as_array() else {
                return Ok(false);
            };
            out.push(b'[');
            for index in 0..array.len() {
                if index > 0 {
                    out.push(b',');
                }
                let item: Value = array.get(index)?;
                if skipped(&item) {
                    out.extend_from_slice(b"null");
                } else if !write_value(ctx, &item, out, depth + 1)? {
                    return Ok(false);
                }
            }
            out.push(b']');
        }
        Type::Object => {
            let Some(object) = value.as_object() else {
                return Ok(false);
            };
            if !is_plain(ctx, object)? {
                return Ok(false);
            }
            out.push(b'{');
            let mut first = true;
            for property in object.props::<String, Value>() {
                let (key, item) = property?;
                if skipped(&item) {
                    continue;
                }
                if !first {
                    out.push(b',');
                }
                first = false;
                let _ = serde_json::to_writer(&mut *out, &key);
                out.push(b':');
                if !write_value(ctx, &item, out, depth + 1)? {
                    return Ok(false);
                }
            }
            out.push(b'}');
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// What `JSON.stringify` leaves out of objects (and writes as `null` in
/// arrays).
fn skipped(value: &Value<'_>) -> bool {
    matches!(
        value.type_of(),
        Type::Undefined | Type::Function | Type::Constructor | Type::Symbol
    )
}

/// Numbers as `JSON.stringify` writes them: integral values without a
/// fraction, non-finite ones as `null`.
fn write_number(out: &mut Vec<u8>, number: f64) {
    let mut formatter = CompactFormatter;
    if !number.is_finite() {
        out.extend_from_slice(b"null");
    } else if number.fract() == 0.0 && number.abs() < 9_007_199_254_740_992.0 {
        let _ = formatter.write_i64(out, number as i64);
    } else {
        let _ = formatter.write_f64(out, number);
    }
}

/// Parse JSON text into a JavaScript value. `Ok(None)`: declined (a
/// `__proto__` key, or nesting too deep); the caller must use `JSON.parse`.
pub(crate) fn parse<'js>(ctx: &Ctx<'js>, text: &str) -> Result<Option<Value<'js>>> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let built = Builder { ctx, depth: 0 }.deserialize(&mut deserializer);
    match built.and_then(|value| deserializer.end().map(|()| value)) {
        Ok(value) => Ok(Some(value)),
        Err(_) => Ok(None),
    }
}

/// Builds JavaScript values as serde_json reads the text.
#[derive(Clone, Copy)]
struct Builder<'a, 'js> {
    ctx: &'a Ctx<'js>,
    depth: u32,
}

impl<'a, 'js> Builder<'a, 'js> {
    fn nested(self) -> std::result::Result<Self, serde_json::Error> {
        if self.depth >= MAX_DEPTH {
            return Err(serde_json::Error::custom("too deep"));
        }
        Ok(Self {
            depth: self.depth + 1,
            ..self
        })
    }
}

impl<'de, 'js> DeserializeSeed<'de> for Builder<'_, 'js> {
    type Value = Value<'js>;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> std::result::Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, 'js> Visitor<'de> for Builder<'_, 'js> {
    type Value = Value<'js>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("JSON")
    }

    fn visit_unit<E: serde::de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(Value::new_null(self.ctx.clone()))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> std::result::Result<Self::Value, E> {
        Ok(Value::new_bool(self.ctx.clone(), v))
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<Self::Value, E> {
        Ok(match i32::try_from(v) {
            Ok(small) => Value::new_int(self.ctx.clone(), small),
            Err(_) => Value::new_float(self.ctx.clone(), v as f64),
        })
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<Self::Value, E> {
        Ok(match i32::try_from(v) {
            Ok(small) => Value::new_int(self.ctx.clone(), small),
            Err(_) => Value::new_float(self.ctx.clone(), v as f64),
        })
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> std::result::Result<Self::Value, E> {
        Ok(Value::new_float(self.ctx.clone(), v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
        JsString::from_str(self.ctx.clone(), v)
            .map(JsString::into_value)
            .map_err(E::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let inner = self.nested().map_err(A::Error::custom)?;
        let array = Array::new(self.ctx.clone()).map_err(A::Error::custom)?;
        let mut index = 0;
        while let Some(item) = seq.next_element_seed(inner)? {
            array.set(index, item).map_err(A::Error::custom)?;
            index += 1;
        }
        Ok(array.into_value())
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let inner = self.nested().map_err(A::Error::custom)?;
        let object = Object::new(self.ctx.clone()).map_err(A::Error::custom)?;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            // Setting `__proto__` would change the prototype, where
            // `JSON.parse` makes an own property: leave it to `JSON.parse`.
            if key == "__proto__" {
                return Err(A::Error::custom("__proto__ key"));
            }
            let item = map.next_value_seed(inner)?;
            object.set(key.as_ref(), item).map_err(A::Error::custom)?;
        }
        Ok(object.into_value())
    }
}
