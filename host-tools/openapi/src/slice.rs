//! Some operations' part of an OpenAPI description, as a description of
//! its own.
//!
//! The connector does not keep its description parsed: a `serde_json::Value`
//! of GitHub's is 50 MB. Scripts read the description from a [`Document`],
//! which holds it once, compactly; when the host needs an operation (to
//! describe it, or to check a call's arguments) it takes from that document
//! the operation's path item and, transitively, whatever its `$ref`s point
//! to, and parses that as a description: a [`Slice`]. Its types are named
//! as in the whole description: when the schemas it holds would not be
//! named the same on their own (two keys that make one name, one of them
//! left out), every other `components.schemas` key is put in too, as an
//! empty schema.

use std::collections::{HashMap, HashSet};

use codemode_runtime::Document;
use codemode_typescript::names::Names;
use codemode_typescript::pointer;
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use crate::spec::{Operation, Spec};

/// The members of a path item that hold operations.
const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Where an operation is in the description, and its function name.
#[derive(Debug, Clone)]
pub(crate) struct Located {
    /// The function name, unique in the whole description.
    pub(crate) name: String,
    /// The path template (`/repos/{owner}/{repo}`).
    pub(crate) path: String,
    /// The HTTP method, upper case.
    pub(crate) method: String,
}

/// What slicing needs of the whole description besides its document.
pub(crate) struct Slicer {
    /// The description's `openapi` member.
    version: Value,
    /// Every `components.schemas` key, in order, with its type name.
    schemas: Vec<(String, String)>,
    /// The place of each key in `schemas`.
    schema_places: HashMap<String, usize>,
}

/// Some operations' part of the description, parsed, and the operations.
pub(crate) struct Slice {
    pub(crate) spec: Spec,
    /// The operations asked for, in the order asked, named as in the whole
    /// description.
    pub(crate) operations: Vec<Operation>,
}

impl Slicer {
    /// What slicing needs of `spec`, the whole description.
    pub(crate) fn new(spec: &Spec) -> Self {
        let document = spec.document();
        let keys: Vec<&str> = match document.pointer("/components/schemas") {
            Some(Value::Object(schemas)) => schemas.keys().map(String::as_str).collect(),
            _ => Vec::new(),
        };
        let names = Names::types(&keys);
        let schemas: Vec<(String, String)> = keys
            .iter()
            .filter_map(|key| Some(((*key).to_owned(), names.identifier(key)?.to_owned())))
            .collect();
        let schema_places = schemas
            .iter()
            .enumerate()
            .map(|(place, (key, _))| (key.clone(), place))
            .collect();
        Self {
            version: document.get("openapi").cloned().unwrap_or(Value::Null),
            schemas,
            schema_places,
        }
    }

    /// The part of the description in `document` that the operations at
    /// `located` need; `None` if the document does not hold one of them.
    pub(crate) fn slice(&self, document: &Document, located: &[&Located]) -> Option<Slice> {
        let mut root = Map::new();
        root.insert("openapi".to_owned(), self.version.clone());
        let mut sliced = Value::Object(root);
        let mut pending = Vec::new();
        let mut paths: Vec<&str> = Vec::new();
        for at in located {
            if !paths.contains(&at.path.as_str()) {
                paths.push(&at.path);
            }
        }
        for path in paths {
            let Value::Object(mut item) =
                document.get(&format!("/paths/{}", pointer::escape(path)))?
            else {
                return None;
            };
            let methods: Vec<String> = located
                .iter()
                .filter(|at| at.path == path)
                .map(|at| at.method.to_ascii_lowercase())
                .collect();
            item.retain(|key, _| methods.contains(key) || !METHODS.contains(&key.as_str()));
            let item = Value::Object(item);
            collect_refs(&item, &mut pending);
            insert(&mut sliced, &["paths", path], item);
        }
        let spec = self.take(document, sliced, pending)?;
        let operations = located
            .iter()
            .map(|at| {
                let mut operation = spec
                    .operations()
                    .iter()
                    .find(|op| op.path == at.path && op.method == at.method)?
                    .clone();
                operation.name.clone_from(&at.name);
                Some(operation)
            })
            .collect::<Option<_>>()?;
        Some(Slice { spec, operations })
    }

    /// The part of the description that the named types called `names` (as
    /// declarations name them) need; `None` if one is not a type of it.
    pub(crate) fn slice_types(&self, document: &Document, names: &[&str]) -> Option<Spec> {
        let mut root = Map::new();
        root.insert("openapi".to_owned(), self.version.clone());
        let pending = names
            .iter()
            .map(|name| {
                let (key, _) = self.schemas.iter().find(|(_, named)| named == name)?;
                Some(pointer::child("#/components/schemas", key))
            })
            .collect::<Option<Vec<String>>>()?;
        self.take(document, Value::Object(root), pending)
    }

    /// `sliced` with what the references `pending` need taken from
    /// `document`, transitively, parsed as a description.
    fn take(
        &self,
        document: &Document,
        mut sliced: Value,
        mut pending: Vec<String>,
    ) -> Option<Spec> {
        // A `$ref` into a path item takes it whole, its other operations
        // too.
        let mut taken = HashSet::new();
        while let Some(reference) = pending.pop() {
            for unit in unit_pointers(&reference) {
                if !taken.insert(unit.clone()) {
                    continue;
                }
                let Some(value) = document.get(&unit) else {
                    continue;
                };
                collect_refs(&value, &mut pending);
                let tokens: Vec<_> = unit.split('/').skip(1).map(pointer::unescape).collect();
                let tokens: Vec<&str> = tokens.iter().map(AsRef::as_ref).collect();
                insert(&mut sliced, &tokens, value);
            }
        }
        self.name_schemas(&mut sliced);
        Spec::from_value(sliced).ok()
    }

    /// Put the schemas `sliced` took in the description's order, so that
    /// its types are declared in that order; and when they would not be
    /// named as in the whole description on their own, every other key
    /// of `components.schemas` among them as an empty schema.
    fn name_schemas(&self, sliced: &mut Value) {
        let Some(Value::Object(taken)) = sliced.pointer_mut("/components/schemas") else {
            return;
        };
        let mut taken = std::mem::take(taken);
        let mut places: Vec<usize> = taken
            .keys()
            .filter_map(|key| self.schema_places.get(key).copied())
            .collect();
        places.sort_unstable();
        let names = Names::types(places.iter().map(|&place| &self.schemas[place].0));
        let named_alike = places.iter().all(|&place| {
            let (key, name) = &self.schemas[place];
            names.identifier(key) == Some(name.as_str())
        });
        let keys: Box<dyn Iterator<Item = &(String, String)>> = if named_alike {
            Box::new(places.iter().map(|&place| &self.schemas[place]))
        } else {
            Box::new(self.schemas.iter())
        };
        let schemas: Map<String, Value> = keys
            .map(|(key, _)| {
                let schema = taken
                    .remove(key)
                    .unwrap_or_else(|| Value::Object(Map::new()));
                (key.clone(), schema)
            })
            .collect();
        insert(sliced, &["components", "schemas"], Value::Object(schemas));
    }
}

/// Every `$ref` string in `value`, at any depth.
fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                match member {
                    Value::String(reference) if key == "$ref" => out.push(reference.clone()),
                    _ => collect_refs(member, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, out)),
        _ => {}
    }
}

/// The pointers of what the local `reference` needs taken whole: a
/// `components` entry, a path item, or another member of the root, as
/// written and percent-decoded (a `$ref` is a URI fragment). None for a
/// reference to another document.
fn unit_pointers(reference: &str) -> Vec<String> {
    let Some(fragment) = reference.strip_prefix('#') else {
        return Vec::new();
    };
    let decoded = percent_decode_str(fragment).decode_utf8_lossy();
    let mut pointers = Vec::new();
    for pointer in [fragment, decoded.as_ref()] {
        let tokens: Vec<&str> = pointer.split('/').skip(1).collect();
        let whole = match tokens.first().copied() {
            None => 0,
            Some("components") => 3,
            Some("paths") => 2,
            Some(_) => 1,
        };
        let unit: String = tokens
            .iter()
            .take(whole)
            .map(|token| format!("/{token}"))
            .collect();
        if !pointers.contains(&unit) {
            pointers.push(unit);
        }
    }
    pointers
}

/// `value` placed in `root` at `tokens`, replacing what was there, with
/// objects made on the way (unless something else is on the way).
fn insert(root: &mut Value, tokens: &[&str], value: Value) {
    let Some((last, parents)) = tokens.split_last() else {
        *root = value;
        return;
    };
    let mut at = root;
    for token in parents {
        let Value::Object(members) = at else { return };
        at = members
            .entry((*token).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let Value::Object(members) = at {
        members.insert((*last).to_owned(), value);
    }
}

#[cfg(test)]
mod tests {
    use codemode_typescript::schema::Scope;
    use serde_json::json;

    use super::*;
    use crate::spec::Spec;

    /// Slices every operation of `description` and checks that each slice
    /// holds the operation as the whole description does, declares it the
    /// same way, needs the same schemas and resolves its references to the
    /// same values. How many operations were checked.
    fn slices_agree(description: Value) -> usize {
        let whole = Spec::from_value(description.clone()).expect("a description");
        let document = Document::new(description);
        let slicer = Slicer::new(&whole);
        let located = |operation: &Operation| Located {
            name: operation.name.clone(),
            path: operation.path.clone(),
            method: operation.method.clone(),
        };
        for operation in whole.operations() {
            let Slice { spec, operations } = slicer
                .slice(&document, &[&located(operation)])
                .unwrap_or_else(|| panic!("`{}` slices", operation.name));
            let [sliced] = operations.as_slice() else {
                panic!("one operation asked, {} sliced", operations.len());
            };
            assert_eq!(sliced, operation);
            assert_eq!(
                spec.declaration("api", &[sliced], false),
                whole.declaration("api", &[operation], false),
                "{}",
                operation.name
            );
            assert_eq!(
                spec.schemas_for(&[sliced]),
                whole.schemas_for(&[operation]),
                "{}",
                operation.name
            );
            let mut references = Vec::new();
            collect_refs(&operation.input_schema(), &mut references);
            let (in_slice, in_whole) = (Scope::new(spec.document()), Scope::new(whole.document()));
            for reference in &references {
                assert_eq!(
                    in_slice.resolve(reference),
                    in_whole.resolve(reference),
                    "{reference}"
                );
            }
        }
        // Every other operation, in one slice, declared together.
        let chosen: Vec<&Operation> = whole.operations().iter().step_by(2).collect();
        let places: Vec<Located> = chosen.iter().map(|operation| located(operation)).collect();
        let places: Vec<&Located> = places.iter().collect();
        let Slice { spec, operations } = slicer.slice(&document, &places).expect("a slice");
        let sliced: Vec<&Operation> = operations.iter().collect();
        assert_eq!(
            spec.declaration("api", &sliced, true),
            whole.declaration("api", &chosen, true)
        );
        whole.operations().len()
    }

    #[test]
    fn a_slice_holds_what_its_operation_needs_however_it_is_referenced() {
        let description = json!({
            "openapi": "3.1.0",
            "paths": {
                "/items/{id}": {
                    "parameters": [{ "$ref": "#/components/parameters/id" }],
                    "get": {
                        "operationId": "items/get",
                        "parameters": [{ "name": "q", "in": "query", "schema": { "$ref": "#/components/schemas/Query%20Text" } }],
                        "responses": { "200": { "$ref": "#/components/responses/item" } }
                    },
                    "put": {
                        "operationId": "items/put",
                        "requestBody": { "$ref": "#/components/requestBodies/item" },
                        "responses": { "204": { "description": "done" } }
                    }
                },
                "/copy": { "$ref": "#/components/pathItems/copy" },
                "/other": {
                    "post": {
                        "operationId": "items-get",
                        "requestBody": { "content": { "application/json": { "schema": { "$ref": "#/paths/~1items~1{id}/put/requestBody/content/application~1json/schema" } } } },
                        "responses": { "200": { "content": { "application/json": { "schema": { "$ref": "#/x-shared/tree" } } } } }
                    }
                }
            },
            "x-shared": { "tree": { "type": "object", "properties": { "children": { "type": "array", "items": { "$ref": "#/components/schemas/node" } } } } },
            "components": {
                "parameters": { "id": { "name": "id", "in": "path", "required": true, "schema": { "type": "integer" } } },
                "responses": { "item": { "description": "an item", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/item" } } } } },
                "requestBodies": { "item": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/item" } } } } },
                "pathItems": { "copy": { "get": { "operationId": "copy", "responses": { "200": { "content": { "application/json": { "schema": { "$ref": "#/components/schemas/node" } } } } } } } },
                "schemas": {
                    // Already a type name: `node-list` gets another.
                    "NodeList": { "type": "boolean" },
                    "unused-one": { "type": "string" },
                    "item": { "type": "object", "properties": { "node": { "$ref": "#/components/schemas/node" }, "kind": { "$ref": "#/components/schemas/kind" } } },
                    "node": { "anyOf": [{ "$ref": "#/components/schemas/node-list" }, { "type": "string" }] },
                    "node-list": { "type": "array", "items": { "$ref": "#/components/schemas/node" } },
                    "kind": { "enum": ["a", "b"] },
                    "Query Text": { "type": "string", "maxLength": 10 },
                    "unused_one": { "type": "number" },
                    "item-list": { "type": "array", "items": { "$ref": "#/components/schemas/item" } }
                }
            }
        });
        assert_eq!(slices_agree(description), 4);
    }

    #[test]
    fn every_operation_of_github_slices_as_the_whole_description_has_it() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/npm/node_modules/@octokit/openapi/generated/api.github.com.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
            panic!("`{path}`: {e}: run `scripts/setup` (it runs `npm ci --prefix tests/npm`)")
        });
        let description: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(slices_agree(description), 1223);
    }

    #[test]
    fn an_operation_the_document_does_not_hold_has_no_slice() {
        let description =
            json!({ "openapi": "3.0.3", "paths": { "/a": { "get": { "responses": {} } } } });
        let whole = Spec::from_value(description.clone()).expect("a description");
        let slicer = Slicer::new(&whole);
        let located = |path: &str, method: &str| Located {
            name: "get_a".to_owned(),
            path: path.to_owned(),
            method: method.to_owned(),
        };
        let document = Document::new(description);
        assert!(slicer.slice(&document, &[&located("/a", "GET")]).is_some());
        assert!(slicer.slice(&document, &[&located("/a", "POST")]).is_none());
        assert!(slicer.slice(&document, &[&located("/b", "GET")]).is_none());
        let both = [&located("/a", "GET"), &located("/b", "GET")];
        assert!(slicer.slice(&document, &both).is_none());
    }

    #[test]
    fn references_name_whole_units() {
        assert_eq!(
            unit_pointers("#/components/schemas/a/properties/b"),
            ["/components/schemas/a"]
        );
        assert_eq!(unit_pointers("#/paths/~1a~1{b}/get"), ["/paths/~1a~1{b}"]);
        assert_eq!(unit_pointers("#/x-shared/tree"), ["/x-shared"]);
        assert_eq!(
            unit_pointers("#/components/schemas/a%20b"),
            ["/components/schemas/a%20b", "/components/schemas/a b"]
        );
        assert_eq!(unit_pointers("#"), [""]);
        assert!(unit_pointers("other.json#/a").is_empty());
    }
}
