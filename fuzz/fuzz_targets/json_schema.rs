//! Arbitrary JSON as the JSON Schemas of a connector's methods (what an
//! upstream MCP server sends in its tool list): turned into TypeScript
//! declarations, a catalog in every format, and the runtime's own catalog
//! of the grants. None of it may panic; time and memory are bounded by
//! libFuzzer (`-timeout`, `-rss_limit_mb`; see `scripts/fuzz`).
#![no_main]

use std::sync::Arc;

use async_trait::async_trait;
use codemode_fuzz::json;
use codemode_runtime::{CallContext, Connector, ConnectorError, Grants, MethodDescription};
use codemode_typescript::catalog::{Catalog, Format};
use codemode_typescript::declare::{Method, method_declaration, namespace_declaration};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// A connector that only describes itself.
struct Described(Vec<MethodDescription>);

#[async_trait]
impl Connector for Described {
    fn methods(&self) -> &[MethodDescription] {
        &self.0
    }

    async fn call(&self, _call: &CallContext, _args: Value) -> Result<Value, ConnectorError> {
        Err(ConnectorError::new("not callable"))
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(schema) = json::value(data) else {
        return;
    };
    // The schema as input and output of methods whose names clash once
    // sanitized, and as the schema of each of its own members.
    let mut methods = vec![
        Method::new("get-item", "Gets.", schema.clone(), Some(schema.clone())),
        Method::new("get_item", "Gets again.", schema.clone(), None),
    ];
    if let Value::Object(members) = &schema {
        for (name, member) in members.iter().take(8) {
            methods.push(Method::new(name.clone(), "", member.clone(), None));
        }
    }
    namespace_declaration("ns", &methods);
    for method in &methods {
        method_declaration("ns", method);
    }
    let mut catalog = Catalog::new();
    catalog.add_methods("ns", methods.clone());
    for filter in [None, Some("item")] {
        for format in [Format::Typescript, Format::Json, Format::Summary] {
            catalog.render(format, filter);
        }
    }

    let described = methods
        .into_iter()
        .map(|method| {
            let description = MethodDescription::new(method.name, method.description)
                .input_schema(method.input_schema);
            match method.output_schema {
                Some(output) => description.output_schema(output),
                None => description,
            }
        })
        .collect();
    if let Ok(grants) = Grants::new().grant("ns", Arc::new(Described(described))) {
        grants.catalog();
    }
});
