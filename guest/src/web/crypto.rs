//! The native of `crypto` (crypto.js): random bytes from the host's
//! `wasi:random`, for `crypto.getRandomValues` and `crypto.randomUUID`.

use javy::quickjs::{ArrayBuffer, Ctx, Exception, Result};

/// `native.randomBytes(length)`: an ArrayBuffer of `length` random bytes.
/// crypto.js bounds `length` (at most 65,536, as the standard says).
pub(crate) fn random_bytes<'js>(ctx: Ctx<'js>, length: usize) -> Result<ArrayBuffer<'js>> {
    let mut bytes = vec![0u8; length];
    getrandom::fill(&mut bytes)
        .map_err(|e| Exception::throw_internal(&ctx, &format!("no random source: {e}")))?;
    ArrayBuffer::new(ctx, bytes)
}
