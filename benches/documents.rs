//! Lazy documents, measured: GitHub's OpenAPI description (13 MB) as the
//! document `spec.github`, a fresh sandbox per iteration, the whole run
//! timed.
//!
//! - `github_scan`: the Cloudflare-style scan over every operation of
//!   `paths` (811 path items, 1,223 operations), reading each one's
//!   `summary` and `tags` and returning those that mention a word (target:
//!   at most 20 ms median).
//! - `deep_reference`: one property at the end of a chain through three
//!   `$ref`s (an operation's response schema, a pull request's head
//!   repository, its owner).

// `criterion_group!` defines a public function it cannot document.
#![allow(missing_docs)]

use std::sync::Arc;

use codemode_runtime::{Document, Execution, Outcome, Runtime};
use codemode_test_support::github;
use codemode_test_support::runs::current_thread;
use criterion::{Criterion, criterion_group, criterion_main};

const DEEP_REFERENCE: &str = r#"
    spec.github.paths["/repos/{owner}/{repo}/pulls/{pull_number}"].get.responses["200"]
        .content["application/json"].schema.properties.head.properties.repo.properties.owner
        .properties.login.type
"#;

fn documents(c: &mut Criterion) {
    let runtime = Runtime::new().expect("runtime");
    let tokio = current_thread();
    let description = serde_json::from_str(&github::description_text()).expect("JSON");
    let github = Arc::new(Document::new(description));
    let run = |code: &str| -> Outcome {
        let execution = Execution::new(code)
            .documents("spec", vec![("github".to_owned(), Arc::clone(&github))]);
        let outcome = tokio.block_on(runtime.execute(execution)).expect("runs");
        assert!(outcome.ok(), "{outcome:?}");
        outcome
    };

    let mut group = c.benchmark_group("documents");
    for (name, code) in [
        ("github_scan", github::SCAN),
        ("deep_reference", DEEP_REFERENCE),
    ] {
        let outcome = run(code);
        let stats = &outcome.stats;
        eprintln!(
            "{name}: {} document reads, {} fuel, {} bytes of memory at most",
            stats.document_reads, stats.fuel_used, stats.peak_memory_bytes
        );
        group.bench_function(name, |b| b.iter(|| run(code)));
    }
    group.finish();
}

criterion_group!(benches, documents);
criterion_main!(benches);
