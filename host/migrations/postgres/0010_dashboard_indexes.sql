-- Indexes for the dashboard's pages at a million jobs (each page under 100 ms).
-- Numbered 0010: 0009 is the workers registry's.
--
-- Job lists, newest first, a page at a time: the tenant's jobs in id (= enqueue)
-- order, and a status's (the failed jobs) in that order, so a page reads its rows
-- and stops instead of sorting every job of the tenant. `tenant` and `id` never
-- change; the status index moves with a job's status, as tasks_queue_status does.
CREATE INDEX tasks_tenant_id ON tasks (tenant, id);
CREATE INDEX tasks_tenant_status_id ON tasks (tenant, status, id);
-- Finished jobs per bucket of time (throughput and failure rate): the tenant's
-- range of finish times, covering the status, without reading the rows.
CREATE INDEX tasks_tenant_finished ON tasks (tenant, finished_at, status)
    WHERE finished_at IS NOT NULL;
-- Counts per queue and status read this index alone; with `available_at` a
-- queue's oldest READY job (its lag) is one seek. (SQLite had one without
-- `available_at`; PostgreSQL had none.)
CREATE INDEX tasks_queue_status ON tasks (tenant, queue_name, status, available_at);
