-- Workers as data, for people and metrics (as SQLite's 0009_workers.sql): rescue
-- goes by leases, not by this table.
CREATE TABLE workers (
    id                  text COLLATE "C" PRIMARY KEY,
    host                text NOT NULL,
    pid                 bigint NOT NULL,
    version             text NOT NULL,
    queues              text NOT NULL,
    tenants             jsonb,
    concurrency         bigint NOT NULL,
    heartbeat_every_ms  bigint NOT NULL,
    started_at          timestamptz NOT NULL,
    heartbeat_at        timestamptz NOT NULL,
    stopped_at          timestamptz,
    finished            bigint NOT NULL DEFAULT 0,
    failed              bigint NOT NULL DEFAULT 0
);
CREATE INDEX workers_heartbeat ON workers (heartbeat_at);
