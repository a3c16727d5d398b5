//! The runtime as built, checked without running a script: the guest
//! component it embeds imports the sandbox's own interfaces and WASI
//! without sockets, files or HTTP, and a `Runtime` can be shared between
//! threads.

use anyhow::Result;
use codemode_runtime::{GUEST_COMPONENT, Runtime};

#[test]
fn the_runtime_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Runtime>();
}

#[test]
fn the_guest_component_imports_no_sockets_filesystem_or_http() -> Result<()> {
    let mut imports = Vec::new();
    for payload in wasmparser::Parser::new(0).parse_all(GUEST_COMPONENT) {
        if let wasmparser::Payload::ComponentImportSection(section) = payload? {
            for import in section {
                // Interfaces (`ns:pkg/iface`) are capabilities; plain names
                // are the world's own types.
                let name = import?.name.name;
                if name.contains(':') {
                    imports.push(name.to_owned());
                }
            }
        }
    }
    for expected in ["codemode:sandbox/host@", "codemode:sandbox/documents@"] {
        assert!(
            imports.iter().any(|i| i.starts_with(expected)),
            "{expected} not imported: {imports:?}"
        );
    }
    let allowed = [
        "codemode:sandbox/host@",
        "codemode:sandbox/catalog@",
        "codemode:sandbox/documents@",
        "wasi:clocks/",
        "wasi:random/",
        "wasi:io/",
        "wasi:cli/",
    ];
    for import in &imports {
        assert!(
            allowed.iter().any(|prefix| import.starts_with(prefix)),
            "unexpected import `{import}`"
        );
    }
    for forbidden in ["wasi:sockets", "wasi:filesystem", "wasi:http"] {
        assert!(
            !imports.iter().any(|i| i.starts_with(forbidden)),
            "{forbidden} imported: {imports:?}"
        );
    }
    Ok(())
}
