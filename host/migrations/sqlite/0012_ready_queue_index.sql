-- A queue's lag (its oldest runnable READY job) is the only reader of
-- tasks_queue_status since the counts moved to queue_counts (0011), and it reads
-- READY jobs only. A partial index of READY jobs answers it with the same one
-- seek, and costs a claim one index entry removed instead of one moved; a
-- finished attempt no longer touches it at all.
DROP INDEX tasks_queue_status;
CREATE INDEX tasks_ready_by_queue ON tasks (tenant, queue_name, available_at)
    WHERE status = 'READY';

-- A claim reads each tenant's next jobs from tasks_ready_by_tenant and filters
-- them by queue (the claim's queues, the paused ones). With `queue_name` in the
-- index that read never visits the table: in a large table each of those rows
-- sat on a page of its own, read at every claim.
DROP INDEX tasks_ready_by_tenant;
CREATE INDEX tasks_ready_by_tenant ON tasks (tenant, priority DESC, available_at, id, queue_name)
    WHERE status = 'READY';
