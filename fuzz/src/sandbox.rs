//! One [`Runtime`] per fuzzing process and the properties every run must
//! have, whatever the script: the host does not panic; the run ends by its
//! deadline plus a slack; its error, if any, is one the runtime documents
//! (never [`ErrorKind::Internal`]); its console output, connector calls and
//! memory stay within their limits; and no secret the host holds reaches
//! anything the run produced.
//!
//! Two secrets are planted: a credential that only the [`Echo`] connector
//! holds (and the process's environment, which the sandbox must not see),
//! and a file beside the fuzzer's binary. Each is a fresh random token per
//! process, so a run that printed one could only have read it.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::PathBuf;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use codemode_runtime::{CallContext, 
    Connector, ConnectorError, ErrorKind, Execution, Grants, Limits, MethodDescription, Outcome,
    Runtime, RuntimeConfig,
};
use serde_json::{Value, json};

/// The deadline of a fuzzed run.
pub const TIMEOUT: Duration = Duration::from_millis(200);

/// How long past its deadline a run may still be going. Generous: the
/// fuzzer's coverage instrumentation slows the host, and other builds share
/// the machine.
pub const DEADLINE_SLACK: Duration = Duration::from_secs(2);

/// Room for the line that says console output was cut, past the cap.
const LOG_MARKER_BYTES: usize = 256;

/// The environment variable that holds the credential in this process.
pub const CREDENTIAL_VARIABLE: &str = "CODEMODE_FUZZ_CREDENTIAL";

/// Set to print every run's outcome, for replaying an input by hand.
pub const SHOW_VARIABLE: &str = "CODEMODE_FUZZ_SHOW";

/// Print `what` when [`SHOW_VARIABLE`] is set.
pub fn show(what: impl FnOnce() -> String) {
    if std::env::var_os(SHOW_VARIABLE).is_some() {
        eprintln!("{}", what());
    }
}

/// What the whole fuzzing process shares.
pub struct Harness {
    /// The async runtime runs are driven on: one thread, as the fuzzer is.
    pub tokio: tokio::runtime::Runtime,
    /// The sandbox runtime, built once.
    pub runtime: Arc<Runtime>,
    /// The secrets no run may show.
    pub canaries: Canaries,
}

/// The planted secrets.
pub struct Canaries {
    /// The echo connector's credential.
    pub credential: String,
    /// The token in the canary file.
    pub file_token: String,
    /// Where the canary file is.
    pub file: PathBuf,
}

/// The process's harness, built on first use.
pub static HARNESS: LazyLock<Harness> = LazyLock::new(Harness::start);

impl Harness {
    fn start() -> Self {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the tokio runtime starts");
        // Planted before the runtime starts its epoch thread: setting the
        // environment is sound only while no other thread runs.
        let canaries = Canaries::plant();
        let mut config = RuntimeConfig::default();
        config.max_sandboxes = 8;
        config.max_memory_bytes = 64 << 20;
        let runtime = Arc::new(Runtime::with_config(&config).expect("the sandbox runtime starts"));
        Self {
            tokio,
            runtime,
            canaries,
        }
    }

    /// Run `execution` with [`limits`] and the given grants, check it, and
    /// return its outcome.
    pub fn run(&self, execution: Execution, grants: Arc<Grants>) -> Outcome {
        let started = Instant::now();
        let outcome = self
            .tokio
            .block_on(
                self.runtime
                    .execute(execution.grants(grants).limits(limits())),
            )
            .expect("a run with limits within the runtime's maximums starts");
        let elapsed = started.elapsed();
        show(|| format!("{elapsed:?}: {outcome:#?}"));
        assert!(
            elapsed <= TIMEOUT + DEADLINE_SLACK,
            "the run took {elapsed:?}, past its deadline of {TIMEOUT:?} and the slack; outcome: {outcome:?}"
        );
        if let Some(error) = &outcome.error {
            assert_ne!(
                error.kind,
                ErrorKind::Internal,
                "the sandbox failed internally: {error:?}"
            );
        }
        let limits = limits();
        let logged: usize = outcome.logs.iter().map(|entry| entry.text.len() + 32).sum();
        assert!(
            logged <= limits.log_bytes + LOG_MARKER_BYTES,
            "{logged} bytes of console output kept, past the cap of {}",
            limits.log_bytes
        );
        assert!(
            outcome.stats.connector_calls <= limits.connector_calls
                && outcome.stats.peak_memory_bytes <= limits.memory_bytes,
            "a limit was passed: {:?}",
            outcome.stats
        );
        self.canaries.assert_absent(&outcome);
        outcome
    }

    /// The `echo` connector, holding the credential.
    pub fn echo_connector(&self) -> Arc<Echo> {
        Arc::new(Echo::new(self.canaries.credential.clone()))
    }

    /// Grants of one connector, `echo`, holding the credential.
    pub fn echo_grants(&self) -> Arc<Grants> {
        Arc::new(
            Grants::new()
                .grant("echo", self.echo_connector())
                .expect("`echo` is a usable name"),
        )
    }
}

/// The limits of a fuzzed run: tiny, so that runaway scripts end fast.
pub fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.timeout = TIMEOUT;
    limits.fuel = 10_000_000;
    limits.memory_bytes = 16 << 20;
    limits.log_bytes = 16 << 10;
    limits.result_bytes = 64 << 10;
    limits.connector_calls = 64;
    limits
}

impl Canaries {
    fn plant() -> Self {
        let credential = format!("cred-{}", random_token());
        let file_token = format!("file-{}", random_token());
        // SAFETY: called once, before the runtime starts any thread (see
        // `Harness::start`). The sandbox is given no environment; a leak
        // would show the token.
        unsafe {
            std::env::set_var(CREDENTIAL_VARIABLE, &credential);
        }
        let directory = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(PathBuf::from))
            .unwrap_or_else(std::env::temp_dir);
        let file = directory.join(format!("canary-{}.txt", std::process::id()));
        std::fs::write(&file, &file_token).expect("the canary file is written");
        Self {
            credential,
            file_token,
            file,
        }
    }

    /// Panic when either secret appears in anything `outcome` carries.
    pub fn assert_absent(&self, outcome: &Outcome) {
        let text = serde_json::to_string(outcome).expect("an outcome serializes");
        self.assert_absent_from(&text);
    }

    /// Panic when either secret appears in `text`.
    pub fn assert_absent_from(&self, text: &str) {
        for secret in [&self.credential, &self.file_token] {
            assert!(!text.contains(secret.as_str()), "a secret leaked: {text}");
        }
    }
}

impl Drop for Canaries {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

/// 128 random bits as hex, from the standard library's hash seeds.
fn random_token() -> String {
    (0..2)
        .map(|_| {
            let mut hasher = RandomState::new().build_hasher();
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
            hasher.write_u128(now.map_or(0, |since| since.as_nanos()));
            format!("{:016x}", hasher.finish())
        })
        .collect()
}

/// A connector that echoes its arguments. It holds a credential, as a
/// connector to an HTTP API would, and never puts it in a reply.
pub struct Echo {
    methods: Vec<MethodDescription>,
    credential: String,
}

impl Echo {
    fn new(credential: String) -> Self {
        let any = json!({ "type": "object" });
        Self {
            methods: vec![
                MethodDescription::new("echo", "Returns its arguments")
                    .input_schema(any.clone())
                    .output_schema(any.clone()),
                MethodDescription::new("fail", "Rejects with its `message`").input_schema(any),
            ],
            credential,
        }
    }
}

#[async_trait]
impl Connector for Echo {
    fn methods(&self) -> &[MethodDescription] {
        &self.methods
    }

    async fn call(&self, call: &CallContext, args: Value) -> Result<Value, ConnectorError> {
        let method: &str = &call.method;
        // The credential is used (a request would carry it) and never sent
        // back: a reply that would contain it is refused.
        let authorized = !self.credential.is_empty();
        let reply = match method {
            "echo" => json!({ "args": args, "authorized": authorized }),
            _ => {
                let message = args["message"].as_str().unwrap_or("failed");
                return Err(ConnectorError::new(
                    message.chars().take(200).collect::<String>(),
                ));
            }
        };
        if reply.to_string().contains(&self.credential) {
            return Err(ConnectorError::new("the reply was refused"));
        }
        Ok(reply)
    }
}

/// A connector with one method, `reply`, that answers with a fixed value:
/// for feeding fuzzed replies into a run.
pub struct Fixed {
    methods: Vec<MethodDescription>,
    reply: Value,
}

impl Fixed {
    /// Grants of `fixed`, whose `reply` method answers `reply`.
    pub fn grants(reply: Value) -> Arc<Grants> {
        let fixed = Arc::new(Self {
            methods: vec![MethodDescription::new("reply", "Answers the fuzzed value")],
            reply,
        });
        Arc::new(
            Grants::new()
                .grant("fixed", fixed)
                .expect("`fixed` is a usable name"),
        )
    }
}

#[async_trait]
impl Connector for Fixed {
    fn methods(&self) -> &[MethodDescription] {
        &self.methods
    }

    async fn call(&self, _call: &CallContext, _args: Value) -> Result<Value, ConnectorError> {
        Ok(self.reply.clone())
    }
}
