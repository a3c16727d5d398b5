//! The store's tests, against real files in scratch directories. They live
//! inside the crate to reach `CallWait` (the runtime's `PendingCall` cannot
//! be made outside the runtime) and to run durable runs as rollback does.

mod approver;
mod decisions;
mod files;
mod recording;
mod rollback;
mod runs;

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use codemode_runtime::{Action, Because, Entry, Language, Ruling, Waiting};
use codemode_test_support::files::scratch;
use serde_json::{Value, json};

use crate::decisions::CallWait;
use crate::{NewRun, RunStore};

/// A fresh store in a scratch directory named `name`.
fn store(name: &str) -> (RunStore, PathBuf) {
    let dir = scratch(&format!("runs-{name}"));
    let store = RunStore::open(&dir).expect("a new store");
    (store, dir)
}

fn new_run(code: &str) -> NewRun {
    NewRun {
        code: code.into(),
        language: Language::JavaScript,
        grants: vec![("memory".into(), vec!["create_entities".into()])],
        limits: json!({ "timeoutMs": 5000 }),
        seed: [9; 32],
        origin: "run".into(),
    }
}

/// The journal's entry for call `call`, ruled `action`.
fn call_entry(call: u32, action: Action) -> Entry {
    Entry::Call {
        call,
        namespace: "memory".into(),
        method: "create_entities".into(),
        args: r#"{"entities":[]}"#.into(),
        occurrence: 1,
        ruling: Ruling {
            action,
            because: Because::Default,
        },
        at: 1,
    }
}

/// The wait of `call` of `run`, borrowing `args` and `because`.
fn call_wait<'a>(
    run: &'a str,
    call: u32,
    waiting: Waiting,
    args: &'a Value,
    because: &'a Because,
) -> CallWait<'a> {
    CallWait {
        run,
        call,
        namespace: "memory",
        method: "create_entities",
        args,
        waiting,
        because,
        expires: SystemTime::now() + Duration::from_secs(3600),
    }
}
