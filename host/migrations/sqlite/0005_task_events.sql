-- Every change of a job's status (or attempt), in the order SQLite's one writer
-- made them: what `GET /api/v1/events` follows, e.g. for Django's task_started and
-- task_finished signals. Written by a trigger, so no statement of the store has to
-- remember it; pruned by age (the newest event always stays, so `seq` never goes
-- back). The rowid alone, no index: two events per job on the workers' hot path
-- cost one b-tree insert each, and a reader scans forward from its cursor.
CREATE TABLE task_events (
    seq        INTEGER PRIMARY KEY,
    tenant     TEXT NOT NULL,
    task_id    TEXT NOT NULL,
    task_path  TEXT NOT NULL,
    status     TEXT NOT NULL,
    attempt    INTEGER NOT NULL,
    at         INTEGER NOT NULL
);

CREATE TRIGGER tasks_status_events AFTER UPDATE OF status, attempt ON tasks
WHEN NEW.status IS NOT OLD.status OR NEW.attempt IS NOT OLD.attempt
BEGIN
    INSERT INTO task_events (tenant, task_id, task_path, status, attempt, at)
    VALUES (NEW.tenant, NEW.id, NEW.task_path, NEW.status, NEW.attempt,
            CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER));
END;
