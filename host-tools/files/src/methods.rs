//! The methods' descriptions and argument schemas: what `codemode.search`
//! and `describe` show, and what the approval policy reads (`read_only`).

use codemode_runtime::MethodDescription;
use serde_json::{Value, json};

/// The methods that only read.
const READ_ONLY: [&str; 3] = ["read", "list", "stat"];

/// True for a method that only reads.
pub(crate) fn is_read_only(method: &str) -> bool {
    READ_ONLY.contains(&method)
}

/// A path argument, relative to the directory.
fn path(what: &str) -> Value {
    json!({ "type": "string", "description": format!("{what}, relative to the directory (`/`-separated; no `..` out of it)") })
}

fn encoding() -> Value {
    json!({ "type": "string", "enum": ["utf8", "base64"], "description": "how `content` is written: UTF-8 text (the default) or base64 bytes" })
}

/// Every method, all of them listed whatever the mode (a read-only
/// directory refuses the writes with a typed error).
pub(crate) fn descriptions() -> Vec<MethodDescription> {
    let object = |properties: Value, required: &[&str]| json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false });
    vec![
        MethodDescription::new("read", "Read a file: its text (UTF-8) or its bytes as base64.")
            .input_schema(object(json!({ "path": path("the file"), "encoding": encoding() }), &["path"]))
            .output_schema(json!({ "type": "object", "properties": {
                "path": { "type": "string" }, "content": { "type": "string" },
                "encoding": { "type": "string" }, "size": { "type": "integer" } } }))
            .read_only(true),
        MethodDescription::new("write", "Write a file, replacing it atomically (a temporary file, then a rename).")
            .input_schema(object(json!({
                "path": path("the file"), "content": { "type": "string" }, "encoding": encoding(),
                "createDirs": { "type": "boolean", "description": "create missing parent directories" } }), &["path", "content"])),
        MethodDescription::new("append", "Append to a file, creating it if it is missing.")
            .input_schema(object(json!({ "path": path("the file"), "content": { "type": "string" }, "encoding": encoding() }), &["path", "content"])),
        MethodDescription::new("list", "List a directory's entries (name, type, size), recursively and filtered by a glob if asked.")
            .input_schema(object(json!({
                "path": path("the directory (default: the root)"),
                "recursive": { "type": "boolean" },
                "glob": { "type": "string", "description": "keep the paths that match, e.g. `**/*.json`" } }), &[]))
            .output_schema(json!({ "type": "object", "properties": {
                "entries": { "type": "array", "items": { "type": "object", "properties": {
                    "path": { "type": "string" }, "type": { "type": "string", "enum": ["file", "dir", "symlink", "other"] },
                    "size": { "type": "integer" } } } },
                "truncated": { "type": "boolean" } } }))
            .read_only(true),
        MethodDescription::new("stat", "A path's type, size and modification time (a symlink is described, not followed).")
            .input_schema(object(json!({ "path": path("the path") }), &["path"]))
            .read_only(true),
        MethodDescription::new("mkdir", "Create a directory.")
            .input_schema(object(json!({ "path": path("the directory"), "recursive": { "type": "boolean", "description": "create missing parents too, and succeed if it exists" } }), &["path"])),
        MethodDescription::new("remove", "Remove a file, or a directory (with `recursive` when it is not empty).")
            .input_schema(object(json!({ "path": path("the path"), "recursive": { "type": "boolean" } }), &["path"])),
        MethodDescription::new("move", "Move or rename a file or directory inside the directory.")
            .input_schema(object(json!({ "from": path("the path to move"), "to": path("where to") }), &["from", "to"])),
    ]
}
