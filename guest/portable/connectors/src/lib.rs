//! The connector component of the portable sandbox: the only component of
//! the composition that holds configuration and credentials, and the only
//! one that reaches the network. The interpreter's component cannot read
//! its memory: the guest's imports are served by the host component, which
//! passes calls here by name, method and JSON arguments.
//!
//! With the `http` feature, connectors are HTTP APIs declared in the
//! environment (see [`http`]); without it there are none, and the component
//! imports nothing (the CLI component's choice: it may use no network).

// SAFETY: the glue wit-bindgen generates (lifting and lowering values across
// the component boundary) is unsafe code that upholds the canonical ABI;
// nothing else in this module is.
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        world: "codemode:portable/connectors",
        path: ["../../../wit", "../wit"],
    });

    use super::Connectors;
    export!(Connectors with_types_in self);
}

#[cfg(feature = "http")]
mod http;

use bindings::exports::codemode::portable::connector::{Declared, Failure, Guest};

struct Connectors;

#[cfg(feature = "http")]
impl Guest for Connectors {
    fn declare() -> Result<Vec<Declared>, String> {
        http::declare()
    }

    fn call(
        connector: String,
        method: String,
        args: String,
        timeout_ms: u64,
    ) -> Result<String, Failure> {
        http::call(&connector, &method, &args, timeout_ms)
    }
}

#[cfg(not(feature = "http"))]
impl Guest for Connectors {
    fn declare() -> Result<Vec<Declared>, String> {
        Ok(Vec::new())
    }

    fn call(
        connector: String,
        method: String,
        _args: String,
        _timeout_ms: u64,
    ) -> Result<String, Failure> {
        Err(Failure {
            code: "not-granted".into(),
            message: format!("`{connector}.{method}`: this component grants no connectors"),
        })
    }
}
