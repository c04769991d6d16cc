-- A queue's lag (its oldest runnable READY job) is the only reader of
-- tasks_queue_status since the counts moved to queue_count_deltas
-- (0011_job_counts.sql), and it reads READY jobs only. A partial index of READY
-- jobs answers it with the same one seek, and a claim or a finished attempt no
-- longer adds an entry to it (an update of the status adds one to every index
-- whose predicate the new row meets).
DROP INDEX tasks_queue_status;
CREATE INDEX tasks_ready_by_queue ON tasks (tenant, queue_name, available_at)
    WHERE status = 'READY';
