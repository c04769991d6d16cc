-- What the operator grants a component by name: configuration values and secrets.
-- A job's attempt reads its component's rows when it starts, so a change takes
-- effect for the next attempt.
CREATE TABLE component_config (
    tenant      TEXT NOT NULL,
    component   TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT NOT NULL,
    secret      INTEGER NOT NULL CHECK (secret IN (0, 1)),  -- redacted wherever output is kept
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, component, key)
);
