-- Version 1 of the runs database, for PostgreSQL: the same tables, columns
-- and keys as migrations/sqlite/1.sql, in PostgreSQL's types (BIGINT for
-- SQLite's INTEGER, BYTEA for BLOB, and SQLite's implicit rowid made a
-- column). Applied once, with the version
-- recorded in codemode_schema, under an advisory lock so that two servers
-- starting at once do not both apply it.
CREATE TABLE runs (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL,
    language TEXT NOT NULL,
    grants TEXT NOT NULL,
    limits TEXT NOT NULL,
    seed BYTEA NOT NULL,
    origin TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT,
    created BIGINT NOT NULL,
    updated BIGINT NOT NULL,
    -- The order runs were recorded in, which SQLite's rowid gives: runs
    -- created in the same millisecond are listed in it.
    rowid BIGSERIAL NOT NULL
);
CREATE INDEX runs_by_created ON runs (created);

CREATE TABLE entries (
    run TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    call BIGINT,
    entry TEXT NOT NULL,
    PRIMARY KEY (run, seq)
);

CREATE TABLE waits (
    run TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    call BIGINT NOT NULL,
    waiting TEXT NOT NULL,
    namespace TEXT NOT NULL,
    method TEXT NOT NULL,
    args TEXT NOT NULL,
    because TEXT NOT NULL,
    since BIGINT NOT NULL,
    expires BIGINT NOT NULL,
    PRIMARY KEY (run, call, waiting)
);

CREATE TABLE decisions (
    run TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    call BIGINT NOT NULL,
    waiting TEXT NOT NULL,
    decision TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (run, call, waiting)
);

CREATE TABLE undos (
    run TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    call BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('applied', 'failed')),
    error TEXT,
    undo_run TEXT,
    at BIGINT NOT NULL,
    PRIMARY KEY (run, call)
);
