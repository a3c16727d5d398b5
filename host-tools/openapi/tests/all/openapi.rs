//! OpenAPI descriptions other than GitHub's: refusals, errors and cycles.

use anyhow::Result;
use codemode_openapi::Spec;
use codemode_openapi::SpecError as Error;

use codemode_test_support::tsc;

#[test]
fn refuses_swagger_2() {
    let error = Spec::parse(r#"{"swagger": "2.0", "paths": {}}"#).err();
    assert!(
        matches!(&error, Some(Error::Swagger { version }) if version == "2.0"),
        "{error:?}"
    );
    let message = error.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("swagger2openapi"), "{message}");
}

#[test]
fn malformed_descriptions_name_the_place() {
    let error = Spec::parse("{\n  \"openapi\": \"3.1.0\",\n  \"paths\": {\"/a\": }\n}").err();
    assert!(
        matches!(
            error,
            Some(Error::Json {
                line: 3,
                column: 19,
                ..
            })
        ),
        "{error:?}"
    );
    let error = Spec::parse("openapi: 3.1.0\npaths:\n  /a: {get: [}\n").err();
    assert!(
        matches!(error, Some(Error::Yaml { line: 3, .. })),
        "{error:?}"
    );
    let error = Spec::parse(r#"{"openapi": 3.1}"#).err();
    assert!(
        matches!(&error, Some(Error::UnsupportedVersion { version }) if version == "3.1"),
        "{error:?}"
    );
}

#[test]
fn cyclic_schemas_type_check() -> Result<()> {
    let spec = Spec::parse(
        r##"
openapi: 3.0.3
info: {title: cycles, version: "1"}
paths:
  /nodes/{id}:
    get:
      operationId: get-node
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: depth, in: query, schema: {type: integer, nullable: true}}
      responses:
        "200":
          description: A node
          content: {application/json: {schema: {$ref: "#/components/schemas/node"}}}
    put:
      operationId: put-node
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/node"}}}
      responses:
        "204": {description: Stored}
components:
  schemas:
    node:
      type: object
      required: [id]
      properties:
        id: {type: string}
        children: {type: array, items: {$ref: "#/components/schemas/node"}}
        owner: {$ref: "#/components/schemas/owner"}
    owner:
      type: object
      properties:
        nodes: {type: array, items: {$ref: "#/components/schemas/node"}}
        manager: {allOf: [{$ref: "#/components/schemas/owner"}], nullable: true}
    alias-loop-a: {anyOf: [{$ref: "#/components/schemas/alias-loop-b"}, {type: string}]}
    alias-loop-b: {allOf: [{$ref: "#/components/schemas/alias-loop-a"}]}
"##,
    )?;
    let ts = spec.typescript("cycles");
    assert!(ts.contains("type Node = {"), "{ts}");
    assert!(ts.contains("children?: Node[];"), "{ts}");
    assert!(ts.contains("function put_node(args: {"), "{ts}");
    assert!(ts.contains("}): Promise<HttpResponse<null>>;"), "{ts}");
    let usage = "async function usage() { const n = (await cycles.get_node({ id: \"x\" })).body; return n.children?.[0]?.owner?.manager?.nodes; }\n";
    tsc::check(
        "cycles",
        &[
            ("cycles.ts".to_owned(), ts),
            ("usage.ts".to_owned(), usage.to_owned()),
        ],
    )
}
