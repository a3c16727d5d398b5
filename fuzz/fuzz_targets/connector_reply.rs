//! Arbitrary JSON as a connector's reply, read by a script that walks all
//! of it and hands it back. The script sees exactly the JSON the connector
//! sent (as JavaScript numbers), whatever its keys (`__proto__` included):
//! the run's result is the reply, unless a documented limit stopped it
//! (nesting too deep for the sandbox's stack, its memory, fuel or time), or
//! the host refused the reply (larger than `reply_bytes`, or nested deeper
//! than it allows) with a `ConnectorError`.
//! The script hands the reply back as JSON text, so that a reply nested
//! deeper than the host's JSON parser allows (128) comes back whole.
#![no_main]

use codemode_fuzz::json;
use codemode_fuzz::sandbox::{Fixed, HARNESS};
use codemode_runtime::{ErrorKind, Execution, Language};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Walks the reply (keys, descriptors, prototypes, array methods), checks
/// that nothing reached `Object.prototype`, and returns the reply's JSON.
const WALK: &str = r#"
const reply = await fixed.reply();
let nodes = 0;
function walk(value) {
  nodes++;
  if (value === null || typeof value !== 'object') return;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== Array.prototype) throw new Error('foreign prototype');
  if (Array.isArray(value)) { value.forEach(walk); value.slice().reverse(); return; }
  for (const key of Object.keys(value)) {
    Object.getOwnPropertyDescriptor(value, key);
    walk(value[key]);
  }
  for (const key in value) if (!Object.hasOwn(value, key)) throw new Error('inherited key ' + key);
}
walk(reply);
if (Object.keys(Object.prototype).length !== 0 || ({}).polluted !== undefined) {
  throw new Error('Object.prototype was changed');
}
JSON.stringify(reply)
"#;

fuzz_target!(|data: &[u8]| {
    let Ok(reply) = json::value(data) else {
        return;
    };
    let execution = Execution::new(WALK).language(Language::JavaScript);
    let outcome = HARNESS.run(execution, Fixed::grants(reply.clone()));
    match (&outcome.result, &outcome.error) {
        (Some(Value::String(seen)), None) => {
            if let Some(difference) = json::difference(&json::parse_unbounded(seen), &reply) {
                panic!(
                    "the script saw another reply, at {difference}\nseen: {seen}\nsent: {reply}"
                );
            }
        }
        (None, Some(error)) if error.kind == ErrorKind::Script => assert!(
            error.name == "ConnectorError"
                && (error.message.contains("larger than the limit")
                    || error.message.contains("levels deep")),
            "an undocumented script error: {error:?}"
        ),
        (None, Some(error)) => assert!(error.kind.is_limit(), "not a limit: {error:?}"),
        _ => panic!("neither a result nor an error: {outcome:?}"),
    }
});
