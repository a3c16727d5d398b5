//! The contract every HTTP API's functions share, written once as JSON
//! Schema: what `request` takes, what every call resolves to, and when a
//! call rejects. The methods the connector lists carry these schemas, and
//! the TypeScript an agent reads (`HttpRequest`, `HttpResponse<T>`,
//! `RequestResponse`) is generated from them, so the two cannot disagree.
//!
//! An operation resolves to `{ data, status, headers }`, as Octokit's
//! calls do (models write `const { data } = await …`); `request`, for
//! calls by path, to `{ status, headers, body }`.

use codemode_runtime::MethodDescription;
use codemode_typescript::declare::function;
use codemode_typescript::schema::{Scope, jsdoc};
use serde_json::{Value, json};

/// The function every namespace has besides its operations: any request
/// to the API. No operation takes its name.
pub const REQUEST: &str = "request";

/// An operation's call rejects with a `ConnectorError` when the response's
/// status is this or more; [`REQUEST`] resolves whatever the status.
pub const REJECTED_FROM: u16 = 400;

/// What [`REQUEST`] does, for the agent.
const REQUEST_DESCRIPTION: &str = "Sends any request to the API: for what no typed function covers. Credentials are added by the host.";

/// Where the type parameter of `HttpResponse<T>` stands in the response
/// schema while it is declared.
const BODY_TYPE_PARAMETER: &str = "#/T";

/// The JSON Schema of what an operation resolves to, with `data` as given
/// (the success response's schema; `{}` for any): the shape of Octokit's
/// responses, which models know.
pub fn response_schema(data: Value) -> Value {
    reply_schema("data", data)
}

/// The JSON Schema of what [`REQUEST`] resolves to: the body under `body`.
fn request_response_schema() -> Value {
    reply_schema("body", json!({}))
}

/// A reply with its body under `body_key`: first for `data` (Octokit's
/// order), last for `body` (as `request` has always had it).
fn reply_schema(body_key: &str, body: Value) -> Value {
    let mut properties = serde_json::Map::new();
    if body_key == "data" {
        properties.insert(body_key.into(), body.clone());
    }
    properties.insert("status".into(), json!({"type": "integer"}));
    properties.insert(
        "headers".into(),
        json!({"type": "object", "additionalProperties": {"type": "string"}}),
    );
    if body_key != "data" {
        properties.insert(body_key.into(), body);
    }
    properties.insert(
        "encoding".into(),
        json!({"const": "base64", "description": format!("`\"base64\"` when the body is not text: `{body_key}` is then its base64.")}),
    );
    json!({
        "type": "object",
        "required": [body_key, "status", "headers"],
        "properties": properties,
    })
}

/// The JSON Schema of [`REQUEST`]'s argument.
fn request_schema() -> Value {
    let scalar = json!({"type": ["string", "number", "boolean"]});
    json!({
        "description": "A request to any operation of the API.",
        "type": "object",
        "required": ["method", "path"],
        "additionalProperties": false,
        "properties": {
            "method": {"type": "string", "description": "`GET`, `POST`, ..."},
            "path": {"type": "string", "description": "The path under the API's base URL, with `{name}` placeholders filled from `pathParams`; or an absolute URL on an origin the connector may reach (a `Link` header's, say)."},
            "pathParams": {"type": "object", "additionalProperties": scalar},
            "query": {"type": "object", "additionalProperties": {"anyOf": [scalar, {"type": "array", "items": scalar}]}},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "body": {"description": "Sent as JSON."}
        }
    })
}

/// [`REQUEST`] as the connector lists it.
pub(crate) fn request_method() -> MethodDescription {
    MethodDescription::new(REQUEST, REQUEST_DESCRIPTION)
        .input_schema(request_schema())
        .output_schema(request_response_schema())
}

/// `interface HttpResponse<T>`, what an operation resolves to, generated
/// from [`response_schema`], with its JSDoc, indented for a namespace body.
pub(crate) fn http_response_declaration() -> String {
    let schema = response_schema(json!({"$ref": BODY_TYPE_PARAMETER}));
    let mut scope = Scope::new(&schema);
    scope.define(BODY_TYPE_PARAMETER, "T");
    let doc = [format!(
        "What an operation resolves to, as with Octokit: `data` is the body (parsed JSON), header names are lower case. It rejects with a `ConnectorError` when the status is {REJECTED_FROM} or more."
    )];
    let members = scope.type_expression(&schema, 1);
    // The sandbox gives every operation's reply a `body` that reads `data`
    // (not enumerable), for code written before `data`.
    let members = match members.strip_suffix("    }") {
        Some(open) => format!(
            "{open}        /** @deprecated `data` under its former name; it goes in a later release. */\n        readonly body: T;\n    }}"
        ),
        None => members,
    };
    format!(
        "{}    interface HttpResponse<T> {members}\n",
        jsdoc(&doc, 1),
    )
}

/// `interface RequestResponse`, what [`REQUEST`] resolves to (whatever
/// the status), generated from its schema, indented for a namespace body.
fn request_response_declaration() -> String {
    let schema = request_response_schema();
    let doc = [
        "What `request` resolves to, whatever the status: the status, the headers (names in lower case) and the `body`, parsed when it is JSON.".to_owned(),
    ];
    format!(
        "{}    interface RequestResponse {}\n",
        jsdoc(&doc, 1),
        Scope::new(&schema).type_expression(&schema, 1)
    )
}

/// `interface HttpRequest` and the [`REQUEST`] function, generated from
/// [`request_method`], indented for a namespace body.
pub(crate) fn request_declarations() -> String {
    let method = request_method();
    let scope = Scope::new(&method.input_schema);
    let doc: Vec<String> = method
        .input_schema
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .into_iter()
        .collect();
    let sentences: Vec<String> = REQUEST_DESCRIPTION
        .split_inclusive(". ")
        .map(|sentence| sentence.trim().to_owned())
        .collect();
    let mut interface = method.input_schema.clone();
    if let Some(object) = interface.as_object_mut() {
        object.remove("description");
    }
    format!(
        "{}    interface HttpRequest {}\n",
        jsdoc(&doc, 1),
        scope.type_expression(&interface, 1)
    ) + &request_response_declaration()
        + &function(
            &sentences,
            REQUEST,
            Some(("HttpRequest", true)),
            "RequestResponse",
        )
}
