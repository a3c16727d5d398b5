//! [`RunLock`]: what makes one process at a time run a run, or roll it
//! back. An exclusive lock on a file of the run's own in the state
//! directory (`locks/ID.lock`), which the kernel releases when the process
//! dies however it dies (`kill -9` included), so a run is never left
//! locked by a process that is gone.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

use crate::store::RunStore;

/// A run's exclusive lock, released when dropped (or when its process
/// dies).
pub(crate) struct RunLock {
    file: File,
    path: PathBuf,
}

/// Why a run's lock was not taken.
pub(crate) enum LockError {
    /// Another process (or another task of this one) holds it.
    Busy,
    /// Its file could not be made.
    File(std::io::Error),
}

impl RunLock {
    /// Take the lock of `run` of `store`, without waiting.
    pub(crate) fn take(store: &RunStore, run: &str) -> Result<Self, LockError> {
        let path = lock_path(store, run);
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
            Ok(()) => Ok(Self { file, path }),
            Err(TryLockError::WouldBlock) => Err(LockError::Busy),
            Err(TryLockError::Error(error)) => Err(LockError::File(error)),
        }
    }

    /// Release the lock of a run that has ended, and remove its file, so
    /// that the lock directory holds only the files of unfinished runs. A
    /// process that opened the file before it went finds the run ended
    /// once it has the lock, and leaves it.
    pub(crate) fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
        drop(self.file);
    }
}

fn lock_path(store: &RunStore, run: &str) -> PathBuf {
    let dir = store.file().parent().map(PathBuf::from).unwrap_or_default();
    dir.join("locks").join(format!("{run}.lock"))
}
