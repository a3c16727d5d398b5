//! The runs themselves: [`RunStore`], the handle on the database that every
//! other module works through, and a run's life in it: created, journaled,
//! finished, read back, listed.

use std::fmt;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use codemode_runtime::{Entry, Language, Limits, Replay};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::decisions::{CallDecision, Wait};
use crate::error::{Failure, Result, StoreError};
use crate::journal::RunJournal;
use crate::schema;
use crate::sql::{Database, Param, Tx, args};
use crate::undo::UndoStep;

/// The file's name in the state directory.
pub const FILE_NAME: &str = "runs.sqlite3";

/// The durable runs of one state directory, kept in `runs.sqlite3` there.
///
/// Cheap to clone: clones share one connection, and each operation holds
/// it for one short transaction. Several processes may open the same file:
/// SQLite serializes their writes, and a decision is recorded once
/// whoever makes it (see [`RunStore::decide`]).
///
/// A commit survives the process being killed at any point (`kill -9`):
/// the file is in WAL mode with `synchronous = NORMAL`. A power cut may
/// lose the last commits.
#[derive(Clone)]
pub struct RunStore {
    shared: Arc<Shared>,
}

struct Shared {
    database: Box<dyn Database>,
}

impl fmt::Debug for RunStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunStore")
            .field("place", &self.file())
            .finish_non_exhaustive()
    }
}

/// What a new durable run is made of.
#[derive(Clone, Debug)]
pub struct NewRun {
    /// The script.
    pub code: String,
    /// Its language.
    pub language: Language,
    /// The connectors granted: each namespace with its methods.
    pub grants: Vec<(String, Vec<String>)>,
    /// The run's limits, as JSON.
    pub limits: Value,
    /// The seed of `Math.random` and `crypto`.
    pub seed: [u8; 32],
    /// What started it: `serve`, `run`, an embedder's name.
    pub origin: String,
}

/// Where a run is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Started, not finished, no call waiting. A run whose process died
    /// stays `running` until it is resumed.
    Running,
    /// Running, with a call waiting for a decision.
    Waiting,
    /// Finished with a result.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Its calls' undos were applied.
    RolledBack,
}

impl Status {
    /// Every status, in the order of a run's life.
    pub const ALL: [Self; 5] = [
        Self::Running,
        Self::Waiting,
        Self::Succeeded,
        Self::Failed,
        Self::RolledBack,
    ];

    /// Its name: `running`, `waiting`, `succeeded`, `failed`, `rolled-back`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Waiting => "waiting",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::RolledBack => "rolled-back",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is none of [`Status::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown status `{0}`; one of running, waiting, succeeded, failed, rolled-back")]
pub struct UnknownStatus(pub String);

impl FromStr for Status {
    type Err = UnknownStatus;

    fn from_str(name: &str) -> Result<Self, UnknownStatus> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == name)
            .ok_or_else(|| UnknownStatus(name.to_owned()))
    }
}

/// One run, as [`RunStore::list`] shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// Its id.
    pub id: String,
    /// What started it.
    pub origin: String,
    /// Where it is.
    pub status: Status,
    /// How many of its calls wait for a decision.
    pub waiting: u32,
    /// How many calls it asked for.
    pub calls: u32,
    /// How many entries its journal has: the last one's number.
    pub entries: u64,
    /// How it ended, in a line ([`outcome_line`]), once it has.
    pub outcome: Option<String>,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created: u64,
    /// When it last changed, in milliseconds since the Unix epoch.
    pub updated: u64,
}

/// How long [`RunSummary::outcome`] lets a result or a message be.
const SUMMARY_CHARS: usize = 120;

/// An outcome in a line: `succeeded: RESULT`, or `failed: KIND error:
/// NAME: MESSAGE`, the result or message cut to `max` characters.
pub fn outcome_line(outcome: &Value, max: usize) -> String {
    fn text(value: Option<&Value>) -> &str {
        value.and_then(Value::as_str).unwrap_or_default()
    }
    match outcome.get("error").filter(|error| !error.is_null()) {
        None => {
            let result = outcome.get("result").unwrap_or(&Value::Null);
            format!("succeeded: {}", cut(&result.to_string(), max))
        }
        Some(error) => format!(
            "failed: {} error: {}: {}",
            text(error.get("kind")),
            text(error.get("name")),
            cut(text(error.get("message")), max)
        ),
    }
}

/// `text`'s first `max` characters, and `…` when there were more.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// What running a run needs of its record (see [`RunStore::runnable`]).
pub(crate) struct Runnable {
    pub(crate) code: String,
    pub(crate) language: Language,
    /// The namespaces it was granted.
    pub(crate) namespaces: Vec<String>,
    /// The limits it was started with, which it keeps when resumed.
    pub(crate) limits: Limits,
    /// Its stored status (never `waiting`, which follows from its waits).
    pub(crate) status: Status,
}

impl Status {
    /// Whether a run with this status has ended.
    pub(crate) fn ended(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::RolledBack)
    }

    /// The status of a run that finished, with a result when `ok`.
    pub(crate) fn finished(ok: bool) -> Self {
        if ok { Self::Succeeded } else { Self::Failed }
    }
}

/// Everything the store holds about one run.
#[derive(Clone, Debug, Serialize)]
pub struct RunRecord {
    /// Its id.
    pub id: String,
    /// The script.
    pub code: String,
    /// Its language.
    #[serde(serialize_with = "serialize_language")]
    pub language: Language,
    /// The connectors granted: each namespace with its methods.
    pub grants: Vec<(String, Vec<String>)>,
    /// Its limits.
    pub limits: Value,
    /// The seed of `Math.random` and `crypto`.
    pub seed: [u8; 32],
    /// What started it.
    pub origin: String,
    /// Where it is.
    pub status: Status,
    /// What [`RunStore::finish`] was given, once it was.
    pub outcome: Option<Value>,
    /// When it was created, in milliseconds since the Unix epoch.
    pub created: u64,
    /// When it last changed, in milliseconds since the Unix epoch.
    pub updated: u64,
    /// Its journal, in order.
    pub entries: Vec<Entry>,
    /// Every wait of its calls, decided or not.
    pub waits: Vec<Wait>,
    /// The decisions on its calls.
    pub decisions: Vec<CallDecision>,
    /// The undo steps of its rollback.
    pub undos: Vec<UndoStep>,
}

impl RunStore {
    /// Open the runs database of the state directory `dir`, creating the
    /// directory (readable by its owner only) and the file when they do not
    /// exist.
    ///
    /// # Errors
    ///
    /// [`StoreError::CreateDir`]; [`StoreError::NotOurs`] for a file that is
    /// not SQLite, is damaged or is another program's, which is left as it
    /// was; [`StoreError::ReadOnly`]; [`StoreError::NewerSchema`].
    pub fn open(dir: &Path) -> Result<Self> {
        create_dir(dir).map_err(|source| StoreError::CreateDir {
            dir: dir.to_owned(),
            source,
        })?;
        let file = dir.join(FILE_NAME);
        let conn = schema::open(&file)?;
        Ok(Self::on(Box::new(crate::sqlite::Sqlite::new(file, conn))))
    }

    /// Connect to the PostgreSQL database at `url`
    /// (`postgres://user:password@host:port/database`), which several
    /// processes may share, and bring its schema up to date.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unreachable`], [`StoreError::Postgres`];
    /// [`StoreError::NotOurs`] for a database with a `runs` table codemode
    /// did not make; [`StoreError::NewerSchema`].
    pub fn connect(url: &str) -> Result<Self> {
        Ok(Self::on(Box::new(crate::postgres::Postgres::connect(url)?)))
    }

    /// The store at `state`: a PostgreSQL URL (`postgres://…` or
    /// `postgresql://…`), else a state directory, as [`open`](Self::open)
    /// opens it.
    ///
    /// # Errors
    ///
    /// [`connect`](Self::connect)'s or [`open`](Self::open)'s.
    pub fn at(state: &Path) -> Result<Self> {
        match state.to_str() {
            Some(url) if is_database_url(url) => Self::connect(url),
            _ => Self::open(state),
        }
    }

    /// The store kept in `database`.
    pub(crate) fn on(database: Box<dyn Database>) -> Self {
        Self {
            shared: Arc::new(Shared { database }),
        }
    }

    /// The database it is kept in.
    pub(crate) fn database(&self) -> &dyn Database {
        &*self.shared.database
    }

    /// Where it is kept: the SQLite file, or the PostgreSQL URL without
    /// its password.
    pub fn file(&self) -> &Path {
        self.shared.database.place()
    }

    /// Whether the store may still be written: a PostgreSQL store whose
    /// connection holding the run locks ended may not (its runs may be
    /// another process's now), and its process should stop and start
    /// again.
    ///
    /// # Errors
    ///
    /// Why it may not.
    pub fn usable(&self) -> Result<()> {
        match self.shared.database.unusable() {
            Some(failure) => Err(failure.in_file(self.file().to_owned())),
            None => Ok(()),
        }
    }

    /// Run `operation` in one read transaction, and name the store in its
    /// errors.
    pub(crate) fn with<T>(
        &self,
        operation: impl FnOnce(&mut dyn Tx) -> Result<T, Failure>,
    ) -> Result<T> {
        self.transact(false, operation)
    }

    /// Run `operation` in one write transaction: in SQLite it excludes
    /// every other writer until it ends; in PostgreSQL others go on, which
    /// each write of the store is made safe with (see `sql.rs`).
    pub(crate) fn write<T>(
        &self,
        operation: impl FnOnce(&mut dyn Tx) -> Result<T, Failure>,
    ) -> Result<T> {
        self.transact(true, operation)
    }

    fn transact<T>(
        &self,
        write: bool,
        operation: impl FnOnce(&mut dyn Tx) -> Result<T, Failure>,
    ) -> Result<T> {
        let mut operation = Some(operation);
        let mut value = None;
        self.shared
            .database
            .transact(write, &mut |tx| {
                if let Some(operation) = operation.take() {
                    value = Some(operation(tx)?);
                }
                Ok(())
            })
            .and_then(|()| value.ok_or_else(|| Failure::Missing("a value".into())))
            .map_err(|failure| failure.in_file(self.file().to_owned()))
    }

    /// The error for a run this file does not have.
    pub(crate) fn unknown(&self, run: &str) -> Failure {
        Failure::Store(StoreError::UnknownRun {
            run: run.to_owned(),
            file: self.file().to_owned(),
        })
    }

    /// The stored status of `run`, or [`StoreError::UnknownRun`].
    pub(crate) fn stored_status(&self, tx: &mut dyn Tx, run: &str) -> Result<Status, Failure> {
        let row = tx.optional("SELECT status FROM runs WHERE id = ?1", args![run])?;
        let status: String = row.ok_or_else(|| self.unknown(run))?.get(0)?;
        from_text(&status)
    }

    /// Record a new run, `running`, with an empty journal, and give its id:
    /// `r_` and 12 characters of lowercase base32, 60 random bits.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when it cannot be written.
    pub fn create(&self, run: &NewRun) -> Result<String> {
        let now = now_millis();
        self.write(|tx| {
            loop {
                let id = fresh_id();
                if self.insert(tx, &id, run, now)? {
                    return Ok(id);
                }
            }
        })
    }

    /// Insert run `id`, `running`, created at `created`, in `tx`; whether
    /// it was (not when the id is taken).
    pub(crate) fn insert(
        &self,
        tx: &mut dyn Tx,
        id: &str,
        run: &NewRun,
        created: u64,
    ) -> Result<bool, Failure> {
        let grants = serde_json::to_string(&run.grants)?;
        let limits = run.limits.to_string();
        let inserted = tx.execute(
            "INSERT INTO runs
                     (id, code, language, grants, limits, seed, origin, status, created, updated)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'running', ?8, ?8)
                 ON CONFLICT (id) DO NOTHING",
            args![
                id,
                &run.code,
                language_name(run.language),
                &grants,
                &limits,
                &run.seed,
                &run.origin,
                created,
            ],
        )?;
        Ok(inserted == 1)
    }

    /// The journal of `run`, to give the runtime.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownRun`].
    pub fn journal(&self, run: &str) -> Result<RunJournal> {
        self.with(|tx| self.stored_status(tx, run).map(drop))?;
        Ok(RunJournal::new(self.clone(), run.to_owned()))
    }

    /// What a resumed run starts from: its seed and its journal.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownRun`], [`StoreError::Unreadable`].
    pub fn replay(&self, run: &str) -> Result<Replay> {
        self.with(|tx| {
            let row = tx.optional("SELECT seed FROM runs WHERE id = ?1", args![run])?;
            let seed: Vec<u8> = row.ok_or_else(|| self.unknown(run))?.get(0)?;
            Ok(Replay {
                seed: seed_of(seed)?,
                entries: entries(tx, run)?,
            })
        })
    }

    /// Everything about `run`.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownRun`], [`StoreError::Unreadable`].
    pub fn load(&self, run: &str) -> Result<RunRecord> {
        self.with(|tx| {
            let row = tx.optional(
                "SELECT code, language, grants, limits, seed, origin, status, outcome,
                        created, updated
                 FROM runs WHERE id = ?1",
                args![run],
            )?;
            let row = row.ok_or_else(|| self.unknown(run))?;
            let (code, language, grants, limits) = (
                row.get::<String>(0)?,
                row.get::<String>(1)?,
                row.get::<String>(2)?,
                row.get::<String>(3)?,
            );
            let (seed, origin, status, outcome) = (
                row.get::<Vec<u8>>(4)?,
                row.get::<String>(5)?,
                row.get::<String>(6)?,
                row.get::<Option<String>>(7)?,
            );
            let (created, updated) = (row.get::<u64>(8)?, row.get::<u64>(9)?);
            let waits = crate::decisions::waits(tx, Some(run), false)?;
            let stored: Status = from_text(&status)?;
            Ok(RunRecord {
                id: run.to_owned(),
                code,
                language: language_of(&language),
                grants: serde_json::from_str(&grants)?,
                limits: serde_json::from_str(&limits)?,
                seed: seed_of(seed)?,
                origin,
                status: shown_status(stored, waits.iter().any(|wait| wait.decided.is_none())),
                outcome: outcome.as_deref().map(serde_json::from_str).transpose()?,
                created,
                updated,
                entries: entries(tx, run)?,
                waits,
                decisions: crate::decisions::decisions(tx, run)?,
                undos: crate::undo::undos(tx, run)?,
            })
        })
    }

    /// What running `run` needs of its record, in one read: its script,
    /// language, granted namespaces, limits and stored status.
    pub(crate) fn runnable(&self, run: &str) -> Result<Runnable> {
        self.with(|tx| {
            let row = tx.optional(
                "SELECT code, language, grants, limits, status FROM runs WHERE id = ?1",
                args![run],
            )?;
            let row = row.ok_or_else(|| self.unknown(run))?;
            let (code, language, grants, limits, status) = (
                row.get::<String>(0)?,
                row.get::<String>(1)?,
                row.get::<String>(2)?,
                row.get::<String>(3)?,
                row.get::<String>(4)?,
            );
            let grants: Vec<(String, Vec<String>)> = serde_json::from_str(&grants)?;
            Ok(Runnable {
                code,
                language: language_of(&language),
                namespaces: grants.into_iter().map(|(namespace, _)| namespace).collect(),
                limits: serde_json::from_str(&limits)?,
                status: from_text(&status)?,
            })
        })
    }

    /// The stored status of `run`.
    pub(crate) fn status(&self, run: &str) -> Result<Status> {
        self.with(|tx| self.stored_status(tx, run))
    }

    /// The runs, newest first; only those with `status` when one is given.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the file cannot be read.
    pub fn list(&self, status: Option<Status>) -> Result<Vec<RunSummary>> {
        let runs = self.summaries("", args![])?;
        Ok(runs
            .into_iter()
            .filter(|run| status.is_none_or(|wanted| wanted == run.status))
            .collect())
    }

    /// The runs that may have changed since `since` (milliseconds since
    /// the Unix epoch): those still running or waiting, and those updated
    /// at `since` or later. Newest first.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the file cannot be read.
    pub fn changed(&self, since: u64) -> Result<Vec<RunSummary>> {
        self.summaries(
            "WHERE r.status = 'running' OR r.updated >= ?1",
            args![since],
        )
    }

    /// The summaries of the runs `filter` (a `WHERE` clause of `runs r`,
    /// with `params`) keeps, newest first.
    fn summaries(&self, filter: &str, params: &[Param<'_>]) -> Result<Vec<RunSummary>> {
        self.with(|tx| {
            let rows = tx.query(
                &format!(
                    "SELECT r.id, r.origin, r.status, r.created, r.updated, r.outcome,
                        (SELECT count(*) FROM waits w
                         WHERE w.run = r.id AND NOT EXISTS (
                             SELECT 1 FROM decisions d
                             WHERE d.run = w.run AND d.call = w.call AND d.waiting = w.waiting)),
                        (SELECT count(*) FROM entries e WHERE e.run = r.id AND e.kind = 'call'),
                        (SELECT coalesce(max(seq), 0) FROM entries e WHERE e.run = r.id)
                 FROM runs r {filter} ORDER BY r.created DESC, r.rowid DESC",
                ),
                params,
            )?;
            let mut runs = Vec::new();
            for row in rows {
                let (id, origin, stored) = (
                    row.get::<String>(0)?,
                    row.get::<String>(1)?,
                    row.get::<String>(2)?,
                );
                let (created, updated) = (row.get::<u64>(3)?, row.get::<u64>(4)?);
                let outcome = row.get::<Option<String>>(5)?;
                let (waiting, calls, entries) =
                    (row.get::<u32>(6)?, row.get::<u32>(7)?, row.get::<u64>(8)?);
                let outcome: Option<Value> =
                    outcome.as_deref().map(serde_json::from_str).transpose()?;
                runs.push(RunSummary {
                    id,
                    origin,
                    status: shown_status(from_text(&stored)?, waiting > 0),
                    waiting,
                    calls,
                    entries,
                    outcome: outcome.map(|outcome| outcome_line(&outcome, SUMMARY_CHARS)),
                    created,
                    updated,
                });
            }
            Ok(runs)
        })
    }

    /// The runs that have not ended (running, or waiting for a person),
    /// oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the store cannot be read.
    pub fn unfinished(&self) -> Result<Vec<String>> {
        self.with(|tx| {
            let rows = tx.query(
                "SELECT id FROM runs WHERE status = 'running' ORDER BY created, rowid",
                args![],
            )?;
            rows.iter().map(|row| row.get(0)).collect()
        })
    }

    /// The entries of `run`'s journal after the first `seen`, each with its
    /// number (the first is 1).
    ///
    /// # Errors
    ///
    /// [`StoreError::Unreadable`] for an entry that is not one.
    pub fn entries_after(&self, run: &str, seen: u64) -> Result<Vec<(u64, Entry)>> {
        self.with(|tx| {
            let rows = tx.query(
                "SELECT seq, entry FROM entries WHERE run = ?1 AND seq > ?2 ORDER BY seq",
                args![run, seen],
            )?;
            let mut entries = Vec::new();
            for row in rows {
                let entry: String = row.get(1)?;
                entries.push((row.get(0)?, serde_json::from_str(&entry)?));
            }
            Ok(entries)
        })
    }

    /// Record that `run` ended: `succeeded` when `ok`, `failed` otherwise,
    /// with its `outcome`.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnknownRun`].
    pub fn finish(&self, run: &str, ok: bool, outcome: &Value) -> Result<()> {
        self.update(run, Status::finished(ok), Some(outcome))
    }

    /// Set the status of `run`.
    ///
    /// # Errors
    ///
    /// [`StoreError::DerivedStatus`] for [`Status::Waiting`], which follows
    /// from the run's waits; [`StoreError::UnknownRun`].
    pub fn set_status(&self, run: &str, status: Status) -> Result<()> {
        if status == Status::Waiting {
            return Err(StoreError::DerivedStatus);
        }
        self.update(run, status, None)
    }

    fn update(&self, run: &str, status: Status, outcome: Option<&Value>) -> Result<()> {
        self.write(|tx| self.update_in(tx, run, status, outcome))
    }

    /// Set the status of `run`, and its outcome if given, in `tx`.
    pub(crate) fn update_in(
        &self,
        tx: &mut dyn Tx,
        run: &str,
        status: Status,
        outcome: Option<&Value>,
    ) -> Result<(), Failure> {
        let outcome = outcome.map(Value::to_string);
        let changed = tx.execute(
            "UPDATE runs SET status = ?2, outcome = coalesce(?3, outcome), updated = ?4
             WHERE id = ?1",
            args![run, status.as_str(), outcome.as_ref(), now_millis()],
        )?;
        if changed == 0 {
            return Err(self.unknown(run));
        }
        Ok(())
    }
}

/// `state` as messages show it: a PostgreSQL URL without its password, a
/// directory as it is.
pub fn shown(state: &Path) -> String {
    match state.to_str() {
        Some(url) if is_database_url(url) => crate::postgres::without_password(url),
        _ => state.display().to_string(),
    }
}

/// Whether `state` names a PostgreSQL database rather than a directory.
pub fn is_database_url(state: &str) -> bool {
    state.starts_with("postgres://") || state.starts_with("postgresql://")
}

/// A run that is `running` shows as `waiting` while a call of it waits.
fn shown_status(stored: Status, waits: bool) -> Status {
    if stored == Status::Running && waits {
        Status::Waiting
    } else {
        stored
    }
}

/// The journal of `run`, in order.
fn entries(tx: &mut dyn Tx, run: &str) -> Result<Vec<Entry>, Failure> {
    let rows = tx.query(
        "SELECT entry FROM entries WHERE run = ?1 ORDER BY seq",
        args![run],
    )?;
    let mut entries = Vec::new();
    for row in rows {
        entries.push(serde_json::from_str(&row.get::<String>(0)?)?);
    }
    Ok(entries)
}

/// `dir` and its missing parents, readable by their owner only.
fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// A new run's id: `r_` and 12 characters of lowercase base32 (digits and
/// letters but `i`, `l`, `o`, `u`), 60 random bits from the operating
/// system's source. Ids are drawn, not reserved: a new run is recorded with
/// its first journal entry, and the chance that two of a billion runs draw
/// the same id is under one in two thousand; the second is then refused
/// before it has done anything ([`StoreError::IdTaken`]).
pub(crate) fn fresh_id() -> String {
    run_id(rand::random())
}

/// `r_` and 12 base32 characters: the low 60 bits of `bits`.
fn run_id(bits: u64) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
    let mut id = String::from("r_");
    id.extend((0..12).rev().map(|i| {
        let digit = usize::try_from((bits >> (i * 5)) & 31).unwrap_or_default();
        char::from(ALPHABET[digit])
    }));
    id
}

/// A seed as stored: 32 bytes.
fn seed_of(bytes: Vec<u8>) -> Result<[u8; 32], Failure> {
    bytes.try_into().map_err(|bytes: Vec<u8>| {
        Failure::Json(serde::de::Error::invalid_length(
            bytes.len(),
            &"a seed of 32 bytes",
        ))
    })
}

fn language_name(language: Language) -> &'static str {
    match language {
        Language::TypeScript => "typescript",
        Language::JavaScript => "javascript",
    }
}

fn language_of(name: &str) -> Language {
    if name == "javascript" {
        Language::JavaScript
    } else {
        Language::TypeScript
    }
}

fn serialize_language<S: Serializer>(
    language: &Language,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(language_name(*language))
}

/// An enum's serde name, as a column stores it.
pub(crate) fn to_text<T: Serialize>(value: &T) -> Result<String, Failure> {
    match serde_json::to_value(value)? {
        Value::String(text) => Ok(text),
        other => Ok(other.to_string()),
    }
}

/// An enum from its serde name.
pub(crate) fn from_text<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Failure> {
    Ok(serde_json::from_value(Value::String(text.to_owned()))?)
}

/// Now, in milliseconds since the Unix epoch, as the store keeps times.
pub fn now_millis() -> u64 {
    millis(SystemTime::now())
}

/// `time` in milliseconds since the Unix epoch.
pub(crate) fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_url_and_shell_safe_and_differ_by_their_bits() {
        let id = run_id(0x1234_5678);
        assert_eq!(id.len(), 14);
        assert!(id.starts_with("r_"));
        assert!(
            id[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        );
        assert_ne!(id, run_id(0x1234_5679));
        assert_ne!(id, run_id(0x1234_5678 | 1 << 59));
        assert_ne!(fresh_id(), fresh_id());
    }

    #[test]
    fn statuses_read_back_from_their_names() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>().ok(), Some(status));
            assert_eq!(to_text(&status).ok().as_deref(), Some(status.as_str()));
        }
        assert_eq!(
            "done"
                .parse::<Status>()
                .map_err(|e| e.to_string())
                .err()
                .as_deref(),
            Some("unknown status `done`; one of running, waiting, succeeded, failed, rolled-back")
        );
    }
}
