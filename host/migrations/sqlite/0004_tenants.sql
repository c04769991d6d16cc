-- Tenants and their API tokens as data, and two columns of a job that its
-- attempts need without reading the configuration.

-- The owners of components, jobs, configuration and grants. `default` is the
-- tenant of a single-user installation. `http_ceiling` (a JSON array of origin
-- patterns) bounds the origins a tenant's admins may grant; only the operator sets it.
CREATE TABLE tenants (
    name          TEXT PRIMARY KEY NOT NULL,
    http_ceiling  TEXT NOT NULL DEFAULT '[]',
    created_at    INTEGER NOT NULL
);
-- `default`, and every tenant that already owns something.
INSERT INTO tenants (name, created_at)
SELECT name, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER) FROM (
    SELECT 'default' AS name
    UNION SELECT tenant FROM component_versions
    UNION SELECT tenant FROM tasks
    UNION SELECT tenant FROM component_config
    UNION SELECT tenant FROM component_http_grants);

-- API tokens: `wt_<id>_<secret>`. Only the SHA-256 of the secret is kept; `id` is
-- public (it names the token in lists and revocations). `tenant` is NULL for an
-- operator token.
CREATE TABLE tokens (
    id           TEXT PRIMARY KEY NOT NULL,
    tenant       TEXT REFERENCES tenants (name) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('reader', 'member', 'admin', 'operator')),
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    CHECK ((tenant IS NULL) = (role = 'operator'))
);
CREATE INDEX tokens_tenant ON tokens (tenant);

-- Attempts made before the last manual retry: a retried job gets a fresh budget of
-- `max_attempts` on top of them, and its history is kept.
ALTER TABLE tasks ADD COLUMN retry_base INTEGER NOT NULL DEFAULT 0;
-- The longest delay between two attempts (microseconds), fixed at enqueue like
-- `max_attempts` and `backoff_factor`, so no worker needs the job's queue in its
-- own configuration to schedule a retry. Rows from before it get the default 1h.
ALTER TABLE tasks ADD COLUMN max_backoff INTEGER NOT NULL DEFAULT 3600000000;
