//! The durable runs' speed targets (issue 15), each measured beside what it
//! is compared with, in the same run:
//!
//! - `journal_per_call`: 30 sequential awaited calls to a connector that
//!   answers at once, run plain and durably (a new run in a store on a real
//!   file, created and run through `DurableRuns`). Target: journaling adds
//!   at most 50 µs per call.
//! - `cold_start`: the script `1`, plain and durable (created and run).
//!   Target: durable at most 2× plain.
//! - `resume_30_calls`: what a restarted process does to resume a run that
//!   paused at an approval gate after 30 journaled calls, once a person
//!   approved the gated call: open the store, load the run and its journal,
//!   replay the 30 calls from it and make the approved one. Target: at most
//!   10 ms.
//!
//! Every run is timed, and after the groups the medians are printed with
//! the figures the targets are about.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use codemode_runs::{DurableRuns, RunStore, StoreApprover, Wait};
use codemode_runtime::{
    Action, Decision, Entry, Execution, Grants, Journal, JournalError, Language, Limits,
    MethodDescription, Outcome, Policy, Replay, Rule, Runtime,
};
use codemode_test_support::connector::{FnConnector, grant};
use codemode_test_support::files::scratch;
use codemode_test_support::runs::current_thread;
use criterion::{Bencher, Criterion};
use serde_json::{Value, json};

/// The calls of `journal_per_call`, and those journaled before the gate in
/// `resume_30_calls`.
const CALLS: u32 = 30;

/// A script awaiting `test.echo` [`CALLS`] times, one call after another,
/// then returning `end`.
fn sequential_calls(end: &str) -> String {
    format!(
        "async () => {{ for (let i = 0; i < {CALLS}; i++) await test.echo({{ i }}); return {end} }}"
    )
}

/// What a durable run needs, shared by every group: one wasmtime runtime,
/// the connector `test` (counting the calls it is sent), and durable runs
/// in a store in a scratch directory.
struct Fixture {
    tokio: tokio::runtime::Runtime,
    runtime: Arc<Runtime>,
    grants: Arc<Grants>,
    durable: DurableRuns,
    dir: PathBuf,
    calls_made: Arc<AtomicU32>,
}

impl Fixture {
    fn new() -> Self {
        let calls_made = Arc::new(AtomicU32::new(0));
        let counted = Arc::clone(&calls_made);
        let connector = FnConnector::new(
            vec![
                MethodDescription::new("echo", "returns its arguments"),
                MethodDescription::new("last", "returns its arguments, once approved"),
            ],
            move |_, args| {
                counted.fetch_add(1, Ordering::Relaxed);
                std::future::ready(Ok(args))
            },
        );
        let grants = grant("test", connector);
        let runtime = Arc::new(Runtime::new().expect("runtime"));
        let dir = scratch("bench-durable");
        let store = RunStore::open(&dir).expect("the store opens");
        let durable = DurableRuns::new(
            store,
            Arc::clone(&runtime),
            Arc::clone(&grants),
            Limits::default(),
            "bench",
        );
        Self {
            tokio: current_thread(),
            runtime,
            grants,
            durable,
            dir,
            calls_made,
        }
    }

    fn plain(&self, code: &str) -> Outcome {
        let execution = Execution::new(code).grants(Arc::clone(&self.grants));
        self.tokio
            .block_on(self.runtime.execute(execution))
            .expect("runs")
    }

    /// `code` run durably with a journal that keeps nothing: the runtime's
    /// share of a durable run's cost, without the store's.
    fn unkept(&self, code: &str) -> Outcome {
        let execution = Execution::new(code)
            .grants(Arc::clone(&self.grants))
            .durable(Arc::new(Unkept("r_unkept".into())), Replay::default());
        self.tokio
            .block_on(self.runtime.execute(execution))
            .expect("runs")
    }

    /// A new durable run of `code`, created and run to its end.
    fn durable(&self, code: &str) -> Outcome {
        let new = self.durable.create(code, Language::TypeScript);
        self.tokio
            .block_on(self.durable.start(new, None))
            .expect("runs")
    }

    /// A durable run paused at its gated `test.last` after [`CALLS`]
    /// journaled calls, its process gone (the run's future dropped), and
    /// the gated call approved in the store since: what a restarted process
    /// finds. Its id.
    fn paused_and_approved(&self) -> String {
        let durable = self.durable.clone().policy(Some(gate_last()));
        let new = durable.create(
            &sequential_calls("test.last({ i: 30 })"),
            Language::TypeScript,
        );
        let run = new.id().to_owned();
        let wait = self.tokio.block_on(async {
            tokio::select! {
                outcome = durable.start(new, None) => panic!("the run passed its gate: {outcome:?}"),
                wait = first_wait(durable.store(), &run) => wait,
            }
        });
        assert_eq!(wait.name(), "test.last");
        let replay = durable.store().replay(&run).expect("readable");
        let replies = replay
            .entries
            .iter()
            .filter(|entry| matches!(entry, Entry::Finished { .. }))
            .count();
        assert_eq!(
            replies, CALLS as usize,
            "the replies journaled before the gate"
        );
        durable
            .store()
            .decide(&run, wait.call, &Decision::Approve { by: "bench".into() })
            .expect("decided");
        run
    }

    /// Resume `run` as a restarted process does, with a journal that keeps
    /// nothing (so every iteration replays the same journal).
    fn resume(&self, run: &str) -> Outcome {
        let store = RunStore::open(&self.dir).expect("the store opens");
        let record = store.load(run).expect("the run is there");
        let replay = store.replay(run).expect("readable");
        let execution = Execution::new(record.code)
            .language(record.language)
            .grants(Arc::clone(&self.grants))
            .policy(gate_last())
            .approver(Arc::new(StoreApprover::new(store)))
            .durable(Arc::new(Unkept(run.to_owned())), replay);
        self.tokio
            .block_on(self.runtime.execute(execution))
            .expect("runs")
    }
}

/// `test.last` waits for a person; every other call goes through.
fn gate_last() -> Arc<Policy> {
    let rules = vec![Rule {
        pattern: "test.last".into(),
        action: Action::Approve,
    }];
    Arc::new(Policy::new(rules, Action::Allow).expect("a valid pattern"))
}

/// The first call of `run` recorded as waiting in `store`.
async fn first_wait(store: &RunStore, run: &str) -> Wait {
    loop {
        if let Some(wait) = store
            .pending(Some(run))
            .expect("readable")
            .into_iter()
            .next()
        {
            return wait;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The journal of a resumed run, committing nothing: a real resume commits
/// a few entries more (the approved call and its reply) and would make the
/// journal each iteration replays longer than the last; what is measured
/// is the replay.
struct Unkept(String);

impl Journal for Unkept {
    fn run(&self) -> &str {
        &self.0
    }

    fn append(&self, _entries: &[Entry]) -> Result<(), JournalError> {
        Ok(())
    }
}

/// Hands criterion the time of each run of `run`, and keeps each in
/// `times`.
fn timed(bencher: &mut Bencher<'_>, times: &mut Vec<Duration>, mut run: impl FnMut()) {
    bencher.iter_custom(|iterations| {
        let mut total = Duration::ZERO;
        for _ in 0..iterations {
            let started = Instant::now();
            run();
            let took = started.elapsed();
            times.push(took);
            total += took;
        }
        total
    });
}

/// The median of `times`; `None` when the benchmark was filtered out.
fn median(mut times: Vec<Duration>) -> Option<Duration> {
    times.sort();
    times.get(times.len() / 2).copied()
}

fn assert_result(outcome: &Outcome, expected: &Value) {
    assert!(outcome.ok(), "{:?}", outcome.error);
    assert_eq!(outcome.result.as_ref(), Some(expected));
}

/// One way of running a script: plain, or durably.
type RunScript = fn(&Fixture, &str) -> Outcome;

/// The medians of one script's runs, plain and durable.
struct Medians {
    plain: Duration,
    /// Durable, with a journal that keeps nothing.
    unkept: Duration,
    /// Durable, in the store.
    durable: Duration,
}

/// The group `name`: `code` run plain, durably with a journal that keeps
/// nothing, and durably in the store. The median of each.
fn plain_vs_durable(
    criterion: &mut Criterion,
    fixture: &Fixture,
    name: &str,
    code: &str,
    expected: &Value,
) -> Option<Medians> {
    let mut group = criterion.benchmark_group(name);
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let variants: [(&str, RunScript); 3] = [
        ("plain", Fixture::plain),
        ("durable_unkept", Fixture::unkept),
        ("durable", Fixture::durable),
    ];
    let [plain, unkept, durable] = variants.map(|(variant, run)| {
        let mut times = Vec::new();
        group.bench_function(variant, |b| {
            timed(b, &mut times, || {
                assert_result(&run(fixture, code), expected)
            });
        });
        median(times)
    });
    group.finish();
    Some(Medians {
        plain: plain?,
        unkept: unkept?,
        durable: durable?,
    })
}

fn resume_30_calls(criterion: &mut Criterion, fixture: &Fixture) -> Option<Duration> {
    let run = fixture.paused_and_approved();
    let mut group = criterion.benchmark_group("resume_30_calls");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    let mut times = Vec::new();
    group.bench_function("after_restart", |b| {
        timed(b, &mut times, || {
            let made = fixture.calls_made.load(Ordering::Relaxed);
            assert_result(&fixture.resume(&run), &json!({ "i": 30 }));
            let made = fixture.calls_made.load(Ordering::Relaxed) - made;
            assert_eq!(
                made, 1,
                "only the approved call is made; the rest are replayed"
            );
        });
    });
    group.finish();
    median(times)
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    let fixture = Fixture::new();
    let calls = plain_vs_durable(
        &mut criterion,
        &fixture,
        "journal_per_call",
        &sequential_calls("30"),
        &json!(CALLS),
    );
    let cold = plain_vs_durable(&mut criterion, &fixture, "cold_start", "1", &json!(1));
    let resume = resume_30_calls(&mut criterion, &fixture);
    criterion.final_summary();

    let per_call =
        |more: Duration, less: Duration| (micros(more) - micros(less)) / f64::from(CALLS);
    if let Some(Medians {
        plain,
        unkept,
        durable,
    }) = calls
    {
        eprintln!(
            "journal_per_call: medians plain {plain:?}, durable_unkept {unkept:?}, durable {durable:?}; \
             (durable - plain) / {CALLS} = {:.1} µs per call (target ≤ 50 µs), \
             of which the runtime's, (durable_unkept - plain) / {CALLS}: {:.1} µs",
            per_call(durable, plain),
            per_call(unkept, plain),
        );
        if let Some(cold) = &cold {
            let fixed = cold.durable.saturating_sub(cold.plain);
            eprintln!(
                "journal_per_call: less a durable run's fixed cost ({fixed:?}, from cold_start): \
                 {:.1} µs per call",
                per_call(durable.saturating_sub(fixed), plain)
            );
        }
    }
    if let Some(Medians {
        plain,
        unkept,
        durable,
    }) = cold
    {
        eprintln!(
            "cold_start: medians plain {plain:?}, durable_unkept {unkept:?}, durable {durable:?}; \
             durable {:.2}× plain (target ≤ 2×)",
            durable.as_secs_f64() / plain.as_secs_f64()
        );
    }
    if let Some(resume) = resume {
        eprintln!("resume_30_calls: median {resume:?} (target ≤ 10 ms)");
    }
    let _ = std::fs::remove_dir_all(&fixture.dir);
}
