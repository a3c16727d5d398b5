//! The call path seam: what a connector is told about each call it serves
//! ([`CallContext`]), and the one place where the host sees every connector
//! call of a run start and finish, and may refuse it ([`Interceptor`]).
//!
//! Policies that act on calls (approval gates, journals, live progress) are
//! interceptors; state a connector keeps for one run (a budget of requests)
//! lives in the run, through [`CallContext::run_local`], and goes with it.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::connector::ConnectorError;
use crate::deadline::Deadline;

/// One run, among all the runs of this process.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(u64);

impl RunId {
    /// A run id no other run of this process has.
    pub(crate) fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    /// The id as a number.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// State a run keeps for its connectors, by namespace and type.
type RunLocal = HashMap<(Arc<str>, TypeId), Arc<dyn Any + Send + Sync>>;

/// What every call of one run shares: the run's id and deadline, the token
/// cancelled when it ends, and its connectors' run-local state.
pub(crate) struct RunScope {
    id: RunId,
    pub(crate) deadline: Arc<Deadline>,
    cancelled: CancellationToken,
    local: Mutex<RunLocal>,
}

impl RunScope {
    pub(crate) fn new(deadline: Instant) -> Self {
        Self {
            id: RunId::next(),
            deadline: Arc::new(Deadline::new(deadline)),
            cancelled: CancellationToken::new(),
            local: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn id(&self) -> RunId {
        self.id
    }

    /// Tell every call still running that the run is over.
    pub(crate) fn end(&self) {
        self.cancelled.cancel();
    }
}

/// One connector call, as its connector and the run's interceptors see it.
#[derive(Clone)]
#[non_exhaustive]
pub struct CallContext {
    /// The run making the call.
    pub run: RunId,
    /// When the run's deadline passes; the call is dropped then. A call
    /// that waited for approval gets the deadline as it stands after the
    /// wait, which did not count.
    pub deadline: Instant,
    /// Cancelled when the run ends, however it ends: a connector with work
    /// outside the call's future (a request upstream) can stop it.
    pub cancelled: CancellationToken,
    /// The namespace the connector is granted under.
    pub namespace: Arc<str>,
    /// The method, by the connector's own name for it.
    pub method: Arc<str>,
    /// Which call of this method in this run it is: 1 for the first to
    /// start, 2 for the next, and so on.
    pub occurrence: u32,
    scope: Arc<RunScope>,
}

impl CallContext {
    pub(crate) fn new(
        scope: &Arc<RunScope>,
        namespace: &str,
        method: &str,
        occurrence: u32,
    ) -> Self {
        Self {
            run: scope.id,
            deadline: scope.deadline.at(),
            cancelled: scope.cancelled.clone(),
            namespace: Arc::from(namespace),
            method: Arc::from(method),
            occurrence,
            scope: Arc::clone(scope),
        }
    }

    /// A call outside any run, with a run of its own that ends at
    /// `deadline`: for calling a connector directly, in its tests say.
    pub fn standalone(namespace: &str, method: &str, deadline: Instant) -> Self {
        Self::new(&Arc::new(RunScope::new(deadline)), namespace, method, 1)
    }

    /// The same call, with the deadline `deadline`.
    pub(crate) fn with_deadline(&self, deadline: Instant) -> Self {
        Self {
            deadline,
            ..self.clone()
        }
    }

    /// State of type `T` that lasts this run, one for each namespace:
    /// made with `T::default()` at the first ask, shared by the run's
    /// later calls to the same namespace, and dropped with the run.
    pub fn run_local<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let key = (Arc::clone(&self.namespace), TypeId::of::<T>());
        let mut local = self
            .scope
            .local
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let state = local
            .entry(key)
            .or_insert_with(|| Arc::new(T::default()) as Arc<dyn Any + Send + Sync>);
        match Arc::clone(state).downcast::<T>() {
            Ok(state) => state,
            // The key holds the type, so the entry is always a `T`.
            Err(_) => Arc::new(T::default()),
        }
    }
}

impl fmt::Debug for CallContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallContext")
            .field("run", &self.run)
            .field("namespace", &self.namespace)
            .field("method", &self.method)
            .field("occurrence", &self.occurrence)
            .finish_non_exhaustive()
    }
}

/// How a connector call ended, for [`Interceptor::finish`].
#[derive(Debug)]
#[non_exhaustive]
pub struct CallFinished<'a> {
    /// From the call's start (before [`Interceptor::start`]) to its end.
    pub duration: Duration,
    /// The bytes of JSON the reply put in the sandbox, or the error the
    /// script's promise rejects with (already redacted). A call dropped
    /// before it ended (its run ended first) has the code `cancelled`.
    pub result: Result<usize, &'a ConnectorError>,
}

/// Watches, and may refuse, every connector call of the runs it is given to
/// (see [`Execution::intercept`](crate::Execution::intercept)).
///
/// The runtime calls [`start`](Self::start) for each call it has checked
/// (granted, a known method, arguments within their cap) before the
/// connector sees it, and [`finish`](Self::finish) once for each call that
/// started, however it ended.
#[async_trait]
pub trait Interceptor: Send + Sync + 'static {
    /// The call is about to be made with `arguments`. An error refuses it:
    /// the connector is never called, and the script's promise rejects with
    /// a `ConnectorError` carrying the error's code and message. The call
    /// waits while this does (a person deciding, say); the run's deadline
    /// still holds.
    async fn start(&self, call: &CallContext, arguments: &Value) -> Result<(), ConnectorError> {
        let _ = (call, arguments);
        Ok(())
    }

    /// The call ended.
    fn finish(&self, call: &CallContext, finished: &CallFinished<'_>) {
        let _ = (call, finished);
    }
}
