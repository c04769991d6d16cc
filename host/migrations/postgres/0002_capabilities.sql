-- What the operator grants a component by name: configuration values and secrets
-- (the same table as SQLite's 0002_capabilities.sql). A job's attempt reads its
-- component's rows when it starts, so a change takes effect for the next attempt.
CREATE TABLE component_config (
    tenant      text NOT NULL,
    component   text NOT NULL,
    key         text COLLATE "C" NOT NULL,
    value       text NOT NULL,
    secret      boolean NOT NULL,             -- redacted wherever output is kept
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, component, key)
);
