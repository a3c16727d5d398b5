//! Arbitrary text (JSON or YAML) as an OpenAPI description: parsed, turned
//! into TypeScript and a catalog, and loaded as an HTTP API connector, all
//! on the host. None of it may panic, and each input's time and memory are
//! bounded by libFuzzer (`-timeout`, `-rss_limit_mb`; see `scripts/fuzz`):
//! nesting bombs, `$ref` cycles and huge enums included.
#![no_main]

use std::sync::Arc;

use codemode_openapi::{ApiConfig, OpenApiConnector};
use codemode_runtime::Connector;
use codemode_typescript::catalog::{Catalog, Format};
use codemode_typescript::openapi::Spec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(spec) = Spec::parse(text) else {
        return;
    };
    spec.typescript("api");
    let operations: Vec<_> = spec.operations().iter().collect();
    for operation in &operations {
        operation.input_schema();
        operation.output_schema();
        spec.operation_declaration("api", operation);
    }
    spec.schemas_for(&operations);

    let mut catalog = Catalog::new();
    catalog.add_openapi("api", spec.clone());
    for filter in [None, Some("a"), Some("get")] {
        for format in [Format::Typescript, Format::Json, Format::Summary] {
            catalog.render(format, filter);
        }
    }

    let config = ApiConfig::new("fuzzed.json").base_url("http://127.0.0.1:9/");
    let Ok(connector) = OpenApiConnector::new("api", Arc::new(spec), &config) else {
        return;
    };
    connector.as_mcp_tools();
    for method in connector.methods() {
        connector.declaration("api", &method.name);
    }
    connector.document();
});
