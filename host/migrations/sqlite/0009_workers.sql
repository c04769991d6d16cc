-- Workers as data, for people and metrics (rescue goes by leases, not by this
-- table): each worker registers when it starts, heartbeats every
-- `heartbeat_every_ms` and marks itself stopped when it exits. A worker whose
-- heartbeat is three intervals old is lost. Rows whose heartbeat is a day old
-- are deleted when a worker registers.
CREATE TABLE workers (
    id                  TEXT PRIMARY KEY,
    host                TEXT NOT NULL,
    pid                 INTEGER NOT NULL,
    version             TEXT NOT NULL,
    queues              TEXT NOT NULL,          -- the queues it serves, as `worker --queues` reads
    tenants             TEXT,                   -- JSON array; NULL: every tenant
    concurrency         INTEGER NOT NULL,
    heartbeat_every_ms  INTEGER NOT NULL,
    started_at          INTEGER NOT NULL,       -- µs since the epoch
    heartbeat_at        INTEGER NOT NULL,
    stopped_at          INTEGER,
    finished            INTEGER NOT NULL DEFAULT 0,  -- attempts finished so far
    failed              INTEGER NOT NULL DEFAULT 0   -- of which failed
);
CREATE INDEX workers_heartbeat ON workers (heartbeat_at);
