//! `wasi:cli/run`: the CLI component. The script comes on standard input;
//! the arguments are `codemode run`'s that make sense without a host:
//! `--json`, `--lang ts|js`, `--timeout-ms N`, `--memory-mib N`. It prints
//! what `codemode run` prints: console lines as they are written, then the
//! result (pretty JSON) or the error with its code frame; with `--json`,
//! one JSON object.
//!
//! Exit status: `codemode run`'s. 0 success; 1 the script failed; 2 a
//! usage error; 3 a limit stopped it. Given with WASI 0.2.12's
//! `exit-with-code` (wasmtime 48 and jco's preview2-shim have it).

use std::io::{Read, Write};
use std::time::Duration;

use codemode_outcome::{EXIT_USAGE, Limits, exit_status, plain_error, plain_result};
use wasip2::exports::cli::run::Guest;

use crate::{Language, execute};

struct Cli;

wasip2::cli::command::export!(Cli);

/// What the arguments ask for.
struct Options {
    json: bool,
    language: Language,
    limits: Limits,
}

impl Guest for Cli {
    fn run() -> Result<(), ()> {
        let ran = options().and_then(|options| {
            let code = read_code(options.limits.code_bytes)?;
            let outcome = execute(
                code.clone(),
                options.language,
                &options.limits,
                !options.json,
            )?;
            if options.json {
                let json = serde_json::to_string(&outcome).map_err(|error| error.to_string())?;
                println!("{json}");
            } else {
                if let Some(result) = plain_result(&outcome) {
                    println!("{result}");
                }
                if let Some(error) = plain_error(&outcome, Some(&code)) {
                    eprintln!("{error}");
                }
            }
            Ok(exit_status(&outcome))
        });
        let status = ran.unwrap_or_else(|error| {
            eprintln!("error: {error}");
            EXIT_USAGE
        });
        if status == 0 {
            return Ok(());
        }
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        wasip2::cli::exit::exit_with_code(status);
        Err(())
    }
}

const USAGE: &str =
    "usage: <host> sandbox.wasm [--json] [--lang ts|js] [--timeout-ms N] [--memory-mib N] < script";

/// The options the arguments give (the first argument is the program's
/// name).
fn options() -> Result<Options, String> {
    let mut options = Options {
        json: false,
        language: Language::TypeScript,
        limits: Limits::default(),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("`{name}` needs a value; {USAGE}"))
        };
        match arg.as_str() {
            "--json" => options.json = true,
            "--lang" => {
                let name = value("--lang")?;
                options.language = Language::named(&name)
                    .ok_or_else(|| format!("`--lang {name}`: the language is `ts` or `js`"))?;
            }
            "--timeout-ms" => {
                options.limits.timeout =
                    Duration::from_millis(number("--timeout-ms", &value("--timeout-ms")?)?);
            }
            "--memory-mib" => {
                let mib = number("--memory-mib", &value("--memory-mib")?)?;
                options.limits.memory_bytes = mib
                    .checked_mul(1 << 20)
                    .ok_or("`--memory-mib` is too large")?;
            }
            "-" => {}
            other => return Err(format!("unexpected argument `{other}`; {USAGE}")),
        }
    }
    Ok(options)
}

fn number(name: &str, text: &str) -> Result<u64, String> {
    text.parse()
        .map_err(|_| format!("`{name} {text}`: the value must be a whole number"))
}

/// The script on standard input, refused unread past `limit` bytes.
fn read_code(limit: usize) -> Result<String, String> {
    let mut code = String::new();
    std::io::stdin()
        .take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_string(&mut code)
        .map_err(|error| format!("reading the script on standard input: {error}"))?;
    if code.len() > limit {
        return Err(format!(
            "the script on standard input is longer than the limit of {limit} bytes"
        ));
    }
    Ok(code)
}
