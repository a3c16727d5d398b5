//! `codemode component cli|http --out FILE`: write the sandbox as a
//! portable component, for hosts other than ours (`wasmtime run`,
//! `wasmtime serve`, Spin, jco); `--wiring` prints which instance inside it
//! feeds each instance's imports, to check that the interpreter reaches
//! only the host component.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};

#[derive(Parser)]
pub(crate) struct ComponentArgs {
    /// `cli` (exports `wasi:cli/run`: the script on standard input) or
    /// `http` (exports `wasi:http/incoming-handler`: `POST /execute`).
    #[arg(value_enum)]
    kind: Kind,
    /// Where to write it.
    #[arg(long, value_name = "FILE", required_unless_present = "wiring")]
    out: Option<PathBuf>,
    /// Print the composition's wiring: each instance inside it, and where
    /// each of its imports comes from.
    #[arg(long)]
    wiring: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Kind {
    Cli,
    Http,
}

pub(crate) fn component(args: ComponentArgs) -> Result<ExitCode> {
    let bytes = match args.kind {
        Kind::Cli => codemode_components::CLI,
        Kind::Http => codemode_components::HTTP,
    };
    if let Some(out) = &args.out {
        std::fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))?;
        eprintln!("codemode: wrote {} ({} bytes)", out.display(), bytes.len());
    }
    if args.wiring {
        for instance in codemode_components::wiring(bytes)? {
            println!("{}", instance.name);
            for argument in instance.arguments {
                println!("  {} <- {}", argument.import, argument.source);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
