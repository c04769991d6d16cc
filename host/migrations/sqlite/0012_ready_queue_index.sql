-- A queue's lag (its oldest runnable READY job) is the only reader of
-- tasks_queue_status since the counts moved to queue_counts (0011), and it reads
-- READY jobs only. A partial index of READY jobs answers it with the same one
-- seek, and costs a claim one index entry removed instead of one moved; a
-- finished attempt no longer touches it at all.
DROP INDEX tasks_queue_status;
CREATE INDEX tasks_ready_by_queue ON tasks (tenant, queue_name, available_at)
    WHERE status = 'READY';
