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
    const { data: made } = await github.issues_create({ owner: "o", repo: "r", title: "t", body: "b", labels: ["bug"] });
    await github.issues_add_labels({ owner: "o", repo: "r", issue_number: made.number, labels: ["bug"] });
    return repo.data.full_name + issues.data.length + repo.status + all.status + all.body
        + repo.body.full_name + made.number;
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

/// The operations whose brief declarations are checked, beside the golden
/// one.
const BRIEF: &[&str] = &[
    "issues_list_for_repo",
    "issues_create",
    "issues_add_labels",
    "repos_get",
    "pulls_create",
    "activity_list_stargazers_for_repo",
    "repos_create_or_update_file_contents",
];

/// The types a declaration names but leaves undeclared (its `// Not
/// declared here: A, B; …` line).
fn undeclared(declaration: &str) -> Vec<String> {
    declaration
        .lines()
        .filter_map(|line| line.trim().strip_prefix("// Not declared here: "))
        .flat_map(|rest| rest.split(';').next().unwrap_or_default().split(", "))
        .map(str::to_owned)
        .collect()
}

/// The types a declaration declares (`type X =`).
fn declared_types(declaration: &str) -> Vec<String> {
    declaration
        .lines()
        .filter_map(|line| line.trim().strip_prefix("type "))
        .filter_map(|rest| rest.split([' ', '<']).next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn brief_declarations_expand_to_what_tsc_accepts() -> Result<()> {
    let spec = github()?;
    let usage = r#"
async function usage(): Promise<unknown> {
    const { data } = await github.issues_list_for_repo({ owner: "o", repo: "r", labels: "bug", state: "open" });
    return data.map((issue) => [issue.title, issue.user?.login, issue.labels]);
}
"#;
    for name in BRIEF {
        let operation = spec
            .operation(name)
            .ok_or_else(|| anyhow::anyhow!("no `{name}`"))?;
        let brief = spec.brief_declaration("github", operation);
        assert!(
            !brief.contains("@example") && !brief.contains("@format"),
            "{brief}"
        );
        // Expand what it leaves undeclared, as an agent would, and what
        // that leaves, until nothing is.
        let mut declared = declared_types(&brief);
        let mut wanted = undeclared(&brief);
        let mut files = vec![(format!("{name}.ts"), brief)];
        let mut rounds = 0;
        loop {
            let batch: Vec<String> = wanted
                .iter()
                .filter(|name| !declared.contains(name))
                .cloned()
                .collect();
            if batch.is_empty() {
                break;
            }
            let names: Vec<&str> = batch.iter().map(String::as_str).collect();
            let types = spec
                .types_declaration("github", &names)
                .ok_or_else(|| anyhow::anyhow!("{names:?} are not all types"))?;
            wanted = undeclared(&types);
            declared.extend(batch);
            files.push((format!("expanded_{rounds}.ts"), types));
            rounds += 1;
            anyhow::ensure!(rounds < 100, "the expansion of `{name}` does not end");
        }
        if *name == "issues_list_for_repo" {
            files.push(("usage.ts".to_owned(), usage.to_owned()));
        }
        tsc::check(&format!("brief-{name}"), &files)?;
    }
    Ok(())
}

/// The brief declarations kept as golden files: one with a large result
/// (its nested types left named), one whose body's fields sit beside its
/// parameters (one of them named `body`).
const GOLDEN: &[&str] = &["issues_list_for_repo", "issues_create"];

#[test]
fn brief_declarations_are_golden() -> Result<()> {
    let spec = github()?;
    for name in GOLDEN {
        let operation = spec
            .operation(name)
            .ok_or_else(|| anyhow::anyhow!("no `{name}`"))?;
        let brief = spec.brief_declaration("github", operation);
        let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/golden/{name}.d.ts"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&golden, &brief)?;
        }
        let expected = std::fs::read_to_string(&golden)?;
        assert_eq!(
            brief, expected,
            "the brief declaration of `{name}` changed; rerun with UPDATE_GOLDEN=1 to accept it"
        );
    }
    // The full declaration of the large one is many times its size.
    let operation = spec
        .operation("issues_list_for_repo")
        .ok_or_else(|| anyhow::anyhow!("no `issues_list_for_repo`"))?;
    let brief = spec.brief_declaration("github", operation);
    let full = spec.declaration("github", &[operation], false);
    assert!(
        full.len() > 5 * brief.len(),
        "{} vs {}",
        full.len(),
        brief.len()
    );
    Ok(())
}
