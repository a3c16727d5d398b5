//! Keeping the host's secrets out of the sandbox, whatever the connector:
//! [`Secrets`] holds the secret strings a host knows (the `${VAR}` values
//! of a configuration, say), and the runtime replaces each occurrence of
//! any of them with `[redacted]` in every connector reply (each string and
//! object key) and every `ConnectorError` message before the script sees
//! it. A connector that keeps its own credentials out (as the OpenAPI one
//! does) is so backed by a second line of defence, and one that does not
//! (an upstream MCP server echoing its API key, or printing it on stderr
//! before it dies) is covered.
//!
//! Secrets shorter than [`MIN_SECRET_BYTES`] are not redacted: replacing
//! `1` or `true` everywhere would garble every reply.
//!
//! Its own crate, so that the portable connector component (built for
//! `wasm32-wasip2`, without wasmtime) redacts exactly as the runtime does;
//! the runtime re-exports it.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use aho_corasick::AhoCorasick;
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// The shortest secret that is redacted, in bytes.
pub const MIN_SECRET_BYTES: usize = 8;

/// Why a set of secrets could not be prepared for matching.
#[derive(Debug, thiserror::Error)]
#[error("the secrets to redact could not be prepared for matching: {0}")]
pub struct SecretsError(#[from] aho_corasick::BuildError);

/// Secret strings to replace with `[redacted]`, matched all at once.
///
/// Each secret is matched as written, as JSON escapes it, and
/// percent-encoded (every byte but ASCII letters and digits, or all but
/// those and `-._~`, as `encodeURIComponent` leaves them), so that a server
/// quoting it in JSON or in a URL is covered too. Occurrences that
/// overlap (two secrets sharing text, or one secret repeating into itself)
/// become one `[redacted]`. Secrets shorter than [`MIN_SECRET_BYTES`] are
/// left out. Cheap to clone; `Debug` shows only how many forms it holds.
///
/// ```
/// # use codemode_redact::Secrets;
/// let secrets = Secrets::new(["s3cret-token", "short"])?;
/// assert_eq!(secrets.redact("token s3cret-token, short"), "token [redacted], short");
/// # Ok::<(), codemode_redact::SecretsError>(())
/// ```
#[derive(Clone, Default)]
pub struct Secrets {
    /// Every form of every secret; `None` when there is none.
    matcher: Option<AhoCorasick>,
    /// How many forms the matcher holds.
    forms: usize,
    /// The length of the longest form, in bytes.
    longest: usize,
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} forms)", self.forms)
    }
}

impl Secrets {
    /// The secrets in `secrets` (duplicates, empty strings and strings
    /// shorter than [`MIN_SECRET_BYTES`] are left out).
    ///
    /// # Errors
    ///
    /// [`SecretsError`] when the matcher cannot be built (only for sets of
    /// secrets far larger than any configuration holds).
    pub fn new<I, S>(secrets: I) -> Result<Self, SecretsError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut forms = BTreeSet::new();
        for secret in secrets {
            let secret = secret.as_ref();
            if secret.len() < MIN_SECRET_BYTES {
                continue;
            }
            forms.insert(secret.to_owned());
            forms.insert(json_escaped(secret));
            forms.insert(percent_encoded(secret, b""));
            forms.insert(percent_encoded(secret, b"-._~"));
        }
        if forms.is_empty() {
            return Ok(Self::default());
        }
        let longest = forms.iter().map(String::len).max().unwrap_or(0);
        Ok(Self {
            matcher: Some(AhoCorasick::new(&forms)?),
            forms: forms.len(),
            longest,
        })
    }

    /// True when there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// The length of the longest form of a secret, in bytes (0 for none):
    /// how far into a rolling buffer of a stream (a process's stderr) that
    /// has dropped its first bytes the end of a secret whose start was
    /// dropped can reach (see [`Secrets::redact_skipping`]).
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// `text` with every occurrence of a secret replaced by `[redacted]`;
    /// borrowed when there is none.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let spans = self.spans(text);
        if spans.is_empty() {
            Cow::Borrowed(text)
        } else {
            Cow::Owned(replaced(text, 0, &spans))
        }
    }

    /// `text` redacted, without about its first `skip` bytes: where the cut
    /// would fall inside a secret, it moves back to the secret's start, so
    /// that the secret is redacted whole rather than shown in part.
    ///
    /// For a rolling buffer that has dropped bytes (and starts on a
    /// character boundary), skipping [`Secrets::longest`] bytes leaves out
    /// what may be the end of a secret whose start was dropped, which no
    /// longer matches.
    pub fn redact_skipping(&self, text: &str, skip: usize) -> String {
        let mut cut = skip.min(text.len());
        while !text.is_char_boundary(cut) {
            cut += 1;
        }
        let spans = self.spans(text);
        if let Some(&(start, _)) = spans.iter().find(|&&(start, end)| start < cut && cut < end) {
            cut = start;
        }
        replaced(text, cut, &spans)
    }

    /// `value` as JSON with every string and object key redacted, for
    /// serializing (nothing is copied).
    pub fn json<'a>(&'a self, value: &'a Value) -> RedactedJson<'a> {
        RedactedJson {
            value,
            secrets: self,
        }
    }

    /// Where secrets occur in `text`: byte ranges, sorted, overlapping and
    /// touching occurrences merged. Linear in `text` and the occurrences.
    fn spans(&self, text: &str) -> Vec<(usize, usize)> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        let mut spans: Vec<(usize, usize)> = Vec::new();
        // Overlapping matches come in order of where they end; one that
        // starts inside (or right after) earlier spans absorbs them.
        for found in matcher.find_overlapping_iter(text) {
            let (mut start, mut end) = (found.start(), found.end());
            while let Some(&(earlier_start, earlier_end)) = spans.last() {
                if earlier_end < start {
                    break;
                }
                start = start.min(earlier_start);
                end = end.max(earlier_end);
                spans.pop();
            }
            spans.push((start, end));
        }
        spans
    }
}

/// `text` from byte `from` on, with each span (sorted, disjoint, and on
/// character boundaries since secrets are whole strings) that ends past
/// `from` replaced.
fn replaced(text: &str, from: usize, spans: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(text.len() - from);
    let mut at = from;
    for &(start, end) in spans.iter().filter(|&&(_, end)| end > from) {
        out.push_str(&text[at..start.max(at)]);
        out.push_str(REDACTED);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// `secret` as it appears inside a JSON string.
fn json_escaped(secret: &str) -> String {
    let quoted = Value::String(secret.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

/// `secret` with every byte but ASCII letters, digits and those in `kept`
/// percent-encoded.
fn percent_encoded(secret: &str, kept: &[u8]) -> String {
    let mut out = String::with_capacity(secret.len() * 3);
    for byte in secret.bytes() {
        if byte.is_ascii_alphanumeric() || kept.contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A JSON value that serializes with its strings and keys redacted.
pub struct RedactedJson<'a> {
    value: &'a Value,
    secrets: &'a Secrets,
}

impl Serialize for RedactedJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.secrets.is_empty() {
            return self.value.serialize(serializer);
        }
        let nested = |value| self.secrets.json(value);
        match self.value {
            Value::String(text) => serializer.serialize_str(&self.secrets.redact(text)),
            Value::Array(items) => {
                let mut sequence = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    sequence.serialize_element(&nested(item))?;
                }
                sequence.end()
            }
            Value::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, item) in members {
                    map.serialize_entry(&*self.secrets.redact(key), &nested(item))?;
                }
                map.end()
            }
            other => other.serialize(serializer),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn secrets(list: &[&str]) -> Secrets {
        Secrets::new(list).expect("secrets")
    }

    fn redacted_json(secrets: &Secrets, value: &Value) -> String {
        serde_json::to_string(&secrets.json(value)).expect("serializes")
    }

    #[test]
    fn replaces_every_occurrence_and_leaves_short_values() {
        let secrets = secrets(&["s3cret-token", "true", "1234567"]);
        assert_eq!(
            secrets.redact("a s3cret-token, b s3cret-token; true 1234567"),
            "a [redacted], b [redacted]; true 1234567"
        );
        assert!(matches!(secrets.redact("nothing here"), Cow::Borrowed(_)));
        assert!(Secrets::new(["short", ""]).expect("secrets").is_empty());
    }

    #[test]
    fn overlapping_secrets_are_redacted_whole() {
        // Two secrets sharing text, a secret inside another, and a secret
        // repeating into itself: nothing of either shows.
        let secrets = secrets(&["abcdefgh1234", "1234wxyz5678", "cdefgh12", "zzzzzzzz"]);
        assert_eq!(secrets.redact("<abcdefgh1234wxyz5678>"), "<[redacted]>");
        assert_eq!(secrets.redact("-cdefgh12-"), "-[redacted]-");
        assert_eq!(secrets.redact("zzzzzzzzzzz!"), "[redacted]!");
        assert_eq!(
            secrets.redact("abcdefgh1234 and 1234wxyz5678"),
            "[redacted] and [redacted]"
        );
    }

    #[test]
    fn escaped_and_percent_encoded_forms_are_redacted() {
        let secrets = secrets(&["p@ss\"w-rd/1"]);
        assert_eq!(
            secrets.redact(r#"{"key":"p@ss\"w-rd/1"} ?k=p%40ss%22w%2Drd%2F1&j=p%40ss%22w-rd%2F1"#),
            r#"{"key":"[redacted]"} ?k=[redacted]&j=[redacted]"#
        );
    }

    #[test]
    fn replies_have_strings_and_keys_redacted_at_every_depth() {
        let secrets = secrets(&["hunter2-hunter2"]);
        let reply = json!({
            "token": "hunter2-hunter2",
            "hunter2-hunter2": 1,
            "nested": [{ "deeper": ["x hunter2-hunter2 y", 7, true, null] }],
        });
        let text = redacted_json(&secrets, &reply);
        assert!(!text.contains("hunter2"), "{text}");
        let value: Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(
            value,
            json!({
                "token": "[redacted]",
                "[redacted]": 1,
                "nested": [{ "deeper": ["x [redacted] y", 7, true, null] }],
            })
        );
    }

    #[test]
    fn no_secrets_change_nothing() {
        let none = Secrets::default();
        assert!(none.is_empty());
        let reply = json!({ "a": ["anything at all", 1.5, { "b": null }] });
        assert_eq!(redacted_json(&none, &reply), reply.to_string());
        assert!(matches!(none.redact("anything at all"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_cut_never_falls_inside_a_secret() {
        let secrets = secrets(&["SECRET-VALUE"]);
        let text = "start SECRET-VALUE end";
        // Every cut, including ones inside the secret, shows none of it.
        for skip in 0..=text.len() + 1 {
            let rest = secrets.redact_skipping(text, skip);
            let shown = ["SE", "-", "UE", "E "]
                .iter()
                .find(|part| rest.contains(*part));
            assert!(shown.is_none(), "{skip}: {rest}");
            let expected = &text[skip.min(text.len()).max(18)..];
            assert!(rest.ends_with(expected), "{skip}: {rest}");
        }
        assert_eq!(secrets.redact_skipping(text, 9), "[redacted] end");
        assert_eq!(secrets.redact_skipping(text, 2), "art [redacted] end");
        assert_eq!(secrets.redact_skipping("é€x", 1), "€x");
    }
}
