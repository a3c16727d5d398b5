-- Version 1 of the runs database, for SQLite: the runs, their journals,
-- the calls waiting for a person, the decisions on them, and the undo steps
-- of rollbacks. migrations/postgres/1.sql is the same schema for PostgreSQL.
CREATE TABLE runs (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    language TEXT NOT NULL,
    grants TEXT NOT NULL,
    limits TEXT NOT NULL,
    seed BLOB NOT NULL,
    origin TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
) STRICT;
CREATE INDEX runs_by_created ON runs (created);

CREATE TABLE entries (
    run TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    call INTEGER,
    entry TEXT NOT NULL,
    PRIMARY KEY (run, seq)
) STRICT, WITHOUT ROWID;

CREATE TABLE waits (
    run TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    call INTEGER NOT NULL,
    waiting TEXT NOT NULL,
    namespace TEXT NOT NULL,
    method TEXT NOT NULL,
    args TEXT NOT NULL,
    because TEXT NOT NULL,
    since INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    PRIMARY KEY (run, call, waiting)
) STRICT, WITHOUT ROWID;

CREATE TABLE decisions (
    run TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    call INTEGER NOT NULL,
    waiting TEXT NOT NULL,
    decision TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (run, call, waiting)
) STRICT, WITHOUT ROWID;

CREATE TABLE undos (
    run TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    call INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('applied', 'failed')),
    error TEXT,
    undo_run TEXT,
    at INTEGER NOT NULL,
    PRIMARY KEY (run, call)
) STRICT, WITHOUT ROWID;
