-- Usage per tenant and UTC day, for billing (as SQLite's 0008_tenant_usage.sql):
-- kept when jobs and attempts are pruned. Written by statement-level triggers,
-- one upsert per tenant and day for a whole batch of completions: each attempt
-- adds its cost when it is recorded, each job its outcome when it finishes.
-- `peak_memory_bytes` is the day's highest attempt.
ALTER TABLE task_attempts ADD COLUMN http_requests bigint NOT NULL DEFAULT 0;

CREATE TABLE tenant_usage (
    tenant             text NOT NULL,
    day                date NOT NULL,
    successful         bigint NOT NULL DEFAULT 0,
    failed             bigint NOT NULL DEFAULT 0,
    cancelled          bigint NOT NULL DEFAULT 0,
    attempts           bigint NOT NULL DEFAULT 0,
    fuel_consumed      bigint NOT NULL DEFAULT 0,
    attempt_us         bigint NOT NULL DEFAULT 0,
    peak_memory_bytes  bigint NOT NULL DEFAULT 0,
    http_requests      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, day)
);

CREATE FUNCTION wasmtasks_attempts_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tenant_usage AS u (tenant, day, attempts, fuel_consumed, attempt_us,
        peak_memory_bytes, http_requests)
    SELECT tenant, (finished_at AT TIME ZONE 'UTC')::date, count(*), sum(fuel_consumed),
        sum(duration_us), max(peak_memory_bytes), sum(http_requests)
    FROM recorded GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (tenant, day) DO UPDATE SET
        attempts = u.attempts + excluded.attempts,
        fuel_consumed = u.fuel_consumed + excluded.fuel_consumed,
        attempt_us = u.attempt_us + excluded.attempt_us,
        peak_memory_bytes = greatest(u.peak_memory_bytes, excluded.peak_memory_bytes),
        http_requests = u.http_requests + excluded.http_requests;
    RETURN NULL;
END $$;

CREATE TRIGGER task_attempts_usage AFTER INSERT ON task_attempts
REFERENCING NEW TABLE AS recorded
FOR EACH STATEMENT EXECUTE FUNCTION wasmtasks_attempts_usage();

CREATE FUNCTION wasmtasks_finished_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tenant_usage AS u (tenant, day, successful, failed, cancelled)
    SELECT n.tenant, (now() AT TIME ZONE 'UTC')::date,
        count(*) FILTER (WHERE n.status = 'SUCCESSFUL'),
        count(*) FILTER (WHERE n.status = 'FAILED'),
        count(*) FILTER (WHERE n.status = 'CANCELLED')
    FROM finished_new n JOIN finished_old o ON o.id = n.id
    WHERE n.status IN ('SUCCESSFUL', 'FAILED', 'CANCELLED') AND n.status IS DISTINCT FROM o.status
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (tenant, day) DO UPDATE SET
        successful = u.successful + excluded.successful,
        failed = u.failed + excluded.failed,
        cancelled = u.cancelled + excluded.cancelled;
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_finished_usage AFTER UPDATE ON tasks
REFERENCING NEW TABLE AS finished_new OLD TABLE AS finished_old
FOR EACH STATEMENT EXECUTE FUNCTION wasmtasks_finished_usage();
