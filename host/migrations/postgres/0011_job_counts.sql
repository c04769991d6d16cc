-- Counts kept as jobs change (as SQLite's 0011_job_counts.sql), so that the
-- overview, `/metrics` and the queue list read a few rows instead of counting a
-- million jobs. Written by statement-level triggers.
--
-- Jobs per tenant, queue and status, as stored now, kept as deltas: each
-- statement that changes jobs appends one row per (tenant, queue, status) it
-- moved, and a reader sums them. Appending takes no lock another transaction
-- waits for, so concurrent claims and completions never queue behind a counter
-- row (an upserted counter would serialise every claim of a queue until commit,
-- and could deadlock a claim against a retry). Every 256th delta folds the table
-- into one row per group, under an advisory lock so that one transaction folds at
-- a time; the table stays a few hundred rows long.
CREATE TABLE queue_count_deltas (
    id          bigserial PRIMARY KEY,
    tenant      text COLLATE "C" NOT NULL,
    queue_name  text COLLATE "C" NOT NULL,
    status      text NOT NULL,
    n           bigint NOT NULL
);
CREATE INDEX queue_count_deltas_group ON queue_count_deltas (tenant, queue_name, status);

CREATE FUNCTION wasmtasks_fold_queue_counts() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    -- 0x7761736d ("wasm"), 11: this migration's lock.
    IF pg_try_advisory_xact_lock(2003984237, 11) THEN
        WITH folded AS (
            DELETE FROM queue_count_deltas RETURNING tenant, queue_name, status, n
        )
        INSERT INTO queue_count_deltas (tenant, queue_name, status, n)
        SELECT tenant, queue_name, status, sum(n) FROM folded
        GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
    END IF;
END $$;

CREATE FUNCTION wasmtasks_count_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    appended bigint;
    last_id bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO queue_count_deltas (tenant, queue_name, status, n)
        SELECT tenant, queue_name, status, count(*) FROM counted_new GROUP BY 1, 2, 3;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO queue_count_deltas (tenant, queue_name, status, n)
        SELECT tenant, queue_name, status, -count(*) FROM counted_old GROUP BY 1, 2, 3;
    ELSE
        INSERT INTO queue_count_deltas (tenant, queue_name, status, n)
        SELECT tenant, queue_name, status, sum(n) FROM (
            SELECT tenant, queue_name, status, 1 AS n FROM counted_new
            UNION ALL
            SELECT tenant, queue_name, status, -1 FROM counted_old
        ) moved
        GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
    END IF;
    GET DIAGNOSTICS appended = ROW_COUNT;
    -- Fold when this statement's ids passed a multiple of 256; only under READ
    -- COMMITTED, where deleting rows another fold deleted is never a
    -- serialization failure of the caller's (perhaps the application's)
    -- transaction.
    IF appended > 0 AND current_setting('transaction_isolation') = 'read committed' THEN
        last_id := currval('queue_count_deltas_id_seq');
        IF last_id / 256 <> (last_id - appended) / 256 THEN
            PERFORM wasmtasks_fold_queue_counts();
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- Before the triggers exist nothing is counted; creating them locks out writers of
-- `tasks`, so the count below sees every job committed before it.
CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks
REFERENCING NEW TABLE AS counted_new
FOR EACH STATEMENT EXECUTE FUNCTION wasmtasks_count_jobs();
CREATE TRIGGER tasks_count_update AFTER UPDATE ON tasks
REFERENCING NEW TABLE AS counted_new OLD TABLE AS counted_old
FOR EACH STATEMENT EXECUTE FUNCTION wasmtasks_count_jobs();
CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks
REFERENCING OLD TABLE AS counted_old
FOR EACH STATEMENT EXECUTE FUNCTION wasmtasks_count_jobs();

INSERT INTO queue_count_deltas (tenant, queue_name, status, n)
SELECT tenant, queue_name, status, count(*) FROM tasks GROUP BY 1, 2, 3;

-- Jobs finished per tenant, UTC minute and final status: throughput and failure
-- rate. A retried job counts each time it finishes; pruning takes nothing away.
-- Upserted like tenant_usage, in the completion's statement (one row per tenant,
-- minute and status of the batch, in key order). Minutes older than 8 days are
-- dropped whenever a tenant's first job of a minute finishes.
CREATE TABLE finished_minutes (
    tenant  text COLLATE "C" NOT NULL,
    minute  bigint NOT NULL,
    status  text NOT NULL,
    n       bigint NOT NULL,
    PRIMARY KEY (tenant, minute, status)
);

CREATE FUNCTION wasmtasks_count_finished() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO finished_minutes AS f (tenant, minute, status, n)
    SELECT n.tenant,
        floor(extract(epoch FROM coalesce(n.finished_at, now())) / 60)::bigint,
        n.status, count(*)
    FROM finished_new n JOIN finished_old o ON o.id = n.id
    WHERE n.status IN ('SUCCESSFUL', 'FAILED', 'CANCELLED') AND n.status IS DISTINCT FROM o.status
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (tenant, minute, status) DO UPDATE SET n = f.n + excluded.n;
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_count_finished AFTER UPDATE ON tasks
REFERENCING NEW TABLE AS finished_new OLD TABLE AS finished_old
FOR EACH STATEMENT EXECUTE FUNCTION wasmtasks_count_finished();

CREATE FUNCTION wasmtasks_expire_finished_minutes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM finished_minutes
    WHERE tenant = NEW.tenant AND minute < NEW.minute - 8 * 1440;
    RETURN NULL;
END $$;

CREATE TRIGGER finished_minutes_expire AFTER INSERT ON finished_minutes
FOR EACH ROW EXECUTE FUNCTION wasmtasks_expire_finished_minutes();

INSERT INTO finished_minutes (tenant, minute, status, n)
SELECT tenant, floor(extract(epoch FROM finished_at) / 60)::bigint, status, count(*)
FROM tasks
WHERE finished_at >= now() - interval '8 days'
  AND status IN ('SUCCESSFUL', 'FAILED', 'CANCELLED')
GROUP BY 1, 2, 3;
