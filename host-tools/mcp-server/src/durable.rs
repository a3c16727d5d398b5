//! `execute` with a state directory (`codemode serve --state`): each run is
//! durable, and a call that waits for a person does not hold the request.
//!
//! A run goes on in a task of its own, so it outlives the request that
//! started it. When the client can be asked (it declared elicitation), the
//! person is asked through it and the run finishes inside the same
//! `execute`. Otherwise `execute` answers `{ status: "pending", run,
//! waiting }` as soon as a call waits, the person decides with `codemode
//! runs approve` (any process with the same state directory), and
//! `execute { run }` waits for the outcome. A server that starts resumes
//! the runs left unfinished by one that died.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use codemode_runs::{DurableError, DurableRuns, NewDurableRun, Status};
use codemode_runtime::{Approver, Decision, Language, Outcome, PendingCall, Unload, Waiting};
use rmcp::model::{ElicitRequestParams, ElicitationAction};
use rmcp::{Peer, RoleServer};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

/// How long `execute` collects the calls that wait at once, after the
/// first, before it answers "pending".
const GATHER: Duration = Duration::from_millis(150);

/// How often the store is read for a run another process executes.
const POLL: Duration = Duration::from_millis(200);

/// How a run ended, as this process saw it: its outcome, or why it could
/// not run.
type Ended = Option<Result<Arc<Outcome>, String>>;

/// Where `execute` got to.
pub(crate) enum Step {
    /// The run ended here.
    Finished(Arc<Outcome>),
    /// It ended (in another process, or before this one started): the
    /// outcome as recorded.
    Recorded { ok: bool, outcome: Value },
    /// Calls wait for a person.
    Pending {
        run: String,
        waiting: Vec<(String, Value)>,
    },
    /// It could not run.
    Failed(String),
}

/// The durable runs of one server.
pub(crate) struct DurableExecute {
    /// Runs whose waiting calls nobody is being asked about here: they
    /// give up their sandbox while they wait, as the bound says.
    runs: DurableRuns,
    /// Runs whose person is asked through the client: they keep their
    /// sandbox while the client's request is open.
    asking: DurableRuns,
    /// The runs this process executes or executed.
    ended: Mutex<HashMap<String, watch::Receiver<Ended>>>,
    /// How long `execute { run }` waits before it answers "pending" again.
    bound: Duration,
}

/// A run [`DurableExecute::spawn`] runs.
enum Started {
    /// A new run, from `execute { code }`.
    New(NewDurableRun),
    /// A run recorded, left unfinished by a process that died.
    Recorded(String),
}

impl DurableExecute {
    pub(crate) fn new(runs: DurableRuns, waiting: Arc<dyn Unload>, bound: Duration) -> Self {
        Self {
            asking: runs.clone(),
            runs: runs.unload(Some(waiting)),
            ended: Mutex::new(HashMap::new()),
            bound,
        }
    }

    /// Run `code` durably, recorded as started by `origin` when given; ask
    /// `peer` about gated calls when it can be asked.
    pub(crate) async fn execute(
        self: &Arc<Self>,
        code: String,
        origin: Option<String>,
        peer: Option<Peer<RoleServer>>,
    ) -> Step {
        let mut new = self.runs.create(&code, Language::TypeScript);
        if let Some(origin) = origin {
            new = new.origin(origin);
        }
        let run = new.id().to_owned();
        let (announce, mut waiting) = mpsc::unbounded_channel();
        let asking: Arc<dyn Approver> = Arc::new(Announcing {
            announce,
            peer: peer.clone(),
        });
        let mut ended = self.spawn(Started::New(new), Some(asking), peer.is_some());
        tokio::select! {
            step = finished(&mut ended) => step,
            Some(first) = waiting.recv(), if peer.is_none() => {
                let mut calls = vec![first];
                let gathering = tokio::time::sleep(GATHER);
                tokio::pin!(gathering);
                loop {
                    tokio::select! {
                        Some(call) = waiting.recv() => calls.push(call),
                        () = &mut gathering => break,
                    }
                }
                Step::Pending {
                    run,
                    waiting: calls.into_iter().map(|c| (c.name(), c.args)).collect(),
                }
            }
        }
    }

    /// Wait, at most the bound, for run `run` to end.
    pub(crate) async fn wait(self: &Arc<Self>, run: &str) -> Step {
        let known = self.lock().get(run).cloned();
        let mut ended = match known {
            Some(ended) => ended,
            None => match self.runs.store().load(run) {
                Err(error) => return Step::Failed(error.to_string()),
                Ok(record) if record.outcome.is_some() => {
                    return Step::Recorded {
                        ok: record.status == Status::Succeeded,
                        outcome: record.outcome.unwrap_or_default(),
                    };
                }
                Ok(_) if self.runs.busy(run) => return self.poll(run).await,
                // Left unfinished by a process that died: resume it here.
                Ok(_) => self.spawn(Started::Recorded(run.to_owned()), None, false),
            },
        };
        match tokio::time::timeout(self.bound, finished(&mut ended)).await {
            Ok(step) => step,
            Err(_) => self.pending(run),
        }
    }

    /// Resume every run left unfinished that no process runs.
    pub(crate) fn resume_unfinished(self: &Arc<Self>) -> Result<usize, DurableError> {
        let mut resumed = 0;
        for run in self.runs.unfinished()? {
            // A run this process runs may not have taken its lock yet.
            let here = self
                .lock()
                .get(&run)
                .is_some_and(|ended| ended.borrow().is_none());
            if !here && !self.runs.busy(&run) {
                self.spawn(Started::Recorded(run), None, false);
                resumed += 1;
            }
        }
        Ok(resumed)
    }

    /// Every `every`, resume the runs left unfinished that no process
    /// runs: those of an instance that died, when several share a store.
    /// Each run's lock lets exactly one process take it.
    pub(crate) fn keep_resuming(self: &Arc<Self>, every: Duration) {
        let durable = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let Some(durable) = durable.upgrade() else {
                    return;
                };
                // A store that fails now may not at the next tick.
                let _ = durable.resume_unfinished();
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, watch::Receiver<Ended>>> {
        self.ended.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Run `run` in a task of its own; `client_asked` when the person is
    /// asked through the client.
    fn spawn(
        self: &Arc<Self>,
        run: Started,
        asking: Option<Arc<dyn Approver>>,
        client_asked: bool,
    ) -> watch::Receiver<Ended> {
        let (tell, ended) = watch::channel(None);
        let id = match &run {
            Started::New(new) => new.id(),
            Started::Recorded(id) => id,
        };
        self.lock().insert(id.to_owned(), ended.clone());
        let runs = if client_asked {
            self.asking.clone()
        } else {
            self.runs.clone()
        };
        tokio::spawn(async move {
            let result = match run {
                Started::New(new) => runs.start(new, asking).await,
                Started::Recorded(id) => runs.run(&id, asking).await,
            };
            let _ = tell.send(Some(result.map(Arc::new).map_err(|e| e.to_string())));
        });
        ended
    }

    /// The pending answer for `run`: its calls that wait.
    fn pending(&self, run: &str) -> Step {
        match self.runs.store().pending(Some(run)) {
            Ok(waits) => Step::Pending {
                run: run.to_owned(),
                waiting: waits.into_iter().map(|w| (w.name(), w.args)).collect(),
            },
            Err(error) => Step::Failed(error.to_string()),
        }
    }

    /// Read the store until another process ends `run`, at most the bound.
    async fn poll(&self, run: &str) -> Step {
        let polling = async {
            loop {
                match self.runs.store().load(run) {
                    Ok(record) if record.outcome.is_some() => {
                        return Step::Recorded {
                            ok: record.status == Status::Succeeded,
                            outcome: record.outcome.unwrap_or_default(),
                        };
                    }
                    Ok(_) => tokio::time::sleep(POLL).await,
                    Err(error) => return Step::Failed(error.to_string()),
                }
            }
        };
        match tokio::time::timeout(self.bound, polling).await {
            Ok(step) => step,
            Err(_) => self.pending(run),
        }
    }
}

async fn finished(ended: &mut watch::Receiver<Ended>) -> Step {
    match ended
        .wait_for(Option::is_some)
        .await
        .map(|ended| ended.clone())
    {
        Ok(Some(Ok(outcome))) => Step::Finished(outcome),
        Ok(Some(Err(error))) => Step::Failed(error),
        Ok(None) | Err(_) => Step::Failed("the run's task ended without an outcome".into()),
    }
}

/// Tells the waiting request about each call that waits, and asks the
/// client's person when the client can be asked; else leaves the decision
/// to the store.
struct Announcing {
    announce: mpsc::UnboundedSender<PendingCall>,
    peer: Option<Peer<RoleServer>>,
}

/// The most characters of a call's arguments a person is shown.
const SHOWN_ARGUMENTS: usize = 1_500;

#[async_trait]
impl Approver for Announcing {
    async fn decide(&self, call: &PendingCall) -> Decision {
        let _ = self.announce.send(call.clone());
        let Some(peer) = &self.peer else {
            return std::future::pending().await;
        };
        let mut shown = serde_json::to_string_pretty(&call.args).unwrap_or_default();
        if shown.chars().count() > SHOWN_ARGUMENTS {
            shown = shown.chars().take(SHOWN_ARGUMENTS).collect::<String>() + "\n…";
        }
        let question = match call.waiting {
            Waiting::Approval => format!("Approve {}?\n{shown}", call.name()),
            Waiting::InDoubt => format!(
                "Retry {}? It was started before the server stopped, and may have happened.\n{shown}",
                call.name()
            ),
        };
        let params = serde_json::from_value::<ElicitRequestParams>(json!({
            "mode": "form",
            "message": question,
            "requestedSchema": { "type": "object", "properties": {} },
        }));
        let answer = match params {
            Ok(params) => peer
                .create_elicitation(params)
                .await
                .map_err(|e| e.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match answer {
            Ok(result) if result.action == ElicitationAction::Accept => Decision::Approve {
                by: "mcp client".into(),
            },
            Ok(_) => Decision::Reject {
                by: "mcp client".into(),
                reason: "declined".into(),
            },
            // The client could not ask: leave it to the store.
            Err(_) => std::future::pending().await,
        }
    }
}
