//! A generator of JavaScript programs: `arbitrary` picks statements and
//! expressions over the built-ins a hostile script reaches for (Proxy,
//! Reflect, getters, `toJSON`, Symbol, async functions, generators,
//! Atomics, typed arrays, regular expressions) and the granted `echo`
//! connector, and [`Program::source`] prints them. Every program parses
//! (or nearly: a few constructs, such as `await` in a generator, are left
//! for QuickJS to refuse), so the fuzzer spends its time in the runtime
//! rather than in the parser.

use arbitrary::{Arbitrary, Result, Unstructured};

/// The deepest an expression nests before leaves only are chosen.
const MAX_DEPTH: u32 = 6;

/// Globals and names a script builds on.
const NAMES: &[&str] = &[
    "Proxy",
    "Reflect",
    "Symbol",
    "Atomics",
    "SharedArrayBuffer",
    "ArrayBuffer",
    "DataView",
    "Uint8Array",
    "Int32Array",
    "Float64Array",
    "BigInt64Array",
    "RegExp",
    "JSON",
    "Object",
    "Array",
    "Promise",
    "Function",
    "eval",
    "globalThis",
    "Error",
    "TypeError",
    "Date",
    "Map",
    "Set",
    "WeakMap",
    "WeakRef",
    "FinalizationRegistry",
    "BigInt",
    "Math",
    "String",
    "Number",
    "Boolean",
    "console",
    "setTimeout",
    "clearTimeout",
    "queueMicrotask",
    "structuredClone",
    "codemode",
    "echo",
    "echo.echo",
    "echo.fail",
    "codemode.search",
    "codemode.describe",
    "Object.prototype",
    "Array.prototype",
    "Function.prototype",
    "Promise.prototype",
    "Symbol.iterator",
    "Symbol.asyncIterator",
    "Symbol.toPrimitive",
    "Symbol.species",
    "Symbol.toStringTag",
    "JSON.stringify",
    "JSON.parse",
    "Object.defineProperty",
    "Object.getOwnPropertyDescriptors",
    "Object.setPrototypeOf",
    "Object.freeze",
    "Reflect.ownKeys",
    "Reflect.construct",
    "Reflect.apply",
    "Promise.all",
    "Promise.race",
    "Atomics.wait",
    "Atomics.store",
    "Error.captureStackTrace",
    "Error.prepareStackTrace",
    "String.prototype.replace",
    "Array.from",
    "arguments",
    "this",
    "new.target",
    "v0",
    "v1",
    "v2",
    "v3",
    "v4",
];

/// Property names a script pokes at.
const PROPERTIES: &[&str] = &[
    "__proto__",
    "constructor",
    "prototype",
    "toJSON",
    "then",
    "length",
    "valueOf",
    "toString",
    "stack",
    "message",
    "name",
    "caller",
    "callee",
    "get",
    "set",
    "apply",
    "call",
    "bind",
    "args",
    "authorized",
    "0",
    "1",
    "buffer",
    "byteLength",
    "lastIndex",
    "source",
    "flags",
    "next",
    "return",
    "throw",
    "done",
    "value",
    "cause",
    "errors",
    "raw",
    "exec",
    "replace",
    "split",
    "map",
    "push",
    "sort",
    "fill",
    "subarray",
    "getFunction",
    "getThis",
];

/// Regular expression literals, catastrophic ones included.
const REGEXPS: &[&str] = &[
    "/(a+)+$/",
    "/(?<x>.)\\k<x>/g",
    "/[\\s\\S]*/y",
    "/(?=a)*/",
    "/\\p{L}+/u",
    "/^(?:a|aa)*b$/",
    "/./gimsuy",
    "/(?:)/",
];

/// Strings a script passes around.
const STRINGS: &[&str] = &[
    "",
    "a",
    "__proto__",
    "constructor",
    "#/a",
    "$ref",
    "\\u0000",
    "\\ud800",
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "${x}",
    "echo",
    "toJSON",
    "CODEMODE_FUZZ_CREDENTIAL",
    "/proc/self/environ",
    "canary",
    "../",
    "1e309",
];

/// A whole program: statements, then a final expression (the result).
#[derive(Debug)]
pub struct Program {
    statements: Vec<Statement>,
    result: Expression,
}

impl<'a> Arbitrary<'a> for Program {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let count = u.int_in_range(0..=12)?;
        let statements = (0..count)
            .map(|_| Statement::generate(u, 0))
            .collect::<Result<_>>()?;
        Ok(Self {
            statements,
            result: Expression::generate(u, 0)?,
        })
    }
}

impl Program {
    /// The program as JavaScript.
    pub fn source(&self) -> String {
        let mut out = String::from("let v0, v1, v2, v3, v4;\n");
        // Each statement on its own, so that one that throws does not end
        // the program.
        for statement in &self.statements {
            out.push_str("try { ");
            statement.print(&mut out);
            out.push_str(" } catch (e) { v4 = e; }\n");
        }
        out.push('(');
        self.result.print(&mut out);
        out.push_str(")\n");
        out
    }
}

#[derive(Debug)]
enum Statement {
    Assign(u8, Expression),
    Expression(Expression),
    If(Expression, Vec<Statement>, Vec<Statement>),
    Loop(u8, Vec<Statement>),
    Try(Vec<Statement>, Vec<Statement>, Vec<Statement>),
    Throw(Expression),
    Class(u8, Vec<Member>),
    Await(Expression),
}

impl Statement {
    fn generate(u: &mut Unstructured<'_>, depth: u32) -> Result<Self> {
        let block = |u: &mut Unstructured<'_>| -> Result<Vec<Statement>> {
            if depth >= 2 {
                return Ok(Vec::new());
            }
            let count = u.int_in_range(0..=3)?;
            (0..count).map(|_| Self::generate(u, depth + 1)).collect()
        };
        Ok(match u.int_in_range(0..=7)? {
            0 => Self::Assign(u.int_in_range(0..=4)?, Expression::generate(u, 0)?),
            1 => Self::If(Expression::generate(u, 0)?, block(u)?, block(u)?),
            2 => Self::Loop(u.arbitrary()?, block(u)?),
            3 => Self::Try(block(u)?, block(u)?, block(u)?),
            4 => Self::Throw(Expression::generate(u, 0)?),
            5 => {
                let count = u.int_in_range(0..=3)?;
                let members = (0..count)
                    .map(|_| Member::generate(u, 1))
                    .collect::<Result<_>>()?;
                Self::Class(u.int_in_range(0..=4)?, members)
            }
            6 => Self::Await(Expression::generate(u, 0)?),
            _ => Self::Expression(Expression::generate(u, 0)?),
        })
    }

    fn print(&self, out: &mut String) {
        let block = |out: &mut String, statements: &[Statement]| {
            out.push_str("{ ");
            for statement in statements {
                statement.print(out);
                out.push(' ');
            }
            out.push('}');
        };
        match self {
            Self::Assign(variable, value) => {
                out.push_str(&format!("v{variable} = "));
                value.print(out);
                out.push(';');
            }
            Self::Expression(expression) => {
                out.push_str("void (");
                expression.print(out);
                out.push_str(");");
            }
            Self::If(condition, then, otherwise) => {
                out.push_str("if (");
                condition.print(out);
                out.push_str(") ");
                block(out, then);
                out.push_str(" else ");
                block(out, otherwise);
            }
            Self::Loop(count, body) => {
                out.push_str(&format!("for (let i = 0; i < {count}; i++) "));
                block(out, body);
            }
            Self::Try(body, handler, finalizer) => {
                out.push_str("try ");
                block(out, body);
                out.push_str(" catch (e) { v4 = e; ");
                block(out, handler);
                out.push_str(" } finally ");
                block(out, finalizer);
            }
            Self::Throw(value) => {
                out.push_str("throw (");
                value.print(out);
                out.push_str(");");
            }
            Self::Class(variable, members) => {
                out.push_str(&format!(
                    "v{variable} = class extends (v{variable} ?? Object) {{ "
                ));
                for member in members {
                    member.print(out, true);
                    out.push(' ');
                }
                out.push_str("};");
            }
            Self::Await(value) => {
                out.push_str("try { v3 = await (");
                value.print(out);
                out.push_str("); } catch (e) { v3 = e; }");
            }
        }
    }
}

/// A member of an object literal or a class body.
#[derive(Debug)]
enum Member {
    Value(&'static str, Expression),
    Getter(&'static str, Expression),
    Setter(&'static str, Expression),
    Method(&'static str, Expression),
    Symbol(&'static str, Expression),
    Spread(Expression),
}

impl Member {
    fn generate(u: &mut Unstructured<'_>, depth: u32) -> Result<Self> {
        let name = *u.choose(PROPERTIES)?;
        Ok(match u.int_in_range(0..=5)? {
            0 => Self::Value(name, Expression::generate(u, depth)?),
            1 => Self::Getter(name, Expression::generate(u, depth)?),
            2 => Self::Setter(name, Expression::generate(u, depth)?),
            3 => Self::Method(name, Expression::generate(u, depth)?),
            4 => {
                let symbol = *u.choose(&["iterator", "asyncIterator", "toPrimitive", "species"])?;
                Self::Symbol(symbol, Expression::generate(u, depth)?)
            }
            _ => Self::Spread(Expression::generate(u, depth)?),
        })
    }

    fn print(&self, out: &mut String, in_class: bool) {
        let end = if in_class { "" } else { "," };
        match self {
            Self::Value(name, value) if in_class => {
                out.push_str(&format!("static {} = ", computed_key(name)));
                value.print(out);
                out.push(';');
            }
            Self::Value(name, value) => {
                out.push_str(&format!("{}: ", computed_key(name)));
                value.print(out);
                out.push(',');
            }
            Self::Getter(name, value) => {
                out.push_str(&format!("get {}() {{ return ", computed_key(name)));
                value.print(out);
                out.push_str(&format!("; }}{end}"));
            }
            Self::Setter(name, value) => {
                out.push_str(&format!("set {}(x) {{ v2 = x; void (", computed_key(name)));
                value.print(out);
                out.push_str(&format!("); }}{end}"));
            }
            Self::Method(name, value) => {
                out.push_str(&format!("async *{}(...a) {{ yield ", computed_key(name)));
                value.print(out);
                out.push_str(&format!("; }}{end}"));
            }
            Self::Symbol(symbol, value) => {
                out.push_str(&format!("[Symbol.{symbol}](...a) {{ return "));
                value.print(out);
                out.push_str(&format!("; }}{end}"));
            }
            Self::Spread(value) if in_class => {
                out.push_str("static { v1 = ");
                value.print(out);
                out.push_str("; }");
            }
            Self::Spread(value) => {
                out.push_str("...(");
                value.print(out);
                out.push_str("),");
            }
        }
    }
}

#[derive(Debug)]
enum Expression {
    Name(&'static str),
    Number(f64),
    Integer(i64),
    String(&'static str),
    RegExp(&'static str),
    Member(Box<Expression>, &'static str),
    Index(Box<Expression>, Box<Expression>),
    Call(Box<Expression>, Vec<Expression>),
    New(Box<Expression>, Vec<Expression>),
    Arrow(bool, Box<Expression>),
    Generator(Box<Expression>),
    Object(Vec<Member>),
    Array(Vec<Expression>),
    Binary(&'static str, Box<Expression>, Box<Expression>),
    Unary(&'static str, Box<Expression>),
    Assign(Box<Expression>, &'static str, Box<Expression>),
    Template(Box<Expression>),
    Proxy(Box<Expression>, &'static str, Box<Expression>),
    Connector(Box<Expression>),
}

impl Expression {
    fn generate(u: &mut Unstructured<'_>, depth: u32) -> Result<Self> {
        let leaf = depth >= MAX_DEPTH || u.is_empty();
        let choice = if leaf {
            u.int_in_range(0..=4)?
        } else {
            u.int_in_range(0..=18)?
        };
        let next = depth + 1;
        let sub = |u: &mut Unstructured<'_>| Self::generate(u, next).map(Box::new);
        let list = |u: &mut Unstructured<'_>| -> Result<Vec<Expression>> {
            let count = u.int_in_range(0..=3)?;
            (0..count).map(|_| Self::generate(u, next)).collect()
        };
        Ok(match choice {
            0 => Self::Name(u.choose(NAMES)?),
            1 => Self::Number(u.arbitrary()?),
            2 => Self::Integer(u.arbitrary()?),
            3 => Self::String(u.choose(STRINGS)?),
            4 => Self::RegExp(u.choose(REGEXPS)?),
            5 => Self::Member(sub(u)?, u.choose(PROPERTIES)?),
            6 => Self::Index(sub(u)?, sub(u)?),
            7 => Self::Call(sub(u)?, list(u)?),
            8 => Self::New(sub(u)?, list(u)?),
            9 => Self::Arrow(u.arbitrary()?, sub(u)?),
            10 => Self::Generator(sub(u)?),
            11 => {
                let count = u.int_in_range(0..=3)?;
                Self::Object(
                    (0..count)
                        .map(|_| Member::generate(u, next))
                        .collect::<Result<_>>()?,
                )
            }
            12 => Self::Array(list(u)?),
            13 => Self::Binary(
                u.choose(&[
                    "+",
                    "-",
                    "*",
                    "**",
                    "/",
                    "%",
                    "<<",
                    ">>>",
                    "&",
                    "|",
                    "^",
                    "&&",
                    "||",
                    "??",
                    "==",
                    "===",
                    "<",
                    "in",
                    "instanceof",
                    ",",
                ])?,
                sub(u)?,
                sub(u)?,
            ),
            14 => Self::Unary(
                u.choose(&[
                    "typeof ", "void ", "delete ", "!", "-", "~", "await ", "...", "+",
                ])?,
                sub(u)?,
            ),
            15 => Self::Assign(sub(u)?, u.choose(&["=", "+=", "??=", "||="])?, sub(u)?),
            16 => Self::Template(sub(u)?),
            17 => Self::Proxy(
                sub(u)?,
                u.choose(&[
                    "get",
                    "set",
                    "has",
                    "ownKeys",
                    "getOwnPropertyDescriptor",
                    "apply",
                    "construct",
                    "getPrototypeOf",
                    "defineProperty",
                    "deleteProperty",
                ])?,
                sub(u)?,
            ),
            _ => Self::Connector(sub(u)?),
        })
    }

    fn print(&self, out: &mut String) {
        let list = |out: &mut String, items: &[Expression]| {
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                item.print(out);
            }
        };
        match self {
            Self::Name(name) => out.push_str(name),
            Self::Number(number) if number.is_finite() => out.push_str(&format!("({number:e})")),
            Self::Number(number) => out.push_str(&format!("({number})").replace("inf", "Infinity")),
            Self::Integer(integer) => out.push_str(&format!("({integer})")),
            Self::String(text) => out.push_str(&format!("\"{text}\"")),
            Self::RegExp(regexp) => out.push_str(regexp),
            Self::Member(object, name) => {
                out.push('(');
                object.print(out);
                out.push_str(&format!(")?.[{name:?}]"));
            }
            Self::Index(object, index) => {
                out.push('(');
                object.print(out);
                out.push_str(")[");
                index.print(out);
                out.push(']');
            }
            Self::Call(callee, arguments) => {
                out.push('(');
                callee.print(out);
                out.push_str(")?.(");
                list(out, arguments);
                out.push(')');
            }
            Self::New(callee, arguments) => {
                out.push_str("new (");
                callee.print(out);
                out.push_str(")(");
                list(out, arguments);
                out.push(')');
            }
            Self::Arrow(is_async, body) => {
                out.push_str(if *is_async {
                    "(async (...a) => ("
                } else {
                    "((...a) => ("
                });
                body.print(out);
                out.push_str("))");
            }
            Self::Generator(body) => {
                out.push_str("(function* (...a) { yield ");
                body.print(out);
                out.push_str("; return arguments; })");
            }
            Self::Object(members) => {
                out.push_str("({ ");
                for member in members {
                    member.print(out, false);
                    out.push(' ');
                }
                out.push_str("})");
            }
            Self::Array(items) => {
                out.push('[');
                list(out, items);
                out.push(']');
            }
            Self::Binary(operator, left, right) => {
                out.push('(');
                left.print(out);
                out.push_str(&format!(" {operator} "));
                right.print(out);
                out.push(')');
            }
            Self::Unary(operator, operand) if *operator == "..." => {
                out.push('[');
                out.push_str(operator);
                operand.print(out);
                out.push(']');
            }
            Self::Unary(operator, operand) => {
                out.push('(');
                out.push_str(operator);
                out.push('(');
                operand.print(out);
                out.push_str("))");
            }
            Self::Assign(target, operator, value) => {
                out.push_str("(v0 = (");
                target.print(out);
                out.push_str(&format!("), v0[\"x\"] {operator} "));
                value.print(out);
                out.push(')');
            }
            Self::Template(value) => {
                out.push_str("`${");
                value.print(out);
                out.push_str("}`");
            }
            Self::Proxy(target, trap, handler) => {
                out.push_str("new Proxy(Object(");
                target.print(out);
                out.push_str(&format!("), {{ {trap}(...a) {{ return "));
                handler.print(out);
                out.push_str("; } })");
            }
            Self::Connector(args) => {
                out.push_str("echo.echo(");
                args.print(out);
                out.push(')');
            }
        }
    }
}

/// `name` as a computed property key: `["name"]`.
fn computed_key(name: &str) -> String {
    format!("[{name:?}]")
}
