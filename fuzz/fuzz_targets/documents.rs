//! Arbitrary JSON as a `Document` (the lazily read, read-only global that
//! OpenAPI descriptions and the tool catalog are given to scripts as), read
//! by a script that walks all of it, tries to change it, and returns it.
//!
//! Without `$ref`s the script sees exactly the JSON (as JavaScript numbers);
//! with them it sees them resolved, which this target does not model, so it
//! checks only that the run ends well. Either way the run ends with a
//! result, a limit, or the one documented script error: a node too large
//! for one reply.
#![no_main]

use std::sync::Arc;

use codemode_fuzz::json;
use codemode_fuzz::sandbox::HARNESS;
use codemode_runtime::{Document, ErrorKind, Execution, Grants, Language};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Walks the document every way a script reads JSON, checks that writes
/// do not take, and returns its JSON (as text, so that a document nested
/// deeper than the host's JSON parser allows comes back whole).
const WALK: &str = r#"
let nodes = 0;
function walk(value, depth) {
  nodes++;
  if (value === null || typeof value !== 'object' || depth > 64) return;
  if (!Object.isFrozen(value) && !Array.isArray(value)) throw new Error('a document object is not frozen');
  if (Array.isArray(value)) {
    value.forEach((item) => walk(item, depth + 1));
    value.map((item) => typeof item).join();
    try { value.push(1); } catch {}
    return;
  }
  for (const [key, item] of Object.entries(value)) {
    if (!(key in value)) throw new Error('listed key not in: ' + key);
    walk(item, depth + 1);
  }
  for (const key in value) Object.getOwnPropertyDescriptor(value, key);
  try { value.added = 1; } catch {}
  try { delete value[Object.keys(value)[0]]; } catch {}
}
walk(doc, 0);
JSON.stringify(doc)
"#;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = json::value(data) else {
        return;
    };
    let document = Arc::new(Document::new(value.clone()));
    let execution = Execution::new(WALK)
        .language(Language::JavaScript)
        .document("doc", document);
    let outcome = HARNESS.run(execution, Arc::new(Grants::new()));
    match (&outcome.result, &outcome.error) {
        (Some(Value::String(read)), None) => {
            let difference = json::difference(&json::parse_unbounded(read), &value);
            if let Some(difference) = difference.filter(|_| !json::has_key(&value, "$ref")) {
                panic!(
                    "the script read another document, at {difference}\nread: {read}\ndocument: {value}"
                );
            }
        }
        (None, Some(error)) if error.kind == ErrorKind::Script => assert!(
            error.message.contains("larger than a reply may be")
                || error.message.contains("too many members to list"),
            "an undocumented script error: {error:?}"
        ),
        (None, Some(error)) => assert!(error.kind.is_limit(), "not a limit: {error:?}"),
        _ => panic!("neither a result nor an error: {outcome:?}"),
    }
});
