//! Grants: the connectors one execution may reach, under the global names the
//! script uses for them.
//!
//! Built once per connector set and shared (it is behind an `Arc`), so that
//! names are validated and method tables built once, not on every call.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, OnceLock};

use codemode_typescript::names::{Names, is_identifier};

use crate::CatalogFormat;
use crate::connector::{Connector, MethodDescription};
use crate::discovery::Discovery;
use crate::error::{Error, Result};
use codemode_redact::Secrets;

/// Globals a connector may not shadow: every global the sandbox defines (a
/// test checks this list against the sandbox's own `globalThis`).
const RESERVED_GLOBALS: &[&str] = &[
    "AggregateError",
    "ApprovalRejectedError",
    "Array",
    "ArrayBuffer",
    "AsyncDisposableStack",
    "BigInt",
    "CallDeniedError",
    "BigInt64Array",
    "BigUint64Array",
    "Boolean",
    "ConnectorError",
    "DOMException",
    "DataView",
    "Date",
    "DisposableStack",
    "Error",
    "EvalError",
    "FinalizationRegistry",
    "Float16Array",
    "Float32Array",
    "Float64Array",
    "Function",
    "Infinity",
    "Int16Array",
    "Int32Array",
    "Int8Array",
    "InternalError",
    "Iterator",
    "JSON",
    "Map",
    "Math",
    "NaN",
    "Number",
    "Object",
    "Promise",
    "Proxy",
    "RangeError",
    "ReferenceError",
    "Reflect",
    "RegExp",
    "Set",
    "SharedArrayBuffer",
    "String",
    "SuppressedError",
    "Symbol",
    "SyntaxError",
    "TextDecoder",
    "TextEncoder",
    "TypeError",
    "URIError",
    "URL",
    "URLSearchParams",
    "Uint16Array",
    "Uint32Array",
    "Uint8Array",
    "Uint8ClampedArray",
    "WeakMap",
    "WeakRef",
    "WeakSet",
    "atob",
    "btoa",
    "clearInterval",
    "clearTimeout",
    "console",
    "crypto",
    "decodeURI",
    "decodeURIComponent",
    "encodeURI",
    "encodeURIComponent",
    "escape",
    "eval",
    "globalThis",
    "isFinite",
    "isNaN",
    "parseFloat",
    "parseInt",
    "queueMicrotask",
    "setInterval",
    "setTimeout",
    "structuredClone",
    "undefined",
    "unescape",
    "codemode",
];

/// One granted connector.
pub(crate) struct Grant {
    connector: Arc<dyn Connector>,
    /// Each method's identifier (what the script calls) and original name
    /// (what the connector is called with).
    names: Names,
    /// The identifiers, in the connector's order.
    identifiers: Vec<String>,
    /// The identifiers of the methods that change nothing (see
    /// `MethodDescription::read_only`), for an approval policy's default.
    read_only: HashSet<String>,
}

impl Grant {
    pub(crate) fn connector(&self) -> &Arc<dyn Connector> {
        &self.connector
    }

    /// The connector's name for the method the script calls `identifier`.
    pub(crate) fn method(&self, identifier: &str) -> Option<&str> {
        self.names.original(identifier)
    }

    /// Whether the method the script calls `identifier` changes nothing;
    /// false for a method the connector does not have.
    pub(crate) fn read_only(&self, identifier: &str) -> bool {
        self.read_only.contains(identifier)
    }
}

/// The connectors granted to executions, by the global name each one gets.
///
/// ```
/// # use std::sync::Arc;
/// # use codemode_runtime::{Connector, Grants};
/// # fn demo(github: Arc<dyn Connector>) -> codemode_runtime::Result<()> {
/// let grants = Grants::new().grant("github", github)?;
/// # Ok(()) }
/// ```
///
/// Method names that are not JavaScript identifiers are sanitized the way
/// the generated TypeScript names them (`get-issue` becomes `get_issue`,
/// `delete` becomes `delete_`, collisions get `_2`), and calls map back to
/// the connector's own names.
///
/// Secrets registered with [`Grants::redact`] are replaced by `[redacted]`
/// in every reply and error message of every granted connector before a
/// script sees it.
#[derive(Default)]
pub struct Grants {
    by_name: BTreeMap<String, Grant>,
    /// What no reply or connector error may carry into the sandbox.
    secrets: Secrets,
    /// The search index, built on the first `codemode.search` or
    /// `codemode.describe` of any run with these grants.
    discovery: OnceLock<Discovery>,
}

impl Grants {
    /// No connectors: a script can compute and log, nothing else.
    pub fn new() -> Self {
        Self::default()
    }

    /// Grant `connector` as the global namespace `name`.
    ///
    /// # Errors
    ///
    /// [`Error::ConnectorName`] when `name` is not a JavaScript identifier,
    /// is a reserved word, shadows a built-in global, or is already granted.
    pub fn grant(mut self, name: &str, connector: Arc<dyn Connector>) -> Result<Self> {
        if let Some(reason) = self.unusable_name(name) {
            return Err(Error::ConnectorName {
                name: name.to_owned(),
                reason,
            });
        }
        let names = Names::new(connector.methods().iter().map(|m| m.name.as_str()));
        let identifier = |method: &MethodDescription| names.identifier(&method.name);
        let identifiers = connector
            .methods()
            .iter()
            .filter_map(|m| identifier(m).map(str::to_owned))
            .collect();
        let read_only = connector
            .methods()
            .iter()
            .filter(|m| m.read_only)
            .filter_map(|m| identifier(m).map(str::to_owned))
            .collect();
        self.by_name.insert(
            name.to_owned(),
            Grant {
                connector,
                names,
                identifiers,
                read_only,
            },
        );
        self.discovery = OnceLock::new();
        Ok(self)
    }

    /// Redact `secrets` from everything the granted connectors hand a
    /// script: each string and object key of a reply, and each
    /// `ConnectorError` message, has every occurrence of a secret replaced
    /// by `[redacted]` on the host, before it enters the sandbox. Replaces
    /// secrets registered before. With none (the default), replies pass
    /// untouched.
    ///
    /// ```
    /// # use codemode_runtime::{Grants, Secrets};
    /// let grants = Grants::new().redact(Secrets::new(["the-api-key-value"])?);
    /// # Ok::<(), codemode_runtime::SecretsError>(())
    /// ```
    pub fn redact(mut self, secrets: Secrets) -> Self {
        self.secrets = secrets;
        self
    }

    /// What replies and connector errors are redacted of.
    pub(crate) fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Why `name` cannot be a new global of a run with these grants, if it
    /// cannot.
    pub(crate) fn unusable_name(&self, name: &str) -> Option<&'static str> {
        if !is_identifier(name) {
            Some(
                "it must be a JavaScript identifier (letters, digits, `_` or `$`, not starting with a digit) and not a reserved word",
            )
        } else if RESERVED_GLOBALS.contains(&name) {
            Some("it would shadow a built-in global")
        } else if self.by_name.contains_key(name) {
            Some("a connector is already granted under it")
        } else {
            None
        }
    }

    /// Whether the method a script calls `namespace.identifier` changes
    /// nothing (an HTTP `GET`, an MCP tool with `readOnlyHint`): what an
    /// approval policy lets through when no rule names the call. False for
    /// a namespace or method not granted.
    pub fn read_only(&self, namespace: &str, identifier: &str) -> bool {
        self.get(namespace)
            .is_some_and(|grant| grant.read_only(identifier))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Grant> {
        self.by_name.get(name)
    }

    /// `(name, method identifiers)` of each grant, as the guest receives
    /// them.
    pub fn namespaces(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.by_name
            .iter()
            .map(|(name, grant)| (name.as_str(), grant.identifiers.as_slice()))
    }

    /// Every granted method as `codemode.describe` describes it: a JSON
    /// object with `name` (`namespace.method`), `description`,
    /// `declaration` (TypeScript), `inputSchema` and `outputSchema`, plus
    /// `originalName`, `path` and `tags` where the method has them. In
    /// namespace order, each connector's methods in its own order.
    pub fn catalog(&self) -> Vec<serde_json::Value> {
        self.discovery().catalog()
    }

    /// The catalog as a listing in `format`: every granted method in
    /// namespace order, or, for a `query`, the best `limit` (50 at most) as
    /// `codemode.search` ranks them. A JSON listing is an array of what
    /// [`catalog`](Self::catalog) holds.
    pub fn render(&self, format: CatalogFormat, query: Option<&str>, limit: usize) -> String {
        self.discovery().render(format, query, limit)
    }

    /// The search index over every granted method, built once.
    pub(crate) fn discovery(&self) -> &Discovery {
        self.discovery.get_or_init(|| {
            Discovery::build(self.by_name.iter().map(|(name, grant)| {
                (
                    name.as_str(),
                    grant.identifiers.as_slice(),
                    &grant.connector,
                )
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::Grants;
    use crate::connector::MethodDescription;
    use crate::discovery::tests::Listed;

    #[test]
    fn read_only_methods_are_known_by_their_identifiers() {
        let api = Listed(vec![
            MethodDescription::new("get-issue", "reads").read_only(true),
            MethodDescription::new("delete", "deletes"),
            MethodDescription::new("list", "lists").read_only(true),
        ]);
        let grants = Grants::new()
            .grant("api", Arc::new(api))
            .expect("a valid grant");
        assert!(grants.read_only("api", "get_issue"));
        assert!(grants.read_only("api", "list"));
        assert!(!grants.read_only("api", "delete_"));
        assert!(!grants.read_only("api", "get-issue"));
        assert!(!grants.read_only("api", "missing"));
        assert!(!grants.read_only("other", "list"));
    }
}
