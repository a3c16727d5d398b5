//! Counting tokens as the model will: OpenAI's `o200k_base` encoding, over
//! texts of any length. The MCP server counts its tool list and every reply
//! with it.

use std::sync::OnceLock;

use crate::o200k::O200k;

/// Longest piece of text handed to the encoder at once. The encoder's regex gives
/// up on whitespace runs of about a million bytes, so longer texts are counted in
/// chunks.
const MAX_CHUNK_BYTES: usize = 64 * 1024;

/// Counts tokens the way OpenAI's `o200k_base` encoding does.
///
/// Cloning is cheap: all counters share one encoder, loaded once per process.
#[derive(Clone)]
pub struct TokenCounter {
    encoder: &'static O200k,
}

impl TokenCounter {
    /// The `o200k_base` counter. The first call compiles the encoding's
    /// pattern; later calls reuse it.
    pub fn o200k() -> Self {
        static ENCODER: OnceLock<O200k> = OnceLock::new();
        let encoder = ENCODER
            .get_or_init(|| O200k::new().expect("the o200k_base pattern from tiktoken compiles"));
        Self { encoder }
    }

    /// Number of tokens in `text`; special tokens such as `<|endoftext|>` count as
    /// plain text.
    ///
    /// Texts longer than 64 KiB are counted chunk by chunk, split where the encoder
    /// starts a new word anyway (before a space and an ASCII letter), so the count
    /// stays exact for ordinary text. A chunk without such a place (say, a huge run
    /// of spaces) is split at a character boundary, where the count may be one token
    /// off.
    pub fn count(&self, text: &str) -> usize {
        chunks(text).map(|chunk| self.encoder.count(chunk)).sum()
    }
}

/// Splits `text` into pieces of at most [`MAX_CHUNK_BYTES`] for the encoder.
fn chunks(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (chunk, tail) = rest.split_at(chunk_end(rest));
        rest = tail;
        Some(chunk)
    })
}

/// Where the first chunk of `text` ends: the whole text when it is short enough,
/// else the last word start within [`MAX_CHUNK_BYTES`], else a character boundary.
fn chunk_end(text: &str) -> usize {
    if text.len() <= MAX_CHUNK_BYTES {
        return text.len();
    }
    // The encoder always ends a piece after a visible character followed by a
    // space, and a space followed by a letter always starts one, so splitting
    // there does not change the count.
    text.as_bytes()[..MAX_CHUNK_BYTES]
        .windows(3)
        .rposition(|bytes| {
            bytes[0].is_ascii_graphic() && bytes[1] == b' ' && bytes[2].is_ascii_alphabetic()
        })
        .map(|visible_char| visible_char + 1)
        .unwrap_or_else(|| text.floor_char_boundary(MAX_CHUNK_BYTES))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn count_agrees_with_tiktoken() {
        let counter = TokenCounter::o200k();
        let encoder = tiktoken_rs::o200k_base_singleton();
        assert_eq!(counter.count("hello world"), 2);
        assert_eq!(counter.count(""), 0);
        let long_prose = "The quick brown fox, 42 times: jumps over the lazy dog! ".repeat(3000);
        assert!(long_prose.len() > 2 * MAX_CHUNK_BYTES);
        // Pieces that are no token, short and long (merged pair by pair),
        // and text of every kind the pattern splits, in random mixes.
        let long_pieces = [
            "Zq".repeat(70),
            "x".repeat(300),
            "é".repeat(90),
            "!?".repeat(80),
        ];
        let alphabet: Vec<char> =
            "aAbBzZ019 _-.,;:'\"!?/\\()[]{}<>@#$%^&*+=~|`\n\r\téüßÆ日本語한국어😀\u{301}\u{a0}"
                .chars()
                .collect();
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mixes: Vec<String> = (0..40)
            .map(|_| {
                (0..2000)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        alphabet[(state % alphabet.len() as u64) as usize]
                    })
                    .collect()
            })
            .collect();
        let json = json!({
            "result": [{ "id": 1, "title": "Ünïcode — “quoted”", "tags": ["a", "b"] }],
            "logs": ["line\n\tindented", "  spaces  "],
        })
        .to_string();
        for sample in [
            "hello world",
            "日本語 😀 <|endoftext|> {\"a\":1}",
            long_prose.as_str(),
            json.as_str(),
        ]
        .into_iter()
        .chain(long_pieces.iter().map(String::as_str))
        .chain(mixes.iter().map(String::as_str))
        {
            assert_eq!(
                counter.count(sample),
                encoder.encode_ordinary(sample).len(),
                "{sample:?}"
            );
        }
    }

    #[test]
    fn huge_whitespace_run_is_counted_without_panicking() {
        let spaces = " ".repeat(1_200_000);
        let tokens = TokenCounter::o200k().count(&spaces);
        assert!(tokens > 0 && tokens < spaces.len());
    }
}
