//! Lays out OpenAI's `o200k_base` encoding as flat tables in `OUT_DIR`, for
//! `src/o200k.rs` to compile into the binary: what tiktoken-rs would build
//! as hash maps of `Vec<u8>` at run time (about 40 MB resident), in 3.2 MB.
//!
//! - `o200k_tokens.bin`: every token's bytes, end to end, by rank;
//! - `o200k_ends.bin`: where each token ends in it (`u32`, little-endian);
//! - `o200k_slots.bin`: an open-addressing table (`u32`, little-endian),
//!   each token at the first free slot from its hash, as `o200k_hash.rs`
//!   lays a slot out;
//! - `o200k_pattern.txt`: the regular expression that splits text into
//!   the pieces BPE merges.

#[path = "src/o200k_hash.rs"]
mod o200k_hash;

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/o200k_hash.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let encoding = tiktoken_rs::o200k_base().expect("tiktoken-rs's o200k_base loads");

    // The ordinary tokens have the ranks from 0 up, without a gap; the
    // special ones (`<|endoftext|>`, ...) come after a missing rank, and
    // ordinary text never encodes to them.
    let mut tokens = Vec::new();
    let mut ends = Vec::new();
    let mut count: u32 = 0;
    while let Ok(bytes) = encoding.decode_bytes(&[count]) {
        tokens.extend_from_slice(&bytes);
        let end = u32::try_from(tokens.len()).expect("the tokens fit in 4 GiB");
        ends.extend_from_slice(&end.to_le_bytes());
        count += 1;
    }
    assert_eq!(count, 199_998, "o200k_base has 199,998 ordinary tokens");

    assert!(
        count < 1 << o200k_hash::RANK_BITS,
        "the ranks fit their bits"
    );
    let slots = 1 << o200k_hash::RANK_BITS;
    let mut table = vec![0u32; slots];
    let mut start = 0;
    for rank in 0..count {
        let end = u32::from_le_bytes(
            ends[4 * rank as usize..4 * rank as usize + 4]
                .try_into()
                .expect("four bytes"),
        ) as usize;
        let hash = o200k_hash::hash(&tokens[start..end]);
        let mut slot = hash as usize & (slots - 1);
        while table[slot] != 0 {
            slot = (slot + 1) & (slots - 1);
        }
        table[slot] = (rank + 1) | o200k_hash::fingerprint(hash) << o200k_hash::RANK_BITS;
        start = end;
    }
    let table: Vec<u8> = table.iter().flat_map(|entry| entry.to_le_bytes()).collect();

    for (name, bytes) in [
        ("o200k_tokens.bin", tokens.as_slice()),
        ("o200k_ends.bin", &ends),
        ("o200k_slots.bin", &table),
        (
            "o200k_pattern.txt",
            tiktoken_rs::O200K_BASE_PAT_STR.as_bytes(),
        ),
    ] {
        std::fs::write(out.join(name), bytes).expect("OUT_DIR is writable");
    }
}
