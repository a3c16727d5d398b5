//! The TypeScript targets, measured.
//!
//! - `openapi_to_typescript`: GitHub's description (1,223 operations) parsed
//!   and rendered as TypeScript declarations (target: at most 1 s).
//! - `search_in_run`: one `codemode.search` over GitHub's operations inside
//!   a run, the whole run timed (target: at most 5 ms median), beside the
//!   same run without the search.
//! - `strip_200_lines`: a 200-line TypeScript program run, beside the same
//!   program as JavaScript; the difference is the type stripping, which
//!   runs inside the sandbox (target: at most 1 ms).
//! - `code_shapes`: the same 200-line JavaScript as a script, as the body of
//!   a lone function declaration (which the run calls) and with a top-level
//!   `return` (which QuickJS refuses, and the run rewrites and compiles
//!   again); the differences are what each shape costs.

// `criterion_group!` defines a public function it cannot document.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use codemode_openapi::Spec;
use codemode_runtime::{Execution, Language, Runtime};
use codemode_test_support::connector::grant;
use codemode_test_support::github::{self, GithubCatalog};
use codemode_test_support::runs::current_thread;
use criterion::{Criterion, criterion_group, criterion_main};

fn openapi_to_typescript(c: &mut Criterion) {
    let text = github::description_text();
    let mut group = c.benchmark_group("openapi_to_typescript");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("github", |b| {
        b.iter(|| {
            let spec = Spec::parse(&text).expect("parses");
            assert_eq!(spec.operations().len(), 1223);
            spec.typescript("github")
        })
    });
    group.finish();
}

fn runner() -> (Runtime, tokio::runtime::Runtime) {
    (Runtime::new().expect("runtime"), current_thread())
}

fn search_in_run(c: &mut Criterion) {
    let (runtime, tokio) = runner();
    let grants = grant("github", GithubCatalog::load());
    let run = |code: &str| {
        let execution = Execution::new(code).grants(Arc::clone(&grants));
        let outcome = tokio.block_on(runtime.execute(execution)).expect("runs");
        assert!(outcome.ok(), "{outcome:?}");
    };
    let search = "codemode.search('list issues of a repository', { limit: 5 })";
    // The first search builds the index; the benchmark measures the runs
    // after it, as a server sees them. `no_search` is the same run without
    // the search: the cost of a run with 1,223 methods granted.
    run(search);
    let mut group = c.benchmark_group("search_in_run");
    group.bench_function("search", |b| b.iter(|| run(search)));
    group.bench_function("no_search", |b| b.iter(|| run("1")));
    group.finish();
}

/// A 200-line program, with its types or without them (the same
/// JavaScript either way); its result is 39.
fn program(typed: bool) -> String {
    // `text` in the typed program, nothing in the other.
    let t = |text: &str| {
        if typed {
            text.to_owned()
        } else {
            String::new()
        }
    };
    let mut lines = Vec::new();
    for i in 0..40 {
        let item = format!("Item{i}");
        lines.push(t(&format!(
            "interface {item} {{ id: number; name: string; tags?: string[] }}"
        )));
        lines.push(format!(
            "function make{i}{}(x{}, extra{}){} {{ return {{ ...x, id: x.id + (extra ?? 0) }}{}; }}",
            t(&format!("<T extends {item}>")),
            t(": T"),
            t("?: number"),
            t(": T"),
            t(" as T"),
        ));
        lines.push(format!(
            "const v{i}{} = make{i}({{ id: {i}, name: \"n{i}\" }}{});",
            t(&format!(": {item}")),
            t(&format!(" satisfies {item}")),
        ));
        lines.push(t(&format!("type Alias{i} = {item} | null;")));
        lines.push(format!(
            "let total{i}{} = v{i}.id{};",
            t(": number"),
            t("!")
        ));
    }
    lines.push("total39".into());
    lines.join("\n")
}

fn strip_200_lines(c: &mut Criterion) {
    let (runtime, tokio) = runner();
    let mut group = c.benchmark_group("strip_200_lines");
    for (name, code, language) in [
        ("typescript", program(true), Language::TypeScript),
        ("javascript", program(false), Language::JavaScript),
    ] {
        let execution = Execution::new(code.clone()).language(language);
        let outcome = tokio.block_on(runtime.execute(execution)).expect("runs");
        assert_eq!(outcome.result, Some(serde_json::json!(39)), "{outcome:?}");
        group.bench_function(name, |b| {
            b.iter(|| {
                let execution = Execution::new(code.clone()).language(language);
                tokio.block_on(runtime.execute(execution)).expect("runs")
            })
        });
    }
    group.finish();
}

fn code_shapes(c: &mut Criterion) {
    let (runtime, tokio) = runner();
    let script = program(false);
    let body = script
        .strip_suffix("total39")
        .expect("the program ends with its result");
    let lone = format!("function main() {{\n{body}return total39;\n}}");
    let returning = format!("{body}if (total39 < 0) return 0;\ntotal39");
    let mut group = c.benchmark_group("code_shapes");
    for (name, code) in [
        ("script", script.clone()),
        ("lone_function", lone),
        ("top_level_return", returning),
    ] {
        let execution = Execution::new(code.clone()).language(Language::JavaScript);
        let outcome = tokio.block_on(runtime.execute(execution)).expect("runs");
        assert_eq!(
            outcome.result,
            Some(serde_json::json!(39)),
            "{name}: {outcome:?}"
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                let execution = Execution::new(code.clone()).language(Language::JavaScript);
                tokio.block_on(runtime.execute(execution)).expect("runs")
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = openapi_to_typescript, search_in_run, strip_200_lines, code_shapes
}
criterion_main!(benches);
