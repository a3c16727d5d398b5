//! Builds the sandbox guest and bakes it into the runtime.
//!
//! 1. `cargo build` the guest crate (`../guest`) for `wasm32-wasip2`, in its
//!    own target directory so that it never contends with this build's lock.
//! 2. Pre-initialize it with wizer: run its `initialize` export once (QuickJS
//!    runtime, context and the JavaScript prelude) and snapshot the memory,
//!    so that every run starts from a ready context.
//! 3. Precompile the snapshot with the engine settings the runtime uses, so
//!    that loading it at run time is a memory map, not a compilation.
//!
//! Writes `guest.wasm` (the pre-initialized component, for people who host it
//! themselves) and `guest.cwasm` (the precompiled artifact) to `OUT_DIR`.

#[path = "../guest/cargo_build.rs"]
mod cargo_build;
#[path = "src/engine_config.rs"]
mod engine_config;

use std::env;
use std::path::PathBuf;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};

fn main() {
    if let Err(error) = build() {
        eprintln!("error: building the sandbox guest failed: {error:#}");
        std::process::exit(1);
    }
}

fn build() -> wasmtime::Result<()> {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let guest_dir = manifest_dir.join("../guest");
    for watched in [
        "../guest/src",
        "../guest/Cargo.toml",
        "../guest/Cargo.lock",
        "../guest/.cargo",
        "../guest/cargo_build.rs",
        "../wit",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }

    let target_dir = cargo_build::guest_target_dir(&out_dir);
    let raw = cargo_build::cargo_build(
        &guest_dir,
        &target_dir,
        &["-p", "codemode-guest"],
        "codemode_guest.wasm",
    )
    .map_err(wasmtime::Error::msg)?;
    let snapshot = pre_initialize(&raw)?;
    let guest = out_dir.join("guest.wasm");
    std::fs::write(&guest, &snapshot)?;
    // For the build scripts of the crates that depend on this one
    // (`DEP_CODEMODE_GUEST_SNAPSHOT`): the portable components compose it.
    println!("cargo:snapshot={}", guest.display());

    let mut config = Config::new();
    engine_config::apply_compiled_settings(&mut config);
    // Compiled in here for wizer, absent from the runtime's wasmtime.
    config.wasm_threads(false);
    config.wasm_exceptions(false);
    config.wasm_function_references(false);
    let compiled = Engine::new(&config)?.precompile_component(&snapshot)?;
    std::fs::write(out_dir.join("guest.cwasm"), compiled)?;
    Ok(())
}

/// The store state wizer's instance runs with: WASI with nothing granted.
struct InitState {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for InitState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn pre_initialize(raw: &[u8]) -> wasmtime::Result<Vec<u8>> {
    let mut config = Config::new();
    config.wasm_component_model(true);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<InitState>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    let mut store = Store::new(
        &engine,
        InitState {
            // Stderr is inherited so that a failing initializer explains itself.
            wasi: WasiCtx::builder().inherit_stderr().build(),
            table: ResourceTable::new(),
        },
    );

    // The initializer must not reach the host: its connector, console,
    // catalog and document imports trap here.
    let imports = [
        (
            "codemode:sandbox/host@0.1.0",
            &["start-call", "wait-next", "log"][..],
        ),
        (
            "codemode:sandbox/catalog@0.1.0",
            &["search", "describe"][..],
        ),
        ("codemode:sandbox/documents@0.1.0", &["read", "find"][..]),
    ];
    for (interface, functions) in imports {
        let mut instance = linker.instance(interface)?;
        for &function in functions {
            instance.func_new(function, move |_, _, _, _| {
                wasmtime::bail!(
                    "the guest's initializer called `{function}`; it must not reach the host"
                )
            })?;
        }
    }

    let mut wizer = wasmtime_wizer::Wizer::new();
    wizer.init_func("initialize");
    // Removing the export breaks the component: wizer drops the core export
    // that the component's `initialize` still aliases. Kept, it is harmless:
    // the host never calls it, and calling it again does nothing.
    wizer.keep_init_func(true);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (snapshot, _) = runtime.block_on(wizer.run_component(
        &mut store,
        raw,
        async |store, component: &Component| linker.instantiate_async(store, component).await,
    ))?;
    Ok(snapshot)
}
