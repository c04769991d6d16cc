-- Per-tenant quotas, set by the operator. NULL is "no limit". `weight` is the
-- tenant's share of worker slots when several tenants have runnable jobs.
ALTER TABLE tenants ADD COLUMN max_running INTEGER;
ALTER TABLE tenants ADD COLUMN max_queued INTEGER;
ALTER TABLE tenants ADD COLUMN enqueue_rate REAL;
ALTER TABLE tenants ADD COLUMN enqueue_burst INTEGER;
ALTER TABLE tenants ADD COLUMN max_fuel INTEGER;
ALTER TABLE tenants ADD COLUMN max_timeout_ms INTEGER;
ALTER TABLE tenants ADD COLUMN max_memory_bytes INTEGER;
ALTER TABLE tenants ADD COLUMN max_component_bytes INTEGER;
ALTER TABLE tenants ADD COLUMN max_components INTEGER;
ALTER TABLE tenants ADD COLUMN weight INTEGER NOT NULL DEFAULT 1 CHECK (weight >= 1);

-- A tenant's READY jobs in Django's order: counted against `max_queued` at each
-- enqueue, and the claim finds the tenants with READY jobs and takes each one's
-- next jobs from it. It replaces the single queue order of every tenant.
CREATE INDEX tasks_ready_by_tenant ON tasks (tenant, priority DESC, available_at, id)
    WHERE status = 'READY';
DROP INDEX tasks_ready;
