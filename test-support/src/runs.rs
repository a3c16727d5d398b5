//! What runs are driven on and given: the async runtimes a benchmark
//! drives its runs and clients on, and limits with one change.

use codemode_runtime::Limits;

/// A runtime on the calling thread, timers and I/O enabled: the least a
/// run's cost is measured on.
///
/// # Panics
///
/// When the runtime cannot be built.
pub fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime")
}

/// A runtime with two worker threads, timers and I/O enabled: runs (or a
/// client and its server's answers) on both cores of the benchmark machine.
///
/// # Panics
///
/// When the runtime cannot be built.
pub fn two_workers() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a two-worker tokio runtime")
}

/// The default limits with one change applied.
pub fn limits(change: impl FnOnce(&mut Limits)) -> Limits {
    let mut limits = Limits::default();
    change(&mut limits);
    limits
}
