//! What one run is given: the code, its language, the grants, the limits,
//! globals and documents, and the sinks that watch it; and the checks that
//! refuse an [`Execution`] before any sandbox is made for it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use serde_json::value::RawValue;

use crate::approval::{Approver, Unload};
use crate::bindings;
use crate::call::{Interceptor, RunScope};
use crate::document::Document;
use crate::durable::Durable;
use crate::error::{Error, Result};
use crate::gate::Gate;
use crate::grants::Grants;
use crate::host::{LogSink, RunState};
use crate::journal::{Journal, Replay};
use crate::policy::Policy;
use codemode_outcome::{Limits, LogEntry};

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
    interceptors: Vec<Arc<dyn Interceptor>>,
    policy: Option<Arc<Policy>>,
    approver: Option<Arc<dyn Approver>>,
    unload: Option<Arc<dyn Unload>>,
    durable: Option<(Arc<dyn Journal>, Replay)>,
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
            interceptors: Vec::new(),
            policy: None,
            approver: None,
            unload: None,
            durable: None,
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

    /// Let `interceptor` watch every connector call of this run as it
    /// starts and finishes, and refuse any of them (see [`Interceptor`]).
    /// Interceptors given one after another see each call in that order;
    /// the first to refuse it stops it.
    pub fn intercept(mut self, interceptor: Arc<dyn Interceptor>) -> Self {
        self.interceptors.push(interceptor);
        self
    }

    /// Rule on every connector call with `policy`: allowed calls go
    /// through, denied ones fail with a `CallDeniedError`, and the rest wait
    /// for the [`approver`](Self::approver)'s decision. Without a policy
    /// every call goes through.
    pub fn policy(mut self, policy: Arc<Policy>) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Ask `approver` about every call that waits for a decision. A run
    /// with calls to approve and no approver rejects them.
    pub fn approver(mut self, approver: Arc<dyn Approver>) -> Self {
        self.approver = Some(approver);
        self
    }

    /// Let `unload` decide when this durable run, idle while people
    /// decide on its calls, gives up its sandbox (see [`Unload`]). Ignored
    /// for a run that is not durable.
    pub fn unload(mut self, unload: Arc<dyn Unload>) -> Self {
        self.unload = Some(unload);
        self
    }

    /// Make the run durable: journal it through `journal`, starting from
    /// `replay` (the seed of its random sources, and what earlier attempts
    /// of the same run journaled, which it replays). See [`Journal`].
    pub fn durable(mut self, journal: Arc<dyn Journal>, replay: Replay) -> Self {
        self.durable = Some((journal, replay));
        self
    }

    /// Give the script a read-only global `name` holding `value` (deeply
    /// frozen). The name must be a JavaScript identifier that neither a
    /// built-in global nor a granted connector uses; [`Runtime::execute`](crate::Runtime::execute)
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
    /// other globals too: [`Runtime::execute`](crate::Runtime::execute) refuses it with
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

/// An execution that passed its checks: what the guest is asked to run, and
/// the state the run's store starts from.
pub(crate) struct Prepared {
    pub(crate) run: Arc<RunScope>,
    pub(crate) request: bindings::Request,
    pub(crate) state: RunState,
    pub(crate) limits: Limits,
}

impl Execution {
    /// Check this execution against a runtime whose memory cap is at most
    /// `max_memory_bytes`, and turn it into the guest's request and the
    /// starting state of a run that starts at `started`.
    pub(crate) fn prepare(self, max_memory_bytes: u64, started: Instant) -> Result<Prepared> {
        self.check_sizes(max_memory_bytes)?;
        self.check_global_names()?;
        self.check_document_keys()?;
        let Self {
            code,
            language,
            grants,
            limits,
            globals,
            documents,
            on_log,
            interceptors,
            policy,
            approver,
            unload,
            durable,
        } = self;
        let (places, documents) = place_documents(documents);
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
            // The store enforces both, and a durable run journals every
            // clock read: the guest's own limits are for hosts that meter
            // nothing.
            limits: bindings::GuestLimits {
                memory_bytes: None,
                deadline_ms: None,
            },
        };
        let run = Arc::new(RunScope::new(started + limits.timeout));
        let state = RunState::new(
            Arc::clone(&run),
            grants,
            documents,
            &limits,
            on_log,
            interceptors.into(),
            Gate::new(policy, approver, unload),
            durable.map(|(journal, replay)| Durable::new(journal, replay)),
        );
        Ok(Prepared {
            run,
            request,
            state,
            limits,
        })
    }

    /// The code within [`Limits::code_bytes`], and the memory cap within the
    /// runtime's.
    fn check_sizes(&self, max_memory_bytes: u64) -> Result<()> {
        if self.code.len() > self.limits.code_bytes {
            return Err(Error::CodeTooLarge {
                bytes: self.code.len(),
                limit: self.limits.code_bytes,
            });
        }
        if self.limits.memory_bytes > max_memory_bytes {
            return Err(Error::LimitTooHigh {
                limit: "memory_bytes",
                value: self.limits.memory_bytes,
                max: max_memory_bytes,
            });
        }
        Ok(())
    }

    /// Every global's name (values and documents alike) usable, and given
    /// once.
    fn check_global_names(&self) -> Result<()> {
        let mut names = HashSet::new();
        let document_globals = self.documents.iter().map(|global| &global.name);
        for name in self
            .globals
            .iter()
            .map(|(name, _)| name)
            .chain(document_globals)
        {
            let reason = self
                .grants
                .unusable_name(name)
                .or_else(|| (!names.insert(name.as_str())).then_some("it is given twice"));
            if let Some(reason) = reason {
                return Err(Error::GlobalName {
                    name: name.clone(),
                    reason,
                });
            }
        }
        Ok(())
    }

    /// No document global with a key given twice.
    fn check_document_keys(&self) -> Result<()> {
        for global in &self.documents {
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
        Ok(())
    }
}

/// Every document, numbered in order, and where the guest puts it.
fn place_documents(globals: Vec<DocumentGlobal>) -> (Vec<bindings::Document>, Vec<Arc<Document>>) {
    globals
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
        .unzip()
}
