//! A directory as a connector. The root is opened once, as a
//! [`cap_std::fs::Dir`] (the only use of ambient authority), and every
//! operation goes through that capability: `..`, absolute paths and
//! symlinks that lead outside (including ones swapped in while a run goes
//! on) are refused by construction, by the operating system's
//! `openat2`/`O_NOFOLLOW` checks behind cap-std, not by comparing strings.
//!
//! ```no_run
//! use codemode_files::{FilesConnector, Mode};
//! use codemode_runtime::Grants;
//!
//! let repo = FilesConnector::open("./", Mode::ReadOnly)?;
//! let grants = Grants::new().grant("repo", std::sync::Arc::new(repo))?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Methods (each typed, found by `codemode.search`): `read`, `write`,
//! `append`, `list`, `stat`, `mkdir`, `remove`, `move`. Writes, removes and
//! moves are write operations for the approval policy; reads, lists and
//! stats are read-only. A write is atomic: a temporary file in the same
//! directory, renamed over the target (so a hard link to a file elsewhere
//! is replaced, never written through). Files with more than one hard link
//! are refused for reading and appending: one could be a link to a file
//! outside the root. So are FIFOs, sockets and devices, opened without
//! waiting so that none can hold a thread.

mod methods;
mod operations;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use codemode_runtime::{CallContext, Connector, ConnectorError, MethodDescription};
use serde_json::Value;

/// What a script may do in the directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// `read`, `list` and `stat` only; every other method fails with the
    /// code `read-only`.
    ReadOnly,
    /// Every method.
    ReadWrite,
}

/// The caps on what one call or one run may do; each field's doc gives
/// its default.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
#[non_exhaustive]
pub struct Caps {
    /// The largest file `read` returns, in bytes. Default 4 MiB (the
    /// runtime's reply cap).
    pub read_bytes: u64,
    /// Bytes `write` and `append` may write in one run, in all. Default
    /// 64 MiB.
    pub written_bytes_per_run: u64,
    /// Entries one `list` returns at most; past it the listing says it is
    /// cut. Default 1,000.
    pub list_entries: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            read_bytes: 4 << 20,
            written_bytes_per_run: 64 << 20,
            list_entries: 1_000,
        }
    }
}

/// A directory as a configuration file declares it:
/// `{ "root": "./", "mode": "read-only", "caps": { "readBytes": 1048576 } }`.
#[derive(Clone, Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesConfig {
    /// The directory (relative to the configuration file once loaded).
    pub root: std::path::PathBuf,
    /// What a script may do in it.
    pub mode: Mode,
    /// The caps; the defaults for what it leaves out.
    #[serde(default)]
    pub caps: Caps,
}

/// Why a directory could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("opening the directory `{root}`: {source}")]
pub struct OpenError {
    root: String,
    #[source]
    source: std::io::Error,
}

/// A directory, granted as a connector.
pub struct FilesConnector {
    root: Arc<Dir>,
    /// The root as it was given, for the host's own messages.
    path: std::path::PathBuf,
    mode: Mode,
    caps: Caps,
    methods: Vec<MethodDescription>,
}

impl FilesConnector {
    /// The directory `root`, opened once, with `mode` and the default
    /// [`Caps`].
    ///
    /// # Errors
    ///
    /// [`OpenError`] when `root` is not a directory that can be opened.
    pub fn open(root: impl AsRef<Path>, mode: Mode) -> Result<Self, OpenError> {
        let root = root.as_ref();
        let dir = Dir::open_ambient_dir(root, ambient_authority()).map_err(|source| OpenError {
            root: root.display().to_string(),
            source,
        })?;
        Ok(Self {
            root: Arc::new(dir),
            path: root.to_path_buf(),
            mode,
            caps: Caps::default(),
            methods: methods::descriptions(),
        })
    }

    /// The directory `config` declares.
    ///
    /// # Errors
    ///
    /// [`OpenError`] when its root is not a directory that can be opened.
    pub fn from_config(config: &FilesConfig) -> Result<Self, OpenError> {
        Ok(Self::open(&config.root, config.mode)?.caps(config.caps.clone()))
    }

    /// The root as it was given (for the host's messages: never a
    /// script's).
    pub fn root(&self) -> &Path {
        &self.path
    }

    /// The same directory with `caps`.
    pub fn caps(mut self, caps: Caps) -> Self {
        self.caps = caps;
        self
    }
}

/// Bytes written in the run so far, against [`Caps::written_bytes_per_run`].
#[derive(Default)]
struct Written(AtomicU64);

#[async_trait]
impl Connector for FilesConnector {
    fn methods(&self) -> &[MethodDescription] {
        &self.methods
    }

    async fn call(&self, call: &CallContext, args: Value) -> Result<Value, ConnectorError> {
        let method = call.method.to_string();
        if self.mode == Mode::ReadOnly && !methods::is_read_only(&method) {
            return Err(ConnectorError::with_code(
                "read-only",
                format!("`{method}` writes, and this directory is read-only"),
            ));
        }
        let written = call.run_local::<Written>();
        let budget = self
            .caps
            .written_bytes_per_run
            .saturating_sub(written.0.load(Ordering::Relaxed));
        let (root, caps) = (Arc::clone(&self.root), self.caps.clone());
        let done = tokio::task::spawn_blocking(move || {
            operations::run(&root, &caps, &method, args, budget)
        })
        .await
        .map_err(|_| ConnectorError::new("the file operation did not finish"))??;
        written.0.fetch_add(done.written, Ordering::Relaxed);
        Ok(done.reply)
    }
}
