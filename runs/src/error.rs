//! What can go wrong with the runs database, each error naming the file,
//! and the translation of SQLite's error codes into the few cases a person
//! can act on: not our file, read-only, written by a newer codemode.

use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::ErrorCode;

/// A runs database could not be opened, read or written, or was asked
/// about a run or call it does not have.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The state directory could not be made.
    #[error("cannot create the state directory {}", dir.display())]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not SQLite, is damaged, or holds another program's data.
    /// It is left as it was.
    #[error("{} is not a codemode runs database ({reason}); move it away or choose another state directory", file.display())]
    NotOurs {
        /// The file.
        file: PathBuf,
        /// What SQLite or the check said.
        reason: String,
    },
    /// The file or its directory cannot be written.
    #[error("{} is read-only: durable runs write their journal there; make it writable or choose another state directory", file.display())]
    ReadOnly {
        /// The file.
        file: PathBuf,
    },
    /// The file was made by a newer codemode.
    #[error("{} has schema version {found}, newer than the {known} this codemode knows; upgrade codemode", file.display())]
    NewerSchema {
        /// The file.
        file: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest this build knows.
        known: i64,
    },
    /// No run has this id.
    #[error("no run `{run}` in {}", file.display())]
    UnknownRun {
        /// The id asked for.
        run: String,
        /// The file.
        file: PathBuf,
    },
    /// A new run drew the id of a run recorded already.
    #[error("the id `{run}` drawn for a new run is taken in {}; the run was stopped before it did anything: run it again", file.display())]
    IdTaken {
        /// The id.
        run: String,
        /// The file.
        file: PathBuf,
    },
    /// The call is not waiting for a decision.
    #[error(
        "call {call} of run `{run}` is not waiting for a decision ({})",
        WaitingList(waiting)
    )]
    NotWaiting {
        /// The run.
        run: String,
        /// The call asked for.
        call: u32,
        /// The run's calls that are waiting.
        waiting: Vec<u32>,
    },
    /// A result was given for a call that waits for approval: only a call
    /// in doubt can be resolved with the result it had.
    #[error("call {call} of run `{run}` waits for approval, not in doubt: approve or reject it")]
    NotInDoubt {
        /// The run.
        run: String,
        /// The call.
        call: u32,
    },
    /// A call of a run without a journal was brought to the store.
    #[error("call {call} belongs to no durable run")]
    NotDurable {
        /// The call.
        call: u32,
    },
    /// `waiting` was given as a run's status to set; it follows from the
    /// run's waits.
    #[error("a run's status cannot be set to `waiting`: a run waits while one of its calls does")]
    DerivedStatus,
    /// A stored value could not be read back.
    #[error("{} holds a value this codemode cannot read", file.display())]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// PostgreSQL failed.
    #[error("{} failed: {reason}", file.display())]
    Postgres {
        /// The database's URL, without its password.
        file: PathBuf,
        /// PostgreSQL's words.
        reason: String,
        /// PostgreSQL's error.
        #[source]
        source: tokio_postgres::Error,
    },
    /// PostgreSQL could not be reached.
    #[error("cannot connect to {}: {reason}", file.display())]
    Unreachable {
        /// The database's URL, without its password.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The database holds what this codemode does not expect there.
    #[error("{} holds what this codemode does not expect: {what}", file.display())]
    Unexpected {
        /// The store.
        file: PathBuf,
        /// What.
        what: String,
    },
    /// Any other failure of SQLite.
    #[error("{} failed", file.display())]
    Sqlite {
        /// The file.
        file: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
}

/// The result of the store's operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// `error`, from `file`, as the case a person can act on when it is one.
    pub(crate) fn from_sqlite(file: PathBuf, error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => Self::NotOurs {
                file,
                reason: sqlite_message(&error),
            },
            Some(ErrorCode::ReadOnly) => Self::ReadOnly { file },
            Some(ErrorCode::CannotOpen) if write_protected(&file) => Self::ReadOnly { file },
            _ => Self::Sqlite {
                file,
                source: error,
            },
        }
    }
}

/// SQLite's own words for `error` ("file is not a database").
fn sqlite_message(error: &rusqlite::Error) -> String {
    match error {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message.clone(),
        rusqlite::Error::SqliteFailure(failure, None) => failure.to_string(),
        other => other.to_string(),
    }
}

/// Whether `file`, or the directory it is in (where SQLite makes the file,
/// and its `-wal` and `-shm` beside it), is write-protected.
fn write_protected(file: &Path) -> bool {
    let protected = |path: &Path| {
        std::fs::metadata(path).is_ok_and(|metadata| metadata.permissions().readonly())
    };
    protected(file) || file.parent().is_some_and(protected)
}

/// "waiting: 2, 5", or that none is.
struct WaitingList<'a>(&'a [u32]);

impl fmt::Display for WaitingList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some((first, rest)) = self.0.split_first() else {
            return f.write_str("none of its calls is waiting");
        };
        write!(f, "waiting: {first}")?;
        rest.iter().try_for_each(|call| write!(f, ", {call}"))
    }
}

/// A failure inside one operation, before it is given its file.
pub(crate) enum Failure {
    Sql(rusqlite::Error),
    Postgres(tokio_postgres::Error),
    Json(serde_json::Error),
    Store(StoreError),
    /// A statement gave no row where it always gives one.
    Missing(String),
    /// A column held what its reader did not expect.
    Column {
        index: usize,
        found: String,
        wanted: &'static str,
    },
}

impl From<tokio_postgres::Error> for Failure {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Postgres(error)
    }
}

impl From<rusqlite::Error> for Failure {
    fn from(error: rusqlite::Error) -> Self {
        Self::Sql(error)
    }
}

impl From<serde_json::Error> for Failure {
    fn from(error: serde_json::Error) -> Self {
        Self::Json(error)
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

impl Failure {
    /// The error, naming `file`.
    pub(crate) fn in_file(self, file: PathBuf) -> StoreError {
        match self {
            Self::Sql(error) => StoreError::from_sqlite(file, error),
            Self::Postgres(source) => StoreError::Postgres {
                file,
                reason: source
                    .as_db_error()
                    .map_or_else(|| source.to_string(), |db| db.message().to_owned()),
                source,
            },
            Self::Json(source) => StoreError::Unreadable { file, source },
            Self::Store(error) => error,
            Self::Missing(what) => StoreError::Unexpected {
                file,
                what: format!("no row for `{what}`"),
            },
            Self::Column {
                index,
                found,
                wanted,
            } => StoreError::Unexpected {
                file,
                what: format!("column {index} holds {found}, not a {wanted}"),
            },
        }
    }
}
