//! [`WaitingStores`]: how many runs waiting for people keep their sandbox
//! (a wasmtime store, a few megabytes each), and for how long. Past either
//! bound a run is unloaded, and resumes from its journal once a decision
//! comes: a server with many runs waiting, for hours, holds none of their
//! stores.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use codemode_runtime::Unload;
use tokio::sync::Semaphore;

/// How long a run past the bound stays loaded: long enough for its calls'
/// waits to be recorded, so that the store shows what it waits for.
const SETTLE: Duration = Duration::from_millis(100);

/// The runtime's [`Unload`] seam, bounded: at most `max` runs idle at their
/// gate keep their store, each for at most `keep_for`; any other idle run
/// is unloaded at once. A run kept loaded resumes at once when its call is
/// decided; an unloaded one replays its journal first (about a millisecond
/// for 30 calls).
#[derive(Clone, Debug)]
pub struct WaitingStores {
    kept: Arc<Semaphore>,
    keep_for: Duration,
}

impl WaitingStores {
    /// At most `max` waiting runs keep their store, for at most `keep_for`.
    pub fn new(max: usize, keep_for: Duration) -> Self {
        Self {
            kept: Arc::new(Semaphore::new(max)),
            keep_for,
        }
    }
}

#[async_trait]
impl Unload for WaitingStores {
    async fn idle(&self, _run: &str) {
        match self.kept.try_acquire() {
            Ok(_kept) => tokio::time::sleep(self.keep_for).await,
            Err(_) => tokio::time::sleep(SETTLE).await,
        }
    }
}
