//! The database file: made private, refused with a clear error when it is
//! not ours or cannot be written, and left as it was.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use anyhow::Result;
use codemode_test_support::files::scratch;

use super::new_run;
use crate::{FILE_NAME, RunStore, StoreError};

/// `open`'s error message for `dir`.
fn refusal(dir: &Path) -> String {
    RunStore::open(dir)
        .map(drop)
        .map_err(|error| error.to_string())
        .err()
        .unwrap_or_default()
}

#[test]
fn the_state_directory_is_made_private() -> Result<()> {
    let dir = scratch("runs-private").join("a/b");
    RunStore::open(&dir)?;
    assert_eq!(std::fs::metadata(&dir)?.permissions().mode() & 0o777, 0o700);
    assert!(dir.join(FILE_NAME).is_file());
    Ok(())
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_alone() -> Result<()> {
    let dir = scratch("runs-garbage");
    let file = dir.join(FILE_NAME);
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&file, &garbage)?;
    assert_eq!(
        refusal(&dir),
        format!(
            "{} is not a codemode runs database (file is not a database); move it away or choose another state directory",
            file.display()
        )
    );
    assert_eq!(std::fs::read(&file)?, garbage);
    Ok(())
}

#[test]
fn another_programs_database_is_refused_and_left_alone() -> Result<()> {
    let dir = scratch("runs-foreign");
    let file = dir.join(FILE_NAME);
    let other = rusqlite::Connection::open(&file)?;
    other.execute_batch("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine');")?;
    drop(other);
    let before = std::fs::read(&file)?;
    assert_eq!(
        refusal(&dir),
        format!(
            "{} is not a codemode runs database (it is another program's SQLite database); move it away or choose another state directory",
            file.display()
        )
    );
    assert_eq!(std::fs::read(&file)?, before);
    Ok(())
}

#[test]
fn a_newer_schema_is_refused() -> Result<()> {
    let dir = scratch("runs-newer");
    drop(RunStore::open(&dir)?);
    let file = dir.join(FILE_NAME);
    rusqlite::Connection::open(&file)?.pragma_update(None, "user_version", 9)?;
    assert_eq!(
        refusal(&dir),
        format!(
            "{} has schema version 9, newer than the 2 this codemode knows; upgrade codemode",
            file.display()
        )
    );
    Ok(())
}

/// Whether `file` can be opened for writing, as SQLite would.
fn writable(file: &Path) -> bool {
    std::fs::OpenOptions::new().append(true).open(file).is_ok()
}

/// Set or clear the immutable attribute, which stops root too.
fn immutable(file: &Path, on: bool) -> bool {
    Command::new("chattr")
        .arg(if on { "+i" } else { "-i" })
        .arg(file)
        .status()
        .is_ok_and(|status| status.success())
}

#[test]
fn a_read_only_file_is_refused_and_keeps_its_runs() -> Result<()> {
    let dir = scratch("runs-read-only");
    let store = RunStore::open(&dir)?;
    let id = store.create(&new_run("1"))?;
    drop(store);
    let file = dir.join(FILE_NAME);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o444))?;
    // Root writes a file whatever its mode; the immutable attribute stops it.
    let made_immutable = writable(&file) && immutable(&file, true);
    if writable(&file) {
        eprintln!(
            "{} stays writable here (root, no `chattr`): not checked",
            file.display()
        );
        return Ok(());
    }
    let message = refusal(&dir);
    if made_immutable {
        immutable(&file, false);
    }
    assert_eq!(
        message,
        format!(
            "{} is read-only: durable runs write their journal there; make it writable or choose another state directory",
            file.display()
        )
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644))?;
    assert_eq!(RunStore::open(&dir)?.load(&id)?.code, "1");
    Ok(())
}

#[test]
fn store_errors_name_what_to_do() {
    let error = StoreError::ReadOnly {
        file: "/s/runs.sqlite3".into(),
    };
    assert!(
        error
            .to_string()
            .starts_with("/s/runs.sqlite3 is read-only")
    );
}
