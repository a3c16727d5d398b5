//! Where a token sits in the `o200k_base` slot table, and what its slot
//! holds: shared by the build script, which fills the table, and the
//! counter, which probes it, so that the two cannot disagree.
//!
//! The table has `1 << RANK_BITS` slots. A token's hash picks its first
//! slot (the low `RANK_BITS` bits); its slot holds `rank + 1` in the low
//! `RANK_BITS` bits (0: empty) and the hash's other bits above, so that a
//! probe passes over most other tokens without comparing their bytes.

/// Bits of a slot's rank, and of a slot's index: 2^18 slots for o200k's
/// 199,998 tokens.
pub(crate) const RANK_BITS: u32 = 18;

/// FNV-1a, 32 bits, of a token's bytes.
pub(crate) fn hash(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash: u32, &byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

/// The bits of `hash` a slot keeps beside the rank.
pub(crate) fn fingerprint(hash: u32) -> u32 {
    hash >> RANK_BITS
}
