//! [`DurableRuns`]: starting, running and resuming durable runs over one
//! store, the one place that puts a run's record, journal, replay,
//! approver and lock together, for `codemode run --state`, `codemode serve
//! --state` and embedders alike.
//!
//! A run is executed by one process at a time: the process holds the run's
//! lock (`RunLock`) while it runs it. Resuming a run whose lock is held
//! elsewhere is refused, so two processes sharing a state directory never
//! both make a run's calls.
//!
//! A new run ([`DurableRuns::create`], then [`DurableRuns::start`]) is
//! recorded, and its lock taken, with the first entries its journal
//! commits (see [`journal`](crate::journal)): a durable run that makes no
//! call costs one commit more than a plain one.

use std::sync::Arc;
use std::time::Duration;

use codemode_runtime::{
    Approver, ErrorKind, Execution, Grants, Journal, Language, Limits, LogEntry, LogSink, Outcome,
    Policy, Runtime, Unload,
};

use crate::approver::StoreApprover;
use crate::error::{Result, StoreError};
use crate::journal::Recording;
use crate::lock::{LockError, RunLock};
use crate::store::{NewRun, RunStore, fresh_id, now_millis};

/// Why a durable run could not be run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DurableError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The runtime refused the run before it started.
    #[error("the run did not start: {0}")]
    Runtime(#[from] codemode_runtime::Error),
    /// Another process runs it.
    #[error("run `{0}` is being run by another process")]
    Busy(String),
    /// It needs connectors this process does not grant.
    #[error("run `{run}` needs `{namespace}`, which this process does not configure")]
    Ungranted {
        /// The run.
        run: String,
        /// The namespace it was granted and this process lacks.
        namespace: String,
    },
    /// It has finished already.
    #[error("run `{0}` has finished")]
    Finished(String),
    /// Its lock file could not be made.
    #[error("the lock of run `{run}` could not be taken: {source}")]
    Lock {
        /// The run.
        run: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Runs durable runs over one store with one set of connectors, policy and
/// limits. Cheap to clone.
#[derive(Clone)]
pub struct DurableRuns {
    store: RunStore,
    runtime: Arc<Runtime>,
    grants: Arc<Grants>,
    policy: Option<Arc<Policy>>,
    unload: Option<Arc<dyn Unload>>,
    on_log: Option<LogSink>,
    limits: Limits,
    origin: String,
}

/// A new durable run, made by [`DurableRuns::create`]: its id is drawn,
/// and nothing is written until [`DurableRuns::start`] runs it.
#[derive(Clone, Debug)]
pub struct NewDurableRun {
    id: String,
    created: u64,
    run: NewRun,
}

impl NewDurableRun {
    /// Its id (`r_…`), by which it is known once it is recorded.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Record it as started by `origin` (`serve:ana`), not by the origin
    /// its [`DurableRuns`] gives every run.
    #[must_use]
    pub fn origin(mut self, origin: impl Into<String>) -> Self {
        self.run.origin = origin.into();
        self
    }
}

/// How often an unloaded run reads the store for a decision on its calls,
/// and, once decided, looks for a free sandbox when every one is in use.
const UNLOADED_POLL: Duration = Duration::from_millis(250);

impl DurableRuns {
    /// Durable runs in `store`, executed by `runtime` with `grants` and
    /// `limits`, recorded as started by `origin` (`serve`, `run`, …).
    pub fn new(
        store: RunStore,
        runtime: Arc<Runtime>,
        grants: Arc<Grants>,
        limits: Limits,
        origin: impl Into<String>,
    ) -> Self {
        Self {
            store,
            runtime,
            grants,
            policy: None,
            unload: None,
            on_log: None,
            limits,
            origin: origin.into(),
        }
    }

    /// Gate every run's calls with `policy`.
    #[must_use]
    pub fn policy(mut self, policy: Option<Arc<Policy>>) -> Self {
        self.policy = policy;
        self
    }

    /// Let `unload` decide when a run, idle while people decide on its
    /// calls, gives up its sandbox: [`run`](Self::run) then waits for a
    /// decision holding nothing but the run's lock, and resumes the run
    /// from its journal (see [`WaitingStores`](crate::WaitingStores)).
    #[must_use]
    pub fn unload(mut self, unload: Option<Arc<dyn Unload>>) -> Self {
        self.unload = unload;
        self
    }

    /// Call `sink` with every console line of a run as it is first written
    /// (not again as the run replays after a restart or an unload).
    #[must_use]
    pub fn on_log(mut self, sink: impl Fn(&LogEntry) + Send + Sync + 'static) -> Self {
        self.on_log = Some(Arc::new(sink));
        self
    }

    /// The store.
    pub fn store(&self) -> &RunStore {
        &self.store
    }

    /// A new run of `code`, not started, and not recorded until it starts
    /// and commits its first journal entry (see [`journal`](crate::journal)).
    pub fn create(&self, code: &str, language: Language) -> NewDurableRun {
        NewDurableRun {
            id: fresh_id(),
            created: now_millis(),
            run: NewRun {
                code: code.to_owned(),
                language,
                grants: self
                    .grants
                    .namespaces()
                    .map(|(name, methods)| (name.to_owned(), methods.to_vec()))
                    .collect(),
                limits: serde_json::to_value(&self.limits).unwrap_or_default(),
                seed: fresh_seed(),
                origin: self.origin.clone(),
            },
        }
    }

    /// Run the new run `new` to its end, as [`run`](Self::run) runs a
    /// recorded one.
    ///
    /// # Errors
    ///
    /// [`DurableError`]: the store's, or the runtime refused it.
    pub async fn start(
        &self,
        new: NewDurableRun,
        asking: Option<Arc<dyn Approver>>,
    ) -> Result<Outcome, DurableError> {
        let NewDurableRun { id, created, run } = new;
        let (code, language) = (run.code.clone(), run.language);
        let recording = Recording::new_run(self.store.clone(), id, run, created);
        let limits = self.limits.clone();
        self.drive(recording, &code, language, limits, asking).await
    }

    /// Run `run` to its end: from its start, or resumed from its journal.
    /// Calls waiting for a person are decided through the store (by any
    /// process) or by `asking`, in this one; meanwhile the run may be
    /// unloaded (see [`unload`](Self::unload)). The outcome is recorded.
    ///
    /// # Errors
    ///
    /// [`DurableError`]: the run is unknown, finished, run by another
    /// process, or needs a connector this process lacks.
    pub async fn run(
        &self,
        run: &str,
        asking: Option<Arc<dyn Approver>>,
    ) -> Result<Outcome, DurableError> {
        let record = self.store.runnable(run)?;
        if record.status.ended() {
            return Err(DurableError::Finished(run.to_owned()));
        }
        if let Some(namespace) = record
            .namespaces
            .iter()
            .find(|namespace| self.grants.namespaces().all(|(n, _)| n != *namespace))
        {
            return Err(DurableError::Ungranted {
                run: run.to_owned(),
                namespace: namespace.clone(),
            });
        }
        let lock = self.lock(run)?;
        // Another process may have finished it since it was read.
        if self.store.status(run)?.ended() {
            return Err(DurableError::Finished(run.to_owned()));
        }
        let recording = Recording::recorded(self.store.clone(), run.to_owned(), lock);
        self.drive(
            recording,
            &record.code,
            record.language,
            record.limits,
            asking,
        )
        .await
    }

    /// Execute the run `recording` journals, `code` under `limits`,
    /// replaying what its journal holds, again after each unload, until it
    /// ends; record its outcome.
    async fn drive(
        &self,
        recording: Recording,
        code: &str,
        language: Language,
        limits: Limits,
        asking: Option<Arc<dyn Approver>>,
    ) -> Result<Outcome, DurableError> {
        let mut approver = StoreApprover::new(self.store.clone());
        if let Some(asking) = asking {
            approver = approver.asking(asking);
        }
        let approver = Arc::new(approver);
        let recording = Arc::new(recording);
        let mut unloaded = false;
        loop {
            let mut execution = Execution::new(code.to_owned())
                .language(language)
                .grants(Arc::clone(&self.grants))
                .limits(limits.clone())
                .approver(approver.clone())
                .durable(recording.clone(), recording.replay()?);
            if let Some(policy) = &self.policy {
                execution = execution.policy(Arc::clone(policy));
            }
            if let Some(unload) = &self.unload {
                execution = execution.unload(Arc::clone(unload));
            }
            if let Some(sink) = &self.on_log {
                let sink = Arc::clone(sink);
                execution = execution.on_log(move |line| sink(line));
            }
            let outcome = match self.runtime.execute(execution).await {
                Ok(outcome) => outcome,
                // Decided while unloaded, with every sandbox in use: the
                // run waits for one, as it waited for the decision.
                Err(codemode_runtime::Error::Instantiate(_)) if unloaded => {
                    tokio::time::sleep(UNLOADED_POLL).await;
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            if outcome.error_kind() == Some(ErrorKind::Unloaded) {
                self.until_decided(recording.run()).await?;
                unloaded = true;
                continue;
            }
            let recorded = serde_json::to_value(&outcome).unwrap_or_default();
            recording.finish(outcome.error.is_none(), &recorded)?;
            return Ok(outcome);
        }
    }

    /// Wait, holding no sandbox, until one of the calls unloaded run `run`
    /// waits on is decided (by any process) or expires.
    async fn until_decided(&self, run: &str) -> Result<()> {
        let waiting = self.store.pending(Some(run))?.len();
        loop {
            let pending = self.store.pending(Some(run))?;
            let now = now_millis();
            let Some(expires) = pending.iter().map(|wait| wait.expires).min() else {
                return Ok(());
            };
            if pending.len() < waiting || expires <= now {
                return Ok(());
            }
            let poll = UNLOADED_POLL.min(Duration::from_millis(expires - now));
            tokio::time::sleep(poll).await;
        }
    }

    /// The runs left unfinished (their process died, or they wait): what a
    /// process resumes when it starts.
    ///
    /// # Errors
    ///
    /// The store's.
    pub fn unfinished(&self) -> Result<Vec<String>> {
        self.store.unfinished()
    }

    /// Whether another process runs `run` now.
    pub fn busy(&self, run: &str) -> bool {
        matches!(self.lock(run), Err(DurableError::Busy(_)))
    }

    fn lock(&self, run: &str) -> Result<RunLock, DurableError> {
        RunLock::take(&self.store, run).map_err(|error| match error {
            LockError::Busy => DurableError::Busy(run.to_owned()),
            LockError::File(source) => DurableError::Lock {
                run: run.to_owned(),
                source,
            },
        })
    }
}

/// A new run's seed for `Math.random` and `crypto`: 32 bytes from the
/// operating system's random source.
pub(crate) fn fresh_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    rand::fill(&mut seed);
    seed
}
