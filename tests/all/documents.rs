//! Lazy read-only documents: a script reads a document the host holds as
//! plain frozen data, node by node, with local `$ref`s resolved and cycles
//! marked. Large children are padded past the inline size, so that reads
//! of their own are exercised.

use std::sync::{Arc, LazyLock};

use anyhow::{Context, Result};
use codemode_runtime::{Document, Error, Execution, Outcome};
use codemode_test_support::github;
use serde_json::{Value, json};

use crate::support::{
    RUNTIME, TestConnector, assert_global_refused, raw, result, run_with, test_grants,
};

/// Longer than any child the host inlines: a node holding it is read by a
/// call of its own.
fn padding() -> String {
    "p".repeat(2_000)
}

/// Run `code` with `documents` as properties of the global `spec`.
async fn run_spec(code: &str, documents: &[(&str, Value)]) -> Outcome {
    let documents = documents
        .iter()
        .map(|(key, value)| ((*key).to_owned(), Arc::new(Document::new(value.clone()))))
        .collect();
    run_with(Execution::new(code).documents("spec", documents)).await
}

#[tokio::test]
async fn keys_with_slashes_and_tildes_are_read_through_escaped_pointers() -> Result<()> {
    let pad = padding();
    let document = json!({
        "paths": {
            "/repos/{owner}": { "get": { "summary": "Get a repository", "pad": pad } },
            "a~b/c": { "n": 1, "pad": pad },
            "~1": { "n": 2, "pad": pad },
            "%7B": { "n": 3, "pad": pad },
        }
    });
    let code = r#"
        const paths = spec.api.paths;
        [paths["/repos/{owner}"].get.summary, paths["a~b/c"].n, paths["~1"].n, paths["%7B"].n, Object.keys(paths)]
    "#;
    let outcome = run_spec(code, &[("api", document)]).await;
    // The root, `paths`, four path items and `get`: each large, each read.
    assert_eq!(outcome.stats.document_reads, 7, "{outcome:#?}");
    assert_eq!(
        result(&outcome),
        json!([
            "Get a repository",
            1,
            2,
            3,
            ["/repos/{owner}", "a~b/c", "~1", "%7B"]
        ])
    );
    Ok(())
}

/// A document with nodes of every kind and size: primitives, small and
/// large strings, arrays and objects, nested, some over the inline size.
fn mixed_document() -> Value {
    let pad = padding();
    let items: Vec<Value> = (0..40)
        .map(|n| match n % 5 {
            0 => json!(n),
            1 => json!(format!("item {n}")),
            2 => json!({ "n": n, "tags": ["a", "b"], "pad": if n % 2 == 0 { pad.clone() } else { String::new() } }),
            3 => json!([n, [n, { "deep": [n] }], null, true]),
            _ => json!(null),
        })
        .collect();
    json!({
        "title": "Mixed",
        "version": 3,
        "flag": false,
        "nothing": null,
        "long": pad,
        "items": items,
        "nested": { "a": { "b": { "c": { "d": [1, 2, { "e": pad }] } } } },
        "responses": { "default": { "description": "Other" }, "200": { "description": "OK" } },
        "__proto__": { "polluted": true },
        "empty": { "object": {}, "array": [] },
    })
}

#[tokio::test]
async fn a_document_reads_as_the_json_it_holds() -> Result<()> {
    let document = mixed_document();
    let code = r#"
        const d = spec.mixed;
        let forIn = 0;
        for (const key in d) forIn++;
        ({
            whole: d,
            text: JSON.stringify(d),
            keys: Object.keys(d),
            entries: Object.entries(d.nested.a.b.c).map(([k, v]) => [k, v.length]),
            forIn,
            has: ["title" in d, "missing" in d, "200" in d.responses],
            responses: Object.keys(d.responses),
            ownProto: Object.hasOwn(d, "__proto__") && d.__proto__.polluted,
            prototypes: [Object.getPrototypeOf(d) === Object.prototype, Object.getPrototypeOf(d.items) === Array.prototype],
            spread: { ...d.empty, ...d.items[2] }.n,
        })
    "#;
    let outcome = run_spec(code, &[("mixed", document.clone())]).await;
    let result = result(&outcome);
    assert_eq!(result["whole"], document);
    let text = result["text"].as_str().context("text")?;
    assert_eq!(serde_json::from_str::<Value>(text)?, document);
    let keys: Vec<&String> = document.as_object().context("object")?.keys().collect();
    assert_eq!(result["keys"], json!(keys));
    assert_eq!(result["entries"], json!([["d", 3]]));
    assert_eq!(result["forIn"], json!(keys.len()));
    assert_eq!(result["has"], json!([true, false, true]));
    // As after `JSON.parse`: integer-like keys come first.
    assert_eq!(result["responses"], json!(["200", "default"]));
    assert_eq!(result["ownProto"], json!(true));
    assert_eq!(result["prototypes"], json!([true, true]));
    assert_eq!(result["spread"], json!(2));
    Ok(())
}

#[tokio::test]
async fn arrays_read_like_arrays() -> Result<()> {
    let pad = padding();
    let document = json!({
        "list": [1, "two", { "n": 3, "pad": pad }, [4, [5]], null, pad],
        "tags": ["a", "b", "c"],
    });
    let code = r#"
        const { list, tags } = spec.doc;
        ({
            isArray: [Array.isArray(list), Array.isArray(tags), Array.isArray(list[3])],
            length: list.length,
            mapped: list.map((item) => typeof item),
            spread: [...tags, ...list[3]],
            third: list[2].n,
            last: list[5].length,
            keys: Object.keys(list),
            joined: tags.join("+"),
            found: tags.indexOf("b"),
            filtered: list.filter((item) => Array.isArray(item)).length,
            of: (() => { const seen = []; for (const tag of tags) seen.push(tag); return seen; })(),
        })
    "#;
    let outcome = run_spec(code, &[("doc", document)]).await;
    assert_eq!(
        result(&outcome),
        json!({
            "isArray": [true, true, true],
            "length": 6,
            "mapped": ["number", "string", "object", "object", "object", "string"],
            "spread": ["a", "b", "c", 4, [5]],
            "third": 3,
            "last": 2_000,
            "keys": ["0", "1", "2", "3", "4", "5"],
            "joined": "a+b+c",
            "found": 1,
            "filtered": 1,
            "of": ["a", "b", "c"],
        })
    );
    Ok(())
}

#[tokio::test]
async fn a_document_is_frozen_all_the_way_down() -> Result<()> {
    let document = json!({
        "info": { "title": "T", "pad": padding() },
        "tags": ["a"],
        "small": { "x": 1 },
    });
    let code = r#"
        "use strict";
        const results = [];
        for (const attempt of [
            () => { spec.api.info.title = "changed"; },
            () => { spec.api.info = {}; },
            () => { spec.api.small.x = 2; },
            () => { spec.api.small.y = 2; },
            () => { spec.api.tags.push("b"); },
            () => { spec.api.tags[0] = "z"; },
            () => { spec.api.tags.length = 0; },
            () => { delete spec.api.small; },
            () => { Object.defineProperty(spec.api.small, "x", { value: 3 }); },
            () => { spec.api = 1; },
            () => { spec.other = 1; },
            () => { spec = 1; },
            () => { delete globalThis.spec; },
        ]) {
            try { attempt(); results.push("allowed"); } catch (e) { results.push(e.name); }
        }
        const sloppy = new Function("spec.api.info.title = 'changed'; spec.api.small.x = 2; return [spec.api.info.title, spec.api.small.x];");
        ({
            results,
            sloppy: sloppy(),
            frozen: [spec, spec.api, spec.api.info, spec.api.tags, spec.api.small].map(Object.isFrozen),
            values: [spec.api.info.title, spec.api.small.x, spec.api.tags],
        })
    "#;
    let outcome = run_spec(code, &[("api", document)]).await;
    assert_eq!(
        result(&outcome),
        json!({
            "results": vec!["TypeError"; 13],
            "sloppy": ["T", 1],
            "frozen": [true, true, true, true, true],
            "values": ["T", 1, ["a"]],
        })
    );
    Ok(())
}

#[tokio::test]
async fn local_references_resolve_with_their_sibling_keys() -> Result<()> {
    let pad = padding();
    let document = json!({
        "paths": {
            "/users/{id}": {
                "get": {
                    "summary": "Get a user",
                    "responses": {
                        "200": { "$ref": "#/components/responses/user" },
                        "404": { "$ref": "#/components/responses/not%20found" },
                    },
                    "parameters": [
                        { "$ref": "#/components/parameters/id", "description": "Overridden", "example": 7 },
                        { "$ref": "#/paths/~1users~1%7Bid%7D/get/x-first" },
                    ],
                    "x-first": { "name": "first", "in": "query" },
                    "x-chain": { "$ref": "#/components/schemas/alias" },
                    "x-array": { "$ref": "#/components/schemas/user/required" },
                    "x-string": { "$ref": "#/components/schemas/user/type", "description": "ignored" },
                },
            },
        },
        "components": {
            "responses": {
                "user": { "description": "The user", "schema": { "$ref": "#/components/schemas/user" }, "pad": pad },
                "not found": { "description": "No such user" },
            },
            "parameters": {
                "id": { "name": "id", "in": "path", "description": "The user's id", "required": true },
            },
            "schemas": {
                "user": { "type": "object", "required": ["login"], "properties": { "login": { "type": "string" } }, "pad": pad },
                "alias": { "$ref": "#/components/schemas/alias2", "description": "Alias" },
                "alias2": { "$ref": "#/components/schemas/user" },
            },
        },
    });
    let code = r#"
        const get = spec.api.paths["/users/{id}"].get;
        const user = get.responses["200"].schema;
        ({
            login: user.properties.login.type,
            notFound: get.responses["404"],
            parameter: get.parameters[0],
            parameterKeys: Object.keys(get.parameters[0]),
            first: get.parameters[1],
            chain: Object.keys(get["x-chain"]),
            chainDescription: get["x-chain"].description,
            array: get["x-array"],
            string: get["x-string"],
            frozen: Object.isFrozen(get.parameters[0]),
        })
    "#;
    let outcome = run_spec(code, &[("api", document)]).await;
    assert_eq!(
        result(&outcome),
        json!({
            "login": "string",
            "notFound": { "description": "No such user" },
            "parameter": { "name": "id", "in": "path", "description": "Overridden", "required": true, "example": 7 },
            "parameterKeys": ["name", "in", "description", "required", "example"],
            "first": { "name": "first", "in": "query" },
            "chain": ["type", "required", "properties", "pad", "description"],
            "chainDescription": "Alias",
            "array": ["login"],
            "string": "object",
            "frozen": true,
        })
    );
    Ok(())
}

#[tokio::test]
async fn recursive_schemas_stringify_with_their_cycles_marked() -> Result<()> {
    let document = json!({
        "components": {
            "schemas": {
                "node": {
                    "type": "object",
                    "properties": {
                        "value": { "type": "string" },
                        "children": { "type": "array", "items": { "$ref": "#/components/schemas/node" } },
                    },
                },
                "a": { "properties": { "b": { "$ref": "#/components/schemas/b" } }, "pad": padding() },
                "b": { "properties": { "a": { "$ref": "#/components/schemas/a" } } },
            },
        },
        "uses": { "a": { "$ref": "#/components/schemas/a" }, "self": { "$ref": "#" } },
    });
    let code = r#"
        const schemas = spec.api.components.schemas;
        const { pad, ...viaReference } = JSON.parse(JSON.stringify(spec.api.uses.a));
        ({
            node: JSON.parse(JSON.stringify(schemas.node)),
            b: JSON.parse(JSON.stringify(schemas.b)),
            viaReference,
            self: Object.keys(spec.api.uses.self),
            selfAgain: spec.api.uses.self.uses.self,
        })
    "#;
    let outcome = run_spec(code, &[("api", document)]).await;
    let node_ref = json!({ "$ref": "#/components/schemas/node", "$circular": true });
    let a_ref = json!({ "$ref": "#/components/schemas/a", "$circular": true });
    let result = result(&outcome);
    assert_eq!(
        result["node"],
        json!({
            "type": "object",
            "properties": {
                "value": { "type": "string" },
                "children": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "value": { "type": "string" },
                            "children": { "type": "array", "items": node_ref },
                        },
                    },
                },
            },
        })
    );
    assert_eq!(
        result["b"],
        json!({ "properties": { "a": { "properties": { "b": { "properties": { "a": a_ref.clone() } } }, "pad": padding() } } })
    );
    assert_eq!(
        result["viaReference"],
        json!({ "properties": { "b": { "properties": { "a": a_ref } } } })
    );
    assert_eq!(result["self"], json!(["components", "uses"]));
    assert_eq!(
        result["selfAgain"],
        json!({ "$ref": "#", "$circular": true })
    );
    Ok(())
}

#[tokio::test]
async fn references_that_point_at_nothing_are_marked_missing() -> Result<()> {
    let document = json!({
        "components": { "schemas": { "user": { "type": "object" } } },
        "refs": [
            { "$ref": "#/components/schemas/nobody" },
            { "$ref": "#/components/schemas/user/type/0" },
            { "$ref": "#components" },
            { "$ref": "#/components/%ZZ" },
            { "$ref": "#/components/schemas/nobody", "description": "kept" },
        ],
    });
    let outcome = run_spec("spec.api.refs", &[("api", document)]).await;
    let missing = |target: &str| json!({ "$ref": target, "$missing": true });
    assert_eq!(
        result(&outcome),
        json!([
            missing("#/components/schemas/nobody"),
            missing("#/components/schemas/user/type/0"),
            missing("#components"),
            missing("#/components/%ZZ"),
            { "$ref": "#/components/schemas/nobody", "$missing": true, "description": "kept" },
        ])
    );
    Ok(())
}

#[tokio::test]
async fn other_references_stay_as_written() -> Result<()> {
    let document = json!({
        "refs": [
            { "$ref": "other.json#/components/schemas/user" },
            { "$ref": "https://example.com/schemas/user.json" },
            { "$ref": { "type": "string" } },
            { "properties": { "$ref": { "type": "string" } } },
            { "$ref": 7 },
        ],
    });
    let outcome = run_spec("spec.api.refs", &[("api", document.clone())]).await;
    assert_eq!(result(&outcome), document["refs"]);
    Ok(())
}

#[tokio::test]
async fn several_documents_share_one_global() -> Result<()> {
    let documents = [
        (
            "first",
            json!({ "info": { "title": "First", "pad": padding() } }),
        ),
        ("second", json!({ "info": { "title": "Second" } })),
        ("third", json!(["a", "b"])),
    ];
    let code = r#"
        ({
            keys: Object.keys(spec),
            titles: [spec.first.info.title, spec.second.info.title],
            third: spec.third,
            other: others.only,
            frozen: Object.isFrozen(spec),
            prototype: Object.getPrototypeOf(spec) === Object.prototype,
        })
    "#;
    let mut execution = Execution::new(code).documents(
        "others",
        vec![("only".to_owned(), Arc::new(Document::new(json!("alone"))))],
    );
    execution = execution.documents(
        "spec",
        documents
            .into_iter()
            .map(|(key, value)| (key.to_owned(), Arc::new(Document::new(value))))
            .collect(),
    );
    let outcome = run_with(execution).await;
    assert_eq!(
        result(&outcome),
        json!({
            "keys": ["first", "second", "third"],
            "titles": ["First", "Second"],
            "third": ["a", "b"],
            "other": "alone",
            "frozen": true,
            "prototype": true,
        })
    );
    Ok(())
}

#[tokio::test]
async fn a_document_global_cannot_take_a_used_or_invalid_name() {
    let connector = TestConnector::new();
    let document = || vec![("key".to_owned(), Arc::new(Document::new(json!({}))))];
    for (name, reason) in [
        ("test", "a connector is already granted under it"),
        ("JSON", "it would shadow a built-in global"),
        ("codemode", "it would shadow a built-in global"),
        ("not-a-name", "it must be a JavaScript identifier"),
        ("value", "it is given twice"),
        ("spec", "it is given twice"),
    ] {
        let execution = Execution::new("1")
            .grants(test_grants(&connector))
            .global("value", raw(json!(1)))
            .documents("spec", document())
            .documents(name, document());
        assert_global_refused(execution, name, reason).await;
    }
    let mut twice = document();
    twice.extend(document());
    match RUNTIME
        .execute(Execution::new("1").documents("spec", twice))
        .await
    {
        Err(Error::DocumentKey { name, key }) => {
            assert_eq!((name.as_str(), key.as_str()), ("spec", "key"))
        }
        other => panic!("a key given twice was not refused: {other:?}"),
    }
}

/// 2,000 path items of two operations, each too large to come inline.
fn big_document() -> Value {
    let pad = padding();
    let paths: serde_json::Map<String, Value> = (0..2_000)
        .map(|n| {
            let operation = json!({ "summary": format!("Operation {n}"), "description": pad });
            (
                format!("/things/{n}"),
                json!({ "get": operation, "post": operation }),
            )
        })
        .collect();
    json!({ "info": { "title": "Big" }, "paths": paths })
}

#[tokio::test]
async fn touching_one_path_reads_only_the_nodes_on_it() -> Result<()> {
    let document = big_document();
    let code = r#"
        const first = spec.big.paths["/things/1234"].get.summary;
        const again = spec.big.paths["/things/1234"].get.summary;
        [first, again]
    "#;
    let outcome = run_spec(code, &[("big", document)]).await;
    // The root, `paths`, the path item and its `get`.
    assert_eq!(outcome.stats.document_reads, 4, "{outcome:#?}");
    assert_eq!(
        result(&outcome),
        json!(["Operation 1234", "Operation 1234"])
    );
    Ok(())
}

#[tokio::test]
async fn listing_keys_reads_no_member_and_objects_behave_frozen() -> Result<()> {
    let code = r#"
        "use strict";
        const paths = spec.big.paths;
        const listed = Object.keys(paths).length;
        const info = spec.big.info;
        const attempts = [
            () => Object.freeze(info) === info,
            () => Object.defineProperty(info, "title", { value: "Big" }) === info,
            () => Reflect.defineProperty(info, "title", { value: "Other" }),
            () => Reflect.defineProperty(info, "extra", { value: 1 }),
            () => Reflect.defineProperty(info, "title", { get() { return 1; } }),
            () => Reflect.deleteProperty(info, "title"),
            () => Reflect.deleteProperty(info, "absent"),
            () => Object.defineProperty(info, "title", { writable: true }),
        ].map((attempt) => { try { return attempt(); } catch (e) { return e.name; } });
        ({
            listed,
            attempts,
            frozen: Object.isFrozen(info),
            descriptor: Object.getOwnPropertyDescriptor(info, "title"),
            symbols: [Object.getOwnPropertySymbols(info).length, info[Symbol.iterator] === undefined],
            inherited: [typeof info.hasOwnProperty, info.hasOwnProperty("title"), "toString" in info],
            last: paths["/things/1999"].post.summary,
        })
    "#;
    let outcome = run_spec(code, &[("big", big_document())]).await;
    // The root and `paths` for the listing; then `/things/1999` and its
    // `post`: no path item was read to list them.
    assert_eq!(outcome.stats.document_reads, 4, "{outcome:#?}");
    assert_eq!(
        result(&outcome),
        json!({
            "listed": 2_000,
            "attempts": [true, true, false, false, false, false, true, "TypeError"],
            "frozen": true,
            "descriptor": { "value": "Big", "writable": false, "enumerable": true, "configurable": false },
            "symbols": [0, true],
            "inherited": ["function", true, true],
            "last": "Operation 1999",
        })
    );
    Ok(())
}

#[tokio::test]
async fn console_output_shows_a_document_as_data() -> Result<()> {
    let document = json!({ "info": { "title": "T", "contact": { "name": "N" } } });
    let code = "console.log(spec.api.info); console.log(spec.api)";
    let outcome = run_spec(code, &[("api", document)]).await;
    anyhow::ensure!(outcome.ok(), "the run failed: {outcome:#?}");
    let texts: Vec<&str> = outcome.logs.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "{ title: 'T', contact: { name: 'N' } }",
            "{ info: { title: 'T', contact: { name: 'N' } } }"
        ]
    );
    Ok(())
}

/// GitHub's description, parsed once for the tests that read it.
static GITHUB: LazyLock<Arc<Document>> = LazyLock::new(|| Arc::new(Document::new(github_value())));

fn github_value() -> Value {
    serde_json::from_str(&github::description_text()).expect("GitHub's description is JSON")
}

#[tokio::test]
async fn a_scan_over_githubs_paths_finds_what_the_description_holds() -> Result<()> {
    // What the scan must find, found in Rust.
    let description = github_value();
    let mut expected = Vec::new();
    for (path, item) in description["paths"].as_object().context("paths")? {
        for (method, operation) in item.as_object().context("a path item")? {
            let Some(operation) = operation.as_object() else {
                continue;
            };
            let summary = operation
                .get("summary")
                .and_then(Value::as_str)
                .unwrap_or("");
            let tags = operation.get("tags").and_then(Value::as_array);
            let tagged = tags.is_some_and(|tags| {
                tags.iter()
                    .any(|t| t.as_str().is_some_and(|t| t.contains("issue")))
            });
            if summary.to_lowercase().contains("issue") || tagged {
                expected.push(format!("{} {path}: {summary}", method.to_uppercase()));
            }
        }
    }
    assert!(expected.len() > 50, "{}", expected.len());
    let execution = Execution::new(github::SCAN)
        .documents("spec", vec![("github".to_owned(), Arc::clone(&GITHUB))]);
    let outcome = run_with(execution).await;
    let reads = outcome.stats.document_reads;
    assert_eq!(result(&outcome), json!(expected));
    // Every path item and operation, and no more than that.
    assert!((800..=2_100).contains(&reads), "{reads} reads");
    Ok(())
}

#[tokio::test]
async fn a_reference_deep_in_githubs_description_resolves() -> Result<()> {
    let description = github_value();
    let simple_user = &description["components"]["schemas"]["simple-user"];
    assert!(
        !simple_user.to_string().contains("$ref"),
        "the expected value has references"
    );
    let code = r#"
        const operation = spec.github.paths["/repos/{owner}/{repo}"].get;
        const schema = operation.responses["200"].content["application/json"].schema;
        ({ owner: schema.properties.owner, title: schema.title })
    "#;
    let execution =
        Execution::new(code).documents("spec", vec![("github".to_owned(), Arc::clone(&GITHUB))]);
    let outcome = run_with(execution).await;
    let result = result(&outcome);
    assert_eq!(&result["owner"], simple_user);
    assert_eq!(
        result["title"],
        description["components"]["schemas"]["full-repository"]["title"]
    );
    Ok(())
}
