//! The contract every HTTP API's functions share, written once as JSON
//! Schema: what `request` takes, what every call resolves to, and when a
//! call rejects. The methods the connector lists carry these schemas, and
//! the TypeScript an agent reads (`HttpRequest`, `HttpResponse<T>`) is
//! generated from them, so the two cannot disagree.

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

/// The JSON Schema of what every call resolves to, with `body` as given
/// (the success response's schema; `{}` for any).
pub fn response_schema(body: Value) -> Value {
    json!({
        "type": "object",
        "required": ["status", "headers", "body"],
        "properties": {
            "status": {"type": "integer"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "body": body,
            "encoding": {"const": "base64", "description": "`\"base64\"` when the body is not text: `body` is then its base64."}
        }
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
        .output_schema(response_schema(json!({})))
}

/// `interface HttpResponse<T>`, generated from [`response_schema`], with
/// its JSDoc, indented for a namespace body.
pub(crate) fn http_response_declaration() -> String {
    let schema = response_schema(json!({"$ref": BODY_TYPE_PARAMETER}));
    let mut scope = Scope::new(&schema);
    scope.define(BODY_TYPE_PARAMETER, "T");
    let doc = [format!(
        "What a call resolves to: the response's status, its headers (names in lower case) and its body, parsed when it is JSON. An operation rejects with a `ConnectorError` when the status is {REJECTED_FROM} or more; `{REQUEST}` resolves whatever the status."
    )];
    format!(
        "{}    interface HttpResponse<T> {}\n",
        jsdoc(&doc, 1),
        scope.type_expression(&schema, 1)
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
    ) + &function(
        &sentences,
        REQUEST,
        Some(("HttpRequest", true)),
        "HttpResponse<unknown>",
    )
}
