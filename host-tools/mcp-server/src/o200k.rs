//! OpenAI's `o200k_base` encoding, for counting tokens exactly as tiktoken
//! does, in a tenth of its memory.
//!
//! tiktoken-rs holds the encoding's 199,998 tokens in two hash maps of
//! `Vec<u8>`, about 40 MB resident in every server. Here the build script
//! (`build.rs`) lays the same tokens out as flat tables compiled into the
//! binary, 3.2 MB in all: the tokens' bytes end to end, where each ends, and
//! an open-addressing table of ranks by hash. Nothing is built at run time,
//! and only the pages a count touches become resident.
//!
//! Counting is tiktoken's: the encoding's regular expression splits the text
//! into pieces; a piece that is a token counts one, and any other is merged
//! from its bytes, always the adjacent pair whose merged bytes have the
//! lowest rank (the leftmost of equals), until no pair is a token.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use fancy_regex::Regex;

use crate::o200k_hash::{RANK_BITS, fingerprint, hash};

/// Every token's bytes, end to end, by rank.
static TOKENS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k_tokens.bin"));
/// Where each token ends in [`TOKENS`]: a little-endian `u32` per rank.
static ENDS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k_ends.bin"));
/// The slot table (see `o200k_hash.rs`), little-endian `u32`s; a token sits
/// at the first free slot from its hash.
static SLOTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/o200k_slots.bin"));
/// The regular expression that splits text into pieces.
static PATTERN: &str = include_str!(concat!(env!("OUT_DIR"), "/o200k_pattern.txt"));

/// Marks a part that merges with no neighbour.
const NO_RANK: u32 = u32::MAX;

/// The `o200k_base` encoding: its tables, and its compiled pattern.
pub(crate) struct O200k {
    pattern: Regex,
}

impl O200k {
    /// The encoding, its pattern compiled.
    pub(crate) fn new() -> Result<Self, fancy_regex::Error> {
        Ok(Self {
            pattern: Regex::new(PATTERN)?,
        })
    }

    /// Tokens of `text`, special tokens counted as plain text.
    ///
    /// Should the pattern give up on the text (its backtracking limit, which
    /// a text of at most 64 KiB does not reach), the rest counts a token a
    /// byte: too many, never too few.
    pub(crate) fn count(&self, text: &str) -> usize {
        let mut tokens = 0;
        let mut counted = 0;
        for piece in self.pattern.find_iter(text) {
            let Ok(piece) = piece else {
                return tokens + text.len() - counted;
            };
            tokens += piece_tokens(piece.as_str().as_bytes());
            counted = piece.end();
        }
        tokens
    }
}

/// The little-endian `u32` at `index` of `table`.
fn word(table: &[u8], index: usize) -> u32 {
    let bytes = &table[4 * index..4 * index + 4];
    u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// The bytes of the token of rank `rank`.
fn token(rank: u32) -> &'static [u8] {
    let rank = rank as usize;
    let start = match rank {
        0 => 0,
        _ => word(ENDS, rank - 1) as usize,
    };
    &TOKENS[start..word(ENDS, rank) as usize]
}

/// The rank of the token whose bytes are `bytes`, if there is one.
fn rank(bytes: &[u8]) -> Option<u32> {
    let hash = hash(bytes);
    let mask = SLOTS.len() / 4 - 1;
    let mut slot = hash as usize & mask;
    // The table has more slots than tokens: an empty slot ends every probe.
    loop {
        let entry = word(SLOTS, slot);
        if entry == 0 {
            return None;
        }
        let rank = (entry & ((1 << RANK_BITS) - 1)) - 1;
        if entry >> RANK_BITS == fingerprint(hash) && token(rank) == bytes {
            return Some(rank);
        }
        slot = (slot + 1) & mask;
    }
}

/// A part of a piece being merged, by the position it starts at.
#[derive(Clone, Copy)]
struct Part {
    /// Where the part before it starts.
    previous: usize,
    /// Where it ends.
    end: usize,
    /// Where the part after it ends.
    next_end: usize,
    /// The rank of it merged with the part after it, or [`NO_RANK`].
    next_rank: u32,
}

/// Pending merges, `(rank, start)`, lowest first.
type Merges = BinaryHeap<Reverse<(u32, usize)>>;

/// Tokens of one piece of text: one if it is a token, else how many parts
/// BPE leaves. Merges come off a heap, lowest rank first and then leftmost,
/// each checked against its part's current rank (a merge of a part that
/// grew since is stale): tiktoken's `_byte_pair_merge_large`, which makes
/// the same merges as its quadratic `_byte_pair_merge` for short pieces.
fn piece_tokens(piece: &[u8]) -> usize {
    if piece.len() < 2 {
        return piece.len();
    }
    if rank(piece).is_some() {
        return 1;
    }
    let length = piece.len();
    let mut parts: Vec<Part> = (0..length)
        .map(|start| Part {
            previous: start.wrapping_sub(1),
            end: start + 1,
            next_end: start + 2,
            next_rank: NO_RANK,
        })
        .collect();
    let mut merges = Merges::with_capacity(length);
    for start in 0..length - 1 {
        if let Some(merged) = rank(&piece[start..start + 2]) {
            merges.push(Reverse((merged, start)));
            parts[start].next_rank = merged;
        }
    }
    // Part `start` now ends where the part after it ended: find its next merge.
    let rerank = |parts: &mut [Part], merges: &mut Merges, start: usize, next_end: usize| {
        parts[start].next_end = next_end;
        parts[start].next_rank = NO_RANK;
        if next_end <= length
            && let Some(merged) = rank(&piece[start..next_end])
        {
            merges.push(Reverse((merged, start)));
            parts[start].next_rank = merged;
        }
    };
    while let Some(Reverse((merged, left))) = merges.pop() {
        if merged != parts[left].next_rank {
            continue;
        }
        let right = parts[left].end;
        let right_end = parts[left].next_end;
        let after_right = parts[right].next_end;
        parts[left].end = right_end;
        rerank(&mut parts, &mut merges, left, after_right);
        if right_end < length {
            parts[right_end].previous = left;
        }
        if left > 0 {
            let previous = parts[left].previous;
            rerank(&mut parts, &mut merges, previous, right_end);
        }
        parts[right].next_rank = NO_RANK;
    }
    let mut tokens = 0;
    let mut start = 0;
    while start < length {
        tokens += 1;
        start = parts[start].end;
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_token_is_found_at_its_rank() {
        let count = ENDS.len() / 4;
        assert_eq!(count, 199_998);
        for rank in 0..u32::try_from(count).expect("fits") {
            assert_eq!(super::rank(token(rank)), Some(rank));
        }
        assert_eq!(super::rank(b"<|endoftext|>"), None);
    }

    #[test]
    fn a_piece_that_is_no_token_is_merged_pair_by_pair() {
        assert_eq!(piece_tokens(b""), 0);
        assert_eq!(piece_tokens(b"x"), 1);
        assert_eq!(piece_tokens(b" hello"), 1);
        // No token is 200 bytes long.
        assert!(piece_tokens("ab".repeat(100).as_bytes()) > 1);
    }
}
