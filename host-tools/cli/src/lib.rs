//! The `codemode` command line: `codemode run` executes a script in a fresh
//! sandbox and reports its outcome, durably with `--state`; `codemode runs`
//! lists durable runs, shows their journals, and approves or rejects the
//! calls they wait on; `codemode serve` is the Code Mode MCP server in
//! front of upstream MCP servers; `codemode tokens` compares its tool list
//! with theirs; `codemode types` prints the typed API an agent would see;
//! `codemode component` writes the sandbox as a portable component.
//!
//! Exit status: 0 success; 1 the script failed (syntax error, uncaught
//! exception, rejected promise, a call rejected or denied and not caught);
//! 2 usage or configuration error; 3 a limit stopped it (timeout, fuel,
//! memory, output, calls, stack).

mod component;
mod config;
mod prompt;
mod runs;
mod serve;
mod types;

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use codemode_outcome::{EXIT_USAGE, exit_status, print_log};
use codemode_runs::{DurableRuns, RunStore};
use codemode_runtime::{Approver, Execution, Grants, Language, Limits, Outcome, Policy, Runtime};

use crate::config::Config;
use crate::prompt::{Announcing, NoTerminal, TerminalApprover};

/// Code Mode runtime: run agent-written JavaScript in a fresh WebAssembly
/// sandbox.
#[derive(Parser)]
#[command(name = "codemode", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a script (a file, or `-` for standard input) in a fresh sandbox.
    Run(RunArgs),
    /// The durable runs of a state directory: list them, show one's
    /// journal, approve or reject the calls they wait on.
    Runs(runs::RunsArgs),
    /// Serve the Code Mode MCP server (tools `search` and `execute`) in
    /// front of the configured upstream MCP servers.
    Serve(serve::ServeArgs),
    /// Count the tokens of this server's tool list beside the upstream
    /// servers' own.
    Tokens(serve::TokensArgs),
    /// Print the typed API of OpenAPI descriptions, as an agent sees it.
    Types(types::TypesArgs),
    /// Write the sandbox as a portable component (`cli` for `wasmtime
    /// run` and jco, `http` for `wasmtime serve` and Spin).
    Component(component::ComponentArgs),
}

#[derive(Parser)]
struct RunArgs {
    /// The script: a path, or `-` for standard input.
    #[arg(default_value = "-")]
    file: String,
    /// The script's language. Default: `js` for `.js`, `.mjs` and `.cjs`
    /// files, else `ts` (TypeScript, which includes plain JavaScript).
    #[arg(long, value_enum, value_name = "LANG")]
    lang: Option<Lang>,
    /// Print exactly one JSON object: ok, result, logs, error, stats.
    #[arg(long)]
    json: bool,
    /// Wall-clock deadline, in milliseconds.
    #[arg(long, value_name = "N")]
    timeout_ms: Option<u64>,
    /// Fuel (about one unit per WebAssembly instruction).
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// Memory cap, in MiB.
    #[arg(long, value_name = "N")]
    memory_mib: Option<u64>,
    /// A JSON configuration file: its `mcpServers` and `openapi` APIs
    /// become namespaces, its `codemode.approvals` gate their calls, and
    /// flags override its limits. A gated call is asked about on the
    /// terminal (`Approve memory.delete_entities({…})? [y/N]`) when
    /// standard input and standard error are terminals and the script is a
    /// file; otherwise it is rejected ("no terminal to ask on"), unless the
    /// run is durable.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Make the run durable, journaled in `DIR/runs.sqlite3`: its id goes
    /// to standard error (`codemode: run r_… (durable, in DIR)`), and a
    /// gated call waits until it is decided, on the terminal if there is
    /// one, or from another shell with `codemode runs approve` (standard
    /// error says how). Console lines are printed when the run ends.
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
}

/// `--lang`.
#[derive(Clone, Copy, ValueEnum)]
enum Lang {
    /// TypeScript: types are blanked out inside the sandbox before running.
    Ts,
    /// JavaScript, run as written.
    Js,
}

impl Lang {
    /// The language of `file` when `--lang` is not given.
    fn of_file(file: &str) -> Self {
        let javascript = [".js", ".mjs", ".cjs"]
            .iter()
            .any(|extension| file.ends_with(extension));
        if javascript { Lang::Js } else { Lang::Ts }
    }
}

/// Run the command line and return its exit status.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    let ran = match cli.command {
        Command::Run(args) => run(args),
        Command::Runs(args) => runs::runs(args),
        Command::Serve(args) => serve::serve(args),
        Command::Tokens(args) => serve::tokens(args),
        Command::Types(args) => types::types(args),
        Command::Component(args) => component::component(args),
    };
    ran.unwrap_or_else(|error| {
        eprintln!("error: {error:#}");
        ExitCode::from(EXIT_USAGE)
    })
}

fn run(args: RunArgs) -> Result<ExitCode> {
    let config = Config::load_or_default(args.config.as_deref())?;
    let mut limits = config.limits();
    if let Some(ms) = args.timeout_ms {
        limits.timeout = Duration::from_millis(ms);
    }
    if let Some(fuel) = args.fuel {
        limits.fuel = fuel;
    }
    if let Some(mib) = args.memory_mib {
        limits.memory_bytes = mib
            .checked_mul(1 << 20)
            .context("--memory-mib is too large")?;
    }
    let code = read_code(&args.file, limits.code_bytes)?;

    let runtime = Arc::new(Runtime::new().context("starting the sandbox runtime")?);
    let language = match args.lang.unwrap_or_else(|| Lang::of_file(&args.file)) {
        Lang::Ts => Language::TypeScript,
        Lang::Js => Language::JavaScript,
    };
    let policy = config.approvals().map(|policy| Arc::new(policy.clone()));
    let terminal = TerminalApprover::if_terminal(&args.file).map(Arc::new);
    let outcome = tokio_runtime()?.block_on(async {
        config.check_undo(&runtime).await?;
        let grants = Arc::new(serve::Connectors::connect(&config).await?.grants()?);
        let Some(state) = &args.state else {
            let asking: Arc<dyn Approver> = match terminal {
                Some(terminal) => terminal,
                None => Arc::new(NoTerminal),
            };
            let mut execution = Execution::new(code.clone())
                .language(language)
                .limits(limits)
                .grants(grants)
                .approver(asking);
            if let Some(policy) = policy {
                execution = execution.policy(policy);
            }
            if !args.json {
                execution = execution.on_log(|entry| print_log(entry.level, &entry.text));
            }
            return anyhow::Ok(runtime.execute(execution).await?);
        };
        let durable = Durable {
            state,
            runtime,
            grants,
            limits,
            policy,
            stream_logs: !args.json,
        };
        durable.run(&code, language, terminal).await
    })?;

    if args.json {
        println!("{}", serde_json::to_string(&outcome)?);
    } else {
        print_outcome(&outcome, Some(&code));
    }
    Ok(ExitCode::from(exit_status(&outcome)))
}

/// What `codemode run --state` runs a script with.
struct Durable<'a> {
    state: &'a std::path::Path,
    runtime: Arc<Runtime>,
    grants: Arc<Grants>,
    limits: Limits,
    policy: Option<Arc<Policy>>,
    /// Print console lines as they are written.
    stream_logs: bool,
}

impl Durable<'_> {
    /// Record a run of `code` in the state directory, say its id, and run
    /// it to its end, asking `terminal` about its gated calls if there is
    /// one.
    async fn run(
        self,
        code: &str,
        language: Language,
        terminal: Option<Arc<TerminalApprover>>,
    ) -> Result<Outcome> {
        let state = self.state;
        let (runs, asking) = self.runs(terminal)?;
        let new = runs.create(code, language);
        eprintln!(
            "codemode: run {} (durable, in {})",
            new.id(),
            codemode_runs::shown(state)
        );
        Ok(runs.start(new, Some(asking)).await?)
    }

    /// Resume run `id`, left unfinished, to its end from its journal,
    /// asking `terminal` about its gated calls if there is one.
    async fn resume(self, id: &str, terminal: Option<Arc<TerminalApprover>>) -> Result<Outcome> {
        let state = self.state;
        let (runs, asking) = self.runs(terminal)?;
        eprintln!(
            "codemode: resuming run {id} (durable, in {})",
            codemode_runs::shown(state)
        );
        Ok(runs.run(id, Some(asking)).await?)
    }

    fn runs(
        self,
        terminal: Option<Arc<TerminalApprover>>,
    ) -> Result<(DurableRuns, Arc<dyn Approver>)> {
        let store = RunStore::at(self.state)?;
        let mut runs = DurableRuns::new(store, self.runtime, self.grants, self.limits, "run")
            .policy(self.policy);
        if self.stream_logs {
            runs = runs.on_log(|entry| print_log(entry.level, &entry.text));
        }
        Ok((runs, Arc::new(Announcing::new(self.state, terminal))))
    }
}

/// `codemode runs resume`: run `id` of the state directory `state`, left
/// unfinished by a process that died, to its end with the connectors of
/// `config`, printed as `run` prints.
pub(crate) fn resume(
    state: &std::path::Path,
    id: &str,
    config: &std::path::Path,
    json: bool,
) -> Result<ExitCode> {
    let config = Config::load(config)?;
    let runtime = Arc::new(Runtime::new().context("starting the sandbox runtime")?);
    let terminal = TerminalApprover::if_terminal("").map(Arc::new);
    let outcome = tokio_runtime()?.block_on(async {
        let grants = Arc::new(serve::Connectors::connect(&config).await?.grants()?);
        let durable = Durable {
            state,
            runtime,
            grants,
            limits: config.limits(),
            policy: config.approvals().map(|policy| Arc::new(policy.clone())),
            stream_logs: !json,
        };
        durable.resume(id, terminal).await
    })?;
    if json {
        println!("{}", serde_json::to_string(&outcome)?);
    } else {
        // The script, for the frame of an error.
        let code = RunStore::at(state).and_then(|store| store.load(id)).ok();
        print_outcome(&outcome, code.as_ref().map(|run| run.code.as_str()));
    }
    Ok(ExitCode::from(exit_status(&outcome)))
}

/// The async runtime the commands run on.
fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// The script in `file` (`-` for standard input), refused unread past
/// `limit` bytes.
fn read_code(file: &str, limit: usize) -> Result<String> {
    let (source, what): (Box<dyn Read>, String) = if file == "-" {
        (
            Box::new(std::io::stdin()),
            "the script on standard input".into(),
        )
    } else {
        let opened =
            std::fs::File::open(file).with_context(|| format!("reading the script `{file}`"))?;
        (Box::new(opened), format!("the script `{file}`"))
    };
    let mut code = String::new();
    source
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_string(&mut code)
        .with_context(|| format!("reading {what}"))?;
    if code.len() > limit {
        bail!(
            "{what} is longer than the limit of {limit} bytes (`codeBytes` in the config's `limits`)"
        );
    }
    Ok(code)
}

/// Print the result or the error of `outcome`, a run of `code` when it is
/// known.
fn print_outcome(outcome: &Outcome, code: Option<&str>) {
    if let Some(result) = codemode_outcome::plain_result(outcome) {
        println!("{result}");
    }
    if let Some(error) = codemode_outcome::plain_error(outcome, code) {
        eprintln!("{error}");
    }
}
