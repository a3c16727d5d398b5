//! The shapes of code agents write, through the embedding API: a lone
//! function declaration is called, a top-level `return` ends the run with
//! its value, each with or without a code fence, in TypeScript and in
//! JavaScript, with errors placed where the agent wrote them; and the
//! shapes that ran before run as they did.

use codemode_runtime::{Execution, Language, Outcome};
use serde_json::{Value, json};

use crate::support::outcome::{assert_result, assert_script_error};
use crate::support::{result, run_with};

async fn run_in(code: &str, language: Language) -> Outcome {
    run_with(Execution::new(code).language(language)).await
}

/// `code` inside a Markdown code fence for `language`.
fn fenced(code: &str, language: Language) -> String {
    let tag = match language {
        Language::TypeScript => "ts",
        Language::JavaScript => "js",
    };
    format!("```{tag}\n{code}\n```\n")
}

/// Run `code` in both languages (TypeScript only when `typed`), bare and
/// fenced, and hand each outcome to `check` with the line offset the fence
/// adds.
async fn each_form(code: &str, typed: bool, check: impl Fn(&Outcome, u32, &str)) {
    let languages: &[Language] = if typed {
        &[Language::TypeScript]
    } else {
        &[Language::TypeScript, Language::JavaScript]
    };
    for &language in languages {
        check(&run_in(code, language).await, 0, &format!("{language:?}"));
        let fenced = fenced(code, language);
        check(
            &run_in(&fenced, language).await,
            1,
            &format!("fenced {language:?}"),
        );
    }
}

#[tokio::test]
async fn a_lone_function_declaration_is_called_and_its_result_returned() {
    let plain = "function compute() {\n  const a = [1, 2, 3];\n  return a.map((x) => x * 2);\n}";
    each_form(plain, false, |outcome, _, form| {
        assert_eq!(result(outcome), json!([2, 4, 6]), "{form}");
    })
    .await;
    let asynchronous = "async function main() {\n  const n = await Promise.resolve(41);\n  return { n: n + 1 };\n}";
    each_form(asynchronous, false, |outcome, _, form| {
        assert_eq!(result(outcome), json!({ "n": 42 }), "{form}");
    })
    .await;
    // Types, type declarations and type-only imports around it are blanked;
    // the function is still the program's only statement.
    let typed = "import type { Item } from \"./items\";\ninterface Total { total: number }\nasync function main(): Promise<Total> {\n  const items: Item[] = [];\n  return { total: items.length + 3 };\n}";
    each_form(typed, true, |outcome, _, form| {
        assert_eq!(result(outcome), json!({ "total": 3 }), "{form}");
    })
    .await;
}

#[tokio::test]
async fn an_error_inside_a_lone_function_is_placed_where_the_agent_wrote_it() {
    let code = "async function main() {\n  const n = await Promise.resolve(1);\n  console.log(n);\n  throw new RangeError(`bad ${n}`);\n}";
    // Where QuickJS places the same error when the program calls `main`.
    let called = run_in(&format!("{code}\nmain()"), Language::JavaScript).await;
    let expected = assert_script_error(&called, "RangeError", "bad 1").clone();
    assert_eq!(expected.line, Some(4), "{called:#?}");
    each_form(code, false, |outcome, offset, form| {
        let error = assert_script_error(outcome, "RangeError", "bad 1");
        assert_eq!(
            error.line,
            expected.line.map(|line| line + offset),
            "{form}"
        );
        assert_eq!(error.column, expected.column, "{form}");
        let frame = format!(
            "at main (agent.js:{}:{})",
            4 + offset,
            expected.column.unwrap_or_default()
        );
        assert!(error.stack.contains(&frame), "{form}: {}", error.stack);
    })
    .await;
    // A call of something that is not there, in TypeScript.
    let typed = "function compute(): number {\n  const a: number[] = [1];\n  return a.length + missing(a);\n}";
    each_form(typed, true, |outcome, offset, form| {
        let error = assert_script_error(outcome, "ReferenceError", "missing is not defined");
        assert_eq!(
            (error.line, error.column),
            (Some(3 + offset), Some(21)),
            "{form}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_top_level_return_ends_the_run_with_its_value() {
    let code =
        "const items = [1, 2, 3];\nif (items.length > 2) return { many: items.length };\n'few'";
    each_form(code, false, |outcome, _, form| {
        assert_eq!(result(outcome), json!({ "many": 3 }), "{form}");
    })
    .await;
    // When no `return` runs, the last expression is the result, as in any
    // script.
    let code = "const items = [1];\nif (items.length > 2) return { many: items.length };\n'few'";
    each_form(code, false, |outcome, _, form| {
        assert_eq!(result(outcome), json!("few"), "{form}");
    })
    .await;
    let typed = "const v: number = await Promise.resolve(5);\nif (v > 1) {\n  return v * 2;\n}\n0";
    each_form(typed, true, |outcome, _, form| {
        assert_eq!(result(outcome), json!(10), "{form}");
    })
    .await;
    // `return;` returns nothing.
    let outcome = run_in("console.log('a');\nreturn;\n1", Language::JavaScript).await;
    assert!(outcome.ok() && outcome.result.is_none(), "{outcome:#?}");
    // Functions and `var`s declared beside it work as in a script.
    let outcome = run_in(
        "var total = 0;\nfor (const n of [1, 2, 3]) total += twice(n);\nfunction twice(n) { return n * 2; }\nreturn total;",
        Language::JavaScript,
    )
    .await;
    assert_result(&outcome, json!(12));
}

#[tokio::test]
async fn errors_in_a_script_with_a_top_level_return_keep_their_positions() {
    // On the first line (where the function's start is inserted), on a line
    // after a `return`, and in the last expression (which is returned).
    let cases: &[(&str, u32, u32)] = &[
        ("const a = 1; missing(a); return a", 1, 14),
        ("const x = 0;\nif (x) return 42; missing(x)\nx", 2, 19),
        ("const a = 1;\nif (!a) return 0;\na + missing(a)", 3, 5),
        (
            "const a = 1;\nif (!a) return 0;\n[a].map((v) => v + missing(v))",
            3,
            20,
        ),
    ];
    for &(code, line, column) in cases {
        each_form(code, false, |outcome, offset, form| {
            let error = assert_script_error(outcome, "ReferenceError", "missing is not defined");
            assert_eq!(
                (error.line, error.column),
                (Some(line + offset), Some(column)),
                "{form} {code:?}: {outcome:#?}"
            );
            // The stack's innermost frame says the same.
            let frame = format!("agent.js:{}:{column})", line + offset);
            assert!(
                error.stack.contains(&frame),
                "{form} {code:?}: {}",
                error.stack
            );
        })
        .await;
    }
    // Columns count bytes, as QuickJS counts them: `😀` is four.
    let outcome = run_in(
        "const s = '😀'; if (!s) return 0; s + missing()",
        Language::JavaScript,
    )
    .await;
    let error = assert_script_error(&outcome, "ReferenceError", "missing");
    assert_eq!(
        (error.line, error.column),
        (Some(1), Some(41)),
        "{outcome:#?}"
    );
}

#[tokio::test]
async fn a_syntax_error_in_a_script_with_a_top_level_return_is_the_agents() {
    let code = "if (true) return 1;\nconst b = (1 + );";
    let outcome = run_in(code, Language::JavaScript).await;
    let error = assert_script_error(&outcome, "SyntaxError", "");
    assert_eq!(error.line, Some(2), "{outcome:#?}");
    // A module may not return: it says so at the `return`.
    let outcome = run_in("export const a = 1;\nreturn a;", Language::JavaScript).await;
    let error = assert_script_error(&outcome, "SyntaxError", "return not in a function");
    assert_eq!(error.line, Some(2), "{outcome:#?}");
}

#[tokio::test]
async fn shapes_that_ran_before_run_as_they_did() {
    let cases: &[(&str, &str, Value)] = &[
        // Declared, then called: called once, by the program.
        (
            "declared and called",
            "let calls = 0;\nfunction f() { calls += 1; return calls; }\nf()",
            json!(1),
        ),
        (
            "declared and called, no other statement",
            "function f() { return 'once'; }\nf();",
            json!("once"),
        ),
        // A module with imports (type-only ones, blanked) and a default export.
        (
            "module with imports",
            "import type { Item } from \"./items\";\nimport { type Total } from \"./items\";\nconst items: Item[] = [];\nexport default { count: items.length + 2 };",
            json!({ "count": 2 }),
        ),
        (
            "exported function",
            "export default async function main() { return 'exported'; }",
            json!("exported"),
        ),
        (
            "async arrow expression",
            "async () => {\n  const x = await Promise.resolve('a');\n  return { x };\n}",
            json!({ "x": "a" }),
        ),
        ("expression", "1 + 1", json!(2)),
    ];
    for (name, code, expected) in cases {
        let outcome = run_in(code, Language::TypeScript).await;
        assert_eq!(
            outcome.result.as_ref(),
            Some(expected),
            "{name}: {outcome:#?}"
        );
    }
    // Not called: two declarations (which one would be meant?), a generator,
    // and a function expression statement's neighbour.
    for code in [
        "function a() { return 1; }\nfunction b() { return 2; }",
        "function* g() { yield 1; }",
        "function f() { throw new Error('never called'); }\nconst x = 1;",
    ] {
        let outcome = run_in(code, Language::JavaScript).await;
        assert!(
            outcome.ok() && outcome.result.is_none(),
            "{code}: {outcome:#?}"
        );
    }
}
