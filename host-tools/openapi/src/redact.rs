//! Keeping credentials out of the sandbox: every text the connector hands a
//! script (response headers and bodies, error messages) passes through a
//! [`Redactor`] that replaces each credential the host sends, in whatever
//! form an echo of the request may carry it.
//!
//! The credentials looked for are the secrets as configured and, for basic
//! auth, the base64 the header carries. Each character of one may appear as
//! itself or escaped, independently of the others: as JSON and JavaScript
//! write it (`\/`, `\u002F`, `\x2f`, a surrogate pair), percent-encoded
//! (`%2F` or `%2f`, `+` for a space), or as an HTML character reference
//! (`&#47;`, `&#x2F;`, `&amp;`). The text around may be UTF-8, UTF-16 or
//! UTF-32 in either byte order, at any alignment, so that a body in another
//! charset (or one a script would read as such) is covered too.
//!
//! A server that deliberately transforms a credential (reverses it, splits
//! it, hashes it, compresses it without saying so) can still hand it out:
//! redaction is the last of the connector's defences, not the only one.

use std::cell::RefCell;

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::config::Auth;

/// What replaces a credential.
pub(crate) const REDACTED: &str = "[redacted]";

/// Replaces the credentials in texts.
#[derive(Debug, Default)]
pub(crate) struct Redactor {
    /// The credentials to replace, longest first (so that one containing
    /// another is replaced whole).
    needles: Vec<Needle>,
}

/// A credential to replace.
#[derive(Debug)]
struct Needle {
    chars: Vec<char>,
    /// The bytes a form of it can start with, in each of [`LAYOUTS`].
    starts: [[bool; 256]; LAYOUTS.len()],
}

/// How a text lays out its characters in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    Utf8,
    Utf16Le,
    Utf16Be,
    Utf32Le,
    Utf32Be,
}

/// Every layout a credential is looked for in, UTF-8 first.
const LAYOUTS: [Layout; 5] = [
    Layout::Utf8,
    Layout::Utf16Le,
    Layout::Utf16Be,
    Layout::Utf32Le,
    Layout::Utf32Be,
];

/// The longest name of an HTML character reference read: `#x` and eight
/// hexadecimal digits.
const REFERENCE_NAME: usize = 10;

/// How deeply escapes nest where a credential is looked for: 2 finds an
/// escape of an escape's part, as when a server writes a percent-encoded
/// query into JSON (`\u00252F` for `%2F`, for `/`) or JSON into JSON
/// (`\\u002F`).
const ESCAPE_DEPTH: usize = 2;

impl Redactor {
    /// A redactor for what `auth` sends.
    pub(crate) fn new(auth: Option<&Auth>) -> Self {
        let mut needles: Vec<String> = match auth {
            None => Vec::new(),
            Some(Auth::Bearer { token }) => vec![token.expose().to_owned()],
            Some(Auth::Header { value, .. } | Auth::Query { value, .. }) => {
                vec![value.expose().to_owned()]
            }
            Some(Auth::Basic { username, password }) => {
                let pair = format!("{username}:{}", password.expose());
                vec![
                    password.expose().to_owned(),
                    base64::engine::general_purpose::STANDARD.encode(pair),
                ]
            }
        };
        needles.retain(|needle| !needle.is_empty());
        needles.sort_by_key(|needle| std::cmp::Reverse(needle.chars().count()));
        needles.dedup();
        let needles = needles
            .iter()
            .filter_map(|needle| {
                let chars: Vec<char> = needle.chars().collect();
                let first = *chars.first()?;
                let starts = LAYOUTS.map(|layout| start_bytes(first, layout));
                Some(Needle { chars, starts })
            })
            .collect();
        Self { needles }
    }

    /// `text` with every credential replaced.
    pub(crate) fn text(&self, text: &str) -> String {
        if self.needles.is_empty() {
            return text.to_owned();
        }
        match String::from_utf8(self.bytes(text.as_bytes().to_vec())) {
            Ok(text) => text,
            // Only a credential with characters beyond ASCII, found in a
            // wider layout at an odd place, can leave invalid UTF-8.
            Err(error) => String::from_utf8_lossy(error.as_bytes()).into_owned(),
        }
    }

    /// `bytes` with every credential replaced, in every layout: for bodies
    /// before they are decoded (a binary body reaches the script as base64,
    /// where a text search could no longer find a credential).
    pub(crate) fn bytes(&self, bytes: Vec<u8>) -> Vec<u8> {
        let mut bytes = bytes;
        for needle in &self.needles {
            for (layout, starts) in LAYOUTS.into_iter().zip(&needle.starts) {
                bytes = replace_all(bytes, &needle.chars, layout, starts);
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

/// `bytes` with each occurrence of `needle`, in any of its forms laid out
/// as `layout`, replaced by [`REDACTED`] in the same layout;
/// `starts` are the bytes a form of it can start with.
fn replace_all(bytes: Vec<u8>, needle: &[char], layout: Layout, starts: &[bool; 256]) -> Vec<u8> {
    let text = Text {
        bytes: &bytes,
        layout,
        pool: RefCell::default(),
    };
    let mut scratch = Scratch::default();
    let mut out: Option<Vec<u8>> = None;
    let (mut copied, mut at) = (0, 0);
    while at < bytes.len() {
        if starts[usize::from(bytes[at])]
            && let Some(end) = text.match_at(at, needle, &mut scratch)
        {
            let out = out.get_or_insert_with(|| Vec::with_capacity(bytes.len()));
            out.extend_from_slice(&bytes[copied..at]);
            out.extend_from_slice(&layout.encode(REDACTED));
            copied = end;
            at = end;
            continue;
        }
        at += 1;
    }
    match out {
        None => bytes,
        Some(mut out) => {
            out.extend_from_slice(&bytes[copied..]);
            out
        }
    }
}

/// The bytes a form of `first` can start with, laid out as `layout`: the
/// character itself, or the start of an escape.
fn start_bytes(first: char, layout: Layout) -> [bool; 256] {
    let mut starts = [false; 256];
    for leader in [first, '\\', '%', '&', '+'] {
        if let Some(&byte) = layout.encode(leader.encode_utf8(&mut [0; 4])).first() {
            starts[usize::from(byte)] = true;
        }
    }
    starts
}

/// One way to read a character: its code (a lone surrogate is a code too)
/// and where it ends.
type Reading = (u32, usize);

/// Buffers a search reuses from one place to the next.
#[derive(Default)]
struct Scratch {
    ends: Vec<usize>,
    next: Vec<usize>,
    reads: Vec<Reading>,
}

/// A text being searched.
struct Text<'a> {
    bytes: &'a [u8],
    layout: Layout,
    /// Buffers for readings, reused as escapes are read inside escapes.
    pool: RefCell<Vec<Vec<Reading>>>,
}

impl Text<'_> {
    /// Where the longest form of `needle` starting at `at` ends, if one
    /// does. The ways to read each character are followed together (they
    /// are few: a character and the escapes that begin with it).
    fn match_at(&self, at: usize, needle: &[char], scratch: &mut Scratch) -> Option<usize> {
        let Scratch { ends, next, reads } = scratch;
        ends.clear();
        ends.push(at);
        for &wanted in needle {
            next.clear();
            for &from in ends.iter() {
                reads.clear();
                self.reads_into(from, ESCAPE_DEPTH, reads);
                next.extend(
                    reads
                        .iter()
                        .filter(|(code, _)| *code == u32::from(wanted))
                        .map(|(_, end)| end),
                );
            }
            if next.is_empty() {
                return None;
            }
            next.sort_unstable();
            next.dedup();
            std::mem::swap(ends, next);
        }
        ends.last().copied()
    }

    /// Every reading of the character at `at`, added to `reads`: itself,
    /// and what an escape starting there means, its parts read through up
    /// to `depth` - 1 escapes themselves.
    fn reads_into(&self, at: usize, depth: usize, reads: &mut Vec<Reading>) {
        let Some(raw) = self.layout.char_at(self.bytes, at) else {
            return;
        };
        if depth == 0 || !leads_escape(raw.0) {
            reads.push(raw);
            return;
        }
        let inner = depth - 1;
        let from = reads.len();
        self.reads_into(at, inner, reads);
        for index in from..reads.len() {
            let (lead, next) = reads[index];
            match char::from_u32(lead) {
                Some('\\') => self.escape(next, inner, reads),
                Some('%') => self.percent(next, inner, reads),
                Some('+') => reads.push((u32::from(' '), next)),
                Some('&') => self.reference(&[], next, inner, reads),
                _ => {}
            }
        }
        reads[from..].sort_unstable();
        let mut kept = from;
        for index in from..reads.len() {
            if kept == from || reads[kept - 1] != reads[index] {
                reads[kept] = reads[index];
                kept += 1;
            }
        }
        reads.truncate(kept);
    }

    /// Call `each` with every reading of the character at `at` (allocating
    /// only where an escape may start).
    fn each_read(&self, at: usize, depth: usize, mut each: impl FnMut(Reading)) {
        match self.layout.char_at(self.bytes, at) {
            None => {}
            Some(raw) if depth == 0 || !leads_escape(raw.0) => each(raw),
            Some(_) => {
                let mut reads = self.pool.borrow_mut().pop().unwrap_or_default();
                self.reads_into(at, depth, &mut reads);
                reads.iter().copied().for_each(each);
                reads.clear();
                self.pool.borrow_mut().push(reads);
            }
        }
    }

    /// The readings of the character at `at` that are `wanted`, by where
    /// they end.
    fn ends_of(&self, at: usize, depth: usize, wanted: char) -> Vec<usize> {
        let mut ends = Vec::new();
        self.each_read(at, depth, |(code, end)| {
            if code == u32::from(wanted) {
                ends.push(end);
            }
        });
        ends
    }

    /// What the escape whose `\` ends at `at` means: `\u002F` (a surrogate
    /// pair for a character beyond the BMP), `\x2f`, `\/`, `\n`...
    fn escape(&self, at: usize, depth: usize, reads: &mut Vec<Reading>) {
        self.each_read(at, depth, |(kind, after)| match char::from_u32(kind) {
            Some('u') => self.hex(after, 4, depth, 0, &mut |(unit, end)| {
                if !(0xd800..=0xdbff).contains(&unit) {
                    reads.push((unit, end));
                    return;
                }
                for slash in self.ends_of(end, depth, '\\') {
                    for u in self.ends_of(slash, depth, 'u') {
                        self.hex(u, 4, depth, 0, &mut |(low, end)| {
                            if (0xdc00..=0xdfff).contains(&low) {
                                let code = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
                                reads.push((code, end));
                            }
                        });
                    }
                }
            }),
            Some('x') => self.hex(after, 2, depth, 0, &mut |read| reads.push(read)),
            Some(short) => {
                let meant = match short {
                    '/' | '\\' | '"' | '\'' => Some(short),
                    'b' => Some('\u{8}'),
                    'f' => Some('\u{c}'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    _ => None,
                };
                if let Some(meant) = meant {
                    reads.push((u32::from(meant), after));
                }
            }
            None => {}
        });
    }

    /// What the percent-encoding whose first `%` ends at `at` means: one
    /// character, from one `%XX` per byte of its UTF-8.
    fn percent(&self, at: usize, depth: usize, reads: &mut Vec<Reading>) {
        self.hex(at, 2, depth, 0, &mut |(first, end)| {
            let width = match first {
                0x00..=0x7f => return reads.push((first, end)),
                0xc0..=0xdf => 2,
                0xe0..=0xef => 3,
                0xf0..=0xf7 => 4,
                _ => return,
            };
            self.percent_rest(&[first as u8], end, width, depth, reads);
        });
    }

    /// The rest of a percent-encoded character of `width` bytes, the
    /// first `bytes` of which end at `at`.
    fn percent_rest(
        &self,
        bytes: &[u8],
        at: usize,
        width: usize,
        depth: usize,
        reads: &mut Vec<Reading>,
    ) {
        if bytes.len() == width {
            if let Some(c) = std::str::from_utf8(bytes)
                .ok()
                .and_then(|t| t.chars().next())
            {
                reads.push((u32::from(c), at));
            }
            return;
        }
        for percent in self.ends_of(at, depth, '%') {
            self.hex(percent, 2, depth, 0, &mut |(byte, end)| {
                let longer = [bytes, &[byte as u8]].concat();
                self.percent_rest(&longer, end, width, depth, reads);
            });
        }
    }

    /// What the HTML character reference whose `&` ends at `at` means
    /// (`&#47;`, `&#x2F;`, `&amp;`), `name` read of it so far.
    fn reference(&self, name: &[u8], at: usize, depth: usize, reads: &mut Vec<Reading>) {
        self.each_read(at, depth, |(code, next)| match char::from_u32(code) {
            Some(';') => {
                if let Some(meant) = referenced(name) {
                    reads.push((meant, next));
                }
            }
            Some(c) if (c.is_ascii_alphanumeric() || c == '#') && name.len() < REFERENCE_NAME => {
                let mut longer = [0; REFERENCE_NAME];
                longer[..name.len()].copy_from_slice(name);
                longer[name.len()] = c as u8;
                self.reference(&longer[..=name.len()], next, depth, reads);
            }
            _ => {}
        });
    }

    /// Call `each` with every way `digits` hexadecimal digits (either
    /// case) read from `at`, after the digits worth `value` already read:
    /// their value and where they end.
    fn hex(
        &self,
        at: usize,
        digits: usize,
        depth: usize,
        value: u32,
        each: &mut dyn FnMut(Reading),
    ) {
        if digits == 0 {
            return each((value, at));
        }
        self.each_read(at, depth, |(code, next)| {
            if let Some(digit) = char::from_u32(code).and_then(|c| c.to_digit(16)) {
                self.hex(next, digits - 1, depth, value * 16 + digit, each);
            }
        });
    }
}

/// Whether an escape can start with the character `code`, however its own
/// parts are escaped.
fn leads_escape(code: u32) -> bool {
    matches!(char::from_u32(code), Some('\\' | '%' | '+' | '&'))
}

/// The character an HTML reference's name (between `&` and `;`) means.
fn referenced(name: &[u8]) -> Option<u32> {
    let name = std::str::from_utf8(name).ok()?.to_ascii_lowercase();
    if let Some(digits) = name.strip_prefix("#x") {
        return u32::from_str_radix(digits, 16).ok();
    }
    if let Some(digits) = name.strip_prefix('#') {
        return digits.parse().ok();
    }
    let c = match name.as_str() {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    };
    Some(u32::from(c))
}

impl Layout {
    /// The character (or lone surrogate) starting at `at`, and where the
    /// next one starts.
    fn char_at(self, bytes: &[u8], at: usize) -> Option<(u32, usize)> {
        let rest = bytes.get(at..)?;
        match self {
            Layout::Utf8 => {
                let width = match *rest.first()? {
                    0x00..=0x7f => 1,
                    0xc0..=0xdf => 2,
                    0xe0..=0xef => 3,
                    0xf0..=0xf7 => 4,
                    _ => return None,
                };
                let text = std::str::from_utf8(rest.get(..width)?).ok()?;
                Some((u32::from(text.chars().next()?), at + width))
            }
            Layout::Utf16Le | Layout::Utf16Be => {
                let unit = |offset: usize| {
                    let pair = [*rest.get(offset)?, *rest.get(offset + 1)?];
                    Some(u32::from(if self == Layout::Utf16Le {
                        u16::from_le_bytes(pair)
                    } else {
                        u16::from_be_bytes(pair)
                    }))
                };
                let first = unit(0)?;
                match (first, unit(2)) {
                    (0xd800..=0xdbff, Some(low @ 0xdc00..=0xdfff)) => {
                        Some((0x10000 + ((first - 0xd800) << 10) + (low - 0xdc00), at + 4))
                    }
                    _ => Some((first, at + 2)),
                }
            }
            Layout::Utf32Le | Layout::Utf32Be => {
                let quad: [u8; 4] = rest.get(..4)?.try_into().ok()?;
                Some((
                    if self == Layout::Utf32Le {
                        u32::from_le_bytes(quad)
                    } else {
                        u32::from_be_bytes(quad)
                    },
                    at + 4,
                ))
            }
        }
    }

    /// `text` laid out as `self`.
    fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Layout::Utf8 => text.as_bytes().to_vec(),
            Layout::Utf16Le => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
            Layout::Utf16Be => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
            Layout::Utf32Le => text
                .chars()
                .flat_map(|c| u32::from(c).to_le_bytes())
                .collect(),
            Layout::Utf32Be => text
                .chars()
                .flat_map(|c| u32::from(c).to_be_bytes())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{LAYOUTS, REDACTED, Redactor};
    use crate::config::{Auth, Secret};

    /// A credential with a separator, a plus and letters, as in the attack.
    const CANARY: &str = "canary/Secret+Tok3n";

    fn bearer(token: &str) -> Redactor {
        Redactor::new(Some(&Auth::Bearer {
            token: Secret::new(token),
        }))
    }

    #[test]
    fn every_escaped_form_of_a_credential_is_replaced() {
        let redactor = bearer(CANARY);
        for form in [
            CANARY,
            r"canary\/Secret+Tok3n",
            r"canary\u002FSecret\u002bTok3n",
            r"\u0063\u0061\u006E\u0061\u0072\u0079\u002f\u0053\u0065\u0063\u0072\u0065\u0074\u002B\u0054\u006f\u006b\u0033\u006e",
            r"canary\x2fSecret\x2BTok3n",
            "canary%2FSecret%2BTok3n",
            "canary%2fSecret%2bTok3n",
            "%63%61%6e%61%72%79%2F%53%65%63%72%65%74%2B%54%6F%6B%33%6E",
            "canary&#47;Secret&#x2b;Tok3n",
            "canary&#x2F;Secret&#43;Tok3n",
            // An escape of an escape's part.
            r"canary\u00252FSecret\u00252bTok3n",
            r"canary\\u002FSecret\\u002BTok3n",
            r"canary\u005c/Secret\u005cu002BTok3n",
            r"canary\u0026#47;Secret&#x2B;Tok3n",
            "canary%26%23x2F%3BSecret+Tok3n",
        ] {
            assert_eq!(
                redactor.text(&format!("before {form} after")),
                format!("before {REDACTED} after"),
                "{form}"
            );
        }
        // A near miss is left alone.
        assert_eq!(
            redactor.text("canary/Secret+Tok3 canary/Secret Tok3n"),
            "canary/Secret+Tok3 canary/Secret Tok3n"
        );
    }

    #[test]
    fn a_credential_is_replaced_in_utf16_and_utf32_at_any_alignment() {
        let redactor = bearer(CANARY);
        for layout in LAYOUTS {
            for form in [
                CANARY,
                r"canary\/Secret\u002BTok3n",
                "canary%2fSecret%2BTok3n",
            ] {
                for padding in 0..3 {
                    let mut body = vec![0xffu8; padding];
                    body.extend(layout.encode(&format!("{{\"echo\": \"{form}\"}}")));
                    let mut expected = vec![0xffu8; padding];
                    expected.extend(layout.encode(&format!("{{\"echo\": \"{REDACTED}\"}}")));
                    assert_eq!(redactor.bytes(body), expected, "{layout:?} {form}");
                }
            }
        }
        // A JSON string that decoded to UTF-16 still reaches text().
        let utf16: String = CANARY.chars().flat_map(|c| [c, '\0']).collect();
        let seen = redactor.text(&utf16).replace('\0', "");
        assert_eq!(seen, REDACTED);
    }

    #[test]
    fn credentials_beyond_ascii_match_as_escaped() {
        let redactor = bearer("k€y😀");
        for form in [
            "k€y😀",
            r"k\u20ACy\ud83d\ude00",
            "k%E2%82%ACy%F0%9F%98%80",
            "k&#8364;y&#x1F600;",
        ] {
            assert_eq!(redactor.text(&format!("<{form}>")), format!("<{REDACTED}>"));
        }
    }

    #[test]
    fn basic_query_and_json_forms() {
        let basic = Redactor::new(Some(&Auth::Basic {
            username: "ann".into(),
            password: Secret::new("p/ss w\"rd"),
        }));
        // base64("ann:p/ss w\"rd")
        let encoded = "YW5uOnAvc3MgdyJyZA==";
        assert_eq!(
            basic.text(&format!(
                "Basic {encoded} and p/ss w\"rd and p\\/ss+w\\\"rd"
            )),
            format!("Basic {REDACTED} and {REDACTED} and {REDACTED}")
        );
        assert_eq!(
            basic.json(json!({"p/ss w\"rd": ["x p/ss w\"rd y", 1]})),
            json!({ REDACTED: [format!("x {REDACTED} y"), 1] })
        );

        let query = Redactor::new(Some(&Auth::Query {
            name: "key".into(),
            value: Secret::new("a+b c&d"),
        }));
        for sent in ["a%2Bb%20c%26d", "a%2bb+c%26d", "a+b c&d", "a+b c&amp;d"] {
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
