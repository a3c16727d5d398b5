//! A byte sink that refuses to grow past a limit, so that serializing a
//! value can stop as soon as it is known to be too large, instead of
//! serializing all of it first and measuring after.

use std::io;

/// Appends to `bytes` until its length would pass `limit`; the write that
/// would pass it fails and appends nothing, which ends a
/// `serde_json::to_writer` at once.
struct CappedWriter<'a> {
    bytes: &'a mut Vec<u8>,
    /// The largest length `bytes` may reach.
    limit: usize,
}

impl io::Write for CappedWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len() + buf.len() > self.limit {
            return Err(io::Error::other("over the cap"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Append `value`'s JSON to `bytes` if `bytes` stays within `limit`; else
/// leave `bytes` as it was and return false.
pub(crate) fn append_json<T: serde::Serialize + ?Sized>(
    bytes: &mut Vec<u8>,
    limit: usize,
    value: &T,
) -> bool {
    let mark = bytes.len();
    let written = serde_json::to_writer(CappedWriter { bytes, limit }, value).is_ok();
    if !written {
        bytes.truncate(mark);
    }
    written
}
