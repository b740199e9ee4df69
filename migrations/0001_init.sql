-- 0001_init.sql - initial kvfleetd schema.
-- Times are integer milliseconds since the Unix epoch (UTC).

CREATE TABLE clusters (
    id                    INTEGER PRIMARY KEY,
    name                  TEXT    NOT NULL UNIQUE,
    master_id             INTEGER REFERENCES nodes(id) ON DELETE RESTRICT,
    max_lag_on_failover   INTEGER NOT NULL DEFAULT 1048576 CHECK (max_lag_on_failover >= 0),
    min_replicas_to_write INTEGER NOT NULL DEFAULT 0 CHECK (min_replicas_to_write >= 0),
    lag_threshold_bytes   INTEGER NOT NULL DEFAULT 1048576 CHECK (lag_threshold_bytes >= 0),
    lag_threshold_ms      INTEGER NOT NULL DEFAULT 10000 CHECK (lag_threshold_ms >= 0),
    created_at            INTEGER NOT NULL
);

CREATE TABLE nodes (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    host        TEXT    NOT NULL,
    port        INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    priority    INTEGER NOT NULL DEFAULT 100,
    maintenance INTEGER NOT NULL DEFAULT 0 CHECK (maintenance IN (0, 1)),
    tags        TEXT    NOT NULL DEFAULT '[]',
    -- A node belongs to at most one cluster (replication group).
    cluster_id  INTEGER REFERENCES clusters(id) ON DELETE SET NULL,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER,
    UNIQUE (host, port)
);
CREATE INDEX nodes_cluster ON nodes(cluster_id);

-- Last observed status of each node, written by the monitor on every change
-- and periodically for offsets.
CREATE TABLE node_status (
    node_id     INTEGER PRIMARY KEY REFERENCES nodes(id) ON DELETE CASCADE,
    state       TEXT    NOT NULL DEFAULT 'unknown' CHECK (state IN ('unknown', 'up', 'down')),
    role        TEXT    CHECK (role IN ('master', 'replica')),
    master_host TEXT,
    master_port INTEGER,
    link        TEXT    CHECK (link IN ('up', 'down')),
    repl_offset INTEGER,
    state_since INTEGER,
    updated_at  INTEGER NOT NULL
);

-- Append-only journal of every topology change and action. Cluster and node
-- are stored by name so the history survives their deletion.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    ts      INTEGER NOT NULL,
    cluster TEXT,
    node    TEXT,
    kind    TEXT    NOT NULL,
    message TEXT    NOT NULL,
    actor   TEXT    NOT NULL
);
CREATE INDEX events_cluster ON events(cluster, id);
CREATE INDEX events_node ON events(node, id);

CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
