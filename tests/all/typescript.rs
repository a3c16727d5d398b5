//! TypeScript in: types are blanked out inside the sandbox, positions stay
//! those of the agent's source, and constructs that would need emitted code
//! are refused with the construct and its position.

use codemode_runtime::{ErrorKind, Execution, Language, Outcome};
use serde_json::json;

use crate::support::{result, run, run_with};

/// The error's name, message, line and column.
fn error(outcome: &Outcome) -> (String, String, Option<u32>, Option<u32>) {
    let error = outcome.error.as_ref().expect("the run fails");
    assert_eq!(error.kind, ErrorKind::Script, "{error:#?}");
    (
        error.name.clone(),
        error.message.clone(),
        error.line,
        error.column,
    )
}

const PROGRAM: &str = r#"import type { Repository } from "./github-types";
import { type Issue } from "./github-types";

interface Page<T> {
  items: T[];
  next?: { cursor: string };
}

type Summary = { total: number; first: string | undefined };

function summarize<T extends { title: string }>(page: Page<T>): Summary {
  const first = page.items[0]?.title;
  return { total: page.items.length, first } satisfies Summary;
}

class Counter<T> implements Iterable<T> {
  private readonly seen: T[] = [];
  declare label: string;
  public add(this: Counter<T>, item: T): this {
    this.seen.push(item);
    return this;
  }
  *[Symbol.iterator](): Iterator<T> {
    yield* this.seen;
  }
}

const page = { items: [{ title: "a" }, { title: "b" }] } as Page<{ title: string }>;
const counter = new Counter<string>().add("x").add("y");
const size = (value?: unknown[]): number => value?.length ?? 0;
const cursor = page.next?.cursor ?? "none";
({ summary: summarize(page), seen: [...counter], size: size([1, 2, 3]), cursor, empty: size() });
"#;

#[tokio::test]
async fn a_typescript_program_runs() {
    let outcome = run(PROGRAM).await;
    assert_eq!(
        result(&outcome),
        json!({
            "summary": { "total": 2, "first": "a" },
            "seen": ["x", "y"],
            "size": 3,
            "cursor": "none",
            "empty": 0,
        })
    );
}

#[tokio::test]
async fn a_runtime_error_names_the_line_and_column_of_the_typescript_source() {
    let code = "interface Box<T> { value: T }\n\
                const box: Box<number | null> = { value: null };\n\
                const widened = box as unknown as { value: { deep: number } };\n\
                widened.value.deep.toFixed(1);\n";
    let outcome = run(code).await;
    let (name, message, line, column) = error(&outcome);
    assert_eq!(name, "TypeError");
    assert!(message.contains("deep"), "{message}");
    // QuickJS places an error in a top-level expression statement at the
    // statement's start (inside a function it points at the property: see
    // the next test).
    assert_eq!((line, column), (Some(4), Some(1)));
    let stack = &outcome
        .error
        .as_ref()
        .map(|e| e.stack.clone())
        .unwrap_or_default();
    assert!(stack.contains("agent.js:4:1"), "{stack}");
}

#[tokio::test]
async fn a_type_error_in_a_generic_function_reports_its_own_line() {
    let code = "function first<T>(items: T[]): T {\n  return (items as any).boom();\n}\nfirst<number>([1]);";
    let (name, _, line, column) = error(&run(code).await);
    assert_eq!(name, "TypeError");
    assert_eq!((line, column), (Some(2), Some(25)));
}

#[tokio::test]
async fn a_typescript_syntax_error_names_its_position() {
    let code = "const ok: number = 1;\nlet broken: = 2;\n";
    let (name, message, line, column) = error(&run(code).await);
    assert_eq!(name, "SyntaxError");
    assert!(!message.is_empty());
    assert_eq!((line, column), (Some(2), Some(13)));
}

#[tokio::test]
async fn constructs_that_need_emitted_code_are_refused_by_name_and_position() {
    let cases = [
        ("const a = 1;\nenum Color { Red, Green }", "`enum`", 2, 1),
        (
            "\n  namespace Util { export const two = 2; }",
            "`namespace`",
            2,
            3,
        ),
        (
            "class Point {\n  constructor(private x: number) {}\n}",
            "parameter properties",
            2,
            15,
        ),
        (
            "function log(t: any) {}\n@log class A {}",
            "decorators",
            2,
            1,
        ),
        ("class A {\n  @log run() {}\n}", "decorators", 2, 3),
        ("import fs = require(\"fs\");", "`import ... =`", 1, 1),
        ("const x = 1;\nexport = x;", "`export =`", 2, 1),
    ];
    for (code, construct, line, column) in cases {
        let (name, message, at_line, at_column) = error(&run(code).await);
        assert_eq!(name, "SyntaxError", "{code}");
        assert!(message.contains(construct), "{code}: {message}");
        assert_eq!((at_line, at_column), (Some(line), Some(column)), "{code}");
    }
}

#[tokio::test]
async fn declarations_that_only_describe_types_are_erased() {
    let code = "declare const injected: number;\n\
                declare function external(a: string): void;\n\
                declare enum Mode { On, Off }\n\
                declare module \"x\" { export const y: number; }\n\
                declare global { interface Window { z: number } }\n\
                namespace Types { export type A = string; export interface B { a: A } }\n\
                function pad(value: string): string;\n\
                function pad(value: number): string;\n\
                function pad(value: unknown): string { return String(value).padStart(3, \"0\"); }\n\
                abstract class Shape { abstract area(): number; describe(): string { return `area ${this.area()}`; } }\n\
                class Square extends Shape { constructor(readonly_side: number) { super(); this.side = readonly_side; } side!: number; area() { return this.side ** 2; } }\n\
                let later!: number;\n\
                later = 5;\n\
                [pad(7), new Square(3).describe(), later]";
    assert_eq!(result(&run(code).await), json!(["007", "area 9", 5]));
}

#[tokio::test]
async fn an_erased_statement_does_not_join_its_neighbours() {
    // Without a `;` left behind, `1\n(...)` would call the number 1.
    let code = "let x = 1\ninterface Gap {}\n(function () { x = 2 })()\nx";
    assert_eq!(result(&run(code).await), json!(2));
}

#[tokio::test]
async fn an_arrow_return_type_across_lines_keeps_the_arrow_valid() {
    let code = "const f = (a: number):\n  number => a * 2;\nf(21)";
    assert_eq!(result(&run(code).await), json!(42));
}

#[tokio::test]
async fn type_arguments_assertions_and_non_null_are_erased() {
    let code = "const m = new Map<string, number[]>([[\"a\", [1]]]);\n\
                const list = m.get(\"a\")!;\n\
                const n = <number>list[0];\n\
                const id = <T,>(v: T): T => v;\n\
                const idNumber = id<number>;\n\
                [n, idNumber(4), (m.get(\"a\") as number[]).length]";
    assert_eq!(result(&run(code).await), json!([1, 4, 1]));
}

#[tokio::test]
async fn a_typescript_module_and_an_async_arrow_function_run() {
    let module = "export type Out = { n: number };\nconst out: Out = { n: await Promise.resolve(3) };\nexport default out;";
    assert_eq!(result(&run(module).await), json!({ "n": 3 }));
    let arrow = "async (): Promise<{ ok: boolean }> => {\n  return { ok: true };\n}";
    assert_eq!(result(&run(arrow).await), json!({ "ok": true }));
}

#[tokio::test]
async fn javascript_mode_leaves_the_code_to_quickjs() {
    let typed = Execution::new("const n: number = 1;\nn").language(Language::JavaScript);
    let (name, _, line, _) = error(&run_with(typed).await);
    assert_eq!((name.as_str(), line), ("SyntaxError", Some(1)));

    // Plain JavaScript runs the same either way.
    let plain = "const a = [3, 1, 2];\na.sort((x, y) => x - y)";
    for language in [Language::JavaScript, Language::TypeScript] {
        let outcome = run_with(Execution::new(plain).language(language)).await;
        assert_eq!(result(&outcome), json!([1, 2, 3]));
    }
}

#[tokio::test]
async fn characters_outside_ascii_in_types_keep_later_columns() {
    // Columns count bytes, as QuickJS does: each erased character becomes
    // as many spaces as it has bytes, so `null.x` stays at column 71 (its
    // 67th character).
    let code = "type Greeting = \"héllo wörld\"; const g: Greeting = \"héllo wörld\"; null.x";
    let (_, _, line, column) = error(&run(code).await);
    assert_eq!((line, column), (Some(1), Some(71)));
}
