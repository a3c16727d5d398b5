//! `codemode types`: the typed API an agent sees, rendered from OpenAPI
//! descriptions as TypeScript declarations, a JSON listing or a compact
//! markdown summary, optionally filtered.

use std::path::Path;
use std::process::ExitCode;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use clap::Parser;
use codemode_typescript::catalog::{Catalog, Format};
use codemode_typescript::names::{is_identifier, sanitize};
use codemode_typescript::openapi::Spec;

#[derive(Parser)]
pub(crate) struct TypesArgs {
    /// An OpenAPI 3.0 or 3.1 description (JSON or YAML), as `NAME=PATH` to
    /// name its namespace, or `PATH` to name it after the file. Repeatable.
    #[arg(long, value_name = "[NAME=]SPEC", required = true)]
    openapi: Vec<String>,
    /// `typescript`, `json` or `summary`.
    #[arg(long, default_value = "typescript", value_parser = Format::from_str)]
    format: Format,
    /// Only methods whose name, description, path or tags contain this text
    /// (case-insensitive).
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
}

pub(crate) fn types(args: TypesArgs) -> Result<ExitCode> {
    let mut catalog = Catalog::new();
    for entry in &args.openapi {
        let (namespace, path) = namespace_and_path(entry)?;
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the OpenAPI description `{path}`"))?;
        let spec = Spec::parse(&text).with_context(|| format!("in `{path}`"))?;
        catalog.add_openapi(&namespace, spec);
    }
    print!("{}", catalog.render(args.format, args.filter.as_deref()));
    Ok(ExitCode::SUCCESS)
}

/// `github=api.json` → (`github`, `api.json`); `api.github.com.json` →
/// (`api_github_com`, the path).
fn namespace_and_path(entry: &str) -> Result<(String, &str)> {
    if let Some((name, path)) = entry.split_once('=')
        && !name.contains(['/', '\\'])
    {
        if !is_identifier(name) {
            bail!("`--openapi {entry}`: the namespace `{name}` must be a JavaScript identifier");
        }
        return Ok((name.to_owned(), path));
    }
    let stem = Path::new(entry)
        .file_name()
        .and_then(|name| name.to_str())
        .map(|name| {
            let without = [".json", ".yaml", ".yml"]
                .iter()
                .find_map(|extension| name.strip_suffix(extension));
            without.unwrap_or(name)
        })
        .unwrap_or(entry);
    Ok((sanitize(stem), entry))
}

#[cfg(test)]
mod tests {
    use super::namespace_and_path;

    #[test]
    fn namespaces_come_from_the_entry_or_the_file_name() -> anyhow::Result<()> {
        assert_eq!(
            namespace_and_path("github=a/b.json")?,
            ("github".into(), "a/b.json")
        );
        assert_eq!(
            namespace_and_path("specs/api.github.com.json")?,
            ("api_github_com".into(), "specs/api.github.com.json")
        );
        assert_eq!(
            namespace_and_path("pets.yaml")?,
            ("pets".into(), "pets.yaml")
        );
        assert!(namespace_and_path("not-ok=x.json").is_err());
        Ok(())
    }
}
