//! Golden files for a corpus of hard JSON Schemas in `tests/schemas`.
//!
//! Each `NAME.json` is either a schema, used as the input schema of a method
//! named `NAME`, or `{"methods": [{"name", "description", "inputSchema",
//! "outputSchema"}]}`, a whole connector listing. Its declaration is compared
//! with `NAME.ts` beside it; run with `CODEMODE_BLESS=1` to rewrite the
//! golden files that differ (the run still fails, so that a stray variable
//! cannot pass it). All declarations must pass `tsc --noEmit --strict`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};
use codemode_typescript::MethodDescription;
use codemode_typescript::declare::namespace_declaration;
use codemode_typescript::names::{Names, sanitize};
use serde_json::Value;

use codemode_test_support::tsc;

fn corpus() -> Result<Vec<PathBuf>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    paths.retain(|p| p.extension().is_some_and(|e| e == "json"));
    paths.sort();
    ensure!(
        paths.len() >= 30,
        "the corpus has {} schemas, expected at least 30",
        paths.len()
    );
    Ok(paths)
}

fn methods(name: &str, document: Value) -> Result<Vec<MethodDescription>> {
    let Some(Value::Array(listing)) = document.get("methods") else {
        return Ok(vec![
            MethodDescription::new(name, format!("Corpus schema `{name}`.")).input_schema(document),
        ]);
    };
    listing
        .iter()
        .map(|method| {
            let name = method["name"].as_str().context("a method without `name`")?;
            let description = method["description"].as_str().unwrap_or_default();
            let described = MethodDescription::new(name, description)
                .input_schema(method["inputSchema"].clone());
            Ok(match method.get("outputSchema") {
                Some(output) => described.output_schema(output.clone()),
                None => described,
            })
        })
        .collect()
}

/// `namespace`'s declaration of `methods`, each called by its identifier.
fn declaration(namespace: &str, methods: &[MethodDescription]) -> String {
    let names = Names::new(methods.iter().map(|method| method.name.as_str()));
    let named: Vec<(&str, &MethodDescription)> = methods
        .iter()
        .map(|method| {
            (
                names.identifier(&method.name).unwrap_or(&method.name),
                method,
            )
        })
        .collect();
    namespace_declaration(namespace, &named)
}

#[test]
fn golden_files_and_tsc() -> Result<()> {
    let bless = std::env::var_os("CODEMODE_BLESS").is_some_and(|v| v == "1");
    let mut files = Vec::new();
    let mut stale = Vec::new();
    for path in corpus()? {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .context("file name")?;
        let text = std::fs::read_to_string(&path)?;
        let document: Value =
            serde_json::from_str(&text).with_context(|| format!("parsing `{}`", path.display()))?;
        let ts = declaration(stem, &methods(stem, document)?);
        let golden = path.with_extension("ts");
        if std::fs::read_to_string(&golden).ok().as_deref() != Some(ts.as_str()) {
            if bless {
                std::fs::write(&golden, &ts)?;
            }
            stale.push(golden.display().to_string());
        }
        files.push((format!("{}.ts", sanitize(stem)), ts));
    }
    // Blessing rewrites the files and still fails: a stray `CODEMODE_BLESS`
    // (in CI, say) can never turn a difference into a pass.
    if !stale.is_empty() && bless {
        bail!(
            "rewrote the golden files that differed; review them and run again without `CODEMODE_BLESS`:\n{}",
            stale.join("\n")
        );
    }
    if !stale.is_empty() {
        bail!(
            "generated TypeScript differs from the golden files (rerun with `CODEMODE_BLESS=1` if the change is intended):\n{}",
            stale.join("\n")
        );
    }
    tsc::check("corpus", &files)
}
