//! [`RunLock`]: what makes one process at a time run a run, or roll it
//! back. The database takes it (`Database::lock`): a lock file in
//! SQLite's state directory, a session advisory lock in PostgreSQL. Either
//! is released when the process dies however it dies (`kill -9`
//! included), so a run is never left locked by a process that is gone.

use crate::sql::Held;
use crate::store::RunStore;

/// A run's exclusive lock, released when dropped (or when its process
/// dies).
pub(crate) struct RunLock(Box<dyn Held>);

/// Why a run's lock was not taken.
pub(crate) enum LockError {
    /// Another process (or another task of this one) holds it.
    Busy,
    /// Its file (or its database call) failed.
    File(std::io::Error),
}

impl RunLock {
    /// Take the lock of `run` of `store`, without waiting.
    pub(crate) fn take(store: &RunStore, run: &str) -> Result<Self, LockError> {
        store.database().lock(run).map(Self)
    }

    /// Release the lock of a run that has ended, leaving nothing of it
    /// behind.
    pub(crate) fn remove(self) {
        self.0.remove();
    }
}
