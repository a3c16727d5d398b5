//! The shapes of program that agents write besides a plain script, a module
//! or a function expression, which QuickJS runs as they are:
//! - **a lone function declaration**, `async function main() { … }` and
//!   nothing else: nothing would call it, so the run calls it and its
//!   result is the run's;
//! - **a top-level `return`**, `if (!found) return null;`: a SyntaxError in
//!   a script, so the script becomes the body of an async function, with its
//!   last expression statement returned, as the run's result would have been.
//!
//! Both are found with oxc, and only when they may be there: a program that
//! starts with `function` or `async`, and a script QuickJS refused with
//! "return not in a function". Every other program costs nothing here.
//!
//! The rewrite of the second inserts text, which moves columns on the lines
//! it touches; [`Program::restore`] moves every position an error reports
//! (its line and column, and each `agent.js:LINE:COLUMN` of its stack) back
//! to where the agent wrote it.

use std::ffi::CStr;

use oxc_allocator::Allocator;
use oxc_ast::ast::{Program as Ast, Statement};
use oxc_parser::{ParseOptions, Parser};
use oxc_span::{GetSpan, SourceType};

use crate::bindings::ScriptError;

/// The file name agent code is compiled under; stack frames name it.
pub(crate) const AGENT_FILE: &CStr = c"agent.js";

/// QuickJS's message for a `return` outside any function.
const RETURN_OUTSIDE_FUNCTION: &str = "return not in a function";

/// The script's lines -1 and 0, before the agent's first line, when the
/// shape puts nothing there.
const BLANK_START: &str = "\n\n";

/// What a top-level `return` turns the script into: the body of an async
/// arrow function, which the run calls (as it calls any function a script
/// evaluates to). Its start is on line 0, before the agent's first line.
const WRAPPER_START: &str = "(async () => {";
const WRAPPER_END: &str = "\n})";
const RETURN_START: &str = "return (";
const RETURN_END: &str = ")";

/// The agent's code as JavaScript, and the script QuickJS compiles for it.
pub(crate) struct Program {
    /// The agent's code with its types and fences blanked: every line and
    /// column where the agent wrote it. A module is compiled as it is.
    pub(crate) js: String,
    /// What QuickJS compiles when `js` is a script: lines -1 and 0 (see
    /// `source::evaluate_script`), then `js` as its shape needs it.
    script: String,
    shape: Shape,
    /// The text inserted into `js` in `script`, in order.
    inserted: Vec<Insertion>,
}

#[derive(PartialEq, Eq)]
enum Shape {
    AsWritten,
    LoneFunction,
    TopLevelReturn,
}

/// Text inserted into [`Program::js`], at a position given as QuickJS gives
/// them: a line from 1, a column in bytes from 1.
struct Insertion {
    line: u32,
    column: u32,
    len: u32,
}

impl Program {
    /// The program for `js`, with a lone function declaration called.
    pub(crate) fn new(js: String) -> Self {
        let (script, shape) = match lone_function(&js) {
            Some(name) => (format!("{BLANK_START}{js}\n;{name}\n"), Shape::LoneFunction),
            None => (format!("{BLANK_START}{js}"), Shape::AsWritten),
        };
        Program {
            js,
            script,
            shape,
            inserted: Vec::new(),
        }
    }

    /// The script QuickJS compiles, from line -1.
    pub(crate) fn script(&self) -> &str {
        &self.script
    }

    /// When QuickJS refused the script for a top-level `return` (`message`
    /// is its SyntaxError's): rewrite it as the body of an async function.
    /// False when that is not why.
    pub(crate) fn allow_top_level_return(&mut self, message: &str) -> bool {
        if message != RETURN_OUTSIDE_FUNCTION || self.shape != Shape::AsWritten {
            return false;
        }
        let allocator = Allocator::default();
        let options = ParseOptions {
            allow_return_outside_function: true,
            ..ParseOptions::default()
        };
        let parsed = Parser::new(&allocator, &self.js, SourceType::unambiguous())
            .with_options(options)
            .parse();
        // Code oxc cannot read is wrapped all the same, so that QuickJS
        // reports its first error other than the `return`.
        let readable = !parsed.panicked && parsed.diagnostics.errors().next().is_none();
        let mut insertions = Vec::new();
        if readable
            && let Some(Statement::ExpressionStatement(last)) = last_statement(&parsed.program)
        {
            let span = last.expression.span();
            insertions.push((span.start as usize, RETURN_START));
            insertions.push((span.end as usize, RETURN_END));
        }
        let mut script = String::with_capacity(self.js.len() + 32);
        script.push('\n');
        script.push_str(WRAPPER_START);
        script.push('\n');
        let mut from = 0;
        for &(at, inserted) in &insertions {
            script.push_str(&self.js[from..at]);
            script.push_str(inserted);
            self.inserted.push(self.insertion_at(at, inserted.len()));
            from = at;
        }
        script.push_str(&self.js[from..]);
        script.push_str(WRAPPER_END);
        self.script = script;
        self.shape = Shape::TopLevelReturn;
        true
    }

    fn insertion_at(&self, at: usize, len: usize) -> Insertion {
        let before = &self.js[..at];
        let line = before.matches('\n').count() + 1;
        let column = before.len() - before.rfind('\n').map_or(0, |newline| newline + 1) + 1;
        Insertion {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            len: u32::try_from(len).unwrap_or(u32::MAX),
        }
    }

    /// Move the positions `error` reports in the rewritten text back to
    /// where the agent wrote them.
    pub(crate) fn restore(&self, error: &mut ScriptError) {
        if self.inserted.is_empty() {
            return;
        }
        if let (Some(line), Some(column)) = (error.line, error.column) {
            error.column = Some(self.column_in_js(line, column));
        }
        error.stack = self.restore_stack(&error.stack);
    }

    /// The column in `js` of `column` on `line` of the rewritten text (a
    /// position inside inserted text is where it was inserted).
    fn column_in_js(&self, line: u32, column: u32) -> u32 {
        let mut shift = 0;
        for insertion in self.inserted.iter().filter(|i| i.line == line) {
            let start = insertion.column + shift;
            if column < start {
                break;
            }
            if column < start + insertion.len {
                return insertion.column;
            }
            shift += insertion.len;
        }
        column - shift
    }

    /// `stack` with each `agent.js:LINE:COLUMN` moved back.
    fn restore_stack(&self, stack: &str) -> String {
        let marker = format!("{}:", AGENT_FILE.to_string_lossy());
        let mut restored = String::with_capacity(stack.len());
        let mut rest = stack;
        while let Some(found) = rest.find(&marker) {
            let after = found + marker.len();
            restored.push_str(&rest[..after]);
            rest = &rest[after..];
            let Some((line, column, len)) = position(rest) else {
                continue;
            };
            let column = self.column_in_js(line, column);
            restored.push_str(&format!("{line}:{column}"));
            rest = &rest[len..];
        }
        restored.push_str(rest);
        restored
    }
}

/// `LINE:COLUMN` at the start of `text`, and its length.
fn position(text: &str) -> Option<(u32, u32, usize)> {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let line_len = digits(text);
    let rest = text[line_len..].strip_prefix(':')?;
    let column_len = digits(rest);
    let line = text[..line_len].parse().ok()?;
    let column = rest[..column_len].parse().ok()?;
    Some((line, column, line_len + 1 + column_len))
}

/// The program's last statement that is not an empty one.
fn last_statement<'a, 'b>(program: &'b Ast<'a>) -> Option<&'b Statement<'a>> {
    program
        .body
        .iter()
        .rev()
        .find(|statement| !matches!(statement, Statement::EmptyStatement(_)))
}

/// The name of the function when the whole program is one named function
/// declaration (empty statements aside, which blanked TypeScript
/// declarations leave), not a generator.
fn lone_function(js: &str) -> Option<String> {
    // Most programs are ruled out without parsing: they start with
    // something else.
    let start = significant_start(js);
    if !(start.starts_with("function") || start.starts_with("async")) {
        return None;
    }
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, js, SourceType::unambiguous()).parse();
    if parsed.panicked || parsed.diagnostics.errors().next().is_some() {
        return None;
    }
    let mut statements = parsed
        .program
        .body
        .iter()
        .filter(|statement| !matches!(statement, Statement::EmptyStatement(_)));
    let (Some(Statement::FunctionDeclaration(function)), None) =
        (statements.next(), statements.next())
    else {
        return None;
    };
    if function.generator {
        return None;
    }
    Some(function.id.as_ref()?.name.to_string())
}

/// `js` from its first character that is not white space, a comment or a
/// `;`.
fn significant_start(mut js: &str) -> &str {
    loop {
        let trimmed = js.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        js = if let Some(comment) = trimmed.strip_prefix("//") {
            comment.find('\n').map_or("", |end| &comment[end..])
        } else if let Some(comment) = trimmed.strip_prefix("/*") {
            comment.find("*/").map_or("", |end| &comment[end + 2..])
        } else {
            return trimmed;
        };
    }
}
