//! The files connector through `codemode run --config`, as a user runs it:
//! the README's example summarizing a folder of JSON files into a report,
//! a read-only directory refusing a write from a script, and the approval
//! policy treating writes as writes and reads as reads.

use anyhow::{Context, Result};
use serde_json::{Value, json};

use crate::cli::{codemode, text};
use crate::support::{bounded_test, scratch};

/// A scratch directory with `orders/` (three JSON orders), an empty
/// `reports/`, and `files.json` granting them as `data` (read-only) and
/// `out` (read-write), with `codemode` settings `extra`.
fn scene(name: &str, extra: Value) -> Result<std::path::PathBuf> {
    let dir = scratch(name);
    std::fs::create_dir_all(dir.join("orders"))?;
    std::fs::create_dir_all(dir.join("reports"))?;
    for (n, customer, total) in [(1, "ada", 30), (2, "bo", 12), (3, "ada", 5)] {
        std::fs::write(
            dir.join(format!("orders/{n}.json")),
            json!({ "customer": customer, "total": total }).to_string(),
        )?;
    }
    let config = json!({
        "files": {
            "data": { "root": "orders", "mode": "read-only" },
            "out": { "root": "reports", "mode": "read-write" },
        },
        "codemode": extra,
    });
    std::fs::write(dir.join("files.json"), config.to_string())?;
    Ok(dir)
}

#[bounded_test]
async fn the_readme_example_summarizes_a_folder_of_json_into_a_report() -> Result<()> {
    let dir = scene("files-example", json!({}))?;
    let config = dir.join("files.json").display().to_string();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/summarize-json.ts");
    let ran = codemode(&["run", "--json", "--config", &config, example], "").await?;
    let outcome: Value = serde_json::from_slice(&ran.stdout).with_context(|| text(&ran.stderr))?;
    assert_eq!(
        outcome["result"],
        json!({ "orders": 3, "customers": 2 }),
        "{outcome}"
    );
    let report = std::fs::read_to_string(dir.join("reports/summary.md"))?;
    assert_eq!(
        report,
        "# Orders\n\n3 orders from 2 customers.\n\n- ada: 35\n- bo: 12\n"
    );
    Ok(())
}

#[bounded_test]
async fn a_read_only_directory_refuses_a_scripts_write() -> Result<()> {
    let dir = scene("files-read-only", json!({}))?;
    let config = dir.join("files.json").display().to_string();
    let code = "try { await data.write({ path: \"x.json\", content: \"{}\" }); } catch (e) { [e.name, e.code, e.message] }";
    let ran = codemode(&["run", "--json", "--config", &config, "-"], code).await?;
    let outcome: Value = serde_json::from_slice(&ran.stdout)?;
    assert_eq!(
        outcome["result"],
        json!([
            "ConnectorError",
            "read-only",
            "`write` writes, and this directory is read-only"
        ]),
        "{outcome}"
    );
    assert!(!dir.join("orders/x.json").exists());
    Ok(())
}

#[bounded_test]
async fn the_approval_policy_gates_writes_and_lets_reads_through() -> Result<()> {
    // Nothing matches a rule: reads go through as read-only, writes take
    // the default, `approve`, and with no terminal to ask on are rejected.
    let dir = scene(
        "files-approvals",
        json!({ "approvals": { "default": "approve", "rules": [] } }),
    )?;
    let config = dir.join("files.json").display().to_string();
    let code = "const { content } = await data.read({ path: \"1.json\" });\n\
                let answer: unknown = \"written\";\n\
                try { await out.write({ path: \"r.md\", content }); } catch (e) { answer = [e.name, e.message]; }\n\
                answer";
    let ran = codemode(&["run", "--json", "--config", &config, "-"], code).await?;
    let outcome: Value = serde_json::from_slice(&ran.stdout)?;
    assert_eq!(outcome["result"][0], "ApprovalRejectedError", "{outcome}");
    assert!(!dir.join("reports/r.md").exists());
    Ok(())
}

#[bounded_test]
async fn every_method_is_found_by_search_and_described() -> Result<()> {
    let dir = scene("files-discovery", json!({}))?;
    let config = dir.join("files.json").display().to_string();
    let code = "const names = [];\n\
                for (const m of [\"read\", \"write\", \"append\", \"list\", \"stat\", \"mkdir\", \"remove\", \"move\"]) {\n\
                  const d = await codemode.describe(`out.${m}`);\n\
                  if (d.declaration.includes(`function ${m}(`)) names.push(m);\n\
                }\n\
                const found = (await codemode.search(\"write a file\")).map((f) => f.name);\n\
                ({ names, found })";
    let ran = codemode(&["run", "--json", "--config", &config, "-"], code).await?;
    let outcome: Value = serde_json::from_slice(&ran.stdout)?;
    assert_eq!(
        outcome["result"]["names"],
        json!([
            "read", "write", "append", "list", "stat", "mkdir", "remove", "move"
        ]),
        "{outcome}"
    );
    let found = outcome["result"]["found"].as_array().context("found")?;
    assert!(found.iter().any(|name| name == "out.write"), "{outcome}");
    Ok(())
}
