//! The operations, each through the root's [`Dir`] and bounded by its
//! input and the caps. Errors name the path as the script wrote it, with a
//! code a script can branch on (`not-found`, `outside-root`, `exists`,
//! `hard-links`, `not-a-file`, `too-large`, `not-utf8`, `bad-arguments`, `io`), and never
//! a path of the host's.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cap_std::fs::{Dir, File, FileType, Metadata, MetadataExt, OpenOptions, OpenOptionsExt};
use codemode_runtime::ConnectorError;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::Caps;

/// What an operation answered, and how many bytes it wrote.
pub(crate) struct Done {
    pub(crate) reply: Value,
    pub(crate) written: u64,
}

/// The longest path accepted, in bytes.
const MAX_PATH_BYTES: usize = 4096;

/// Run `method` with `args` in `root`, writing at most `budget` bytes.
pub(crate) fn run(
    root: &Dir,
    caps: &Caps,
    method: &str,
    args: Value,
    budget: u64,
) -> Result<Done, ConnectorError> {
    let read = |reply| Ok(Done { reply, written: 0 });
    match method {
        "read" => read(read_file(root, caps, parse(method, args)?)?),
        "write" => write_file(root, parse(method, args)?, budget),
        "append" => append_file(root, parse(method, args)?, budget),
        "list" => read(list(root, caps, parse(method, args)?)?),
        "stat" => read(stat(root, parse::<PathArgs>(method, args)?.path)?),
        "mkdir" => read(mkdir(root, parse(method, args)?)?),
        "remove" => read(remove(root, parse(method, args)?)?),
        "move" => read(move_path(root, parse(method, args)?)?),
        other => Err(ConnectorError::with_code(
            "unknown-method",
            format!("there is no method `{other}`"),
        )),
    }
}

fn parse<T: DeserializeOwned>(method: &str, args: Value) -> Result<T, ConnectorError> {
    serde_json::from_value(args).map_err(|error| bad(format!("`{method}`: {error}")))
}

fn bad(message: String) -> ConnectorError {
    ConnectorError::with_code("bad-arguments", message)
}

#[derive(Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Encoding {
    #[default]
    Utf8,
    Base64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PathArgs {
    path: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadArgs {
    path: String,
    #[serde(default)]
    encoding: Encoding,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct WriteArgs {
    path: String,
    content: String,
    #[serde(default)]
    encoding: Encoding,
    #[serde(default)]
    create_dirs: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendArgs {
    path: String,
    content: String,
    #[serde(default)]
    encoding: Encoding,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListArgs {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    recursive: bool,
    #[serde(default)]
    glob: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeArgs {
    path: String,
    #[serde(default)]
    recursive: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MoveArgs {
    from: String,
    to: String,
}

/// `path` as a path relative to the root, refused when it cannot be one.
fn relative(path: &str) -> Result<&Path, ConnectorError> {
    if path.contains('\0') {
        return Err(bad(format!("the path {path:?} contains a NUL byte")));
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(bad(format!(
            "the path is {} bytes; the longest is {MAX_PATH_BYTES}",
            path.len()
        )));
    }
    if path.starts_with('/') {
        return Err(ConnectorError::with_code(
            "outside-root",
            format!("`{path}` is absolute: paths are relative to the directory"),
        ));
    }
    Ok(Path::new(if path.is_empty() { "." } else { path }))
}

/// An I/O error on `path`, in the script's terms.
fn failed(path: &str, error: &std::io::Error) -> ConnectorError {
    use std::io::ErrorKind;
    let text = error.to_string();
    if text.contains("outside of the filesystem") || text.contains("outside the filesystem") {
        return ConnectorError::with_code(
            "outside-root",
            format!("`{path}` leads outside the directory (through `..` or a symlink)"),
        );
    }
    let (code, what) = match error.kind() {
        ErrorKind::NotFound => ("not-found", "no such file or directory".to_owned()),
        ErrorKind::AlreadyExists => ("exists", "it already exists".to_owned()),
        ErrorKind::PermissionDenied => ("permission-denied", "permission denied".to_owned()),
        ErrorKind::IsADirectory => ("is-a-directory", "it is a directory".to_owned()),
        ErrorKind::NotADirectory => (
            "not-a-directory",
            "a part of it is not a directory".to_owned(),
        ),
        ErrorKind::DirectoryNotEmpty => (
            "not-empty",
            "the directory is not empty: pass `recursive: true`".to_owned(),
        ),
        ErrorKind::InvalidFilename => (
            "bad-arguments",
            "the name is too long or not valid here".to_owned(),
        ),
        _ => ("io", text),
    };
    ConnectorError::with_code(code, format!("`{path}`: {what}"))
}

/// The content's bytes.
fn bytes(content: String, encoding: Encoding) -> Result<Vec<u8>, ConnectorError> {
    match encoding {
        Encoding::Utf8 => Ok(content.into_bytes()),
        Encoding::Base64 => STANDARD
            .decode(content.as_bytes())
            .map_err(|error| bad(format!("`content` is not base64: {error}"))),
    }
}

/// Refuse what is not a plain file: a FIFO, socket or device (reading or
/// writing one could block a thread for good), or a file with other hard
/// links (one could be a link to a file outside the root).
fn plain_file(path: &str, metadata: &Metadata) -> Result<(), ConnectorError> {
    if !metadata.is_file() {
        return Err(ConnectorError::with_code(
            "not-a-file",
            format!("`{path}` is not a regular file (a FIFO, socket or device)"),
        ));
    }
    if metadata.nlink() > 1 {
        return Err(ConnectorError::with_code(
            "hard-links",
            format!(
                "`{path}` has {} hard links; files with more than one are refused",
                metadata.nlink()
            ),
        ));
    }
    Ok(())
}

/// Options that open a file without waiting: a FIFO with no writer (or
/// reader) fails or opens at once instead of blocking; regular files are
/// read and written as ever.
fn without_waiting(options: &mut OpenOptions) -> &mut OpenOptions {
    options.custom_flags(libc::O_NONBLOCK)
}

fn read_file(root: &Dir, caps: &Caps, args: ReadArgs) -> Result<Value, ConnectorError> {
    let path = &args.path;
    let mut file = root
        .open_with(
            relative(path)?,
            without_waiting(OpenOptions::new().read(true)),
        )
        .map_err(|e| failed(path, &e))?;
    let metadata = file.metadata().map_err(|e| failed(path, &e))?;
    if metadata.is_dir() {
        return Err(ConnectorError::with_code(
            "is-a-directory",
            format!("`{path}` is a directory: `list` it"),
        ));
    }
    plain_file(path, &metadata)?;
    let too_large = || {
        ConnectorError::with_code(
            "too-large",
            format!(
                "`{path}` is larger than the limit of {} bytes a read may return (`readBytes`)",
                caps.read_bytes
            ),
        )
    };
    if metadata.len() > caps.read_bytes {
        return Err(too_large());
    }
    let mut content = Vec::new();
    (&mut file)
        .take(caps.read_bytes.saturating_add(1))
        .read_to_end(&mut content)
        .map_err(|e| failed(path, &e))?;
    if content.len() as u64 > caps.read_bytes {
        return Err(too_large());
    }
    let size = content.len();
    let (content, encoding) = match args.encoding {
        Encoding::Base64 => (STANDARD.encode(&content), "base64"),
        Encoding::Utf8 => (
            String::from_utf8(content).map_err(|_| {
                ConnectorError::with_code(
                    "not-utf8",
                    format!("`{path}` is not UTF-8 text: read it with `encoding: \"base64\"`"),
                )
            })?,
            "utf8",
        ),
    };
    Ok(json!({ "path": path, "content": content, "encoding": encoding, "size": size }))
}

/// The directory holding `path`, opened, and the file's name in it.
fn parent_of<'a>(
    root: &Dir,
    path: &'a str,
    create: bool,
) -> Result<(Dir, &'a std::ffi::OsStr), ConnectorError> {
    let relative = relative(path)?;
    let name = match relative.components().next_back() {
        Some(std::path::Component::Normal(name)) => name,
        _ => return Err(bad(format!("`{path}` does not name a file"))),
    };
    let parent = relative
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if create {
        root.create_dir_all(parent).map_err(|e| failed(path, &e))?;
    }
    let dir = root.open_dir(parent).map_err(|e| failed(path, &e))?;
    Ok((dir, name))
}

/// Refuse `size` more bytes past what is left of the run's `budget`.
fn within(size: u64, budget: u64) -> Result<(), ConnectorError> {
    if size > budget {
        return Err(ConnectorError::with_code(
            "too-large",
            format!(
                "writing {size} bytes would pass the limit on bytes written in a run (`writtenBytesPerRun`): {budget} are left"
            ),
        ));
    }
    Ok(())
}

/// Temporary files in this process, numbered.
static TEMPORARY: AtomicU64 = AtomicU64::new(0);

fn write_file(root: &Dir, args: WriteArgs, budget: u64) -> Result<Done, ConnectorError> {
    let path = &args.path;
    let content = bytes(args.content, args.encoding)?;
    within(content.len() as u64, budget)?;
    let (dir, name) = parent_of(root, path, args.create_dirs)?;
    let temporary = format!(
        ".{}.{}-{}.codemode-tmp",
        name.to_string_lossy(),
        std::process::id(),
        TEMPORARY.fetch_add(1, Ordering::Relaxed)
    );
    let written = (|| {
        let mut file =
            dir.open_with(&temporary, OpenOptions::new().write(true).create_new(true))?;
        file.write_all(&content)?;
        file.sync_all()?;
        dir.rename(&temporary, &dir, name)
    })();
    if let Err(error) = written {
        let _ = dir.remove_file(&temporary);
        return Err(failed(path, &error));
    }
    Ok(Done {
        reply: json!({ "path": path, "size": content.len() }),
        written: content.len() as u64,
    })
}

fn append_file(root: &Dir, args: AppendArgs, budget: u64) -> Result<Done, ConnectorError> {
    let path = &args.path;
    let content = bytes(args.content, args.encoding)?;
    within(content.len() as u64, budget)?;
    let (dir, name) = parent_of(root, path, false)?;
    let mut file: File = dir
        .open_with(
            name,
            without_waiting(OpenOptions::new().append(true).create(true)),
        )
        .map_err(|e| failed(path, &e))?;
    plain_file(path, &file.metadata().map_err(|e| failed(path, &e))?)?;
    file.write_all(&content).map_err(|e| failed(path, &e))?;
    Ok(Done {
        reply: json!({ "path": path, "size": content.len() }),
        written: content.len() as u64,
    })
}

/// How many entries a listing may look at, for each one it may return: a
/// glob that matches little still ends.
const VISITS_PER_ENTRY: usize = 20;

fn list(root: &Dir, caps: &Caps, args: ListArgs) -> Result<Value, ConnectorError> {
    let path = args.path.unwrap_or_default();
    let glob = match &args.glob {
        Some(glob) => Some(
            globset::Glob::new(glob)
                .map_err(|error| bad(format!("`glob`: {error}")))?
                .compile_matcher(),
        ),
        None => None,
    };
    let dir = root
        .open_dir(relative(&path)?)
        .map_err(|e| failed(&path, &e))?;
    let mut entries = Vec::new();
    let mut visits = caps.list_entries.saturating_mul(VISITS_PER_ENTRY).max(1);
    let mut truncated = false;
    // Depth first, without recursion: (directory, its path from the listed one).
    let mut pending = vec![(dir, String::new())];
    'walk: while let Some((dir, prefix)) = pending.pop() {
        for entry in dir.entries().map_err(|e| failed(&path, &e))? {
            let entry = entry.map_err(|e| failed(&path, &e))?;
            if visits == 0 || entries.len() >= caps.list_entries {
                truncated = true;
                break 'walk;
            }
            visits -= 1;
            let name = entry.file_name();
            let shown = name.to_string_lossy();
            let relative = format!("{prefix}{shown}");
            let kind = entry.file_type().map_err(|e| failed(&relative, &e))?;
            if args.recursive
                && kind.is_dir()
                && !kind.is_symlink()
                && let Ok(child) = entry.open_dir()
            {
                pending.push((child, format!("{relative}/")));
            }
            if glob.as_ref().is_some_and(|glob| !glob.is_match(&relative)) {
                continue;
            }
            let size = if kind.is_file() {
                entry.metadata().map(|m| m.len()).unwrap_or(0)
            } else {
                0
            };
            let mut item = json!({ "path": relative, "type": kind_name(kind), "size": size });
            if name.to_str().is_none() {
                // A name that is not UTF-8 is shown with U+FFFD in its place.
                item["nonUtf8"] = json!(true);
            }
            entries.push(item);
        }
    }
    Ok(json!({ "path": path, "entries": entries, "truncated": truncated }))
}

/// How `list` and `stat` name a type (a symlink as itself: neither
/// follows one).
fn kind_name(kind: FileType) -> &'static str {
    if kind.is_symlink() {
        "symlink"
    } else if kind.is_dir() {
        "dir"
    } else if kind.is_file() {
        "file"
    } else {
        "other"
    }
}

fn stat(root: &Dir, path: String) -> Result<Value, ConnectorError> {
    let metadata = root
        .symlink_metadata(relative(&path)?)
        .map_err(|e| failed(&path, &e))?;
    let kind = kind_name(metadata.file_type());
    let modified = metadata
        .modified()
        .ok()
        .and_then(|time| time.into_std().duration_since(UNIX_EPOCH).ok())
        .map(|since| since.as_millis() as u64);
    Ok(json!({ "path": path, "type": kind, "size": metadata.len(), "modifiedMs": modified }))
}

fn mkdir(root: &Dir, args: TreeArgs) -> Result<Value, ConnectorError> {
    let path = &args.path;
    let relative = relative(path)?;
    let made = if args.recursive {
        root.create_dir_all(relative)
    } else {
        root.create_dir(relative)
    };
    made.map_err(|e| failed(path, &e))?;
    Ok(json!({ "path": path }))
}

fn remove(root: &Dir, args: TreeArgs) -> Result<Value, ConnectorError> {
    let path = &args.path;
    let relative = relative(path)?;
    if relative == Path::new(".") {
        return Err(bad("the directory itself cannot be removed".into()));
    }
    let metadata = root
        .symlink_metadata(relative)
        .map_err(|e| failed(path, &e))?;
    let removed = if metadata.is_dir() {
        if args.recursive {
            root.remove_dir_all(relative)
        } else {
            root.remove_dir(relative)
        }
    } else {
        root.remove_file(relative)
    };
    removed.map_err(|e| failed(path, &e))?;
    Ok(json!({ "path": path }))
}

fn move_path(root: &Dir, args: MoveArgs) -> Result<Value, ConnectorError> {
    let (from, to) = (relative(&args.from)?, relative(&args.to)?);
    root.rename(from, root, to)
        .map_err(|e| failed(&args.from, &e))?;
    Ok(json!({ "from": args.from, "to": args.to }))
}
