//! What the fuzz targets share: one sandbox runtime per process with the
//! checks every run must pass ([`sandbox`]), a generator of JavaScript
//! programs ([`js`]) and of JSON values ([`json`]).
//!
//! A target reads its input as text when it can (so that the committed
//! seeds are readable scripts and documents) and otherwise lets the bytes
//! drive a generator, so that every input the fuzzer makes up is used.

pub mod js;
pub mod json;
pub mod sandbox;
