-- Unique jobs, paused queues and periodic jobs (as SQLite's
-- 0006_schedules_unique_pauses.sql).

ALTER TABLE tasks ADD COLUMN unique_key text COLLATE "C";
ALTER TABLE tasks ADD COLUMN unique_states integer NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX tasks_unique ON tasks (tenant, unique_key)
WHERE unique_key IS NOT NULL
  AND (unique_states & (CASE status WHEN 'READY' THEN 1 WHEN 'RUNNING' THEN 2
       WHEN 'SUCCESSFUL' THEN 4 WHEN 'FAILED' THEN 8 WHEN 'CANCELLED' THEN 16 ELSE 0 END)) <> 0;

CREATE TABLE queue_pauses (
    tenant      text COLLATE "C" NOT NULL,
    queue_name  text COLLATE "C" NOT NULL,
    paused_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, queue_name)
);

CREATE TABLE schedules (
    tenant       text COLLATE "C" NOT NULL,
    name         text COLLATE "C" NOT NULL,
    source       text NOT NULL CHECK (source IN ('file', 'store')),
    cron         text NOT NULL,
    timezone     text NOT NULL,
    task_path    text NOT NULL,
    args         jsonb NOT NULL,
    kwargs       jsonb NOT NULL,
    queue_name   text,
    priority     integer,
    catch_up     text NOT NULL CHECK (catch_up IN ('latest', 'none')),
    paused       boolean NOT NULL DEFAULT false,
    next_run_at  timestamptz NOT NULL,
    last_run_at  timestamptz,
    last_job_id  text,
    last_error   text,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, name)
);
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE NOT paused;
