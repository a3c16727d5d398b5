//! The host's bindings to the WIT world `codemode:sandbox/sandbox`; the only
//! place `bindgen!` runs on the host side.

wasmtime::component::bindgen!({
    world: "sandbox",
    path: "../wit",
    imports: {
        "codemode:sandbox/host.wait-next": async | trappable,
        "codemode:sandbox/host.start-call": trappable,
        default: trappable,
    },
    exports: { default: async },
});

pub(crate) use self::exports::codemode::sandbox::runner::{
    Connector, Data, Document, Failure, GuestLimits, Language, Request, ScriptError,
};
