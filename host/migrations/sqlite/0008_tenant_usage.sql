-- Usage per tenant and UTC day, for billing: kept when jobs and attempts are
-- pruned. Written by triggers, so no statement of the store has to remember it:
-- each attempt adds its cost when it is recorded, each job its outcome when it
-- finishes. `peak_memory_bytes` is the day's highest attempt.
ALTER TABLE task_attempts ADD COLUMN http_requests INTEGER NOT NULL DEFAULT 0;

CREATE TABLE tenant_usage (
    tenant             TEXT NOT NULL,
    day                TEXT NOT NULL,
    successful         INTEGER NOT NULL DEFAULT 0,
    failed             INTEGER NOT NULL DEFAULT 0,
    cancelled          INTEGER NOT NULL DEFAULT 0,
    attempts           INTEGER NOT NULL DEFAULT 0,
    fuel_consumed      INTEGER NOT NULL DEFAULT 0,
    attempt_us         INTEGER NOT NULL DEFAULT 0,
    peak_memory_bytes  INTEGER NOT NULL DEFAULT 0,
    http_requests      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, day)
) WITHOUT ROWID;

CREATE TRIGGER task_attempts_usage AFTER INSERT ON task_attempts
BEGIN
    INSERT INTO tenant_usage (tenant, day, attempts, fuel_consumed, attempt_us,
        peak_memory_bytes, http_requests)
    VALUES (NEW.tenant, date(NEW.finished_at / 1000000, 'unixepoch'), 1, NEW.fuel_consumed,
        NEW.duration_us, NEW.peak_memory_bytes, NEW.http_requests)
    ON CONFLICT (tenant, day) DO UPDATE SET
        attempts = attempts + 1,
        fuel_consumed = fuel_consumed + excluded.fuel_consumed,
        attempt_us = attempt_us + excluded.attempt_us,
        peak_memory_bytes = max(peak_memory_bytes, excluded.peak_memory_bytes),
        http_requests = http_requests + excluded.http_requests;
END;

CREATE TRIGGER tasks_finished_usage AFTER UPDATE OF status ON tasks
WHEN NEW.status IN ('SUCCESSFUL', 'FAILED', 'CANCELLED') AND NEW.status IS NOT OLD.status
BEGIN
    INSERT INTO tenant_usage (tenant, day, successful, failed, cancelled)
    VALUES (NEW.tenant, date('now'), NEW.status = 'SUCCESSFUL', NEW.status = 'FAILED',
        NEW.status = 'CANCELLED')
    ON CONFLICT (tenant, day) DO UPDATE SET
        successful = successful + excluded.successful,
        failed = failed + excluded.failed,
        cancelled = cancelled + excluded.cancelled;
END;
