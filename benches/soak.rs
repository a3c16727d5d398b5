//! Soak and concurrency runs of the runtime: long, mixed workloads in one
//! process, checked for failures and for memory that does not come back.
//!
//! These are not timed tests: they print what they measured and exit
//! non-zero when a run ended other than its workload says it must, or when
//! memory grew past the bound.
//!
//! ```sh
//! cargo bench --bench soak -- executions 100000   # RSS after warm-up vs at the end
//! cargo bench --bench soak -- concurrency 60      # 64 runs at once for 60 s
//! ```
//!
//! Both draw from one mix: results, script errors, syntax errors, connector
//! calls (awaited and concurrent), console output, and runs stopped by fuel,
//! memory and the call limit; `executions` adds a deadline stop every 100th
//! run.

#![allow(missing_docs)]

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use codemode_runtime::{ErrorKind, Execution, Grants, Limits, MethodDescription, Runtime};
use codemode_test_support::connector::{FnConnector, grant};
use codemode_test_support::runs::{current_thread, limits};
use serde_json::Value;

/// One kind of run in the mix, and the outcome it must have.
struct Workload {
    code: &'static str,
    limits: fn() -> Limits,
    expected: Expected,
}

/// The JSON text of the result, or the kind of error.
enum Expected {
    Result(&'static str),
    Error(ErrorKind),
}

fn default_limits() -> Limits {
    Limits::default()
}

fn little_fuel() -> Limits {
    limits(|l| l.fuel = 2_000_000)
}

fn little_memory() -> Limits {
    limits(|l| l.memory_bytes = 16 << 20)
}

fn few_calls() -> Limits {
    limits(|l| l.connector_calls = 5)
}

fn short_deadline() -> Limits {
    limits(|l| {
        l.timeout = Duration::from_millis(5);
        l.fuel = u64::MAX / 2;
    })
}

const MIX: &[Workload] = &[
    Workload {
        code: "1 + 1",
        limits: default_limits,
        expected: Expected::Result("2"),
    },
    Workload {
        code: "const r = await host.echo({ i: 7 }); r.i * 6",
        limits: default_limits,
        expected: Expected::Result("42"),
    },
    Workload {
        code: "(await Promise.all([1, 2, 3].map((i) => host.later({ i })))).map((r) => r.i)",
        limits: default_limits,
        expected: Expected::Result("[1,2,3]"),
    },
    Workload {
        code: "console.log('line', { a: [1, 2] }); console.error('oops'); [1, 2, 3].map((x) => x * 2)",
        limits: default_limits,
        expected: Expected::Result("[2,4,6]"),
    },
    Workload {
        code: "throw new TypeError('no')",
        limits: default_limits,
        expected: Expected::Error(ErrorKind::Script),
    },
    Workload {
        code: "const x = ;",
        limits: default_limits,
        expected: Expected::Error(ErrorKind::Script),
    },
    Workload {
        code: "interface P { x: number }\nconst p: P = { x: 3 };\np.x",
        limits: default_limits,
        expected: Expected::Result("3"),
    },
    Workload {
        code: "while (true) {}",
        limits: little_fuel,
        expected: Expected::Error(ErrorKind::Fuel),
    },
    Workload {
        code: "const hoard = []; while (true) hoard.push(new Uint8Array(1 << 20).fill(1));",
        limits: little_memory,
        expected: Expected::Error(ErrorKind::Memory),
    },
    Workload {
        code: "for (let i = 0; i < 10; i++) await host.echo({ i });",
        limits: few_calls,
        expected: Expected::Error(ErrorKind::Calls),
    },
];

/// A run stopped by its deadline, for one run in a hundred.
const DEADLINE_RUN: Workload = Workload {
    code: "while (true) {}",
    limits: short_deadline,
    expected: Expected::Error(ErrorKind::Timeout),
};

/// Run `workload` and say whether it ended as it must.
async fn run(runtime: &Runtime, grants: &Arc<Grants>, workload: &Workload) -> Result<(), String> {
    let execution = Execution::new(workload.code)
        .grants(Arc::clone(grants))
        .limits((workload.limits)());
    let outcome = runtime
        .execute(execution)
        .await
        .map_err(|error| format!("`{}` did not start: {error}", workload.code))?;
    let as_expected = match (&workload.expected, &outcome.result, &outcome.error) {
        (Expected::Result(json), Some(value), None) => {
            serde_json::from_str::<Value>(json).ok().as_ref() == Some(value)
        }
        (Expected::Error(kind), None, Some(error)) => error.kind == *kind,
        _ => false,
    };
    if as_expected {
        Ok(())
    } else {
        Err(format!(
            "`{}` ended with {:?} {:?}",
            workload.code, outcome.result, outcome.error
        ))
    }
}

/// This process's resident memory, in bytes.
fn resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib * 1024)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// The connector `host`, replying with its arguments at once (`echo`) or
/// after yielding to the scheduler (`later`).
fn grants() -> Arc<Grants> {
    let echo = FnConnector::new(
        vec![
            MethodDescription::new("echo", "returns its arguments"),
            MethodDescription::new("later", "returns its arguments after a yield"),
        ],
        |method, args| {
            let later = method == "later";
            async move {
                if later {
                    tokio::task::yield_now().await;
                }
                Ok(args)
            }
        },
    );
    grant("host", echo)
}

/// `executions N`: N runs one after another; resident memory after a
/// warm-up of a tenth of them against the end must grow less than 5%.
fn executions(total: u64) -> ExitCode {
    let runtime = Runtime::new().expect("the runtime starts");
    let grants = grants();
    let tokio = current_thread();
    let warm_up = (total / 10).max(1);
    let mut after_warm_up = 0;
    let mut failures = 0u64;
    // Time spent in each workload of the mix (the deadline run last).
    let mut spent = vec![(Duration::ZERO, 0u32); MIX.len() + 1];
    let started = Instant::now();
    tokio.block_on(async {
        for i in 0..total {
            let (index, workload) = if i % 100 == 99 {
                (MIX.len(), &DEADLINE_RUN)
            } else {
                let index = i as usize % MIX.len();
                (index, &MIX[index])
            };
            let run_started = Instant::now();
            let ran = run(&runtime, &grants, workload).await;
            spent[index].0 += run_started.elapsed();
            spent[index].1 += 1;
            if let Err(failure) = ran {
                failures += 1;
                if failures <= 10 {
                    eprintln!("run {i}: {failure}");
                }
            }
            if i + 1 == warm_up {
                after_warm_up = resident_bytes();
            }
        }
    });
    let elapsed = started.elapsed();
    let end = resident_bytes();
    let growth = (end as f64 - after_warm_up as f64) / after_warm_up.max(1) as f64 * 100.0;
    println!(
        "executions: {total} runs in {:.1} s ({:.0}/s), {failures} failures; RSS {:.1} MiB after {warm_up} runs, {:.1} MiB at the end ({growth:+.2}%)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        mib(after_warm_up),
        mib(end),
    );
    for (workload, (time, runs)) in MIX.iter().chain([&DEADLINE_RUN]).zip(&spent) {
        let mean = time.as_secs_f64() * 1e6 / f64::from((*runs).max(1));
        println!("  {mean:>9.0} µs  {}", workload.code.replace('\n', " "));
    }
    if failures > 0 || growth >= 5.0 {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// `concurrency SECONDS`: 64 runs at once, each task starting the next as
/// one ends, for SECONDS; every run must end as its workload says.
fn concurrency(seconds: u64) -> ExitCode {
    const AT_ONCE: usize = 64;
    let runtime = Arc::new(Runtime::new().expect("the runtime starts"));
    let grants = grants();
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let done = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    tokio.block_on(async {
        let tasks: Vec<_> = (0..AT_ONCE)
            .map(|task| {
                let (runtime, grants) = (Arc::clone(&runtime), Arc::clone(&grants));
                let (done, failures, stop) =
                    (Arc::clone(&done), Arc::clone(&failures), Arc::clone(&stop));
                tokio::spawn(async move {
                    let mut i = task;
                    while !stop.load(Ordering::Relaxed) {
                        if let Err(failure) = run(&runtime, &grants, &MIX[i % MIX.len()]).await
                            && failures.fetch_add(1, Ordering::Relaxed) < 10
                        {
                            eprintln!("{failure}");
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                        i += AT_ONCE;
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        for task in tasks {
            task.await.expect("a run's task panicked");
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let (done, failures) = (
        done.load(Ordering::Relaxed),
        failures.load(Ordering::Relaxed),
    );
    println!(
        "concurrency: {AT_ONCE} at once for {elapsed:.1} s: {done} runs ({:.0}/s), {failures} failures; RSS {:.1} MiB",
        done as f64 / elapsed,
        mib(resident_bytes()),
    );
    if failures > 0 {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; the words after `--` are ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .collect();
    let number = |default: u64| {
        args.get(1)
            .map_or(Ok(default), |n| n.parse::<u64>())
            .unwrap_or_else(|_| {
                eprintln!("usage: soak executions [N] | concurrency [SECONDS]");
                std::process::exit(2)
            })
    };
    match args.first().map(String::as_str) {
        Some("executions") | None => executions(number(100_000)),
        Some("concurrency") => concurrency(number(60)),
        Some(other) => {
            eprintln!("unknown soak `{other}`: usage: soak executions [N] | concurrency [SECONDS]");
            ExitCode::from(2)
        }
    }
}
