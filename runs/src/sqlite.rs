//! The store in one SQLite file, the embedded default: a connection that
//! each transaction holds in turn (a write one taken at once, `BEGIN
//! IMMEDIATE`, so that two processes never both read and then both write),
//! and each run's lock an exclusive lock on a file of its own in the state
//! directory (`locks/ID.lock`), which the kernel releases when the process
//! dies however it dies (`kill -9` included).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql, TransactionBehavior};

use crate::error::Failure;
use crate::lock::LockError;
use crate::sql::{Cell, Database, Held, Param, Row, Tx};

/// One SQLite file and its connection.
pub(crate) struct Sqlite {
    file: PathBuf,
    conn: Mutex<Connection>,
}

impl Sqlite {
    /// The database `file`, open on `conn`.
    pub(crate) fn new(file: PathBuf, conn: Connection) -> Self {
        Self {
            file,
            conn: Mutex::new(conn),
        }
    }
}

impl Database for Sqlite {
    fn transact(
        &self,
        write: bool,
        work: &mut dyn FnMut(&mut dyn Tx) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        let mut conn = self.conn.lock().unwrap_or_else(PoisonError::into_inner);
        let behavior = if write {
            TransactionBehavior::Immediate
        } else {
            TransactionBehavior::Deferred
        };
        let tx = conn.transaction_with_behavior(behavior)?;
        work(&mut SqliteTx(&tx))?;
        tx.commit()?;
        Ok(())
    }

    fn lock(&self, run: &str) -> Result<Box<dyn Held>, LockError> {
        let dir = self.file.parent().map(PathBuf::from).unwrap_or_default();
        let path = dir.join("locks").join(format!("{run}.lock"));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(LockError::File)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(LockError::File)?;
        match file.try_lock() {
            Ok(()) => Ok(Box::new(FileLock { file, path })),
            Err(TryLockError::WouldBlock) => Err(LockError::Busy),
            Err(TryLockError::Error(error)) => Err(LockError::File(error)),
        }
    }

    fn place(&self) -> &Path {
        &self.file
    }
}

/// A run's lock file, locked.
struct FileLock {
    file: File,
    path: PathBuf,
}

impl Held for FileLock {
    /// Remove the file too, so that the lock directory holds only the
    /// files of unfinished runs. A process that opened the file before it
    /// went finds the run ended once it has the lock, and leaves it.
    fn remove(self: Box<Self>) {
        let _ = std::fs::remove_file(&self.path);
        drop(self.file);
    }
}

struct SqliteTx<'a>(&'a rusqlite::Transaction<'a>);

impl Tx for SqliteTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, Failure> {
        let changed = self
            .0
            .prepare_cached(sql)?
            .execute(rusqlite::params_from_iter(params))?;
        Ok(changed as u64)
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, Failure> {
        let mut statement = self.0.prepare_cached(sql)?;
        let columns = statement.column_count();
        let mut rows = statement.query(rusqlite::params_from_iter(params))?;
        let mut read = Vec::new();
        while let Some(row) = rows.next()? {
            let mut cells = Vec::with_capacity(columns);
            for index in 0..columns {
                cells.push(match row.get_ref(index)? {
                    ValueRef::Null => Cell::Null,
                    ValueRef::Integer(value) => Cell::Int(value),
                    ValueRef::Real(value) => Cell::Text(value.to_string()),
                    ValueRef::Text(text) => Cell::Text(String::from_utf8_lossy(text).into_owned()),
                    ValueRef::Blob(bytes) => Cell::Blob(bytes.to_vec()),
                });
            }
            read.push(Row(cells));
        }
        Ok(read)
    }
}

impl ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            Self::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Self::Int(value) => ToSqlOutput::Borrowed(ValueRef::Integer(value)),
            Self::Bool(value) => ToSqlOutput::Borrowed(ValueRef::Integer(value.into())),
            Self::Text(text) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Self::Blob(bytes) => ToSqlOutput::Borrowed(ValueRef::Blob(bytes)),
        })
    }
}
