//! The runtime: built once, it runs any number of executions, each in a
//! fresh sandbox.
//!
//! What is expensive is done once in [`Runtime::new`]: the engine with its
//! pooling allocator (copy-on-write memory images, so a new instance maps the
//! pre-initialized guest's memory instead of copying it), the precompiled
//! guest (loaded, never compiled at run time), and the linker resolved
//! against it (`InstancePre`). Each [`Runtime::execute`] then creates a
//! `Store` with its own fuel, epoch deadline and memory limiter, instantiates
//! the guest, runs the code, and drops the store: a store is never reused,
//! least of all after a trap.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};

use crate::bindings::{self, Failure, SandboxPre};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::grants::Grants;
use crate::host::{CallSink, ConnectorCall, LogSink, RunState};
use crate::limits::Limits;
use crate::outcome::{ErrorKind, ExecutionError, LogEntry, Outcome, Stats};

/// The precompiled guest, made by the build script with the settings in
/// `engine_config`.
static GUEST_ARTIFACT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/guest.cwasm"));

/// Memory of a pooled slot kept mapped between runs: the guest's heap after
/// initialization is about 2 MiB.
const KEEP_RESIDENT_BYTES: usize = 4 << 20;

/// How often the epoch advances; the deadline's resolution.
const EPOCH_TICK: Duration = Duration::from_millis(2);

/// How a [`Runtime`] is sized. Each field's doc gives its default.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RuntimeConfig {
    /// Sandboxes that may be live at once; more executions fail to start.
    /// Default 256.
    pub max_sandboxes: u32,
    /// The largest memory cap any execution may ask for, in bytes. Default
    /// 1 GiB.
    pub max_memory_bytes: u64,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            max_sandboxes: 256,
            max_memory_bytes: 1 << 30,
        }
    }
}

/// Runs agent code in fresh WebAssembly sandboxes. `Send + Sync`: share one
/// (in an `Arc`) across tasks and run many executions at once.
///
/// ```
/// use codemode_runtime::{Execution, Runtime};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> codemode_runtime::Result<()> {
/// let runtime = Runtime::new()?;
/// let outcome = runtime.execute(Execution::new("console.log('hi'); 6 * 7")).await?;
/// assert_eq!(outcome.result, Some(serde_json::json!(42)));
/// # Ok(()) }
/// ```
pub struct Runtime {
    engine: Engine,
    pre: SandboxPre<RunState>,
    max_memory_bytes: u64,
    _ticker: EpochTicker,
}

impl Runtime {
    /// A runtime with [`RuntimeConfig::default`].
    ///
    /// # Errors
    ///
    /// [`Error::Engine`] when the engine or the guest cannot be loaded.
    pub fn new() -> Result<Self> {
        Self::with_config(&RuntimeConfig::default())
    }

    /// A runtime sized by `config`.
    ///
    /// # Errors
    ///
    /// [`Error::Engine`] when the engine or the guest cannot be loaded.
    pub fn with_config(config: &RuntimeConfig) -> Result<Self> {
        let mut pool = PoolingAllocationConfig::new();
        let sandboxes = config.max_sandboxes.max(1);
        pool.total_component_instances(sandboxes)
            .total_core_instances(sandboxes * 4)
            .total_memories(sandboxes)
            .total_tables(sandboxes * 4)
            .total_stacks(sandboxes)
            .max_memory_size(usize::try_from(config.max_memory_bytes).unwrap_or(usize::MAX))
            // Reset a slot's memory by rewriting only the pages a run dirtied
            // (PAGEMAP_SCAN, Linux 6.7+) instead of unmapping them, so the
            // next run takes no page faults on the snapshot's heap.
            .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(64 << 10)
            .pagemap_scan(wasmtime::Enabled::Auto);

        let mut wasm_config = Config::new();
        crate::engine_config::apply_compiled_settings(&mut wasm_config);
        wasm_config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&wasm_config).map_err(Error::Engine)?;

        // SAFETY: the artifact was produced by this crate's build script with
        // the same wasmtime and the same compiled settings; it is trusted.
        #[allow(unsafe_code)]
        let component =
            unsafe { Component::deserialize(&engine, GUEST_ARTIFACT) }.map_err(Error::Engine)?;

        let mut linker = Linker::<RunState>::new(&engine);
        link_wasi(&mut linker).map_err(Error::Engine)?;
        bindings::Sandbox::add_to_linker::<_, wasmtime::component::HasSelf<_>>(
            &mut linker,
            |state| state,
        )
        .map_err(Error::Engine)?;
        let pre = SandboxPre::new(linker.instantiate_pre(&component).map_err(Error::Engine)?)
            .map_err(Error::Engine)?;

        let ticker = EpochTicker::start(engine.clone())
            .map_err(|e| Error::Engine(wasmtime::Error::new(e)))?;
        Ok(Self {
            engine,
            pre,
            max_memory_bytes: config.max_memory_bytes,
            _ticker: ticker,
        })
    }

    /// Run one execution in a fresh sandbox.
    ///
    /// Must be called within a tokio runtime: connector calls run as tasks on
    /// it, and its timer enforces the deadline while the script waits.
    ///
    /// # Errors
    ///
    /// Only when the run could not start: [`Error::CodeTooLarge`],
    /// [`Error::LimitTooHigh`] or [`Error::Instantiate`]. Everything the script does, including being
    /// stopped by a limit, is in the [`Outcome`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops the run and its connector calls.
    pub async fn execute(&self, execution: Execution) -> Result<Outcome> {
        let Execution {
            code,
            language,
            grants,
            limits,
            globals,
            documents,
            on_log,
            on_call,
        } = execution;
        if code.len() > limits.code_bytes {
            return Err(Error::CodeTooLarge {
                bytes: code.len(),
                limit: limits.code_bytes,
            });
        }
        if limits.memory_bytes > self.max_memory_bytes {
            return Err(Error::LimitTooHigh {
                limit: "memory_bytes",
                value: limits.memory_bytes,
                max: self.max_memory_bytes,
            });
        }
        let mut names = HashSet::new();
        let document_globals = documents.iter().map(|global| &global.name);
        for name in globals.iter().map(|(name, _)| name).chain(document_globals) {
            let reason = grants
                .unusable_name(name)
                .or_else(|| (!names.insert(name.as_str())).then_some("it is given twice"));
            if let Some(reason) = reason {
                return Err(Error::GlobalName {
                    name: name.clone(),
                    reason,
                });
            }
        }
        for global in &documents {
            let mut keys = HashSet::new();
            let duplicate = global
                .documents
                .iter()
                .find_map(|(key, _)| key.as_ref().filter(|key| !keys.insert(key.as_str())));
            if let Some(key) = duplicate {
                return Err(Error::DocumentKey {
                    name: global.name.clone(),
                    key: key.clone(),
                });
            }
        }
        // Every document, numbered in order, and where the guest puts it.
        let (places, documents): (Vec<_>, Vec<_>) = documents
            .into_iter()
            .flat_map(|global| {
                let name = global.name;
                global.documents.into_iter().map(move |(key, document)| {
                    let place = bindings::Document {
                        global: name.clone(),
                        key,
                    };
                    (place, document)
                })
            })
            .unzip();
        let started = Instant::now();
        let mut store = Store::new(
            &self.engine,
            RunState::new(Arc::clone(&grants), documents, &limits, on_log, on_call),
        );
        store.limiter(|state| &mut state.memory);
        store.set_fuel(limits.fuel).map_err(Error::Instantiate)?;
        // At every epoch tick: stop past the deadline (measured on the clock,
        // so late ticks cannot stretch it), else yield to the executor so that
        // a busy script never holds a worker thread from other tasks.
        let deadline = started + limits.timeout;
        store.epoch_deadline_callback(move |_| {
            Ok(if Instant::now() >= deadline {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            })
        });
        store.set_epoch_deadline(1);

        let request = bindings::Request {
            code,
            language: match language {
                Language::TypeScript => bindings::Language::Typescript,
                Language::JavaScript => bindings::Language::Javascript,
            },
            connectors: grants
                .namespaces()
                .map(|(name, methods)| bindings::Connector {
                    name: name.to_owned(),
                    methods: methods.to_vec(),
                })
                .collect(),
            globals: globals
                .iter()
                .map(|(name, value)| bindings::Data {
                    name: name.clone(),
                    json: value.get().to_owned(),
                })
                .collect(),
            documents: places,
            max_result_bytes: u32::try_from(limits.result_bytes).unwrap_or(u32::MAX),
        };

        let ended = match self.pre.instantiate_async(&mut store).await {
            Ok(sandbox) => {
                tokio::time::timeout(limits.timeout, sandbox.call_run(&mut store, &request)).await
            }
            // A memory cap below the guest's initial heap, or fuel that
            // does not last through instantiation, is the script's limit;
            // anything else (no free slot) means it never started.
            Err(error)
                if store.data().memory.exceeded
                    || error.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) =>
            {
                Ok(Err(error))
            }
            Err(error) => return Err(Error::Instantiate(error)),
        };

        let fuel_left = store.get_fuel().unwrap_or(0);
        let state = store.into_data();
        let mut outcome = Outcome {
            result: None,
            logs: Vec::new(),
            error: None,
            stats: Stats {
                wall_time: started.elapsed(),
                fuel_used: limits.fuel.saturating_sub(fuel_left),
                peak_memory_bytes: state.memory.peak,
                connector_calls: state.calls.started,
                document_reads: state.documents.reads,
            },
        };
        match ended {
            Err(_elapsed) => outcome.error = Some(timeout_error(&limits)),
            Ok(Err(trap)) => outcome.error = Some(classify_trap(&trap, &state, &limits)),
            Ok(Ok(Err(script))) => outcome.error = Some(script_error(script, limits.result_bytes)),
            Ok(Ok(Ok(None))) => {}
            Ok(Ok(Ok(Some(json)))) => {
                if json.len() > limits.result_bytes {
                    outcome.error = Some(ExecutionError::limit(
                        ErrorKind::Output,
                        format!(
                            "the result is {} bytes of JSON; the limit is {} bytes",
                            json.len(),
                            limits.result_bytes
                        ),
                    ));
                } else {
                    match serde_json::from_str(&json) {
                        Ok(value) => outcome.result = Some(value),
                        Err(_) if nests_deeper_than(&json, MAX_RESULT_DEPTH) => {
                            outcome.error = Some(too_deep_error());
                        }
                        Err(error) => {
                            outcome.error = Some(ExecutionError::limit(
                                ErrorKind::Internal,
                                format!("the sandbox returned a result that is not JSON: {error}"),
                            ))
                        }
                    }
                }
            }
        }
        outcome.logs = state.console.entries;
        Ok(outcome)
    }
}

/// The language of a script.
///
/// TypeScript is parsed inside the sandbox (untrusted text is parsed only in
/// WebAssembly, under the run's limits) and its types are blanked out with
/// spaces, so every line and column QuickJS reports is one of the agent's own
/// source. Constructs that would need code generated (enums, namespaces with
/// values, parameter properties, decorators) are refused with a
/// `SyntaxError` naming the construct and its position.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Language {
    /// TypeScript, which includes plain JavaScript: the default.
    #[default]
    TypeScript,
    /// JavaScript only: the code reaches QuickJS as written, unparsed by the
    /// type stripper.
    JavaScript,
}

/// A global holding documents: its name, and its documents, each by its
/// key, or one without a key that is the global itself.
struct DocumentGlobal {
    name: String,
    documents: Vec<(Option<String>, Arc<Document>)>,
}

/// What to run, with what, within what limits.
pub struct Execution {
    code: String,
    language: Language,
    grants: Arc<Grants>,
    limits: Limits,
    globals: Vec<(String, Arc<RawValue>)>,
    documents: Vec<DocumentGlobal>,
    on_log: Option<LogSink>,
    on_call: Option<CallSink>,
}

impl Execution {
    /// Run `code` (TypeScript or JavaScript) with no connectors and
    /// [`Limits::default`].
    pub fn new(code: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            language: Language::default(),
            grants: Arc::new(Grants::new()),
            limits: Limits::default(),
            globals: Vec::new(),
            documents: Vec::new(),
            on_log: None,
            on_call: None,
        }
    }

    /// Say what the code is written in (default: [`Language::TypeScript`]).
    pub fn language(mut self, language: Language) -> Self {
        self.language = language;
        self
    }

    /// Grant these connectors.
    pub fn grants(mut self, grants: Arc<Grants>) -> Self {
        self.grants = grants;
        self
    }

    /// Use these limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Call `sink` with every console line as it is written (it also ends up
    /// in [`Outcome::logs`]).
    pub fn on_log(mut self, sink: impl Fn(&LogEntry) + Send + Sync + 'static) -> Self {
        self.on_log = Some(Arc::new(sink));
        self
    }

    /// Call `sink` as each connector call starts, once the runtime has
    /// checked it (granted, known method, arguments within their cap).
    pub fn on_call(mut self, sink: impl Fn(&ConnectorCall<'_>) + Send + Sync + 'static) -> Self {
        self.on_call = Some(Arc::new(sink));
        self
    }

    /// Give the script a read-only global `name` holding `value` (deeply
    /// frozen). The name must be a JavaScript identifier that neither a
    /// built-in global nor a granted connector uses; [`Runtime::execute`]
    /// refuses it with [`Error::GlobalName`] otherwise. The value is shared,
    /// so handing the same large value to many runs copies it only into
    /// each sandbox.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use codemode_runtime::Execution;
    /// let cities = serde_json::value::to_raw_value(&["Oslo", "Lima"]).unwrap();
    /// let execution = Execution::new("cities.length").global("cities", Arc::from(cities));
    /// ```
    pub fn global(mut self, name: impl Into<String>, value: Arc<RawValue>) -> Self {
        self.globals.push((name.into(), value));
        self
    }

    /// Give the script a global `name`: a frozen plain object whose property
    /// `key` is each of `documents`, read lazily. Nothing of a document is
    /// copied into the sandbox until the script touches it; then the guest
    /// reads that node, one level deep, and keeps it for the rest of the run
    /// (see [`Document`]). The script sees plain frozen objects and arrays:
    /// `Object.keys`, `for...in`, `JSON.stringify` and the array methods work
    /// as on parsed JSON. On top of the JSON, every object with a local
    /// `$ref` (`"#/components/schemas/user"`) reads as the node it points
    /// to, with the reference's other members laid over it; a `$ref` already
    /// being resolved on the way from the document's root reads as
    /// `{ $ref, $circular: true }`, and one that points at nothing as
    /// `{ $ref, $missing: true }`. Other `$ref`s stay as written.
    ///
    /// The name is checked as [`Execution::global`] checks its names, against
    /// other globals too: [`Runtime::execute`] refuses it with
    /// [`Error::GlobalName`], and a key given twice with
    /// [`Error::DocumentKey`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use codemode_runtime::{Document, Execution};
    /// let github = Arc::new(Document::new(serde_json::json!({ "paths": {} })));
    /// let code = "Object.keys(spec.github.paths).length";
    /// let execution = Execution::new(code).documents("spec", vec![("github".to_owned(), github)]);
    /// ```
    pub fn documents(
        mut self,
        name: impl Into<String>,
        documents: Vec<(String, Arc<Document>)>,
    ) -> Self {
        self.documents.push(DocumentGlobal {
            name: name.into(),
            documents: documents.into_iter().map(|(k, d)| (Some(k), d)).collect(),
        });
        self
    }

    /// A global `name` that is `document` itself, read lazily as
    /// [`documents`](Self::documents) describes: a large catalog, say,
    /// that a script filters without copying all of it in.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use codemode_runtime::{Document, Execution};
    /// let tools = Arc::new(Document::new(serde_json::json!([{ "name": "a.b" }])));
    /// let execution = Execution::new("tools.map((t) => t.name)").document("tools", tools);
    /// ```
    pub fn document(mut self, name: impl Into<String>, document: Arc<Document>) -> Self {
        self.documents.push(DocumentGlobal {
            name: name.into(),
            documents: vec![(None, document)],
        });
        self
    }
}

/// Link exactly the WASI interfaces the guest imports (clocks, random, io,
/// and cli's stdio, environment, exit and terminal queries), each with
/// nothing granted (see `RunState::new`). Sockets, filesystem and HTTP are
/// not in the linker at all, so a guest that imported them would not
/// instantiate.
fn link_wasi(linker: &mut Linker<RunState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView};
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
    use wasmtime_wasi::p2::bindings::{cli, clocks, io, random};
    use wasmtime_wasi::random::WasiRandom;

    /// The io interfaces need only the resource table.
    struct Table;
    impl wasmtime::component::HasData for Table {
        type Data<'a> = &'a mut wasmtime_wasi::ResourceTable;
    }
    io::error::add_to_linker::<RunState, Table>(linker, RunState::table)?;
    io::poll::add_to_linker::<RunState, Table>(linker, RunState::table)?;
    io::streams::add_to_linker::<RunState, Table>(linker, RunState::table)?;
    clocks::wall_clock::add_to_linker::<RunState, WasiClocks>(linker, RunState::clocks)?;
    clocks::monotonic_clock::add_to_linker::<RunState, WasiClocks>(linker, RunState::clocks)?;
    random::random::add_to_linker::<RunState, WasiRandom>(linker, RunState::random)?;
    random::insecure_seed::add_to_linker::<RunState, WasiRandom>(linker, RunState::random)?;
    cli::exit::add_to_linker::<RunState, WasiCli>(linker, RunState::cli)?;
    cli::environment::add_to_linker::<RunState, WasiCli>(linker, RunState::cli)?;
    cli::stdin::add_to_linker::<RunState, WasiCli>(linker, RunState::cli)?;
    cli::stdout::add_to_linker::<RunState, WasiCli>(linker, RunState::cli)?;
    cli::stderr::add_to_linker::<RunState, WasiCli>(linker, RunState::cli)?;
    cli::terminal_input::add_to_linker::<RunState, WasiCli>(linker, RunState::cli)?;
    cli::terminal_output::add_to_linker::<RunState, WasiCli>(linker, RunState::cli)?;
    cli::terminal_stdin::add_to_linker::<RunState, WasiCli>(linker, RunState::cli)?;
    cli::terminal_stdout::add_to_linker::<RunState, WasiCli>(linker, RunState::cli)?;
    cli::terminal_stderr::add_to_linker::<RunState, WasiCli>(linker, RunState::cli)?;
    Ok(())
}

/// The deepest a result may nest arrays and objects: serde_json refuses
/// deeper JSON when the host reads it.
const MAX_RESULT_DEPTH: usize = 127;

/// A result nested deeper than [`MAX_RESULT_DEPTH`]: the script's error, as
/// for any other result JSON cannot hold.
fn too_deep_error() -> ExecutionError {
    ExecutionError {
        kind: ErrorKind::Script,
        name: "TypeError".into(),
        message: format!(
            "the result nests arrays and objects more than {MAX_RESULT_DEPTH} levels deep; \
             a result may nest at most {MAX_RESULT_DEPTH}"
        ),
        line: None,
        column: None,
        stack: String::new(),
    }
}

/// True when the JSON text `json` nests arrays and objects more than `max`
/// levels deep; found by counting brackets outside strings, without
/// recursion.
fn nests_deeper_than(json: &str, max: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for byte in json.bytes() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            _ if in_string => {}
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn timeout_error(limits: &Limits) -> ExecutionError {
    ExecutionError::limit(
        ErrorKind::Timeout,
        format!(
            "the script ran past its deadline of {} ms",
            limits.timeout.as_millis()
        ),
    )
}

fn classify_trap(trap: &wasmtime::Error, state: &RunState, limits: &Limits) -> ExecutionError {
    if let Some(error) = &state.stopped_by {
        return error.clone();
    }
    if state.memory.exceeded {
        return ExecutionError::limit(
            ErrorKind::Memory,
            format!(
                "the script reached the memory cap of {} bytes",
                limits.memory_bytes
            ),
        );
    }
    match trap.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => ExecutionError::limit(
            ErrorKind::Fuel,
            format!(
                "the script used all of its {} fuel: it computed for too long",
                limits.fuel
            ),
        ),
        Some(Trap::Interrupt) => timeout_error(limits),
        Some(Trap::StackOverflow) => ExecutionError::limit(
            ErrorKind::Stack,
            "the script overflowed the WebAssembly stack: recursion too deep",
        ),
        _ => {
            let stderr = state.stderr.contents();
            let detail = String::from_utf8_lossy(&stderr);
            ExecutionError::limit(
                ErrorKind::Internal,
                format!("the sandbox failed: {}: {trap:#}", detail.trim()),
            )
        }
    }
}

/// The guest's report of a failed script, its text cut to `cap` bytes in
/// all: an error is output too, and may not carry more than a result.
fn script_error(error: bindings::ScriptError, cap: usize) -> ExecutionError {
    let kind = match error.failure {
        Failure::ResultTooLarge => ErrorKind::Output,
        Failure::Exception | Failure::Unsettled | Failure::Unserializable => ErrorKind::Script,
    };
    let mut budget = cap;
    ExecutionError {
        kind,
        name: cut(error.name, &mut budget),
        message: cut(error.message, &mut budget),
        line: error.line,
        column: error.column,
        stack: cut(error.stack, &mut budget),
    }
}

/// `text`, cut (with an ellipsis) to what is left of `budget`, which it uses.
fn cut(mut text: String, budget: &mut usize) -> String {
    const ELLIPSIS: &str = "…";
    if text.len() > *budget {
        let mut end = budget.saturating_sub(ELLIPSIS.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        if *budget >= ELLIPSIS.len() {
            text.push_str(ELLIPSIS);
        }
    }
    *budget -= text.len();
    text
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("codemode-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    //! Results too deep for the host to read (found by the `js_source` fuzz
    //! target: they were reported as the sandbox's internal error).

    use super::*;

    /// `code` run with default limits.
    async fn run(code: &str) -> Outcome {
        let runtime = Runtime::new().expect("the runtime starts");
        runtime
            .execute(Execution::new(code))
            .await
            .expect("the run starts")
    }

    /// Arrays `depth` deep around `1`.
    fn nested(depth: usize) -> String {
        format!("let v = 1; for (let i = 0; i < {depth}; i++) v = [v]; v")
    }

    #[tokio::test]
    async fn a_result_nested_too_deep_is_the_scripts_error() {
        let outcome = run(&nested(200)).await;
        let error = outcome.error.expect("the run fails");
        assert_eq!(
            (error.kind, error.name.as_str()),
            (ErrorKind::Script, "TypeError"),
            "{error:?}"
        );
        assert!(
            error.message.contains("more than 127 levels deep"),
            "{error:?}"
        );
    }

    #[tokio::test]
    async fn a_result_nested_as_deep_as_allowed_is_the_result() {
        let outcome = run(&nested(MAX_RESULT_DEPTH)).await;
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        let mut value = outcome.result.expect("a result");
        for _ in 0..MAX_RESULT_DEPTH {
            value = value[0].take();
        }
        assert_eq!(value, serde_json::json!(1));
    }

    #[test]
    fn brackets_in_strings_do_not_count() {
        assert!(!nests_deeper_than(r#"["[[[", "\"[[[", {"{{": "]]"}]"#, 2));
        assert!(nests_deeper_than(r#"["\\", [[]]]"#, 2));
        assert!(!nests_deeper_than(r#"["\\", [[]]]"#, 3));
    }
}
