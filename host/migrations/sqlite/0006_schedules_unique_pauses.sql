-- Unique jobs, paused queues and periodic jobs.

-- A unique job carries the hash of what makes it unique (its key, and as asked its
-- arguments, queue and period) and the statuses in which it blocks a duplicate, as
-- a bit set (READY 1, RUNNING 2, SUCCESSFUL 4, FAILED 8, CANCELLED 16; READY and
-- RUNNING always). The partial unique index makes concurrent duplicates insert one
-- row: a job leaves it when it moves to a status outside its set.
ALTER TABLE tasks ADD COLUMN unique_key TEXT;
ALTER TABLE tasks ADD COLUMN unique_states INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX tasks_unique ON tasks (tenant, unique_key)
WHERE unique_key IS NOT NULL
  AND (unique_states & (CASE status WHEN 'READY' THEN 1 WHEN 'RUNNING' THEN 2
       WHEN 'SUCCESSFUL' THEN 4 WHEN 'FAILED' THEN 8 WHEN 'CANCELLED' THEN 16 ELSE 0 END)) <> 0;

-- A tenant's paused queues: workers claim none of their jobs until resumed.
CREATE TABLE queue_pauses (
    tenant      TEXT NOT NULL,
    queue_name  TEXT NOT NULL,
    paused_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant, queue_name)
);

-- Periodic jobs. `source` is `file` (from wasmtasks.toml, written by the workers'
-- schedulers) or `store` (through the API or the CLI). `next_run_at` is the next
-- tick to enqueue: a scheduler takes it by moving it on (compare and set) in the
-- transaction that inserts the tick's job, so racing schedulers enqueue one job.
CREATE TABLE schedules (
    tenant       TEXT NOT NULL,
    name         TEXT NOT NULL,
    source       TEXT NOT NULL CHECK (source IN ('file', 'store')),
    cron         TEXT NOT NULL,
    timezone     TEXT NOT NULL,
    task_path    TEXT NOT NULL,
    args         TEXT NOT NULL,             -- JSON array
    kwargs       TEXT NOT NULL,             -- JSON object
    queue_name   TEXT,                      -- NULL: the task's
    priority     INTEGER,                   -- NULL: the task's
    catch_up     TEXT NOT NULL CHECK (catch_up IN ('latest', 'none')),
    paused       INTEGER NOT NULL DEFAULT 0,
    next_run_at  INTEGER NOT NULL,          -- µs since the epoch
    last_run_at  INTEGER,                   -- the tick last enqueued
    last_job_id  TEXT,
    last_error   TEXT,                      -- why the last tick enqueued nothing
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant, name)
);
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE paused = 0;
