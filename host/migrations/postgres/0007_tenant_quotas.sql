-- Per-tenant quotas, set by the operator (as SQLite's 0007_tenant_quotas.sql).
-- NULL is "no limit". `weight` is the tenant's share of worker slots when several
-- tenants have runnable jobs.
ALTER TABLE tenants
    ADD COLUMN max_running integer,
    ADD COLUMN max_queued bigint,
    ADD COLUMN enqueue_rate double precision,
    ADD COLUMN enqueue_burst integer,
    ADD COLUMN max_fuel bigint,
    ADD COLUMN max_timeout_ms bigint,
    ADD COLUMN max_memory_bytes bigint,
    ADD COLUMN max_component_bytes bigint,
    ADD COLUMN max_components integer,
    ADD COLUMN weight integer NOT NULL DEFAULT 1 CHECK (weight >= 1);

-- A tenant's READY jobs in Django's order: counted against `max_queued` at each
-- enqueue, and the claim finds the tenants with READY jobs and takes each one's
-- next jobs from it. It replaces the single queue order of every tenant.
CREATE INDEX tasks_ready_by_tenant ON tasks (tenant, priority DESC, available_at, id)
    WHERE status = 'READY';
DROP INDEX tasks_ready;
