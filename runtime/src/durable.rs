//! A durable run on the host: its journal as it is written, and its replay
//! (see [`crate::journal`] for why a run is replayed rather than restored).
//!
//! [`Durable`] is shared by the run's host functions, its connector calls'
//! tasks, and the clocks of its WASI context, behind one lock, so the
//! journal's entries are committed in the order they happened.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::Notify;

use crate::journal::{CallFailure, ClockKind, Entry, Journal, JournalError, Replay};
use codemode_outcome::LogLevel;

/// A call as the journal identifies it: namespace, method, canonical
/// arguments, and which of the calls with those three it is.
type Identity = (String, String, String, u32);

/// What the journal knows of a call.
#[derive(Clone, Debug, Default)]
struct Journaled {
    call: u32,
    started: bool,
    finished: Option<(bool, Result<String, CallFailure>)>,
}

/// What the journal says about a call the code starts.
#[derive(Debug)]
pub(crate) enum Known {
    /// Not journaled: a new call, numbered `call`, the `occurrence`th with
    /// its namespace, method and arguments. Going through the policy is up
    /// to the caller, which journals it.
    New { call: u32, occurrence: u32 },
    /// Journaled and finished: the reply, and whether it was ready at once.
    Finished {
        call: u32,
        ready: bool,
        reply: Result<String, CallFailure>,
    },
    /// Journaled as started and never finished: its process died during
    /// the call. A person decides.
    InDoubt { call: u32 },
    /// Journaled, never started (it was waiting for approval, say).
    Unstarted { call: u32 },
}

/// What a wait is answered with while the journal is replayed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReplayedWait {
    /// The journal's wait ended with call `call`'s end.
    Call(u32),
    /// The journal's wait ended with a timer.
    Timer,
    /// The run is live: wait for real.
    Live,
}

struct Inner {
    /// The clock reads and waits still to replay, in order.
    tape: VecDeque<Entry>,
    /// Whether the replay is over.
    live: bool,
    /// Entries not yet committed: they are committed with the next entry
    /// that records an effect, or at the end.
    buffer: Vec<Entry>,
    journaled: HashMap<Identity, Journaled>,
    /// Journaled calls the code has not started again.
    unmatched: BTreeSet<u32>,
    /// How many calls with each namespace, method and arguments the code
    /// has started.
    seen: HashMap<(String, String, String), u32>,
    next_call: u32,
    /// Console lines already journaled, which the replay writes again.
    logs_to_skip: usize,
    /// How many calls wait for a decision now.
    deciding: u32,
    /// Whether the run was unloaded: no decision goes on from then.
    unloaded: bool,
    /// Clock reads so far, and the last value each clock read.
    reads: u32,
    last: [u64; 2],
    /// The monotonic clock: the last value replayed, and since when the
    /// run is live.
    monotonic_base: u64,
    live_since: Instant,
}

/// The durable state of one run.
pub(crate) struct Durable {
    journal: Arc<dyn Journal>,
    seed: [u8; 32],
    inner: Mutex<Inner>,
    /// Woken when a call starts waiting for a decision: the run may have
    /// become idle.
    more_deciding: Notify,
}

fn millis() -> u64 {
    crate::journal::now_millis()
}

impl Durable {
    pub(crate) fn new(journal: Arc<dyn Journal>, replay: Replay) -> Arc<Self> {
        let mut tape = VecDeque::new();
        let mut journaled: HashMap<Identity, Journaled> = HashMap::new();
        let mut by_number: HashMap<u32, Identity> = HashMap::new();
        let mut logs_to_skip = 0;
        let mut next_call = 1;
        for entry in replay.entries {
            match entry {
                Entry::Clock { .. } | Entry::Wait { .. } => tape.push_back(entry),
                Entry::Call {
                    call,
                    namespace,
                    method,
                    args,
                    occurrence,
                    ..
                } => {
                    let identity = (namespace, method, args, occurrence);
                    next_call = next_call.max(call.saturating_add(1));
                    by_number.insert(call, identity.clone());
                    journaled.insert(
                        identity,
                        Journaled {
                            call,
                            ..Journaled::default()
                        },
                    );
                }
                Entry::Started { call, .. } => {
                    if let Some(found) = by_number.get(&call).and_then(|id| journaled.get_mut(id)) {
                        found.started = true;
                    }
                }
                Entry::Finished {
                    call, ready, reply, ..
                } => {
                    if let Some(found) = by_number.get(&call).and_then(|id| journaled.get_mut(id)) {
                        found.finished = Some((ready, reply));
                    }
                }
                Entry::Log { .. } => logs_to_skip += 1,
                Entry::Diverged { .. } => {}
            }
        }
        let unmatched = journaled.values().map(|j| j.call).collect();
        Arc::new(Self {
            journal,
            seed: replay.seed,
            inner: Mutex::new(Inner {
                live: tape.is_empty(),
                tape,
                buffer: Vec::new(),
                journaled,
                unmatched,
                seen: HashMap::new(),
                next_call,
                logs_to_skip,
                deciding: 0,
                unloaded: false,
                reads: 0,
                last: [0; 2],
                monotonic_base: 0,
                live_since: Instant::now(),
            }),
            more_deciding: Notify::new(),
        })
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The durable run's id.
    pub(crate) fn run(&self) -> &str {
        self.journal.run()
    }

    /// The random source of the run's WASI context, from the journaled seed.
    pub(crate) fn random(&self) -> StdRng {
        StdRng::from_seed(self.seed)
    }

    /// The insecure seed of the run's WASI context.
    pub(crate) fn insecure_seed(&self) -> u128 {
        let mut half = [0u8; 16];
        half.copy_from_slice(&self.seed[..16]);
        u128::from_le_bytes(half)
    }

    /// A read of `clock`: the journaled value while replaying, else the
    /// real one, journaled.
    pub(crate) fn clock(&self, clock: ClockKind) -> u64 {
        let mut inner = self.inner();
        let nanos = inner.read(clock);
        inner.last[clock as usize] = nanos;
        nanos
    }
}

/// Clock reads a durable run journals; past them each clock stands still at
/// its last value, unjournaled (the same on replay, which reads the same
/// count): a script reading the clock in a loop cannot grow the journal, or
/// the host's memory, without bound.
const MAX_CLOCK_READS: u32 = 100_000;

impl Inner {
    fn read(&mut self, clock: ClockKind) -> u64 {
        let inner = self;
        inner.reads = inner.reads.saturating_add(1);
        if inner.reads > MAX_CLOCK_READS {
            return inner.last[clock as usize];
        }
        if !inner.live {
            match inner.tape.front() {
                Some(&Entry::Clock {
                    clock: journaled,
                    nanos,
                }) if journaled == clock => {
                    inner.tape.pop_front();
                    if clock == ClockKind::Monotonic {
                        inner.monotonic_base = nanos;
                    }
                    if inner.tape.is_empty() {
                        inner.go_live();
                    }
                    return nanos;
                }
                other => {
                    let what = format!(
                        "the code read the {clock:?} clock where the journal has {}",
                        describe(other)
                    );
                    inner.diverge(what, None);
                }
            }
        }
        let nanos = match clock {
            ClockKind::Wall => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)),
            ClockKind::Monotonic => {
                let elapsed =
                    u64::try_from(inner.live_since.elapsed().as_nanos()).unwrap_or(u64::MAX);
                inner.monotonic_base.saturating_add(elapsed)
            }
        };
        inner.buffer.push(Entry::Clock { clock, nanos });
        nanos
    }
}

impl Durable {
    /// What the journal knows of the call the code starts now.
    pub(crate) fn known(&self, namespace: &str, method: &str, args: &str) -> Known {
        let mut inner = self.inner();
        let key = (namespace.to_owned(), method.to_owned(), args.to_owned());
        let seen = inner.seen.entry(key).or_default();
        *seen += 1;
        let occurrence = *seen;
        let identity = (
            namespace.to_owned(),
            method.to_owned(),
            args.to_owned(),
            occurrence,
        );
        let Some(found) = inner.journaled.get(&identity).cloned() else {
            let call = inner.next_call;
            inner.next_call += 1;
            if !inner.live {
                inner.diverge(
                    format!("a new call of `{namespace}.{method}`, not in the journal"),
                    None,
                );
            }
            return Known::New { call, occurrence };
        };
        inner.unmatched.remove(&found.call);
        match (found.started, found.finished) {
            (_, Some((ready, reply))) => Known::Finished {
                call: found.call,
                ready,
                reply,
            },
            (true, None) => Known::InDoubt { call: found.call },
            (false, None) => Known::Unstarted { call: found.call },
        }
    }

    /// How the code's wait is answered while replaying.
    pub(crate) fn replayed_wait(&self, has_timer: bool) -> ReplayedWait {
        let mut inner = self.inner();
        if inner.live {
            return ReplayedWait::Live;
        }
        let answer = match inner.tape.front() {
            Some(Entry::Wait { call: Some(call) }) => ReplayedWait::Call(*call),
            Some(Entry::Wait { call: None }) if has_timer => ReplayedWait::Timer,
            other => {
                let what = format!("the code waited where the journal has {}", describe(other));
                inner.diverge(what, None);
                return ReplayedWait::Live;
            }
        };
        inner.tape.pop_front();
        if inner.tape.is_empty() {
            inner.go_live();
        }
        answer
    }

    /// The journaled wait named a call whose reply the replay does not
    /// have: the code diverged.
    pub(crate) fn wait_diverged(&self, call: u32) {
        self.inner().diverge(
            "the journal's wait ended with a call the code did not start again".into(),
            Some(call),
        );
    }

    /// A live wait ended, with call `call`'s end or (when `None`) a timer.
    pub(crate) fn waited(&self, call: Option<u32>) {
        self.inner().buffer.push(Entry::Wait { call });
    }

    /// A console line: journaled unless the replay is writing it again.
    /// Whether it is new.
    pub(crate) fn log(&self, level: LogLevel, text: &str) -> bool {
        let mut inner = self.inner();
        if inner.logs_to_skip > 0 {
            inner.logs_to_skip -= 1;
            return false;
        }
        inner.buffer.push(Entry::Log {
            level,
            text: text.to_owned(),
        });
        true
    }

    /// Commit what is buffered, then `entries`.
    pub(crate) fn commit(
        &self,
        entries: impl IntoIterator<Item = Entry>,
    ) -> Result<(), JournalError> {
        let mut inner = self.inner();
        inner.buffer.extend(entries);
        let result = self.journal.append(&inner.buffer);
        inner.buffer.clear();
        result
    }

    /// The call about to reach its connector.
    pub(crate) fn started(&self, call: u32) -> Result<(), JournalError> {
        self.commit([Entry::Started { call, at: millis() }])
    }

    /// The call ended. Buffered like a clock read: what the script does
    /// with the reply reaches the world only through a later call, whose
    /// commit carries it (one commit per call, not two). A process that
    /// dies before then leaves the call in doubt, never repeated silently.
    /// While a call of the run waits for a person, which may take hours,
    /// the reply is committed at once.
    pub(crate) fn finished(&self, call: u32, ready: bool, reply: Result<String, CallFailure>) {
        let entry = Entry::Finished {
            call,
            ready,
            reply,
            at: millis(),
        };
        let mut inner = self.inner();
        if inner.deciding == 0 {
            inner.buffer.push(entry);
            return;
        }
        drop(inner);
        if let Err(error) = self.commit([entry]) {
            tracing::error!(%error, call, "a reply was not journaled; the call will be in doubt");
        }
    }

    /// A call starts waiting for a decision: what the run did so far is
    /// committed, and so is every reply until the wait ends (the guard is
    /// dropped).
    pub(crate) fn deciding(self: &Arc<Self>) -> Result<Deciding, JournalError> {
        self.inner().deciding += 1;
        let deciding = Deciding(Some(Arc::clone(self)));
        self.commit([])?;
        self.more_deciding.notify_waiters();
        Ok(deciding)
    }

    /// Resolves when a call starts waiting for a decision after this was
    /// called.
    pub(crate) fn more_deciding(&self) -> tokio::sync::futures::Notified<'_> {
        self.more_deciding.notified()
    }

    /// Whether the run is idle at its gate: the replay is over, and each of
    /// its `in_flight` calls waits for a decision.
    pub(crate) fn idle(&self, in_flight: usize) -> bool {
        self.inner().idle(in_flight)
    }

    /// Unload the run if it is idle, atomically with the decisions: once
    /// unloaded, no call goes on past its gate (see [`Deciding::settle`]).
    /// Whether it was unloaded.
    pub(crate) fn unload(&self, in_flight: usize) -> bool {
        let mut inner = self.inner();
        inner.unloaded = inner.idle(in_flight);
        inner.unloaded
    }

    /// The run ended: journal the calls it never made again, and commit.
    pub(crate) fn end(&self) -> Result<(), JournalError> {
        let unmatched: Vec<u32> = std::mem::take(&mut self.inner().unmatched)
            .into_iter()
            .collect();
        self.commit(unmatched.into_iter().map(|call| Entry::Diverged {
            what: "a journaled call the resumed code never made again".into(),
            call: Some(call),
        }))
    }
}

/// A call of the run waits for a decision while this lives.
pub(crate) struct Deciding(Option<Arc<Durable>>);

impl Deciding {
    /// The call was decided: whether it goes on, which it does unless the
    /// run was unloaded meanwhile (the decision is the approver's to keep;
    /// the resumed run finds it).
    pub(crate) fn settle(mut self) -> bool {
        let Some(durable) = self.0.take() else {
            return true;
        };
        let mut inner = durable.inner();
        inner.deciding -= 1;
        !inner.unloaded
    }
}

impl Drop for Deciding {
    fn drop(&mut self) {
        if let Some(durable) = self.0.take() {
            durable.inner().deciding -= 1;
        }
    }
}

impl Inner {
    fn idle(&self, in_flight: usize) -> bool {
        self.live && self.deciding > 0 && self.deciding as usize == in_flight
    }

    fn go_live(&mut self) {
        self.live = true;
        self.live_since = Instant::now();
    }

    fn diverge(&mut self, what: String, call: Option<u32>) {
        self.buffer.push(Entry::Diverged { what, call });
        self.tape.clear();
        self.go_live();
    }
}

fn describe(entry: Option<&Entry>) -> String {
    match entry {
        None => "nothing more".into(),
        Some(Entry::Clock { clock, .. }) => format!("a read of the {clock:?} clock"),
        Some(Entry::Wait { call: Some(call) }) => format!("a wait for call {call}"),
        Some(Entry::Wait { call: None }) => "a wait for a timer".into(),
        Some(_) => "another entry".into(),
    }
}

/// The run's wall clock, as its WASI context reads it.
pub(crate) struct WallClock(pub(crate) Arc<Durable>);

impl wasmtime_wasi::HostWallClock for WallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.clock(ClockKind::Wall))
    }
}

/// The run's monotonic clock, as its WASI context reads it.
pub(crate) struct MonotonicClock(pub(crate) Arc<Durable>);

impl wasmtime_wasi::HostMonotonicClock for MonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        self.0.clock(ClockKind::Monotonic)
    }
}
