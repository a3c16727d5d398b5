//! GitHub's API the way models already know it, against Prism mocking
//! GitHub's description: scripts written as Octokit users write them (path,
//! query and body fields in one object, `const { data } = await …`) run
//! unchanged, and three scripted agent tasks through `codemode serve`
//! stay within their token budgets.
//!
//! One Prism serves both tests' runs (it takes a while to read the 10 MB
//! description); each test starts its own.

use std::process::Stdio;
use std::sync::Arc;

use anyhow::{Context, Result, ensure};
use codemode_mcp_server::{TokenCounter, tool_list_tokens};
use codemode_openapi::OpenApiConnector;
use codemode_runtime::{Connector, Execution, Grants};
use codemode_test_support::github::description_path;
use codemode_test_support::mcp::tool_call;
use serde_json::json;
use tokio::process::Command;

use crate::openapi::{PRISM_STARTUP, start_prism};
use crate::support::deadline::{self, bounded_by, step};
use crate::support::mcp::stdio_client;
use crate::support::{BINARY, RUNTIME};

/// Scripts as Octokit users write them: a name and the code. (Prism
/// answers with the description's examples; `issues_get`'s it answers
/// wrapped, so no script here reads one issue.)
const SCRIPTS: &[(&str, &str)] = &[
    (
        "get a repository",
        r#"const { data } = await github.repos_get({ owner: "octocat", repo: "Hello-World" });
return data.full_name;"#,
    ),
    (
        "open issues labelled bug",
        r#"const { data } = await github.issues_list_for_repo({ owner: "octocat", repo: "Hello-World", state: "open", labels: "bug" });
return data.map((issue) => issue.title);"#,
    ),
    (
        "an issue's comments",
        r#"const { data: comments } = await github.issues_list_comments({ owner: "octocat", repo: "Hello-World", issue_number: 1347 });
return comments.map((comment) => comment.body);"#,
    ),
    (
        "create an issue",
        r#"const { data, status } = await github.issues_create({ owner: "octocat", repo: "Hello-World", title: "Found a bug", body: "I'm having a problem with this.", labels: ["bug"] });
return { number: data.number, status };"#,
    ),
    (
        "add labels",
        r#"const { data } = await github.issues_add_labels({ owner: "octocat", repo: "Hello-World", issue_number: 1347, labels: ["bug", "enhancement"] });
return data.map((label) => label.name);"#,
    ),
    (
        "comment on an issue",
        r#"const { data: comment } = await github.issues_create_comment({ owner: "octocat", repo: "Hello-World", issue_number: 1347, body: "Me too" });
return comment.id;"#,
    ),
    (
        "close an issue",
        r#"const { data } = await github.issues_update({ owner: "octocat", repo: "Hello-World", issue_number: 1347, state: "closed" });
return data.state;"#,
    ),
    (
        "open pull requests",
        r#"const { data: pulls } = await github.pulls_list({ owner: "octocat", repo: "Hello-World", state: "open", per_page: 10 });
return pulls.map((pull) => pull.number);"#,
    ),
    (
        "one pull request",
        r#"const { data: pull } = await github.pulls_get({ owner: "octocat", repo: "Hello-World", pull_number: 1347 });
return pull.title;"#,
    ),
    (
        "create a pull request",
        r#"const { data: pull } = await github.pulls_create({ owner: "octocat", repo: "Hello-World", title: "Amazing new feature", head: "octocat:new-feature", base: "master", body: "Please pull these awesome changes in!" });
return pull.number;"#,
    ),
    (
        "an organization's repositories",
        r#"const { data } = await github.repos_list_for_org({ org: "github", type: "public", per_page: 5 });
return data.map((repo) => repo.full_name);"#,
    ),
    (
        "the authenticated user",
        r#"const { data: me } = await github.users_get_authenticated();
return me.login;"#,
    ),
    (
        "a user by name",
        r#"const { data: user } = await github.users_get_by_username({ username: "octocat" });
return user.login;"#,
    ),
    (
        "stargazers",
        r#"const { data } = await github.activity_list_stargazers_for_repo({ owner: "octocat", repo: "Hello-World", per_page: 100 });
return data.map((user) => user.login ?? user.user?.login);"#,
    ),
    (
        "my followers",
        r#"const { data } = await github.users_list_followers_for_authenticated_user({ per_page: 100 });
return data.map((user) => user.login);"#,
    ),
    (
        "create a repository",
        r#"const { data: repo } = await github.repos_create_for_authenticated_user({ name: "Hello-World", description: "This is your first repo!", private: false });
return repo.full_name;"#,
    ),
    (
        "a branch's commit",
        r#"const { data: ref } = await github.git_get_ref({ owner: "octocat", repo: "Hello-World", ref: "heads/main" });
return ref.object.sha;"#,
    ),
    (
        "a repository's labels",
        r#"const { data: labels } = await github.issues_list_labels_for_repo({ owner: "octocat", repo: "Hello-World" });
return labels.map((label) => label.name);"#,
    ),
    (
        "recent commits",
        r#"const { data: commits } = await github.repos_list_commits({ owner: "octocat", repo: "Hello-World", per_page: 5 });
return commits.map((commit) => commit.sha);"#,
    ),
    (
        "react to an issue",
        r#"const { data: reaction } = await github.reactions_create_for_issue({ owner: "octocat", repo: "Hello-World", issue_number: 1347, content: "heart" });
return reaction.content;"#,
    ),
    (
        "write a file",
        r#"const { data } = await github.repos_create_or_update_file_contents({ owner: "octocat", repo: "Hello-World", path: "notes/hello.txt", message: "my commit message", content: btoa("Hello") });
return data.commit.sha;"#,
    ),
    (
        "the reply's old name and its keys",
        r#"const reply = await github.repos_get({ owner: "octocat", repo: "Hello-World" });
return { keys: Object.keys(reply), same: reply.body === reply.data, status: reply.status };"#,
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scripts_written_for_octokit_run_unchanged() -> Result<()> {
    bounded_by(PRISM_STARTUP + deadline::TEST_DEADLINE, async {
        let prism = start_prism().await?;
        let config = prism.github("ghp_octokit_style");
        let github: Arc<dyn Connector> = Arc::new(OpenApiConnector::load("github", &config)?);
        let grants = Arc::new(Grants::new().grant("github", github)?);
        ensure!(SCRIPTS.len() >= 20);
        let mut failures = Vec::new();
        let mut results = Vec::new();
        for (name, code) in SCRIPTS {
            let execution = Execution::new(*code).grants(Arc::clone(&grants));
            let outcome = RUNTIME.execute(execution).await?;
            match (&outcome.error, &outcome.result) {
                (None, Some(result)) if !result.is_null() => results.push((*name, result.clone())),
                _ => failures.push(format!("{name}: {:?} {:?}", outcome.error, outcome.result)),
            }
        }
        ensure!(failures.is_empty(), "{}", failures.join("\n"));
        // A few results checked to the letter: Prism answers with the
        // description's examples.
        let by_name = |wanted: &str| {
            results
                .iter()
                .find(|(name, _)| *name == wanted)
                .map(|(_, result)| result.clone())
                .unwrap_or_default()
        };
        assert_eq!(by_name("get a repository"), json!("octocat/Hello-World"));
        assert_eq!(by_name("the authenticated user"), json!("octocat"));
        assert_eq!(by_name("close an issue"), json!("open"));
        // The reply is `{ data, status, headers }`; `body` reads `data`
        // without being listed.
        assert_eq!(
            by_name("the reply's old name and its keys"),
            json!({ "keys": ["data", "status", "headers"], "same": true, "status": 200 })
        );
        Ok(())
    })
    .await
}

/// The three agent tasks: what the agent asks `search`, then runs with
/// `execute`, and what the result must hold.
const TASKS: &[(&str, &str, &str, &str)] = &[
    (
        "List open issues labelled bug, titles only",
        r#"codemode.search("list issues of a repository", { limit: 3 })"#,
        r#"const { data } = await github.issues_list_for_repo({ owner: "octocat", repo: "Hello-World", state: "open", labels: "bug" });
return data.map((issue) => issue.title);"#,
        "Found a bug",
    ),
    (
        "Find stargazers who also follow the authenticated user",
        r#"codemode.search("stargazers of a repository, followers of the authenticated user", { limit: 4 })"#,
        r#"const [{ data: stargazers }, { data: followers }] = await Promise.all([
  github.activity_list_stargazers_for_repo({ owner: "octocat", repo: "Hello-World", per_page: 100 }),
  github.users_list_followers_for_authenticated_user({ per_page: 100 }),
]);
const following = new Set(followers.map((user) => user.login));
return stargazers.map((user) => user.login).filter((login) => following.has(login));"#,
        "octocat",
    ),
    (
        "Create an issue and add a label",
        r#"codemode.search("create an issue, add labels to an issue", { limit: 4 })"#,
        r#"const { data: issue } = await github.issues_create({ owner: "octocat", repo: "Hello-World", title: "Found a bug", body: "Steps to reproduce: ..." });
const { data: labels } = await github.issues_add_labels({ owner: "octocat", repo: "Hello-World", issue_number: issue.number, labels: ["bug"] });
return { number: issue.number, labels: labels.map((label) => label.name) };"#,
        "bug",
    ),
];

/// The most tokens one task may take, tool list included.
const TASK_BUDGET: usize = 1_500;
/// The most tokens the declaration of `issues_list_for_repo` may take.
const DESCRIBE_BUDGET: usize = 1_500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_github_tasks_each_cost_at_most_1500_tokens() -> Result<()> {
    bounded_by(PRISM_STARTUP + deadline::TEST_DEADLINE, async {
        let prism = start_prism().await?;
        let dir = std::env::temp_dir().join(format!("codemode-octokit-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let config = dir.join("github.json");
        std::fs::write(
            &config,
            json!({ "openapi": { "github": {
                "spec": description_path(),
                "baseUrl": format!("http://127.0.0.1:{}", prism.port),
                "auth": { "type": "bearer", "token": "${GITHUB_TOKEN}" } } } })
            .to_string(),
        )?;
        let mut process = deadline::spawn(
            Command::new(BINARY)
                .arg("serve")
                .arg("--config")
                .arg(&config)
                .env("GITHUB_TOKEN", "ghp_token_budget")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        )
        .context("codemode serve starts")?;
        let client = stdio_client(&mut process).await;
        let counter = TokenCounter::o200k();
        let tools = step("tools/list", client.list_all_tools()).await?;
        let tool_list = tool_list_tokens(&counter, &tools);
        let answer = async |tool: &'static str, code: &str| -> Result<String> {
            let result = step(
                format!("the `{tool}` call"),
                client.call_tool(tool_call(tool, json!({ "code": code }))),
            )
            .await?;
            let text = result.content[0]
                .as_text()
                .map(|t| t.text.clone())
                .unwrap_or_default();
            ensure!(result.is_error != Some(true), "{tool}: {text}");
            Ok(text)
        };

        let mut report = vec![format!("tool list: {tool_list} tokens")];
        let mut over = Vec::new();
        for (task, search, execute, expected) in TASKS {
            let found = answer("search", search).await?;
            let ran = answer("execute", execute).await?;
            ensure!(ran.contains(expected), "{task}: {ran}");
            let parts = [
                counter.count(search),
                counter.count(&found),
                counter.count(execute),
                counter.count(&ran),
            ];
            let total = tool_list + parts.iter().sum::<usize>();
            report.push(format!(
                "{task}: {total} tokens (search code {}, result {}; execute code {}, result {})",
                parts[0], parts[1], parts[2], parts[3]
            ));
            if total > TASK_BUDGET {
                over.push(task);
            }
        }
        let described = answer(
            "search",
            r#"codemode.describe("github.issues_list_for_repo").declaration"#,
        )
        .await?;
        let describe = counter.count(&described);
        report.push(format!(
            "describe of issues_list_for_repo (its declaration): {describe} tokens"
        ));
        eprintln!("{}", report.join("\n"));
        ensure!(
            over.is_empty(),
            "over {TASK_BUDGET} tokens: {over:?}\n{report:?}"
        );
        ensure!(describe <= DESCRIBE_BUDGET, "{report:?}");
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    })
    .await
}
