//! `codemode types`: the typed API an agent sees, rendered from OpenAPI
//! descriptions (given on the command line or as the config file's `openapi`
//! entries) as TypeScript declarations, a JSON listing or a compact markdown
//! summary: all of it, or what `codemode.search` finds for a query. It is
//! the runtime's one catalog, the one scripts search and `serve` lists.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Parser;
use codemode_openapi::{OpenApiDescription, Spec};
use codemode_runtime::{CatalogFormat, Grants};
use codemode_typescript::names::{is_identifier, sanitize};

use crate::config::Config;

#[derive(Parser)]
pub(crate) struct TypesArgs {
    /// An OpenAPI 3.0 or 3.1 description (JSON or YAML), as `NAME=PATH` to
    /// name its namespace, or `PATH` to name it after the file. Repeatable.
    #[arg(long, value_name = "[NAME=]SPEC", required_unless_present = "config")]
    openapi: Vec<String>,
    /// A configuration file whose `openapi` entries are rendered too.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// `typescript`, `json` or `summary`.
    #[arg(long, default_value = "typescript", value_parser = CatalogFormat::from_str)]
    format: CatalogFormat,
    /// Only the methods `codemode.search` finds for this query, best first.
    #[arg(long, value_name = "QUERY")]
    filter: Option<String>,
    /// With `--filter`, how many methods at most (up to 50).
    #[arg(long, default_value_t = 20, value_name = "N")]
    limit: usize,
}

pub(crate) fn types(args: TypesArgs) -> Result<ExitCode> {
    let mut descriptions = Vec::new();
    if let Some(path) = &args.config {
        for (namespace, entry) in Config::load(path)?.openapi {
            if !is_identifier(&namespace) {
                bail!(
                    "in the config file `{}`: the `openapi` entry `{namespace}` must be named with a JavaScript identifier",
                    path.display()
                );
            }
            descriptions.push((namespace, entry.spec));
        }
    }
    for entry in &args.openapi {
        let (namespace, path) = namespace_and_path(entry)?;
        descriptions.push((namespace, PathBuf::from(path)));
    }
    let mut grants = Grants::new();
    for (namespace, path) in descriptions {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the OpenAPI description `{}`", path.display()))?;
        let spec = Spec::parse(&text).with_context(|| format!("in `{}`", path.display()))?;
        let description = OpenApiDescription::new(&namespace, spec);
        grants = grants
            .grant(&namespace, Arc::new(description))
            .with_context(|| format!("the namespace of `{}`", path.display()))?;
    }
    print!(
        "{}",
        grants.render(args.format, args.filter.as_deref(), args.limit)
    );
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
