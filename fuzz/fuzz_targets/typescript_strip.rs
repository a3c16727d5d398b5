//! Arbitrary text runs as TypeScript: the guest blanks its types out and
//! QuickJS runs what is left. Stripping keeps every line where it was, so
//! a run ends with a result, a limit, or a script error whose line is one
//! of the text's own; a `SyntaxError` in the text always says where (line
//! and column).
//! Nothing else: no internal error, no trap other than a limit.
#![no_main]

use codemode_fuzz::sandbox::HARNESS;
use codemode_runtime::{ErrorKind, Execution, Grants, Language};
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let execution = Execution::new(text).language(Language::TypeScript);
    let outcome = HARNESS.run(execution, Arc::new(Grants::new()));
    let Some(error) = outcome.error else {
        return;
    };
    if error.kind != ErrorKind::Script {
        assert!(error.kind.is_limit(), "not a limit: {error:?}");
        return;
    }
    // Lines as JavaScript counts them (a lone `\r` and U+2028/9 end one).
    let lines = 1 + text
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}'))
        .count();
    // A syntax error in the text itself (not one thrown as the script ran,
    // by `JSON.parse` say, which has a stack).
    if error.name == "SyntaxError" && error.stack.is_empty() {
        assert!(
            error.line.is_some() && error.column.is_some(),
            "a syntax error without its place: {error:?}"
        );
    }
    if let Some(line) = error.line {
        assert!(
            line >= 1 && line as usize <= lines,
            "the error is on line {line} of a text of {lines} lines: {error:?}"
        );
    }
});
