//! Where a token sits in the `o200k_base` slot table: shared by the build
//! script, which fills the table, and the counter, which probes it, so that
//! the two cannot disagree.

/// FNV-1a, 32 bits, of a token's bytes.
pub(crate) fn hash(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |hash: u32, &byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}
