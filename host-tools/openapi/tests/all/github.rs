//! GitHub's OpenAPI description (from `@octokit/openapi`), the largest
//! description an agent is likely to meet.

use std::time::Instant;

use anyhow::Result;
use codemode_openapi::Spec;

use codemode_test_support::tsc;

fn github() -> Result<Spec> {
    let path = tsc::installed("@octokit/openapi/generated/api.github.com.json")?;
    let text = std::fs::read_to_string(path)?;
    let start = Instant::now();
    let spec = Spec::parse(&text)?;
    println!("parse: {:?}", start.elapsed());
    Ok(spec)
}

#[test]
fn converts_and_type_checks() -> Result<()> {
    let spec = github()?;
    assert_eq!(spec.operations().len(), 1223);
    let start = Instant::now();
    let ts = spec.typescript("github");
    println!("typescript: {:?}, {} bytes", start.elapsed(), ts.len());
    let usage = r#"
async function usage(): Promise<string> {
    const repo = await github.repos_get({ owner: "octocat", repo: "hello-world" });
    const issues = await github.issues_list_for_repo({ owner: "octocat", repo: "hello-world", state: "open" });
    const all = await github.request({ method: "GET", path: "/repos/{owner}/{repo}", pathParams: { owner: "o", repo: "r" } });
    return repo.body.full_name + issues.body.length + repo.status + all.status;
}
"#;
    tsc::check(
        "github",
        &[
            ("github.ts".to_owned(), ts),
            ("usage.ts".to_owned(), usage.to_owned()),
        ],
    )
}

#[test]
fn describes_one_operation() -> Result<()> {
    let spec = github()?;
    let op = spec
        .operation("repos_get")
        .ok_or_else(|| anyhow::anyhow!("no `repos_get`"))?;
    assert_eq!(op.operation_id.as_deref(), Some("repos/get"));
    assert_eq!(
        (op.method.as_str(), op.path.as_str()),
        ("GET", "/repos/{owner}/{repo}")
    );
    let ts = spec.declaration("github", &[op], false);
    assert!(ts.contains("type FullRepository = {"));
    assert!(ts.contains("function repos_get(args: {"));
    assert!(!ts.contains("type Issue = {"));
    tsc::check("github-describe", &[("describe.ts".to_owned(), ts)])
}
