//! The console's byte cap: every host keeps a run's console lines up to the
//! same budget, cuts the line that crosses it, and closes the output with
//! the same marker, so that a flood of output costs a host no more than the
//! cap and reads the same everywhere.

use crate::outcome::{LogEntry, LogLevel};

/// What a console line costs against the log cap besides its text: about
/// what it takes in the host (an entry) and in a JSON outcome
/// (`{"level":"log","text":""}`).
const LINE_BYTES: usize = 32;

/// A run's console lines, kept up to a cap of bytes.
#[derive(Debug)]
pub struct Console {
    entries: Vec<LogEntry>,
    bytes: usize,
    cap: usize,
    truncated: bool,
}

impl Console {
    /// An empty console that keeps up to `cap` bytes (see
    /// [`Limits::log_bytes`](crate::Limits::log_bytes)).
    pub fn new(cap: usize) -> Self {
        Self {
            entries: Vec::new(),
            bytes: 0,
            cap,
            truncated: false,
        }
    }

    /// Keep `text` if it fits; cut it and close the output with a marker if
    /// it does not. Every line is charged [`LINE_BYTES`] on top of its text,
    /// so that empty lines cannot flood the host. `kept` sees each entry as
    /// it is kept (the line, the marker). Returns whether more output is
    /// wanted.
    pub fn write(
        &mut self,
        level: LogLevel,
        mut text: String,
        mut kept: impl FnMut(&LogEntry),
    ) -> bool {
        if self.truncated {
            return false;
        }
        let room = self.cap.saturating_sub(self.bytes);
        if text.len() + LINE_BYTES <= room {
            self.bytes += text.len() + LINE_BYTES;
            self.keep(LogEntry { level, text }, &mut kept);
            return true;
        }
        let mut cut = room.saturating_sub(LINE_BYTES).min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        self.bytes = self.cap;
        if !text.is_empty() {
            self.keep(LogEntry { level, text }, &mut kept);
        }
        self.truncated = true;
        let marker = format!(
            "[codemode: console output truncated: the limit is {} bytes; later lines were dropped]",
            self.cap
        );
        self.keep(
            LogEntry {
                level: LogLevel::Warn,
                text: marker,
            },
            &mut kept,
        );
        false
    }

    /// True once the cap was reached: later lines are dropped.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// The lines kept, in order.
    pub fn into_entries(self) -> Vec<LogEntry> {
        self.entries
    }

    fn keep(&mut self, entry: LogEntry, kept: &mut impl FnMut(&LogEntry)) {
        kept(&entry);
        self.entries.push(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_past_the_cap_is_cut_and_closed_with_the_marker() {
        let mut console = Console::new(LINE_BYTES + 10);
        let mut seen = 0;
        assert!(console.write(LogLevel::Log, "12345".into(), |_| seen += 1));
        assert!(!console.write(LogLevel::Log, "abcdefghij".into(), |_| seen += 1));
        assert!(!console.write(LogLevel::Log, "dropped".into(), |_| seen += 1));
        let entries = console.into_entries();
        let texts: Vec<&str> = entries.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(texts[..1], ["12345"]);
        assert!(
            texts[1].contains("console output truncated: the limit is 42 bytes"),
            "{texts:?}"
        );
        assert_eq!((entries.len(), seen), (2, 2));
    }
}
