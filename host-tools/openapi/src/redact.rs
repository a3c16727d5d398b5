//! Keeping credentials out of the sandbox: every text the connector hands a
//! script (response headers and bodies, error messages) passes through a
//! [`Redactor`] that replaces each form of each credential the host sends.
//!
//! The forms are the credential as written, as it travels (base64 for basic
//! auth, percent-encoded in a query string) and as JSON escapes it. A server
//! that echoes a request back, or quotes it in an error, is so covered; one
//! that deliberately re-encodes the credential is not, but it holds the
//! credential already.

use base64::Engine as _;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

use crate::config::Auth;

/// What replaces a credential.
pub(crate) const REDACTED: &str = "[redacted]";

/// Replaces the forms of the credentials in texts.
#[derive(Debug, Default)]
pub(crate) struct Redactor {
    /// The forms to replace, longest first (so that a form containing
    /// another is replaced whole).
    needles: Vec<String>,
}

impl Redactor {
    /// A redactor for what `auth` sends.
    pub(crate) fn new(auth: Option<&Auth>) -> Self {
        let mut needles = Vec::new();
        match auth {
            None => {}
            Some(Auth::Bearer { token }) => needles.push(token.expose().to_owned()),
            Some(Auth::Header { value, .. }) => needles.push(value.expose().to_owned()),
            Some(Auth::Query { value, .. }) => {
                let value = value.expose();
                needles.push(value.to_owned());
                needles.push(utf8_percent_encode(value, NON_ALPHANUMERIC).to_string());
                let form: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
                needles.push(form);
            }
            Some(Auth::Basic { username, password }) => {
                needles.push(password.expose().to_owned());
                let pair = format!("{username}:{}", password.expose());
                needles.push(base64::engine::general_purpose::STANDARD.encode(&pair));
            }
        }
        let escaped: Vec<String> = needles
            .iter()
            .filter_map(|needle| {
                let quoted = serde_json::to_string(needle).ok()?;
                Some(quoted[1..quoted.len() - 1].to_owned())
            })
            .collect();
        needles.extend(escaped);
        needles.retain(|needle| !needle.is_empty());
        needles.sort_by_key(|needle| std::cmp::Reverse(needle.len()));
        needles.dedup();
        Self { needles }
    }

    /// `text` with every credential replaced.
    pub(crate) fn text(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for needle in &self.needles {
            if text.contains(needle.as_str()) {
                text = text.replace(needle.as_str(), REDACTED);
            }
        }
        text
    }

    /// `bytes` with every credential replaced, byte for byte: for bodies
    /// before they are decoded (a binary body reaches the script as base64,
    /// where a text search could no longer find a credential).
    pub(crate) fn bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        let mut bytes = bytes;
        for needle in &self.needles {
            let needle = needle.as_bytes();
            if bytes.windows(needle.len()).any(|w| w == needle) {
                let mut out = Vec::with_capacity(bytes.len());
                let mut rest = bytes.as_slice();
                while let Some(at) = rest.windows(needle.len()).position(|w| w == needle) {
                    out.extend_from_slice(&rest[..at]);
                    out.extend_from_slice(REDACTED.as_bytes());
                    rest = &rest[at + needle.len()..];
                }
                out.extend_from_slice(rest);
                bytes = out;
            }
        }
        bytes
    }

    /// `value` with every credential replaced in its strings and keys.
    pub(crate) fn json(&self, value: Value) -> Value {
        if self.needles.is_empty() {
            return value;
        }
        match value {
            Value::String(text) => Value::String(self.text(&text)),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.json(v)).collect()),
            Value::Object(fields) => Value::Object(
                fields
                    .into_iter()
                    .map(|(key, v)| (self.text(&key), self.json(v)))
                    .collect::<Map<_, _>>(),
            ),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{REDACTED, Redactor};
    use crate::config::{Auth, Secret};

    #[test]
    fn every_form_of_a_credential_is_replaced() {
        let basic = Redactor::new(Some(&Auth::Basic {
            username: "ann".into(),
            password: Secret::new("p/ss w\"rd"),
        }));
        // base64("ann:p/ss w\"rd")
        let encoded = "YW5uOnAvc3MgdyJyZA==";
        assert_eq!(
            basic.text(&format!("Basic {encoded} and p/ss w\"rd")),
            format!("Basic {REDACTED} and {REDACTED}")
        );
        assert_eq!(
            basic.json(json!({"p/ss w\"rd": ["x p/ss w\"rd y", 1]})),
            json!({ REDACTED: [format!("x {REDACTED} y"), 1] })
        );
        // As JSON text escapes it, before it is parsed.
        assert_eq!(
            basic.bytes(br#"{"echo": "p/ss w\"rd"}"#.to_vec()),
            format!(r#"{{"echo": "{REDACTED}"}}"#).into_bytes()
        );

        let query = Redactor::new(Some(&Auth::Query {
            name: "key".into(),
            value: Secret::new("a+b c&d"),
        }));
        for sent in ["a%2Bb%20c%26d", "a%2Bb+c%26d", "a+b c&d"] {
            assert_eq!(
                query.text(&format!("/x?key={sent}")),
                format!("/x?key={REDACTED}")
            );
        }
        assert_eq!(
            Redactor::new(None).text("nothing to hide"),
            "nothing to hide"
        );
    }
}
