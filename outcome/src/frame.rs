//! The code frame of a script error on the command line, the way Node, Deno
//! and Babel show one: the line the error is on with a caret under its
//! column and a line of context either side, then the stack's frames in the
//! agent's code.
//!
//! ```text
//!   3 | function c() {
//! > 4 |   null.x;
//!     |   ^
//!   5 | }
//!
//!     at c (agent.js:4:3)
//!     at b (agent.js:2:23)
//! ```
//!
//! Positions are QuickJS's: a line from 1 and a column in bytes from 1. The agent's own text is shown, code fences and types included;
//! the sandbox keeps every line and column where the agent wrote it.

use std::fmt::Write;

use unicode_width::UnicodeWidthChar;

/// The file name the sandbox compiles agent code under.
const AGENT_FILE: &str = "agent.js";
/// How many characters of a long line are shown, around the column.
const SHOWN_CHARS: usize = 120;

/// The lines around `line` and `column` of `code` with a caret under the
/// column; none when the code has no such line.
pub(crate) fn source_frame(code: &str, line: u32, column: Option<u32>) -> Option<String> {
    let lines: Vec<&str> = code.split('\n').collect();
    let at = usize::try_from(line).ok()?.checked_sub(1)?;
    let text = |index: usize| lines[index].strip_suffix('\r').unwrap_or(lines[index]);
    // A position past the text's end is QuickJS's "unexpected end of input"
    // on a last line the split sees as empty.
    if at >= lines.len() {
        return None;
    }
    let first = at.saturating_sub(1);
    let last = (at + 1).min(lines.len() - 1);
    let width = (last + 1).to_string().len();
    let (shown, caret) = window(text(at), column);
    let mut frame = String::new();
    for index in first..=last {
        let marker = if index == at { '>' } else { ' ' };
        let (shown_line, _) = if index == at {
            (shown.clone(), None)
        } else {
            window(text(index), column)
        };
        let _ = writeln!(
            frame,
            "{marker} {:>width$} | {}",
            index + 1,
            shown_line.trim_end()
        );
        if index == at
            && let Some(caret) = &caret
        {
            let _ = writeln!(frame, "  {:>width$} | {caret}^", "");
        }
    }
    Some(frame.trim_end_matches('\n').to_owned())
}

/// The part of `line` shown (all of it, or a window around the column when
/// it is long), with control characters replaced, and the white space that
/// puts a caret under the column in it.
fn window(line: &str, column: Option<u32>) -> (String, Option<String>) {
    let chars: Vec<char> = line.chars().collect();
    let caret_at = column.map(|column| char_index(&chars, column));
    let (start, end) = match caret_at {
        Some(at) if chars.len() > SHOWN_CHARS => {
            let start = at.saturating_sub(SHOWN_CHARS / 2);
            (start, (start + SHOWN_CHARS).min(chars.len()))
        }
        _ => (0, chars.len().min(SHOWN_CHARS)),
    };
    let mut shown: String = if start > 0 {
        "…".into()
    } else {
        String::new()
    };
    let prefix_chars = shown.chars().count();
    shown.extend(chars[start..end].iter().map(|&c| printable(c)));
    if end < chars.len() {
        shown.push('…');
    }
    let caret = caret_at.map(|at| {
        // Tabs are kept so that the caret lines up under them, and wide
        // characters take two columns of the terminal.
        let mut caret = " ".repeat(prefix_chars);
        for &c in &chars[start..at.clamp(start, end)] {
            match c {
                '\t' => caret.push('\t'),
                c => caret.extend(std::iter::repeat_n(' ', printable(c).width().unwrap_or(0))),
            }
        }
        caret
    });
    (shown, caret)
}

/// The index in `chars` of `column`, counted in bytes from 1.
fn char_index(chars: &[char], column: u32) -> usize {
    let mut bytes = 1;
    for (index, c) in chars.iter().enumerate() {
        if bytes >= column as usize {
            return index;
        }
        bytes += c.len_utf8();
    }
    chars.len()
}

/// What a character of the agent's code is shown as: a control character
/// (a terminal escape, say) as U+FFFD, so that the code cannot drive the
/// terminal that shows it.
fn printable(c: char) -> char {
    if c.is_control() && c != '\t' {
        '\u{FFFD}'
    } else {
        c
    }
}

/// The frames of `stack` in the agent's code, one per line as QuickJS wrote
/// them; none when they say no more than the position does (one frame, at
/// the top level).
pub(crate) fn agent_frames(stack: &str) -> Option<String> {
    let named_frame = format!("({AGENT_FILE}:");
    let bare_frame = format!("at {AGENT_FILE}:");
    let frames: Vec<&str> = stack
        .lines()
        .map(str::trim_start)
        .filter(|frame| {
            frame.starts_with("at ")
                && (frame.contains(&named_frame) || frame.starts_with(&bare_frame))
        })
        .collect();
    let only_top_level = match frames.as_slice() {
        [frame] => frame.starts_with("at <eval> ") || frame.starts_with(&bare_frame),
        _ => false,
    };
    if frames.is_empty() || only_top_level {
        return None;
    }
    Some(
        frames
            .iter()
            .map(|frame| format!("    {frame}"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caret_sits_under_the_column_with_a_line_either_side() {
        let code = "function c() {\n  null.x;\n}\nc();";
        assert_eq!(
            source_frame(code, 2, Some(3)).as_deref(),
            Some("  1 | function c() {\n> 2 |   null.x;\n    |   ^\n  3 | }")
        );
    }

    #[test]
    fn the_first_and_last_lines_have_one_neighbour() {
        assert_eq!(
            source_frame("a(\nb", 1, Some(3)).as_deref(),
            Some("> 1 | a(\n    |   ^\n  2 | b")
        );
        assert_eq!(
            source_frame("a\nb(", 2, Some(2)).as_deref(),
            Some("  1 | a\n> 2 | b(\n    |  ^")
        );
        assert_eq!(source_frame("a", 3, Some(1)), None);
        assert_eq!(source_frame("a", 0, Some(1)), None);
    }

    #[test]
    fn tabs_astral_characters_and_escapes_keep_the_caret_in_place() {
        // `😀` is four bytes (`x` is column 10) and two columns wide.
        let frame = source_frame("\t\"😀\"; x", 1, Some(10)).unwrap_or_default();
        assert_eq!(frame, "> 1 | \t\"😀\"; x\n    | \t      ^");
        let frame = source_frame("\u{1b}[2Jx", 1, Some(5)).unwrap_or_default();
        assert_eq!(frame, "> 1 | \u{FFFD}[2Jx\n    |     ^");
    }

    #[test]
    fn a_long_line_is_shown_around_the_column() {
        let line = format!("{}null.x{}", "a".repeat(500), "b".repeat(500));
        let frame = source_frame(&line, 1, Some(501)).unwrap_or_default();
        let shown = frame.lines().next().unwrap_or_default();
        assert!(
            shown.starts_with("> 1 | …a") && shown.ends_with("b…"),
            "{shown}"
        );
        assert_eq!(shown.chars().count(), "> 1 | ".len() + SHOWN_CHARS + 2);
        let caret = frame.lines().nth(1).unwrap_or_default();
        let column = caret.chars().count() - 1;
        assert_eq!(shown.chars().nth(column), Some('n'), "{frame}");
    }

    #[test]
    fn frames_outside_the_agent_code_and_a_lone_top_level_frame_are_left_out() {
        let stack = "    at c (agent.js:4:3)\n    at b (agent.js:2:23)\n    at <anonymous> (codemode:prelude:369:48)\n";
        assert_eq!(
            agent_frames(stack).as_deref(),
            Some("    at c (agent.js:4:3)\n    at b (agent.js:2:23)")
        );
        assert_eq!(agent_frames("    at <eval> (agent.js:1:18)\n"), None);
        assert_eq!(agent_frames("    at agent.js:2:11\n"), None);
        assert_eq!(
            agent_frames(
                "    at compute (agent.js:3:3)\n    at <anonymous> (codemode:prelude:1:1)\n"
            )
            .as_deref(),
            Some("    at compute (agent.js:3:3)")
        );
        assert_eq!(agent_frames(""), None);
    }
}
