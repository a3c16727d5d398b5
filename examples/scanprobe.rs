#![allow(missing_docs)]
use codemode_runtime::{Document, Execution, Limits, Runtime};
use serde_json::value::RawValue;
use std::sync::Arc;

fn main() {
    let text = std::fs::read_to_string(
        "tests/npm/node_modules/@octokit/openapi/generated/api.github.com.json",
    )
    .unwrap();
    let scan = include_str!("../tests/all/github_scan.js");
    let runtime = Runtime::new().unwrap();
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut limits = Limits::default();
    limits.memory_bytes = 1 << 30;
    limits.fuel = u64::MAX / 2;
    limits.timeout = std::time::Duration::from_secs(60);
    limits.result_bytes = 1 << 20;
    let raw: Arc<RawValue> =
        Arc::from(RawValue::from_string(format!("{{\"github\":{text}}}")).unwrap());
    let mut fuels = vec![];
    for n in [0, 1] {
        let code = format!(
            "const t0 = Date.now(); let r; for (let k = 0; k < {n}; k++) r = (() => {{ {scan} }})(); [(Date.now() - t0)]"
        );
        let code = code
            .replace("found\n}", "return found;\n}")
            .replace("\nfound\n", "\nreturn found;\n");
        let outcome = tokio
            .block_on(
                runtime.execute(
                    Execution::new(code)
                        .global("spec", Arc::clone(&raw))
                        .limits(limits.clone()),
                ),
            )
            .unwrap();
        fuels.push(outcome.stats.fuel_used);
    }
    println!("plain data scan fuel: {}", fuels[1] - fuels[0]);
    let doc = Arc::new(Document::new(serde_json::from_str(&text).unwrap()));
    for _ in 0..3 {
        let started = std::time::Instant::now();
        let outcome = tokio
            .block_on(
                runtime.execute(
                    Execution::new(scan)
                        .documents("spec", vec![("github".into(), Arc::clone(&doc))])
                        .limits(limits.clone()),
                ),
            )
            .unwrap();
        let json = serde_json::to_string(&outcome.result).unwrap();
        let counter = codemode_mcp_server::TokenCounter::o200k();
        counter.count("warm");
        let t = std::time::Instant::now();
        let n = counter.count(&json);
        println!("tokens {n} of {} bytes in {:?}", json.len(), t.elapsed());
        println!(
            "lazy: {:?} fuel {} peak {} in {:?}",
            outcome.error.map(|e| e.message),
            outcome.stats.fuel_used,
            outcome.stats.peak_memory_bytes,
            started.elapsed()
        );
    }
}

#[allow(dead_code)]
fn unused() {}
