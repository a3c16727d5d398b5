//! Rollback end to end: durable runs against the reference memory server
//! (`@modelcontextprotocol/server-memory` from `tests/npm`, file-backed in a
//! scratch directory), rolled back with undos as the configuration gives
//! them, the upstream's calls counted on the way.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, Result};
use async_trait::async_trait;
use codemode_mcp_client::{McpConnector, Timeouts, UpstreamConfig};
use codemode_runtime::{
    Action, Because, CallContext, Connector, ConnectorError, Entry, Execution, Grants, Journal,
    Language, Limits, MethodDescription, Ruling, Runtime, Secrets,
};
use codemode_test_support::connector::{FnConnector, grant};
use codemode_test_support::files::mcp_server;
use serde_json::{Value, json};

use super::{Backend, new_run, on_both_backends, store};
use crate::rollback::execute_durably;
use crate::{NewRun, RollbackError, RollbackReport, RunStore, Status, StoreError, Undo, rollback};

/// A connector that counts its calls by method before passing them on.
struct Counted {
    inner: Arc<dyn Connector>,
    calls: Mutex<BTreeMap<String, u32>>,
}

impl Counted {
    fn count(&self, method: &str) -> u32 {
        let calls = self.calls.lock().unwrap_or_else(PoisonError::into_inner);
        calls.get(method).copied().unwrap_or(0)
    }
}

#[async_trait]
impl Connector for Counted {
    fn methods(&self) -> &[MethodDescription] {
        self.inner.methods()
    }

    async fn call(&self, call: &CallContext, args: Value) -> Result<Value, ConnectorError> {
        *self
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(call.method.to_string())
            .or_default() += 1;
        self.inner.call(call, args).await
    }
}

/// The memory server, keeping its graph in `dir`, granted as `memory`,
/// its calls counted.
async fn memory(dir: &Path) -> Result<(Arc<Grants>, Arc<Counted>)> {
    let config: UpstreamConfig = serde_json::from_value(json!({
        "command": "node",
        "args": [mcp_server("memory").display().to_string()],
        "env": { "MEMORY_FILE_PATH": dir.join("memory.jsonl").display().to_string() },
    }))?;
    let connector =
        McpConnector::connect("memory", config, Timeouts::default(), &Secrets::default()).await?;
    let counted = Arc::new(Counted {
        inner: Arc::new(connector),
        calls: Mutex::default(),
    });
    Ok((grant("memory", Arc::clone(&counted) as _), counted))
}

/// A store, a runtime and the grants a test's runs and undos get.
struct Fixture {
    store: RunStore,
    runtime: Runtime,
    grants: Arc<Grants>,
}

impl Fixture {
    fn new(store: RunStore, grants: Arc<Grants>) -> Result<Self> {
        Ok(Self {
            store,
            runtime: Runtime::new()?,
            grants,
        })
    }

    /// Run `code` as a new durable run, to its end.
    async fn durable_run(&self, code: &str) -> Result<String> {
        let run = self.store.create(&NewRun {
            language: Language::TypeScript,
            origin: "test".into(),
            ..new_run(code)
        })?;
        let execution = Execution::new(code).grants(Arc::clone(&self.grants));
        let outcome = execute_durably(&self.store, &self.runtime, &run, execution).await??;
        anyhow::ensure!(outcome.ok(), "the run failed: {:?}", outcome.error);
        Ok(run)
    }

    /// The graph as `read_graph` gives it, read by a run that is not
    /// durable: its entities' names and its relations as `from>to`.
    async fn graph(&self) -> Result<(Vec<String>, Vec<String>)> {
        let graph = self.plain_run("await memory.read_graph({})").await?;
        let list = |key: &str, show: &dyn Fn(&Value) -> String| -> Vec<String> {
            graph[key]
                .as_array()
                .map_or_else(Vec::new, |items| items.iter().map(show).collect())
        };
        let text = |value: &Value| value.as_str().unwrap_or_default().to_owned();
        Ok((
            list("entities", &|entity| text(&entity["name"])),
            list("relations", &|r| {
                format!("{}>{}", text(&r["from"]), text(&r["to"]))
            }),
        ))
    }

    /// Run `code`, not durably, and give its result.
    async fn plain_run(&self, code: &str) -> Result<Value> {
        let execution = Execution::new(code).grants(Arc::clone(&self.grants));
        let outcome = self.runtime.execute(execution).await?;
        outcome.result.context("the run gave nothing")
    }

    /// Roll `run` back with `undos`.
    async fn rollback(
        &self,
        undos: &BTreeMap<String, String>,
        run: &str,
    ) -> Result<RollbackReport, RollbackError> {
        let grants = Arc::clone(&self.grants);
        rollback(
            &self.store,
            &self.runtime,
            grants,
            undos,
            run,
            &Limits::default(),
        )
        .await
    }
}

/// Each step as `call operation what`, the undo runs' ids left out.
fn steps(report: &RollbackReport) -> Vec<String> {
    report
        .steps
        .iter()
        .map(|step| {
            let undo = match &step.undo {
                Undo::Applied { .. } => "applied".to_owned(),
                Undo::AlreadyApplied => "already applied".to_owned(),
                Undo::CannotBeUndone => "cannot be undone".to_owned(),
                Undo::Failed { error, .. } => format!("failed: {error}"),
            };
            format!("{} {} {undo}", step.call, step.operation)
        })
        .collect()
}

fn undos(entries: &[(&str, &str)]) -> BTreeMap<String, String> {
    entries
        .iter()
        .map(|(key, source)| ((*key).to_owned(), (*source).to_owned()))
        .collect()
}

const DELETE_ENTITIES: &str =
    "({ args }) => memory.delete_entities({ entityNames: args.entities.map(e => e.name) })";
const DELETE_RELATIONS: &str = "({ args }: { args: { relations: unknown[] } }) => memory.delete_relations({ relations: args.relations })";

/// A smaller knowledge-graph example: three entities, a chain of two
/// relations, an observation added, the graph read back.
const KNOWLEDGE_GRAPH: &str = r#"
const pioneers = [
  ["Ada Lovelace", "wrote the first published program"],
  ["Alan Turing", "defined computability"],
  ["Grace Hopper", "built the first compiler"],
];
for (const [name, deed] of pioneers) {
  await memory.create_entities({ entities: [{ name, entityType: "computer scientist", observations: [deed] }] });
}
for (let i = 1; i < pioneers.length; i++) {
  await memory.create_relations({
    relations: [{ from: pioneers[i][0], to: pioneers[i - 1][0], relationType: "came after" }],
  });
}
await memory.add_observations({ observations: [{ entityName: "Ada Lovelace", contents: ["born in 1815"] }] });
(await memory.read_graph({})).entities.length
"#;

/// The undos of the graph's two writers, as a configuration gives them.
fn graph_undos() -> BTreeMap<String, String> {
    undos(&[
        ("memory.create_entities", DELETE_ENTITIES),
        ("memory.create_relations", DELETE_RELATIONS),
    ])
}

/// `names`, owned.
fn owned(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

async fn a_rolled_back_run_leaves_none_of_its_entities_or_relations(
    backend: Backend,
) -> Result<()> {
    let (store, place) = store(backend, "rollback-graph");
    let (grants, counted) = memory(&place.dir).await?;
    let fixture = Fixture::new(store, grants)?;
    // Made before the run, by no durable run: the rollback leaves it.
    fixture
        .plain_run(r#"await memory.create_entities({ entities: [{ name: "Linus Torvalds", entityType: "computer scientist", observations: [] }] })"#)
        .await?;
    let run = fixture.durable_run(KNOWLEDGE_GRAPH).await?;
    assert_eq!(
        fixture.graph().await?,
        (
            owned(&[
                "Linus Torvalds",
                "Ada Lovelace",
                "Alan Turing",
                "Grace Hopper"
            ]),
            owned(&["Alan Turing>Ada Lovelace", "Grace Hopper>Alan Turing"])
        )
    );

    let report = fixture.rollback(&graph_undos(), &run).await?;
    // Newest effect first; `read_graph` (call 7) is read-only and not listed.
    assert_eq!(
        steps(&report),
        [
            "6 memory.add_observations cannot be undone",
            "5 memory.create_relations applied",
            "4 memory.create_relations applied",
            "3 memory.create_entities applied",
            "2 memory.create_entities applied",
            "1 memory.create_entities applied",
        ]
    );
    assert!(report.rolled_back && report.failure().is_none());
    assert_eq!(
        fixture.graph().await?,
        (owned(&["Linus Torvalds"]), Vec::new())
    );
    assert_eq!(counted.count("delete_entities"), 3);
    assert_eq!(counted.count("delete_relations"), 2);

    let record = fixture.store.load(&run)?;
    assert_eq!(record.status, Status::RolledBack);
    assert_eq!(record.undos.len(), 5);
    assert!(record.undos.iter().all(|step| step.result.is_ok()));
    // Each undo is a durable run of its own, its call journaled.
    let Some(Undo::Applied { undo_run }) = report.steps.get(1).map(|step| &step.undo) else {
        anyhow::bail!("call 5's undo was not applied: {report:?}");
    };
    let undo = fixture.store.load(undo_run)?;
    assert_eq!(undo.origin, format!("undo of {run}#5"));
    assert_eq!(undo.status, Status::Succeeded);
    let journaled: Vec<&str> = undo
        .entries
        .iter()
        .filter_map(|entry| match entry {
            Entry::Call { method, .. } => Some(method.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(journaled, ["delete_relations"]);
    Ok(())
}
on_both_backends!(async fn a_rolled_back_run_leaves_none_of_its_entities_or_relations, #[bounded_test(multi_thread)]);

async fn a_failed_undo_stops_the_rollback_and_a_retry_goes_on_without_repeating_one(
    backend: Backend,
) -> Result<()> {
    let (store, place) = store(backend, "rollback-retry");
    let (grants, counted) = memory(&place.dir).await?;
    let fixture = Fixture::new(store, grants)?;
    let run = fixture
        .durable_run(
            r#"
await memory.create_entities({ entities: [
  { name: "Ada Lovelace", entityType: "computer scientist", observations: [] },
  { name: "Alan Turing", entityType: "computer scientist", observations: [] },
] });
await memory.create_relations({ relations: [{ from: "Alan Turing", to: "Ada Lovelace", relationType: "came after" }] });
"#,
        )
        .await?;

    // The entities' undo names the wrong field: the server refuses it.
    let mut broken = graph_undos();
    broken.insert(
        "memory.create_entities".into(),
        "({ args }) => memory.delete_entities({ names: args.entities.map(e => e.name) })".into(),
    );
    let first = fixture.rollback(&broken, &run).await?;
    assert!(!first.rolled_back);
    let failure = first.failure().context("a failed undo")?;
    assert_eq!(failure.call, 1);
    let Undo::Failed { error, .. } = &failure.undo else {
        anyhow::bail!("not a failure: {failure:?}");
    };
    assert!(
        error.starts_with("ConnectorError: ") && error.contains("entityNames"),
        "{error}"
    );
    assert_eq!(steps(&first)[0], "2 memory.create_relations applied");
    assert_eq!(first.steps.len(), 2);
    let record = fixture.store.load(&run)?;
    assert_eq!(record.status, Status::Succeeded);
    assert_eq!(
        record
            .undos
            .iter()
            .map(|step| (step.call, step.result.clone()))
            .collect::<Vec<_>>(),
        [(1, Err(error.clone())), (2, Ok(()))]
    );
    assert_eq!(
        fixture.graph().await?,
        (owned(&["Ada Lovelace", "Alan Turing"]), Vec::new())
    );

    let retry = fixture.rollback(&graph_undos(), &run).await?;
    // Each undo reached the server once; the broken one was refused there.
    assert_eq!(counted.count("delete_relations"), 1);
    assert_eq!(counted.count("delete_entities"), 2);
    assert_eq!(
        steps(&retry),
        [
            "2 memory.create_relations already applied",
            "1 memory.create_entities applied",
        ]
    );
    assert!(retry.rolled_back);
    assert_eq!(fixture.graph().await?, (Vec::new(), Vec::new()));

    // Rolling back a rolled-back run applies nothing.
    let again = fixture.rollback(&graph_undos(), &run).await?;
    assert!(
        again
            .steps
            .iter()
            .all(|step| step.undo == Undo::AlreadyApplied)
    );
    assert_eq!(counted.count("delete_relations"), 1);
    assert_eq!(counted.count("delete_entities"), 2);
    Ok(())
}
on_both_backends!(async fn a_failed_undo_stops_the_rollback_and_a_retry_goes_on_without_repeating_one, #[bounded_test(multi_thread)]);

/// A `memory` connector of two methods that records each call's method.
fn recorded() -> (Arc<Grants>, Arc<Mutex<Vec<String>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&calls);
    let connector = FnConnector::new(
        vec![
            MethodDescription::new("create_entities", "creates"),
            MethodDescription::new("delete_entities", "deletes"),
        ],
        move |method: &str, args: Value| {
            seen.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(method.to_owned());
            std::future::ready(Ok(args))
        },
    );
    (grant("memory", connector), calls)
}

async fn an_undo_run_left_unfinished_is_resumed_and_its_calls_not_made_again(
    backend: Backend,
) -> Result<()> {
    let (store, _place) = store(backend, "rollback-resume");
    let (grants, calls) = recorded();
    let fixture = Fixture::new(store, grants)?;
    let run = fixture
        .durable_run(r#"await memory.create_entities({ entities: [{ name: "Ada" }] })"#)
        .await?;
    // An earlier rollback's undo run, whose process died after its call.
    let undo_run = fixture.store.create(&NewRun {
        origin: format!("undo of {run}#1"),
        ..new_run("an undo")
    })?;
    let args = r#"{"entityNames":["Ada"]}"#;
    fixture.store.journal(&undo_run)?.append(&[
        Entry::Call {
            call: 1,
            namespace: "memory".into(),
            method: "delete_entities".into(),
            args: args.into(),
            occurrence: 1,
            ruling: Ruling {
                action: Action::Allow,
                because: Because::Default,
            },
            at: 1,
        },
        Entry::Started { call: 1, at: 1 },
        Entry::Finished {
            call: 1,
            ready: true,
            reply: Ok(args.into()),
            at: 1,
        },
    ])?;
    calls.lock().unwrap_or_else(PoisonError::into_inner).clear();

    let configured = undos(&[("memory.create_entities", DELETE_ENTITIES)]);
    let report = fixture.rollback(&configured, &run).await?;
    assert_eq!(
        *calls.lock().unwrap_or_else(PoisonError::into_inner),
        Vec::<String>::new()
    );
    assert_eq!(
        report.steps.first().map(|step| &step.undo),
        Some(&Undo::Applied {
            undo_run: undo_run.clone()
        })
    );
    assert_eq!(fixture.store.load(&undo_run)?.status, Status::Succeeded);
    Ok(())
}
on_both_backends!(async fn an_undo_run_left_unfinished_is_resumed_and_its_calls_not_made_again, #[tokio::test]);

async fn only_a_finished_run_that_no_other_process_rolls_back_is_rolled_back(
    backend: Backend,
) -> Result<()> {
    let (store, _place) = store(backend, "rollback-refused");
    let fixture = Fixture::new(store, recorded().0)?;
    let running = fixture.store.create(&new_run("1"))?;
    let refused = fixture.rollback(&BTreeMap::new(), &running).await;
    assert_eq!(
        refused.map_err(|error| error.to_string()).err(),
        Some(format!(
            "run `{running}` is running: only a finished run (succeeded or failed) can be rolled back; let it finish, or reject its waiting calls"
        ))
    );
    // A finished run another process rolls back now (it holds the lock).
    let finished = fixture.store.create(&new_run("1"))?;
    fixture.store.finish(&finished, true, &json!(1))?;
    let held = crate::lock::RunLock::take(&fixture.store, &finished);
    assert!(held.is_ok(), "the lock is free");
    let refused = fixture.rollback(&BTreeMap::new(), &finished).await;
    assert!(
        matches!(&refused, Err(RollbackError::Busy(run)) if *run == finished),
        "{refused:?}"
    );
    drop(held);
    let report = fixture.rollback(&BTreeMap::new(), &finished).await?;
    assert!(report.rolled_back, "{report:?}");

    let unknown = fixture.rollback(&BTreeMap::new(), "r_nothing").await;
    assert!(
        matches!(unknown, Err(RollbackError::Store(StoreError::UnknownRun { ref run, .. })) if run == "r_nothing"),
        "{unknown:?}"
    );
    Ok(())
}
on_both_backends!(async fn only_a_finished_run_that_no_other_process_rolls_back_is_rolled_back, #[tokio::test]);

#[test]
fn limits_as_json_read_back_as_the_same_limits() -> Result<()> {
    let mut limits = Limits::default();
    limits.timeout = std::time::Duration::from_millis(1234);
    limits.connector_calls = 7;
    limits.code_bytes = 99;
    let back: Limits = serde_json::from_value(serde_json::to_value(&limits)?)?;
    assert_eq!(back, limits);
    Ok(())
}
