//! URLs in error texts without what may be a credential: the texts that
//! rmcp and reqwest give for a failed connection quote the server's URL
//! whole (`error sending request for url (https://h/mcp?token=...)`), and
//! a server's stderr may print the URLs it reaches. Each `scheme://...`
//! in such a text keeps its scheme, host and path, and has its userinfo,
//! query and fragment replaced by `[redacted]`, so that a script reading
//! the error never sees them, with or without the CLI's own redaction of
//! its configuration's secrets.
//!
//! (reqwest's `Error::without_url` would drop the URL, but the reqwest
//! error is buried in rmcp's transport errors, whose texts are what reach
//! this crate.)

use std::borrow::Cow;

use codemode_runtime::REDACTED;

/// `text` with the userinfo, query and fragment of every URL in it
/// replaced by `[redacted]`; borrowed when it has none.
pub(crate) fn without_url_secrets(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out = String::new();
    // Bytes of `text` before `copied` are in `out` (or need not be);
    // nothing before `floor` belongs to a URL still to be found.
    let (mut copied, mut floor) = (0, 0);
    while let Some(found) = text[floor..].find("://") {
        let separator = floor + found;
        let mut start = separator;
        while start > floor && is_scheme_byte(bytes[start - 1]) {
            start -= 1;
        }
        if start == separator || !bytes[start].is_ascii_alphabetic() {
            floor = separator + 3;
            continue;
        }
        let mut end = text[separator..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .map_or(text.len(), |length| separator + length);
        // `(https://h/x)`: the parenthesis closes the text around the URL.
        if start > 0 && bytes[start - 1] == b'(' && bytes[end - 1] == b')' {
            end -= 1;
        }
        if let Some(scrubbed) = scrubbed(&text[start..end], separator - start) {
            out.push_str(&text[copied..start]);
            out.push_str(&scrubbed);
            copied = end;
        }
        floor = end.max(separator + 3);
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// A byte of a URL scheme (after its first letter).
fn is_scheme_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'+' | b'-' | b'.')
}

/// `url`, whose `://` is at `separator`, without its userinfo, query and
/// fragment; `None` when it has none of them.
fn scrubbed(url: &str, separator: usize) -> Option<String> {
    let after_scheme = separator + 3;
    let rest = &url[after_scheme..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, host) = match authority.rfind('@') {
        Some(at) => (true, &authority[at + 1..]),
        None => (false, authority),
    };
    let after_authority = &rest[authority.len()..];
    let (path, hidden) = match after_authority.find(['?', '#']) {
        Some(at) => (&after_authority[..at], Some(&after_authority[at..=at])),
        None => (after_authority, None),
    };
    if !userinfo && hidden.is_none() {
        return None;
    }
    let mut out = url[..after_scheme].to_owned();
    if userinfo {
        out.push_str(REDACTED);
        out.push('@');
    }
    out.push_str(host);
    out.push_str(path);
    if let Some(delimiter) = hidden {
        out.push_str(delimiter);
        out.push_str(REDACTED);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::without_url_secrets;

    #[test]
    fn urls_keep_their_host_and_path_only() {
        for (text, expected) in [
            (
                "error sending request for url (http://127.0.0.1:9/mcp?token=abc123)",
                "error sending request for url (http://127.0.0.1:9/mcp?[redacted])",
            ),
            (
                "to https://user:pa55@example.com:8443/a/b#frag and ws://h/x?y=1, done",
                "to https://[redacted]@example.com:8443/a/b#[redacted] and ws://h/x?[redacted] done",
            ),
            (
                "postgres://admin:hunter2@db/app?sslmode=require\nnext",
                "postgres://[redacted]@db/app?[redacted]\nnext",
            ),
            ("\"http://h?q=1\"", "\"http://h?[redacted]\""),
        ] {
            assert_eq!(without_url_secrets(text), expected, "{text}");
        }
    }

    #[test]
    fn texts_without_secret_parts_are_unchanged() {
        for text in [
            "plain text",
            "http://127.0.0.1:9/mcp closed",
            "a :// without a scheme, 1://x",
            "://",
            "ends with http://",
        ] {
            assert_eq!(without_url_secrets(text), text);
        }
    }
}
