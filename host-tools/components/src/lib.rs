//! The sandbox as portable components, for hosts other than ours: the
//! pre-initialized guest composed (by this crate's build script, with
//! `wac-graph`) with a host component, a connector component and a driver.
//!
//! - [`CLI`] exports `wasi:cli/run` and imports nothing but WASI: `wasmtime
//!   run cli.wasm < script.ts` prints what `codemode run` prints.
//! - [`HTTP`] exports `wasi:http/incoming-handler`, the world `wasmtime
//!   serve` and Spin run: `POST /execute` with `{ code, lang? }`.
//!
//! [`wiring`] reads a composition back: which instance's imports come from
//! which instance, to show that the interpreter reaches only the host
//! component.

mod wiring;

pub use wiring::{Argument, Instance, Source, WiringError, wiring};

/// The CLI component.
pub const CLI: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/cli.wasm"));

/// The HTTP component.
pub const HTTP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/http.wasm"));
