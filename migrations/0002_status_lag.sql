-- 0002_status_lag.sql - keep the last derived replication lag of each
-- replica with its status (bytes behind the master, and milliseconds).

ALTER TABLE node_status ADD COLUMN lag_bytes INTEGER;
ALTER TABLE node_status ADD COLUMN lag_ms INTEGER;
