//! Builds the portable components: the pre-initialized guest (from
//! `codemode-runtime`'s build) composed with the pieces in
//! `guest/portable/`, with `wac-graph`.
//!
//! ```text
//! connectors ──connector──▶ host ──host, catalog, documents──▶ interpreter (the guest)
//!                            │  └──empty-environment as wasi:cli/environment──▶ │
//!                            └──session──▶ driver ◀──runner─────────────────────┘
//! ```
//!
//! - `cli.wasm`: no connectors, and the driver exports `wasi:cli/run`;
//! - `http.wasm`: HTTP connectors, and the driver exports
//!   `wasi:http/incoming-handler`.
//!
//! Every other import of every piece (WASI's clocks, random, streams, the
//! CLI's standard streams; the connectors' `wasi:http` and environment)
//! becomes an import of the composition, which the host that runs it
//! provides.

#[path = "../../guest/cargo_build.rs"]
mod cargo_build;

use std::path::{Path, PathBuf};

use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions, NodeId};

fn main() {
    if let Err(error) = build() {
        eprintln!("error: building the portable components failed: {error}");
        std::process::exit(1);
    }
}

/// The pieces, as built.
struct Pieces {
    guest: Vec<u8>,
    host: Vec<u8>,
}

fn build() -> Result<(), String> {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(env("OUT_DIR")?);
    let guest_dir = manifest_dir.join("../../guest");
    for watched in [
        "../../guest/portable",
        "../../guest/Cargo.lock",
        "../../guest/cargo_build.rs",
        "../../wit",
        "../../outcome/src",
        "../../redact/src",
    ] {
        println!("cargo:rerun-if-changed={watched}");
    }
    let snapshot = env("DEP_CODEMODE_GUEST_SNAPSHOT")?;
    println!("cargo:rerun-if-changed={snapshot}");

    let target_dir = cargo_build::guest_target_dir(&out_dir);
    let piece = |package: &str, features: &[&str], artifact: &str| {
        let mut args = vec!["-p", package];
        let features = features.join(",");
        if !features.is_empty() {
            args.extend(["--features", features.as_str()]);
        }
        cargo_build::cargo_build(&guest_dir, &target_dir, &args, artifact)
    };
    let pieces = Pieces {
        guest: std::fs::read(&snapshot).map_err(|e| format!("reading {snapshot}: {e}"))?,
        host: piece("codemode-portable-host", &[], "codemode_portable_host.wasm")?,
    };
    let connectors = "codemode_portable_connectors.wasm";
    let main = "codemode_portable_main.wasm";
    let no_connectors = piece("codemode-portable-connectors", &[], connectors)?;
    let cli_main = piece("codemode-portable-main", &["cli"], main)?;
    write(
        &out_dir,
        "cli.wasm",
        &compose(&pieces, no_connectors, cli_main)?,
    )?;
    let http_connectors = piece("codemode-portable-connectors", &["http"], connectors)?;
    let http_main = piece("codemode-portable-main", &["http"], main)?;
    write(
        &out_dir,
        "http.wasm",
        &compose(&pieces, http_connectors, http_main)?,
    )?;
    Ok(())
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("`{name}` is not set"))
}

fn write(out_dir: &Path, name: &str, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(out_dir.join(name), bytes).map_err(|e| format!("writing {name}: {e}"))
}

/// The pieces composed around `connectors` and `driver`; the composition
/// exports what the driver exports.
fn compose(pieces: &Pieces, connectors: Vec<u8>, driver: Vec<u8>) -> Result<Vec<u8>, String> {
    let failed = |what: &str| {
        let what = what.to_owned();
        move |error: &dyn std::fmt::Display| format!("{what}: {error}")
    };
    let mut graph = CompositionGraph::new();
    let register = |graph: &mut CompositionGraph, name: &str, bytes: Vec<u8>| {
        let package = Package::from_bytes(name, None, bytes, graph.types_mut())
            .map_err(|e| failed(name)(&e))?;
        graph
            .register_package(package)
            .map_err(|e| failed(name)(&e))
    };
    let connectors = register(&mut graph, "codemode:connectors", connectors)?;
    let host = register(&mut graph, "codemode:host", pieces.host.clone())?;
    let guest = register(&mut graph, "codemode:interpreter", pieces.guest.clone())?;
    let driver_package = register(&mut graph, "codemode:driver", driver)?;

    let instances = [
        ("connectors", graph.instantiate(connectors)),
        ("host", graph.instantiate(host)),
        ("interpreter", graph.instantiate(guest)),
        ("driver", graph.instantiate(driver_package)),
    ];
    for (name, node) in instances {
        graph.set_node_name(node, name);
    }
    let [(_, connectors), (_, host), (_, interpreter), (_, driver)] = instances;

    let plug = |graph: &mut CompositionGraph,
                from: NodeId,
                export: &str,
                to: NodeId,
                import: &str|
     -> Result<(), String> {
        let item = graph
            .alias_instance_export(from, export)
            .map_err(|e| failed(export)(&e))?;
        graph
            .set_instantiation_argument(to, import, item)
            .map_err(|e| failed(import)(&e))
    };
    let connector = "codemode:portable/connector@0.1.0";
    plug(&mut graph, connectors, connector, host, connector)?;
    for interface in ["host", "catalog", "documents"] {
        let name = format!("codemode:sandbox/{interface}@0.1.0");
        plug(&mut graph, host, &name, interpreter, &name)?;
    }
    let environment = wasi_import(&graph, guest, "wasi:cli/environment@")?;
    plug(
        &mut graph,
        host,
        "codemode:portable/empty-environment@0.1.0",
        interpreter,
        &environment,
    )?;
    let runner = "codemode:sandbox/runner@0.1.0";
    plug(&mut graph, interpreter, runner, driver, runner)?;
    let session = "codemode:portable/session@0.1.0";
    plug(&mut graph, host, session, driver, session)?;

    let exports: Vec<String> = graph.types()[graph[driver_package].ty()]
        .exports
        .keys()
        .cloned()
        .collect();
    for export in exports {
        let item = graph
            .alias_instance_export(driver, &export)
            .map_err(|e| failed(&export)(&e))?;
        graph
            .export(item, export.clone())
            .map_err(|e| failed(&export)(&e))?;
    }
    graph
        .encode(EncodeOptions::default())
        .map_err(|e| failed("encoding the composition")(&e))
}

/// The full name (with its version) of the import of `package` that starts
/// with `prefix`.
fn wasi_import(
    graph: &CompositionGraph,
    package: wac_graph::PackageId,
    prefix: &str,
) -> Result<String, String> {
    graph.types()[graph[package].ty()]
        .imports
        .keys()
        .find(|name| name.starts_with(prefix))
        .cloned()
        .ok_or_else(|| format!("the guest does not import `{prefix}…`"))
}
