//! Opening the runs database: the file's identity checked before anything
//! is written to it, its settings, and its tables.
//!
//! A file is ours when its `application_id` is [`APPLICATION_ID`]; a new
//! one is an empty file (or none), which gets the tables and the schema
//! version (`user_version`) in one transaction. Anything else (not SQLite,
//! damaged, another program's database, a newer schema) is refused with an
//! error naming the file, and the file is left exactly as it was: the
//! checks only read, and the journal mode is set after them.
//!
//! The settings: WAL with `synchronous = NORMAL`, so a commit is in the
//! operating system's hands when it returns. That survives the process
//! being killed (`kill -9`, a panic, an OOM kill), which is what durable
//! runs promise; a power cut may lose the last commits, which `FULL` would
//! keep at the price of an `fsync` per connector call.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, MAIN_DB, OpenFlags, TransactionBehavior};

use crate::error::{Result, StoreError};

/// "cmru": marks a SQLite file as a codemode runs database.
const APPLICATION_ID: i64 = 0x636d_7275;

/// The schema version this build writes and reads: the last migration's.
const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// How long a statement waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Each schema version's migration, `migrations/sqlite/N.sql`, in order.
const MIGRATIONS: [&str; 2] = [
    include_str!("../migrations/sqlite/1.sql"),
    include_str!("../migrations/sqlite/2.sql"),
];

/// Open `file` for reading and writing, creating it with the schema when
/// it does not exist or is empty.
pub(crate) fn open(file: &Path) -> Result<Connection> {
    let fail = |error| StoreError::from_sqlite(file.to_owned(), error);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(file, flags).map_err(fail)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
    check_identity(&conn, file)?;
    // SQLite opens a write-protected file for reading only, without a word.
    if conn.is_readonly(MAIN_DB).map_err(fail)? {
        return Err(StoreError::ReadOnly {
            file: file.to_owned(),
        });
    }
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "wal", |row| row.get(0))
        .map_err(fail)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NotOurs {
            file: file.to_owned(),
            reason: format!("its journal mode stays `{mode}`, not `wal`"),
        });
    }
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(fail)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(fail)?;
    create_schema(&mut conn).map_err(fail)?;
    Ok(conn)
}

/// Refuse a file that is not ours, or that a newer codemode made. Only
/// reads.
fn check_identity(conn: &Connection, file: &Path) -> Result<()> {
    let fail = |error| StoreError::from_sqlite(file.to_owned(), error);
    let application_id: i64 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(fail)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(fail)?;
    if application_id == APPLICATION_ID {
        return if version > SCHEMA_VERSION {
            Err(StoreError::NewerSchema {
                file: file.to_owned(),
                found: version,
                known: SCHEMA_VERSION,
            })
        } else {
            Ok(())
        };
    }
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .map_err(fail)?;
    if application_id == 0 && version == 0 && objects == 0 {
        Ok(())
    } else {
        Err(StoreError::NotOurs {
            file: file.to_owned(),
            reason: "it is another program's SQLite database".into(),
        })
    }
}

/// Apply the migrations the file lacks (every one to an empty file), in
/// one transaction, once even when two processes open it at the same
/// moment.
fn create_schema(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    for migration in MIGRATIONS
        .iter()
        .skip(usize::try_from(version).unwrap_or(0))
    {
        tx.execute_batch(migration)?;
    }
    if version < SCHEMA_VERSION {
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    }
    tx.commit()
}
