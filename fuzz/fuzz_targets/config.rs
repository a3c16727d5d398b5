//! Arbitrary text as the CLI's configuration file. The CLI's own parser
//! (`host-tools/cli/src/config.rs`) is private to the binary, so this reads
//! each section with the public types the file is made of, as it does:
//! `mcpServers` (`UpstreamConfig`), `openapi` (`ApiConfig`) and `codemode`'s
//! `limits` (`Limits`) and `upstream` (`Timeouts`), each error located with
//! `serde_path_to_error`. The outcome is a config or a clear error: a
//! message that starts in lower case and names where, and no credential
//! (`auth`) shows in a config's debug output.
#![no_main]

use std::collections::BTreeMap;

use codemode_mcp_client::{Timeouts, UpstreamConfig};
use codemode_openapi::{ApiConfig, Auth};
use codemode_runtime::Limits;
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// `value` read as a `T`, or the error's place and message.
fn section<T: DeserializeOwned>(value: &Value) -> Result<T, (String, String)> {
    serde_path_to_error::deserialize(value.clone())
        .map_err(|error| (error.path().to_string(), error.into_inner().to_string()))
}

/// An error must say what was wrong (in lower case) and where, unless the
/// section itself is not an object.
fn check_error(value: &Value, (path, message): (String, String)) {
    assert!(!message.is_empty(), "an empty error message at `{path}`");
    assert!(
        !message.starts_with(char::is_uppercase),
        "an error message not in lower case: {message}"
    );
    assert!(
        path != "." || !value.is_object() || message.contains('`'),
        "an error that does not say where: {message}"
    );
}

/// Read the section `value`, if the file has it, and check its error.
fn check<T: DeserializeOwned>(value: Option<&Value>) {
    if let Some(value) = value
        && let Err(error) = section::<T>(value)
    {
        check_error(value, error);
    }
}

/// The secret an `auth` holds.
fn secret(auth: &Auth) -> &str {
    match auth {
        Auth::Bearer { token } => token.expose(),
        Auth::Header { value, .. } | Auth::Query { value, .. } => value.expose(),
        Auth::Basic { password, .. } => password.expose(),
        _ => "",
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = serde_json::from_str::<Value>(text) else {
        return;
    };
    check::<BTreeMap<String, UpstreamConfig>>(file.get("mcpServers"));
    check::<Limits>(file.pointer("/codemode/limits"));
    check::<Timeouts>(file.pointer("/codemode/upstream"));
    let Some(apis) = file.get("openapi") else {
        return;
    };
    match section::<BTreeMap<String, ApiConfig>>(apis) {
        Err(error) => check_error(apis, error),
        Ok(apis) => {
            for (name, api) in apis {
                let Some(auth) = &api.auth else { continue };
                let secret = secret(auth);
                // The entry without the secret itself: if the secret's text
                // is elsewhere in it (a header, the parameter's name), the
                // debug output may show it there.
                let mut without_secret = file["openapi"][&name].clone();
                if let Some(fields) = without_secret["auth"].as_object_mut() {
                    for field in ["token", "value", "password"] {
                        fields.remove(field);
                    }
                }
                if secret.len() >= 6 && !without_secret.to_string().contains(secret) {
                    let debug = format!("{api:?}");
                    assert!(
                        !debug.contains(secret),
                        "a credential in debug output: {debug}"
                    );
                }
            }
        }
    }
});
