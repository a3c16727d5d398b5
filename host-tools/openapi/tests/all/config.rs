//! Configurations of an HTTP API that cannot work, refused when the
//! connector is made, each naming the field to fix; and descriptions that
//! cannot be read, named by file (and line and column).

use std::sync::Arc;

use codemode_openapi::{ApiConfig, ApiLimits, Auth, OpenApiConnector, Secret, Spec};
use codemode_test_support::openapi::RECORDER;

#[test]
fn configurations_that_cannot_work_are_refused_with_the_field_named() {
    let spec = Arc::new(Spec::parse(RECORDER).expect("parses"));
    let token = || Auth::Bearer {
        token: Secret::new("t"),
    };
    let mut deep = ApiLimits::default();
    deep.json_depth = 1000;
    for (config, expected) in [
        (
            ApiConfig::new("x"),
            "`baseUrl` is not set and the description's `servers` give no absolute http(s) URL",
        ),
        (
            ApiConfig::new("x").base_url("ftp://h/"),
            "must be an http or https URL",
        ),
        (
            ApiConfig::new("x")
                .base_url("http://api.example.com")
                .auth(token()),
            "`auth` would send credentials in clear text",
        ),
        (
            ApiConfig::new("x").base_url("https://u:p@api.example.com"),
            "must not hold a query, fragment or user info",
        ),
        (
            ApiConfig::new("x")
                .base_url("https://api.example.com")
                .origin("https://other.example.com/path"),
            "`origins`: `https://other.example.com/path` must be a scheme, host and port only",
        ),
        (
            ApiConfig::new("x")
                .base_url("https://api.example.com")
                .auth(Auth::Bearer {
                    token: Secret::new(""),
                }),
            "`auth.token` is empty",
        ),
        // Too short to redact: `t` would be cut out of every reply.
        (
            ApiConfig::new("x")
                .base_url("https://api.example.com")
                .auth(token()),
            "`auth.token` is 1 bytes; a credential must be at least 8 bytes, so that it can be redacted",
        ),
        (
            ApiConfig::new("x")
                .base_url("https://api.example.com")
                .auth(Auth::Header {
                    name: "X-Api-Key".into(),
                    value: Secret::new("1234567"),
                }),
            "`auth.value` is 7 bytes",
        ),
        (
            ApiConfig::new("x")
                .base_url("https://api.example.com")
                .header("X-Bad", "a\nb"),
            "`headers.X-Bad` holds a character HTTP headers cannot carry",
        ),
        (
            ApiConfig::new("x")
                .base_url("https://api.example.com")
                .methods(["G ET"]),
            "`methods`: `G ET` is not an HTTP method",
        ),
        (
            ApiConfig::new("x")
                .base_url("https://api.example.com")
                .limits(deep),
            "`limits.jsonDepth` must be between 1 and 128",
        ),
    ] {
        let error = OpenApiConnector::new("api", Arc::clone(&spec), &config)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains(expected), "{expected}: {error}");
    }
    // Secrets stay out of debug output.
    let debug = format!("{:?}", ApiConfig::new("x").auth(token()));
    assert!(debug.contains("Secret(..)"), "{debug}");

    // A description that is not JSON is named with its line and column.
    let dir = std::env::temp_dir().join(format!("codemode-openapi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let broken = dir.join("broken.json");
    std::fs::write(&broken, "{\n  \"openapi\": \"3.1.0\",\n  \"paths\": {,}\n}").expect("writes");
    let error = OpenApiConnector::load("api", &ApiConfig::new(&broken))
        .err()
        .map(|e| format!("{e}"))
        .unwrap_or_default();
    assert!(error.contains("broken.json"), "{error}");
    assert!(
        error.contains("not valid JSON at line 3, column 13"),
        "{error}"
    );
    let error = OpenApiConnector::load("api", &ApiConfig::new(dir.join("missing.json")))
        .err()
        .map(|e| format!("{e}"))
        .unwrap_or_default();
    assert!(error.contains("reading the OpenAPI description"), "{error}");
}
