//! The `codemode` command line: `codemode run` executes a script in a fresh
//! sandbox and reports its outcome; `codemode serve` is the Code Mode MCP
//! server in front of upstream MCP servers; `codemode tokens` compares its
//! tool list with theirs; `codemode types` prints the typed API an agent
//! would see.
//!
//! Exit status: 0 success; 1 the script failed (syntax error, uncaught
//! exception, rejected promise); 2 usage or configuration error; 3 a limit
//! stopped it (timeout, fuel, memory, output, calls, stack).

mod config;
mod serve;
mod types;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use codemode_runtime::{Execution, Language, LogLevel, Outcome, Runtime};

use crate::config::Config;

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
    /// Serve the Code Mode MCP server (tools `search` and `execute`) in
    /// front of the configured upstream MCP servers.
    Serve(serve::ServeArgs),
    /// Count the tokens of this server's tool list beside the upstream
    /// servers' own.
    Tokens(serve::TokensArgs),
    /// Print the typed API of OpenAPI descriptions, as an agent sees it.
    Types(types::TypesArgs),
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
    /// become namespaces, and flags override its limits.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
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

/// Exit statuses.
const EXIT_SCRIPT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_LIMIT: u8 = 3;

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
        Command::Serve(args) => serve::serve(args),
        Command::Tokens(args) => serve::tokens(args),
        Command::Types(args) => types::types(args),
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

    let runtime = Runtime::new().context("starting the sandbox runtime")?;
    let language = match args.lang.unwrap_or_else(|| Lang::of_file(&args.file)) {
        Lang::Ts => Language::TypeScript,
        Lang::Js => Language::JavaScript,
    };
    // TODO(gate): Execution::policy, with `config.approvals()`.
    let mut execution = Execution::new(code).language(language).limits(limits);
    if !args.json {
        execution = execution.on_log(|entry| print_log(entry.level, &entry.text));
    }
    let outcome = tokio_runtime()?.block_on(async {
        config.check_undo(&runtime).await?;
        let grants = serve::Connectors::connect(&config).await?.grants()?;
        anyhow::Ok(runtime.execute(execution.grants(Arc::new(grants))).await?)
    })?;

    if args.json {
        println!("{}", serde_json::to_string(&outcome)?);
    } else {
        print_outcome(&outcome);
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

/// Console lines go to stdout as they happen; warnings and errors to stderr.
fn print_log(level: LogLevel, text: &str) {
    match level {
        LogLevel::Warn | LogLevel::Error => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{text}");
        }
        _ => {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }
}

fn print_outcome(outcome: &Outcome) {
    if let Some(result) = &outcome.result {
        let text = serde_json::to_string_pretty(result).unwrap_or_else(|_| result.to_string());
        println!("{text}");
    }
    if let Some(error) = &outcome.error {
        let position = match (error.line, error.column) {
            (Some(line), Some(column)) => format!(" at line {line}, column {column}"),
            (Some(line), None) => format!(" at line {line}"),
            _ => String::new(),
        };
        eprintln!(
            "{} error{position}: {}: {}",
            kind_name(outcome),
            error.name,
            error.message
        );
    }
}

fn kind_name(outcome: &Outcome) -> String {
    outcome
        .error_kind()
        .and_then(|kind| serde_json::to_value(kind).ok())
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn exit_status(outcome: &Outcome) -> u8 {
    match outcome.error_kind() {
        None => 0,
        Some(kind) if kind.is_limit() => EXIT_LIMIT,
        Some(_) => EXIT_SCRIPT_FAILED,
    }
}
