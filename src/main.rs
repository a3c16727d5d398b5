//! The `codemode` command; everything it does lives in `codemode-cli`.

fn main() -> std::process::ExitCode {
    codemode_cli::main()
}
