//! Arbitrary JSON as the JSON Schemas of a connector's methods (what an
//! upstream MCP server sends in its tool list): turned into TypeScript
//! declarations and the runtime's catalog of the grants in every format. None of it may panic; time and memory are bounded by
//! libFuzzer (`-timeout`, `-rss_limit_mb`; see `scripts/fuzz`).
#![no_main]

use std::sync::Arc;

use async_trait::async_trait;
use codemode_fuzz::json;
use codemode_runtime::{
    CallContext, CatalogFormat, Connector, ConnectorError, Grants, MethodDescription,
};
use codemode_typescript::declare::{method_declaration, namespace_declaration};
use codemode_typescript::names::Names;
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
        MethodDescription::new("get-item", "Gets.")
            .input_schema(schema.clone())
            .output_schema(schema.clone()),
        MethodDescription::new("get_item", "Gets again.").input_schema(schema.clone()),
    ];
    if let Value::Object(members) = &schema {
        for (name, member) in members.iter().take(8) {
            methods.push(MethodDescription::new(name.clone(), "").input_schema(member.clone()));
        }
    }
    let names = Names::new(methods.iter().map(|method| method.name.as_str()));
    let named: Vec<(&str, &MethodDescription)> = methods
        .iter()
        .map(|method| (names.identifier(&method.name).unwrap_or(&method.name), method))
        .collect();
    namespace_declaration("ns", &named);
    for (identifier, method) in &named {
        method_declaration("ns", identifier, method);
    }
    if let Ok(grants) = Grants::new().grant("ns", Arc::new(Described(methods))) {
        grants.catalog();
        for query in [None, Some("item")] {
            for format in [CatalogFormat::Typescript, CatalogFormat::Json, CatalogFormat::Summary] {
                grants.render(format, query, 50);
            }
        }
    }
});
