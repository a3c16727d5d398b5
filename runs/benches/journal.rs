//! What journaling costs a connector call: the average time of appending
//! `[Call, Started]` (before the connector sees the call) and `[Finished]`
//! (after), on a real file. The budget is 50 µs per call.

use std::time::{Duration, Instant};

use codemode_runs::{NewRun, RunStore};
use codemode_runtime::{Action, Because, Entry, Journal, Language, Ruling};

const CALLS: u32 = 1000;

fn main() -> anyhow::Result<()> {
    let dir = codemode_test_support::files::scratch("runs-bench-journal");
    let store = RunStore::open(&dir)?;
    let run = store.create(&NewRun {
        code: "await memory.create_entities({ entities })".into(),
        language: Language::TypeScript,
        grants: vec![("memory".into(), vec!["create_entities".into()])],
        limits: serde_json::json!({}),
        seed: [1; 32],
        origin: "bench".into(),
    })?;
    let journal = store.journal(&run)?;
    let (mut before, mut after) = (Duration::ZERO, Duration::ZERO);
    for call in 1..=CALLS {
        let started = [
            Entry::Call {
                call,
                namespace: "memory".into(),
                method: "create_entities".into(),
                args: format!(
                    r#"{{"entities":[{{"name":"e{call}","entityType":"t","observations":["o"]}}]}}"#
                ),
                occurrence: 1,
                ruling: Ruling {
                    action: Action::Allow,
                    because: Because::Default,
                },
                at: 1,
            },
            Entry::Started { call, at: 1 },
        ];
        let finished = [Entry::Finished {
            call,
            ready: false,
            reply: Ok(format!(
                r#"[{{"name":"e{call}","entityType":"t","observations":["o"]}}]"#
            )),
            at: 2,
        }];
        let clock = Instant::now();
        journal.append(&started)?;
        before += clock.elapsed();
        let clock = Instant::now();
        journal.append(&finished)?;
        after += clock.elapsed();
    }
    let average = |total: Duration| total / CALLS;
    println!(
        "journal append, {CALLS} calls: [Call, Started] {:?}, [Finished] {:?}, per call {:?} (budget 50µs)",
        average(before),
        average(after),
        average(before + after)
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
