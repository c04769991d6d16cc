-- Tenants and their API tokens as data, and two columns of a job that its
-- attempts need without reading the configuration (as SQLite's 0004_tenants.sql).

-- The owners of components, jobs, configuration and grants. `default` is the
-- tenant of a single-user installation. `http_ceiling` bounds the origins a
-- tenant's admins may grant; only the operator sets it.
CREATE TABLE tenants (
    name          text COLLATE "C" PRIMARY KEY,
    http_ceiling  jsonb NOT NULL DEFAULT '[]',
    created_at    timestamptz NOT NULL DEFAULT now()
);
-- `default`, and every tenant that already owns something.
INSERT INTO tenants (name)
SELECT 'default'
UNION SELECT tenant FROM component_versions
UNION SELECT tenant FROM tasks
UNION SELECT tenant FROM component_config
UNION SELECT tenant FROM component_http_grants;

-- API tokens: `wt_<id>_<secret>`. Only the SHA-256 of the secret is kept; `id` is
-- public (it names the token in lists and revocations). `tenant` is NULL for an
-- operator token.
CREATE TABLE tokens (
    id           text COLLATE "C" PRIMARY KEY,
    tenant       text COLLATE "C" REFERENCES tenants (name) ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('reader', 'member', 'admin', 'operator')),
    name         text NOT NULL,
    secret_hash  text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    CHECK ((tenant IS NULL) = (role = 'operator'))
);
CREATE INDEX tokens_tenant ON tokens (tenant);

-- Attempts made before the last manual retry: a retried job gets a fresh budget of
-- `max_attempts` on top of them, and its history is kept.
ALTER TABLE tasks ADD COLUMN retry_base integer NOT NULL DEFAULT 0;
-- The longest delay between two attempts (microseconds), fixed at enqueue like
-- `max_attempts` and `backoff_factor`. Rows from before it get the default 1h.
ALTER TABLE tasks ADD COLUMN max_backoff bigint NOT NULL DEFAULT 3600000000;
