//! The engine settings that shape compiled code.
//!
//! The build script precompiles the guest with these settings and the runtime
//! loads that artifact with the same ones; wasmtime refuses an artifact whose
//! settings differ, so both sides take them from this one function.

/// Apply the settings that compiled code depends on: the component model,
/// fuel metering and epoch interruption (the deadline).
pub fn apply_compiled_settings(config: &mut wasmtime::Config) {
    config.wasm_component_model(true);
    config.consume_fuel(true);
    config.epoch_interruption(true);
    // The build script's wasmtime has GC compiled in (wizer needs it) and the
    // runtime's does not; the guest needs no GC proposal, so both switch it
    // off and agree.
    config.gc_support(false);
    config.wasm_gc(false);
    config.wasm_stack_switching(false);
}
