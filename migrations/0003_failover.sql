-- 0003_failover.sql - automatic failover and planned switchover.
--
-- Per-cluster failover settings, and the failovers journal: one row per
-- failover or switchover, written before each step is taken so that a
-- kvfleetd killed in the middle finishes or rolls back after restart. At
-- most one running recovery per cluster is enforced here, by a unique
-- partial index, so an automatic failover and an operator's call can never
-- both act.

ALTER TABLE clusters ADD COLUMN down_after_ms INTEGER NOT NULL DEFAULT 1000
    CHECK (down_after_ms >= 100);
ALTER TABLE clusters ADD COLUMN auto_failover INTEGER NOT NULL DEFAULT 1
    CHECK (auto_failover IN (0, 1));
ALTER TABLE clusters ADD COLUMN failover_cooldown_ms INTEGER NOT NULL DEFAULT 60000
    CHECK (failover_cooldown_ms >= 0);

CREATE TABLE failovers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster      TEXT    NOT NULL,
    kind         TEXT    NOT NULL CHECK (kind IN ('automatic', 'manual', 'switchover')),
    status       TEXT    NOT NULL
                 CHECK (status IN ('scheduled', 'running', 'done', 'failed', 'aborted', 'cancelled')),
    step         TEXT,
    reason       TEXT    NOT NULL,
    old_master   TEXT,
    new_master   TEXT,
    -- JSON documents written by the failover engine: the ranked candidates
    -- with the reason of each place or exclusion, every step with its
    -- timestamps and outcome, and each replica's resynchronisation kind.
    candidates   TEXT    NOT NULL DEFAULT '[]',
    steps        TEXT    NOT NULL DEFAULT '[]',
    replicas     TEXT    NOT NULL DEFAULT '[]',
    error        TEXT,
    requested_by TEXT    NOT NULL,
    timeout_ms   INTEGER,
    scheduled_at INTEGER,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER,
    acked_at     INTEGER,
    acked_by     TEXT,
    ack_comment  TEXT
);
CREATE UNIQUE INDEX failovers_one_running ON failovers(cluster) WHERE status = 'running';
CREATE INDEX failovers_cluster ON failovers(cluster, id);
