//! The store's tests, each run on both backends: a real SQLite file in a
//! scratch directory, and a database of its own on a real PostgreSQL
//! server (Debian's, which `scripts/test-postgres` starts). They live
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
use codemode_test_support::postgres;
use serde_json::{Value, json};

use crate::decisions::CallWait;
use crate::{NewRun, RunStore};

/// What a store is kept in: these tests run once on each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    /// A file in a scratch directory.
    Sqlite,
    /// A database of its own on the test process's PostgreSQL server.
    Postgres,
}

/// Where a test's store is, and its scratch directory.
struct Place {
    /// What `RunStore::at` opens: the scratch directory, or the URL.
    state: PathBuf,
    /// The test's scratch directory.
    dir: PathBuf,
}

impl Place {
    /// The lock file of `run`, which only SQLite's runs have.
    fn lock_file(&self, run: &str) -> PathBuf {
        self.dir.join("locks").join(format!("{run}.lock"))
    }
}

/// A fresh store named `name` on `backend`.
fn store(backend: Backend, name: &str) -> (RunStore, Place) {
    let dir = scratch(&format!("runs-{name}-{backend:?}"));
    let state = match backend {
        Backend::Sqlite => dir.clone(),
        Backend::Postgres => PathBuf::from(postgres::database(&name.replace('-', "_"))),
    };
    let store = RunStore::at(&state).expect("a new store");
    (store, Place { state, dir })
}

/// The test `NAME(backend)` run once on each backend, as
/// `NAME::sqlite` and `NAME::postgres`; an async one under the given
/// test attribute.
macro_rules! on_both_backends {
    (fn $name:ident) => {
        mod $name {
            #[test]
            fn sqlite() -> anyhow::Result<()> {
                super::$name($crate::tests::Backend::Sqlite)
            }

            #[test]
            fn postgres() -> anyhow::Result<()> {
                super::$name($crate::tests::Backend::Postgres)
            }
        }
    };
    (async fn $name:ident, #[$attribute:meta]) => {
        mod $name {
            #[allow(unused_imports)]
            use codemode_test_macros::bounded_test;

            #[$attribute]
            async fn sqlite() -> anyhow::Result<()> {
                super::$name($crate::tests::Backend::Sqlite).await
            }

            #[$attribute]
            async fn postgres() -> anyhow::Result<()> {
                super::$name($crate::tests::Backend::Postgres).await
            }
        }
    };
}
use on_both_backends;

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
