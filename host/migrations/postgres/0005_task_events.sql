-- Every change of a job's status (or attempt): what `GET /api/v1/events` follows,
-- e.g. for Django's task_started and task_finished signals (as SQLite's
-- 0005_task_events.sql). Written by a statement-level trigger (one insert per
-- statement, however many jobs it changed); pruned by age.
--
-- `seq` alone cannot be a cursor here: a transaction may commit after another
-- that took a higher `seq`. So each event keeps the id of the transaction that
-- wrote it, and readers take only events of transactions older than every one
-- still running (`pg_snapshot_xmin`), in (xid, seq) order: an event is never
-- passed over because its transaction committed late.
CREATE TABLE task_events (
    seq        bigserial,
    xid        xid8 NOT NULL DEFAULT pg_current_xact_id(),
    tenant     text NOT NULL,
    task_id    text COLLATE "C" NOT NULL,
    task_path  text NOT NULL,
    status     text NOT NULL,
    attempt    integer NOT NULL,
    at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (xid, seq)
);
CREATE INDEX task_events_tenant ON task_events (tenant, xid, seq);
CREATE INDEX task_events_at ON task_events (at);

CREATE FUNCTION wasmtasks_task_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_events (tenant, task_id, task_path, status, attempt)
    SELECT n.tenant, n.id, n.task_path, n.status, n.attempt
    FROM changed_new n JOIN changed_old o ON o.id = n.id
    WHERE n.status IS DISTINCT FROM o.status OR n.attempt IS DISTINCT FROM o.attempt;
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_status_events AFTER UPDATE ON tasks
REFERENCING NEW TABLE AS changed_new OLD TABLE AS changed_old
FOR EACH STATEMENT EXECUTE FUNCTION wasmtasks_task_events();
