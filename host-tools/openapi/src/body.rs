//! A response body made plain before anything looks at it: the content
//! codings a server applied (gzip, deflate) undone under
//! `limits.responseBytes`, checked while inflating so that a small bomb
//! stops at the cap, and text in a declared charset turned into UTF-8.
//!
//! Redaction then sees each credential as the server wrote it: never
//! compressed, never in a charset only the script would decode. A coding
//! the host cannot undo fails the call, so compressed bytes never reach the
//! sandbox. The host asks for `identity` itself; this is for the servers
//! that compress anyway.

use std::io::Read;

use encoding_rs::{Encoding, UTF_8};
use flate2::read::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};
use reqwest::header::{CONTENT_ENCODING, HeaderMap, TRANSFER_ENCODING};

/// Most codings undone, one over the other.
const MAX_CODINGS: usize = 4;

/// The message for a body over `cap` bytes; `decoded` when it was only
/// found so once decompressed.
pub(crate) fn too_large(cap: usize, decoded: bool) -> String {
    let when = if decoded { " once decompressed" } else { "" };
    format!(
        "the response is larger than {cap} bytes{when} (the API's `limits.responseBytes`); ask for less, with a page size or a filter"
    )
}

/// The codings applied to a response's body, in the order they were
/// applied: `Content-Encoding`'s, then any `Transfer-Encoding` besides
/// `chunked` (which the HTTP client undoes). `Err` names a coding the host
/// cannot undo.
pub(crate) fn codings(headers: &HeaderMap) -> Result<Vec<String>, String> {
    let mut codings = Vec::new();
    for name in [CONTENT_ENCODING, TRANSFER_ENCODING] {
        for value in headers.get_all(name) {
            let text = String::from_utf8_lossy(value.as_bytes()).to_ascii_lowercase();
            for coding in text.split(',').map(str::trim) {
                match coding {
                    "" | "identity" | "chunked" => {}
                    "gzip" | "x-gzip" | "deflate" => codings.push(coding.to_owned()),
                    other => {
                        return Err(format!(
                            "the response is encoded with `{}`, which the host does not decode (it asks for `identity`, and undoes only gzip and deflate)",
                            other.escape_default()
                        ));
                    }
                }
            }
        }
    }
    if codings.len() > MAX_CODINGS {
        return Err(format!(
            "the response is encoded {} times over (`{}`); the host undoes at most {MAX_CODINGS}",
            codings.len(),
            codings.join(", ")
        ));
    }
    Ok(codings)
}

/// `body` with `codings` undone, last applied first; each result at most
/// `cap` bytes.
pub(crate) fn undo_codings(
    body: Vec<u8>,
    codings: &[String],
    cap: usize,
) -> Result<Vec<u8>, String> {
    let mut body = body;
    for coding in codings.iter().rev() {
        body = inflate(body.as_slice(), coding, cap)?;
    }
    Ok(body)
}

/// What `compressed` inflates to under `coding`, reading no more of it
/// than it takes to make `cap` + 1 bytes.
fn inflate(compressed: impl Read, coding: &str, cap: usize) -> Result<Vec<u8>, String> {
    let mut compressed = std::io::BufReader::new(compressed);
    let decoder: Box<dyn Read + '_> = match coding {
        "deflate" => {
            // `deflate` is zlib-wrapped, but some servers send it raw.
            let start = std::io::BufRead::fill_buf(&mut compressed)
                .map_err(|error| corrupt(coding, &error))?;
            let zlib = matches!(start, [method, flags, ..]
                if method & 0x0f == 8 && (u16::from(*method) << 8 | u16::from(*flags)) % 31 == 0);
            if zlib {
                Box::new(ZlibDecoder::new(compressed))
            } else {
                Box::new(DeflateDecoder::new(compressed))
            }
        }
        _ => Box::new(MultiGzDecoder::new(compressed)),
    };
    let mut plain = Vec::new();
    decoder
        .take(cap as u64 + 1)
        .read_to_end(&mut plain)
        .map_err(|error| corrupt(coding, &error))?;
    if plain.len() > cap {
        return Err(too_large(cap, true));
    }
    Ok(plain)
}

fn corrupt(coding: &str, error: &std::io::Error) -> String {
    format!("the response's `{coding}` encoding is corrupt: {error}")
}

/// `body` as UTF-8 when `media_type` declares another charset the host
/// knows (UTF-16, Latin-1, Shift_JIS, ...); as it is otherwise.
pub(crate) fn to_utf8(body: Vec<u8>, media_type: &str) -> Vec<u8> {
    let declared = media_type.split(';').skip(1).find_map(|parameter| {
        let (name, value) = parameter.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"'))
    });
    match declared.and_then(|label| Encoding::for_label(label.as_bytes())) {
        Some(encoding) if encoding != UTF_8 => {
            let (text, _, _) = encoding.decode(&body);
            text.into_owned().into_bytes()
        }
        _ => body,
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use flate2::Compression;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use reqwest::header::{HeaderMap, HeaderValue};

    use super::{codings, inflate, to_utf8, undo_codings};

    /// A reader that counts the bytes taken from it.
    struct Counted<R> {
        inner: R,
        taken: Arc<AtomicUsize>,
    }

    impl<R: Read> Read for Counted<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let read = self.inner.read(buf)?;
            self.taken.fetch_add(read, Ordering::SeqCst);
            Ok(read)
        }
    }

    #[test]
    fn a_bomb_stops_at_the_cap_while_inflating() {
        // 256 MiB of zeros, about 250 KiB compressed.
        let zeros =
            flate2::read::GzEncoder::new(std::io::repeat(0).take(256 << 20), Compression::best());
        let mut bomb = Vec::new();
        let mut zeros = zeros;
        zeros.read_to_end(&mut bomb).expect("compresses");
        let taken = Arc::new(AtomicUsize::new(0));
        let counted = Counted {
            inner: bomb.as_slice(),
            taken: Arc::clone(&taken),
        };
        let error = inflate(counted, "gzip", 1 << 20).expect_err("over the cap");
        assert!(
            error.contains("larger than 1048576 bytes once decompressed"),
            "{error}"
        );
        // A MiB of zeros is about 1 KiB compressed: inflating stopped long
        // before the end of the bomb.
        let taken = taken.load(Ordering::SeqCst);
        assert!(taken < 64 << 10, "read {taken} of {} bytes", bomb.len());
    }

    #[test]
    fn gzip_and_deflate_are_undone_in_order() {
        let text = b"canary/Secret+Tok3n ".repeat(100);
        let gzip = |bytes: &[u8]| {
            let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(bytes).expect("writes");
            encoder.finish().expect("finishes")
        };
        let zlib = {
            let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(&gzip(&text)).expect("writes");
            encoder.finish().expect("finishes")
        };
        let plain = undo_codings(zlib, &["gzip".into(), "deflate".into()], 1 << 20);
        assert_eq!(plain.as_deref(), Ok(text.as_slice()));
        let raw = {
            let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
            encoder.write_all(&text).expect("writes");
            encoder.finish().expect("finishes")
        };
        assert_eq!(
            undo_codings(raw, &["deflate".into()], 1 << 20).as_deref(),
            Ok(text.as_slice())
        );
        let error = undo_codings(b"not gzip".to_vec(), &["gzip".into()], 100).expect_err("corrupt");
        assert!(
            error.starts_with("the response's `gzip` encoding is corrupt"),
            "{error}"
        );
    }

    #[test]
    fn codings_the_host_cannot_undo_are_named() {
        let mut headers = HeaderMap::new();
        headers.append(
            "content-encoding",
            HeaderValue::from_static("gzip, identity"),
        );
        headers.append(
            "transfer-encoding",
            HeaderValue::from_static("deflate, chunked"),
        );
        assert_eq!(
            codings(&headers),
            Ok(vec!["gzip".to_owned(), "deflate".to_owned()])
        );
        headers.append("content-encoding", HeaderValue::from_static("br"));
        let error = codings(&headers).expect_err("br is not decoded");
        assert!(
            error.contains("encoded with `br`, which the host does not decode"),
            "{error}"
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            "content-encoding",
            HeaderValue::from_static("gzip,gzip,gzip,gzip,gzip"),
        );
        let error = codings(&headers).expect_err("too many");
        assert!(error.contains("encoded 5 times over"), "{error}");
    }

    #[test]
    fn a_declared_charset_becomes_utf8() {
        let utf16: Vec<u8> = "a/é".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(
            to_utf8(utf16.clone(), "text/plain; charset=\"UTF-16LE\""),
            "a/é".as_bytes()
        );
        assert_eq!(
            to_utf8(vec![0x61, 0xe9], "text/plain;charset=iso-8859-1"),
            "aé".as_bytes()
        );
        // Undeclared or unknown: left for redaction to read in every layout.
        assert_eq!(to_utf8(utf16.clone(), "application/octet-stream"), utf16);
        assert_eq!(to_utf8(utf16.clone(), "text/plain; charset=utf-7"), utf16);
    }
}
