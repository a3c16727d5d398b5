//! [`CodeModeServer`]: the MCP server's handler. It lists `search` and
//! `execute`, runs each call's code in a fresh sandbox, streams console
//! lines and connector calls as progress notifications when the client
//! asked for them, and stops the run when the client cancels the request or
//! goes away.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use codemode_runs::{
    DurableRuns, PlannedUndo, RollbackError, RollbackReport, RunRecord, RunStore, WaitingStores,
};
use codemode_runtime::{
    Connector, Document, Execution, Grants, Limits, Policy, Runtime, Secrets, Unload,
};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::auth::Caller;
use crate::catalog::CatalogOnly;
use crate::describe::{self, EXECUTE, Namespace, SEARCH};
use crate::durable::{DurableExecute, Step};
use crate::progress::Progress;
use crate::reply::tool_result;
use crate::tokens::TokenCounter;

/// Why the server could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// A connector's name is not usable as a namespace.
    #[error(transparent)]
    Namespace(#[from] codemode_runtime::Error),
    /// A connector's name is a global that `search` code already has.
    #[error(
        "`{name}` cannot name a server or API here: `search` code has a global `{name}` ({holds}); rename it in the config"
    )]
    Reserved {
        /// The name.
        name: String,
        /// What the global holds.
        holds: &'static str,
    },
    /// The catalog could not be serialized (a schema JSON cannot hold).
    #[error("the catalog of operations could not be built: {0}")]
    Catalog(#[source] serde_json::Error),
}

/// The origin recorded for a run that `caller` started over HTTP:
/// `serve:NAME`, by its token's name.
pub(crate) fn started_by(caller: &Caller) -> String {
    format!("serve:{}", caller.name)
}

/// The global of `search` code that holds the catalog of every tool.
const TOOLS_GLOBAL: &str = "tools";

/// The global of `search` code that holds each HTTP API's description.
const SPEC_GLOBAL: &str = "spec";

/// How the server runs code and answers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ServerOptions {
    /// The limits of each run.
    pub limits: Limits,
    /// The most tokens one tool result may take (o200k); longer results
    /// are cut, staying valid JSON. Default
    /// [`DEFAULT_MAX_OUTPUT_TOKENS`](crate::DEFAULT_MAX_OUTPUT_TOKENS).
    pub max_output_tokens: usize,
    /// What no reply or connector error may carry into a run (see
    /// `Grants::redact`). Default: none.
    pub secrets: Secrets,
    /// Which connector calls of `execute` go through, wait for a person or
    /// are refused. Default: none, every call goes through.
    pub approvals: Option<Policy>,
    /// Where durable runs are kept; with one, each `execute` is a durable
    /// run, a call waiting for a person answers `{ status: "pending" }`,
    /// and `execute { run }` waits for a run's outcome. Default: none.
    pub state: Option<RunStore>,
    /// With a state directory: how many runs waiting for a person keep
    /// their sandbox, and for how long (see `WaitingStores`); the others
    /// give it up and resume from their journal once decided. Default
    /// [`DEFAULT_WAITING_STORES`] runs, for [`DEFAULT_KEEP_WAITING`].
    pub waiting_stores: (usize, Duration),
    /// How to undo each operation, `namespace.method`: the source of an
    /// arrow function `(call) => …` (see `codemode_runs::rollback`), for
    /// the console's Rollback. Default: none, so no call can be undone.
    pub undo: BTreeMap<String, String>,
}

/// How many waiting runs keep their sandbox by default.
pub const DEFAULT_WAITING_STORES: usize = 16;

/// How long a waiting run keeps its sandbox by default.
pub const DEFAULT_KEEP_WAITING: Duration = Duration::from_secs(300);

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            max_output_tokens: crate::DEFAULT_MAX_OUTPUT_TOKENS,
            secrets: Secrets::default(),
            approvals: None,
            state: None,
            waiting_stores: (DEFAULT_WAITING_STORES, DEFAULT_KEEP_WAITING),
            undo: BTreeMap::new(),
        }
    }
}

impl ServerOptions {
    /// Set the limits of each run.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Set the token budget of one tool result.
    pub fn max_output_tokens(mut self, tokens: usize) -> Self {
        self.max_output_tokens = tokens;
        self
    }

    /// Redact `secrets` from every connector reply and error a run sees.
    pub fn redact(mut self, secrets: Secrets) -> Self {
        self.secrets = secrets;
        self
    }

    /// Gate the connector calls of `execute` with `policy`.
    pub fn approvals(mut self, policy: Policy) -> Self {
        self.approvals = Some(policy);
        self
    }

    /// Keep `execute`'s runs durable in `store`.
    pub fn state(mut self, store: RunStore) -> Self {
        self.state = Some(store);
        self
    }

    /// Undo operations as `undo` says, by `namespace.method`, when the
    /// console rolls a run back.
    pub fn undo(mut self, undo: BTreeMap<String, String>) -> Self {
        self.undo = undo;
        self
    }

    /// Let at most `max` runs waiting for a person keep their sandbox,
    /// each for at most `keep_for`.
    pub fn waiting_stores(mut self, max: usize, keep_for: Duration) -> Self {
        self.waiting_stores = (max, keep_for);
        self
    }
}

/// The Code Mode MCP server. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct CodeModeServer {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: Arc<Runtime>,
    /// The connectors, callable: for `execute`.
    execute: Arc<Grants>,
    /// The same connectors, described but not callable: for `search`.
    search: Arc<Grants>,
    /// Every operation, for `search` code's `tools` global, read lazily.
    catalog: Arc<Document>,
    /// The connectors' descriptions, for `search` code's `spec` global.
    specs: Vec<(String, Arc<Document>)>,
    tools: Vec<Tool>,
    options: ServerOptions,
    counter: TokenCounter,
    /// The policy of `execute`'s calls.
    policy: Option<Arc<Policy>>,
    /// Durable `execute`, with a state directory.
    durable: Option<Arc<DurableExecute>>,
}

impl CodeModeServer {
    /// A server whose scripts reach `connectors`, each under its name.
    ///
    /// # Errors
    ///
    /// [`ServerError::Namespace`] when a name cannot be a JavaScript global
    /// (or is taken twice); [`ServerError::Reserved`] when it is `tools`, or
    /// `spec` while an HTTP API is served: globals of `search` code.
    pub fn new(
        runtime: Arc<Runtime>,
        connectors: Vec<(String, Arc<dyn Connector>)>,
        options: ServerOptions,
    ) -> Result<Self, ServerError> {
        let mut execute = Grants::new().redact(options.secrets.clone());
        let mut search = Grants::new().redact(options.secrets.clone());
        let mut namespaces = Vec::new();
        let mut specs = Vec::new();
        for (name, connector) in connectors {
            let document = connector.document();
            namespaces.push(Namespace {
                name: name.clone(),
                methods: connector.methods().len(),
                spec: document.is_some(),
            });
            if let Some(document) = document {
                specs.push((name.clone(), document));
            }
            let described: Arc<dyn Connector> =
                Arc::new(CatalogOnly::new(&name, Arc::clone(&connector)));
            search = search.grant(&name, described)?;
            execute = execute.grant(&name, connector)?;
        }
        let reserved = [
            (TOOLS_GLOBAL, "the catalog of every tool", true),
            (
                SPEC_GLOBAL,
                "the HTTP APIs' descriptions",
                !specs.is_empty(),
            ),
        ];
        for (global, holds, in_use) in reserved {
            if in_use && namespaces.iter().any(|namespace| namespace.name == global) {
                return Err(ServerError::Reserved {
                    name: global.to_owned(),
                    holds,
                });
            }
        }
        let catalog = serde_json::to_value(execute.catalog()).map_err(ServerError::Catalog)?;
        let counter = TokenCounter::o200k();
        let tools = describe::tools(
            &namespaces,
            &options.limits,
            options.max_output_tokens,
            crate::TOOL_LIST_BUDGET,
            &counter,
            options.state.is_some(),
        );
        let execute = Arc::new(execute);
        let policy = options.approvals.clone().map(Arc::new);
        let durable = options.state.clone().map(|store| {
            let runs = DurableRuns::new(
                store,
                Arc::clone(&runtime),
                Arc::clone(&execute),
                options.limits.clone(),
                "serve",
            )
            .policy(policy.clone());
            let (max, keep_for) = options.waiting_stores;
            let waiting: Arc<dyn Unload> = Arc::new(WaitingStores::new(max, keep_for));
            Arc::new(DurableExecute::new(runs, waiting, options.limits.timeout))
        });
        Ok(Self {
            inner: Arc::new(Inner {
                runtime,
                execute,
                search: Arc::new(search),
                catalog: Arc::new(Document::new(catalog)),
                specs,
                tools,
                options,
                counter,
                policy,
                durable,
            }),
        })
    }

    /// Resume, in the background, the durable runs a server that died left
    /// unfinished (none without a state directory); how many.
    ///
    /// # Errors
    ///
    /// The store's, as text.
    pub fn resume_unfinished(&self) -> Result<usize, String> {
        match &self.inner.durable {
            Some(durable) => durable.resume_unfinished().map_err(|e| e.to_string()),
            None => Ok(0),
        }
    }

    /// The store of its durable runs; `None` without a state directory.
    pub(crate) fn store(&self) -> Option<&RunStore> {
        self.inner.options.state.as_ref()
    }

    /// Roll the finished run `run` back with the configured undos, as
    /// `codemode_runs::rollback` does.
    pub(crate) async fn rollback(
        &self,
        store: &RunStore,
        run: &str,
    ) -> Result<RollbackReport, RollbackError> {
        let inner = &self.inner;
        codemode_runs::rollback(
            store,
            &inner.runtime,
            Arc::clone(&inner.execute),
            &inner.options.undo,
            run,
            &inner.options.limits,
        )
        .await
    }

    /// What rolling `record` back would do, call by call.
    pub(crate) fn rollback_plan(&self, record: &RunRecord) -> Vec<PlannedUndo> {
        codemode_runs::plan(record, &self.inner.execute, &self.inner.options.undo)
    }

    /// Every `every`, resume the durable runs left unfinished that no
    /// process runs (see [`resume_unfinished`](Self::resume_unfinished)):
    /// those of another instance sharing the store that died.
    pub fn keep_resuming(&self, every: Duration) {
        if let Some(durable) = &self.inner.durable {
            durable.keep_resuming(every);
        }
    }

    /// Why its durable runs' store may no longer be written, if it may not
    /// (see `RunStore::usable`): the server should then stop.
    pub fn unusable_store(&self) -> Option<String> {
        self.store()?.usable().err().map(|error| error.to_string())
    }

    /// The tools this server lists: `search` and `execute`.
    pub fn tools(&self) -> &[Tool] {
        &self.inner.tools
    }

    /// Run `code` as the tool `tool` would, reporting progress through
    /// `progress` (console lines and connector calls, in order).
    async fn run(&self, tool: &str, code: String, progress: Option<Progress>) -> CallToolResult {
        let inner = &self.inner;
        let mut execution = Execution::new(code).limits(inner.options.limits.clone());
        execution = if tool == SEARCH {
            let execution = execution
                .grants(Arc::clone(&inner.search))
                .document(TOOLS_GLOBAL, Arc::clone(&inner.catalog));
            if inner.specs.is_empty() {
                execution
            } else {
                execution.documents(SPEC_GLOBAL, inner.specs.clone())
            }
        } else if let Some(policy) = &inner.policy {
            // Without a state directory nobody can approve a call later:
            // gated calls are rejected, saying so.
            execution
                .grants(Arc::clone(&inner.execute))
                .policy(Arc::clone(policy))
        } else {
            execution.grants(Arc::clone(&inner.execute))
        };
        if let Some(progress) = progress {
            let lines = progress.clone();
            execution = execution
                .on_log(move |entry| {
                    lines.report(|| format!("{}: {}", entry.level.as_str(), entry.text));
                })
                .intercept(Arc::new(progress));
        }
        match inner.runtime.execute(execution).await {
            Ok(outcome) => tool_result(&outcome, inner.options.max_output_tokens, &inner.counter),
            Err(error) => CallToolResult::error(vec![ContentBlock::text(format!(
                "The code did not run: {error}. Try again in a moment."
            ))]),
        }
    }
}

impl ServerHandler for CodeModeServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("codemode", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Call `search` with code that finds the operations you need in `tools`, then \
                 `execute` with code that calls them: one program can do a whole task.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.inner.tools.clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let tool = request.name.as_ref();
        if tool != SEARCH && tool != EXECUTE {
            return Err(ErrorData::invalid_params(
                format!("there is no tool `{tool}`: call `{SEARCH}` or `{EXECUTE}`"),
                None,
            ));
        }
        let arguments = request.arguments.as_ref();
        if let (Some(durable), Some(run)) =
            (&self.inner.durable, arguments.and_then(|a| a.get("run")))
        {
            let Some(run) = run.as_str().filter(|_| tool == EXECUTE) else {
                return Err(ErrorData::invalid_params(
                    format!("`run` must be the string id of a run `execute` started, not {run}"),
                    None,
                ));
            };
            let step = durable.wait(run).await;
            return Ok(self.answer(step).into());
        }
        let code = match arguments.and_then(|a| a.get("code")) {
            Some(serde_json::Value::String(code)) => code.clone(),
            Some(other) => {
                return Err(ErrorData::invalid_params(
                    format!("`code` must be a string of TypeScript or JavaScript, not {other}"),
                    None,
                ));
            }
            None => {
                return Err(ErrorData::invalid_params(
                    format!("`{tool}` takes `{{ \"code\": string }}`: the code is missing"),
                    None,
                ));
            }
        };

        // Progress goes out in order from one task, while the code runs.
        let (progress, forwarder) = match context.meta.get_progress_token() {
            Some(token) => {
                let (progress, forwarder) = Progress::notify(context.peer.clone(), token);
                (Some(progress), Some(forwarder))
            }
            None => (None, None),
        };

        if let Some(durable) = self.inner.durable.as_ref().filter(|_| tool == EXECUTE) {
            // The person is asked through the client when it can ask.
            let can_ask = !context.peer.supported_elicitation_modes().is_empty();
            let peer = can_ask.then(|| context.peer.clone());
            let origin = context
                .extensions
                .get::<axum::http::request::Parts>()
                .and_then(|parts| parts.extensions.get::<Caller>())
                .map(started_by);
            let step = durable.execute(code, origin, peer).await;
            return Ok(self.answer(step).into());
        }
        let result = tokio::select! {
            result = self.run(tool, code, progress) => result,
            // The client cancelled the request or went away: dropping the
            // run stops it and its connector calls.
            () = context.ct.cancelled() => {
                return Err(ErrorData::internal_error("the request was cancelled", None));
            }
        };
        if let Some(forwarder) = forwarder {
            let _ = forwarder.await;
        }
        Ok(result.into())
    }
}

impl CodeModeServer {
    /// The tool result of a durable `execute`.
    fn answer(&self, step: Step) -> CallToolResult {
        let inner = &self.inner;
        match step {
            Step::Finished(outcome) => {
                tool_result(&outcome, inner.options.max_output_tokens, &inner.counter)
            }
            Step::Recorded { ok, outcome } => {
                let text = serde_json::to_string(&outcome).unwrap_or_default();
                if ok {
                    CallToolResult::success(vec![ContentBlock::text(text)])
                } else {
                    CallToolResult::error(vec![ContentBlock::text(text)])
                }
            }
            Step::Pending { run, waiting } => {
                let waiting: Vec<_> = waiting
                    .into_iter()
                    .map(|(call, args)| serde_json::json!({ "call": call, "args": args }))
                    .collect();
                let body = serde_json::json!({
                    "status": "pending",
                    "run": run,
                    "waiting": waiting,
                    "hint": format!(
                        "A person must approve these calls: `codemode runs approve {run}` (or reject). \
                         Then call execute with {{ \"run\": \"{run}\" }} for the result; do not run the code again."
                    ),
                });
                CallToolResult::success(vec![ContentBlock::text(body.to_string())])
            }
            Step::Failed(error) => CallToolResult::error(vec![ContentBlock::text(format!(
                "The run could not go on: {error}"
            ))]),
        }
    }
}
