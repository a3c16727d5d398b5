//! The state of one run, and the host functions the guest calls through it.
//!
//! Everything the guest sends is hostile: sizes are checked before anything
//! is parsed, every connector and method name is checked against the grants,
//! and nothing here can panic on guest data.
//!
//! Connector calls run as tokio tasks, so they make progress while the guest
//! keeps computing and while other calls run. A call whose future completes
//! at its first poll is answered at once (`ready`), with no task at all; the
//! rest are `pending` until the guest, with nothing left to run, calls
//! `wait-next`, which suspends the store (no thread held) until one finishes.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::{Id, JoinSet};
use tracing::Instrument;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};

use crate::approval::{Decision, PendingCall, Unload, Waiting};
use crate::bindings::codemode::sandbox::host::{self, CallError, CallStart, Completion};
use crate::bindings::codemode::sandbox::{catalog, documents};
use crate::call::{CallContext, CallFinished, Interceptor, RunScope};
use crate::connector::ConnectorError;
use crate::document::Document;
use crate::durable::{Durable, Known, MonotonicClock, ReplayedWait, WallClock};
use crate::gate::Gate;
use crate::grants::{Grant, Grants};
use crate::journal::{CallFailure, Entry, JournalError, canonical_json, now_millis};
use crate::nesting::{self, MAX_REPLY_DEPTH};
use crate::policy::{Action, Ruling};
use codemode_outcome::{ErrorKind, ExecutionError, Limits, LogEntry, LogLevel};
use codemode_redact::Secrets;

/// Receives each console line as the script writes it.
pub type LogSink = Arc<dyn Fn(&LogEntry) + Send + Sync>;

type Reply = Result<String, CallError>;

/// How much of the guest's stderr (a panic message) is kept.
const GUEST_STDERR_BYTES: usize = 4096;

/// The store data of one run.
pub(crate) struct RunState {
    wasi: WasiCtx,
    /// The guest's stderr: only a panic of the guest itself writes there.
    pub(crate) stderr: MemoryOutputPipe,
    table: ResourceTable,
    pub(crate) memory: MemoryLimiter,
    pub(crate) calls: Calls,
    pub(crate) console: Console,
    pub(crate) documents: Documents,
    /// The limit a host function stopped the run for, if one did.
    pub(crate) stopped_by: Option<ExecutionError>,
}

impl RunState {
    /// A run whose calls pass `gate`, journaled by `durable` when given.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        scope: Arc<RunScope>,
        grants: Arc<Grants>,
        documents: Vec<Arc<Document>>,
        limits: &Limits,
        sink: Option<LogSink>,
        interceptors: Arc<[Arc<dyn Interceptor>]>,
        gate: Gate,
        durable: Option<Arc<Durable>>,
    ) -> Self {
        let stderr = MemoryOutputPipe::new(GUEST_STDERR_BYTES);
        // Nothing granted: no arguments, environment, preopens or sockets;
        // stdout goes nowhere, stderr to a small buffer.
        let mut wasi = WasiCtx::builder();
        wasi.stderr(stderr.clone());
        if let Some(durable) = &durable {
            // A durable run's clocks and random sources are its journal's:
            // replayed, they read as they did.
            wasi.wall_clock(WallClock(Arc::clone(durable)))
                .monotonic_clock(MonotonicClock(Arc::clone(durable)))
                .secure_random(durable.random())
                .insecure_random(durable.random())
                .insecure_random_seed(durable.insecure_seed());
        }
        Self {
            wasi: wasi.build(),
            stderr,
            table: ResourceTable::new(),
            memory: MemoryLimiter {
                cap: limits.memory_bytes,
                peak: 0,
                exceeded: false,
            },
            calls: Calls {
                grants,
                started: 0,
                max_calls: limits.connector_calls,
                argument_bytes: limits.argument_bytes,
                reply_bytes: limits.reply_bytes,
                slots: Arc::new(Semaphore::new(
                    limits.connector_calls_in_flight.max(1) as usize
                )),
                in_flight: JoinSet::new(),
                handles: HashMap::new(),
                next_handle: 0,
                scope,
                interceptors,
                occurrences: HashMap::new(),
                gate,
                durable,
                replayed: HashMap::new(),
                call_numbers: HashMap::new(),
            },
            console: Console {
                kept: codemode_outcome::Console::new(limits.log_bytes),
                sink,
            },
            documents: Documents {
                list: documents,
                reads: 0,
            },
            stopped_by: None,
        }
    }

    /// The resource table the WASI io interfaces use.
    pub(crate) fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// The random sources of WASI.
    pub(crate) fn random(&mut self) -> &mut wasmtime_wasi::random::WasiRandomCtx {
        self.wasi.random()
    }
}

impl WasiView for RunState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Enforces the memory cap and records the peak.
pub(crate) struct MemoryLimiter {
    cap: u64,
    pub(crate) peak: u64,
    pub(crate) exceeded: bool,
}

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let desired = desired as u64;
        if desired > self.cap {
            self.exceeded = true;
            wasmtime::bail!("the memory cap of {} bytes was reached", self.cap);
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // QuickJS never grows its function table at run time.
        Ok(desired <= 1 << 16)
    }
}

/// A durable run was unloaded (see [`Unload`]).
#[derive(Debug)]
pub(crate) struct Unloaded;

/// A connector call's task, joined: its id and its reply, or how it failed.
type Joined = Result<(Id, Reply), tokio::task::JoinError>;

/// The connector calls of one run.
pub(crate) struct Calls {
    grants: Arc<Grants>,
    pub(crate) started: u32,
    max_calls: u32,
    argument_bytes: usize,
    reply_bytes: usize,
    slots: Arc<Semaphore>,
    in_flight: JoinSet<Reply>,
    handles: HashMap<Id, u32>,
    next_handle: u32,
    /// The run, as each call's [`CallContext`] refers to it.
    scope: Arc<RunScope>,
    /// What watches every call, in order.
    interceptors: Arc<[Arc<dyn Interceptor>]>,
    /// How many calls each method has had, by namespace and method.
    occurrences: HashMap<String, HashMap<String, u32>>,
    /// The policy and approver every call passes.
    gate: Gate,
    /// The run's journal, for a durable run.
    durable: Option<Arc<Durable>>,
    /// Replies replayed from the journal and not yet delivered, by call
    /// number: the handle the guest was given, and the reply.
    replayed: HashMap<u32, (u32, Reply)>,
    /// The call number of each pending handle, for the journal's waits.
    call_numbers: HashMap<u32, u32>,
}

impl Drop for Calls {
    /// The run is over: calls still running hear it through their
    /// [`CallContext::cancelled`] before the tasks are dropped.
    fn drop(&mut self) {
        self.scope.end();
    }
}

fn call_error(code: &str, message: String) -> CallError {
    CallError {
        code: code.into(),
        message,
    }
}

/// The code of a call a person rejected: the guest raises an
/// `ApprovalRejectedError`.
const REJECTED: &str = "approval-rejected";

/// The code of a call the policy denied: the guest raises a
/// `CallDeniedError`.
const DENIED: &str = "policy-denied";

/// A connector's (or an interceptor's) error as the script gets it, with
/// every secret redacted from its code and message; the host's own codes
/// for rejections and denials are not a connector's to give.
fn connector_error(error: &ConnectorError, secrets: &Secrets) -> CallError {
    let code = match error.code() {
        REJECTED | DENIED => "connector",
        code => code,
    };
    CallError {
        code: secrets.redact(code).into_owned(),
        message: secrets.redact(error.message()).into_owned(),
    }
}

/// Tells the interceptors how a call ended: when it does, or, when the call
/// is dropped first (its run ended), that it was cancelled.
struct FinishGuard<'a> {
    interceptors: &'a [Arc<dyn Interceptor>],
    call: &'a CallContext,
    started: Instant,
    told: bool,
}

impl<'a> FinishGuard<'a> {
    fn new(interceptors: &'a [Arc<dyn Interceptor>], call: &'a CallContext) -> Self {
        Self {
            interceptors,
            call,
            started: Instant::now(),
            told: interceptors.is_empty(),
        }
    }

    fn finished(&mut self, reply: &Reply) {
        if self.told {
            return;
        }
        self.told = true;
        let error;
        let result = match reply {
            Ok(json) => Ok(json.len()),
            Err(CallError { code, message }) => {
                error = ConnectorError::with_code(code.as_str(), message.as_str());
                Err(&error)
            }
        };
        self.tell(result);
    }

    fn tell(&self, result: Result<usize, &ConnectorError>) {
        let finished = CallFinished {
            duration: self.started.elapsed(),
            result,
        };
        for interceptor in self.interceptors {
            interceptor.finish(self.call, &finished);
        }
    }
}

impl Drop for FinishGuard<'_> {
    fn drop(&mut self) {
        if !self.told {
            let cancelled = ConnectorError::with_code("cancelled", "the run ended first");
            self.tell(Err(&cancelled));
        }
    }
}

/// Count a call of `method` under `namespace` in `occurrences`: the
/// how-manieth it is, from 1.
fn occurrence(
    occurrences: &mut HashMap<String, HashMap<String, u32>>,
    namespace: &str,
    method: &str,
) -> u32 {
    let methods = match occurrences.get_mut(namespace) {
        Some(methods) => methods,
        None => occurrences.entry(namespace.to_owned()).or_default(),
    };
    let count = match methods.get_mut(method) {
        Some(count) => count,
        None => methods.entry(method.to_owned()).or_default(),
    };
    *count = count.saturating_add(1);
    *count
}

impl Calls {
    fn start(&mut self, connector: &str, method: &str, args: &str) -> CallStart {
        let grants = Arc::clone(&self.grants);
        let Some(grant) = grants.get(connector) else {
            return CallStart::Ready(Err(call_error(
                "not-granted",
                format!("connector `{connector}` is not granted to this run"),
            )));
        };
        let Some(original) = grant.method(method) else {
            return CallStart::Ready(Err(call_error(
                "unknown-method",
                format!("connector `{connector}` has no method `{method}`"),
            )));
        };
        if args.len() > self.argument_bytes {
            return CallStart::Ready(Err(call_error(
                "arguments-too-large",
                format!(
                    "the arguments to `{connector}.{method}` are {} bytes of JSON; the limit is {} bytes",
                    args.len(),
                    self.argument_bytes
                ),
            )));
        }
        let args: Value = match serde_json::from_str(args) {
            Ok(args) => args,
            Err(error) => {
                return CallStart::Ready(Err(call_error(
                    "bad-arguments",
                    format!("the arguments to `{connector}.{method}` are not JSON: {error}"),
                )));
            }
        };
        let ruling = self
            .gate
            .rule(connector, method, original, grant.read_only(method));
        let plan = match self.plan(connector, method, &args, ruling) {
            Ok(plan) => plan,
            Err(answered) => return answered,
        };
        if plan.ruling.action == Action::Deny && plan.wait.is_none() {
            let reply = Err(call_error(
                DENIED,
                format!(
                    "`{connector}.{method}` is denied by {}",
                    plan.ruling.because
                ),
            ));
            return CallStart::Ready(self.journal_finished(plan.call, true, reply));
        }
        self.spawn(grant, connector, method, original, args, plan)
    }

    /// What to do with a call the policy ruled on: for a durable run, what
    /// the journal knows of it decides, and a new call is journaled. A call
    /// the journal answers is answered here (`Err`).
    fn plan(
        &mut self,
        namespace: &str,
        method: &str,
        args: &Value,
        ruling: Ruling,
    ) -> Result<Plan, CallStart> {
        let approve = ruling.action == Action::Approve;
        let Some(durable) = self.durable.clone() else {
            return Ok(Plan {
                call: self.started,
                wait: approve.then_some(Waiting::Approval),
                start_in_task: false,
                ruling,
            });
        };
        let canonical = canonical_json(args);
        let planned = match durable.known(namespace, method, &canonical) {
            Known::Finished { call, ready, reply } => {
                return Err(self.replay(call, ready, reply.map_err(failure_error)));
            }
            Known::InDoubt { call } => Ok(Plan {
                call,
                wait: Some(Waiting::InDoubt),
                start_in_task: true,
                ruling,
            }),
            Known::Unstarted { call } => {
                let started = if ruling.action == Action::Allow {
                    durable.started(call)
                } else {
                    Ok(())
                };
                started.map(|()| Plan {
                    call,
                    wait: approve.then_some(Waiting::Approval),
                    start_in_task: approve,
                    ruling,
                })
            }
            Known::New { call, occurrence } => {
                let journaled = Entry::Call {
                    call,
                    namespace: namespace.to_owned(),
                    method: method.to_owned(),
                    args: canonical,
                    occurrence,
                    ruling: ruling.clone(),
                    at: now_millis(),
                };
                let started = (ruling.action == Action::Allow).then(|| Entry::Started {
                    call,
                    at: now_millis(),
                });
                durable
                    .commit(std::iter::once(journaled).chain(started))
                    .map(|()| Plan {
                        call,
                        wait: approve.then_some(Waiting::Approval),
                        start_in_task: approve,
                        ruling,
                    })
            }
        };
        planned.map_err(|error| CallStart::Ready(Err(journal_error(&error))))
    }

    /// Answer a call from the journal: at once if it was answered at once,
    /// else at the wait the journal says it ended at.
    fn replay(&mut self, call: u32, ready: bool, reply: Reply) -> CallStart {
        if ready {
            return CallStart::Ready(reply);
        }
        let handle = self.handle();
        self.replayed.insert(call, (handle, reply));
        CallStart::Pending(handle)
    }

    /// Journal how call `call` ended (for a durable run), and pass its
    /// reply on.
    fn journal_finished(&self, call: u32, ready: bool, reply: Reply) -> Reply {
        if let Some(durable) = &self.durable {
            durable.finished(call, ready, journaled(&reply));
        }
        reply
    }

    fn handle(&mut self) -> u32 {
        let handle = self.next_handle;
        self.next_handle = self.next_handle.wrapping_add(1);
        handle
    }

    /// Make the call: through the gate when it waits for a decision, then
    /// the interceptors, then the connector; at once when it needs no task.
    fn spawn(
        &mut self,
        grant: &Grant,
        connector: &str,
        method: &str,
        original: &str,
        args: Value,
        plan: Plan,
    ) -> CallStart {
        let call = CallContext::new(
            &self.scope,
            connector,
            original,
            occurrence(&mut self.occurrences, connector, original),
        );
        let span = tracing::debug_span!(
            "codemode.call",
            run = %call.run,
            namespace = %call.namespace,
            method = %call.method,
            occurrence = call.occurrence,
        );
        let pending = plan.wait.map(|waiting| PendingCall {
            run: self.durable.as_ref().map(|d| d.run().to_owned()),
            call: plan.call,
            namespace: connector.to_owned(),
            method: method.to_owned(),
            args: args.clone(),
            waiting,
            because: plan.ruling.because.clone(),
            expires: self.gate.expires(),
        });
        let connector = Arc::clone(grant.connector());
        let interceptors = Arc::clone(&self.interceptors);
        let reply_bytes = self.reply_bytes;
        let secrets = self.grants.secrets().clone();
        let slots = Arc::clone(&self.slots);
        let gate = self.gate.clone();
        let durable = self.durable.clone();
        let scope = Arc::clone(&self.scope);
        let number = plan.call;
        let start_in_task = plan.start_in_task;
        // For a durable run: whether the call is still in its first poll:
        // a reply then is ready at once, and is journaled so.
        let first_poll = durable.as_ref().map(|_| Arc::new(AtomicBool::new(true)));
        let in_first_poll = first_poll.clone();
        let call = async move {
            let mut finish = FinishGuard::new(&interceptors, &call);
            let reply: Reply = async {
                let approved;
                let call = match &pending {
                    None => &call,
                    Some(pending) => {
                    // What the run has done so far is journaled before it
                    // waits, maybe for hours, and so is what it does
                    // meanwhile.
                    let deciding = match &durable {
                        Some(durable) => {
                            Some(durable.deciding().map_err(|error| journal_error(&error))?)
                        }
                        None => None,
                    };
                    let decision = gate.decide(pending, &scope.deadline).await;
                    if deciding.is_some_and(|deciding| !deciding.settle()) {
                        // The run was unloaded: its store is about to go,
                        // and the resumed run finds the decision.
                        return std::future::pending().await;
                    }
                    match decision {
                        Decision::Approve { .. } => {}
                        Decision::Reject { reason, .. } => {
                            return Err(call_error(REJECTED, secrets.redact(&reason).into_owned()));
                        }
                        Decision::Resolve { result, .. } => {
                            return encode_reply(&result, &secrets, reply_bytes, &call.method);
                        }
                    }
                    // The time waited was not the run's.
                    approved = call.with_deadline(scope.deadline.at());
                    &approved
                    }
                };
                if start_in_task && let Some(durable) = &durable {
                    durable.started(number).map_err(|error| journal_error(&error))?;
                }
                for interceptor in interceptors.iter() {
                    interceptor
                        .start(call, &args)
                        .await
                        .map_err(|error| connector_error(&error, &secrets))?;
                }
                // A slot is taken once the interceptors let the call
                // through: a call an interceptor holds (for a person's
                // approval, say) keeps no other call waiting.
                let _permit = match Arc::clone(&slots).try_acquire_owned() {
                    Ok(permit) => permit,
                    // The semaphore is never closed.
                    Err(_) => slots
                        .acquire_owned()
                        .await
                        .map_err(|_| call_error("cancelled", "the run ended".into()))?,
                };
                // Nothing a connector hands back enters the sandbox unredacted.
                match connector.call(call, args).await {
                    Ok(reply) if nesting::deeper_than(&reply, MAX_REPLY_DEPTH) => {
                        nesting::drop_flat(reply);
                        Err(call_error(
                            "reply-too-large",
                            format!(
                                "the reply of `{}` is nested more than {MAX_REPLY_DEPTH} levels deep",
                                call.method
                            ),
                        ))
                    }
                    Ok(reply) => encode_reply(&reply, &secrets, reply_bytes, &call.method),
                    Err(error) => Err(connector_error(&error, &secrets)),
                }
            }
            .await;
            if let Some(durable) = &durable {
                let ready = in_first_poll.is_some_and(|first| first.load(Ordering::Relaxed));
                durable.finished(number, ready, journaled(&reply));
            }
            finish.finished(&reply);
            reply
        }
        .instrument(span);
        let mut call: Pin<Box<dyn Future<Output = Reply> + Send>> = Box::pin(call);

        // Answer at once when the connector does not need to wait.
        if let Poll::Ready(reply) = call.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            return CallStart::Ready(reply);
        }
        if let Some(first_poll) = &first_poll {
            first_poll.store(false, Ordering::Relaxed);
        }
        let handle = self.handle();
        let task = self.in_flight.spawn(call);
        self.handles.insert(task.id(), handle);
        self.call_numbers.insert(handle, number);
        CallStart::Pending(handle)
    }

    /// The next call to end, or `None` when `timeout` (a timer is due)
    /// passes first; [`Unloaded`] when the run was unloaded.
    async fn next(&mut self, timeout: Option<Duration>) -> Result<Option<Completion>, Unloaded> {
        let Some(durable) = self.durable.clone() else {
            return self.next_live(timeout).await;
        };
        match durable.replayed_wait(timeout.is_some()) {
            ReplayedWait::Timer => return Ok(None),
            ReplayedWait::Call(call) => match self.replayed.remove(&call) {
                Some((handle, reply)) => return Ok(Some(Completion { handle, reply })),
                None => durable.wait_diverged(call),
            },
            ReplayedWait::Live => {}
        }
        // Live: replies the replay holds go first, as if they had just
        // come.
        if let Some(&call) = self.replayed.keys().min()
            && let Some((handle, reply)) = self.replayed.remove(&call)
        {
            durable.waited(Some(call));
            return Ok(Some(Completion { handle, reply }));
        }
        let completion = self.next_live(timeout).await?;
        let call = completion
            .as_ref()
            .and_then(|c| self.call_numbers.remove(&c.handle));
        durable.waited(call);
        Ok(completion)
    }

    async fn next_live(
        &mut self,
        timeout: Option<Duration>,
    ) -> Result<Option<Completion>, Unloaded> {
        if self.in_flight.is_empty() {
            if let Some(timeout) = timeout {
                tokio::time::sleep(timeout).await;
            }
            return Ok(None);
        }
        let joined = match timeout {
            Some(timeout) => tokio::time::timeout(timeout, self.in_flight.join_next_with_id())
                .await
                .ok()
                .flatten(),
            None => match (&self.durable, self.gate.unload()) {
                (Some(durable), Some(unload)) => {
                    let (durable, unload) = (Arc::clone(durable), Arc::clone(unload));
                    self.join_unless_unloaded(&durable, &*unload).await?
                }
                _ => self.in_flight.join_next_with_id().await,
            },
        };
        let Some(joined) = joined else {
            return Ok(None);
        };
        let (id, reply) = match joined {
            Ok((id, reply)) => (id, reply),
            Err(error) => (
                error.id(),
                Err(call_error(
                    "connector",
                    "the connector failed unexpectedly".into(),
                )),
            ),
        };
        Ok(self
            .handles
            .remove(&id)
            .map(|handle| Completion { handle, reply }))
    }

    /// The next call to end; or, while every call in flight waits for a
    /// decision and no timer is due, the run unloaded when `unload` says.
    async fn join_unless_unloaded(
        &mut self,
        durable: &Durable,
        unload: &dyn Unload,
    ) -> Result<Option<Joined>, Unloaded> {
        loop {
            // Made before looking, so that a call starting to wait after
            // the look is not missed.
            let more_deciding = durable.more_deciding();
            let idle = durable.idle(self.in_flight.len());
            tokio::select! {
                joined = self.in_flight.join_next_with_id() => return Ok(joined),
                () = unload.idle(durable.run()), if idle => {
                    if durable.unload(self.in_flight.len()) {
                        return Err(Unloaded);
                    }
                }
                () = more_deciding, if !idle => {}
            }
        }
    }

    /// The run ended: journal what is left (for a durable run). A run
    /// unloaded has not ended: its journal stays as it is.
    pub(crate) fn end(&self, unloaded: bool) -> Result<(), JournalError> {
        if unloaded {
            return Ok(());
        }
        self.durable
            .as_ref()
            .map_or(Ok(()), |durable| durable.end())
    }
}

/// What to do with one call.
struct Plan {
    /// Its number in the run.
    call: u32,
    /// What the policy ruled.
    ruling: Ruling,
    /// Why it waits for a decision, if it does.
    wait: Option<Waiting>,
    /// Whether its task journals it as started (once it is decided).
    start_in_task: bool,
}

/// A reply as the journal keeps it.
fn journaled(reply: &Reply) -> Result<String, CallFailure> {
    reply.clone().map_err(|error| CallFailure {
        code: error.code,
        message: error.message,
    })
}

/// A journaled failure, as the script gets it.
fn failure_error(failure: CallFailure) -> CallError {
    CallError {
        code: failure.code,
        message: failure.message,
    }
}

/// A journal that failed: the call is not made (or its reply not given).
fn journal_error(error: &JournalError) -> CallError {
    call_error("journal", error.to_string())
}

/// Serialize a reply with `secrets` redacted from its strings and keys,
/// refusing it as soon as it passes `cap` bytes.
fn encode_reply(reply: &Value, secrets: &Secrets, cap: usize, method: &str) -> Reply {
    struct Capped {
        bytes: Vec<u8>,
        cap: usize,
    }
    impl io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.bytes.len() + buf.len() > self.cap {
                return Err(io::Error::other("over the cap"));
            }
            self.bytes.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped {
        bytes: Vec::new(),
        cap,
    };
    if serde_json::to_writer(&mut out, &secrets.json(reply)).is_err() {
        return Err(call_error(
            "reply-too-large",
            format!("the reply of `{method}` is larger than the limit of {cap} bytes"),
        ));
    }
    // serde_json writes valid UTF-8.
    String::from_utf8(out.bytes)
        .map_err(|_| call_error("connector", "the reply is not UTF-8".into()))
}

/// The run's console: its lines, kept up to the log cap, each told to the
/// sink as it is kept.
pub(crate) struct Console {
    pub(crate) kept: codemode_outcome::Console,
    sink: Option<LogSink>,
}

impl Console {
    /// Keep `text` within the cap, and tell the sink unless it is a line a
    /// durable run writes again as it replays (the sink was told the first
    /// time). Returns whether more output is wanted.
    fn write(&mut self, level: LogLevel, text: String, replayed: bool) -> bool {
        let sink = self.sink.as_ref().filter(|_| !replayed);
        self.kept.write(level, text, |entry| {
            if let Some(sink) = sink {
                sink(entry);
            }
        })
    }
}

/// `codemode.search` and `codemode.describe`, over the index the grants
/// build once.
impl catalog::Host for RunState {
    fn search(&mut self, query: String, limit: u32) -> wasmtime::Result<String> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(self.calls.grants.discovery().search(&query, limit))
    }

    fn describe(&mut self, name: String) -> wasmtime::Result<Result<String, String>> {
        Ok(self.calls.grants.discovery().describe(&name))
    }
}

/// The documents of one run, in the request's order, and how often the
/// guest read them.
pub(crate) struct Documents {
    list: Vec<Arc<Document>>,
    pub(crate) reads: u32,
}

/// `documents`: the nodes of a run's documents.
impl documents::Host for RunState {
    fn read(
        &mut self,
        document: u32,
        node: u32,
    ) -> wasmtime::Result<Result<documents::Node, String>> {
        self.documents.reads = self.documents.reads.saturating_add(1);
        Ok(self
            .documents
            .get(document)
            .and_then(|found| found.read(node)))
    }

    fn find(
        &mut self,
        document: u32,
        pointer: String,
    ) -> wasmtime::Result<Result<documents::Found, String>> {
        Ok(self
            .documents
            .get(document)
            .and_then(|found| found.find(&pointer)))
    }
}

impl Documents {
    /// Document number `document`, or why there is none.
    fn get(&self, document: u32) -> Result<&Document, String> {
        usize::try_from(document)
            .ok()
            .and_then(|index| self.list.get(index))
            .map(|found| &**found)
            .ok_or_else(|| {
                format!(
                    "there is no document {document}: this run has {}",
                    self.list.len()
                )
            })
    }
}

impl host::Host for RunState {
    fn start_call(
        &mut self,
        connector: String,
        method: String,
        args: String,
    ) -> wasmtime::Result<CallStart> {
        if self.calls.started >= self.calls.max_calls {
            let error = ExecutionError::limit(
                ErrorKind::Calls,
                format!(
                    "the script made more than {} connector calls",
                    self.calls.max_calls
                ),
            );
            self.stopped_by = Some(error);
            wasmtime::bail!("connector call limit reached");
        }
        self.calls.started += 1;
        Ok(self.calls.start(&connector, &method, &args))
    }

    async fn wait_next(&mut self, timeout_ns: Option<u64>) -> wasmtime::Result<Option<Completion>> {
        match self.calls.next(timeout_ns.map(Duration::from_nanos)).await {
            Ok(completion) => Ok(completion),
            Err(Unloaded) => {
                self.stopped_by = Some(ExecutionError::limit(
                    ErrorKind::Unloaded,
                    "the run was unloaded while its calls wait for decisions; it resumes from its journal",
                ));
                wasmtime::bail!("the run was unloaded")
            }
        }
    }

    fn log(&mut self, level: host::LogLevel, text: String) -> wasmtime::Result<bool> {
        let level = codemode_outcome::log_level!(level, host::LogLevel);
        let replayed = match &self.calls.durable {
            Some(durable) if !self.console.kept.truncated() => !durable.log(level, &text),
            _ => false,
        };
        Ok(self.console.write(level, text, replayed))
    }
}

#[cfg(test)]
mod tests {
    //! The host's own refusals, reached directly: the prelude never sends a
    //! name it was not given, so no script reaches these checks, and they
    //! are the last line should one ever get hold of the plumbing.

    use async_trait::async_trait;

    use super::*;
    use crate::connector::{Connector, ConnectorError, MethodDescription};

    struct Echo(Vec<MethodDescription>);

    #[async_trait]
    impl Connector for Echo {
        fn methods(&self) -> &[MethodDescription] {
            &self.0
        }
        async fn call(&self, _: &CallContext, args: Value) -> Result<Value, ConnectorError> {
            Ok(args)
        }
    }

    /// A run granted `test.echo`, with arguments of at most 64 bytes.
    fn state() -> RunState {
        let echo: Arc<dyn Connector> =
            Arc::new(Echo(vec![MethodDescription::new("echo", "echoes")]));
        let grants = Arc::new(Grants::new().grant("test", echo).expect("a valid name"));
        let mut limits = Limits::default();
        limits.argument_bytes = 64;
        limits.connector_calls = 20;
        let run = Arc::new(RunScope::new(Instant::now() + limits.timeout));
        RunState::new(
            run,
            grants,
            Vec::new(),
            &limits,
            None,
            Arc::new([]),
            Gate::default(),
            None,
        )
    }

    fn start(state: &mut RunState, connector: &str, method: &str, args: &str) -> Reply {
        let started = host::Host::start_call(state, connector.into(), method.into(), args.into());
        match started {
            Ok(CallStart::Ready(reply)) => reply,
            Ok(CallStart::Pending(_)) => panic!("`{connector}.{method}` did not answer at once"),
            Err(error) => panic!("`{connector}.{method}` trapped: {error}"),
        }
    }

    #[track_caller]
    fn assert_refused(state: &mut RunState, connector: &str, method: &str, args: &str, code: &str) {
        match start(state, connector, method, args) {
            Err(error) => assert_eq!(error.code, code, "{}", error.message),
            Ok(reply) => panic!("`{connector}.{method}` went through: {reply}"),
        }
    }

    #[test]
    fn the_host_refuses_connectors_and_methods_it_did_not_grant() {
        let mut state = state();
        assert_refused(&mut state, "github", "echo", "{}", "not-granted");
        assert_refused(&mut state, "", "echo", "{}", "not-granted");
        for method in ["nope", "", "__proto__", "toString", "constructor", "Echo"] {
            assert_refused(&mut state, "test", method, "{}", "unknown-method");
        }
        let reply = start(&mut state, "test", "echo", r#"{"a":1}"#).ok();
        assert_eq!(reply.as_deref(), Some(r#"{"a":1}"#));
    }

    #[test]
    fn the_host_refuses_arguments_that_are_not_json_or_too_large() {
        let mut state = state();
        for args in ["{not json", "", "{}{}", "\"\\ud800\""] {
            assert_refused(&mut state, "test", "echo", args, "bad-arguments");
        }
        let large = format!("\"{}\"", "x".repeat(63));
        assert_refused(&mut state, "test", "echo", &large, "arguments-too-large");
        let reply = start(&mut state, "test", "echo", "[]").ok();
        assert_eq!(reply.as_deref(), Some("[]"));
    }

    #[test]
    fn the_host_stops_a_run_past_its_call_limit() {
        let mut state = state();
        for _ in 0..20 {
            assert!(start(&mut state, "test", "echo", "1").is_ok());
        }
        let past = host::Host::start_call(&mut state, "test".into(), "echo".into(), "1".into());
        assert!(past.is_err(), "the 21st call was not stopped");
        assert_eq!(
            state.stopped_by.map(|error| error.kind),
            Some(ErrorKind::Calls)
        );
    }
}
