//! Per-call limits: what one execution may spend before the runtime stops it.
//!
//! Every limit has a default that is safe for untrusted code, and the
//! runtime enforces every one, never by the guest's good will: the deadline
//! by epoch interruption plus a host timer, fuel by wasmtime's fuel
//! metering, memory by a resource limiter, and the byte and call caps by the
//! host functions the guest must go through. The portable components, whose
//! hosts may meter nothing, have the guest enforce the deadline and the
//! memory cap itself as well.

use std::time::Duration;

use serde::Deserialize;

/// What one execution may spend. `Limits::default()` is safe for untrusted
/// code; each field's doc gives its default.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct Limits {
    /// Wall-clock deadline for the whole run, waiting included. Default 30 s.
    #[serde(
        rename = "timeoutMs",
        deserialize_with = "deserialize_millis",
        serialize_with = "serialize_millis"
    )]
    pub timeout: Duration,
    /// WebAssembly fuel (about one unit per instruction). Default 20 billion,
    /// several seconds of pure computation.
    pub fuel: u64,
    /// Linear memory cap in bytes. Default 64 MiB.
    pub memory_bytes: u64,
    /// Console output kept, in bytes, each line counted with 32 bytes on top
    /// of its text (so at most `log_bytes / 32` lines, empty or not); past it
    /// the output is cut with a marker and further lines are dropped.
    /// Default 256 KiB.
    pub log_bytes: usize,
    /// The result's JSON, in bytes. Default 1 MiB.
    pub result_bytes: usize,
    /// Connector calls per run. Default 1,000.
    pub connector_calls: u32,
    /// Connector calls running at once; more wait their turn. Default 16.
    pub connector_calls_in_flight: u32,
    /// One call's arguments, as JSON bytes. Default 1 MiB.
    pub argument_bytes: usize,
    /// One call's reply, as JSON bytes. Default 4 MiB.
    pub reply_bytes: usize,
    /// The code, in bytes; a longer one does not start. Default 4 MiB.
    pub code_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            fuel: 20_000_000_000,
            memory_bytes: 64 << 20,
            log_bytes: 256 << 10,
            result_bytes: 1 << 20,
            connector_calls: 1_000,
            connector_calls_in_flight: 16,
            argument_bytes: 1 << 20,
            reply_bytes: 4 << 20,
            code_bytes: 4 << 20,
        }
    }
}

/// A duration written as whole milliseconds (`"timeoutMs": 5000`), for
/// `#[serde(deserialize_with = "...")]` in every crate's configuration.
///
/// # Errors
///
/// The deserializer's, when the value is not a whole number of
/// milliseconds that fits in 64 bits.
pub fn deserialize_millis<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<std::time::Duration, D::Error> {
    <u64 as serde::Deserialize>::deserialize(deserializer).map(std::time::Duration::from_millis)
}

/// A duration as whole milliseconds, as [`deserialize_millis`] reads it.
fn serialize_millis<S: serde::Serializer>(
    duration: &std::time::Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}
