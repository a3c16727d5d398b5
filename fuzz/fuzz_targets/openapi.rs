//! Arbitrary text (JSON or YAML) as an OpenAPI description: parsed, turned
//! into TypeScript and the runtime's catalog in every format, and loaded as an HTTP API connector, all
//! on the host. None of it may panic, and each input's time and memory are
//! bounded by libFuzzer (`-timeout`, `-rss_limit_mb`; see `scripts/fuzz`):
//! nesting bombs, `$ref` cycles and huge enums included.
#![no_main]

use std::sync::Arc;

use codemode_openapi::{ApiConfig, OpenApiConnector, OpenApiDescription, Spec};
use codemode_runtime::{CatalogFormat, Connector, Grants};
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
        operation.method();
        spec.declaration("api", &[operation], false);
    }
    spec.schemas_for(&operations);
    spec.declaration("api", &operations, true);

    let described = Arc::new(OpenApiDescription::new("api", spec.clone()));
    if let Ok(grants) = Grants::new().grant("api", described) {
        for query in [None, Some("a"), Some("get")] {
            for format in [CatalogFormat::Typescript, CatalogFormat::Json, CatalogFormat::Summary] {
                grants.render(format, query, 50);
            }
        }
    }

    let config = ApiConfig::new("fuzzed.json").base_url("http://127.0.0.1:9/");
    let Ok(connector) = OpenApiConnector::new("api", Arc::new(spec), &config) else {
        return;
    };
    connector.description().as_mcp_tools();
    for method in connector.methods() {
        connector.declaration("api", &[&method.name]);
    }
    connector.document();
});
