//! Discovery inside the sandbox: `codemode.search` ranks the granted
//! methods, `codemode.describe` gives one method's TypeScript and schemas,
//! and method names that are not identifiers are called by their sanitized
//! form while the connector still receives its own.

use std::sync::{Arc, Mutex};

use codemode_runtime::{ErrorKind, Execution, Grants, MethodDescription};
use codemode_test_support::connector::{FnConnector, grant};
use codemode_test_support::github::GithubCatalog;
use serde_json::{Value, json};

use crate::support::{result, run_with};

/// A connector with a few described methods, granted as `tracker`; it
/// records the method names it is called with and echoes its arguments.
struct Tracker {
    grants: Arc<Grants>,
    called: Arc<Mutex<Vec<String>>>,
}

impl Tracker {
    fn new() -> Self {
        let methods = vec![
            MethodDescription::new("list-issues", "Lists the issues of a project. Paginated.")
                .path("GET /projects/{id}/issues")
                .tags(["issues"])
                .input_schema(json!({
                    "type": "object",
                    "required": ["project"],
                    "properties": {
                        "project": { "type": "string", "description": "The project key" },
                        "state": { "enum": ["open", "closed"] }
                    }
                }))
                .output_schema(json!({
                    "type": "array",
                    "items": { "$ref": "#/$defs/Issue" },
                    "$defs": {
                        "Issue": {
                            "type": "object",
                            "required": ["id", "title"],
                            "properties": { "id": { "type": "integer" }, "title": { "type": "string" } }
                        }
                    }
                })),
            MethodDescription::new("create_issue", "Creates an issue in a project.")
                .tags(["issues"]),
            MethodDescription::new("delete", "Deletes a project for good."),
            MethodDescription::new("get.user", "Gets the signed-in user's profile."),
        ];
        let called = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&called);
        let connector = FnConnector::new(methods, move |method, args| {
            record.lock().expect("not poisoned").push(method.to_owned());
            std::future::ready(Ok(args))
        });
        Self {
            grants: grant("tracker", connector),
            called,
        }
    }
}

fn grants(tracker: &Tracker) -> Arc<Grants> {
    Arc::clone(&tracker.grants)
}

/// The result of `code` run with `grants`, which must succeed.
async fn run(code: &str, grants: &Arc<Grants>) -> Value {
    result(&run_with(Execution::new(code).grants(Arc::clone(grants))).await)
}

#[tokio::test]
async fn search_ranks_methods_by_name_path_tags_and_description() {
    let tracker = Tracker::new();
    let grants = grants(&tracker);
    let found = run(
        "codemode.search('issues', { limit: 2 }).map((m) => m.name)",
        &grants,
    )
    .await;
    assert_eq!(
        found,
        json!(["tracker.list_issues", "tracker.create_issue"])
    );

    let found = run("await codemode.search('user profile')", &grants).await;
    assert_eq!(
        found,
        json!([{ "name": "tracker.get_user", "description": "Gets the signed-in user's profile." }])
    );
    let found = run("codemode.search('issue')[0]", &grants).await;
    assert_eq!(
        found,
        json!({
            "name": "tracker.list_issues",
            "description": "Lists the issues of a project.",
            "path": "GET /projects/{id}/issues",
            "tags": ["issues"],
        })
    );
    assert_eq!(run("codemode.search('zebra')", &grants).await, json!([]));
}

#[tokio::test]
async fn describe_gives_the_typescript_declaration_and_schemas() {
    let grants = grants(&Tracker::new());
    let described = run("codemode.describe('tracker.list_issues')", &grants).await;
    assert_eq!(described["name"], "tracker.list_issues");
    assert_eq!(described["originalName"], "list-issues");
    assert_eq!(described["inputSchema"]["required"], json!(["project"]));
    let declaration = described["declaration"].as_str().unwrap_or_default();
    assert!(
        declaration.contains("function list_issues(args: {"),
        "{declaration}"
    );
    assert!(declaration.contains("project: string;"), "{declaration}");
    assert!(
        declaration.contains("state?: \"open\" | \"closed\";"),
        "{declaration}"
    );
    assert!(declaration.contains("Promise<Issue[]>"), "{declaration}");
    assert!(declaration.contains("title: string;"), "{declaration}");
}

#[tokio::test]
async fn describe_of_an_unknown_name_names_close_matches() {
    let grants = grants(&Tracker::new());
    let code = "try { codemode.describe('tracker.list_issue'); 'no error' } catch (e) { [e.name, e.message] }";
    let found = run(code, &grants).await;
    assert_eq!(found[0], "TypeError");
    let message = found[1].as_str().unwrap_or_default();
    assert!(
        message.contains("no method is named `tracker.list_issue`"),
        "{message}"
    );
    assert!(message.contains("`tracker.list_issues`"), "{message}");
}

#[tokio::test]
async fn search_and_describe_check_their_arguments() {
    let grants = grants(&Tracker::new());
    let code = "[() => codemode.search(1), () => codemode.search('a', { limit: 0 }), () => codemode.search('a', 5), () => codemode.describe({})]
        .map((f) => { try { f(); return 'no error'; } catch (e) { return e.name + ': ' + e.message; } })";
    let found = run(code, &grants).await;
    let messages: Vec<&str> = found
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(messages.len(), 4);
    assert!(
        messages[0]
            .starts_with("TypeError: codemode.search(query, { limit }): `query` must be a string"),
        "{messages:?}"
    );
    assert!(
        messages[1].starts_with(
            "RangeError: codemode.search(query, { limit }): `limit` must be an integer from 1 to 50"
        ),
        "{messages:?}"
    );
    assert!(
        messages[2].starts_with(
            "TypeError: codemode.search(query, { limit }): the options must be an object"
        ),
        "{messages:?}"
    );
    assert!(
        messages[3]
            .starts_with("TypeError: codemode.describe(name, { expand }): `name` must be a string"),
        "{messages:?}"
    );
}

#[tokio::test]
async fn methods_are_called_by_identifier_and_reach_the_connector_by_their_own_name() {
    let tracker = Tracker::new();
    let grants = grants(&tracker);
    let code = "[await tracker.list_issues({ project: 'p' }), await tracker.delete_({ id: 1 }), await tracker.get_user(), typeof tracker['list-issues']]";
    let found = run(code, &grants).await;
    assert_eq!(
        found,
        json!([{ "project": "p" }, { "id": 1 }, {}, "undefined"])
    );
    let called = tracker.called.lock().expect("not poisoned").clone();
    assert_eq!(called, ["list-issues", "delete", "get.user"]);
}

#[tokio::test]
async fn without_grants_search_finds_nothing() {
    let outcome = run_with(Execution::new("codemode.search('anything')")).await;
    assert_eq!(outcome.result, Some(json!([])));
    let outcome = run_with(Execution::new("codemode.describe('x.y')")).await;
    let error = outcome.error.expect("an unknown method");
    assert_eq!(
        (error.kind, error.name.as_str()),
        (ErrorKind::Script, "TypeError")
    );
}

#[tokio::test]
async fn search_finds_github_operations_and_describe_gives_their_types() {
    let grants = grant("github", GithubCatalog::load());
    let code = "({
        repo: codemode.search('get a repository', { limit: 3 }).map((m) => m.name),
        issues: codemode.search('list repository issues', { limit: 3 }).map((m) => m.name),
        pulls: codemode.search('merge a pull request', { limit: 3 }).map((m) => m.name),
        described: codemode.describe('github.repos_get'),
        count: Object.keys(github).length,
    })";
    let found = run(code, &grants).await;
    assert_eq!(found["count"], 1223);
    let names = |key: &str| -> Vec<String> {
        found[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    assert!(
        names("repo").contains(&"github.repos_get".to_owned()),
        "{:?}",
        names("repo")
    );
    assert!(
        names("issues").contains(&"github.issues_list_for_repo".to_owned()),
        "{:?}",
        names("issues")
    );
    assert!(
        names("pulls").contains(&"github.pulls_merge".to_owned()),
        "{:?}",
        names("pulls")
    );
    let declaration = found["described"]["declaration"]
        .as_str()
        .unwrap_or_default();
    assert!(declaration.contains("function repos_get("), "{declaration}");
    assert!(declaration.contains("FullRepository"), "{declaration}");
    assert_eq!(found["described"]["path"], "GET /repos/{owner}/{repo}");
}

#[tokio::test]
async fn a_large_connector_namespace_behaves_like_a_small_one() {
    // Many methods (`op-0` … `op-99`), whose namespace finds methods on
    // first use; each replies with the method name it got.
    let methods = (0..100)
        .map(|i| MethodDescription::new(format!("op-{i}"), format!("Operation {i}.")))
        .collect();
    let connector = FnConnector::new(methods, |method, args| {
        std::future::ready(Ok(json!({ "method": method, "args": args })))
    });
    let grants = grant("many", connector);
    let code = "'use strict';
        let leaked;
        const bind = Function.prototype.bind;
        Function.prototype.bind = function () { leaked = this; return () => 'fake'; };
        const early = many.op_3;
        const writes = [];
        for (const write of [() => { many.op_1 = 1 }, () => { delete many.op_2 }, () => { many.extra = 1 }]) {
          try { write(); writes.push('allowed') } catch (error) { writes.push(error.name) }
        }
        Function.prototype.bind = bind;
        ({
          reply: await many.op_42({ x: 1 }),
          early: await early(),
          same: many.op_5 === many.op_5,
          has: ['op_7' in many, 'nope' in many, 'op-7' in many],
          types: [typeof many.nope, typeof many.constructor, typeof many.op_99],
          keys: [Object.keys(many).length, Object.keys(many)[0], Object.keys(many)[99]],
          proto: Object.getPrototypeOf(many),
          leaked: leaked === undefined,
          writes,
        })";
    let found = run(code, &grants).await;
    assert_eq!(
        found,
        json!({
            "reply": { "method": "op-42", "args": { "x": 1 } },
            "early": { "method": "op-3", "args": {} },
            "same": true,
            "has": [true, false, false],
            "types": ["undefined", "undefined", "function"],
            "keys": [100, "op_0", "op_99"],
            "proto": null,
            "leaked": true,
            "writes": ["TypeError", "TypeError", "TypeError"],
        })
    );
}
