//! `codemode serve`: the Code Mode MCP server in front of the configured
//! upstream MCP servers and HTTP APIs, on stdio or streamable HTTP;
//! `codemode tokens`: what its tool list costs an agent beside theirs (for
//! an API, beside one native tool per operation).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use codemode_files::FilesConnector;
use codemode_mcp_client::McpConnector;
use codemode_mcp_server::{
    Access, CodeModeServer, DEFAULT_KEEP_WAITING, DEFAULT_WAITING_STORES, HttpServer, Role,
    ServerOptions, TokenCounter, serve_stdio, tool_list_tokens,
};
use codemode_openapi::OpenApiConnector;
use codemode_runs::RunStore;
use codemode_runtime::{Connector, Grants, Policy, Runtime, Secrets};

use crate::config::Config;

#[derive(Parser)]
pub(crate) struct ServeArgs {
    /// A JSON configuration file with `mcpServers`, `openapi` APIs (and
    /// `codemode` settings); without one, the server has no connectors.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve streamable HTTP at `http://ADDR:PORT/mcp` instead of stdio.
    #[arg(long, value_name = "ADDR:PORT")]
    http: Option<SocketAddr>,
    /// Keep every `execute` as a durable run in DIR (`runs.sqlite3`), or
    /// in the PostgreSQL database `postgres://USER:PASSWORD@HOST/DB`,
    /// which several instances may share: a call waiting for approval
    /// answers `{ status: "pending", run }` unless the client can be asked
    /// (elicitation), the console or `codemode runs approve` decides from
    /// anywhere, and runs left unfinished by a server that died are
    /// resumed. Default, when the config gates calls
    /// (`codemode.approvals`): `$XDG_STATE_HOME/codemode`, or
    /// `~/.local/state/codemode`.
    #[arg(long, value_name = "DIR|URL")]
    state: Option<PathBuf>,
    /// How many runs waiting for a person keep their sandbox in memory;
    /// the others give it up and resume from their journal once decided.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_WAITING_STORES)]
    waiting_stores: usize,
    /// How long, in seconds, a waiting run keeps its sandbox at most.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_KEEP_WAITING.as_secs())]
    keep_waiting: u64,
    /// Serve `--http` on an address other than loopback although the
    /// config has no `codemode.tokens`: anyone who can reach it then runs
    /// code with this host's credentials and decides its runs' calls.
    #[arg(long)]
    insecure_no_auth: bool,
}

impl ServeArgs {
    /// The state directory: the one given, else the per-user default when
    /// the config gates calls (a gated call then waits durably, and
    /// `codemode runs approve` finds it there), else none.
    fn state_dir(&self, config: &Config) -> Result<Option<PathBuf>> {
        match (&self.state, config.approvals()) {
            (Some(dir), _) => Ok(Some(dir.clone())),
            (None, Some(_)) => Ok(Some(crate::runs::default_state_dir()?)),
            (None, None) => Ok(None),
        }
    }
}

#[derive(Parser)]
pub(crate) struct TokensArgs {
    /// The JSON configuration file whose `mcpServers` and `openapi` APIs
    /// to measure.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
}

/// The configured connectors: upstream MCP servers and HTTP APIs, and the
/// secrets (the config's `${VAR}` values) no script may see.
pub(crate) struct Connectors {
    upstreams: Vec<(String, Arc<McpConnector>)>,
    apis: Vec<(String, Arc<OpenApiConnector>)>,
    directories: Vec<(String, Arc<FilesConnector>)>,
    secrets: Secrets,
}

impl Connectors {
    /// Start every configured upstream server at once, and set up every
    /// API (each description parsed once, here).
    pub(crate) async fn connect(config: &Config) -> Result<Self> {
        let secrets = config.secrets().clone();
        let mut apis = Vec::new();
        for (name, api) in &config.openapi {
            let connector = OpenApiConnector::load(name, api)
                .with_context(|| format!("setting up the `openapi` entry `{name}`"))?;
            apis.push((name.clone(), Arc::new(connector)));
        }
        let mut directories = Vec::new();
        for (name, entry) in &config.files {
            let connector = FilesConnector::from_config(entry)
                .with_context(|| format!("setting up the `files` entry `{name}`"))?;
            directories.push((name.clone(), Arc::new(connector)));
        }
        let timeouts = config.timeouts();
        let mut starting = tokio::task::JoinSet::new();
        for (index, (name, upstream)) in config.mcp_servers.iter().enumerate() {
            let (name, upstream, secrets) = (name.clone(), upstream.clone(), secrets.clone());
            starting.spawn(async move {
                let connected = McpConnector::connect(&name, upstream, timeouts, &secrets).await;
                (index, name, connected)
            });
        }
        let mut connected = Vec::new();
        while let Some(started) = starting.join_next().await {
            let (index, name, connector) = started.context("starting an upstream server")?;
            connected.push((index, name, Arc::new(connector?)));
        }
        connected.sort_by_key(|(index, _, _)| *index);
        let upstreams = connected
            .into_iter()
            .map(|(_, name, connector)| (name, connector))
            .collect();
        Ok(Self {
            upstreams,
            apis,
            directories,
            secrets,
        })
    }

    /// Every connector granted under its namespace, with the secrets
    /// redacted from what they hand a script: for `codemode run`.
    pub(crate) fn grants(&self) -> Result<Grants> {
        let mut grants = Grants::new().redact(self.secrets.clone());
        for (name, connector) in self.all() {
            grants = grants.grant(&name, connector)?;
        }
        Ok(grants)
    }

    /// Every connector under its namespace: upstream servers, then APIs.
    pub(crate) fn all(&self) -> Vec<(String, Arc<dyn Connector>)> {
        let upstreams = self
            .upstreams
            .iter()
            .map(|(name, c)| (name.clone(), Arc::clone(c) as Arc<dyn Connector>));
        let apis = self
            .apis
            .iter()
            .map(|(name, c)| (name.clone(), Arc::clone(c) as Arc<dyn Connector>));
        let directories = self
            .directories
            .iter()
            .map(|(name, c)| (name.clone(), Arc::clone(c) as Arc<dyn Connector>));
        upstreams.chain(apis).chain(directories).collect()
    }

    /// `name (N tools), ...` for the startup line.
    fn summary(&self) -> String {
        let upstreams = self
            .upstreams
            .iter()
            .map(|(name, c)| format!("{name} ({} tools)", c.tools().len()));
        let apis = self.apis.iter().map(|(name, c)| {
            format!(
                "{name} ({} operations at {})",
                c.methods().len() - 1,
                c.base_url()
            )
        });
        let directories = self
            .directories
            .iter()
            .map(|(name, c)| format!("{name} (files in {})", c.root().display()));
        let names: Vec<String> = upstreams.chain(apis).chain(directories).collect();
        if names.is_empty() {
            "none".to_owned()
        } else {
            names.join(", ")
        }
    }
}

/// How often `serve` looks for runs that an instance sharing its store
/// left unfinished when it died.
const RESUME_EVERY: Duration = Duration::from_secs(2);

/// Where a durable server keeps its runs, and how many waiting runs keep
/// their sandbox, for how long.
struct Durability<'a> {
    dir: &'a Path,
    waiting_stores: usize,
    keep_waiting: Duration,
}

/// The server over the configured connectors, once every undo in the
/// config is known to parse.
async fn build_server(
    config: &Config,
    state: Option<Durability<'_>>,
) -> Result<(CodeModeServer, Connectors)> {
    let runtime = Arc::new(Runtime::new().context("starting the sandbox runtime")?);
    config.check_undo(&runtime).await?;
    let connectors = Connectors::connect(config).await?;
    let mut options = ServerOptions::default()
        .limits(config.limits())
        .max_output_tokens(config.max_output_tokens())
        .redact(connectors.secrets.clone())
        .undo(config.undo().clone());
    if let Some(policy) = config.approvals() {
        options = options.approvals(policy.clone());
    }
    if let Some(state) = state {
        options = options
            .state(RunStore::at(state.dir)?)
            .waiting_stores(state.waiting_stores, state.keep_waiting);
    }
    let server = CodeModeServer::new(runtime, connectors.all(), options)?;
    Ok((server, connectors))
}

pub(crate) fn serve(args: ServeArgs) -> Result<ExitCode> {
    let config = Config::load_or_default(args.config.as_deref())?;
    crate::tokio_runtime()?.block_on(async {
        let state = args.state_dir(&config)?;
        let durability = state.as_deref().map(|dir| Durability {
            dir,
            waiting_stores: args.waiting_stores,
            keep_waiting: Duration::from_secs(args.keep_waiting),
        });
        let (server, connectors) = build_server(&config, durability).await?;
        release_freed_memory();
        eprintln!("codemode: {}", approvals_summary(config.approvals()));
        if let Some(dir) = &state {
            let resumed = server.resume_unfinished().map_err(anyhow::Error::msg)?;
            server.keep_resuming(RESUME_EVERY);
            stop_when_the_store_is_unusable(server.clone());
            eprintln!(
                "codemode: durable runs in {}; {resumed} unfinished run(s) resumed",
                codemode_runs::shown(dir)
            );
        }
        let names = connectors.summary();
        match args.http {
            None => {
                eprintln!("codemode: serving MCP on stdio; connectors: {names}");
                serve_stdio(server).await.context("serving on stdio")?;
            }
            Some(address) => {
                let access = access(&config, address, args.insecure_no_auth)?;
                let http = HttpServer::start(server, address, access)
                    .await
                    .with_context(|| format!("binding {address}"))?;
                eprintln!(
                    "codemode: serving MCP at http://{}/mcp; connectors: {names}",
                    http.address()
                );
                tokio::select! {
                    served = http.wait() => served.context("serving HTTP")?,
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Exit (status 1) once the store may no longer be written (a PostgreSQL
/// store that lost the connection holding its run locks): its runs may be
/// another instance's now, and a supervisor starts this one again.
fn stop_when_the_store_is_unusable(server: CodeModeServer) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(RESUME_EVERY).await;
            if let Some(why) = server.unusable_store() {
                eprintln!("codemode: stopping: {why}");
                std::process::exit(1);
            }
        }
    });
}

/// Who may use the server at `address`: the config's tokens; without any,
/// everyone, which `codemode serve` allows on loopback only unless told
/// `--insecure-no-auth`. Says which, on stderr.
fn access(config: &Config, address: SocketAddr, insecure_no_auth: bool) -> Result<Access> {
    let tokens = config.tokens();
    if tokens.is_empty() {
        if !address.ip().is_loopback() && !insecure_no_auth {
            anyhow::bail!(
                "refusing to serve {address} without authentication: anyone who could reach it would run code with this host's credentials; configure bearer tokens (`codemode.tokens`), bind a loopback address (127.0.0.1), or pass --insecure-no-auth"
            );
        }
        let warning = if address.ip().is_loopback() {
            "on loopback only"
        } else {
            "--insecure-no-auth: anyone who can reach it runs code with this host's credentials"
        };
        eprintln!(
            "codemode: no tokens (codemode.tokens): serving without authentication, {warning}"
        );
        return Ok(Access::open());
    }
    let access = Access::tokens(
        tokens
            .iter()
            .map(|(name, token)| (name.as_str(), token.role, token.token.as_str())),
    )
    .context("in `codemode.tokens`")?;
    let mut roles: BTreeMap<Role, usize> = BTreeMap::new();
    for token in tokens.values() {
        *roles.entry(token.role).or_default() += 1;
    }
    let roles: Vec<String> = roles
        .iter()
        .map(|(role, count)| format!("{count} {}", role.as_str()))
        .collect();
    eprintln!(
        "codemode: bearer tokens required ({}); `/mcp` takes agents, the console reviewers",
        roles.join(", ")
    );
    Ok(access)
}

/// The startup line about approvals: the policy in brief, or that there
/// is none.
fn approvals_summary(policy: Option<&Policy>) -> String {
    let Some(policy) = policy else {
        return "no approvals configured (codemode.approvals): every call goes through ungated"
            .to_owned();
    };
    let rules = match policy.rules().len() {
        1 => "1 rule".to_owned(),
        n => format!("{n} rules"),
    };
    format!(
        "approvals: {rules}, default {}, timeout {}",
        policy.default_action(),
        brief_duration(policy.timeout())
    )
}

/// `24h`, `90min`, `30s` or `1500ms`: the largest unit that divides it.
fn brief_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    match ms {
        0 => "0ms".to_owned(),
        _ if ms.is_multiple_of(3_600_000) => format!("{}h", ms / 3_600_000),
        _ if ms.is_multiple_of(60_000) => format!("{}min", ms / 60_000),
        _ if ms.is_multiple_of(1_000) => format!("{}s", ms / 1_000),
        _ => format!("{ms}ms"),
    }
}

/// Hand the allocator's free pages back to the system. Setting up an API
/// parses its whole description (GitHub's is 50 MB as `serde_json` values)
/// and keeps a tenth of it: glibc's malloc keeps the rest resident, in
/// pages that the kept allocations are scattered across, until asked to
/// let go of every free page, not only those at the top of its heaps.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_freed_memory() {
    // SAFETY: `malloc_trim` takes no pointer and frees nothing in use; it
    // only returns unused pages of malloc's heaps to the kernel.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators return free memory on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_freed_memory() {}

pub(crate) fn tokens(args: TokensArgs) -> Result<ExitCode> {
    let config = Config::load(&args.config)?;
    crate::tokio_runtime()?.block_on(async {
        let (server, connectors) = build_server(&config, None).await?;
        let counter = TokenCounter::o200k();
        let upstreams = connectors.upstreams.iter().map(|(name, c)| {
            (
                name.clone(),
                c.tools().len(),
                tool_list_tokens(&counter, c.tools()),
            )
        });
        let apis = connectors.apis.iter().map(|(name, c)| {
            let tools = c.description().as_mcp_tools();
            (
                format!("{name} (as one tool per operation)"),
                tools.len(),
                tool_list_tokens(&counter, &tools),
            )
        });
        let mut rows: Vec<(String, usize, usize)> = upstreams.chain(apis).collect();
        let total = rows
            .iter()
            .fold((0, 0), |(t, k), (_, tools, tokens)| (t + tools, k + tokens));
        rows.push(("all of them".into(), total.0, total.1));
        rows.push((
            "codemode (search + execute)".into(),
            server.tools().len(),
            tool_list_tokens(&counter, server.tools()),
        ));
        let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(6);
        println!("{:<width$}  {:>6}  {:>9}", "server", "tools", "tokens");
        for (name, tools, tokens) in &rows {
            println!("{name:<width$}  {tools:>6}  {tokens:>9}");
        }
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use codemode_runtime::Policy;

    use super::{approvals_summary, brief_duration};

    #[test]
    fn durations_are_told_in_their_largest_whole_unit() {
        let brief = |ms| brief_duration(Duration::from_millis(ms));
        assert_eq!(brief(86_400_000), "24h");
        assert_eq!(brief(5_400_000), "90min");
        assert_eq!(brief(30_000), "30s");
        assert_eq!(brief(1_500), "1500ms");
        assert_eq!(brief(0), "0ms");
    }

    #[test]
    fn the_approvals_line_tells_the_policy_in_brief() {
        let policy: Policy = serde_json::from_str(
            r#"{"default": "deny", "timeoutMs": 60000, "rules": [{"match": "a.*", "action": "allow"}]}"#,
        )
        .expect("a policy");
        assert_eq!(
            approvals_summary(Some(&policy)),
            "approvals: 1 rule, default deny, timeout 1min"
        );
        assert!(approvals_summary(None).contains("every call goes through ungated"));
    }
}
