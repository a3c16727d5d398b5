//! The store in PostgreSQL, which several processes share: `codemode
//! serve` instances behind a load balancer see the same runs, and any of
//! them records a decision that the one running the run acts on.
//!
//! - **A few connections a process** ([`CONNECTIONS`]), driven by a thread
//!   of their own (a single-threaded tokio runtime), so that the store's
//!   synchronous calls work from any thread, async or not. A transaction
//!   holds one of them, taken in turn; statements are prepared once on
//!   each. The first also holds the runs' locks.
//! - **Writers go on together** (`READ COMMITTED`), where SQLite's take
//!   turns: every write the store makes is safe so. A run's journal,
//!   status and undos are written only by the process holding its lock
//!   (below); every other write is one insert that a key decides
//!   (`ON CONFLICT DO NOTHING`, then a read of what stands: PostgreSQL makes
//!   the second insert wait for the first to end), so two processes
//!   deciding one call at once record one decision, and both read it.
//! - **A run's lock is a session advisory lock** on a key of its id, taken
//!   without waiting (`pg_try_advisory_lock`): exactly one process runs or
//!   resumes a run. PostgreSQL releases it when the process's connection
//!   ends, `kill -9` included. A process also refuses its own second take.
//! - **Migrations** (`migrations/postgres/N.sql`) are applied once, under a
//!   session advisory lock, with the version in `codemode_schema`.
//! - **Fail-stop.** When the connection holding the run locks ends (the
//!   server restarted, the network broke), PostgreSQL has released them and
//!   another process may take the runs: every later operation of the store
//!   fails, so that no run of this process journals (and so makes) another
//!   call. There is no reconnecting: start the process again, and the runs
//!   resume from their journals, here or elsewhere.
//!
//! TLS is not spoken: reach a remote server through a tunnel, or keep it on
//! a private network.

use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::BytesMut;
use futures_executor::block_on;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, NoTls, Statement};

use crate::error::{Failure, StoreError};
use crate::lock::LockError;
use crate::sql::{Cell, Database, Held, Param, Row, Tx};

/// "cmru": the first key of the store's own advisory locks.
const STORE_KEY: i32 = 0x636d_7275;

/// The second key of the lock migrations are applied under.
const MIGRATING: i32 = 0;

/// How many connections a process opens.
pub(crate) const CONNECTIONS: usize = 4;

/// Each schema version's migration, in order: version N is the N-th.
const MIGRATIONS: [&str; 2] = [
    include_str!("../migrations/postgres/1.sql"),
    include_str!("../migrations/postgres/2.sql"),
];

/// A PostgreSQL database and this process's connection to it.
pub(crate) struct Postgres {
    shared: Arc<Shared>,
}

struct Shared {
    place: PathBuf,
    /// The connections; the first holds the runs' session locks.
    connections: Vec<Mutex<Connection>>,
    /// The connection the next transaction takes.
    next: AtomicUsize,
    /// The keys of the run locks this process holds.
    held: Mutex<HashSet<i64>>,
    /// Whether the connection that holds them has ended: PostgreSQL has
    /// released them, another process may take the runs, and so this one
    /// must not write for them again.
    locks_lost: Arc<AtomicBool>,
}

struct Connection {
    client: Client,
    /// Each statement prepared, by its SQL as the store writes it.
    statements: HashMap<String, Statement>,
}

impl Connection {
    /// The statement of `sql`, prepared once, its `?N` made `$N`.
    fn statement(&mut self, sql: &str) -> Result<Statement, Failure> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = block_on(self.client.prepare(&dollar_parameters(sql)))?;
        self.statements.insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl Postgres {
    /// Connect to the database at `url` (`postgres://user:password@host:port/db`)
    /// and bring its schema up to date.
    ///
    /// # Errors
    ///
    /// [`StoreError::Postgres`] when it cannot be reached; [`StoreError::NotOurs`]
    /// for a database with a `runs` table codemode did not make;
    /// [`StoreError::NewerSchema`].
    pub(crate) fn connect(url: &str) -> Result<Self, StoreError> {
        let place = PathBuf::from(without_password(url));
        let fail = |failure: Failure| failure.in_file(place.clone());
        let config: tokio_postgres::Config = url.parse().map_err(|e| fail(Failure::Postgres(e)))?;
        let (sender, receiver) = std::sync::mpsc::channel();
        let locks_lost = Arc::new(AtomicBool::new(false));
        let lost = Arc::clone(&locks_lost);
        std::thread::Builder::new()
            .name("codemode-postgres".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = sender.send(Err(error.to_string()));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let mut clients = Vec::with_capacity(CONNECTIONS);
                    let mut driving = tokio::task::JoinSet::new();
                    for index in 0..CONNECTIONS {
                        match config.connect(NoTls).await {
                            Ok((client, connection)) => {
                                clients.push(client);
                                // Driven until its client is dropped, or
                                // the server or the network ends it.
                                driving.spawn(async move {
                                    let _ = connection.await;
                                    index
                                });
                            }
                            Err(error) => {
                                let _ = sender.send(Err(error.to_string()));
                                return;
                            }
                        }
                    }
                    let _ = sender.send(Ok(clients));
                    while let Some(ended) = driving.join_next().await {
                        if ended.is_ok_and(|index| index == 0) {
                            lost.store(true, Ordering::SeqCst);
                        }
                    }
                });
            })
            .map_err(|error| StoreError::Unexpected {
                file: place.clone(),
                what: format!("its connection's thread did not start: {error}"),
            })?;
        let clients = receiver
            .recv()
            .map_err(|_| "the connection's thread ended".to_owned())
            .and_then(|connected| connected)
            .map_err(|reason| StoreError::Unreachable {
                file: place.clone(),
                reason,
            })?;
        let store = Self {
            shared: Arc::new(Shared {
                place: place.clone(),
                connections: clients
                    .into_iter()
                    .map(|client| {
                        Mutex::new(Connection {
                            client,
                            statements: HashMap::new(),
                        })
                    })
                    .collect(),
                next: AtomicUsize::new(0),
                held: Mutex::new(HashSet::new()),
                locks_lost,
            }),
        };
        store.migrate()?;
        Ok(store)
    }

    /// A connection for a transaction: the next one in turn.
    fn any_connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        let connections = &self.shared.connections;
        let next = self.shared.next.fetch_add(1, Ordering::Relaxed) % connections.len();
        connections[next]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Apply the migrations this database lacks, once even when several
    /// processes start at once.
    fn migrate(&self) -> Result<(), StoreError> {
        let place = self.shared.place.clone();
        let connection = self.shared.first();
        let client = &connection.client;
        let run = |sql: &str| block_on(client.batch_execute(sql));
        let migrated = (|| -> Result<(), Failure> {
            run(&format!(
                "SELECT pg_advisory_lock({STORE_KEY}, {MIGRATING})"
            ))?;
            run("CREATE TABLE IF NOT EXISTS codemode_schema (version INTEGER NOT NULL)")?;
            let version: i32 = block_on(
                client.query_one("SELECT coalesce(max(version), 0) FROM codemode_schema", &[]),
            )?
            .get(0);
            let known = MIGRATIONS.len() as i32;
            if version > known {
                return Err(StoreError::NewerSchema {
                    file: place.clone(),
                    found: version.into(),
                    known: known.into(),
                }
                .into());
            }
            if version == 0 {
                let foreign: bool =
                    block_on(client.query_one("SELECT to_regclass('runs') IS NOT NULL", &[]))?
                        .get(0);
                if foreign {
                    return Err(StoreError::NotOurs {
                        file: place.clone(),
                        reason: "it has a `runs` table that codemode did not make".into(),
                    }
                    .into());
                }
            }
            for (number, migration) in (1..).zip(MIGRATIONS).skip(version as usize) {
                run("BEGIN")?;
                let applied = run(migration).and_then(|()| {
                    run(&format!(
                        "INSERT INTO codemode_schema (version) VALUES ({number})"
                    ))
                });
                match applied {
                    Ok(()) => run("COMMIT")?,
                    Err(error) => {
                        let _ = run("ROLLBACK");
                        return Err(error.into());
                    }
                }
            }
            Ok(())
        })();
        let _ = run(&format!(
            "SELECT pg_advisory_unlock({STORE_KEY}, {MIGRATING})"
        ));
        migrated.map_err(|failure| failure.in_file(place))
    }
}

impl Database for Postgres {
    fn transact(
        &self,
        write: bool,
        work: &mut dyn FnMut(&mut dyn Tx) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        blocking(|| self.transact_here(write, work))
    }

    fn lock(&self, run: &str) -> Result<Box<dyn Held>, LockError> {
        blocking(|| self.lock_here(run))
    }

    fn place(&self) -> &Path {
        &self.shared.place
    }

    fn unusable(&self) -> Option<Failure> {
        self.check_locks().err()
    }
}

/// Run `wait`, which waits on the database's round trips, telling a
/// multi-threaded tokio runtime that this worker blocks so that it hands
/// the worker's other tasks to another thread meanwhile (a transaction
/// takes a few round trips: milliseconds, against SQLite's microseconds).
fn blocking<T>(wait: impl FnOnce() -> T) -> T {
    let multi_threaded = tokio::runtime::Handle::try_current().is_ok_and(|runtime| {
        runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
    });
    if multi_threaded {
        tokio::task::block_in_place(wait)
    } else {
        wait()
    }
}

impl Postgres {
    fn transact_here(
        &self,
        write: bool,
        work: &mut dyn FnMut(&mut dyn Tx) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        self.check_locks()?;
        let mut connection = self.any_connection();
        let begin = if write {
            "BEGIN"
        } else {
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        };
        block_on(connection.client.batch_execute(begin))?;
        let done = work(&mut PostgresTx(&mut connection));
        let end = if done.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = block_on(connection.client.batch_execute(end));
        done?;
        Ok(ended?)
    }

    /// Refuse to go on once the connection holding the run locks has
    /// ended: the runs this process ran may be another's now, and a write
    /// for them (a journal entry, before a call's effect) could make a
    /// call twice. The process must be started again.
    fn check_locks(&self) -> Result<(), Failure> {
        if self.shared.locks_lost.load(Ordering::SeqCst) {
            return Err(Failure::Store(StoreError::Unreachable {
                file: self.shared.place.clone(),
                reason: "the connection that held this process's run locks ended, so its runs may be another process's now; it stops writing so that no call is made twice: start it again".into(),
            }));
        }
        Ok(())
    }

    fn lock_here(&self, run: &str) -> Result<Box<dyn Held>, LockError> {
        self.check_locks().map_err(|_| {
            LockError::File(std::io::Error::other("the run locks' connection ended"))
        })?;
        let key = run_key(run);
        let mut held = self
            .shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if held.contains(&key) {
            return Err(LockError::Busy);
        }
        let connection = self.shared.first();
        let taken: bool = block_on(
            connection
                .client
                .query_one("SELECT pg_try_advisory_lock($1)", &[&key]),
        )
        .map_err(|error| LockError::File(std::io::Error::other(error)))?
        .get(0);
        if !taken {
            return Err(LockError::Busy);
        }
        held.insert(key);
        Ok(Box::new(AdvisoryLock {
            shared: Arc::clone(&self.shared),
            key,
        }))
    }
}

/// A run's session advisory lock, held by this process's connection.
struct AdvisoryLock {
    shared: Arc<Shared>,
    key: i64,
}

impl Held for AdvisoryLock {
    fn remove(self: Box<Self>) {}
}

impl Shared {
    /// The first connection, which holds the runs' locks.
    fn first(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connections[0]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for AdvisoryLock {
    fn drop(&mut self) {
        let connection = self.shared.first();
        // A connection that is gone has released it already.
        let _ = block_on(
            connection
                .client
                .execute("SELECT pg_advisory_unlock($1)", &[&self.key]),
        );
        drop(connection);
        self.shared
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.key);
    }
}

/// The advisory lock key of run `run`: 64 bits of its id's FNV-1a hash.
fn run_key(run: &str) -> i64 {
    let hash = run.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

struct PostgresTx<'a>(&'a mut Connection);

impl Tx for PostgresTx<'_> {
    fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, Failure> {
        let statement = self.0.statement(sql)?;
        Ok(block_on(self.0.client.execute(&statement, &bound(params)))?)
    }

    fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Vec<Row>, Failure> {
        let statement = self.0.statement(sql)?;
        let rows = block_on(self.0.client.query(&statement, &bound(params)))?;
        let mut read = Vec::with_capacity(rows.len());
        for row in rows {
            let mut cells = Vec::with_capacity(row.len());
            for (index, column) in row.columns().iter().enumerate() {
                let ty = column.type_();
                let cell = if *ty == Type::INT8 {
                    row.try_get::<_, Option<i64>>(index)?.map(Cell::Int)
                } else if *ty == Type::INT4 {
                    row.try_get::<_, Option<i32>>(index)?
                        .map(|v| Cell::Int(v.into()))
                } else if *ty == Type::BOOL {
                    row.try_get::<_, Option<bool>>(index)?
                        .map(|v| Cell::Int(v.into()))
                } else if *ty == Type::BYTEA {
                    row.try_get::<_, Option<Vec<u8>>>(index)?.map(Cell::Blob)
                } else {
                    row.try_get::<_, Option<String>>(index)?.map(Cell::Text)
                };
                cells.push(cell.unwrap_or(Cell::Null));
            }
            read.push(Row(cells));
        }
        Ok(read)
    }
}

/// `params` as tokio-postgres takes them.
fn bound<'a>(params: &'a [Param<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    params
        .iter()
        .map(|param| param as &(dyn ToSql + Sync))
        .collect()
}

/// `sql` with SQLite's `?N` parameters written as PostgreSQL's `$N`. The
/// store's statements hold no `?` but in their parameters.
fn dollar_parameters(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

/// `url` without the password of its user, as errors and logs show it.
pub(crate) fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "postgres://…".to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = match authority.rsplit_once('@') {
        Some((user, host)) => {
            let user = user.split_once(':').map_or(user, |(user, _)| user);
            format!("{user}@{host}")
        }
        None => authority.to_owned(),
    };
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    format!("{scheme}://{host}{path}")
}

impl ToSql for Param<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match *self {
            Self::Null => Ok(IsNull::Yes),
            Self::Int(value) if *ty == Type::INT4 => i32::try_from(value)?.to_sql(ty, out),
            Self::Int(value) if *ty == Type::BOOL => (value != 0).to_sql(ty, out),
            Self::Int(value) => value.to_sql(ty, out),
            Self::Bool(value) if *ty == Type::BOOL => value.to_sql(ty, out),
            Self::Bool(value) => i64::from(value).to_sql(ty, out),
            Self::Text(text) => text.to_sql(ty, out),
            Self::Blob(bytes) => bytes.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_the_postgresql_way() {
        assert_eq!(
            dollar_parameters("SELECT a FROM t WHERE b = ?1 AND (?2 IS NULL OR c = ?2)"),
            "SELECT a FROM t WHERE b = $1 AND ($2 IS NULL OR c = $2)"
        );
    }

    #[test]
    fn a_url_is_shown_without_its_password() {
        assert_eq!(
            without_password("postgres://ana:s3cret@db.example:5432/runs?sslmode=disable"),
            "postgres://ana@db.example:5432/runs"
        );
        assert_eq!(
            without_password("postgresql://localhost/runs"),
            "postgresql://localhost/runs"
        );
        assert_eq!(without_password("host=x password=y"), "postgres://…");
    }

    #[test]
    fn run_keys_differ_by_run() {
        assert_ne!(run_key("r_0000000000a1"), run_key("r_0000000000a2"));
        assert_eq!(run_key("r_x"), run_key("r_x"));
    }
}
