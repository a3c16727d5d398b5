//! The web platform APIs agents expect from browsers and Node and that
//! QuickJS lacks: DOMException, URL and URLSearchParams, atob and btoa,
//! structuredClone and crypto.
//!
//! Organized as Javy organizes its intrinsics: one feature per module, its
//! JavaScript (`<feature>.js`) beside its natives (`<feature>.rs`, for the
//! features that have any). The natives are listed, with every other, in
//! [`crate::protocol`]; each feature's JavaScript takes the natives and the
//! shared helpers it uses when it is evaluated.

pub(crate) mod crypto;
pub(crate) mod url;

/// Each feature's JavaScript, in the order it is evaluated (after
/// inspect.js, before prelude.js): a function of `(native, internal)` that
/// installs the feature's globals. `webidl` installs no global: it shares
/// the helpers the others use, and `dom_exception` the DOMException they
/// throw.
pub(crate) const FEATURES: [(&str, &str); 6] = [
    ("webidl", include_str!("webidl.js")),
    ("dom-exception", include_str!("dom_exception.js")),
    ("url", include_str!("url.js")),
    ("base64", include_str!("base64.js")),
    ("structured-clone", include_str!("structured_clone.js")),
    ("crypto", include_str!("crypto.js")),
];
