//! How deep a connector's reply nests, found without recursion.
//!
//! serde_json serializes and drops a `Value` recursively, one stack frame
//! per level: a reply nested a hundred thousand levels deep (which any
//! connector an embedder writes can build) would overflow the host's stack
//! while being encoded for the guest. Replies deeper than
//! [`MAX_REPLY_DEPTH`] are refused, and taken apart level by level.

use serde_json::Value;

/// The deepest reply a connector may give: far more than any API's JSON,
/// and far less than what overflows a thread's stack.
pub(crate) const MAX_REPLY_DEPTH: usize = 256;

/// True when `value` has arrays or objects nested more than `max` deep.
pub(crate) fn deeper_than(value: &Value, max: usize) -> bool {
    let mut pending = vec![(value, 0)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(members) => Box::new(members.values()),
            _ => continue,
        };
        if depth == max {
            return true;
        }
        pending.extend(children.map(|child| (child, depth + 1)));
    }
    false
}

/// Drop `value` one level at a time, however deep it nests.
pub(crate) fn drop_flat(value: Value) {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::Array(items) => pending.extend(items),
            Value::Object(members) => pending.extend(members.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// By moving: `json!` would copy `value` by serializing it.
    fn nested(depth: usize) -> Value {
        let mut value = json!(1);
        for level in 0..depth {
            value = if level % 2 == 0 {
                Value::Array(vec![value])
            } else {
                Value::Object([("a".to_owned(), value)].into_iter().collect())
            };
        }
        value
    }

    #[test]
    fn depth_counts_arrays_and_objects() {
        assert!(!deeper_than(&json!(1), 0));
        assert!(!deeper_than(&json!([]), 1));
        assert!(deeper_than(&json!([]), 0));
        assert!(!deeper_than(&nested(5), 5));
        assert!(deeper_than(&nested(6), 5));
        assert!(deeper_than(&json!([1, {"a": [[]]}]), 3));
    }

    #[test]
    fn a_million_levels_are_measured_and_dropped_without_recursion() {
        let deep = nested(1_000_000);
        assert!(deeper_than(&deep, MAX_REPLY_DEPTH));
        drop_flat(deep);
    }
}
