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

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tracing::Instrument;
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap,
    UpdateDeadline,
};

use crate::bindings::{self, SandboxPre};
use crate::deadline::{self, Deadline};
use crate::error::{Error, Result};
use crate::execution::{Execution, Prepared};
use crate::finish::{self, Ending};
use crate::host::RunState;
use codemode_outcome::{ErrorKind, Limits, Outcome};

/// The precompiled guest, made by the build script with the settings in
/// `engine_config`.
static GUEST_ARTIFACT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/guest.cwasm"));

/// Memory of a pooled slot kept mapped between runs: the guest's heap after
/// initialization is about 2 MiB.
const KEEP_RESIDENT_BYTES: usize = 4 << 20;

/// Take the whole pages of `bytes`, data compiled into the binary, out of
/// this process's resident memory: 8 MiB for the guest artifact, which
/// `Component::deserialize` reads once and copies. They are clean pages of
/// the executable's file, so the kernel drops them and maps them back from
/// the file if they are read again; `MADV_PAGEOUT` never discards data (an
/// anonymous page would be swapped out or left as it is), and a kernel
/// without it (before Linux 5.4) leaves them resident.
#[cfg(target_os = "linux")]
fn page_out(bytes: &'static [u8]) {
    // SAFETY: sysconf reads a constant of the system.
    #[allow(unsafe_code)]
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let Ok(page) = usize::try_from(page) else {
        return;
    };
    let start = bytes.as_ptr().addr();
    let Some(first) = start.checked_next_multiple_of(page) else {
        return;
    };
    let end = (start + bytes.len()) / page * page;
    if end > first {
        let pages = bytes.as_ptr().wrapping_add(first - start);
        // SAFETY: the range is whole pages inside `bytes`, which stays
        // valid and unchanged: paging out only drops the pages until the
        // next read maps them back. The result is ignored: a kernel that
        // cannot page them out leaves them as they are.
        #[allow(unsafe_code)]
        unsafe {
            libc::madvise(pages.cast_mut().cast(), end - first, libc::MADV_PAGEOUT);
        }
    }
}

/// Other systems keep the pages.
#[cfg(not(target_os = "linux"))]
fn page_out(_bytes: &'static [u8]) {}

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
        // The engine copied the artifact: the binary's pages of it are not
        // read again (another runtime reads them back from the file).
        page_out(GUEST_ARTIFACT);

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
    /// [`Error::LimitTooHigh`], [`Error::GlobalName`], [`Error::DocumentKey`]
    /// or [`Error::Instantiate`]. Everything the script does, including being
    /// stopped by a limit, is in the [`Outcome`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future stops the run and its connector calls.
    pub async fn execute(&self, execution: Execution) -> Result<Outcome> {
        let started = Instant::now();
        let Prepared {
            run,
            request,
            state,
            limits,
        } = execution.prepare(self.max_memory_bytes, started)?;
        let span = tracing::info_span!("codemode.run", run = %run.id());
        async move {
            let mut store = self.store(state, &limits, Arc::clone(&run.deadline))?;
            let ending = self.run(&mut store, &request, &run.deadline).await?;
            let state = store.data();
            let unloaded = state
                .stopped_by
                .as_ref()
                .is_some_and(|error| error.kind == ErrorKind::Unloaded);
            if let Err(error) = state.calls.end(unloaded) {
                tracing::error!(%error, "the end of a durable run was not journaled");
            }
            let fuel_left = store.get_fuel().unwrap_or(0);
            Ok(finish::outcome(
                ending,
                store.into_data(),
                fuel_left,
                &limits,
                started,
            ))
        }
        .instrument(span)
        .await
    }

    /// A fresh store for one run: its fuel, its memory limiter, and its
    /// deadline.
    fn store(
        &self,
        state: RunState,
        limits: &Limits,
        deadline: Arc<Deadline>,
    ) -> Result<Store<RunState>> {
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.memory);
        store.set_fuel(limits.fuel).map_err(Error::Instantiate)?;
        // At every epoch tick: stop past the deadline (measured on the clock,
        // so late ticks cannot stretch it), else yield to the executor so that
        // a busy script never holds a worker thread from other tasks.
        store.epoch_deadline_callback(move |_| {
            Ok(if deadline.passed() {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Yield(1)
            })
        });
        store.set_epoch_deadline(1);
        Ok(store)
    }

    /// Instantiate the guest in `store` and run `request` in it until it
    /// ends or `deadline` passes.
    async fn run(
        &self,
        store: &mut Store<RunState>,
        request: &bindings::Request,
        deadline: &Deadline,
    ) -> Result<Ending> {
        let sandbox = match self.pre.instantiate_async(&mut *store).await {
            Ok(sandbox) => sandbox,
            // A memory cap below the guest's initial heap, or fuel that
            // does not last through instantiation, is the script's limit;
            // anything else (no free slot) means it never started.
            Err(error)
                if store.data().memory.exceeded
                    || error.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) =>
            {
                return Ok(Ending::Trapped(error));
            }
            Err(error) => return Err(Error::Instantiate(error)),
        };
        let run = sandbox
            .codemode_sandbox_runner()
            .call_run(&mut *store, request);
        tokio::pin!(run);
        // The deadline moves while a call waits for approval: sleep until
        // it, and look again when woken.
        let ran = loop {
            tokio::select! {
                ran = &mut run => break ran,
                () = tokio::time::sleep(deadline::remaining(deadline)) => {
                    if deadline.passed() {
                        return Ok(Ending::TimedOut);
                    }
                }
            }
        };
        Ok(match ran {
            Err(trap) => Ending::Trapped(trap),
            Ok(Err(script)) => Ending::Threw(script),
            Ok(Ok(result)) => Ending::Returned(result),
        })
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
